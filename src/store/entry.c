/* Per-entry checks for st_unpack: pure functions of the tar header, run
 * before a byte of the entry is written. */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "store/entry.h"

/* Walk the '/'-separated components of p; cb gets each non-empty one except
 * ".". Returns what cb returns first when nonzero. */
static int st_each_component(const char *p, int (*cb)(const char *c, size_t n, void *ud), void *ud)
{
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n > 0 && !(n == 1 && p[0] == '.')) {
                        int r = cb(p, n, ud);
                        if (r)
                                return r;
                }
                p += n;
                while (*p == '/')
                        p++;
        }
        return 0;
}

static int st_is_dotdot(const char *c, size_t n)
{
        return n == 2 && c[0] == '.' && c[1] == '.';
}

static int st_count_cb(const char *c, size_t n, void *ud)
{
        int *depth = ud;
        if (st_is_dotdot(c, n))
                return 1;
        (*depth)++;
        return 0;
}

/* Depth of the entry's path (components other than "."), or -1 when one of
 * them is "..". */
int st_path_depth(const char *path)
{
        int depth = 0;
        return st_each_component(path, st_count_cb, &depth) ? -1 : depth;
}

struct st_link_walk {
        int depth;      /* components below the root we are at */
        int descending; /* seen a name: no ".." may follow */
};

static int st_link_cb(const char *c, size_t n, void *ud)
{
        struct st_link_walk *w = ud;
        if (!st_is_dotdot(c, n)) {
                w->descending = 1;
                w->depth++;
                return 0;
        }
        /* ".." only at the start of the target: after a name, the name may be
         * an in-tree symlink whose real depth differs from the lexical one
         * ("a/s" -> "..", then "t" -> "a/s/.." climbs out). */
        if (w->descending || w->depth == 0)
                return 1;
        w->depth--;
        return 0;
}

int st_symlink_stays_inside(const char *entry_path, const char *target)
{
        if (!target || !*target || target[0] == '/')
                return 0;
        int depth = st_path_depth(entry_path);
        if (depth < 1)
                return 0;
        /* The link resolves relative to the directory holding it. */
        struct st_link_walk w = {.depth = depth - 1, .descending = 0};
        return st_each_component(target, st_link_cb, &w) == 0;
}

static const char *st_type_refused(mode_t type)
{
        switch (type) {
        case AE_IFCHR: return "character device";
        case AE_IFBLK: return "block device";
        case AE_IFIFO: return "fifo";
        case AE_IFSOCK: return "socket";
        case AE_IFREG:
        case AE_IFDIR:
        case AE_IFLNK: return NULL;
        default: return "file of unknown type";
        }
}

int st_check_entry(struct archive_entry *e, const struct st_limits *lim, struct st_unpack_tally *t,
                   struct sl_error *err)
{
        const char *path = archive_entry_pathname(e);
        if (!path || !*path)
                return sl_error_set(err, 0, "entry without a path");
        if (++t->entries > lim->max_entries)
                return sl_error_set(err, 0, "entry `%s`: more than %llu entries", path,
                                    (unsigned long long)lim->max_entries);
        if (path[0] == '/')
                return sl_error_set(err, 0, "entry `%s`: absolute path", path);
        if (st_path_depth(path) < 0)
                return sl_error_set(err, 0, "entry `%s`: `..` component", path);
        /* Store archives carry no hardlinks: dedup happens per archive, and
         * a link's target is one more path to police (reject all, simplest). */
        const char *hl = archive_entry_hardlink(e);
        if (hl)
                return sl_error_set(err, 0, "entry `%s`: hardlink to `%s` refused", path, hl);
        mode_t type = archive_entry_filetype(e);
        const char *bad = st_type_refused(type);
        if (bad)
                return sl_error_set(err, 0, "entry `%s`: %s refused", path, bad);
        /* Refused, not stripped: a package asking for setuid is not one we
         * want to run with the bit quietly gone either. */
        mode_t mode = archive_entry_perm(e);
        if (mode & (S_ISUID | S_ISGID | S_ISVTX))
                return sl_error_set(err, 0, "entry `%s`: setuid/setgid/sticky mode %04o refused",
                                    path, (unsigned)mode);
        if (type == AE_IFLNK) {
                const char *target = archive_entry_symlink(e);
                if (!target || !*target)
                        return sl_error_set(err, 0, "entry `%s`: symlink without target", path);
                if (target[0] == '/')
                        return sl_error_set(err, 0, "entry `%s`: symlink target `%s` is absolute",
                                            path, target);
                if (!st_symlink_stays_inside(path, target))
                        return sl_error_set(err, 0,
                                            "entry `%s`: symlink target `%s` leaves the tree", path,
                                            target);
        }
        if (type == AE_IFREG) {
                /* The declared size is the apparent size: a sparse file's
                 * holes count, so a 10 GiB sparse bomb is caught here. */
                la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
                if (size < 0)
                        return sl_error_set(err, 0, "entry `%s`: negative size", path);
                if ((uint64_t)size > lim->max_bytes)
                        return sl_error_set(
                            err, 0, "entry `%s`: size %lld above the cap of %llu bytes", path,
                            (long long)size, (unsigned long long)lim->max_bytes);
                t->bytes += (uint64_t)size;
                if (t->bytes > lim->max_bytes)
                        return sl_error_set(err, 0,
                                            "entry `%s`: total size above the cap of %llu bytes",
                                            path, (unsigned long long)lim->max_bytes);
        }
        return 0;
}
