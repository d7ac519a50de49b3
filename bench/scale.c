/* bench-scale: sliced with many slices.
 *
 * Starts N slices (default 1000) from one generated topology and measures,
 * from sliced's own log lines on its stderr (each timestamped on
 * CLOCK_MONOTONIC as it arrives):
 *   start      spawn of sliced -> the N-th distinct `/sK: ready`
 *   RSS        sliced's VmRSS (and RssAnon, RssFile, VmHWM) once settled
 *   reconcile  one slice's exec changed, SIGHUP -> `reloading` ->
 *              `/sK: changed, restarting` -> `stopping` -> `stopped` ->
 *              `ready`; no other slice may be touched
 *   stop       SIGTERM -> sliced has exited (every slice stopped)
 * each next to its baseline, measured in the same run:
 *   start, stop  N plain posix_spawn of /bin/sleep, then SIGTERM + reap them
 *   RSS          sliced running 1 slice, and a /bin/sleep (a bare C process)
 *   reconcile    the same change in a 1-slice topology (same stop and
 *                respawn of one slice, a trivial parse and diff)
 *   parse        `sliced --check` of both topologies (a whole process:
 *                parse + validate, nothing spawned)
 * The aims (for N = 1000): start under 10 s, RSS under 20 MiB,
 * reconcile under 50 ms. This prints whatever it measures.
 *
 * Every wait is bounded (-t); on an error, a timeout or SIGINT/SIGTERM it
 * SIGKILLs sliced (its slices die with it: their reapers have a parent-death
 * signal) and removes what it made. sliced also gets PR_SET_PDEATHSIG, so a
 * killed bench does not leave 1000 slices behind.
 *
 * Usage: bench-scale [-n N] [-r ROUNDS] [-t SECONDS] [-f FILES] [-c CPU] [-s SLICED]
 *                    [-k]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/bench_util.h"

extern char **environ;

#define DEFAULT_N 1000
/* Reconcile rounds per instance: each changes the slice again. Five give a
 * median without making the run long (a round is ~tens of ms plus a grace). */
#define DEFAULT_ROUNDS 5
/* Upper bound on every wait (start of 1000 slices, reload, stop). */
#define DEFAULT_TIMEOUT 120
/* `sliced --check` runs per topology (median). */
#define CHECK_RUNS 5
/* After the changed slice is ready again, lines that would show another
 * slice touched by the same reload arrive within this (a reload is planned
 * and its stops sent in one loop turn; the state report debounce is 20 ms). */
#define GRACE_MS  250
#define SLEEP_BIN "/bin/sleep"
#define SLEEP_ARG 100000
/* Per slice: small limits, so the cgroup path runs as root (-f adds
 * files: N). */
static char g_res[96] = "{memory: 16M, pids: 4}";
#define MAX_NOTES 8

/* ---- small helpers ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                fail("out of memory");
        return p;
}

static char *xstrdup(const char *s)
{
        char *p = strdup(s);
        if (!p)
                fail("out of memory");
        return p;
}

static double median(const double *v, int n)
{
        if (n <= 0)
                return 0;
        double *c = xcalloc((size_t)n, sizeof *c);
        memcpy(c, v, (size_t)n * sizeof *c);
        qsort(c, (size_t)n, sizeof *c, bu_cmp_double);
        double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
        free(c);
        return m;
}

static double maximum(const double *v, int n)
{
        double m = 0;
        for (int i = 0; i < n; i++)
                if (v[i] > m)
                        m = v[i];
        return m;
}

/* ---- what must be undone on any exit ---- */

static char g_tmpdir[PATH_MAX];
static int g_keep;
static volatile pid_t g_sliced = -1; /* the running sliced */
static pid_t *g_sleeps;              /* baseline children */
static volatile int g_n_sleeps;
static char g_cg_bases[2][64];              /* cgroup bases handed to sliced */
static volatile sig_atomic_t g_interrupted; /* SIGINT/SIGTERM/SIGHUP received */

/* Both of this run's cgroup bases (1 slice, n slices). */
static int remove_cgroups(void)
{
        return bu_remove_cgroups(g_cg_bases[0]) + bu_remove_cgroups(g_cg_bases[1]);
}

static void kill_everything(void)
{
        pid_t p = g_sliced;
        if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                g_sliced = -1;
                /* the reapers die of their parent-death signal; give the
                 * kernel a moment to empty the cgroups before removing them */
                for (int i = 0; i < 20; i++) {
                        bu_sleep_ms(100);
                        if (!remove_cgroups())
                                break;
                }
        }
        for (int i = 0; i < g_n_sleeps; i++)
                if (g_sleeps[i] > 0) {
                        kill(g_sleeps[i], SIGKILL);
                        waitpid(g_sleeps[i], NULL, 0);
                        g_sleeps[i] = -1;
                }
        g_n_sleeps = 0;
}

struct inst;
static struct inst *g_insts[2];
static void save_log(const struct inst *in);

