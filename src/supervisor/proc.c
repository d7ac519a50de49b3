/* The process side of a slice: cgroups, spawn, output capture, exit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "lib/cleanup.h"
#include "lib/listen.h"
#include "supervisor/supervisor.h"

enum sv_watch_kind { SV_WATCH_PID = 1, SV_WATCH_OUT, SV_WATCH_ERR, SV_WATCH_PROBE };

/* The environment every slice starts from; the topology's env overrides. */
static const char *const base_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/tmp",
    "LANG=C.UTF-8",
};
#define SV_ENV_MAX 512

static void watch_closed(uv_handle_t *h)
{
        struct sv_watch *w = h->data;
        if (w->fd >= 0)
                close(w->fd);
        free(w);
}

struct sv_watch *sv_watch_start(struct sv_slice *s, int fd, int kind, size_t bufsize, uv_poll_cb cb)
{
        struct sv_watch *w = calloc(1, sizeof *w + bufsize);
        if (!w)
                return NULL;
        w->fd = fd;
        w->kind = kind;
        w->slice = s;
        if (uv_poll_init(s->sv->loop, &w->poll, fd) < 0) {
                free(w);
                return NULL;
        }
        w->poll.data = w;
        uv_poll_start(&w->poll, UV_READABLE | UV_DISCONNECT, cb);
        return w;
}

/* Stop and forget; the fd is closed when libuv has let go of the handle. */
void sv_watch_stop(struct sv_watch **wp)
{
        struct sv_watch *w = *wp;
        if (!w)
                return;
        *wp = NULL;
        w->slice = NULL;
        uv_poll_stop(&w->poll);
        uv_close((uv_handle_t *)&w->poll, watch_closed);
}

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* One line of a slice's output: ring buffer, then journald or our stderr,
 * labelled with the slice path. */
void sv_output_line(struct sv_slice *s, const char *text, size_t len, int is_err)
{
        sv_logring_push(&s->log, text, len, is_err, now_us());
        sv_api_output(s->sv->api);
        if (s->sv->journal) {
                sd_journal_send("MESSAGE=%.*s", (int)len, text, "PRIORITY=%d", is_err ? 4 : 6,
                                "SLICE=%s", s->path, "SYSLOG_IDENTIFIER=sliced", NULL);
                return;
        }
        fprintf(stderr, "%s: %.*s\n", s->path, (int)len, text);
}

int sv_watch_lines(struct sv_watch *w, int status, int events, int is_err)
{
        struct sv_slice *s = w->slice;
        ssize_t n = 0;
        if (status == 0 && (events & UV_READABLE))
                n = read(w->fd, w->buf + w->len, SV_LINE_MAX - w->len);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 1;
        if (n > 0) {
                w->len += (size_t)n;
                size_t start = 0;
                for (size_t i = 0; i < w->len; i++)
                        if (w->buf[i] == '\n') {
                                sv_output_line(s, w->buf + start, i - start, is_err);
                                start = i + 1;
                        }
                if (start == 0 && w->len == SV_LINE_MAX) { /* split an over-long line */
                        sv_output_line(s, w->buf, w->len, is_err);
                        start = w->len;
                }
                memmove(w->buf, w->buf + start, w->len - start);
                w->len -= start;
                return 1;
        }
        /* EOF or error: flush a last unterminated line */
        if (w->len)
                sv_output_line(s, w->buf, w->len, is_err);
        w->len = 0;
        return 0;
}

int sv_watch_wait(struct sv_watch *w, const struct sb_slice *proc, struct sb_exit *ex,
                  struct sl_error *err)
{
        struct sb_slice copy = *proc; /* sb_wait closes the copy's fds */
        copy.pidfd = dup(w->fd);      /* the watch keeps (and closes) its own */
        if (copy.pidfd < 0)
                return sl_error_errno(err, "dup pidfd");
        return sb_wait(&copy, ex, err);
}

