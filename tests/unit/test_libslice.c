/* libslice against a fake supervisor. The test holds the other end of a
 * SOCK_SEQPACKET pair and plays sliced with the codec: in the test thread
 * when the slice side does not block, in a second thread ("the supervisor")
 * when it does (blocking opens, config, rom). No seccomp here; the last test
 * checks, as data, that strict-tight allows the calls libslice makes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/parentproto.h"
#include "sandbox/seccomp.h"
#include "slice/slice.h"
#include "support/bpf_eval.h"

/* How long the fake supervisor waits for the slice before it gives up (a
 * failing test must end, not hang). */
#define WAIT_MS 5000

static int count_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        assert_non_null(d);
        int n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n - 1;
}

/* ---- the fake supervisor ------------------------------------------------- */

struct fake {
        int sup;               /* the supervisor's end */
        struct sl_slice *sl;   /* the slice's end, through libslice */
        pthread_t thread;
        void (*script)(struct fake *f);
        char problem[SL_MSG_MAX + 32]; /* what went wrong in the thread ("" = nothing) */
        /* what the script saw or kept */
        uint64_t req_id;
        char service[64];
        char args[64];
        uint64_t memory;
        uint64_t ack_seq;
        int server_end;        /* the end of a granted session the supervisor kept */
        int fd_count;          /* for scripts that check they leaked nothing */
};

static int setup(void **state)
{
        struct fake *f = calloc(1, sizeof *f);
        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        f->sup = sv[0];
        f->server_end = -1;
        char msg[SL_MSG_MAX];
        assert_int_equal(sl_init_fd(sv[1], &f->sl, msg, sizeof msg), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fake *f = *state;
        sl_free(f->sl);
        if (f->sup >= 0)
                close(f->sup);
        if (f->server_end >= 0)
                close(f->server_end);
        free(f);
        return 0;
}

/* Receive one message on fd, waiting up to WAIT_MS. NULL on timeout/error. */
static sl_pp_envelope *recv_wait(int fd, int *fds, size_t *nfds)
{
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, WAIT_MS) != 1)
                return NULL;
        sl_pp_envelope *m;
        struct sl_error err;
        size_t n;
        int tmp[SL_PP_FDS_MAX];
        if (sl_pp_recv(fd, &m, fds ? fds : tmp, nfds ? nfds : &n, &err) != 1)
                return NULL;
        if (!nfds)
                for (size_t i = 0; i < n; i++)
                        close(tmp[i]);
        return m;
}

/* In the test thread: the next message must be of type c. */
static sl_pp_envelope *expect(struct fake *f, Sliced__Parent__Envelope__BodyCase c, int *fds,
                              size_t *nfds)
{
        sl_pp_envelope *m = recv_wait(f->sup, fds, nfds);
        assert_non_null(m);
        assert_string_equal(sl_pp_body_name(m->body_case), sl_pp_body_name(c));
        return m;
}

static void sup_send(struct fake *f, const sl_pp_envelope *m, int fd)
{
        struct sl_error err;
        if (sl_pp_send(f->sup, m, &fd, fd >= 0 ? 1 : 0, &err) < 0)
                snprintf(f->problem, sizeof f->problem, "supervisor: %s", err.msg);
}

/* In the supervisor thread: the next message must be a SessionRequest. */
static bool take_request(struct fake *f)
{
        sl_pp_envelope *m = recv_wait(f->sup, NULL, NULL);
        if (!m || m->body_case != SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST) {
                snprintf(f->problem, sizeof f->problem, "supervisor: expected SessionRequest, got %s",
                         m ? sl_pp_body_name(m->body_case) : "nothing");
                sl_pp_free(m);
                return false;
        }
        f->req_id = m->session_request->id;
        snprintf(f->service, sizeof f->service, "%s", m->session_request->service);
        snprintf(f->args, sizeof f->args, "%.*s", (int)m->session_request->args.len,
                 (const char *)m->session_request->args.data);
        f->memory = m->session_request->memory;
        sl_pp_free(m);
        return true;
}

/* Grant f->req_id with one end of a fresh stream pair; keep the other. */
static void grant_pair(struct fake *f)
{
        int sv[2];
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
        f->server_end = sv[0];
        struct sl_pp_msg m;
        sup_send(f, sl_pp_session_grant(&m, f->req_id, "/store/kv", 0, NULL), sv[1]);
        close(sv[1]);
}

