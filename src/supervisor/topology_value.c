/* The small syntaxes inside a topology's strings: durations, names, labels,
 * paths, listen addresses; and the did-you-mean behind "unknown key". Each
 * check quotes the value it rejects and says what would be accepted. */
#include "supervisor/topology_internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/parse.h"

/* Longest hostname the kernel takes (HOST_NAME_MAX). */
#define HOSTNAME_MAX 64
/* Longest unix socket path: sizeof(sockaddr_un.sun_path) - 1. */
#define UNIX_PATH_MAX 107

static const struct {
        const char *unit;
        uint64_t ms;
} duration_units[] = {
    {"ms", 1},
    {"s", 1000},
    {"m", 60 * 1000},
    {"h", 3600 * 1000},
};

int sv_parse_duration(const char *s, uint64_t *ms, struct sl_error *err)
{
        if (!strcmp(s, "0")) {
                *ms = 0;
                return 0;
        }
        if (!*s)
                return sl_error_set(err, 0, "empty duration");
        uint64_t total = 0;
        const char *p = s;
        while (*p) {
                if (!isdigit((unsigned char)*p))
                        return sl_error_set(
                            err, 0, "'%s' is not a duration (expected e.g. 100ms, 5s, 2m, 1h)", s);
                uint64_t v = 0;
                while (isdigit((unsigned char)*p)) {
                        v = v * 10 + (uint64_t)(*p++ - '0');
                        if (v > SV_DURATION_MAX_MS)
                                return sl_error_set(err, 0, "duration '%s' is too long", s);
                }
                size_t u = 0, ulen = 0;
                while (isalpha((unsigned char)p[ulen]))
                        ulen++;
                if (ulen == 0)
                        return sl_error_set(err, 0, "duration '%s' needs a unit (ms, s, m or h)",
                                            s);
                for (u = 0; u < SL_ARRAY_SIZE(duration_units); u++)
                        if (strlen(duration_units[u].unit) == ulen &&
                            !strncmp(p, duration_units[u].unit, ulen))
                                break;
                if (u == SL_ARRAY_SIZE(duration_units))
                        return sl_error_set(
                            err, 0, "duration '%s' has an unknown unit '%.*s' (use ms, s, m or h)",
                            s, (int)ulen, p);
                p += ulen;
                total += v * duration_units[u].ms;
                if (total > SV_DURATION_MAX_MS)
                        return sl_error_set(err, 0, "duration '%s' is too long (at most 30 days)",
                                            s);
        }
        *ms = total;
        return 0;
}

int sv_parse_bool(const char *s, int *out, struct sl_error *err)
{
        if (!strcmp(s, "true")) {
                *out = 1;
                return 0;
        }
        if (!strcmp(s, "false")) {
                *out = 0;
                return 0;
        }
        return sl_error_set(err, 0, "expected true or false, got '%s'", s);
}

/* [a-z0-9] then up to SV_NAME_MAX-1 of [a-z0-9] and extra. */
static int check_word(const char *s, const char *extra)
{
        size_t n = strlen(s);
        if (n == 0 || n > SV_NAME_MAX)
                return -1;
        if (!islower((unsigned char)s[0]) && !isdigit((unsigned char)s[0]))
                return -1;
        for (size_t i = 1; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                if (!(c < 0x80 && (islower(c) || isdigit(c))) && !strchr(extra, c))
                        return -1;
        }
        return 0;
}

int sv_check_slice_name(const char *s, struct sl_error *err)
{
        if (check_word(s, "-") < 0)
                return sl_error_set(
                    err, 0,
                    "'%s' is not a valid name (1-63 of a-z, 0-9 and '-', not starting with '-')",
                    s);
        return 0;
}

int sv_check_service_name(const char *s, struct sl_error *err)
{
        if (check_word(s, "-_.") < 0)
                return sl_error_set(err, 0,
                                    "'%s' is not a valid service name (1-63 of a-z, 0-9, '-', '_' "
                                    "and '.', starting with a letter or digit)",
                                    s);
        return 0;
}

int sv_check_label(const char *s, struct sl_error *err)
{
        size_t n = strlen(s);
        int ok = n > 0 && n <= SV_NAME_MAX && isalnum((unsigned char)s[0]);
        for (size_t i = 0; ok && i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                ok = c < 0x80 && (isalnum(c) || c == '-' || c == '_' || c == '.');
        }
        if (!ok)
                return sl_error_set(err, 0,
                                    "'%s' is not a valid label (1-63 of A-Z, a-z, 0-9, '-', '_' "
                                    "and '.', starting with a letter or digit)",
                                    s);
        return 0;
}

int sv_check_env_key(const char *s, struct sl_error *err)
{
        int ok = (isalpha((unsigned char)s[0]) || s[0] == '_');
        for (size_t i = 0; ok && s[i]; i++) {
                unsigned char c = (unsigned char)s[i];
                ok = c < 0x80 && (isalnum(c) || c == '_');
        }
        if (!ok)
                return sl_error_set(err, 0,
                                    "'%s' is not a valid variable name (letters, digits and '_', "
                                    "not starting with a digit)",
                                    s);
        return 0;
}

int sv_check_hostname(const char *s, struct sl_error *err)
{
        size_t n = strlen(s);
        int ok = n > 0 && n <= HOSTNAME_MAX && isalnum((unsigned char)s[0]);
        for (size_t i = 0; ok && i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                ok = c < 0x80 && (isalnum(c) || c == '-' || c == '.');
        }
        if (!ok)
                return sl_error_set(
                    err, 0, "'%s' is not a valid hostname (1-64 of letters, digits, '-' and '.')",
                    s);
        return 0;
}

