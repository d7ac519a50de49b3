/* The parent channel: finding it, sending on it, and dispatching what the
 * supervisor sends.
 *
 * The channel fd is non-blocking: sl_dispatch must never wait, and a
 * blocking open waits in poll() where it can keep a deadline. Sends wait
 * (bounded) for room instead of dropping: unlike the supervisor, a slice may
 * block on its parent.
 */
#include "libslice/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"

#define SL_PARENT_FD_ENV "SLICE_PARENT_FD"

void sl__copy(char *buf, size_t len, const char *s)
{
        if (len == 0)
                return;
        snprintf(buf, len, "%s", s ? s : "");
}

int sl__fail(struct sl_slice *sl, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(sl->err.msg, sizeof sl->err.msg, fmt, ap);
        va_end(ap);
        sl->err.code = errnum;
        return -errnum;
}

/* ---- init ------------------------------------------------------------------ */

__attribute__((format(printf, 4, 5))) static int init_err(char *msg, size_t len, int errnum,
                                                          const char *fmt, ...)
{
        if (msg && len) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(msg, len, fmt, ap);
                va_end(ap);
        }
        return -errnum;
}

/* The channel must be what sliced creates: a unix seqpacket socket. Anything
 * else means the slice was started by something that does not speak the
 * protocol, and messages would be misread. */
static int check_channel(int fd, char *msg, size_t len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return init_err(msg, len, errno, "parent channel fd %d: %s", fd, strerror(errno));
        if (!S_ISSOCK(st.st_mode))
                return init_err(msg, len, ENOTSOCK, "parent channel fd %d is not a socket", fd);
        int v;
        socklen_t vl = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &v, &vl) < 0)
                return init_err(msg, len, errno, "parent channel fd %d: SO_DOMAIN: %s", fd,
                                strerror(errno));
        if (v != AF_UNIX)
                return init_err(msg, len, EAFNOSUPPORT,
                                "parent channel fd %d is not an AF_UNIX socket (family %d)", fd, v);
        vl = sizeof v;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0)
                return init_err(msg, len, errno, "parent channel fd %d: SO_TYPE: %s", fd,
                                strerror(errno));
        if (v != SOCK_SEQPACKET)
                return init_err(msg, len, EPROTOTYPE,
                                "parent channel fd %d is not a SOCK_SEQPACKET socket (type %d)", fd,
                                v);
        return 0;
}

int sl_init_fd(int fd, struct sl_slice **out, char *msg, size_t msg_len)
{
        *out = NULL;
        int rc = check_channel(fd, msg, msg_len);
        if (rc < 0)
                return rc;
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
                return init_err(msg, msg_len, errno, "parent channel fd %d: fcntl: %s", fd,
                                strerror(errno));
        struct sl_slice *sl = calloc(1, sizeof *sl);
        if (!sl)
                return init_err(msg, msg_len, ENOMEM, "libslice: out of memory");
        sl->fd = fd;
        sl->next_id = 1;
        *out = sl;
        return 0;
}

int sl_init(struct sl_slice **out, char *msg, size_t msg_len)
{
        *out = NULL;
        const char *v = getenv(SL_PARENT_FD_ENV);
        if (!v)
                return init_err(msg, msg_len, ENOENT,
                                "%s is not set: this program is a slice and talks to its "
                                "supervisor over that channel (run it under sliced)",
                                SL_PARENT_FD_ENV);
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (errno || end == v || *end || n < 0 || n > INT_MAX || v[0] < '0' || v[0] > '9')
                return init_err(msg, msg_len, EINVAL, "%s='%.32s' is not a descriptor number",
                                SL_PARENT_FD_ENV, v);
        return sl_init_fd((int)n, out, msg, msg_len);
}

void sl_free(struct sl_slice *sl)
{
        if (!sl)
                return;
        for (struct sl_pending *p = sl->pending, *next; p; p = next) {
                next = p->next;
                if (p->cb) /* a blocking one belongs to its waiter */
                        free(p);
        }
        for (struct sl_service *s = sl->services, *next; s; s = next) {
                next = s->next;
                free(s);
        }
        close(sl->fd);
        free(sl);
}

