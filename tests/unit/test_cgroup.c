/* Per-slice cgroups, as a specification.
 *
 * Fake cgroupfs: a temp tree shaped like /sys/fs/cgroup on each layout. Its
 * mkdir hook does what the kernel does on mkdir in a cgroupfs (creates the
 * interface files with their defaults; a v2 child lists what its parent
 * hands down), its rmdir hook refuses populated cgroups. Tests assert the
 * exact bytes each file holds after the module wrote it.
 *
 * Real cgroupfs (root only, skipped otherwise): OOM kill under a memory
 * limit, pids.max stopping a fork loop, kill, CLONE_INTO_CGROUP, removal.
 * Unprivileged: sys_init fails with a message saying what to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/cgroup.h"

#define REAL_FSROOT "/sys/fs/cgroup"
#define NOBODY 65534        /* uid/gid the unprivileged checks drop to */
#define PAGE 4096
#define MIB (1024ull * 1024)
#define MAX_EXPECT 8

/* Format into an array, failing the test on truncation. */
#define FMT(buf, ...) assert_true(snprintf((buf), sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

/* ---- fake cgroupfs ---------------------------------------------------- */

enum fake_kind { FAKE_V2, FAKE_HYBRID, FAKE_V1, FAKE_V1_JOINED };

struct fake {
        char tmp[128];  /* mkdtemp dir: fs/ and proc_cgroup inside */
        char root[192]; /* the fake fsroot */
        char proc[192]; /* fake /proc/self/cgroup */
        enum fake_kind kind;
        const char *omit;    /* interface file the "kernel" does not offer */
        struct sb_cgroup_fs_ops ops;
};

