/* Signed manifests (src/store/sign.c, manifest.c): k of n distinct, valid,
 * trusted Ed25519 keys over the exact bytes; the JSON parsed only after. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "store/store.h"

#define NOW      ((time_t)1800000000)
#define DAY      ((time_t)86400)
#define N_SIGNER 4 /* keys 0-2 are trusted, key 3 never is */
#define N_TRUSTED 3

static const char manifest[] =
    "{\"name\": \"hello\", \"version\": \"1.2.0\",\n"
    " \"archives\": [{\"hash\": "
    "\"0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8\", \"size\": 4096}],\n"
    " \"dependencies\": [{\"name\": \"libc\", \"version\": \"2.36\"}]}\n";

static uint8_t pk[N_SIGNER][ST_PK_BYTES];
static uint8_t sk[N_SIGNER][ST_SK_BYTES];

static int make_keys(void **state)
{
        (void)state;
        for (int i = 0; i < N_SIGNER; i++)
                if (st_key_gen(pk[i], sk[i], NULL) < 0)
                        return -1;
        return 0;
}

/* Key i's trust entry: valid from a day ago, for a year, not revoked. */
static struct st_key trust(int i)
{
        struct st_key k = { .not_before = NOW - DAY, .expires = NOW + 365 * DAY };
        memcpy(k.pk, pk[i], ST_PK_BYTES);
        return k;
}

enum key_state { VALID, EXPIRED, NOT_YET, REVOKED };

struct sig_case {
        const char *name;
        int signers[4];          /* key index, -1 ends */
        int over_other_bytes[4]; /* per signer: signed a different document */
        enum key_state state[N_TRUSTED];
        unsigned threshold;
        const char *error; /* NULL: accepted */
};

static const struct sig_case cases[] = {
        { "two of three distinct valid keys", { 0, 1, -1 }, { 0 }, { 0 }, 2, NULL },
        { "all three", { 2, 0, 1, -1 }, { 0 }, { 0 }, 3, NULL },
        { "below threshold", { 0, -1 }, { 0 }, { 0 }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "the same key counted twice", { 0, 0, -1 }, { 0 }, { 0 }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "the same key three times", { 1, 1, 1, -1 }, { 0 }, { 0 }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "an expired key", { 0, 1, -1 }, { 0 }, { EXPIRED }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "a key not yet valid", { 0, 1, -1 }, { 0 }, { VALID, NOT_YET }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "a revoked key", { 0, 1, -1 }, { 0 }, { REVOKED }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "an untrusted key", { 0, 3, -1 }, { 0 }, { 0 }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "a signature over different bytes", { 0, 1, -1 }, { 0, 1 }, { 0 }, 2,
          "signatures: 1 valid from distinct trusted keys, 2 needed" },
        { "bad then good signature from one key", { 0, 0, 1, -1 }, { 1, 0, 0 }, { 0 }, 2, NULL },
        { "no signatures", { -1 }, { 0 }, { 0 }, 1,
          "signatures: 0 valid from distinct trusted keys, 1 needed" },
        { "threshold zero", { 0, -1 }, { 0 }, { 0 }, 0,
          "signature threshold 0 would trust anything: Invalid argument" },
};

static void run_case(const struct sig_case *c)
{
        static const char other[] = "{\"name\": \"evil\"}";
        struct st_sig sigs[4];
        size_t n = 0;
        for (; n < 4 && c->signers[n] >= 0; n++) {
                const char *doc = c->over_other_bytes[n] ? other : manifest;
                size_t len = c->over_other_bytes[n] ? sizeof other - 1 : sizeof manifest - 1;
                assert_int_equal(st_sign(doc, len, sk[c->signers[n]], &sigs[n], NULL), 0);
        }
        struct st_key keys[N_TRUSTED];
        size_t n_keys = 0;
        for (int i = 0; i < N_TRUSTED; i++) {
                struct st_key k = trust(i);
                if (c->state[i] == EXPIRED)
                        k.expires = NOW - 1;
                if (c->state[i] == NOT_YET)
                        k.not_before = NOW + 1;
                k.revoked = c->state[i] == REVOKED;
                keys[n_keys++] = k;
        }
        struct sl_error err = { 0 };
        int r = st_verify_threshold(manifest, sizeof manifest - 1, sigs, n, keys, n_keys,
                                    c->threshold, NOW, &err);
        if (!c->error && r != 0)
                fail_msg("%s: refused: %s", c->name, err.msg);
        if (c->error && r == 0)
                fail_msg("%s: accepted", c->name);
        if (c->error && strcmp(err.msg, c->error) != 0)
                fail_msg("%s:\n  got  %s\n  want %s", c->name, err.msg, c->error);
}

static void test_threshold_counts_distinct_valid_trusted_keys(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                run_case(&cases[i]);
}

static void test_key_expiry_is_exclusive_and_zero_means_never(void **state)
{
        (void)state;
        struct st_sig s;
        assert_int_equal(st_sign(manifest, sizeof manifest - 1, sk[0], &s, NULL), 0);
        struct st_key k = trust(0);
        k.expires = NOW;
        assert_int_equal(
            st_verify_threshold(manifest, sizeof manifest - 1, &s, 1, &k, 1, 1, NOW, NULL), -1);
        k.expires = 0;
        assert_int_equal(
            st_verify_threshold(manifest, sizeof manifest - 1, &s, 1, &k, 1, 1, NOW, NULL), 0);
}

