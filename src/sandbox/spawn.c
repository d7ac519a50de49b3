/* Caller side of a spawn: prepare the plan, clone3 the reaper into new
 * namespaces, map ids, attach cgroups, say go, and wait for the exec. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fileutil.h"
#include "sandbox/spawn_internal.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

static const char *const step_names[SB_STEP__MAX] = {
    [SB_STEP_CLONE] = "clone3",
    [SB_STEP_PDEATHSIG] = "pdeathsig",
    [SB_STEP_SYNC] = "sync",
    [SB_STEP_USERNS_MAP] = "uid/gid map",
    [SB_STEP_CGROUP] = "cgroup",
    [SB_STEP_MOUNT_PRIVATE] = "mount propagation",
    [SB_STEP_MOUNT_BASE] = "scratch root",
    [SB_STEP_MOUNT_ROOT] = "slice root",
    [SB_STEP_MOUNT_BIND] = "bind mount",
    [SB_STEP_MOUNT_OVERLAY] = "overlay mount",
    [SB_STEP_MOUNT_PROC] = "mount /proc",
    [SB_STEP_MOUNT_DEV] = "mount /dev",
    [SB_STEP_MOUNT_TMP] = "mount tmpfs",
    [SB_STEP_PIVOT_ROOT] = "pivot_root",
    [SB_STEP_HOSTNAME] = "hostname",
    [SB_STEP_LOOPBACK] = "loopback",
    [SB_STEP_RLIMITS] = "rlimits",
    [SB_STEP_AFFINITY] = "cpu affinity",
    [SB_STEP_FORK_COMMAND] = "fork",
    [SB_STEP_FDS] = "file descriptors",
    [SB_STEP_CHDIR] = "chdir",
    [SB_STEP_SETID] = "uid/gid",
    [SB_STEP_CAPS] = "capabilities",
    [SB_STEP_NO_NEW_PRIVS] = "no_new_privs",
    [SB_STEP_VERIFY] = "verify",
    [SB_STEP_SECCOMP] = "seccomp",
    [SB_STEP_EXEC] = "exec",
};

const char *sb_step_name(enum sb_step step)
{
        if (step <= 0 || step >= SB_STEP__MAX || !step_names[step])
                return "unknown step";
        return step_names[step];
}

static void log_line(const struct sb_spec *spec, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void log_line(const struct sb_spec *spec, const char *fmt, ...)
{
        if (!spec->log)
                return;
        char line[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        spec->log(spec->log_ctx, line);
}

/* The command's environment: the spec's, then the socket-activation and
 * slice variables. One allocation holds the pointer array and the strings we
 * add, so the child never formats into memory it does not own. */
struct env_block {
        char **envp;
        char *strings;
};

#define ENV_EXTRA_MAX  5
#define LISTEN_PID_CAP 32

static int build_env(const struct sb_spec *spec, struct sb_child_ctx *ctx, struct env_block *eb,
                     struct sl_error *err)
{
        size_t n = 0, names_len = 0;
        while (spec->env && spec->env[n])
                n++;
        for (size_t i = 0; i < spec->n_fds; i++)
                names_len += strlen(spec->fds[i].name ? spec->fds[i].name : "unknown") + 1;
        size_t strings_cap = 256 + names_len + LISTEN_PID_CAP;
        eb->envp = calloc(n + ENV_EXTRA_MAX + 1, sizeof(char *));
        eb->strings = calloc(1, strings_cap);
        if (!eb->envp || !eb->strings)
                return sl_error_set(err, ENOMEM, "environment");
        size_t k = 0, off = 0;
        for (size_t i = 0; i < n; i++) {
                /* the spawner owns these names: a caller cannot pre-set them */
                static const char *const ours[] = {"LISTEN_",
                                                   "SLICE_PARENT_FD=", SB_SECCOMP_ENV "="};
                int skip = 0;
                for (size_t j = 0; j < SL_ARRAY_SIZE(ours); j++)
                        skip |= !strncmp(spec->env[i], ours[j], strlen(ours[j]));
                if (!skip)
                        eb->envp[k++] = spec->env[i];
        }
#define ADD(...)                                                                                   \
        do {                                                                                       \
                eb->envp[k++] = eb->strings + off;                                                 \
                off += (size_t)snprintf(eb->strings + off, strings_cap - off, __VA_ARGS__) + 1;    \
        } while (0)
        if (spec->n_fds) {
                ADD("LISTEN_FDS=%zu", spec->n_fds);
                char *names = eb->strings + off;
                size_t start = off;
                off += (size_t)snprintf(names, strings_cap - off, "LISTEN_FDNAMES=");
                for (size_t i = 0; i < spec->n_fds; i++)
                        off += (size_t)snprintf(eb->strings + off, strings_cap - off, "%s%s",
                                                i ? ":" : "",
                                                spec->fds[i].name ? spec->fds[i].name : "unknown");
                off++;
                eb->envp[k++] = eb->strings + start;
                ctx->listen_pid = eb->strings + off;
                ctx->listen_pid_cap = LISTEN_PID_CAP;
                eb->envp[k++] = ctx->listen_pid;
                snprintf(ctx->listen_pid, LISTEN_PID_CAP, "LISTEN_PID=0");
                off += LISTEN_PID_CAP;
        }
        if (spec->parent_fd >= 0)
                ADD("SLICE_PARENT_FD=%zu", 3 + spec->n_fds);
        if (spec->profile && !strcmp(spec->profile, "strict"))
                ADD(SB_SECCOMP_ENV "=strict");
#undef ADD
        eb->envp[k] = NULL;
        ctx->envp = eb->envp;
        return 0;
}