static void cleanup_dir(void)
{
        if (!g_tmpdir[0])
                return;
        for (int i = 0; g_keep && i < 2; i++)
                if (g_insts[i])
                        save_log(g_insts[i]);
        if (g_keep)
                fprintf(stderr, "bench-scale: kept %s\n", g_tmpdir);
        else
                nftw(g_tmpdir, bu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_tmpdir[0] = '\0';
}

static void fail(const char *fmt, ...)
{
        va_list ap;
        fputs("bench-scale: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        kill_everything();
        cleanup_dir();
        if (g_interrupted) { /* die of the signal, as the caller expects */
                signal(g_interrupted, SIG_DFL);
                raise(g_interrupted);
        }
        exit(1);
}

/* Kill at once what we started (the slices go with sliced); the main flow
 * notices the flag at its next read, removes the rest and dies of the
 * signal. A second signal kills the bench outright. */
static void on_fatal_signal(int sig)
{
        pid_t p = g_sliced;
        if (p > 0)
                kill(p, SIGKILL);
        for (int i = 0; i < g_n_sleeps; i++)
                if (g_sleeps[i] > 0)
                        kill(g_sleeps[i], SIGKILL);
        if (g_interrupted) {
                signal(sig, SIG_DFL);
                raise(sig);
        }
        g_interrupted = sig;
}

static void check_interrupted(void)
{
        if (g_interrupted)
                fail("interrupted by signal %d", (int)g_interrupted);
}

/* ---- files ---- */

static void write_file(const char *path, const char *text)
{
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                fail("write %s: %s", tmp, strerror(errno));
        if (rename(tmp, path) < 0) /* sliced never reads a half-written file */
                fail("rename %s: %s", tmp, strerror(errno));
}

/* n top-level slices s0..s<n-1>; slice `changed` sleeps arg instead.
 * Written aside and renamed into place, as write_file. */
static void write_topology(const char *path, int n, int changed, long arg)
{
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f)
                fail("write %s: %s", tmp, strerror(errno));
        fprintf(f, "# bench-scale: %d slices, one %s each\nslices:\n", n, SLEEP_BIN);
        for (int i = 0; i < n; i++)
                fprintf(f, "  - name: s%d\n    exec: [%s, \"%ld\"]\n    resources: %s\n", i,
                        SLEEP_BIN, i == changed ? arg : (long)SLEEP_ARG, g_res);
        if (ferror(f) | (fclose(f) != 0))
                fail("write %s: %s", tmp, strerror(errno));
        if (rename(tmp, path) < 0)
                fail("rename %s: %s", tmp, strerror(errno));
}

/* VmRSS, RssAnon, RssFile, VmHWM of pid in KiB (0 where absent). */
struct mem {
        long rss, anon, file, hwm;
};

static int read_mem(pid_t pid, struct mem *m)
{
        char path[64], line[256];
        memset(m, 0, sizeof *m);
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        while (fgets(line, sizeof line, f)) {
                long v;
                if (sscanf(line, "VmRSS: %ld", &v) == 1)
                        m->rss = v;
                else if (sscanf(line, "RssAnon: %ld", &v) == 1)
                        m->anon = v;
                else if (sscanf(line, "RssFile: %ld", &v) == 1)
                        m->file = v;
                else if (sscanf(line, "VmHWM: %ld", &v) == 1)
                        m->hwm = v;
        }
        fclose(f);
        return m->rss ? 0 : -1;
}

/* Open fds of pid, or -1. */
static int count_fds(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
        DIR *d = opendir(path);
        if (!d)
                return -1;
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

/* ---- one sliced and its log ---- */

struct line {
        double t; /* CLOCK_MONOTONIC ms when read */
        char *text;
};

struct inst {
        const char *label;
        int n; /* slices in its topology */
        char dir[PATH_MAX], topo[PATH_MAX + 16], conf[PATH_MAX + 16];
        char state[PATH_MAX + 16], run[PATH_MAX + 16], report[PATH_MAX + 32];
        pid_t pid;
        int fd; /* its stderr */
        char buf[8192];
        size_t len;
        int eof;
        int status; /* wait status once exited */
        struct line *lines;
        size_t n_lines, cap_lines;
        unsigned char *ready; /* distinct `/sK: ready` seen */
        double *t_ready;      /* when the i-th distinct one came */
        int n_ready;
        double t_spawn, t_last_new, t_first_ready, t_all_ready;
        double t_first_failure; /* first `spawn failed` line */
        char first_failure[512];
        int ready_at_failure;
        char limits_warning[512];
        char notes[MAX_NOTES][256]; /* error/warning lines, for the reader */
        int n_notes, more_notes;
};

static const char info_prefix[] = "sliced: info: /s";

/* "/sK: WHAT" -> K, with *what pointing after ": "; -1 if not a slice line. */
static long slice_line(const char *text, const char **what)
{
        if (strncmp(text, info_prefix, sizeof info_prefix - 1))
                return -1;
        const char *p = text + sizeof info_prefix - 1;
        char *end;
        errno = 0;
        long k = strtol(p, &end, 10);
        if (end == p || errno || k < 0 || strncmp(end, ": ", 2))
                return -1;
        *what = end + 2;
        return k;
}

static void add_line(struct inst *in, const char *text, double t)
{
        if (in->n_lines == in->cap_lines) {
                size_t cap = in->cap_lines ? in->cap_lines * 2 : 1024;
                struct line *l = realloc(in->lines, cap * sizeof *l);
                if (!l)
                        fail("out of memory");
                in->lines = l;
                in->cap_lines = cap;
        }
        in->lines[in->n_lines].t = t;
        in->lines[in->n_lines].text = xstrdup(text);
        in->n_lines++;

        const char *what;
        long k = slice_line(text, &what);
        if (k >= 0 && k < in->n) {
                if (!strcmp(what, "ready")) {
                        if (!in->t_first_ready)
                                in->t_first_ready = t;
                        if (!in->ready[k]) {
                                in->ready[k] = 1;
                                in->t_ready[in->n_ready] = t;
                                if (++in->n_ready == in->n)
                                        in->t_all_ready = t;
                        }
                } else if (!strcmp(what, "new slice")) {
                        in->t_last_new = t;
                }
                return;
        }
        if (strstr(text, "resource limits are NOT enforced")) {
                snprintf(in->limits_warning, sizeof in->limits_warning, "%s", text);
                return;
        }
        if (strstr(text, "spawn failed") && !in->t_first_failure) {
                in->t_first_failure = t;
                in->ready_at_failure = in->n_ready;
                snprintf(in->first_failure, sizeof in->first_failure, "%s", text);
        }
        if (!strncmp(text, "sliced: error:", 14) || !strncmp(text, "sliced: warning:", 16) ||
            !strncmp(text, "sliced: crit", 12) || strstr(text, "spawn failed")) {
                if (in->n_notes < MAX_NOTES)
                        snprintf(in->notes[in->n_notes++], sizeof in->notes[0], "%s", text);
                else
                        in->more_notes++;
        }
}

/* Read what sliced wrote, waiting at most until deadline. Returns 1 if
 * something was read, 0 on timeout, -1 at EOF. */
static int pump(struct inst *in, double deadline)
{
        check_interrupted();
        if (in->eof)
                return -1;
        double left = deadline - bu_now_ms();
        struct pollfd pfd = {.fd = in->fd, .events = POLLIN};
        int r = poll(&pfd, 1, left <= 0 ? 0 : (int)left + 1);
        if (r < 0 && errno == EINTR)
                return 0;
        if (r < 0)
                fail("poll: %s", strerror(errno));
        if (r == 0)
                return 0;
        ssize_t got = read(in->fd, in->buf + in->len, sizeof in->buf - 1 - in->len);
        double t = bu_now_ms();
        if (got < 0 && (errno == EINTR || errno == EAGAIN))
                return 0;
        if (got <= 0) {
                if (in->len) { /* a last unterminated line */
                        in->buf[in->len] = '\0';
                        add_line(in, in->buf, t);
                        in->len = 0;
                }
                in->eof = 1;
                return -1;
        }
        in->len += (size_t)got;
        size_t start = 0;
        for (size_t i = 0; i < in->len; i++)
                if (in->buf[i] == '\n') {
                        in->buf[i] = '\0';
                        add_line(in, in->buf + start, t);
                        start = i + 1;
                }
        if (start == 0 && in->len == sizeof in->buf - 1) { /* over-long: split */
                in->buf[in->len] = '\0';
                add_line(in, in->buf, t);
                start = in->len;
        }
        memmove(in->buf, in->buf + start, in->len - start);
        in->len -= start;
        return 1;
}

/* Keep reading until deadline (sliced must never block on a full pipe). */
static void drain_until(struct inst *in, double deadline)
{
        while (bu_now_ms() < deadline && pump(in, deadline) >= 0)
                ;
}

/* Index of the first line at or after from equal to text; -1 on timeout or
 * EOF. */
static long wait_line(struct inst *in, size_t from, const char *text, double deadline)
{
        for (;;) {
                for (; from < in->n_lines; from++)
                        if (!strcmp(in->lines[from].text, text))
                                return (long)from;
                if (bu_now_ms() >= deadline || pump(in, deadline) < 0) {
                        for (; from < in->n_lines; from++) /* what the last read brought */
                                if (!strcmp(in->lines[from].text, text))
                                        return (long)from;
                        return -1;
                }
        }
}

static void show_tail(const struct inst *in, size_t count)
{
        size_t first = in->n_lines > count ? in->n_lines - count : 0;
        if (in->n_lines)
                fprintf(stderr, "bench-scale: %s: sliced's last log lines:\n", in->label);
        for (size_t i = first; i < in->n_lines; i++)
                fprintf(stderr, "  %s\n", in->lines[i].text);
}

/* With -k: the log, each line with its time in ms since sliced's spawn. */
static void save_log(const struct inst *in)
{
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/sliced.log", in->dir);
        FILE *f = fopen(path, "w");
        for (size_t i = 0; f && i < in->n_lines; i++)
                fprintf(f, "%10.3f %s\n", in->lines[i].t - in->t_spawn, in->lines[i].text);
        if (f)
                fclose(f);
}

static void inst_init(struct inst *in, const char *label, const char *root, int n, int base)
{
        memset(in, 0, sizeof *in);
        g_insts[base] = in;
        in->label = label;
        in->n = n;
        in->fd = -1;
        in->pid = -1;
        in->ready = xcalloc((size_t)n, 1);
        in->t_ready = xcalloc((size_t)n, sizeof *in->t_ready);
        if ((size_t)snprintf(in->dir, sizeof in->dir, "%s/%s", root, label) >= sizeof in->dir)
                fail("%s: path too long", root);
        snprintf(in->topo, sizeof in->topo, "%s/topology.yaml", in->dir);
        snprintf(in->conf, sizeof in->conf, "%s/sliced.conf", in->dir);
        snprintf(in->state, sizeof in->state, "%s/state", in->dir);
        snprintf(in->run, sizeof in->run, "%s/run", in->dir);
        snprintf(in->report, sizeof in->report, "%s/state.json", in->run);
        if (mkdir(in->dir, 0755) < 0)
                fail("mkdir %s: %s", in->dir, strerror(errno));
        /* a cgroup subtree of its own: never shared with a real sliced or
         * another bench run */
        snprintf(g_cg_bases[base], sizeof g_cg_bases[base], "bench-scale-%d-%s", (int)getpid(),
                 label);
        char conf[256];
        snprintf(conf, sizeof conf,
                 "# bench-scale: sliced's defaults, but a cgroup base of its own\n"
                 "cgroup_base: %s\nlog_target: stderr\n",
                 g_cg_bases[base]);
        write_file(in->conf, conf);
        write_topology(in->topo, n, -1, 0);
}

static void inst_free(struct inst *in)
{
        for (size_t i = 0; i < in->n_lines; i++)
                free(in->lines[i].text);
        free(in->lines);
        free(in->ready);
        free(in->t_ready);
        if (in->fd >= 0)
                close(in->fd);
}

/* Spawn sliced on the instance's topology; stderr to a pipe we read. */
static void inst_spawn(struct inst *in, const char *sliced)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                fail("pipe: %s", strerror(errno));
        char *argv[] = {(char *)sliced, "-c",           in->conf,  "-t",
                        in->topo,       "--state-dir",  in->state, "--runtime-dir",
                        in->run,        "--log-target", "stderr",  NULL};
        pid_t parent = getpid();
        in->t_spawn = bu_now_ms();
        pid_t pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                /* sliced dies with the bench, and its slices with it */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC); /* only 0 and 1 stay */
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
                    dup2(p[1], 2) < 0)
                        _exit(127);
                signal(SIGPIPE, SIG_DFL);
                execve(sliced, argv, environ);
                _exit(127);
        }
        close(p[1]);
        in->pid = pid;
        in->fd = p[0];
        g_sliced = pid;
}

