/* The local store: opening and locking, the layout, generation files and
 * the `current` symlink (docs/store.md, "Store layout"). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/local_priv.h"
#include "store/tuf.h"

/* Directories every store has; created by the first writer. */
static const char *const st_layout[] = {ST_DIR_ARCHIVES,    ST_DIR_TREES, ST_DIR_PACKAGES,
                                        ST_DIR_GENERATIONS, ST_DIR_TRUST, ST_DIR_TMP};

/* Store directories are readable by everyone: trees are mounted into
 * slices running as other users. */
#define ST_DIR_MODE 0755
/* Tries at a fresh random name before giving up (each collides with odds
 * 2^-32 unless something is badly wrong). */
#define ST_NAME_TRIES 100

static void st_closedirp(DIR **d)
{
        if (*d)
                closedir(*d);
}
#define _cleanup_dir_ __attribute__((cleanup(st_closedirp)))

int st_local_need_write(const struct st_store *s, struct sl_error *err)
{
        if (s->mode != ST_WRITE)
                return sl_error_set(err, EBADF, "store `%s` is open read-only", s->dir);
        return 0;
}

int st_local_path(const struct st_store *s, const char *rel, char *out, struct sl_error *err)
{
        if (snprintf(out, PATH_MAX, "%s/%s", s->dir, rel) >= PATH_MAX)
                return sl_error_set(err, ENAMETOOLONG, "`%s/%s`", s->dir, rel);
        return 0;
}

int st_local_is_leftover(const char *name)
{
        return strstr(name, ST_LEFTOVER_MARK) != NULL;
}

void st_local_hash_buf(const void *data, size_t len, char out[ST_HASH_HEX])
{
        uint8_t h[ST_HASH_BYTES];
        crypto_generichash(h, sizeof h, data, len, NULL, 0);
        st_hex_encode(h, sizeof h, out);
}

int st_hashset_add(struct st_hashset *set, const char *hash, struct sl_error *err)
{
        if (set->n == set->cap) {
                size_t cap = set->cap ? set->cap * 2 : 64;
                char(*p)[ST_HASH_HEX] = realloc(set->h, cap * sizeof *p);
                if (!p)
                        return sl_error_set(err, ENOMEM, "hash set of %zu", cap);
                set->h = p;
                set->cap = cap;
        }
        snprintf(set->h[set->n++], ST_HASH_HEX, "%s", hash);
        set->sealed = 0;
        return 0;
}

static int st_hash_cmp(const void *a, const void *b)
{
        return strcmp(a, b);
}

void st_hashset_seal(struct st_hashset *set)
{
        if (set->n)
                qsort(set->h, set->n, sizeof *set->h, st_hash_cmp);
        size_t out = 0;
        for (size_t i = 0; i < set->n; i++)
                if (out == 0 || strcmp(set->h[out - 1], set->h[i]) != 0)
                        memmove(set->h[out++], set->h[i], ST_HASH_HEX);
        set->n = out;
        set->sealed = 1;
}

int st_hashset_has(const struct st_hashset *set, const char *hash)
{
        if (set->sealed)
                return set->n && bsearch(hash, set->h, set->n, sizeof *set->h, st_hash_cmp);
        for (size_t i = 0; i < set->n; i++)
                if (strcmp(set->h[i], hash) == 0)
                        return 1;
        return 0;
}

void st_hashset_free(struct st_hashset *set)
{
        free(set->h);
        memset(set, 0, sizeof *set);
}

/* mkdir -p with mode for each directory created. */
static int st_mkdir_p(const char *dir, struct sl_error *err)
{
        char p[PATH_MAX];
        if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
                return sl_error_set(err, ENAMETOOLONG, "store `%s`", dir);
        for (char *c = p + 1;; c++) {
                if (*c != '/' && *c)
                        continue;
                char saved = *c;
                *c = 0;
                if (mkdir(p, ST_DIR_MODE) == 0) {
                        /* umask must not narrow a store directory. */
                        if (chmod(p, ST_DIR_MODE) < 0)
                                return sl_error_errno(err, "chmod `%s`", p);
                } else if (errno != EEXIST) {
                        return sl_error_errno(err, "mkdir `%s`", p);
                }
                *c = saved;
                if (!saved)
                        return 0;
        }
}

