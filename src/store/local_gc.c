/* Garbage collection of the local store, the leftovers of interrupted
 * operations, and inuse.json (what running slices hold). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/local_priv.h"

/* File descriptors nftw may hold open while walking a tree. */
#define ST_NFTW_FDS 32
/* Passes of "give write bits back, remove what we can": each pass unlocks
 * one more level of directories an archive made unreadable to its owner
 * (mode 0000, which only non-root owners notice). Trees deeper than this
 * in unreadable directories are left for the next gc. */
#define ST_RM_PASSES 8
/* inuse.json caps: one entry per running slice, each with its closure. */
#define ST_INUSE_MAX_BYTES    (64u << 20)
#define ST_INUSE_MAX_SLICES   65536
#define ST_INUSE_MAX_ARCHIVES 65536

static void st_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
#define _cleanup_dir_ __attribute__((cleanup(st_closedirp)))

/* nftw callbacks carry no context: the running byte count of the removal
 * in progress lives here (one walk at a time per thread). */
static __thread uint64_t st_rm_bytes;

static int st_unlock_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)ftw;
        /* Our trees are read-only; the owner may give the bits back. */
        if (flag == FTW_D || flag == FTW_DNR)
                chmod(p, 0700);
        return 0;
}

static int st_remove_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)ftw;
        if (remove(p) == 0 && flag == FTW_F && S_ISREG(sb->st_mode))
                st_rm_bytes += (uint64_t)sb->st_size;
        return 0;
}

uint64_t st_local_rm_tree(const char *path)
{
        int saved = errno;
        st_rm_bytes = 0;
        struct stat st;
        for (int pass = 0; pass < ST_RM_PASSES && lstat(path, &st) == 0; pass++) {
                if (S_ISDIR(st.st_mode))
                        nftw(path, st_unlock_cb, ST_NFTW_FDS, FTW_PHYS);
                nftw(path, st_remove_cb, ST_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
        }
        errno = saved;
        return st_rm_bytes;
}

int st_local_retire(struct st_store *s, const char *rel, uint64_t *bytes, struct sl_error *err)
{
        *bytes = 0;
        struct stat st;
        if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : sl_error_errno(err, "stat `%s/%s`", s->dir, rel);
        if (!S_ISDIR(st.st_mode)) {
                if (unlinkat(s->dirfd, rel, 0) < 0)
                        return sl_error_errno(err, "remove `%s/%s`", s->dir, rel);
                *bytes = S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
                return 0;
        }
        /* A tree half-removed under its real name would look installed:
         * rename it to a leftover first (one atomic step), then empty it.
         * Same parent, so the read-only directory itself need not be
         * writable for the rename. */
        char aside[ST_REL_MAX + 32], path[PATH_MAX];
        snprintf(aside, sizeof aside, "%s" ST_LEFTOVER_MARK "rm-%08x", rel, randombytes_random());
        if (renameat(s->dirfd, rel, s->dirfd, aside) < 0)
                return sl_error_errno(err, "rename `%s/%s`", s->dir, rel);
        if (st_local_path(s, aside, path, err) < 0)
                return -1;
        *bytes = st_local_rm_tree(path);
        return 0;
}

/* Remove the entries of the directory rel whose name `pick` selects. */
static void st_sweep_dir(struct st_store *s, const char *rel, int (*pick)(const char *),
                         size_t *count, uint64_t *bytes)
{
        int fd = openat(s->dirfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        _cleanup_dir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return;
        }
        struct dirent *de;
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    !pick(de->d_name))
                        continue;
                if (snprintf(path, sizeof path, "%s/%s/%s", s->dir, rel, de->d_name) >=
                    (int)sizeof path)
                        continue;
                *bytes += st_local_rm_tree(path);
                (*count)++;
        }
        fsync(dirfd(d));
}

static int st_pick_all(const char *name)
{
        (void)name;
        return 1;
}

static int st_pick_current_tmp(const char *name)
{
        return strncmp(name, ST_FILE_CURRENT ST_LEFTOVER_MARK, strlen(ST_FILE_CURRENT) + 5) == 0;
}

