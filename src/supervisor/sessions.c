#include "supervisor/sessions.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <jansson.h>
#include <linux/openat2.h>
#include <sodium.h>

#include "lib/cleanup.h"
#include "lib/parentproto.h"
#include "supervisor/routing.h"
#include "supervisor/supervisor.h"

enum { SV_WATCH_CHAN = 10, SV_WATCH_LOG = 11 };
/* How often waiting requests are checked against their deadline. */
#define SV_SESSION_TICK_MS 50
/* Heartbeats unanswered in a row before the slice counts as hung, when the
 * topology sets no `failures`. */
#define SV_HEARTBEAT_MISSES 3

enum sv_sess_state { SS_WAITING, SS_CREATING, SS_OPEN };

struct sv_session {
        struct sv_session *next;
        enum sv_sess_state state;
        uint64_t id; /* ours, toward the server */
        struct sv_slice *client;
        uint64_t client_id;
        struct sv_slice *server;
        char service[SL_PP_SERVICE_MAX + 1];
        char label[SV_LABEL_MAX];
        uint8_t *args;
        size_t args_len;
        uint64_t memory;
        int donated;   /* memory has been moved */
        int revoke_fd; /* dup of the client's end, -1 until open */
        uint64_t deadline_ms;
};

/* ---- sending ---- */

/* Send to a slice; a slice whose queue is full or gone loses the message
 * (never block): the caller learns nothing else, and the slice's own
 * channel errors end it soon enough. */
static void send_to(struct sv_slice *s, const sl_pp_envelope *m, const int *fds, size_t n)
{
        struct sl_error err;
        if (!s->chan)
                return;
        if (sl_pp_send(s->chan->fd, m, fds, n, &err) < 0)
                sv_log(s->sv, 4, "%s: parent channel: %s", s->path, err.msg);
}

