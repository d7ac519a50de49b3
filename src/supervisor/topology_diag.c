/* Diagnostics: every problem found, reported in file order.
 *
 * The decoder reports while it walks a file, the cross-slice checks after
 * every file is read; sorting by (file, line, column, discovery) puts both in
 * the order an admin reads the files. */
#include "supervisor/topology_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sv_diag_free(struct sv_diag *d)
{
        if (!d)
                return;
        for (size_t i = 0; i < d->n; i++)
                free(d->msgs[i]);
        free(d->msgs);
        d->msgs = NULL;
        d->n = 0;
}

static size_t file_index(const struct sv_diagbuf *d, const char *file)
{
        for (size_t i = 0; d->t && i < d->t->n_files; i++)
                if (d->t->files[i] == file)
                        return i;
        return 0;
}

void sv_diag_vadd(struct sv_diagbuf *d, const struct sv_pos *pos, const char *file,
                  const char *path, const char *fmt, va_list ap)
{
        if (d->n >= SV_TOPO_MAX_ERRORS) {
                d->dropped++;
                return;
        }
        if (d->n == d->cap) {
                size_t cap = d->cap ? d->cap * 2 : 16;
                struct sv_diag_ent *v = realloc(d->v, cap * sizeof *v);
                if (!v) {
                        d->oom = 1;
                        return;
                }
                d->v = v;
                d->cap = cap;
        }
        char body[SL_ERROR_MSG_MAX];
        vsnprintf(body, sizeof body, fmt, ap);
        if (pos && pos->file)
                file = pos->file;
        char *msg = NULL;
        int r;
        if (pos && pos->line > 0)
                r = path ? asprintf(&msg, "%s:%d:%d: %s: %s", file, pos->line, pos->col, path, body)
                         : asprintf(&msg, "%s:%d:%d: %s", file, pos->line, pos->col, body);
        else
                r = path ? asprintf(&msg, "%s: %s: %s", file, path, body)
                         : asprintf(&msg, "%s: %s", file, body);
        if (r < 0) {
                d->oom = 1;
                return;
        }
        d->v[d->n] = (struct sv_diag_ent){
            .file_idx = file_index(d, file),
            .line = pos ? pos->line : 0,
            .col = pos ? pos->col : 0,
            .seq = d->n,
            .msg = msg,
        };
        d->n++;
}

void sv_diag_add(struct sv_diagbuf *d, const struct sv_pos *pos, const char *file, const char *path,
                 const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        sv_diag_vadd(d, pos, file, path, fmt, ap);
        va_end(ap);
}

static int cmp_ent(const void *a, const void *b)
{
        const struct sv_diag_ent *x = a, *y = b;
        if (x->file_idx != y->file_idx)
                return x->file_idx < y->file_idx ? -1 : 1;
        if (x->line != y->line)
                return x->line < y->line ? -1 : 1;
        if (x->col != y->col)
                return x->col < y->col ? -1 : 1;
        return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int sv_diag_finish(struct sv_diagbuf *d, struct sv_diag *out)
{
        if (d->n)
                qsort(d->v, d->n, sizeof *d->v, cmp_ent);
        size_t extra = d->dropped ? 1 : 0;
        char **msgs = realloc(out->msgs, (out->n + d->n + extra) * sizeof *msgs);
        if (!msgs && out->n + d->n + extra > 0)
                return -1;
        out->msgs = msgs;
        for (size_t i = 0; i < d->n; i++) {
                out->msgs[out->n++] = d->v[i].msg;
                d->v[i].msg = NULL;
        }
        if (extra) {
                char *m = NULL;
                if (asprintf(&m, "... and %zu more errors", d->dropped) < 0)
                        return -1;
                out->msgs[out->n++] = m;
        }
        d->n = 0;
        return 0;
}

void sv_diagbuf_release(struct sv_diagbuf *d)
{
        for (size_t i = 0; i < d->n; i++)
                free(d->v[i].msg);
        free(d->v);
        memset(d, 0, sizeof *d);
}
