/* The parent protocol codec: the one place where parent-channel datagrams
 * are packed, unpacked and checked. Used by both ends — the supervisor
 * (sliced) and libslice — so both enforce the same limits.
 *
 * The channel is an AF_UNIX SOCK_SEQPACKET socket: one datagram is one
 * Envelope (proto/parent.proto), file descriptors ride beside it as
 * SCM_RIGHTS. A received message is accepted only whole: every field within
 * its limit, service names well formed, and exactly the fds its type takes
 * (docs/protocol.md has the table). Anything else is EPROTO, with a message
 * naming the field ("SessionRequest.service: 'Bad Name' is not a service
 * name"), and every fd that came with it closed.
 *
 * Direction is not the codec's business: the same checks apply whichever
 * end receives. Each end refuses the types the other end does not send
 * (sl_pp_sent_by_slice() tells which are which).
 */
#ifndef SL_PARENTPROTO_H
#define SL_PARENTPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "proto/parent.pb-c.h"

/* ---- limits (docs/protocol.md) ----------------------------------------- */

/* One datagram. Far above any message but a Report; small enough that a
 * receive buffer is one allocation and a slice cannot make the supervisor
 * hold much per message. */
#define SL_PP_DATAGRAM_MAX (64 * 1024)
/* fds attached to one datagram. No message type takes more than one today;
 * the receive buffer has room for this many so a surplus is detected (as
 * MSG_CTRUNC) rather than silently dropped. */
#define SL_PP_FDS_MAX 4
/* A service name: 1-63 of [a-z0-9_.-], starting with a letter or digit —
 * what the topology accepts for `provides` and `routes` keys
 * (sv_check_service_name), so every routable name can be asked for. */
#define SL_PP_SERVICE_MAX 63
/* A label: the client's path in the tree plus route labels (SV_LABEL_MAX). */
#define SL_PP_LABEL_MAX  512
#define SL_PP_REASON_MAX 512
#define SL_PP_LOG_MAX    (4 * 1024)
#define SL_PP_ARGS_MAX   (16 * 1024)
#define SL_PP_REPORT_MAX (32 * 1024)
/* BLAKE2b-256, the store's and rom's hash. */
#define SL_PP_BLAKE2B_LEN 32
/* syslog priorities: 0 emerg .. 7 debug. */
#define SL_PP_LOG_LEVEL_MAX 7

typedef Sliced__Parent__Envelope sl_pp_envelope;

/* ---- transport ------------------------------------------------------------ */

/* Check m (as a receiver would, with nfds attached), pack it and send it in
 * one sendmsg with the fds as SCM_RIGHTS, MSG_NOSIGNAL|MSG_DONTWAIT: the
 * supervisor never blocks on a slice. The fds stay the caller's (the kernel
 * duplicates them into the message). Returns 0, or -1 with err (and errno)
 * set: EAGAIN when the peer's queue is full (the caller decides: drop, retry
 * on POLLOUT, or give up on the peer), EPIPE when the peer is gone, EPROTO
 * when m itself breaks a rule (a bug in the caller). */
int sl_pp_send(int fd, const sl_pp_envelope *m, const int *fds, size_t nfds, struct sl_error *err);

/* Receive one datagram (recvmsg, MSG_CMSG_CLOEXEC|MSG_DONTWAIT). fds must
 * have room for SL_PP_FDS_MAX. Returns
 *    1  a message in *m (free with sl_pp_free) and its fds in fds[0 .. *nfds),
 *       which the caller now owns (close-on-exec set);
 *    0  end of file: the peer closed the channel (a zero-length datagram
 *       reads the same; no valid Envelope packs to zero bytes);
 *   -1  err (and errno) set: EAGAIN when nothing is waiting; EPROTO for
 *       anything malformed (truncated datagram or control data, a control
 *       message other than SCM_RIGHTS, anything sl_pp_decode refuses);
 *       another errno from recvmsg itself.
 * On 0 and -1 every fd that arrived has been closed and *nfds is 0. */
int sl_pp_recv(int fd, sl_pp_envelope **m, int *fds, size_t *nfds, struct sl_error *err);

/* Unpack and check one datagram that came with nfds fds. Pure: no I/O, no
 * fd is touched. Returns 0 with *m (free with sl_pp_free), or -1 with err
 * (code EPROTO) and *m NULL. This is what recv runs and what the fuzzer
 * drives. */
int sl_pp_decode(const uint8_t *buf, size_t len, size_t nfds, sl_pp_envelope **m,
                 struct sl_error *err);

/* Check a message against the limits and fd rules without packing it.
 * Returns 0, or -1 with err (EPROTO). */