static void put(const char *dir, const char *file, const char *content)
{
        char p[PATH_MAX];
        FMT(p, "%s/%s", dir, file);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void mkdir_put(const char *dir)
{
        assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
}

/* Contents of <fake root>/<rel>, without the trailing newline. */
static const char *fake_read(const struct fake *f, const char *rel)
{
        static char buf[4096];
        char p[PATH_MAX];
        FMT(p, "%s/%s", f->root, rel);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return "(missing)";
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n < 0 ? 0 : n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        return buf;
}

static bool fake_exists(const struct fake *f, const char *rel)
{
        char p[PATH_MAX];
        FMT(p, "%s/%s", f->root, rel);
        return access(p, F_OK) == 0;
}

static void put_v2_files(const char *dir, const char *parent)
{
        /* A v2 child lists what its parent hands down. */
        char sub[256] = "", ctl[256] = "";
        int fd = open(parent, O_RDONLY);
        if (fd >= 0) {
                char p[PATH_MAX];
                FMT(p, "%s/cgroup.subtree_control", parent);
                close(fd);
                FILE *s = fopen(p, "r");
                if (s) {
                        if (!fgets(sub, sizeof sub, s))
                                sub[0] = '\0';
                        fclose(s);
                }
        }
        for (char *c = sub, *o = ctl; *c; c++)
                if (*c != '+' && *c != '\n')
                        *o++ = *c;
        strcat(ctl, "\n");
        put(dir, "cgroup.controllers", ctl);
        put(dir, "cgroup.subtree_control", "");
        put(dir, "cgroup.procs", "");
        put(dir, "cgroup.events", "populated 0\nfrozen 0\n");
        put(dir, "cgroup.kill", "");
        put(dir, "cgroup.freeze", "0\n");
        put(dir, "cpu.stat", "usage_usec 0\nuser_usec 0\nsystem_usec 0\n");
        if (strstr(ctl, "memory")) {
                put(dir, "memory.max", "max\n");
                put(dir, "memory.swap.max", "max\n");
                put(dir, "memory.oom.group", "0\n");
                put(dir, "memory.events", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n");
                put(dir, "memory.current", "0\n");
                put(dir, "memory.peak", "0\n");
        }
        if (strstr(ctl, "pids")) {
                put(dir, "pids.max", "max\n");
                put(dir, "pids.current", "0\n");
        }
        if (strstr(ctl, "cpu ") || strstr(ctl, "cpu\n")) {
                put(dir, "cpu.weight", "100\n");
                put(dir, "cpu.max", "max 100000\n");
        }
        if (strstr(ctl, "cpuset")) {
                put(dir, "cpuset.cpus", "");
                put(dir, "cpuset.mems", "");
        }
}

static void put_v1_files(const char *dir, const char *hier, bool joined)
{
        put(dir, "cgroup.procs", "");
        put(dir, "tasks", "");
        put(dir, "cgroup.clone_children", "0\n");
        if (!strcmp(hier, "memory")) {
                put(dir, "memory.limit_in_bytes", "9223372036854771712\n");
                put(dir, "memory.memsw.limit_in_bytes", "9223372036854771712\n");
                put(dir, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n");
                put(dir, "memory.usage_in_bytes", "0\n");
                put(dir, "memory.max_usage_in_bytes", "0\n");
        }
        if (!strcmp(hier, "pids")) {
                put(dir, "pids.max", "max\n");
                put(dir, "pids.current", "0\n");
        }
        if (!strcmp(hier, "cpu") || !strcmp(hier, "cpu,cpuacct")) {
                put(dir, "cpu.shares", "1024\n");
                put(dir, "cpu.cfs_period_us", "100000\n");
                put(dir, "cpu.cfs_quota_us", "-1\n");
        }
        if (!strcmp(hier, "cpuacct") || !strcmp(hier, "cpu,cpuacct") ||
            (joined && !strcmp(hier, "cpu")))
                put(dir, "cpuacct.usage", "0\n");
        if (!strcmp(hier, "cpuset")) {
                put(dir, "cpuset.cpus", "\n"); /* clone_children 0: empty */
                put(dir, "cpuset.mems", "\n");
        }
        if (!strcmp(hier, "freezer"))
                put(dir, "freezer.state", "THAWED\n");
}

static int fake_mkdir(const char *path, void *data)
{
        struct fake *f = data;
        if (mkdir(path, 0755) < 0)
                return -1;
        char parent[PATH_MAX], hier[64];
        FMT(parent, "%s", path);
        *strrchr(parent, '/') = '\0';
        const char *rel = path + strlen(f->root) + 1;
        FMT(hier, "%.*s", (int)strcspn(rel, "/"), rel);
        if (f->kind == FAKE_V2 || !strcmp(hier, "unified"))
                put_v2_files(path, parent);
        else
                put_v1_files(path, hier, f->kind == FAKE_V1_JOINED);
        if (f->omit) {
                char p[PATH_MAX];
                FMT(p, "%s/%s", path, f->omit);
                unlink(p);
        }
        return 0;
}

/* The kernel removes a cgroup with its interface files, but not while it
 * holds a process or a child cgroup. */
static int fake_rmdir(const char *path, void *data)
{
        (void)data;
        DIR *d = opendir(path);
        if (!d)
                return -1;
        char p[PATH_MAX];
        struct dirent *e;
        FMT(p, "%s/cgroup.procs", path);
        FILE *procs = fopen(p, "r");
        int c = procs ? fgetc(procs) : EOF;
        if (procs)
                fclose(procs);
        bool busy = c != EOF && c != '\n';
        while (!busy && (e = readdir(d)))
                busy = e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        rewinddir(d);
        while (!busy && (e = readdir(d)))
                if (e->d_type == DT_REG) {
                        FMT(p, "%s/%s", path, e->d_name);
                        unlink(p);
                }
        closedir(d);
        if (busy) {
                errno = EBUSY;
                return -1;
        }
        return rmdir(path);
}

static void build_v1_root(struct fake *f, const char *hier)
{
        char d[PATH_MAX];
        FMT(d, "%s/%s", f->root, hier);
        mkdir_put(d);
        put(d, "cgroup.procs", "1\n");
        if (!strcmp(hier, "cpuset")) {
                put(d, "cpuset.cpus", "0-3\n");
                put(d, "cpuset.mems", "0\n");
        }
}

static void build_tree(struct fake *f)
{
        if (f->kind == FAKE_V2) {
                put(f->root, "cgroup.controllers", "cpuset cpu io memory pids\n");
                put(f->root, "cgroup.subtree_control", "");
                put(f->root, "cgroup.procs", "1\n");
                return;
        }
        static const char *const v1[] = {"memory", "pids", "cpuset", "freezer"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(v1); i++)
                build_v1_root(f, v1[i]);
        if (f->kind == FAKE_V1_JOINED) {
                /* Debian 10/11 and RHEL 7: one hierarchy, two symlinks. */
                build_v1_root(f, "cpu,cpuacct");
                char l[PATH_MAX];
                FMT(l, "%s/cpu", f->root);
                assert_int_equal(symlink("cpu,cpuacct", l), 0);
                FMT(l, "%s/cpuacct", f->root);
                assert_int_equal(symlink("cpu,cpuacct", l), 0);
        } else {
                build_v1_root(f, "cpu");
                build_v1_root(f, "cpuacct");
        }
        if (f->kind == FAKE_HYBRID) {
                char u[PATH_MAX];
                FMT(u, "%s/unified", f->root);
                mkdir_put(u);
                put(u, "cgroup.controllers", "hugetlb\n"); /* as on this host */
                put(u, "cgroup.subtree_control", "");
                put(u, "cgroup.procs", "1\n");
        }
}

static int fake_setup(void **state, enum fake_kind kind)
{
        struct fake *f = calloc(1, sizeof *f);
        assert_non_null(f);
        snprintf(f->tmp, sizeof f->tmp, "/tmp/sliced-cgtest-XXXXXX");
        assert_non_null(mkdtemp(f->tmp));
        chmod(f->tmp, 0755); /* the delegation test enters it as nobody */
        snprintf(f->root, sizeof f->root, "%s/fs", f->tmp);
        snprintf(f->proc, sizeof f->proc, "%s/proc_cgroup", f->tmp);
        mkdir_put(f->root);
        f->kind = kind;
        f->ops = (struct sb_cgroup_fs_ops){.mkdir = fake_mkdir, .rmdir = fake_rmdir,
                                           .data = f, .proc_self_cgroup = f->proc};
        put(f->tmp, "proc_cgroup", "0::/\n");
        build_tree(f);
        *state = f;
        return 0;
}

static int setup_v2(void **state) { return fake_setup(state, FAKE_V2); }
static int setup_hybrid(void **state) { return fake_setup(state, FAKE_HYBRID); }
static int setup_v1(void **state) { return fake_setup(state, FAKE_V1); }
static int setup_v1_joined(void **state) { return fake_setup(state, FAKE_V1_JOINED); }

static int rm_entry(const char *p, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st, (void)type, (void)ftw;
        return remove(p);
}

static int fake_teardown(void **state)
{
        struct fake *f = *state;
        nftw(f->tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void init_fake(struct fake *f, struct sb_cgroup_sys *sys)
{
        struct sl_error err = {0};
        int rc = sb_cgroup_sys_init_ops(sys, f->root, "sliced", &f->ops, &err);
        if (rc < 0)
                fail_msg("sys_init: %s", err.msg);
}

/* ---- pure helpers ----------------------------------------------------- */

static void test_weight_maps_to_shares_as_systemd_does(void **state)
{
        (void)state;
        static const struct {
                uint64_t weight, shares;
        } cases[] = {
                {100, 1024},     /* both defaults */
                {200, 2048},
                {1, 10},
                {10000, 102400}, /* v2 maximum */
                {0, 2},          /* clamped to the kernel minimum */
                {1000000, 262144}, /* clamped to the kernel maximum */
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++)
                assert_int_equal(sb_cgroup_weight_to_shares(cases[i].weight), cases[i].shares);
}

static void test_limits_out_of_range_are_named(void **state)
{
        (void)state;
        static const struct {
                struct sb_cgroup_limits lim;
                const char *msg; /* NULL = accepted */
        } cases[] = {
                {{.cpu_weight = 1}, NULL},
                {{.cpu_weight = 10000}, NULL},
                {{.cpu_weight = 10001}, "cpu weight 10001 is outside 1..10000"},
                {{.cpu_period_us = 999}, "cpu period 999 us is outside 1000..1000000 us"},
                {{.cpu_period_us = 1000001}, "cpu period 1000001 us is outside 1000..1000000 us"},
                {{.cpu_quota_us = 500}, "cpu quota 500 us is below 1000 us"},
                {{.cpus = "0-1,3"}, NULL},
                {{.cpus = "0;reboot"}, "cpu list `0;reboot` has `;`; expected e.g. `0-1,3`"},
                {{.memory_max = 1, .pids_max = 1}, NULL},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
                struct sl_error err = {0};
                int rc = sb_cgroup_limits_check(&cases[i].lim, &err);
                if (!cases[i].msg) {
                        assert_int_equal(rc, 0);
                        continue;
                }
                assert_int_equal(rc, -1);
                assert_int_equal(err.code, EINVAL);
                assert_string_equal(err.msg, cases[i].msg);
        }
}

static void test_slice_names_must_be_relative_paths(void **state)
{
        (void)state;
        static const struct {
                const char *name;
                bool ok;
        } cases[] = {
                {"web", true},      {"sliced/run-12", true}, {"a/b/c", true},
                {"", false},        {"/abs", false},         {"a//b", false},
                {"a/", false},      {"..", false},           {"a/../b", false},
                {"./a", false},     {"a\nb", false},         {"..a", true},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++)
                if (sb_cgroup_name_ok(cases[i].name) != cases[i].ok)
                        fail_msg("name `%s`: expected %s", cases[i].name,
                                 cases[i].ok ? "ok" : "rejected");
}

static void test_keyed_files_parse_the_exact_key(void **state)
{
        (void)state;
        static const struct {
                const char *text, *key;
                int rc;
                uint64_t val;
        } cases[] = {
                {"low 0\nhigh 0\nmax 7\noom 4\noom_kill 3\noom_group_kill 0\n", "oom_kill", 0, 3},
                /* v1: oom_kill_disable comes first and must not match */
                {"oom_kill_disable 0\nunder_oom 0\noom_kill 2\n", "oom_kill", 0, 2},
                {"oom_kill_disable 0\nunder_oom 0\n", "oom_kill", -1, 0}, /* kernel < 4.13 */
                {"usage_usec 123456\nuser_usec 1\n", "usage_usec", 0, 123456},
                {"populated 1\nfrozen 0\n", "populated", 0, 1},
                {"populated x\n", "populated", -1, 0},
                {"", "oom_kill", -1, 0},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
                uint64_t v = 0;
                assert_int_equal(sb_cgroup_parse_keyed(cases[i].text, cases[i].key, &v),
                                 cases[i].rc);
                if (cases[i].rc == 0)
                        assert_int_equal(v, cases[i].val);
        }
}

/* ---- layout detection -------------------------------------------------- */

static void expect_hier(const struct sb_cgroup_sys *sys, const char *dir, unsigned ctrl)
{
        for (unsigned i = 0; i < sys->n_hier; i++)
                if (!strcmp(sys->hier[i].dir, dir)) {
                        assert_int_equal(sys->hier[i].ctrl, ctrl);
                        return;
                }
        fail_msg("no hierarchy `%s`", dir);
}

static void test_v2_tree_is_detected_as_v2(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        assert_int_equal(sys.layout, SB_CGROUP_V2);
        assert_int_equal(sys.n_hier, 1);
        /* io is offered by the host but not used by us */
        expect_hier(&sys, "", SB_CGROUP_CTRL_V2 | SB_CGROUP_CTRL_MEMORY | SB_CGROUP_CTRL_PIDS |
                                      SB_CGROUP_CTRL_CPU | SB_CGROUP_CTRL_CPUSET);
        assert_false(sys.delegated);
        assert_string_equal(sys.base, "sliced");
}

static void test_hybrid_tree_uses_unified_and_drops_freezer(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        assert_int_equal(sys.layout, SB_CGROUP_HYBRID);
        assert_string_equal(sys.hier[0].dir, "unified"); /* v2 first: v2_fd, path */
        assert_int_equal(sys.n_hier, 6);
        expect_hier(&sys, "memory", SB_CGROUP_CTRL_MEMORY);
        expect_hier(&sys, "cpu", SB_CGROUP_CTRL_CPU);
        expect_hier(&sys, "cpuacct", SB_CGROUP_CTRL_CPUACCT);
        expect_hier(&sys, "unified", SB_CGROUP_CTRL_V2);
}

static void test_v1_tree_keeps_freezer_for_kill(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        assert_int_equal(sys.layout, SB_CGROUP_V1);
        assert_int_equal(sys.n_hier, 6);
        expect_hier(&sys, "freezer", SB_CGROUP_CTRL_FREEZER);
}

static void test_joined_cpu_cpuacct_is_one_hierarchy(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        assert_int_equal(sys.layout, SB_CGROUP_V1);
        assert_int_equal(sys.n_hier, 5); /* memory pids cpu(+cpuacct) cpuset freezer */
        expect_hier(&sys, "cpu", SB_CGROUP_CTRL_CPU | SB_CGROUP_CTRL_CPUACCT);
}

static void test_tree_without_cgroups_is_refused(void **state)
{
        struct fake *f = *state;
        char empty[PATH_MAX];
        FMT(empty, "%s/empty", f->tmp);
        mkdir_put(empty);
        struct sb_cgroup_sys sys;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_sys_init_ops(&sys, empty, "sliced", &f->ops, &err), -1);
        char want[PATH_MAX + 64];
        FMT(want, "no cgroup hierarchy with controllers under `%s`: %s", empty,
            strerror(ENOENT));
        assert_string_equal(err.msg, want);
}

/* ---- base preparation -------------------------------------------------- */

static void test_v2_base_hands_our_controllers_down(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        /* only controllers we use, only those offered; io stays off */
        assert_string_equal(fake_read(f, "cgroup.subtree_control"), "+cpuset +cpu +memory +pids");
        assert_string_equal(fake_read(f, "sliced/cgroup.subtree_control"),
                            "+cpuset +cpu +memory +pids");
}

static void test_v1_cpuset_base_copies_cpus_and_mems(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        assert_string_equal(fake_read(f, "cpuset/sliced/cpuset.cpus"), "0-3");
        assert_string_equal(fake_read(f, "cpuset/sliced/cpuset.mems"), "0");
        /* unified carries no controller to hand down here */
        assert_string_equal(fake_read(f, "unified/cgroup.subtree_control"), "");
        assert_true(fake_exists(f, "unified/sliced/cgroup.procs"));
}

/* ---- limits: the exact bytes per file ---------------------------------- */

struct expect {
        const char *file, *value;
};
struct limit_case {
        const char *what;
        struct sb_cgroup_limits lim;
        struct expect want[MAX_EXPECT];
};

static void run_limit_cases(struct fake *f, const struct limit_case *cases, size_t n)
{
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        for (size_t i = 0; i < n; i++) {
                struct sl_error err = {0};
                struct sb_cgroup *cg = NULL;
                if (sb_cgroup_create(&sys, "s", &cases[i].lim, &cg, &err) < 0)
                        fail_msg("%s: create: %s", cases[i].what, err.msg);
                for (const struct expect *e = cases[i].want; e->file; e++)
                        if (strcmp(fake_read(f, e->file), e->value))
                                fail_msg("%s: `%s` holds `%s`, expected `%s`", cases[i].what,
                                         e->file, fake_read(f, e->file), e->value);
                assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
        }
}

static void test_v2_limits_are_written_to_their_files(void **state)
{
        static const struct limit_case cases[] = {
                {"memory 64M",
                 {.memory_max = 64 * MIB},
                 {{"sliced/s/memory.max", "67108864"},
                  {"sliced/s/memory.swap.max", "0"}, /* RAM + swap bounded */
                  {"sliced/s/memory.oom.group", "1"},
                  {"sliced/s/pids.max", "max"}}},
                {"pids 10",
                 {.pids_max = 10},
                 {{"sliced/s/pids.max", "10"},
                  {"sliced/s/memory.max", "max"},
                  {"sliced/s/memory.swap.max", "max"},
                  {"sliced/s/memory.oom.group", "1"}}}, /* group kill even without own limit */
                {"cpu weight 200", {.cpu_weight = 200}, {{"sliced/s/cpu.weight", "200"}}},
                {"cpu max 50ms/100ms",
                 {.cpu_quota_us = 50000, .cpu_period_us = 100000},
                 {{"sliced/s/cpu.max", "50000 100000"}, {"sliced/s/cpu.weight", "100"}}},
                {"cpu quota, default period",
                 {.cpu_quota_us = 20000},
                 {{"sliced/s/cpu.max", "20000 100000"}}},
                {"cpu period only", {.cpu_period_us = 50000}, {{"sliced/s/cpu.max", "max 50000"}}},
                {"cpus 0", {.cpus = "0"}, {{"sliced/s/cpuset.cpus", "0"}}},
                {"nothing asked: inherit",
                 {0},
                 {{"sliced/s/memory.max", "max"},
                  {"sliced/s/pids.max", "max"},
                  {"sliced/s/cpu.max", "max 100000"},
                  {"sliced/s/cpuset.cpus", ""}}},
        };
        run_limit_cases(*state, cases, SL_ARRAY_SIZE(cases));
}

static void test_hybrid_limits_go_to_v1_files(void **state)
{
        static const struct limit_case cases[] = {
                {"memory 64M",
                 {.memory_max = 64 * MIB},
                 {{"memory/sliced/s/memory.limit_in_bytes", "67108864"},
                  {"memory/sliced/s/memory.memsw.limit_in_bytes", "67108864"},
                  {"unified/sliced/s/cgroup.procs", ""}}},
                {"pids 10", {.pids_max = 10}, {{"pids/sliced/s/pids.max", "10"}}},
                {"cpu weight 200 -> shares",
                 {.cpu_weight = 200},
                 {{"cpu/sliced/s/cpu.shares", "2048"}}},
                {"cpu max 50ms/100ms",
                 {.cpu_quota_us = 50000, .cpu_period_us = 100000},
                 {{"cpu/sliced/s/cpu.cfs_period_us", "100000"},
                  {"cpu/sliced/s/cpu.cfs_quota_us", "50000"},
                  {"cpu/sliced/s/cpu.shares", "1024"}}},
                {"cpu period only",
                 {.cpu_period_us = 20000},
                 {{"cpu/sliced/s/cpu.cfs_period_us", "20000"},
                  {"cpu/sliced/s/cpu.cfs_quota_us", "-1"}}},
                {"cpus 0, mems copied",
                 {.cpus = "0"},
                 {{"cpuset/sliced/s/cpuset.cpus", "0"}, {"cpuset/sliced/s/cpuset.mems", "0"}}},
                {"no cpus: parent's copied",
                 {0},
                 {{"cpuset/sliced/s/cpuset.cpus", "0-3"},
                  {"cpuset/sliced/s/cpuset.mems", "0"},
                  {"memory/sliced/s/memory.limit_in_bytes", "9223372036854771712"},
                  {"pids/sliced/s/pids.max", "max"}}},
        };
        run_limit_cases(*state, cases, SL_ARRAY_SIZE(cases));
}

static void test_joined_cpu_cpuacct_gets_cpu_limits(void **state)
{
        static const struct limit_case cases[] = {
                {"weight and quota in cpu,cpuacct",
                 {.cpu_weight = 50, .cpu_quota_us = 10000},
                 {{"cpu,cpuacct/sliced/s/cpu.shares", "512"},
                  {"cpu,cpuacct/sliced/s/cpu.cfs_quota_us", "10000"}}},
        };
        run_limit_cases(*state, cases, SL_ARRAY_SIZE(cases));
}

/* ---- create: failure, leftovers, nesting ------------------------------- */

static void test_missing_controller_fails_and_names_the_limit(void **state)
{
        struct fake *f = *state;
        put(f->root, "cgroup.controllers", "cpu pids\n");
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits lim = {.memory_max = 64 * MIB};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &lim, &cg, &err), -1);
        assert_null(cg);
        char want[PATH_MAX + 128];
        FMT(want,
                 "slice cgroup `s`: limit `memory_max` needs the memory controller, which "
                 "cgroup v2 does not offer to `sliced` under `%s`",
                 f->root);
        assert_string_equal(err.msg, want);
        assert_false(fake_exists(f, "sliced/s"));
}

static void test_refused_limit_removes_every_created_dir(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        f->omit = "pids.max"; /* the "kernel" will not take it */
        struct sb_cgroup_limits lim = {.memory_max = 64 * MIB, .pids_max = 10};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &lim, &cg, &err), -1);
        char want[PATH_MAX + 128];
        FMT(want, "open `%s/pids/sliced/s/pids.max` for writing: %s", f->root,
                 strerror(ENOENT));
        assert_string_equal(err.msg, want);
        static const char *const dirs[] = {"unified", "memory", "pids", "cpu", "cpuacct",
                                           "cpuset"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(dirs); i++) {
                char rel[64];
                FMT(rel, "%s/sliced/s", dirs[i]);
                if (fake_exists(f, rel))
                        fail_msg("`%s` left behind", rel);
        }
}

