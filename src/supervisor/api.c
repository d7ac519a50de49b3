/* REST API (docs/api.md). libmicrohttpd runs in "external epoll" mode: its
 * epoll fd is watched by a uv_poll and its timeout drives a uv_timer, so
 * every request is handled on sliced's loop thread, like everything else.
 * Streams (logs -f, events) suspend their connection while there is nothing
 * to send and are resumed when a line or an event arrives. */
#include "supervisor/api.h"

#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "lib/cleanup.h"
#include "supervisor/api_internal.h"
#include "supervisor/supervisor.h"

static void timer_cb(uv_timer_t *t);

/* j as text plus a newline (one ndjson line, or a response body); consumes
 * j. NULL when out of memory. */
static char *json_line(json_t *j, size_t flags, size_t *len)
{
        char *text = j ? json_dumps(j, flags) : NULL;
        json_decref(j);
        char *line = NULL;
        if (text && asprintf(&line, "%s\n", text) < 0)
                line = NULL;
        free(text);
        if (line && len)
                *len = strlen(line);
        return line;
}

/* ---- responses ---- */

enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j)
{
        size_t n;
        char *body = json_line(j, JSON_INDENT(2) | JSON_SORT_KEYS, &n);
        if (!body)
                return MHD_NO;
        struct MHD_Response *r = MHD_create_response_from_buffer(n, body, MHD_RESPMEM_MUST_FREE);
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
        char msg[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return api_send_json(c, status, json_pack("{s:s}", "error", msg));
}

/* ---- who is asking ---- */

/* Mutations need uid 0, sliced's own uid, or membership of group `sliced` (the peer's real
 * supplementary groups, read from /proc: SO_PEERCRED carries the primary
 * gid only). Reads need only the socket's permission. */
int api_may_change(struct sv_api *api, struct MHD_Connection *c, char *who, size_t len)
{
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        struct ucred cred;
        socklen_t clen = sizeof cred;
        if (!ci || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0) {
                snprintf(who, len, "an unidentified peer");
                return 0;
        }
        snprintf(who, len, "uid %u", cred.uid);
        /* root, and the user sliced runs as (an unprivileged sliced belongs
         * to whoever started it) */
        if (cred.uid == 0 || cred.uid == geteuid())
                return 1;
        if (!api->have_group)
                return 0;
        if (cred.gid == api->group)
                return 1;
        char path[64], line[4096];
        snprintf(path, sizeof path, "/proc/%d/status", (int)cred.pid);
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        while (f && fgets(line, sizeof line, f))
                if (!strncmp(line, "Groups:", 7))
                        for (char *tok = strtok(line + 7, " \t\n"); tok;
                             tok = strtok(NULL, " \t\n"))
                                if ((gid_t)strtoul(tok, NULL, 10) == api->group)
                                        return 1;
        return 0;
}

/* ---- streams ---- */

static void stream_free(void *cls)
{
        struct api_stream *st = cls;
        for (struct api_stream **p = &st->api->streams; *p; p = &(*p)->next)
                if (*p == st) {
                        *p = st->next;
                        break;
                }
        free(st->pending);
        free(st->path);
        free(st);
}

static char *log_json_line(const struct sv_logline *l, size_t *len)
{
        return json_line(json_pack("{s:I,s:I,s:s,s:s}", "ts", (json_int_t)l->ts_us, "seq",
                                   (json_int_t)l->seq, "stream", l->is_err ? "stderr" : "stdout",
                                   "text", l->text),
                         JSON_COMPACT, len);
}

/* Format the next chunk into st->pending. 1: have data, 0: nothing now,
 * -1: the stream is over. */
static int stream_fill(struct api_stream *st)
{
        struct sv_api *api = st->api;
        if (st->kind == STREAM_EVENTS) {
                uint64_t oldest =
                    api->event_seq > API_EVENTS_MAX ? api->event_seq - API_EVENTS_MAX : 0;
                if (st->next_seq < oldest)
                        st->next_seq = oldest; /* a follower that lagged loses the oldest */
                if (st->next_seq >= api->event_seq)
                        return 0;
                const struct api_event *e = &api->events[st->next_seq % API_EVENTS_MAX];
                st->pending = strdup(e->line);
                st->pending_len = st->pending ? strlen(st->pending) : 0;
                st->next_seq++;
                return st->pending ? 1 : -1;
        }
        struct sv_slice *s = sv_find(api->sv, st->path);
        if (!s)
                return -1; /* the slice is gone: so is its log */
        for (size_t i = 0; i < s->log.n; i++) {
                const struct sv_logline *l = sv_logring_at(&s->log, i);
                if (l->seq < st->next_seq)
                        continue;
                st->pending = log_json_line(l, &st->pending_len);
                st->next_seq = l->seq + 1;
                return st->pending ? 1 : -1;
        }
        return st->follow ? 0 : -1;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)pos;
        struct api_stream *st = cls;
        if (!st->pending) {
                int r = stream_fill(st);
                if (r < 0)
                        return MHD_CONTENT_READER_END_OF_STREAM;
                if (r == 0) {
                        /* nothing to send: park the connection until there is */
                        st->suspended = 1;
                        MHD_suspend_connection(st->conn);
                        return 0;
                }
                st->pending_off = 0;
        }
        size_t n = st->pending_len - st->pending_off;
        if (n > max)
                n = max;
        memcpy(buf, st->pending + st->pending_off, n);
        st->pending_off += n;
        if (st->pending_off == st->pending_len) {
                free(st->pending);
                st->pending = NULL;
        }
        return (ssize_t)n;
}