static int write_id_maps(pid_t pid, const struct sb_spec *spec, struct sl_error *err)
{
        char path[64], map[64];
        /* An unprivileged caller may map exactly its own uid/gid, and only
         * after denying setgroups (CVE-2014-8989). */
        snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
        if (sl_write_file_at(AT_FDCWD, path, "deny", err) < 0)
                return -1;
        snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
        snprintf(map, sizeof map, "%u %u 1\n", spec->uid, geteuid());
        if (sl_write_file_at(AT_FDCWD, path, map, err) < 0)
                return -1;
        snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
        snprintf(map, sizeof map, "%u %u 1\n", spec->gid, getegid());
        return sl_write_file_at(AT_FDCWD, path, map, err);
}

/* One message from the slice; fds it carries (only SB_MSG_NSFDS may) land
 * in fds/nfds, any others are closed. */
static int recv_msg(int fd, struct sb_msg *m, int *fds, size_t *nfds)
{
        union {
                char buf[CMSG_SPACE(sizeof(int) * SB_NS__COUNT)];
                struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = m, .iov_len = sizeof *m};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof ctl.buf};
        ssize_t n;
        do
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        size_t got = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
                if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                        continue;
                size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                int *in = (int *)CMSG_DATA(c);
                for (size_t i = 0; i < k; i++) {
                        if (fds && got < SB_NS__COUNT)
                                fds[got++] = in[i];
                        else
                                close(in[i]);
                }
        }
        if (nfds)
                *nfds = got;
        else
                for (size_t i = 0; i < got; i++)
                        close(fds[i]);
        if (n != (ssize_t)sizeof *m || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
                for (size_t i = 0; nfds && i < got; i++)
                        close(fds[i]);
                if (nfds)
                        *nfds = 0;
                return n == 0 ? 0 : -1;
        }
        return 1;
}

static int read_msg(int fd, struct sb_msg *m)
{
        return recv_msg(fd, m, NULL, NULL);
}

static void close_ns(struct sb_slice *s)
{
        for (int i = 0; i < SB_NS__COUNT; i++) {
                if (s->ns_fds[i] >= 0)
                        close(s->ns_fds[i]);
                s->ns_fds[i] = -1;
        }
}

static void take_ns(struct sb_slice *s, uint32_t mask, const int *fds, size_t nfds)
{
        size_t k = 0;
        close_ns(s);
        for (int i = 0; i < SB_NS__COUNT; i++)
                if (mask & (1u << i))
                        s->ns_fds[i] = k < nfds ? fds[k++] : -1;
        while (k < nfds)
                close(fds[k++]);
}

static int reap_now(pid_t pid, int pidfd, int *status)
{
        siginfo_t si;
        memset(&si, 0, sizeof si);
        int r;
        do
                r = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return -1;
        (void)pid;
        /* shell convention: the code, or 128 + the signal */
        *status = si.si_code == CLD_EXITED ? si.si_status : 128 + si.si_status;
        return 0;
}

