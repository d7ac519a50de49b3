/* The formats under repository metadata (docs/store.md, "Formats"): signed
 * envelopes, the four role documents, key files, field by field with their
 * exact messages; and dpkg's version order. The attacks on a whole refresh
 * are in test_store_tuf.c. */
#include <errno.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/tuf_meta.h"

#define HEX64  "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"
#define HEX128 HEX64 HEX64

struct text_case {
        const char *text;
        const char *error; /* NULL: accepted; else the exact message */
};

static void expect(const char *what, int r, const struct sl_error *err, const char *want)
{
        if (!want && r != 0)
                fail_msg("%s: refused: %s", what, err->msg);
        if (want && r == 0)
                fail_msg("%s: accepted", what);
        if (want && strcmp(err->msg, want) != 0)
                fail_msg("%s:\n  got  %s\n  want %s", what, err->msg, want);
}

/* ---- envelopes ---- */

static const struct text_case envelope_cases[] = {
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": \"" HEX64 "\", \"sig\": \"" HEX128
     "\"}]}",
     NULL},
    {"{\"signed\": \"e30=\", \"signatures\": []}", NULL},
    {"{\"signed\": \"!!!\", \"signatures\": []}", "envelope: signed: not valid base64"},
    {"{\"signed\": \"e30\", \"signatures\": []}", "envelope: signed: not valid base64"},
    {"{\"signed\": \"e30=\", \"signatures\": [], \"x\": 1}", "envelope: x: unknown field"},
    {"{\"signatures\": []}", "envelope: signed: missing"},
    {"{\"signed\": 7, \"signatures\": []}", "envelope: signed: not a string"},
    {"{\"signed\": \"e30=\"}", "envelope: signatures: missing"},
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": \"" HEX64 "\", \"sig\": \"" HEX128
     "\", \"by\": \"me\"}]}",
     "envelope: signatures[0].by: unknown field"},
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": \"xyz\", \"sig\": \"" HEX128 "\"}]}",
     "envelope: signatures[0].keyid: not 64 lowercase hex digits"},
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": "
     "\"0E5751C026E543B2E8AB2EB06099DAA1D1E5DF47778F7787FAAB45CDF12FE3A8\", \"sig\": \"" HEX128
     "\"}]}",
     "envelope: signatures[0].keyid: not 64 lowercase hex digits"},
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": \"" HEX64 "\", \"sig\": \"" HEX64 "\"}]}",
     "envelope: signatures[0].sig: not 128 lowercase hex digits"},
    {"{\"signed\": \"e30=\", \"signatures\": [{\"keyid\": \"" HEX64 "\"}]}",
     "envelope: signatures[0].sig: missing"},
    {"{\"signed\": \"e30=\", \"signatures\": [7]}", "envelope: signatures[0]: not an object"},
    {"[]", "envelope: not a JSON object"},
    {"{\"signed\": \"e30=\", \"signed\": \"e30=\", \"signatures\": []}",
     "envelope:1:27: duplicate object key near '\"signed\"'"},
};

static void test_envelope_fields_are_strict(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof envelope_cases / sizeof envelope_cases[0]; i++) {
                const struct text_case *c = &envelope_cases[i];
                struct st_envelope env;
                struct sl_error err = {0};
                int r = st_envelope_parse(c->text, strlen(c->text), &env, &err);
                expect(c->text, r, &err, c->error);
                if (r == 0) {
                        assert_int_equal(env.signed_bytes.len, 2);
                        assert_memory_equal(env.signed_bytes.data, "{}", 2);
                }
                st_envelope_free(&env);
        }
}

static void test_envelope_with_too_many_signatures_is_refused(void **state)
{
        (void)state;
        size_t cap = 64 + (ST_TUF_MAX_SIGS + 1) * 256;
        char *text = malloc(cap);
        size_t n = (size_t)snprintf(text, cap, "{\"signed\": \"e30=\", \"signatures\": [");
        for (int i = 0; i <= ST_TUF_MAX_SIGS; i++)
                n += (size_t)snprintf(text + n, cap - n, "%s{\"keyid\": \"%s\", \"sig\": \"%s\"}",
                                      i ? ", " : "", HEX64, HEX128);
        snprintf(text + n, cap - n, "]}");
        struct st_envelope env;
        struct sl_error err = {0};
        assert_int_equal(st_envelope_parse(text, strlen(text), &env, &err), -1);
        assert_string_equal(err.msg, "envelope: signatures: more than 64 entries");
        free(text);
}