static void deny(struct sv_slice *client, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void deny(struct sv_slice *client, uint64_t id, const char *fmt, ...)
{
        char reason[SL_PP_REASON_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(reason, sizeof reason, fmt, ap);
        va_end(ap);
        sv_log(client->sv, 6, "%s: session %llu denied: %s", client->path, (unsigned long long)id,
               reason);
        struct sl_pp_msg m;
        send_to(client, sl_pp_session_deny(&m, id, reason), NULL, 0);
}

/* ---- session table ---- */

static void sess_unlink(struct sv_supervisor *sv, struct sv_session *x)
{
        for (struct sv_session **p = &sv->sessions; *p; p = &(*p)->next)
                if (*p == x) {
                        *p = x->next;
                        break;
                }
}

static void quota_return(struct sv_session *x);

static void sess_free(struct sv_supervisor *sv, struct sv_session *x)
{
        sess_unlink(sv, x);
        quota_return(x);
        if (x->revoke_fd >= 0) {
                /* ends the connection for both holders, whatever they do */
                shutdown(x->revoke_fd, SHUT_RDWR);
                close(x->revoke_fd);
        }
        free(x->args);
        free(x);
}

static struct sv_session *find_client(struct sv_supervisor *sv, struct sv_slice *c, uint64_t id)
{
        for (struct sv_session *x = sv->sessions; x; x = x->next)
                if (x->client == c && x->client_id == id)
                        return x;
        return NULL;
}

static struct sv_session *find_server(struct sv_supervisor *sv, struct sv_slice *s, uint64_t id)
{
        for (struct sv_session *x = sv->sessions; x; x = x->next)
                if (x->server == s && x->id == id && x->state != SS_WAITING)
                        return x;
        return NULL;
}

void sv_sessions_count(const struct sv_slice *s, unsigned *used, unsigned *served)
{
        *used = *served = 0;
        for (struct sv_session *x = s->sv->sessions; x; x = x->next)
                if (x->state == SS_OPEN) {
                        *used += x->client == s;
                        *served += x->server == s;
                }
}

/* ---- quota donation ---- */

static uint64_t memory_limit(const struct sv_slice *s)
{
        return s->spec->res.memory + s->donated_in - s->donated_out;
}

/* Move x->memory from the client's limit to the server's. */
static int quota_take(struct sv_session *x, char *why, size_t len)
{
        struct sv_slice *c = x->client, *srv = x->server;
        struct sl_error err;
        if (!x->memory)
                return 0;
        if (!c->spec->res.memory) {
                snprintf(why, len, "%s has no memory limit of its own to donate from", c->path);
                return -1;
        }
        if (!c->cg) {
                snprintf(why, len,
                         "%s cannot donate memory: its limits are not enforced (no cgroup)",
                         c->path);
                return -1;
        }
        struct sb_cgroup_stats st;
        uint64_t limit = memory_limit(c), used = 0;
        if (sb_cgroup_stats(c->cg, &st, NULL) == 0)
                used = st.memory_current;
        if (limit < used || limit - used < x->memory) {
                snprintf(why, len,
                         "%s cannot donate %llu bytes: %llu of its %llu-byte limit are free",
                         c->path, (unsigned long long)x->memory,
                         (unsigned long long)(limit > used ? limit - used : 0),
                         (unsigned long long)limit);
                return -1;
        }
        if (sb_cgroup_set_memory_max(c->cg, limit - x->memory, &err) < 0) {
                snprintf(why, len, "%s", err.msg);
                return -1;
        }
        c->donated_out += x->memory;
        if (srv->spec->res.memory && srv->cg &&
            sb_cgroup_set_memory_max(srv->cg, memory_limit(srv) + x->memory, &err) < 0)
                sv_log(c->sv, 4, "%s: %s", srv->path, err.msg);
        srv->donated_in += x->memory;
        x->donated = 1;
        sv_log(c->sv, 6, "%s: donates %llu bytes of memory to %s", c->path,
               (unsigned long long)x->memory, srv->path);
        return 0;
}

static void quota_return(struct sv_session *x)
{
        if (!x->donated)
                return;
        struct sv_slice *c = x->client, *srv = x->server;
        struct sl_error err;
        x->donated = 0;
        srv->donated_in -= x->memory;
        if (srv->spec->res.memory && srv->cg &&
            sb_cgroup_set_memory_max(srv->cg, memory_limit(srv), &err) < 0)
                sv_log(c->sv, 4, "%s: %s", srv->path, err.msg);
        c->donated_out -= x->memory;
        if (c->cg && sb_cgroup_set_memory_max(c->cg, memory_limit(c), &err) < 0)
                sv_log(c->sv, 4, "%s: %s", c->path, err.msg);
}

/* ---- routing to servers ---- */

static int announced(const struct sv_slice *s, const char *service)
{
        for (size_t i = 0; i < s->n_announced; i++)
                if (!strcmp(s->announced[i], service))
                        return 1;
        return 0;
}

static void tick(uv_timer_t *t);

static void arm_tick(struct sv_supervisor *sv)
{
        if (!uv_is_active((uv_handle_t *)&sv->session_timer))
                uv_timer_start(&sv->session_timer, tick, SV_SESSION_TICK_MS, SV_SESSION_TICK_MS);
}

/* Ask the server, if it is up and serves the service; else keep waiting. */
static void try_create(struct sv_session *x)
{
        struct sv_slice *srv = x->server;
        if (!srv->running || !srv->chan || !announced(srv, x->service)) {
                x->state = SS_WAITING;
                arm_tick(srv->sv);
                return;
        }
        x->state = SS_CREATING;
        struct sl_pp_msg m;
        send_to(
            srv,
            sl_pp_create_session(&m, x->id, x->service, x->label, x->args, x->args_len, x->memory),
            NULL, 0);
}

static void tick(uv_timer_t *t)
{
        struct sv_supervisor *sv = t->data;
        uint64_t now = uv_now(sv->loop);
        int waiting = 0;
        for (struct sv_session *x = sv->sessions, *next; x; x = next) {
                next = x->next;
                if (x->state != SS_WAITING)
                        continue;
                if (now < x->deadline_ms) {
                        waiting = 1;
                        continue;
                }
                deny(x->client, x->client_id, "%s: server %s did not serve '%s' within %.1f s (%s)",
                     x->client->path, x->server->path, x->service,
                     (double)sv->cfg.route_wait_ms / 1000, sv_state_name(x->server->state));
                sess_free(sv, x);
        }
        if (!waiting)
                uv_timer_stop(&sv->session_timer);
}

/* ---- platform services ---- */

static void log_line_cb(uv_poll_t *h, int status, int events);

static int grant_fd(struct sv_slice *c, uint64_t id, int fd, uint64_t size,
                    const unsigned char *hash)
{
        struct sl_pp_msg m;
        send_to(c, sl_pp_session_grant(&m, id, "platform", size, hash), &fd, 1);
        close(fd);
        return 0;
}

static int platform_log(struct sv_slice *c, uint64_t id)
{
        size_t i = 0;
        while (i < SV_LOG_SESSIONS_MAX && c->logs[i])
                i++;
        if (i == SV_LOG_SESSIONS_MAX) {
                deny(c, id, "%s already has %d log sessions", c->path, SV_LOG_SESSIONS_MAX);
                return -1;
        }
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sp) < 0) {
                deny(c, id, "log: socketpair: %s", strerror(errno));
                return -1;
        }
        shutdown(sp[0], SHUT_WR); /* we only read */
        c->logs[i] = sv_watch_start(c, sp[0], SV_WATCH_LOG, SV_LINE_MAX, log_line_cb);
        if (!c->logs[i]) {
                close(sp[0]);
                close(sp[1]);
                deny(c, id, "log: out of memory");
                return -1;
        }
        return grant_fd(c, id, sp[1], 0, NULL);
}

