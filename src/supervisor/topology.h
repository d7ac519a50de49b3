/* The desired state: a tree of slices, loaded from YAML or JSON files.
 *
 * Policy as data (Genode's init): loading and validation are pure functions
 * from files to this model, tested without spawning anything. Validation is
 * total — every error is collected, each naming file:line:column and the
 * slice path — and an invalid topology is never applied.
 */
#ifndef SV_TOPOLOGY_H
#define SV_TOPOLOGY_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Limits. A topology is written by an administrator but read as untrusted
 * input: every size below bounds memory and time on a hostile file. */
#define SV_TOPO_MAX_DEPTH     16         /* slice nesting; appliances are a few levels deep */
#define SV_TOPO_MAX_SLICES    4096       /* slices in the whole tree */
#define SV_TOPO_MAX_FILE_SIZE (4u << 20) /* bytes per file: ~40x the largest real topology */
#define SV_TOPO_MAX_FILES     1024       /* files read from a directory */
#define SV_TOPO_MAX_STRING    4096       /* bytes per string: PATH_MAX */
#define SV_TOPO_MAX_NESTING   64         /* YAML/JSON container nesting (16 slices need ~40) */
#define SV_TOPO_MAX_LIST      4096 /* items in one list or mapping of a slice (argv, env, ...) */
#define SV_TOPO_MAX_ERRORS    200  /* diagnostics kept; the rest are counted */
#define SV_NAME_MAX           63   /* slice, service and label names */

/* Where a value came from. file points into the topology's interned names. */
struct sv_pos {
        const char *file;
        int line, col; /* 1-based */
};

struct sv_mount {
        char *src;  /* host path, absolute */
        char *dest; /* inside the slice; defaults to src */
        int rw;
        struct sv_pos pos;
};

struct sv_slice_spec;

enum sv_route_target {
        SV_ROUTE_PARENT = 1, /* the enclosing slice's routing; at the root: the platform */
        SV_ROUTE_SLICE,      /* a sibling or a child, named in .slice */
        SV_ROUTE_DENY,
};

struct sv_route {
        char *service; /* "default" for the default rule */
        enum sv_route_target target;
        char *slice;                    /* SV_ROUTE_SLICE: sibling/child name */
        char *label;                    /* optional label appended to the client's path */
        const struct sv_slice_spec *to; /* SV_ROUTE_SLICE: the server, resolved by
                                           validation (a sibling or a child) */
        struct sv_pos pos;              /* of the service key */
};

enum sv_restart_policy { SV_RESTART_ALWAYS = 0, SV_RESTART_ON_FAILURE, SV_RESTART_NEVER };

struct sv_restart {
        enum sv_restart_policy policy; /* default on-failure */
        uint64_t backoff_initial_ms;   /* default 100 */
        uint64_t backoff_max_ms;       /* default 30000 */
        unsigned crash_loop_max;       /* restarts within the window before `failed`; default 5 */
        uint64_t crash_loop_window_ms; /* default 60000 */
};

enum sv_health_kind { SV_HEALTH_NONE = 0, SV_HEALTH_EXEC, SV_HEALTH_HEARTBEAT };

struct sv_health {
        enum sv_health_kind kind;
        char **exec;                /* argv, NULL-terminated (SV_HEALTH_EXEC) */
        uint64_t interval_ms;       /* default 10000 */
        uint64_t timeout_ms;        /* default 5000 */
        unsigned failure_threshold; /* consecutive failures before restart; default 3 */
        uint64_t start_period_ms;   /* grace after start; default 0 */
        uint64_t heartbeat_ms;      /* SV_HEALTH_HEARTBEAT (issue 4) */
};

/* 0 means "not set": the slice takes no limit of its own and is bounded by
 * its parent's cgroup. */
struct sv_resources {
        uint64_t memory; /* bytes */
        uint64_t pids;
        uint64_t files;        /* fd quota (RLIMIT_NOFILE) */
        uint64_t cpu_weight;   /* 1..10000 */
        uint64_t cpu_quota_us; /* cpu.max quota per cpu_period_us */
        uint64_t cpu_period_us;
        char *cores;    /* CPU list text as written, or NULL */
        cpu_set_t cpus; /* parsed cores */
        struct {        /* where each limit was written (line 0: not set) */
                struct sv_pos memory, pids, files, cores;
        } pos;
};

enum sv_net_mode { SV_NET_NONE = 0, SV_NET_HOST };

