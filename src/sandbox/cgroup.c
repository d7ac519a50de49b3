/* Per-slice cgroups: layout detection, placement of our base, creation with
 * limits, attach, accounting, kill and removal.
 *
 * Every path is built as <fsroot>/<hierarchy dir>/<base>/<name> and every
 * write names that path in its error. We never create a file in a cgroupfs:
 * the kernel makes the interface files on mkdir, and a file we cannot open is
 * a limit we cannot apply (reported, never skipped). docs/cgroups.md maps
 * each limit to its file on each layout.
 */
#include "sandbox/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileutil.h"

/* How often we look while waiting for a cgroup to empty or freeze: 1 ms is
 * well below the time a dying process takes and costs nothing measurable. */
#define EMPTY_POLL_NS (1000 * 1000)
/* Freezing completes once every task reaches the refrigerator; a task in an
 * uninterruptible sleep can delay that. Past this we kill unfrozen. */
#define FREEZE_TIMEOUT_MS 200
/* The fallback kill (no cgroup.kill) sweeps nested slices down to this depth;
 * sliced topologies are a few levels deep. */
#define SWEEP_MAX_DEPTH 16
/* Directory mode of our cgroups: the owner (root, or the delegated user)
 * writes; others may read accounting. */
#define CGROUP_DIR_MODE 0755
/* Leaf that holds the caller's own processes in a delegated v2 subtree. */
#define SUPERVISOR_LEAF "supervisor"
/* Interface files we read whole are a few lines (cgroup.procs, which can be
 * long, is streamed, or only tested for emptiness). */
#define SMALL_FILE_MAX 4096
/* systemd's CPUWeight= -> cpu.shares on v1 (src/basic/cgroup-util.h):
 * shares = weight * 1024 / 100, clamped to the kernel's [2, 262144]. */
#define SHARES_DEFAULT 1024
#define WEIGHT_DEFAULT 100
#define SHARES_MIN     2
#define SHARES_MAX     262144

/* Controllers we hand to children on v2, in the kernel's listing order. */
static const struct {
        const char *name;
        unsigned ctrl;
} v2_controllers[] = {
    {"cpuset", SB_CGROUP_CTRL_CPUSET},
    {"cpu", SB_CGROUP_CTRL_CPU},
    {"memory", SB_CGROUP_CTRL_MEMORY},
    {"pids", SB_CGROUP_CTRL_PIDS},
};

/* v1 hierarchies by their conventional mount directory (systemd, Docker,
 * Debian). "cpu" and "cpuacct" are often symlinks to "cpu,cpuacct": the
 * same hierarchy is found under several names and merged. */
static const struct {
        const char *dir;
        unsigned ctrl;
} v1_hierarchies[] = {
    {"memory", SB_CGROUP_CTRL_MEMORY},
    {"pids", SB_CGROUP_CTRL_PIDS},
    {"cpu", SB_CGROUP_CTRL_CPU},
    {"cpuacct", SB_CGROUP_CTRL_CPUACCT},
    {"cpu,cpuacct", SB_CGROUP_CTRL_CPU | SB_CGROUP_CTRL_CPUACCT},
    {"cpuset", SB_CGROUP_CTRL_CPUSET},
    {"freezer", SB_CGROUP_CTRL_FREEZER},
};

struct sb_cgroup_dir {
        char *path; /* owned; a few dozen bytes, not PATH_MAX: sliced holds a
                       thousand cgroups in a few hierarchies each */
        unsigned ctrl;
};

struct sb_cgroup {
        enum sb_cgroup_layout layout;
        struct sb_cgroup_fs_ops ops;
        unsigned n_dirs;
        struct sb_cgroup_dir dirs[SB_CGROUP_MAX_HIER]; /* v2/unified first */
        int v2_fd;
};

/* ---- small helpers ---------------------------------------------------- */

static int __attribute__((format(printf, 4, 5)))
path_fmt(char *buf, size_t cap, struct sl_error *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, cap, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= cap)
                return sl_error_set(err, ENAMETOOLONG, "cgroup path `%s...`", buf);
        return 0;
}

/* A message complete in itself (it ends with what to do, so no strerror
 * after it), keeping the errno for callers. */
static int __attribute__((format(printf, 3, 4)))
fail_plain(struct sl_error *err, int code, const char *fmt, ...)
{
        if (err) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(err->msg, sizeof err->msg, fmt, ap);
                va_end(ap);
                err->code = code;
        }
        return -1;
}

static int ops_mkdir(const struct sb_cgroup_fs_ops *ops, const char *path)
{
        return ops->mkdir ? ops->mkdir(path, ops->data) : mkdir(path, CGROUP_DIR_MODE);
}

static int ops_rmdir(const struct sb_cgroup_fs_ops *ops, const char *path)
{
        return ops->rmdir ? ops->rmdir(path, ops->data) : rmdir(path);
}

static bool exists(const char *dir, const char *file)
{
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p)
                return false;
        return access(p, F_OK) == 0;
}

/* errno when not writable (ENAMETOOLONG for a path too long to check). */
static bool writable(const char *dir, const char *file)
{
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s/%s", dir, file) >= (int)sizeof p) {
                errno = ENAMETOOLONG;
                return false;
        }
        /* Effective ids, as the open() that follows will use. */
        return faccessat(AT_FDCWD, p, W_OK, AT_EACCESS) == 0;
}

static int write_file(const char *dir, const char *file, const char *value, struct sl_error *err)
{
        char p[PATH_MAX];
        if (path_fmt(p, sizeof p, err, "%s/%s", dir, file) < 0)
                return -1;
        return sl_write_file_at(AT_FDCWD, p, value, err);
}

static int write_u64(const char *dir, const char *file, uint64_t v, struct sl_error *err)
{
        char s[24];
        snprintf(s, sizeof s, "%" PRIu64, v);
        return write_file(dir, file, s, err);
}

static ssize_t read_file(const char *dir, const char *file, char *buf, size_t cap,
                         struct sl_error *err)
{
        char p[PATH_MAX];
        if (path_fmt(p, sizeof p, err, "%s/%s", dir, file) < 0)
                return -1;
        return sl_read_file_at(AT_FDCWD, p, buf, cap, err);
}