static void test_empty_leftover_is_recreated_without_stale_limits(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        char d[PATH_MAX];
        FMT(d, "%s/sliced/s", f->root);
        assert_int_equal(fake_mkdir(d, f), 0);
        put(d, "memory.max", "1234\n"); /* from a crashed run */
        struct sb_cgroup_limits lim = {.pids_max = 3};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &lim, &cg, &err), 0);
        assert_string_equal(fake_read(f, "sliced/s/memory.max"), "max");
        assert_string_equal(fake_read(f, "sliced/s/pids.max"), "3");
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
}

static void test_populated_leftover_is_refused(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        char d[PATH_MAX];
        FMT(d, "%s/sliced/s", f->root);
        assert_int_equal(fake_mkdir(d, f), 0);
        put(d, "cgroup.procs", "4242\n");
        struct sb_cgroup_limits lim = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &lim, &cg, &err), -1);
        char want[PATH_MAX + 128];
        FMT(want, "cgroup `%s` is left over and still in use; rmdir: %s", d,
                 strerror(EBUSY));
        assert_string_equal(err.msg, want);
        assert_string_equal(fake_read(f, "sliced/s/cgroup.procs"), "4242");
}

static void test_nested_slice_gets_controllers_from_its_parent(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0}, child = {.memory_max = 16 * MIB};
        struct sb_cgroup *a = NULL, *b = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "a", &none, &a, &err), 0);
        assert_int_equal(sb_cgroup_create(&sys, "a/b", &child, &b, &err), 0);
        assert_string_equal(fake_read(f, "sliced/a/cgroup.subtree_control"),
                            "+cpuset +cpu +memory +pids");
        assert_string_equal(fake_read(f, "sliced/a/memory.max"), "max"); /* no figure */
        assert_string_equal(fake_read(f, "sliced/a/b/memory.max"), "16777216");
        /* the parent cannot go while its child is there */
        char want[PATH_MAX + 64];
        FMT(want, "%s/sliced/a", f->root);
        assert_string_equal(sb_cgroup_path(a), want);
        assert_int_equal(sb_cgroup_destroy(b, &err), 0);
        assert_int_equal(sb_cgroup_destroy(a, &err), 0);
        assert_false(fake_exists(f, "sliced/a"));
}

