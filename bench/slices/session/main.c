/* bench-session-slice — the two slices bench-session runs under sliced.
 *
 *     bench-session-slice server
 *     bench-session-slice client OPENS WARMUP PINGS BLOCK
 *
 * server  announces `bench` and serves every session with a fresh
 *         socketpair (sl_session_pair). Session args pick what it does:
 *           "echo"    answers each byte it reads (the ping-pong)
 *           "fdpass"  waits for one descriptor sent over the session
 *                     (SCM_RIGHTS), acknowledges it with one byte and then
 *                     echoes on that descriptor: a raw socketpair between
 *                     the same two processes, which the supervisor never saw
 *         One thread, one epoll set over the parent channel and every
 *         session; runs until the supervisor closes the channel.
 *
 * client  measures, in this order, and prints one line per figure on stdout
 *         (sliced logs it as `/client: ...`; bench-session parses it):
 *           open     sl_session_open("bench") to the server, timed; then
 *                    sl_session_close + close, not timed
 *           denied   sl_session_open("none"), which has no route: one round
 *                    trip through sliced, refused there (no server involved)
 *           sockpair socketpair() alone, as the server makes one per session
 *         in blocks of 100 that rotate between the three, OPENS of each
 *         after WARMUP of each; then the ping-pong:
 *           routed   1-byte request/response over a routed session
 *           raw      the same over the "fdpass" raw socketpair
 *         in alternating blocks of BLOCK round trips, PINGS of each (after
 *         1000 of each as warm-up). Lines:
 *           RESULT NAME N MEDIAN P90 MIN MEAN     (microseconds)
 *           CYCLE US                              (mean open+close, routed)
 *           DONE
 *         or ERROR TEXT, and exit status 1.
 *
 * Both run under the `strict` profile: everything here is allowed by
 * `strict-tight` (socketpair AF_UNIX|SOCK_CLOEXEC, sendmsg/recvmsg, epoll).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <slice/slice.h>

#include "pingpong.h"

#define SERVICE         "bench"
#define NO_SERVICE      "none" /* routed nowhere: sliced refuses it itself */
#define OPEN_TIMEOUT_MS 10000
#define OPEN_BLOCK      100
#define PING_WARMUP     1000

/* ---- server ------------------------------------------------------------------ */

enum kind { K_PARENT, K_ECHO, K_FDPASS, K_RAW };

struct ent {
        struct ent *next; /* live list, or the dead list */
        enum kind kind;
        int fd;
        uint64_t id; /* the supervisor's session id; 0 for raw fds */
        bool dead;
};

struct server {
        struct sl_slice *sl;
        int ep;
        struct ent parent;
        struct ent *live, *dead;
};

static struct ent *ent_add(struct server *s, enum kind kind, int fd, uint64_t id)
{
        struct ent *e = calloc(1, sizeof *e);
        if (!e)
                return NULL;
        e->kind = kind;
        e->fd = fd;
        e->id = id;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = e};
        if (epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
                free(e);
                return NULL;
        }
        e->next = s->live;
        s->live = e;
        return e;
}

/* Close now; free after the current batch of events, which may name it. */
static void ent_drop(struct server *s, struct ent *e)
{
        if (e->dead)
                return;
        for (struct ent **p = &s->live; *p; p = &(*p)->next)
                if (*p == e) {
                        *p = e->next;
                        break;
                }
        close(e->fd); /* leaves the epoll set */
        e->fd = -1;
        e->dead = true;
        e->next = s->dead;
        s->dead = e;
}

