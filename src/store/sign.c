/* Ed25519 signatures and k-of-n threshold verification over exact bytes. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/store.h"

static int st_sodium_ready(struct sl_error *err)
{
        if (sodium_init() < 0)
                return sl_error_set(err, 0, "libsodium: initialisation failed");
        return 0;
}

int st_key_gen(uint8_t pk[ST_PK_BYTES], uint8_t sk[ST_SK_BYTES], struct sl_error *err)
{
        if (st_sodium_ready(err) < 0)
                return -1;
        if (crypto_sign_keypair(pk, sk) != 0)
                return sl_error_set(err, 0, "generate Ed25519 key pair: failed");
        return 0;
}

int st_sign(const void *bytes, size_t len, const uint8_t sk[ST_SK_BYTES], struct st_sig *out,
            struct sl_error *err)
{
        if (st_sodium_ready(err) < 0)
                return -1;
        if (crypto_sign_detached(out->sig, NULL, bytes, len, sk) != 0)
                return sl_error_set(err, 0, "sign: failed");
        /* libsodium's secret key carries the public key in its second half. */
        if (crypto_sign_ed25519_sk_to_pk(out->keyid, sk) != 0)
                return sl_error_set(err, 0, "sign: cannot derive the public key");
        return 0;
}

static int st_key_valid_at(const struct st_key *k, time_t now)
{
        if (k->revoked)
                return 0;
        if (now < k->not_before)
                return 0;
        if (k->expires != 0 && now >= k->expires)
                return 0;
        return 1;
}

/* Index of the trusted key with this public key, or -1. When the trust list
 * names a key twice, the first entry is the one that counts. */
static long st_find_key(const uint8_t keyid[ST_PK_BYTES], const struct st_key *trusted,
                        size_t n_keys)
{
        for (size_t i = 0; i < n_keys; i++)
                if (sodium_memcmp(trusted[i].pk, keyid, ST_PK_BYTES) == 0)
                        return (long)i;
        return -1;
}

int st_verify_threshold(const void *bytes, size_t len, const struct st_sig *sigs, size_t n_sigs,
                        const struct st_key *trusted, size_t n_keys, unsigned threshold, time_t now,
                        struct sl_error *err)
{
        if (st_sodium_ready(err) < 0)
                return -1;
        if (threshold == 0)
                return sl_error_set(err, EINVAL, "signature threshold 0 would trust anything");
        if (n_keys > 0 && !trusted)
                return sl_error_set(err, EINVAL, "trusted keys: NULL list");
        /* One flag per trusted key: a key that signed twice counts once
         * (python-tuf GHSA-pwqf-9h7j-7mv8 counted it per signature). Keys
         * are matched by the public key itself, not by a key id the signer
         * chose, so two ids cannot name one key. */
        _cleanup_free_ unsigned char *counted = calloc(n_keys ? n_keys : 1, 1);
        if (!counted)
                return sl_error_set(err, ENOMEM, "verify signatures");
        unsigned good = 0;
        for (size_t i = 0; i < n_sigs; i++) {
                long k = st_find_key(sigs[i].keyid, trusted, n_keys);
                if (k < 0 || counted[k])
                        continue;
                /* Expired, not yet valid or revoked keys never count (apt,
                 * CVE-2009-1358, accepted signatures from such keys). */
                if (!st_key_valid_at(&trusted[k], now))
                        continue;
                if (crypto_sign_verify_detached(sigs[i].sig, bytes, len, trusted[k].pk) != 0)
                        continue;
                counted[k] = 1;
                good++;
        }
        if (good < threshold)
                return sl_error_set(err, 0,
                                    "signatures: %u valid from distinct trusted keys, %u needed",
                                    good, threshold);
        return 0;
}
