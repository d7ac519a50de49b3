/* bench-api: what sliced's REST API handling costs.
 *
 * Starts a real sliced on N slices (default 100, each /bin/sleep) and drives
 * `GET /v1/slices` (every slice as JSON) and `GET /v1/health` (a small
 * object) over its unix socket, keep-alive, from 1 and from -j (default 4)
 * concurrent connections; measures requests per second and per-request
 * latency (send of the request -> last byte of the body).
 *
 * Baseline, in the same run: a trivial libmicrohttpd server in a child
 * process, set up as sliced's API is (MHD_USE_EPOLL with no thread of its
 * own, MHD_ALLOW_SUSPEND_RESUME, a pre-bound unix socket, the same
 * connection limit and timeout, the same two calls of the handler per
 * request), its epoll fd watched by an outer epoll loop as sliced's libuv
 * loop watches it. It answers each URL with the exact bytes sliced sent for
 * it (fetched first: same size, same Content-Type), from a buffer it never
 * rebuilds. The difference is sliced's handling: building the JSON of every
 * slice (reading cgroup stats when they are older than a second), dumping
 * it, allocating and freeing.
 *
 * Targets alternate in blocks of -b requests (the order swapping from block
 * to block), so drift on the machine hits both alike. Also reported: server
 * CPU per request (the server's threads' schedstat) and the client's, and
 * how often the server ran on the client's CPU. Everything is pinned to one
 * CPU by default (-c; -1 pins nothing): unpinned, a cross-CPU wake-up per
 * request decides small requests' latency and varies from run to run.
 * Also, in this process: jansson alone dumping the same document (sliced's
 * flags and compact) and copying + freeing its tree.
 *
 * The client is raw sockets: one thread, poll() over the connections, a
 * fixed HTTP/1.1 request written with one write(), the response read until
 * Content-Length is reached. libcurl's per-request machinery (handle reset,
 * header callbacks, the multi handle's own bookkeeping) would add client
 * time to both sides alike and shrink the ratio this is meant to show.
 *
 * Every wait is bounded (-t). On an error, a timeout or SIGINT/SIGTERM it
 * SIGKILLs sliced (the slices go with it) and the baseline server, removes
 * sliced's cgroups and the temporary directory; both children also get
 * PR_SET_PDEATHSIG.
 *
 * Usage: bench-api [-n SLICES] [-r REQUESTS] [-w WARMUP] [-b BLOCK] [-j CONNS]
 *                  [-c CPU] [-t SECONDS] [-s SLICED] [-k]
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "lib/bench_util.h"

extern char **environ;

#define DEFAULT_N 100
/* 5000 requests per row: ~1-3 s per row for /v1/slices at 100 slices. */
#define DEFAULT_REQUESTS 5000
#define DEFAULT_WARMUP   200
#define DEFAULT_BLOCK    500
#define DEFAULT_CONNS    4
#define DEFAULT_TIMEOUT  60
/* Pinned by default: unpinned, whether the server runs on the client's CPU
 * or is woken on the other one decides small requests' latency here (a
 * cross-CPU wake-up costs tens of us on this VM; NOTES.md), and it changes
 * from run to run. */
#define DEFAULT_CPU 0
#define MAX_CONNS   32 /* sliced accepts 64 */
#define SLEEP_BIN   "/bin/sleep"
#define SLEEP_ARG   100000
/* As sliced's API (src/supervisor/api.c), for the baseline. */
#define MHD_CONNECTIONS_MAX 64

/* ---- small helpers ---- */

static uint64_t now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t self_cpu_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void *xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size);
        if (!p)
                fail("out of memory");
        return p;
}

/* Nearest rank on a sorted array: the smallest value with at least p of
 * the samples at or below it. */
static double pct(const double *sorted, int n, double p)
{
        if (n <= 0)
                return 0;
        int k = (int)(p * n + 0.999999) - 1;
        return sorted[k < 0 ? 0 : k >= n ? n - 1 : k];
}

/* ---- what must be undone on any exit ---- */

static char g_tmpdir[PATH_MAX];
static char g_log[PATH_MAX + 16]; /* sliced's stderr */
static int g_keep;
static volatile pid_t g_sliced = -1;
static volatile pid_t g_base = -1; /* the trivial MHD server */
static char g_cg_base[64];
static volatile sig_atomic_t g_interrupted;

static void kill_everything(void)
{
        pid_t p = g_base;
        if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                g_base = -1;
        }
        p = g_sliced;
        if (p > 0) {
                kill(p, SIGKILL);
                waitpid(p, NULL, 0);
                g_sliced = -1;
                /* the reapers die of their parent-death signal; give the
                 * kernel a moment to empty the cgroups */
                for (int i = 0; i < 20; i++) {
                        bu_sleep_ms(100);
                        if (!bu_remove_cgroups(g_cg_base))
                                break;
                }
        }
}

