/* The slice side of a spawn: pid 1 (the reaper) and the command it forks.
 *
 * Order, and why (docs/architecture.md has the long form):
 *  reaper: die with the caller -> wait for the caller's go (uid/gid maps and
 *          v1 cgroups are in place) -> own cgroup namespace -> root filesystem
 *          (needs CAP_SYS_ADMIN) -> hostname, loopback (need CAP_SYS_ADMIN,
 *          CAP_NET_ADMIN) -> rlimits, affinity (inherited by the command) ->
 *          fork the command -> drop its own privileges -> reap and forward.
 *  command: lay out fds -> chdir -> uid/gid -> drop every capability ->
 *          no_new_privs -> read back what the kernel holds and refuse if it
 *          is not what we asked -> seccomp (last: it must still allow execve)
 *          -> exec.
 * Nothing here allocates: the caller prepared everything before clone3.
 */
#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/spawn_internal.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

void sb_report(int fd, enum sb_msg_type type, enum sb_step step, int err, const char *fmt, ...)
{
        struct sb_msg m;
        memset(&m, 0, sizeof m);
        m.type = type;
        m.step = step;
        m.err = err;
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                vsnprintf(m.detail, sizeof m.detail, fmt, ap);
                va_end(ap);
        }
        ssize_t r;
        do
                r = write(fd, &m, sizeof m);
        while (r < 0 && errno == EINTR);
}

#define STEP(ctx, step, ...)                                                                       \
        do {                                                                                       \
                if ((ctx)->spec->log)                                                              \
                        sb_report((ctx)->report_wr, SB_MSG_STEP, (step), 0, __VA_ARGS__);          \
        } while (0)

static _Noreturn void die(int fd, enum sb_step step, int err, const char *detail)
{
        sb_report(fd, SB_MSG_ERROR, step, err, "%s", detail);
        _exit(125);
}

/* The signals the reaper forwards to the command; everything a supervisor
 * or a terminal sends. */
static const int forwarded[] = {SIGTERM, SIGINT,   SIGHUP,  SIGQUIT, SIGUSR1,
                                SIGUSR2, SIGWINCH, SIGCONT, SIGALRM};

static void reaper_sigset(sigset_t *set)
{
        sigemptyset(set);
        for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
                sigaddset(set, forwarded[i]);
        sigaddset(set, SIGCHLD);
}

static int loopback_up(void)
{
        int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0)
                return -1;
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        strcpy(ifr.ifr_name, "lo");
        int r = ioctl(s, SIOCGIFFLAGS, &ifr);
        if (r == 0) {
                ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
                r = ioctl(s, SIOCSIFFLAGS, &ifr);
        }
        int saved = errno;
        close(s);
        errno = saved;
        return r;
}

static void close_all_except(int *keep, size_t n);

/* Granted fds at 3, 4, ... (socket activation), the parent channel after
 * them; every other fd is closed — now, not at exec, so the fd quota set
 * next counts only what the slice holds. The two pipes the setup still
 * reports through are moved above the granted range first so placing a
 * granted fd cannot overwrite them; both are close-on-exec. */
static int layout_fds(const struct sb_spec *spec, int *exec_wr, int *report_wr, char *msg,
                      size_t len)
{
        size_t n = spec->n_fds + (spec->parent_fd >= 0 ? 1 : 0);
        int first_free = 3 + (int)n;
        int *own[] = {exec_wr, report_wr};
        for (size_t i = 0; i < 2; i++)
                if (*own[i] < first_free) {
                        int fd = fcntl(*own[i], F_DUPFD_CLOEXEC, first_free);
                        if (fd < 0)
                                return snprintf(msg, len, "move setup fd %d", *own[i]), -1;
                        *own[i] = fd; /* the low copy is closed with the rest below */
                }
        for (int i = 0; i < 3; i++)
                if (spec->stdio[i] >= 0 && spec->stdio[i] != i && dup2(spec->stdio[i], i) < 0)
                        return snprintf(msg, len, "dup2 stdio %d", i), -1;
        int moved[n ? n : 1];
        for (size_t i = 0; i < n; i++) {
                int src = i < spec->n_fds ? spec->fds[i].fd : spec->parent_fd;
                /* above the target range: placing one cannot overwrite
                 * another not yet placed */
                moved[i] = fcntl(src, F_DUPFD_CLOEXEC, first_free);
                if (moved[i] < 0)
                        return snprintf(msg, len, "duplicate granted fd %d", src), -1;
        }
        for (size_t i = 0; i < n; i++)
                /* dup2 clears FD_CLOEXEC on the target: this fd survives exec */
                if (dup2(moved[i], 3 + (int)i) < 0)
                        return snprintf(msg, len, "place granted fd at %zu", 3 + i), -1;
        int keep[3 + SB_FDS_MAX + 3];
        size_t k = 0;
        for (int i = 0; i < first_free && k < 3 + SB_FDS_MAX + 1; i++)
                keep[k++] = i;
        keep[k++] = *exec_wr;
        keep[k++] = *report_wr;
        close_all_except(keep, k);
        return 0;
}

