/* bench-spawn: what confinement costs at start-up.
 *
 * Times /bin/true, start to reaped, four ways in one run:
 *   slicectl  `slicectl run -- /bin/true`: every namespace, pivot_root,
 *             caps dropped, no_new_privs, the default seccomp profile (posix),
 *             net none; a cgroup only as root, as slicectl does it
 *   bwrap     bubblewrap with --unshare-all and the binds slicectl makes
 *             (system dirs, the same /etc subset, /proc, /dev, /tmp)
 *   unshare   util-linux unshare with the same namespaces and a fresh /proc,
 *             nothing else (no root switch, no privilege drop)
 *   fork+exec plain posix_spawn of /bin/true: the floor
 *
 * The runs are interleaved (one of each per round, the order rotating), so a
 * slow patch of the machine hits every variant alike. Each sample is the wall
 * time from posix_spawn to waitpid's return on CLOCK_MONOTONIC; children's
 * stdio is /dev/null. The aim is slicectl at most half of bwrap;
 * this prints whatever it measures.
 *
 * Usage: bench-spawn [-n ROUNDS] [-w WARMUP] [-c CPU] [-s SLICECTL]
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/bench_util.h"

extern char **environ;

/* 200 rounds keep the p90 stable to a few percent here and the whole run
 * (4 x 200 spawns of a few ms) under ten seconds. */
#define DEFAULT_ROUNDS 200
/* Warm-up rounds, not recorded: page cache, dentry cache, lazy binding. */
#define DEFAULT_WARMUP 10
#define MAX_ARGS       128
#define TRUE_BIN       "/bin/true"

/* What slicectl binds (src/sandbox/rootfs.c); bwrap gets the same. */
static const char *const system_dirs[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
};
static const char *const system_etc[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",    "/etc/nsswitch.conf",
    "/etc/passwd",      "/etc/group",      "/etc/hosts",           "/etc/host.conf",
    "/etc/localtime",   "/etc/ssl",        "/etc/ca-certificates", "/etc/alternatives",
    "/etc/mime.types",  "/etc/protocols",  "/etc/services",        "/etc/python3",
    "/etc/python3.11",
};

struct variant {
        const char *name;
        const char *what;
        char *argv[MAX_ARGS];
        int argc;
        int usable;    /* passed the trial run */
        char why[256]; /* why not */
        double *ms;    /* samples, milliseconds */
        int n;
        int failures; /* non-zero exits during timing */
};

static void add_arg(struct variant *v, const char *arg)
{
        if (v->argc >= MAX_ARGS - 1) {
                fprintf(stderr, "bench-spawn: too many arguments for %s\n", v->name);
                exit(2);
        }
        v->argv[v->argc++] = (char *)arg;
        v->argv[v->argc] = NULL;
}

static void build_bwrap(struct variant *v, const char *bwrap)
{
        add_arg(v, bwrap);
        add_arg(v, "--unshare-all");
        add_arg(v, "--die-with-parent");
        for (size_t i = 0; i < sizeof system_dirs / sizeof system_dirs[0]; i++) {
                struct stat st;
                const char *d = system_dirs[i];
                if (lstat(d, &st) < 0)
                        continue;
                if (S_ISLNK(st.st_mode)) {
                        /* merged /usr: recreate the symlink, as slicectl does */
                        static char targets[sizeof system_dirs / sizeof system_dirs[0]][PATH_MAX];
                        ssize_t n = readlink(d, targets[i], PATH_MAX - 1);
                        if (n < 0)
                                continue;
                        targets[i][n] = '\0';
                        add_arg(v, "--symlink");
                        add_arg(v, targets[i]);
                        add_arg(v, d);
                } else {
                        add_arg(v, "--ro-bind");
                        add_arg(v, d);
                        add_arg(v, d);
                }
        }
        for (size_t i = 0; i < sizeof system_etc / sizeof system_etc[0]; i++) {
                add_arg(v, "--ro-bind-try");
                add_arg(v, system_etc[i]);
                add_arg(v, system_etc[i]);
        }
        add_arg(v, "--proc");
        add_arg(v, "/proc");
        add_arg(v, "--dev");
        add_arg(v, "/dev");
        add_arg(v, "--tmpfs");
        add_arg(v, "/tmp");
        add_arg(v, TRUE_BIN);
}

static void build_unshare(struct variant *v, const char *unshare)
{
        add_arg(v, unshare);
        if (geteuid() != 0) {
                /* an unprivileged caller needs a user namespace for the rest */
                add_arg(v, "--user");
                add_arg(v, "--map-root-user");
        }
        static const char *const flags[] = {"--fork", "--pid", "--mount",  "--net",
                                            "--ipc",  "--uts", "--cgroup", "--mount-proc"};
        for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
                add_arg(v, flags[i]);
        add_arg(v, TRUE_BIN);
}

