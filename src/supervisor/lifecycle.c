#include "supervisor/lifecycle.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define T(a, n)                                                                                    \
        {                                                                                          \
                SV_ACT_##a, SV_ST_##n                                                              \
        }
#define BAD                                                                                        \
        {                                                                                          \
                SV_ACT_INVALID, SV_ST__COUNT                                                       \
        }

/* Rows: states. Columns: START, DEPS_READY, SPAWNED, SPAWN_FAILED, EXITED,
 * HEALTHY, UNHEALTHY, STOP, STOP_TIMEOUT, BACKOFF_DONE. A next state of
 * SV_ST__COUNT means "unchanged". */
/* clang-format off: the table reads as a grid */
static const struct sv_transition table[SV_ST__COUNT][SV_EV__COUNT] = {
    [SV_ST_STOPPED] = {T(WAIT_DEPS, WAITING), T(NONE, STOPPED), BAD, BAD, BAD, T(NONE, STOPPED),
                       T(NONE, STOPPED), T(NONE, STOPPED), T(NONE, STOPPED), T(NONE, STOPPED)},
    [SV_ST_WAITING] = {T(NONE, WAITING), T(SPAWN, STARTING), BAD, BAD, BAD, T(NONE, WAITING),
                       T(NONE, WAITING), T(CANCEL, STOPPED), T(NONE, WAITING), T(NONE, WAITING)},
    [SV_ST_STARTING] = {T(NONE, STARTING), T(NONE, STARTING), T(ARM_HEALTH, RUNNING),
                        T(ENDED, STARTING), T(ENDED, STARTING), BAD, BAD, T(TERM, STOPPING), BAD,
                        BAD},
    [SV_ST_RUNNING] = {T(NONE, RUNNING), T(NONE, RUNNING), BAD, BAD, T(ENDED, RUNNING),
                       T(NONE, READY), T(RESTART, STOPPING), T(TERM, STOPPING), T(NONE, RUNNING),
                       T(NONE, RUNNING)},
    [SV_ST_READY] = {T(NONE, READY), T(NONE, READY), BAD, BAD, T(ENDED, READY), T(NONE, READY),
                     T(RESTART, STOPPING), T(TERM, STOPPING), T(NONE, READY), T(NONE, READY)},
    [SV_ST_STOPPING] = {T(NONE, STOPPING), T(NONE, STOPPING), BAD, BAD, T(STOPPED, STOPPED),
                        T(NONE, STOPPING), T(NONE, STOPPING), T(NONE, STOPPING), T(KILL, STOPPING),
                        T(NONE, STOPPING)},
    [SV_ST_BACKOFF] = {T(NONE, BACKOFF), T(NONE, BACKOFF), BAD, BAD, BAD, T(NONE, BACKOFF),
                       T(NONE, BACKOFF), T(CANCEL, STOPPED), T(NONE, BACKOFF),
                       T(WAIT_DEPS, WAITING)},
    [SV_ST_DOWN] = {T(WAIT_DEPS, WAITING), T(NONE, DOWN), BAD, BAD, BAD, T(NONE, DOWN),
                    T(NONE, DOWN), T(NONE, STOPPED), T(NONE, DOWN), T(NONE, DOWN)},
    [SV_ST_FAILED] = {T(WAIT_DEPS, WAITING), T(NONE, FAILED), BAD, BAD, BAD, T(NONE, FAILED),
                      T(NONE, FAILED), T(NONE, STOPPED), T(NONE, FAILED), T(NONE, FAILED)},
};
/* clang-format on */

const struct sv_transition *sv_lifecycle_step(enum sv_state st, enum sv_event ev)
{
        static const struct sv_transition bad = BAD;
        if ((unsigned)st >= SV_ST__COUNT || (unsigned)ev >= SV_EV__COUNT)
                return &bad;
        return &table[st][ev];
}

static const char *const state_names[SV_ST__COUNT] = {
    [SV_ST_STOPPED] = "stopped",  [SV_ST_WAITING] = "waiting", [SV_ST_STARTING] = "starting",
    [SV_ST_RUNNING] = "running",  [SV_ST_READY] = "ready",     [SV_ST_STOPPING] = "stopping",
    [SV_ST_BACKOFF] = "back-off", [SV_ST_DOWN] = "down",       [SV_ST_FAILED] = "failed",
};

static const char *const event_names[SV_EV__COUNT] = {
    [SV_EV_START] = "start",
    [SV_EV_DEPS_READY] = "deps-ready",
    [SV_EV_SPAWNED] = "spawned",
    [SV_EV_SPAWN_FAILED] = "spawn-failed",
    [SV_EV_EXITED] = "exited",
    [SV_EV_HEALTHY] = "healthy",
    [SV_EV_UNHEALTHY] = "unhealthy",
    [SV_EV_STOP] = "stop",
    [SV_EV_STOP_TIMEOUT] = "stop-timeout",
    [SV_EV_BACKOFF_DONE] = "backoff-done",
};

const char *sv_state_name(enum sv_state st)
{
        return (unsigned)st < SV_ST__COUNT ? state_names[st] : "invalid";
}

const char *sv_event_name(enum sv_event ev)
{
        return (unsigned)ev < SV_EV__COUNT ? event_names[ev] : "invalid";
}

static int is_failure(const struct sv_end *end)
{
        return !(end->kind == SV_END_EXIT && end->code == 0);
}

enum sv_state sv_restart_decide(const struct sv_restart *r, const struct sv_end *end,
                                unsigned restarts_in_window, unsigned consecutive_failures,
                                uint64_t *delay_ms)
{
        int restart = r->policy == SV_RESTART_ALWAYS ||
                      (r->policy == SV_RESTART_ON_FAILURE && is_failure(end)) ||
                      end->kind == SV_END_UNHEALTHY; /* the health check asked for it */
        if (!restart)
                return SV_ST_DOWN;
        if (restarts_in_window >= r->crash_loop_max)
                return SV_ST_FAILED;
        /* initial * 2^(n-1), capped; a clean exit under `always` restarts after
         * the initial delay */
        uint64_t delay = r->backoff_initial_ms;
        unsigned n = consecutive_failures > 0 ? consecutive_failures - 1 : 0;
        for (unsigned i = 0; i < n && delay < r->backoff_max_ms; i++)
                delay *= 2;
        if (delay > r->backoff_max_ms)
                delay = r->backoff_max_ms;
        *delay_ms = delay;
        return SV_ST_BACKOFF;
}

void sv_end_describe(const struct sv_end *end, char *buf, size_t len)
{
        switch (end->kind) {
        case SV_END_NONE: snprintf(buf, len, "-"); return;
        case SV_END_EXIT: snprintf(buf, len, "exited (code %d)", end->code); return;
        case SV_END_SIGNAL: {
                const char *abbrev = sigabbrev_np(end->code);
                snprintf(buf, len, "killed (SIG%s)", abbrev ? abbrev : "?");
                return;
        }
        case SV_END_OOM: snprintf(buf, len, "oom-killed"); return;
        case SV_END_SPAWN_FAILED: snprintf(buf, len, "spawn-failed (%s)", end->detail); return;
        case SV_END_UNHEALTHY: snprintf(buf, len, "unhealthy (%s)", end->detail); return;
        case SV_END_CUT_OFF:
                snprintf(buf, len, "cut off (protocol violation: %s)", end->detail);
                return;
        }
        snprintf(buf, len, "unknown");
}
