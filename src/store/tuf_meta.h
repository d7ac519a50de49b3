/* Internal to src/store: the four TUF role documents parsed strictly
 * (tuf_meta.c), shared by the reader (tuf_client.c) and the writer (repo.c).
 *
 * Parse only bytes whose signatures passed (the reader), or the writer's
 * own repository. Every message starts with the label the caller gives
 * (the role, or "root 3" in the rotation chain) and names the field:
 * "targets: packages.hello@1.0.hash: not 64 lowercase hex digits". */
#ifndef ST_TUF_META_H
#define ST_TUF_META_H

#include <stdint.h>
#include <time.h>

#include "store/tuf.h"

/* The order of st_repo_init.roles. */
enum st_tuf_role_id {
        ST_TUF_ROOT,
        ST_TUF_TARGETS,
        ST_TUF_SNAPSHOT,
        ST_TUF_TIMESTAMP,
        ST_TUF_N_ROLES,
};
extern const char *const st_tuf_role_names[ST_TUF_N_ROLES];

/* Largest version we accept, so that N+1 still fits a JSON integer. */
#define ST_TUF_VERSION_MAX ((uint64_t)INT64_MAX - 1)
/* Root's "revoked" list: revocations accumulate over the repository's life,
 * so more room than one role's keys. */
#define ST_TUF_MAX_REVOKED 4096

struct st_root {
        uint64_t version;
        time_t expires;
        struct st_role roles[ST_TUF_N_ROLES];
        uint8_t (*revoked)[ST_PK_BYTES];
        size_t n_revoked;
};

/* What timestamp says of snapshot and snapshot says of targets. */
struct st_meta_ref {
        uint64_t version;
        uint64_t length;
        char hash[ST_HASH_HEX]; /* BLAKE2b-256 of the file */
};
struct st_timestamp {
        uint64_t version;
        time_t expires;
        struct st_meta_ref snapshot;
};
struct st_snapshot {
        uint64_t version;
        time_t expires;
        struct st_meta_ref targets;
};

/* Keys of the root's "revoked" list get revoked = 1 in every role. */
int st_root_parse(const void *bytes, size_t len, const char *label, struct st_root *out,
                  struct sl_error *err);
void st_root_free(struct st_root *r);
int st_timestamp_parse(const void *bytes, size_t len, const char *label, struct st_timestamp *out,
                       struct sl_error *err);
int st_snapshot_parse(const void *bytes, size_t len, const char *label, struct st_snapshot *out,
                      struct sl_error *err);
/* root (may be NULL) supplies the revoked keys: they are marked in every
 * signers role and copied into out->revoked. */
int st_targets_parse(const void *bytes, size_t len, const char *label, const struct st_root *root,
                     struct st_targets *out, struct sl_error *err);

void st_role_free(struct st_role *r);
/* Deep copy (keys array). */
int st_role_copy(struct st_role *dst, const struct st_role *src, struct sl_error *err);
/* Mark keys listed in revoked as revoked. */
void st_role_apply_revoked(struct st_role *r, const uint8_t (*revoked)[ST_PK_BYTES],
                           size_t n_revoked);
/* 1 when both roles hold the same set of public keys (order aside). */
int st_role_same_keys(const struct st_role *a, const struct st_role *b);

/* BLAKE2b-256 of bytes in memory, as 64 lowercase hex digits. */
void st_hash_bytes(const void *bytes, size_t len, char out[ST_HASH_HEX]);

#endif