/* Spawn argv with stdin/stdout to /dev/null and stderr to err_path (or
 * /dev/null); wait; return the exit status (128+N for signal N), or -1 with
 * errno if it could not be spawned. *ms gets the wall time. */
static int run_once(char *const argv[], const char *err_path, double *ms)
{
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, err_path ? err_path : "/dev/null",
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        pid_t pid;
        double t0 = bu_now_ms();
        int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                errno = r;
                return -1;
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -1;
        *ms = bu_now_ms() - t0;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* One untimed run; a variant that fails it is reported, not timed. */
static void trial(struct variant *v)
{
        if (!v->argv[0]) {
                v->usable = 0;
                return;
        }
        char err_path[] = "/tmp/bench-spawn.XXXXXX";
        int fd = mkstemp(err_path);
        if (fd < 0) {
                snprintf(v->why, sizeof v->why, "mkstemp: %s", strerror(errno));
                return;
        }
        close(fd);
        double ms;
        int st = run_once(v->argv, err_path, &ms);
        if (st == 0) {
                v->usable = 1;
        } else if (st < 0) {
                snprintf(v->why, sizeof v->why, "cannot run %s: %s", v->argv[0], strerror(errno));
        } else {
                char msg[160] = "";
                FILE *f = fopen(err_path, "r");
                if (f) {
                        size_t n = fread(msg, 1, sizeof msg - 1, f);
                        msg[n] = '\0';
                        msg[strcspn(msg, "\n")] = '\0';
                        fclose(f);
                }
                snprintf(v->why, sizeof v->why, "exit %d: %s", st, msg);
        }
        unlink(err_path);
}

struct stats {
        double min, median, p90, mean;
};

static struct stats summarize(double *ms, int n)
{
        struct stats s = {0};
        if (n == 0)
                return s;
        qsort(ms, (size_t)n, sizeof *ms, bu_cmp_double);
        double sum = 0;
        for (int i = 0; i < n; i++)
                sum += ms[i];
        s.min = ms[0];
        s.median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
        int k = (9 * n + 9) / 10 - 1; /* nearest rank: ceil(0.9 n) - 1 */
        s.p90 = ms[k < 0 ? 0 : k];
        s.mean = sum / n;
        return s;
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: bench-spawn [-n ROUNDS] [-w WARMUP] [-c CPU] [-s SLICECTL]\n"
                "Times /bin/true through slicectl run, bwrap, unshare and plain\n"
                "fork+exec, interleaved, and prints medians, p90s and ratios.\n"
                "  -n ROUNDS   timed runs of each variant (default %d)\n"
                "  -w WARMUP   untimed runs of each first (default %d)\n"
                "  -c CPU      pin the harness (and so every child) to CPU\n"
                "  -s PATH     slicectl to measure (default: $SLICECTL, the build\n"
                "              tree next to this binary, or PATH)\n",
                DEFAULT_ROUNDS, DEFAULT_WARMUP);
}

enum { V_SLICECTL, V_BWRAP, V_UNSHARE, V_FORKEXEC, V__COUNT };