struct sv_slice_spec {
        char *name;
        char *path;        /* "/app/db" */
        char **exec;       /* argv, NULL-terminated; NULL for a pure group or
                              when the package's slice template supplies it */
        char *package;     /* "NAME@VERSION" from the store, mounted read-only
                              at /pkg; NULL when none */
        char **env;        /* "KEY=VALUE", NULL-terminated (may be NULL) */
        char *profile;     /* seccomp profile; default "posix" */
        char *hostname;    /* default: the slice name */
        char *cwd;         /* default "/" */
        char *config_json; /* `config`, as JSON text; NULL when absent. Not in
                              the digest: a change is delivered live */
        struct sv_resources res;
        struct sv_mount *mounts;
        size_t n_mounts;
        enum sv_net_mode net;
        char **listen;           /* "[NAME=]tcp:HOST:PORT" / "unix:PATH", NULL-terminated */
        char **provides;         /* service names, NULL-terminated */
        struct sv_route *routes; /* in file order; first match wins */
        size_t n_routes;
        struct sv_route **route_index; /* the routes other than "default", sorted by
                                          service (sv_slice_route) */
        size_t n_route_index;
        struct sv_restart restart;
        struct sv_health health;
        uint64_t stop_timeout_ms; /* default 10000 */
        struct sv_slice_spec *children;
        size_t n_children;
        struct sv_slice_spec *parent; /* NULL at the top level */
        struct sv_pos pos;            /* of the slice's mapping */
        unsigned char digest[32];     /* BLAKE2b of everything that needs a restart
                                         when changed (not the children) */
        unsigned start_rank;          /* start order among siblings: 0 when it routes to
                                         no sibling, else 1 + the highest rank of the
                                         siblings it depends on (servers first) */
};

struct sv_topology {
        struct sv_slice_spec *slices; /* top level */
        size_t n_slices;
        char **files; /* interned file names (sv_pos.file points here) */
        size_t n_files;
};

/* Every problem found, in file order. */
struct sv_diag {
        char **msgs; /* "file:line:col: /path: message" */
        size_t n;
};
void sv_diag_free(struct sv_diag *d);

/* Load a file (.json is JSON, anything else YAML) or a directory of
 * .yaml/.yml/.json files (sorted by name; others and dotfiles ignored) and
 * validate the whole tree (docs/config.md). Returns 0 with *out set, or -1:
 * err->code EINVAL when the topology is invalid, with every error appended to
 * diag (may be NULL; start from {0}, free with sv_diag_free) and the first
 * one quoted in err->msg; another errno when the path cannot be read. */
int sv_topology_load(const char *path, struct sv_topology **out, struct sv_diag *diag,
                     struct sl_error *err);

/* Same, from a string (tests). name is used in positions and selects the
 * format; relative policy files resolve against its directory part (and stay
 * relative when it has none). Reads no file. */
int sv_topology_load_string(const char *name, const char *text, struct sv_topology **out,
                            struct sv_diag *diag, struct sl_error *err);

/* A directory as it would be with file `name` in it holding text (whether
 * or not it exists now): what `PUT /v1/topology` checks before writing. */
int sv_topology_load_dir_with(const char *dir, const char *name, const char *text,
                              struct sv_topology **out, struct sv_diag *diag, struct sl_error *err);

void sv_topology_free(struct sv_topology *t);

/* Does a command run in this slice (its exec, or its package's template
 * command)? A slice that runs nothing is a pure group. */
static inline int sv_slice_runs(const struct sv_slice_spec *s)
{
        return s->exec != NULL || s->package != NULL;
}

/* Where a package's archives appear inside its slice. */
#define SV_PACKAGE_DIR "/pkg"

/* Find a slice by path ("/app/db"); NULL when absent. */
struct sv_slice_spec *sv_topology_find(const struct sv_topology *t, const char *path);

/* The rule that applies when slice s asks for service: its route for that
 * service, else its "default" route; NULL when it has neither (deny). Service
 * names are unique within a slice's routes, so "first match" is this lookup. */
const struct sv_route *sv_slice_route(const struct sv_slice_spec *s, const char *service);

/* Services the platform (the parent of the top level) provides: log, config,
 * rom, report. */
int sv_platform_provides(const char *service);

/* Visit every slice depth first, parents before children, siblings by
 * start_rank then file order; stops at and returns the first non-zero result
 * of fn. */
typedef int (*sv_visit_fn)(struct sv_slice_spec *s, void *ctx);
int sv_topology_walk(const struct sv_topology *t, sv_visit_fn fn, void *ctx);

#endif
