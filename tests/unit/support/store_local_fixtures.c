/* Fixtures for the local store's tests: see store_local_fixtures.h. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "store/util.h"
#include "support/store_local_fixtures.h"

/* Test archives are a few KiB; this bounds the in-memory writer. */
#define FX_ARCHIVE_CAP (8u << 20)
#define FX_NFTW_FDS    16

static void fx_hash(const void *data, size_t len, char out[ST_HASH_HEX])
{
        uint8_t h[ST_HASH_BYTES];
        crypto_generichash(h, sizeof h, data, len, NULL, 0);
        st_hex_encode(h, sizeof h, out);
}

static int fx_write_entry(struct archive *a, const struct fx_file *f)
{
        struct archive_entry *e = archive_entry_new();
        size_t size = f->type == 'f' && f->data ? strlen(f->data) : 0;
        archive_entry_set_pathname(e, f->path);
        archive_entry_set_mtime(e, 0, 0);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        switch (f->type) {
        case 'd':
                archive_entry_set_filetype(e, AE_IFDIR);
                archive_entry_set_perm(e, f->perm ? f->perm : 0755);
                break;
        case 'l':
                archive_entry_set_filetype(e, AE_IFLNK);
                archive_entry_set_perm(e, 0777);
                archive_entry_set_symlink(e, f->data);
                break;
        default:
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_perm(e, f->perm ? f->perm : 0644);
                archive_entry_set_size(e, (la_int64_t)size);
        }
        int r = archive_write_header(a, e) == ARCHIVE_OK ? 0 : -1;
        if (r == 0 && size && archive_write_data(a, f->data, size) != (la_ssize_t)size)
                r = -1;
        archive_entry_free(e);
        return r;
}

int fx_archive_build(const struct fx_file *files, struct st_buf *out)
{
        uint8_t *buf = malloc(FX_ARCHIVE_CAP);
        struct archive *a = archive_write_new();
        size_t used = 0;
        int r = -1;
        if (!buf || !a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
            archive_write_open_memory(a, buf, FX_ARCHIVE_CAP, &used) != ARCHIVE_OK)
                goto out;
        for (const struct fx_file *f = files; f->path; f++)
                if (fx_write_entry(a, f) < 0)
                        goto out;
        if (archive_write_close(a) != ARCHIVE_OK)
                goto out;
        r = st_buf_set(out, buf, used, NULL);
out:
        if (a)
                archive_write_free(a);
        free(buf);
        return r;
}

int fx_repo_add_archive(struct fx_repo *r, const struct fx_file *files, char out_hash[ST_HASH_HEX])
{
        struct fx_archive *p = realloc(r->archives, (r->n_archives + 1) * sizeof *p);
        if (!p)
                return -1;
        r->archives = p;
        p = &p[r->n_archives];
        memset(p, 0, sizeof *p);
        if (fx_archive_build(files, &p->bytes) < 0)
                return -1;
        fx_hash(p->bytes.data, p->bytes.len, p->hash);
        r->n_archives++;
        if (out_hash)
                memcpy(out_hash, p->hash, ST_HASH_HEX);
        return 0;
}

const struct fx_archive *fx_repo_archive(const struct fx_repo *r, const char *hash)
{
        for (size_t i = 0; i < r->n_archives; i++)
                if (strcmp(r->archives[i].hash, hash) == 0)
                        return &r->archives[i];
        return NULL;
}

const struct fx_pkg *fx_repo_package(const struct fx_repo *r, const char *name, const char *version)
{
        const struct fx_pkg *found = NULL;
        for (size_t i = 0; i < r->n_pkgs; i++)
                if (strcmp(r->pkgs[i].name, name) == 0 &&
                    (!*version || strcmp(r->pkgs[i].version, version) == 0))
                        found = &r->pkgs[i]; /* the last added is the newest */
        return found;
}

static json_t *fx_manifest(const struct fx_repo *r, const char *name, const char *version,
                           const char *const *archives, const char *const *deps,
                           const char *const *command)
{
        json_t *arch = json_array(), *dl = json_array();
        for (size_t i = 0; archives && archives[i]; i++) {
                const struct fx_archive *a = fx_repo_archive(r, archives[i]);
                if (!a)
                        return NULL;
                json_array_append_new(arch, json_pack("{s:s, s:I}", "hash", a->hash, "size",
                                                      (json_int_t)a->bytes.len));
        }
        for (size_t i = 0; deps && deps[i]; i++) {
                char dn[ST_NAME_MAX], dv[ST_VERSION_MAX];
                if (st_spec_parse(deps[i], dn, dv, NULL) < 0)
                        return NULL;
                json_array_append_new(dl, json_pack("{s:s, s:s}", "name", dn, "version", dv));
        }
        json_t *m = json_pack("{s:s, s:s, s:o, s:o}", "name", name, "version", version, "archives",
                              arch, "dependencies", dl);
        if (m && command) {
                json_t *c = json_array();
                for (size_t i = 0; command[i]; i++)
                        json_array_append_new(c, json_string(command[i]));
                json_object_set_new(m, "slice", json_pack("{s:o}", "command", c));
        }
        return m;
}

