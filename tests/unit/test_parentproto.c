/* The parent-protocol codec as a specification: every message type survives
 * a trip through a real SOCK_SEQPACKET pair with its fds; every malformed
 * datagram is refused with its exact message, and no fd that came with it
 * is left open. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/cleanup.h"
#include "lib/parentproto.h"

static const unsigned char hash[SL_PP_BLAKE2B_LEN] = {
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
        0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16,
        0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
};

/* A run of n 'a's, for fields over their limits. */
static char *run(size_t n)
{
        static char buf[SL_PP_DATAGRAM_MAX + 8192];
        assert_true(n < sizeof buf);
        memset(buf, 'a', n);
        buf[n] = '\0';
        return buf;
}

/* Open fds of this process, not counting the directory handle itself. */
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

static void seqpacket_pair(int sv[2])
{
        assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
}

/* A datagram as-is, bypassing every check: what a hostile peer can send. */
static void raw_send(int fd, const void *buf, size_t len, const int *fds, size_t nfds)
{
        struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
        char ctl[CMSG_SPACE(sizeof(int) * 16)];
        memset(ctl, 0, sizeof ctl);
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (nfds) {
                mh.msg_control = ctl;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        assert_int_equal(sendmsg(fd, &mh, MSG_NOSIGNAL), (ssize_t)len);
}

static size_t pack(const sl_pp_envelope *e, uint8_t *buf, size_t cap)
{
        size_t n = protobuf_c_message_get_packed_size(&e->base);
        assert_true(n <= cap);
        return protobuf_c_message_pack(&e->base, buf);
}

/* ---- round trips ------------------------------------------------------------ */

typedef sl_pp_envelope *(*build_fn)(struct sl_pp_msg *m);

static sl_pp_envelope *b_request(struct sl_pp_msg *m)
{
        return sl_pp_session_request(m, 7, "kv", "ns=a", 4, 1 << 20);
}
static sl_pp_envelope *b_close(struct sl_pp_msg *m)
{
        return sl_pp_session_close(m, 7, SL_PP_SERVER);
}
static sl_pp_envelope *b_grant(struct sl_pp_msg *m)
{
        return sl_pp_session_grant(m, 7, "/store/kv", 4096, hash);
}
static sl_pp_envelope *b_deny(struct sl_pp_msg *m)
{
        return sl_pp_session_deny(m, 7, "no route to 'kv'");
}
static sl_pp_envelope *b_closed(struct sl_pp_msg *m)
{
        return sl_pp_session_closed(m, 7, SL_PP_CLIENT, "server died");
}
static sl_pp_envelope *b_announce(struct sl_pp_msg *m)
{
        return sl_pp_announce(m, "kv");
}
static sl_pp_envelope *b_reply_ok(struct sl_pp_msg *m)
{
        return sl_pp_create_session_reply(m, 9, true, NULL);
}
static sl_pp_envelope *b_reply_no(struct sl_pp_msg *m)
{
        return sl_pp_create_session_reply(m, 9, false, "read-only store");
}
static sl_pp_envelope *b_create(struct sl_pp_msg *m)
{
        return sl_pp_create_session(m, 9, "kv", "/app/web:rw", "ns=a", 4, 4096);
}
static sl_pp_envelope *b_heartbeat(struct sl_pp_msg *m)
{
        return sl_pp_heartbeat(m, 42);
}
static sl_pp_envelope *b_ack(struct sl_pp_msg *m)
{
        return sl_pp_heartbeat_ack(m, 42);
}
static sl_pp_envelope *b_config(struct sl_pp_msg *m)
{
        return sl_pp_config_update(m, 123, hash);
}
static sl_pp_envelope *b_report(struct sl_pp_msg *m)
{
        return sl_pp_report(m, "{\"ready\":true}");
}
static sl_pp_envelope *b_log(struct sl_pp_msg *m)
{
        return sl_pp_log(m, 6, "started");
}

static const struct {
        const char *name;
        build_fn build;
        size_t nfds;
} trips[] = {
        {"SessionRequest", b_request, 0},
        {"SessionClose", b_close, 0},
        {"SessionGrant", b_grant, 1},
        {"SessionDeny", b_deny, 0},
        {"SessionClosed", b_closed, 0},
        {"Announce", b_announce, 0},
        {"CreateSessionReply", b_reply_ok, 1},
        {"CreateSessionReply", b_reply_no, 0},
        {"CreateSession", b_create, 0},
        {"Heartbeat", b_heartbeat, 0},
        {"HeartbeatAck", b_ack, 0},
        {"ConfigUpdate", b_config, 1},
        {"Report", b_report, 0},
        {"Log", b_log, 0},
};

static void test_every_type_round_trips_with_its_fds(void **state)
{
        (void)state;
        int before = count_fds();
        for (size_t i = 0; i < SL_ARRAY_SIZE(trips); i++) {
                print_message("%s\n", trips[i].name);
                int sv[2];
                seqpacket_pair(sv);
                struct sl_pp_msg m;
                sl_pp_envelope *e = trips[i].build(&m);
                assert_string_equal(sl_pp_body_name(e->body_case), trips[i].name);
                int p[2] = {-1, -1};
                if (trips[i].nfds)
                        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
                struct sl_error err = {0};
                assert_int_equal(sl_pp_send(sv[0], e, p, trips[i].nfds, &err), 0);

                sl_pp_envelope *got;
                int fds[SL_PP_FDS_MAX];
                size_t nfds;
                assert_int_equal(sl_pp_recv(sv[1], &got, fds, &nfds, &err), 1);
                assert_int_equal(nfds, trips[i].nfds);
                /* protobuf-c packs fields in order: equal bytes, equal messages. */
                uint8_t a[1024], b[1024];
                size_t na = pack(e, a, sizeof a), nb = pack(got, b, sizeof b);
                assert_int_equal(na, nb);
                assert_memory_equal(a, b, na);
                if (nfds) {
                        /* The same pipe, arrived close-on-exec. */
                        struct stat s1, s2;
                        assert_int_equal(fstat(p[0], &s1), 0);
                        assert_int_equal(fstat(fds[0], &s2), 0);
                        assert_int_equal(s1.st_ino, s2.st_ino);
                        assert_int_equal(fcntl(fds[0], F_GETFD), FD_CLOEXEC);
                        close(fds[0]);
                        close(p[0]);
                        close(p[1]);
                }
                sl_pp_free(got);
                close(sv[0]);
                close(sv[1]);
        }
        assert_int_equal(count_fds(), before);
}

static void test_fields_arrive_as_sent(void **state)
{
        (void)state;
        struct sl_pp_msg m;
        uint8_t buf[256];
        size_t n = pack(b_create(&m), buf, sizeof buf);
        sl_pp_envelope *e;
        struct sl_error err;
        assert_int_equal(sl_pp_decode(buf, n, 0, &e, &err), 0);
        assert_int_equal(e->body_case, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION);
        assert_int_equal(e->create_session->id, 9);
        assert_string_equal(e->create_session->service, "kv");
        assert_string_equal(e->create_session->client_label, "/app/web:rw");
        assert_int_equal(e->create_session->args.len, 4);
        assert_memory_equal(e->create_session->args.data, "ns=a", 4);
        assert_int_equal(e->create_session->memory, 4096);
        sl_pp_free(e);
}

static void test_eof_and_empty_channel(void **state)
{
        (void)state;
        int sv[2];
        seqpacket_pair(sv);
        sl_pp_envelope *e;
        int fds[SL_PP_FDS_MAX];
        size_t nfds;
        struct sl_error err;
        assert_int_equal(sl_pp_recv(sv[1], &e, fds, &nfds, &err), -1);
        assert_int_equal(err.code, EAGAIN);
        close(sv[0]);
        assert_int_equal(sl_pp_recv(sv[1], &e, fds, &nfds, &err), 0);
        assert_null(e);
        close(sv[1]);
}

static void test_send_refuses_what_the_receiver_would(void **state)
{
        (void)state;
        int sv[2];
        seqpacket_pair(sv);
        struct sl_pp_msg m;
        struct sl_error err;
        assert_int_equal(sl_pp_send(sv[0], sl_pp_session_request(&m, 1, "Bad Name", NULL, 0, 0),
                                    NULL, 0, &err),
                         -1);
        assert_int_equal(err.code, EPROTO);
        assert_string_equal(err.msg,
                            "send: SessionRequest.service: 'Bad Name' is not a service name");
        assert_int_equal(sl_pp_send(sv[0], sl_pp_session_grant(&m, 1, NULL, 0, NULL), NULL, 0, &err),
                         -1);
        assert_string_equal(err.msg, "send: SessionGrant: needs 1 fd, got 0");
        close(sv[1]);
        assert_int_equal(sl_pp_send(sv[0], sl_pp_heartbeat(&m, 1), NULL, 0, &err), -1);
        assert_int_equal(err.code, EPIPE);
        assert_string_equal(err.msg, "send Heartbeat: Broken pipe");
        close(sv[0]);
}

static void test_send_reports_a_full_channel_as_eagain(void **state)
{
        (void)state;
        int sv[2];
        seqpacket_pair(sv);
        struct sl_pp_msg m;
        struct sl_error err;
        int rc = 0, sent = 0;
        while ((rc = sl_pp_send(sv[0], sl_pp_log(&m, 6, run(4000)), NULL, 0, &err)) == 0)
                sent++;
        assert_int_equal(rc, -1);
        assert_int_equal(err.code, EAGAIN);
        assert_int_equal(errno, EAGAIN);
        assert_true(sent > 0);
        close(sv[0]);
        close(sv[1]);
}

/* ---- malformed input ------------------------------------------------------- */

/* A case writes its datagram into buf and returns its length. */
typedef size_t (*make_fn)(uint8_t *buf, size_t cap);

#define MAKE(name, expr)                                                       \
        static size_t name(uint8_t *buf, size_t cap)                          \
        {                                                                      \
                struct sl_pp_msg m;                                            \
                return pack((expr), buf, cap);                                 \
        }

MAKE(m_bad_name, sl_pp_session_request(&m, 1, "Bad Name", NULL, 0, 0))
MAKE(m_dash_name, sl_pp_session_request(&m, 1, "-kv", NULL, 0, 0))
MAKE(m_empty_name, sl_pp_announce(&m, ""))
MAKE(m_long_name, sl_pp_announce(&m, run(64)))
MAKE(m_slash_name, sl_pp_create_session(&m, 3, "kv/../x", "/a", NULL, 0, 0))
MAKE(m_ctl_name, sl_pp_announce(&m, "kv\n\033[2J"))
MAKE(m_zero_id, sl_pp_session_request(&m, 0, "kv", NULL, 0, 0))
MAKE(m_big_args, sl_pp_session_request(&m, 1, "kv", run(SL_PP_ARGS_MAX + 1), SL_PP_ARGS_MAX + 1, 0))
MAKE(m_big_label, sl_pp_create_session(&m, 3, "kv", run(SL_PP_LABEL_MAX + 1), NULL, 0, 0))
MAKE(m_no_label, sl_pp_create_session(&m, 3, "kv", "", NULL, 0, 0))
MAKE(m_big_server_label, sl_pp_session_grant(&m, 3, run(SL_PP_LABEL_MAX + 1), 0, NULL))
MAKE(m_big_reason, sl_pp_session_deny(&m, 3, run(SL_PP_REASON_MAX + 1)))
MAKE(m_no_reason, sl_pp_session_deny(&m, 3, ""))
MAKE(m_refusal_no_reason, sl_pp_create_session_reply(&m, 3, false, ""))
MAKE(m_big_log, sl_pp_log(&m, 6, run(SL_PP_LOG_MAX + 1)))
MAKE(m_log_level, sl_pp_log(&m, 8, "x"))
MAKE(m_big_report, sl_pp_report(&m, run(SL_PP_REPORT_MAX + 1)))
MAKE(m_empty_report, sl_pp_report(&m, ""))
MAKE(m_heartbeat, sl_pp_heartbeat(&m, 1))
MAKE(m_grant, sl_pp_session_grant(&m, 3, NULL, 0, NULL))
MAKE(m_reply_ok, sl_pp_create_session_reply(&m, 3, true, NULL))
MAKE(m_reply_no, sl_pp_create_session_reply(&m, 3, false, "no"))
MAKE(m_config, sl_pp_config_update(&m, 0, NULL))
MAKE(m_big_datagram, sl_pp_report(&m, run(SL_PP_DATAGRAM_MAX)))

static size_t m_short_hash(uint8_t *buf, size_t cap)
{
        struct sl_pp_msg m;
        sl_pp_envelope *e = sl_pp_session_grant(&m, 3, NULL, 0, hash);
        m.body.session_grant.blake2b.len = 31;
        return pack(e, buf, cap);
}

static size_t m_bad_role(uint8_t *buf, size_t cap)
{
        struct sl_pp_msg m;
        sl_pp_envelope *e = sl_pp_session_close(&m, 3, SL_PP_CLIENT);
        m.body.session_close.role = (Sliced__Parent__Role)5;
        return pack(e, buf, cap);
}

static size_t m_truncated(uint8_t *buf, size_t cap)
{
        return m_big_label(buf, cap) - 1;
}

/* Field 99, varint 1: a body type from some future build. */
static size_t m_unknown_body(uint8_t *buf, size_t cap)
{
        static const uint8_t b[] = {0x98, 0x06, 0x01};
        memcpy(buf, b, sizeof b);
        return sizeof b;
}

/* Field 1 (session_request) as a varint: the wrong wire type. */
static size_t m_wrong_wire_type(uint8_t *buf, size_t cap)
{
        static const uint8_t b[] = {0x08, 0x01};
        memcpy(buf, b, sizeof b);
        return sizeof b;
}

static const struct bad_case {
        const char *what;
        make_fn make;
        size_t nfds;
        const char *decode_msg; /* sl_pp_decode's */
        const char *recv_msg;   /* sl_pp_recv's when it differs (transport) */
} bad[] = {
        {"service with a blank and capitals", m_bad_name, 0,
         "SessionRequest.service: 'Bad Name' is not a service name", NULL},
        {"service starting with '-'", m_dash_name, 0,
         "SessionRequest.service: '-kv' is not a service name", NULL},
        {"empty service", m_empty_name, 0, "Announce.service: '' is not a service name", NULL},
        {"service of 64 bytes", m_long_name, 0,
         "Announce.service: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' is not a service name",
         NULL},
        {"service with a slash", m_slash_name, 0,
         "CreateSession.service: 'kv/../x' is not a service name", NULL},
        {"service with control characters, quoted harmlessly", m_ctl_name, 0,
         "Announce.service: 'kv??[2J' is not a service name", NULL},
        {"id 0", m_zero_id, 0, "SessionRequest.id: 0 is not a session id", NULL},
        {"args over 16 KiB", m_big_args, 0, "SessionRequest.args: 16385 bytes, at most 16384", NULL},
        {"client label over 512", m_big_label, 0,
         "CreateSession.client_label: 513 bytes, at most 512", NULL},
        {"no client label", m_no_label, 0, "CreateSession.client_label: empty", NULL},
        {"server label over 512", m_big_server_label, 1,
         "SessionGrant.server_label: 513 bytes, at most 512", NULL},
        {"reason over 512", m_big_reason, 0, "SessionDeny.reason: 513 bytes, at most 512", NULL},
        {"deny without a reason", m_no_reason, 0, "SessionDeny.reason: empty", NULL},
        {"refusal without a reason", m_refusal_no_reason, 0, "CreateSessionReply.reason: empty",
         NULL},
        {"log text over 4 KiB", m_big_log, 0, "Log.text: 4097 bytes, at most 4096", NULL},
        {"log level 8", m_log_level, 0, "Log.level: 8, at most 7", NULL},
        {"report over 32 KiB", m_big_report, 0, "Report.json: 32769 bytes, at most 32768", NULL},
        {"empty report", m_empty_report, 0, "Report.json: empty", NULL},
        {"hash of 31 bytes", m_short_hash, 1, "SessionGrant.blake2b: 31 bytes, expected 0 or 32",
         NULL},
        {"role 5", m_bad_role, 0, "SessionClose.role: 5 is not a role", NULL},
        {"fd on a heartbeat", m_heartbeat, 1, "Heartbeat: takes no fd, got 1", NULL},
        {"grant without its fd", m_grant, 0, "SessionGrant: needs 1 fd, got 0", NULL},
        {"grant with two fds", m_grant, 2, "SessionGrant: needs 1 fd, got 2", NULL},
        {"accepting reply without the client's end", m_reply_ok, 0,
         "CreateSessionReply (ok): needs 1 fd, got 0", NULL},
        {"refusing reply with an fd", m_reply_no, 1,
         "CreateSessionReply (refused): takes no fd, got 1", NULL},
        {"config update without its memfd", m_config, 0, "ConfigUpdate: needs 1 fd, got 0", NULL},
        {"five fds", m_grant, 5, "envelope: 5 fds, at most 4",
         "recvmsg: control data truncated (more than 4 fds attached)"},
        {"truncated", m_truncated, 0, "envelope: 524 bytes do not decode as a parent-protocol message",
         NULL},
        {"unknown body type", m_unknown_body, 0,
         "envelope: no body (empty, or a type this build does not know)", NULL},
        {"wrong wire type for a body", m_wrong_wire_type, 0,
         "envelope: 2 bytes do not decode as a parent-protocol message", NULL},
        {"datagram over 64 KiB", m_big_datagram, 1, "envelope: 65544 bytes, at most 65536",
         "recvmsg: datagram over 65536 bytes"},
};

static void test_malformed_input_is_refused_with_its_message(void **state)
{
        (void)state;
        static uint8_t buf[SL_PP_DATAGRAM_MAX + 4096];
        for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
                const struct bad_case *c = &bad[i];
                print_message("%s\n", c->what);
                size_t n = c->make(buf, sizeof buf);
                sl_pp_envelope *e = (sl_pp_envelope *)&e;
                struct sl_error err = {0};
                assert_int_equal(sl_pp_decode(buf, n, c->nfds, &e, &err), -1);
                assert_null(e);
                assert_int_equal(err.code, EPROTO);
                assert_string_equal(err.msg, c->decode_msg);
        }
}

