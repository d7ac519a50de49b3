/* Repository metadata, TUF-style (docs/store.md, "Repository metadata"):
 * root, timestamp, snapshot and targets roles, each with its keys and a
 * k-of-n threshold of distinct keys, expiry, versions remembered locally
 * (as the trusted envelopes kept in a trust directory), root rotation.
 *
 * Reader side (a client refreshing its view of a repository) and writer side
 * (slicectl repo init/add publishing into a repository folder). */
#ifndef ST_TUF_H
#define ST_TUF_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"
#include "store/store.h"
#include "store/util.h"

/* Download caps for documents whose length nobody vouches for. */
#define ST_TUF_ROOT_MAX      (1 << 20) /* 1 MiB: a root lists a few dozen keys */
#define ST_TUF_TIMESTAMP_MAX (64 << 10)
#define ST_TUF_MAX_SIGS      64
#define ST_TUF_MAX_KEYS      64 /* per role */
#define ST_TUF_MAX_PACKAGES  65536
/* Largest snapshot or targets document a referring document may announce:
 * the length it gives is the download cap, and this bounds that length
 * (docs/store.md: "snapshot and targets 16 MiB"). */
#define ST_TUF_META_MAX (16 << 20)
/* Largest .pkg envelope a target may announce: a manifest of at most
 * ST_MANIFEST_MAX_BYTES, base64 (4/3), plus ST_TUF_MAX_SIGS signatures. */
#define ST_TUF_PACKAGE_MAX (2 << 20)
/* How many root versions one refresh may walk (TUF's default is 32). */
#define ST_TUF_MAX_ROOT_ROTATIONS 1024

/* A signed envelope, split: the exact signed bytes and the signatures. */
struct st_envelope {
        struct st_buf signed_bytes;
        struct st_sig *sigs;
        size_t n_sigs;
};
/* Strict: only "signed" and "signatures", at most ST_TUF_MAX_SIGS
 * signatures, each exactly {"keyid": 64 hex, "sig": 128 hex}. Messages start
 * with "envelope: ". The signed bytes are decoded, never parsed here. */
int st_envelope_parse(const void *bytes, size_t len, struct st_envelope *out, struct sl_error *err);
/* Serialise {"signed": base64, "signatures": [...]}; malloc'd text. */
char *st_envelope_encode(const struct st_envelope *env, struct sl_error *err);
/* Add (or replace, for the same key) a signature by sk over the signed bytes. */
int st_envelope_sign(struct st_envelope *env, const uint8_t sk[ST_SK_BYTES], struct sl_error *err);
void st_envelope_free(struct st_envelope *env);

/* Key files (docs/store.md, "Key files"). Writes NAME.key (0600) and
 * NAME.pub (0644); refuses (EEXIST) when either exists: a secret key is
 * never overwritten. */
int st_keyfile_write(const char *path_no_ext, const uint8_t pk[ST_PK_BYTES],
                     const uint8_t sk[ST_SK_BYTES], struct sl_error *err);
/* Reads NAME.key (secret) — sk filled, pk too; refused when the public
 * half does not match the secret. */
int st_keyfile_read_secret(const char *path, uint8_t pk[ST_PK_BYTES], uint8_t sk[ST_SK_BYTES],
                           struct sl_error *err);
/* Reads NAME.pub or NAME.key — pk only. */
int st_keyfile_read_public(const char *path, uint8_t pk[ST_PK_BYTES], struct sl_error *err);

/* A role: its keys and threshold. */
struct st_role {
        struct st_key *keys;
        size_t n_keys;
        unsigned threshold;
};

/* What a refresh leaves trusted: the targets role's content. */
struct st_target {
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
        char hash[ST_HASH_HEX]; /* of the .pkg file */
        uint64_t length;
};
struct st_signers {
        char name[ST_NAME_MAX]; /* a package name, or "*" */
        struct st_role role;
};
struct st_targets {
        uint64_t version;
        time_t expires;
        struct st_target *packages;
        size_t n_packages;
        struct st_signers *signers;
        size_t n_signers;
        uint8_t (*revoked)[ST_PK_BYTES]; /* from the trusted root */
        size_t n_revoked;
};
void st_targets_free(struct st_targets *t);

/* How the reader gets a repository file: rel is "timestamp.json",
 * "root/3.json", "snapshot/7.json", "packages/<hash>.pkg", ... Must fail
 * with err->code == ENOENT when the file does not exist, and must not return
 * more than max_bytes. */
struct st_tuf_fetcher {
        int (*fetch)(void *ctx, const char *rel, uint64_t max_bytes, struct st_buf *out,
                     struct sl_error *err);
        void *ctx;
};

