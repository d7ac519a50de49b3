/* The slice tree at run time: lifecycle dispatch, start order, stop order,
 * reload. Processes are proc.c's, health checks health.c's, the state
 * report report.c's. */
#include "supervisor/supervisor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "lib/cleanup.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

void sv_log(struct sv_supervisor *sv, int prio, const char *fmt, ...)
{
        char line[1024];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        if (sv && sv->journal) {
                sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=sliced",
                                NULL);
                return;
        }
        static const char *const level[] = {"emerg",   "alert",  "crit", "error",
                                            "warning", "notice", "info", "debug"};
        fprintf(stderr, "sliced: %s: %s\n", level[prio & 7], line);
}

struct sv_slice *sv_find(struct sv_supervisor *sv, const char *path)
{
        for (size_t i = 0; i < sv->n_slices; i++)
                if (!strcmp(sv->slices[i]->path, path))
                        return sv->slices[i];
        return NULL;
}

static void topo_unref(struct sv_topo_ref *r)
{
        if (r && --r->refs == 0) {
                sv_topology_free(r->t);
                free(r);
        }
}

static int is_up(const struct sv_slice *s)
{
        return s->state == SV_ST_STARTING || s->state == SV_ST_RUNNING || s->state == SV_ST_READY ||
               s->state == SV_ST_STOPPING;
}

static int is_settled_down(const struct sv_slice *s)
{
        return !s->running &&
               (s->state == SV_ST_STOPPED || s->state == SV_ST_DOWN || s->state == SV_ST_FAILED);
}

static int deps_ready(const struct sv_slice *s)
{
        for (size_t i = 0; i < s->n_deps; i++)
                if (s->deps[i]->state != SV_ST_READY)
                        return 0;
        return 1;
}

/* ---- restart policy bookkeeping ---- */

static unsigned restarts_in_window(struct sv_slice *s)
{
        uint64_t now = uv_now(s->sv->loop), window = s->spec->restart.crash_loop_window_ms;
        unsigned n = 0;
        for (unsigned i = 0; i < s->restart_times_n; i++)
                if (now - s->restart_times[i] < window)
                        n++;
        return n;
}

static void note_restart(struct sv_slice *s)
{
        if (s->restart_times_n == SV_RESTART_HISTORY) {
                memmove(s->restart_times, s->restart_times + 1,
                        (SV_RESTART_HISTORY - 1) * sizeof s->restart_times[0]);
                s->restart_times_n--;
        }
        s->restart_times[s->restart_times_n++] = uv_now(s->sv->loop);
        s->restarts++;
}

static void timer_cb(uv_timer_t *t)
{
        struct sv_slice *s = t->data;
        if (s->state == SV_ST_BACKOFF)
                sv_slice_event(s, SV_EV_BACKOFF_DONE);
        else if (s->state == SV_ST_STOPPING)
                sv_slice_event(s, SV_EV_STOP_TIMEOUT);
}

/* The run ended: ask the policy what next. Returns the next state. */
static enum sv_state ended(struct sv_slice *s)
{
        const struct sv_slice_spec *sp = s->spec;
        int failure = !(s->last_end.kind == SV_END_EXIT && s->last_end.code == 0);
        /* a run that outlived the crash-loop window was healthy enough to
         * start the back-off sequence afresh */
        if (s->started_ms &&
            uv_now(s->sv->loop) - s->started_ms >= sp->restart.crash_loop_window_ms)
                s->consecutive_failures = 0;
        if (failure && !s->pkg_busy)
                s->consecutive_failures++;
        if (!s->want_up)
                return SV_ST_STOPPED;
        if (s->pkg_busy) {
                /* not the slice's failure: the store was locked by a writer.
                 * Try again soon, whatever the policy, without counting it */
                s->next_try_ms = uv_now(s->sv->loop) + SV_STORE_BUSY_RETRY_MS;
                uv_timer_start(&s->timer, timer_cb, SV_STORE_BUSY_RETRY_MS, 0);
                return SV_ST_BACKOFF;
        }
        uint64_t delay = 0;
        enum sv_state next = sv_restart_decide(&sp->restart, &s->last_end, restarts_in_window(s),
                                               s->consecutive_failures, &delay);
        if (next == SV_ST_BACKOFF) {
                s->next_try_ms = uv_now(s->sv->loop) + delay;
                uv_timer_start(&s->timer, timer_cb, delay, 0);
        }
        return next;
}