static void *run_script(void *arg)
{
        struct fake *f = arg;
        f->script(f);
        return NULL;
}

static void start(struct fake *f, void (*script)(struct fake *f))
{
        f->script = script;
        assert_int_equal(pthread_create(&f->thread, NULL, run_script, f), 0);
}

static void finish(struct fake *f)
{
        pthread_join(f->thread, NULL);
        assert_string_equal(f->problem, "");
}

/* ---- sl_init ---------------------------------------------------------------- */

static void test_init_refuses_what_is_not_a_parent_channel(void **state)
{
        (void)state;
        char msg[SL_MSG_MAX];
        struct sl_slice *sl;
        unsetenv("SLICE_PARENT_FD");
        assert_int_equal(sl_init(&sl, msg, sizeof msg), -ENOENT);
        assert_null(sl);
        assert_string_equal(msg, "SLICE_PARENT_FD is not set: this program is a slice and talks "
                                 "to its supervisor over that channel (run it under sliced)");
        setenv("SLICE_PARENT_FD", "3x", 1);
        assert_int_equal(sl_init(&sl, msg, sizeof msg), -EINVAL);
        assert_string_equal(msg, "SLICE_PARENT_FD='3x' is not a descriptor number");
        setenv("SLICE_PARENT_FD", "-1", 1);
        assert_int_equal(sl_init(&sl, msg, sizeof msg), -EINVAL);
        setenv("SLICE_PARENT_FD", "999", 1);
        assert_int_equal(sl_init(&sl, msg, sizeof msg), -EBADF);
        assert_string_equal(msg, "parent channel fd 999: Bad file descriptor");

        int p[2], st[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(sl_init_fd(p[0], &sl, msg, sizeof msg), -ENOTSOCK);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, st), 0);
        assert_int_equal(sl_init_fd(st[0], &sl, msg, sizeof msg), -EPROTOTYPE);
        char want[128];
        snprintf(want, sizeof want,
                 "parent channel fd %d is not a SOCK_SEQPACKET socket (type %d)", st[0],
                 SOCK_STREAM);
        assert_string_equal(msg, want);
        int inet = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(inet >= 0);
        assert_int_equal(sl_init_fd(inet, &sl, msg, sizeof msg), -EAFNOSUPPORT);
        close(inet);
        close(p[0]);
        close(p[1]);
        close(st[0]);
        close(st[1]);

        int sv[2];
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
        char num[16];
        snprintf(num, sizeof num, "%d", sv[1]);
        setenv("SLICE_PARENT_FD", num, 1);
        assert_int_equal(sl_init(&sl, msg, sizeof msg), 0);
        assert_int_equal(sl_fd(sl), sv[1]);
        assert_true(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
        assert_int_equal(fcntl(sv[1], F_GETFD), FD_CLOEXEC);
        sl_free(sl); /* closes sv[1] */
        close(sv[0]);
        unsetenv("SLICE_PARENT_FD");
}

/* ---- client: blocking open ---------------------------------------------------- */

static void script_grant(struct fake *f)
{
        if (take_request(f))
                grant_pair(f);
}

static void test_blocking_open_gets_the_fd_and_can_talk_over_it(void **state)
{
        struct fake *f = *state;
        start(f, script_grant);
        int fd;
        uint64_t id;
        char reason[SL_MSG_MAX] = "untouched";
        assert_int_equal(sl_session_open(f->sl, "kv", "ns=a", 4, 4096, WAIT_MS, &fd, &id, reason,
                                         sizeof reason),
                         0);
        finish(f);
        assert_string_equal(reason, "");
        assert_string_equal(f->service, "kv");
        assert_string_equal(f->args, "ns=a");
        assert_int_equal(f->memory, 4096);
        assert_int_equal(id, f->req_id);
        assert_int_equal(fcntl(fd, F_GETFD), FD_CLOEXEC);

        assert_int_equal(write(fd, "ping", 4), 4);
        char buf[8] = {0};
        assert_int_equal(read(f->server_end, buf, sizeof buf), 4);
        assert_string_equal(buf, "ping");
        assert_int_equal(write(f->server_end, "pong", 4), 4);
        assert_int_equal(read(fd, buf, sizeof buf), 4);
        assert_memory_equal(buf, "pong", 4);

        assert_int_equal(sl_session_close(f->sl, id), 0);
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, NULL, NULL);
        assert_int_equal(m->session_close->id, id);
        assert_int_equal(m->session_close->role, SLICED__PARENT__ROLE__ROLE_CLIENT);
        sl_pp_free(m);
        close(fd);
}

