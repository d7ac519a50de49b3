#include "store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* FNV-1a: keys come from clients, but buckets only cost time, and every
 * list is bounded by KV_MAX_ENTRIES. */
static size_t slot(const char *key)
{
        uint32_t h = 2166136261u;
        for (const unsigned char *p = (const unsigned char *)key; *p; p++)
                h = (h ^ *p) * 16777619u;
        return h & (KV_BUCKETS - 1);
}

static struct kv_entry **find(struct kv_store *s, const char *key)
{
        struct kv_entry **pp = &s->bucket[slot(key)];
        while (*pp && strcmp((*pp)->key, key) != 0)
                pp = &(*pp)->next;
        return pp;
}

const char *kv_get(const struct kv_store *s, const char *key)
{
        struct kv_entry **pp = find((struct kv_store *)s, key);
        return *pp ? (*pp)->val : NULL;
}

int kv_put(struct kv_store *s, const char *key, const char *val)
{
        size_t klen = strlen(key), vlen = strlen(val);
        if (klen == 0 || klen > KV_KEY_MAX || vlen > KV_VALUE_MAX)
                return -E2BIG;
        struct kv_entry **pp = find(s, key), *e = *pp;
        size_t old = e ? e->klen + e->vlen : 0;
        if (s->bytes - old + klen + vlen > KV_MAX_BYTES || (!e && s->entries >= KV_MAX_ENTRIES))
                return -E2BIG;
        char *v = strdup(val);
        if (!v)
                return -ENOMEM;
        if (!e) {
                e = calloc(1, sizeof *e);
                if (!e || !(e->key = strdup(key))) {
                        free(e);
                        free(v);
                        return -ENOMEM;
                }
                e->klen = klen;
                *pp = e;
                s->entries++;
        }
        free(e->val);
        e->val = v;
        e->vlen = vlen;
        s->bytes = s->bytes - old + klen + vlen;
        return 0;
}

int kv_del(struct kv_store *s, const char *key)
{
        struct kv_entry **pp = find(s, key), *e = *pp;
        if (!e)
                return -ENOENT;
        *pp = e->next;
        s->entries--;
        s->bytes -= e->klen + e->vlen;
        free(e->key);
        free(e->val);
        free(e);
        return 0;
}

void kv_store_clear(struct kv_store *s)
{
        for (size_t i = 0; i < KV_BUCKETS; i++)
                while (s->bucket[i])
                        kv_del(s, s->bucket[i]->key);
}
