/* Fixtures for tests/unit/test_store_tuf.c: a set of keys, a repository
 * published with the writer (src/store/repo.c), a directory-backed fetcher
 * that enforces its cap as the real one does, forged documents for the
 * attacks, and a snapshot of the trust directory to prove a refused refresh
 * changed nothing. */
#ifndef STORE_TUF_FIXTURES_H
#define STORE_TUF_FIXTURES_H

#include <limits.h>
#include <stdint.h>
#include <time.h>

#include "store/tuf.h"

#define TUF_NOW  ((time_t)1800000000) /* 2027-01-15T08:00:00Z */
#define TUF_DAY  ((time_t)86400)
#define TUF_YEAR (365 * TUF_DAY)

/* Root keys, the three other roles, a spare timestamp key, package signers
 * and a key nobody trusts. */
enum tuf_key { K_R0, K_R1, K_R2, K_TG, K_SN, K_TS, K_TS2, K_PK, K_PK2, K_ATK, K_N };
extern uint8_t tuf_pk[K_N][ST_PK_BYTES];
extern uint8_t tuf_sk[K_N][ST_SK_BYTES];
extern char tuf_hex[K_N][2 * ST_PK_BYTES + 1];

/* A list of keys, -1 terminated: SIGNERS(K_R0, K_R1). */
#define SIGNERS(...) ((const int[]){__VA_ARGS__, -1})
#define NOBODY       ((const int[]){-1})

struct tuf_fx {
        char base[PATH_MAX / 4];
        char repo[PATH_MAX / 2];
        char trust[PATH_MAX / 2];
        char build[PATH_MAX / 2];
        char pkg_path[PATH_MAX];    /* build/hello@1.0.pkg */
        char pkg_hash[ST_HASH_HEX]; /* its hash: packages/<hash>.pkg */
        struct st_tuf_fetcher fetcher;
};
extern struct tuf_fx tuf_fx;

/* cmocka group setup: the keys. */
int tuf_keys_make(void **state);

/* A repository with root 1 (root R0, targets TG, snapshot SN, timestamp TS,
 * each threshold 1; signers "*" = TG), hello@1.0 signed by TG added, so
 * targets, snapshot and timestamp are at version 2; trust/ holds root 1. */
void tuf_fx_make(void);
void tuf_fx_destroy(void);
/* cmocka group teardown: removes what a failed test left. */
int tuf_fx_teardown(void **state);

/* Keys for the writer; each list -1 terminated (NOBODY for none). The
 * result points into storage the next call reuses. */
struct st_repo_keys tuf_repo_keys(const int *root, const int *targets, const int *snapshot,
                                  const int *timestamp);
/* The usual ones: R0, TG, SN, TS. */
struct st_repo_keys tuf_std_keys(void);
/* A role of these keys (storage lives until tuf_fx_destroy). */
struct st_role tuf_role(unsigned threshold, const int *keys);

/* Build NAME@VERSION into build/: the archive (content as given) in
 * build/archives/, the .pkg envelope signed by signers. path gets the .pkg
 * path, hash (may be NULL) the .pkg file's hash. */
void tuf_build_pkg(const char *name, const char *version, const char *archive, const int *signers,
                   char path[PATH_MAX], char hash[ST_HASH_HEX]);

/* Forged documents, written to REPO/rel. */
void tuf_put_signed(const char *rel, const char *text, const int *signers);
/* {"version": V, "length": L, "hash": H} of REPO/rel. */
void tuf_ref(const char *rel, uint64_t version, char *out, size_t cap);
void tuf_put_timestamp(uint64_t v, time_t expires, uint64_t snap_v, const char *snap_rel,
                       const int *signers);
void tuf_put_snapshot(uint64_t v, time_t expires, uint64_t targets_v, const char *targets_rel,
                      const int *signers);
/* body: the "signers" and "packages" members, e.g. "\"signers\": {...}, ...". */
void tuf_put_targets(uint64_t v, time_t expires, const char *body, const int *signers);
/* {"keys": ["<hex>"...], "threshold": t} */
void tuf_role_json(char *out, size_t cap, unsigned threshold, const int *keys);
/* root/<file_v>.json holding a root of version doc_v. roles: the JSON
 * object's members; revoked: a JSON array or NULL. */
void tuf_put_root(uint64_t file_v, uint64_t doc_v, time_t expires, const char *roles,
                  const char *revoked, const int *signers);
/* The members of "roles" with these role texts. */
void tuf_roles_json(char *out, size_t cap, const char *root, const char *targets,
                    const char *snapshot, const char *timestamp);

/* Read REPO/rel or TRUST/rel whole. */
char *tuf_read(const char *dir, const char *rel, size_t *len);
void tuf_write(const char *dir, const char *rel, const void *data, size_t len);
/* The version a kept document in trust/ says. */
uint64_t tuf_trusted_version(const char *name);

/* st_tuf_refresh against tuf_fx; out may be NULL. */
int tuf_refresh(time_t now, struct st_targets *out, struct sl_error *err);
void tuf_refresh_ok(time_t now);
/* Refused with a message containing want, and trust/ byte for byte as it
 * was before. */
void tuf_refresh_refused(time_t now, const char *want);

#endif
