/* Per-slice cgroups on cgroup v2 and on the v1 "hybrid" layout (v1 memory,
 * cpu, cpuset, pids controllers plus a controller-less cgroup2 mount at
 * <root>/unified). Everything takes the cgroupfs root as a path so tests can
 * point it at a fake directory tree. docs/cgroups.md has which limit goes to
 * which file on each layout.
 */
#ifndef SB_CGROUP_H
#define SB_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

enum sb_cgroup_layout {
        SB_CGROUP_NONE = 0, /* no usable cgroupfs */
        SB_CGROUP_V2,       /* unified hierarchy at the root */
        SB_CGROUP_HYBRID,   /* v1 controllers + cgroup2 at <root>/unified */
        SB_CGROUP_V1,       /* v1 controllers only */
};

/* Controllers (and hierarchy roles) as a bit set. */
enum {
        SB_CGROUP_CTRL_MEMORY = 1u << 0,
        SB_CGROUP_CTRL_PIDS = 1u << 1,
        SB_CGROUP_CTRL_CPU = 1u << 2,
        SB_CGROUP_CTRL_CPUACCT = 1u << 3, /* v1 only; v2 has cpu.stat in the core */
        SB_CGROUP_CTRL_CPUSET = 1u << 4,
        SB_CGROUP_CTRL_FREEZER = 1u << 5, /* v1 freezer, used only to kill on V1 */
        SB_CGROUP_CTRL_V2 = 1u << 6,      /* this is the v2 (or unified) hierarchy */
};

/* At most: unified + memory, pids, cpu, cpuacct, cpuset, freezer. */
#define SB_CGROUP_MAX_HIER 8

/* One mounted hierarchy we use. */
struct sb_cgroup_hier {
        char dir[64];  /* relative to fsroot: "" (v2), "unified", "memory",
                          "cpu,cpuacct", ... */
        unsigned ctrl; /* SB_CGROUP_CTRL_* it carries; on v2, the controllers
                          enabled for children of base */
};

/* How directories are made and removed. The kernel creates a cgroup's
 * interface files on mkdir; a fake tree in tests needs a hook that does the
 * same. Production passes NULL to sb_cgroup_sys_init_ops (plain mkdir/rmdir,
 * /proc/self/cgroup) and never creates a file in a cgroupfs. */
struct sb_cgroup_fs_ops {
        int (*mkdir)(const char *path, void *data); /* 0, or -1 with errno */
        int (*rmdir)(const char *path, void *data);
        void *data;
        const char *proc_self_cgroup; /* NULL: "/proc/self/cgroup" */
};

/* What the host offers. Filled by sb_cgroup_sys_init; read-only afterwards. */
struct sb_cgroup_sys {
        enum sb_cgroup_layout layout;
        char fsroot[256]; /* "/sys/fs/cgroup", or a fake tree in tests */
        char base[256];   /* parent of all our cgroups, relative to each
                             hierarchy root, e.g. "sliced" (no leading '/');
                             when delegated, under the caller's own cgroup */
        bool delegated;   /* unprivileged, inside the caller's delegated
                             v2 subtree */
        unsigned n_hier;
        struct sb_cgroup_hier hier[SB_CGROUP_MAX_HIER]; /* v2/unified first */
        struct sb_cgroup_fs_ops ops;
};

struct sb_cgroup_limits {
        uint64_t memory_max;    /* bytes; 0 = no limit (RAM + swap: see docs) */
        uint64_t pids_max;      /* 0 = no limit */
        uint64_t cpu_weight;    /* 1..10000 (v2 scale; v1 shares derived); 0 = unset */
        uint64_t cpu_quota_us;  /* with cpu_period_us: cpu.max; 0 = unlimited */
        uint64_t cpu_period_us; /* 0 = kernel default (100000) */
        char cpus[256];         /* cpuset list "0-1,3"; "" = inherit */
};

/* Kernel bounds for the CPU figures (kernel/sched/core.c: weight
 * CGROUP_WEIGHT_MIN..MAX, cfs period 1 ms..1 s, quota at least 1 ms). */
#define SB_CGROUP_WEIGHT_MIN        1
#define SB_CGROUP_WEIGHT_MAX        10000
#define SB_CGROUP_PERIOD_MIN_US     1000
#define SB_CGROUP_PERIOD_MAX_US     1000000
#define SB_CGROUP_QUOTA_MIN_US      1000
#define SB_CGROUP_PERIOD_DEFAULT_US 100000

struct sb_cgroup;

/* Detect the layout under fsroot and prepare base (create it, enable the
 * controllers it needs for children on v2). When the caller cannot write the
 * hierarchy roots, base is placed under the caller's own v2 cgroup if that is
 * delegated to it (the caller is first moved into the leaf
 * <own>/supervisor, since v2 allows no processes in a cgroup that enables
 * controllers for its children); otherwise fails with a message saying to run
 * as root or under systemd-run -p Delegate=yes. */
int sb_cgroup_sys_init(struct sb_cgroup_sys *sys, const char *fsroot, const char *base,
                       struct sl_error *err);