static void test_envelope_round_trip_keeps_the_signed_bytes(void **state)
{
        (void)state;
        uint8_t pk[2][ST_PK_BYTES], sk[2][ST_SK_BYTES];
        for (int i = 0; i < 2; i++)
                assert_int_equal(st_key_gen(pk[i], sk[i], NULL), 0);
        /* Not canonical JSON on purpose: the bytes are kept, not redone. */
        static const char doc[] = "{ \"b\": 1,\n  \"a\": [ ] }\n";
        struct st_envelope env = {0};
        assert_int_equal(st_buf_set(&env.signed_bytes, doc, sizeof doc - 1, NULL), 0);
        assert_int_equal(st_envelope_sign(&env, sk[0], NULL), 0);
        assert_int_equal(st_envelope_sign(&env, sk[1], NULL), 0);
        /* The same key again replaces its signature. */
        assert_int_equal(st_envelope_sign(&env, sk[0], NULL), 0);
        assert_int_equal(env.n_sigs, 2);
        char *text = st_envelope_encode(&env, NULL);
        assert_non_null(text);
        struct st_envelope back;
        struct sl_error err = {0};
        assert_int_equal(st_envelope_parse(text, strlen(text), &back, &err), 0);
        assert_int_equal(back.signed_bytes.len, sizeof doc - 1);
        assert_memory_equal(back.signed_bytes.data, doc, sizeof doc - 1);
        assert_int_equal(back.n_sigs, 2);
        struct st_key trusted[2] = {{.expires = 0}, {.expires = 0}};
        memcpy(trusted[0].pk, pk[0], ST_PK_BYTES);
        memcpy(trusted[1].pk, pk[1], ST_PK_BYTES);
        assert_int_equal(st_verify_threshold(back.signed_bytes.data, back.signed_bytes.len,
                                             back.sigs, back.n_sigs, trusted, 2, 2, 0, &err),
                         0);
        free(text);
        st_envelope_free(&back);
        st_envelope_free(&env);
}

/* ---- role documents ---- */

enum doc_kind { ROOT, TIMESTAMP, SNAPSHOT, TARGETS };

struct doc_case {
        enum doc_kind kind;
        const char *text;
        const char *error;
};

#define HDR(t)  "{\"type\": \"" t "\", \"version\": 1, \"expires\": \"2030-01-01T00:00:00Z\""
#define ROLE1   "{\"keys\": [\"" HEX64 "\"], \"threshold\": 1}"
#define REF     "{\"version\": 1, \"length\": 10, \"hash\": \"" HEX64 "\"}"
#define ROLES4  "\"roles\": {\"root\": " ROLE1 ", \"targets\": " ROLE1 ", \"snapshot\": " ROLE1
#define ROOT_OK HDR("root") ", " ROLES4 ", \"timestamp\": " ROLE1 "}"