static void test_nested_slice_without_parent_is_refused(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "nope/b", &none, &cg, &err), -1);
        assert_int_equal(err.code, ENOENT);
        assert_non_null(strstr(err.msg, "parent cgroup `"));
        assert_non_null(strstr(err.msg, "/sliced/nope` of slice `nope/b`"));
}

/* ---- accounting, kill, removal on the fake ----------------------------- */

static void test_oom_count_comes_from_memory_events(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        char d[PATH_MAX];
        FMT(d, "%s/sliced/s", f->root);
        put(d, "memory.events", "low 0\nhigh 0\nmax 9\noom 5\noom_kill 5\noom_group_kill 1\n");
        uint64_t n = 0;
        assert_int_equal(sb_cgroup_oom_kills(cg, &n, &err), 0);
        assert_int_equal(n, 5);
        sb_cgroup_destroy(cg, NULL);
}

static void test_oom_count_comes_from_v1_oom_control(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        char d[PATH_MAX];
        FMT(d, "%s/memory/sliced/s", f->root);
        put(d, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        uint64_t n = 0;
        assert_int_equal(sb_cgroup_oom_kills(cg, &n, &err), 0);
        assert_int_equal(n, 2);
        /* a kernel before 4.13 has no count: an error, not a silent 0 */
        put(d, "memory.oom_control", "oom_kill_disable 0\nunder_oom 0\n");
        assert_int_equal(sb_cgroup_oom_kills(cg, &n, &err), -1);
        assert_int_equal(err.code, ENOTSUP);
        sb_cgroup_destroy(cg, NULL);
}

static void test_v2_stats_fall_back_to_current_without_peak(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        char d[PATH_MAX];
        FMT(d, "%s/sliced/s", f->root);
        put(d, "memory.current", "1000\n");
        put(d, "memory.peak", "2000\n");
        put(d, "cpu.stat", "usage_usec 1234\nuser_usec 1000\nsystem_usec 234\n");
        put(d, "pids.current", "3\n");
        struct sb_cgroup_stats st;
        assert_int_equal(sb_cgroup_stats(cg, &st, &err), 0);
        assert_int_equal(st.memory_current, 1000);
        assert_int_equal(st.memory_peak, 2000);
        assert_int_equal(st.cpu_usec, 1234);
        assert_int_equal(st.pids_current, 3);
        assert_int_equal(st.have, SB_CGROUP_STAT_MEMORY | SB_CGROUP_STAT_CPU | SB_CGROUP_STAT_PIDS);
        char p[PATH_MAX];
        FMT(p, "%s/memory.peak", d);
        unlink(p); /* Linux < 5.19 */
        assert_int_equal(sb_cgroup_stats(cg, &st, &err), 0);
        assert_int_equal(st.memory_peak, 1000);
        sb_cgroup_destroy(cg, NULL);
}

static void test_v1_stats_read_usage_and_cpuacct(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        char d[PATH_MAX];
        FMT(d, "%s/memory/sliced/s", f->root);
        put(d, "memory.usage_in_bytes", "4096\n");
        put(d, "memory.max_usage_in_bytes", "8192\n");
        FMT(d, "%s/cpuacct/sliced/s", f->root);
        put(d, "cpuacct.usage", "5000000\n"); /* ns */
        FMT(d, "%s/pids/sliced/s", f->root);
        put(d, "pids.current", "2\n");
        struct sb_cgroup_stats st;
        assert_int_equal(sb_cgroup_stats(cg, &st, &err), 0);
        assert_int_equal(st.memory_current, 4096);
        assert_int_equal(st.memory_peak, 8192);
        assert_int_equal(st.cpu_usec, 5000);
        assert_int_equal(st.pids_current, 2);
        sb_cgroup_destroy(cg, NULL);
}

static void test_kill_writes_cgroup_kill_and_destroy_removes_all(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        assert_true(sb_cgroup_v2_fd(cg) >= 0);
        assert_int_equal(sb_cgroup_kill(cg, &err), 0);
        assert_string_equal(fake_read(f, "unified/sliced/s/cgroup.kill"), "1");
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
        assert_false(fake_exists(f, "unified/sliced/s"));
        assert_false(fake_exists(f, "memory/sliced/s"));
        assert_false(fake_exists(f, "cpuset/sliced/s"));
        assert_int_equal(sb_cgroup_sys_release(&sys, &err), 0);
        assert_false(fake_exists(f, "memory/sliced"));
}

static void test_v1_has_no_v2_fd_and_attach_writes_every_hierarchy(void **state)
{
        struct fake *f = *state;
        struct sb_cgroup_sys sys;
        init_fake(f, &sys);
        struct sb_cgroup_limits none = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        assert_int_equal(sb_cgroup_create(&sys, "s", &none, &cg, &err), 0);
        assert_int_equal(sb_cgroup_v2_fd(cg), -1);
        assert_int_equal(sb_cgroup_attach(cg, 4321, &err), 0);
        static const char *const dirs[] = {"memory", "pids", "cpu", "cpuacct", "cpuset",
                                           "freezer"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(dirs); i++) {
                char rel[64];
                FMT(rel, "%s/sliced/s/cgroup.procs", dirs[i]);
                assert_string_equal(fake_read(f, rel), "4321");
                put(f->root, rel, ""); /* as if it left: destroy can rmdir */
        }
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
}

/* ---- unprivileged -------------------------------------------------------- */

struct child_report {
        int rc;
        bool delegated;
        pid_t pid;
        char base[256];
        char msg[SL_ERROR_MSG_MAX];
};

/* Run sys_init as nobody in a child; the report comes back over a pipe. */
static struct child_report init_as_nobody(const char *fsroot, const struct sb_cgroup_fs_ops *ops)
{
        struct child_report r = {0};
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* groups, then gid, then uid: each later step needs the
                 * privilege the one after it gives up */
                if (geteuid() == 0 &&
                    (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
                     setresuid(NOBODY, NOBODY, NOBODY) < 0))
                        _exit(2);
                struct sb_cgroup_sys sys;
                struct sl_error err = {0};
                r.rc = sb_cgroup_sys_init_ops(&sys, fsroot, "sliced", ops, &err);
                r.delegated = sys.delegated;
                r.pid = getpid();
                memcpy(r.base, sys.base, sizeof r.base);
                memcpy(r.msg, err.msg, sizeof r.msg);
                _exit(write(p[1], &r, sizeof r) == sizeof r ? 0 : 3);
        }
        close(p[1]);
        assert_int_equal(read(p[0], &r, sizeof r), sizeof r);
        close(p[0]);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return r;
}