static int read_u64(const char *dir, const char *file, uint64_t *out, struct sl_error *err)
{
        char buf[64];
        if (read_file(dir, file, buf, sizeof buf, err) < 0)
                return -1;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(buf, &end, 10);
        if (errno || end == buf || (*end && *end != '\n'))
                return sl_error_set(err, EINVAL, "`%s/%s` holds `%s`, not a number", dir, file,
                                    buf);
        *out = v;
        return 0;
}

static int read_keyed(const char *dir, const char *file, const char *key, uint64_t *out,
                      struct sl_error *err)
{
        char buf[SMALL_FILE_MAX];
        if (read_file(dir, file, buf, sizeof buf, err) < 0)
                return -1;
        if (sb_cgroup_parse_keyed(buf, key, out) < 0)
                return sl_error_set(err, ENOTSUP, "`%s/%s` has no `%s` line", dir, file, key);
        return 0;
}

static unsigned parse_ctrl_list(const char *text)
{
        unsigned mask = 0;
        char copy[SMALL_FILE_MAX];
        snprintf(copy, sizeof copy, "%s", text);
        char *save = NULL;
        for (char *t = strtok_r(copy, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
                if (*t == '+') /* a written "+memory" reads back as "memory" */
                        t++;
                for (size_t i = 0; i < SL_ARRAY_SIZE(v2_controllers); i++)
                        if (strcmp(t, v2_controllers[i].name) == 0)
                                mask |= v2_controllers[i].ctrl;
        }
        return mask;
}

static const char *ctrl_name(unsigned ctrl)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(v2_controllers); i++)
                if (v2_controllers[i].ctrl == ctrl)
                        return v2_controllers[i].name;
        return "?";
}

static void sleep_ns(long ns)
{
        struct timespec ts = {.tv_sec = 0, .tv_nsec = ns};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* ---- pure helpers ----------------------------------------------------- */

uint64_t sb_cgroup_weight_to_shares(uint64_t weight)
{
        uint64_t s = weight * SHARES_DEFAULT / WEIGHT_DEFAULT;
        return s < SHARES_MIN ? SHARES_MIN : s > SHARES_MAX ? SHARES_MAX : s;
}

int sb_cgroup_limits_check(const struct sb_cgroup_limits *lim, struct sl_error *err)
{
        if (lim->cpu_weight &&
            (lim->cpu_weight < SB_CGROUP_WEIGHT_MIN || lim->cpu_weight > SB_CGROUP_WEIGHT_MAX))
                return fail_plain(err, EINVAL, "cpu weight %" PRIu64 " is outside %d..%d",
                                  lim->cpu_weight, SB_CGROUP_WEIGHT_MIN, SB_CGROUP_WEIGHT_MAX);
        if (lim->cpu_period_us && (lim->cpu_period_us < SB_CGROUP_PERIOD_MIN_US ||
                                   lim->cpu_period_us > SB_CGROUP_PERIOD_MAX_US))
                return fail_plain(err, EINVAL, "cpu period %" PRIu64 " us is outside %d..%d us",
                                  lim->cpu_period_us, SB_CGROUP_PERIOD_MIN_US,
                                  SB_CGROUP_PERIOD_MAX_US);
        if (lim->cpu_quota_us && lim->cpu_quota_us < SB_CGROUP_QUOTA_MIN_US)
                return fail_plain(err, EINVAL, "cpu quota %" PRIu64 " us is below %d us",
                                  lim->cpu_quota_us, SB_CGROUP_QUOTA_MIN_US);
        if (strnlen(lim->cpus, sizeof lim->cpus) == sizeof lim->cpus)
                return fail_plain(err, EINVAL, "cpu list is not terminated");
        size_t bad = strspn(lim->cpus, "0123456789,-");
        if (lim->cpus[bad])
                return fail_plain(err, EINVAL, "cpu list `%s` has `%c`; expected e.g. `0-1,3`",
                                  lim->cpus, lim->cpus[bad]);
        return 0;
}

bool sb_cgroup_name_ok(const char *name)
{
        if (!name || !*name || *name == '/' || strchr(name, '\n'))
                return false;
        for (const char *c = name; *c;) {
                size_t len = strcspn(c, "/");
                if (len == 0 || (len == 1 && c[0] == '.') ||
                    (len == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c += len;
                if (*c == '/' && !*++c)
                        return false; /* trailing '/' */
        }
        return true;
}

int sb_cgroup_parse_keyed(const char *text, const char *key, uint64_t *out)
{
        size_t klen = strlen(key);
        for (const char *line = text; line && *line;) {
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ') {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(line + klen + 1, &end, 10);
                        if (errno || end == line + klen + 1 || (*end && *end != '\n'))
                                return -1;
                        *out = v;
                        return 0;
                }
                line = strchr(line, '\n');
                if (line)
                        line++;
        }
        return -1;
}

const char *sb_cgroup_layout_name(enum sb_cgroup_layout layout)
{
        switch (layout) {
        case SB_CGROUP_V2: return "cgroup v2";
        case SB_CGROUP_HYBRID: return "hybrid (cgroup v1 controllers + unified)";
        case SB_CGROUP_V1: return "cgroup v1";
        case SB_CGROUP_NONE: break;
        }
        return "none";
}

/* ---- detection and placement ------------------------------------------ */

static int hier_root(const struct sb_cgroup_sys *sys, const struct sb_cgroup_hier *h, char *buf,
                     size_t cap, struct sl_error *err)
{
        return path_fmt(buf, cap, err, "%s%s%s", sys->fsroot, *h->dir ? "/" : "", h->dir);
}

static void add_hier(struct sb_cgroup_sys *sys, const char *dir, unsigned ctrl)
{
        struct sb_cgroup_hier *h = &sys->hier[sys->n_hier++];
        snprintf(h->dir, sizeof h->dir, "%s", dir);
        h->ctrl = ctrl;
}

static int detect_v1(struct sb_cgroup_sys *sys)
{
        struct stat seen[SL_ARRAY_SIZE(v1_hierarchies)];
        unsigned first[SL_ARRAY_SIZE(v1_hierarchies)];
        size_t n_seen = 0;
        for (size_t i = 0; i < SL_ARRAY_SIZE(v1_hierarchies); i++) {
                char p[PATH_MAX];
                struct stat st;
                if (snprintf(p, sizeof p, "%s/%s", sys->fsroot, v1_hierarchies[i].dir) >=
                        (int)sizeof p ||
                    stat(p, &st) < 0 || !S_ISDIR(st.st_mode) || !exists(p, "cgroup.procs"))
                        continue;
                size_t k = 0;
                while (k < n_seen && !(seen[k].st_dev == st.st_dev && seen[k].st_ino == st.st_ino))
                        k++;
                if (k < n_seen) { /* same hierarchy under another name */
                        sys->hier[first[k]].ctrl |= v1_hierarchies[i].ctrl;
                        continue;
                }
                seen[n_seen] = st;
                first[n_seen++] = sys->n_hier;
                add_hier(sys, v1_hierarchies[i].dir, v1_hierarchies[i].ctrl);
        }
        return (int)n_seen;
}

static int detect(struct sb_cgroup_sys *sys, struct sl_error *err)
{
        if (exists(sys->fsroot, "cgroup.controllers")) {
                sys->layout = SB_CGROUP_V2;
                add_hier(sys, "", SB_CGROUP_CTRL_V2);
                return 0;
        }
        char unified[PATH_MAX];
        if (path_fmt(unified, sizeof unified, err, "%s/unified", sys->fsroot) < 0)
                return -1;
        bool has_unified = exists(unified, "cgroup.controllers");
        if (has_unified)
                add_hier(sys, "unified", SB_CGROUP_CTRL_V2);
        if (detect_v1(sys) == 0)
                return sl_error_set(err, ENOENT, "no cgroup hierarchy with controllers under `%s`",
                                    sys->fsroot);
        sys->layout = has_unified ? SB_CGROUP_HYBRID : SB_CGROUP_V1;
        if (has_unified) {
                /* unified has cgroup.kill and cgroup.freeze: the v1 freezer
                 * would only be one more directory per slice. */
                unsigned j = 0;
                for (unsigned i = 0; i < sys->n_hier; i++)
                        if (sys->hier[i].ctrl != SB_CGROUP_CTRL_FREEZER)
                                sys->hier[j++] = sys->hier[i];
                sys->n_hier = j;
        }
        return 0;
}

/* The caller's v2 cgroup from /proc/self/cgroup ("0::/path"). */
static int own_v2_cgroup(const struct sb_cgroup_sys *sys, char *out, size_t cap,
                         struct sl_error *err)
{
        const char *file =
            sys->ops.proc_self_cgroup ? sys->ops.proc_self_cgroup : "/proc/self/cgroup";
        char buf[SMALL_FILE_MAX];
        if (sl_read_file_at(AT_FDCWD, file, buf, sizeof buf, err) < 0)
                return -1;
        for (char *line = buf; line && *line;) {
                char *nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, "0::/", 4) == 0)
                        return path_fmt(out, cap, err, "%s", line + 4);
                line = nl ? nl + 1 : NULL;
        }
        return sl_error_set(err, ENOENT, "`%s` has no cgroup v2 line", file);
}