int fx_repo_add_package(struct fx_repo *r, const char *name, const char *version,
                        const char *const *archives, const char *const *deps,
                        const char *const *command)
{
        json_t *m = fx_manifest(r, name, version, archives, deps, command);
        char *doc = m ? json_dumps(m, 0) : NULL;
        json_decref(m);
        char *b64 = doc ? st_base64_encode((const uint8_t *)doc, strlen(doc)) : NULL;
        free(doc);
        json_t *env = b64 ? json_pack("{s:s, s:[]}", "signed", b64, "signatures") : NULL;
        free(b64);
        char *text = env ? json_dumps(env, 0) : NULL;
        json_decref(env);
        struct fx_pkg *p = text ? realloc(r->pkgs, (r->n_pkgs + 1) * sizeof *p) : NULL;
        if (!p) {
                free(text);
                return -1;
        }
        r->pkgs = p;
        p = &p[r->n_pkgs++];
        memset(p, 0, sizeof *p);
        snprintf(p->name, sizeof p->name, "%s", name);
        snprintf(p->version, sizeof p->version, "%s", version);
        p->env.data = (uint8_t *)text;
        p->env.len = strlen(text);
        fx_hash(p->env.data, p->env.len, p->hash);
        return 0;
}

static int fx_package(void *ctx, const char *name, const char *version, struct st_buf *pkg,
                      char pkg_hash[ST_HASH_HEX], struct st_manifest *m, struct sl_error *err)
{
        struct fx_repo *r = ctx;
        r->package_calls++;
        const struct fx_pkg *p = fx_repo_package(r, name, version);
        if (!p)
                return sl_error_set(err, ENOENT, "not in the repository");
        struct st_buf doc = {0};
        if (st_buf_set(pkg, p->env.data, p->env.len, err) < 0)
                return -1;
        /* The manifest as a verifying source hands it over: parsed from the
         * envelope's signed bytes. */
        json_t *env = json_loadb((const char *)p->env.data, p->env.len, 0, NULL);
        json_t *sig = json_object_get(env, "signed");
        int rc =
            st_base64_decode(json_string_value(sig), json_string_length(sig), &doc, "signed", err);
        json_decref(env);
        if (rc == 0)
                rc = st_manifest_parse(doc.data, doc.len, m, err);
        st_buf_free(&doc);
        memcpy(pkg_hash, p->hash, ST_HASH_HEX);
        if (r->fault == FX_PKG_HASH)
                pkg_hash[0] = pkg_hash[0] == '0' ? '1' : '0';
        return rc;
}

static int fx_write_all(int fd, const uint8_t *p, size_t len)
{
        while (len) {
                ssize_t w = write(fd, p, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -1;
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

static int fx_archive(void *ctx, const struct st_archive_ref *ref, int fd, struct sl_error *err)
{
        struct fx_repo *r = ctx;
        r->archive_calls++;
        const struct fx_archive *a = fx_repo_archive(r, ref->hash);
        if (!a)
                return sl_error_set(err, ENOENT, "not in the repository");
        struct st_buf copy = {0};
        if (st_buf_set(&copy, a->bytes.data, a->bytes.len, err) < 0)
                return -1;
        int faulty = !r->fault_hash[0] || strcmp(r->fault_hash, ref->hash) == 0;
        if (faulty && r->fault == FX_FLIP_BYTE)
                copy.data[copy.len / 2] ^= 1;
        if (faulty && r->fault == FX_SHORT)
                copy.len--;
        int rc = fx_write_all(fd, copy.data, copy.len);
        st_buf_free(&copy);
        return rc < 0 ? sl_error_errno(err, "write") : 0;
}

struct st_source fx_repo_source(struct fx_repo *r)
{
        struct st_source s = {.package = fx_package, .archive = fx_archive, .ctx = r};
        return s;
}

void fx_repo_free(struct fx_repo *r)
{
        for (size_t i = 0; i < r->n_archives; i++)
                st_buf_free(&r->archives[i].bytes);
        for (size_t i = 0; i < r->n_pkgs; i++)
                st_buf_free(&r->pkgs[i].env);
        free(r->archives);
        free(r->pkgs);
        memset(r, 0, sizeof *r);
}

/* ---- file-system helpers ---- */

int fx_mkdtemp(const char *label, char *out, size_t cap)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        if (snprintf(out, cap, "%s/%s.XXXXXX", tmp, label) >= (int)cap)
                return -1;
        return mkdtemp(out) ? 0 : -1;
}

static int fx_unlock_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)ftw;
        if (flag == FTW_D || flag == FTW_DNR)
                chmod(p, 0700);
        return 0;
}

