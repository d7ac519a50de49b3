/* Escape attempts through identity and limits: becoming root, getting a
 * capability back, exec'ing something setuid, and the fd quota. Also the
 * read-backs of what the kernel holds for us (capability sets, no_new_privs,
 * seccomp mode), which are the preconditions every other block relies on. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

void try_setuid_root(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (syscall(SYS_setuid, 0) == 0) {
                probe_escaped(r, "setuid(0) made us root");
                return;
        }
        probe_failed(r, errno, "setuid(0)");
}

void try_setgid_root(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (syscall(SYS_setgid, 0) == 0) {
                probe_escaped(r, "setgid(0) made us group root");
                return;
        }
        probe_failed(r, errno, "setgid(0)");
}

void try_setgroups(const struct probe_ctx *ctx, struct probe_result *r)
{
        gid_t root = 0;
        if (syscall(SYS_setgroups, 1, &root) == 0) {
                probe_escaped(r, "setgroups([0]) joined group root");
                return;
        }
        probe_failed(r, errno, "setgroups([0])");
}

static int capget_all(struct __user_cap_data_struct d[2])
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        return (int)syscall(SYS_capget, &h, d);
}

void try_capset_raise(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
        struct __user_cap_data_struct d[2];
        for (int i = 0; i < 2; i++)
                d[i].effective = d[i].permitted = d[i].inheritable = ~0U;
        if (syscall(SYS_capset, &h, d) == 0) {
                probe_escaped(r, "capset raised every capability");
                return;
        }
        probe_failed(r, errno, "capset(all capabilities)");
}

void try_ambient_raise(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN, 0, 0) == 0) {
                probe_escaped(r, "raised CAP_SYS_ADMIN into the ambient set");
                return;
        }
        probe_failed(r, errno, "prctl(PR_CAP_AMBIENT_RAISE, CAP_SYS_ADMIN)");
}

/* Value of "Key:" in /proc/self/status, or NULL. */
static const char *status_field(const char *status, const char *key, char *out, size_t len)
{
        const char *p = status;
        size_t klen = strlen(key);
        while ((p = strstr(p, key))) {
                if ((p == status || p[-1] == '\n') && p[klen] == ':') {
                        p += klen + 1;
                        while (*p == '\t' || *p == ' ')
                                p++;
                        size_t n = strcspn(p, "\n");
                        snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
                        return out;
                }
                p += klen;
        }
        return NULL;
}

/* Compare /proc/self/status fields with what they must be; fills r with the
 * first mismatch and returns -1, or returns 0. */
static int status_expect(struct probe_result *r, const char *const (*want)[2], size_t n)
{
        char buf[4096], val[64];
        if (probe_read_file("/proc/self/status", buf, sizeof buf) < 0) {
                probe_failed(r, errno, "read /proc/self/status");
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                if (!status_field(buf, want[i][0], val, sizeof val) || strcmp(val, want[i][1])) {
                        probe_escaped(r, "/proc/self/status %s: %s, expected %s", want[i][0],
                                      status_field(buf, want[i][0], val, sizeof val)
                                              ? val
                                              : "(missing)",
                                      want[i][1]);
                        return -1;
                }
        return 0;
}

void try_caps_zero(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct __user_cap_data_struct d[2];
        if (capget_all(d) < 0) {
                probe_failed(r, errno, "capget");
                return;
        }
        for (int i = 0; i < 2; i++)
                if (d[i].effective || d[i].permitted || d[i].inheritable) {
                        probe_escaped(r, "capget word %d: effective %08x permitted %08x "
                                         "inheritable %08x", i, d[i].effective, d[i].permitted,
                                      d[i].inheritable);
                        return;
                }
        /* Capability numbers end where PR_CAPBSET_READ says EINVAL. */
        for (int cap = 0; cap < 64; cap++) {
                int bnd = prctl(PR_CAPBSET_READ, cap, 0, 0, 0);
                if (bnd < 0)
                        break;
                if (bnd) {
                        probe_escaped(r, "capability %d is in the bounding set", cap);
                        return;
                }
                if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, cap, 0, 0) == 1) {
                        probe_escaped(r, "capability %d is in the ambient set", cap);
                        return;
                }
        }
        static const char *const want[][2] = {
                { "CapInh", "0000000000000000" }, { "CapPrm", "0000000000000000" },
                { "CapEff", "0000000000000000" }, { "CapBnd", "0000000000000000" },
                { "CapAmb", "0000000000000000" },
        };
        if (!ctx->strict && status_expect(r, want, sizeof want / sizeof want[0]) < 0)
                return;
        probe_holds(r, "effective, permitted, inheritable, bounding and ambient sets are empty%s",
                    ctx->strict ? " (capget, prctl)" : " (capget, prctl, /proc/self/status)");
}