/* The same with directory hooks (tests); ops NULL = the kernel's. */
int sb_cgroup_sys_init_ops(struct sb_cgroup_sys *sys, const char *fsroot, const char *base,
                           const struct sb_cgroup_fs_ops *ops, struct sl_error *err);

/* Remove the last component of base in every hierarchy (a run directory such
 * as "sliced/run-1234"; "sliced" itself stays for other runs). Fails with
 * EBUSY while slices remain. The delegated supervisor leaf is kept: the
 * caller still lives in it. */
int sb_cgroup_sys_release(const struct sb_cgroup_sys *sys, struct sl_error *err);

/* Create <base>/<name> in every hierarchy we use and write the limits.
 * name may contain '/' for nested slices (parents must exist; on v2 a slice
 * with child slices cannot hold processes itself). A leftover directory from
 * a crash is removed and made anew when empty, so no stale limit survives.
 * Fails, naming the file, if a requested limit cannot be applied; on failure
 * nothing it created is left behind. */
int sb_cgroup_create(const struct sb_cgroup_sys *sys, const char *name,
                     const struct sb_cgroup_limits *lim, struct sb_cgroup **out,
                     struct sl_error *err);

/* O_PATH|O_DIRECTORY fd of the v2 (or unified) directory for CLONE_INTO_CGROUP,
 * or -1 when there is none. Owned by the cgroup. */
int sb_cgroup_v2_fd(const struct sb_cgroup *cg);

/* Move pid into every hierarchy: each v1 one, then the v2/unified one.
 * Writing a pid into the cgroup it is already in is a no-op, so callers that
 * used CLONE_INTO_CGROUP call this as well (for the v1 hierarchies). */
int sb_cgroup_attach(const struct sb_cgroup *cg, pid_t pid, struct sl_error *err);

/* Number of OOM kills in this cgroup so far (v2 memory.events oom_kill,
 * v1 memory.oom_control oom_kill). */
int sb_cgroup_oom_kills(const struct sb_cgroup *cg, uint64_t *count, struct sl_error *err);

enum {
        SB_CGROUP_STAT_MEMORY = 1u << 0,
        SB_CGROUP_STAT_CPU = 1u << 1,
        SB_CGROUP_STAT_PIDS = 1u << 2,
};
struct sb_cgroup_stats {
        uint64_t memory_current, memory_peak; /* bytes; peak = current when the
                                                 kernel keeps no peak */
        uint64_t cpu_usec;                    /* CPU time used */
        uint64_t pids_current;
        unsigned have; /* SB_CGROUP_STAT_*: which fields
                          the host could report */
};
int sb_cgroup_stats(const struct sb_cgroup *cg, struct sb_cgroup_stats *st, struct sl_error *err);

/* How long kill and destroy wait for SIGKILLed processes to leave: exit takes
 * microseconds to a few ms (freeing a large address space); a process still
 * there after a second is stuck in the kernel and no wait would cure it. */
#define SB_CGROUP_EMPTY_TIMEOUT_MS 1000

/* Kill every process in the cgroup and its descendants (cgroup.kill where
 * present, else freeze, SIGKILL each pid in cgroup.procs, thaw), then wait,
 * bounded by SB_CGROUP_EMPTY_TIMEOUT_MS, until no process is left (zombies
 * do not count). */
int sb_cgroup_kill(const struct sb_cgroup *cg, struct sl_error *err);

/* Whether any live process is in the cgroup or its descendants. */
int sb_cgroup_populated(const struct sb_cgroup *cg, bool *populated, struct sl_error *err);

/* Remove the directories (kills first if still populated) and free. Child
 * slices must be destroyed first. NULL-safe; frees even when it fails. */
int sb_cgroup_destroy(struct sb_cgroup *cg, struct sl_error *err);

/* Change the memory limit of a live cgroup (session quota donation moves
 * memory between slices). bytes > 0. */
int sb_cgroup_set_memory_max(const struct sb_cgroup *cg, uint64_t bytes, struct sl_error *err);

/* Path of the cgroup in the first hierarchy, for messages. */
const char *sb_cgroup_path(const struct sb_cgroup *cg);

/* Pure helpers, exposed for tests. */

/* v2 weight -> v1 cpu.shares, as systemd maps CPUWeight= on v1. */
uint64_t sb_cgroup_weight_to_shares(uint64_t weight);
/* Range-check a limits set; the message names the field and the bound. */
int sb_cgroup_limits_check(const struct sb_cgroup_limits *lim, struct sl_error *err);
/* A slice name or base: '/'-separated, no empty, "." or ".." component, no
 * leading '/', no newline. */
bool sb_cgroup_name_ok(const char *name);
/* Value of the "key N" line in a flat-keyed file (memory.events, cpu.stat,
 * memory.oom_control). 0, or -1 when the key is absent or malformed. */
int sb_cgroup_parse_keyed(const char *text, const char *key, uint64_t *out);
const char *sb_cgroup_layout_name(enum sb_cgroup_layout layout);

#endif