static void stream_cb(uv_poll_t *h, int status, int events)
{
        struct sv_watch *w = h->data;
        struct sv_slice *s = w->slice;
        if (!s || sv_watch_lines(w, status, events, w->kind == SV_WATCH_ERR))
                return;
        sv_watch_stop(w->kind == SV_WATCH_OUT ? &s->out : &s->err);
}

/* Sum of OOM kills in the process's cgroup and every ancestor slice's: on
 * v1 the counter moves only in the cgroup whose limit was hit. */
static uint64_t oom_count(struct sv_slice *s)
{
        uint64_t total = 0, n;
        if (s->proc_cg && s->proc_cg != s->cg && sb_cgroup_oom_kills(s->proc_cg, &n, NULL) == 0)
                total += n;
        for (struct sv_slice *p = s; p; p = p->parent)
                if (p->cg && sb_cgroup_oom_kills(p->cg, &n, NULL) == 0)
                        total += n;
        return total;
}

static void pid_cb(uv_poll_t *h, int status, int events)
{
        (void)status;
        (void)events;
        struct sv_watch *w = h->data;
        struct sv_slice *s = w->slice;
        if (!s)
                return;
        struct sb_exit ex;
        struct sl_error err;
        s->proc.pidfd = -1; /* the watch owns and closes the pidfd */
        memset(&s->last_end, 0, sizeof s->last_end);
        if (sv_watch_wait(w, &s->proc, &ex, &err) < 0) {
                sv_log(s->sv, 3, "%s: wait: %s", s->path, err.msg);
                ex.kind = SB_EXIT_SIGNAL;
                ex.signal = SIGKILL;
        }
        sv_watch_stop(&s->pidwatch);
        s->running = 0;
        sv_package_release(s);  /* its trees are no longer in use */
        s->proc.report_fd = -1; /* sb_wait closed these through the copy */
        for (int i = 0; i < SB_NS__COUNT; i++)
                s->proc.ns_fds[i] = -1;
        if (ex.kind == SB_EXIT_SIGNAL && ex.signal == SIGKILL && oom_count(s) > s->oom_base) {
                s->last_end.kind = SV_END_OOM;
                s->last_end.code = SIGKILL;
        } else if (ex.kind == SB_EXIT_SIGNAL) {
                s->last_end.kind = SV_END_SIGNAL;
                s->last_end.code = ex.signal;
        } else {
                s->last_end.kind = SV_END_EXIT;
                s->last_end.code = ex.code;
        }
        if (s->cut_off[0]) { /* we ended it: say why, not just "killed" */
                s->last_end.kind = SV_END_CUT_OFF;
                snprintf(s->last_end.detail, sizeof s->last_end.detail, "%s", s->cut_off);
        }
        char why[SL_ERROR_MSG_MAX + 64];
        sv_end_describe(&s->last_end, why, sizeof why);
        sv_sessions_slice_gone(s, why);
        sv_slice_event(s, SV_EV_EXITED);
}

static int cg_name(const struct sv_slice *s, const char *suffix, char *buf, size_t len)
{
        /* "/app/web" -> "app/web" under the configured base */
        return snprintf(buf, len, "%s%s", s->path + 1, suffix) >= (int)len ? -1 : 0;
}

static void limits_of(const struct sv_resources *r, struct sb_cgroup_limits *lim)
{
        memset(lim, 0, sizeof *lim);
        lim->memory_max = r->memory;
        lim->pids_max = r->pids;
        lim->cpu_weight = r->cpu_weight;
        lim->cpu_quota_us = r->cpu_quota_us;
        lim->cpu_period_us = r->cpu_period_us;
        if (r->cores)
                snprintf(lim->cpus, sizeof lim->cpus, "%s", r->cores);
}

/* After cgroup.kill some kernels (seen on 6.18) SIGKILL every process later
 * cloned into that cgroup with CLONE_INTO_CGROUP: the slice could never run
 * again. Its process cgroup is made anew instead (it is empty by now). */
