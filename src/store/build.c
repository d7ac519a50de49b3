/* Package build: see build.h. The archive writer walks the tree itself
 * (openat, no symlink followed) instead of libarchive's disk reader, so that
 * nothing about the build machine (owners, times, xattrs, ACLs, readdir
 * order, hardlink pairs) reaches the archive bytes. */
#include "store/build.h"
#include "store/tuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/entry.h"
#include "store/store.h"
#include "store/util.h"

/* A package lists at most this many archives (the manifest's own cap). */
#define ST_BUILD_MAX_ARCHIVES 1024
/* Copy buffer for file contents. */
#define ST_BUILD_CHUNK (64 * 1024)
/* Bits a stored mode keeps: permissions without group/other write. */
#define ST_BUILD_MODE_MASK (0777 & ~(mode_t)022)

static void st_archive_writep(struct archive **a)
{
        if (*a)
                archive_write_free(*a);
}
#define _cleanup_awrite_ __attribute__((cleanup(st_archive_writep)))

static void st_entryp(struct archive_entry **e)
{
        if (*e)
                archive_entry_free(*e);
}
#define _cleanup_entry_ __attribute__((cleanup(st_entryp)))

static void st_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
#define _cleanup_dir_ __attribute__((cleanup(st_closedirp)))

/* A path to remove unless the build succeeded (set to "" to keep). */
static void st_unlinkp(char (*p)[PATH_MAX])
{
        if ((*p)[0]) {
                int saved = errno;
                unlink(*p);
                errno = saved;
        }
}

/* One archive being written. */
struct st_tar {
        struct archive *a;
        const char *root;    /* DIR/SUBDIR, for messages */
        char path[PATH_MAX]; /* the entry's name inside the archive */
};

struct st_names {
        char **v;
        size_t n, cap;
};

static void st_names_free(struct st_names *ns)
{
        for (size_t i = 0; i < ns->n; i++)
                free(ns->v[i]);
        free(ns->v);
}
#define _cleanup_names_ __attribute__((cleanup(st_names_free)))

static int st_cmp_names(const void *a, const void *b)
{
        /* strcmp compares as unsigned char: a bytewise order, no locale */
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory at dfd but "." and "..", sorted bytewise:
 * readdir order depends on the file system and the history of the
 * directory, the archive must not. */
static int st_list_sorted(int dfd, const struct st_tar *t, struct st_names *ns,
                          struct sl_error *err)
{
        const char *sep = t->path[0] ? "/" : "";
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "open `%s%s%s`", t->root, sep, t->path);
        _cleanup_dir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return sl_error_errno(err, "open `%s%s%s`", t->root, sep, t->path);
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (ns->n == ns->cap) {
                        size_t cap = ns->cap ? ns->cap * 2 : 16;
                        char **v = realloc(ns->v, cap * sizeof *v);
                        if (!v)
                                return sl_error_set(err, ENOMEM, "list `%s`", t->root);
                        ns->v = v;
                        ns->cap = cap;
                }
                if (!(ns->v[ns->n] = strdup(de->d_name)))
                        return sl_error_set(err, ENOMEM, "list `%s`", t->root);
                ns->n++;
        }
        if (errno)
                return sl_error_errno(err, "read directory `%s%s%s`", t->root, sep, t->path);
        if (ns->n)
                qsort(ns->v, ns->n, sizeof *ns->v, st_cmp_names);
        return 0;
}

static const char *st_type_refused(mode_t mode)
{
        if (S_ISCHR(mode))
                return "character device";
        if (S_ISBLK(mode))
                return "block device";
        if (S_ISFIFO(mode))
                return "fifo";
        if (S_ISSOCK(mode))
                return "socket";
        if (S_ISREG(mode) || S_ISDIR(mode) || S_ISLNK(mode))
                return NULL;
        return "file of unknown type";
}

/* The refusals of st_check_entry (entry.c), on the build side: what the
 * store would refuse to unpack is refused here, naming the file. */
