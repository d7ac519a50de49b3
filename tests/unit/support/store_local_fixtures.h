/* Fixtures for the local store's tests: archives built in memory with
 * libarchive's writer (tar + zstd, reproducible), a fake repository of
 * packages served through an st_source, and small file-system helpers. */
#ifndef FX_STORE_LOCAL_FIXTURES_H
#define FX_STORE_LOCAL_FIXTURES_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "store/local.h"

/* One archive entry. type: 'f' file, 'd' directory, 'l' symlink. */
struct fx_file {
        const char *path;
        char type;
        mode_t perm;      /* 0 = 0644 for files, 0755 for directories */
        const char *data; /* files: contents; symlinks: the target */
};

/* Build a tar+zstd archive of files (terminated by path == NULL) in memory. */
int fx_archive_build(const struct fx_file *files, struct st_buf *out);

/* How the fake source misbehaves when serving an archive. */
enum fx_fault {
        FX_OK,
        FX_FLIP_BYTE, /* one byte changed: same size, another hash */
        FX_SHORT,     /* one byte missing */
        FX_PKG_HASH,  /* a wrong pkg_hash for the envelope */
};

struct fx_archive {
        char hash[ST_HASH_HEX];
        struct st_buf bytes;
};

struct fx_pkg {
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
        struct st_buf env; /* {"signed": base64(manifest), "signatures": []} */
        char hash[ST_HASH_HEX];
};

struct fx_repo {
        struct fx_archive *archives;
        size_t n_archives;
        struct fx_pkg *pkgs;
        size_t n_pkgs;
        enum fx_fault fault;
        char fault_hash[ST_HASH_HEX]; /* the archive that misbehaves ("" = every one) */
        size_t package_calls, archive_calls;
};

/* Add an archive of these files; out_hash gets its hash. */
int fx_repo_add_archive(struct fx_repo *r, const struct fx_file *files, char out_hash[ST_HASH_HEX]);
/* Add NAME@VERSION with these archives (hashes, NULL-terminated), these
 * dependencies ("NAME@VERSION", NULL-terminated, may be NULL) and an
 * optional template command (NULL-terminated, may be NULL). */
int fx_repo_add_package(struct fx_repo *r, const char *name, const char *version,
                        const char *const *archives, const char *const *deps,
                        const char *const *command);
const struct fx_archive *fx_repo_archive(const struct fx_repo *r, const char *hash);
const struct fx_pkg *fx_repo_package(const struct fx_repo *r, const char *name,
                                     const char *version);
struct st_source fx_repo_source(struct fx_repo *r);
void fx_repo_free(struct fx_repo *r);

/* A fresh directory under $TMPDIR (or /tmp). */
int fx_mkdtemp(const char *label, char *out, size_t cap);
/* rm -rf, giving write bits back first (store trees are read-only). */
void fx_rm_rf(const char *path);
/* Bytes of the regular files under path. */
uint64_t fx_du(const char *path);
/* Every path under dir except tmp/ and its contents, sorted, one per line,
 * with the inode and size: two equal snapshots mean nothing changed. */
char *fx_snapshot(const char *dir);
/* The names of the packages in a generation, "a@1 b@2" sorted. */
void fx_gen_names(const struct st_generation *g, char *out, size_t cap);

/* ---- the test world: a store and a repository of these packages ----
 *
 *   base@1      [base]
 *   libfoo@2.1  [libfoo]         -> base@1
 *   hello@1.0   [hello, shared]  -> libfoo@2.1, command /pkg/bin/hello --greet
 *   hello@2.0   [hello2, shared] -> libfoo@2.1
 *   world@1     [world, shared]
 *   evil@1      [evil: a `../x` entry]
 *   cyc-a@1     [world]          -> cyc-b@1 -> cyc-a@1
 *   lib@1 [lib1] -> base@1;  tool@1 [tool1, app1] -> base@1
 *   app@1       [app1, app2]     -> lib@1, tool@1
 *
 * Helpers fail the running cmocka test on any unexpected error. */
struct fx_world {
        char dir[PATH_MAX / 2];
        char store[PATH_MAX / 2 + 8];
        struct fx_repo repo;
        struct st_source src;
        char base[ST_HASH_HEX], libfoo[ST_HASH_HEX], hello[ST_HASH_HEX], hello2[ST_HASH_HEX],
            shared[ST_HASH_HEX], world[ST_HASH_HEX], evil[ST_HASH_HEX];
        char app1[ST_HASH_HEX], app2[ST_HASH_HEX], lib1[ST_HASH_HEX], tool1[ST_HASH_HEX];
};

/* cmocka setup/teardown: a fresh directory, the store path inside it (not
 * created yet) and the repository above. */
int fx_world_setup(void **state);
int fx_world_teardown(void **state);

struct st_store *fx_open(struct fx_world *t, enum st_open_mode mode);
/* Install / remove one spec; the new generation number. */
uint64_t fx_install(struct fx_world *t, const char *spec);
/* For installs that must fail: -1 and the message in msg (SL_ERROR_MSG_MAX). */
int fx_try_install(struct fx_world *t, const char *spec, char *msg);
/* msg NULL: must succeed; else 0 on failure with the message in msg. */
uint64_t fx_remove(struct fx_world *t, const char *spec, char *msg);
int fx_rollback(struct fx_world *t, uint64_t gen, uint64_t *out, char *msg);
/* "a@1 b@2" of the current generation; its number in *number. */
void fx_current(struct fx_world *t, char *names, size_t cap, uint64_t *number);
void fx_assert_current(struct fx_world *t, uint64_t number, const char *names);
void fx_assert_contains(const char *msg, const char *want);
/* STORE/<printf>; out holds PATH_MAX. */
void fx_store_path(struct fx_world *t, char *out, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
struct stat fx_stat(const char *path);
int fx_exists(const char *path);
void fx_verify(struct fx_world *t, struct st_verify_report *rep);
void fx_assert_verify_clean(struct fx_world *t);
void fx_mkdir(const char *path, mode_t mode);
void fx_write_file(const char *path, const char *data, mode_t mode);

#endif