static void cleanup_dir(void)
{
        if (!g_tmpdir[0])
                return;
        if (g_keep)
                fprintf(stderr, "bench-api: kept %s\n", g_tmpdir);
        else
                nftw(g_tmpdir, bu_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        g_tmpdir[0] = '\0';
}

/* The last lines of sliced's log, on stderr. */
static void show_log_tail(int count)
{
        if (!g_log[0])
                return;
        FILE *f = fopen(g_log, "re");
        if (!f)
                return;
        char lines[32][512];
        int n = 0;
        if (count > 32)
                count = 32;
        while (fgets(lines[n % count], sizeof lines[0], f))
                n++;
        fclose(f);
        if (n)
                fprintf(stderr, "bench-api: sliced's last log lines:\n");
        for (int i = n > count ? n - count : 0; i < n; i++)
                fprintf(stderr, "  %s", lines[i % count]);
}

static void fail(const char *fmt, ...)
{
        va_list ap;
        fputs("bench-api: ", stderr);
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

/* Kill what we started at once; the main flow notices the flag at its next
 * wait and cleans up. A second signal kills the bench outright. */
static void on_fatal_signal(int sig)
{
        pid_t p = g_sliced;
        if (p > 0)
                kill(p, SIGKILL);
        p = g_base;
        if (p > 0)
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
        FILE *f = fopen(path, "w");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0)
                fail("write %s: %s", path, strerror(errno));
}

/* CPU time of every thread of pid, ns (schedstat: on-CPU time). */
static uint64_t proc_cpu_ns(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
        DIR *d = opendir(path);
        if (!d)
                return 0;
        uint64_t sum = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                char p[PATH_MAX];
                snprintf(p, sizeof p, "/proc/%d/task/%.32s/schedstat", (int)pid, e->d_name);
                FILE *f = fopen(p, "re");
                unsigned long long ns;
                if (f && fscanf(f, "%llu", &ns) == 1)
                        sum += ns;
                if (f)
                        fclose(f);
        }
        closedir(d);
        return sum;
}

/* The CPU pid last ran on (field 39 of /proc/PID/stat), or -1. */
static int proc_last_cpu(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return -1;
        buf[n] = '\0';
        char *p = strrchr(buf, ')'); /* comm may hold spaces */
        if (!p)
                return -1;
        p++;
        for (int field = 3; field <= 39; field++) {
                while (*p == ' ')
                        p++;
                if (field == 39)
                        return atoi(p);
                p = strchr(p, ' ');
                if (!p)
                        return -1;
        }
        return -1;
}

/* ---- the client: HTTP/1.1 over a unix socket, keep-alive ---- */

struct conn {
        int fd;
        int busy;
        uint64_t t0; /* request sent, ns */
        char *buf;   /* the response so far */
        size_t cap, have;
        size_t hdr_len; /* 0 until the blank line */
        size_t need;    /* hdr_len + Content-Length */
        int status;
};

static int conn_open(struct conn *c, const char *sock, char *err, size_t errlen)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(sock) >= sizeof sa.sun_path) {
                snprintf(err, errlen, "%s: path too long for a unix socket", sock);
                return -1;
        }
        strcpy(sa.sun_path, sock);
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0) {
                snprintf(err, errlen, "socket: %s", strerror(errno));
                return -1;
        }
        if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                snprintf(err, errlen, "connect %s: %s", sock, strerror(errno));
                close(c->fd);
                c->fd = -1;
                return -1;
        }
        fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
        if (!c->buf) {
                c->cap = 256 * 1024;
                c->buf = xcalloc(1, c->cap);
        }
        c->busy = 0;
        return 0;
}

static void conn_close(struct conn *c)
{
        if (c->fd >= 0)
                close(c->fd);
        c->fd = -1;
        free(c->buf);
        c->buf = NULL;
        c->cap = 0;
}

static int conn_send(struct conn *c, const char *req, size_t len, char *err, size_t errlen)
{
        c->have = c->hdr_len = c->need = 0;
        c->status = 0;
        c->t0 = now_ns();
        size_t off = 0;
        while (off < len) { /* a few dozen bytes: one write in practice */
                ssize_t w = write(c->fd, req + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0 && errno == EAGAIN) {
                        struct pollfd p = {.fd = c->fd, .events = POLLOUT};
                        poll(&p, 1, 1000);
                        continue;
                }
                if (w <= 0) {
                        snprintf(err, errlen, "write request: %s", strerror(errno));
                        return -1;
                }
                off += (size_t)w;
        }
        c->busy = 1;
        return 0;
}

/* Read what is there. 1: the response is complete; 0: more to come; -1:
 * error (err says what). */
static int conn_progress(struct conn *c, char *err, size_t errlen)
{
        for (;;) {
                if (c->have == c->cap) {
                        size_t cap = c->cap * 2;
                        char *b = realloc(c->buf, cap);
                        if (!b)
                                fail("out of memory");
                        c->buf = b;
                        c->cap = cap;
                }
                ssize_t got = read(c->fd, c->buf + c->have, c->cap - c->have);
                if (got < 0 && errno == EINTR)
                        continue;
                if (got < 0 && errno == EAGAIN)
                        return 0;
                if (got < 0) {
                        snprintf(err, errlen, "read response: %s", strerror(errno));
                        return -1;
                }
                if (got == 0) {
                        snprintf(err, errlen, "the server closed the connection (%zu bytes read)",
                                 c->have);
                        return -1;
                }
                c->have += (size_t)got;
                if (!c->hdr_len) {
                        char *e = memmem(c->buf, c->have, "\r\n\r\n", 4);
                        if (!e)
                                continue;
                        c->hdr_len = (size_t)(e - c->buf) + 4;
                        if (sscanf(c->buf, "HTTP/1.%*d %d", &c->status) != 1) {
                                snprintf(err, errlen, "not an HTTP response: %.40s", c->buf);
                                return -1;
                        }
                        long long cl = -1;
                        for (const char *p = c->buf; p && p < e;
                             p = memchr(p, '\n', (size_t)(e - p))) {
                                if (*p == '\n')
                                        p++;
                                if (!strncasecmp(p, "Content-Length:", 15))
                                        cl = strtoll(p + 15, NULL, 10);
                        }
                        if (cl < 0) {
                                snprintf(err, errlen, "response without Content-Length");
                                return -1;
                        }
                        c->need = c->hdr_len + (size_t)cl;
                }
                if (c->have >= c->need) {
                        if (c->have > c->need) {
                                snprintf(err, errlen, "%zu bytes past Content-Length",
                                         c->have - c->need);
                                return -1;
                        }
                        c->busy = 0;
                        return 1;
                }
        }
}