/* Move the caller into <dir>/supervisor, a leaf, so dir holds no process. */
static int move_to_leaf(const struct sb_cgroup_sys *sys, const char *dir, struct sl_error *err)
{
        char leaf[PATH_MAX];
        if (path_fmt(leaf, sizeof leaf, err, "%s/%s", dir, SUPERVISOR_LEAF) < 0)
                return -1;
        if (ops_mkdir(&sys->ops, leaf) < 0 && errno != EEXIST)
                return sl_error_errno(err, "mkdir `%s`", leaf);
        return write_u64(leaf, "cgroup.procs", (uint64_t)getpid(), err);
}

/* Enable, for the children of dir, every controller we use that dir has and
 * does not hand down yet. v2 lets a cgroup other than the root hand
 * controllers down only while it holds no process. When dir is the caller's
 * own cgroup (caller_here), the caller leaves for a leaf: up front when
 * delegated (its scope always holds it); on EBUSY otherwise (a cgroup
 * namespace root looks like the root but is not exempt). */
static int enable_controllers(const struct sb_cgroup_sys *sys, const char *dir, bool caller_here,
                              struct sl_error *err)
{
        char buf[SMALL_FILE_MAX];
        if (read_file(dir, "cgroup.controllers", buf, sizeof buf, err) < 0)
                return -1;
        unsigned avail = parse_ctrl_list(buf);
        if (read_file(dir, "cgroup.subtree_control", buf, sizeof buf, err) < 0)
                return -1;
        unsigned want = avail & ~parse_ctrl_list(buf);
        if (!want)
                return 0;
        char line[64] = "";
        for (size_t i = 0; i < SL_ARRAY_SIZE(v2_controllers); i++)
                if (want & v2_controllers[i].ctrl) {
                        size_t n = strlen(line);
                        snprintf(line + n, sizeof line - n, "%s+%s", n ? " " : "",
                                 v2_controllers[i].name);
                }
        char p[PATH_MAX];
        if (path_fmt(p, sizeof p, err, "%s/cgroup.subtree_control", dir) < 0)
                return -1;

        bool moved = false;
        if (caller_here && sys->delegated) {
                if (read_file(dir, "cgroup.procs", buf, sizeof buf, err) < 0)
                        return -1;
                if (buf[strspn(buf, " \n")] && move_to_leaf(sys, dir, err) < 0)
                        return -1;
                moved = true;
        }
        int rc = sl_write_file_at(AT_FDCWD, p, line, err);
        if (rc < 0 && err && err->code == EBUSY && caller_here && !moved) {
                if (move_to_leaf(sys, dir, err) < 0)
                        return -1;
                rc = sl_write_file_at(AT_FDCWD, p, line, err);
        }
        if (rc < 0 && err && err->code == EBUSY)
                return fail_plain(err, EBUSY,
                                  "write `%s` to `%s`: `%s` holds processes, and cgroup v2 "
                                  "hands controllers down only from a cgroup without any "
                                  "(move them to a leaf child)",
                                  line, p, dir);
        return rc;
}

/* v1 cpuset refuses tasks until cpus and mems are set: copy the parent's
 * where empty (what cgroup.clone_children would do, without changing a flag
 * that others' cgroups also see). */