static const struct doc_case doc_cases[] = {
    {ROOT, ROOT_OK "}", NULL},
    {ROOT, ROOT_OK ", \"revoked\": [\"" HEX64 "\"]}", NULL},
    {ROOT, HDR("root") ", " ROLES4 "}}", "root: roles.timestamp: missing"},
    {ROOT, ROOT_OK ", \"revoked\": [\"abc\"]}", "root: revoked[0]: not 64 lowercase hex digits"},
    {ROOT, ROOT_OK ", \"x\": 1}", "root: x: unknown field"},
    {ROOT,
     HDR("root") ", " ROLES4 ", \"timestamp\": {\"keys\": [\"" HEX64 "\"], \"threshold\": 2}}}",
     "root: roles.timestamp.threshold: 2 is more than the 1 keys"},
    {ROOT,
     HDR("root") ", " ROLES4 ", \"timestamp\": {\"keys\": [\"" HEX64 "\"], \"threshold\": 0}}}",
     "root: roles.timestamp.threshold: must be at least 1"},
    {ROOT,
     HDR("root") ", " ROLES4 ", \"timestamp\": {\"keys\": [\"" HEX64 "\", \"" HEX64
                 "\"], \"threshold\": 1}}}",
     "root: roles.timestamp.keys[1]: the same key as keys[0]"},
    {ROOT,
     HDR("root") ", " ROLES4 ", \"timestamp\": {\"keys\": [{\"public\": \"" HEX64
                 "\", \"expires\": \"soon\"}], \"threshold\": 1}}}",
     "root: roles.timestamp.keys[0].expires: `soon` is not a time like 2027-01-31T00:00:00Z"},
    {ROOT, HDR("root") ", " ROLES4 ", \"timestamp\": " ROLE1 ", \"mirror\": " ROLE1 "}}",
     "root: roles.mirror: unknown field"},
    {TIMESTAMP, HDR("timestamp") ", \"snapshot\": " REF "}", NULL},
    {TIMESTAMP, HDR("snapshot") ", \"snapshot\": " REF "}",
     "timestamp: type: `snapshot` where `timestamp` was expected"},
    {TIMESTAMP, HDR("timestamp") ", \"snapshot\": " REF ", \"extra\": 1}",
     "timestamp: extra: unknown field"},
    {TIMESTAMP,
     HDR("timestamp") ", \"snapshot\": {\"version\": 1, \"length\": 16777217, \"hash\": "
                      "\"" HEX64 "\"}}",
     "timestamp: snapshot.length: above 16777216"},
    {TIMESTAMP,
     "{\"type\": \"timestamp\", \"version\": 0, \"expires\": \"2030-01-01T00:00:00Z\", "
     "\"snapshot\": " REF "}",
     "timestamp: version: must be at least 1"},
    {SNAPSHOT,
     "{\"type\": \"snapshot\", \"version\": 1, \"expires\": \"2030-01-01\", \"targets\": " REF "}",
     "snapshot: expires: `2030-01-01` is not a time like 2027-01-31T00:00:00Z"},
    {SNAPSHOT, HDR("snapshot") ", \"targets\": {\"version\": 1, \"length\": 10}}",
     "snapshot: targets.hash: missing"},
    {SNAPSHOT, HDR("snapshot") "}", "snapshot: targets: missing"},
    {TARGETS,
     HDR("targets") ", \"signers\": {\"*\": " ROLE1 "}, \"packages\": {\"hello@1.0\": "
                    "{\"length\": 5, \"hash\": \"" HEX64 "\"}}}",
     NULL},
    {TARGETS,
     HDR("targets") ", \"signers\": {}, \"packages\": {\"hello@1.0\": {\"length\": 5, "
                    "\"hash\": \"ABC\"}}}",
     "targets: packages.hello@1.0.hash: not 64 lowercase hex digits"},
    {TARGETS,
     HDR("targets") ", \"signers\": {}, \"packages\": {\"hello\": {\"length\": 5, \"hash\": "
                    "\"" HEX64 "\"}}}",
     "targets: packages.hello: not NAME@VERSION"},
    {TARGETS,
     HDR("targets") ", \"signers\": {}, \"packages\": {\"hello@1.0\": {\"length\": 3000000, "
                    "\"hash\": \"" HEX64 "\"}}}",
     "targets: packages.hello@1.0.length: above 2097152"},
    {TARGETS,
     HDR("targets") ", \"signers\": {\"hello\": {\"keys\": [], \"threshold\": 1}}, "
                    "\"packages\": {}}",
     "targets: signers.hello.threshold: 1 is more than the 0 keys"},
    {TARGETS, HDR("targets") ", \"packages\": {}}", "targets: signers: missing"},
    {TARGETS, HDR("targets") ", \"signers\": [], \"packages\": {}}",
     "targets: signers: not an object"},
    {TARGETS, "{\"type\": \"targets\", \"type\": \"targets\"}",
     "targets:1:26: duplicate object key near '\"type\"'"},
};

