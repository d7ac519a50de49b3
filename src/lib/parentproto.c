/* The parent protocol codec: pack, send, receive, unpack, check.
 *
 * The checks are one table of rules per message type (check_body), applied
 * to what is sent and to what is received, so a limit is written once. A
 * received datagram is taken apart in a fixed order — fds first, because
 * whatever else is wrong they must be closed — then truncation, control
 * messages, the bytes, the fields, and the fd count for the type.
 */
#include "lib/parentproto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* Room for SL_PP_FDS_MAX descriptors in one SCM_RIGHTS message. One more
 * would not fit, so the kernel reports MSG_CTRUNC instead of dropping it. */
#define CTL_SPACE CMSG_SPACE(sizeof(int) * SL_PP_FDS_MAX)
/* How much of a refused name a message quotes. */
#define QUOTE_MAX 80

typedef Sliced__Parent__Envelope__BodyCase body_case;

/* EPROTO with a message and no strerror suffix: the message says it all. */
__attribute__((format(printf, 2, 3))) static int proto_err(struct sl_error *err, const char *fmt,
                                                           ...)
{
        char msg[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        sl_error_set(err, 0, "%s", msg);
        if (err)
                err->code = EPROTO;
        errno = EPROTO;
        return -1;
}

/* ---- about messages ----------------------------------------------------- */

static const char *const body_names[] = {
    [SLICED__PARENT__ENVELOPE__BODY__NOT_SET] = "(no body)",
    [SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST] = "SessionRequest",
    [SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE] = "SessionClose",
    [SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT] = "SessionGrant",
    [SLICED__PARENT__ENVELOPE__BODY_SESSION_DENY] = "SessionDeny",
    [SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSED] = "SessionClosed",
    [SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE] = "Announce",
    [SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY] = "CreateSessionReply",
    [SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION] = "CreateSession",
    [SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT] = "Heartbeat",
    [SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK] = "HeartbeatAck",
    [SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE] = "ConfigUpdate",
    [SLICED__PARENT__ENVELOPE__BODY_REPORT] = "Report",
    [SLICED__PARENT__ENVELOPE__BODY_LOG] = "Log",
};

const char *sl_pp_body_name(body_case c)
{
        if ((unsigned)c >= SL_ARRAY_SIZE(body_names) || !body_names[c])
                return "(unknown)";
        return body_names[c];
}

bool sl_pp_sent_by_slice(body_case c)
{
        switch (c) {
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST:
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE:
        case SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE:
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY:
        case SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK:
        case SLICED__PARENT__ENVELOPE__BODY_REPORT:
        case SLICED__PARENT__ENVELOPE__BODY_LOG: return true;
        default: return false;
        }
}

size_t sl_pp_fds_required(const sl_pp_envelope *m)
{
        switch (m->body_case) {
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT:
        case SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE: return 1;
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY:
                return m->create_session_reply && m->create_session_reply->ok ? 1 : 0;
        default: return 0;
        }
}

bool sl_pp_service_name_ok(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > SL_PP_SERVICE_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
                if (!alnum && (i == 0 || !strchr("-_.", c)))
                        return false;
        }
        return true;
}

/* ---- field checks ---------------------------------------------------------
 * Each names "Type.field" in its message. Strings are NUL-terminated by
 * protobuf-c; a string with an embedded NUL is read up to the NUL, which can
 * only make it shorter. */

/* s quoted for a message: at most QUOTE_MAX bytes, non-printable bytes as
 * '?', so a hostile name cannot put control characters into a log line. */