static int cpuset_inherit(const char *dir, const char *parent, const char *cpus,
                          struct sl_error *err)
{
        static const char *const files[] = {"cpuset.cpus", "cpuset.mems"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(files); i++) {
                char cur[SMALL_FILE_MAX];
                if (read_file(dir, files[i], cur, sizeof cur, err) < 0)
                        return -1;
                if (i == 0 && *cpus) {
                        if (write_file(dir, files[i], cpus, err) < 0)
                                return -1;
                        continue;
                }
                if (cur[strspn(cur, " \n")])
                        continue;
                if (read_file(parent, files[i], cur, sizeof cur, err) < 0)
                        return -1;
                cur[strcspn(cur, "\n")] = '\0';
                if (write_file(dir, files[i], cur, err) < 0)
                        return -1;
        }
        return 0;
}

/* mkdir base, component by component, in one hierarchy, preparing each
 * level as the hierarchy needs. start: length of the part of base that
 * already exists and is not ours except for enabling controllers (the
 * delegated cgroup); 0 when base is placed at the hierarchy root.
 * caller_at_start: the caller's own cgroup is that starting directory. */
static int prepare_base(const struct sb_cgroup_sys *sys, const struct sb_cgroup_hier *h,
                        size_t start, bool caller_at_start, struct sl_error *err)
{
        char dir[PATH_MAX], parent[PATH_MAX];
        if (hier_root(sys, h, dir, sizeof dir, err) < 0)
                return -1;
        if (start && path_fmt(dir + strlen(dir), sizeof dir - strlen(dir), err, "/%.*s", (int)start,
                              sys->base) < 0)
                return -1;
        bool v2_ctrl = sys->layout == SB_CGROUP_V2;
        if (v2_ctrl && enable_controllers(sys, dir, caller_at_start, err) < 0)
                return -1;
        const char *c = sys->base + start + (start ? 1 : 0);
        while (*c) {
                size_t len = strcspn(c, "/");
                memcpy(parent, dir, sizeof parent);
                if (path_fmt(dir + strlen(dir), sizeof dir - strlen(dir), err, "/%.*s", (int)len,
                             c) < 0)
                        return -1;
                if (ops_mkdir(&sys->ops, dir) < 0 && errno != EEXIST)
                        return sl_error_errno(err, "mkdir `%s`", dir);
                if (v2_ctrl && enable_controllers(sys, dir, false, err) < 0)
                        return -1;
                if ((h->ctrl & SB_CGROUP_CTRL_CPUSET) && !(h->ctrl & SB_CGROUP_CTRL_V2) &&
                    cpuset_inherit(dir, parent, "", err) < 0)
                        return -1;
                c += len + (c[len] == '/');
        }
        return 0;
}

static const char DELEGATE_HINT[] =
    "run as root or under `systemd-run --user -p Delegate=yes --scope ...`";

/* Unprivileged: base goes under the caller's own v2 cgroup, if it is ours:
 * we need to create children there (the directory), move processes
 * (cgroup.procs) and hand controllers down (cgroup.subtree_control). */
static int place_delegated(struct sb_cgroup_sys *sys, const char *base, struct sl_error *err)
{
        if (sys->layout != SB_CGROUP_V2)
                return fail_plain(err, EPERM,
                                  "cgroup limits need root on this host: its controllers are "
                                  "on cgroup v1 under `%s`, which uid %u cannot write and "
                                  "which systemd does not delegate; run as root",
                                  sys->fsroot, (unsigned)geteuid());
        char own[PATH_MAX], dir[PATH_MAX];
        if (own_v2_cgroup(sys, own, sizeof own, err) < 0)
                return sl_error_prefix(err, "find the caller's cgroup");
        if (path_fmt(dir, sizeof dir, err, "%s%s%s", sys->fsroot, *own ? "/" : "", own) < 0)
                return -1;
        static const char *const needed[] = {".", "cgroup.procs", "cgroup.subtree_control"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(needed); i++) {
                if (*own && writable(dir, needed[i]))
                        continue;
                int e = *own ? errno : EACCES; /* the root cgroup is never delegated */
                return fail_plain(err, e,
                                  "cgroup limits need a delegated cgroup: uid %u cannot write "
                                  "`%s%s%s` (%s); %s",
                                  (unsigned)geteuid(), dir, i ? "/" : "", i ? needed[i] : "",
                                  strerror(e), DELEGATE_HINT);
        }
        if (path_fmt(sys->base, sizeof sys->base, err, "%s/%s", own, base) < 0)
                return -1;
        sys->delegated = true;
        return (int)strlen(own);
}

int sb_cgroup_sys_init_ops(struct sb_cgroup_sys *sys, const char *fsroot, const char *base,
                           const struct sb_cgroup_fs_ops *ops, struct sl_error *err)
{
        memset(sys, 0, sizeof *sys);
        if (ops)
                sys->ops = *ops;
        if (!sb_cgroup_name_ok(base))
                return sl_error_set(err, EINVAL, "cgroup base `%s` is not a relative path",
                                    base ? base : "(null)");
        if (path_fmt(sys->fsroot, sizeof sys->fsroot, err, "%s", fsroot) < 0 ||
            path_fmt(sys->base, sizeof sys->base, err, "%s", base) < 0)
                return -1;
        if (detect(sys, err) < 0)
                return -1;

        /* Root (or a cgroup namespace that is ours) writes the hierarchy
         * roots; anyone else is confined to what was delegated to them. */
        bool roots_writable = true;
        for (unsigned i = 0; i < sys->n_hier; i++) {
                char root[PATH_MAX];
                if (hier_root(sys, &sys->hier[i], root, sizeof root, err) < 0)
                        return -1;
                roots_writable = roots_writable && writable(root, "cgroup.procs");
        }
        int start = 0;
        if (!roots_writable && (start = place_delegated(sys, base, err)) < 0)
                return -1;
        bool caller_at_start = sys->delegated;
        char own[PATH_MAX];
        if (!sys->delegated && sys->layout == SB_CGROUP_V2)
                caller_at_start = own_v2_cgroup(sys, own, sizeof own, NULL) == 0 && !*own;

        for (unsigned i = 0; i < sys->n_hier; i++)
                if (prepare_base(sys, &sys->hier[i], (size_t)start, caller_at_start, err) < 0)
                        return sl_error_prefix(err, "prepare cgroup base `%s`", sys->base);
        if (sys->layout == SB_CGROUP_V2) {
                /* What our slices will get: what base hands down. */
                char dir[PATH_MAX], buf[SMALL_FILE_MAX];
                if (path_fmt(dir, sizeof dir, err, "%s/%s", sys->fsroot, sys->base) < 0 ||
                    read_file(dir, "cgroup.subtree_control", buf, sizeof buf, err) < 0)
                        return -1;
                sys->hier[0].ctrl |= parse_ctrl_list(buf);
        }
        return 0;
}

