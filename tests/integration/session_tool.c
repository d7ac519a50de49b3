/* session-tool — one native slice for the capability-session tests
 * (tests/integration/test_sessions_*.sh). It links libslice statically, so
 * under `profile: strict` it runs main() under strict-tight: after start it
 * only does what libslice and fd I/O need (no open, socket or exec).
 *
 *   serve SERVICE [--crash-after N] [--refuse-label SUFFIX] [--wait-signal]
 *        announce SERVICE (with --wait-signal: only after SIGUSR1) and echo:
 *        every line a client sends comes back as "LABEL: line". Prints
 *        "announced SERVICE", "served LABEL" per session (and "donated N"
 *        when the client gave memory), "ended LABEL: REASON" when the
 *        supervisor ends one. --crash-after N: abort() once the N-th session
 *        has had its first line echoed. --refuse-label: refuse clients whose
 *        label ends in SUFFIX ("label LABEL refused").
 *   open SERVICE [--memory SIZE] [--timeout MS] [--ping TEXT]
 *        one blocking open: "granted" or "denied: REASON"; --ping sends TEXT
 *        and prints "reply: LINE". Exits 0 when granted (and answered), else 1.
 *   hold SERVICE [--memory SIZE] [--ping TEXT]
 *        open (and ping), then wait for the end: "closed: REASON" (the
 *        supervisor's SessionClosed) or "eof" (the socket ended and no
 *        SessionClosed followed). SIGUSR1 closes it from this side:
 *        "released". Then stays (answering heartbeats) until sliced goes.
 *   reopen SERVICE N [--ping TEXT]
 *        hold, and after a close open again, up to N times.
 *   rom NAME       "rom SIZE HEX" (BLAKE2b-256 from the grant; the memfd is
 *                  read to check SIZE) or "denied: REASON"; exits 0/1
 *   config         "config: JSON", then "update: JSON" per ConfigUpdate;
 *                  stays until sliced goes
 *   report JSON    publish it; "reported"; stays
 *   log TEXT       send TEXT as a log line (not on stdout); "logged"; stays
 *   garbage        write() junk bytes to the parent channel, then sleep
 *   silent         sl_init, then never dispatch (heartbeats go unanswered)
 *
 * Every line goes to stdout, which sliced labels with the slice's path.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <slice/slice.h>

/* Bounds on waiting for a peer, so a broken test fails instead of hanging. */
#define REPLY_WAIT_MS 10000
#define CLOSED_WAIT_MS 10000
#define MAX_CONNS 64
#define LINE_MAX_ 1024

static struct sl_slice *sl;
static volatile sig_atomic_t got_usr1;

struct opts {
        uint64_t memory;
        int timeout_ms;
        const char *ping;
        unsigned crash_after;
        const char *refuse;
        int wait_signal;
};

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "session-tool: ");
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(2);
}

static void on_usr1(int sig)
{
        (void)sig;
        got_usr1 = 1;
}

/* SIGUSR1 stays blocked except inside xpoll, so a signal cannot slip in
 * between checking got_usr1 and going to sleep: poll returns EINTR. */
static sigset_t poll_mask;

static int xpoll(struct pollfd *p, nfds_t n, int timeout_ms)
{
        struct timespec ts = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000};
        return ppoll(p, n, timeout_ms < 0 ? NULL : &ts, &poll_mask);
}

__attribute__((noreturn)) static void forever(void)
{
        for (;;) {
                struct timespec ts = {3600, 0};
                nanosleep(&ts, NULL);
        }
}

/* Answer the supervisor until it goes, then exit with status. */
__attribute__((noreturn)) static void linger(int status)
{
        for (;;) {
                struct pollfd p = {.fd = sl_fd(sl), .events = POLLIN};
                if (xpoll(&p, 1, -1) < 0 && errno != EINTR)
                        exit(status);
                if (sl_dispatch(sl) < 0)
                        exit(status);
        }
}

/* Poll the channel (dispatching it) and fd; returns poll's revents of fd,
 * 0 on timeout or after a dispatch, -1 on EINTR. */