static enum MHD_Result start_stream(struct sv_api *api, struct MHD_Connection *c,
                                    enum stream_kind kind, const char *path, int follow,
                                    uint64_t from)
{
        struct api_stream *st = calloc(1, sizeof *st);
        if (!st || (path && !(st->path = strdup(path)))) {
                free(st);
                return api_send_error(c, 500, "out of memory");
        }
        st->api = api;
        st->conn = c;
        st->kind = kind;
        st->follow = follow;
        st->next_seq = from;
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, st, stream_free);
        if (!r) {
                free(st->path);
                free(st);
                return MHD_NO;
        }
        st->next = api->streams;
        api->streams = st;
        MHD_add_response_header(r, "Content-Type", "application/x-ndjson");
        enum MHD_Result ret = MHD_queue_response(c, 200, r);
        MHD_destroy_response(r);
        return ret;
}

static void wake(struct sv_api *api, enum stream_kind kind)
{
        int any = 0;
        for (struct api_stream *st = api->streams; st; st = st->next)
                if (st->suspended && st->kind == kind) {
                        st->suspended = 0;
                        MHD_resume_connection(st->conn);
                        any = 1;
                }
        if (any)
                uv_timer_start(&api->timer, timer_cb, 0, 0);
}

void sv_api_event(struct sv_api *api, const struct sv_slice *s)
{
        if (!api)
                return;
        char reason[SL_ERROR_MSG_MAX + 64];
        sv_end_describe(&s->last_end, reason, sizeof reason);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char *line = json_line(
            json_pack("{s:I,s:s,s:s,s:o}", "ts",
                      (json_int_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, "path", s->path, "state",
                      sv_state_name(s->state), "reason",
                      s->last_end.kind == SV_END_NONE ? json_null() : json_string(reason)),
            JSON_COMPACT, NULL);
        if (!line)
                return;
        struct api_event *e = &api->events[api->event_seq % API_EVENTS_MAX];
        free(e->line);
        e->line = line;
        e->seq = api->event_seq++;
        wake(api, STREAM_EVENTS);
}

void sv_api_output(struct sv_api *api)
{
        if (api)
                wake(api, STREAM_LOGS);
}

/* ---- endpoints ---- */

struct plan_ctx {
        struct sv_supervisor *sv;
        json_t *start, *restart, *same;
};

/* One new spec against what runs: the same digest test a reload applies. */
static int plan_visit(struct sv_slice_spec *spec, void *ctx)
{
        struct plan_ctx *pc = ctx;
        struct sv_slice *s = sv_find(pc->sv, spec->path);
        json_t *to = !s                                                           ? pc->start
                     : memcmp(s->spec->digest, spec->digest, sizeof spec->digest) ? pc->restart
                                                                                  : pc->same;
        json_array_append_new(to, json_string(spec->path));
        return 0;
}

static json_t *plan_of(struct sv_supervisor *sv, const struct sv_topology *t)
{
        json_t *start = json_array(), *restart = json_array(), *same = json_array(),
               *stop = json_array();
        struct plan_ctx pc = {sv, start, restart, same};
        sv_topology_walk(t, plan_visit, &pc);
        for (size_t i = 0; i < sv->n_slices; i++)
                if (!sv_topology_find(t, sv->slices[i]->path))
                        json_array_append_new(stop, json_string(sv->slices[i]->path));
        return json_pack("{s:o,s:o,s:o,s:o}", "start", start, "stop", stop, "restart", restart,
                         "unchanged", same);
}

static enum MHD_Result put_topology(struct sv_api *api, struct MHD_Connection *c,
                                    const struct conn_ctx *cc)
{
        struct sv_supervisor *sv = api->sv;
        const char *dry = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dry_run");
        int dry_run = dry && strcmp(dry, "0") && strcmp(dry, "false");
        if (cc->too_big)
                return api_send_error(c, 413, "the topology is larger than %d bytes", API_BODY_MAX);
        if (!cc->len)
                return api_send_error(c, 400, "no topology in the request body");
        if (memchr(cc->body, '\0', cc->len))
                return api_send_error(c, 400, "the topology contains a NUL byte");
        /* A directory source: the body becomes one file of it (the others
         * stay), checked together with them. A file source: the body
         * becomes the file. Either way it is checked as what it will be, so
         * positions and relative paths read the same as after the write. */
        struct stat st;
        int is_dir = stat(sv->topology_path, &st) == 0 && S_ISDIR(st.st_mode);
        const char *ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
        int json = ctype && strstr(ctype, "json");
        char target[PATH_MAX + 32];
        snprintf(target, sizeof target, "%s", sv->topology_path);
        if (is_dir)
                snprintf(target, sizeof target, "%s/%s", sv->topology_path,
                         json ? API_APPLIED_JSON : API_APPLIED_YAML);
        size_t plen = strlen(target);
        int path_is_json = plen > 5 && !strcmp(target + plen - 5, ".json");
        /* JSON is YAML too: a YAML file may receive either; a JSON file only
         * JSON */
        if (path_is_json && !json)
                return api_send_error(c, 400,
                                      "the topology file %s is JSON; send a JSON topology "
                                      "(Content-Type application/json)",
                                      target);
        struct sv_topology *t = NULL;
        struct sv_diag d = {0};
        struct sl_error err;
        int r = is_dir ? sv_topology_load_dir_with(sv->topology_path, strrchr(target, '/') + 1,
                                                   cc->body, &t, &d, &err)
                       : sv_topology_load_string(target, cc->body, &t, &d, &err);
        if (r < 0) {
                if (err.code != EINVAL)
                        return api_send_error(c, 500, "%s", err.msg);
                json_t *errors = json_array();
                for (size_t i = 0; i < d.n; i++)
                        json_array_append_new(errors, json_string(d.msgs[i]));
                sv_diag_free(&d);
                return api_send_json(
                    c, 400, json_pack("{s:s,s:o}", "error", "invalid topology", "errors", errors));
        }
        sv_diag_free(&d);
        json_t *plan = plan_of(sv, t);
        sv_topology_free(t);
        if (!dry_run) {
                char tmp[PATH_MAX + 48];
                snprintf(tmp, sizeof tmp, "%s.new", target);
                _cleanup_fclose_ FILE *f = fopen(tmp, "we");
                if (!f || fwrite(cc->body, 1, cc->len, f) != cc->len || fflush(f) != 0 ||
                    fsync(fileno(f)) < 0 || rename(tmp, target) < 0) {
                        int e = errno;
                        json_decref(plan);
                        unlink(tmp);
                        return api_send_error(c, 500, "write %s: %s", target, strerror(e));
                }
                sv_supervisor_reload(sv);
        }
        return api_send_json(c, 200, json_pack("{s:b,s:o}", "dry_run", dry_run, "plan", plan));
}

static enum MHD_Result get_topology(struct sv_api *api, struct MHD_Connection *c)
{
        struct sv_supervisor *sv = api->sv;
        json_t *o =
            json_pack("{s:s,s:i}", "source", sv->topology_path, "generation", sv->generation);
        struct stat st;
        if (stat(sv->topology_path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < API_BODY_MAX) {
                _cleanup_free_ char *text = calloc(1, (size_t)st.st_size + 1);
                _cleanup_fclose_ FILE *f = fopen(sv->topology_path, "re");
                if (text && f && fread(text, 1, (size_t)st.st_size, f) == (size_t)st.st_size)
                        json_object_set_new(o, "text", json_string(text));
        }
        return api_send_json(c, 200, o);
}

/* "/v1/slices/app/web[/action]" -> "/app/web" and the action, if the
 * remainder names a slice; a slice named like an action wins only when no
 * slice has the longer path. */
static struct sv_slice *slice_from_url(struct sv_supervisor *sv, const char *rest, char *action,
                                       size_t alen)
{
        char path[PATH_MAX];
        action[0] = '\0';
        snprintf(path, sizeof path, "/%s", rest);
        size_t n = strlen(path);
        while (n > 1 && path[n - 1] == '/')
                path[--n] = '\0';
        struct sv_slice *s = sv_find(sv, path);
        if (s)
                return s;
        char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return NULL;
        snprintf(action, alen, "%s", slash + 1);
        *slash = '\0';
        return sv_find(sv, path);
}

static enum MHD_Result on_slices(struct sv_api *api, struct MHD_Connection *c, const char *method,
                                 const char *rest)
{
        struct sv_supervisor *sv = api->sv;
        if (!*rest) {
                if (strcmp(method, "GET"))
                        return api_send_error(c, 405, "%s /v1/slices: use GET", method);
                json_t *arr = json_array();
                for (size_t i = 0; i < sv->n_slices; i++)
                        json_array_append_new(arr, sv_report_slice_json(sv->slices[i]));
                return api_send_json(c, 200, json_pack("{s:o}", "slices", arr));
        }
        char action[64], who[64];
        struct sv_slice *s = slice_from_url(sv, rest, action, sizeof action);
        if (s && !strcmp(method, "POST") && !action[0]) {
                /* POST always names an action: ".../web/restart" restarts
                 * /web even when a slice /web/restart exists */
                char path[PATH_MAX];
                snprintf(path, sizeof path, "/%s", rest);
                char *slash = strrchr(path, '/');
                if (slash && slash != path) {
                        snprintf(action, sizeof action, "%s", slash + 1);
                        *slash = '\0';
                        s = sv_find(sv, path);
                }
                if (!s)
                        return api_send_error(c, 404, "no slice for '/%s'", rest);
        }
        if (!s)
                return api_send_error(c, 404, "no slice '/%s' (see GET /v1/slices)", rest);
        if (!action[0]) {
                if (strcmp(method, "GET"))
                        return api_send_error(c, 405,
                                              "%s %s: use GET, or POST to .../restart|stop|start",
                                              method, s->path);
                return api_send_json(c, 200, sv_report_slice_json(s));
        }
        if (!strcmp(action, "logs")) {
                if (strcmp(method, "GET"))
                        return api_send_error(c, 405, "%s .../logs: use GET", method);
                const char *tail = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "tail");
                const char *follow =
                    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "follow");
                char *end = NULL;
                unsigned long n = tail ? strtoul(tail, &end, 10) : API_TAIL_DEFAULT;
                if (tail && (*end || !*tail))
                        return api_send_error(c, 400, "tail '%s' is not a number of lines", tail);
                uint64_t from = s->log.next_seq + 1 > n ? s->log.next_seq + 1 - n : 1;
                return start_stream(api, c, STREAM_LOGS, s->path,
                                    follow && strcmp(follow, "0") && strcmp(follow, "false"), from);
        }
        if (strcmp(action, "restart") && strcmp(action, "stop") && strcmp(action, "start"))
                return api_send_error(c, 404, "%s has no '%s' (restart, stop, start, logs)",
                                      s->path, action);
        if (strcmp(method, "POST"))
                return api_send_error(c, 405, "%s %s/%s: use POST", method, s->path, action);
        if (!api_may_change(api, c, who, sizeof who))
                return api_send_error(c, 403,
                                      "%s may not change sliced: root or group '%s' required", who,
                                      API_GROUP);
        char why[SL_ERROR_MSG_MAX];
        if (sv_slice_request(s, action, why, sizeof why) < 0)
                return api_send_error(c, 409, "%s", why);
        return api_send_json(c, 202,
                             json_pack("{s:s,s:s,s:s}", "path", s->path, "action", action, "state",
                                       sv_state_name(s->state)));
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls)
{
        (void)version;
        struct sv_api *api = cls;
        struct conn_ctx *cc = *con_cls;
        if (!cc) { /* first call: headers only */
                cc = calloc(1, sizeof *cc);
                if (!cc)
                        return MHD_NO;
                *con_cls = cc;
                return MHD_YES;
        }
        if (*upload_size) { /* body arrives in pieces */
                if (cc->len + *upload_size > api_body_max(url)) {
                        cc->too_big = 1;
                } else {
                        char *b = realloc(cc->body, cc->len + *upload_size + 1);
                        if (!b)
                                return MHD_NO;
                        memcpy(b + cc->len, upload, *upload_size);
                        cc->body = b;
                        cc->len += *upload_size;
                        b[cc->len] = '\0';
                }
                *upload_size = 0;
                return MHD_YES;
        }
        struct sv_supervisor *sv = api->sv;
        char who[64];
        if (!strcmp(url, "/v1/health")) {
                return api_send_json(c, 200,
                                     json_pack("{s:s,s:s,s:i,s:i,s:b}", "status",
                                               sv->shutting_down ? "stopping" : "ok", "version",
                                               SLICED_VERSION, "slices", (int)sv->n_slices,
                                               "generation", sv->generation, "limits_enforced",
                                               sv->have_cgroups));
        }
        if (!strncmp(url, "/v1/slices", 10) && (url[10] == '\0' || url[10] == '/'))
                return on_slices(api, c, method, url[10] ? url + 11 : "");
        if (!strncmp(url, "/v1/packages", 12) && (url[12] == '\0' || url[12] == '/'))
                return api_on_packages(api, c, method, url + 12, cc);
        if (!strcmp(url, "/v1/events")) {
                if (strcmp(method, "GET"))
                        return api_send_error(c, 405, "%s /v1/events: use GET", method);
                return start_stream(api, c, STREAM_EVENTS, NULL, 1, api->event_seq);
        }
        if (!strcmp(url, "/v1/topology")) {
                if (!strcmp(method, "GET"))
                        return get_topology(api, c);
                if (strcmp(method, "PUT"))
                        return api_send_error(c, 405, "%s /v1/topology: use GET or PUT", method);
                const char *dry = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "dry_run");
                if (!(dry && strcmp(dry, "0")) && !api_may_change(api, c, who, sizeof who))
                        return api_send_error(
                            c, 403, "%s may not change sliced: root or group '%s' required", who,
                            API_GROUP);
                return put_topology(api, c, cc);
        }
        return api_send_error(c, 404, "no endpoint %s %s (see docs/api.md)", method, url);
}