static void script_deny(struct fake *f)
{
        if (!take_request(f))
                return;
        struct sl_pp_msg m;
        sup_send(f, sl_pp_session_deny(&m, f->req_id, "/app/web: no route to 'kv'"), -1);
}

static void test_deny_returns_the_reason(void **state)
{
        struct fake *f = *state;
        start(f, script_deny);
        int fd = 7;
        char reason[SL_MSG_MAX];
        assert_int_equal(sl_session_open(f->sl, "kv", NULL, 0, 0, WAIT_MS, &fd, NULL, reason,
                                         sizeof reason),
                         -ECONNREFUSED);
        finish(f);
        assert_int_equal(fd, -1);
        assert_string_equal(reason, "/app/web: no route to 'kv'");
        assert_string_equal(sl_last_error(f->sl),
                            "session to 'kv' refused: /app/web: no route to 'kv'");
}

/* The grant comes only after the heartbeat was acknowledged: the open can
 * only succeed if libslice answered it while waiting. */
static void script_heartbeat_first(struct fake *f)
{
        if (!take_request(f))
                return;
        struct sl_pp_msg m;
        sup_send(f, sl_pp_heartbeat(&m, 77), -1);
        sl_pp_envelope *a = recv_wait(f->sup, NULL, NULL);
        if (!a || a->body_case != SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK) {
                snprintf(f->problem, sizeof f->problem, "supervisor: expected HeartbeatAck, got %s",
                         a ? sl_pp_body_name(a->body_case) : "nothing");
                sl_pp_free(a);
                return;
        }
        f->ack_seq = a->heartbeat_ack->seq;
        sl_pp_free(a);
        grant_pair(f);
}

static void test_heartbeat_is_answered_during_a_blocking_open(void **state)
{
        struct fake *f = *state;
        start(f, script_heartbeat_first);
        int fd;
        char reason[SL_MSG_MAX];
        assert_int_equal(sl_session_open(f->sl, "kv", NULL, 0, 0, WAIT_MS, &fd, NULL, reason,
                                         sizeof reason),
                         0);
        finish(f);
        assert_int_equal(f->ack_seq, 77);
        close(fd);
}

static void test_bad_requests_are_refused_before_sending(void **state)
{
        struct fake *f = *state;
        int fd;
        char reason[SL_MSG_MAX];
        assert_int_equal(sl_session_open(f->sl, "Bad Name", NULL, 0, 0, 0, &fd, NULL, reason,
                                         sizeof reason),
                         -EINVAL);
        assert_string_equal(reason, "'Bad Name' is not a service name (1-63 of a-z, 0-9, '-', "
                                    "'_', '.', starting with a letter or digit)");
        static char args[SL_ARGS_MAX + 1];
        assert_int_equal(sl_session_open(f->sl, "kv", args, sizeof args, 0, 0, &fd, NULL, reason,
                                         sizeof reason),
                         -EINVAL);
        assert_string_equal(reason, "session arguments for 'kv': 16385 bytes, at most 16384");
        struct pollfd p = {.fd = f->sup, .events = POLLIN};
        assert_int_equal(poll(&p, 1, 0), 0); /* nothing was sent */
}

/* No answer: -ETIMEDOUT and the request withdrawn; the grant that comes
 * later is closed and given back, so nothing leaks. */