static void test_manifest_edited_after_signing_fails(void **state)
{
        (void)state;
        struct st_sig s;
        assert_int_equal(st_sign(manifest, sizeof manifest - 1, sk[0], &s, NULL), 0);
        struct st_key k = trust(0);
        struct st_manifest m;
        struct sl_error err = { 0 };
        assert_int_equal(
            st_manifest_load(manifest, sizeof manifest - 1, &s, 1, &k, 1, 1, NOW, &m, &err), 0);
        assert_string_equal(m.name, "hello");
        assert_string_equal(m.version, "1.2.0");
        assert_int_equal(m.n_archives, 1);
        assert_int_equal(m.archives[0].size, 4096);
        assert_int_equal(m.n_deps, 1);
        assert_string_equal(m.deps[0].name, "libc");
        assert_string_equal(m.deps[0].version, "2.36");
        st_manifest_free(&m);

        /* The same JSON to any parser, one space more: not the signed bytes. */
        char edited[sizeof manifest + 1];
        snprintf(edited, sizeof edited, " %s", manifest);
        assert_int_equal(
            st_manifest_load(edited, strlen(edited), &s, 1, &k, 1, 1, NOW, &m, &err), -1);
        assert_string_equal(err.msg,
                            "manifest: signatures: 0 valid from distinct trusted keys, 1 needed");
        assert_null(m.archives);
}

struct parse_case {
        const char *json;
        const char *error;
};

#define HASH64 "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"

static const struct parse_case parse_cases[] = {
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[],\"dependencies\":[]}", NULL },
        { "{\"version\":\"1\",\"archives\":[],\"dependencies\":[]}", "manifest: name: missing" },
        { "{\"name\":\"a\",\"archives\":[],\"dependencies\":[]}", "manifest: version: missing" },
        { "{\"name\":\"a\",\"version\":\"1\",\"dependencies\":[]}", "manifest: archives: missing" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[]}",
          "manifest: dependencies: missing" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[],\"dependencies\":[],\"x\":1}",
          "manifest: x: unknown field" },
        { "{\"name\":7,\"version\":\"1\",\"archives\":[],\"dependencies\":[]}",
          "manifest: name: not a string" },
        { "{\"name\":\"\",\"version\":\"1\",\"archives\":[],\"dependencies\":[]}",
          "manifest: name: must be 1 to 127 characters" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":{},\"dependencies\":[]}",
          "manifest: archives: not an array" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[{\"hash\":\"" HASH64
          "\",\"size\":1},{\"hash\":\"xyz\",\"size\":1}],\"dependencies\":[]}",
          "manifest: archives[1].hash: not 64 lowercase hex digits (BLAKE2b-256)" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[{\"hash\":\"" HASH64
          "\",\"size\":-1}],\"dependencies\":[]}",
          "manifest: archives[0].size: negative" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[{\"hash\":\"" HASH64
          "\",\"size\":1.5}],\"dependencies\":[]}",
          "manifest: archives[0].size: not an integer" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[{\"hash\":\"" HASH64
          "\"}],\"dependencies\":[]}",
          "manifest: archives[0].size: missing" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[{\"hash\":\"" HASH64
          "\",\"size\":1,\"url\":\"x\"}],\"dependencies\":[]}",
          "manifest: archives[0].url: unknown field" },
        { "{\"name\":\"a\",\"version\":\"1\",\"archives\":[],\"dependencies\":[{\"name\":\"b\"}]}",
          "manifest: dependencies[0].version: missing" },
        { "{\"name\":\"a\",\"name\":\"b\",\"version\":\"1\",\"archives\":[],\"dependencies\":[]}",
          "manifest:1:18: duplicate object key near '\"name\"'" },
        { "[]", "manifest: not a JSON object" },
};

static void test_manifest_fields_are_validated_by_name(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof parse_cases / sizeof parse_cases[0]; i++) {
                const struct parse_case *c = &parse_cases[i];
                struct st_manifest m;
                struct sl_error err = { 0 };
                int r = st_manifest_parse(c->json, strlen(c->json), &m, &err);
                if (!c->error) {
                        if (r != 0)
                                fail_msg("%s: %s", c->json, err.msg);
                        st_manifest_free(&m);
                        continue;
                }
                if (r == 0)
                        fail_msg("%s: accepted", c->json);
                if (strcmp(err.msg, c->error) != 0)
                        fail_msg("%s:\n  got  %s\n  want %s", c->json, err.msg, c->error);
                assert_null(m.archives);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_threshold_counts_distinct_valid_trusted_keys),
                cmocka_unit_test(test_key_expiry_is_exclusive_and_zero_means_never),
                cmocka_unit_test(test_manifest_edited_after_signing_fails),
                cmocka_unit_test(test_manifest_fields_are_validated_by_name),
        };
        return cmocka_run_group_tests(tests, make_keys, NULL);
}
