/* Slices that run a store package (`package: NAME@VERSION`): what to mount
 * at /pkg, and STORE/inuse.json, the record of which slice uses which
 * archives that keeps `pkg gc` from removing a tree a slice runs from.
 *
 * The store is opened read-only for one resolve at a time and closed right
 * after: its shared lock must not hold off an install for the life of a
 * slice. While the lock is held, the slice is already written into
 * inuse.json, so a gc that runs between the resolve and the mount still
 * sees the archives as in use.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "supervisor/supervisor.h"

/* The store's lock file (docs/store.md, "Store layout"). */
#define STORE_LOCK "lock"

/* The event loop must never wait for the store: an install holds its lock
 * exclusively for as long as its downloads take. Take the lock shared
 * without waiting first; while we hold it no writer can get in, so
 * st_store_open's own shared lock is granted at once (flock grants a shared
 * lock beside another shared one even while a writer waits). A store
 * without a lock file is left to st_store_open to judge. Returns the fd to
 * keep (or -1 when there is nothing to hold). */
static int lock_shared_nowait(const char *store_dir, struct sl_error *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/" STORE_LOCK, store_dir) >= (int)sizeof path)
                return sl_error_set(err, ENAMETOOLONG, "package store `%s`", store_dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 && (errno == ENOENT || errno == EACCES))
                return -1;
        if (fd < 0) {
                sl_error_errno(err, "open `%s`", path);
                return -2;
        }
        if (flock(fd, LOCK_SH | LOCK_NB) < 0) {
                int e = errno;
                close(fd);
                if (e == EWOULDBLOCK) {
                        sl_error_set(err, 0,
                                     "package store `%s` is busy (an install, removal or gc "
                                     "holds its lock); the start is tried again",
                                     store_dir);
                        err->code = EAGAIN;
                        return -2;
                }
                sl_error_set(err, e, "lock `%s`", path);
                return -2;
        }
        return fd;
}

/* One slice's entry of inuse.json; 0 when it holds no package. */
static int inuse_entry(const struct sv_slice *s, struct st_inuse_slice *e)
{
        if (!s->pkg_held)
                return 0;
        memset(e, 0, sizeof *e);
        if (snprintf(e->slice, sizeof e->slice, "%s", s->path) >= (int)sizeof e->slice)
                sv_log(s->sv, 4, "%s: path shortened in inuse.json (longer than %zu bytes)",
                       s->path, sizeof e->slice - 1);
        snprintf(e->package, sizeof e->package, "%s@%s", s->pkg.name, s->pkg.version);
        e->generation = s->pkg.generation;
        e->archives = s->pkg.archives; /* borrowed: st_inuse_write only reads */
        e->n_archives = s->pkg.n;
        return 1;
}

void sv_package_inuse_sync(struct sv_supervisor *sv)
{
        struct st_inuse_slice *v = calloc(sv->n_slices ? sv->n_slices : 1, sizeof *v);
        struct st_inuse u = {.slices = v};
        struct sl_error err;
        if (!v) {
                sv_log(sv, 3, "inuse.json: out of memory; not updated");
                return;
        }
        for (size_t i = 0; i < sv->n_slices; i++)
                u.n += (size_t)inuse_entry(sv->slices[i], &v[u.n]);
        /* not fatal: the slices run either way; a stale file only makes gc
         * keep more, or (missing a slice) is what `pkg gc` warns about */
        if (st_inuse_write(sv->cfg.store_dir, &u, &err) < 0)
                sv_log(sv, 3, "%s/inuse.json: %s", sv->cfg.store_dir, err.msg);
        free(v);
}

void sv_package_inuse_init(struct sv_supervisor *sv)
{
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/inuse.json", sv->cfg.store_dir);
        /* a sliced that died left its slices listed; none of them runs now */
        if (access(path, F_OK) == 0)
                sv_package_inuse_sync(sv);
}

int sv_package_acquire(struct sv_slice *s, struct sl_error *err)
{
        const char *dir = s->sv->cfg.store_dir;
        char name[ST_NAME_MAX], version[ST_VERSION_MAX];
        struct st_store *st = NULL;
        sv_package_release(s);
        s->pkg_busy = 0;
        if (st_spec_parse(s->spec->package, name, version, err) < 0)
                return -1;
        _cleanup_close_ int lock = lock_shared_nowait(dir, err);
        if (lock == -2) {
                s->pkg_busy = err->code == EAGAIN;
                return -1;
        }
        if (st_store_open(dir, ST_READ, &st, err) < 0)
                return sl_error_prefix(err, "package %s", s->spec->package);
        memset(&s->pkg, 0, sizeof s->pkg);
        if (st_store_resolve(st, name, version, &s->pkg, err) < 0) {
                memset(&s->pkg, 0, sizeof s->pkg);
                st_store_close(st);
                return -1;
        }
        if (!s->spec->exec && !s->pkg.command) {
                sl_error_set(err, 0,
                             "package %s has no slice command (no slice.command in its "
                             "package.json): give the slice an exec",
                             s->spec->package);
                st_resolved_free(&s->pkg);
                memset(&s->pkg, 0, sizeof s->pkg);
                st_store_close(st);
                return -1;
        }
        /* recorded while the store is still locked: from here a gc sees
         * these archives in use */
        s->pkg_held = 1;
        sv_package_inuse_sync(s->sv);
        st_store_close(st);
        return 0;
}

void sv_package_release(struct sv_slice *s)
{
        if (!s->pkg_held)
                return;
        s->pkg_held = 0;
        st_resolved_free(&s->pkg);
        memset(&s->pkg, 0, sizeof s->pkg);
        sv_package_inuse_sync(s->sv);
}

int sv_package_mounts(const struct sv_slice *s, struct sb_bind *bind, struct sb_overlay *overlay,
                      struct sl_error *err)
{
        const struct st_resolved *r = &s->pkg;
        if (!s->pkg_held || r->n == 0)
                return 0; /* nothing to mount (a package of no archives) */
        for (size_t i = 0; i < r->n; i++)
                if (!r->trees[i] || r->trees[i][0] != '/')
                        return sl_error_set(err, EINVAL,
                                            "package %s: tree %zu is not an absolute path",
                                            s->spec->package, i);
        if (r->n == 1) {
                /* one archive: its tree itself, bound read-only */
                bind->src = r->trees[0];
                bind->dest = SV_PACKAGE_DIR;
                bind->rw = 0;
                return 1;
        }
        /* several (its own archives, then its dependencies'): one read-only
         * union, the package's own archives on top */
        overlay->lower = (const char *const *)r->trees;
        overlay->n_lower = r->n;
        overlay->dest = SV_PACKAGE_DIR;
        return 2;
}

void sv_package_json(const struct sv_slice *s, json_t *o)
{
        if (!s->spec->package)
                return;
        json_object_set_new(o, "package", json_string(s->spec->package));
        if (!s->pkg_held) {
                json_object_set_new(o, "generation", json_null());
                json_object_set_new(o, "archives", json_null());
                return;
        }
        json_t *a = json_array();
        for (size_t i = 0; i < s->pkg.n; i++)
                json_array_append_new(a, json_string(s->pkg.archives[i]));
        json_object_set_new(o, "generation", json_integer((json_int_t)s->pkg.generation));
        json_object_set_new(o, "archives", a);
}
