/* Key files (docs/store.md, "Key files"): NAME.key holds the Ed25519 key
 * pair, NAME.pub the public half only. */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/cleanup.h"
#include "store/tuf.h"

/* A key file is a few hundred bytes; anything much larger is not one. */
#define ST_KEYFILE_MAX 4096

#define PK_HEX (2 * ST_PK_BYTES + 1)
#define SK_HEX (2 * ST_SK_BYTES + 1)

static void st_buf_wipe(struct st_buf *b)
{
        if (b->data)
                sodium_memzero(b->data, b->len);
        st_buf_free(b);
}

int st_keyfile_write(const char *path_no_ext, const uint8_t pk[ST_PK_BYTES],
                     const uint8_t sk[ST_SK_BYTES], struct sl_error *err)
{
        char key_path[PATH_MAX], pub_path[PATH_MAX];
        if (snprintf(key_path, sizeof key_path, "%s.key", path_no_ext) >= (int)sizeof key_path ||
            snprintf(pub_path, sizeof pub_path, "%s.pub", path_no_ext) >= (int)sizeof pub_path)
                return sl_error_set(err, ENAMETOOLONG, "key file `%s`", path_no_ext);
        /* Replacing a secret key loses it for good: every repository and
         * package trusting it would need a re-signing. */
        struct stat st;
        if (lstat(key_path, &st) == 0 || lstat(pub_path, &st) == 0)
                return sl_error_set(err, EEXIST, "key file `%s.key` or `.pub`", path_no_ext);
        char pk_hex[PK_HEX], sk_hex[SK_HEX], text[64 + PK_HEX + SK_HEX];
        st_hex_encode(pk, ST_PK_BYTES, pk_hex);
        snprintf(text, sizeof text, "{\"keytype\": \"ed25519\", \"public\": \"%s\"}\n", pk_hex);
        if (st_write_atomic(pub_path, text, strlen(text), 0644, err) < 0)
                return -1;
        st_hex_encode(sk, ST_SK_BYTES, sk_hex);
        snprintf(text, sizeof text,
                 "{\"keytype\": \"ed25519\", \"public\": \"%s\", \"secret\": \"%s\"}\n", pk_hex,
                 sk_hex);
        /* 0600 from creation (st_write_atomic creates with the mode): the
         * secret is never readable by others, not even for an instant. */
        int r = st_write_atomic(key_path, text, strlen(text), 0600, err);
        sodium_memzero(sk_hex, sizeof sk_hex);
        sodium_memzero(text, sizeof text);
        return r;
}

/* Parse a key file; sk may be NULL (public only) and is then not required. */
static int st_keyfile_read(const char *path, uint8_t pk[ST_PK_BYTES], uint8_t *sk,
                           struct sl_error *err)
{
        static const char *const keys[] = {"keytype", "public", "secret", NULL};
        __attribute__((cleanup(st_buf_wipe))) struct st_buf b = {0};
        if (sodium_init() < 0)
                return sl_error_set(err, 0, "libsodium: initialisation failed");
        if (st_read_file(path, ST_KEYFILE_MAX, &b, err) < 0)
                return -1;
        _cleanup_json_ json_t *root = st_json_parse(b.data, b.len, path, err);
        if (!root)
                return -1;
        char type[16], hex[SK_HEX];
        if (!json_is_object(root))
                return sl_error_set(err, 0, "`%s`: not a JSON object", path);
        if (st_json_only_keys(root, keys, "", err) < 0 ||
            st_json_get_str(root, "keytype", "", type, sizeof type, err) < 0)
                return sl_error_prefix(err, "`%s`", path);
        if (strcmp(type, "ed25519") != 0)
                return sl_error_set(err, 0, "`%s`: keytype: `%s` is not ed25519", path, type);
        if (st_json_get_str(root, "public", "", hex, sizeof hex, err) < 0 ||
            st_hex_decode(hex, pk, ST_PK_BYTES, "public", err) < 0)
                return sl_error_prefix(err, "`%s`", path);
        if (!sk)
                return 0;
        if (!json_object_get(root, "secret"))
                return sl_error_set(err, 0, "`%s`: secret: missing (a .pub file?)", path);
        int r = st_json_get_str(root, "secret", "", hex, sizeof hex, err);
        if (r == 0)
                r = st_hex_decode(hex, sk, ST_SK_BYTES, "secret", err);
        sodium_memzero(hex, sizeof hex);
        if (r < 0)
                return sl_error_prefix(err, "`%s`", path);
        /* libsodium's secret key ends with its public key: a file whose two
         * halves disagree would sign as one key while naming another. */
        uint8_t derived[ST_PK_BYTES];
        if (crypto_sign_ed25519_sk_to_pk(derived, sk) != 0 ||
            sodium_memcmp(derived, pk, ST_PK_BYTES) != 0) {
                sodium_memzero(sk, ST_SK_BYTES);
                return sl_error_set(err, 0, "`%s`: public does not match secret", path);
        }
        return 0;
}

int st_keyfile_read_secret(const char *path, uint8_t pk[ST_PK_BYTES], uint8_t sk[ST_SK_BYTES],
                           struct sl_error *err)
{
        return st_keyfile_read(path, pk, sk, err);
}

int st_keyfile_read_public(const char *path, uint8_t pk[ST_PK_BYTES], struct sl_error *err)
{
        return st_keyfile_read(path, pk, NULL, err);
}
