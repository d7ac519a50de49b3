/* Verify the local store: rehash archives and envelopes against their names,
 * compare every tree with its archive, check every kept generation names
 * only what is present and `current` names a generation. Leftovers of
 * interrupted operations are not problems. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <linux/openat2.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/local_priv.h"

/* libarchive's read block size, as for unpacking. */
#define ST_READ_BLOCK (64 * 1024)
/* File descriptors nftw may hold open while walking a tree. */
#define ST_NFTW_FDS 32
/* Read size for hashing tree files. */
#define ST_HASH_CHUNK (64 * 1024)

static void st_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
#define _cleanup_dir_ __attribute__((cleanup(st_closedirp)))

static void st_areadp(struct archive **a)
{
        if (*a)
                archive_read_free(*a);
}
#define _cleanup_aread_ __attribute__((cleanup(st_areadp)))

void st_verify_report_free(struct st_verify_report *r)
{
        if (!r)
                return;
        free(r->problems);
        r->problems = NULL;
        r->n_problems = 0;
}

static int st_problem(struct st_verify_report *rep, struct sl_error *err, const char *path,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int st_problem(struct st_verify_report *rep, struct sl_error *err, const char *path,
                      const char *fmt, ...)
{
        struct st_problem *p = realloc(rep->problems, (rep->n_problems + 1) * sizeof *p);
        if (!p)
                return sl_error_set(err, ENOMEM, "verify");
        rep->problems = p;
        p = &p[rep->n_problems++];
        snprintf(p->path, sizeof p->path, "%s", path);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->what, sizeof p->what, fmt, ap);
        va_end(ap);
        return 0;
}

/* "<64 hex><suffix>" → the hash, else -1. */
static int st_hash_name(const char *name, const char *suffix, char out[ST_HASH_HEX])
{
        size_t n = strlen(name), k = strlen(suffix);
        if (n != ST_HASH_HEX - 1 + k || strcmp(name + n - k, suffix) != 0)
                return -1;
        snprintf(out, ST_HASH_HEX, "%.64s", name);
        return st_is_hash_hex(out) ? 0 : -1;
}

/* Call fn for every entry of the store directory `dir` that is not a
 * leftover; entries whose name is not "<hash><suffix>" are problems. */
typedef int (*st_entry_fn)(struct st_store *s, const char *hash, const char *rel, void *ctx,
                           struct st_verify_report *rep, struct sl_error *err);