static int wait_fd(int fd, int timeout_ms)
{
        struct pollfd p[2] = {{.fd = sl_fd(sl), .events = POLLIN}, {.fd = fd, .events = POLLIN}};
        int n = xpoll(p, fd >= 0 ? 2 : 1, timeout_ms);
        if (n < 0)
                return errno == EINTR ? -1 : 0;
        if (p[0].revents && sl_dispatch(sl) < 0)
                exit(3); /* the supervisor went */
        return fd >= 0 ? p[1].revents : 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- client ---------------------------------------------------------------- */

struct ended {
        uint64_t id; /* the client session SessionClosed named, 0 if none yet */
        char reason[SL_MSG_MAX];
};
static struct ended ended;

static void on_closed(void *ctx, uint64_t id, enum sl_role role, const char *reason);

static int open_session(const char *service, const struct opts *o, int *fd, uint64_t *id)
{
        char reason[SL_MSG_MAX];
        int rc = sl_session_open(sl, service, NULL, 0, o->memory, o->timeout_ms, fd, id, reason,
                                 sizeof reason);
        if (rc < 0) {
                printf("denied: %s\n", reason);
                return -1;
        }
        printf("granted\n");
        return 0;
}

/* Send TEXT, print the line that comes back. */
static int ping(int fd, const char *text)
{
        char line[LINE_MAX_];
        int n = snprintf(line, sizeof line, "%s\n", text);
        if (write(fd, line, (size_t)n) != n) {
                printf("ping: write: %s\n", strerror(errno));
                return -1;
        }
        size_t got = 0;
        int64_t deadline = now_ms() + REPLY_WAIT_MS;
        while (got + 1 < sizeof line) {
                int64_t left = deadline - now_ms();
                if (left <= 0) {
                        printf("ping: no reply\n");
                        return -1;
                }
                if (wait_fd(fd, (int)left) <= 0)
                        continue;
                ssize_t r = read(fd, line + got, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0) {
                        printf("ping: %s\n", r == 0 ? "eof" : strerror(errno));
                        return -1;
                }
                if (line[got] == '\n')
                        break;
                got++;
        }
        line[got] = '\0';
        printf("reply: %s\n", line);
        return 0;
}

/* Wait for session id to end; prints how. Returns 1 if we released it. */
static int wait_end(int fd, uint64_t id)
{
        char buf[256];
        for (;;) {
                if (ended.id == id) {
                        printf("closed: %s\n", ended.reason);
                        return 0;
                }
                if (got_usr1) {
                        got_usr1 = 0;
                        sl_session_close(sl, id);
                        printf("released\n");
                        return 1;
                }
                int ev = wait_fd(fd, -1);
                if (ev <= 0)
                        continue;
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0 || (r < 0 && errno == EINTR))
                        continue;
                break; /* EOF or error */
        }
        /* The socket ended. When the server dies its end closes before the
         * supervisor has reaped it and sent SessionClosed: wait for that. */
        int64_t deadline = now_ms() + CLOSED_WAIT_MS;
        while (ended.id != id && now_ms() < deadline)
                wait_fd(-1, (int)(deadline - now_ms()));
        if (ended.id == id)
                printf("closed: %s\n", ended.reason);
        else
                printf("eof\n");
        return 0;
}

static int client(const char *service, unsigned reopens, const struct opts *o)
{
        sl_on_session_closed(sl, on_closed, NULL);
        for (unsigned round = 0;; round++) {
                int fd;
                uint64_t id;
                if (open_session(service, o, &fd, &id) < 0)
                        linger(1);
                if (o->ping && ping(fd, o->ping) < 0) {
                        sl_session_close(sl, id);
                        close(fd);
                        linger(1);
                }
                int released = wait_end(fd, id);
                close(fd);
                if (released || round == reopens)
                        linger(0);
        }
}

static int open_once(const char *service, const struct opts *o)
{
        int fd;
        uint64_t id;
        if (open_session(service, o, &fd, &id) < 0)
                return 1;
        int rc = o->ping ? ping(fd, o->ping) : 0;
        sl_session_close(sl, id);
        close(fd);
        return rc < 0;
}

/* ---- server ---------------------------------------------------------------- */

struct conn {
        int fd; /* -1: free */
        uint64_t id;
        int echoed;
        char label[SL_LABEL_MAX + 1];
        char in[LINE_MAX_];
        size_t n;
};
static struct conn conns[MAX_CONNS];
static unsigned first_lines; /* sessions that have had a line echoed */

static void conn_end(struct conn *c)
{
        close(c->fd);
        c->fd = -1;
}

static void on_closed(void *ctx, uint64_t id, enum sl_role role, const char *reason)
{
        (void)ctx;
        if (role == SL_ROLE_CLIENT) {
                ended.id = id;
                snprintf(ended.reason, sizeof ended.reason, "%s", reason);
                return;
        }
        for (int i = 0; i < MAX_CONNS; i++)
                if (conns[i].fd >= 0 && conns[i].id == id) {
                        printf("ended %s: %s\n", conns[i].label, reason);
                        conn_end(&conns[i]);
                }
}

