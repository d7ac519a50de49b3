/* libslice — the library a native slice links.
 *
 * A slice is a process sliced runs confined: it holds no ambient authority
 * and reaches only what it was handed as file descriptors. One of them is
 * its parent channel to the supervisor, over which it asks for sessions to
 * services (as a client), offers services (as a server), answers heartbeats,
 * and sends logs and reports. docs/protocol.md describes the protocol;
 * this header is the API reference.
 *
 * A typical slice:
 *
 *     struct sl_slice *sl;
 *     char msg[SL_MSG_MAX];
 *     if (sl_init(&sl, msg, sizeof msg) < 0)
 *             errx(1, "%s", msg);
 *     sl_announce(sl, "kv", serve, &state);          // a server
 *     for (;;) {
 *             poll on sl_fd(sl) (and the session fds) for POLLIN;
 *             if (sl_dispatch(sl) < 0)                // supervisor gone
 *                     exit(0);
 *     }
 *
 * Threads: a struct sl_slice belongs to one thread at a time. Callbacks run
 * inside sl_dispatch() and inside blocking calls (sl_session_open, sl_config,
 * sl_rom), on the calling thread; they may call libslice again, including
 * blocking opens.
 *
 * Errors: functions return 0 (or a count) on success and -errno on failure;
 * sl_last_error() has the sentence that goes with the last failure.
 *
 * Seccomp stage two. A slice run under the `strict` profile starts with a
 * stage-one filter the supervisor installed just before execve: it allows
 * what the dynamic loader and libc start-up need (read-only opens, mmap with
 * PROT_EXEC, ...). Before main() runs, libslice's constructor tightens it:
 * when the environment variable SLICE_SECCOMP is "strict" it installs the
 * builtin `strict-tight` program, after which the process can no longer open
 * files, create sockets (but unix socketpairs for sessions), execute programs
 * or map new executable memory; it talks over the descriptors it was given.
 * The constructor removes SLICE_SECCOMP from the environment, and if
 * tightening fails it prints one line to stderr and exits with status 125: a
 * slice never runs main() under a weaker filter than it was started for.
 * docs/seccomp.md lists what `strict-tight` allows. Everything in this
 * header works under `strict-tight`.
 *
 * Static linking: a constructor in a static library only runs if its object
 * file is linked, which happens when something refers to it. Including this
 * header makes every translation unit refer to it (sl__seccomp_stage2_anchor
 * below), so a slice that includes <slice/slice.h> gets stage two whether it
 * links libslice.a or libslice.so.
 */
#ifndef SLICE_SLICE_H
#define SLICE_SLICE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- limits (the protocol's; docs/protocol.md) ------------------------- */

#define SL_SERVICE_MAX 63          /* service name: 1-63 of [a-z0-9_.-], first [a-z0-9] */
#define SL_LABEL_MAX   512         /* client and server labels, bytes */
#define SL_REASON_MAX  512         /* refusal and close reasons, bytes */
#define SL_ARGS_MAX    (16 * 1024) /* session arguments */
#define SL_REPORT_MAX  (32 * 1024) /* one report */
#define SL_LOG_MAX     (4 * 1024)  /* one log line; longer text is cut */
#define SL_BLAKE2B_LEN 32          /* rom/config hashes: BLAKE2b-256 */
/* Room for any message of libslice's, a reason or a label, with the NUL:
 * the size to give reason and message buffers. */
#define SL_MSG_MAX 600

/* Log levels: syslog's priorities. */
#define SL_LOG_ERR     3
#define SL_LOG_WARNING 4
#define SL_LOG_NOTICE  5
#define SL_LOG_INFO    6
#define SL_LOG_DEBUG   7

/* How long sl_config and sl_rom wait for the supervisor, in milliseconds. */
#define SL_PLATFORM_TIMEOUT_MS 10000

struct sl_slice;

/* ---- the parent channel ------------------------------------------------- */

/* Take the parent channel from SLICE_PARENT_FD: it must name an AF_UNIX
 * SOCK_SEQPACKET socket. The fd is made non-blocking and close-on-exec.
 * Returns 0 with *out, or -errno with a sentence in msg (may be NULL; give
 * it SL_MSG_MAX bytes):
 *   -ENOENT      SLICE_PARENT_FD is not set (the program was not started
 *                by sliced: "SLICE_PARENT_FD is not set: ...");
 *   -EINVAL      it is not a descriptor number;
 *   -EBADF       no such descriptor;
 *   -ENOTSOCK, -EAFNOSUPPORT, -EPROTOTYPE  not a unix seqpacket socket;
 *   -ENOMEM. */
int sl_init(struct sl_slice **out, char *msg, size_t msg_len);

/* The same for a channel the caller already holds (tests, or a slice that
 * was handed its channel some other way). On success the slice owns fd. */