static void test_unprivileged_without_delegation_is_told_what_to_do(void **state)
{
        (void)state;
        struct stat st;
        if (stat(REAL_FSROOT, &st) < 0)
                skip();
        struct child_report r = init_as_nobody(REAL_FSROOT, NULL);
        assert_int_equal(r.rc, -1);
        /* hybrid/v1: root is the only way; v2: root or a delegated scope */
        if (!strstr(r.msg, "cgroup limits need root on this host") &&
            !strstr(r.msg, "cgroup limits need a delegated cgroup"))
                fail_msg("unexpected message: %s", r.msg);
        assert_non_null(strstr(r.msg, "run as root"));
}

static void test_v2_without_delegation_names_the_fix(void **state)
{
        struct fake *f = *state;
        if (geteuid() != 0)
                skip(); /* the tree must belong to someone else */
        put(f->tmp, "proc_cgroup", "0::/user.slice/me\n");
        char own[PATH_MAX];
        FMT(own, "%s/user.slice", f->root);
        assert_int_equal(fake_mkdir(own, f), 0);
        FMT(own, "%s/user.slice/me", f->root);
        assert_int_equal(fake_mkdir(own, f), 0);
        struct child_report r = init_as_nobody(f->root, &f->ops);
        assert_int_equal(r.rc, -1);
        char want[SL_ERROR_MSG_MAX + PATH_MAX];
        FMT(want,
                 "cgroup limits need a delegated cgroup: uid %d cannot write `%s` (%s); run "
                 "as root or under `systemd-run --user -p Delegate=yes --scope ...`",
                 NOBODY, own, strerror(EACCES));
        assert_string_equal(r.msg, want);
}