static int st_each_entry(struct st_store *s, const char *dir, const char *suffix, st_entry_fn fn,
                         void *ctx, struct st_verify_report *rep, struct sl_error *err)
{
        _cleanup_dir_ DIR *d = st_opendir_at(s->dirfd, dir);
        if (!d)
                return errno == ENOENT ? 0 : sl_error_errno(err, "open `%s/%s`", s->dir, dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                char hash[ST_HASH_HEX], rel[PATH_MAX];
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    st_local_is_leftover(de->d_name))
                        continue;
                snprintf(rel, sizeof rel, "%s/%s", dir, de->d_name);
                if (st_hash_name(de->d_name, suffix, hash) < 0) {
                        if (st_problem(rep, err, rel, "unexpected entry") < 0)
                                return -1;
                        continue;
                }
                if (fn(s, hash, rel, ctx, rep, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- archives and envelopes ---- */

struct st_seen {
        struct st_hashset present; /* there under their name */
        struct st_hashset good;    /* and their bytes hash to it */
};

static int st_check_archive(struct st_store *s, const char *hash, const char *rel, void *ctx,
                            struct st_verify_report *rep, struct sl_error *err)
{
        struct st_seen *seen = ctx;
        char got[ST_HASH_HEX];
        struct sl_error e = {0};
        rep->archives_checked++;
        if (st_hashset_add(&seen->present, hash, err) < 0)
                return -1;
        _cleanup_close_ int fd = openat(s->dirfd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return st_problem(rep, err, rel, "cannot open: %s", strerror(errno));
        if (st_archive_hash_fd(fd, ST_ARCHIVE_MAX_BYTES, got, &e) < 0)
                return st_problem(rep, err, rel, "%s", e.msg);
        if (strcmp(got, hash) != 0)
                return st_problem(rep, err, rel, "hash mismatch: expected %s, found %s", hash, got);
        return st_hashset_add(&seen->good, hash, err);
}

static int st_check_package(struct st_store *s, const char *hash, const char *rel, void *ctx,
                            struct st_verify_report *rep, struct sl_error *err)
{
        struct st_seen *seen = ctx;
        _cleanup_buf_ struct st_buf b = {0};
        struct sl_error e = {0};
        char got[ST_HASH_HEX];
        rep->packages_checked++;
        if (st_hashset_add(&seen->present, hash, err) < 0)
                return -1;
        if (st_read_file_at(s->dirfd, rel, ST_MANIFEST_MAX_BYTES * 2, &b, &e) < 0)
                return st_problem(rep, err, rel, "%s", e.msg);
        st_local_hash_buf(b.data, b.len, got);
        if (strcmp(got, hash) != 0)
                return st_problem(rep, err, rel, "hash mismatch: expected %s, found %s", hash, got);
        struct st_manifest m;
        if (st_local_manifest_from_envelope(b.data, b.len, &m, &e) < 0)
                return st_problem(rep, err, rel, "%s", e.msg);
        st_manifest_free(&m);
        return st_hashset_add(&seen->good, hash, err);
}

/* ---- trees ---- */

/* Names an archive's entries give, normalised ("./a//b/" is "a/b"). */
struct st_names {
        char **v;
        size_t n, cap;
};

static void st_names_free(struct st_names *x)
{
        for (size_t i = 0; i < x->n; i++)
                free(x->v[i]);
        free(x->v);
        memset(x, 0, sizeof *x);
}

static int st_names_add(struct st_names *x, const char *name, size_t len, struct sl_error *err)
{
        if (x->n == x->cap) {
                size_t cap = x->cap ? x->cap * 2 : 64;
                char **p = realloc(x->v, cap * sizeof *p);
                if (!p)
                        return sl_error_set(err, ENOMEM, "verify");
                x->v = p;
                x->cap = cap;
        }
        if (!(x->v[x->n] = strndup(name, len)))
                return sl_error_set(err, ENOMEM, "verify");
        x->n++;
        return 0;
}

static int st_strp_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int st_names_has(const struct st_names *x, const char *name)
{
        return x->n && bsearch(&name, x->v, x->n, sizeof *x->v, st_strp_cmp);
}

/* The name and every parent directory of it (libarchive creates parents an
 * archive does not list). */
static int st_names_add_with_parents(struct st_names *x, const char *name, struct sl_error *err)
{
        for (const char *c = strchr(name, '/'); c; c = strchr(c + 1, '/'))
                if (st_names_add(x, name, (size_t)(c - name), err) < 0)
                        return -1;
        return st_names_add(x, name, strlen(name), err);
}

/* Drop empty and "." components; -1 for ".." or an overlong name. */
static int st_normalise(const char *in, char *out, size_t cap)
{
        size_t n = 0;
        out[0] = 0;
        while (*in) {
                size_t k = strcspn(in, "/");
                if (k == 2 && in[0] == '.' && in[1] == '.')
                        return -1;
                if (k && !(k == 1 && in[0] == '.')) {
                        if (n + !!n + k + 1 > cap)
                                return -1;
                        if (n)
                                out[n++] = '/';
                        memcpy(out + n, in, k);
                        n += k;
                        out[n] = 0;
                }
                in += k + (in[k] == '/');
        }
        return 0;
}

/* Open a name inside the tree without following any symlink on the way
 * (a tampered tree could replace a directory with a link out). */
static int st_tree_open(int treefd, const char *rel, int flags)
{
        struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC | O_NOFOLLOW),
                               .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS};
        int fd = (int)syscall(SYS_openat2, treefd, rel, &how, sizeof how);
        if (fd < 0 && errno == ENOSYS)
                fd = openat(treefd, rel, flags | O_CLOEXEC | O_NOFOLLOW);
        return fd;
}

static void st_hash_zeros(crypto_generichash_state *h, uint64_t n)
{
        static const uint8_t zeros[4096];
        while (n) {
                uint64_t k = n < sizeof zeros ? n : sizeof zeros;
                crypto_generichash_update(h, zeros, k);
                n -= k;
        }
}

/* BLAKE2b of the entry's logical contents (holes of sparse entries as
 * zeros); -1 when the archive cannot be read. */
static int st_hash_entry(struct archive *a, uint64_t size, char out[ST_HASH_HEX])
{
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, ST_HASH_BYTES);
        const void *buf;
        size_t len;
        la_int64_t off;
        uint64_t pos = 0;
        int r;
        while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK ||
               r == ARCHIVE_WARN) {
                if (off < 0 || (uint64_t)off < pos)
                        return -1;
                st_hash_zeros(&h, (uint64_t)off - pos);
                crypto_generichash_update(&h, buf, len);
                pos = (uint64_t)off + len;
        }
        if (r != ARCHIVE_EOF)
                return -1;
        if (pos < size)
                st_hash_zeros(&h, size - pos);
        uint8_t d[ST_HASH_BYTES];
        crypto_generichash_final(&h, d, sizeof d);
        st_hex_encode(d, sizeof d, out);
        return 0;
}