int sl_init_fd(int fd, struct sl_slice **out, char *msg, size_t msg_len);

/* Close the channel and free everything. Pending asynchronous opens are
 * dropped without their callbacks. Accepts NULL. */
void sl_free(struct sl_slice *sl);

/* The channel's fd, to poll for POLLIN (never read it yourself). */
int sl_fd(const struct sl_slice *sl);

/* Handle what the supervisor has sent, without blocking: answer heartbeats,
 * create sessions through the serve callbacks (and send their replies and
 * fds), complete asynchronous opens, report closed sessions and config
 * updates to their callbacks. Handles at most a batch of messages per call
 * (fairness with the slice's other fds); poll and call again while the fd
 * is readable. A malformed or unexpected message is dropped (see
 * sl_last_error). Returns 0, or -EPIPE once the supervisor has closed the
 * channel (the supervisor is gone: a slice should exit), or another -errno
 * if the channel failed. */
int sl_dispatch(struct sl_slice *sl);

/* The sentence describing the last failure of any call on sl (or the last
 * dropped message); "" if none. Valid until the next call. */
const char *sl_last_error(const struct sl_slice *sl);

/* ---- client: sessions to services --------------------------------------- */

/* Ask the supervisor for a session of `service` with `args` (len bytes, at
 * most SL_ARGS_MAX; opaque, for the server) and `memory` bytes of this
 * slice's memory quota donated to the server; wait at most timeout_ms
 * (negative: as long as the supervisor takes, which it bounds). While it
 * waits it keeps dispatching everything else (heartbeats, CreateSession for
 * servers, other completions).
 * Returns 0 with *fd (the session socket, close-on-exec; yours to close)
 * and *id (may be NULL) the session's id, for sl_session_close.
 * Failures fill reason (may be NULL; SL_MSG_MAX bytes hold any):
 *   -ECONNREFUSED  the supervisor or the server refused: reason says why
 *                  ("no route to 'kv'", the server's own reason, ...);
 *   -ETIMEDOUT     no answer in time (the request is cancelled; a grant
 *                  that arrives later is closed and given back);
 *   -EINVAL        bad service name or args too long;
 *   -EPIPE         the supervisor closed the channel;
 *   -EAGAIN        the channel stayed full (the supervisor is not reading).
 * Close a session with sl_session_close(id) and close(fd): the supervisor
 * holds a duplicate of the client's end (to revoke it), so the server sees
 * the end of the session only once the supervisor has been told. */
int sl_session_open(struct sl_slice *sl, const char *service, const void *args, size_t len,
                    uint64_t memory, int timeout_ms, int *fd, uint64_t *id, char *reason,
                    size_t reason_len);

/* What an asynchronous open (or a platform service) ended with. */
struct sl_grant {
        uint64_t id;
        int fd;                   /* >= 0 when granted: the receiver owns it; else -1 */
        int error;                /* 0 granted; ECONNREFUSED, EPIPE (channel gone) */
        const char *reason;       /* why not; "" when granted */
        const char *server_label; /* the server, when the supervisor says; else "" */
        uint64_t size;            /* rom/config: bytes in the memfd */
        int has_blake2b;          /* rom/config: the supervisor sent a hash */
        unsigned char blake2b[SL_BLAKE2B_LEN];
};

/* Called once per asynchronous open, from sl_dispatch (or a blocking call
 * dispatching on its behalf). The callback owns g->fd. */
typedef void (*sl_open_cb)(void *ctx, const struct sl_grant *g);

/* Ask for a session without waiting: returns 0 with *id (may be NULL) once
 * the request is sent; cb runs when the answer arrives (or with EPIPE if the
 * channel goes first). No timeout of its own: cancel with sl_session_close.
 * -EINVAL, -EPIPE, -EAGAIN, -ENOMEM as sl_session_open. */
int sl_session_open_async(struct sl_slice *sl, const char *service, const void *args, size_t len,
                          uint64_t memory, sl_open_cb cb, void *ctx, uint64_t *id);

/* Tell the supervisor this client is done with session id (or cancel a
 * pending asynchronous open: its callback will not run). Closing the fd is
 * the caller's. Unknown ids are not an error. Returns 0 or -errno. */
int sl_session_close(struct sl_slice *sl, uint64_t id);

enum sl_role {
        SL_ROLE_CLIENT = 0, /* a session this slice opened */
        SL_ROLE_SERVER = 1, /* a session this slice serves */
};

/* A session ended without this slice asking: the server died, the client
 * went, a new topology revoked the route. Its socket reads EOF by now (the
 * supervisor shuts it down); close your fd. */
typedef void (*sl_closed_cb)(void *ctx, uint64_t id, enum sl_role role, const char *reason);

/* Set (or with NULL clear) the callback for ended sessions. */
void sl_on_session_closed(struct sl_slice *sl, sl_closed_cb cb, void *ctx);

