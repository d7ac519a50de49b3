/* Exec health probes: a command run inside the slice (its namespaces,
 * cgroup, uid, no capabilities, seccomp) every interval; exit 0 is healthy.
 * `failures` consecutive failures (or timeouts) make the slice unhealthy,
 * which restarts it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "supervisor/supervisor.h"

enum { SV_WATCH_PROBE_KIND = 4 };

static void probe_done(struct sv_slice *s, int ok, const char *why);

/* What a probe printed (stdout and stderr share a pipe): its last line is
 * the reason given when it fails, as docker and kubectl show it. */
#define SV_PROBE_OUTPUT_MAX 256

static void probe_output(struct sv_slice *s, char *buf, size_t cap)
{
        buf[0] = '\0';
        if (s->probe_out < 0)
                return;
        char tmp[4096];
        ssize_t n = read(s->probe_out, tmp, sizeof tmp - 1);
        close(s->probe_out);
        s->probe_out = -1;
        if (n <= 0)
                return;
        while (n > 0 && (tmp[n - 1] == '\n' || tmp[n - 1] == '\r'))
                n--;
        tmp[n] = '\0';
        const char *last = strrchr(tmp, '\n');
        const char *line = last ? last + 1 : tmp;
        size_t len = strnlen(line, cap - 1);
        memcpy(buf, line, len);
        buf[len] = '\0';
}

static void probe_exit_cb(uv_poll_t *h, int status, int events)
{
        (void)status;
        (void)events;
        struct sv_watch *w = h->data;
        struct sv_slice *s = w->slice;
        if (!s)
                return;
        struct sb_exit ex;
        struct sl_error err;
        int r = sv_watch_wait(w, &s->probe, &ex, &err);
        sv_watch_stop(&s->probewatch);
        char out[SV_PROBE_OUTPUT_MAX];
        probe_output(s, out, sizeof out);
        char why[SV_PROBE_OUTPUT_MAX + 64];
        if (r < 0) {
                probe_done(s, 0, "could not be waited for");
        } else if (uv_now(s->sv->loop) >= s->probe_deadline_ms) {
                probe_done(s, 0, "timed out");
        } else if (ex.kind == SB_EXIT_CODE && ex.code == 0) {
                probe_done(s, 1, NULL);
        } else {
                if (ex.kind == SB_EXIT_CODE)
                        snprintf(why, sizeof why, "exited %d%s%s", ex.code, *out ? ": " : "", out);
                else
                        snprintf(why, sizeof why, "killed by signal %d%s%s", ex.signal,
                                 *out ? ": " : "", out);
                probe_done(s, 0, why);
        }
}

static void probe_tick(uv_timer_t *t);

static void probe_start(struct sv_slice *s)
{
        const struct sv_health *h = &s->spec->health;
        if (!s->running) /* the slice ended in between: its exit is handled elsewhere */
                return;
        char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                       "HOME=/tmp", NULL};
        struct sb_exec_spec x;
        memset(&x, 0, sizeof x);
        x.argv = h->exec;
        x.env = env;
        x.profile = s->spec->profile;
        x.uid = s->uid;
        x.gid = s->gid;
        x.userns = !s->sv->root;
        x.cgroup = s->proc_cg;
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
                probe_done(s, 0, strerror(errno));
                return;
        }
        x.stdio[0] = -1;
        x.stdio[1] = x.stdio[2] = pipefd[1];
        struct sb_slice running = s->proc;
        running.pidfd = s->pidwatch ? s->pidwatch->fd : -1;
        struct sl_error err;
        int r = running.pidfd < 0 ? -1 : sb_exec_in(&running, &x, &s->probe, &err);
        close(pipefd[1]);
        if (r < 0) {
                close(pipefd[0]);
                probe_done(s, 0, running.pidfd < 0 ? "slice not running" : err.msg);
                return;
        }
        if (s->probe_out >= 0)
                close(s->probe_out);
        s->probe_out = pipefd[0];
        s->probe_deadline_ms = uv_now(s->sv->loop) + h->timeout_ms;
        s->probewatch = sv_watch_start(s, s->probe.pidfd, SV_WATCH_PROBE_KIND, 0, probe_exit_cb);
        if (!s->probewatch) {
                sb_signal(&s->probe, SIGKILL, NULL);
                struct sb_exit ex;
                sb_wait(&s->probe, &ex, NULL);
                probe_done(s, 0, "cannot watch the probe");
                return;
        }
        /* the timer doubles as the timeout while the probe runs */
        uv_timer_start(&s->health_timer, probe_tick, h->timeout_ms, 0);
}