/* ---- dispatch ---- */

static void after_change(struct sv_slice *s);

static void describe_state(const struct sv_slice *s, char *buf, size_t len)
{
        char end[SL_ERROR_MSG_MAX + 64];
        sv_end_describe(&s->last_end, end, sizeof end);
        switch (s->state) {
        case SV_ST_BACKOFF: {
                uint64_t now = uv_now(s->sv->loop);
                uint64_t left = s->next_try_ms > now ? s->next_try_ms - now : 0;
                snprintf(buf, len, "back-off: %s, next try in %.1f s", end, (double)left / 1000);
                return;
        }
        case SV_ST_FAILED:
                snprintf(buf, len, "failed: %s, %u restarts within %.0f s", end,
                         restarts_in_window((struct sv_slice *)s),
                         (double)s->spec->restart.crash_loop_window_ms / 1000);
                return;
        case SV_ST_DOWN: snprintf(buf, len, "down: %s", end); return;
        default: snprintf(buf, len, "%s", sv_state_name(s->state)); return;
        }
}

void sv_slice_event(struct sv_slice *s, enum sv_event ev)
{
        const struct sv_transition *t = sv_lifecycle_step(s->state, ev);
        enum sv_state old = s->state, next = t->next;
        struct sv_end failure;
        switch (t->action) {
        case SV_ACT_INVALID:
                sv_log(s->sv, 3, "%s: event %s in state %s ignored (bug)", s->path,
                       sv_event_name(ev), sv_state_name(old));
                return;
        case SV_ACT_NONE: break;
        case SV_ACT_WAIT_DEPS:
                if (old == SV_ST_BACKOFF && !s->pkg_busy)
                        note_restart(s);
                s->pkg_busy = 0;
                s->state = next;
                if (deps_ready(s))
                        sv_slice_event(s, SV_EV_DEPS_READY);
                else
                        sv_report_mark_dirty(s->sv);
                return;
        case SV_ACT_SPAWN:
                s->state = SV_ST_STARTING;
                if (!sv_slice_runs(s->spec)) { /* a group: its cgroup, nothing to run */
                        struct sl_error cgerr;
                        if (sv_proc_cgroups(s, &cgerr) < 0) {
                                s->last_end.kind = SV_END_SPAWN_FAILED;
                                s->last_end.code = cgerr.code;
                                snprintf(s->last_end.detail, sizeof s->last_end.detail, "%s",
                                         cgerr.msg);
                                sv_log(s->sv, 3, "%s", cgerr.msg);
                                sv_slice_event(s, SV_EV_SPAWN_FAILED);
                                return;
                        }
                        s->state = SV_ST_READY;
                        after_change(s);
                        return;
                }
                if (sv_proc_spawn(s, &failure) < 0) {
                        s->last_end = failure;
                        /* a busy store is not an error, only a wait */
                        sv_log(s->sv, s->pkg_busy ? 4 : 3, "%s: spawn failed: %s", s->path,
                               failure.detail);
                        sv_slice_event(s, SV_EV_SPAWN_FAILED);
                        return;
                }
                s->started_ms = uv_now(s->sv->loop);
                sv_slice_event(s, SV_EV_SPAWNED);
                return;
        case SV_ACT_ARM_HEALTH:
                s->state = next;
                s->health_failures = 0;
                if (s->spec->health.kind != SV_HEALTH_NONE) {
                        sv_health_arm(s);
                        after_change(s);
                } else {
                        sv_slice_event(s, SV_EV_HEALTHY);
                }
                return;
        case SV_ACT_ENDED:
                sv_health_disarm(s);
                next = ended(s);
                break;
        case SV_ACT_TERM:
                sv_health_disarm(s);
                if (!s->running) {
                        next = SV_ST_STOPPED;
                        break;
                }
                sv_proc_signal(s, SIGTERM);
                uv_timer_start(&s->timer, timer_cb, s->spec->stop_timeout_ms, 0);
                break;
        case SV_ACT_RESTART:
                sv_log(s->sv, 4, "%s: unhealthy after %u failed checks, restarting", s->path,
                       s->health_failures);
                s->restart_after_stop = 1;
                sv_health_disarm(s);
                sv_proc_signal(s, SIGTERM);
                uv_timer_start(&s->timer, timer_cb, s->spec->stop_timeout_ms, 0);
                break;
        case SV_ACT_KILL:
                sv_log(s->sv, 4, "%s: still running %.1f s after SIGTERM, killing", s->path,
                       (double)s->spec->stop_timeout_ms / 1000);
                sv_proc_kill_all(s);
                break;
        case SV_ACT_CANCEL: uv_timer_stop(&s->timer); break;
        case SV_ACT_STOPPED:
                uv_timer_stop(&s->timer);
                if (s->restart_after_stop) {
                        s->restart_after_stop = 0;
                        s->last_end.kind = SV_END_UNHEALTHY;
                        snprintf(s->last_end.detail, sizeof s->last_end.detail,
                                 s->spec->health.kind == SV_HEALTH_HEARTBEAT
                                     ? "%u heartbeats unanswered"
                                     : "%u failed health checks",
                                 s->health_failures);
                        next = ended(s);
                }
                break;
        }
        s->state = next;
        after_change(s);
}