static int st_make_layout(struct st_store *s, struct sl_error *err)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(st_layout); i++) {
                if (mkdirat(s->dirfd, st_layout[i], ST_DIR_MODE) == 0) {
                        if (fchmodat(s->dirfd, st_layout[i], ST_DIR_MODE, 0) < 0)
                                return sl_error_errno(err, "chmod `%s/%s`", s->dir, st_layout[i]);
                } else if (errno != EEXIST) {
                        return sl_error_errno(err, "mkdir `%s/%s`", s->dir, st_layout[i]);
                }
        }
        /* New directory entries durable before anything is put in them. */
        if (fsync(s->dirfd) < 0)
                return sl_error_errno(err, "fsync `%s`", s->dir);
        return 0;
}

/* The message says it all; the code still tells callers it is ENOENT. */
static int st_no_store(const char *dir, struct sl_error *err)
{
        sl_error_set(err, 0, "no store at `%s`", dir);
        if (err)
                err->code = ENOENT;
        return -1;
}

static int st_lock(struct st_store *s, enum st_open_mode mode, struct sl_error *err)
{
        int flags = mode == ST_WRITE ? O_RDWR | O_CREAT : O_RDONLY;
        s->lockfd = openat(s->dirfd, ST_FILE_LOCK, flags | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
        if (s->lockfd < 0 && errno == ENOENT)
                return st_no_store(s->dir, err);
        if (s->lockfd < 0)
                return sl_error_errno(err, "open `%s/%s`", s->dir, ST_FILE_LOCK);
        /* Blocking: a second writer waits for the first, readers wait for
         * a writer to finish (they never see a store mid-change). */
        int r;
        while ((r = flock(s->lockfd, mode == ST_WRITE ? LOCK_EX : LOCK_SH)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return sl_error_errno(err, "lock `%s/%s`", s->dir, ST_FILE_LOCK);
        return 0;
}

int st_store_open(const char *dir, enum st_open_mode mode, struct st_store **out,
                  struct sl_error *err)
{
        *out = NULL;
        if (!dir || !*dir)
                return sl_error_set(err, EINVAL, "store: no directory given");
        struct stat st;
        if (mode == ST_READ && stat(dir, &st) < 0) {
                if (errno == ENOENT)
                        return st_no_store(dir, err);
                return sl_error_errno(err, "store `%s`", dir);
        }
        if (mode == ST_WRITE && st_mkdir_p(dir, err) < 0)
                return -1;
        struct st_store *s = calloc(1, sizeof *s);
        if (!s)
                return sl_error_set(err, ENOMEM, "store `%s`", dir);
        s->dirfd = s->lockfd = -1;
        s->mode = mode;
        if (!realpath(dir, s->dir)) {
                sl_error_errno(err, "store `%s`", dir);
                goto fail;
        }
        s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->dirfd < 0) {
                sl_error_errno(err, "open store `%s`", s->dir);
                goto fail;
        }
        if (st_lock(s, mode, err) < 0)
                goto fail;
        if (mode == ST_WRITE) {
                if (st_make_layout(s, err) < 0)
                        goto fail;
                /* Whatever an interrupted writer left is nobody's now: we
                 * hold the only write lock. */
                st_local_sweep(s, &s->leftovers_swept, &s->leftover_bytes);
        }
        *out = s;
        return 0;
fail:
        st_store_close(s);
        return -1;
}

void st_store_close(struct st_store *s)
{
        if (!s)
                return;
        /* Closing the lock file's only descriptor releases the flock. */
        if (s->lockfd >= 0)
                close(s->lockfd);
        if (s->dirfd >= 0)
                close(s->dirfd);
        free(s);
}

const char *st_store_dir(const struct st_store *s)
{
        return s->dir;
}

/* ---- manifests inside stored envelopes ---- */

int st_local_manifest_from_envelope(const void *env, size_t len, struct st_manifest *m,
                                    struct sl_error *err)
{
        memset(m, 0, sizeof *m);
        /* Verified before it reached the store: only the signed document is
         * needed back, through the one envelope parser. */
        struct st_envelope e = {0};
        if (st_envelope_parse(env, len, &e, err) < 0)
                return -1;
        int rc = st_manifest_parse(e.signed_bytes.data, e.signed_bytes.len, m, err);
        st_envelope_free(&e);
        return rc;
}

int st_local_manifest(struct st_store *s, const char *pkg_hash, struct st_manifest *m,
                      struct sl_error *err)
{
        memset(m, 0, sizeof *m);
        char rel[ST_REL_MAX];
        snprintf(rel, sizeof rel, ST_DIR_PACKAGES "/%s" ST_PACKAGE_SUFFIX, pkg_hash);
        _cleanup_buf_ struct st_buf env = {0};
        if (st_read_file_at(s->dirfd, rel, ST_MANIFEST_MAX_BYTES * 2, &env, err) < 0)
                return -1;
        if (st_local_manifest_from_envelope(env.data, env.len, m, err) < 0)
                return sl_error_prefix(err, "`%s`", rel);
        return 0;
}

/* ---- installed packages and generations ---- */

void st_local_installed_free(struct st_installed *p)
{
        free(p->archives);
        p->archives = NULL;
        p->n_archives = 0;
}

int st_local_installed_copy(struct st_installed *dst, const struct st_installed *src,
                            struct sl_error *err)
{
        *dst = *src;
        dst->archives = calloc(src->n_archives + 1, sizeof *dst->archives);
        if (!dst->archives)
                return sl_error_set(err, ENOMEM, "package %s@%s", src->name, src->version);
        if (src->n_archives)
                memcpy(dst->archives, src->archives, src->n_archives * sizeof *dst->archives);
        return 0;
}

void st_generation_free(struct st_generation *g)
{
        if (!g)
                return;
        for (size_t i = 0; i < g->n_pkgs; i++)
                st_local_installed_free(&g->pkgs[i]);
        free(g->pkgs);
        g->pkgs = NULL;
        g->n_pkgs = 0;
}

static int st_parse_hash(json_t *v, const char *where, char out[ST_HASH_HEX], struct sl_error *err)
{
        if (!json_is_string(v) || !st_is_hash_hex(json_string_value(v)))
                return sl_error_set(err, 0, "%s: not 64 lowercase hex digits", where);
        memcpy(out, json_string_value(v), ST_HASH_HEX);
        return 0;
}

static int st_parse_installed(json_t *o, const char *where, struct st_installed *p,
                              struct sl_error *err)
{
        static const char *const keys[] = {"name", "version", "manifest", "archives", NULL};
        char what[64];
        if (!json_is_object(o))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_json_only_keys(o, keys, where, err) < 0 ||
            st_json_get_str(o, "name", where, p->name, sizeof p->name, err) < 0 ||
            st_json_get_str(o, "version", where, p->version, sizeof p->version, err) < 0)
                return -1;
        snprintf(what, sizeof what, "%s.name", where);
        if (st_name_check(p->name, what, err) < 0)
                return -1;
        snprintf(what, sizeof what, "%s.version", where);
        if (st_version_check(p->version, what, err) < 0)
                return -1;
        snprintf(what, sizeof what, "%s.manifest", where);
        if (st_parse_hash(json_object_get(o, "manifest"), what, p->manifest, err) < 0)
                return -1;
        json_t *a = st_json_get_array(o, "archives", where, ST_GEN_MAX_ARCHIVES, err);
        if (!a)
                return -1;
        p->archives = calloc(json_array_size(a) + 1, sizeof *p->archives);
        if (!p->archives)
                return sl_error_set(err, ENOMEM, "%s.archives", where);
        for (size_t i = 0; i < json_array_size(a); i++) {
                snprintf(what, sizeof what, "%s.archives[%zu]", where, i);
                if (st_parse_hash(json_array_get(a, i), what, p->archives[i], err) < 0)
                        return -1;
                p->n_archives = i + 1;
        }
        return 0;
}

int st_local_generation_parse(const void *bytes, size_t len, const char *label,
                              struct st_generation *out, struct sl_error *err)
{
        static const char *const keys[] = {"generation", "created", "reason", "packages", NULL};
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *root = st_json_parse(bytes, len, label, err);
        if (!root)
                return -1;
        char created[ST_TIME_STR + 1];
        json_t *pkgs;
        if (!json_is_object(root)) {
                sl_error_set(err, 0, "not a JSON object");
                goto fail;
        }
        if (st_json_only_keys(root, keys, "", err) < 0 ||
            st_json_get_u64(root, "generation", "", UINT64_MAX >> 1, &out->number, err) < 0 ||
            st_json_get_str(root, "created", "", created, sizeof created, err) < 0 ||
            st_time_parse(created, &out->created, "created", err) < 0 ||
            st_json_get_str(root, "reason", "", out->reason, sizeof out->reason, err) < 0 ||
            !(pkgs = st_json_get_array(root, "packages", "", ST_GEN_MAX_PACKAGES, err)))
                goto fail;
        out->pkgs = calloc(json_array_size(pkgs) + 1, sizeof *out->pkgs);
        if (!out->pkgs) {
                sl_error_set(err, ENOMEM, "packages");
                goto fail;
        }
        for (size_t i = 0; i < json_array_size(pkgs); i++) {
                char where[32];
                snprintf(where, sizeof where, "packages[%zu]", i);
                out->n_pkgs = i + 1;
                if (st_parse_installed(json_array_get(pkgs, i), where, &out->pkgs[i], err) < 0)
                        goto fail;
        }
        return 0;
fail:
        st_generation_free(out);
        return sl_error_prefix(err, "%s", label);
}

int st_local_generation_read(struct st_store *s, uint64_t number, struct st_generation *out,
                             struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        char rel[ST_REL_MAX];
        snprintf(rel, sizeof rel, ST_DIR_GENERATIONS "/%llu.json", (unsigned long long)number);
        _cleanup_buf_ struct st_buf b = {0};
        if (st_read_file_at(s->dirfd, rel, ST_GEN_MAX_BYTES, &b, err) < 0)
                return -1;
        if (st_local_generation_parse(b.data, b.len, rel, out, err) < 0)
                return -1;
        if (out->number != number) {
                st_generation_free(out);
                return sl_error_set(err, 0, "%s: generation: %llu, not %llu as its name says", rel,
                                    (unsigned long long)out->number, (unsigned long long)number);
        }
        return 0;
}

static json_t *st_installed_json(const struct st_installed *p)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < p->n_archives; i++)
                json_array_append_new(a, json_string(p->archives[i]));
        /* "o" steals a, and a NULL a makes the pack fail: no silent omission. */
        return json_pack("{s:s, s:s, s:s, s:o}", "name", p->name, "version", p->version, "manifest",
                         p->manifest, "archives", a);
}