int sl_pp_check(const sl_pp_envelope *m, size_t nfds, struct sl_error *err);

/* Free a message from sl_pp_recv/sl_pp_decode. Accepts NULL. */
void sl_pp_free(sl_pp_envelope *m);

/* ---- about messages ----------------------------------------------------- */

/* "SessionRequest", ... for a body case; "(no body)" for none, "(unknown)". */
const char *sl_pp_body_name(Sliced__Parent__Envelope__BodyCase c);

/* True for the types a slice sends to the supervisor (SessionRequest,
 * SessionClose, Announce, CreateSessionReply, HeartbeatAck, Report, Log);
 * false for the ones the supervisor sends to a slice. Each end refuses what
 * it would itself send. */
bool sl_pp_sent_by_slice(Sliced__Parent__Envelope__BodyCase c);

/* How many fds a message of this type, with this content, carries: 1 for
 * SessionGrant, ConfigUpdate and an ok CreateSessionReply; else 0. */
size_t sl_pp_fds_required(const sl_pp_envelope *m);

/* 1-63 of [a-z0-9_.-], starting with [a-z0-9]. */
bool sl_pp_service_name_ok(const char *s);

/* ---- building messages ---------------------------------------------------
 * A struct sl_pp_msg holds an envelope and room for any body, so building a
 * message takes one local and one call:
 *
 *     struct sl_pp_msg m;
 *     sl_pp_send(fd, sl_pp_heartbeat(&m, seq), NULL, 0, &err);
 *
 * Each builder initialises all of *m and returns its envelope. Strings and
 * byte buffers are referenced, not copied: they must outlive the send. NULL
 * strings are sent as empty. */
struct sl_pp_msg {
        sl_pp_envelope env;
        union {
                Sliced__Parent__SessionRequest session_request;
                Sliced__Parent__SessionClose session_close;
                Sliced__Parent__SessionGrant session_grant;
                Sliced__Parent__SessionDeny session_deny;
                Sliced__Parent__SessionClosed session_closed;
                Sliced__Parent__Announce announce;
                Sliced__Parent__CreateSessionReply create_session_reply;
                Sliced__Parent__CreateSession create_session;
                Sliced__Parent__Heartbeat heartbeat;
                Sliced__Parent__HeartbeatAck heartbeat_ack;
                Sliced__Parent__ConfigUpdate config_update;
                Sliced__Parent__Report report;
                Sliced__Parent__Log log;
        } body;
};

enum sl_pp_role {
        SL_PP_CLIENT = SLICED__PARENT__ROLE__ROLE_CLIENT,
        SL_PP_SERVER = SLICED__PARENT__ROLE__ROLE_SERVER,
};

sl_pp_envelope *sl_pp_session_request(struct sl_pp_msg *m, uint64_t id, const char *service,
                                      const void *args, size_t len, uint64_t memory);
sl_pp_envelope *sl_pp_session_close(struct sl_pp_msg *m, uint64_t id, enum sl_pp_role role);
/* blake2b: NULL or SL_PP_BLAKE2B_LEN bytes. */
sl_pp_envelope *sl_pp_session_grant(struct sl_pp_msg *m, uint64_t id, const char *server_label,
                                    uint64_t size, const unsigned char *blake2b);
sl_pp_envelope *sl_pp_session_deny(struct sl_pp_msg *m, uint64_t id, const char *reason);
sl_pp_envelope *sl_pp_session_closed(struct sl_pp_msg *m, uint64_t id, enum sl_pp_role role,
                                     const char *reason);
sl_pp_envelope *sl_pp_announce(struct sl_pp_msg *m, const char *service);
/* ok: send with the client's end attached; !ok: with a reason, no fd. */
sl_pp_envelope *sl_pp_create_session_reply(struct sl_pp_msg *m, uint64_t id, bool ok,
                                           const char *reason);
sl_pp_envelope *sl_pp_create_session(struct sl_pp_msg *m, uint64_t id, const char *service,
                                     const char *client_label, const void *args, size_t len,
                                     uint64_t memory);
sl_pp_envelope *sl_pp_heartbeat(struct sl_pp_msg *m, uint64_t seq);
sl_pp_envelope *sl_pp_heartbeat_ack(struct sl_pp_msg *m, uint64_t seq);
sl_pp_envelope *sl_pp_config_update(struct sl_pp_msg *m, uint64_t size,
                                    const unsigned char *blake2b);
sl_pp_envelope *sl_pp_report(struct sl_pp_msg *m, const char *json);
sl_pp_envelope *sl_pp_log(struct sl_pp_msg *m, unsigned level, const char *text);

#endif