/* Wait for sliced to exit (reading its log meanwhile); returns the time it
 * took from t0, or -1 on timeout. */
static double inst_wait_exit(struct inst *in, double t0, double deadline)
{
        for (;;) {
                pid_t r = waitpid(in->pid, &in->status, WNOHANG);
                if (r == in->pid) {
                        double t = bu_now_ms() - t0;
                        g_sliced = -1;
                        in->pid = -1;
                        drain_until(in, bu_now_ms() + 50); /* what it wrote last */
                        return t;
                }
                if (bu_now_ms() >= deadline)
                        return -1;
                if (pump(in, bu_now_ms() + 2) < 0)
                        bu_sleep_ms(0.2); /* stderr closed, not yet reaped */
        }
}

static int count_ready_in_report(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        int n = 0;
        char line[512];
        while (fgets(line, sizeof line, f))
                if (strstr(line, "\"state\": \"ready\""))
                        n++;
        fclose(f);
        return n;
}

/* Start and wait for every slice to be ready, then for sliced to settle
 * (its first state report written, then 200 ms more, past the report's
 * debounce). */
static void inst_start(struct inst *in, const char *sliced, double timeout_ms)
{
        inst_spawn(in, sliced);
        double deadline = in->t_spawn + timeout_ms;
        while (in->n_ready < in->n) {
                if (in->t_first_failure) {
                        /* a slice that cannot start makes every figure moot:
                         * say how far it got, and stop */
                        drain_until(in, bu_now_ms() + 100);
                        show_tail(in, 6);
                        fail("%s: a slice failed to start after %d of %d were ready (%.0f ms "
                             "after sliced's spawn, %.2f ms per ready slice):\n  %s%s",
                             in->label, in->ready_at_failure, in->n,
                             in->t_first_failure - in->t_spawn,
                             in->ready_at_failure
                                 ? (in->t_first_failure - in->t_spawn) / in->ready_at_failure
                                 : 0.0,
                             in->first_failure,
                             strstr(in->first_failure, "Too many open files")
                                 ? "\n(see bench/README.md: -f FILES raises each slice's fd "
                                   "quota past the fds it inherits from sliced)"
                                 : "");
                }
                if (bu_now_ms() >= deadline || pump(in, deadline) < 0) {
                        show_tail(in, 15);
                        if (in->eof)
                                fail("%s: sliced ended its log after %d of %d slices were ready",
                                     in->label, in->n_ready, in->n);
                        fail("%s: only %d of %d slices ready after %.0f s", in->label, in->n_ready,
                             in->n, timeout_ms / 1e3);
                }
        }
        while (access(in->report, F_OK) < 0) {
                if (bu_now_ms() >= deadline)
                        fail("%s: no %s after %.0f s", in->label, in->report, timeout_ms / 1e3);
                pump(in, bu_now_ms() + 10);
        }
        drain_until(in, bu_now_ms() + 200);
        int rep = count_ready_in_report(in->report);
        if (rep != in->n)
                fprintf(stderr, "bench-scale: %s: state.json lists %d ready slices, expected %d\n",
                        in->label, rep, in->n);
}