int sb_cgroup_sys_init(struct sb_cgroup_sys *sys, const char *fsroot, const char *base,
                       struct sl_error *err)
{
        return sb_cgroup_sys_init_ops(sys, fsroot, base, NULL, err);
}

int sb_cgroup_sys_release(const struct sb_cgroup_sys *sys, struct sl_error *err)
{
        int rc = 0;
        for (unsigned i = sys->n_hier; i-- > 0;) {
                char dir[PATH_MAX];
                if (hier_root(sys, &sys->hier[i], dir, sizeof dir, err) < 0 ||
                    path_fmt(dir + strlen(dir), sizeof dir - strlen(dir), err, "/%s", sys->base) <
                        0)
                        return -1;
                if (ops_rmdir(&sys->ops, dir) < 0 && errno != ENOENT && rc == 0)
                        rc = sl_error_errno(err, "rmdir `%s`", dir);
        }
        return rc;
}

/* ---- creation --------------------------------------------------------- */

/* Every requested limit has a controller to carry it, or we fail now. */
static int check_available(const struct sb_cgroup_sys *sys, const struct sb_cgroup_limits *lim,
                           struct sl_error *err)
{
        unsigned have = 0;
        for (unsigned i = 0; i < sys->n_hier; i++)
                have |= sys->hier[i].ctrl;
        const struct {
                bool asked;
                const char *what;
                unsigned ctrl;
        } req[] = {
            {lim->memory_max != 0, "memory_max", SB_CGROUP_CTRL_MEMORY},
            {lim->pids_max != 0, "pids_max", SB_CGROUP_CTRL_PIDS},
            {lim->cpu_weight || lim->cpu_quota_us || lim->cpu_period_us, "cpu", SB_CGROUP_CTRL_CPU},
            {lim->cpus[0] != '\0', "cpus", SB_CGROUP_CTRL_CPUSET},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(req); i++)
                if (req[i].asked && !(have & req[i].ctrl))
                        return fail_plain(err, ENOTSUP,
                                          "limit `%s` needs the %s controller, which %s "
                                          "does not offer to `%s` under `%s`",
                                          req[i].what, ctrl_name(req[i].ctrl),
                                          sb_cgroup_layout_name(sys->layout), sys->base,
                                          sys->fsroot);
        return 0;
}

/* Write a file the kernel offers only with some configs (swap accounting,
 * oom.group): skip when absent, fail when present and refused. */
static int write_optional(const char *dir, const char *file, const char *value,
                          struct sl_error *err)
{
        return exists(dir, file) ? write_file(dir, file, value, err) : 0;
}

static int apply_v2(const struct sb_cgroup_dir *d, const struct sb_cgroup_limits *lim,
                    struct sl_error *err)
{
        const char *p = d->path;
        if (d->ctrl & SB_CGROUP_CTRL_MEMORY) {
                /* One OOM kill takes the whole slice: a component half
                 * killed is worse than one restarted. */
                if (write_optional(p, "memory.oom.group", "1", err) < 0)
                        return -1;
                /* memory_max bounds RAM + swap, as memsw does on v1: a slice
                 * must not outgrow its quota by swapping. */
                if (lim->memory_max && (write_u64(p, "memory.max", lim->memory_max, err) < 0 ||
                                        write_optional(p, "memory.swap.max", "0", err) < 0))
                        return -1;
        }
        /* Only what this hierarchy carries: on hybrid, unified has none. */
        if ((d->ctrl & SB_CGROUP_CTRL_PIDS) && lim->pids_max &&
            write_u64(p, "pids.max", lim->pids_max, err) < 0)
                return -1;
        if ((d->ctrl & SB_CGROUP_CTRL_CPU) && lim->cpu_weight &&
            write_u64(p, "cpu.weight", lim->cpu_weight, err) < 0)
                return -1;
        if ((d->ctrl & SB_CGROUP_CTRL_CPU) && (lim->cpu_quota_us || lim->cpu_period_us)) {
                uint64_t period =
                    lim->cpu_period_us ? lim->cpu_period_us : SB_CGROUP_PERIOD_DEFAULT_US;
                char v[48];
                if (lim->cpu_quota_us)
                        snprintf(v, sizeof v, "%" PRIu64 " %" PRIu64, lim->cpu_quota_us, period);
                else
                        snprintf(v, sizeof v, "max %" PRIu64, period);
                if (write_file(p, "cpu.max", v, err) < 0)
                        return -1;
        }
        if ((d->ctrl & SB_CGROUP_CTRL_CPUSET) && *lim->cpus &&
            write_file(p, "cpuset.cpus", lim->cpus, err) < 0)
                return -1;
        return 0;
}

static int apply_v1(const struct sb_cgroup_dir *d, const struct sb_cgroup_limits *lim,
                    struct sl_error *err)
{
        const char *p = d->path;
        /* memsw (RAM + swap) must stay >= the RAM limit: RAM first. */
        if ((d->ctrl & SB_CGROUP_CTRL_MEMORY) && lim->memory_max &&
            (write_u64(p, "memory.limit_in_bytes", lim->memory_max, err) < 0 ||
             (exists(p, "memory.memsw.limit_in_bytes") &&
              write_u64(p, "memory.memsw.limit_in_bytes", lim->memory_max, err) < 0)))
                return -1;
        if ((d->ctrl & SB_CGROUP_CTRL_PIDS) && lim->pids_max &&
            write_u64(p, "pids.max", lim->pids_max, err) < 0)
                return -1;
        if (!(d->ctrl & SB_CGROUP_CTRL_CPU))
                return 0;
        if (lim->cpu_weight &&
            write_u64(p, "cpu.shares", sb_cgroup_weight_to_shares(lim->cpu_weight), err) < 0)
                return -1;
        if (lim->cpu_quota_us || lim->cpu_period_us) {
                uint64_t period =
                    lim->cpu_period_us ? lim->cpu_period_us : SB_CGROUP_PERIOD_DEFAULT_US;
                if (write_u64(p, "cpu.cfs_period_us", period, err) < 0)
                        return -1;
                if (lim->cpu_quota_us ? write_u64(p, "cpu.cfs_quota_us", lim->cpu_quota_us, err)
                                      : write_file(p, "cpu.cfs_quota_us", "-1", err))
                        return -1;
        }
        return 0;
}

