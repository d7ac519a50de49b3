/* sliced package store: the building blocks (DESIGN.md section 6).
 *
 * Archives are addressed by the BLAKE2b-256 of their exact bytes; they are
 * unpacked aside and renamed into place only when every entry passed; package
 * manifests are signed as the exact bytes stored, verified against a
 * threshold of distinct, currently valid trusted Ed25519 keys, and parsed only
 * after that. docs/store.md lists the threat each check answers.
 */
#ifndef ST_STORE_H
#define ST_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/error.h"

/* BLAKE2b-256: 32 bytes, 64 hex digits + NUL. */
#define ST_HASH_BYTES 32
#define ST_HASH_HEX   (ST_HASH_BYTES * 2 + 1)

/* Largest archive we hash (and so store): 4 GiB. A package bigger than this
 * is a mistake or an endless-data attack; repositories set smaller caps. */
#define ST_ARCHIVE_MAX_BYTES (4ULL << 30)

/* Hash the exact bytes of the archive open at fd (read from its current
 * offset to EOF), streaming. Fails when more than max_bytes are read
 * (0 = ST_ARCHIVE_MAX_BYTES). out_hex gets 64 lowercase hex digits. */
int st_archive_hash_fd(int fd, uint64_t max_bytes, char out_hex[ST_HASH_HEX], struct sl_error *err);
int st_archive_hash(const char *path, uint64_t max_bytes, char out_hex[ST_HASH_HEX],
                    struct sl_error *err);

/* Caps for one unpack. Sizes are declared (header) sizes, so a sparse file
 * counts at its apparent size: a 10 GiB sparse bomb is refused before a byte
 * of it is written. */
struct st_limits {
        uint64_t max_bytes;   /* per entry and running total of regular files */
        uint64_t max_entries; /* entries of any type */
};

/* Unpack the tar archive at archive_path (zstd, gzip or uncompressed) into
 * dest_dir, which must not exist. Entries go into a fresh directory
 * "<dest_dir>.tmp-XXXXXX" next to it; files and directories are fsync'd and
 * the directory is renamed to dest_dir only when every entry passed. On any
 * failure the aside directory is removed: nothing is installed.
 *
 * Refused, each with a message naming the entry: absolute paths, `..`
 * components, symlinks whose target is absolute or climbs above the root,
 * every hardlink, device nodes, fifos, sockets, setuid/setgid/sticky bits,
 * an entry or a running total above lim->max_bytes, more than
 * lim->max_entries entries. dest_dir must be an absolute path. */
int st_unpack(const char *archive_path, const char *dest_dir, const struct st_limits *lim,
              struct sl_error *err);

/* Ed25519 keys and signatures (libsodium crypto_sign). */
#define ST_PK_BYTES  32
#define ST_SK_BYTES  64
#define ST_SIG_BYTES 64

struct st_key {
        uint8_t pk[ST_PK_BYTES];
        time_t not_before; /* the key counts from this instant ... */
        time_t expires;    /* ... until before this one (0 = never expires) */
        int revoked;       /* a revoked key never counts */
};

struct st_sig {
        uint8_t keyid[ST_PK_BYTES]; /* the public key that claims to have signed */
        uint8_t sig[ST_SIG_BYTES];
};

/* A fresh key pair. */
int st_key_gen(uint8_t pk[ST_PK_BYTES], uint8_t sk[ST_SK_BYTES], struct sl_error *err);

/* Detached signature over exactly len bytes; keyid is filled with the
 * public half of sk. */
int st_sign(const void *bytes, size_t len, const uint8_t sk[ST_SK_BYTES], struct st_sig *out,
            struct sl_error *err);

/* 0 when at least `threshold` distinct trusted keys, each within its validity
 * window at `now` and not revoked, made a valid signature over exactly these
 * bytes. A key counts once however often it signed. threshold 0 is refused.
 * The error says how many were found and how many were needed. */
int st_verify_threshold(const void *bytes, size_t len, const struct st_sig *sigs, size_t n_sigs,
                        const struct st_key *trusted, size_t n_keys, unsigned threshold, time_t now,
                        struct sl_error *err);

/* Limits on a manifest document: names, counts. */
#define ST_MANIFEST_MAX_BYTES (1 << 20) /* 1 MiB: far above any real manifest */
#define ST_NAME_MAX           128
#define ST_VERSION_MAX        64

struct st_archive_ref {
        char hash[ST_HASH_HEX];
        uint64_t size;
};

struct st_dep {
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
};

/* A parsed manifest. Parse only bytes st_verify_threshold accepted. */
struct st_manifest {
        char name[ST_NAME_MAX];
        char version[ST_VERSION_MAX];
        struct st_archive_ref *archives;
        size_t n_archives;
        struct st_dep *deps;
        size_t n_deps;
        char **command; /* the slice template's argv (NULL-terminated), or NULL */
        size_t n_command;
};

/* Parse and validate {"name","version","archives":[{"hash","size"}],
 * "dependencies":[{"name","version"}], optional "slice":{"command":[...]}}.
 * Unknown fields are refused; errors name the field ("archives[1].hash: ...").
 * Names and versions must pass st_name_check / st_version_check. */
int st_manifest_parse(const void *bytes, size_t len, struct st_manifest *out, struct sl_error *err);
void st_manifest_free(struct st_manifest *m);

/* Verify then parse: the only order. */
int st_manifest_load(const void *bytes, size_t len, const struct st_sig *sigs, size_t n_sigs,
                     const struct st_key *trusted, size_t n_keys, unsigned threshold, time_t now,
                     struct st_manifest *out, struct sl_error *err);

/* Package names: letters, digits, `-_.+`, starting with a letter or digit;
 * versions add `~:`. Messages name `what`. */
int st_name_check(const char *name, const char *what, struct sl_error *err);
int st_version_check(const char *version, const char *what, struct sl_error *err);
/* "NAME" or "NAME@VERSION" (version "" when absent), both checked. */
int st_spec_parse(const char *spec, char name[ST_NAME_MAX], char version[ST_VERSION_MAX],
                  struct sl_error *err);

#endif