/* Read back what the kernel holds; refuse to exec if a restriction did not
 * take. /proc is the slice's own by now. */
int sb_verify_restrictions(uid_t uid, char *msg, size_t len)
{
        char buf[4096];
        int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return snprintf(msg, len, "open /proc/self/status"), -1;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return snprintf(msg, len, "read /proc/self/status"), -1;
        buf[n] = '\0';
        static const char *const zero[] = {"CapInh:\t0000000000000000", "CapPrm:\t0000000000000000",
                                           "CapEff:\t0000000000000000", "CapBnd:\t0000000000000000",
                                           "CapAmb:\t0000000000000000", "NoNewPrivs:\t1"};
        for (size_t i = 0; i < sizeof zero / sizeof zero[0]; i++)
                if (!strstr(buf, zero[i])) {
                        errno = EPERM;
                        return snprintf(msg, len, "kernel does not report `%s`", zero[i]), -1;
                }
        char want[64];
        snprintf(want, sizeof want, "Uid:\t%u\t%u\t%u\t%u", uid, uid, uid, uid);
        if (!strstr(buf, want)) {
                errno = EPERM;
                return snprintf(msg, len, "kernel does not report `%s`", want), -1;
        }
        return 0;
}

static void fill_listen_pid(struct sb_child_ctx *ctx)
{
        if (!ctx->listen_pid)
                return;
        snprintf(ctx->listen_pid, ctx->listen_pid_cap, "LISTEN_PID=%d", (int)getpid());
}

int sb_drop_privileges(uid_t uid, gid_t gid, int userns, enum sb_step *step, char *msg, size_t len)
{
        *step = SB_STEP_SETID;
        /* libcap-ng: clear every set, then change uid/gid keeping nothing.
         * In root mode supplementary groups are dropped too; in a user
         * namespace setgroups is denied (it must be, for an unprivileged
         * caller to map gids) and unmapped groups stay invisible anyway. */
        capng_clear(CAPNG_SELECT_ALL);
        int flags = CAPNG_CLEAR_BOUNDING | (userns ? 0 : CAPNG_DROP_SUPP_GRP);
        int r = capng_change_id((int)uid, (int)gid, flags);
        if (r < 0) {
                if (!errno)
                        errno = EPERM;
                return snprintf(msg, len, "capng_change_id(%u, %u) failed (%d)", uid, gid, r), -1;
        }
        *step = SB_STEP_CAPS;
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return snprintf(msg, len, "clear ambient capabilities"), -1;
        if (capng_apply(CAPNG_SELECT_BOTH) < 0) {
                errno = errno ? errno : EPERM;
                return snprintf(msg, len, "apply empty capability sets"), -1;
        }
        *step = SB_STEP_NO_NEW_PRIVS;
        /* No exec may ever gain privilege again (setuid files, file caps). */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return snprintf(msg, len, "prctl(PR_SET_NO_NEW_PRIVS)"), -1;
        return 0;
}

