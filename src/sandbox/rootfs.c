/* The slice's root filesystem.
 *
 * The caller turns the spec into a flat plan of mount operations before
 * clone (sb_rootfs_plan), so the child only executes it. The child:
 *   1. makes every mount a slave, so nothing it does propagates to the host;
 *   2. mounts a scratch tmpfs on /tmp and pivots into it, leaving the host
 *      root at /oldroot — from then on every host path is /oldroot/<path>
 *      and nothing of the host is reachable by a relative path;
 *   3. mounts the slice root (tmpfs) at /newroot and runs the plan into it;
 *   4. remounts /newroot read-only, detaches /oldroot, pivots into /newroot
 *      and detaches the scratch root.
 * This is bubblewrap's sequence; /proc is mounted in step 3 while the host's
 * /proc is still visible, which the kernel requires for a proc mount inside a
 * user namespace (mount_too_revealing()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/spawn_internal.h"

#define OLDROOT "/oldroot"
#define NEWROOT "/newroot"
/* The slice root only holds mount points, symlinks and empty files. */
#define ROOT_TMPFS_OPTS "mode=0755,size=1m,nr_inodes=4096"
/* /dev holds a handful of nodes and symlinks; /dev/shm is sized like /tmp. */
#define DEV_TMPFS_OPTS "mode=0755,size=64k,nr_inodes=64"

/* System paths a dynamically linked program needs. Merged-/usr systems have
 * /bin, /lib... as symlinks into /usr: those are recreated as symlinks. */
static const char *const system_dirs[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32",
};
/* The part of /etc programs read at start-up (loader cache, name service,
 * time zone, TLS roots); not shadow, not the host's service configuration. */
static const char *const system_etc[] = {
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",    "/etc/nsswitch.conf",
    "/etc/passwd",      "/etc/group",      "/etc/hosts",           "/etc/host.conf",
    "/etc/localtime",   "/etc/ssl",        "/etc/ca-certificates", "/etc/alternatives",
    "/etc/mime.types",  "/etc/protocols",  "/etc/services",        "/etc/python3",
    "/etc/python3.11",
};
/* Device nodes every program may use; tty only when asked. */
static const char *const dev_nodes[] = {"null", "zero", "full", "random", "urandom"};
/* /proc entries that expose or change host-wide state: read-only, as Docker
 * and bubblewrap leave them. */
static const char *const proc_ro[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};
/* /proc files with kernel memory or host-wide timing data: masked. */
static const char *const proc_masked[] = {"kcore", "keys", "timer_list", "kallsyms"};

struct plan {
        struct sb_mount_op *ops;
        size_t n, cap;
};

static struct sb_mount_op *plan_add(struct plan *p, enum sb_mount_kind kind, struct sl_error *err)
{
        if (p->n == p->cap) {
                size_t cap = p->cap ? p->cap * 2 : 32;
                struct sb_mount_op *ops = realloc(p->ops, cap * sizeof *ops);
                if (!ops) {
                        sl_error_set(err, ENOMEM, "mount plan");
                        return NULL;
                }
                p->ops = ops;
                p->cap = cap;
        }
        struct sb_mount_op *op = &p->ops[p->n++];
        memset(op, 0, sizeof *op);
        op->kind = kind;
        return op;
}

static int set_path(char *dst, const char *prefix, const char *path, const char *what,
                    struct sl_error *err)
{
        if (snprintf(dst, PATH_MAX, "%s%s", prefix, path) >= PATH_MAX)
                return sl_error_set(err, ENAMETOOLONG, "%s `%s`", what, path);
        return 0;
}