static void renew_killed_cgroup(struct sv_slice *s)
{
        struct sl_error err;
        if (!s->proc_cg_killed || !s->proc_cg)
                return;
        s->proc_cg_killed = 0;
        if (s->proc_cg != s->cg) { /* a parent's _self leaf */
                if (sb_cgroup_destroy(s->proc_cg, &err) < 0)
                        sv_log(s->sv, 4, "%s: %s", s->path, err.msg);
                s->proc_cg = NULL;
        } else if (s->n_children == 0) {
                if (sb_cgroup_destroy(s->cg, &err) < 0)
                        sv_log(s->sv, 4, "%s: %s", s->path, err.msg);
                s->cg = s->proc_cg = NULL;
        }
}

int sv_proc_cgroups(struct sv_slice *s, struct sl_error *err)
{
        renew_killed_cgroup(s);
        if (s->cg && !s->proc_cg && sv_slice_runs(s->spec) && s->spec->n_children > 0) {
                char leaf[PATH_MAX];
                struct sb_cgroup_limits none;
                memset(&none, 0, sizeof none);
                if (cg_name(s, "/_self", leaf, sizeof leaf) < 0 ||
                    sb_cgroup_create(&s->sv->cgsys, leaf, &none, &s->proc_cg, err) < 0)
                        return sl_error_prefix(err, "%s", s->path);
                return 0;
        }
        if (!s->sv->have_cgroups || s->cg)
                return 0;
        char name[PATH_MAX];
        struct sb_cgroup_limits lim;
        limits_of(&s->spec->res, &lim);
        if (cg_name(s, "", name, sizeof name) < 0)
                return sl_error_set(err, ENAMETOOLONG, "%s: cgroup name", s->path);
        if (sb_cgroup_create(&s->sv->cgsys, name, &lim, &s->cg, err) < 0)
                return sl_error_prefix(err, "%s", s->path);
        s->proc_cg = s->cg;
        if (sv_slice_runs(s->spec) && s->spec->n_children > 0) {
                /* cgroup v2 allows processes only in leaves: a slice that
                 * runs a command and has children keeps its command in a
                 * leaf of its own ('_' cannot start a slice name). */
                struct sb_cgroup_limits none;
                memset(&none, 0, sizeof none);
                if (cg_name(s, "/_self", name, sizeof name) < 0 ||
                    sb_cgroup_create(&s->sv->cgsys, name, &none, &s->proc_cg, err) < 0)
                        return sl_error_prefix(err, "%s", s->path);
        }
        return 0;
}

static int open_listeners(struct sv_slice *s, struct sl_error *err)
{
        if (s->n_listen > 0 || !s->spec->listen)
                return 0;
        size_t n = 0;
        while (s->spec->listen[n])
                n++;
        if (n > SV_MAX_LISTEN)
                return sl_error_set(err, E2BIG, "%s: more than %d listen sockets", s->path,
                                    SV_MAX_LISTEN);
        free(s->listen_fds);
        free(s->listen_names);
        s->listen_fds = calloc(n, sizeof *s->listen_fds);
        s->listen_names = calloc(n, sizeof *s->listen_names);
        if (!s->listen_fds || !s->listen_names)
                return sl_error_set(err, ENOMEM, "%s: listen sockets", s->path);
        for (size_t i = 0; i < n; i++) {
                int fd = sl_listen_open(s->spec->listen[i], s->listen_names[i], err);
                if (fd < 0)
                        return sl_error_prefix(err, "%s", s->path);
                s->listen_fds[s->n_listen++] = fd;
        }
        return 0;
}

