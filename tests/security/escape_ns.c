/* Escape attempts through mounts and namespaces: re-arranging the file
 * system view, or entering / creating namespaces where the slice would hold
 * capabilities again. */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

/* Paths that cannot exist in a slice root or on a host: a call that gets
 * past its privilege check then fails on the lookup instead of acting. */
#define ABSENT_A "/.sliced-probe-absent-a"
#define ABSENT_B "/.sliced-probe-absent-b"

void try_mount_tmpfs(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (mount("sliced-probe", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "size=4k") == 0) {
                umount2("/tmp", MNT_DETACH); /* undo: the old /tmp shows again */
                probe_escaped(r, "mounted a tmpfs on /tmp (detached it again)");
                return;
        }
        probe_failed(r, errno, "mount tmpfs on /tmp");
}

void try_umount_root(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The privilege check (may_mount) comes before the flag check, and
         * MNT_EXPIRE with MNT_DETACH is always EINVAL: nothing is unmounted
         * even when the call gets through. */
        long ret = umount2("/", MNT_EXPIRE | MNT_DETACH);
        probe_call_past(r, ret, "umount2(/, MNT_EXPIRE|MNT_DETACH)", PROBE_PAST(EINVAL));
}

static int is_read_only(const char *path)
{
        struct statvfs st;
        return statvfs(path, &st) == 0 && (st.f_flag & ST_RDONLY);
}

void try_remount_root_rw(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Outside a slice / is writable already; say so instead of touching
         * the host's mount flags. */
        if (!is_read_only("/")) {
                probe_escaped(r, "/ is writable");
                return;
        }
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL) == 0) {
                probe_escaped(r, "remounted / read-write");
                return;
        }
        probe_failed(r, errno, "remount / read-write");
}

void try_mount_setattr_rw(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (!is_read_only("/usr")) {
                probe_escaped(r, "/usr is writable");
                return;
        }
        struct mount_attr clear = { .attr_clr = MOUNT_ATTR_RDONLY };
        if (syscall(SYS_mount_setattr, AT_FDCWD, "/usr", AT_RECURSIVE, &clear,
                    sizeof clear) == 0) {
                struct mount_attr set = { .attr_set = MOUNT_ATTR_RDONLY };
                syscall(SYS_mount_setattr, AT_FDCWD, "/usr", AT_RECURSIVE, &set, sizeof set);
                probe_escaped(r, "made /usr read-write with mount_setattr (set back)");
                return;
        }
        probe_failed(r, errno, "mount_setattr(/usr, clear MOUNT_ATTR_RDONLY)");
}

void try_fsopen(const struct probe_ctx *ctx, struct probe_result *r)
{
        int fd = (int)syscall(SYS_fsopen, "tmpfs", FSOPEN_CLOEXEC);
        if (fd >= 0) {
                close(fd);
                probe_escaped(r, "fsopen(tmpfs) gave a file system context");
                return;
        }
        probe_failed(r, errno, "fsopen(tmpfs)");
}

void try_open_tree_clone(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* A detached copy of / could be attached anywhere with move_mount. */
        int fd = (int)syscall(SYS_open_tree, AT_FDCWD, "/", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd >= 0) {
                close(fd);
                probe_escaped(r, "open_tree(/, OPEN_TREE_CLONE) cloned the root mount");
                return;
        }
        probe_failed(r, errno, "open_tree(/, OPEN_TREE_CLONE)");
}

void try_pivot_root(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* may_mount() is checked before the paths are looked up: ENOENT
         * means the privilege check passed. */
        long ret = syscall(SYS_pivot_root, ABSENT_A, ABSENT_B);
        probe_call_past(r, ret, "pivot_root(" ABSENT_A ", " ABSENT_B ")", PROBE_PAST(ENOENT));
}

void try_chroot(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (chroot("/tmp") == 0) {
                probe_escaped(r, "chroot(/tmp) succeeded (the classic chroot-break setup)");
                return;
        }
        probe_failed(r, errno, "chroot(/tmp)");
}

void try_unshare_user(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The kernel lets any process do this: only the filter stops a slice
         * from gaining a full capability set over new namespaces. */
        if (unshare(CLONE_NEWUSER) == 0) {
                probe_escaped(r, "unshare(CLONE_NEWUSER): capabilities in a new user namespace");
                return;
        }
        probe_failed(r, errno, "unshare(CLONE_NEWUSER)");
}

void try_unshare_mount(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (unshare(CLONE_NEWNS) == 0) {
                probe_escaped(r, "unshare(CLONE_NEWNS) succeeded");
                return;
        }
        probe_failed(r, errno, "unshare(CLONE_NEWNS)");
}

void try_setns_net(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* pid 1 of a slice is its reaper; its handle is refused to a slice
         * (EACCES). Then try our own, which setns also must refuse (it
         * needs CAP_SYS_ADMIN): either way setns itself is exercised. */
        const char *path = "/proc/1/ns/net";
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        int open_err = fd < 0 ? errno : 0;
        if (fd < 0) {
                path = "/proc/self/ns/net";
                fd = open(path, O_RDONLY | O_CLOEXEC);
        }
        if (fd < 0) {
                probe_failed(r, errno, "open /proc/1/ns/net (%s) and %s",
                             probe_errname(open_err), path);
                return;
        }
        long ret = setns(fd, CLONE_NEWNET);
        int e = errno;
        close(fd);
        if (ret == 0) {
                probe_escaped(r, "setns(%s) succeeded", path);
                return;
        }
        if (open_err)
                probe_failed(r, e, "open /proc/1/ns/net: %s; setns(%s)",
                             probe_errname(open_err), path);
        else
                probe_failed(r, e, "setns(%s)", path);
}

/* Reap a child created by an escaped clone; it exits at once. */
static void reap(pid_t pid)
{
        int st;
        while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
                ;
}

void try_clone_newuser(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Raw clone with a NULL stack behaves like fork. */
        long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL,
                           NULL, 0UL);
        if (pid == 0)
                _exit(0);
        if (pid > 0) {
                reap((pid_t)pid);
                probe_escaped(r, "clone(CLONE_NEWUSER) created a child in a new user namespace");
                return;
        }
        probe_failed(r, errno, "clone(CLONE_NEWUSER)");
}

void try_clone3(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* clone3 passes its flags in memory, where seccomp cannot look, so
         * a filter must refuse it whole with ENOSYS (libc then falls back to
         * clone, whose flags it can check). */
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = CLONE_NEWUSER;
        args.exit_signal = SIGCHLD;
        long pid = syscall(SYS_clone3, &args, sizeof args);
        if (pid == 0)
                _exit(0);
        if (pid > 0) {
                reap((pid_t)pid);
                probe_escaped(r, "clone3(CLONE_NEWUSER) created a child in a new user namespace");
                return;
        }
        probe_failed(r, errno, "clone3(CLONE_NEWUSER)");
}