int main(int argc, char **argv)
{
        int rounds = DEFAULT_ROUNDS, warmup = DEFAULT_WARMUP, cpu = -1, c;
        const char *slicectl_opt = NULL;
        while ((c = getopt(argc, argv, "n:w:c:s:h")) != -1) {
                switch (c) {
                case 'n': rounds = atoi(optarg); break;
                case 'w': warmup = atoi(optarg); break;
                case 'c': cpu = atoi(optarg); break;
                case 's': slicectl_opt = optarg; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (rounds < 1 || warmup < 0) {
                usage(stderr);
                return 2;
        }
        if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                if (sched_setaffinity(0, sizeof set, &set) < 0) {
                        perror("bench-spawn: sched_setaffinity");
                        return 2;
                }
        }

        static struct variant v[V__COUNT] = {
            [V_SLICECTL] = {.name = "slicectl", .what = "slicectl run -- /bin/true"},
            [V_BWRAP] = {.name = "bwrap", .what = "bwrap --unshare-all + same binds"},
            [V_UNSHARE] = {.name = "unshare", .what = "unshare, same namespaces"},
            [V_FORKEXEC] = {.name = "fork+exec", .what = "posix_spawn /bin/true"},
        };
        char *slicectl = bu_find_prog(slicectl_opt, "SLICECTL", "../src/cli/slicectl", "slicectl");
        char *bwrap = bu_which("bwrap");
        char *unshare = bu_which("unshare");
        if (slicectl) {
                add_arg(&v[V_SLICECTL], slicectl);
                add_arg(&v[V_SLICECTL], "run");
                add_arg(&v[V_SLICECTL], "--");
                add_arg(&v[V_SLICECTL], TRUE_BIN);
        } else {
                snprintf(v[V_SLICECTL].why, sizeof v[V_SLICECTL].why,
                         "slicectl not found (use -s or $SLICECTL)");
        }
        if (bwrap)
                build_bwrap(&v[V_BWRAP], bwrap);
        else
                snprintf(v[V_BWRAP].why, sizeof v[V_BWRAP].why,
                         "bwrap not found (scripts/install-deps.sh installs bubblewrap)");
        if (unshare)
                build_unshare(&v[V_UNSHARE], unshare);
        else
                snprintf(v[V_UNSHARE].why, sizeof v[V_UNSHARE].why, "unshare not found");
        add_arg(&v[V_FORKEXEC], TRUE_BIN);

        for (int i = 0; i < V__COUNT; i++) {
                trial(&v[i]);
                v[i].ms = calloc((size_t)rounds, sizeof(double));
                if (!v[i].ms) {
                        perror("bench-spawn");
                        return 2;
                }
        }

        struct utsname un;
        uname(&un);
        printf("bench-spawn: /bin/true, %d rounds (+%d warm-up), interleaved; %s, uid %u; "
               "kernel %s; %ld CPUs%s\n",
               rounds, warmup, geteuid() == 0 ? "root" : "unprivileged", (unsigned)geteuid(),
               un.release, sysconf(_SC_NPROCESSORS_ONLN), cpu >= 0 ? ", pinned" : "");
        if (slicectl)
                printf("slicectl: %s\n", slicectl);

        for (int r = 0; r < warmup + rounds; r++) {
                for (int k = 0; k < V__COUNT; k++) {
                        struct variant *cur = &v[(r + k) % V__COUNT];
                        if (!cur->usable)
                                continue;
                        double ms;
                        int st = run_once(cur->argv, NULL, &ms);
                        if (st != 0) {
                                cur->failures++;
                                continue;
                        }
                        if (r >= warmup)
                                cur->ms[cur->n++] = ms;
                }
        }

        struct stats s[V__COUNT];
        printf("\n%-10s %10s %10s %10s %10s %6s  %s\n", "variant", "median ms", "p90 ms", "min ms",
               "mean ms", "runs", "what");
        for (int i = 0; i < V__COUNT; i++) {
                s[i] = summarize(v[i].ms, v[i].n);
                if (!v[i].usable) {
                        printf("%-10s %10s %10s %10s %10s %6d  unavailable: %s\n", v[i].name, "-",
                               "-", "-", "-", 0, v[i].why);
                        continue;
                }
                printf("%-10s %10.3f %10.3f %10.3f %10.3f %6d  %s", v[i].name, s[i].median,
                       s[i].p90, s[i].min, s[i].mean, v[i].n, v[i].what);
                if (v[i].failures)
                        printf(" (%d runs failed)", v[i].failures);
                putchar('\n');
        }

        printf("\nratios of medians:\n");
        const struct {
                int a, b;
        } ratios[] = {{V_SLICECTL, V_BWRAP},
                      {V_SLICECTL, V_FORKEXEC},
                      {V_SLICECTL, V_UNSHARE},
                      {V_BWRAP, V_FORKEXEC}};
        for (size_t i = 0; i < sizeof ratios / sizeof ratios[0]; i++) {
                int a = ratios[i].a, b = ratios[i].b;
                if (v[a].n && v[b].n)
                        printf("  %-9s / %-9s  %6.2f\n", v[a].name, v[b].name,
                               s[a].median / s[b].median);
                else
                        printf("  %-9s / %-9s  %6s\n", v[a].name, v[b].name, "n/a");
        }
        if (v[V_SLICECTL].n && v[V_BWRAP].n)
                printf("aim (slicectl <= 0.5 x bwrap): %s\n",
                       s[V_SLICECTL].median <= 0.5 * s[V_BWRAP].median ? "met" : "NOT met");

        int bad = !v[V_SLICECTL].usable || v[V_SLICECTL].failures;
        for (int i = 0; i < V__COUNT; i++)
                free(v[i].ms);
        free(slicectl);
        free(bwrap);
        free(unshare);
        return bad ? 1 : 0;
}