static void test_timeout_withdraws_and_a_late_grant_is_given_back(void **state)
{
        struct fake *f = *state;
        int fd;
        uint64_t id;
        char reason[SL_MSG_MAX];
        assert_int_equal(sl_session_open(f->sl, "kv", NULL, 0, 0, 50, &fd, &id, reason,
                                         sizeof reason),
                         -ETIMEDOUT);
        assert_string_equal(reason, "no answer to the request for 'kv' within 50 ms");
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST, NULL, NULL);
        assert_int_equal(m->session_request->id, id);
        sl_pp_free(m);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, NULL, NULL);
        assert_int_equal(m->session_close->id, id);
        sl_pp_free(m);

        int before = count_fds();
        f->req_id = id;
        grant_pair(f); /* keeps server_end: one fd more */
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(count_fds(), before + 1);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, NULL, NULL);
        assert_int_equal(m->session_close->id, id);
        sl_pp_free(m);
        char c;
        assert_int_equal(read(f->server_end, &c, 1), 0); /* the client's end is gone */
}

/* ---- client: asynchronous open ---------------------------------------------- */

struct opened {
        int calls;
        uint64_t id;
        int fd;
        int error;
        char reason[SL_MSG_MAX];
        char server_label[SL_MSG_MAX];
};

static void on_open(void *ctx, const struct sl_grant *g)
{
        struct opened *o = ctx;
        o->calls++;
        o->id = g->id;
        o->fd = g->fd;
        o->error = g->error;
        snprintf(o->reason, sizeof o->reason, "%s", g->reason);
        snprintf(o->server_label, sizeof o->server_label, "%s", g->server_label);
}

static void test_async_open_completes_through_dispatch(void **state)
{
        struct fake *f = *state;
        struct opened o = {0};
        uint64_t id;
        assert_int_equal(sl_session_open_async(f->sl, "kv", NULL, 0, 0, on_open, &o, &id), 0);
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST, NULL, NULL);
        f->req_id = m->session_request->id;
        assert_int_equal(f->req_id, id);
        sl_pp_free(m);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(o.calls, 0); /* nothing yet */

        grant_pair(f);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(o.calls, 1);
        assert_int_equal(o.id, id);
        assert_int_equal(o.error, 0);
        assert_string_equal(o.server_label, "/store/kv");
        assert_int_equal(write(o.fd, "x", 1), 1);
        char c;
        assert_int_equal(read(f->server_end, &c, 1), 1);
        close(o.fd);
}

static void test_async_open_fails_when_the_supervisor_goes(void **state)
{
        struct fake *f = *state;
        struct opened o = {0};
        assert_int_equal(sl_session_open_async(f->sl, "kv", NULL, 0, 0, on_open, &o, NULL), 0);
        close(f->sup);
        f->sup = -1;
        assert_int_equal(sl_dispatch(f->sl), -EPIPE);
        assert_int_equal(o.calls, 1);
        assert_int_equal(o.fd, -1);
        assert_int_equal(o.error, EPIPE);
        assert_string_equal(o.reason, "the supervisor closed the parent channel");
        assert_int_equal(sl_dispatch(f->sl), -EPIPE); /* and stays gone */
        assert_int_equal(o.calls, 1);
        assert_int_equal(sl_log(f->sl, SL_LOG_INFO, "x"), -EPIPE);
}

static void test_cancelled_async_open_never_calls_back(void **state)
{
        struct fake *f = *state;
        struct opened o = {0};
        uint64_t id;
        assert_int_equal(sl_session_open_async(f->sl, "kv", NULL, 0, 0, on_open, &o, &id), 0);
        assert_int_equal(sl_session_close(f->sl, id), 0);
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST, NULL, NULL);
        sl_pp_free(m);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, NULL, NULL);
        sl_pp_free(m);
        struct sl_pp_msg d;
        sup_send(f, sl_pp_session_deny(&d, id, "cancelled"), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(o.calls, 0);
}

/* ---- server ----------------------------------------------------------------- */

struct served {
        int calls;
        uint64_t id;
        char label[SL_MSG_MAX];
        char args[64];
        uint64_t memory;
        int mine;
        bool refuse;
};

static int serve(void *ctx, uint64_t id, const char *client_label, const void *args, size_t len,
                 uint64_t memory, int *fd_out, char *reason, size_t reason_len)
{
        struct served *s = ctx;
        s->calls++;
        s->id = id;
        snprintf(s->label, sizeof s->label, "%s", client_label);
        snprintf(s->args, sizeof s->args, "%.*s", (int)len, (const char *)args);
        s->memory = memory;
        if (s->refuse) {
                snprintf(reason, reason_len, "%s may not write", client_label);
                return -1;
        }
        return sl_session_pair(&s->mine, fd_out);
}