static void stop_sweep(struct sv_supervisor *sv);
static void finish_pending(struct sv_slice *s);

/* Log the change, wake what waited on it, keep the report current. */
static void after_change(struct sv_slice *s)
{
        struct sv_supervisor *sv = s->sv;
        char what[SL_ERROR_MSG_MAX + 128];
        describe_state(s, what, sizeof what);
        sv_log(sv, 6, "%s: %s", s->path, what);
        sv_report_mark_dirty(sv);
        sv_api_event(sv->api, s);
        /* only slices that depend on this one can have become startable */
        for (size_t i = 0; s->state == SV_ST_READY && i < s->n_dependents; i++) {
                struct sv_slice *c = s->dependents[i];
                if (c->state == SV_ST_WAITING && c->want_up && deps_ready(c))
                        sv_slice_event(c, SV_EV_DEPS_READY);
        }
        if (is_settled_down(s))
                finish_pending(s);
        stop_sweep(sv);
}

/* ---- stopping in reverse order ---- */

/* A slice may stop once nothing that depends on it still runs: its clients
 * (slices whose deps include it) and its children. */
/* Only clients that are going down too hold a server up; one that stays
 * keeps running while its server restarts. */
static int going_down(const struct sv_slice *c)
{
        return is_up(c) && !c->want_up;
}

static int clients_down(const struct sv_slice *s)
{
        for (size_t i = 0; i < s->n_children; i++)
                if (going_down(s->children[i]))
                        return 0;
        for (size_t i = 0; i < s->n_dependents; i++)
                if (going_down(s->dependents[i]))
                        return 0;
        return 1;
}

static void stop_sweep(struct sv_supervisor *sv)
{
        if (sv->sweeping) /* events below re-enter through after_change */
                return;
        /* it runs after every state change: the usual case (nothing on its
         * way down) returns after one pass over the slices */
        int pending = sv->shutting_down;
        for (size_t i = 0; i < sv->n_slices && !pending; i++)
                pending = !sv->slices[i]->want_up;
        if (!pending)
                return;
        sv->sweeping = 1;
        for (int again = 1; again;) {
                again = 0;
                for (size_t i = sv->n_slices; i-- > 0;) {
                        struct sv_slice *s = sv->slices[i];
                        if (s->want_up || s->state == SV_ST_STOPPING || is_settled_down(s))
                                continue;
                        if (!clients_down(s))
                                continue;
                        sv_slice_event(s, SV_EV_STOP);
                        again = 1;
                }
        }
        sv->sweeping = 0;
        if (sv->shutting_down) {
                for (size_t i = 0; i < sv->n_slices; i++)
                        if (!is_settled_down(sv->slices[i]))
                                return;
                uv_stop(sv->loop);
        }
}