static const char *quote(const char *s, char *buf, size_t len)
{
        size_t n = 0;
        for (; s[n] && n < QUOTE_MAX && n + 4 < len; n++)
                buf[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : '?';
        if (s[n])
                n += (size_t)snprintf(buf + n, len - n, "...");
        buf[n] = '\0';
        return buf;
}

static int check_id(const char *type, uint64_t id, struct sl_error *err)
{
        if (id == 0)
                return proto_err(err, "%s.id: 0 is not a session id", type);
        return 0;
}

static int check_str(const char *type, const char *field, const char *s, size_t max, bool required,
                     struct sl_error *err)
{
        size_t n = strlen(s ? s : "");
        if (n > max)
                return proto_err(err, "%s.%s: %zu bytes, at most %zu", type, field, n, max);
        if (required && n == 0)
                return proto_err(err, "%s.%s: empty", type, field);
        return 0;
}

static int check_service(const char *type, const char *field, const char *s, struct sl_error *err)
{
        char q[QUOTE_MAX + 4];
        if (!s || !sl_pp_service_name_ok(s))
                return proto_err(err, "%s.%s: '%s' is not a service name", type, field,
                                 quote(s ? s : "", q, sizeof q));
        return 0;
}

static int check_bytes(const char *type, const char *field, const ProtobufCBinaryData *b,
                       size_t max, struct sl_error *err)
{
        if (b->len > max)
                return proto_err(err, "%s.%s: %zu bytes, at most %zu", type, field, b->len, max);
        return 0;
}

static int check_hash(const char *type, const ProtobufCBinaryData *b, struct sl_error *err)
{
        if (b->len != 0 && b->len != SL_PP_BLAKE2B_LEN)
                return proto_err(err, "%s.blake2b: %zu bytes, expected 0 or %d", type, b->len,
                                 SL_PP_BLAKE2B_LEN);
        return 0;
}

static int check_role(const char *type, Sliced__Parent__Role r, struct sl_error *err)
{
        if (r != SLICED__PARENT__ROLE__ROLE_CLIENT && r != SLICED__PARENT__ROLE__ROLE_SERVER)
                return proto_err(err, "%s.role: %d is not a role", type, (int)r);
        return 0;
}

/* The rules for each type. Returns 0 or -1 with err. */
static int check_body(const sl_pp_envelope *m, const char *t, struct sl_error *err)
{
        switch (m->body_case) {
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST: {
                const Sliced__Parent__SessionRequest *b = m->session_request;
                if (check_id(t, b->id, err) < 0 || check_service(t, "service", b->service, err) < 0)
                        return -1;
                return check_bytes(t, "args", &b->args, SL_PP_ARGS_MAX, err);
        }
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE:
                if (check_id(t, m->session_close->id, err) < 0)
                        return -1;
                return check_role(t, m->session_close->role, err);
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT: {
                const Sliced__Parent__SessionGrant *b = m->session_grant;
                if (check_id(t, b->id, err) < 0 ||
                    check_str(t, "server_label", b->server_label, SL_PP_LABEL_MAX, false, err) < 0)
                        return -1;
                return check_hash(t, &b->blake2b, err);
        }
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_DENY:
                if (check_id(t, m->session_deny->id, err) < 0)
                        return -1;
                return check_str(t, "reason", m->session_deny->reason, SL_PP_REASON_MAX, true, err);
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSED: {
                const Sliced__Parent__SessionClosed *b = m->session_closed;
                if (check_id(t, b->id, err) < 0 ||
                    check_str(t, "reason", b->reason, SL_PP_REASON_MAX, true, err) < 0)
                        return -1;
                return check_role(t, b->role, err);
        }
        case SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE:
                return check_service(t, "service", m->announce->service, err);
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY: {
                const Sliced__Parent__CreateSessionReply *b = m->create_session_reply;
                if (check_id(t, b->id, err) < 0)
                        return -1;
                /* A refusal must say why: the client gets the reason. */
                return check_str(t, "reason", b->reason, SL_PP_REASON_MAX, !b->ok, err);
        }
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION: {
                const Sliced__Parent__CreateSession *b = m->create_session;
                if (check_id(t, b->id, err) < 0 ||
                    check_service(t, "service", b->service, err) < 0 ||
                    check_str(t, "client_label", b->client_label, SL_PP_LABEL_MAX, true, err) < 0)
                        return -1;
                return check_bytes(t, "args", &b->args, SL_PP_ARGS_MAX, err);
        }
        case SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT:
        case SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK: return 0;
        case SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE:
                return check_hash(t, &m->config_update->blake2b, err);
        case SLICED__PARENT__ENVELOPE__BODY_REPORT:
                return check_str(t, "json", m->report->json, SL_PP_REPORT_MAX, true, err);
        case SLICED__PARENT__ENVELOPE__BODY_LOG:
                if (m->log->level > SL_PP_LOG_LEVEL_MAX)
                        return proto_err(err, "Log.level: %u, at most %d", m->log->level,
                                         SL_PP_LOG_LEVEL_MAX);
                return check_str(t, "text", m->log->text, SL_PP_LOG_MAX, false, err);
        default:
                return proto_err(err,
                                 "envelope: no body (empty, or a type this build does not know)");
        }
}

int sl_pp_check(const sl_pp_envelope *m, size_t nfds, struct sl_error *err)
{
        if (nfds > SL_PP_FDS_MAX)
                return proto_err(err, "envelope: %zu fds, at most %d", nfds, SL_PP_FDS_MAX);
        const char *t = sl_pp_body_name(m->body_case);
        /* Every body member of the oneof is a pointer in one union: any will do. */
        if (m->body_case != SLICED__PARENT__ENVELOPE__BODY__NOT_SET && !m->session_request)
                return proto_err(err, "%s: body missing", t);
        if (check_body(m, t, err) < 0)
                return -1;
        size_t want = sl_pp_fds_required(m);
        if (nfds == want)
                return 0;
        const char *variant = "";
        if (m->body_case == SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY)
                variant = m->create_session_reply->ok ? " (ok)" : " (refused)";
        if (want == 0)
                return proto_err(err, "%s%s: takes no fd, got %zu", t, variant, nfds);
        return proto_err(err, "%s%s: needs %zu fd, got %zu", t, variant, want, nfds);
}

int sl_pp_decode(const uint8_t *buf, size_t len, size_t nfds, sl_pp_envelope **m,
                 struct sl_error *err)
{
        *m = NULL;
        if (len > SL_PP_DATAGRAM_MAX)
                return proto_err(err, "envelope: %zu bytes, at most %d", len, SL_PP_DATAGRAM_MAX);
        if (nfds > SL_PP_FDS_MAX)
                return proto_err(err, "envelope: %zu fds, at most %d", nfds, SL_PP_FDS_MAX);
        static const uint8_t empty[1];
        sl_pp_envelope *e = sliced__parent__envelope__unpack(NULL, len, len ? buf : empty);
        if (!e)
                return proto_err(
                    err, "envelope: %zu bytes do not decode as a parent-protocol message", len);
        if (sl_pp_check(e, nfds, err) < 0) {
                sl_pp_free(e);
                return -1;
        }
        *m = e;
        return 0;
}

void sl_pp_free(sl_pp_envelope *m)
{
        if (m)
                sliced__parent__envelope__free_unpacked(m, NULL);
}

/* ---- transport ------------------------------------------------------------ */

int sl_pp_send(int fd, const sl_pp_envelope *m, const int *fds, size_t nfds, struct sl_error *err)
{
        const char *t = sl_pp_body_name(m->body_case);
        /* Check what we send as the receiver will: a message it would refuse
         * is our bug, and better named here than as EPROTO over there. */
        if (sl_pp_check(m, nfds, err) < 0)
                return sl_error_prefix(err, "send");
        for (size_t i = 0; i < nfds; i++)
                if (fds[i] < 0) {
                        errno = EBADF;
                        return sl_error_set(err, EBADF, "send %s: fd %d", t, fds[i]);
                }
        size_t len = protobuf_c_message_get_packed_size(&m->base);
        if (len > SL_PP_DATAGRAM_MAX)
                return proto_err(err, "send %s: %zu bytes, at most %d", t, len, SL_PP_DATAGRAM_MAX);
        _cleanup_free_ uint8_t *buf = malloc(len ? len : 1);
        if (!buf)
                return sl_error_errno(err, "send %s", t);
        protobuf_c_message_pack(&m->base, buf);

        struct iovec iov = {.iov_base = buf, .iov_len = len};
        union {
                struct cmsghdr align;
                char buf[CTL_SPACE];
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (nfds > 0) {
                mh.msg_control = ctl.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
        }
        ssize_t n;
        do
                n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int e = errno;
                sl_error_set(err, e, "send %s", t);
                errno = e;
                return -1;
        }
        if ((size_t)n != len) { /* SOCK_SEQPACKET sends whole records; never here */
                errno = EMSGSIZE;
                return sl_error_set(err, EMSGSIZE, "send %s: %zd of %zu bytes sent", t, n, len);
        }
        return 0;
}

static void close_all(int *fds, size_t n)
{
        int saved = errno;
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
        errno = saved;
}

/* Take every fd out of the control data into got (closing any beyond
 * SL_PP_FDS_MAX, which the buffer size should make impossible). Returns -1
 * after closing them all if a control message was not SCM_RIGHTS. */
static int take_fds(struct msghdr *mh, int *got, size_t *ngot, struct sl_error *err)
{
        int other_level = 0, other_type = 0;
        bool surplus = false;
        *ngot = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) {
                        other_level = c->cmsg_level;
                        other_type = c->cmsg_type;
                        continue;
                }
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < k; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
                        if (*ngot < SL_PP_FDS_MAX) {
                                got[(*ngot)++] = fd;
                        } else {
                                close(fd);
                                surplus = true;
                        }
                }
        }
        if (other_type || other_level) {
                close_all(got, *ngot);
                *ngot = 0;
                return proto_err(err,
                                 "recvmsg: control message (level %d, type %d) is not SCM_RIGHTS",
                                 other_level, other_type);
        }
        if (surplus) {
                close_all(got, *ngot);
                *ngot = 0;
                return proto_err(err, "recvmsg: more than %d fds attached", SL_PP_FDS_MAX);
        }
        return 0;
}