static int fx_rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        remove(p);
        return 0;
}

void fx_rm_rf(const char *path)
{
        nftw(path, fx_unlock_cb, FX_NFTW_FDS, FTW_PHYS);
        nftw(path, fx_rm_cb, FX_NFTW_FDS, FTW_DEPTH | FTW_PHYS);
}

static __thread uint64_t fx_du_bytes;
static int fx_du_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)p, (void)flag, (void)ftw;
        if (S_ISREG(sb->st_mode))
                fx_du_bytes += (uint64_t)sb->st_size;
        return 0;
}

uint64_t fx_du(const char *path)
{
        fx_du_bytes = 0;
        nftw(path, fx_du_cb, FX_NFTW_FDS, FTW_PHYS);
        return fx_du_bytes;
}

static __thread char **fx_snap_lines;
static __thread size_t fx_snap_n;
static __thread size_t fx_snap_root;

static int fx_snap_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)flag;
        if (ftw->level == 0)
                return 0;
        const char *rel = p + fx_snap_root + 1;
        if (strcmp(rel, "tmp") == 0 || strncmp(rel, "tmp/", 4) == 0)
                return 0;
        char **v = realloc(fx_snap_lines, (fx_snap_n + 1) * sizeof *v);
        if (!v)
                return -1;
        fx_snap_lines = v;
        if (asprintf(&v[fx_snap_n], "%s %llu %lld", rel, (unsigned long long)sb->st_ino,
                     (long long)sb->st_size) < 0)
                return -1;
        fx_snap_n++;
        return 0;
}

static int fx_str_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fx_snapshot(const char *dir)
{
        fx_snap_lines = NULL;
        fx_snap_n = 0;
        fx_snap_root = strlen(dir);
        nftw(dir, fx_snap_cb, FX_NFTW_FDS, FTW_PHYS);
        if (fx_snap_n)
                qsort(fx_snap_lines, fx_snap_n, sizeof *fx_snap_lines, fx_str_cmp);
        size_t len = 1;
        for (size_t i = 0; i < fx_snap_n; i++)
                len += strlen(fx_snap_lines[i]) + 1;
        char *out = calloc(1, len);
        for (size_t i = 0; i < fx_snap_n; i++) {
                if (out) {
                        strcat(out, fx_snap_lines[i]);
                        strcat(out, "\n");
                }
                free(fx_snap_lines[i]);
        }
        free(fx_snap_lines);
        fx_snap_lines = NULL;
        return out;
}

void fx_gen_names(const struct st_generation *g, char *out, size_t cap)
{
        char **v = calloc(g->n_pkgs + 1, sizeof *v);
        out[0] = 0;
        if (!v)
                return;
        for (size_t i = 0; i < g->n_pkgs; i++)
                if (asprintf(&v[i], "%s@%s", g->pkgs[i].name, g->pkgs[i].version) < 0)
                        v[i] = NULL;
        qsort(v, g->n_pkgs, sizeof *v, fx_str_cmp);
        size_t n = 0;
        for (size_t i = 0; i < g->n_pkgs; i++) {
                if (v[i] && n < cap)
                        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", v[i]);
                free(v[i]);
        }
        free(v);
}

/* ---- the test world: packages and helpers ---- */

#define H(x) ((const char *const[]){x, NULL})

static void add_archive(struct fx_world *t, const struct fx_file *files, char *hash)
{
        assert_int_equal(fx_repo_add_archive(&t->repo, files, hash), 0);
}

static void add_package(struct fx_world *t, const char *name, const char *version,
                        const char *const *archives, const char *const *deps,
                        const char *const *command)
{
        assert_int_equal(fx_repo_add_package(&t->repo, name, version, archives, deps, command), 0);
}