/* One request on c, waited for until deadline (ms). */
static int conn_get(struct conn *c, const char *req, double deadline, char *err, size_t errlen)
{
        if (conn_send(c, req, strlen(req), err, errlen) < 0)
                return -1;
        for (;;) {
                int r = conn_progress(c, err, errlen);
                if (r)
                        return r < 0 ? -1 : 0;
                double left = deadline - bu_now_ms();
                if (left <= 0) {
                        snprintf(err, errlen, "no complete answer in time");
                        return -1;
                }
                struct pollfd p = {.fd = c->fd, .events = POLLIN};
                poll(&p, 1, (int)left + 1);
        }
}

/* ---- what is measured ---- */

enum { T_SLICED, T_BASE, T__COUNT };
static const char *const t_names[T__COUNT] = {"sliced", "trivial MHD"};

struct sample_set {
        double *lat_us; /* per request */
        int n;
        double wall_s;          /* sum of the blocks' wall times */
        uint64_t server_cpu_ns; /* the server's CPU during the blocks */
        uint64_t client_cpu_ns;
        size_t cl_min, cl_max; /* Content-Length seen */
        int bad_status;
        int blocks, same_cpu; /* blocks ending with server and client on one CPU */
};

/* count requests spread over the connections, each with one in flight;
 * latencies into s (when s). */
static void run_block(struct conn *cs, int nc, const char *req, int count, pid_t server,
                      struct sample_set *s, double timeout_ms)
{
        size_t rlen = strlen(req);
        char err[256];
        struct pollfd pfd[MAX_CONNS];
        int issued = 0, done = 0;
        uint64_t cpu0 = s ? proc_cpu_ns(server) : 0, self0 = self_cpu_ns();
        uint64_t t0 = now_ns();
        double deadline = bu_now_ms() + timeout_ms;
        for (int i = 0; i < nc && issued < count; i++, issued++)
                if (conn_send(&cs[i], req, rlen, err, sizeof err) < 0)
                        fail("%s", err);
        while (done < count) {
                int np = 0;
                for (int i = 0; i < nc; i++)
                        if (cs[i].busy)
                                pfd[np++] = (struct pollfd){.fd = cs[i].fd, .events = POLLIN};
                double left = deadline - bu_now_ms();
                if (left <= 0)
                        fail("%d of %d requests answered after %.0f s", done, count,
                             timeout_ms / 1e3);
                int r = poll(pfd, (nfds_t)np, (int)left + 1);
                if (r < 0 && errno != EINTR)
                        fail("poll: %s", strerror(errno));
                check_interrupted();
                if (r <= 0)
                        continue;
                for (int k = 0; k < np; k++) {
                        if (!pfd[k].revents)
                                continue;
                        struct conn *c = NULL;
                        for (int i = 0; i < nc; i++)
                                if (cs[i].fd == pfd[k].fd)
                                        c = &cs[i];
                        int st = conn_progress(c, err, sizeof err);
                        if (st < 0)
                                fail("%s", err);
                        if (st == 0)
                                continue;
                        uint64_t t = now_ns();
                        done++;
                        if (s) {
                                if (c->status != 200)
                                        s->bad_status++;
                                size_t cl = c->need - c->hdr_len;
                                if (!s->n || cl < s->cl_min)
                                        s->cl_min = cl;
                                if (cl > s->cl_max)
                                        s->cl_max = cl;
                                s->lat_us[s->n++] = (double)(t - c->t0) / 1e3;
                        }
                        if (issued < count) {
                                if (conn_send(c, req, rlen, err, sizeof err) < 0)
                                        fail("%s", err);
                                issued++;
                        }
                }
        }
        if (s) {
                s->wall_s += (double)(now_ns() - t0) / 1e9;
                s->server_cpu_ns += proc_cpu_ns(server) - cpu0;
                s->client_cpu_ns += self_cpu_ns() - self0;
                s->blocks++;
                s->same_cpu += proc_last_cpu(server) == sched_getcpu();
        }
}

/* ---- the baseline server (a child process) ---- */

struct base_body {
        const char *url;
        const char *body;
        size_t len;
};
static struct base_body g_bodies[2];