/* spec env over the base env; later entries with the same key win */
static size_t build_env(const struct sv_slice *s, char **env)
{
        size_t n = 0;
        for (size_t i = 0; i < SL_ARRAY_SIZE(base_env); i++)
                env[n++] = (char *)base_env[i];
        for (size_t i = 0; s->spec->env && s->spec->env[i] && n < SV_ENV_MAX; i++) {
                const char *kv = s->spec->env[i];
                size_t klen = strcspn(kv, "=") + 1;
                size_t j = 0;
                while (j < n && strncmp(env[j], kv, klen))
                        j++;
                env[j] = (char *)kv;
                if (j == n)
                        n++;
        }
        env[n] = NULL;
        return n;
}

int sv_proc_spawn(struct sv_slice *s, struct sv_end *failure)
{
        const struct sv_slice_spec *sp = s->spec;
        struct sl_error err;
        memset(failure, 0, sizeof *failure);
        failure->kind = SV_END_SPAWN_FAILED;
        if (sv_proc_cgroups(s, &err) < 0 || open_listeners(s, &err) < 0) {
                failure->code = err.code;
                snprintf(failure->detail, sizeof failure->detail, "%s", err.msg);
                return -1;
        }
        /* the package first: a slice that cannot have it does not start */
        struct sb_bind binds[sp->n_mounts + 1];
        struct sb_overlay overlay;
        size_t n_binds = 0, n_overlays = 0;
        if (sp->package) {
                int m;
                if (sv_package_acquire(s, &err) < 0 ||
                    (m = sv_package_mounts(s, &binds[0], &overlay, &err)) < 0) {
                        sv_package_release(s);
                        failure->code = err.code;
                        snprintf(failure->detail, sizeof failure->detail, "%s", err.msg);
                        return -1;
                }
                n_binds += m == 1;
                n_overlays += m == 2;
        }
        char *env[SV_ENV_MAX + SL_ARRAY_SIZE(base_env) + 1];
        build_env(s, env);
        for (size_t i = 0; i < sp->n_mounts; i++, n_binds++) {
                binds[n_binds].src = sp->mounts[i].src;
                binds[n_binds].dest = sp->mounts[i].dest ? sp->mounts[i].dest : sp->mounts[i].src;
                binds[n_binds].rw = sp->mounts[i].rw;
        }
        struct sb_fd_grant fds[SV_MAX_LISTEN];
        for (size_t i = 0; i < s->n_listen; i++) {
                fds[i].fd = s->listen_fds[i];
                fds[i].name = s->listen_names[i];
        }
        int outp[2] = {-1, -1}, errp[2] = {-1, -1};
        _cleanup_close_ int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0 || pipe2(outp, O_CLOEXEC | O_NONBLOCK) < 0 ||
            pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
                failure->code = errno;
                snprintf(failure->detail, sizeof failure->detail, "output pipes: %s",
                         strerror(errno));
                for (int i = 0; i < 2; i++) {
                        if (outp[i] >= 0)
                                close(outp[i]);
                        if (errp[i] >= 0)
                                close(errp[i]);
                }
                sv_package_release(s);
                return -1;
        }
        /* the slice's ends must block: programs do not expect EAGAIN on stdout */
        fcntl(outp[1], F_SETFL, 0);
        fcntl(errp[1], F_SETFL, 0);

        struct sb_spec spec;
        memset(&spec, 0, sizeof spec);
        /* the topology's exec, else the package's slice template */
        spec.argv = sp->exec ? sp->exec : s->pkg.command;
        spec.env = env;
        spec.profile = sp->profile;
        spec.binds = binds;
        spec.n_binds = n_binds;
        spec.overlays = &overlay;
        spec.n_overlays = n_overlays;
        spec.hostname = sp->hostname ? sp->hostname : sp->name;
        spec.net = sp->net == SV_NET_HOST ? SB_NET_HOST : SB_NET_NONE;
        spec.fds = fds;
        spec.n_fds = s->n_listen;
        spec.parent_fd = -1;
        spec.files = sp->res.files;
        if (sp->res.cores) {
                spec.cpus = sp->res.cpus;
                spec.has_cpus = 1;
        }
        spec.userns = s->sv->root ? 0 : 1;
        spec.uid = s->uid;
        spec.gid = s->gid;
        spec.cgroup = s->proc_cg;
        spec.cwd = sp->cwd;
        spec.stdio[0] = devnull;
        spec.stdio[1] = outp[1];
        spec.stdio[2] = errp[1];

        int chan = -1;
        if (sv_chan_prepare(s, &chan) < 0) {
                failure->code = errno;
                snprintf(failure->detail, sizeof failure->detail, "parent channel: %s",
                         strerror(errno));
                close(outp[0]), close(outp[1]), close(errp[0]), close(errp[1]);
                sv_package_release(s);
                return -1;
        }
        spec.parent_fd = chan;
        s->oom_base = oom_count(s);
        int exec_failed = 0;
        int r = sb_spawn(&spec, &s->proc, &exec_failed, &err);
        close(chan);
        sv_chan_started(s, r == 0);
        close(outp[1]);
        close(errp[1]);
        if (r < 0) {
                close(outp[0]);
                close(errp[0]);
                sv_package_release(s);
                failure->code = err.code;
                snprintf(failure->detail, sizeof failure->detail, "%s", err.msg);
                return -1;
        }
        s->running = 1;
        s->out = sv_watch_start(s, outp[0], SV_WATCH_OUT, SV_LINE_MAX, stream_cb);
        s->err = sv_watch_start(s, errp[0], SV_WATCH_ERR, SV_LINE_MAX, stream_cb);
        s->pidwatch = sv_watch_start(s, s->proc.pidfd, SV_WATCH_PID, 0, pid_cb);
        if (!s->out || !s->err || !s->pidwatch) {
                /* cannot watch it: do not leave it running unsupervised */
                sb_signal(&s->proc, SIGKILL, NULL);
                failure->code = ENOMEM;
                snprintf(failure->detail, sizeof failure->detail, "cannot watch the process");
                if (!s->pidwatch) {
                        struct sb_exit ex;
                        sb_wait(&s->proc, &ex, NULL);
                        s->running = 0;
                        sv_package_release(s);
                        return -1;
                }
        }
        return 0;
}

