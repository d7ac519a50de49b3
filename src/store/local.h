/* The local store (docs/store.md, "Store layout"): archives stored once by
 * hash and unpacked read-only, package envelopes, generations switched
 * atomically, rollback, GC, verify; and what sliced needs to run a package.
 *
 * Every operation that changes the store takes the store's lock
 * exclusively; readers take it shared. A crash at any point leaves the old
 * or the new generation active, never a mix (the `current` symlink is the
 * only thing that switches). */
#ifndef ST_LOCAL_H
#define ST_LOCAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"
#include "store/store.h"
#include "store/util.h"

#define ST_DEFAULT_STORE "/var/lib/sliced/store"

/* Caps on unpacking one stored archive: its declared contents at most the
 * archive cap (4 GiB), and at most 1 Mi entries (a whole distribution's
 * /usr holds a few hundred thousand; more is inode exhaustion). */
#define ST_STORE_UNPACK_MAX_BYTES   ST_ARCHIVE_MAX_BYTES
#define ST_STORE_UNPACK_MAX_ENTRIES (1u << 20)

struct st_store;

enum st_open_mode { ST_READ = 0, ST_WRITE = 1 };
/* Open (and with ST_WRITE create) the store at dir and take its lock
 * (blocking; a second writer waits). ST_WRITE creates the layout (mode
 * 0755) and removes the leftovers of interrupted operations (all of tmp/,
 * `*.tmp-*` in archives/, trees/, packages/, generations/, `current.tmp-*`).
 * ST_READ on a missing store fails with "no store at `DIR`" (code ENOENT)
 * and creates nothing. */
int st_store_open(const char *dir, enum st_open_mode mode, struct st_store **out,
                  struct sl_error *err);
void st_store_close(struct st_store *s);
const char *st_store_dir(const struct st_store *s);

/* Where packages come from: the remote repository (store/remote.c) or,
 * in tests, anything else. Both callbacks return verified data only: the
 * store re-checks archive sizes and hashes itself. */
struct st_source {
        /* The verified .pkg envelope of NAME@VERSION (version "" = newest)
         * and its parsed manifest; *pkg_hash gets the file's hash. */
        int (*package)(void *ctx, const char *name, const char *version, struct st_buf *pkg,
                       char pkg_hash[ST_HASH_HEX], struct st_manifest *m, struct sl_error *err);
        /* Write the archive's bytes into fd (at most ref->size bytes). */
        int (*archive)(void *ctx, const struct st_archive_ref *ref, int fd, struct sl_error *err);
        void *ctx;
};

/* One installed package in a generation. */
struct st_installed {
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
        char manifest[ST_HASH_HEX]; /* hash of packages/<hash>.pkg */
        char (*archives)[ST_HASH_HEX];
        size_t n_archives;
};
struct st_generation {
        uint64_t number;
        time_t created;
        char reason[256];
        struct st_installed *pkgs;
        size_t n_pkgs;
};
void st_generation_free(struct st_generation *g);

/* The active generation (number 0 and no packages in a fresh store). */
int st_store_current(struct st_store *s, struct st_generation *out, struct sl_error *err);
/* Every kept generation, oldest first; *current_number the active one. */
int st_store_generations(struct st_store *s, struct st_generation **out, size_t *n,
                         uint64_t *current_number, struct sl_error *err);

/* Install NAME[@VERSION] specs and their dependencies (exact versions)
 * from src into a new generation (current's packages + these; several
 * versions of one name may be installed side by side). A package already
 * installed at that version is not fetched again. *gen_out gets the new
 * generation number (or the current one when nothing changed). The new
 * number is one above the highest generation file, so an install after a
 * rollback never reuses a kept number. A refused archive ("archive H: hash
 * mismatch, got H2", "... size mismatch ...", an unpack refusal) or any
 * other failure before the switch removes what this install added. */
int st_store_install(struct st_store *s, const struct st_source *src, const char *const *specs,
                     size_t n, uint64_t *gen_out, struct sl_error *err);
/* A new generation without these (NAME removes every version). Refused when
 * another remaining package depends on one of them, or one is not installed. */
int st_store_remove(struct st_store *s, const char *const *specs, size_t n, uint64_t *gen_out,
                    struct sl_error *err);