static void test_create_session_calls_the_server_and_the_reply_carries_the_fd(void **state)
{
        struct fake *f = *state;
        struct served s = {0};
        assert_int_equal(sl_announce(f->sl, "kv", serve, &s), 0);
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE, NULL, NULL);
        assert_string_equal(m->announce->service, "kv");
        sl_pp_free(m);
        assert_int_equal(sl_announce(f->sl, "kv", serve, &s), -EEXIST);

        int before = count_fds();
        struct sl_pp_msg c;
        sup_send(f, sl_pp_create_session(&c, 41, "kv", "/app/web:rw", "ns=b", 4, 8192), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(s.calls, 1);
        assert_int_equal(s.id, 41);
        assert_string_equal(s.label, "/app/web:rw");
        assert_string_equal(s.args, "ns=b");
        assert_int_equal(s.memory, 8192);

        int fds[SL_PP_FDS_MAX];
        size_t nfds;
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY, fds, &nfds);
        assert_int_equal(m->create_session_reply->id, 41);
        assert_true(m->create_session_reply->ok);
        assert_int_equal(nfds, 1);
        sl_pp_free(m);
        /* libslice closed its copy of the client's end: only the server's
         * end and the one in the reply are new. */
        assert_int_equal(count_fds(), before + 2);
        assert_int_equal(write(fds[0], "hello", 5), 5);
        char buf[8] = {0};
        assert_int_equal(read(s.mine, buf, sizeof buf), 5);
        assert_string_equal(buf, "hello");
        close(fds[0]);
        close(s.mine);

        /* The server refuses: the reason goes back, no fd. */
        s.refuse = true;
        sup_send(f, sl_pp_create_session(&c, 42, "kv", "/app/ro", NULL, 0, 0), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY, fds, &nfds);
        assert_false(m->create_session_reply->ok);
        assert_string_equal(m->create_session_reply->reason, "/app/ro may not write");
        assert_int_equal(nfds, 0);
        sl_pp_free(m);

        /* A service this slice never announced. */
        sup_send(f, sl_pp_create_session(&c, 43, "db", "/app/web", NULL, 0, 0), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY, NULL, NULL);
        assert_false(m->create_session_reply->ok);
        assert_string_equal(m->create_session_reply->reason, "'db' is not announced by this slice");
        sl_pp_free(m);
        assert_int_equal(s.calls, 2);
        assert_int_equal(count_fds(), before);

        assert_int_equal(sl_serve_close(f->sl, 41), 0);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, NULL, NULL);
        assert_int_equal(m->session_close->role, SLICED__PARENT__ROLE__ROLE_SERVER);
        sl_pp_free(m);
}

struct closed {
        int calls;
        uint64_t id;
        enum sl_role role;
        char reason[SL_MSG_MAX];
};

static void on_closed(void *ctx, uint64_t id, enum sl_role role, const char *reason)
{
        struct closed *c = ctx;
        c->calls++;
        c->id = id;
        c->role = role;
        snprintf(c->reason, sizeof c->reason, "%s", reason);
}

static void test_closed_sessions_reach_the_callback_with_their_side(void **state)
{
        struct fake *f = *state;
        struct closed c = {0};
        sl_on_session_closed(f->sl, on_closed, &c);
        struct sl_pp_msg m;
        sup_send(f, sl_pp_session_closed(&m, 41, SL_PP_SERVER, "client exited"), -1);
        sup_send(f, sl_pp_session_closed(&m, 3, SL_PP_CLIENT, "route revoked"), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(c.calls, 2);
        assert_int_equal(c.id, 3);
        assert_int_equal(c.role, SL_ROLE_CLIENT);
        assert_string_equal(c.reason, "route revoked");
}

static void test_messages_only_a_slice_sends_are_dropped(void **state)
{
        struct fake *f = *state;
        struct sl_pp_msg m;
        sup_send(f, sl_pp_announce(&m, "kv"), -1);
        sup_send(f, sl_pp_heartbeat(&m, 5), -1);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_string_equal(sl_last_error(f->sl),
                            "dropped Announce from the supervisor: a slice sends it, not the supervisor");
        sl_pp_envelope *a = expect(f, SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK, NULL, NULL);
        assert_int_equal(a->heartbeat_ack->seq, 5);
        sl_pp_free(a);
}

/* ---- platform services ------------------------------------------------------- */

static int sealed_memfd(const char *text, bool seal)
{
        int fd = (int)syscall(SYS_memfd_create, "cfg", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
        if (seal)
                assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
                                                            F_SEAL_SEAL),
                                 0);
        return fd;
}