static void test_malformed_datagrams_leak_no_fd(void **state)
{
        (void)state;
        static uint8_t buf[SL_PP_DATAGRAM_MAX + 4096];
        int before = count_fds();
        for (size_t i = 0; i < SL_ARRAY_SIZE(bad); i++) {
                const struct bad_case *c = &bad[i];
                print_message("%s\n", c->what);
                size_t n = c->make(buf, sizeof buf);
                int sv[2];
                seqpacket_pair(sv);
                int big_buf = 2 * (int)sizeof buf;
                setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big_buf, sizeof big_buf);
                int fds[8];
                for (size_t k = 0; k < c->nfds; k++)
                        assert_true((fds[k] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
                raw_send(sv[0], buf, n, fds, c->nfds);
                for (size_t k = 0; k < c->nfds; k++)
                        close(fds[k]);

                sl_pp_envelope *e;
                int got[SL_PP_FDS_MAX];
                size_t ngot = 99;
                struct sl_error err = {0};
                assert_int_equal(sl_pp_recv(sv[1], &e, got, &ngot, &err), -1);
                assert_int_equal(err.code, EPROTO);
                assert_int_equal(errno, EPROTO);
                assert_int_equal(ngot, 0);
                assert_null(e);
                assert_string_equal(err.msg, c->recv_msg ? c->recv_msg : c->decode_msg);
                close(sv[0]);
                close(sv[1]);
                assert_int_equal(count_fds(), before);
        }
}

/* Credentials are control data too: only SCM_RIGHTS belongs on the channel
 * (so the supervisor must not turn SO_PASSCRED on for it). */
static void test_control_data_other_than_fds_is_refused(void **state)
{
        (void)state;
        int before = count_fds();
        int sv[2];
        seqpacket_pair(sv);
        int on = 1;
        assert_int_equal(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof on), 0);
        struct sl_pp_msg m;
        struct sl_error err;
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(sl_pp_send(sv[0], sl_pp_session_grant(&m, 1, NULL, 0, NULL), p, 1, &err), 0);
        close(p[0]);
        close(p[1]);
        sl_pp_envelope *e;
        int fds[SL_PP_FDS_MAX];
        size_t nfds;
        assert_int_equal(sl_pp_recv(sv[1], &e, fds, &nfds, &err), -1);
        assert_int_equal(err.code, EPROTO);
        assert_string_equal(err.msg,
                            "recvmsg: control message (level 1, type 2) is not SCM_RIGHTS");
        close(sv[0]);
        close(sv[1]);
        assert_int_equal(count_fds(), before);
}