/* Wait for the command's exec; forward verbose steps to the log. */
static int await_start(const struct sb_spec *spec, struct sb_slice *s, int *exec_failed,
                       struct sl_error *err)
{
        struct sb_msg m;
        for (;;) {
                int fds[SB_NS__COUNT];
                size_t nfds = 0;
                int r = recv_msg(s->report_fd, &m, fds, &nfds);
                if (r <= 0)
                        break;
                m.detail[sizeof m.detail - 1] = '\0';
                if (m.type == SB_MSG_NSFDS) {
                        take_ns(s, (uint32_t)m.status, fds, nfds);
                        continue;
                }
                for (size_t i = 0; i < nfds; i++)
                        close(fds[i]);
                switch (m.type) {
                case SB_MSG_STEP:
                        log_line(spec, "[%s] %s", sb_step_name(m.step), m.detail);
                        continue;
                case SB_MSG_STARTED:
                        s->inner_pid = atoi(m.detail);
                        log_line(spec, "[exec] `%s` runs as pid %d in the slice", spec->argv[0],
                                 s->inner_pid);
                        return 0;
                case SB_MSG_ERROR:
                        if (exec_failed)
                                *exec_failed = m.step == SB_STEP_EXEC;
                        errno = 0;
                        return sl_error_set(err, m.err, "%s: %s", sb_step_name(m.step), m.detail);
                default:
                        return sl_error_set(err, EPROTO, "unexpected message %u from slice",
                                            m.type);
                }
        }
        int status = 0;
        reap_now(s->pid, s->pidfd, &status);
        return sl_error_set(err, ECHILD, "slice died during setup (exit status %d)", status);
}

static void free_ctx(struct sb_child_ctx *ctx, struct env_block *eb)
{
        free(ctx->mounts);
        free(eb->envp);
        free(eb->strings);
        sb_seccomp_prog_release(&ctx->prog);
        sb_seccomp_prog_release(&ctx->reaper_prog);
}

static int check_spec(const struct sb_spec *spec, int userns, struct sl_error *err)
{
        if (!spec->argv || !spec->argv[0] || !spec->argv[0][0])
                return sl_error_set(err, EINVAL, "no command given");
        if (spec->n_fds + (spec->parent_fd >= 0) > SB_FDS_MAX)
                return sl_error_set(err, E2BIG, "%zu granted fds: at most %d", spec->n_fds,
                                    SB_FDS_MAX);
        if (!userns && spec->uid == 0)
                return sl_error_set(err, EINVAL,
                                    "refusing to run a slice as uid 0 without a user namespace");
        return 0;
}

int sb_spawn(const struct sb_spec *spec, struct sb_slice *out, int *exec_failed,
             struct sl_error *err)
{
        struct sb_child_ctx ctx;
        struct env_block eb = {0};
        memset(&ctx, 0, sizeof ctx);
        memset(out, 0, sizeof *out);
        out->pidfd = out->report_fd = -1;
        for (int i = 0; i < SB_NS__COUNT; i++)
                out->ns_fds[i] = -1;
        if (exec_failed)
                *exec_failed = 0;

        int userns = spec->userns >= 0 ? spec->userns : geteuid() != 0;
        if (check_spec(spec, userns, err) < 0)
                return -1;
        ctx.spec = spec;
        ctx.use_userns = userns;
        snprintf(ctx.hostname, sizeof ctx.hostname, "%s",
                 spec->hostname ? spec->hostname : "slice");
        const char *profile = spec->profile ? spec->profile : "posix";
        if (sb_seccomp_prog_get(profile, &ctx.prog, err) < 0 ||
            sb_seccomp_prog_get("reaper", &ctx.reaper_prog, err) < 0 ||
            sb_rootfs_plan(spec, &ctx.mounts, &ctx.n_mounts, err) < 0 ||
            build_env(spec, &ctx, &eb, err) < 0) {
                free_ctx(&ctx, &eb);
                return -1;
        }