static void chown_tree(const char *dir)
{
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *e;
        assert_int_equal(chown(dir, NOBODY, NOBODY), 0);
        while ((e = readdir(d)))
                if (e->d_type == DT_REG) {
                        char p[PATH_MAX];
                        FMT(p, "%s/%s", dir, e->d_name);
                        assert_int_equal(chown(p, NOBODY, NOBODY), 0);
                }
        closedir(d);
}

static void test_v2_delegated_caller_moves_to_leaf_and_nests_base(void **state)
{
        struct fake *f = *state;
        if (geteuid() != 0)
                skip();
        put(f->tmp, "proc_cgroup", "0::/user.slice/me\n");
        char own[PATH_MAX];
        FMT(own, "%s/user.slice", f->root);
        assert_int_equal(fake_mkdir(own, f), 0);
        FMT(own, "%s/user.slice/me", f->root);
        assert_int_equal(fake_mkdir(own, f), 0);
        /* what systemd-run --user -p Delegate=yes hands over */
        put(own, "cgroup.controllers", "cpu memory pids\n");
        put(own, "cgroup.procs", "4242\n");
        chown_tree(own);

        struct child_report r = init_as_nobody(f->root, &f->ops);
        if (r.rc < 0)
                fail_msg("delegated sys_init: %s", r.msg);
        assert_true(r.delegated);
        assert_string_equal(r.base, "user.slice/me/sliced");
        char pid[16];
        FMT(pid, "%d", (int)r.pid);
        assert_string_equal(fake_read(f, "user.slice/me/supervisor/cgroup.procs"), pid);
        assert_string_equal(fake_read(f, "user.slice/me/cgroup.subtree_control"),
                            "+cpu +memory +pids");
        assert_string_equal(fake_read(f, "user.slice/me/sliced/cgroup.subtree_control"),
                            "+cpu +memory +pids");
        /* nothing above the delegated cgroup was touched */
        assert_string_equal(fake_read(f, "cgroup.subtree_control"), "");
}

/* ---- real cgroupfs (root) ------------------------------------------------ */

struct real {
        struct sb_cgroup_sys sys;
        char base[64];
};