static int st_hash_file(int fd, char out[ST_HASH_HEX])
{
        static __thread uint8_t buf[ST_HASH_CHUNK];
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, ST_HASH_BYTES);
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                crypto_generichash_update(&h, buf, (unsigned long long)n);
        }
        uint8_t d[ST_HASH_BYTES];
        crypto_generichash_final(&h, d, sizeof d);
        st_hex_encode(d, sizeof d, out);
        return 0;
}

static const char *st_type_name(mode_t m)
{
        return S_ISREG(m) ? "file" : S_ISDIR(m) ? "directory" : S_ISLNK(m) ? "symlink" : "other";
}

/* Compare one archive entry with what the tree holds under its name. */
static int st_compare_entry(struct archive *a, struct archive_entry *e, int treefd,
                            const char *name, const char *where, struct st_verify_report *rep,
                            struct sl_error *err)
{
        mode_t want = archive_entry_filetype(e);
        if (archive_entry_hardlink(e) || (want != AE_IFREG && want != AE_IFDIR && want != AE_IFLNK))
                return st_problem(rep, err, where, "archive entry of a refused type");
        _cleanup_close_ int fd = st_tree_open(treefd, name, O_PATH);
        struct stat st;
        if (fd < 0 && errno == ENOENT)
                return st_problem(rep, err, where, "missing");
        if (fd < 0)
                return st_problem(rep, err, where, "cannot open: %s", strerror(errno));
        if (fstat(fd, &st) < 0)
                return st_problem(rep, err, where, "stat: %s", strerror(errno));
        if ((st.st_mode & S_IFMT) != want)
                return st_problem(rep, err, where, "type: expected %s, found %s",
                                  st_type_name(want), st_type_name(st.st_mode));
        if (want == AE_IFLNK) {
                char target[PATH_MAX];
                const char *expect = archive_entry_symlink(e) ? archive_entry_symlink(e) : "";
                ssize_t n = readlinkat(fd, "", target, sizeof target - 1);
                target[n < 0 ? 0 : n] = 0;
                if (n < 0 || strcmp(target, expect) != 0)
                        return st_problem(rep, err, where,
                                          "symlink target: expected `%s`, found `%s`", expect,
                                          target);
                return 0;
        }
        mode_t perm = archive_entry_perm(e) & 07777 & ~0222u;
        if ((st.st_mode & 07777) != perm)
                return st_problem(rep, err, where, "mode: expected %04o, found %04o", perm,
                                  st.st_mode & 07777);
        if (want != AE_IFREG)
                return 0;
        uint64_t size = (uint64_t)archive_entry_size(e);
        if ((uint64_t)st.st_size != size)
                return st_problem(rep, err, where, "size: expected %llu, found %lld",
                                  (unsigned long long)size, (long long)st.st_size);
        char in_archive[ST_HASH_HEX], in_tree[ST_HASH_HEX];
        if (st_hash_entry(a, size, in_archive) < 0)
                return st_problem(rep, err, where, "archive: %s", archive_error_string(a));
        _cleanup_close_ int rfd = st_tree_open(treefd, name, O_RDONLY);
        if (rfd < 0 || st_hash_file(rfd, in_tree) < 0)
                return st_problem(rep, err, where, "read: %s", strerror(errno));
        if (strcmp(in_archive, in_tree) != 0)
                return st_problem(rep, err, where, "content: expected BLAKE2b %s, found %s",
                                  in_archive, in_tree);
        return 0;
}

/* Every name in the tree must be one the archive gave. nftw callbacks take
 * no context: the walk in progress is described here. */
static __thread const struct st_names *st_walk_expected;
static __thread struct st_verify_report *st_walk_rep;
static __thread struct sl_error *st_walk_err;
static __thread size_t st_walk_root_len;
static __thread const char *st_walk_prefix;
static __thread int st_walk_oom;

static int st_extra_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag;
        if (ftw->level == 0)
                return 0;
        const char *rel = p + st_walk_root_len + 1;
        if (st_names_has(st_walk_expected, rel))
                return 0;
        char where[PATH_MAX];
        snprintf(where, sizeof where, "%s/%s", st_walk_prefix, rel);
        if (st_problem(st_walk_rep, st_walk_err, where, "not in the archive") < 0) {
                st_walk_oom = 1;
                return 1;
        }
        return 0;
}

