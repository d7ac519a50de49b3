#include "cli/format.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void cli_human_size(uint64_t bytes, char out[CLI_SIZE_LEN])
{
        static const char units[] = "BKMGTPE";
        double v = (double)bytes;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof units - 1) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(out, CLI_SIZE_LEN, "%lluB", (unsigned long long)bytes);
        else if (v < 9.95) /* would round to 10.0: print "10M", not "10.0M" */
                snprintf(out, CLI_SIZE_LEN, "%.1f%c", v, units[u]);
        else
                snprintf(out, CLI_SIZE_LEN, "%.0f%c", v, units[u]);
}

void cli_human_time(long long usec, char out[CLI_TIME_LEN])
{
        time_t secs = (time_t)(usec / 1000000);
        struct tm tm;
        char base[24];
        if (usec < 0 || !localtime_r(&secs, &tm) ||
            !strftime(base, sizeof base, "%Y-%m-%d %H:%M:%S", &tm)) {
                snprintf(out, CLI_TIME_LEN, "%lld", usec);
                return;
        }
        snprintf(out, CLI_TIME_LEN, "%s.%03lld", base, (usec % 1000000) / 1000);
}

int cli_colour_on(FILE *f)
{
        const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
        if (no && *no)
                return 0;
        if (term && !strcmp(term, "dumb"))
                return 0;
        return isatty(fileno(f));
}

const char *cli_state_colour(const char *state)
{
        static const struct {
                const char *state, *colour;
        } map[] = {
            {"ready", CLI_GREEN},    {"starting", CLI_YELLOW}, {"back-off", CLI_YELLOW},
            {"waiting", CLI_YELLOW}, {"failed", CLI_RED},      {"down", CLI_RED},
        };
        for (size_t i = 0; state && i < sizeof map / sizeof map[0]; i++)
                if (!strcmp(state, map[i].state))
                        return map[i].colour;
        return NULL;
}

void cli_put_text(FILE *f, const char *text, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)text[i];
                if ((c < 0x20 && c != '\t') || c == 0x7f)
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

int cli_flush_stdout(void)
{
        if (fflush(stdout) == EOF || ferror(stdout)) {
                if (!errno)
                        errno = EIO;
                return -1;
        }
        return 0;
}

int cli_table_init(struct cli_table *t, size_t ncols, const char *const *header)
{
        memset(t, 0, sizeof *t);
        t->ncols = ncols;
        return cli_table_add(t, header, NULL);
}

int cli_table_add(struct cli_table *t, const char *const *cells, const char *const *colours)
{
        if (t->nrows == t->cap) {
                size_t cap = t->cap ? 2 * t->cap : 16;
                char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
                if (!c)
                        return -1;
                t->cells = c;
                const char **k = realloc(t->colours, cap * t->ncols * sizeof *k);
                if (!k)
                        return -1;
                t->colours = k;
                t->cap = cap;
        }
        size_t base = t->nrows * t->ncols;
        for (size_t i = 0; i < t->ncols; i++) {
                t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
                t->colours[base + i] = colours ? colours[i] : NULL;
                if (!t->cells[base + i]) {
                        while (i-- > 0)
                                free(t->cells[base + i]);
                        return -1;
                }
        }
        t->nrows++;
        return 0;
}

/* Columns on the terminal: UTF-8 continuation bytes take none. */
static size_t width(const char *s)
{
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
        return w;
}

void cli_table_print(const struct cli_table *t, FILE *f, int colour)
{
        size_t *w = calloc(t->ncols, sizeof *w);
        if (!w)
                return;
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols; c++) {
                        size_t n = width(t->cells[r * t->ncols + c]);
                        if (n > w[c])
                                w[c] = n;
                }
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *cell = t->cells[r * t->ncols + c];
                        const char *k = colour ? t->colours[r * t->ncols + c] : NULL;
                        fprintf(f, "%s%s%s", k ? k : "", cell, k ? CLI_RESET : "");
                        if (c + 1 < t->ncols)
                                fprintf(f, "%*s", (int)(w[c] - width(cell) + 2), "");
                }
                fputc('\n', f);
        }
        free(w);
}

void cli_table_free(struct cli_table *t)
{
        if (!t)
                return;
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        free(t->colours);
        memset(t, 0, sizeof *t);
}