static const unsigned char rom_hash[SL_BLAKE2B_LEN] = {0xab, 0xcd, [31] = 0xef};

/* Answer one request with a memfd of "k=v\n", sealed or not. */
static void grant_memfd(struct fake *f, bool seal, const unsigned char *hash)
{
        if (!take_request(f))
                return;
        int fd = sealed_memfd("k=v\n", seal);
        struct sl_pp_msg m;
        sup_send(f, sl_pp_session_grant(&m, f->req_id, NULL, 4, hash), fd);
        close(fd);
}

static void script_config(struct fake *f)
{
        grant_memfd(f, true, NULL);
}
static void script_config_unsealed(struct fake *f)
{
        grant_memfd(f, false, NULL);
}
static void script_rom(struct fake *f)
{
        grant_memfd(f, true, rom_hash);
}

static void test_config_is_a_sealed_memfd(void **state)
{
        struct fake *f = *state;
        start(f, script_config);
        int fd;
        size_t size;
        assert_int_equal(sl_config(f->sl, &fd, &size), 0);
        finish(f);
        assert_string_equal(f->service, "config");
        assert_int_equal(size, 4);
        char buf[8] = {0};
        assert_int_equal(pread(fd, buf, sizeof buf, 0), 4);
        assert_string_equal(buf, "k=v\n");
        close(fd);

        int before = count_fds();
        start(f, script_config_unsealed);
        assert_int_equal(sl_config(f->sl, &fd, &size), -EBADMSG);
        finish(f);
        assert_int_equal(fd, -1);
        assert_string_equal(sl_last_error(f->sl),
                            "config: memfd not sealed against shrink, grow and write (seals 0x0)");
        assert_int_equal(count_fds(), before);
}

static void test_rom_asks_by_name_and_returns_the_hash(void **state)
{
        struct fake *f = *state;
        start(f, script_rom);
        int fd;
        size_t size;
        unsigned char h[SL_BLAKE2B_LEN];
        assert_int_equal(sl_rom(f->sl, "app.img", &fd, &size, h), 0);
        finish(f);
        assert_string_equal(f->service, "rom");
        assert_string_equal(f->args, "app.img");
        assert_int_equal(size, 4);
        assert_memory_equal(h, rom_hash, SL_BLAKE2B_LEN);
        close(fd);

        start(f, script_config); /* a grant without a hash */
        assert_int_equal(sl_rom(f->sl, "app.img", &fd, &size, h), -EBADMSG);
        finish(f);
        assert_string_equal(sl_last_error(f->sl), "rom 'app.img': the grant carries no hash");
}

struct update {
        int calls;
        size_t size;
        bool hash;
};

static void on_update(void *ctx, int memfd, size_t size, const unsigned char *blake2b)
{
        struct update *u = ctx;
        u->calls++;
        u->size = size;
        u->hash = blake2b != NULL;
        close(memfd);
}

static void test_config_updates_reach_the_callback(void **state)
{
        struct fake *f = *state;
        struct update u = {0};
        int before = count_fds();
        struct sl_pp_msg m;
        int fd = sealed_memfd("a=b\n", true);
        sup_send(f, sl_pp_config_update(&m, 4, rom_hash), fd);
        assert_int_equal(sl_dispatch(f->sl), 0); /* no callback: closed unread */
        sl_on_config_update(f->sl, on_update, &u);
        sup_send(f, sl_pp_config_update(&m, 4, rom_hash), fd);
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(u.calls, 1);
        assert_int_equal(u.size, 4);
        assert_true(u.hash);
        sup_send(f, sl_pp_config_update(&m, 5, NULL), fd); /* size mismatch: refused */
        assert_int_equal(sl_dispatch(f->sl), 0);
        assert_int_equal(u.calls, 1);
        close(fd);
        assert_int_equal(count_fds(), before);
}

