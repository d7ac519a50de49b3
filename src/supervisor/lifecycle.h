/* A slice's lifecycle as an explicit table: action[state][event], as
 * s6-supervise does, so every transition is visible in one place and tested
 * without processes. The supervisor performs the action; this module only
 * decides. */
#ifndef SV_LIFECYCLE_H
#define SV_LIFECYCLE_H

#include <stdint.h>

#include "supervisor/topology.h"

enum sv_state {
        SV_ST_STOPPED = 0, /* not running; nothing scheduled (initial, or stopped on request) */
        SV_ST_WAITING,     /* wants to run; waits for the servers it routes to */
        SV_ST_STARTING,    /* spawn in progress */
        SV_ST_RUNNING,     /* exec'd; health not yet confirmed */
        SV_ST_READY,       /* healthy (or no health check) */
        SV_ST_STOPPING,    /* SIGTERM sent, waiting for exit */
        SV_ST_BACKOFF,     /* ended; restart scheduled */
        SV_ST_DOWN,        /* ended; policy says stay down (see the reason) */
        SV_ST_FAILED,      /* crash loop: restarts exhausted */
        SV_ST__COUNT,
};

enum sv_event {
        SV_EV_START = 0,    /* the topology wants it up */
        SV_EV_DEPS_READY,   /* every server it routes to is ready */
        SV_EV_SPAWNED,      /* exec succeeded */
        SV_EV_SPAWN_FAILED, /* setup or exec failed */
        SV_EV_EXITED,       /* the command ended (any way) */
        SV_EV_HEALTHY,      /* health check passed (or none defined) */
        SV_EV_UNHEALTHY,    /* failure threshold reached */
        SV_EV_STOP,         /* stop requested (reload, API, shutdown) */
        SV_EV_STOP_TIMEOUT, /* stop_timeout elapsed after SIGTERM */
        SV_EV_BACKOFF_DONE, /* back-off timer fired */
        SV_EV__COUNT,
};

enum sv_action {
        SV_ACT_NONE = 0,
        SV_ACT_INVALID,   /* event cannot happen in this state: a bug, logged */
        SV_ACT_WAIT_DEPS, /* check dependencies; start when ready */
        SV_ACT_SPAWN,
        SV_ACT_ARM_HEALTH, /* start health checks (or declare ready at once) */
        SV_ACT_ENDED,      /* apply the restart policy: back-off, down, or failed */
        SV_ACT_TERM,       /* SIGTERM, arm stop timer */
        SV_ACT_KILL,       /* SIGKILL the slice's cgroup */
        SV_ACT_RESTART,    /* unhealthy: SIGTERM, then start again when it ends */
        SV_ACT_CANCEL,     /* cancel a scheduled start/restart */
        SV_ACT_STOPPED,    /* the process ended while stopping */
};

struct sv_transition {
        enum sv_action action;
        enum sv_state next; /* for SV_ACT_ENDED, the policy decides instead */
};

const struct sv_transition *sv_lifecycle_step(enum sv_state st, enum sv_event ev);

const char *sv_state_name(enum sv_state st);
const char *sv_event_name(enum sv_event ev);

/* How a run ended. */
enum sv_end_kind {
        SV_END_NONE = 0,
        SV_END_EXIT,         /* exit code */
        SV_END_SIGNAL,       /* killed by a signal */
        SV_END_OOM,          /* killed by the OOM killer */
        SV_END_SPAWN_FAILED, /* never ran */
        SV_END_UNHEALTHY,    /* restarted by the health check */
        SV_END_CUT_OFF,      /* broke the parent protocol: channel closed, killed */
};

struct sv_end {
        enum sv_end_kind kind;
        int code;                      /* exit code, signal, or errno */
        char detail[SL_ERROR_MSG_MAX]; /* spawn failure: "mount /proc: Permission denied" */
};

/* The restart policy as a pure function. restarts_in_window counts the
 * restarts already made within restart.crash_loop_window_ms (the caller keeps
 * the timestamps). Fills *delay_ms when the answer is SV_ST_BACKOFF. */
enum sv_state sv_restart_decide(const struct sv_restart *r, const struct sv_end *end,
                                unsigned restarts_in_window, unsigned consecutive_failures,
                                uint64_t *delay_ms);

/* "exited (code 1)", "killed (SIGSEGV)", "oom-killed", ... */
void sv_end_describe(const struct sv_end *end, char *buf, size_t len);

#endif