/* One reconcile: slice k's argument becomes arg; SIGHUP. Fills the times
 * from the signal to each step (ms) and counts other slices touched. */
enum { R_RELOADING, R_CHANGED, R_STOPPING, R_STOPPED, R_READY, R__COUNT };
static const char *const r_names[R__COUNT] = {"reloading", "changed", "stopping", "stopped",
                                              "ready"};

static int inst_reconcile(struct inst *in, int k, long arg, double timeout_ms, double t[R__COUNT],
                          int *others)
{
        write_topology(in->topo, in->n, k, arg);
        size_t from = in->n_lines;
        char want[R__COUNT][PATH_MAX + 64];
        snprintf(want[R_RELOADING], sizeof want[0], "sliced: info: reloading %s", in->topo);
        snprintf(want[R_CHANGED], sizeof want[0], "sliced: info: /s%d: changed, restarting", k);
        snprintf(want[R_STOPPING], sizeof want[0], "sliced: info: /s%d: stopping", k);
        snprintf(want[R_STOPPED], sizeof want[0], "sliced: info: /s%d: stopped", k);
        snprintf(want[R_READY], sizeof want[0], "sliced: info: /s%d: ready", k);
        double t0 = bu_now_ms();
        if (kill(in->pid, SIGHUP) < 0)
                fail("kill sliced: %s", strerror(errno));
        double deadline = t0 + timeout_ms;
        size_t at = from;
        for (int i = 0; i < R__COUNT; i++) {
                long idx = wait_line(in, at, want[i], deadline);
                if (idx < 0) {
                        show_tail(in, 15);
                        fprintf(stderr, "bench-scale: %s: no '%s' after SIGHUP\n", in->label,
                                want[i]);
                        return -1;
                }
                t[i] = in->lines[idx].t - t0;
                at = (size_t)idx + 1;
        }
        drain_until(in, bu_now_ms() + GRACE_MS);
        *others = 0;
        for (size_t i = from; i < in->n_lines; i++) {
                const char *what;
                long j = slice_line(in->lines[i].text, &what);
                if (j >= 0 && j != k &&
                    (!strcmp(what, "changed, restarting") || !strcmp(what, "stopping") ||
                     !strcmp(what, "new slice") || !strcmp(what, "removed")))
                        ++*others;
        }
        return 0;
}