int sl_pp_recv(int fd, sl_pp_envelope **m, int *fds, size_t *nfds, struct sl_error *err)
{
        *m = NULL;
        *nfds = 0;
        _cleanup_free_ uint8_t *buf = malloc(SL_PP_DATAGRAM_MAX);
        if (!buf)
                return sl_error_errno(err, "recvmsg on the parent channel");
        struct iovec iov = {.iov_base = buf, .iov_len = SL_PP_DATAGRAM_MAX};
        union {
                struct cmsghdr align;
                char buf[CTL_SPACE];
        } ctl;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof ctl.buf};
        ssize_t n;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n < 0) {
                int e = errno;
                sl_error_set(err, e, "recvmsg on the parent channel");
                errno = e;
                return -1;
        }
        int got[SL_PP_FDS_MAX];
        size_t ngot;
        if (take_fds(&mh, got, &ngot, err) < 0)
                return -1;
        /* Truncation: the kernel has installed the fds that fit (taken above,
         * and closed here) and dropped the rest. */
        if (mh.msg_flags & MSG_CTRUNC) {
                close_all(got, ngot);
                return proto_err(err, "recvmsg: control data truncated (more than %d fds attached)",
                                 SL_PP_FDS_MAX);
        }
        if (mh.msg_flags & MSG_TRUNC) {
                close_all(got, ngot);
                return proto_err(err, "recvmsg: datagram over %d bytes", SL_PP_DATAGRAM_MAX);
        }
        if (n == 0) {
                close_all(got, ngot);
                return 0;
        }
        if (sl_pp_decode(buf, (size_t)n, ngot, m, err) < 0) {
                close_all(got, ngot);
                errno = EPROTO;
                return -1;
        }
        memcpy(fds, got, ngot * sizeof(int));
        *nfds = ngot;
        return 1;
}