static int st_check_file(struct st_tar *t, const struct stat *st, int dfd, const char *name,
                         char *target, size_t target_cap, struct sl_error *err)
{
        const char *bad = st_type_refused(st->st_mode);
        if (bad)
                return sl_error_set(err, 0, "%s/%s: %s refused", t->root, t->path, bad);
        if (st->st_mode & (S_ISUID | S_ISGID | S_ISVTX))
                return sl_error_set(err, 0, "%s/%s: setuid/setgid/sticky mode %04o refused",
                                    t->root, t->path, (unsigned)(st->st_mode & 07777));
        if (!S_ISLNK(st->st_mode))
                return 0;
        ssize_t n = readlinkat(dfd, name, target, target_cap);
        if (n < 0)
                return sl_error_errno(err, "readlink `%s/%s`", t->root, t->path);
        if ((size_t)n >= target_cap)
                return sl_error_set(err, ENAMETOOLONG, "readlink `%s/%s`", t->root, t->path);
        target[n] = 0;
        if (target[0] == '/')
                return sl_error_set(err, 0, "%s/%s: symlink target `%s` is absolute", t->root,
                                    t->path, target);
        if (!st_symlink_stays_inside(t->path, target))
                return sl_error_set(err, 0, "%s/%s: symlink target `%s` leaves the tree", t->root,
                                    t->path, target);
        return 0;
}

/* Exactly size bytes of the file at fd into the archive: a file that grew
 * or shrank while we read it would not match its header. */
static int st_copy_file(struct st_tar *t, int fd, int64_t size, struct sl_error *err)
{
        static __thread char buf[ST_BUILD_CHUNK];
        int64_t left = size;
        for (;;) {
                size_t want = left > 0 && left < (int64_t)sizeof buf ? (size_t)left : sizeof buf;
                ssize_t r = read(fd, buf, want);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return sl_error_errno(err, "read `%s/%s`", t->root, t->path);
                if (r == 0 && left == 0)
                        return 0;
                if (r == 0 || left == 0)
                        return sl_error_set(err, 0, "%s/%s: changed size while being archived",
                                            t->root, t->path);
                if (archive_write_data(t->a, buf, (size_t)r) != r)
                        return sl_error_set(err, 0, "%s/%s: archive: %s", t->root, t->path,
                                            archive_error_string(t->a));
                left -= r;
        }
}

/* One entry: the header with every varying field fixed, then the data. */
static int st_add_entry(struct st_tar *t, int dfd, const char *name, const struct stat *st,
                        struct sl_error *err)
{
        char target[PATH_MAX];
        _cleanup_close_ int fd = -1;
        if (st_check_file(t, st, dfd, name, target, sizeof target, err) < 0)
                return -1;
        _cleanup_entry_ struct archive_entry *e = archive_entry_new();
        if (!e)
                return sl_error_set(err, ENOMEM, "%s/%s", t->root, t->path);
        archive_entry_set_pathname(e, t->path);
        archive_entry_set_perm(e, st->st_mode & ST_BUILD_MODE_MASK);
        /* uid/gid 0 without names; mtime 0; atime, ctime and birth time
         * unset, so the pax writer records none of them */
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, 0, 0);
        if (S_ISDIR(st->st_mode)) {
                archive_entry_set_filetype(e, AE_IFDIR);
        } else if (S_ISLNK(st->st_mode)) {
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_symlink(e, target);
        } else {
                /* O_NOFOLLOW | O_NONBLOCK: a symlink or fifo swapped in since
                 * fstatat neither redirects nor blocks the open; the fstat
                 * below then sees it is not the file we checked. */
                fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                struct stat now;
                if (fd < 0 || fstat(fd, &now) < 0)
                        return sl_error_errno(err, "open `%s/%s`", t->root, t->path);
                if (!S_ISREG(now.st_mode) || now.st_ino != st->st_ino || now.st_dev != st->st_dev)
                        return sl_error_set(err, 0, "%s/%s: replaced while being archived", t->root,
                                            t->path);
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_size(e, st->st_size);
        }
        if (archive_write_header(t->a, e) != ARCHIVE_OK)
                return sl_error_set(err, 0, "%s/%s: archive: %s", t->root, t->path,
                                    archive_error_string(t->a));
        if (fd >= 0)
                return st_copy_file(t, fd, st->st_size, err);
        return 0;
}

/* Every entry below the directory at dfd, whose name in the archive is
 * t->path[0..plen) ("" at the root). */