void try_no_new_privs(const struct probe_ctx *ctx, struct probe_result *r)
{
        int v = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
        if (v < 0) {
                probe_failed(r, errno, "prctl(PR_GET_NO_NEW_PRIVS)");
                return;
        }
        if (v != 1) {
                probe_escaped(r, "no_new_privs is %d", v);
                return;
        }
        static const char *const want[][2] = { { "NoNewPrivs", "1" } };
        if (!ctx->strict && status_expect(r, want, 1) < 0)
                return;
        probe_holds(r, "no_new_privs is set");
}

void try_seccomp_mode(const struct probe_ctx *ctx, struct probe_result *r)
{
        int v = prctl(PR_GET_SECCOMP, 0, 0, 0, 0);
        if (v < 0) {
                probe_failed(r, errno, "prctl(PR_GET_SECCOMP)");
                return;
        }
        if (v != 2) {
                probe_escaped(r, "seccomp mode is %d, not 2 (filter)", v);
                return;
        }
        static const char *const want[][2] = { { "Seccomp", "2" } };
        if (!ctx->strict && status_expect(r, want, 1) < 0)
                return;
        probe_holds(r, "seccomp mode 2 (filter)");
}

/* setuid-root programs every Debian system has (util-linux, login, passwd);
 * /usr/bin/mount first: run without arguments it writes the mount table, so
 * it reaches a write (where it blocks, see full_channel) at once. */
static const char *const setuid_candidates[] = {
        "/usr/bin/mount", "/usr/bin/su", "/usr/bin/passwd", "/usr/bin/chsh",
};

/* Poll budget for the exec'd program to reach its first write. */
#define EXEC_WAIT_STEPS 500
#define EXEC_WAIT_STEP_NS 10000000L /* 10 ms: 5 s in all */

static const char *pick_setuid(void)
{
        struct stat st;
        for (size_t i = 0; i < sizeof setuid_candidates / sizeof setuid_candidates[0]; i++)
                /* Owner not checked: in a user namespace host root shows as
                 * the overflow uid. Whatever it is, we must keep our own. */
                if (stat(setuid_candidates[i], &st) == 0 && (st.st_mode & S_ISUID))
                        return setuid_candidates[i];
        return NULL;
}

/* A connected socket pair whose send buffer is already full: the first
 * write to p[1] blocks, so the program we exec stays alive (stopped in
 * write) while we look at it. (A socket pair rather than a pipe: it needs
 * nothing beyond what every profile allows for sockets.) */