static void test_report_and_log_go_to_the_supervisor(void **state)
{
        struct fake *f = *state;
        assert_int_equal(sl_report(f->sl, "{\"keys\":3}"), 0);
        assert_int_equal(sl_log(f->sl, SL_LOG_WARNING, "%d keys, %s", 3, "full"), 0);
        sl_pp_envelope *m = expect(f, SLICED__PARENT__ENVELOPE__BODY_REPORT, NULL, NULL);
        assert_string_equal(m->report->json, "{\"keys\":3}");
        sl_pp_free(m);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_LOG, NULL, NULL);
        assert_int_equal(m->log->level, SL_LOG_WARNING);
        assert_string_equal(m->log->text, "3 keys, full");
        sl_pp_free(m);
        assert_int_equal(sl_report(f->sl, ""), -EINVAL);
        assert_int_equal(sl_log(f->sl, 8, "x"), -EINVAL);
        /* A long line is cut to the limit, not refused. */
        static char longline[SL_LOG_MAX * 2];
        memset(longline, 'x', sizeof longline - 1);
        assert_int_equal(sl_log(f->sl, SL_LOG_INFO, "%s", longline), 0);
        m = expect(f, SLICED__PARENT__ENVELOPE__BODY_LOG, NULL, NULL);
        assert_int_equal(strlen(m->log->text), SL_LOG_MAX);
        sl_pp_free(m);
}

/* ---- label policy ------------------------------------------------------------- */

enum { RO = 1, RW = 2, ADMIN = 3, NONE = 0 };

static void test_label_match_most_specific_wins(void **state)
{
        (void)state;
        static const struct sl_label_rule rules[] = {
                {NULL, ":rw", RW},
                {NULL, ":ro", RO},
                {"/admin/", NULL, ADMIN},
                {"/app/", ":rw", ADMIN}, /* prefix 5 + suffix 3 */
                {"/app/web", NULL, RO},  /* prefix 8: same total, longer prefix wins */
                {"/app/db:", NULL, RW},  /* 8, ties with the one above for /app/db: */
                {"/app/db:", NULL, RO},  /* equal in every way: the earlier rule wins */
        };
        static const struct {
                const char *label;
                int verdict;
        } cases[] = {
                {"/tools/cli:rw", RW},
                {"/tools/cli:ro", RO},
                {"/tools/cli", NONE},      /* no rule: the default */
                {"/admin/shell:ro", ADMIN}, /* 7 beats 3 */
                {"/app/x:rw", ADMIN},      /* 8 beats 3 */
                {"/app/web:rw", RO},       /* 8 vs 8: the longer prefix */
                {"/app/db:x", RW},         /* identical specificity: first in the table */
                {":rw", RW},
                {"/app/:rw", ADMIN},
                {"/app:rw", RW},           /* "/app/" is not a prefix of "/app:rw" */
                {"", NONE},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
                print_message("%s\n", cases[i].label);
                assert_int_equal(sl_label_match(rules, SL_ARRAY_SIZE(rules), cases[i].label, NONE),
                                 cases[i].verdict);
        }
        /* Prefix and suffix may not share bytes: "/a:rw" has no room for
         * both "/a:" and ":rw". */
        static const struct sl_label_rule overlap[] = {{"/a:", ":rw", RW}};
        assert_int_equal(sl_label_match(overlap, 1, "/a:rw", NONE), NONE);
        assert_int_equal(sl_label_match(overlap, 1, "/a::rw", NONE), RW);
        /* A rule with neither matches everything, at the lowest specificity. */
        static const struct sl_label_rule any[] = {{NULL, NULL, RO}, {"", ":rw", RW}};
        assert_int_equal(sl_label_match(any, 2, "/x", NONE), RO);
        assert_int_equal(sl_label_match(any, 2, "/x:rw", NONE), RW);
        assert_int_equal(sl_label_match(any, 2, NULL, NONE), NONE);
        assert_int_equal(sl_label_match(NULL, 0, "/x", ADMIN), ADMIN);
}

/* ---- strict-tight allows what libslice calls ----------------------------------- */