/* ---- server: offering a service ----------------------------------------- */

/* Asked to create session id for a client. client_label is set by the
 * supervisor (the client's path in the tree, then ":label" of each labelled
 * route hop) and cannot be forged: decide by it (sl_label_match). args/len
 * and memory are what the client sent. Accept: return 0 with *fd_out the
 * client's end of a new socket (libslice sends it and closes this copy; keep
 * the other end, e.g. from sl_session_pair). Refuse: return -1 with a reason
 * in reason (reason_len bytes; an empty reason becomes "refused by the
 * server"). */
typedef int (*sl_serve_cb)(void *ctx, uint64_t id, const char *client_label, const void *args,
                           size_t len, uint64_t memory, int *fd_out, char *reason,
                           size_t reason_len);

/* Serve `service` from now on: tell the supervisor, and route its
 * CreateSession requests to cb. A slice may announce several services.
 * Returns 0, -EINVAL (bad name), -EEXIST (announced already), -EPIPE,
 * -EAGAIN, -ENOMEM. */
int sl_announce(struct sl_slice *sl, const char *service, sl_serve_cb cb, void *ctx);

/* As a server, end session id (the supervisor tells the client and drops its
 * duplicate). Close your end yourself. Returns 0 or -errno. */
int sl_serve_close(struct sl_slice *sl, uint64_t id);

/* A connected pair of AF_UNIX SOCK_STREAM sockets, close-on-exec, for a
 * session: keep *mine, give *theirs to the client (sl_serve_cb's fd_out).
 * Returns 0 or -errno. */
int sl_session_pair(int *mine, int *theirs);

/* ---- platform services ---------------------------------------------------- */

/* This slice's configuration: a session to the platform service "config",
 * whose grant carries a sealed memfd (checked: shrink, grow and write
 * sealed, and as long as the grant says). Returns 0 with *memfd (yours) and
 * *size, or -errno (-ECONNREFUSED: no config; -EBADMSG: not a sealed memfd
 * of the announced size; the rest as sl_session_open). */
int sl_config(struct sl_slice *sl, int *memfd, size_t *size);

/* Called when the supervisor pushes a new configuration (a sealed memfd,
 * checked as sl_config does; the callback owns memfd). blake2b is NULL when
 * the supervisor sent none. Without a callback, updates are closed unread. */
typedef void (*sl_config_cb)(void *ctx, int memfd, size_t size, const unsigned char *blake2b);
void sl_on_config_update(struct sl_slice *sl, sl_config_cb cb, void *ctx);

/* The named read-only file `name` (a session to "rom" with args = name):
 * a sealed memfd, its size and its BLAKE2b-256 as the supervisor computed
 * it when sealing. blake2b may be NULL. Returns 0 or -errno as sl_config
 * (-EBADMSG also when the grant carries no hash). */
int sl_rom(struct sl_slice *sl, const char *name, int *memfd, size_t *size,
           unsigned char blake2b[SL_BLAKE2B_LEN]);

/* Publish state: one JSON document (at most SL_REPORT_MAX bytes; the
 * supervisor parses it). Returns 0 or -errno. */
int sl_report(struct sl_slice *sl, const char *json);

/* Send a log line at level (SL_LOG_*; 0-7) to the supervisor, which labels
 * it with the slice's path. Text beyond SL_LOG_MAX bytes is cut. Returns 0
 * or -errno. */
int sl_log(struct sl_slice *sl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- label policy --------------------------------------------------------- */

/* One rule: a label matches when it starts with prefix and ends with suffix
 * (NULL or "" match anything), the two not overlapping in the label. */
struct sl_label_rule {
        const char *prefix;
        const char *suffix;
        int verdict;
};

/* The verdict of the most specific matching rule, or dflt when none
 * matches. Most specific: the longest prefix and suffix together; on a tie,
 * the longer prefix (the path in the tree says more than a route label);
 * on a tie again, the rule that comes first in the table. Pure function.
 * Example, a server letting writers in by route label:
 *     { {NULL, ":rw", WRITE}, {"/admin/", NULL, WRITE}, {NULL, ":ro", READ} }
 */
int sl_label_match(const struct sl_label_rule *rules, size_t n, const char *label, int dflt);

/* ---- seccomp ------------------------------------------------------------- */

/* Install the `strict-tight` filter on every thread of this process now
 * (sets no_new_privs first; idempotent: a second call returns 0). For slices
 * that prefer to say where tightening happens, e.g. after opening what main()
 * needs when they run without SLICE_SECCOMP. Returns 0 or -errno. */
int sl_seccomp_tighten(void);

/* Defined next to the constructor; see "Static linking" above. */
extern const int sl_seccomp_stage2_linked;
__attribute__((used)) static const int *const sl__seccomp_stage2_anchor = &sl_seccomp_stage2_linked;

#ifdef __cplusplus
}
#endif

#endif