        _cleanup_close_ int rep_rd = -1, rep_wr = -1, sync_rd = -1, sync_wr = -1;
        int p[2];
        /* a socket, not a pipe: the reaper sends its namespace fds over it */
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, p) < 0) {
                free_ctx(&ctx, &eb);
                return sl_error_errno(err, "socketpair");
        }
        rep_rd = p[0], rep_wr = p[1];
        if (pipe2(p, O_CLOEXEC) < 0) {
                free_ctx(&ctx, &eb);
                return sl_error_errno(err, "pipe2");
        }
        sync_rd = p[0], sync_wr = p[1];
        ctx.report_wr = rep_wr;
        ctx.sync_rd = sync_rd;
        _cleanup_close_ int self_pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
        if (self_pidfd < 0) {
                free_ctx(&ctx, &eb);
                return sl_error_errno(err, "pidfd_open(self)");
        }
        ctx.caller_pidfd = self_pidfd;

        uint64_t flags = CLONE_PIDFD | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS;
        if (spec->net == SB_NET_NONE)
                flags |= CLONE_NEWNET;
        if (userns)
                flags |= CLONE_NEWUSER;
        int cg_fd = spec->cgroup ? sb_cgroup_v2_fd(spec->cgroup) : -1;
        if (cg_fd >= 0)
                flags |= CLONE_INTO_CGROUP; /* born in its cgroup: no window outside */
        int pidfd = -1;
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = flags;
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        args.cgroup = cg_fd >= 0 ? (uint64_t)cg_fd : 0;
        log_line(spec, "[clone3] namespaces: pid mount ipc uts cgroup%s%s%s",
                 spec->net == SB_NET_NONE ? " net" : "", userns ? " user" : "",
                 cg_fd >= 0 ? "; into its cgroup" : "");

        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0) {
                int e = errno;
                free_ctx(&ctx, &eb);
                return sl_error_set(err, e, "%s", sb_step_name(SB_STEP_CLONE));
        }
        if (pid == 0)
                sb_reaper_main(&ctx); /* never returns */

        out->pid = pid;
        out->pidfd = pidfd;
        close(sl_steal_fd(&rep_wr));
        close(sl_steal_fd(&sync_rd));
        int r = 0;
        if (userns) {
                log_line(spec, "[uid/gid map] uid %u -> %u, gid %u -> %u", spec->uid, geteuid(),
                         spec->gid, getegid());
                r = write_id_maps(pid, spec, err);
                if (r < 0)
                        sl_error_prefix(err, "%s", sb_step_name(SB_STEP_USERNS_MAP));
        }
        if (r == 0 && spec->cgroup) {
                log_line(spec, "[cgroup] %s", sb_cgroup_path(spec->cgroup));
                r = sb_cgroup_attach(spec->cgroup, pid, err);
                if (r < 0)
                        sl_error_prefix(err, "%s", sb_step_name(SB_STEP_CGROUP));
        }
        if (r == 0 && write(sync_wr, "g", 1) != 1)
                r = sl_error_errno(err, "%s", sb_step_name(SB_STEP_SYNC));
        close(sl_steal_fd(&sync_wr));
        out->report_fd = sl_steal_fd(&rep_rd);
        if (r == 0)
                r = await_start(spec, out, exec_failed, err);
        free_ctx(&ctx, &eb);
        if (r < 0) {
                int st;
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                reap_now(pid, pidfd, &st);
                close(out->pidfd);
                close(out->report_fd);
                out->pidfd = out->report_fd = -1;
                close_ns(out);
                return -1;
        }
        return 0;
}

int sb_signal(const struct sb_slice *s, int sig, struct sl_error *err)
{
        if (syscall(SYS_pidfd_send_signal, s->pidfd, sig, NULL, 0) < 0)
                return sl_error_errno(err, "signal %d to slice pid %d", sig, (int)s->pid);
        return 0;
}

int sb_wait(struct sb_slice *s, struct sb_exit *ex, struct sl_error *err)
{
        struct sb_msg m;
        int have = 0, r;
        while (s->report_fd >= 0 && (r = read_msg(s->report_fd, &m)) > 0)
                if (m.type == SB_MSG_EXIT) {
                        have = 1;
                        break;
                }
        siginfo_t si;
        memset(&si, 0, sizeof si);
        do
                r = waitid(P_PIDFD, (id_t)s->pidfd, &si, WEXITED);
        while (r < 0 && errno == EINTR);
        int e = errno;
        if (s->report_fd >= 0)
                close(s->report_fd);
        close(s->pidfd);
        s->report_fd = s->pidfd = -1;
        close_ns(s);
        if (r < 0)
                return sl_error_set(err, e, "wait for slice pid %d", (int)s->pid);
        memset(ex, 0, sizeof *ex);
        if (have) {
                if (WIFEXITED(m.status)) {
                        ex->kind = SB_EXIT_CODE;
                        ex->code = WEXITSTATUS(m.status);
                } else {
                        ex->kind = SB_EXIT_SIGNAL;
                        ex->signal = WTERMSIG(m.status);
                        ex->core = WCOREDUMP(m.status);
                }
        } else if (si.si_code == CLD_EXITED) {
                ex->kind = SB_EXIT_CODE;
                ex->code = si.si_status;
        } else {
                /* the reaper itself was killed (e.g. SIGKILL, or the OOM killer) */
                ex->kind = SB_EXIT_SIGNAL;
                ex->signal = si.si_status;
                ex->core = si.si_code == CLD_DUMPED;
        }
        return 0;
}

int sb_exit_status(const struct sb_exit *ex)
{
        return ex->kind == SB_EXIT_CODE ? ex->code : 128 + ex->signal;
}
