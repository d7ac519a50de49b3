#include "supervisor/logring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The ring starts small and doubles up to cap, so a thousand quiet slices
 * do not each hold room for a thousand lines. */
#define SV_LOGRING_FIRST 16

int sv_logring_init(struct sv_logring *r, size_t cap)
{
        memset(r, 0, sizeof *r);
        r->cap = cap;
        return 0;
}

/* Double the array (up to cap), oldest line first at index 0. */
static int grow(struct sv_logring *r)
{
        size_t want = r->alloc ? r->alloc * 2 : SV_LOGRING_FIRST;
        if (want > r->cap)
                want = r->cap;
        struct sv_logline *l = malloc(want * sizeof *l);
        if (!l) {
                errno = ENOMEM;
                return -1;
        }
        for (size_t i = 0; i < r->n; i++)
                l[i] = r->lines[(r->head + i) % r->alloc];
        free(r->lines);
        r->lines = l;
        r->alloc = want;
        r->head = 0;
        return 0;
}

void sv_logring_free(struct sv_logring *r)
{
        for (size_t i = 0; i < r->n; i++)
                free(r->lines[(r->head + i) % r->alloc].text);
        free(r->lines);
        memset(r, 0, sizeof *r);
}

static void drop_oldest(struct sv_logring *r)
{
        struct sv_logline *l = &r->lines[r->head];
        r->bytes -= strlen(l->text) + 1;
        free(l->text);
        l->text = NULL;
        r->head = (r->head + 1) % r->alloc;
        r->n--;
}

int sv_logring_push(struct sv_logring *r, const char *text, size_t len, int is_err, uint64_t ts_us)
{
        r->next_seq++;
        if (r->cap == 0)
                return 0;
        if (len + 1 > SV_LOGRING_BYTES)
                len = SV_LOGRING_BYTES - 1;
        char *copy = malloc(len + 1);
        if (!copy) {
                errno = ENOMEM;
                return -1;
        }
        memcpy(copy, text, len);
        copy[len] = '\0';
        while (r->n > 0 && (r->n == r->cap || r->bytes + len + 1 > SV_LOGRING_BYTES))
                drop_oldest(r);
        if (r->n == r->alloc && grow(r) < 0) {
                free(copy);
                return -1;
        }
        struct sv_logline *l = &r->lines[(r->head + r->n) % r->alloc];
        l->text = copy;
        l->ts_us = ts_us;
        l->is_err = is_err;
        l->seq = r->next_seq;
        r->n++;
        r->bytes += len + 1;
        return 0;
}

const struct sv_logline *sv_logring_at(const struct sv_logring *r, size_t i)
{
        if (i >= r->n)
                return NULL;
        return &r->lines[(r->head + i) % r->alloc];
}