/* The client update (docs/store.md steps 1-4). trust_dir holds root.json
 * (required: pinned out of band) and what earlier refreshes trusted. Each
 * newly trusted envelope replaces its file atomically only after it passed.
 * When a root rotation changed the timestamp or snapshot keys, the
 * remembered timestamp and snapshot versions, and the targets version the
 * snapshot vouched for, are forgotten (fast-forward recovery, TUF §5.3.11).
 * On success *out is the trusted targets (free with st_targets_free). A
 * refresh that fails writes nothing: trust_dir stays as it was. Every
 * refusal names the role and the reason: "timestamp: version 3 is older
 * than the trusted version 5 (rollback)", "snapshot: expired at
 * 2026-01-01T00:00:00Z (freeze)", "root 2: root 1's keys: signatures: 1
 * valid from distinct trusted keys, 2 needed", "snapshot: version 3, the
 * timestamp says 4 (mix-and-match)", "timestamp: fetch ...: (size cap)". */
int st_tuf_refresh(const char *trust_dir, const struct st_tuf_fetcher *f, time_t now,
                   struct st_targets *out, struct sl_error *err);

/* Find NAME@VERSION in trusted targets (version "" = the highest version
 * by st_version_cmp). */
const struct st_target *st_targets_find(const struct st_targets *t, const char *name,
                                        const char *version);

/* Step 5: a fetched .pkg file. Checks length and hash against the target
 * ("(wrong software)"), the signers policy for its name (key windows and
 * root's revocations at `now`), then parses the manifest and checks its name
 * and version match. Messages start with "package NAME@VERSION: ". */
int st_tuf_verify_package(const struct st_targets *t, const struct st_target *target,
                          const void *pkg_bytes, size_t len, time_t now, struct st_manifest *out,
                          struct sl_error *err);

/* Version order for "highest version" and OSV ranges: dpkg's rules without
 * epochs (digits compare numerically, `~` sorts before everything). */
int st_version_cmp(const char *a, const char *b);

/* ---- writer side: a repository folder ---- */

/* Keys a publishing step may use; only the roles it needs must be set. */
struct st_repo_keys {
        const uint8_t (*root)[ST_SK_BYTES]; /* the root role's keys to sign with */
        size_t n_root;
        const uint8_t (*targets)[ST_SK_BYTES];
        size_t n_targets;
        const uint8_t (*snapshot)[ST_SK_BYTES];
        size_t n_snapshot;
        const uint8_t (*timestamp)[ST_SK_BYTES];
        size_t n_timestamp;
};

/* Create a repository in dir (must be empty or missing): root/1.json with
 * the public keys and threshold given per role (roles[]: root, targets,
 * snapshot, timestamp), empty targets (signers "*": the targets
 * keys, threshold 1, unless signers are set later), snapshot, timestamp.
 * expires applies to every document. A key's `expires` is published as
 * {"public", "expires"}; a key with `revoked` set goes into root's "revoked"
 * list (and revocations carry over to every later root); not_before is not
 * part of the format and is ignored. The keys given to sign each document
 * must belong to its role and reach its threshold (expiry not considered):
 * a repository no client would accept is refused before anything is
 * written. One writer at a time. */
struct st_repo_init {
        struct st_role roles[4]; /* root, targets, snapshot, timestamp */
        time_t expires;
};
int st_repo_init(const char *dir, const struct st_repo_init *init, const struct st_repo_keys *keys,
                 struct sl_error *err);

/* Publish .pkg files (with their archives, found in archives/ next to each
 * .pkg) into dir: copies the archives and envelopes, writes targets T+1,
 * snapshot M+1, timestamp N+1, signed with keys, expiring at `expires`. */
int st_repo_add(const char *dir, const char *const *pkg_files, size_t n, time_t expires,
                const struct st_repo_keys *keys, struct sl_error *err);

/* Write root version N+1 with new roles (rotation), signed by the old root
 * keys and the new ones (both given in keys->root), then re-sign snapshot
 * and timestamp with the (new) keys given (and targets too, as T+1, when
 * keys->targets is given: needed when the targets keys changed). The
 * re-signed documents expire at next->expires. */
int st_repo_rotate_root(const char *dir, const struct st_repo_init *next,
                        const struct st_repo_keys *keys, struct sl_error *err);

/* Set targets' signers entry for name ("*" allowed) and republish. */
int st_repo_set_signers(const char *dir, const char *name, const struct st_role *role,
                        time_t expires, const struct st_repo_keys *keys, struct sl_error *err);

#endif