static void build_archives(struct fx_world *t)
{
        add_archive(t,
                    (const struct fx_file[]){{"bin", 'd', 0, NULL},
                                             {"bin/base", 'f', 0755, "#!/bin/sh\necho base\n"},
                                             {"lib", 'd', 0, NULL},
                                             {"lib/libbase.so", 'f', 0, "base library"},
                                             {NULL, 0, 0, NULL}},
                    t->base);
        add_archive(t,
                    (const struct fx_file[]){{"lib", 'd', 0, NULL},
                                             {"lib/libfoo.so", 'f', 0, "foo 2.1"},
                                             {NULL, 0, 0, NULL}},
                    t->libfoo);
        add_archive(t,
                    (const struct fx_file[]){{"bin", 'd', 0, NULL},
                                             {"bin/hello", 'f', 0755, "hello 1.0"},
                                             {"share", 'd', 0, NULL},
                                             {"share/hello.txt", 'f', 0, "hi"},
                                             {"share/link", 'l', 0, "hello.txt"},
                                             {NULL, 0, 0, NULL}},
                    t->hello);
        /* No directory entries: libarchive makes the parents. */
        add_archive(
            t, (const struct fx_file[]){{"bin/hello", 'f', 0755, "hello 2.0"}, {NULL, 0, 0, NULL}},
            t->hello2);
        add_archive(t,
                    (const struct fx_file[]){{"share", 'd', 0, NULL},
                                             {"share/common/", 'd', 0, NULL},
                                             {"share/common/data", 'f', 0, "shared data"},
                                             {NULL, 0, 0, NULL}},
                    t->shared);
        add_archive(t,
                    (const struct fx_file[]){{"bin", 'd', 0, NULL},
                                             {"bin/world", 'f', 0755, "world"},
                                             {NULL, 0, 0, NULL}},
                    t->world);
        add_archive(t, (const struct fx_file[]){{"../x", 'f', 0, "escape"}, {NULL, 0, 0, NULL}},
                    t->evil);
        add_archive(t, (const struct fx_file[]){{"a1", 'f', 0, "a1"}, {NULL, 0, 0, NULL}}, t->app1);
        add_archive(t, (const struct fx_file[]){{"a2", 'f', 0, "a2"}, {NULL, 0, 0, NULL}}, t->app2);
        add_archive(t, (const struct fx_file[]){{"l1", 'f', 0, "l1"}, {NULL, 0, 0, NULL}}, t->lib1);
        add_archive(t, (const struct fx_file[]){{"t1", 'f', 0, "t1"}, {NULL, 0, 0, NULL}},
                    t->tool1);
}

static void build_packages(struct fx_world *t)
{
        add_package(t, "base", "1", H(t->base), NULL, NULL);
        add_package(t, "libfoo", "2.1", H(t->libfoo), H("base@1"), NULL);
        add_package(t, "hello", "1.0", (const char *const[]){t->hello, t->shared, NULL},
                    H("libfoo@2.1"), (const char *const[]){"/pkg/bin/hello", "--greet", NULL});
        add_package(t, "hello", "2.0", (const char *const[]){t->hello2, t->shared, NULL},
                    H("libfoo@2.1"), NULL);
        add_package(t, "world", "1", (const char *const[]){t->world, t->shared, NULL}, NULL, NULL);
        add_package(t, "evil", "1", H(t->evil), NULL, NULL);
        add_package(t, "cyc-a", "1", H(t->world), H("cyc-b@1"), NULL);
        add_package(t, "cyc-b", "1", H(t->base), H("cyc-a@1"), NULL);
        /* The closure: app's own archives, then lib's (then base's), then
         * tool's, whose a1 is app's and appears once. */
        add_package(t, "lib", "1", H(t->lib1), H("base@1"), NULL);
        add_package(t, "tool", "1", (const char *const[]){t->tool1, t->app1, NULL}, H("base@1"),
                    NULL);
        add_package(t, "app", "1", (const char *const[]){t->app1, t->app2, NULL},
                    (const char *const[]){"lib@1", "tool@1", NULL}, NULL);
}

int fx_world_setup(void **state)
{
        struct fx_world *t = calloc(1, sizeof *t);
        if (!t || fx_mkdtemp("test_store_local", t->dir, sizeof t->dir) < 0)
                return -1;
        snprintf(t->store, sizeof t->store, "%s/store", t->dir);
        build_archives(t);
        build_packages(t);
        t->src = fx_repo_source(&t->repo);
        *state = t;
        return 0;
}

int fx_world_teardown(void **state)
{
        struct fx_world *t = *state;
        fx_rm_rf(t->dir);
        fx_repo_free(&t->repo);
        free(t);
        return 0;
}

