/* Internal to the local store (local.c, local_install.c, local_gc.c,
 * local_verify.c, audit.c): the handle and the steps they share. */
#ifndef ST_LOCAL_PRIV_H
#define ST_LOCAL_PRIV_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/local.h"

/* Subdirectories of the store (docs/store.md, "Store layout"). */
#define ST_DIR_ARCHIVES    "archives"
#define ST_DIR_TREES       "trees"
#define ST_DIR_PACKAGES    "packages"
#define ST_DIR_GENERATIONS "generations"
#define ST_DIR_TRUST       "trust"
#define ST_DIR_TMP         "tmp"
#define ST_FILE_LOCK       "lock"
#define ST_FILE_CURRENT    "current"
#define ST_FILE_INUSE      "inuse.json"
#define ST_ARCHIVE_SUFFIX  ".tar.zst"
#define ST_PACKAGE_SUFFIX  ".pkg"
/* Every interrupted step leaves names containing this and nothing else does. */
#define ST_LEFTOVER_MARK ".tmp-"

/* Store-relative names: "archives/<64 hex>.tar.zst" is the longest. */
#define ST_REL_MAX 96

/* A generation file lists at most this many packages, each with at most
 * ST_GEN_MAX_ARCHIVES archives (the manifest's own cap), and is read with
 * a cap of ST_GEN_MAX_BYTES: far above any real system, small enough that
 * a corrupted file cannot exhaust memory. */
#define ST_GEN_MAX_PACKAGES 65536
#define ST_GEN_MAX_ARCHIVES 1024
#define ST_GEN_MAX_BYTES    (64u << 20)

struct st_store {
        char dir[PATH_MAX]; /* absolute, symlinks resolved */
        int dirfd;          /* the store directory, O_DIRECTORY */
        int lockfd;         /* holds the flock for the handle's lifetime */
        enum st_open_mode mode;
        /* What st_store_open swept before anything else ran, so that gc
         * can report it. */
        size_t leftovers_swept;
        uint64_t leftover_bytes;
};

/* -1 with a message unless the store was opened ST_WRITE. */
int st_local_need_write(const struct st_store *s, struct sl_error *err);

/* "DIR/rel" into out (PATH_MAX). */
int st_local_path(const struct st_store *s, const char *rel, char *out, struct sl_error *err);

/* Does the name mark an interrupted operation (contains ".tmp-")? */
int st_local_is_leftover(const char *name);

/* BLAKE2b-256 of a buffer, as 64 hex digits. */
void st_local_hash_buf(const void *data, size_t len, char out[ST_HASH_HEX]);

/* The manifest inside a stored envelope: the signed bytes decoded and
 * parsed (they were verified before they reached the store). */
int st_local_manifest_from_envelope(const void *env, size_t len, struct st_manifest *m,
                                    struct sl_error *err);
/* The same for packages/<pkg_hash>.pkg. */
int st_local_manifest(struct st_store *s, const char *pkg_hash, struct st_manifest *m,
                      struct sl_error *err);

/* Generation files. */
int st_local_generation_read(struct st_store *s, uint64_t number, struct st_generation *out,
                             struct sl_error *err);
/* Parse a generation document; `label` names it in messages. */
int st_local_generation_parse(const void *bytes, size_t len, const char *label,
                              struct st_generation *out, struct sl_error *err);
/* Write generations/<g->number>.json (atomically, 0444). */
int st_local_generation_write(struct st_store *s, const struct st_generation *g,
                              struct sl_error *err);
/* Numbers of every generation file, ascending. */
int st_local_generation_numbers(struct st_store *s, uint64_t **out, size_t *n,
                                struct sl_error *err);
/* The number `current` points at (0 when there is no `current`). */
int st_local_current_number(struct st_store *s, uint64_t *out, struct sl_error *err);
/* Point `current` at generations/<number>.json: the commit point. */
int st_local_switch(struct st_store *s, uint64_t number, struct sl_error *err);

/* A set of hashes: append, then seal (sort, drop duplicates) to look up
 * by binary search. Lookups before sealing scan. */
struct st_hashset {
        char (*h)[ST_HASH_HEX];
        size_t n, cap;
        int sealed;
};
int st_hashset_add(struct st_hashset *set, const char *hash, struct sl_error *err);
void st_hashset_seal(struct st_hashset *set);
int st_hashset_has(const struct st_hashset *set, const char *hash);
void st_hashset_free(struct st_hashset *set);
#define _cleanup_hashset_ __attribute__((cleanup(st_hashset_free)))

/* Deep copy of one installed package. */
int st_local_installed_copy(struct st_installed *dst, const struct st_installed *src,
                            struct sl_error *err);
void st_local_installed_free(struct st_installed *p);

/* Remove a directory tree (our trees are read-only: write bits are given
 * back before each directory is emptied). Best effort; returns the bytes
 * of regular files removed. */
uint64_t st_local_rm_tree(const char *path);
/* Remove dirfd/name, a file or a tree, so that a crash half-way leaves a
 * leftover rather than a half-removed tree under its real name: a tree is
 * first renamed to "name.tmp-rm-XXXXXXXX". *bytes gets what was freed. */
int st_local_retire(struct st_store *s, const char *rel, uint64_t *bytes, struct sl_error *err);
/* Remove every leftover of interrupted operations: all of tmp/, and every
 * `*.tmp-*` in archives/, trees/, packages/, generations/ and `current.tmp-*`
 * in the store directory. Only under the write lock. */
void st_local_sweep(struct st_store *s, size_t *count, uint64_t *bytes);

#endif