/* A bind of a host path; a missing source is an error unless optional. */
static int plan_bind(struct plan *p, const char *src, const char *dest, int rw, int optional,
                     struct sl_error *err)
{
        struct stat st;
        if (lstat(src, &st) < 0) {
                if (errno == ENOENT && optional)
                        return 0;
                return sl_error_errno(err, "granted path `%s`", src);
        }
        if (S_ISLNK(st.st_mode) && optional) {
                /* system paths that are symlinks are recreated as symlinks */
                char target[PATH_MAX];
                ssize_t n = readlink(src, target, sizeof target - 1);
                if (n < 0)
                        return sl_error_errno(err, "readlink `%s`", src);
                target[n] = '\0';
                struct sb_mount_op *op = plan_add(p, SB_MNT_SYMLINK, err);
                if (!op)
                        return -1;
                snprintf(op->src, sizeof op->src, "%s", target);
                return set_path(op->dest, NEWROOT, dest, "symlink", err);
        }
        if (stat(src, &st) < 0)
                return sl_error_errno(err, "granted path `%s`", src);
        if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
                return sl_error_set(err, EINVAL,
                                    "granted path `%s` is neither a directory nor a regular file",
                                    src);
        struct sb_mount_op *op = plan_add(p, SB_MNT_BIND, err);
        if (!op)
                return -1;
        op->rw = rw;
        op->is_dir = S_ISDIR(st.st_mode);
        op->optional = optional;
        if (set_path(op->src, OLDROOT, src, "granted path", err) < 0 ||
            set_path(op->dest, NEWROOT, dest, "destination", err) < 0)
                return -1;
        return 0;
}

static int plan_simple(struct plan *p, enum sb_mount_kind kind, const char *dest, const char *data,
                       struct sl_error *err)
{
        struct sb_mount_op *op = plan_add(p, kind, err);
        if (!op)
                return -1;
        if (data)
                snprintf(op->data, sizeof op->data, "%s", data);
        return set_path(op->dest, NEWROOT, dest, "mount point", err);
}

/* True when a path component is "..": a destination must not climb out of
 * the slice root through the mount points we create. */
static int has_dotdot(const char *path)
{
        for (const char *c = path; *c;) {
                while (*c == '/')
                        c++;
                size_t n = strcspn(c, "/");
                if (n == 2 && c[0] == '.' && c[1] == '.')
                        return 1;
                c += n;
        }
        return 0;
}

static int check_dest(const char *dest, struct sl_error *err)
{
        if (dest[0] != '/')
                return sl_error_set(err, EINVAL, "destination `%s` is not an absolute path", dest);
        if (has_dotdot(dest))
                return sl_error_set(err, EINVAL, "destination `%s` contains '..'", dest);
        static const char *const reserved[] = {"/proc", "/dev"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(reserved); i++) {
                size_t n = strlen(reserved[i]);
                if (!strncmp(dest, reserved[i], n) && (dest[n] == '\0' || dest[n] == '/'))
                        return sl_error_set(
                            err, EINVAL,
                            "destination `%s` is inside %s, which sliced builds itself", dest,
                            reserved[i]);
        }
        return 0;
}

static int plan_proc_dev_tmp(const struct sb_spec *spec, struct plan *p, struct sl_error *err)
{
        char buf[96];
        if (plan_simple(p, SB_MNT_PROC, "/proc", NULL, err) < 0)
                return -1;
        for (size_t i = 0; i < SL_ARRAY_SIZE(proc_ro); i++) {
                snprintf(buf, sizeof buf, "/proc/%s", proc_ro[i]);
                if (plan_simple(p, SB_MNT_RO_SELF, buf, NULL, err) < 0)
                        return -1;
        }
        for (size_t i = 0; i < SL_ARRAY_SIZE(proc_masked); i++) {
                snprintf(buf, sizeof buf, "/proc/%s", proc_masked[i]);
                if (plan_simple(p, SB_MNT_MASK, buf, NULL, err) < 0)
                        return -1;
        }

        if (plan_simple(p, SB_MNT_TMPFS, "/dev", DEV_TMPFS_OPTS, err) < 0)
                return -1;
        for (size_t i = 0; i <= SL_ARRAY_SIZE(dev_nodes); i++) {
                const char *node = i < SL_ARRAY_SIZE(dev_nodes) ? dev_nodes[i]
                                   : spec->dev_tty              ? "tty"
                                                                : NULL;
                if (!node)
                        break;
                struct sb_mount_op *op = plan_add(p, SB_MNT_DEV, err);
                if (!op)
                        return -1;
                snprintf(op->src, sizeof op->src, OLDROOT "/dev/%s", node);
                snprintf(op->dest, sizeof op->dest, NEWROOT "/dev/%s", node);
        }
        static const char *const links[][2] = {
            {"/proc/self/fd", "/dev/fd"},
            {"/proc/self/fd/0", "/dev/stdin"},
            {"/proc/self/fd/1", "/dev/stdout"},
            {"/proc/self/fd/2", "/dev/stderr"},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(links); i++) {
                struct sb_mount_op *op = plan_add(p, SB_MNT_SYMLINK, err);
                if (!op)
                        return -1;
                snprintf(op->src, sizeof op->src, "%s", links[i][0]);
                snprintf(op->dest, sizeof op->dest, NEWROOT "%s", links[i][1]);
        }
        uint64_t tmp = spec->tmp_size ? spec->tmp_size : SB_DEFAULT_TMP_SIZE;
        snprintf(buf, sizeof buf, "mode=1777,size=%llu", (unsigned long long)tmp);
        if (plan_simple(p, SB_MNT_TMPFS, "/dev/shm", buf, err) < 0 ||
            plan_simple(p, SB_MNT_REMOUNT_RO, "/dev", NULL, err) < 0)
                return -1;
        return plan_simple(p, SB_MNT_TMPFS, "/tmp", buf, err);
}