/* Copy bytes into a sealed memfd, hashing them as they go: what was hashed
 * is exactly what the slice can read. */
static int sealed_memfd(const char *name, int src, const char *text, size_t text_len,
                        uint64_t *size, unsigned char hash[32], char *why, size_t len)
{
        _cleanup_close_ int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0)
                return snprintf(why, len, "memfd_create: %s", strerror(errno)), -1;
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, 32);
        uint64_t total = 0;
        char buf[65536];
        for (;;) {
                ssize_t n;
                if (src >= 0) {
                        n = read(src, buf, sizeof buf);
                } else {
                        n = (ssize_t)(text_len - total < sizeof buf ? text_len - total
                                                                    : sizeof buf);
                        memcpy(buf, text + total, (size_t)n);
                }
                if (n < 0)
                        return snprintf(why, len, "read: %s", strerror(errno)), -1;
                if (n == 0)
                        break;
                if (total + (uint64_t)n > SV_ROM_MAX)
                        return snprintf(why, len, "larger than %u bytes", SV_ROM_MAX), -1;
                if (write(fd, buf, (size_t)n) != n)
                        return snprintf(why, len, "write memfd: %s", strerror(errno)), -1;
                crypto_generichash_update(&st, (const unsigned char *)buf, (size_t)n);
                total += (uint64_t)n;
        }
        crypto_generichash_final(&st, hash, 32);
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                return snprintf(why, len, "seal: %s", strerror(errno)), -1;
        *size = total;
        return sl_steal_fd(&fd);
}

/* A rom is a file under one of the slice's own mounts, named by its path
 * inside the slice; it is opened beneath the mount's host directory so no
 * symlink or ".." leads out of what the slice was granted. */
static int platform_rom(struct sv_slice *c, uint64_t id, const char *name)
{
        const struct sv_slice_spec *sp = c->spec;
        const struct sv_mount *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < sp->n_mounts; i++) {
                const char *dest = sp->mounts[i].dest ? sp->mounts[i].dest : sp->mounts[i].src;
                size_t n = strlen(dest);
                if (!strncmp(name, dest, n) && (name[n] == '/' || name[n] == '\0') &&
                    n > best_len) {
                        best = &sp->mounts[i];
                        best_len = n;
                }
        }
        if (name[0] != '/' || !best) {
                deny(c, id, "rom '%s' is not inside a path granted to %s", name, c->path);
                return -1;
        }
        const char *rest = name + best_len;
        while (*rest == '/')
                rest++;
        char why[SL_PP_REASON_MAX];
        _cleanup_close_ int dir = open(best->src, O_PATH | O_CLOEXEC);
        int file = -1;
        if (dir >= 0) {
                struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY,
                                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
                file = *rest ? (int)syscall(SYS_openat2, dir, rest, &how, sizeof how)
                             : (int)syscall(SYS_openat2, dir, ".", &how, sizeof how);
        }
        struct stat st;
        if (file < 0 || fstat(file, &st) < 0 || !S_ISREG(st.st_mode)) {
                deny(c, id, "rom '%s': %s", name,
                     file >= 0        ? "not a regular file"
                     : errno == EXDEV ? "leads outside the path granted to the slice"
                                      : strerror(errno));
                if (file >= 0)
                        close(file);
                return -1;
        }
        uint64_t size;
        unsigned char hash[32];
        int fd = sealed_memfd("rom", file, NULL, 0, &size, hash, why, sizeof why);
        close(file);
        if (fd < 0) {
                deny(c, id, "rom '%s': %s", name, why);
                return -1;
        }
        return grant_fd(c, id, fd, size, hash);
}