static void test_strict_tight_allows_what_libslice_calls(void **state)
{
        (void)state;
        struct sb_seccomp_prog p;
        assert_int_equal(sb_seccomp_prog_get("strict-tight", &p, NULL), 0);
        static const struct {
                const char *what;
                int nr;
                uint64_t a0, a1, a2;
                uint32_t ret;
        } v[] = {
                {"session pair", SYS_socketpair, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                 SECCOMP_RET_ALLOW},
                {"session pair, non-blocking", SYS_socketpair, AF_UNIX,
                 SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, SECCOMP_RET_ALLOW},
                {"seqpacket pair", SYS_socketpair, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0,
                 SECCOMP_RET_ALLOW},
                {"pair without CLOEXEC", SYS_socketpair, AF_UNIX, SOCK_STREAM, 0,
                 SECCOMP_RET_KILL_PROCESS},
                {"datagram pair", SYS_socketpair, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0,
                 SECCOMP_RET_KILL_PROCESS},
                {"inet pair", SYS_socketpair, AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0,
                 SECCOMP_RET_KILL_PROCESS},
                {"upper bits of the family", SYS_socketpair, 0x100000000ULL | AF_UNIX,
                 SOCK_STREAM | SOCK_CLOEXEC, 0, SECCOMP_RET_ALLOW},
                {"SO_DOMAIN", SYS_getsockopt, 3, SOL_SOCKET, SO_DOMAIN, SECCOMP_RET_ALLOW},
                {"SO_TYPE", SYS_getsockopt, 3, SOL_SOCKET, SO_TYPE, SECCOMP_RET_ALLOW},
                {"SO_PEERCRED", SYS_getsockopt, 3, SOL_SOCKET, SO_PEERCRED,
                 SECCOMP_RET_KILL_PROCESS},
                {"setsockopt", SYS_setsockopt, 3, SOL_SOCKET, SO_SNDBUF, SECCOMP_RET_KILL_PROCESS},
                {"socket", SYS_socket, AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
                 SECCOMP_RET_KILL_PROCESS},
                {"fcntl (non-blocking, seals)", SYS_fcntl, 3, F_GET_SEALS, 0, SECCOMP_RET_ALLOW},
                {"poll", SYS_poll, 0, 1, 100, SECCOMP_RET_ALLOW},
                {"epoll_create1", SYS_epoll_create1, EPOLL_CLOEXEC, 0, 0, SECCOMP_RET_ALLOW},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(v); i++) {
                struct seccomp_data d = bpf_vec(v[i].nr, v[i].a0, v[i].a1, v[i].a2, 0, 0, 0);
                uint32_t r = bpf_eval(p.insns, p.len, &d) & SECCOMP_RET_ACTION_FULL;
                char got[32], want[32];
                print_message("%s: %s\n", v[i].what, bpf_ret_name(r, got, sizeof got));
                assert_string_equal(bpf_ret_name(r, got, sizeof got),
                                    bpf_ret_name(v[i].ret, want, sizeof want));
        }
        sb_seccomp_prog_release(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_init_refuses_what_is_not_a_parent_channel),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
                T(test_blocking_open_gets_the_fd_and_can_talk_over_it),
                T(test_deny_returns_the_reason),
                T(test_heartbeat_is_answered_during_a_blocking_open),
                T(test_bad_requests_are_refused_before_sending),
                T(test_timeout_withdraws_and_a_late_grant_is_given_back),
                T(test_async_open_completes_through_dispatch),
                T(test_async_open_fails_when_the_supervisor_goes),
                T(test_cancelled_async_open_never_calls_back),
                T(test_create_session_calls_the_server_and_the_reply_carries_the_fd),
                T(test_closed_sessions_reach_the_callback_with_their_side),
                T(test_messages_only_a_slice_sends_are_dropped),
                T(test_config_is_a_sealed_memfd),
                T(test_rom_asks_by_name_and_returns_the_hash),
                T(test_config_updates_reach_the_callback),
                T(test_report_and_log_go_to_the_supervisor),
#undef T
                cmocka_unit_test(test_label_match_most_specific_wins),
                cmocka_unit_test(test_strict_tight_allows_what_libslice_calls),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