static int serve_cb(void *ctx, uint64_t id, const char *label, const void *args, size_t len,
                    uint64_t memory, int *fd_out, char *reason, size_t reason_len)
{
        const struct opts *o = ctx;
        (void)args;
        (void)len;
        size_t ll = strlen(label), sfx = o->refuse ? strlen(o->refuse) : 0;
        if (o->refuse && ll >= sfx && !strcmp(label + ll - sfx, o->refuse)) {
                snprintf(reason, reason_len, "label %s refused", label);
                return -1;
        }
        struct conn *c = NULL;
        for (int i = 0; i < MAX_CONNS && !c; i++)
                if (conns[i].fd < 0)
                        c = &conns[i];
        if (!c) {
                snprintf(reason, reason_len, "too many sessions");
                return -1;
        }
        int rc = sl_session_pair(&c->fd, fd_out);
        if (rc < 0) {
                c->fd = -1;
                snprintf(reason, reason_len, "socketpair: %s", strerror(-rc));
                return -1;
        }
        c->id = id;
        c->n = 0;
        c->echoed = 0;
        snprintf(c->label, sizeof c->label, "%s", label);
        printf("served %s\n", label);
        if (memory)
                printf("donated %" PRIu64 "\n", memory);
        return 0;
}

static void conn_readable(struct conn *c, const struct opts *o)
{
        ssize_t r = read(c->fd, c->in + c->n, sizeof c->in - c->n);
        if (r < 0 && errno == EINTR)
                return;
        if (r <= 0 || (c->n += (size_t)r) == sizeof c->in) {
                conn_end(c);
                return;
        }
        char *start = c->in, *nl;
        while ((nl = memchr(start, '\n', c->n - (size_t)(start - c->in)))) {
                char out[SL_LABEL_MAX + LINE_MAX_ + 4];
                int len = snprintf(out, sizeof out, "%s: %.*s\n", c->label, (int)(nl - start),
                                   start);
                if (write(c->fd, out, (size_t)len) != len) {
                        conn_end(c);
                        return;
                }
                start = nl + 1;
                if (!c->echoed) {
                        c->echoed = 1;
                        if (o->crash_after && ++first_lines >= o->crash_after) {
                                printf("crashing\n");
                                abort();
                        }
                }
        }
        c->n -= (size_t)(start - c->in);
        memmove(c->in, start, c->n);
}

static int serve(const char *service, const struct opts *o)
{
        for (int i = 0; i < MAX_CONNS; i++)
                conns[i].fd = -1;
        sl_on_session_closed(sl, on_closed, NULL);
        int announced = 0;
        for (;;) {
                if (!announced && (!o->wait_signal || got_usr1)) {
                        if (sl_announce(sl, service, serve_cb, (void *)o) < 0) {
                                printf("announce: %s\n", sl_last_error(sl));
                                return 1;
                        }
                        printf("announced %s\n", service);
                        announced = 1;
                }
                struct pollfd p[MAX_CONNS + 1];
                struct conn *of[MAX_CONNS + 1];
                int n = 0;
                p[n] = (struct pollfd){.fd = sl_fd(sl), .events = POLLIN};
                of[n++] = NULL;
                for (int i = 0; i < MAX_CONNS; i++)
                        if (conns[i].fd >= 0) {
                                p[n] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                                of[n++] = &conns[i];
                        }
                if (xpoll(p, (nfds_t)n, -1) < 0)
                        continue; /* EINTR: maybe SIGUSR1 */
                if (p[0].revents && sl_dispatch(sl) < 0)
                        return 0; /* the supervisor went */
                for (int i = 1; i < n; i++)
                        if (p[i].revents && of[i]->fd == p[i].fd)
                                conn_readable(of[i], o);
        }
}

/* ---- platform services -------------------------------------------------------- */

static int print_memfd(const char *what, int fd, size_t size)
{
        char *buf = malloc(size + 1);
        size_t got = 0;
        while (buf && got < size) {
                ssize_t r = pread(fd, buf + got, size - got, (off_t)got);
                if (r <= 0)
                        break;
                got += (size_t)r;
        }
        if (!buf || got != size) {
                printf("%s: read %zu of %zu bytes\n", what, got, size);
                free(buf);
                return -1;
        }
        buf[size] = '\0';
        printf("%s: %s\n", what, buf);
        free(buf);
        return 0;
}

static void on_config(void *ctx, int memfd, size_t size, const unsigned char *hash)
{
        (void)ctx;
        (void)hash;
        print_memfd("update", memfd, size);
        close(memfd);
}