/* Overlay options that keep the union exactly the directories as they are:
 * no redirects and no metacopy, so no extended attribute in a lower layer
 * can send a lookup to another path. The trees carry none (st_unpack writes
 * no xattrs); this holds even if one were planted. No upperdir/workdir: the
 * kernel then mounts the overlay read-only, there is nowhere to write. */
#define OVERLAY_OPTS "redirect_dir=nofollow,metacopy=off"
/* Characters overlayfs's option parser treats specially in lowerdir: ','
 * ends the option, ':' separates layers, '\\' escapes. */
#define OVERLAY_BAD_CHARS ":,\\"

static int plan_overlay(struct plan *p, const struct sb_overlay *o, struct sl_error *err)
{
        if (o->n_lower < 2)
                return sl_error_set(err, EINVAL,
                                    "overlay on `%s`: %zu lower directories (it needs two or "
                                    "more; bind a single directory)",
                                    o->dest, o->n_lower);
        if (check_dest(o->dest, err) < 0)
                return -1;
        struct sb_mount_op *op = plan_add(p, SB_MNT_OVERLAY, err);
        if (!op)
                return -1;
        size_t off = (size_t)snprintf(op->src, sizeof op->src, "%s,lowerdir=", OVERLAY_OPTS);
        for (size_t i = 0; i < o->n_lower; i++) {
                const char *dir = o->lower[i];
                struct stat st;
                if (dir[0] != '/')
                        return sl_error_set(err, EINVAL,
                                            "overlay on `%s`: lower directory `%s` is not absolute",
                                            o->dest, dir);
                if (dir[strcspn(dir, OVERLAY_BAD_CHARS)])
                        return sl_error_set(err, EINVAL,
                                            "overlay on `%s`: lower directory `%s` contains ':', "
                                            "',' or '\\', which overlayfs options cannot carry",
                                            o->dest, dir);
                if (stat(dir, &st) < 0)
                        return sl_error_errno(err, "overlay on `%s`: lower directory `%s`", o->dest,
                                              dir);
                if (!S_ISDIR(st.st_mode))
                        return sl_error_set(err, ENOTDIR,
                                            "overlay on `%s`: lower directory `%s` is not a "
                                            "directory",
                                            o->dest, dir);
                int w = snprintf(op->src + off, sizeof op->src - off, "%s" OLDROOT "%s",
                                 i ? ":" : "", dir);
                if (w < 0 || (size_t)w >= sizeof op->src - off)
                        return sl_error_set(err, E2BIG,
                                            "overlay on `%s`: %zu lower directories make mount "
                                            "options longer than %zu bytes",
                                            o->dest, o->n_lower, sizeof op->src - 1);
                off += (size_t)w;
        }
        return set_path(op->dest, NEWROOT, o->dest, "destination", err);
}