struct st_store *fx_open(struct fx_world *t, enum st_open_mode mode)
{
        struct st_store *s = NULL;
        struct sl_error err = {0};
        if (st_store_open(t->store, mode, &s, &err) < 0)
                fail_msg("open: %s", err.msg);
        return s;
}

uint64_t fx_install(struct fx_world *t, const char *spec)
{
        struct st_store *s = fx_open(t, ST_WRITE);
        struct sl_error err = {0};
        uint64_t gen = 0;
        if (st_store_install(s, &t->src, &spec, 1, &gen, &err) < 0)
                fail_msg("install %s: %s", spec, err.msg);
        st_store_close(s);
        return gen;
}

/* -1 and the message, for installs that must fail. */
int fx_try_install(struct fx_world *t, const char *spec, char *msg)
{
        struct st_store *s = fx_open(t, ST_WRITE);
        struct sl_error err = {0};
        uint64_t gen = 0;
        int r = st_store_install(s, &t->src, &spec, 1, &gen, &err);
        snprintf(msg, SL_ERROR_MSG_MAX, "%s", err.msg);
        st_store_close(s);
        return r;
}

uint64_t fx_remove(struct fx_world *t, const char *spec, char *msg)
{
        struct st_store *s = fx_open(t, ST_WRITE);
        struct sl_error err = {0};
        uint64_t gen = 0;
        int r = st_store_remove(s, &spec, 1, &gen, &err);
        if (msg)
                snprintf(msg, SL_ERROR_MSG_MAX, "%s", err.msg);
        else if (r < 0)
                fail_msg("remove %s: %s", spec, err.msg);
        st_store_close(s);
        return r < 0 ? 0 : gen;
}

int fx_rollback(struct fx_world *t, uint64_t gen, uint64_t *out, char *msg)
{
        struct st_store *s = fx_open(t, ST_WRITE);
        struct sl_error err = {0};
        int r = st_store_rollback(s, gen, out, &err);
        snprintf(msg, SL_ERROR_MSG_MAX, "%s", err.msg);
        st_store_close(s);
        return r;
}

/* "a@1 b@2" of the current generation; its number in *number. */
void fx_current(struct fx_world *t, char *names, size_t cap, uint64_t *number)
{
        struct st_store *s = fx_open(t, ST_READ);
        struct st_generation g;
        struct sl_error err = {0};
        if (st_store_current(s, &g, &err) < 0)
                fail_msg("current: %s", err.msg);
        fx_gen_names(&g, names, cap);
        if (number)
                *number = g.number;
        st_generation_free(&g);
        st_store_close(s);
}

void fx_assert_current(struct fx_world *t, uint64_t number, const char *names)
{
        char got[1024];
        uint64_t n;
        fx_current(t, got, sizeof got, &n);
        assert_int_equal(n, number);
        assert_string_equal(got, names);
}

void fx_assert_contains(const char *msg, const char *want)
{
        if (!strstr(msg, want))
                fail_msg("expected `%s` in `%s`", want, msg);
}

void fx_store_path(struct fx_world *t, char *out, const char *fmt, ...)
{
        char rel[PATH_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof rel, fmt, ap);
        va_end(ap);
        snprintf(out, PATH_MAX, "%s/%.1000s", t->store, rel);
}

struct stat fx_stat(const char *path)
{
        struct stat st;
        if (lstat(path, &st) < 0)
                fail_msg("stat %s: %s", path, strerror(errno));
        return st;
}

int fx_exists(const char *path)
{
        struct stat st;
        return lstat(path, &st) == 0;
}

void fx_verify(struct fx_world *t, struct st_verify_report *rep)
{
        struct st_store *s = fx_open(t, ST_READ);
        struct sl_error err = {0};
        if (st_store_verify(s, rep, &err) < 0)
                fail_msg("verify: %s", err.msg);
        st_store_close(s);
}

void fx_assert_verify_clean(struct fx_world *t)
{
        struct st_verify_report rep;
        fx_verify(t, &rep);
        for (size_t i = 0; i < rep.n_problems; i++)
                print_error("problem: %s: %s\n", rep.problems[i].path, rep.problems[i].what);
        assert_int_equal(rep.n_problems, 0);
        st_verify_report_free(&rep);
}

void fx_mkdir(const char *path, mode_t mode)
{
        assert_int_equal(mkdir(path, mode), 0);
        assert_int_equal(chmod(path, mode), 0);
}

void fx_write_file(const char *path, const char *data, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        close(fd);
        assert_int_equal(chmod(path, mode), 0);
}

/* What interrupted operations leave: an aside tree (read-only inside), a
 * download in tmp/, half-written files, a new `current` never renamed. */