void st_local_sweep(struct st_store *s, size_t *count, uint64_t *bytes)
{
        static const char *const dirs[] = {ST_DIR_ARCHIVES, ST_DIR_TREES, ST_DIR_PACKAGES,
                                           ST_DIR_GENERATIONS};
        *count = 0;
        *bytes = 0;
        st_sweep_dir(s, ST_DIR_TMP, st_pick_all, count, bytes);
        for (size_t i = 0; i < SL_ARRAY_SIZE(dirs); i++)
                st_sweep_dir(s, dirs[i], st_local_is_leftover, count, bytes);
        /* Not inuse.json.tmp-*: sliced writes inuse.json without our lock. */
        st_sweep_dir(s, ".", st_pick_current_tmp, count, bytes);
}

/* ---- gc ---- */

struct st_live {
        struct st_hashset pkgs, archives;
        uint64_t *gens; /* generation numbers kept */
        size_t n_gens;
};

static int st_live_keeps_gen(const struct st_live *l, uint64_t g)
{
        for (size_t i = 0; i < l->n_gens; i++)
                if (l->gens[i] == g)
                        return 1;
        return 0;
}

/* Which generations stay, and every package and archive they or running
 * slices name. */
static int st_live_collect(struct st_store *s, unsigned keep, const uint64_t *nums, size_t n,
                           struct st_live *l, struct sl_error *err)
{
        uint64_t cur;
        struct st_inuse u = {0};
        if (st_local_current_number(s, &cur, err) < 0 || st_inuse_read(s->dir, &u, err) < 0)
                return -1;
        int r = -1;
        l->gens = calloc(n + 1, sizeof *l->gens);
        if (!l->gens) {
                sl_error_set(err, ENOMEM, "gc");
                goto out;
        }
        for (size_t i = 0; i < n; i++) {
                int used = nums[i] == cur || keep == 0 || i + keep >= n;
                for (size_t j = 0; j < u.n && !used; j++)
                        used = u.slices[j].generation == nums[i];
                if (used)
                        l->gens[l->n_gens++] = nums[i];
        }
        for (size_t i = 0; i < l->n_gens; i++) {
                struct st_generation g;
                if (st_local_generation_read(s, l->gens[i], &g, err) < 0)
                        goto out;
                int bad = 0;
                for (size_t p = 0; p < g.n_pkgs && !bad; p++) {
                        bad = st_hashset_add(&l->pkgs, g.pkgs[p].manifest, err) < 0;
                        for (size_t a = 0; a < g.pkgs[p].n_archives && !bad; a++)
                                bad = st_hashset_add(&l->archives, g.pkgs[p].archives[a], err) < 0;
                }
                st_generation_free(&g);
                if (bad)
                        goto out;
        }
        for (size_t j = 0; j < u.n; j++)
                for (size_t a = 0; a < u.slices[j].n_archives; a++)
                        if (st_hashset_add(&l->archives, u.slices[j].archives[a], err) < 0)
                                goto out;
        st_hashset_seal(&l->pkgs);
        st_hashset_seal(&l->archives);
        r = 0;
out:
        st_inuse_free(&u);
        return r;
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

/* Remove the entries of dir named "<hash><suffix>" whose hash is not live. */
static int st_gc_dir(struct st_store *s, const char *dir, const char *suffix,
                     const struct st_hashset *live, size_t *count, uint64_t *bytes,
                     struct sl_error *err)
{
        _cleanup_dir_ DIR *d = st_opendir_at(s->dirfd, dir);
        if (!d)
                return errno == ENOENT ? 0 : sl_error_errno(err, "open `%s/%s`", s->dir, dir);
        struct dirent *de;
        while ((de = readdir(d))) {
                char hash[ST_HASH_HEX], rel[PATH_MAX];
                if (st_hash_name(de->d_name, suffix, hash) < 0 || st_hashset_has(live, hash))
                        continue;
                snprintf(rel, sizeof rel, "%s/%s", dir, de->d_name);
                uint64_t b;
                if (st_local_retire(s, rel, &b, err) < 0)
                        return -1;
                *bytes += b;
                if (count)
                        (*count)++;
        }
        if (fsync(dirfd(d)) < 0)
                return sl_error_errno(err, "fsync `%s/%s`", s->dir, dir);
        return 0;
}

static int st_gc_generations(struct st_store *s, const uint64_t *nums, size_t n,
                             const struct st_live *l, struct st_gc_report *rep,
                             struct sl_error *err)
{
        for (size_t i = 0; i < n; i++) {
                if (st_live_keeps_gen(l, nums[i]))
                        continue;
                char rel[ST_REL_MAX];
                uint64_t b;
                snprintf(rel, sizeof rel, ST_DIR_GENERATIONS "/%llu.json",
                         (unsigned long long)nums[i]);
                if (st_local_retire(s, rel, &b, err) < 0)
                        return -1;
                rep->generations_removed++;
                rep->bytes_freed += b;
        }
        /* Durable before anything they name goes: a crash must not bring
         * back a generation whose packages are gone. */
        return st_fsync_dir_at(s->dirfd, ST_DIR_GENERATIONS, err);
}

int st_store_gc(struct st_store *s, unsigned keep, struct st_gc_report *rep, struct sl_error *err)
{
        memset(rep, 0, sizeof *rep);
        if (st_local_need_write(s, err) < 0)
                return -1;
        _cleanup_free_ uint64_t *nums = NULL;
        size_t n;
        if (st_local_generation_numbers(s, &nums, &n, err) < 0)
                return -1;
        struct st_live l = {0};
        int r = -1;
        /* Order: generations first, then what only they named; trees before
         * their archives, so an interrupted gc leaves an archive without a
         * tree (re-unpacked when needed), never a tree without its archive. */
        if (st_live_collect(s, keep, nums, n, &l, err) < 0 ||
            st_gc_generations(s, nums, n, &l, rep, err) < 0 ||
            st_gc_dir(s, ST_DIR_PACKAGES, ST_PACKAGE_SUFFIX, &l.pkgs, &rep->packages_removed,
                      &rep->bytes_freed, err) < 0 ||
            st_gc_dir(s, ST_DIR_TREES, "", &l.archives, NULL, &rep->bytes_freed, err) < 0 ||
            st_gc_dir(s, ST_DIR_ARCHIVES, ST_ARCHIVE_SUFFIX, &l.archives, &rep->archives_removed,
                      &rep->bytes_freed, err) < 0)
                goto out;
        size_t count;
        uint64_t bytes;
        st_local_sweep(s, &count, &bytes);
        rep->leftovers_removed = count + s->leftovers_swept;
        rep->bytes_freed += bytes + s->leftover_bytes;
        s->leftovers_swept = 0;
        s->leftover_bytes = 0;
        r = 0;
out:
        st_hashset_free(&l.pkgs);
        st_hashset_free(&l.archives);
        free(l.gens);
        return r;
}

/* ---- inuse.json ---- */

void st_inuse_free(struct st_inuse *u)
{
        if (!u)
                return;
        for (size_t i = 0; i < u->n; i++)
                free(u->slices[i].archives);
        free(u->slices);
        u->slices = NULL;
        u->n = 0;
}

static int st_inuse_parse_slice(json_t *o, const char *where, struct st_inuse_slice *sl,
                                struct sl_error *err)
{
        static const char *const keys[] = {"slice", "package", "generation", "archives", NULL};
        char what[64], name[ST_NAME_MAX], version[ST_VERSION_MAX];
        if (!json_is_object(o))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_json_only_keys(o, keys, where, err) < 0 ||
            st_json_get_str(o, "slice", where, sl->slice, sizeof sl->slice, err) < 0 ||
            st_json_get_str(o, "package", where, sl->package, sizeof sl->package, err) < 0 ||
            st_json_get_u64(o, "generation", where, UINT64_MAX >> 1, &sl->generation, err) < 0)
                return -1;
        if (sl->slice[0] != '/')
                return sl_error_set(err, 0, "%s.slice: `%s` is not a slice path", where, sl->slice);
        if (st_spec_parse(sl->package, name, version, err) < 0)
                return sl_error_prefix(err, "%s.package", where);
        if (!*version)
                return sl_error_set(err, 0, "%s.package: `%s` is not NAME@VERSION", where,
                                    sl->package);
        json_t *a = st_json_get_array(o, "archives", where, ST_INUSE_MAX_ARCHIVES, err);
        if (!a)
                return -1;
        sl->archives = calloc(json_array_size(a) + 1, sizeof *sl->archives);
        if (!sl->archives)
                return sl_error_set(err, ENOMEM, "%s.archives", where);
        for (size_t i = 0; i < json_array_size(a); i++) {
                json_t *h = json_array_get(a, i);
                if (!json_is_string(h) || !st_is_hash_hex(json_string_value(h))) {
                        snprintf(what, sizeof what, "%s.archives[%zu]", where, i);
                        return sl_error_set(err, 0, "%s: not 64 lowercase hex digits", what);
                }
                memcpy(sl->archives[i], json_string_value(h), ST_HASH_HEX);
                sl->n_archives = i + 1;
        }
        return 0;
}