int sv_check_abs_path(const char *s, const char *what, struct sl_error *err)
{
        if (s[0] != '/')
                return sl_error_set(err, 0, "%s '%s' is not an absolute path", what, s);
        if (strlen(s) >= PATH_MAX)
                return sl_error_set(err, 0, "%s is longer than %d bytes", what, PATH_MAX - 1);
        /* "." and ".." components make two spellings of one path, and ".."
         * reads as an attempt to step outside what is granted. */
        for (const char *p = s; *p;) {
                while (*p == '/')
                        p++;
                size_t n = strcspn(p, "/");
                if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return sl_error_set(err, 0, "%s '%s' must not contain '%.*s' components",
                                            what, s, (int)n, p);
                p += n;
        }
        return 0;
}

static int check_port(const char *spec, const char *port, struct sl_error *err)
{
        uint64_t v;
        struct sl_error perr;
        if (sl_parse_u64(port, 1, 65535, &v, &perr) < 0)
                return sl_error_set(err, 0, "listen '%s': port '%s' is not a number in 1-65535",
                                    spec, port);
        return 0;
}

int sv_check_listen(const char *spec, struct sl_error *err)
{
        const char *addr = spec;
        const char *eq = strchr(spec, '=');
        if (eq) {
                size_t n = (size_t)(eq - spec);
                if (n == 0 || n > SV_NAME_MAX || memchr(spec, ':', n))
                        return sl_error_set(
                            err, 0, "listen '%s': NAME must be 1-63 characters without ':'", spec);
                addr = eq + 1;
        }
        if (!strncmp(addr, "unix:", 5)) {
                const char *path = addr + 5;
                if (path[0] != '/')
                        return sl_error_set(err, 0,
                                            "listen '%s': unix socket path must be absolute", spec);
                if (strlen(path) > UNIX_PATH_MAX)
                        return sl_error_set(err, 0,
                                            "listen '%s': unix socket path is longer than %d bytes",
                                            spec, UNIX_PATH_MAX);
                return 0;
        }
        if (strncmp(addr, "tcp:", 4))
                return sl_error_set(
                    err, 0, "listen '%s': expected [NAME=]tcp:HOST:PORT or [NAME=]unix:PATH", spec);
        const char *hp = addr + 4;
        if (hp[0] == '[') {
                const char *end = strchr(hp, ']');
                if (!end || end == hp + 1 || end[1] != ':')
                        return sl_error_set(err, 0, "listen '%s': expected tcp:[ADDRESS]:PORT",
                                            spec);
                return check_port(spec, end + 2, err);
        }
        const char *colon = strrchr(hp, ':');
        if (!colon || colon == hp)
                return sl_error_set(err, 0, "listen '%s': expected tcp:HOST:PORT", spec);
        return check_port(spec, colon + 1, err);
}

/* Optimal string alignment distance (Levenshtein plus adjacent
 * transpositions), case-insensitive. Words longer than this are never typos
 * of our short keys. */
#define SUGGEST_MAX_LEN 32

static size_t osa_distance(const char *a, const char *b)
{
        size_t n = strlen(a), m = strlen(b);
        if (n > SUGGEST_MAX_LEN || m > SUGGEST_MAX_LEN)
                return SIZE_MAX;
        size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
        for (size_t i = 0; i <= n; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= m; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= n; i++) {
                for (size_t j = 1; j <= m; j++) {
                        int ne =
                            tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
                        size_t v = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < v)
                                v = d[i][j - 1] + 1;
                        if (d[i - 1][j - 1] + (size_t)ne < v)
                                v = d[i - 1][j - 1] + (size_t)ne;
                        if (i > 1 && j > 1 &&
                            tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
                            tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]) &&
                            d[i - 2][j - 2] + 1 < v)
                                v = d[i - 2][j - 2] + 1;
                        d[i][j] = v;
                }
        }
        return d[n][m];
}

const char *sv_suggest(const char *word, const char *const *cands, size_t n)
{
        size_t len = strlen(word);
        /* one edit in a short word, two in a longer one, three beyond: a
         * larger allowance suggests unrelated words */
        size_t limit = len <= 4 ? 1 : len <= 8 ? 2 : 3;
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                size_t d = osa_distance(word, cands[i]);
                if (d <= limit && d < best_d && strcmp(word, cands[i])) {
                        best = cands[i];
                        best_d = d;
                }
        }
        return best;
}

void sv_format_size(uint64_t v, char *buf, size_t len)
{
        static const char units[] = "KMGT";
        int u = -1;
        while (u < 3 && v >= 1024 && v % 1024 == 0) {
                v /= 1024;
                u++;
        }
        if (u < 0)
                snprintf(buf, len, "%" PRIu64, v);
        else
                snprintf(buf, len, "%" PRIu64 "%c", v, units[u]);
}

void sv_format_cpuset(const cpu_set_t *set, char *buf, size_t len)
{
        size_t off = 0;
        buf[0] = '\0';
        for (int c = 0; c < CPU_SETSIZE && off < len; c++) {
                if (!CPU_ISSET(c, set))
                        continue;
                int hi = c;
                while (hi + 1 < CPU_SETSIZE && CPU_ISSET(hi + 1, set))
                        hi++;
                int w = hi == c ? snprintf(buf + off, len - off, "%s%d", off ? "," : "", c)
                                : snprintf(buf + off, len - off, "%s%d-%d", off ? "," : "", c, hi);
                if (w < 0)
                        break;
                off += (size_t)w;
                c = hi;
        }
}
