/* bench-session: what a capability session costs.
 *
 * Three figures, each next to a baseline measured in the same run:
 *
 *   open       sl_session_open latency through a real sliced: a client
 *              slice asks for `bench`, sliced routes it to a server slice,
 *              which answers with a fresh socketpair (sl_session_pair);
 *              the client times each open (CLOCK_MONOTONIC), then closes it.
 *              Baselines, interleaved with it in the client: an open of a
 *              service with no route (sliced refuses it itself: one round
 *              trip on the parent channel), and socketpair() alone (what
 *              the server creates per session).
 *   ping-pong  1-byte request/response round trips over a routed session,
 *              against the same over a raw socketpair between the same two
 *              slice processes (its far end sent over a second session, so
 *              sliced never saw it), interleaved in blocks; and against two
 *              plain processes outside sliced (fork; no namespaces, no
 *              cgroup), without a filter before and after sliced runs, and
 *              under the slices' seccomp programs. Every variant runs the
 *              same code (bench/slices/session/pingpong.h) and, with -c, on
 *              the same one CPU.
 *   filters    the time of a system call with no seccomp filter and under
 *              the builtin programs (posix; strict = stage one;
 *              strict-tight = stage two; both stacked, as a strict slice
 *              runs), for getpid (no argument rule anywhere: the kernel's
 *              per-filter cache answers it), ioctl FIONREAD (argument rules
 *              in every profile: every program runs) and sendto without an
 *              address (plain in posix, an argument rule in strict). In
 *              forked children of this process, no sliced.
 *
 * The aims: open median <= 100 us; ping-pong routed / raw within
 * 1.00 +- 5 %; filter overhead <= 30 ns per call. This prints whatever it
 * measures; unmet aims are not a failure.
 *
 * sliced runs with --log-target stderr into a file (not a pipe: no reader
 * has to wake up while the client measures), a sliced.conf with a cgroup
 * base of its own, temporary state and runtime directories, and
 * PR_SET_PDEATHSIG. The client prints its figures on stdout, which sliced
 * logs as `/client: ...` lines; this reads them from the file. On an error,
 * a timeout or SIGINT/SIGTERM it SIGKILLs sliced (the slices go with it) and
 * removes what it made.
 *
 * Usage: bench-session [-n OPENS] [-w WARMUP] [-p PINGS] [-b BLOCK] [-f CALLS]
 *                      [-c CPU] [-P PROFILE] [-s SLICED] [-S SLICE]
 *                      [-t SECONDS] [-F] [-G] [-k]
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/bench_util.h"
#include "sandbox/seccomp.h"
#include "slices/session/pingpong.h"

extern char **environ;

/* 2000 opens give a p90 stable to a few percent; at ~50 us each the open
 * phase (three variants, warm-up included) takes well under a second. */
#define DEFAULT_OPENS  2000
#define DEFAULT_WARMUP 200
/* 20000 round trips of each ping-pong variant: 0.2-1.6 s each here. */
#define DEFAULT_PINGS 20000
#define DEFAULT_BLOCK 1000
/* Plain pair: untimed round trips first (as the client slice does). */
#define PING_WARMUP 1000
/* Filter timing: calls per variant and system call, in FILTER_BLOCKS
 * blocks (~2 ms each) that the variants take in turns; the median block
 * counts. */
#define DEFAULT_CALLS   2000000
#define FILTER_BLOCKS   100
#define DEFAULT_TIMEOUT 120
#define SLICE_BIN_NAME  "bench-session-slice"
#define MAX_NOTES       8

/* ---- small helpers ---- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                fail("out of memory");
        return p;
}

static void pin(int cpu)
{
        if (cpu < 0)
                return;
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) < 0)
                _exit(120);
}

/* ---- what must be undone on any exit ---- */

static char g_tmpdir[PATH_MAX];
static int g_keep;
static volatile pid_t g_sliced = -1; /* the running sliced */
static volatile pid_t g_kid = -1;    /* a baseline child (it kills its own child) */
#define MAX_KIDS 8
static volatile pid_t g_kids[MAX_KIDS]; /* the filter children (0: none) */
static char g_cg_base[64];              /* the cgroup base handed to sliced */
static volatile sig_atomic_t g_interrupted;

/* How many controllers (v1) or the v2 root hold our base now. */
static int count_cgroups(void)
{
        if (!g_cg_base[0])
                return 0;
        int found = 0;
        char p[PATH_MAX];
        DIR *d = opendir("/sys/fs/cgroup");
        if (d) {
                struct dirent *e;
                while ((e = readdir(d))) {
                        snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s", e->d_name, g_cg_base);
                        found += e->d_name[0] != '.' && access(p, F_OK) == 0;
                }
                closedir(d);
        }
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s", g_cg_base);
        return found + (access(p, F_OK) == 0);
}

