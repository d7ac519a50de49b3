/* libslice internals shared by channel.c (the channel and dispatch),
 * session.c (opens, serving) and platform.c (config, rom, report, log). */
#ifndef SL_LIBSLICE_INTERNAL_H
#define SL_LIBSLICE_INTERNAL_H

#include <stdbool.h>

#include "lib/error.h"
#include "lib/parentproto.h"
#include "slice/slice.h"

/* Messages handled per sl_dispatch call: enough to drain a burst, few
 * enough that a flood on the channel cannot starve the slice's other fds. */
#define SL_DISPATCH_BATCH 64
/* How long a send waits for room on the channel before giving up with
 * EAGAIN. The supervisor never blocks and reads its slices' channels
 * continuously, so a full queue that does not drain in this time means it
 * is wedged, not busy. */
#define SL_SEND_WAIT_MS 5000

/* The outcome of an open, filled by dispatch. */
struct sl_result {
        bool done;
        int fd;
        int error; /* 0 granted, else a positive errno */
        uint64_t size;
        bool has_blake2b;
        unsigned char blake2b[SL_BLAKE2B_LEN];
        char server_label[SL_LABEL_MAX + 1];
        char reason[SL_REASON_MAX + 1];
};

/* A request sent and not answered, on sl->pending. A blocking open (cb
 * NULL) waits for res.done and then frees its own; an asynchronous one is
 * freed once its callback ran. */
struct sl_pending {
        struct sl_pending *next;
        uint64_t id;
        sl_open_cb cb;
        void *ctx;
        struct sl_result res;
};

struct sl_service {
        struct sl_service *next;
        char name[SL_SERVICE_MAX + 1];
        sl_serve_cb cb;
        void *ctx;
};

struct sl_slice {
        int fd;
        bool gone;        /* EOF or a fatal error: no more sends or receives */
        uint64_t next_id; /* ids of this slice's requests: 1, 2, ... */
        struct sl_pending *pending;
        struct sl_service *services;
        sl_closed_cb closed_cb;
        void *closed_ctx;
        sl_config_cb config_cb;
        void *config_ctx;
        struct sl_error err; /* the last failure, for sl_last_error */
};

/* Send m with fds, waiting up to SL_SEND_WAIT_MS for room. Returns 0 or
 * -errno with sl->err set; EPIPE/ECONNRESET mark the channel gone. */
int sl__send(struct sl_slice *sl, const sl_pp_envelope *m, const int *fds, size_t nfds);

/* Read and handle one message. Returns 1 (handled or dropped), 0 (nothing
 * waiting), or -errno (channel gone: every pending open has been failed). */
int sl__dispatch_one(struct sl_slice *sl);

/* Record a failure in sl->err and return -errnum. */
int sl__fail(struct sl_slice *sl, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Handlers dispatch calls (session.c). fd is -1 when none came; handlers
 * take ownership of it. */
void sl__on_grant(struct sl_slice *sl, const Sliced__Parent__SessionGrant *g, int fd);
void sl__on_deny(struct sl_slice *sl, uint64_t id, const char *reason);
void sl__on_closed(struct sl_slice *sl, const Sliced__Parent__SessionClosed *c);
void sl__on_create_session(struct sl_slice *sl, const Sliced__Parent__CreateSession *c);
void sl__fail_pending(struct sl_slice *sl, int error, const char *reason);
/* platform.c */
void sl__on_config_update(struct sl_slice *sl, const Sliced__Parent__ConfigUpdate *u, int fd);

/* Send a request and wait for its answer (at most timeout_ms; < 0: no
 * limit), dispatching everything else meanwhile. Returns 0 with res
 * granted, or -errno with res->reason (and sl->err) saying why. */
int sl__open_wait(struct sl_slice *sl, const char *service, const void *args, size_t len,
                  uint64_t memory, int timeout_ms, uint64_t *id, struct sl_result *res);

/* Check a memfd a grant or update carried: sealed against shrink, grow and
 * write, and size bytes long. Returns 0 or -EBADMSG (sl->err set). */
int sl__check_sealed(struct sl_slice *sl, int fd, uint64_t size, const char *what);

/* Copy s into buf (len bytes), cut to fit. */
void sl__copy(char *buf, size_t len, const char *s);

#endif