/* ---- the runtime tree ---- */

static void slice_closed(uv_handle_t *h)
{
        struct sv_slice *s = h->data;
        if (--s->handles_open == 0) {
                free(s->children);
                free(s->deps);
                free(s->dependents);
                free(s->path);
                free(s);
        }
}

static struct sv_slice *slice_new(struct sv_supervisor *sv, struct sv_slice_spec *spec,
                                  struct sv_topo_ref *topo, struct sv_slice *parent)
{
        struct sv_slice *s = calloc(1, sizeof *s);
        if (!s || !(s->path = strdup(spec->path)) ||
            sv_logring_init(&s->log, sv->cfg.log_ring_lines) < 0) {
                if (s)
                        free(s->path);
                free(s);
                return NULL;
        }
        s->sv = sv;
        s->spec = spec;
        s->topo = topo;
        topo->refs++;
        s->parent = parent;
        s->want_up = 1;
        s->proc.pidfd = s->proc.report_fd = -1;
        for (int i = 0; i < SB_NS__COUNT; i++)
                s->proc.ns_fds[i] = s->probe.ns_fds[i] = -1;
        s->probe.pidfd = s->probe.report_fd = -1;
        s->probe_out = -1;
        if (sv->root) {
                /* a uid of its own per slice, stable for the daemon's life */
                s->uid = sv->cfg.uid_first + sv->next_uid++ % sv->cfg.uid_count;
                s->gid = s->uid;
        } else {
                s->uid = geteuid();
                s->gid = getegid();
        }
        uv_timer_init(sv->loop, &s->timer);
        uv_timer_init(sv->loop, &s->health_timer);
        s->timer.data = s->health_timer.data = s;
        s->handles_open = 2;
        return s;
}

static void slice_destroy(struct sv_slice *s)
{
        sv_health_disarm(s);
        sv_proc_release(s);
        struct sl_error err;
        if (s->cg && sb_cgroup_destroy(s->cg, &err) < 0)
                sv_log(s->sv, 4, "%s: %s", s->path, err.msg);
        s->cg = NULL;
        sv_logring_free(&s->log);
        sv_sessions_slice_gone(s, "removed");
        free(s->report_json);
        s->report_json = NULL;
        topo_unref(s->topo);
        topo_unref(s->pending_topo);
        uv_close((uv_handle_t *)&s->timer, slice_closed);
        uv_close((uv_handle_t *)&s->health_timer, slice_closed);
}

static int push(struct sv_slice ***arr, size_t *n, struct sv_slice *s)
{
        struct sv_slice **a = realloc(*arr, (*n + 1) * sizeof *a);
        if (!a)
                return -1;
        a[(*n)++] = s;
        *arr = a;
        return 0;
}

static void unlink_slice(struct sv_supervisor *sv, struct sv_slice *s)
{
        struct sv_slice **arr = s->parent ? s->parent->children : sv->roots;
        size_t *n = s->parent ? &s->parent->n_children : &sv->n_roots;
        for (size_t i = 0; i < *n; i++)
                if (arr[i] == s) {
                        memmove(arr + i, arr + i + 1, (*n - i - 1) * sizeof *arr);
                        (*n)--;
                        break;
                }
        for (size_t i = 0; i < sv->n_slices; i++)
                if (sv->slices[i] == s) {
                        memmove(sv->slices + i, sv->slices + i + 1,
                                (sv->n_slices - i - 1) * sizeof *sv->slices);
                        sv->n_slices--;
                        break;
                }
}