static int rom(const char *name)
{
        int fd;
        size_t size;
        unsigned char hash[SL_BLAKE2B_LEN];
        if (sl_rom(sl, name, &fd, &size, hash) < 0) {
                printf("denied: %s\n", sl_last_error(sl));
                return 1;
        }
        char buf[65536];
        size_t got = 0;
        ssize_t r;
        while ((r = read(fd, buf, sizeof buf)) > 0)
                got += (size_t)r;
        close(fd);
        if (got != size) {
                printf("rom: the grant says %zu bytes, the memfd holds %zu\n", size, got);
                return 1;
        }
        printf("rom %zu ", size);
        for (int i = 0; i < SL_BLAKE2B_LEN; i++)
                printf("%02x", hash[i]);
        printf("\n");
        return 0;
}

static int config(void)
{
        sl_on_config_update(sl, on_config, NULL);
        int fd;
        size_t size;
        if (sl_config(sl, &fd, &size) < 0) {
                printf("denied: %s\n", sl_last_error(sl));
                return 1;
        }
        int rc = print_memfd("config", fd, size);
        close(fd);
        linger(rc < 0);
        return 0;
}

static void garbage(void)
{
        static const char junk[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff not a message";
        const char *v = getenv("SLICE_PARENT_FD");
        if (!v)
                die("%s", "SLICE_PARENT_FD is not set");
        if (write(atoi(v), junk, sizeof junk - 1) < 0)
                printf("garbage: write: %s\n", strerror(errno));
        else
                printf("wrote garbage\n");
        forever();
}

/* ---- main ------------------------------------------------------------------------ */

static uint64_t size_arg(const char *s)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                die("bad size '%s'", s);
        switch (*end) {
        case 'K': v <<= 10; end++; break;
        case 'M': v <<= 20; end++; break;
        case 'G': v <<= 30; end++; break;
        }
        if (*end)
                die("bad size '%s'", s);
        return v;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
        for (int i = 0; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
                if (!strcmp(a, "--wait-signal")) {
                        o->wait_signal = 1;
                        continue;
                }
                if (!v)
                        die("option '%s' needs a value (or is unknown)", a);
                i++;
                if (!strcmp(a, "--memory"))
                        o->memory = size_arg(v);
                else if (!strcmp(a, "--timeout"))
                        o->timeout_ms = atoi(v);
                else if (!strcmp(a, "--ping"))
                        o->ping = v;
                else if (!strcmp(a, "--crash-after"))
                        o->crash_after = (unsigned)atoi(v);
                else if (!strcmp(a, "--refuse-label"))
                        o->refuse = v;
                else
                        die("unknown option '%s'", a);
        }
}

int main(int argc, char **argv)
{
        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc < 2)
                die("%s", "usage: session-tool serve|open|hold|reopen|rom|config|report|log|garbage|silent ...");
        const char *cmd = argv[1];
        if (!strcmp(cmd, "garbage"))
                garbage();
        struct sigaction sa = {.sa_handler = on_usr1};
        sigaction(SIGUSR1, &sa, NULL);
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        sigprocmask(SIG_BLOCK, &usr1, &poll_mask);
        char msg[SL_MSG_MAX];
        if (sl_init(&sl, msg, sizeof msg) < 0)
                die("%s", msg);
        if (!strcmp(cmd, "silent")) {
                printf("silent\n");
                forever();
        }
        struct opts o = {.timeout_ms = -1};
        /* positional arguments first, then options */
        int npos = !strcmp(cmd, "reopen") ? 2 : !strcmp(cmd, "config") ? 0 : 1;
        if (argc < 2 + npos)
                die("%s: missing arguments", cmd);
        parse_opts(argc - 2 - npos, argv + 2 + npos, &o);
        const char *arg = argv[2];
        if (!strcmp(cmd, "serve"))
                return serve(arg, &o);
        if (!strcmp(cmd, "open"))
                return open_once(arg, &o);
        if (!strcmp(cmd, "hold"))
                return client(arg, 0, &o);
        if (!strcmp(cmd, "reopen"))
                return client(arg, (unsigned)atoi(argv[3]), &o);
        if (!strcmp(cmd, "rom"))
                return rom(arg);
        if (!strcmp(cmd, "config"))
                return config();
        if (!strcmp(cmd, "report")) {
                if (sl_report(sl, arg) < 0)
                        die("report: %s", sl_last_error(sl));
                printf("reported\n");
                linger(0);
        }
        if (!strcmp(cmd, "log")) {
                if (sl_log(sl, SL_LOG_INFO, "%s", arg) < 0)
                        die("log: %s", sl_last_error(sl));
                printf("logged\n");
                linger(0);
        }
        die("unknown command '%s'", cmd);
}