static int st_walk(struct st_tar *t, int dfd, size_t plen, unsigned depth, struct sl_error *err)
{
        _cleanup_names_ struct st_names ns = {0};
        if (st_list_sorted(dfd, t, &ns, err) < 0)
                return -1;
        for (size_t i = 0; i < ns.n; i++) {
                const char *name = ns.v[i];
                int w =
                    snprintf(t->path + plen, sizeof t->path - plen, "%s%s", plen ? "/" : "", name);
                if (w < 0 || (size_t)w >= sizeof t->path - plen)
                        return sl_error_set(err, ENAMETOOLONG, "%s/%.*s/%s", t->root, (int)plen,
                                            t->path, name);
                struct stat st;
                if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return sl_error_errno(err, "stat `%s/%s`", t->root, t->path);
                if (st_add_entry(t, dfd, name, &st, err) < 0)
                        return -1;
                if (S_ISDIR(st.st_mode)) {
                        if (depth + 1 > ST_BUILD_MAX_DEPTH)
                                return sl_error_set(err, 0, "%s/%s: more than %d levels deep",
                                                    t->root, t->path, ST_BUILD_MAX_DEPTH);
                        _cleanup_close_ int sub =
                            openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0)
                                return sl_error_errno(err, "open `%s/%s`", t->root, t->path);
                        if (st_walk(t, sub, plen + (size_t)w, depth + 1, err) < 0)
                                return -1;
                }
                t->path[plen] = 0;
        }
        return 0;
}

static struct archive *st_tar_open(int fd, struct sl_error *err)
{
        struct archive *a = archive_write_new();
        if (!a) {
                sl_error_set(err, ENOMEM, "archive_write_new");
                return NULL;
        }
        /* pax_restricted: plain ustar headers unless a name or size needs a
         * pax record; the zstd level and the unpadded end are fixed so the
         * bytes depend on the contents only. */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
            archive_write_set_filter_option(a, "zstd", "compression-level", ST_BUILD_ZSTD_LEVEL) !=
                ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open_fd(a, fd) != ARCHIVE_OK) {
                sl_error_set(err, 0, "archive writer: %s", archive_error_string(a));
                archive_write_free(a);
                return NULL;
        }
        return a;
}

/* Pack DIR/sub into out_dir/archives/<hash>.tar.zst: written aside, hashed,
 * renamed into place unless an archive of that hash is there already. */
static int st_build_archive(int dirfd, const char *dir, const char *sub, const char *out_dir,
                            struct st_archive_ref *ref, struct sl_error *err)
{
        char root[PATH_MAX], final[PATH_MAX];
        char tmp[PATH_MAX] __attribute__((cleanup(st_unlinkp))) = "";
        if (snprintf(root, sizeof root, "%s/%s", dir, sub) >= (int)sizeof root ||
            snprintf(tmp, sizeof tmp, "%s/archives/archive.tmp-XXXXXX", out_dir) >= (int)sizeof tmp)
                return sl_error_set(err, ENAMETOOLONG, "archive `%s`", sub);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                sl_error_errno(err, "create `%s`", tmp);
                tmp[0] = 0;
                return -1;
        }
        _cleanup_close_ int top =
            openat(dirfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (top < 0)
                return sl_error_errno(err, "open `%s`", root);
        struct st_tar t = {.root = root};
        _cleanup_awrite_ struct archive *a = t.a = st_tar_open(fd, err);
        if (!a || st_walk(&t, top, 0, 0, err) < 0)
                return -1;
        if (archive_write_close(a) != ARCHIVE_OK)
                return sl_error_set(err, 0, "%s: archive: %s", root, archive_error_string(a));
        struct stat st;
        if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || fstat(fd, &st) < 0 ||
            lseek(fd, 0, SEEK_SET) < 0)
                return sl_error_errno(err, "write `%s`", tmp);
        if (st_archive_hash_fd(fd, 0, ref->hash, err) < 0)
                return sl_error_prefix(err, "%s", root);
        ref->size = (uint64_t)st.st_size;
        if (snprintf(final, sizeof final, "%s/archives/%s.tar.zst", out_dir, ref->hash) >=
            (int)sizeof final)
                return sl_error_set(err, ENAMETOOLONG, "archive `%s`", sub);
        /* Same name, same hash, same bytes: an archive already there (from
         * an earlier build, or shared with another package) is kept. */
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                if (errno != EEXIST)
                        return sl_error_errno(err, "rename `%s` to `%s`", tmp, final);
                return 0; /* tmp is removed on return */
        }
        tmp[0] = 0;
        /* the archive's name on disk before the .pkg that names it */
        *strrchr(final, '/') = 0;
        return st_fsync_dir_at(AT_FDCWD, final, err);
}