static void request_done(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode code)
{
        (void)cls;
        (void)c;
        (void)code;
        struct conn_ctx *cc = *con_cls;
        if (cc) {
                free(cc->body);
                free(cc);
        }
        *con_cls = NULL;
}

/* ---- the loop ---- */

void api_run_mhd(struct sv_api *api)
{
        MHD_run(api->mhd);
        MHD_UNSIGNED_LONG_LONG t;
        if (MHD_get_timeout(api->mhd, &t) == MHD_YES)
                uv_timer_start(&api->timer, timer_cb, t, 0);
        else
                uv_timer_stop(&api->timer);
}

static void timer_cb(uv_timer_t *t)
{
        api_run_mhd(t->data);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
        (void)status;
        (void)events;
        api_run_mhd(h->data);
}

/* A socket file nobody answers on is a leftover: remove it. A live one means
 * another sliced owns this runtime dir: refuse. */
static int bind_socket(const char *path, struct sl_error *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                return sl_error_set(err, ENAMETOOLONG, "API socket `%s`", path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return sl_error_errno(err, "API socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                return sl_error_set(err, EADDRINUSE,
                                    "API socket `%s`: another sliced is answering there", path);
        close(sl_steal_fd(&fd));
        unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return sl_error_errno(err, "API socket");
        /* 0660 from the first instant: no window where anyone could connect */
        mode_t old = umask(0117);
        int r = bind(fd, (struct sockaddr *)&sa, sizeof sa);
        umask(old);
        if (r < 0)
                return sl_error_errno(err, "bind API socket `%s`", path);
        if (listen(fd, API_CONNECTIONS_MAX) < 0)
                return sl_error_errno(err, "listen on `%s`", path);
        return sl_steal_fd(&fd);
}

int sv_api_start(struct sv_supervisor *sv, struct sv_api **out, struct sl_error *err)
{
        struct sv_api *api = calloc(1, sizeof *api);
        if (!api)
                return sl_error_set(err, ENOMEM, "API");
        api->sv = sv;
        api->listen_fd = bind_socket(sv->cfg.api_socket, err);
        if (api->listen_fd < 0) {
                free(api);
                return -1;
        }
        struct group *g = getgrnam(API_GROUP);
        if (g) {
                /* the operators' group may connect (and change things) */
                api->group = g->gr_gid;
                api->have_group = 1;
                if (chown(sv->cfg.api_socket, (uid_t)-1, g->gr_gid) < 0)
                        sv_log(sv, 4, "chown %s to group %s: %s", sv->cfg.api_socket, API_GROUP,
                               strerror(errno));
        }
        api->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0,
                                    NULL, NULL, on_request, api, MHD_OPTION_LISTEN_SOCKET,
                                    api->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, request_done, api,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned)API_CONNECTIONS_MAX,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
        if (!api->mhd) {
                close(api->listen_fd);
                unlink(sv->cfg.api_socket);
                free(api);
                return sl_error_set(err, EIO, "libmicrohttpd refused to start on `%s`",
                                    sv->cfg.api_socket);
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->mhd, MHD_DAEMON_INFO_EPOLL_FD);
        uv_poll_init(sv->loop, &api->poll, di->epoll_fd);
        uv_timer_init(sv->loop, &api->timer);
        api->poll.data = api->timer.data = api;
        uv_poll_start(&api->poll, UV_READABLE, poll_cb);
        api_run_mhd(api);
        *out = api;
        return 0;
}

/* Both handles live inside api: free it after the second close callback,
 * whichever order libuv runs them in. */
static void api_closed(uv_handle_t *h)
{
        struct sv_api *api = h->data;
        if (--api->handles_open == 0)
                free(api);
}

void sv_api_stop(struct sv_api *api)
{
        if (!api)
                return;
        uv_poll_stop(&api->poll);
        uv_timer_stop(&api->timer);
        /* resume parked streams so MHD can end them */
        for (struct api_stream *st = api->streams; st; st = st->next)
                if (st->suspended) {
                        st->suspended = 0;
                        MHD_resume_connection(st->conn);
                }
        api_packages_detach(api);
        MHD_stop_daemon(api->mhd);
        unlink(api->sv->cfg.api_socket);
        for (size_t i = 0; i < API_EVENTS_MAX; i++)
                free(api->events[i].line);
        api->handles_open = 2;
        uv_close((uv_handle_t *)&api->poll, api_closed);
        uv_close((uv_handle_t *)&api->timer, api_closed);
}