int sl_fd(const struct sl_slice *sl)
{
        return sl->fd;
}

const char *sl_last_error(const struct sl_slice *sl)
{
        return sl->err.msg;
}

void sl_on_session_closed(struct sl_slice *sl, sl_closed_cb cb, void *ctx)
{
        sl->closed_cb = cb;
        sl->closed_ctx = ctx;
}

/* ---- sending ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl__send(struct sl_slice *sl, const sl_pp_envelope *m, const int *fds, size_t nfds)
{
        if (sl->gone)
                return sl__fail(sl, EPIPE, "the supervisor closed the parent channel");
        int64_t deadline = now_ms() + SL_SEND_WAIT_MS;
        for (;;) {
                if (sl_pp_send(sl->fd, m, fds, nfds, &sl->err) == 0)
                        return 0;
                int e = sl->err.code ? sl->err.code : EIO;
                if (e == EPIPE || e == ECONNRESET)
                        sl->gone = true;
                if (e != EAGAIN)
                        return -e;
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return -EAGAIN;
                struct pollfd p = {.fd = sl->fd, .events = POLLOUT};
                if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
                        return sl__fail(sl, errno, "poll on the parent channel: %s",
                                        strerror(errno));
        }
}

/* ---- dispatch ------------------------------------------------------------------ */

static void on_heartbeat(struct sl_slice *sl, uint64_t seq)
{
        struct sl_pp_msg a;
        sl__send(sl, sl_pp_heartbeat_ack(&a, seq), NULL, 0); /* failure is in sl->err */
}

/* One message: the codec has checked its fields and fd count. */
static void handle(struct sl_slice *sl, const sl_pp_envelope *m, int fd)
{
        switch (m->body_case) {
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT:
                sl__on_grant(sl, m->session_grant, fd);
                return;
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_DENY:
                sl__on_deny(sl, m->session_deny->id, m->session_deny->reason);
                return;
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSED:
                sl__on_closed(sl, m->session_closed);
                return;
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION:
                sl__on_create_session(sl, m->create_session);
                return;
        case SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT: on_heartbeat(sl, m->heartbeat->seq); return;
        case SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE:
                sl__on_config_update(sl, m->config_update, fd);
                return;
        default:
                /* What a slice sends itself: the supervisor never sends it. */
                sl__fail(sl, EPROTO,
                         "dropped %s from the supervisor: a slice sends it, not the supervisor",
                         sl_pp_body_name(m->body_case));
                return;
        }
}

static int channel_gone(struct sl_slice *sl, int error)
{
        sl->gone = true;
        sl__fail_pending(sl, error, "the supervisor closed the parent channel");
        return -error;
}

int sl__dispatch_one(struct sl_slice *sl)
{
        if (sl->gone)
                return channel_gone(sl, EPIPE);
        sl_pp_envelope *m;
        int fds[SL_PP_FDS_MAX];
        size_t nfds;
        struct sl_error e;
        int rc = sl_pp_recv(sl->fd, &m, fds, &nfds, &e);
        /* ECONNRESET: the supervisor closed with our messages unread —
         * gone all the same. */
        if (rc == 0 || (rc < 0 && e.code == ECONNRESET)) {
                sl__fail(sl, EPIPE, "the supervisor closed the parent channel");
                return channel_gone(sl, EPIPE);
        }
        if (rc < 0) {
                if (e.code == EAGAIN)
                        return 0;
                sl->err = e;
                if (e.code == EPROTO) /* dropped; fds closed by the codec */
                        return 1;
                return channel_gone(sl, e.code ? e.code : EIO);
        }
        /* No type carries more than one fd (the codec checked). */
        handle(sl, m, nfds ? fds[0] : -1);
        sl_pp_free(m);
        return 1;
}

int sl_dispatch(struct sl_slice *sl)
{
        for (int i = 0; i < SL_DISPATCH_BATCH; i++) {
                int rc = sl__dispatch_one(sl);
                if (rc <= 0)
                        return rc;
        }
        return 0;
}