static int by_rank(const void *a, const void *b)
{
        const struct sv_slice *x = *(struct sv_slice *const *)a, *y = *(struct sv_slice *const *)b;
        return (x->spec->start_rank > y->spec->start_rank) -
               (x->spec->start_rank < y->spec->start_rank);
}

static int order_visit(struct sv_supervisor *sv, struct sv_slice **list, size_t n)
{
        if (n > 1) /* a leaf has no list at all: qsort(NULL, 0) is undefined */
                qsort(list, n, sizeof *list, by_rank);
        for (size_t i = 0; i < n; i++)
                if (push(&sv->slices, &sv->n_slices, list[i]) < 0 ||
                    order_visit(sv, list[i]->children, list[i]->n_children) < 0)
                        return -1;
        return 0;
}

static struct sv_slice *child_named(struct sv_slice **list, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (!strcmp(list[i]->spec->name, name))
                        return list[i];
        return NULL;
}

/* Start order: parents before children, siblings by rank; each slice
 * waits for the siblings and children its routes name. */
static int rebuild_order(struct sv_supervisor *sv)
{
        free(sv->slices);
        sv->slices = NULL;
        sv->n_slices = 0;
        if (order_visit(sv, sv->roots, sv->n_roots) < 0)
                return -1;
        for (size_t i = 0; i < sv->n_slices; i++) {
                struct sv_slice *s = sv->slices[i];
                free(s->dependents);
                s->dependents = NULL;
                s->n_dependents = 0;
        }
        for (size_t i = 0; i < sv->n_slices; i++) {
                struct sv_slice *s = sv->slices[i];
                free(s->deps);
                s->deps = NULL;
                s->n_deps = 0;
                struct sv_slice **sibs = s->parent ? s->parent->children : sv->roots;
                size_t n_sibs = s->parent ? s->parent->n_children : sv->n_roots;
                for (size_t r = 0; r < s->spec->n_routes; r++) {
                        const struct sv_route *rt = &s->spec->routes[r];
                        if (rt->target != SV_ROUTE_SLICE)
                                continue;
                        struct sv_slice *d = child_named(s->children, s->n_children, rt->slice);
                        if (!d)
                                d = child_named(sibs, n_sibs, rt->slice);
                        if (d && d != s &&
                            (push(&s->deps, &s->n_deps, d) < 0 ||
                             push(&d->dependents, &d->n_dependents, s) < 0))
                                return -1;
                }
        }
        return 0;
}

/* Create runtime slices for specs that have none; retarget kept ones. */
static int adopt(struct sv_supervisor *sv, struct sv_slice_spec *specs, size_t n,
                 struct sv_slice *parent, struct sv_topo_ref *ref, int *seen_gen)
{
        for (size_t i = 0; i < n; i++) {
                struct sv_slice_spec *spec = &specs[i];
                struct sv_slice **sibs = parent ? parent->children : sv->roots;
                size_t n_sibs = parent ? parent->n_children : sv->n_roots;
                struct sv_slice *s = child_named(sibs, n_sibs, spec->name);
                if (!s) {
                        s = slice_new(sv, spec, ref, parent);
                        if (!s || push(parent ? &parent->children : &sv->roots,
                                       parent ? &parent->n_children : &sv->n_roots, s) < 0)
                                return -1;
                        sv_log(sv, 6, "%s: new slice", s->path);
                } else if (!memcmp(s->spec->digest, spec->digest, sizeof spec->digest) &&
                           !s->remove_after_stop && !s->pending_spec) {
                        /* (a slice already on its way to a restart or out
                         * takes the new spec by the same path instead) */
                        int config_changed =
                            !!s->spec->config_json != !!spec->config_json ||
                            (spec->config_json && strcmp(s->spec->config_json, spec->config_json));
                        topo_unref(s->topo); /* unchanged: keeps running untouched */
                        s->spec = spec;
                        s->topo = ref;
                        ref->refs++;
                        if (config_changed && s->running)
                                sv_sessions_config_changed(s);
                } else {
                        sv_log(sv, 6, "%s: changed, restarting", s->path);
                        topo_unref(s->pending_topo);
                        s->pending_spec = spec;
                        s->pending_topo = ref;
                        ref->refs++;
                        s->want_up = 0;
                        s->remove_after_stop = 0;
                }
                s->seen = *seen_gen;
                if (adopt(sv, spec->children, spec->n_children, s, ref, seen_gen) < 0)
                        return -1;
        }
        return 0;
}

