/* Escape attempts through the file system: host files that must not be in
 * the slice at all, read-only binds that must stay read-only, device nodes,
 * and the /proc and /sys files that classic container escapes write to. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "probe.h"

#define MIB (1024ULL * 1024ULL)
/* SB_DEFAULT_TMP_SIZE (src/sandbox/spawn.h): the /tmp size when the runner
 * does not say. */
#define DEFAULT_TMP_SIZE (64 * MIB)

/* Every path must be missing: ENOENT if so, else the first one found. */
static void all_absent(struct probe_result *r, const char *const *paths, size_t n,
                       int open_flags)
{
        char list[PROBE_DETAIL_MAX / 2] = "";
        size_t used = 0;
        for (size_t i = 0; i < n; i++) {
                int fd = open(paths[i], open_flags | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                if (fd >= 0) {
                        close(fd);
                        probe_escaped(r, "opened %s", paths[i]);
                        return;
                }
                if (errno != ENOENT) {
                        probe_failed(r, errno, "open %s", paths[i]);
                        return;
                }
                if (used < sizeof list)
                        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s",
                                                 i ? " " : "", paths[i]);
        }
        probe_failed(r, ENOENT, "open %s", list);
}

void try_read_shadow(const struct probe_ctx *ctx, struct probe_result *r)
{
        char buf[256];
        long n = probe_read_file("/etc/shadow", buf, sizeof buf);
        if (n >= 0) {
                probe_escaped(r, "read %ld bytes of /etc/shadow", n);
                return;
        }
        probe_failed(r, errno, "read /etc/shadow");
}

void try_host_home(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Host directories that hold secrets or state and are never part of
         * a slice unless granted. */
        static const char *const host[] = {
                "/root", "/home", "/var", "/run", "/srv", "/opt", "/mnt", "/boot",
                "/etc/ssh", "/etc/sudoers",
        };
        all_absent(r, host, sizeof host / sizeof host[0], O_PATH);
}

/* Directory holding the probe: the runner grants it read-only. */
static int granted_dir(char *dir, size_t len)
{
        ssize_t n = readlink("/proc/self/exe", dir, len - 1);
        if (n < 0)
                return -1;
        dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash)
                *slash = '\0';
        return 0;
}

/* Create (and remove again) a file in dir; fills r. */
static void try_create(struct probe_result *r, const char *dir)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/.sliced-probe-%d", strcmp(dir, "/") ? dir : "",
                 (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0) {
                close(fd);
                unlink(path);
                probe_escaped(r, "created %s (removed it)", path);
                return;
        }
        probe_failed(r, errno, "create %s", path);
}

void try_write_usr(const struct probe_ctx *ctx, struct probe_result *r)
{
        try_create(r, "/usr");
}

void try_write_granted(const struct probe_ctx *ctx, struct probe_result *r)
{
        char dir[PATH_MAX];
        if (granted_dir(dir, sizeof dir) < 0) {
                probe_failed(r, errno, "readlink /proc/self/exe");
                return;
        }
        try_create(r, dir);
}

void try_create_in_root(const struct probe_ctx *ctx, struct probe_result *r)
{
        try_create(r, "/");
}

void try_granted_only(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Granting /a/b/c makes /a and /a/b exist as bare mount points:
         * each must hold nothing but the next component (no host siblings). */
        char dir[PATH_MAX];
        if (granted_dir(dir, sizeof dir) < 0) {
                probe_failed(r, errno, "readlink /proc/self/exe");
                return;
        }
        char *cut;
        while ((cut = strrchr(dir, '/')) && cut != dir) {
                const char *child = cut + 1;
                *cut = '\0';
                DIR *d = opendir(dir);
                if (!d) {
                        probe_failed(r, errno, "opendir %s", dir);
                        return;
                }
                struct dirent *e;
                while ((e = readdir(d)))
                        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
                            strcmp(e->d_name, child)) {
                                probe_escaped(r, "%s/%s is visible next to the grant", dir,
                                              e->d_name);
                                closedir(d);
                                return;
                        }
                closedir(d);
        }
        probe_holds(r, "each parent of the granted directory holds only the path to it");
}

void try_mknod_device(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* A device node for a disk would bypass every mount restriction;
         * 1:3 (/dev/null) is what we ask for, so nothing could be reached
         * even if it were created. */
        char path[64];
        snprintf(path, sizeof path, "/tmp/.sliced-probe-dev-%d", (int)getpid());
        if (mknod(path, S_IFCHR | 0600, makedev(1, 3)) == 0) {
                unlink(path);
                probe_escaped(r, "created character device %s (removed it)", path);
                return;
        }
        probe_failed(r, errno, "mknod %s c 1 3", path);
}

void try_dev_disk(const struct probe_ctx *ctx, struct probe_result *r)
{
        static const char *const disks[] = {
                "/dev/sda", "/dev/vda", "/dev/xvda", "/dev/nvme0n1", "/dev/loop0", "/dev/dm-0",
        };
        all_absent(r, disks, sizeof disks / sizeof disks[0], O_RDONLY);
}

void try_dev_mem(const struct probe_ctx *ctx, struct probe_result *r)
{
        static const char *const mem[] = { "/dev/mem", "/dev/kmem", "/dev/port", "/dev/kmsg" };
        all_absent(r, mem, sizeof mem / sizeof mem[0], O_RDONLY);
}

/* The device nodes a slice gets, and what they must really be. */
static const struct {
        const char *name;
        unsigned int major, minor;
} dev_allowed[] = {
        { "null", 1, 3 }, { "zero", 1, 5 }, { "full", 1, 7 }, { "random", 1, 8 },
        { "urandom", 1, 9 }, { "tty", 5, 0 },
};