/* SIGTERM; time until sliced has exited. *last_stopped gets the time to
 * the last `/sK: stopped` (every slice down; the rest is sliced's own
 * teardown: cgroups removed, last report written). */
static double inst_stop(struct inst *in, double timeout_ms, double *last_stopped)
{
        size_t from = in->n_lines;
        double t0 = bu_now_ms();
        if (kill(in->pid, SIGTERM) < 0)
                fail("kill sliced: %s", strerror(errno));
        double t = inst_wait_exit(in, t0, t0 + timeout_ms);
        if (t < 0) {
                show_tail(in, 15);
                fail("%s: sliced still running %.0f s after SIGTERM", in->label, timeout_ms / 1e3);
        }
        *last_stopped = 0;
        for (size_t i = from; i < in->n_lines; i++) {
                const char *what;
                if (slice_line(in->lines[i].text, &what) >= 0 && !strcmp(what, "stopped"))
                        *last_stopped = in->lines[i].t - t0;
        }
        return t;
}

/* ---- baselines without sliced ---- */

/* `sliced --check -t topo`, start to exit, median of CHECK_RUNS. */
static double time_check(const char *sliced, const struct inst *in, int *bad)
{
        double ms[CHECK_RUNS];
        char *argv[] = {(char *)sliced, "-c", (char *)in->conf, "-t", (char *)in->topo,
                        "--check",      NULL};
        *bad = 0;
        for (int i = 0; i < CHECK_RUNS; i++) {
                posix_spawn_file_actions_t fa;
                posix_spawn_file_actions_init(&fa);
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
                posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
                posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
                pid_t pid;
                double t0 = bu_now_ms();
                int r = posix_spawn(&pid, sliced, &fa, NULL, argv, environ);
                posix_spawn_file_actions_destroy(&fa);
                if (r != 0)
                        fail("spawn %s: %s", sliced, strerror(r));
                int st;
                while (waitpid(pid, &st, 0) < 0)
                        if (errno != EINTR)
                                fail("waitpid: %s", strerror(errno));
                ms[i] = bu_now_ms() - t0;
                if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        *bad = 1;
                check_interrupted();
        }
        return median(ms, CHECK_RUNS);
}