/* A slice that has come to rest: apply what a reload left pending. */
static void finish_pending(struct sv_slice *s)
{
        struct sv_supervisor *sv = s->sv;
        if (s->remove_after_stop) {
                for (size_t i = 0; i < s->n_children; i++)
                        if (!is_settled_down(s->children[i]))
                                return; /* children go first (their cgroups nest in ours) */
                if (s->n_children)
                        return;
                sv_log(sv, 6, "%s: removed", s->path);
                struct sv_slice *parent = s->parent;
                unlink_slice(sv, s);
                slice_destroy(s);
                rebuild_order(sv);
                if (parent && parent->remove_after_stop && is_settled_down(parent))
                        finish_pending(parent);
                sv_report_mark_dirty(sv);
                return;
        }
        if (!s->pending_spec)
                return;
        /* the new spec takes over; limits and sockets are made afresh */
        sv_proc_release(s);
        if (s->n_children == 0 && s->cg) {
                struct sl_error err;
                if (sb_cgroup_destroy(s->cg, &err) < 0)
                        sv_log(sv, 4, "%s: %s", s->path, err.msg);
                s->cg = NULL;
        }
        topo_unref(s->topo);
        s->spec = s->pending_spec;
        s->topo = s->pending_topo;
        s->pending_spec = NULL;
        s->pending_topo = NULL;
        s->restart_times_n = 0;
        s->consecutive_failures = 0;
        memset(&s->last_end, 0, sizeof s->last_end);
        s->want_up = 1;
        rebuild_order(sv);
        if (!sv->shutting_down)
                sv_slice_event(s, SV_EV_START);
}

/* Slices the new topology no longer names go down and away. */
static void retire_unseen(struct sv_supervisor *sv)
{
        for (size_t i = 0; i < sv->n_slices; i++) {
                struct sv_slice *s = sv->slices[i];
                if (s->seen == sv->generation)
                        continue;
                if (!s->remove_after_stop)
                        sv_log(sv, 6, "%s: no longer in the topology, stopping", s->path);
                s->want_up = 0;
                s->remove_after_stop = 1;
        }
}

static int apply_topology(struct sv_supervisor *sv, struct sv_topology *t)
{
        struct sv_topo_ref *ref = calloc(1, sizeof *ref);
        if (!ref)
                return -1;
        ref->t = t;
        ref->refs = 1; /* held by sv->topo */
        sv->generation++;
        int r = adopt(sv, t->slices, t->n_slices, NULL, ref, &sv->generation);
        topo_unref(sv->topo);
        sv->topo = ref;
        if (r < 0 || rebuild_order(sv) < 0)
                return -1;
        retire_unseen(sv);
        sv_sessions_recheck(sv);
        /* settle what can settle now (changed slices that are not running) */
        for (size_t i = 0; i < sv->n_slices; i++) {
                struct sv_slice *s = sv->slices[i];
                if (is_settled_down(s) && (s->pending_spec || s->remove_after_stop))
                        finish_pending(s);
        }
        for (size_t i = 0; i < sv->n_slices; i++) {
                struct sv_slice *s = sv->slices[i];
                if (s->want_up && s->state == SV_ST_STOPPED && !s->pending_spec)
                        sv_slice_event(s, SV_EV_START);
        }
        stop_sweep(sv);
        sv_report_mark_dirty(sv);
        return 0;
}

static void log_diag(struct sv_supervisor *sv, const struct sv_diag *d, const struct sl_error *err)
{
        for (size_t i = 0; i < d->n; i++)
                sv_log(sv, 3, "%s", d->msgs[i]);
        sv_log(sv, 3, "%s", err->msg);
}