static int platform_config(struct sv_slice *c, uint64_t id)
{
        const char *json = c->spec->config_json ? c->spec->config_json : "{}";
        char why[SL_PP_REASON_MAX];
        uint64_t size;
        unsigned char hash[32];
        int fd = sealed_memfd("config", -1, json, strlen(json), &size, hash, why, sizeof why);
        if (fd < 0) {
                deny(c, id, "config: %s", why);
                return -1;
        }
        return grant_fd(c, id, fd, size, hash);
}

static void platform_session(struct sv_slice *c, uint64_t id, const char *service,
                             const uint8_t *args, size_t len)
{
        if (!strcmp(service, "log"))
                platform_log(c, id);
        else if (!strcmp(service, "config"))
                platform_config(c, id);
        else if (!strcmp(service, "rom")) {
                char name[PATH_MAX];
                if (len == 0 || len >= sizeof name || memchr(args, '\0', len)) {
                        deny(c, id, "rom: the argument is the file's path inside the slice");
                        return;
                }
                memcpy(name, args, len);
                name[len] = '\0';
                platform_rom(c, id, name);
        } else {
                /* `report` is published with Report messages, not a session */
                deny(c, id, "the platform's '%s' is not a session service", service);
        }
}

/* Whether a platform service is routed to this slice (messages like Log and
 * Report obey routes too). */
static int platform_routed(const struct sv_slice *s, const char *service)
{
        struct sv_resolved r;
        return sv_route_resolve(s->spec, service, &r) == SV_RESOLVE_PLATFORM;
}

static void log_line_cb(uv_poll_t *h, int status, int events)
{
        struct sv_watch *w = h->data;
        struct sv_slice *s = w->slice;
        if (!s || sv_watch_lines(w, status, events, 0))
                return;
        for (size_t i = 0; i < SV_LOG_SESSIONS_MAX; i++)
                if (s->logs[i] == w)
                        sv_watch_stop(&s->logs[i]);
}

/* ---- messages from a slice ---- */

/* The slice broke the protocol: cut the channel, say why, end the run (its
 * restart policy decides what follows). Everything it held is released when
 * its process is reaped. */
static void cut_off(struct sv_slice *s, const char *why)
{
        sv_log(s->sv, 3, "%s: protocol violation, channel closed and slice stopped: %s", s->path,
               why);
        snprintf(s->cut_off, sizeof s->cut_off, "%s", why);
        sv_watch_stop(&s->chan);
        sv_proc_kill_all(s);
}

static void on_request(struct sv_slice *c, const Sliced__Parent__SessionRequest *r)
{
        struct sv_supervisor *sv = c->sv;
        if (r->id == 0 || find_client(sv, c, r->id)) {
                cut_off(c, "SessionRequest.id is zero or already in use");
                return;
        }
        unsigned n = 0;
        for (struct sv_session *x = sv->sessions; x; x = x->next)
                n += x->client == c;
        if (n >= SV_SESSIONS_PER_SLICE) {
                deny(c, r->id, "%s has %u sessions, the most one slice may hold", c->path, n);
                return;
        }
        struct sv_resolved res;
        switch (sv_route_resolve(c->spec, r->service, &res)) {
        case SV_RESOLVE_DENIED: deny(c, r->id, "%s", res.reason); return;
        case SV_RESOLVE_PLATFORM:
                platform_session(c, r->id, r->service, r->args.data, r->args.len);
                return;
        case SV_RESOLVE_SLICE: break;
        }
        struct sv_slice *srv = sv_find(sv, res.server->path);
        if (!srv) {
                deny(c, r->id, "server %s is not running", res.server->path);
                return;
        }
        struct sv_session *x = calloc(1, sizeof *x);
        if (!x || (r->args.len && !(x->args = malloc(r->args.len)))) {
                free(x);
                deny(c, r->id, "out of memory");
                return;
        }
        x->id = ++sv->next_session_id;
        x->client = c;
        x->client_id = r->id;
        x->server = srv;
        x->revoke_fd = -1;
        x->memory = r->memory;
        snprintf(x->service, sizeof x->service, "%s", r->service);
        snprintf(x->label, sizeof x->label, "%s", res.label);
        if (r->args.len)
                memcpy(x->args, r->args.data, r->args.len);
        x->args_len = r->args.len;
        x->deadline_ms = uv_now(sv->loop) + sv->cfg.route_wait_ms;
        char why[SL_PP_REASON_MAX];
        if (quota_take(x, why, sizeof why) < 0) {
                deny(c, r->id, "%s", why);
                free(x->args);
                free(x);
                return;
        }
        x->next = sv->sessions;
        sv->sessions = x;
        try_create(x);
}

