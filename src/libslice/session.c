/* Sessions: opening them as a client (blocking and asynchronous), serving
 * them, closing them.
 *
 * Request ids are this slice's (1, 2, ...); a pending request is a node on
 * sl->pending until its answer arrives. Nothing else is kept per session:
 * the fds are the caller's, and the supervisor keeps the session table.
 * A grant for an id nobody waits for (a timed-out or cancelled request) is
 * closed and given back with SessionClose, so it cannot leak.
 */
#include "libslice/internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- pending requests ----------------------------------------------------- */

static struct sl_pending *take_pending(struct sl_slice *sl, uint64_t id)
{
        for (struct sl_pending **pp = &sl->pending; *pp; pp = &(*pp)->next)
                if ((*pp)->id == id) {
                        struct sl_pending *p = *pp;
                        *pp = p->next;
                        p->next = NULL;
                        return p;
                }
        return NULL;
}

/* Hand an answer to whoever waits: an async callback (which owns the fd
 * from here) or a blocking waiter (which sees res.done). p is unlinked. */
static void complete(struct sl_pending *p)
{
        p->res.done = true;
        if (!p->cb)
                return;
        struct sl_grant g = {
            .id = p->id,
            .fd = p->res.fd,
            .error = p->res.error,
            .reason = p->res.reason,
            .server_label = p->res.server_label,
            .size = p->res.size,
            .has_blake2b = p->res.has_blake2b,
        };
        memcpy(g.blake2b, p->res.blake2b, sizeof g.blake2b);
        p->cb(p->ctx, &g);
        free(p);
}

static void fail(struct sl_pending *p, int error, const char *reason)
{
        p->res.fd = -1;
        p->res.error = error;
        sl__copy(p->res.reason, sizeof p->res.reason, reason);
        complete(p);
}

void sl__fail_pending(struct sl_slice *sl, int error, const char *reason)
{
        /* Pop one at a time: a callback may open (and so add) requests. */
        struct sl_pending *p;
        while ((p = sl->pending)) {
                sl->pending = p->next;
                p->next = NULL;
                fail(p, error, reason);
        }
}

/* ---- answers from the supervisor ------------------------------------------ */

void sl__on_grant(struct sl_slice *sl, const Sliced__Parent__SessionGrant *g, int fd)
{
        struct sl_pending *p = take_pending(sl, g->id);
        if (!p) {
                /* Timed out or cancelled: give it back, or the server would
                 * hold a session nobody uses until this slice exits. */
                close(fd);
                struct sl_pp_msg m;
                sl__send(sl, sl_pp_session_close(&m, g->id, SL_PP_CLIENT), NULL, 0);
                return;
        }
        p->res.fd = fd;
        p->res.error = 0;
        p->res.reason[0] = '\0';
        p->res.size = g->size;
        p->res.has_blake2b = g->blake2b.len == SL_BLAKE2B_LEN;
        if (p->res.has_blake2b)
                memcpy(p->res.blake2b, g->blake2b.data, SL_BLAKE2B_LEN);
        sl__copy(p->res.server_label, sizeof p->res.server_label, g->server_label);
        complete(p);
}

void sl__on_deny(struct sl_slice *sl, uint64_t id, const char *reason)
{
        struct sl_pending *p = take_pending(sl, id);
        if (p) /* else: a request we gave up on; nothing to do */
                fail(p, ECONNREFUSED, reason);
}

void sl__on_closed(struct sl_slice *sl, const Sliced__Parent__SessionClosed *c)
{
        enum sl_role role =
            c->role == SLICED__PARENT__ROLE__ROLE_SERVER ? SL_ROLE_SERVER : SL_ROLE_CLIENT;
        if (role == SL_ROLE_CLIENT) {
                /* Closed before it was granted (the server went while it was
                 * being asked): for the waiter that is a refusal. */
                struct sl_pending *p = take_pending(sl, c->id);
                if (p) {
                        fail(p, ECONNREFUSED, c->reason);
                        return;
                }
        }
        if (sl->closed_cb)
                sl->closed_cb(sl->closed_ctx, c->id, role, c->reason);
}

/* ---- client ------------------------------------------------------------------ */