static _Noreturn void command_main(struct sb_child_ctx *ctx, int exec_wr)
{
        const struct sb_spec *spec = ctx->spec;
        char msg[SB_MSG_DETAIL_MAX];
        enum sb_step step = SB_STEP_FDS;
        /* A fresh signal state: nothing the caller blocked or ignored
         * (SIGPIPE, say) carries over into the slice. */
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);

        STEP(ctx, SB_STEP_FDS, "%zu socket-activation fd(s) at 3%s", spec->n_fds,
             spec->parent_fd >= 0 ? ", parent channel after them" : "");
        if (layout_fds(spec, &exec_wr, &ctx->report_wr, msg, sizeof msg) < 0)
                goto fail;
        fill_listen_pid(ctx);
        /* The fd quota, once the granted fds are in place (laying them out
         * may need numbers above a small quota; those close at exec). */
        step = SB_STEP_RLIMITS;
        uint64_t files = spec->files ? spec->files : SB_DEFAULT_FILES;
        struct rlimit nofile = {files, files};
        STEP(ctx, SB_STEP_RLIMITS, "RLIMIT_NOFILE %llu", (unsigned long long)files);
        if (setrlimit(RLIMIT_NOFILE, &nofile) < 0) {
                snprintf(msg, sizeof msg, "setrlimit(RLIMIT_NOFILE, %llu)",
                         (unsigned long long)files);
                goto fail;
        }
        step = SB_STEP_CHDIR;
        if (chdir(spec->cwd ? spec->cwd : "/") < 0) {
                snprintf(msg, sizeof msg, "chdir `%s`", spec->cwd ? spec->cwd : "/");
                goto fail;
        }
        STEP(ctx, SB_STEP_SETID, "uid %u gid %u, all capabilities dropped, no_new_privs", spec->uid,
             spec->gid);
        if (sb_drop_privileges(spec->uid, spec->gid, ctx->use_userns, &step, msg, sizeof msg) < 0)
                goto fail;
        step = SB_STEP_VERIFY;
        if (sb_verify_restrictions(spec->uid, msg, sizeof msg) < 0)
                goto fail;
        STEP(ctx, SB_STEP_SECCOMP, "seccomp profile `%s` (%u instructions)", ctx->prog.name,
             ctx->prog.len);
        step = SB_STEP_SECCOMP;
        int r = sb_seccomp_install(&ctx->prog);
        if (r < 0) {
                errno = -r;
                snprintf(msg, sizeof msg, "install profile `%s`", ctx->prog.name);
                goto fail;
        }
        /* execvpe searches the PATH of the current environment. */
        environ = ctx->envp;
        execvpe(spec->argv[0], spec->argv, ctx->envp);
        step = SB_STEP_EXEC;
        snprintf(msg, sizeof msg, "`%s`", spec->argv[0]);
fail:;
        int e = errno;
        sb_report(exec_wr, SB_MSG_ERROR, step, e, "%s", msg);
        _exit(step == SB_STEP_EXEC ? (e == ENOENT ? 127 : 126) : 125);
}

static int cmp_int(const void *a, const void *b)
{
        return *(const int *)a - *(const int *)b;
}

/* Close every fd but the ones in keep (sorted here). */
static void close_all_except(int *keep, size_t n)
{
        qsort(keep, n, sizeof *keep, cmp_int);
        unsigned from = 0;
        for (size_t i = 0; i < n; i++) {
                if (keep[i] < 0 || (unsigned)keep[i] < from)
                        continue;
                if ((unsigned)keep[i] > from)
                        syscall(SYS_close_range, from, (unsigned)keep[i] - 1, 0);
                from = (unsigned)keep[i] + 1;
        }
        syscall(SYS_close_range, from, ~0U, 0);
}

static _Noreturn void reaper_loop(struct sb_child_ctx *ctx, pid_t cmd)
{
        sigset_t set;
        reaper_sigset(&set);
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(&set, &si);
                if (sig < 0)
                        continue;
                if (sig != SIGCHLD) {
                        kill(cmd, sig);
                        continue;
                }
                int status;
                pid_t p;
                while ((p = waitpid(-1, &status, WNOHANG)) > 0) {
                        if (p != cmd)
                                continue; /* an orphan re-parented to us */
                        struct sb_msg m;
                        memset(&m, 0, sizeof m);
                        m.type = SB_MSG_EXIT;
                        m.status = status;
                        ssize_t w = write(ctx->report_wr, &m, sizeof m);
                        (void)w;
                        /* pid 1 leaving takes every other process of the
                         * slice with it (the kernel kills the namespace). */
                        if (WIFEXITED(status))
                                _exit(WEXITSTATUS(status));
                        _exit(128 + WTERMSIG(status));
                }
        }
}