static int real_setup(void **state)
{
        struct real *r = calloc(1, sizeof *r);
        assert_non_null(r);
        *state = r;
        if (geteuid() != 0)
                return 0; /* each test skips */
        snprintf(r->base, sizeof r->base, "sliced-test-%d", (int)getpid());
        struct sl_error err = {0};
        if (sb_cgroup_sys_init(&r->sys, REAL_FSROOT, r->base, &err) < 0) {
                print_error("real cgroupfs unusable: %s\n", err.msg);
                r->sys.layout = SB_CGROUP_NONE;
        }
        return 0;
}

static int real_teardown(void **state)
{
        struct real *r = *state;
        struct sl_error err = {0};
        if (r->sys.layout != SB_CGROUP_NONE && sb_cgroup_sys_release(&r->sys, &err) < 0)
                print_error("release: %s\n", err.msg);
        free(r);
        return 0;
}

static struct real *real_or_skip(void **state)
{
        struct real *r = *state;
        if (geteuid() != 0 || r->sys.layout == SB_CGROUP_NONE)
                skip();
        return r;
}

/* fork a child that waits until it is attached, then runs fn. */
static pid_t spawn_attached(struct sb_cgroup *cg, int (*fn)(void))
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                char go;
                close(p[1]);
                if (read(p[0], &go, 1) != 1)
                        _exit(120);
                _exit(fn());
        }
        close(p[0]);
        struct sl_error err = {0};
        if (sb_cgroup_attach(cg, pid, &err) < 0) {
                kill(pid, SIGKILL);
                waitpid(pid, NULL, 0);
                fail_msg("attach: %s", err.msg);
        }
        assert_int_equal(write(p[1], "g", 1), 1);
        close(p[1]);
        return pid;
}

static int touch_128m(void)
{
        size_t len = 128 * MIB;
        char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (m == MAP_FAILED)
                return 3;
        for (size_t i = 0; i < len; i += PAGE)
                m[i] = 1;
        return 0; /* survived: the limit did not hold */
}