/* ---- building messages ---------------------------------------------------- */

/* protobuf-c's structs take char * and uint8_t *; packing only reads them. */
static char *str(const char *s)
{
        return (char *)(uintptr_t)(s ? s : "");
}

static ProtobufCBinaryData bytes(const void *p, size_t len)
{
        return (ProtobufCBinaryData){.len = p ? len : 0, .data = (uint8_t *)(uintptr_t)p};
}

static sl_pp_envelope *envelope(struct sl_pp_msg *m, body_case c)
{
        sliced__parent__envelope__init(&m->env);
        m->env.body_case = c;
        /* Every member of the body oneof is a pointer in one union. */
        m->env.session_request = &m->body.session_request;
        return &m->env;
}

sl_pp_envelope *sl_pp_session_request(struct sl_pp_msg *m, uint64_t id, const char *service,
                                      const void *args, size_t len, uint64_t memory)
{
        Sliced__Parent__SessionRequest *b = &m->body.session_request;
        sliced__parent__session_request__init(b);
        b->id = id;
        b->service = str(service);
        b->args = bytes(args, len);
        b->memory = memory;
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST);
}

sl_pp_envelope *sl_pp_session_close(struct sl_pp_msg *m, uint64_t id, enum sl_pp_role role)
{
        Sliced__Parent__SessionClose *b = &m->body.session_close;
        sliced__parent__session_close__init(b);
        b->id = id;
        b->role = (Sliced__Parent__Role)role;
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE);
}