/* Make generation gen (0 = the one before the current, by number) active.
 * *gen_out gets the active number. Refused when the generation does not
 * exist or anything it names is missing. Generation files are never
 * rewritten. */
int st_store_rollback(struct st_store *s, uint64_t gen, uint64_t *gen_out, struct sl_error *err);

/* What running slices use (from inuse.json, written by sliced). */
struct st_inuse_slice {
        char slice[256];                            /* slice path */
        char package[ST_NAME_MAX + ST_VERSION_MAX]; /* NAME@VERSION */
        uint64_t generation;
        char (*archives)[ST_HASH_HEX];
        size_t n_archives;
};
struct st_inuse {
        struct st_inuse_slice *slices;
        size_t n;
};
void st_inuse_free(struct st_inuse *u);
/* Read STORE/inuse.json; a missing file is an empty set. */
int st_inuse_read(const char *store_dir, struct st_inuse *out, struct sl_error *err);
/* Replace STORE/inuse.json atomically (sliced calls this as slices start
 * and stop). Needs no lock: one writer (sliced), atomic replace. */
int st_inuse_write(const char *store_dir, const struct st_inuse *u, struct sl_error *err);

struct st_gc_report {
        size_t generations_removed;
        size_t packages_removed;
        size_t archives_removed;
        size_t leftovers_removed; /* tmp/ and interrupted unpacks */
        uint64_t bytes_freed;
};
/* Keep the `keep` newest generations (0 = all), the current one and those
 * slices in inuse.json run from; remove every package envelope, archive and
 * tree no kept generation and no slice in inuse names, and the leftovers
 * (those st_store_open swept count too). Refused when inuse.json cannot be
 * read: what is in use would be unknown. */
int st_store_gc(struct st_store *s, unsigned keep, struct st_gc_report *rep, struct sl_error *err);

/* One problem verify found. */
struct st_problem {
        char path[512]; /* relative to the store */
        char what[256]; /* "hash mismatch: expected ..., found ...", "missing", ... */
};
struct st_verify_report {
        struct st_problem *problems;
        size_t n_problems;
        size_t archives_checked;
        size_t trees_checked;
        size_t packages_checked;
        size_t generations_checked;
};
void st_verify_report_free(struct st_verify_report *r);
/* Rehash every archive and package envelope against its name, compare each
 * tree with its archive (types, modes, sizes, contents; nothing extra), and
 * check every kept generation names only what is present. Leftovers of
 * interrupted operations (tmp/, *.tmp-*) are not problems (gc removes
 * them). Returns 0 when it could check (problems are in the report). */
int st_store_verify(struct st_store *s, struct st_verify_report *rep, struct sl_error *err);

/* What a slice running NAME@VERSION from the current generation gets:
 * absolute paths of the trees to mount at /pkg, the package's own archives
 * first, then its dependencies' (depth first, each once), and the template
 * command from its manifest. Fails with "package hello@1.0 is not installed
 * (generation 4)" when absent. version "" (or NULL) picks the one installed
 * version of name, and is refused when several are installed. Fails too
 * when a tree is missing (run verify). */
struct st_resolved {
        uint64_t generation;
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
        char **trees;                  /* absolute paths, NULL-terminated */
        char (*archives)[ST_HASH_HEX]; /* the same order */
        size_t n;
        char **command; /* template argv, NULL-terminated, or NULL */
};
void st_resolved_free(struct st_resolved *r);
int st_store_resolve(struct st_store *s, const char *name, const char *version,
                     struct st_resolved *out, struct sl_error *err);

/* Audit: every slice in inuse → package → archive hashes, and with an OSV
 * feed (a JSON array of OSV records, {"vulns": [...]}, or one record) the
 * advisories whose affected package name and versions (exact list, or
 * ECOSYSTEM/SEMVER ranges by st_version_cmp) match. Result is a JSON object:
 * {"slices": [{"slice", "package", "generation", "archives": [...],
 *              "vulnerabilities": [{"id", "summary"}]}]}.
 * "vulnerabilities" is present only when a feed was given (osv non-NULL);
 * "summary" only when the record has one. A malformed feed is refused
 * whole, naming the position: "osv: [3].affected[0].ranges[1].events: not
 * an array". */
int st_audit(struct st_store *s, const void *osv, size_t osv_len, json_t **out,
             struct sl_error *err);

#endif