static int check_request(struct sl_slice *sl, const char *service, size_t len)
{
        if (!service || !sl_pp_service_name_ok(service))
                return sl__fail(sl, EINVAL,
                                "'%.80s' is not a service name (1-%d of a-z, 0-9, '-', '_', '.', "
                                "starting with a letter or digit)",
                                service ? service : "(null)", SL_SERVICE_MAX);
        if (len > SL_ARGS_MAX)
                return sl__fail(sl, EINVAL, "session arguments for '%s': %zu bytes, at most %d",
                                service, len, SL_ARGS_MAX);
        return 0;
}

/* Send the request for p (id assigned here) and link it. */
static int request(struct sl_slice *sl, struct sl_pending *p, const char *service, const void *args,
                   size_t len, uint64_t memory)
{
        int rc = check_request(sl, service, len);
        if (rc < 0)
                return rc;
        p->id = sl->next_id++;
        p->res.fd = -1;
        struct sl_pp_msg m;
        rc = sl__send(sl, sl_pp_session_request(&m, p->id, service, args, len, memory), NULL, 0);
        if (rc < 0)
                return rc;
        p->next = sl->pending;
        sl->pending = p;
        return 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl__open_wait(struct sl_slice *sl, const char *service, const void *args, size_t len,
                  uint64_t memory, int timeout_ms, uint64_t *id, struct sl_result *res)
{
        /* On the heap, not the stack: it is linked into sl->pending, where a
         * callback run by a nested dispatch may find it. */
        struct sl_pending *p = calloc(1, sizeof *p);
        if (!p) {
                sl__copy(res->reason, sizeof res->reason, "libslice: out of memory");
                return sl__fail(sl, ENOMEM, "libslice: out of memory");
        }
        int rc = request(sl, p, service, args, len, memory);
        if (rc < 0) {
                sl__copy(res->reason, sizeof res->reason, sl->err.msg);
                free(p);
                return rc;
        }
        if (id)
                *id = p->id;
        int64_t deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : 0;
        while (!p->res.done) {
                rc = sl__dispatch_one(sl); /* answers ours, or anything else */
                if (rc != 0)
                        continue; /* handled one, or gone: then p failed with EPIPE */
                int wait = -1;
                if (timeout_ms >= 0) {
                        int64_t left = deadline - now_ms();
                        if (left <= 0)
                                break;
                        wait = (int)left;
                }
                struct pollfd pfd = {.fd = sl->fd, .events = POLLIN};
                if (poll(&pfd, 1, wait) < 0 && errno != EINTR) {
                        rc = sl__fail(sl, errno, "poll on the parent channel: %s", strerror(errno));
                        take_pending(sl, p->id);
                        free(p);
                        sl__copy(res->reason, sizeof res->reason, sl->err.msg);
                        return rc;
                }
        }
        if (!p->res.done) {
                /* Timed out: withdraw. If the grant crossed this, on_grant
                 * finds no waiter, closes the fd and gives it back. */
                take_pending(sl, p->id);
                struct sl_pp_msg m;
                sl__send(sl, sl_pp_session_close(&m, p->id, SL_PP_CLIENT), NULL, 0);
                free(p);
                rc = sl__fail(sl, ETIMEDOUT, "no answer to the request for '%s' within %d ms",
                              service, timeout_ms);
                sl__copy(res->reason, sizeof res->reason, sl->err.msg);
                return rc;
        }
        *res = p->res;
        free(p);
        if (res->error) {
                sl__fail(sl, res->error, "session to '%s'%s: %s", service,
                         res->error == ECONNREFUSED ? " refused" : "", res->reason);
                return -res->error;
        }
        return 0;
}

int sl_session_open(struct sl_slice *sl, const char *service, const void *args, size_t len,
                    uint64_t memory, int timeout_ms, int *fd, uint64_t *id, char *reason,
                    size_t reason_len)
{
        *fd = -1;
        struct sl_result res;
        int rc = sl__open_wait(sl, service, args, len, memory, timeout_ms, id, &res);
        if (reason)
                sl__copy(reason, reason_len, rc < 0 ? res.reason : "");
        if (rc == 0)
                *fd = res.fd;
        return rc;
}

int sl_session_open_async(struct sl_slice *sl, const char *service, const void *args, size_t len,
                          uint64_t memory, sl_open_cb cb, void *ctx, uint64_t *id)
{
        if (!cb)
                return sl__fail(sl, EINVAL, "sl_session_open_async: no callback");
        struct sl_pending *p = calloc(1, sizeof *p);
        if (!p)
                return sl__fail(sl, ENOMEM, "libslice: out of memory");
        p->cb = cb;
        p->ctx = ctx;
        int rc = request(sl, p, service, args, len, memory);
        if (rc < 0) {
                free(p);
                return rc;
        }
        if (id)
                *id = p->id;
        return 0;
}

int sl_session_close(struct sl_slice *sl, uint64_t id)
{
        struct sl_pending *p = take_pending(sl, id);
        if (p && p->cb) /* cancelled: its callback will not run */
                free(p);
        struct sl_pp_msg m;
        return sl__send(sl, sl_pp_session_close(&m, id, SL_PP_CLIENT), NULL, 0);
}

/* ---- server ------------------------------------------------------------------ */

static struct sl_service *find_service(struct sl_slice *sl, const char *name)
{
        for (struct sl_service *s = sl->services; s; s = s->next)
                if (strcmp(s->name, name) == 0)
                        return s;
        return NULL;
}

int sl_announce(struct sl_slice *sl, const char *service, sl_serve_cb cb, void *ctx)
{
        int rc = check_request(sl, service, 0);
        if (rc < 0)
                return rc;
        if (!cb)
                return sl__fail(sl, EINVAL, "announce '%s': no callback", service);
        if (find_service(sl, service))
                return sl__fail(sl, EEXIST, "'%s' is announced already", service);
        struct sl_service *s = calloc(1, sizeof *s);
        if (!s)
                return sl__fail(sl, ENOMEM, "libslice: out of memory");
        sl__copy(s->name, sizeof s->name, service);
        s->cb = cb;
        s->ctx = ctx;
        struct sl_pp_msg m;
        rc = sl__send(sl, sl_pp_announce(&m, service), NULL, 0);
        if (rc < 0) {
                free(s);
                return rc;
        }
        s->next = sl->services;
        sl->services = s;
        return 0;
}

static void reply(struct sl_slice *sl, uint64_t id, int fd, const char *reason)
{
        struct sl_pp_msg m;
        if (fd >= 0) {
                sl__send(sl, sl_pp_create_session_reply(&m, id, true, NULL), &fd, 1);
                /* The client's end now lives in the message (or, if sending
                 * failed, nowhere: the server's end reads EOF). */
                close(fd);
                return;
        }
        sl__send(sl, sl_pp_create_session_reply(&m, id, false, reason), NULL, 0);
}

void sl__on_create_session(struct sl_slice *sl, const Sliced__Parent__CreateSession *c)
{
        struct sl_service *s = find_service(sl, c->service);
        if (!s) {
                char why[SL_REASON_MAX + 1];
                snprintf(why, sizeof why, "'%s' is not announced by this slice", c->service);
                reply(sl, c->id, -1, why);
                return;
        }
        char reason[SL_REASON_MAX + 1] = "";
        int fd = -1;
        int rc = s->cb(s->ctx, c->id, c->client_label, c->args.data, c->args.len, c->memory, &fd,
                       reason, sizeof reason);
        if (rc == 0 && fd >= 0) {
                reply(sl, c->id, fd, NULL);
                return;
        }
        if (rc == 0)
                sl__copy(reason, sizeof reason, "the server accepted but gave no descriptor");
        else if (fd >= 0)
                close(fd); /* refused, but left one behind */
        if (!reason[0])
                sl__copy(reason, sizeof reason, "refused by the server");
        reply(sl, c->id, -1, reason);
}

int sl_serve_close(struct sl_slice *sl, uint64_t id)
{
        struct sl_pp_msg m;
        return sl__send(sl, sl_pp_session_close(&m, id, SL_PP_SERVER), NULL, 0);
}

int sl_session_pair(int *mine, int *theirs)
{
        int sv[2];
        /* strict-tight allows exactly this shape (AF_UNIX, CLOEXEC). */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        *mine = sv[0];
        *theirs = sv[1];
        return 0;
}