int st_local_generation_write(struct st_store *s, const struct st_generation *g,
                              struct sl_error *err)
{
        char created[ST_TIME_STR], rel[ST_REL_MAX];
        st_time_format(g->created, created);
        _cleanup_json_ json_t *pkgs = json_array();
        for (size_t i = 0; pkgs && i < g->n_pkgs; i++)
                if (json_array_append_new(pkgs, st_installed_json(&g->pkgs[i])) < 0)
                        return sl_error_set(err, ENOMEM, "generation %llu",
                                            (unsigned long long)g->number);
        _cleanup_json_ json_t *doc =
            json_pack("{s:I, s:s, s:s, s:O}", "generation", (json_int_t)g->number, "created",
                      created, "reason", g->reason, "packages", pkgs);
        _cleanup_free_ char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        if (!text)
                return sl_error_set(err, ENOMEM, "generation %llu", (unsigned long long)g->number);
        size_t n = strlen(text);
        _cleanup_free_ char *line = realloc(SL_STEAL_PTR(text), n + 2);
        if (!line)
                return sl_error_set(err, ENOMEM, "generation %llu", (unsigned long long)g->number);
        line[n] = '\n';
        snprintf(rel, sizeof rel, ST_DIR_GENERATIONS "/%llu.json", (unsigned long long)g->number);
        /* Read-only: a generation file is never rewritten. */
        return st_write_atomic_at(s->dirfd, rel, line, n + 1, 0444, err);
}

