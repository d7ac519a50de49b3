/* kv's store: an in-memory map from keys to values, bounded in entries and
 * bytes. Pure data structure; no I/O. */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stddef.h>

/* Bounds, so a client cannot grow the slice past its memory quota by
 * writing: the cgroup would OOM-kill it and every other client with it. */
#define KV_KEY_MAX     255  /* bytes in a key */
#define KV_VALUE_MAX   3800 /* bytes in a value: a request line fits in KV_LINE_MAX */
#define KV_MAX_ENTRIES 4096
#define KV_MAX_BYTES   (4 << 20) /* keys + values */
#define KV_BUCKETS     1024      /* power of two */

struct kv_entry {
        struct kv_entry *next;
        size_t klen, vlen;
        char *key, *val;
};

struct kv_store {
        struct kv_entry *bucket[KV_BUCKETS];
        size_t entries, bytes;
};

/* The value of key, or NULL. */
const char *kv_get(const struct kv_store *s, const char *key);

/* Set key to val. Returns 0, -E2BIG (a bound would be exceeded: key, value,
 * entries or bytes) or -ENOMEM. */
int kv_put(struct kv_store *s, const char *key, const char *val);

/* Remove key. Returns 0, or -ENOENT when it was not there. */
int kv_del(struct kv_store *s, const char *key);

void kv_store_clear(struct kv_store *s);

#endif