sl_pp_envelope *sl_pp_session_grant(struct sl_pp_msg *m, uint64_t id, const char *server_label,
                                    uint64_t size, const unsigned char *blake2b)
{
        Sliced__Parent__SessionGrant *b = &m->body.session_grant;
        sliced__parent__session_grant__init(b);
        b->id = id;
        b->server_label = str(server_label);
        b->size = size;
        b->blake2b = bytes(blake2b, SL_PP_BLAKE2B_LEN);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_SESSION_GRANT);
}

sl_pp_envelope *sl_pp_session_deny(struct sl_pp_msg *m, uint64_t id, const char *reason)
{
        Sliced__Parent__SessionDeny *b = &m->body.session_deny;
        sliced__parent__session_deny__init(b);
        b->id = id;
        b->reason = str(reason);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_SESSION_DENY);
}

sl_pp_envelope *sl_pp_session_closed(struct sl_pp_msg *m, uint64_t id, enum sl_pp_role role,
                                     const char *reason)
{
        Sliced__Parent__SessionClosed *b = &m->body.session_closed;
        sliced__parent__session_closed__init(b);
        b->id = id;
        b->role = (Sliced__Parent__Role)role;
        b->reason = str(reason);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSED);
}

sl_pp_envelope *sl_pp_announce(struct sl_pp_msg *m, const char *service)
{
        sliced__parent__announce__init(&m->body.announce);
        m->body.announce.service = str(service);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE);
}

sl_pp_envelope *sl_pp_create_session_reply(struct sl_pp_msg *m, uint64_t id, bool ok,
                                           const char *reason)
{
        Sliced__Parent__CreateSessionReply *b = &m->body.create_session_reply;
        sliced__parent__create_session_reply__init(b);
        b->id = id;
        b->ok = ok;
        b->reason = str(reason);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY);
}

sl_pp_envelope *sl_pp_create_session(struct sl_pp_msg *m, uint64_t id, const char *service,
                                     const char *client_label, const void *args, size_t len,
                                     uint64_t memory)
{
        Sliced__Parent__CreateSession *b = &m->body.create_session;
        sliced__parent__create_session__init(b);
        b->id = id;
        b->service = str(service);
        b->client_label = str(client_label);
        b->args = bytes(args, len);
        b->memory = memory;
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION);
}

sl_pp_envelope *sl_pp_heartbeat(struct sl_pp_msg *m, uint64_t seq)
{
        sliced__parent__heartbeat__init(&m->body.heartbeat);
        m->body.heartbeat.seq = seq;
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT);
}

sl_pp_envelope *sl_pp_heartbeat_ack(struct sl_pp_msg *m, uint64_t seq)
{
        sliced__parent__heartbeat_ack__init(&m->body.heartbeat_ack);
        m->body.heartbeat_ack.seq = seq;
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK);
}

sl_pp_envelope *sl_pp_config_update(struct sl_pp_msg *m, uint64_t size,
                                    const unsigned char *blake2b)
{
        Sliced__Parent__ConfigUpdate *b = &m->body.config_update;
        sliced__parent__config_update__init(b);
        b->size = size;
        b->blake2b = bytes(blake2b, SL_PP_BLAKE2B_LEN);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_CONFIG_UPDATE);
}

sl_pp_envelope *sl_pp_report(struct sl_pp_msg *m, const char *json)
{
        sliced__parent__report__init(&m->body.report);
        m->body.report.json = str(json);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_REPORT);
}

sl_pp_envelope *sl_pp_log(struct sl_pp_msg *m, unsigned level, const char *text)
{
        sliced__parent__log__init(&m->body.log);
        m->body.log.level = level;
        m->body.log.text = str(text);
        return envelope(m, SLICED__PARENT__ENVELOPE__BODY_LOG);
}