/* "<N>.json" with N a decimal without leading zeros, 1 or more. */
static int st_generation_name(const char *name, uint64_t *out)
{
        size_t digits = strspn(name, "0123456789");
        if (digits == 0 || digits > 19 || name[0] == '0' || strcmp(name + digits, ".json") != 0)
                return -1;
        *out = strtoull(name, NULL, 10);
        return 0;
}

static int st_u64_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

int st_local_generation_numbers(struct st_store *s, uint64_t **out, size_t *n, struct sl_error *err)
{
        *out = NULL;
        *n = 0;
        int fd = openat(s->dirfd, ST_DIR_GENERATIONS, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return sl_error_errno(err, "open `%s/%s`", s->dir, ST_DIR_GENERATIONS);
        _cleanup_dir_ DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return sl_error_errno(err, "open `%s/%s`", s->dir, ST_DIR_GENERATIONS);
        }
        _cleanup_free_ uint64_t *nums = NULL;
        size_t count = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                uint64_t g;
                if (st_generation_name(de->d_name, &g) < 0)
                        continue;
                if (count == cap) {
                        cap = cap ? cap * 2 : 16;
                        uint64_t *p = realloc(nums, cap * sizeof *p);
                        if (!p)
                                return sl_error_set(err, ENOMEM, "generations");
                        nums = p;
                }
                nums[count++] = g;
        }
        if (count)
                qsort(nums, count, sizeof *nums, st_u64_cmp);
        *out = SL_STEAL_PTR(nums);
        *n = count;
        return 0;
}