void try_dev_minimal(const struct probe_ctx *ctx, struct probe_result *r)
{
        DIR *d = opendir("/dev");
        if (!d) {
                probe_failed(r, errno, "opendir /dev");
                return;
        }
        int nodes = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
                struct stat st;
                if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !(S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)))
                        continue;
                size_t i = 0;
                while (i < sizeof dev_allowed / sizeof dev_allowed[0] &&
                       strcmp(dev_allowed[i].name, e->d_name))
                        i++;
                if (S_ISBLK(st.st_mode) || i == sizeof dev_allowed / sizeof dev_allowed[0] ||
                    major(st.st_rdev) != dev_allowed[i].major ||
                    minor(st.st_rdev) != dev_allowed[i].minor) {
                        probe_escaped(r, "/dev/%s is a %s device %u:%u", e->d_name,
                                      S_ISBLK(st.st_mode) ? "block" : "character",
                                      major(st.st_rdev), minor(st.st_rdev));
                        closedir(d);
                        return;
                }
                nodes++;
        }
        closedir(d);
        probe_holds(r, "/dev holds %d device nodes, all from null zero full random urandom tty",
                    nodes);
}

/* Opened file is /dev/null: a masked /proc entry. */
static int is_dev_null(int fd)
{
        struct stat st;
        return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
               minor(st.st_rdev) == 3;
}

/* Open a /proc file that must be unreachable: masked (/dev/null) or refused. */
static void proc_guarded(struct probe_result *r, const char *path, int flags)
{
        int fd = open(path, flags | O_CLOEXEC);
        if (fd < 0) {
                probe_failed(r, errno, "open %s %s", path,
                             (flags & O_ACCMODE) == O_RDONLY ? "read-only" : "for writing");
                return;
        }
        int masked = is_dev_null(fd);
        close(fd);
        if (masked)
                probe_holds(r, "%s is masked by /dev/null", path);
        else
                probe_escaped(r, "opened %s %s", path,
                              (flags & O_ACCMODE) == O_RDONLY ? "read-only" : "for writing");
}

void try_proc_sysrq_trigger(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* One character here reboots or crashes the host. */
        proc_guarded(r, "/proc/sysrq-trigger", O_WRONLY);
}

void try_proc_kcore(const struct probe_ctx *ctx, struct probe_result *r)
{
        proc_guarded(r, "/proc/kcore", O_RDONLY);
}

void try_proc_core_pattern(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* "|/path" in core_pattern runs a program as root on the host at the
         * next crash: the best-known container escape through /proc/sys. */
        proc_guarded(r, "/proc/sys/kernel/core_pattern", O_WRONLY);
}

void try_sys_absent(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* uevent_helper and a cgroup v1 release_agent run programs as root
         * on the host; /sys is not mounted in a slice. */
        static const char *const sys[] = {
                "/sys/kernel/uevent_helper", "/sys/fs/cgroup", "/sys/kernel/security",
        };
        all_absent(r, sys, sizeof sys / sizeof sys[0], O_PATH);
}

void try_host_sockets(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Host daemons that act on request: systemd, D-Bus, Docker,
         * containerd. A slice sees none of their sockets. */
        static const char *const socks[] = {
                "/run/systemd/private", "/run/dbus/system_bus_socket",
                "/var/run/docker.sock", "/run/containerd/containerd.sock",
                "/run/systemd/journal/socket",
        };
        for (size_t i = 0; i < sizeof socks / sizeof socks[0]; i++) {
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (s < 0) {
                        probe_failed(r, errno, "socket(AF_UNIX)");
                        return;
                }
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                snprintf(sa.sun_path, sizeof sa.sun_path, "%s", socks[i]);
                int ret = connect(s, (struct sockaddr *)&sa, sizeof sa);
                int e = errno;
                close(s);
                if (ret == 0) {
                        probe_escaped(r, "connected to %s", socks[i]);
                        return;
                }
                if (e != ENOENT) {
                        probe_failed(r, e, "connect %s", socks[i]);
                        return;
                }
        }
        probe_failed(r, ENOENT, "connect to the systemd, D-Bus, Docker, containerd and journal "
                                "sockets");
}

void try_tmp_size(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* ctx->arg: the /tmp size the runner gave slicectl, in bytes. */
        unsigned long long limit = ctx->arg ? strtoull(ctx->arg, NULL, 10) : DEFAULT_TMP_SIZE;
        struct statfs sf;
        if (statfs("/tmp", &sf) < 0) {
                probe_failed(r, errno, "statfs /tmp");
                return;
        }
        unsigned long long size = (unsigned long long)sf.f_blocks * (unsigned long long)sf.f_bsize;
        if (size > limit) {
                probe_escaped(r, "/tmp holds %llu bytes, the limit is %llu", size, limit);
                return;
        }
        char path[64];
        snprintf(path, sizeof path, "/tmp/.sliced-probe-fill-%d", (int)getpid());
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
                probe_failed(r, errno, "create %s", path);
                return;
        }
        unlink(path); /* the space goes when fd closes */
        int ret = posix_fallocate(fd, 0, (off_t)(limit + MIB));
        close(fd);
        if (ret == 0) {
                probe_escaped(r, "allocated %llu bytes in /tmp, beyond its %llu", limit + MIB,
                              limit);
                return;
        }
        probe_failed(r, ret, "allocate %llu bytes in a /tmp of %llu", limit + MIB, limit);
}
