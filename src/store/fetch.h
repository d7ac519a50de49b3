/* Downloads for the store: HTTP(S) and file:// through libcurl, each with a
 * size cap (endless data), a connect timeout, a low-speed limit and an
 * overall timeout (slow retrieval), and a progress bar on a TTY.
 *
 * Only http, https and file are allowed; redirects only to http(s), at most
 * ST_FETCH_MAX_REDIRECTS, so a web server cannot send us to file:// or to
 * another protocol. */
#ifndef ST_FETCH_H
#define ST_FETCH_H

#include <stdint.h>

#include "lib/error.h"
#include "store/util.h"

#define ST_FETCH_MAX_REDIRECTS 5
/* Defaults, overridable per call (0 = default) and by the environment
 * variables below for tests and slow links. */
#define ST_FETCH_CONNECT_TIMEOUT_S 15   /* TCP + TLS handshake */
#define ST_FETCH_LOW_SPEED_BYTES   1024 /* below this many bytes/s ... */
#define ST_FETCH_LOW_SPEED_TIME_S  30   /* ... for this long: slow retrieval */
#define ST_FETCH_TOTAL_TIMEOUT_S   3600 /* whole transfer, even when fast enough */

struct st_fetch_opts {
        uint64_t max_bytes;     /* refuse more than this (required, > 0) */
        long connect_timeout_s; /* 0 = default or $SLICED_FETCH_CONNECT_TIMEOUT */
        long low_speed_bytes;   /* 0 = default or $SLICED_FETCH_LOW_SPEED_BYTES */
        long low_speed_time_s;  /* 0 = default or $SLICED_FETCH_LOW_SPEED_TIME */
        long total_timeout_s;   /* 0 = default or $SLICED_FETCH_TIMEOUT */
        int progress;           /* 1: draw a progress bar on stderr if it is a TTY */
        const char *label;      /* what the bar names; default the URL's last part */
};

/* Download url into memory. On failure err names the URL and the reason:
 * "fetch `URL`: more than N bytes (size cap)", "... timed out ...",
 * "... HTTP 500". A missing document (HTTP 404/410, or a missing file://)
 * fails with err->code == ENOENT, so callers can tell "not there" (the end
 * of the root chain) from an error. */
int st_fetch_buf(const char *url, const struct st_fetch_opts *o, struct st_buf *out,
                 struct sl_error *err);

/* Download url into fd (written from its current offset, not fsync'd);
 * *written gets the byte count. Same errors as st_fetch_buf. */
int st_fetch_fd(const char *url, const struct st_fetch_opts *o, int fd, uint64_t *written,
                struct sl_error *err);

/* base + "/" + rel, with no doubled slash; rel must be relative and contain
 * no `..`. Returns a malloc'd string or NULL (err set). */
char *st_url_join(const char *base, const char *rel, struct sl_error *err);

#endif