int st_local_current_number(struct st_store *s, uint64_t *out, struct sl_error *err)
{
        char target[PATH_MAX];
        *out = 0;
        ssize_t n = readlinkat(s->dirfd, ST_FILE_CURRENT, target, sizeof target - 1);
        if (n < 0 && errno == ENOENT)
                return 0; /* a fresh store, or the first install never committed */
        if (n < 0)
                return sl_error_errno(err, "read `%s/%s`", s->dir, ST_FILE_CURRENT);
        target[n] = 0;
        static const char prefix[] = ST_DIR_GENERATIONS "/";
        if (strncmp(target, prefix, sizeof prefix - 1) != 0 ||
            st_generation_name(target + sizeof prefix - 1, out) < 0)
                return sl_error_set(err, 0, "`%s/%s` points at `%s`, not a generation", s->dir,
                                    ST_FILE_CURRENT, target);
        return 0;
}

int st_local_switch(struct st_store *s, uint64_t number, struct sl_error *err)
{
        char target[ST_REL_MAX], tmp[ST_REL_MAX];
        snprintf(target, sizeof target, ST_DIR_GENERATIONS "/%llu.json",
                 (unsigned long long)number);
        int made = 0;
        for (int i = 0; i < ST_NAME_TRIES && !made; i++) {
                snprintf(tmp, sizeof tmp, ST_FILE_CURRENT ST_LEFTOVER_MARK "%08x",
                         randombytes_random());
                if (symlinkat(target, s->dirfd, tmp) == 0)
                        made = 1;
                else if (errno != EEXIST)
                        return sl_error_errno(err, "symlink `%s/%s`", s->dir, tmp);
        }
        if (!made)
                return sl_error_set(err, EEXIST, "symlink `%s/%s`", s->dir, tmp);
        /* The commit point: rename replaces `current` atomically, so a
         * crash leaves the old generation active or the new one. */
        if (renameat(s->dirfd, tmp, s->dirfd, ST_FILE_CURRENT) < 0) {
                sl_error_errno(err, "rename `%s/%s` to `%s`", s->dir, tmp, ST_FILE_CURRENT);
                unlinkat(s->dirfd, tmp, 0);
                return -1;
        }
        if (fsync(s->dirfd) < 0)
                return sl_error_errno(err, "fsync `%s`", s->dir);
        return 0;
}