static void test_real_memory_limit_oom_kills_and_counts(void **state)
{
        struct real *r = real_or_skip(state);
        struct sb_cgroup_limits lim = {.memory_max = 32 * MIB};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        if (sb_cgroup_create(&r->sys, "oom", &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        pid_t pid = spawn_attached(cg, touch_128m);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
                fail_msg("child was not OOM-killed (status %#x)", st);
        uint64_t n = 0;
        assert_int_equal(sb_cgroup_oom_kills(cg, &n, &err), 0);
        assert_true(n >= 1);
        struct sb_cgroup_stats s;
        assert_int_equal(sb_cgroup_stats(cg, &s, &err), 0);
        assert_true(s.have & SB_CGROUP_STAT_MEMORY);
        assert_true(s.memory_peak > 16 * MIB && s.memory_peak <= 32 * MIB);
        assert_true(s.cpu_usec > 0);
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
}

static int fork_until_refused(void)
{
        for (int n = 0; n < 64; n++) {
                pid_t c = fork();
                if (c == 0) {
                        pause();
                        _exit(0);
                }
                if (c < 0)
                        return errno == EAGAIN ? n : 100;
        }
        return 101;
}

static void test_real_pids_max_stops_a_fork_loop(void **state)
{
        struct real *r = real_or_skip(state);
        struct sb_cgroup_limits lim = {.pids_max = 5};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        if (sb_cgroup_create(&r->sys, "pids", &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        pid_t pid = spawn_attached(cg, fork_until_refused);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st));
        assert_int_equal(WEXITSTATUS(st), 4); /* itself + 4 children = 5 */
        /* the orphans still pause() in there: destroy must kill them */
        bool populated = false;
        assert_int_equal(sb_cgroup_populated(cg, &populated, &err), 0);
        assert_true(populated);
        char path[PATH_MAX];
        FMT(path, "%s", sb_cgroup_path(cg));
        if (sb_cgroup_destroy(cg, &err) < 0)
                fail_msg("destroy: %s", err.msg);
        assert_int_equal(access(path, F_OK), -1);
}

static int sleep_long(void)
{
        sleep(60);
        return 0;
}

static void test_real_kill_kills_a_sleeper_and_destroy_removes_dirs(void **state)
{
        struct real *r = real_or_skip(state);
        struct sb_cgroup_limits lim = {.cpu_weight = 50, .cpus = "0"};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        if (sb_cgroup_create(&r->sys, "kill", &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        pid_t pid = spawn_attached(cg, sleep_long);
        if (sb_cgroup_kill(cg, &err) < 0)
                fail_msg("kill: %s", err.msg);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        bool populated = true;
        assert_int_equal(sb_cgroup_populated(cg, &populated, &err), 0);
        assert_false(populated);
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
        for (unsigned i = 0; i < r->sys.n_hier; i++) {
                char p[PATH_MAX];
                FMT(p, "%s/%s/%s/kill", REAL_FSROOT, r->sys.hier[i].dir,
                         r->sys.base);
                if (access(p, F_OK) == 0)
                        fail_msg("`%s` left behind", p);
        }
}

static void test_real_clone_into_cgroup_lands_in_the_v2_dir(void **state)
{
        struct real *r = real_or_skip(state);
        struct sb_cgroup_limits lim = {0};
        struct sb_cgroup *cg = NULL;
        struct sl_error err = {0};
        if (sb_cgroup_create(&r->sys, "clone", &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        if (sb_cgroup_v2_fd(cg) < 0) {
                sb_cgroup_destroy(cg, NULL);
                skip(); /* v1 only */
        }
        struct clone_args args = {.flags = CLONE_INTO_CGROUP,
                                  .exit_signal = SIGCHLD,
                                  .cgroup = (uint64_t)sb_cgroup_v2_fd(cg)};
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0) {
                pause();
                _exit(0);
        }
        assert_true(pid > 0);
        char p[64], buf[4096];
        FMT(p, "/proc/%d/cgroup", (int)pid);
        FILE *fp = fopen(p, "r");
        assert_non_null(fp);
        size_t n = fread(buf, 1, sizeof buf - 1, fp);
        fclose(fp);
        buf[n] = '\0';
        char want[128];
        FMT(want, "0::/%s/clone\n", r->sys.base);
        assert_non_null(strstr(buf, want));
        /* attach after CLONE_INTO_CGROUP is harmless: v1 joins, v2 no-op */
        assert_int_equal(sb_cgroup_attach(cg, pid, &err), 0);
        if (sb_cgroup_destroy(cg, &err) < 0) /* kills the pausing child */
                fail_msg("destroy: %s", err.msg);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

static int fork_ten_sleepers(void)
{
        for (int n = 0; n < 10; n++)
                if (fork() == 0)
                        break; /* children fork on too: a small tree */
        sleep(60);
        return 0;
}

static int rm_tree(const char *dir)
{
        return nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* This host seen as v1 only: a tree of symlinks to its v1 hierarchies and no
 * unified, so kill must freeze, sweep cgroup.procs and thaw. */
static void test_real_v1_kill_freezes_and_sweeps_a_forking_tree(void **state)
{
        (void)real_or_skip(state);
        char view[] = "/tmp/sliced-cgv1-XXXXXX";
        assert_non_null(mkdtemp(view));
        static const char *const hiers[] = {"memory", "pids", "cpu", "cpuacct", "cpuset",
                                            "freezer"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(hiers); i++) {
                char target[PATH_MAX], link[PATH_MAX];
                FMT(target, "%s/%s", REAL_FSROOT, hiers[i]);
                FMT(link, "%s/%s", view, hiers[i]);
                if (access(target, F_OK) == 0)
                        assert_int_equal(symlink(target, link), 0);
        }
        char base[64];
        FMT(base, "sliced-test-%d-v1", (int)getpid());
        struct sb_cgroup_sys sys;
        struct sl_error err = {0};
        if (sb_cgroup_sys_init(&sys, view, base, &err) < 0) {
                rm_tree(view);
                if (err.code == ENOENT)
                        skip(); /* a v2 host has no v1 hierarchy to look at */
                fail_msg("v1 view: %s", err.msg);
        }
        assert_int_equal(sys.layout, SB_CGROUP_V1);
        struct sb_cgroup_limits lim = {.pids_max = 64};
        struct sb_cgroup *cg = NULL;
        if (sb_cgroup_create(&sys, "tree", &lim, &cg, &err) < 0)
                fail_msg("create: %s", err.msg);
        assert_int_equal(sb_cgroup_v2_fd(cg), -1);
        pid_t pid = spawn_attached(cg, fork_ten_sleepers);
        struct sb_cgroup_stats st = {0};
        for (int i = 0; i < 1000 && st.pids_current < 11; i++) {
                assert_int_equal(sb_cgroup_stats(cg, &st, &err), 0);
                usleep(1000);
        }
        assert_true(st.pids_current >= 11);
        if (sb_cgroup_kill(cg, &err) < 0)
                fail_msg("kill: %s", err.msg);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
        bool populated = true;
        assert_int_equal(sb_cgroup_populated(cg, &populated, &err), 0);
        assert_false(populated);
        assert_int_equal(sb_cgroup_destroy(cg, &err), 0);
        assert_int_equal(sb_cgroup_sys_release(&sys, &err), 0);
        assert_int_equal(rm_tree(view), 0);
}

int main(void)
{
        const struct CMUnitTest pure[] = {
                cmocka_unit_test(test_weight_maps_to_shares_as_systemd_does),
                cmocka_unit_test(test_limits_out_of_range_are_named),
                cmocka_unit_test(test_slice_names_must_be_relative_paths),
                cmocka_unit_test(test_keyed_files_parse_the_exact_key),
        };
#define V2(t) cmocka_unit_test_setup_teardown(t, setup_v2, fake_teardown)
#define HY(t) cmocka_unit_test_setup_teardown(t, setup_hybrid, fake_teardown)
#define V1(t) cmocka_unit_test_setup_teardown(t, setup_v1, fake_teardown)
#define J1(t) cmocka_unit_test_setup_teardown(t, setup_v1_joined, fake_teardown)
        const struct CMUnitTest fake[] = {
                V2(test_v2_tree_is_detected_as_v2),
                HY(test_hybrid_tree_uses_unified_and_drops_freezer),
                V1(test_v1_tree_keeps_freezer_for_kill),
                J1(test_joined_cpu_cpuacct_is_one_hierarchy),
                V2(test_tree_without_cgroups_is_refused),
                V2(test_v2_base_hands_our_controllers_down),
                HY(test_v1_cpuset_base_copies_cpus_and_mems),
                V2(test_v2_limits_are_written_to_their_files),
                HY(test_hybrid_limits_go_to_v1_files),
                J1(test_joined_cpu_cpuacct_gets_cpu_limits),
                V2(test_missing_controller_fails_and_names_the_limit),
                HY(test_refused_limit_removes_every_created_dir),
                V2(test_empty_leftover_is_recreated_without_stale_limits),
                V2(test_populated_leftover_is_refused),
                V2(test_nested_slice_gets_controllers_from_its_parent),
                V2(test_nested_slice_without_parent_is_refused),
                V2(test_oom_count_comes_from_memory_events),
                HY(test_oom_count_comes_from_v1_oom_control),
                V2(test_v2_stats_fall_back_to_current_without_peak),
                HY(test_v1_stats_read_usage_and_cpuacct),
                HY(test_kill_writes_cgroup_kill_and_destroy_removes_all),
                V1(test_v1_has_no_v2_fd_and_attach_writes_every_hierarchy),
                V2(test_v2_without_delegation_names_the_fix),
                V2(test_v2_delegated_caller_moves_to_leaf_and_nests_base),
                cmocka_unit_test(test_unprivileged_without_delegation_is_told_what_to_do),
        };
        const struct CMUnitTest real[] = {
                cmocka_unit_test(test_real_memory_limit_oom_kills_and_counts),
                cmocka_unit_test(test_real_pids_max_stops_a_fork_loop),
                cmocka_unit_test(test_real_kill_kills_a_sleeper_and_destroy_removes_dirs),
                cmocka_unit_test(test_real_clone_into_cgroup_lands_in_the_v2_dir),
                cmocka_unit_test(test_real_v1_kill_freezes_and_sweeps_a_forking_tree),
        };
        int failed = cmocka_run_group_tests_name("cgroup/pure", pure, NULL, NULL);
        failed += cmocka_run_group_tests_name("cgroup/fake", fake, NULL, NULL);
        failed += cmocka_run_group_tests_name("cgroup/real", real, real_setup, real_teardown);
        return failed;
}
