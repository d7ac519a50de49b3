/* sliced's runtime: the slice tree, its processes, and the event loop.
 *
 * One libuv loop owns all asynchronous state (pidfds, log pipes, timers,
 * signals). Policy — the lifecycle table, the restart decision, the
 * reconcile plan — lives in pure modules (lifecycle.c, reconcile.c); this
 * module performs what they decide.
 */
#ifndef SV_SUPERVISOR_H
#define SV_SUPERVISOR_H

#include <uv.h>

#include "lib/listen.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawn.h"
#include "store/local.h"
#include "supervisor/api.h"
#include "supervisor/config.h"
#include "supervisor/lifecycle.h"
#include "supervisor/logring.h"
#include "supervisor/sessions.h"
#include "supervisor/topology.h"

/* Bounds on a slice's own bookkeeping (named, not magic). */
#define SV_MAX_LISTEN      64   /* listening sockets per slice */
#define SV_LINE_MAX        4096 /* longer output lines are split */
#define SV_RESTART_HISTORY 64   /* restart timestamps kept for the crash-loop window */
/* A start that found the package store locked by a writer (an install takes
 * seconds to minutes) is tried again after this long, outside the restart
 * policy: the slice did not fail. Trying a lock once a second costs nothing. */
#define SV_STORE_BUSY_RETRY_MS 1000

struct sv_supervisor;

/* A topology kept alive while any slice still points into it. */
struct sv_topo_ref {
        struct sv_topology *t;
        unsigned refs;
};

/* A polled fd of one run of a slice (pidfd, stdout, stderr, a probe's
 * pidfd). Heap-allocated per run and freed in its close callback, so a
 * slice never waits for libuv to re-arm a handle between restarts. */
struct sv_watch {
        uv_poll_t poll;
        int fd;
        int kind;               /* enum sv_watch_kind (proc.c) */
        struct sv_slice *slice; /* NULL once detached */
        size_t len;             /* line buffer for output streams */
        char buf[];
};

struct sv_slice {
        struct sv_supervisor *sv;
        struct sv_slice_spec *spec;
        struct sv_topo_ref *topo;
        char *path;
        struct sv_slice *parent;
        struct sv_slice **children;
        size_t n_children;
        struct sv_slice **deps; /* slices that must be ready before this starts */
        size_t n_deps;
        struct sv_slice **dependents; /* the reverse: slices whose deps hold this one */
        size_t n_dependents;

        enum sv_state state;
        struct sv_end last_end;
        unsigned restarts; /* total, for the report */
        unsigned consecutive_failures;
        uint64_t restart_times[SV_RESTART_HISTORY];
        unsigned restart_times_n;
        uint64_t next_try_ms; /* back-off deadline (loop time) */
        uint64_t started_ms;

        /* process */
        struct sb_slice proc;
        int running;
        uint64_t oom_base; /* OOM kills counted before this run */
        struct sv_watch *pidwatch;
        struct sv_watch *out, *err;
        uid_t uid;
        gid_t gid;
        int *listen_fds; /* bound once; kept across restarts */
        char (*listen_names)[SL_LISTEN_NAME_MAX];
        size_t n_listen;

        /* cgroups: own (limits), and where the process goes */
        struct sb_cgroup *cg;
        struct sb_cgroup *proc_cg;
        int proc_cg_killed; /* SIGKILLed through the cgroup: make it anew before the next run */

        uv_timer_t timer; /* back-off, stop timeout */
        uv_timer_t health_timer;
        unsigned health_failures;
        struct sb_slice probe;
        struct sv_watch *probewatch;
        int probe_out; /* read end of the probe's output, or -1 */
        uint64_t probe_deadline_ms;

        struct sv_logring log;
        struct sb_cgroup_stats stats; /* last read, for the state report */
        uint64_t stats_at_ms;         /* when (loop time); 0 = never */

        /* parent channel and sessions (sessions.c) */
        struct sv_watch *chan;
        char **announced; /* services this slice serves now */
        size_t n_announced;
        uint64_t hb_seq, hb_acked; /* heartbeats sent / answered */
        unsigned hb_missed;
        char *report_json;                /* what the slice published (Report) */
        uint64_t donated_out, donated_in; /* memory moved by sessions, bytes */
        struct sv_watch *logs[SV_LOG_SESSIONS_MAX];
        char cut_off[SL_ERROR_MSG_MAX]; /* protocol violation that ended the run */

        /* the package the current run mounts at /pkg (package.c) */
        struct st_resolved pkg;
        int pkg_held; /* pkg is filled and listed in STORE/inuse.json */
        int pkg_busy; /* the last start found the store locked by a writer */

        /* reconcile */
        int want_up; /* desired: running */
        int seen;    /* generation of the last topology naming it */
        int remove_after_stop;
        int restart_after_stop;
        struct sv_slice_spec *pending_spec;
        struct sv_topo_ref *pending_topo;
        unsigned handles_open; /* libuv handles still to close before free */
};