static int st_find_extras(const char *root, const char *prefix, const struct st_names *expected,
                          struct st_verify_report *rep, struct sl_error *err)
{
        st_walk_expected = expected;
        st_walk_rep = rep;
        st_walk_err = err;
        st_walk_root_len = strlen(root);
        st_walk_prefix = prefix;
        st_walk_oom = 0;
        int r = nftw(root, st_extra_cb, ST_NFTW_FDS, FTW_PHYS);
        if (st_walk_oom)
                return -1;
        if (r != 0)
                return st_problem(rep, err, prefix, "cannot walk: %s", strerror(errno));
        return 0;
}

static struct archive *st_open_archive(int fd)
{
        struct archive *a = archive_read_new();
        if (!a)
                return NULL;
        archive_read_support_format_tar(a);
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_gzip(a);
        if (archive_read_open_fd(a, fd, ST_READ_BLOCK) != ARCHIVE_OK) {
                archive_read_free(a);
                return NULL;
        }
        return a;
}

/* Walk the archive, comparing each entry; collect the names it gives. */
static int st_compare_entries(struct archive *a, int treefd, const char *rel,
                              struct st_names *expected, struct st_verify_report *rep,
                              struct sl_error *err)
{
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
                char name[PATH_MAX], where[PATH_MAX + ST_REL_MAX];
                if (st_normalise(archive_entry_pathname(e), name, sizeof name) < 0) {
                        if (st_problem(rep, err, rel, "archive entry `%s` cannot be in a tree",
                                       archive_entry_pathname(e)) < 0)
                                return -1;
                        continue;
                }
                if (!*name)
                        continue; /* "./": the tree's root itself */
                snprintf(where, sizeof where, "%s/%s", rel, name);
                if (st_names_add_with_parents(expected, name, err) < 0 ||
                    st_compare_entry(a, e, treefd, name, where, rep, err) < 0)
                        return -1;
        }
        if (r != ARCHIVE_EOF)
                return st_problem(rep, err, rel, "archive: %s", archive_error_string(a));
        return 0;
}