/* Each entry of "archives": a plain name of a subdirectory of dir, listed
 * once. */
static int st_check_archive_dirs(json_t *arch, int dirfd, struct sl_error *err)
{
        for (size_t i = 0; i < json_array_size(arch); i++) {
                json_t *v = json_array_get(arch, i);
                if (!json_is_string(v))
                        return sl_error_set(err, 0, "archives[%zu]: not a string", i);
                const char *s = json_string_value(v);
                if (!*s || strlen(s) != json_string_length(v) || strchr(s, '/') ||
                    strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                        return sl_error_set(err, 0,
                                            "archives[%zu]: `%s` is not the name of a "
                                            "subdirectory",
                                            i, s);
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s, json_string_value(json_array_get(arch, j))) == 0)
                                return sl_error_set(err, 0, "archives[%zu]: `%s` listed twice", i,
                                                    s);
                struct stat st;
                if (fstatat(dirfd, s, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return sl_error_errno(err, "archives[%zu]: `%s`", i, s);
                if (!S_ISDIR(st.st_mode))
                        return sl_error_set(err, 0, "archives[%zu]: `%s` is not a directory", i, s);
        }
        return 0;
}

/* Serialise obj and check it with the manifest parser every reader uses,
 * so the build cannot write what the store would refuse. */
static char *st_manifest_bytes(json_t *obj, size_t *len, struct sl_error *err)
{
        char *s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        if (!s) {
                sl_error_set(err, ENOMEM, "manifest");
                return NULL;
        }
        struct st_manifest m;
        if (st_manifest_parse(s, strlen(s), &m, err) < 0) {
                free(s);
                return NULL;
        }
        st_manifest_free(&m);
        *len = strlen(s);
        return s;
}

/* The manifest package.json describes, with `refs` as its archives. */
static json_t *st_manifest_json(json_t *pkg, const struct st_archive_ref *refs, size_t n)
{
        json_t *m = json_deep_copy(pkg);
        json_t *arch = json_array();
        if (!m || !arch) {
                json_decref(m);
                json_decref(arch);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arch, json_pack("{s:s, s:I}", "hash", refs[i].hash, "size",
                                                      (json_int_t)refs[i].size));
        json_object_set_new(m, "archives", arch);
        return m;
}

/* Everything in package.json but the archive directories, checked as the
 * manifest it will become (same fields, same rules) before any archive is
 * built; messages "DIR/package.json: dependencies[0].version: missing". */
static int st_check_as_manifest(json_t *pkg, size_t n_archives, struct sl_error *err)
{
        static const char zero[] =
            "0000000000000000000000000000000000000000000000000000000000000000";
        _cleanup_free_ struct st_archive_ref *refs = calloc(n_archives, sizeof *refs);
        if (!refs)
                return sl_error_set(err, ENOMEM, "manifest");
        for (size_t i = 0; i < n_archives; i++)
                memcpy(refs[i].hash, zero, sizeof zero);
        _cleanup_json_ json_t *m = st_manifest_json(pkg, refs, n_archives);
        if (!m)
                return sl_error_set(err, ENOMEM, "manifest");
        size_t len;
        _cleanup_free_ char *s = st_manifest_bytes(m, &len, err);
        if (s)
                return 0;
        /* "manifest: name: ..." -> "name: ..." */
        static const char prefix[] = "manifest: ";
        if (err && strncmp(err->msg, prefix, sizeof prefix - 1) == 0)
                memmove(err->msg, err->msg + sizeof prefix - 1,
                        strlen(err->msg) - (sizeof prefix - 1) + 1);
        return -1;
}

/* An envelope with no signatures yet: `slicectl pkg sign` adds them later
 * without touching the signed bytes. */
static int st_write_envelope(const char *path, const char *manifest, size_t len,
                             struct sl_error *err)
{
        struct st_envelope env = {0};
        if (st_buf_set(&env.signed_bytes, manifest, len, err) < 0)
                return -1;
        _cleanup_free_ char *text = st_envelope_encode(&env, err);
        st_envelope_free(&env);
        if (!text)
                return -1;
        return st_write_atomic(path, text, strlen(text), 0644, err);
}

/* OUT and OUT/archives, created when missing. */
static int st_make_out(const char *out_dir, struct sl_error *err)
{
        char archives[PATH_MAX];
        if (snprintf(archives, sizeof archives, "%s/archives", out_dir) >= (int)sizeof archives)
                return sl_error_set(err, ENAMETOOLONG, "`%s`", out_dir);
        if (mkdir(out_dir, 0755) < 0 && errno != EEXIST)
                return sl_error_errno(err, "create `%s`", out_dir);
        if (mkdir(archives, 0755) < 0 && errno != EEXIST)
                return sl_error_errno(err, "create `%s`", archives);
        struct stat st;
        if (stat(archives, &st) < 0)
                return sl_error_errno(err, "stat `%s`", archives);
        if (!S_ISDIR(st.st_mode))
                return sl_error_set(err, ENOTDIR, "`%s`", archives);
        return 0;
}

/* package.json read, its archive directories and the rest of it checked. */
static json_t *st_load_package_json(const char *pj, int dirfd, struct sl_error *err)
{
        _cleanup_buf_ struct st_buf b = {0};
        if (st_read_file(pj, ST_MANIFEST_MAX_BYTES, &b, err) < 0)
                return NULL;
        _cleanup_json_ json_t *pkg = st_json_parse(b.data, b.len, pj, err);
        if (!pkg)
                return NULL;
        if (!json_is_object(pkg)) {
                sl_error_set(err, 0, "%s: not a JSON object", pj);
                return NULL;
        }
        json_t *arch = st_json_get_array(pkg, "archives", "", ST_BUILD_MAX_ARCHIVES, err);
        if (!arch) {
                sl_error_prefix(err, "%s", pj);
                return NULL;
        }
        if (json_array_size(arch) == 0) {
                sl_error_set(err, 0, "%s: archives: empty (a package has 1 to %d archives)", pj,
                             ST_BUILD_MAX_ARCHIVES);
                return NULL;
        }
        if (st_check_as_manifest(pkg, json_array_size(arch), err) < 0 ||
            st_check_archive_dirs(arch, dirfd, err) < 0) {
                sl_error_prefix(err, "%s", pj);
                return NULL;
        }
        return SL_STEAL_PTR(pkg);
}

int st_pkg_build(const char *dir, const char *out_dir, char *pkg_path, size_t pkg_path_cap,
                 struct sl_error *err)
{
        char pj[PATH_MAX];
        if (snprintf(pj, sizeof pj, "%s/package.json", dir) >= (int)sizeof pj)
                return sl_error_set(err, ENAMETOOLONG, "`%s`", dir);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return sl_error_errno(err, "open `%s`", dir);
        _cleanup_json_ json_t *pkg = st_load_package_json(pj, dirfd, err);
        if (!pkg)
                return -1;
        const char *name = json_string_value(json_object_get(pkg, "name"));
        const char *version = json_string_value(json_object_get(pkg, "version"));
        int w = snprintf(pkg_path, pkg_path_cap, "%s/%s@%s.pkg", out_dir, name, version);
        if (w < 0 || (size_t)w >= pkg_path_cap)
                return sl_error_set(err, ENAMETOOLONG, "`%s/%s@%s.pkg`", out_dir, name, version);
        if (st_make_out(out_dir, err) < 0)
                return -1;

        json_t *arch = json_object_get(pkg, "archives");
        size_t n = json_array_size(arch);
        _cleanup_free_ struct st_archive_ref *refs = calloc(n, sizeof *refs);
        if (!refs)
                return sl_error_set(err, ENOMEM, "%s", pj);
        for (size_t i = 0; i < n; i++)
                if (st_build_archive(dirfd, dir, json_string_value(json_array_get(arch, i)),
                                     out_dir, &refs[i], err) < 0)
                        return -1;

        _cleanup_json_ json_t *m = st_manifest_json(pkg, refs, n);
        if (!m)
                return sl_error_set(err, ENOMEM, "manifest");
        size_t len;
        _cleanup_free_ char *bytes = st_manifest_bytes(m, &len, err);
        if (!bytes)
                return -1;
        return st_write_envelope(pkg_path, bytes, len, err);
}