/* A fresh directory: a leftover of a crashed run is removed first (rmdir
 * succeeds only when it holds no process and no child), so no stale limit
 * or process survives into the new slice. */
static int make_fresh_dir(const struct sb_cgroup_fs_ops *ops, const char *path,
                          struct sl_error *err)
{
        if (ops_mkdir(ops, path) == 0)
                return 0;
        if (errno != EEXIST)
                return sl_error_errno(err, "mkdir `%s`", path);
        if (ops_rmdir(ops, path) < 0)
                return sl_error_errno(err, "cgroup `%s` is left over and still in use; rmdir",
                                      path);
        if (ops_mkdir(ops, path) < 0)
                return sl_error_errno(err, "mkdir `%s`", path);
        return 0;
}

static void free_cgroup(struct sb_cgroup *cg)
{
        if (cg->v2_fd >= 0)
                close(cg->v2_fd);
        for (unsigned i = 0; i < SB_CGROUP_MAX_HIER; i++)
                free(cg->dirs[i].path); /* a failed create may leave one past n_dirs */
        free(cg);
}

static void remove_dirs(struct sb_cgroup *cg)
{
        for (unsigned i = cg->n_dirs; i-- > 0;)
                ops_rmdir(&cg->ops, cg->dirs[i].path);
        cg->n_dirs = 0;
}

static int create_in(const struct sb_cgroup_sys *sys, const struct sb_cgroup_hier *h,
                     const char *name, const struct sb_cgroup_limits *lim, struct sb_cgroup *cg,
                     struct sl_error *err)
{
        struct sb_cgroup_dir *d = &cg->dirs[cg->n_dirs];
        char parent[PATH_MAX], path[PATH_MAX];
        const char *slash = strrchr(name, '/');
        if (hier_root(sys, h, parent, sizeof parent, err) < 0 ||
            path_fmt(parent + strlen(parent), sizeof parent - strlen(parent), err, "/%s%s%.*s",
                     sys->base, slash ? "/" : "", slash ? (int)(slash - name) : 0, name) < 0 ||
            path_fmt(path, sizeof path, err, "%s/%s", parent, slash ? slash + 1 : name) < 0)
                return -1;
        free(d->path);
        d->path = strdup(path);
        if (!d->path)
                return sl_error_set(err, ENOMEM, "cgroup `%s`", path);
        d->ctrl = h->ctrl;
        if (access(parent, F_OK) < 0)
                return sl_error_errno(err, "parent cgroup `%s` of slice `%s`", parent, name);
        /* A nested slice's parent hands its controllers down like base does. */
        if (slash && sys->layout == SB_CGROUP_V2 && enable_controllers(sys, parent, false, err) < 0)
                return -1;
        if (make_fresh_dir(&sys->ops, d->path, err) < 0)
                return -1;
        cg->n_dirs++;
        if (h->ctrl & SB_CGROUP_CTRL_V2)
                return apply_v2(d, lim, err);
        if ((h->ctrl & SB_CGROUP_CTRL_CPUSET) &&
            cpuset_inherit(d->path, parent, lim->cpus, err) < 0)
                return -1;
        return apply_v1(d, lim, err);
}

int sb_cgroup_create(const struct sb_cgroup_sys *sys, const char *name,
                     const struct sb_cgroup_limits *lim, struct sb_cgroup **out,
                     struct sl_error *err)
{
        *out = NULL;
        if (sys->layout == SB_CGROUP_NONE)
                return sl_error_set(err, ENOENT, "cgroups are not initialised");
        if (!sb_cgroup_name_ok(name))
                return sl_error_set(err, EINVAL, "slice cgroup name `%s` is not a relative path",
                                    name ? name : "(null)");
        if (sb_cgroup_limits_check(lim, err) < 0 || check_available(sys, lim, err) < 0)
                return sl_error_prefix(err, "slice cgroup `%s`", name);

