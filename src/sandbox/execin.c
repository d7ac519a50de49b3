/* Running a command inside an existing slice (exec health probes).
 *
 * A helper is cloned outside, placed in the slice's cgroup, joins the
 * slice's namespaces through its pidfd (one atomic setns for all of them),
 * and forks the command — which is then pid N of the slice's pid namespace.
 * The command confines itself exactly as the slice's own command did. The
 * helper waits and exits with the command's status, so the caller watches
 * one pidfd; the command has PDEATHSIG so killing the helper kills it. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/spawn_internal.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

extern char **environ;

static _Noreturn void probe_fail(const char *what)
{
        char buf[SB_MSG_DETAIL_MAX];
        int n = snprintf(buf, sizeof buf, "sliced: exec in slice: %s: %s\n", what, strerror(errno));
        ssize_t w = write(2, buf, (size_t)n);
        (void)w;
        _exit(125);
}

static _Noreturn void probe_command(const struct sb_exec_spec *x,
                                    const struct sb_seccomp_prog *prog)
{
        char msg[SB_MSG_DETAIL_MAX];
        enum sb_step step;
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                probe_fail("prctl(PR_SET_PDEATHSIG)");
        if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                probe_fail("close_range");
        if (chdir("/") < 0)
                probe_fail("chdir /");
        if (sb_drop_privileges(x->uid, x->gid, x->userns, &step, msg, sizeof msg) < 0 ||
            sb_verify_restrictions(x->uid, msg, sizeof msg) < 0)
                probe_fail(msg);
        int r = sb_seccomp_install(prog);
        if (r < 0) {
                errno = -r;
                probe_fail("seccomp");
        }
        environ = (char **)x->env;
        execvpe(x->argv[0], x->argv, (char **)x->env);
        int e = errno;
        snprintf(msg, sizeof msg, "exec `%s`", x->argv[0]);
        errno = e;
        char buf[SB_MSG_DETAIL_MAX + 64];
        int n = snprintf(buf, sizeof buf, "sliced: exec in slice: %s: %s\n", msg, strerror(e));
        ssize_t w = write(2, buf, (size_t)n);
        (void)w;
        _exit(e == ENOENT ? 127 : 126);
}

static _Noreturn void probe_helper(const struct sb_slice *slice, const struct sb_exec_spec *x,
                                   const struct sb_seccomp_prog *prog, int sync_rd)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                probe_fail("prctl(PR_SET_PDEATHSIG)");
        /* A copy of the supervisor's memory about to enter the slice: no
         * process there may open its /proc/PID/mem or environ. */
        if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
                probe_fail("prctl(PR_SET_DUMPABLE, 0)");
        char go;
        if (read(sync_rd, &go, 1) != 1)
                _exit(125);
        for (int i = 0; i < 3; i++) {
                int fd = x->stdio[i] >= 0 ? x->stdio[i] : open("/dev/null", O_RDWR | O_CLOEXEC);
                if (fd < 0 || (fd != i && dup2(fd, i) < 0))
                        probe_fail("stdio");
        }
        /* Join the slice's namespaces through the fds its reaper sent: the
         * user namespace first (it grants the capabilities the others need),
         * the mount namespace resets root and cwd to the slice's root, and
         * pid applies to children. */
        static const int types[SB_NS__COUNT] = {
            [SB_NS_USER] = CLONE_NEWUSER,     [SB_NS_MNT] = CLONE_NEWNS,
            [SB_NS_PID] = CLONE_NEWPID,       [SB_NS_NET] = CLONE_NEWNET,
            [SB_NS_IPC] = CLONE_NEWIPC,       [SB_NS_UTS] = CLONE_NEWUTS,
            [SB_NS_CGROUP] = CLONE_NEWCGROUP,
        };
        if (slice->ns_fds[SB_NS_MNT] < 0 || slice->ns_fds[SB_NS_PID] < 0) {
                errno = ENOENT;
                probe_fail("the slice's namespaces are not known");
        }
        for (int i = 0; i < SB_NS__COUNT; i++)
                if (slice->ns_fds[i] >= 0 && setns(slice->ns_fds[i], types[i]) < 0)
                        probe_fail("setns into the slice");
        pid_t pid = fork();
        if (pid < 0)
                probe_fail("fork");
        if (pid == 0)
                probe_command(x, prog);
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        probe_fail("waitpid");
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
}

int sb_exec_in(const struct sb_slice *slice, const struct sb_exec_spec *x, struct sb_slice *out,
               struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        out->pidfd = out->report_fd = -1;
        for (int i = 0; i < SB_NS__COUNT; i++)
                out->ns_fds[i] = -1;
        if (!x->argv || !x->argv[0])
                return sl_error_set(err, EINVAL, "exec in slice: no command");
        struct sb_seccomp_prog prog;
        memset(&prog, 0, sizeof prog);
        if (sb_seccomp_prog_get(x->profile ? x->profile : "posix", &prog, err) < 0)
                return -1;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                sb_seccomp_prog_release(&prog);
                return sl_error_errno(err, "pipe2");
        }
        _cleanup_close_ int sync_rd = p[0], sync_wr = p[1];
        int cg_fd = x->cgroup ? sb_cgroup_v2_fd(x->cgroup) : -1;
        int pidfd = -1;
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_PIDFD | (cg_fd >= 0 ? CLONE_INTO_CGROUP : 0);
        args.pidfd = (uint64_t)(uintptr_t)&pidfd;
        args.exit_signal = SIGCHLD;
        args.cgroup = cg_fd >= 0 ? (uint64_t)cg_fd : 0;
        pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid < 0) {
                sb_seccomp_prog_release(&prog);
                return sl_error_errno(err, "exec in slice: clone3");
        }
        if (pid == 0)
                probe_helper(slice, x, &prog, sync_rd);
        sb_seccomp_prog_release(&prog);
        out->pid = pid;
        out->pidfd = pidfd;
        /* v1 hierarchies: attach before the helper forks the command */
        if (x->cgroup && sb_cgroup_attach(x->cgroup, pid, err) < 0) {
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                struct sb_exit ex;
                sb_wait(out, &ex, NULL);
                return sl_error_prefix(err, "exec in slice");
        }
        if (write(sync_wr, "g", 1) != 1) {
                int e = errno;
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                struct sb_exit ex;
                sb_wait(out, &ex, NULL);
                return sl_error_set(err, e, "exec in slice: sync");
        }
        return 0;
}