static int st_inuse_parse(const struct st_buf *b, struct st_inuse *out, struct sl_error *err)
{
        static const char *const keys[] = {"slices", NULL};
        _cleanup_json_ json_t *root = st_json_parse(b->data, b->len, "inuse.json", err);
        if (!root)
                return -1;
        if (!json_is_object(root))
                return sl_error_set(err, 0, "inuse.json: not a JSON object");
        json_t *a;
        if (st_json_only_keys(root, keys, "", err) < 0 ||
            !(a = st_json_get_array(root, "slices", "", ST_INUSE_MAX_SLICES, err)))
                return sl_error_prefix(err, "inuse.json");
        out->slices = calloc(json_array_size(a) + 1, sizeof *out->slices);
        if (!out->slices)
                return sl_error_set(err, ENOMEM, "inuse.json");
        for (size_t i = 0; i < json_array_size(a); i++) {
                char where[32];
                snprintf(where, sizeof where, "slices[%zu]", i);
                out->n = i + 1;
                if (st_inuse_parse_slice(json_array_get(a, i), where, &out->slices[i], err) < 0)
                        return sl_error_prefix(err, "inuse.json");
        }
        return 0;
}

int st_inuse_read(const char *store_dir, struct st_inuse *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/" ST_FILE_INUSE, store_dir) >= (int)sizeof path)
                return sl_error_set(err, ENAMETOOLONG, "`%s/%s`", store_dir, ST_FILE_INUSE);
        _cleanup_buf_ struct st_buf b = {0};
        struct sl_error e = {0};
        if (st_read_file(path, ST_INUSE_MAX_BYTES, &b, &e) < 0) {
                if (e.code == ENOENT)
                        return 0; /* no slice has run from this store yet */
                if (err)
                        *err = e;
                return -1;
        }
        if (st_inuse_parse(&b, out, err) < 0) {
                st_inuse_free(out);
                return -1;
        }
        return 0;
}

static json_t *st_inuse_slice_json(const struct st_inuse_slice *sl)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < sl->n_archives; i++)
                json_array_append_new(a, json_string(sl->archives[i]));
        return json_pack("{s:s, s:s, s:I, s:o}", "slice", sl->slice, "package", sl->package,
                         "generation", (json_int_t)sl->generation, "archives", a);
}

int st_inuse_write(const char *store_dir, const struct st_inuse *u, struct sl_error *err)
{
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/" ST_FILE_INUSE, store_dir) >= (int)sizeof path)
                return sl_error_set(err, ENAMETOOLONG, "`%s/%s`", store_dir, ST_FILE_INUSE);
        _cleanup_json_ json_t *slices = json_array();
        for (size_t i = 0; slices && i < u->n; i++)
                if (json_array_append_new(slices, st_inuse_slice_json(&u->slices[i])) < 0)
                        return sl_error_set(err, ENOMEM, "`%s`", path);
        _cleanup_json_ json_t *doc = json_pack("{s:O}", "slices", slices);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        if (!text)
                return sl_error_set(err, ENOMEM, "`%s`", path);
        return st_write_atomic(path, text, strlen(text), 0644, err);
}