/* ---- public reads ---- */

int st_store_current(struct st_store *s, struct st_generation *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        uint64_t n;
        if (st_local_current_number(s, &n, err) < 0)
                return -1;
        if (n == 0)
                return 0;
        return st_local_generation_read(s, n, out, err);
}

int st_store_generations(struct st_store *s, struct st_generation **out, size_t *n,
                         uint64_t *current_number, struct sl_error *err)
{
        *out = NULL;
        *n = 0;
        _cleanup_free_ uint64_t *nums = NULL;
        size_t count;
        if (st_local_current_number(s, current_number, err) < 0 ||
            st_local_generation_numbers(s, &nums, &count, err) < 0)
                return -1;
        struct st_generation *gens = calloc(count + 1, sizeof *gens);
        if (!gens)
                return sl_error_set(err, ENOMEM, "generations");
        for (size_t i = 0; i < count; i++) {
                if (st_local_generation_read(s, nums[i], &gens[i], err) < 0) {
                        for (size_t j = 0; j < i; j++)
                                st_generation_free(&gens[j]);
                        free(gens);
                        return -1;
                }
        }
        *out = gens;
        *n = count;
        return 0;
}

/* ---- resolve: what a slice running a package mounts ---- */

void st_resolved_free(struct st_resolved *r)
{
        if (!r)
                return;
        for (size_t i = 0; r->trees && r->trees[i]; i++)
                free(r->trees[i]);
        for (size_t i = 0; r->command && r->command[i]; i++)
                free(r->command[i]);
        free(r->trees);
        free(r->command);
        free(r->archives);
        memset(r, 0, sizeof *r);
}

struct st_closure {
        const struct st_generation *g;
        int *visited;            /* per package of g */
        struct st_hashset order; /* archives in mount order, unsealed */
};

static int st_find_installed(const struct st_generation *g, const char *name, const char *version)
{
        for (size_t i = 0; i < g->n_pkgs; i++)
                if (strcmp(g->pkgs[i].name, name) == 0 && strcmp(g->pkgs[i].version, version) == 0)
                        return (int)i;
        return -1;
}

/* The package's own archives, then each dependency's closure, depth
 * first, each archive once; dependencies come from the stored manifest. */
static int st_closure_visit(struct st_store *s, struct st_closure *c, size_t idx,
                            struct sl_error *err)
{
        const struct st_installed *p = &c->g->pkgs[idx];
        c->visited[idx] = 1;
        for (size_t a = 0; a < p->n_archives; a++)
                if (!st_hashset_has(&c->order, p->archives[a]) &&
                    st_hashset_add(&c->order, p->archives[a], err) < 0)
                        return -1;
        struct st_manifest m;
        if (st_local_manifest(s, p->manifest, &m, err) < 0)
                return sl_error_prefix(err, "package %s@%s", p->name, p->version);
        int r = 0;
        for (size_t d = 0; d < m.n_deps && r == 0; d++) {
                int j = st_find_installed(c->g, m.deps[d].name, m.deps[d].version);
                if (j < 0)
                        r = sl_error_set(err, 0,
                                         "package %s@%s: dependency %s@%s is not installed "
                                         "(generation %llu)",
                                         p->name, p->version, m.deps[d].name, m.deps[d].version,
                                         (unsigned long long)c->g->number);
                else if (!c->visited[j])
                        r = st_closure_visit(s, c, (size_t)j, err);
        }
        st_manifest_free(&m);
        return r;
}