static enum MHD_Result base_request(void *cls, struct MHD_Connection *c, const char *url,
                                    const char *method, const char *version, const char *upload,
                                    size_t *upload_size, void **con_cls)
{
        (void)cls;
        (void)method;
        (void)version;
        (void)upload;
        /* sliced answers on the second call (the first sees the headers only) */
        if (!*con_cls) {
                *con_cls = c;
                return MHD_YES;
        }
        *upload_size = 0;
        static const char nothing[] = "{\"error\": \"no such endpoint\"}\n";
        const char *body = nothing;
        size_t len = sizeof nothing - 1;
        unsigned status = 404;
        for (size_t i = 0; i < sizeof g_bodies / sizeof g_bodies[0]; i++)
                if (g_bodies[i].url && !strcmp(url, g_bodies[i].url)) {
                        body = g_bodies[i].body;
                        len = g_bodies[i].len;
                        status = 200;
                }
        struct MHD_Response *r =
            MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static void base_done(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
        (void)cls;
        (void)c;
        (void)code;
        *con_cls = NULL;
}

/* The child: MHD in external epoll mode, its epoll fd in an outer epoll
 * set (as sliced's uv_poll puts it in libuv's), MHD_run on readiness and on
 * MHD's timeout. Runs until killed. */
static void base_serve(int listen_fd)
{
        struct MHD_Daemon *d = MHD_start_daemon(
            MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
            base_request, NULL, MHD_OPTION_LISTEN_SOCKET, listen_fd, MHD_OPTION_NOTIFY_COMPLETED,
            base_done, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)MHD_CONNECTIONS_MAX,
            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_END);
        if (!d) {
                fprintf(stderr, "bench-api: baseline: MHD_start_daemon failed\n");
                _exit(3);
        }
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_EPOLL_FD);
        int ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = di->epoll_fd};
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, di->epoll_fd, &ev) < 0) {
                fprintf(stderr, "bench-api: baseline: epoll: %s\n", strerror(errno));
                _exit(3);
        }
        for (;;) {
                MHD_run(d);
                MHD_UNSIGNED_LONG_LONG t;
                int timeout = -1;
                if (MHD_get_timeout(d, &t) == MHD_YES)
                        timeout = t > INT_MAX ? INT_MAX : (int)t;
                struct epoll_event out[4];
                if (epoll_wait(ep, out, 4, timeout) < 0 && errno != EINTR) {
                        fprintf(stderr, "bench-api: baseline: epoll_wait: %s\n", strerror(errno));
                        _exit(3);
                }
        }
}

static int bind_unix(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path)
                fail("%s: path too long for a unix socket", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            listen(fd, MHD_CONNECTIONS_MAX) < 0)
                fail("baseline socket %s: %s", path, strerror(errno));
        return fd;
}

static void base_start(const char *sock)
{
        int fd = bind_unix(sock);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                prctl(PR_SET_NAME, "bench-api-mhd");
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                base_serve(fd);
        }
        close(fd);
        g_base = pid;
}

/* ---- sliced ---- */

struct sliced_run {
        char dir[PATH_MAX], topo[PATH_MAX + 16], conf[PATH_MAX + 16];
        char state[PATH_MAX + 16], run[PATH_MAX + 16], report[PATH_MAX + 32], sock[PATH_MAX + 32];
        pid_t pid;
};