        struct sb_cgroup *cg = calloc(1, sizeof *cg);
        if (!cg)
                return sl_error_errno(err, "allocate cgroup `%s`", name);
        cg->layout = sys->layout;
        cg->ops = sys->ops;
        cg->v2_fd = -1;
        for (unsigned i = 0; i < sys->n_hier; i++)
                if (create_in(sys, &sys->hier[i], name, lim, cg, err) < 0)
                        goto fail;
        if (cg->dirs[0].ctrl & SB_CGROUP_CTRL_V2) {
                /* O_PATH is enough for CLONE_INTO_CGROUP (the kernel takes
                 * the fd raw) and grants no read or write. */
                cg->v2_fd = open(cg->dirs[0].path, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (cg->v2_fd < 0) {
                        sl_error_errno(err, "open `%s`", cg->dirs[0].path);
                        goto fail;
                }
        }
        *out = cg;
        return 0;
fail:
        remove_dirs(cg);
        free_cgroup(cg);
        return -1;
}

/* ---- use -------------------------------------------------------------- */

int sb_cgroup_v2_fd(const struct sb_cgroup *cg)
{
        return cg ? cg->v2_fd : -1;
}

const char *sb_cgroup_path(const struct sb_cgroup *cg)
{
        return cg && cg->n_dirs ? cg->dirs[0].path : "";
}

static const struct sb_cgroup_dir *find_dir(const struct sb_cgroup *cg, unsigned ctrl)
{
        for (unsigned i = 0; i < cg->n_dirs; i++)
                if (cg->dirs[i].ctrl & ctrl)
                        return &cg->dirs[i];
        return NULL;
}

int sb_cgroup_attach(const struct sb_cgroup *cg, pid_t pid, struct sl_error *err)
{
        /* v1 first: v1 cpuset and memory must hold the process before it
         * runs anything; v2 last (usually already there by clone3). */
        for (unsigned i = cg->n_dirs; i-- > 0;)
                if (write_u64(cg->dirs[i].path, "cgroup.procs", (uint64_t)pid, err) < 0)
                        return -1;
        return 0;
}

int sb_cgroup_oom_kills(const struct sb_cgroup *cg, uint64_t *count, struct sl_error *err)
{
        const struct sb_cgroup_dir *d = find_dir(cg, SB_CGROUP_CTRL_MEMORY);
        if (!d)
                return sl_error_set(err, ENOTSUP, "cgroup `%s` has no memory controller",
                                    sb_cgroup_path(cg));
        /* v1 reports oom_kill in memory.oom_control since Linux 4.13;
         * memory.failcnt counts limit hits, not kills. */
        return read_keyed(d->path,
                          (d->ctrl & SB_CGROUP_CTRL_V2) ? "memory.events" : "memory.oom_control",
                          "oom_kill", count, err);
}

int sb_cgroup_stats(const struct sb_cgroup *cg, struct sb_cgroup_stats *st, struct sl_error *err)
{
        memset(st, 0, sizeof *st);
        const struct sb_cgroup_dir *d = find_dir(cg, SB_CGROUP_CTRL_MEMORY);
        if (d) {
                bool v2 = d->ctrl & SB_CGROUP_CTRL_V2;
                const char *cur = v2 ? "memory.current" : "memory.usage_in_bytes";
                const char *peak = v2 ? "memory.peak" : "memory.max_usage_in_bytes";
                if (read_u64(d->path, cur, &st->memory_current, err) < 0)
                        return -1;
                /* memory.peak is Linux 5.19+: before, current is the best
                 * lower bound we have. */
                if (!exists(d->path, peak))
                        st->memory_peak = st->memory_current;
                else if (read_u64(d->path, peak, &st->memory_peak, err) < 0)
                        return -1;
                st->have |= SB_CGROUP_STAT_MEMORY;
        }
        d = find_dir(cg, SB_CGROUP_CTRL_PIDS);
        if (d) {
                if (read_u64(d->path, "pids.current", &st->pids_current, err) < 0)
                        return -1;
                st->have |= SB_CGROUP_STAT_PIDS;
        }
        d = find_dir(cg, SB_CGROUP_CTRL_CPUACCT);
        if (d) {
                uint64_t ns;
                if (read_u64(d->path, "cpuacct.usage", &ns, err) < 0)
                        return -1;
                st->cpu_usec = ns / 1000;
                st->have |= SB_CGROUP_STAT_CPU;
        } else if ((d = find_dir(cg, SB_CGROUP_CTRL_V2))) {
                /* cpu.stat usage_usec is core v2: there without the cpu
                 * controller, also on a hybrid unified mount. */
                if (read_keyed(d->path, "cpu.stat", "usage_usec", &st->cpu_usec, err) < 0)
                        return -1;
                st->have |= SB_CGROUP_STAT_CPU;
        }
        return 0;
}

/* ---- kill and removal ------------------------------------------------- */

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

/* Append the pids of dir and its descendants. */
static int list_pids(const char *dir, int depth, struct pid_list *l, struct sl_error *err)
{
        char p[PATH_MAX];
        if (path_fmt(p, sizeof p, err, "%s/cgroup.procs", dir) < 0)
                return -1;
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f)
                return errno == ENOENT ? 0 : sl_error_errno(err, "open `%s`", p);
        int pid;
        while (fscanf(f, "%d", &pid) == 1) {
                if (l->n == l->cap) {
                        size_t cap = l->cap ? l->cap * 2 : 64;
                        pid_t *v = realloc(l->v, cap * sizeof *v);
                        if (!v)
                                return sl_error_errno(err, "list `%s`", p);
                        l->v = v, l->cap = cap;
                }
                l->v[l->n++] = pid;
        }
        if (depth >= SWEEP_MAX_DEPTH)
                return 0;
        DIR *d = opendir(dir);
        if (!d)
                return sl_error_errno(err, "open `%s`", dir);
        int rc = 0;
        struct dirent *e;
        while (rc == 0 && (e = readdir(d)))
                if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                    path_fmt(p, sizeof p, err, "%s/%s", dir, e->d_name) == 0)
                        rc = list_pids(p, depth + 1, l, err);
        closedir(d);
        return rc;
}

static int cmp_pid(const void *a, const void *b)
{
        pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
        return (x > y) - (x < y);
}

/* Every pid in any of our hierarchies, once, sorted. */
static int list_all(const struct sb_cgroup *cg, struct pid_list *l, struct sl_error *err)
{
        l->n = 0;
        for (unsigned i = 0; i < cg->n_dirs; i++)
                if (list_pids(cg->dirs[i].path, 0, l, err) < 0)
                        return -1;
        if (l->n)
                qsort(l->v, l->n, sizeof *l->v, cmp_pid);
        size_t n = 0;
        for (size_t i = 0; i < l->n; i++)
                if (n == 0 || l->v[n - 1] != l->v[i])
                        l->v[n++] = l->v[i];
        l->n = n;
        return 0;
}

static bool listed(const struct pid_list *l, pid_t pid)
{
        return l->n && bsearch(&pid, l->v, l->n, sizeof *l->v, cmp_pid);
}

/* SIGKILL each listed pid without hitting a stranger that reused one: pin
 * each process with a pidfd, list again, signal only pinned processes whose
 * pid is still listed (if the pinned one died, the signal fails with ESRCH;
 * a live pinned one is the listed one). Before Linux 5.3 there is no pidfd:
 * plain kill(), with a reuse window of the microseconds since listing. */
#define NO_PIDFD (-2)
static int sweep(const struct sb_cgroup *cg, struct sl_error *err)
{
        struct pid_list a = {0}, b = {0};
        int rc = list_all(cg, &a, err);
        _cleanup_free_ int *fds = rc == 0 && a.n ? calloc(a.n, sizeof *fds) : NULL;
        if (rc == 0 && a.n && !fds)
                rc = sl_error_errno(err, "sweep `%s`", sb_cgroup_path(cg));
        for (size_t i = 0; fds && i < a.n; i++) {
                fds[i] = (int)syscall(SYS_pidfd_open, a.v[i], 0);
                if (fds[i] < 0 && errno == ENOSYS)
                        fds[i] = NO_PIDFD;
        }
        if (fds)
                rc = list_all(cg, &b, err);
        for (size_t i = 0; fds && i < a.n; i++) {
                if (rc == 0 && listed(&b, a.v[i])) {
                        if (fds[i] >= 0)
                                syscall(SYS_pidfd_send_signal, fds[i], SIGKILL, NULL, 0);
                        else if (fds[i] == NO_PIDFD)
                                kill(a.v[i], SIGKILL);
                }
                if (fds[i] >= 0)
                        close(fds[i]);
        }
        free(a.v);
        free(b.v);
        return rc;
}