/* The namespaces are final: hand the caller an fd of each, so it can enter
 * the slice later (exec probes) without a ptrace-mode check on this process,
 * which is not dumpable. Best effort: a caller that gets none cannot run
 * probes, and says so then. */
static void send_namespaces(const struct sb_child_ctx *ctx)
{
        static const char *const names[SB_NS__COUNT] = {
            [SB_NS_USER] = "user",     [SB_NS_MNT] = "mnt", [SB_NS_PID] = "pid",
            [SB_NS_NET] = "net",       [SB_NS_IPC] = "ipc", [SB_NS_UTS] = "uts",
            [SB_NS_CGROUP] = "cgroup",
        };
        int fds[SB_NS__COUNT];
        size_t n = 0;
        uint32_t mask = 0;
        for (int i = 0; i < SB_NS__COUNT; i++) {
                if ((i == SB_NS_USER && !ctx->use_userns) ||
                    (i == SB_NS_NET && ctx->spec->net != SB_NET_NONE))
                        continue;
                char path[32];
                snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                fds[n++] = fd;
                mask |= 1u << i;
        }
        struct sb_msg m;
        memset(&m, 0, sizeof m);
        m.type = SB_MSG_NSFDS;
        m.status = (int32_t)mask;
        union {
                char buf[CMSG_SPACE(sizeof(int) * SB_NS__COUNT)];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = &m, .iov_len = sizeof m};
        struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
        if (n) {
                mh.msg_control = ctl.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
        }
        ssize_t w;
        do
                w = sendmsg(ctx->report_wr, &mh, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        for (size_t i = 0; i < n; i++)
                close(fds[i]);
}

/* The reaper is a copy of its caller, argv included: /proc/1/cmdline in
 * the slice would show the caller's command line (host paths, and whatever
 * secrets an operator typed). Blank the argument area in place (its bounds
 * are fields 48-49 of /proc/self/stat) and name the process. */
static void hide_cmdline(void)
{
        static const char name[] = "sliced-reaper";
        prctl(PR_SET_NAME, "reaper", 0, 0, 0);
        char buf[2048];
        int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = '\0';
        char *p = strrchr(buf, ')'); /* comm may hold spaces: count after it */
        if (!p)
                return;
        unsigned long start = 0, end = 0;
        int field = 2;
        for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
                field++;
                if (field == 48)
                        start = strtoul(tok, NULL, 10);
                else if (field == 49) {
                        end = strtoul(tok, NULL, 10);
                        break;
                }
        }
        if (!start || end <= start + sizeof name)
                return;
        memset((void *)start, 0, end - start);
        memcpy((void *)start, name, sizeof name);
}