static int parse_doc(const struct doc_case *c, struct sl_error *err)
{
        static const char *const labels[] = {"root", "timestamp", "snapshot", "targets"};
        size_t len = strlen(c->text);
        const char *label = labels[c->kind];
        switch (c->kind) {
        case ROOT: {
                struct st_root r;
                int rc = st_root_parse(c->text, len, label, &r, err);
                st_root_free(&r);
                return rc;
        }
        case TIMESTAMP: {
                struct st_timestamp t;
                return st_timestamp_parse(c->text, len, label, &t, err);
        }
        case SNAPSHOT: {
                struct st_snapshot s;
                return st_snapshot_parse(c->text, len, label, &s, err);
        }
        default: {
                struct st_targets t;
                int rc = st_targets_parse(c->text, len, label, NULL, &t, err);
                st_targets_free(&t);
                return rc;
        }
        }
}

static void test_role_documents_name_role_and_field(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof doc_cases / sizeof doc_cases[0]; i++) {
                struct sl_error err = {0};
                int r = parse_doc(&doc_cases[i], &err);
                expect(doc_cases[i].text, r, &err, doc_cases[i].error);
        }
}

static void test_root_revocations_mark_every_role(void **state)
{
        (void)state;
        static const char text[] = ROOT_OK ", \"revoked\": [\"" HEX64 "\"]}";
        struct st_root r;
        struct sl_error err = {0};
        assert_int_equal(st_root_parse(text, sizeof text - 1, "root", &r, &err), 0);
        for (int i = 0; i < ST_TUF_N_ROLES; i++)
                assert_true(r.roles[i].keys[0].revoked);
        st_root_free(&r);
}

/* ---- key files ---- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_key_files_round_trip_and_refuse_overwrite(void **state)
{
        (void)state;
        char dir[256], base[300], path[320];
        snprintf(dir, sizeof dir, "%s/test_store_tuf_keys.XXXXXX",
                 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        assert_non_null(mkdtemp(dir));
        snprintf(base, sizeof base, "%s/k", dir);
        uint8_t pk[ST_PK_BYTES], sk[ST_SK_BYTES], pk2[ST_PK_BYTES], sk2[ST_SK_BYTES];
        assert_int_equal(st_key_gen(pk, sk, NULL), 0);
        struct sl_error err = {0};
        assert_int_equal(st_keyfile_write(base, pk, sk, &err), 0);

        struct stat st;
        snprintf(path, sizeof path, "%s.key", base);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st_keyfile_read_secret(path, pk2, sk2, &err), 0);
        assert_memory_equal(pk, pk2, ST_PK_BYTES);
        assert_memory_equal(sk, sk2, ST_SK_BYTES);
        memset(pk2, 0, sizeof pk2);
        assert_int_equal(st_keyfile_read_public(path, pk2, &err), 0);
        assert_memory_equal(pk, pk2, ST_PK_BYTES);
        snprintf(path, sizeof path, "%s.pub", base);
        memset(pk2, 0, sizeof pk2);
        assert_int_equal(st_keyfile_read_public(path, pk2, &err), 0);
        assert_memory_equal(pk, pk2, ST_PK_BYTES);
        assert_int_equal(st_keyfile_read_secret(path, pk2, sk2, &err), -1);
        assert_non_null(strstr(err.msg, ".pub`: secret: missing"));

        /* A secret key is never overwritten. */
        assert_int_equal(st_keyfile_write(base, pk, sk, &err), -1);
        assert_int_equal(err.code, EEXIST);

        /* The public half must be the secret's. */
        char text[512], pkh[2 * ST_PK_BYTES + 1], skh[2 * ST_SK_BYTES + 1];
        uint8_t other[ST_PK_BYTES], other_sk[ST_SK_BYTES];
        assert_int_equal(st_key_gen(other, other_sk, NULL), 0);
        st_hex_encode(other, ST_PK_BYTES, pkh);
        st_hex_encode(sk, ST_SK_BYTES, skh);
        snprintf(path, sizeof path, "%s/mixed.key", dir);
        snprintf(text, sizeof text,
                 "{\"keytype\": \"ed25519\", \"public\": \"%s\", \"secret\": \"%s\"}", pkh, skh);
        write_text(path, text);
        assert_int_equal(st_keyfile_read_secret(path, pk2, sk2, &err), -1);
        assert_non_null(strstr(err.msg, "mixed.key`: public does not match secret"));
        snprintf(text, sizeof text, "{\"keytype\": \"rsa\", \"public\": \"%s\"}", pkh);
        write_text(path, text);
        assert_int_equal(st_keyfile_read_public(path, pk2, &err), -1);
        assert_non_null(strstr(err.msg, "mixed.key`: keytype: `rsa` is not ed25519"));
        snprintf(text, sizeof text, "{\"keytype\": \"ed25519\", \"public\": \"%s\", \"x\": 1}",
                 pkh);
        write_text(path, text);
        assert_int_equal(st_keyfile_read_public(path, pk2, &err), -1);
        assert_non_null(strstr(err.msg, "mixed.key`: x: unknown field"));
        nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- versions ---- */