static int serve(void *ctx, uint64_t id, const char *client_label, const void *args, size_t len,
                 uint64_t memory, int *fd_out, char *reason, size_t reason_len)
{
        struct server *s = ctx;
        enum kind kind;
        if (len == 4 && !memcmp(args, "echo", 4))
                kind = K_ECHO;
        else if (len == 6 && !memcmp(args, "fdpass", 6))
                kind = K_FDPASS;
        else {
                snprintf(reason, reason_len, "bench: args must be 'echo' or 'fdpass'");
                return -1;
        }
        int mine;
        int rc = sl_session_pair(&mine, fd_out);
        if (rc < 0) {
                snprintf(reason, reason_len, "bench: socketpair: %s", strerror(-rc));
                return -1;
        }
        if (!ent_add(s, kind, mine, id)) {
                snprintf(reason, reason_len, "bench: epoll: %s", strerror(errno));
                close(mine);
                close(*fd_out);
                *fd_out = -1;
                return -1;
        }
        return 0;
}

static void closed(void *ctx, uint64_t id, enum sl_role role, const char *reason)
{
        struct server *s = ctx;
        if (role != SL_ROLE_SERVER)
                return;
        for (struct ent *e = s->live; e; e = e->next)
                if (e->id == id && e->kind != K_RAW) {
                        ent_drop(s, e);
                        return;
                }
        /* gone already: its socket read EOF first */
}

/* One byte: 'k' the raw socket is served, 'n' it is not. */
static void ack(int fd, char c)
{
        while (write(fd, &c, 1) < 0 && errno == EINTR)
                ;
}

/* An "fdpass" session: one byte with one descriptor attached. */
static void take_fd(struct server *s, struct ent *e)
{
        char byte;
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.buf,
                            .msg_controllen = sizeof cm.buf};
        ssize_t n;
        while ((n = recvmsg(e->fd, &mh, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
                ;
        if (n <= 0) {
                ent_drop(s, e);
                return;
        }
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
            c->cmsg_len != CMSG_LEN(sizeof(int))) {
                fprintf(stderr, "bench-session-slice: fdpass: no descriptor came\n");
                ack(e->fd, 'n'); /* the client waits for an answer */
                return;
        }
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof fd);
        if (!ent_add(s, K_RAW, fd, 0)) {
                close(fd);
                ack(e->fd, 'n');
                return;
        }
        ack(e->fd, 'k');
}

static int run_server(void)
{
        static struct server s;
        char msg[SL_MSG_MAX];
        if (sl_init(&s.sl, msg, sizeof msg) < 0) {
                fprintf(stderr, "bench-session-slice: %s\n", msg);
                return 1;
        }
        s.ep = epoll_create1(EPOLL_CLOEXEC);
        if (s.ep < 0) {
                fprintf(stderr, "bench-session-slice: epoll_create1: %s\n", strerror(errno));
                return 1;
        }
        s.parent.kind = K_PARENT;
        struct epoll_event pev = {.events = EPOLLIN, .data.ptr = &s.parent};
        if (epoll_ctl(s.ep, EPOLL_CTL_ADD, sl_fd(s.sl), &pev) < 0) {
                fprintf(stderr, "bench-session-slice: epoll_ctl: %s\n", strerror(errno));
                return 1;
        }
        sl_on_session_closed(s.sl, closed, &s);
        int rc = sl_announce(s.sl, SERVICE, serve, &s);
        if (rc < 0) {
                fprintf(stderr, "bench-session-slice: announce: %s\n", sl_last_error(s.sl));
                return 1;
        }
        for (;;) {
                struct epoll_event ev[16];
                int n = epoll_wait(s.ep, ev, 16, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "bench-session-slice: epoll_wait: %s\n", strerror(errno));
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        struct ent *e = ev[i].data.ptr;
                        if (e->dead)
                                continue;
                        switch (e->kind) {
                        case K_PARENT:
                                if (sl_dispatch(s.sl) == -EPIPE)
                                        return 0; /* the supervisor is gone */
                                break;
                        case K_ECHO:
                        case K_RAW:
                                if (pp_echo(e->fd) < 0)
                                        ent_drop(&s, e);
                                break;
                        case K_FDPASS: take_fd(&s, e); break;
                        }
                }
                while (s.dead) {
                        struct ent *d = s.dead;
                        s.dead = d->next;
                        free(d);
                }
        }
}