/* Freeze (v1 freezer or v2 cgroup.freeze) so nothing forks or exits while we
 * sweep. Returns the directory to thaw, or NULL when there is no freezer. If
 * freezing does not settle in time we sweep anyway: the loop that follows
 * catches what escaped. */
static const struct sb_cgroup_dir *freeze(const struct sb_cgroup *cg, bool on)
{
        const struct sb_cgroup_dir *d = find_dir(cg, SB_CGROUP_CTRL_FREEZER);
        bool v1 = d != NULL;
        if (!d && (d = find_dir(cg, SB_CGROUP_CTRL_V2)) && !exists(d->path, "cgroup.freeze"))
                d = NULL;
        if (!d)
                return NULL;
        const char *file = v1 ? "freezer.state" : "cgroup.freeze";
        if (write_file(d->path, file, v1 ? (on ? "FROZEN" : "THAWED") : (on ? "1" : "0"), NULL) <
                0 ||
            !on)
                return NULL;
        for (int ms = 0; ms < FREEZE_TIMEOUT_MS; ms++) {
                char buf[SMALL_FILE_MAX];
                uint64_t frozen = 0;
                if (v1 ? read_file(d->path, "freezer.state", buf, sizeof buf, NULL) >= 0 &&
                             strncmp(buf, "FROZEN", 6) == 0
                       : read_keyed(d->path, "cgroup.events", "frozen", &frozen, NULL) == 0 &&
                             frozen)
                        return d;
                sleep_ns(EMPTY_POLL_NS);
        }
        return d; /* still thaw it afterwards */
}

int sb_cgroup_populated(const struct sb_cgroup *cg, bool *populated, struct sl_error *err)
{
        /* v2 keeps a hierarchical count; v1 only lists pids. */
        const struct sb_cgroup_dir *v2 = find_dir(cg, SB_CGROUP_CTRL_V2);
        uint64_t n = 0;
        if (v2 && read_keyed(v2->path, "cgroup.events", "populated", &n, err) < 0)
                return -1;
        if (!n && cg->layout != SB_CGROUP_V2) {
                struct pid_list l = {0};
                int rc = list_all(cg, &l, err);
                free(l.v);
                if (rc < 0)
                        return -1;
                n = l.n;
        }
        *populated = n != 0;
        return 0;
}

int sb_cgroup_kill(const struct sb_cgroup *cg, struct sl_error *err)
{
        const struct sb_cgroup_dir *v2 = find_dir(cg, SB_CGROUP_CTRL_V2);
        if (v2 && exists(v2->path, "cgroup.kill")) {
                /* Linux 5.14+: one write kills the subtree, forks included. */
                if (write_file(v2->path, "cgroup.kill", "1", err) < 0)
                        return -1;
        } else {
                const struct sb_cgroup_dir *frozen = freeze(cg, true);
                int rc = sweep(cg, err);
                /* v1 frozen tasks die only once thawed. */
                if (frozen)
                        freeze(cg, false);
                if (rc < 0)
                        return -1;
        }
        /* Sweep until empty: catches processes outside unified on hybrid
         * and any fork that raced an unfrozen sweep. */
        struct timespec t0, now;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                bool populated;
                if (sb_cgroup_populated(cg, &populated, err) < 0)
                        return -1;
                if (!populated)
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long ms = (now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000;
                if (ms >= SB_CGROUP_EMPTY_TIMEOUT_MS)
                        return sl_error_set(err, ETIMEDOUT,
                                            "processes remain in cgroup `%s` %d ms after SIGKILL",
                                            sb_cgroup_path(cg), SB_CGROUP_EMPTY_TIMEOUT_MS);
                if (sweep(cg, err) < 0)
                        return -1;
                sleep_ns(EMPTY_POLL_NS);
        }
}

int sb_cgroup_destroy(struct sb_cgroup *cg, struct sl_error *err)
{
        if (!cg)
                return 0;
        int rc = 0;
        bool populated = false;
        if (sb_cgroup_populated(cg, &populated, err) < 0 ||
            (populated && sb_cgroup_kill(cg, err) < 0))
                rc = -1;
        for (unsigned i = cg->n_dirs; i-- > 0;)
                if (ops_rmdir(&cg->ops, cg->dirs[i].path) < 0 && errno != ENOENT && rc == 0)
                        rc = sl_error_errno(err, "rmdir `%s`", cg->dirs[i].path);
        free_cgroup(cg);
        return rc;
}

/* ---- live changes ----------------------------------------------------- */

int sb_cgroup_set_memory_max(const struct sb_cgroup *cg, uint64_t bytes, struct sl_error *err)
{
        for (unsigned i = 0; i < cg->n_dirs; i++) {
                const struct sb_cgroup_dir *d = &cg->dirs[i];
                if (!(d->ctrl & SB_CGROUP_CTRL_MEMORY))
                        continue;
                if (d->ctrl & SB_CGROUP_CTRL_V2) {
                        if (write_u64(d->path, "memory.max", bytes, err) < 0)
                                return -1;
                        continue;
                }
                /* v1 keeps memsw >= limit at every moment: lowering writes the
                 * RAM limit first, raising writes memsw first. */
                bool memsw = exists(d->path, "memory.memsw.limit_in_bytes");
                uint64_t now = 0;
                bool raising =
                    read_u64(d->path, "memory.limit_in_bytes", &now, NULL) == 0 && bytes > now;
                if (memsw && raising &&
                    write_u64(d->path, "memory.memsw.limit_in_bytes", bytes, err) < 0)
                        return -1;
                if (write_u64(d->path, "memory.limit_in_bytes", bytes, err) < 0)
                        return -1;
                if (memsw && !raising &&
                    write_u64(d->path, "memory.memsw.limit_in_bytes", bytes, err) < 0)
                        return -1;
        }
        return 0;
}