struct forkexec {
        double start_ms, stop_ms;
        struct mem sleep_mem;
};

/* n x posix_spawn(/bin/sleep 100000) (each returns once the child has
 * exec'd), then SIGTERM to all and reap all. */
static void forkexec_baseline(int n, struct forkexec *fe)
{
        char arg[32];
        snprintf(arg, sizeof arg, "%d", SLEEP_ARG);
        char *argv[] = {SLEEP_BIN, arg, NULL};
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        g_sleeps = xcalloc((size_t)n, sizeof *g_sleeps);
        double t0 = bu_now_ms();
        for (int i = 0; i < n; i++) {
                int r = posix_spawn(&g_sleeps[i], SLEEP_BIN, &fa, NULL, argv, environ);
                if (r != 0)
                        fail("posix_spawn %s (#%d): %s", SLEEP_BIN, i + 1, strerror(r));
                g_n_sleeps = i + 1;
                check_interrupted();
        }
        fe->start_ms = bu_now_ms() - t0;
        posix_spawn_file_actions_destroy(&fa);
        bu_sleep_ms(50); /* let the first one settle into its sleep */
        read_mem(g_sleeps[0], &fe->sleep_mem);
        t0 = bu_now_ms();
        for (int i = 0; i < n; i++)
                kill(g_sleeps[i], SIGTERM);
        for (int i = 0; i < n; i++) {
                while (waitpid(g_sleeps[i], NULL, 0) < 0 && errno == EINTR)
                        ;
                g_sleeps[i] = -1;
        }
        fe->stop_ms = bu_now_ms() - t0;
        g_n_sleeps = 0;
        free(g_sleeps);
        g_sleeps = NULL;
}

/* ---- the run ---- */

struct result {
        double start_ms, parse_ms, spawn_ms;
        struct mem mem;
        int fds;
        double rec[R__COUNT][64]; /* per round */
        int rounds_ok, others, rec_failed;
        double stop_ms, last_stopped_ms;
        double check_ms;
        int check_bad;
        int exit_status;
};

static void run_instance(struct inst *in, const char *sliced, int k, int rounds, double timeout_ms,
                         struct result *res)
{
        res->check_ms = time_check(sliced, in, &res->check_bad);
        inst_start(in, sliced, timeout_ms);
        res->start_ms = in->t_all_ready - in->t_spawn;
        res->parse_ms = in->t_last_new ? in->t_last_new - in->t_spawn : 0;
        res->spawn_ms = in->t_last_new ? in->t_all_ready - in->t_last_new : 0;
        if (read_mem(in->pid, &res->mem) < 0)
                fail("%s: cannot read /proc/%d/status", in->label, (int)in->pid);
        res->fds = count_fds(in->pid);
        for (int r = 0; r < rounds; r++) {
                double t[R__COUNT];
                int others = 0;
                if (inst_reconcile(in, k, SLEEP_ARG + 1 + r, timeout_ms, t, &others) < 0) {
                        res->rec_failed = 1;
                        break;
                }
                for (int i = 0; i < R__COUNT; i++)
                        res->rec[i][res->rounds_ok] = t[i];
                res->rounds_ok++;
                res->others += others;
        }
        res->stop_ms = inst_stop(in, timeout_ms, &res->last_stopped_ms);
        res->exit_status =
            WIFEXITED(in->status) ? WEXITSTATUS(in->status) : 128 + WTERMSIG(in->status);
}

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: bench-scale [-n N] [-r ROUNDS] [-t SECONDS] [-f FILES] [-c CPU]\n"
                "                   [-s SLICED] [-k]\n"
                "Starts N slices (/bin/sleep) under one sliced and reports the start\n"
                "time, sliced's RSS, the time to reconcile a change to one slice, and\n"
                "the stop time, each next to a baseline measured in the same run.\n"
                "  -n N        slices (default %d)\n"
                "  -r ROUNDS   reconcile rounds per sliced (default %d, at most 64)\n"
                "  -t SECONDS  bound on every wait (default %d)\n"
                "  -f FILES    give each slice `files: FILES` (its RLIMIT_NOFILE; default:\n"
                "              not set, sliced's default of 1024)\n"
                "  -c CPU      pin the harness, and so sliced and every slice, to CPU\n"
                "  -w N        ignored (accepted for bench/run-all.sh, as bench-spawn's)\n"
                "  -s PATH     sliced to measure (default: $SLICED, the build tree\n"
                "              next to this binary, or PATH)\n"
                "  -k          keep the temporary directory (topologies, sliced.conf,\n"
                "              each sliced.log timed in ms, state.json)\n",
                DEFAULT_N, DEFAULT_ROUNDS, DEFAULT_TIMEOUT);
}

static void print_mem(const char *what, const struct mem *m)
{
        printf("  %-30s %9ld %9ld %9ld %9ld\n", what, m->rss, m->anon, m->file, m->hwm);
}

static void print_rec(const char *what, const struct result *r)
{
        printf("  %-18s", what);
        for (int i = 0; i < R__COUNT; i++)
                printf(" %7.1f (%6.1f)", median(r->rec[i], r->rounds_ok),
                       maximum(r->rec[i], r->rounds_ok));
        printf("\n");
}