int sb_rootfs_plan(const struct sb_spec *spec, struct sb_mount_op **ops, size_t *n,
                   struct sl_error *err)
{
        struct plan p = {0};
        if (!spec->no_system_paths) {
                for (size_t i = 0; i < SL_ARRAY_SIZE(system_dirs); i++)
                        if (plan_bind(&p, system_dirs[i], system_dirs[i], 0, 1, err) < 0)
                                goto fail;
                if (plan_simple(&p, SB_MNT_DIR, "/etc", NULL, err) < 0)
                        goto fail;
                for (size_t i = 0; i < SL_ARRAY_SIZE(system_etc); i++)
                        if (plan_bind(&p, system_etc[i], system_etc[i], 0, 1, err) < 0)
                                goto fail;
                if (spec->net == SB_NET_HOST &&
                    plan_bind(&p, "/etc/resolv.conf", "/etc/resolv.conf", 0, 1, err) < 0)
                        goto fail;
        }
        if (plan_proc_dev_tmp(spec, &p, err) < 0)
                goto fail;
        /* Overlays (a package at /pkg) before the granted paths: a grant
         * cannot sit inside one (its mount point could not be created in a
         * read-only overlay), so the order only makes that error plain. */
        for (size_t i = 0; i < spec->n_overlays; i++)
                if (plan_overlay(&p, &spec->overlays[i], err) < 0)
                        goto fail;
        /* Granted paths last, so a grant may sit inside a system path or /tmp. */
        for (size_t i = 0; i < spec->n_binds; i++) {
                const struct sb_bind *b = &spec->binds[i];
                if (b->src[0] != '/') {
                        sl_error_set(err, EINVAL, "granted path `%s` is not absolute", b->src);
                        goto fail;
                }
                if (check_dest(b->dest, err) < 0 ||
                    plan_bind(&p, b->src, b->dest, b->rw, 0, err) < 0)
                        goto fail;
        }
        *ops = p.ops;
        *n = p.n;
        return 0;
fail:
        free(p.ops);
        return -1;
}

/* ---- child side: no allocation below this line ---- */

static int fail(char *msg, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *msg, size_t len, const char *fmt, ...)
{
        int saved = errno;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, len, fmt, ap);
        va_end(ap);
        errno = saved;
        return -1;
}

enum mk_last { MK_FILE, MK_DIR, MK_NONE };

static int make_last(const char *path, enum mk_last last)
{
        if (last == MK_NONE)
                return 0;
        if (last == MK_DIR)
                return mkdir(path, 0755) < 0 && errno != EEXIST ? -1 : 0;
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0444);
        if (fd < 0)
                return errno == EEXIST ? 0 : -1;
        close(fd);
        return 0;
}

/* mkdir -p of the parents of path, then path itself as a directory, an empty
 * file (a bind target for a file), or nothing. Most parents exist already
 * (/newroot/etc for the tenth /etc file), so try the last component first
 * and walk the parents only when it reports ENOENT: a spawn makes ~50 mount
 * points and this halves its mkdir calls. */
static int make_parents(const char *path, enum mk_last last)
{
        if (make_last(path, last) == 0 && last != MK_NONE)
                return 0;
        if (last != MK_NONE && errno != ENOENT)
                return -1;
        char tmp[PATH_MAX];
        snprintf(tmp, sizeof tmp, "%s", path);
        for (char *s = tmp + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
                        return -1;
                *s = '/';
        }
        return make_last(tmp, last);
}

/* Apply mount attributes to a mount and (recursively) everything below it.
 * mount_setattr() handles locked submounts correctly, where a remount loop
 * cannot. */
static int set_attrs(const char *path, uint64_t set, int recursive)
{
        struct mount_attr attr = {.attr_set = set};
        return (int)syscall(SYS_mount_setattr, AT_FDCWD, path, recursive ? AT_RECURSIVE : 0, &attr,
                            sizeof attr);
}

/* A read-only overlay of host directories (a package's trees at /pkg).
 *
 * Privilege: mounting a file system needs CAP_SYS_ADMIN over our mount
 * namespace. As root the reaper has it; in user-namespace mode it has it
 * inside the namespace it owns, and overlayfs may be mounted there since
 * Linux 5.11 (FS_USERNS_MOUNT). Safe because: the mount is made in the
 * slice's private mount namespace below /newroot (step 1 made everything a
 * slave, so nothing propagates to the host); the layers are directories
 * the caller already named, reached through /oldroot with the reaper's own
 * credentials (in user-namespace mode those of the unprivileged caller, so
 * nothing the caller could not read becomes readable); with no upper layer
 * overlayfs has nowhere to write and marks its superblock read-only, and
 * the mount itself is made read-only, nosuid and nodev below, then read
 * back, so a store tree can neither be changed nor lend a setuid bit or a
 * device node to the slice. */