static void kill_everything(void)
{
        pid_t p = g_sliced;
        if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                g_sliced = -1;
                for (int i = 0; i < 20; i++) { /* the reapers die of PDEATHSIG */
                        bu_sleep_ms(100);
                        if (!bu_remove_cgroups(g_cg_base))
                                break;
                }
        }
        p = g_kid;
        if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                g_kid = -1;
        }
        for (int i = 0; i < MAX_KIDS; i++)
                if ((p = g_kids[i]) > 0) {
                        kill(p, SIGKILL);
                        waitpid(p, NULL, 0);
                        g_kids[i] = 0;
                }
}

static void cleanup_dir(void)
{
        if (!g_tmpdir[0])
                return;
        if (g_keep)
                fprintf(stderr, "bench-session: kept %s\n", g_tmpdir);
        else
                nftw(g_tmpdir, bu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_tmpdir[0] = '\0';
}

static void fail(const char *fmt, ...)
{
        va_list ap;
        fputs("bench-session: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        kill_everything();
        cleanup_dir();
        if (g_interrupted) {
                signal(g_interrupted, SIG_DFL);
                raise(g_interrupted);
        }
        exit(1);
}

static void on_fatal_signal(int sig)
{
        pid_t p = g_sliced;
        if (p > 0)
                kill(p, SIGKILL);
        p = g_kid;
        if (p > 0)
                kill(p, SIGKILL);
        for (int i = 0; i < MAX_KIDS; i++)
                if ((p = g_kids[i]) > 0)
                        kill(p, SIGKILL);
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

static void write_file(const char *path, const char *text)
{
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof tmp, "%s.tmp", path);
        FILE *f = fopen(tmp, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                fail("write %s: %s", tmp, strerror(errno));
        if (rename(tmp, path) < 0)
                fail("rename %s: %s", tmp, strerror(errno));
}

/* Read exactly len bytes (a child's answer); -1 at EOF first. */
static int read_full(int fd, void *buf, size_t len)
{
        size_t got = 0;
        while (got < len) {
                ssize_t n = read(fd, (char *)buf + got, len - got);
                if (n < 0 && errno == EINTR) {
                        check_interrupted();
                        continue;
                }
                if (n <= 0)
                        return -1;
                got += (size_t)n;
        }
        return 0;
}

static void write_full(int fd, const void *buf, size_t len)
{
        size_t off = 0;
        while (off < len) {
                ssize_t n = write(fd, (const char *)buf + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        _exit(121);
                off += (size_t)n;
        }
}

/* Reap g_kid; a status other than 0 is a failure naming what. */
static void reap_kid(const char *what)
{
        int st;
        while (waitpid(g_kid, &st, 0) < 0)
                if (errno != EINTR)
                        fail("waitpid: %s", strerror(errno));
                else
                        check_interrupted();
        g_kid = -1;
        if (!WIFEXITED(st) || WEXITSTATUS(st))
                fail("%s: child %s %d", what, WIFEXITED(st) ? "exited" : "killed by signal",
                     WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* ---- baseline: ping-pong between two plain processes ---- */

/* Filled in main(): the programs the slices run under (-P), which the
 * "plain + filters" variant installs in both of its processes. */
static struct sb_seccomp_prog g_slice_progs[2];
static int g_n_slice_progs;

/* A child pinned to cpu (if any) forks an echo server on a socketpair and
 * runs the client side, the same code as the slices run. With filtered,
 * both processes first install the slices' seccomp programs; nothing after
 * that needs more than strict-tight allows (the client does not wait for
 * the server: that dies of its parent-death signal or the EOF). */
static struct pp_stats plain_pair(int cpu, int pings, int filtered)
{
        int res[2];
        if (pipe2(res, O_CLOEXEC) < 0)
                fail("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                close(res[0]);
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                pin(cpu);
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                        _exit(122);
                double *v = calloc((size_t)pings, sizeof *v), us;
                if (!v)
                        _exit(126);
                pid_t srv = fork();
                if (srv < 0)
                        _exit(123);
                if (srv == 0)
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (filtered && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(110);
                for (int i = 0; filtered && i < g_n_slice_progs; i++)
                        if (sb_seccomp_install(&g_slice_progs[i]) < 0)
                                _exit(111);
                if (srv == 0) {
                        close(sv[0]);
                        int ep = epoll_create1(EPOLL_CLOEXEC);
                        struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[1]};
                        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev) < 0)
                                _exit(124);
                        for (;;) {
                                struct epoll_event got[16];
                                int n = epoll_wait(ep, got, 16, -1);
                                if (n < 0 && errno == EINTR)
                                        continue;
                                if (n < 0)
                                        _exit(125);
                                for (int i = 0; i < n; i++)
                                        if (pp_echo(got[i].data.fd) < 0)
                                                _exit(0);
                        }
                }
                close(sv[1]);
                for (int i = 0; i < PING_WARMUP; i++)
                        if (pp_round(sv[0], &us) < 0)
                                _exit(127);
                for (int i = 0; i < pings; i++)
                        if (pp_round(sv[0], &v[i]) < 0)
                                _exit(127);
                close(sv[0]);
                struct pp_stats st = pp_summarize(v, pings);
                write_full(res[1], &st, sizeof st);
                _exit(0);
        }
        g_kid = pid;
        close(res[1]);
        struct pp_stats st;
        int bad = read_full(res[0], &st, sizeof st);
        close(res[0]);
        reap_kid("plain ping-pong");
        if (bad)
                fail("plain ping-pong: no result");
        return st;
}

/* ---- filters ---- */

enum { F_NONE, F_POSIX, F_STRICT, F_TIGHT, F_BOTH, F__COUNT };
static const struct {
        const char *name, *what;
        const char *progs[2];
} filters[F__COUNT] = {
    [F_NONE] = {"none", "no filter (no_new_privs only)", {NULL, NULL}},
    [F_POSIX] = {"posix", "unmodified programs", {"posix", NULL}},
    [F_STRICT] = {"strict", "stage one alone", {"strict", NULL}},
    [F_TIGHT] = {"strict-tight", "stage two alone", {"strict-tight", NULL}},
    [F_BOTH] = {"strict+tight", "both stacked, as a strict slice runs", {"strict", "strict-tight"}},
};

/* getpid: no rule looks at its arguments in any profile, so the kernel's
 * per-filter cache answers it without running the program. ioctl FIONREAD:
 * argument rules in every profile (posix refuses TIOCSTI/TIOCLINUX, strict
 * allows TCGETS/FIONREAD only), so every program runs. sendto without a
 * destination (what send() is): plain in posix, an argument rule in strict.
 * All three fail with EBADF after the filter: the call itself is cheap. */
enum { C_GETPID, C_IOCTL, C_SENDTO, C__COUNT };
static const char *const call_names[C__COUNT] = {"getpid", "ioctl FIONREAD", "sendto"};

static inline long do_call(int c)
{
        int n;
        switch (c) {
        case C_GETPID: return syscall(SYS_getpid);
        case C_IOCTL: return syscall(SYS_ioctl, -1, FIONREAD, &n);
        default: return syscall(SYS_sendto, -1, &n, 1, 0, NULL, 0);
        }
}

/* ns per call of each system call under each filter. One child per
 * filter, all alive at once and pinned alike; they pass a token round a
 * ring of pipes, so the variants time their blocks in turns (getpid block 1
 * of each, block 2 of each, ...): a slow patch of the machine hits all of
 * them alike. Token passing is outside the timed blocks. */
static void filters_interleaved(int cpu, long calls, double fm[F__COUNT][C__COUNT])
{
        struct sb_seccomp_prog progs[F__COUNT][2];
        memset(progs, 0, sizeof progs);
        for (int f = 0; f < F__COUNT; f++)
                for (int i = 0; i < 2 && filters[f].progs[i]; i++) {
                        struct sl_error err;
                        if (sb_seccomp_prog_get(filters[f].progs[i], &progs[f][i], &err) < 0)
                                fail("seccomp profile %s: %s", filters[f].progs[i], err.msg);
                }
        long per_block = calls / FILTER_BLOCKS;
        if (per_block < 1)
                per_block = 1;
        int tok[F__COUNT][2], res[F__COUNT][2];
        for (int f = 0; f < F__COUNT; f++)
                if (pipe2(tok[f], O_CLOEXEC) < 0 || pipe2(res[f], O_CLOEXEC) < 0)
                        fail("pipe: %s", strerror(errno));
        for (int f = 0; f < F__COUNT; f++) {
                pid_t pid = fork();
                if (pid < 0)
                        fail("fork: %s", strerror(errno));
                if (pid > 0) {
                        g_kids[f] = pid;
                        continue;
                }
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                pin(cpu);
                static double blocks[FILTER_BLOCKS];
                double r[C__COUNT];
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                        _exit(110);
                for (int i = 0; i < 2 && filters[f].progs[i]; i++)
                        if (sb_seccomp_install(&progs[f][i]) < 0)
                                _exit(111);
                /* From here: only calls every profile allows (getpid, ioctl
                 * FIONREAD, sendto without an address, read, write,
                 * exit_group; clock_gettime is the vDSO). */
                const int next = tok[(f + 1) % F__COUNT][1];
                for (int c = 0; c < C__COUNT; c++) {
                        for (int b = -1; b < FILTER_BLOCKS; b++) { /* -1: warm-up */
                                char t;
                                if (read(tok[f][0], &t, 1) != 1)
                                        _exit(112);
                                double t0 = pp_now_us();
                                for (long i = 0; i < per_block; i++)
                                        do_call(c);
                                double ns = (pp_now_us() - t0) * 1e3 / (double)per_block;
                                if (b >= 0)
                                        blocks[b] = ns;
                                if (write(next, &t, 1) != 1)
                                        _exit(113);
                        }
                        pp_sort(blocks, FILTER_BLOCKS); /* no qsort: see pingpong.h */
                        r[c] = (blocks[(FILTER_BLOCKS - 1) / 2] + blocks[FILTER_BLOCKS / 2]) / 2;
                }
                write_full(res[f][1], r, sizeof r);
                _exit(0);
        }
        for (int f = 0; f < F__COUNT; f++)
                close(res[f][1]);
        if (write(tok[0][1], "t", 1) != 1) /* start the ring */
                fail("write: %s", strerror(errno));
        for (int f = 0; f < F__COUNT; f++) {
                /* a child that dies stops the ring: notice it, do not wait */
                for (;;) {
                        struct pollfd pfd = {.fd = res[f][0], .events = POLLIN};
                        int n = poll(&pfd, 1, 100);
                        check_interrupted();
                        if (n > 0)
                                break;
                        for (int k = 0; k < F__COUNT; k++) {
                                int st;
                                if (g_kids[k] > 0 &&
                                    waitpid(g_kids[k], &st, WNOHANG) == g_kids[k]) {
                                        g_kids[k] = 0;
                                        if (!WIFEXITED(st) || WEXITSTATUS(st))
                                                fail("filter %s: child %s %d", filters[k].name,
                                                     WIFEXITED(st) ? "exited" : "killed by signal",
                                                     WIFEXITED(st) ? WEXITSTATUS(st)
                                                                   : WTERMSIG(st));
                                }
                        }
                }
                if (read_full(res[f][0], fm[f], sizeof(double) * C__COUNT) < 0)
                        fail("filter %s: no result", filters[f].name);
        }
        for (int f = 0; f < F__COUNT; f++) {
                close(res[f][0]);
                close(tok[f][0]);
                close(tok[f][1]);
                if (g_kids[f] > 0) {
                        waitpid(g_kids[f], NULL, 0);
                        g_kids[f] = 0;
                }
                for (int i = 0; i < 2; i++)
                        sb_seccomp_prog_release(&progs[f][i]);
        }
}

/* ---- sliced and its log ---- */

enum { R_OPEN, R_DENIED, R_SOCKPAIR, R_ROUTED, R_RAW, R__COUNT };
static const char *const r_names[R__COUNT] = {"open", "denied", "sockpair", "routed", "raw"};

struct run {
        char dir[PATH_MAX], topo[PATH_MAX + 16], conf[PATH_MAX + 16], log[PATH_MAX + 16];
        char state[PATH_MAX + 16], rundir[PATH_MAX + 16];
        int logfd;
        char buf[8192];
        size_t len, lines;
        struct pp_stats r[R__COUNT];
        int have[R__COUNT];
        double cycle_us;
        int done;        /* the client said DONE */
        char error[600]; /* the client's ERROR, or how it or the server ended */
        char notes[MAX_NOTES][300];
        int n_notes, more_notes;
        int exit_status;
        int cgroups; /* controllers holding sliced's base while the client ran */
};

static const char client_prefix[] = "/client: ";

static void on_line(struct run *r, const char *text)
{
        r->lines++;
        if (!strncmp(text, client_prefix, sizeof client_prefix - 1)) {
                const char *p = text + sizeof client_prefix - 1;
                char name[32];
                struct pp_stats st;
                if (sscanf(p, "RESULT %31s %d %lf %lf %lf %lf", name, &st.n, &st.median, &st.p90,
                           &st.min, &st.mean) == 6) {
                        for (int i = 0; i < R__COUNT; i++)
                                if (!strcmp(name, r_names[i])) {
                                        r->r[i] = st;
                                        r->have[i] = 1;
                                }
                } else if (sscanf(p, "CYCLE %lf", &r->cycle_us) == 1) {
                } else if (!strcmp(p, "DONE")) {
                        r->done = 1;
                } else if (!strncmp(p, "ERROR ", 6) && !r->error[0]) {
                        snprintf(r->error, sizeof r->error, "client: %s", p + 6);
                }
                return;
        }
        /* a slice that ends before the client said DONE ends the run */
        static const char *const ends[] = {
            "sliced: info: /client: down:", "sliced: info: /client: failed:",
            "sliced: info: /server: down:", "sliced: info: /server: failed:"};
        for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
                if (!strncmp(text, ends[i], strlen(ends[i])) && !r->done && !r->error[0])
                        snprintf(r->error, sizeof r->error, "%s", text + strlen("sliced: info: "));
        if (!strncmp(text, "sliced: error:", 14) || !strncmp(text, "sliced: warning:", 16) ||
            !strncmp(text, "sliced: crit", 12) || !strncmp(text, "/server: ", 9)) {
                if (r->n_notes < MAX_NOTES)
                        snprintf(r->notes[r->n_notes++], sizeof r->notes[0], "%s", text);
                else
                        r->more_notes++;
                if (strstr(text, "spawn failed") && !r->error[0])
                        snprintf(r->error, sizeof r->error, "%s", text);
        }
}

/* Whatever sliced has appended to its log since the last call. */
static void read_log(struct run *r)
{
        for (;;) {
                ssize_t n = read(r->logfd, r->buf + r->len, sizeof r->buf - 1 - r->len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return;
                r->len += (size_t)n;
                size_t start = 0;
                for (size_t i = 0; i < r->len; i++)
                        if (r->buf[i] == '\n') {
                                r->buf[i] = '\0';
                                on_line(r, r->buf + start);
                                start = i + 1;
                        }
                if (start == 0 && r->len == sizeof r->buf - 1) { /* over-long: split */
                        r->buf[r->len] = '\0';
                        on_line(r, r->buf);
                        start = r->len;
                }
                memmove(r->buf, r->buf + start, r->len - start);
                r->len -= start;
        }
}

static void show_tail(const struct run *r, int count)
{
        FILE *f = fopen(r->log, "re");
        if (!f)
                return;
        char(*ring)[512] = xcalloc((size_t)count, sizeof *ring);
        int n = 0;
        char line[512];
        while (fgets(line, sizeof line, f))
                snprintf(ring[n++ % count], sizeof ring[0], "%s", line);
        fclose(f);
        fprintf(stderr, "bench-session: sliced's last log lines:\n");
        for (int i = n > count ? n - count : 0; i < n; i++)
                fprintf(stderr, "  %s", ring[i % count]);
        free(ring);
}

static void write_topology(const struct run *r, const char *slice_bin, const char *profile, int cpu,
                           int opens, int warmup, int pings, int block)
{
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s", slice_bin);
        char *slash = strrchr(dir, '/');
        *slash = '\0';
        char res[64] = "";
        if (cpu >= 0) /* cpuset (as root) and affinity: both slices on one CPU */
                snprintf(res, sizeof res, "    resources: {cpu: {cores: \"%d\"}}\n", cpu);
        char text[4 * PATH_MAX + 1024];
        snprintf(text, sizeof text,
                 "# bench-session: a server slice and a client slice routed to it\n"
                 "slices:\n"
                 "  - name: server\n"
                 "    exec: [/slices/%s, server]\n"
                 "    profile: %s\n"
                 "    mounts: [{src: %s, dest: /slices}]\n"
                 "    provides: [bench]\n"
                 "%s"
                 "    restart: never\n"
                 "  - name: client\n"
                 "    exec: [/slices/%s, client, \"%d\", \"%d\", \"%d\", \"%d\"]\n"
                 "    profile: %s\n"
                 "    mounts: [{src: %s, dest: /slices}]\n"
                 "    routes:\n"
                 "      bench: {slice: server}\n"
                 "%s"
                 "    restart: never\n",
                 SLICE_BIN_NAME, profile, dir, res, SLICE_BIN_NAME, opens, warmup, pings, block,
                 profile, dir, res);
        write_file(r->topo, text);
}

static void run_sliced(struct run *r, const char *sliced, int cpu, double timeout_ms)
{
        int logfd = open(r->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        r->logfd = open(r->log, O_RDONLY | O_CLOEXEC);
        if (logfd < 0 || r->logfd < 0)
                fail("open %s: %s", r->log, strerror(errno));
        char *argv[] = {(char *)sliced, "-c",           r->conf,  "-t",
                        r->topo,        "--state-dir",  r->state, "--runtime-dir",
                        r->rundir,      "--log-target", "stderr", NULL};
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL); /* sliced dies with the bench */
                if (getppid() != parent)
                        _exit(127);
                pin(cpu);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
                    dup2(logfd, 2) < 0)
                        _exit(127);
                execve(sliced, argv, environ);
                _exit(127);
        }
        close(logfd);
        g_sliced = pid;

        double deadline = bu_now_ms() + timeout_ms;
        int st;
        while (!r->done && !r->error[0]) {
                check_interrupted();
                read_log(r);
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        g_sliced = -1;
                        read_log(r);
                        show_tail(r, 15);
                        fail("sliced exited before the client finished (status %d)",
                             WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
                }
                if (bu_now_ms() > deadline) {
                        show_tail(r, 15);
                        fail("no result from the client after %.0f s", timeout_ms / 1e3);
                }
                bu_sleep_ms(20);
        }
        if (r->error[0]) {
                bu_sleep_ms(100);
                read_log(r);
                show_tail(r, 15);
                fail("%s", r->error);
        }
        r->cgroups = count_cgroups();
        /* stop sliced (and so the server) */
        if (kill(pid, SIGTERM) < 0)
                fail("kill sliced: %s", strerror(errno));
        deadline = bu_now_ms() + timeout_ms;
        for (;;) {
                pid_t w = waitpid(pid, &st, WNOHANG);
                if (w == pid)
                        break;
                if (bu_now_ms() > deadline) {
                        show_tail(r, 15);
                        fail("sliced still running %.0f s after SIGTERM", timeout_ms / 1e3);
                }
                check_interrupted();
                bu_sleep_ms(10);
        }
        g_sliced = -1;
        read_log(r);
        close(r->logfd);
        r->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* ---- report ---- */

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: bench-session [-n OPENS] [-w WARMUP] [-p PINGS] [-b BLOCK] [-f CALLS]\n"
                "                     [-c CPU] [-P PROFILE] [-s SLICED] [-S SLICE]\n"
                "                     [-t SECONDS] [-F] [-G] [-k]\n"
                "Session open latency and ping-pong through a real sliced, and the cost of\n"
                "the seccomp filters per system call, each against a baseline in this run.\n"
                "  -n OPENS    timed opens of each kind (default %d)\n"
                "  -w WARMUP   untimed opens of each kind first (default %d)\n"
                "  -p PINGS    timed round trips of each ping-pong variant (default %d)\n"
                "  -b BLOCK    round trips per block; the two in-slice variants alternate\n"
                "              by blocks (default %d)\n"
                "  -f CALLS    system calls timed per filter and call, in %d blocks\n"
                "              (default %d)\n"
                "  -c CPU      pin sliced, both slices and every baseline to CPU; -1: no\n"
                "              pinning anywhere (default 0)\n"
                "  -P PROFILE  the slices' seccomp profile: strict or posix (default strict)\n"
                "  -s PATH     sliced (default: $SLICED, BUILD/src/supervisor/sliced, PATH)\n"
                "  -S PATH     the helper slice (default: $BENCH_SESSION_SLICE,\n"
                "              BUILD/bench/slices/%s)\n"
                "  -t SECONDS  bound on every wait (default %d)\n"
                "  -F          the filter figures only (no sliced, no ping-pong)\n"
                "  -G          run sliced without cgroups (cgroup_root: /nonexistent), to\n"
                "              tell their cost apart (as root; unprivileged there are none)\n"
                "  -k          keep the temporary directory (topology, sliced.conf, log)\n",
                DEFAULT_OPENS, DEFAULT_WARMUP, DEFAULT_PINGS, DEFAULT_BLOCK, FILTER_BLOCKS,
                DEFAULT_CALLS, SLICE_BIN_NAME, DEFAULT_TIMEOUT);
}

static void print_stats(const char *what, const struct pp_stats *s, const char *note)
{
        printf("  %-42s %9.2f %9.2f %9.2f %9.2f %7d  %s\n", what, s->median, s->p90, s->min,
               s->mean, s->n, note ? note : "");
}

static int within5(double ratio)
{
        return ratio >= 0.95 && ratio <= 1.05;
}

int main(int argc, char **argv)
{
        int opens = DEFAULT_OPENS, warmup = DEFAULT_WARMUP, pings = DEFAULT_PINGS,
            block = DEFAULT_BLOCK, timeout_s = DEFAULT_TIMEOUT, cpu = 0;
        long calls = DEFAULT_CALLS;
        const char *sliced_opt = NULL, *slice_opt = NULL, *profile = "strict";
        int c;
        int only_filters = 0, no_cgroups = 0;
        while ((c = getopt(argc, argv, "n:w:p:b:f:c:P:s:S:t:FGkh")) != -1) {
                switch (c) {
                case 'n': opens = atoi(optarg); break;
                case 'w': warmup = atoi(optarg); break;
                case 'p': pings = atoi(optarg); break;
                case 'b': block = atoi(optarg); break;
                case 'f': calls = atol(optarg); break;
                case 'c': cpu = atoi(optarg); break;
                case 'P': profile = optarg; break;
                case 's': sliced_opt = optarg; break;
                case 'S': slice_opt = optarg; break;
                case 't': timeout_s = atoi(optarg); break;
                case 'F': only_filters = 1; break;
                case 'G': no_cgroups = 1; break;
                case 'k': g_keep = 1; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc || opens < 1 || warmup < 0 || pings < 1 || block < 1 || calls < 1 ||
            timeout_s < 1 || cpu < -1 || (strcmp(profile, "strict") && strcmp(profile, "posix"))) {
                usage(stderr);
                return 2;
        }
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (cpu >= ncpu) {
                fprintf(stderr, "bench-session: -c %d: this machine has CPUs 0-%ld\n", cpu,
                        ncpu - 1);
                return 2;
        }
        double timeout_ms = timeout_s * 1e3;
        char *sliced = bu_find_prog(sliced_opt, "SLICED", "../src/supervisor/sliced", "sliced");
        char *slice_bin = bu_find_prog(slice_opt, "BENCH_SESSION_SLICE", "slices/" SLICE_BIN_NAME,
                                       SLICE_BIN_NAME);
        if (!only_filters && (!sliced || !slice_bin)) {
                fprintf(stderr, "bench-session: %s not found (use %s)\n",
                        !sliced ? "sliced" : SLICE_BIN_NAME, !sliced ? "-s or $SLICED" : "-S");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        struct sigaction sa = {.sa_handler = on_fatal_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        const char *tmp = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/bench-session.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
                fprintf(stderr, "bench-session: mkdtemp %s: %s\n", g_tmpdir, strerror(errno));
                return 2;
        }
        /* the slices run as other uids (root) or a mapped uid (unprivileged):
         * sliced needs the directory, the slices only their mount */
        chmod(g_tmpdir, 0755);

        struct utsname un;
        uname(&un);
        char load[64] = "";
        FILE *lf = fopen("/proc/loadavg", "re");
        if (lf) {
                if (fgets(load, sizeof load, lf))
                        load[strcspn(load, "\n")] = '\0';
                fclose(lf);
        }
        char pinning[64];
        if (cpu >= 0)
                snprintf(pinning, sizeof pinning, "pinned to CPU %d", cpu);
        else
                snprintf(pinning, sizeof pinning, "not pinned");
        printf("bench-session: %d opens, %d round trips, %ld calls per filter; slices under %s; "
               "%s, uid %u; kernel %s; %ld CPUs, %s\n",
               opens, pings, calls, profile, geteuid() == 0 ? "root" : "unprivileged",
               (unsigned)geteuid(), un.release, ncpu, pinning);
        if (!only_filters)
                printf("sliced: %s\nslice:  %s\n", sliced, slice_bin);
        printf("load average at start: %s\n", load);

        /* the slices' programs, for the "plain + filters" baseline */
        const char *slice_progs[2] = {profile, NULL};
        if (!strcmp(profile, "strict"))
                slice_progs[1] = "strict-tight"; /* libslice's stage two */
        for (int i = 0; i < 2 && slice_progs[i]; i++) {
                struct sl_error err;
                if (sb_seccomp_prog_get(slice_progs[i], &g_slice_progs[i], &err) < 0)
                        fail("seccomp profile %s: %s", slice_progs[i], err.msg);
                g_n_slice_progs++;
        }

        static struct run r;
        struct pp_stats plain_before = {0}, plain_filtered = {0}, plain_after = {0};
        if (!only_filters) {
                /* 1. plain pairs (before) */
                plain_before = plain_pair(cpu, pings, 0);
                plain_filtered = plain_pair(cpu, pings, 1);

                /* 2. sliced */
                snprintf(r.dir, sizeof r.dir, "%s", g_tmpdir);
                snprintf(r.topo, sizeof r.topo, "%s/topology.yaml", r.dir);
                snprintf(r.conf, sizeof r.conf, "%s/sliced.conf", r.dir);
                snprintf(r.log, sizeof r.log, "%s/sliced.log", r.dir);
                snprintf(r.state, sizeof r.state, "%s/state", r.dir);
                snprintf(r.rundir, sizeof r.rundir, "%s/run", r.dir);
                snprintf(g_cg_base, sizeof g_cg_base, "bench-session-%d", (int)getpid());
                char conf[256];
                snprintf(conf, sizeof conf,
                         "# bench-session: sliced's defaults, but a cgroup base of its own\n"
                         "cgroup_base: %s\nlog_target: stderr\n%s",
                         g_cg_base,
                         no_cgroups ? "# -G: no cgroupfs there, so no cgroups\n"
                                      "cgroup_root: /nonexistent\n"
                                    : "");
                write_file(r.conf, conf);
                write_topology(&r, slice_bin, profile, cpu, opens, warmup, pings, block);
                run_sliced(&r, sliced, cpu, timeout_ms);
                for (int i = 0; i < R__COUNT; i++)
                        if (!r.have[i])
                                fail("the client gave no '%s' figure", r_names[i]);

                /* 3. plain pair (after) */
                plain_after = plain_pair(cpu, pings, 0);
        }

        /* 4. filters */
        double fm[F__COUNT][C__COUNT];
        filters_interleaved(cpu, calls, fm);

        /* ---- the table ---- */
        double plain_med = (plain_before.median + plain_after.median) / 2;
        if (!only_filters) {
                if (r.cgroups)
                        printf(
                            "cgroups: the slices run in sliced's own (base %s, %d controllers)\n",
                            g_cg_base, r.cgroups);
                else
                        printf("cgroups: none (sliced has no cgroups here)%s\n",
                               cpu >= 0 ? "; the slices are pinned by affinity alone" : "");

                printf("\nsession open, us (each timed in the client slice)    median       p90"
                       "       min      mean       n\n");
                print_stats("routed open (client -> sliced -> server)", &r.r[R_OPEN],
                            "sl_session_open(\"bench\")");
                print_stats("denied open (one sliced round trip)", &r.r[R_DENIED],
                            "sl_session_open(\"none\"): no route");
                print_stats("socketpair() (what the server makes)", &r.r[R_SOCKPAIR], NULL);
                printf("  %-42s %9.2f  (mean wall time per routed open, closes included)\n",
                       "open + close cycle", r.cycle_us);

                printf("\nping-pong, 1-byte round trip, us                     median       p90"
                       "       min      mean       n\n");
                print_stats("routed session, slice <-> slice", &r.r[R_ROUTED], NULL);
                print_stats("raw socketpair, same two slices", &r.r[R_RAW],
                            "interleaved with routed");
                print_stats("raw socketpair, plain processes (before)", &plain_before, "no sliced");
                print_stats("raw socketpair, plain processes (after)", &plain_after, "no sliced");
                char fnote[64];
                snprintf(fnote, sizeof fnote, "no sliced; %s%s", profile,
                         g_n_slice_progs > 1 ? " + strict-tight" : "");
                print_stats("raw socketpair, plain + the slices' filters", &plain_filtered, fnote);
        }

        printf("\nseccomp, ns per call (median of %d blocks of %ld calls, the filters taking "
               "turns)\n",
               FILTER_BLOCKS, calls / FILTER_BLOCKS > 0 ? calls / FILTER_BLOCKS : 1);
        printf("  %-14s", "filter");
        for (int cc = 0; cc < C__COUNT; cc++)
                printf(" %14s %7s", call_names[cc], "+ns");
        printf("  what\n");
        for (int f = 0; f < F__COUNT; f++) {
                printf("  %-14s", filters[f].name);
                for (int cc = 0; cc < C__COUNT; cc++)
                        printf(" %14.1f %+7.1f", fm[f][cc], fm[f][cc] - fm[F_NONE][cc]);
                printf("  %s\n", filters[f].what);
        }

        if (!only_filters) {
                printf("\nratios of medians:\n");
                printf("  open / denied open                   %7.2f\n",
                       r.r[R_OPEN].median / r.r[R_DENIED].median);
                printf("  ping-pong routed / raw (same slices) %7.3f\n",
                       r.r[R_ROUTED].median / r.r[R_RAW].median);
                printf("  ping-pong routed / plain processes   %7.3f  (plain: mean of before and "
                       "after)\n",
                       r.r[R_ROUTED].median / plain_med);
                printf("  ping-pong raw in slices / plain      %7.3f\n",
                       r.r[R_RAW].median / plain_med);
                printf("  ping-pong plain + filters / plain    %7.3f\n",
                       plain_filtered.median / plain_med);
                printf("  ping-pong routed / plain + filters   %7.3f  (what is left: namespaces, "
                       "cgroups)\n",
                       r.r[R_ROUTED].median / plain_filtered.median);

                for (int i = 0; i < r.n_notes; i++)
                        printf("sliced said: %s\n", r.notes[i]);
                if (r.more_notes)
                        printf("... and %d more error/warning lines\n", r.more_notes);
                if (r.exit_status)
                        printf("sliced exit status: %d\n", r.exit_status);
        }

        double worst_posix = 0, worst_strict = 0;
        int wp = 0, ws = 0;
        for (int cc = 0; cc < C__COUNT; cc++) {
                double p = fm[F_POSIX][cc] - fm[F_NONE][cc], q = fm[F_BOTH][cc] - fm[F_NONE][cc];
                if (p > worst_posix)
                        worst_posix = p, wp = cc;
                if (q > worst_strict)
                        worst_strict = q, ws = cc;
        }
        printf("\naims:\n");
        if (!only_filters) {
                double ratio_raw = r.r[R_ROUTED].median / r.r[R_RAW].median;
                double ratio_plain = r.r[R_ROUTED].median / plain_med;
                printf("  %-56s %7.1f us  %s\n", "open median <= 100 us:", r.r[R_OPEN].median,
                       r.r[R_OPEN].median <= 100 ? "met" : "NOT met");
                printf("  %-56s %7.3f     %s\n",
                       "ping-pong routed / raw, same slices, 1.00 +- 5 %:", ratio_raw,
                       within5(ratio_raw) ? "met" : "NOT met");
                printf("  %-56s %7.3f     %s\n",
                       "ping-pong routed / plain processes, 1.00 +- 5 %:", ratio_plain,
                       within5(ratio_plain) ? "met" : "NOT met");
        }
        char what[96];
        snprintf(what, sizeof what, "posix filter <= 30 ns per call (worst, %s):", call_names[wp]);
        printf("  %-56s %+7.1f ns  %s\n", what, worst_posix, worst_posix <= 30 ? "met" : "NOT met");
        snprintf(what, sizeof what, "strict, both stages <= 30 ns (worst, %s):", call_names[ws]);
        printf("  %-56s %+7.1f ns  %s\n", what, worst_strict,
               worst_strict <= 30 ? "met" : "NOT met");

        bu_remove_cgroups(g_cg_base);
        cleanup_dir();
        for (int i = 0; i < g_n_slice_progs; i++)
                sb_seccomp_prog_release(&g_slice_progs[i]);
        free(sliced);
        free(slice_bin);
        return r.exit_status ? 1 : 0;
}