static int full_channel(int p[2])
{
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
                return -1;
        int small = 1; /* the kernel rounds this up to its minimum */
        setsockopt(p[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        setsockopt(p[0], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        char junk[512];
        memset(junk, 'x', sizeof junk);
        while (send(p[1], junk, sizeof junk, MSG_DONTWAIT) > 0)
                ;
        return 0;
}

/* Wait until pid has exec'd `comm`, then copy its Uid: line. Works on a
 * zombie too (it keeps its credentials until reaped). */
static int exec_uid_line(pid_t pid, const char *comm, char *uid, size_t len)
{
        char path[64], buf[4096], name[64];
        struct timespec step = { 0, EXEC_WAIT_STEP_NS };
        snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
        for (int i = 0; i < EXEC_WAIT_STEPS; i++) {
                if (probe_read_file(path, buf, sizeof buf) > 0 &&
                    status_field(buf, "Name", name, sizeof name) && !strcmp(name, comm))
                        return status_field(buf, "Uid", uid, len) ? 0 : -1;
                nanosleep(&step, NULL);
        }
        errno = ETIMEDOUT;
        return -1;
}

void try_setuid_exec(const struct probe_ctx *ctx, struct probe_result *r)
{
        const char *prog = pick_setuid();
        if (!prog) {
                probe_failed(r, ENOENT, "no setuid program found to exec");
                return;
        }
        char *const argv[] = { (char *)prog, NULL };
        if (ctx->strict) { /* no exec at all: the filter must kill us here */
                execv(prog, argv);
                probe_failed(r, errno, "execv(%s)", prog);
                return;
        }
        int p[2];
        if (full_channel(p) < 0) {
                probe_failed(r, errno, "socketpair(AF_UNIX)");
                return;
        }
        pid_t pid = fork();
        if (pid < 0) {
                probe_failed(r, errno, "fork");
                close(p[0]), close(p[1]);
                return;
        }
        if (pid == 0) {
                dup2(p[1], 1);
                dup2(p[1], 2);
                execv(prog, argv);
                _exit(127);
        }
        close(p[1]);
        char uid[64];
        int ok = exec_uid_line(pid, strrchr(prog, '/') + 1, uid, sizeof uid);
        int e = errno;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        close(p[0]);
        if (ok < 0) {
                probe_failed(r, e, "watch %s after exec", prog);
                return;
        }
        /* Uid: real effective saved fs */
        unsigned int ruid, euid, suid, fsuid;
        if (sscanf(uid, "%u %u %u %u", &ruid, &euid, &suid, &fsuid) != 4) {
                probe_failed(r, EPROTO, "parse Uid line `%s`", uid);
                return;
        }
        if (euid != getuid() || suid != getuid() || fsuid != getuid()) {
                probe_escaped(r, "exec of setuid %s ran with Uid %s", prog, uid);
                return;
        }
        if (euid == 0) {
                probe_escaped(r, "%s ran as root (we are root)", prog);
                return;
        }
        probe_holds(r, "exec of setuid %s kept Uid %u (no elevation)", prog, euid);
}

void try_nofile_raise_hard(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct rlimit lim;
        if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
                probe_failed(r, errno, "getrlimit(RLIMIT_NOFILE)");
                return;
        }
        if (lim.rlim_max == RLIM_INFINITY) {
                probe_escaped(r, "RLIMIT_NOFILE has no hard limit");
                return;
        }
        struct rlimit more = { lim.rlim_cur, lim.rlim_max + 1 };
        if (setrlimit(RLIMIT_NOFILE, &more) == 0) {
                setrlimit(RLIMIT_NOFILE, &lim); /* lowering is always allowed */
                probe_escaped(r, "raised the hard RLIMIT_NOFILE above %llu (lowered again)",
                              (unsigned long long)lim.rlim_max);
                return;
        }
        probe_failed(r, errno, "raise hard RLIMIT_NOFILE %llu -> %llu",
                     (unsigned long long)lim.rlim_max, (unsigned long long)more.rlim_max);
}

static void close_from(int first, int last)
{
        for (int fd = first; fd <= last; fd++)
                close(fd);
}

/* SB_DEFAULT_FILES (src/sandbox/spawn.h): the quota when none is given. */
#define DEFAULT_FILES 1024ULL

void try_nofile_exceed(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* ctx->arg: the quota the runner gave slicectl (--files N). Under
         * strict the limit cannot be read (prlimit is killed): only what
         * F_DUPFD hands out is checked. */
        unsigned long long quota = ctx->arg ? strtoull(ctx->arg, NULL, 10) : DEFAULT_FILES;
        struct rlimit lim;
        if (!ctx->strict) {
                if (getrlimit(RLIMIT_NOFILE, &lim) < 0) {
                        probe_failed(r, errno, "getrlimit(RLIMIT_NOFILE)");
                        return;
                }
                if (!ctx->arg)
                        quota = lim.rlim_max;
                if (lim.rlim_cur != quota || lim.rlim_max != quota) {
                        probe_escaped(r, "RLIMIT_NOFILE is %llu/%llu, the quota is %llu",
                                      (unsigned long long)lim.rlim_cur,
                                      (unsigned long long)lim.rlim_max, quota);
                        return;
                }
        }
        int last = 2;
        for (;;) {
                int fd = fcntl(1, F_DUPFD_CLOEXEC, 3);
                if (fd < 0)
                        break;
                last = fd;
                if ((unsigned long long)fd >= quota) {
                        close_from(3, last);
                        probe_escaped(r, "got fd %d with a quota of %llu", fd, quota);
                        return;
                }
        }
        int e = errno;
        /* Asking for a number at or above the limit must fail too. */
        int high = fcntl(1, F_DUPFD_CLOEXEC, (int)quota);
        close_from(3, last);
        if (high >= 0) {
                close(high);
                probe_escaped(r, "F_DUPFD gave fd %d with a quota of %llu", high, quota);
                return;
        }
        probe_failed(r, e, "fds 0..%d open with a quota of %llu; one more", last, quota);
}

/* The granted fds a slice may hold start at 3; this runner grants none. */
#define FD_SCAN_MIN 1024

void try_fds_closed(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct rlimit lim;
        int top = FD_SCAN_MIN;
        if (!ctx->strict && getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur > (rlim_t)top &&
            lim.rlim_cur < (rlim_t)INT_MAX)
                top = (int)lim.rlim_cur;
        for (int fd = 3; fd < top; fd++) {
                if (fcntl(fd, F_GETFD) < 0) {
                        if (errno == EBADF)
                                continue;
                        probe_failed(r, errno, "fcntl(%d, F_GETFD)", fd);
                        return;
                }
                char link[PATH_MAX] = "?", path[64];
                if (!ctx->strict) {
                        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
                        ssize_t n = readlink(path, link, sizeof link - 1);
                        link[n > 0 ? n : 0] = '\0';
                }
                probe_escaped(r, "fd %d is open: %s", fd, link);
                return;
        }
        probe_failed(r, EBADF, "fcntl(F_GETFD) on every fd from 3 to %d", top - 1);
}

void try_sethostname(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Set the name it already has: nothing changes even if allowed.
         * (Under strict, uname is killed: use the slice default.) */
        char name[HOST_NAME_MAX + 1] = "slice"; /* the default name inside */
        if (!ctx->strict && gethostname(name, sizeof name) < 0) {
                probe_failed(r, errno, "gethostname");
                return;
        }
        if (sethostname(name, strlen(name)) == 0) {
                probe_escaped(r, "sethostname(%s) succeeded", name);
                return;
        }
        probe_failed(r, errno, "sethostname(%s)", name);
}
