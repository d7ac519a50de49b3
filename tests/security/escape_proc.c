/* Escape attempts through other processes: the reaper (pid 1 of the slice,
 * which holds the report channel to the supervisor), and anything of the
 * host that should not even be visible. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* Below mmap_min_addr (64 KiB on every distribution kernel): never mapped, so
 * a cross-process copy that passes its permission check faults instead of
 * touching the other process. */
#define NEVER_MAPPED ((void *)0x1000)

void try_ptrace_attach(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (ptrace(PTRACE_ATTACH, 1, NULL, NULL) == 0) {
                int st;
                waitpid(1, &st, __WALL); /* the attach stop, then let go */
                ptrace(PTRACE_DETACH, 1, NULL, NULL);
                probe_escaped(r, "ptrace(PTRACE_ATTACH, 1) attached to pid 1 (detached)");
                return;
        }
        probe_failed(r, errno, "ptrace(PTRACE_ATTACH, 1)");
}

void try_process_vm_readv(const struct probe_ctx *ctx, struct probe_result *r)
{
        char byte;
        struct iovec local = { &byte, 1 }, remote = { NEVER_MAPPED, 1 };
        long ret = syscall(SYS_process_vm_readv, 1, &local, 1UL, &remote, 1UL, 0UL);
        probe_call_past(r, ret, "process_vm_readv(pid 1)", PROBE_PAST(EFAULT));
}

void try_process_vm_writev(const struct probe_ctx *ctx, struct probe_result *r)
{
        char byte = 0;
        struct iovec local = { &byte, 1 }, remote = { NEVER_MAPPED, 1 };
        long ret = syscall(SYS_process_vm_writev, 1, &local, 1UL, &remote, 1UL, 0UL);
        probe_call_past(r, ret, "process_vm_writev(pid 1)", PROBE_PAST(EFAULT));
}

void try_pidfd_getfd(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* pidfd_getfd would copy the reaper's fds (its report pipe to the
         * supervisor) into the slice. */
        int pfd = (int)syscall(SYS_pidfd_open, 1, 0U);
        if (pfd < 0) {
                probe_failed(r, errno, "pidfd_open(1)");
                return;
        }
        for (int target = 0; target < 16; target++) {
                int fd = (int)syscall(SYS_pidfd_getfd, pfd, target, 0U);
                if (fd >= 0) {
                        close(fd);
                        close(pfd);
                        probe_escaped(r, "pidfd_getfd took fd %d of pid 1", target);
                        return;
                }
                if (errno != EBADF) { /* EBADF: pid 1 has no such fd */
                        int e = errno;
                        close(pfd);
                        probe_failed(r, e, "pidfd_getfd(pid 1, fd %d)", target);
                        return;
                }
        }
        close(pfd);
        probe_escaped(r, "pidfd_getfd on pid 1 got past the permission check (EBADF)");
}

void try_proc_pid1_environ(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The reaper is a clone of the supervisor: its environment is the
         * host's. */
        char buf[4096];
        long n = probe_read_file("/proc/1/environ", buf, sizeof buf);
        if (n >= 0) {
                probe_escaped(r, "read %ld bytes of pid 1's environment (first: %.60s)", n,
                              n ? buf : "");
                return;
        }
        probe_failed(r, errno, "read /proc/1/environ");
}

void try_proc_pid1_fd(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Through /proc/1/fd/N a process could reopen the reaper's report
         * pipe and forge messages to the supervisor. */
        DIR *d = opendir("/proc/1/fd");
        if (!d) {
                probe_failed(r, errno, "opendir /proc/1/fd");
                return;
        }
        char list[128] = "";
        size_t used = 0;
        struct dirent *e;
        while ((e = readdir(d)) && used < sizeof list - 8)
                if (e->d_name[0] != '.')
                        used += (size_t)snprintf(list + used, sizeof list - used, " %s",
                                                 e->d_name);
        closedir(d);
        probe_escaped(r, "listed pid 1's open fds:%s", list);
}

void try_proc_pid1_mem(const struct probe_ctx *ctx, struct probe_result *r)
{
        int fd = open("/proc/1/mem", O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                close(fd);
                probe_escaped(r, "opened pid 1's memory read-write");
                return;
        }
        probe_failed(r, errno, "open /proc/1/mem read-write");
}

void try_proc_pid1_exe(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* CVE-2019-5736 (runc): through /proc/<pid>/exe a container reached
         * the host binary that set it up. The reaper runs the supervisor's
         * image. */
        char target[PATH_MAX];
        ssize_t n = readlink("/proc/1/exe", target, sizeof target - 1);
        if (n >= 0) {
                target[n] = '\0';
                probe_escaped(r, "pid 1's executable is reachable: %s", target);
                return;
        }
        probe_failed(r, errno, "readlink /proc/1/exe");
}

static int is_number(const char *s)
{
        if (!*s)
                return 0;
        for (; *s; s++)
                if (!isdigit((unsigned char)*s))
                        return 0;
        return 1;
}

void try_proc_only_slice(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Our parent must be pid 1 (the reaper), and /proc must show no
         * process but the reaper and us: no host pid is visible. */
        pid_t self = getpid(), parent = getppid();
        if (parent != 1) {
                probe_escaped(r, "our parent is pid %d, not the slice's reaper", (int)parent);
                return;
        }
        DIR *d = opendir("/proc");
        if (!d) {
                probe_failed(r, errno, "opendir /proc");
                return;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
                if (!is_number(e->d_name))
                        continue;
                long pid = strtol(e->d_name, NULL, 10);
                if (pid != 1 && pid != self) {
                        closedir(d);
                        probe_escaped(r, "/proc shows pid %ld, which is not ours", pid);
                        return;
                }
        }
        closedir(d);
        probe_holds(r, "/proc lists only pid 1 (our parent) and us (pid %d)", (int)self);
}

void try_kill_all(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* kill(-1) reaches every process we may signal except pid 1 of our
         * namespace and ourselves. Ask first with signal 0, so a run outside
         * a slice only finds out; SIGKILL only once nothing can be hit. */
        if (kill(-1, 0) == 0) {
                probe_escaped(r, "kill(-1, 0) found processes to signal (SIGKILL not sent)");
                return;
        }
        if (errno != ESRCH) {
                probe_failed(r, errno, "kill(-1, 0)");
                return;
        }
        if (kill(-1, SIGKILL) == 0) {
                probe_escaped(r, "kill(-1, SIGKILL) signalled some process");
                return;
        }
        probe_failed(r, errno, "kill(-1, SIGKILL)");
}