void sv_proc_signal(struct sv_slice *s, int sig)
{
        if (!s->running || !s->pidwatch)
                return;
        if (syscall(SYS_pidfd_send_signal, s->pidwatch->fd, sig, NULL, 0) < 0 && errno != ESRCH)
                sv_log(s->sv, 4, "%s: signal %d: %s", s->path, sig, strerror(errno));
}

/* Last resort of a stop: SIGKILL the reaper (the kernel then kills the pid
 * namespace) and every process left in the slice's cgroup. */
void sv_proc_kill_all(struct sv_slice *s)
{
        sv_proc_signal(s, SIGKILL);
        struct sl_error err;
        if (s->proc_cg && sb_cgroup_kill(s->proc_cg, &err) < 0)
                sv_log(s->sv, 4, "%s: %s", s->path, err.msg);
        if (s->proc_cg)
                s->proc_cg_killed = 1;
}

void sv_proc_release(struct sv_slice *s)
{
        sv_package_release(s);
        sv_watch_stop(&s->pidwatch);
        sv_watch_stop(&s->out);
        sv_watch_stop(&s->err);
        for (size_t i = 0; i < s->n_listen; i++)
                close(s->listen_fds[i]);
        s->n_listen = 0;
        free(s->listen_fds);
        free(s->listen_names);
        s->listen_fds = NULL;
        s->listen_names = NULL;
        struct sl_error err;
        if (s->proc_cg && s->proc_cg != s->cg && sb_cgroup_destroy(s->proc_cg, &err) < 0)
                sv_log(s->sv, 4, "%s: %s", s->path, err.msg);
        s->proc_cg = NULL;
}