int sv_supervisor_reload(struct sv_supervisor *sv)
{
        struct sv_topology *t = NULL;
        struct sv_diag diag = {0};
        struct sl_error err;
        sv_log(sv, 6, "reloading %s", sv->topology_path);
        sd_notify(0, "RELOADING=1");
        if (sv_topology_load(sv->topology_path, &t, &diag, &err) < 0) {
                log_diag(sv, &diag, &err);
                sv_log(sv, 3, "reload refused: the running topology stays as it was");
                sv_diag_free(&diag);
                sd_notify(0, "READY=1\nSTATUS=reload refused: invalid topology");
                return -1;
        }
        sv_diag_free(&diag);
        int r = apply_topology(sv, t);
        sd_notify(0, "READY=1");
        return r;
}

/* ---- signals, watchdog, lifetime ---- */

static void on_signal(uv_signal_t *h, int sig)
{
        struct sv_supervisor *sv = h->data;
        if (sig == SIGHUP) {
                if (!sv->shutting_down)
                        sv_supervisor_reload(sv);
                return;
        }
        sv_supervisor_shutdown(sv);
}

static void on_watchdog(uv_timer_t *t)
{
        (void)t;
        sd_notify(0, "WATCHDOG=1");
}

void sv_supervisor_shutdown(struct sv_supervisor *sv)
{
        if (sv->shutting_down)
                return;
        sv_log(sv, 6, "stopping %zu slices", sv->n_slices);
        sd_notify(0, "STOPPING=1");
        sv->shutting_down = 1;
        for (size_t i = 0; i < sv->n_slices; i++)
                sv->slices[i]->want_up = 0;
        stop_sweep(sv);
}

static void init_signal(struct sv_supervisor *sv, uv_signal_t *h, int sig)
{
        uv_signal_init(sv->loop, h);
        h->data = sv;
        uv_signal_start(h, on_signal, sig);
}

static int limits_declared(const struct sv_slice_spec *s, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (s[i].res.memory || s[i].res.pids || s[i].res.cpu_weight ||
                    s[i].res.cpu_quota_us || limits_declared(s[i].children, s[i].n_children))
                        return 1;
        return 0;
}

int sv_supervisor_init(struct sv_supervisor *sv, uv_loop_t *loop, const struct sv_config *cfg,
                       const char *topology_path, struct sl_error *err)
{
        memset(sv, 0, sizeof *sv);
        sv->loop = loop;
        sv->cfg = *cfg;
        sv->root = geteuid() == 0;
        snprintf(sv->topology_path, sizeof sv->topology_path, "%s", topology_path);
        sv->journal = cfg->log_target == SV_LOG_JOURNAL ||
                      (cfg->log_target == SV_LOG_AUTO && access(JOURNAL_SOCKET, W_OK) == 0);
        if (cfg->log_target == SV_LOG_JOURNAL && access(JOURNAL_SOCKET, W_OK) < 0)
                return sl_error_errno(err, "log_target journal: `%s`", JOURNAL_SOCKET);
        struct sv_topology *t = NULL;
        struct sv_diag diag = {0};
        if (sv_topology_load(topology_path, &t, &diag, err) < 0) {
                log_diag(sv, &diag, err);
                sv_diag_free(&diag);
                return -1;
        }
        sv_diag_free(&diag);
        struct sl_error cgerr;
        if (sb_cgroup_sys_init(&sv->cgsys, cfg->cgroup_fsroot, cfg->cgroup_base, &cgerr) == 0) {
                sv->have_cgroups = 1;
        } else if (limits_declared(t->slices, t->n_slices)) {
                /* said loudly, once, and in the state report: the topology's
                 * memory/pids/cpu limits are not enforced on this run */
                sv_log(sv, 4, "resource limits are NOT enforced: %s", cgerr.msg);
        }
        init_signal(sv, &sv->sig_term, SIGTERM);
        init_signal(sv, &sv->sig_int, SIGINT);
        init_signal(sv, &sv->sig_hup, SIGHUP);
        uv_timer_init(loop, &sv->report_timer);
        uv_timer_init(loop, &sv->session_timer);
        sv->session_timer.data = sv;
        uv_timer_init(loop, &sv->watchdog_timer);
        sv->report_timer.data = sv->watchdog_timer.data = sv;
        uint64_t wd_usec = 0;
        if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0)
                uv_timer_start(&sv->watchdog_timer, on_watchdog, wd_usec / 2000, wd_usec / 2000);
        sv_package_inuse_init(sv);
        if (apply_topology(sv, t) < 0)
                return sl_error_set(err, ENOMEM, "building the slice tree");
        return 0;
}