/* The installed package NAME@VERSION, or NAME alone when one version is. */
static int st_pick_package(const struct st_generation *g, const char *name, const char *version,
                           struct sl_error *err)
{
        if (*version) {
                int i = st_find_installed(g, name, version);
                if (i < 0)
                        return sl_error_set(err, 0,
                                            "package %s@%s is not installed (generation %llu)",
                                            name, version, (unsigned long long)g->number);
                return i;
        }
        int found = -1;
        for (size_t i = 0; i < g->n_pkgs; i++) {
                if (strcmp(g->pkgs[i].name, name) != 0)
                        continue;
                if (found >= 0)
                        return sl_error_set(err, 0,
                                            "package %s: several versions are installed "
                                            "(generation %llu); name one as %s@VERSION",
                                            name, (unsigned long long)g->number, name);
                found = (int)i;
        }
        if (found < 0)
                return sl_error_set(err, 0, "package %s is not installed (generation %llu)", name,
                                    (unsigned long long)g->number);
        return found;
}

static int st_resolved_fill(struct st_store *s, const struct st_hashset *order,
                            const struct st_manifest *m, struct st_resolved *out,
                            struct sl_error *err)
{
        out->n = order->n;
        out->trees = calloc(order->n + 1, sizeof *out->trees);
        out->archives = calloc(order->n + 1, sizeof *out->archives);
        if (!out->trees || !out->archives)
                return sl_error_set(err, ENOMEM, "resolve");
        for (size_t i = 0; i < order->n; i++) {
                char rel[ST_REL_MAX];
                struct stat st;
                memcpy(out->archives[i], order->h[i], ST_HASH_HEX);
                snprintf(rel, sizeof rel, ST_DIR_TREES "/%s", order->h[i]);
                /* Fail closed: a slice must not start on a missing tree. */
                if (fstatat(s->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        return sl_error_set(err, ENOENT, "package %s@%s: tree `%s/%s` is missing",
                                            out->name, out->version, s->dir, rel);
                if (asprintf(&out->trees[i], "%s/%s", s->dir, rel) < 0) {
                        out->trees[i] = NULL;
                        return sl_error_set(err, ENOMEM, "resolve");
                }
        }
        if (!m->command)
                return 0;
        out->command = calloc(m->n_command + 1, sizeof *out->command);
        if (!out->command)
                return sl_error_set(err, ENOMEM, "resolve");
        for (size_t i = 0; i < m->n_command; i++)
                if (!(out->command[i] = strdup(m->command[i])))
                        return sl_error_set(err, ENOMEM, "resolve");
        return 0;
}

int st_store_resolve(struct st_store *s, const char *name, const char *version,
                     struct st_resolved *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        struct st_generation g;
        if (st_store_current(s, &g, err) < 0)
                return -1;
        struct st_closure c = {.g = &g};
        struct st_manifest m = {0};
        int r = -1, idx = st_pick_package(&g, name, version ? version : "", err);
        if (idx < 0)
                goto out;
        out->generation = g.number;
        snprintf(out->name, sizeof out->name, "%s", g.pkgs[idx].name);
        snprintf(out->version, sizeof out->version, "%s", g.pkgs[idx].version);
        c.visited = calloc(g.n_pkgs + 1, sizeof *c.visited);
        if (!c.visited) {
                sl_error_set(err, ENOMEM, "resolve");
                goto out;
        }
        if (st_closure_visit(s, &c, (size_t)idx, err) < 0 ||
            st_local_manifest(s, g.pkgs[idx].manifest, &m, err) < 0 ||
            st_resolved_fill(s, &c.order, &m, out, err) < 0)
                goto out;
        r = 0;
out:
        if (r < 0)
                st_resolved_free(out);
        st_manifest_free(&m);
        st_hashset_free(&c.order);
        free(c.visited);
        st_generation_free(&g);
        return r;
}