static void sliced_spawn(struct sliced_run *sr, const char *sliced)
{
        char *argv[] = {(char *)sliced, "-c",           sr->conf,  "-t",
                        sr->topo,       "--state-dir",  sr->state, "--runtime-dir",
                        sr->run,        "--log-target", "stderr",  NULL};
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                fail("fork: %s", strerror(errno));
        if (pid == 0) {
                /* sliced dies with the bench, and its slices with it */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
                int log = open(g_log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (devnull < 0 || log < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
                    dup2(log, 2) < 0)
                        _exit(127);
                signal(SIGPIPE, SIG_DFL);
                signal(SIGINT, SIG_DFL);
                signal(SIGTERM, SIG_DFL);
                signal(SIGHUP, SIG_DFL);
                execve(sliced, argv, environ);
                _exit(127);
        }
        sr->pid = pid;
        g_sliced = pid;
}

/* Ready slices in state.json, or -1 if it is not there (yet). */
static int ready_in_report(const char *path)
{
        json_t *root = json_load_file(path, 0, NULL);
        if (!root)
                return -1;
        json_t *arr = json_object_get(root, "slices");
        int n = 0;
        size_t i;
        json_t *s;
        json_array_foreach(arr, i, s)
        {
                const char *st = json_string_value(json_object_get(s, "state"));
                n += st && !strcmp(st, "ready");
        }
        json_decref(root);
        return n;
}

/* The first line of sliced's log holding what, or "" (into out). */
static void log_find(const char *what, char *out, size_t len)
{
        out[0] = '\0';
        FILE *f = fopen(g_log, "re");
        if (!f)
                return;
        char line[512];
        while (fgets(line, sizeof line, f))
                if (strstr(line, what)) {
                        line[strcspn(line, "\n")] = '\0';
                        snprintf(out, len, "%s", line);
                        break;
                }
        fclose(f);
}

/* Until GET /v1/health answers 200 and state.json lists n ready slices. */
static void sliced_wait_ready(struct sliced_run *sr, int n, double timeout_ms)
{
        double t0 = bu_now_ms(), deadline = t0 + timeout_ms;
        int health = 0, ready = -1;
        char err[256] = "";
        for (;;) {
                check_interrupted();
                int st;
                if (waitpid(sr->pid, &st, WNOHANG) == sr->pid) {
                        g_sliced = -1;
                        show_log_tail(15);
                        fail("sliced exited (%s %d) before it was ready",
                             WIFEXITED(st) ? "status" : "signal",
                             WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                }
                if (!health) {
                        struct conn c = {.fd = -1};
                        if (conn_open(&c, sr->sock, err, sizeof err) == 0 &&
                            conn_get(&c, "GET /v1/health HTTP/1.1\r\nHost: sliced\r\n\r\n",
                                     bu_now_ms() + 2000, err, sizeof err) == 0)
                                health = c.status == 200;
                        conn_close(&c);
                }
                if (health) {
                        ready = ready_in_report(sr->report);
                        if (ready == n)
                                break;
                }
                char failed[512];
                log_find("spawn failed", failed, sizeof failed);
                if (failed[0]) /* the figures would be of another topology */
                        fail("a slice failed to start:\n  %s%s", failed,
                             strstr(failed, "Too many open files")
                                 ? "\n(too many slices for sliced's fd limit: see bench-scale's "
                                   "-f in bench/README.md)"
                                 : "");
                if (bu_now_ms() >= deadline) {
                        show_log_tail(15);
                        if (!health)
                                fail("GET /v1/health not answered after %.0f s (%s)",
                                     timeout_ms / 1e3, err);
                        fail("%d of %d slices ready in %s after %.0f s", ready < 0 ? 0 : ready, n,
                             sr->report, timeout_ms / 1e3);
                }
                bu_sleep_ms(20);
        }
        printf("sliced ready: health answered and %d slices ready in state.json after %.0f ms\n", n,
               bu_now_ms() - t0);
        /* past the state report's debounce and the first stats reads */
        bu_sleep_ms(300);
}

/* SIGTERM, bounded wait; returns the exit status (128+N for a signal), -1
 * if it had to be killed. */
static int sliced_stop(struct sliced_run *sr, double timeout_ms)
{
        if (kill(sr->pid, SIGTERM) < 0)
                fail("kill sliced: %s", strerror(errno));
        double deadline = bu_now_ms() + timeout_ms;
        for (;;) {
                int st;
                pid_t r = waitpid(sr->pid, &st, WNOHANG);
                if (r == sr->pid) {
                        g_sliced = -1;
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                }
                if (bu_now_ms() >= deadline) {
                        show_log_tail(10);
                        fprintf(stderr, "bench-api: sliced still running %.0f s after SIGTERM\n",
                                timeout_ms / 1e3);
                        kill_everything();
                        return -1;
                }
                bu_sleep_ms(5);
        }
}

/* ---- jansson alone ---- */

#define JANSSON_REPS   200
#define JANSSON_WARMUP 20

struct jansson_fig {
        double dump_sliced_us;  /* JSON_INDENT(2) | JSON_SORT_KEYS, as send_json */
        double dump_compact_us; /* JSON_COMPACT, insertion order */
        double copy_us;         /* json_deep_copy + json_decref: a tree built and freed */
        size_t sliced_len, compact_len;
};

static double median_of(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, bu_cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void jansson_alone(const char *body, struct jansson_fig *f)
{
        json_error_t jerr;
        json_t *doc = json_loads(body, 0, &jerr);
        if (!doc)
                fail("GET /v1/slices: not JSON: %s", jerr.text);
        static double t[JANSSON_REPS];
        const size_t flags[2] = {JSON_INDENT(2) | JSON_SORT_KEYS, JSON_COMPACT};
        for (int v = 0; v < 3; v++) {
                for (int i = 0; i < JANSSON_WARMUP + JANSSON_REPS; i++) {
                        uint64_t t0 = now_ns();
                        if (v < 2) {
                                char *text = json_dumps(doc, flags[v]);
                                if (!text)
                                        fail("json_dumps failed");
                                if (i == 0)
                                        *(v ? &f->compact_len : &f->sliced_len) = strlen(text) + 1;
                                free(text);
                        } else {
                                json_t *copy = json_deep_copy(doc);
                                if (!copy)
                                        fail("json_deep_copy failed");
                                json_decref(copy);
                        }
                        if (i >= JANSSON_WARMUP)
                                t[i - JANSSON_WARMUP] = (double)(now_ns() - t0) / 1e3;
                }
                double m = median_of(t, JANSSON_REPS);
                *(v == 0 ? &f->dump_sliced_us : v == 1 ? &f->dump_compact_us : &f->copy_us) = m;
        }
        json_decref(doc);
}

/* ---- the run ---- */

struct endpoint {
        const char *name, *url;
        char req[128];
        char *body; /* as sliced sent it first */
        size_t len, hdr_len;
};

static void usage(FILE *f)
{
        fprintf(f,
                "Usage: bench-api [-n SLICES] [-r REQUESTS] [-w WARMUP] [-b BLOCK] [-j CONNS]\n"
                "                 [-c CPU] [-t SECONDS] [-s SLICED] [-k]\n"
                "Requests per second and latency of GET /v1/slices and GET /v1/health on a\n"
                "real sliced's API socket, from 1 and from CONNS keep-alive connections,\n"
                "against a trivial libmicrohttpd server answering the same bytes.\n"
                "  -n SLICES    slices in the topology (default %d, each %s)\n"
                "  -r REQUESTS  timed requests per server, endpoint and concurrency\n"
                "               (default %d)\n"
                "  -w WARMUP    untimed requests first (default %d)\n"
                "  -b BLOCK     requests per block; the servers alternate block by block\n"
                "               (default %d)\n"
                "  -j CONNS     the second concurrency (default %d; at most %d)\n"
                "  -c CPU       pin the bench, and so sliced, the slices and the baseline\n"
                "               server, to CPU (default %d; -1: pin nothing)\n"
                "  -t SECONDS   bound on every wait (default %d)\n"
                "  -s PATH      sliced to measure (default: $SLICED, the build tree next\n"
                "               to this binary, or PATH)\n"
                "  -k           keep the temporary directory (topology, sliced.conf,\n"
                "               sliced.log, both responses)\n",
                DEFAULT_N, SLEEP_BIN, DEFAULT_REQUESTS, DEFAULT_WARMUP, DEFAULT_BLOCK,
                DEFAULT_CONNS, MAX_CONNS, DEFAULT_CPU, DEFAULT_TIMEOUT);
}

static void print_row(const char *target, int conns, struct sample_set *s)
{
        qsort(s->lat_us, (size_t)s->n, sizeof *s->lat_us, bu_cmp_double);
        double mean = 0;
        for (int i = 0; i < s->n; i++)
                mean += s->lat_us[i];
        mean /= s->n ? s->n : 1;
        char same[16];
        snprintf(same, sizeof same, "%d/%d", s->same_cpu, s->blocks);
        printf("  %-12s %5d %9.0f %8.1f %8.1f %8.1f %8.1f %9.1f %9.1f %9.1f %8s", target, conns,
               s->n / s->wall_s, pct(s->lat_us, s->n, 0.5), pct(s->lat_us, s->n, 0.9),
               pct(s->lat_us, s->n, 0.99), s->lat_us[s->n - 1], mean,
               (double)s->server_cpu_ns / 1e3 / s->n, (double)s->client_cpu_ns / 1e3 / s->n, same);
        if (s->cl_min != s->cl_max)
                printf("  (bodies %zu-%zu B)", s->cl_min, s->cl_max);
        if (s->bad_status)
                printf("  (%d not 200)", s->bad_status);
        putchar('\n');
}

int main(int argc, char **argv)
{
        int n = DEFAULT_N, requests = DEFAULT_REQUESTS, warmup = DEFAULT_WARMUP,
            block = DEFAULT_BLOCK, conns = DEFAULT_CONNS, cpu = DEFAULT_CPU,
            timeout_s = DEFAULT_TIMEOUT;
        const char *sliced_opt = NULL;
        int c;
        while ((c = getopt(argc, argv, "n:r:w:b:j:c:t:s:kh")) != -1) {
                switch (c) {
                case 'n': n = atoi(optarg); break;
                case 'r': requests = atoi(optarg); break;
                case 'w': warmup = atoi(optarg); break;
                case 'b': block = atoi(optarg); break;
                case 'j': conns = atoi(optarg); break;
                case 'c': cpu = atoi(optarg); break;
                case 't': timeout_s = atoi(optarg); break;
                case 's': sliced_opt = optarg; break;
                case 'k': g_keep = 1; break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
        }
        if (optind < argc || n < 1 || requests < 1 || warmup < 0 || block < 1 || conns < 1 ||
            conns > MAX_CONNS || timeout_s < 1) {
                usage(stderr);
                return 2;
        }
        if (block > requests)
                block = requests;
        double timeout_ms = timeout_s * 1e3;
        if (cpu >= 0) {
                cpu_set_t set;
                CPU_ZERO(&set);
                CPU_SET(cpu, &set);
                if (sched_setaffinity(0, sizeof set, &set) < 0) {
                        perror("bench-api: sched_setaffinity");
                        return 2;
                }
        }
        char *sliced = bu_find_prog(sliced_opt, "SLICED", "../src/supervisor/sliced", "sliced");
        if (!sliced) {
                fprintf(stderr, "bench-api: sliced not found (use -s or $SLICED)\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        struct sigaction sa = {.sa_handler = on_fatal_signal};
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        signal(SIGPIPE, SIG_IGN);

        const char *tmp = getenv("TMPDIR");
        snprintf(g_tmpdir, sizeof g_tmpdir, "%s/bench-api.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(g_tmpdir)) {
                fprintf(stderr, "bench-api: mkdtemp %s: %s\n", g_tmpdir, strerror(errno));
                return 2;
        }
        chmod(g_tmpdir, 0755);

        struct utsname un;
        uname(&un);
        printf("bench-api: %d slices (%s %d); %s, uid %u; kernel %s; %ld CPUs; ", n, SLEEP_BIN,
               SLEEP_ARG, geteuid() == 0 ? "root" : "unprivileged", (unsigned)geteuid(), un.release,
               sysconf(_SC_NPROCESSORS_ONLN));
        if (cpu >= 0)
                printf("everything pinned to CPU %d\n", cpu);
        else
                printf("not pinned\n");
        printf("sliced: %s\n", sliced);
        char load[64] = "";
        FILE *lf = fopen("/proc/loadavg", "re");
        if (lf) {
                if (fgets(load, sizeof load, lf))
                        load[strcspn(load, "\n")] = '\0';
                fclose(lf);
        }
        printf("load average at start: %s\n", load);

        /* sliced: a topology, a sliced.conf with a cgroup base of its own */
        static struct sliced_run sr;
        snprintf(sr.dir, sizeof sr.dir, "%s", g_tmpdir);
        snprintf(sr.topo, sizeof sr.topo, "%s/topology.yaml", sr.dir);
        snprintf(sr.conf, sizeof sr.conf, "%s/sliced.conf", sr.dir);
        snprintf(sr.state, sizeof sr.state, "%s/state", sr.dir);
        snprintf(sr.run, sizeof sr.run, "%s/run", sr.dir);
        snprintf(sr.report, sizeof sr.report, "%s/state.json", sr.run);
        snprintf(sr.sock, sizeof sr.sock, "%s/api.sock", sr.run);
        snprintf(g_log, sizeof g_log, "%s/sliced.log", sr.dir);
        snprintf(g_cg_base, sizeof g_cg_base, "bench-api-%d", (int)getpid());
        char conf[256];
        snprintf(conf, sizeof conf,
                 "# bench-api: sliced's defaults, but a cgroup base of its own\n"
                 "cgroup_base: %s\nlog_target: stderr\n",
                 g_cg_base);
        write_file(sr.conf, conf);
        FILE *tf = fopen(sr.topo, "w");
        if (!tf)
                fail("write %s: %s", sr.topo, strerror(errno));
        fprintf(tf, "# bench-api: %d slices, one %s each\nslices:\n", n, SLEEP_BIN);
        for (int i = 0; i < n; i++)
                fprintf(tf, "  - name: s%d\n    exec: [%s, \"%d\"]\n", i, SLEEP_BIN, SLEEP_ARG);
        if (ferror(tf) | (fclose(tf) != 0))
                fail("write %s: %s", sr.topo, strerror(errno));

        sliced_spawn(&sr, sliced);
        sliced_wait_ready(&sr, n, timeout_ms);

        /* what sliced answers, once: the baseline serves the same bytes */
        struct endpoint eps[2] = {{.name = "GET /v1/slices", .url = "/v1/slices"},
                                  {.name = "GET /v1/health", .url = "/v1/health"}};
        char err[256];
        for (int e = 0; e < 2; e++) {
                snprintf(eps[e].req, sizeof eps[e].req, "GET %s HTTP/1.1\r\nHost: sliced\r\n\r\n",
                         eps[e].url);
                struct conn cn = {.fd = -1};
                if (conn_open(&cn, sr.sock, err, sizeof err) < 0 ||
                    conn_get(&cn, eps[e].req, bu_now_ms() + timeout_ms, err, sizeof err) < 0)
                        fail("%s from sliced: %s", eps[e].name, err);
                if (cn.status != 200)
                        fail("%s from sliced: status %d: %.*s", eps[e].name, cn.status,
                             (int)(cn.have - cn.hdr_len), cn.buf + cn.hdr_len);
                eps[e].hdr_len = cn.hdr_len;
                eps[e].len = cn.need - cn.hdr_len;
                eps[e].body = xcalloc(1, eps[e].len + 1);
                memcpy(eps[e].body, cn.buf + cn.hdr_len, eps[e].len);
                conn_close(&cn);
                if (g_keep) {
                        char p[PATH_MAX + 32];
                        snprintf(p, sizeof p, "%s/response-%s.json", g_tmpdir,
                                 strrchr(eps[e].url, '/') + 1);
                        write_file(p, eps[e].body);
                }
                g_bodies[e] = (struct base_body){eps[e].url, eps[e].body, eps[e].len};
        }
        /* sanity: the list has every slice */
        json_t *list = json_loads(eps[0].body, 0, NULL);
        size_t listed = json_array_size(json_object_get(list, "slices"));
        json_decref(list);
        if (listed != (size_t)n)
                fail("GET /v1/slices lists %zu slices, expected %d", listed, n);

        /* jansson alone on the same document, in this process: how much of
         * sliced's time its dump flags and the tree itself explain */
        struct jansson_fig jf;
        jansson_alone(eps[0].body, &jf);

        char base_sock[PATH_MAX + 32];
        snprintf(base_sock, sizeof base_sock, "%s/base.sock", g_tmpdir);
        base_start(base_sock);
        {
                struct conn cn = {.fd = -1};
                if (conn_open(&cn, base_sock, err, sizeof err) < 0 ||
                    conn_get(&cn, eps[1].req, bu_now_ms() + timeout_ms, err, sizeof err) < 0)
                        fail("baseline server: %s", err);
                if (cn.status != 200 || cn.hdr_len != eps[1].hdr_len ||
                    cn.need - cn.hdr_len != eps[1].len)
                        printf("note: baseline's health answer differs: status %d, header %zu B "
                               "(sliced %zu), body %zu B (sliced %zu)\n",
                               cn.status, cn.hdr_len, eps[1].hdr_len, cn.need - cn.hdr_len,
                               eps[1].len);
                conn_close(&cn);
        }
        pid_t servers[T__COUNT] = {sr.pid, g_base};
        const char *socks[T__COUNT] = {sr.sock, base_sock};
        printf("sliced pid %d, trivial MHD pid %d\n", (int)sr.pid, (int)g_base);
        for (int e = 0; e < 2; e++)
                printf("%s: body %zu B + header %zu B\n", eps[e].name, eps[e].len, eps[e].hdr_len);
        printf("%d requests per row (+%d warm-up), servers alternating in blocks of %d\n", requests,
               warmup, block);

        /* measure: per endpoint, per concurrency, both servers in turns */
        int levels[2] = {1, conns};
        int n_levels = conns == 1 ? 1 : 2;
        static struct sample_set res[2][2][T__COUNT];
        for (int e = 0; e < 2; e++)
                for (int l = 0; l < n_levels; l++) {
                        int nc = levels[l];
                        struct conn cs[T__COUNT][MAX_CONNS];
                        for (int t = 0; t < T__COUNT; t++) {
                                for (int i = 0; i < nc; i++) {
                                        cs[t][i] = (struct conn){.fd = -1};
                                        if (conn_open(&cs[t][i], socks[t], err, sizeof err) < 0)
                                                fail("%s: %s", t_names[t], err);
                                }
                                if (warmup)
                                        run_block(cs[t], nc, eps[e].req, warmup, servers[t], NULL,
                                                  timeout_ms);
                                res[e][l][t].lat_us = xcalloc((size_t)requests, sizeof(double));
                        }
                        for (int b = 0, left = requests; left > 0; b++) {
                                int count = left < block ? left : block;
                                for (int k = 0; k < T__COUNT; k++) {
                                        int t = (b + k) % T__COUNT;
                                        run_block(cs[t], nc, eps[e].req, count, servers[t],
                                                  &res[e][l][t], timeout_ms);
                                }
                                left -= count;
                        }
                        for (int t = 0; t < T__COUNT; t++)
                                for (int i = 0; i < nc; i++)
                                        conn_close(&cs[t][i]);
                }

        for (int e = 0; e < 2; e++) {
                printf("\n%s (body %zu B): latency in us, request sent -> last byte read\n",
                       eps[e].name, eps[e].len);
                printf("  %-12s %5s %9s %8s %8s %8s %8s %9s %9s %9s %8s\n", "server", "conns",
                       "req/s", "p50", "p90", "p99", "max", "mean", "srv us/r", "cli us/r",
                       "same CPU");
                for (int l = 0; l < n_levels; l++)
                        for (int t = 0; t < T__COUNT; t++)
                                print_row(t_names[t], levels[l], &res[e][l][t]);
        }
        printf("\nsliced against the trivial server (same bytes, same MHD mode):\n");
        printf("  %-16s %5s %14s %16s %18s\n", "", "conns", "req/s ratio", "+wall us/req",
               "+server CPU us/req");
        for (int e = 0; e < 2; e++)
                for (int l = 0; l < n_levels; l++) {
                        struct sample_set *s = &res[e][l][T_SLICED], *b = &res[e][l][T_BASE];
                        double rs = s->n / s->wall_s, rb = b->n / b->wall_s;
                        printf("  %-16s %5d %14.3f %16.1f %18.1f\n", eps[e].name, levels[l],
                               rs / rb, 1e6 / rs - 1e6 / rb,
                               (double)s->server_cpu_ns / 1e3 / s->n -
                                   (double)b->server_cpu_ns / 1e3 / b->n);
                }
        printf("  (ratio: sliced's req/s over the trivial server's; +wall: the difference of "
               "1/rate)\n");
        printf("  (same CPU: blocks that ended with the server last run on the client's CPU;\n"
               "   a request that wakes the other CPU costs tens of us more here)\n");

        printf("\njansson alone on sliced's /v1/slices document, in this process, median of %d:\n",
               JANSSON_REPS);
        printf("  %-52s %8.1f us  (%zu B, +1 for the newline)\n",
               "json_dumps, JSON_INDENT(2) | JSON_SORT_KEYS (sliced's)", jf.dump_sliced_us,
               jf.sliced_len - 1);
        printf("  %-52s %8.1f us  (%zu B)\n", "json_dumps, JSON_COMPACT (insertion order)",
               jf.dump_compact_us, jf.compact_len - 1);
        printf("  %-52s %8.1f us\n", "json_deep_copy + json_decref (a tree built and freed)",
               jf.copy_us);

        int bad = 0;
        for (int e = 0; e < 2; e++)
                for (int l = 0; l < n_levels; l++)
                        for (int t = 0; t < T__COUNT; t++)
                                bad |= res[e][l][t].bad_status != 0;

        pid_t bp = g_base;
        if (bp > 0) {
                kill(bp, SIGKILL);
                waitpid(bp, NULL, 0);
                g_base = -1;
        }
        int st = sliced_stop(&sr, timeout_ms);
        if (st != 0) {
                printf("sliced exit status after SIGTERM: %d\n", st);
                bad = 1;
        }
        if (bu_remove_cgroups(g_cg_base))
                printf("note: removed cgroup directories sliced left under %s\n", g_cg_base);
        cleanup_dir();
        for (int e = 0; e < 2; e++) {
                free(eps[e].body);
                for (int l = 0; l < n_levels; l++)
                        for (int t = 0; t < T__COUNT; t++)
                                free(res[e][l][t].lat_us);
        }
        free(sliced);
        return bad ? 1 : 0;
}