static int mount_overlay(const struct sb_mount_op *op, char *msg, size_t len)
{
        struct statvfs sv;
        if (make_parents(op->dest, MK_DIR) < 0)
                return fail(msg, len, "create mount point `%s`", op->dest);
        if (mount("overlay", op->dest, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, op->src) < 0)
                return fail(msg, len, "mount overlay on `%s` (%s)", op->dest, op->src);
        /* the same attributes as every read-only bind, the same way */
        if (set_attrs(op->dest, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 1) < 0)
                return fail(msg, len, "make `%s` read-only", op->dest);
        /* fail closed: refuse to go on unless the kernel says it took */
        if (statvfs(op->dest, &sv) < 0)
                return fail(msg, len, "statvfs `%s`", op->dest);
        if ((sv.f_flag & (ST_RDONLY | ST_NOSUID | ST_NODEV)) !=
            (ST_RDONLY | ST_NOSUID | ST_NODEV)) {
                errno = EPERM;
                return fail(msg, len, "overlay `%s` is not read-only, nosuid and nodev", op->dest);
        }
        return 0;
}

static int run_op(const struct sb_mount_op *op, char *msg, size_t len)
{
        struct stat st;
        switch (op->kind) {
        case SB_MNT_BIND:
                if (make_parents(op->dest, op->is_dir ? MK_DIR : MK_FILE) < 0)
                        return fail(msg, len, "create mount point `%s`", op->dest);
                /* Recursive bind: submounts of a granted path come along, and
                 * the attributes below cover them too. */
                if (mount(op->src, op->dest, NULL, MS_BIND | MS_REC, NULL) < 0)
                        return fail(msg, len, "bind `%s` on `%s`", op->src, op->dest);
                if (set_attrs(op->dest,
                              MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                  (op->rw ? 0 : MOUNT_ATTR_RDONLY),
                              1) < 0)
                        return fail(msg, len, "make `%s` %s", op->dest,
                                    op->rw ? "nosuid,nodev" : "read-only");
                return 0;
        case SB_MNT_DEV:
                if (make_parents(op->dest, MK_FILE) < 0)
                        return fail(msg, len, "create device node `%s`", op->dest);
                if (mount(op->src, op->dest, NULL, MS_BIND, NULL) < 0)
                        return fail(msg, len, "bind device `%s`", op->src);
                if (set_attrs(op->dest, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0) < 0)
                        return fail(msg, len, "make `%s` nosuid,noexec", op->dest);
                return 0;
        case SB_MNT_SYMLINK:
                if (make_parents(op->dest, MK_NONE) < 0)
                        return fail(msg, len, "create parent of `%s`", op->dest);
                if (symlink(op->src, op->dest) < 0)
                        return fail(msg, len, "symlink `%s` -> `%s`", op->dest, op->src);
                return 0;
        case SB_MNT_TMPFS:
                if (make_parents(op->dest, MK_DIR) < 0)
                        return fail(msg, len, "create mount point `%s`", op->dest);
                if (mount("tmpfs", op->dest, "tmpfs", MS_NOSUID | MS_NODEV, op->data) < 0)
                        return fail(msg, len, "mount tmpfs on `%s` (%s)", op->dest, op->data);
                return 0;
        case SB_MNT_PROC:
                if (make_parents(op->dest, MK_DIR) < 0)
                        return fail(msg, len, "create mount point `%s`", op->dest);
                if (mount("proc", op->dest, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        return fail(msg, len, "mount proc on `%s`", op->dest);
                return 0;
        case SB_MNT_DIR:
                if (make_parents(op->dest, MK_DIR) < 0)
                        return fail(msg, len, "mkdir `%s`", op->dest);
                return 0;
        case SB_MNT_RO_SELF:
                if (stat(op->dest, &st) < 0)
                        return 0; /* not on this kernel: nothing to protect */
                if (mount(op->dest, op->dest, NULL, MS_BIND | MS_REC, NULL) < 0 ||
                    set_attrs(op->dest,
                              MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
                                  MOUNT_ATTR_NOEXEC,
                              1) < 0)
                        return fail(msg, len, "make `%s` read-only", op->dest);
                return 0;
        case SB_MNT_MASK:
                if (stat(op->dest, &st) < 0)
                        return 0;
                if (mount(OLDROOT "/dev/null", op->dest, NULL, MS_BIND, NULL) < 0)
                        return fail(msg, len, "mask `%s`", op->dest);
                return 0;
        case SB_MNT_REMOUNT_RO:
                if (set_attrs(op->dest, MOUNT_ATTR_RDONLY, 0) < 0)
                        return fail(msg, len, "make `%s` read-only", op->dest);
                return 0;
        case SB_MNT_OVERLAY: return mount_overlay(op, msg, len);
        }
        errno = EINVAL;
        return fail(msg, len, "unknown mount operation %d", (int)op->kind);
}

int sb_rootfs_build(const struct sb_child_ctx *ctx, enum sb_step *step, char *msg, size_t msglen)
{
        /* 1. Nothing we mount may propagate back to the host. */
        *step = SB_STEP_MOUNT_PRIVATE;
        if (mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return fail(msg, msglen, "make / a recursive slave");

        /* 2. Scratch root on /tmp (it exists on every Linux host; our mount
         * namespace hides it from the host). Pivot into it, host root at
         * /oldroot. */
        *step = SB_STEP_MOUNT_BASE;
        if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") < 0)
                return fail(msg, msglen, "mount scratch tmpfs on /tmp");
        if (chdir("/tmp") < 0 || mkdir("newroot", 0755) < 0 || mkdir("oldroot", 0755) < 0)
                return fail(msg, msglen, "prepare scratch root");
        if (syscall(SYS_pivot_root, "/tmp", "/tmp/oldroot") < 0)
                return fail(msg, msglen, "pivot_root to scratch root");
        if (chdir("/") < 0)
                return fail(msg, msglen, "chdir /");

        /* 3. The slice root. */
        *step = SB_STEP_MOUNT_ROOT;
        if (mount("tmpfs", NEWROOT, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_TMPFS_OPTS) < 0)
                return fail(msg, msglen, "mount tmpfs on " NEWROOT);
        for (size_t i = 0; i < ctx->n_mounts; i++) {
                const struct sb_mount_op *op = &ctx->mounts[i];
                switch (op->kind) {
                case SB_MNT_PROC:
                case SB_MNT_RO_SELF:
                case SB_MNT_MASK: *step = SB_STEP_MOUNT_PROC; break;
                case SB_MNT_DEV: *step = SB_STEP_MOUNT_DEV; break;
                case SB_MNT_TMPFS: *step = SB_STEP_MOUNT_TMP; break;
                case SB_MNT_OVERLAY: *step = SB_STEP_MOUNT_OVERLAY; break;
                default: *step = SB_STEP_MOUNT_BIND; break;
                }
                if (run_op(op, msg, msglen) < 0)
                        return -1;
        }

        /* 4. Seal and switch. The root tmpfs becomes read-only (granted rw
         * binds keep their own flags); the host root is detached before the
         * final pivot so no path leads back to it. */
        *step = SB_STEP_PIVOT_ROOT;
        if (set_attrs(NEWROOT, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0) < 0)
                return fail(msg, msglen, "make " NEWROOT " read-only");
        if (umount2(OLDROOT, MNT_DETACH) < 0)
                return fail(msg, msglen, "detach " OLDROOT);
        if (chdir(NEWROOT) < 0)
                return fail(msg, msglen, "chdir " NEWROOT);
        /* pivot_root(".", "."): the scratch root ends up stacked on top of
         * the new root and is detached right after (runc's idiom). */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return fail(msg, msglen, "pivot_root into the slice root");
        if (umount2(".", MNT_DETACH) < 0)
                return fail(msg, msglen, "detach the scratch root");
        if (chdir("/") < 0)
                return fail(msg, msglen, "chdir / in the slice root");
        return 0;
}