static void probe_tick(uv_timer_t *t)
{
        struct sv_slice *s = t->data;
        if (s->probewatch) { /* still running at its deadline: kill it */
                if (syscall(SYS_pidfd_send_signal, s->probewatch->fd, SIGKILL, NULL, 0) < 0 &&
                    errno != ESRCH)
                        sv_log(s->sv, 4, "%s: kill health probe: %s", s->path, strerror(errno));
                return; /* its exit arrives through probe_exit_cb */
        }
        probe_start(s);
}

static void probe_done(struct sv_slice *s, int ok, const char *why)
{
        const struct sv_health *h = &s->spec->health;
        if (ok) {
                s->health_failures = 0;
                if (s->state == SV_ST_RUNNING)
                        sv_slice_event(s, SV_EV_HEALTHY);
        } else if (uv_now(s->sv->loop) - s->started_ms < h->start_period_ms) {
                /* still starting: a failure does not count yet */
                sv_log(s->sv, 7, "%s: health check not passing yet (start period): %s", s->path,
                       why);
        } else {
                s->health_failures++;
                sv_log(s->sv, 4, "%s: health check failed (%u/%u): %s", s->path, s->health_failures,
                       h->failure_threshold, why);
                if (s->health_failures >= h->failure_threshold) {
                        sv_slice_event(s, SV_EV_UNHEALTHY);
                        return;
                }
        }
        if (s->state == SV_ST_RUNNING || s->state == SV_ST_READY)
                uv_timer_start(&s->health_timer, probe_tick, h->interval_ms, 0);
}

/* Heartbeats on the parent channel (libslice answers them on its own): a
 * slice that stops answering is hung and gets restarted. */
static void heartbeat_tick(uv_timer_t *t)
{
        struct sv_slice *s = t->data;
        if (!s->running)
                return;
        int counting = uv_now(s->sv->loop) - s->started_ms >= s->spec->health.start_period_ms;
        if (sv_heartbeat_tick(s, counting) < 0) {
                uv_timer_stop(&s->health_timer);
                s->health_failures = s->hb_missed;
                sv_log(s->sv, 4, "%s: %u heartbeats unanswered", s->path, s->hb_missed);
                sv_slice_event(s, SV_EV_UNHEALTHY);
        }
}

void sv_health_arm(struct sv_slice *s)
{
        const struct sv_health *h = &s->spec->health;
        if (h->kind == SV_HEALTH_HEARTBEAT) {
                s->hb_missed = 0;
                uv_timer_start(&s->health_timer, heartbeat_tick, 0, h->heartbeat_ms);
                return;
        }
        s->health_failures = 0;
        /* the first probe at once: a slice is ready as soon as it passes */
        uv_timer_start(&s->health_timer, probe_tick, 0, 0);
}

void sv_health_disarm(struct sv_slice *s)
{
        uv_timer_stop(&s->health_timer);
        if (s->probewatch) {
                syscall(SYS_pidfd_send_signal, s->probewatch->fd, SIGKILL, NULL, 0);
                /* reap it so no zombie is left behind */
                struct sb_exit ex;
                sv_watch_wait(s->probewatch, &s->probe, &ex, NULL);
                sv_watch_stop(&s->probewatch);
        }
        if (s->probe_out >= 0) {
                close(s->probe_out);
                s->probe_out = -1;
        }
}