/* A zero-length datagram reads as end of file (SOCK_SEQPACKET cannot tell
 * them apart); fds sent with it are closed. */
static void test_empty_datagram_reads_as_eof_and_closes_its_fds(void **state)
{
        (void)state;
        int before = count_fds();
        int sv[2];
        seqpacket_pair(sv);
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        raw_send(sv[0], "", 0, &fd, 1);
        close(fd);
        sl_pp_envelope *e;
        int fds[SL_PP_FDS_MAX];
        size_t nfds;
        struct sl_error err;
        assert_int_equal(sl_pp_recv(sv[1], &e, fds, &nfds, &err), 0);
        assert_int_equal(nfds, 0);
        close(sv[0]);
        close(sv[1]);
        assert_int_equal(count_fds(), before);
}

static void test_service_names(void **state)
{
        (void)state;
        static const char *const good[] = {"kv", "rom", "a", "0x", "tee-orange", "a.b_c-d",
                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        static const char *const nope[] = {"", "Kv", "-kv", "_kv", ".kv", "k v", "kv/x", "kv:rw",
                                           "k\xc3\xa9",
                                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(good); i++)
                assert_true(sl_pp_service_name_ok(good[i]));
        for (size_t i = 0; i < SL_ARRAY_SIZE(nope); i++)
                assert_false(sl_pp_service_name_ok(nope[i]));
}

static void test_direction_of_each_type(void **state)
{
        (void)state;
        static const struct {
                Sliced__Parent__Envelope__BodyCase c;
                bool by_slice;
        } dirs[] = {
                {SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST, true},
                {SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE, true},
                {SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT, false},
                {SLICED__PARENT__ENVELOPE__BODY_SESSION_DENY, false},
                {SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSED, false},
                {SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE, true},
                {SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY, true},
                {SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION, false},
                {SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT, false},
                {SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK, true},
                {SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE, false},
                {SLICED__PARENT__ENVELOPE__BODY_REPORT, true},
                {SLICED__PARENT__ENVELOPE__BODY_LOG, true},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(dirs); i++)
                assert_int_equal(sl_pp_sent_by_slice(dirs[i].c), dirs[i].by_slice);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_type_round_trips_with_its_fds),
                cmocka_unit_test(test_fields_arrive_as_sent),
                cmocka_unit_test(test_eof_and_empty_channel),
                cmocka_unit_test(test_send_refuses_what_the_receiver_would),
                cmocka_unit_test(test_send_reports_a_full_channel_as_eagain),
                cmocka_unit_test(test_malformed_input_is_refused_with_its_message),
                cmocka_unit_test(test_malformed_datagrams_leak_no_fd),
                cmocka_unit_test(test_control_data_other_than_fds_is_refused),
                cmocka_unit_test(test_empty_datagram_reads_as_eof_and_closes_its_fds),
                cmocka_unit_test(test_service_names),
                cmocka_unit_test(test_direction_of_each_type),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
