/* A bounded ring of a slice's recent output lines, for the API (`logs
 * --tail`). Bounded twice: by line count (config log_ring_lines) and by
 * bytes, so a slice printing long lines cannot make sliced grow. */
#ifndef SV_LOGRING_H
#define SV_LOGRING_H

#include <stddef.h>
#include <stdint.h>

/* 64 KiB of recent output per slice: 1000 slices stay within 64 MiB even
 * when every one of them is chatty. */
#define SV_LOGRING_BYTES (64u << 10)

struct sv_logline {
        uint64_t ts_us; /* CLOCK_REALTIME, microseconds */
        uint64_t seq;   /* monotonically increasing per slice */
        int is_err;     /* from stderr */
        char *text;     /* NUL-terminated, no newline */
};

struct sv_logring {
        struct sv_logline *lines;
        size_t cap;   /* max lines */
        size_t alloc; /* lines allocated so far (grows to cap) */
        size_t head;  /* index of the oldest */
        size_t n;
        size_t bytes;
        uint64_t next_seq;
};

/* cap lines at most; cap 0 keeps nothing. Returns 0 or -1 (ENOMEM). */
int sv_logring_init(struct sv_logring *r, size_t cap);
void sv_logring_free(struct sv_logring *r);
/* Append a copy of text (len bytes). Drops the oldest lines to stay within
 * both bounds. Returns 0 or -1 (ENOMEM: the line is dropped). */
int sv_logring_push(struct sv_logring *r, const char *text, size_t len, int is_err, uint64_t ts_us);
/* The i-th line counting from the oldest (0 <= i < n). */
const struct sv_logline *sv_logring_at(const struct sv_logring *r, size_t i);

#endif