_Noreturn void sb_reaper_main(struct sb_child_ctx *ctx)
{
        const struct sb_spec *spec = ctx->spec;
        int rep = ctx->report_wr;
        char msg[SB_MSG_DETAIL_MAX];
        enum sb_step step;

        /* The slice dies with its caller: if sliced is killed, pid 1 gets
         * SIGKILL and the kernel tears down the whole pid namespace. */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                die(rep, SB_STEP_PDEATHSIG, errno, "prctl(PR_SET_PDEATHSIG)");
        /* Wait for the caller's go; EOF means it died before PDEATHSIG was
         * armed, or gave up on us. */
        char go;
        ssize_t n;
        do
                n = read(ctx->sync_rd, &go, 1);
        while (n < 0 && errno == EINTR);
        if (n != 1)
                _exit(125);
        close(ctx->sync_rd);
        /* Not dumpable from here on (the id maps are written): otherwise, in
         * a user namespace where the reaper keeps the command's uid, the
         * command could open /proc/1/mem, environ and fd/ — the reaper is a
         * copy of the supervisor's memory, and holds the report pipe. In
         * root mode the uid change would clear it too; set it in both. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                die(rep, SB_STEP_SYNC, errno, "prctl(PR_SET_DUMPABLE, 0)");

        /* Own cgroup namespace only now, so its root is the slice's cgroup
         * (the caller attached us to v1 hierarchies after clone). */
        if (unshare(CLONE_NEWCGROUP) < 0)
                die(rep, SB_STEP_CGROUP, errno, "unshare(CLONE_NEWCGROUP)");
        /* A slice is not part of the caller's terminal session unless it
         * asked for the tty: signals reach it only through the reaper. */
        if (!spec->dev_tty && setsid() < 0)
                die(rep, SB_STEP_SYNC, errno, "setsid");

        STEP(ctx, SB_STEP_MOUNT_ROOT, "root: tmpfs + %zu mount operations, pivot_root",
             ctx->n_mounts);
        if (sb_rootfs_build(ctx, &step, msg, sizeof msg) < 0)
                die(rep, step, errno, msg);

        STEP(ctx, SB_STEP_HOSTNAME, "hostname `%s`", ctx->hostname);
        if (sethostname(ctx->hostname, strlen(ctx->hostname)) < 0)
                die(rep, SB_STEP_HOSTNAME, errno, "sethostname");
        if (spec->net == SB_NET_NONE) {
                STEP(ctx, SB_STEP_LOOPBACK, "network: own namespace, lo up");
                if (loopback_up() < 0)
                        die(rep, SB_STEP_LOOPBACK, errno, "bring up `lo`");
        }
        send_namespaces(ctx);
        STEP(ctx, SB_STEP_RLIMITS, "RLIMIT_CORE 0");
        struct rlimit nocore = {0, 0};
        /* Core dumps would write the slice's memory where it cannot see. */
        if (setrlimit(RLIMIT_CORE, &nocore) < 0)
                die(rep, SB_STEP_RLIMITS, errno, "setrlimit(RLIMIT_CORE)");
        if (spec->has_cpus) {
                STEP(ctx, SB_STEP_AFFINITY, "CPU affinity: %d CPU(s)", CPU_COUNT(&spec->cpus));
                if (sched_setaffinity(0, sizeof spec->cpus, &spec->cpus) < 0)
                        die(rep, SB_STEP_AFFINITY, errno, "sched_setaffinity");
        }

        sigset_t set;
        reaper_sigset(&set);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int exec_pipe[2];
        if (pipe2(exec_pipe, O_CLOEXEC) < 0)
                die(rep, SB_STEP_FORK_COMMAND, errno, "pipe2");
        pid_t cmd = fork();
        if (cmd < 0)
                die(rep, SB_STEP_FORK_COMMAND, errno, "fork the command");
        if (cmd == 0) {
                close(exec_pipe[0]);
                command_main(ctx, exec_pipe[1]);
        }
        close(exec_pipe[1]);
        hide_cmdline(); /* only now: the command's copy still needed argv */

        /* The reaper keeps nothing but the report pipe, the exec pipe and
         * the caller's pidfd. */
        int keep[] = {rep, exec_pipe[0], ctx->caller_pidfd};
        close_all_except(keep, SL_ARRAY_SIZE(keep));

        /* EOF on the exec pipe: the command exec'd (CLOEXEC closed it).
         * A message: its setup failed; pass it on. */
        struct sb_msg m;
        do
                n = read(exec_pipe[0], &m, sizeof m);
        while (n < 0 && errno == EINTR);
        close(exec_pipe[0]);
        if (n == (ssize_t)sizeof m) {
                ssize_t w = write(rep, &m, sizeof m);
                (void)w;
                int st;
                waitpid(cmd, &st, 0);
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 125);
        }
        sb_report(rep, SB_MSG_STARTED, SB_STEP_EXEC, 0, "%d", (int)cmd);

        /* The reaper itself keeps no privilege either: same uid, no caps,
         * no_new_privs, and a filter allowing only what the loop below uses. */
        if (sb_drop_privileges(spec->uid, spec->gid, ctx->use_userns, &step, msg, sizeof msg) < 0) {
                kill(cmd, SIGKILL);
                die(rep, step, errno, msg);
        }
        /* Changing uid cleared the parent-death signal: arm it again, then
         * make sure the caller did not die in between (its pidfd turns
         * readable when it exits). */
        struct pollfd caller = {.fd = ctx->caller_pidfd, .events = POLLIN};
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || poll(&caller, 1, 0) != 0) {
                kill(cmd, SIGKILL);
                _exit(125);
        }
        close(ctx->caller_pidfd);
        if (sb_seccomp_install(&ctx->reaper_prog) < 0) {
                kill(cmd, SIGKILL);
                die(rep, SB_STEP_SECCOMP, errno, "confine the reaper");
        }
        reaper_loop(ctx, cmd);
}