int sv_supervisor_start(struct sv_supervisor *sv, struct sl_error *err)
{
        char status[128];
        size_t ready = 0;
        for (size_t i = 0; i < sv->n_slices; i++)
                ready += sv->slices[i]->state == SV_ST_READY;
        snprintf(status, sizeof status, "READY=1\nSTATUS=%zu slices, %zu ready", sv->n_slices,
                 ready);
        sd_notify(0, status);
        if (sv_report_write(sv, err) < 0)
                return -1;
        return 0;
}

void sv_supervisor_free(struct sv_supervisor *sv)
{
        sv_sessions_free_all(sv);
        for (size_t i = sv->n_slices; i-- > 0;) /* children before parents: cgroups nest */
                slice_destroy(sv->slices[i]);
        free(sv->slices);
        free(sv->roots);
        sv->slices = sv->roots = NULL;
        sv->n_slices = sv->n_roots = 0;
        topo_unref(sv->topo);
        sv->topo = NULL;
        struct sl_error err;
        if (sv->have_cgroups && sb_cgroup_sys_release(&sv->cgsys, &err) < 0)
                sv_log(sv, 4, "%s", err.msg);
        uv_close((uv_handle_t *)&sv->sig_term, NULL);
        uv_close((uv_handle_t *)&sv->sig_int, NULL);
        uv_close((uv_handle_t *)&sv->sig_hup, NULL);
        uv_close((uv_handle_t *)&sv->report_timer, NULL);
        uv_close((uv_handle_t *)&sv->session_timer, NULL);
        uv_close((uv_handle_t *)&sv->watchdog_timer, NULL);
}

int sv_slice_request(struct sv_slice *s, const char *action, char *why, size_t len)
{
        struct sv_supervisor *sv = s->sv;
        if (!sv_slice_runs(s->spec)) {
                snprintf(why, len, "%s is a group: it runs nothing; %s its slices instead", s->path,
                         action);
                return -1;
        }
        if (sv->shutting_down || s->remove_after_stop) {
                snprintf(why, len, "%s is going away", s->path);
                return -1;
        }
        if (!strcmp(action, "stop")) {
                /* stays down until started again (a reload keeps it so) */
                s->want_up = 0;
                stop_sweep(sv);
                return 0;
        }
        int up = !is_settled_down(s) && s->state != SV_ST_BACKOFF && s->state != SV_ST_WAITING;
        if (!strcmp(action, "start") && up && s->want_up) {
                snprintf(why, len, "%s is already %s", s->path, sv_state_name(s->state));
                return -1;
        }
        s->want_up = 1;
        s->restart_times_n = 0; /* an operator's start forgives a crash loop */
        s->consecutive_failures = 0;
        if (!strcmp(action, "restart") && up) {
                /* stop, then start from the same spec (the reload path) */
                topo_unref(s->pending_topo);
                s->pending_spec = s->spec;
                s->pending_topo = s->topo;
                s->topo->refs++;
                s->want_up = 0;
                stop_sweep(sv);
                return 0;
        }
        if (s->state == SV_ST_BACKOFF)
                uv_timer_stop(&s->timer);
        if (s->state == SV_ST_BACKOFF || s->state == SV_ST_WAITING)
                s->state = SV_ST_STOPPED;
        sv_slice_event(s, SV_EV_START);
        return 0;
}