/* ---- client ------------------------------------------------------------------ */

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        putchar('\n');
        fflush(stdout);
}

static int error_out(struct sl_slice *sl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int error_out(struct sl_slice *sl, const char *fmt, ...)
{
        char buf[SL_MSG_MAX + 200];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        say("ERROR %s", buf);
        sl_free(sl);
        return 1;
}

static void result(const char *name, double *v, int n)
{
        struct pp_stats st = pp_summarize(v, n);
        say("RESULT %s %d %.3f %.3f %.3f %.3f", name, st.n, st.median, st.p90, st.min, st.mean);
}

enum { V_OPEN, V_DENIED, V_SOCKPAIR, V__OPEN };

/* One timed sample of variant v; -1 with reason on failure. */
static int open_sample(struct sl_slice *sl, int v, double *us, char *reason, size_t len)
{
        int fd = -1;
        uint64_t id = 0;
        double t0 = pp_now_us();
        switch (v) {
        case V_OPEN: {
                int rc = sl_session_open(sl, SERVICE, "echo", 4, 0, OPEN_TIMEOUT_MS, &fd, &id,
                                         reason, len);
                *us = pp_now_us() - t0;
                if (rc < 0)
                        return -1;
                sl_session_close(sl, id);
                close(fd);
                return 0;
        }
        case V_DENIED: {
                int rc = sl_session_open(sl, NO_SERVICE, "echo", 4, 0, OPEN_TIMEOUT_MS, &fd, &id,
                                         reason, len);
                *us = pp_now_us() - t0;
                if (rc == -ECONNREFUSED)
                        return 0;
                if (rc == 0) {
                        snprintf(reason, len, "'%s' was granted; expected a refusal", NO_SERVICE);
                        sl_session_close(sl, id);
                        close(fd);
                }
                return -1;
        }
        default: {
                int sv[2];
                int rc = socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
                *us = pp_now_us() - t0;
                if (rc < 0) {
                        snprintf(reason, len, "socketpair: %s", strerror(errno));
                        return -1;
                }
                close(sv[0]);
                close(sv[1]);
                return 0;
        }
        }
}

static int run_client(int opens, int warmup, int pings, int block)
{
        struct sl_slice *sl;
        char msg[SL_MSG_MAX];
        if (sl_init(&sl, msg, sizeof msg) < 0) {
                say("ERROR %s", msg);
                return 1;
        }
        static const char *const open_names[V__OPEN] = {"open", "denied", "sockpair"};
        double *samples[V__OPEN];
        int got[V__OPEN] = {0};
        for (int v = 0; v < V__OPEN; v++)
                if (!(samples[v] = calloc((size_t)opens, sizeof(double))))
                        return error_out(sl, "out of memory");

        double us;
        for (int i = 0; i < warmup; i++)
                for (int v = 0; v < V__OPEN; v++)
                        if (open_sample(sl, v, &us, msg, sizeof msg) < 0)
                                return error_out(sl, "%s (warm-up): %s", open_names[v], msg);

        /* Rotating blocks: drift on the machine hits the three alike. The
         * routed blocks' wall time, closes included, gives the cycle. */
        double cycle_us = 0;
        for (int round = 0; got[0] < opens || got[1] < opens || got[2] < opens; round++)
                for (int k = 0; k < V__OPEN; k++) {
                        int v = (round + k) % V__OPEN;
                        int end = got[v] + OPEN_BLOCK < opens ? got[v] + OPEN_BLOCK : opens;
                        double t0 = pp_now_us();
                        for (; got[v] < end; got[v]++)
                                if (open_sample(sl, v, &samples[v][got[v]], msg, sizeof msg) < 0)
                                        return error_out(sl, "%s #%d: %s", open_names[v],
                                                         got[v] + 1, msg);
                        if (v == V_OPEN)
                                cycle_us += pp_now_us() - t0;
                }

        /* Ping-pong: a routed session, and a raw socketpair to the same
         * server, whose far end travels over a second session. */
        int routed = -1, ctl = -1, raw[2];
        uint64_t id_routed, id_ctl;
        if (sl_session_open(sl, SERVICE, "echo", 4, 0, OPEN_TIMEOUT_MS, &routed, &id_routed, msg,
                            sizeof msg) < 0)
                return error_out(sl, "echo session: %s", msg);
        if (sl_session_open(sl, SERVICE, "fdpass", 6, 0, OPEN_TIMEOUT_MS, &ctl, &id_ctl, msg,
                            sizeof msg) < 0)
                return error_out(sl, "fdpass session: %s", msg);
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, raw) < 0)
                return error_out(sl, "socketpair: %s", strerror(errno));
        char byte = 'f';
        struct iovec iov = {.iov_base = &byte, .iov_len = 1};
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        memset(&cm, 0, sizeof cm);
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = cm.buf,
                            .msg_controllen = sizeof cm.buf};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &raw[1], sizeof(int));
        if (sendmsg(ctl, &mh, MSG_NOSIGNAL) != 1)
                return error_out(sl, "sendmsg: %s", strerror(errno));
        close(raw[1]);
        if (read(ctl, &byte, 1) != 1 || byte != 'k')
                return error_out(sl, "the server did not take the raw socket");

        static const char *const ping_names[2] = {"routed", "raw"};
        const int pfd[2] = {routed, raw[0]};
        double *ps[2];
        int pgot[2] = {0, 0};
        for (int v = 0; v < 2; v++)
                if (!(ps[v] = calloc((size_t)pings, sizeof(double))))
                        return error_out(sl, "out of memory");
        for (int i = 0; i < PING_WARMUP; i++)
                for (int v = 0; v < 2; v++)
                        if (pp_round(pfd[v], &us) < 0)
                                return error_out(sl, "ping %s (warm-up): %s", ping_names[v],
                                                 strerror(errno));
        for (int round = 0; pgot[0] < pings || pgot[1] < pings; round++)
                for (int k = 0; k < 2; k++) {
                        int v = (round + k) % 2;
                        int end = pgot[v] + block < pings ? pgot[v] + block : pings;
                        for (; pgot[v] < end; pgot[v]++)
                                if (pp_round(pfd[v], &ps[v][pgot[v]]) < 0)
                                        return error_out(sl, "ping %s #%d: %s", ping_names[v],
                                                         pgot[v] + 1, strerror(errno));
                }

        for (int v = 0; v < V__OPEN; v++)
                result(open_names[v], samples[v], opens);
        say("CYCLE %.3f", cycle_us / opens);
        for (int v = 0; v < 2; v++)
                result(ping_names[v], ps[v], pings);
        say("DONE");

        close(raw[0]);
        sl_session_close(sl, id_routed);
        close(routed);
        sl_session_close(sl, id_ctl);
        close(ctl);
        sl_free(sl);
        return 0;
}

static int arg(const char *s, int min)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || end == s || v < min || v > 10000000)
                return -1;
        return (int)v;
}

int main(int argc, char **argv)
{
        if (argc == 2 && !strcmp(argv[1], "server"))
                return run_server();
        if (argc == 6 && !strcmp(argv[1], "client")) {
                int opens = arg(argv[2], 1), warmup = arg(argv[3], 0), pings = arg(argv[4], 1),
                    block = arg(argv[5], 1);
                if (opens > 0 && warmup >= 0 && pings > 0 && block > 0)
                        return run_client(opens, warmup, pings, block);
        }
        fprintf(stderr, "usage: bench-session-slice server\n"
                        "       bench-session-slice client OPENS WARMUP PINGS BLOCK\n");
        return 2;
}