/* The server answered CreateSession. */
static void on_reply(struct sv_slice *srv, const Sliced__Parent__CreateSessionReply *r, int *fds,
                     size_t nfds)
{
        struct sv_supervisor *sv = srv->sv;
        struct sv_session *x = find_server(sv, srv, r->id);
        if (!x || x->state != SS_CREATING) {
                /* the client gave up meanwhile: the fd goes nowhere */
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
                return;
        }
        if (!r->ok) {
                deny(x->client, x->client_id, "%s refused: %s", srv->path, r->reason);
                sess_free(sv, x);
                return;
        }
        int domain = 0;
        socklen_t len = sizeof domain;
        /* Only a unix socket can be revoked (shutdown reaches both holders). */
        if (getsockopt(fds[0], SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 || domain != AF_UNIX) {
                close(fds[0]);
                deny(x->client, x->client_id, "%s answered with something other than a unix socket",
                     srv->path);
                sess_free(sv, x);
                cut_off(srv, "CreateSessionReply carried an fd that is not a unix socket");
                return;
        }
        x->revoke_fd = fcntl(fds[0], F_DUPFD_CLOEXEC, 3);
        if (x->revoke_fd < 0) {
                close(fds[0]);
                deny(x->client, x->client_id, "%s", strerror(errno));
                sess_free(sv, x);
                return;
        }
        x->state = SS_OPEN;
        struct sl_pp_msg m;
        send_to(x->client, sl_pp_session_grant(&m, x->client_id, srv->path, 0, NULL), fds, 1);
        close(fds[0]);
        sv_log(sv, 6, "%s: session %s -> %s as %s", x->client->path, x->service, srv->path,
               x->label);
        sv_report_mark_dirty(sv);
}

static void on_close(struct sv_slice *s, const Sliced__Parent__SessionClose *r)
{
        struct sv_supervisor *sv = s->sv;
        struct sl_pp_msg m;
        if (r->role == SLICED__PARENT__ROLE__ROLE_SERVER) {
                struct sv_session *x = find_server(sv, s, r->id);
                if (!x)
                        return;
                send_to(
                    x->client,
                    sl_pp_session_closed(&m, x->client_id, SL_PP_CLIENT, "closed by the server"),
                    NULL, 0);
                sess_free(sv, x);
        } else {
                struct sv_session *x = find_client(sv, s, r->id);
                if (!x)
                        return;
                if (x->state != SS_WAITING)
                        send_to(
                            x->server,
                            sl_pp_session_closed(&m, x->id, SL_PP_SERVER, "closed by the client"),
                            NULL, 0);
                sess_free(sv, x);
        }
        sv_report_mark_dirty(sv);
}

static void on_announce(struct sv_slice *s, const char *service)
{
        int provides = 0;
        for (size_t i = 0; s->spec->provides && s->spec->provides[i]; i++)
                provides |= !strcmp(s->spec->provides[i], service);
        if (!provides) {
                char why[160];
                snprintf(why, sizeof why,
                         "announced '%s', which the topology says it does not provide", service);
                cut_off(s, why);
                return;
        }
        if (announced(s, service))
                return;
        if (s->n_announced >= SV_ANNOUNCE_MAX) {
                cut_off(s, "too many announcements");
                return;
        }
        char **a = realloc(s->announced, (s->n_announced + 1) * sizeof *a);
        if (!a || !(a[s->n_announced] = strdup(service))) {
                if (a)
                        s->announced = a;
                return;
        }
        s->announced = a;
        s->n_announced++;
        sv_log(s->sv, 6, "%s: serves '%s'", s->path, service);
        for (struct sv_session *x = s->sv->sessions; x; x = x->next)
                if (x->server == s && x->state == SS_WAITING && !strcmp(x->service, service))
                        try_create(x);
}

static void on_message(struct sv_slice *s, sl_pp_envelope *m, int *fds, size_t nfds)
{
        if (!sl_pp_sent_by_slice(m->body_case)) {
                char why[96];
                snprintf(why, sizeof why, "%s is a message slices do not send",
                         sl_pp_body_name(m->body_case));
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
                cut_off(s, why);
                return;
        }
        switch (m->body_case) {
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_REQUEST:
                on_request(s, m->session_request);
                break;
        case SLICED__PARENT__ENVELOPE__BODY_SESSION_CLOSE: on_close(s, m->session_close); break;
        case SLICED__PARENT__ENVELOPE__BODY_ANNOUNCE: on_announce(s, m->announce->service); break;
        case SLICED__PARENT__ENVELOPE__BODY_CREATE_SESSION_REPLY:
                on_reply(s, m->create_session_reply, fds, nfds);
                return; /* on_reply owns the fds */
        case SLICED__PARENT__ENVELOPE__BODY_HEARTBEAT_ACK:
                if (m->heartbeat_ack->seq > s->hb_acked && m->heartbeat_ack->seq <= s->hb_seq) {
                        s->hb_acked = m->heartbeat_ack->seq;
                        s->hb_missed = 0;
                        if (s->state == SV_ST_RUNNING)
                                sv_slice_event(s, SV_EV_HEALTHY);
                }
                break;
        case SLICED__PARENT__ENVELOPE__BODY_REPORT: {
                if (!platform_routed(s, "report")) {
                        sv_log(s->sv, 4, "%s: Report ignored: no route to the platform's 'report'",
                               s->path);
                        break;
                }
                json_error_t jerr;
                json_t *j = json_loads(m->report->json, 0, &jerr);
                if (!j) {
                        char why[300];
                        snprintf(why, sizeof why, "Report.json: %s at %d:%d", jerr.text, jerr.line,
                                 jerr.column);
                        cut_off(s, why);
                        break;
                }
                json_decref(j);
                free(s->report_json);
                s->report_json = strdup(m->report->json);
                sv_report_mark_dirty(s->sv);
                break;
        }
        case SLICED__PARENT__ENVELOPE__BODY_LOG:
                if (platform_routed(s, "log"))
                        sv_output_line(s, m->log->text, strlen(m->log->text), m->log->level <= 4);
                break;
        default: break;
        }
        for (size_t i = 0; i < nfds; i++)
                close(fds[i]);
}

/* Read every datagram waiting; never more than the socket holds, never a
 * blocking call. */
static void chan_cb(uv_poll_t *h, int status, int events)
{
        (void)events;
        struct sv_watch *w = h->data;
        struct sv_slice *s = w->slice;
        if (!s)
                return;
        if (status < 0) {
                sv_watch_stop(&s->chan);
                return;
        }
        for (;;) {
                sl_pp_envelope *m = NULL;
                int fds[SL_PP_FDS_MAX];
                size_t nfds = 0;
                struct sl_error err;
                int r = sl_pp_recv(w->fd, &m, fds, &nfds, &err);
                if (r == 0) { /* the slice closed its end (it is exiting) */
                        sv_watch_stop(&s->chan);
                        return;
                }
                if (r < 0) {
                        if (err.code == EAGAIN)
                                return;
                        cut_off(s, err.msg);
                        return;
                }
                on_message(s, m, fds, nfds);
                sl_pp_free(m);
                if (!s->chan) /* cut off while handling it */
                        return;
        }
}

/* ---- lifetime ---- */

int sv_chan_prepare(struct sv_slice *s, int *theirs)
{
        int sp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
                return -1;
        if (fcntl(sp[0], F_SETFL, O_NONBLOCK) < 0) {
                close(sp[0]);
                close(sp[1]);
                return -1;
        }
        sv_watch_stop(&s->chan);
        s->chan = sv_watch_start(s, sp[0], SV_WATCH_CHAN, 0, chan_cb);
        if (!s->chan) {
                close(sp[0]);
                close(sp[1]);
                errno = ENOMEM;
                return -1;
        }
        uv_poll_stop(&s->chan->poll); /* armed once the slice runs */
        *theirs = sp[1];
        s->cut_off[0] = '\0';
        s->hb_seq = s->hb_acked = 0;
        s->hb_missed = 0;
        return 0;
}

void sv_chan_started(struct sv_slice *s, int ok)
{
        if (!s->chan)
                return;
        if (!ok) {
                sv_watch_stop(&s->chan);
                return;
        }
        uv_poll_start(&s->chan->poll, UV_READABLE | UV_DISCONNECT, chan_cb);
}

void sv_sessions_slice_gone(struct sv_slice *s, const char *why)
{
        struct sv_supervisor *sv = s->sv;
        struct sl_pp_msg m;
        char reason[SL_PP_REASON_MAX];
        sv_watch_stop(&s->chan);
        for (size_t i = 0; i < SV_LOG_SESSIONS_MAX; i++)
                sv_watch_stop(&s->logs[i]);
        for (size_t i = 0; i < s->n_announced; i++)
                free(s->announced[i]);
        free(s->announced);
        s->announced = NULL;
        s->n_announced = 0;
        for (struct sv_session *x = sv->sessions, *next; x; x = next) {
                next = x->next;
                if (x->server == s) {
                        if (x->state == SS_CREATING) {
                                /* a restarted server gets the request afresh */
                                x->state = SS_WAITING;
                                x->deadline_ms = uv_now(sv->loop) + sv->cfg.route_wait_ms;
                                arm_tick(sv);
                                continue;
                        }
                        if (x->state == SS_WAITING)
                                continue;
                        snprintf(reason, sizeof reason, "server %s ended: %s", s->path, why);
                        send_to(x->client,
                                sl_pp_session_closed(&m, x->client_id, SL_PP_CLIENT, reason), NULL,
                                0);
                        sess_free(sv, x);
                } else if (x->client == s) {
                        if (x->state != SS_WAITING) {
                                snprintf(reason, sizeof reason, "client %s ended: %s", s->path,
                                         why);
                                send_to(x->server,
                                        sl_pp_session_closed(&m, x->id, SL_PP_SERVER, reason), NULL,
                                        0);
                        }
                        sess_free(sv, x);
                }
        }
        sv_report_mark_dirty(sv);
}

void sv_sessions_recheck(struct sv_supervisor *sv)
{
        struct sl_pp_msg m;
        for (struct sv_session *x = sv->sessions, *next; x; x = next) {
                next = x->next;
                struct sv_resolved res;
                enum sv_resolution k = sv_route_resolve(x->client->spec, x->service, &res);
                if (k == SV_RESOLVE_SLICE && !strcmp(res.server->path, x->server->path) &&
                    !strcmp(res.label, x->label) && !x->server->remove_after_stop)
                        continue;
                char reason[SL_PP_REASON_MAX];
                snprintf(reason, sizeof reason, "route '%s' of %s changed by a reload; revoked",
                         x->service, x->client->path);
                sv_log(sv, 6, "%s: session to %s revoked: %s", x->client->path, x->server->path,
                       reason);
                if (x->state == SS_WAITING) {
                        deny(x->client, x->client_id, "%s", reason);
                } else {
                        send_to(x->client,
                                sl_pp_session_closed(&m, x->client_id, SL_PP_CLIENT, reason), NULL,
                                0);
                        send_to(x->server, sl_pp_session_closed(&m, x->id, SL_PP_SERVER, reason),
                                NULL, 0);
                }
                sess_free(sv, x);
        }
        sv_report_mark_dirty(sv);
}

void sv_sessions_config_changed(struct sv_slice *s)
{
        const char *json = s->spec->config_json ? s->spec->config_json : "{}";
        char why[SL_PP_REASON_MAX];
        uint64_t size;
        unsigned char hash[32];
        int fd = sealed_memfd("config", -1, json, strlen(json), &size, hash, why, sizeof why);
        if (fd < 0) {
                sv_log(s->sv, 4, "%s: config update: %s", s->path, why);
                return;
        }
        struct sl_pp_msg m;
        send_to(s, sl_pp_config_update(&m, size, hash), &fd, 1);
        close(fd);
        sv_log(s->sv, 6, "%s: config updated live", s->path);
}

int sv_heartbeat_tick(struct sv_slice *s, int counting)
{
        unsigned limit = s->spec->health.failure_threshold ? s->spec->health.failure_threshold
                                                           : SV_HEARTBEAT_MISSES;
        if (counting && s->hb_seq > s->hb_acked && ++s->hb_missed >= limit)
                return -1;
        struct sl_pp_msg m;
        send_to(s, sl_pp_heartbeat(&m, ++s->hb_seq), NULL, 0);
        return 0;
}

void sv_sessions_free_all(struct sv_supervisor *sv)
{
        while (sv->sessions)
                sess_free(sv, sv->sessions);
        uv_timer_stop(&sv->session_timer);
}