static int st_check_tree(struct st_store *s, const char *hash, const char *rel, void *ctx,
                         struct st_verify_report *rep, struct sl_error *err)
{
        const struct st_seen *archives = ctx;
        char arel[ST_REL_MAX], root[PATH_MAX];
        rep->trees_checked++;
        snprintf(arel, sizeof arel, ST_DIR_ARCHIVES "/%s" ST_ARCHIVE_SUFFIX, hash);
        if (!st_hashset_has(&archives->present, hash))
                return st_problem(rep, err, rel, "no archive `%s` to compare with", arel);
        if (!st_hashset_has(&archives->good, hash))
                return 0; /* its archive is the problem, already reported */
        _cleanup_close_ int treefd =
            openat(s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat st;
        if (treefd < 0 || fstat(treefd, &st) < 0)
                return st_problem(rep, err, rel, "not a directory: %s", strerror(errno));
        if (st.st_mode & 0222)
                return st_problem(rep, err, rel, "writable (mode %04o)", st.st_mode & 07777);
        _cleanup_close_ int afd = openat(s->dirfd, arel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        _cleanup_aread_ struct archive *a = afd >= 0 ? st_open_archive(afd) : NULL;
        if (!a)
                return st_problem(rep, err, arel, "cannot be read as a tar archive");
        struct st_names expected = {0};
        int r = st_compare_entries(a, treefd, rel, &expected, rep, err);
        if (r == 0) {
                if (expected.n)
                        qsort(expected.v, expected.n, sizeof *expected.v, st_strp_cmp);
                r = st_local_path(s, rel, root, err);
                if (r == 0)
                        r = st_find_extras(root, rel, &expected, rep, err);
        }
        st_names_free(&expected);
        return r;
}

/* ---- generations and current ---- */

struct st_gen_ctx {
        const struct st_seen *archives, *packages;
};

/* The stored manifest must say what the generation says about it. */
static int st_check_gen_manifest(struct st_store *s, const struct st_installed *p,
                                 const char *where, struct st_verify_report *rep,
                                 struct sl_error *err)
{
        struct st_manifest m;
        struct sl_error e = {0};
        if (st_local_manifest(s, p->manifest, &m, &e) < 0)
                return 0; /* reported with the envelope */
        int same = strcmp(m.name, p->name) == 0 && strcmp(m.version, p->version) == 0 &&
                   m.n_archives == p->n_archives;
        for (size_t a = 0; same && a < p->n_archives; a++)
                same = strcmp(m.archives[a].hash, p->archives[a]) == 0;
        int r = same ? 0
                     : st_problem(rep, err, where,
                                  "package %s@%s: the generation and its manifest (%s@%s) "
                                  "disagree",
                                  p->name, p->version, m.name, m.version);
        st_manifest_free(&m);
        return r;
}

static int st_check_generation(struct st_store *s, uint64_t number, const struct st_gen_ctx *c,
                               struct st_verify_report *rep, struct sl_error *err)
{
        char where[ST_REL_MAX];
        struct st_generation g;
        struct sl_error e = {0};
        snprintf(where, sizeof where, ST_DIR_GENERATIONS "/%llu.json", (unsigned long long)number);
        rep->generations_checked++;
        if (st_local_generation_read(s, number, &g, &e) < 0)
                return st_problem(rep, err, where, "%s", e.msg);
        int r = 0;
        for (size_t i = 0; i < g.n_pkgs && r == 0; i++) {
                const struct st_installed *p = &g.pkgs[i];
                char rel[PATH_MAX];
                if (!st_hashset_has(&c->packages->present, p->manifest))
                        r = st_problem(rep, err, where,
                                       "package %s@%s: `" ST_DIR_PACKAGES "/%s" ST_PACKAGE_SUFFIX
                                       "` missing",
                                       p->name, p->version, p->manifest);
                else if (st_hashset_has(&c->packages->good, p->manifest))
                        r = st_check_gen_manifest(s, p, where, rep, err);
                for (size_t a = 0; a < p->n_archives && r == 0; a++) {
                        struct stat st;
                        snprintf(rel, sizeof rel, ST_DIR_TREES "/%s", p->archives[a]);
                        if (!st_hashset_has(&c->archives->present, p->archives[a]))
                                r = st_problem(rep, err, where,
                                               "package %s@%s: `" ST_DIR_ARCHIVES
                                               "/%s" ST_ARCHIVE_SUFFIX "` missing",
                                               p->name, p->version, p->archives[a]);
                        else if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                                r = st_problem(rep, err, where, "package %s@%s: `%s` missing",
                                               p->name, p->version, rel);
                }
        }
        st_generation_free(&g);
        return r;
}

static int st_check_generations(struct st_store *s, const struct st_gen_ctx *c,
                                struct st_verify_report *rep, struct sl_error *err)
{
        _cleanup_free_ uint64_t *nums = NULL;
        size_t n;
        uint64_t cur;
        struct sl_error e = {0};
        if (st_local_generation_numbers(s, &nums, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (st_check_generation(s, nums[i], c, rep, err) < 0)
                        return -1;
        if (st_local_current_number(s, &cur, &e) < 0)
                return st_problem(rep, err, ST_FILE_CURRENT, "%s", e.msg);
        for (size_t i = 0; i < n; i++)
                if (nums[i] == cur)
                        return 0;
        if (cur == 0)
                return 0; /* no generation was ever made active */
        return st_problem(rep, err, ST_FILE_CURRENT, "points at generation %llu, which is missing",
                          (unsigned long long)cur);
}

int st_store_verify(struct st_store *s, struct st_verify_report *rep, struct sl_error *err)
{
        memset(rep, 0, sizeof *rep);
        struct st_seen archives = {0}, packages = {0};
        struct st_gen_ctx gc = {.archives = &archives, .packages = &packages};
        int r = st_each_entry(s, ST_DIR_ARCHIVES, ST_ARCHIVE_SUFFIX, st_check_archive, &archives,
                              rep, err);
        if (r == 0)
                r = st_each_entry(s, ST_DIR_PACKAGES, ST_PACKAGE_SUFFIX, st_check_package,
                                  &packages, rep, err);
        st_hashset_seal(&archives.present);
        st_hashset_seal(&archives.good);
        st_hashset_seal(&packages.present);
        st_hashset_seal(&packages.good);
        if (r == 0)
                r = st_each_entry(s, ST_DIR_TREES, "", st_check_tree, &archives, rep, err);
        if (r == 0)
                r = st_check_generations(s, &gc, rep, err);
        st_hashset_free(&archives.present);
        st_hashset_free(&archives.good);
        st_hashset_free(&packages.present);
        st_hashset_free(&packages.good);
        if (r < 0)
                st_verify_report_free(rep);
        return r;
}