struct sv_supervisor {
        uv_loop_t *loop;
        struct sv_config cfg;
        char topology_path[PATH_MAX];
        struct sv_topo_ref *topo;
        struct sv_slice **slices; /* every runtime slice, in start order */
        size_t n_slices;
        struct sv_slice **roots; /* top-level slices */
        size_t n_roots;
        struct sb_cgroup_sys cgsys;
        int have_cgroups;
        int root; /* running as root (else user namespaces) */
        uint32_t next_uid;
        int journal; /* journald present and chosen */
        int shutting_down;
        int sweeping;   /* stop_sweep is running */
        int generation; /* topology loads so far */
        int exit_code;
        uv_signal_t sig_term, sig_int, sig_hup;
        struct sv_session *sessions; /* every pending and open session */
        uint64_t next_session_id;
        uv_timer_t session_timer; /* deadlines of sessions waiting for a server */
        struct sv_api *api;       /* the REST API, or NULL */
        uv_timer_t report_timer;
        uv_timer_t watchdog_timer;
        int report_dirty;
};

/* supervisor.c */
int sv_supervisor_init(struct sv_supervisor *sv, uv_loop_t *loop, const struct sv_config *cfg,
                       const char *topology_path, struct sl_error *err);
int sv_supervisor_start(struct sv_supervisor *sv, struct sl_error *err);
void sv_supervisor_shutdown(struct sv_supervisor *sv);
int sv_supervisor_reload(struct sv_supervisor *sv);
void sv_supervisor_free(struct sv_supervisor *sv);
void sv_slice_event(struct sv_slice *s, enum sv_event ev);
/* An operator's restart/stop/start (API). -1 with why when it makes no
 * sense for this slice now. */
int sv_slice_request(struct sv_slice *s, const char *action, char *why, size_t len);
struct sv_slice *sv_find(struct sv_supervisor *sv, const char *path);
void sv_log(struct sv_supervisor *sv, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* proc.c: processes of one slice */
struct sv_watch *sv_watch_start(struct sv_slice *s, int fd, int kind, size_t bufsize,
                                uv_poll_cb cb);
void sv_watch_stop(struct sv_watch **w);
/* A readable output watch: read, and hand each complete line to
 * sv_output_line. Returns 0 at end of file (the last partial line flushed). */
int sv_watch_lines(struct sv_watch *w, int status, int events, int is_err);
/* Reap the process a pidfd watch watches; proc supplies its other fds. */
int sv_watch_wait(struct sv_watch *w, const struct sb_slice *proc, struct sb_exit *ex,
                  struct sl_error *err);
int sv_proc_spawn(struct sv_slice *s, struct sv_end *failure);
/* One line of a slice's output (ring, journald or stderr), labelled. */
void sv_output_line(struct sv_slice *s, const char *text, size_t len, int is_err);
void sv_proc_signal(struct sv_slice *s, int sig);
void sv_proc_kill_all(struct sv_slice *s);
int sv_proc_cgroups(struct sv_slice *s, struct sl_error *err);
void sv_proc_release(struct sv_slice *s);

/* package.c: slices running a store package */
/* Resolve s's package in the store (its lock held shared only meanwhile,
 * never waited for) into s->pkg and list it in inuse.json. -1 with err the
 * store's message ("package hello@1.0 is not installed (generation 4)"). */
int sv_package_acquire(struct sv_slice *s, struct sl_error *err);
/* Forget s->pkg (the run ended or never started) and update inuse.json. */
void sv_package_release(struct sv_slice *s);
/* What to mount at /pkg: 0 nothing, 1 *bind (one archive), 2 *overlay
 * (several); -1 with err. Points into s->pkg. */
int sv_package_mounts(const struct sv_slice *s, struct sb_bind *bind, struct sb_overlay *overlay,
                      struct sl_error *err);
/* Rewrite STORE/inuse.json from every slice holding a package; a failure
 * is logged. */
void sv_package_inuse_sync(struct sv_supervisor *sv);
/* At start: clear what a previous sliced left in inuse.json. */
void sv_package_inuse_init(struct sv_supervisor *sv);
/* "package", "generation", "archives" of the slice object (report, API). */
void sv_package_json(const struct sv_slice *s, struct json_t *o);

/* health.c */
void sv_health_arm(struct sv_slice *s);
void sv_health_disarm(struct sv_slice *s);

/* report.c */
struct json_t;
/* One slice as the state report and the API show it (a new reference). */
struct json_t *sv_report_slice_json(struct sv_slice *s);
void sv_report_mark_dirty(struct sv_supervisor *sv);
int sv_report_write(struct sv_supervisor *sv, struct sl_error *err);

#endif