struct cmp_case {
        const char *a, *b;
        int sign;
};

static const struct cmp_case cmp_cases[] = {
    {"1.0", "1.0", 0},
    {"1.0", "1.1", -1},
    {"1.10", "1.9", 1}, /* digits compare as numbers */
    {"01", "1", 0},     /* leading zeros do not count */
    {"2", "10", -1},
    {"1.0~rc1", "1.0", -1}, /* `~` sorts before the end */
    {"1.0~rc1", "1.0~rc2", -1},
    {"1.0~~", "1.0~", -1}, /* and before anything */
    {"1.0~", "1.0", -1},
    {"1.0a", "1.0", 1},
    {"1.0a", "1.0+", -1}, /* letters before non-letters */
    {"1.0", "1.0.0", -1},
    {"a", "1", 1},
    {"1.0-1", "1.0-2", -1}, /* Debian revisions */
    {"1+b-1", "1-1", 1},    /* upstream parts first, split at the last `-` */
    {"1.0-1", "1.0", 1},
    {"1.0-0", "1.0", 0},
};

static void test_version_order_is_dpkg_without_epochs(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof cmp_cases / sizeof cmp_cases[0]; i++) {
                const struct cmp_case *c = &cmp_cases[i];
                int r = st_version_cmp(c->a, c->b), back = st_version_cmp(c->b, c->a);
                int sign = (r > 0) - (r < 0), back_sign = (back > 0) - (back < 0);
                if (sign != c->sign || back_sign != -c->sign)
                        fail_msg("%s vs %s: %d / %d, want %d", c->a, c->b, r, back, c->sign);
        }
}

static void test_targets_find_takes_the_highest_version(void **state)
{
        (void)state;
        struct st_target pkgs[] = {
            {.name = "hello", .version = "1.9"},  {.name = "hello", .version = "1.10~rc1"},
            {.name = "hello", .version = "1.10"}, {.name = "other", .version = "9"},
            {.name = "hello", .version = "1.2"},
        };
        struct st_targets t = {.packages = pkgs, .n_packages = 5};
        const struct st_target *p = st_targets_find(&t, "hello", "");
        assert_non_null(p);
        assert_string_equal(p->version, "1.10");
        p = st_targets_find(&t, "hello", "1.2");
        assert_ptr_equal(p, &pkgs[4]);
        assert_null(st_targets_find(&t, "hello", "2"));
        assert_null(st_targets_find(&t, "nobody", NULL));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_envelope_fields_are_strict),
            cmocka_unit_test(test_envelope_with_too_many_signatures_is_refused),
            cmocka_unit_test(test_envelope_round_trip_keeps_the_signed_bytes),
            cmocka_unit_test(test_role_documents_name_role_and_field),
            cmocka_unit_test(test_root_revocations_mark_every_role),
            cmocka_unit_test(test_key_files_round_trip_and_refuse_overwrite),
            cmocka_unit_test(test_version_order_is_dpkg_without_epochs),
            cmocka_unit_test(test_targets_find_takes_the_highest_version),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