int main(int argc, char **argv)
{
        int n = DEFAULT_N, rounds = DEFAULT_ROUNDS, timeout_s = DEFAULT_TIMEOUT, files = 0,
            cpu = -1;
        int c;
        const char *sliced_opt = NULL;
        while ((c = getopt(argc, argv, "n:r:t:f:c:w:s:kh")) != -1) {
                switch (c) {
                case 'n': n = atoi(optarg); break;
                case 'r': rounds = atoi(optarg); break;
                case 't': timeout_s = atoi(optarg); break;
                case 'f': files = atoi(optarg); break;
                case 'c': cpu = atoi(optarg); break;
                case 'w': /* bench-spawn's warm-up (run-all.sh passes the same
                           * arguments to every benchmark): nothing to warm here */
                        fprintf(stderr, "bench-scale: -w ignored (no warm-up rounds here)\n");
                        break;
                case 's': sliced_opt = optarg; break;
                case 'k': g_keep = 1; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc || n < 2 || rounds < 1 || rounds > 64 || timeout_s < 1 || files < 0) {
                usage(stderr);
                return 2;
        }
        double timeout_ms = timeout_s * 1e3;
        if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                if (sched_setaffinity(0, sizeof set, &set) < 0) {
                        perror("bench-scale: sched_setaffinity");
                        return 2;
                }
        }
        if (files)
                snprintf(g_res, sizeof g_res, "{memory: 16M, pids: 4, files: %d}", files);
        char *sliced = bu_find_prog(sliced_opt, "SLICED", "../src/supervisor/sliced", "sliced");
        if (!sliced) {
                fprintf(stderr, "bench-scale: sliced not found (use -s or $SLICED)\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        struct sigaction sa = {.sa_handler = on_fatal_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        const char *tmp = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/bench-scale.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
                fprintf(stderr, "bench-scale: mkdtemp %s: %s\n", g_tmpdir, strerror(errno));
                return 2;
        }

        struct utsname un;
        uname(&un);
        struct rlimit nofile;
        getrlimit(RLIMIT_NOFILE, &nofile);
        printf("bench-scale: %d slices (%s %d, resources %s); %s, uid %u; kernel %s; %ld CPUs%s\n",
               n, SLEEP_BIN, SLEEP_ARG, g_res, geteuid() == 0 ? "root" : "unprivileged",
               (unsigned)geteuid(), un.release, sysconf(_SC_NPROCESSORS_ONLN),
               cpu >= 0 ? ", pinned" : "");
        printf("sliced: %s\n", sliced);
        /* timings here move with whatever else the machine runs */
        char load[64] = "";
        FILE *lf = fopen("/proc/loadavg", "re");
        if (lf) {
                if (fgets(load, sizeof load, lf))
                        load[strcspn(load, "\n")] = '\0';
                fclose(lf);
        }
        printf("load average at start: %s\n", load);
        /* sliced keeps 4 fds per slice (pidfd, stdout, stderr, report), 5
         * as root (its cgroup), and does not raise its own limit */
        if (nofile.rlim_cur != RLIM_INFINITY && nofile.rlim_cur < (rlim_t)n * 5 + 64)
                printf("note: RLIMIT_NOFILE is %llu and sliced inherits it; %d slices need "
                       "~%d fds in sliced\n",
                       (unsigned long long)nofile.rlim_cur, n, n * 5 + 16);

        int k = n / 2;
        static struct inst one, many;
        static struct result r1, rn;
        struct forkexec fe;

        /* baselines first: nothing of sliced's is running meanwhile */
        forkexec_baseline(n, &fe);

        inst_init(&one, "one", g_tmpdir, 1, 0);
        run_instance(&one, sliced, 0, rounds, timeout_ms, &r1);
        inst_init(&many, "many", g_tmpdir, n, 1);
        run_instance(&many, sliced, k, rounds, timeout_ms, &rn);

        if (many.limits_warning[0]) {
                const char *why = strstr(many.limits_warning, "NOT enforced");
                why = why ? why + strlen("NOT enforced") : many.limits_warning;
                while (*why == ':' || *why == ' ')
                        why++;
                printf("cgroups: limits NOT enforced, as sliced warns: %s\n", why);
        } else
                printf("cgroups: limits enforced (cgroup base %s)\n", g_cg_bases[1]);

        printf("\nstart (spawn of sliced -> N-th `ready`)   total ms  per slice ms\n");
        printf("  %-38s %9.1f %9.3f\n", "sliced, n slices", rn.start_ms, rn.start_ms / n);
        printf("    %-36s %9.1f\n", "spawn -> last `new slice` (parse)", rn.parse_ms);
        printf("    %-36s %9.1f %9.3f\n", "last `new slice` -> N-th `ready`", rn.spawn_ms,
               rn.spawn_ms / n);
        int tenth = n / 10 ? n / 10 : 1;
        if (many.t_last_new && n >= 10) {
                printf("      %-34s %9.1f %9.3f\n", "first tenth of the slices",
                       many.t_ready[tenth - 1] - many.t_last_new,
                       (many.t_ready[tenth - 1] - many.t_last_new) / tenth);
                printf("      %-34s %9.1f %9.3f\n", "last tenth of the slices",
                       many.t_ready[n - 1] - many.t_ready[n - tenth - 1],
                       (many.t_ready[n - 1] - many.t_ready[n - tenth - 1]) / tenth);
        }
        printf("  %-38s %9.1f %9.3f\n", "sliced, 1 slice", r1.start_ms, r1.start_ms);
        printf("  %-38s %9.1f %9.3f\n", "n x posix_spawn /bin/sleep (floor)", fe.start_ms,
               fe.start_ms / n);

        printf("\nparse + validate: `sliced --check`, whole process, median of %d\n", CHECK_RUNS);
        printf("  %-38s %9.1f%s\n", "n slices", rn.check_ms,
               rn.check_bad ? "  (check FAILED)" : "");
        printf("  %-38s %9.1f%s\n", "1 slice", r1.check_ms, r1.check_bad ? "  (check FAILED)" : "");

        printf("\nmemory (KiB)                     %9s %9s %9s %9s\n", "VmRSS", "RssAnon",
               "RssFile", "VmHWM");
        print_mem("sliced, n slices", &rn.mem);
        print_mem("sliced, 1 slice", &r1.mem);
        print_mem("/bin/sleep (a bare C process)", &fe.sleep_mem);
        printf("  %-30s %9.1f\n", "sliced per extra slice",
               (double)(rn.mem.rss - r1.mem.rss) / (n - 1));
        printf("sliced's open fds: %d with n slices, %d with 1 (%.1f per extra slice)\n", rn.fds,
               r1.fds, (double)(rn.fds - r1.fds) / (n - 1));

        printf("\nreconcile: slice s%d's exec changed, SIGHUP -> each log line, ms, median (max) "
               "of %d\n",
               k, rn.rounds_ok);
        printf("  %-18s", "");
        for (int i = 0; i < R__COUNT; i++)
                printf(" %16s", r_names[i]);
        printf("\n");
        print_rec("sliced, n slices", &rn);
        print_rec("sliced, 1 slice", &r1);
        printf("  other slices touched: %d\n", rn.others + r1.others);

        printf("\nstop (SIGTERM -> exit)                   total ms  per slice ms\n");
        printf("  %-38s %9.1f %9.3f\n", "sliced, n slices", rn.stop_ms, rn.stop_ms / n);
        printf("    %-36s %9.1f\n", "SIGTERM -> last `stopped`", rn.last_stopped_ms);
        printf("  %-38s %9.1f %9.3f\n", "sliced, 1 slice", r1.stop_ms, r1.stop_ms);
        printf("  %-38s %9.1f %9.3f\n", "n x SIGTERM + reap /bin/sleep", fe.stop_ms,
               fe.stop_ms / n);

        printf("\nratios:\n");
        printf("  start: sliced / fork+exec             %7.2f\n", rn.start_ms / fe.start_ms);
        printf("  RSS:   sliced n / sliced 1             %7.2f\n",
               (double)rn.mem.rss / (double)r1.mem.rss);
        printf("  reconcile ready: n / 1                 %7.2f\n",
               median(rn.rec[R_READY], rn.rounds_ok) / median(r1.rec[R_READY], r1.rounds_ok));

        const struct inst *both[] = {&one, &many};
        for (int i = 0; i < 2; i++) {
                for (int j = 0; j < both[i]->n_notes; j++)
                        printf("%s: sliced said: %s\n", both[i]->label, both[i]->notes[j]);
                if (both[i]->more_notes)
                        printf("%s: ... and %d more error/warning lines\n", both[i]->label,
                               both[i]->more_notes);
        }

        double rec_ready = median(rn.rec[R_READY], rn.rounds_ok);
        printf("\naims%s:\n",
               n == 1000 ? "" : " (set for 1000 slices; this run has fewer or more)");
        printf("  start < 10 s:          %8.2f s    %s\n", rn.start_ms / 1e3,
               rn.start_ms < 10e3 ? "met" : "NOT met");
        printf("  sliced RSS < 20 MiB:   %8.2f MiB  %s\n", rn.mem.rss / 1024.0,
               rn.mem.rss < 20 * 1024 ? "met" : "NOT met");
        printf("  reconcile < 50 ms:     %8.1f ms   %s (median, to `ready`)\n", rec_ready,
               rn.rounds_ok && rec_ready < 50 ? "met" : "NOT met");

        int bad = rn.rec_failed || r1.rec_failed || rn.others || r1.others || rn.exit_status ||
                  r1.exit_status || rn.check_bad || r1.check_bad;
        if (rn.exit_status || r1.exit_status)
                printf("sliced exit status: n slices %d, 1 slice %d\n", rn.exit_status,
                       r1.exit_status);
        remove_cgroups(); /* nothing left if sliced cleaned up; cheap if so */
        cleanup_dir();
        g_insts[0] = g_insts[1] = NULL;
        inst_free(&one);
        inst_free(&many);
        free(sliced);
        return bad ? 1 : 0;
}
