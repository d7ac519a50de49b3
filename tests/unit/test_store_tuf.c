/* Repository metadata (src/store/envelope.c, keyfile.c, tuf_meta.c,
 * tuf_client.c, repo.c): the TUF attacks, each refused with its message and
 * the trust directory left exactly as it was; the writer's layout and
 * refusals; envelopes, role documents and key files field by field; dpkg
 * version order. Fixtures: tests/unit/support/store_tuf_fixtures.c. */
#include <errno.h>
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
#include "support/store_tuf_fixtures.h"

#define LATER   (TUF_NOW + TUF_YEAR)
#define EXPIRED (TUF_NOW - 1) /* 2027-01-15T07:59:59Z */
#define ZERO64  "0000000000000000000000000000000000000000000000000000000000000000"

/* The members of root's "roles" as the fixture has them, with the root
 * and timestamp roles replaceable (NULL = as in the fixture). */
static void std_roles(char *out, size_t cap, const char *root, const char *timestamp)
{
        char r[512], t[512], s[512], ts[512];
        tuf_role_json(r, sizeof r, 1, SIGNERS(K_R0));
        tuf_role_json(t, sizeof t, 1, SIGNERS(K_TG));
        tuf_role_json(s, sizeof s, 1, SIGNERS(K_SN));
        tuf_role_json(ts, sizeof ts, 1, SIGNERS(K_TS));
        tuf_roles_json(out, cap, root ? root : r, t, s, timestamp ? timestamp : ts);
}

/* targets 3 with this body, then snapshot 3 and timestamp 3 naming it. */
static void publish_targets(const char *body, time_t expires)
{
        tuf_put_targets(3, expires, body, SIGNERS(K_TG));
        tuf_put_snapshot(3, LATER, 3, "targets/3.json", SIGNERS(K_SN));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}

/* Root 2 with these roles (and revocations), signed by R0; then timestamp 3
 * signed by signers. */
static void root2_then_timestamp(const char *roles, const char *revoked, const int *signers)
{
        tuf_put_root(2, 2, LATER, roles, revoked, SIGNERS(K_R0));
        tuf_put_timestamp(3, LATER, 2, "snapshot/2.json", signers);
}

/* ---- the attacks ---- */

static void ts_rollback(void)
{
        tuf_put_timestamp(1, LATER, 2, "snapshot/2.json", SIGNERS(K_TS));
}
static void ts_same_version_other_bytes(void)
{
        tuf_put_timestamp(2, LATER - 1, 2, "snapshot/2.json", SIGNERS(K_TS));
}
static void snapshot_rollback(void)
{
        tuf_put_timestamp(3, LATER, 1, "snapshot/1.json", SIGNERS(K_TS));
}
static void targets_rollback(void)
{
        tuf_put_snapshot(3, LATER, 1, "targets/1.json", SIGNERS(K_SN));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}
static void ts_freeze(void)
{
        tuf_put_timestamp(3, EXPIRED, 2, "snapshot/2.json", SIGNERS(K_TS));
}
static void snapshot_freeze(void)
{
        tuf_put_snapshot(3, EXPIRED, 2, "targets/2.json", SIGNERS(K_SN));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}
static void targets_freeze(void)
{
        publish_targets("\"signers\": {}, \"packages\": {}", EXPIRED);
}
static void nothing(void)
{
}
static void snapshot_of_another_version(void)
{
        size_t len;
        char *old = tuf_read(tuf_fx.repo, "snapshot/2.json", &len);
        tuf_write(tuf_fx.repo, "snapshot/3.json", old, len);
        free(old);
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}
static void targets_hash_mismatch(void)
{
        char ref[256], text[512];
        size_t len;
        free(tuf_read(tuf_fx.repo, "targets/2.json", &len));
        snprintf(ref, sizeof ref, "{\"version\": 2, \"length\": %zu, \"hash\": \"%s\"}", len,
                 ZERO64);
        snprintf(text, sizeof text,
                 "{\"type\": \"snapshot\", \"version\": 3, \"expires\": "
                 "\"2030-01-01T00:00:00Z\", \"targets\": %s}",
                 ref);
        tuf_put_signed("snapshot/3.json", text, SIGNERS(K_SN));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}
static void snapshot_shorter_than_announced(void)
{
        char ref[256], text[512];
        size_t len;
        free(tuf_read(tuf_fx.repo, "snapshot/2.json", &len));
        snprintf(ref, sizeof ref, "{\"version\": 2, \"length\": %zu, \"hash\": \"%s\"}", len + 10,
                 ZERO64);
        snprintf(text, sizeof text,
                 "{\"type\": \"timestamp\", \"version\": 3, \"expires\": "
                 "\"2030-01-01T00:00:00Z\", \"snapshot\": %s}",
                 ref);
        tuf_put_signed("timestamp.json", text, SIGNERS(K_TS));
}
static void endless_timestamp(void)
{
        size_t n = ST_TUF_TIMESTAMP_MAX + 1;
        char *big = malloc(n);
        memset(big, ' ', n);
        tuf_write(tuf_fx.repo, "timestamp.json", big, n);
        free(big);
}
static void endless_root(void)
{
        size_t n = ST_TUF_ROOT_MAX + 1;
        char *big = malloc(n);
        memset(big, ' ', n);
        tuf_write(tuf_fx.repo, "root/2.json", big, n);
        free(big);
}
static void endless_snapshot(void)
{
        tuf_put_snapshot(3, LATER, 2, "targets/2.json", SIGNERS(K_SN));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
        /* After the timestamp fixed its length: the file keeps going. */
        size_t len;
        char *s = tuf_read(tuf_fx.repo, "snapshot/3.json", &len);
        char *big = calloc(1, len + 4096);
        memcpy(big, s, len);
        memset(big + len, ' ', 4096);
        tuf_write(tuf_fx.repo, "snapshot/3.json", big, len + 4096);
        free(s);
        free(big);
}
static void ts_by_untrusted_key(void)
{
        tuf_put_timestamp(3, LATER, 2, "snapshot/2.json", SIGNERS(K_ATK));
}
static void snapshot_by_timestamp_key(void)
{
        tuf_put_snapshot(3, LATER, 2, "targets/2.json", SIGNERS(K_TS));
        tuf_put_timestamp(3, LATER, 3, "snapshot/3.json", SIGNERS(K_TS));
}
static void below_threshold(void)
{
        char ts[512], roles[4096];
        tuf_role_json(ts, sizeof ts, 2, SIGNERS(K_TS, K_TS2));
        std_roles(roles, sizeof roles, NULL, ts);
        root2_then_timestamp(roles, NULL, SIGNERS(K_TS));
}
static void same_key_twice(void)
{
        char ts[512], roles[4096];
        tuf_role_json(ts, sizeof ts, 2, SIGNERS(K_TS, K_TS2));
        std_roles(roles, sizeof roles, NULL, ts);
        root2_then_timestamp(roles, NULL, SIGNERS(K_TS, K_TS));
}
static void expired_key(void)
{
        char ts[512], roles[4096];
        snprintf(ts, sizeof ts,
                 "{\"keys\": [{\"public\": \"%s\", \"expires\": \"2027-01-15T07:59:59Z\"}], "
                 "\"threshold\": 1}",
                 tuf_hex[K_TS]);
        std_roles(roles, sizeof roles, NULL, ts);
        root2_then_timestamp(roles, NULL, SIGNERS(K_TS));
}
static void revoked_key(void)
{
        char ts[512], roles[4096], revoked[128];
        tuf_role_json(ts, sizeof ts, 1, SIGNERS(K_TS, K_TS2));
        std_roles(roles, sizeof roles, NULL, ts);
        snprintf(revoked, sizeof revoked, "[\"%s\"]", tuf_hex[K_TS]);
        root2_then_timestamp(roles, revoked, SIGNERS(K_TS));
}
static void targets_unknown_field(void)
{
        publish_targets("\"signers\": {}, \"packages\": {}, \"x\": 1", LATER);
}
static void targets_bad_hash(void)
{
        publish_targets("\"signers\": {}, \"packages\": {\"hello@1.0\": {\"length\": 1, "
                        "\"hash\": \"ABC\"}}",
                        LATER);
}
static void root_signed_by_old_only(void)
{
        char r[512], roles[4096];
        tuf_role_json(r, sizeof r, 2, SIGNERS(K_R1, K_R2));
        std_roles(roles, sizeof roles, r, NULL);
        tuf_put_root(2, 2, LATER, roles, NULL, SIGNERS(K_R0));
}
static void root_signed_by_new_only(void)
{
        char r[512], roles[4096];
        tuf_role_json(r, sizeof r, 2, SIGNERS(K_R1, K_R2));
        std_roles(roles, sizeof roles, r, NULL);
        tuf_put_root(2, 2, LATER, roles, NULL, SIGNERS(K_R1, K_R2));
}
static void root_one_of_two_new(void)
{
        char r[512], roles[4096];
        tuf_role_json(r, sizeof r, 2, SIGNERS(K_R1, K_R2));
        std_roles(roles, sizeof roles, r, NULL);
        tuf_put_root(2, 2, LATER, roles, NULL, SIGNERS(K_R0, K_R1));
}
static void root_version_skip(void)
{
        char roles[4096];
        std_roles(roles, sizeof roles, NULL, NULL);
        tuf_put_root(2, 3, LATER, roles, NULL, SIGNERS(K_R0));
}
static void root_threshold_above_keys(void)
{
        char r[512], roles[4096];
        tuf_role_json(r, sizeof r, 2, SIGNERS(K_R0));
        std_roles(roles, sizeof roles, r, NULL);
        tuf_put_root(2, 2, LATER, roles, NULL, SIGNERS(K_R0));
}
static void root_expired(void)
{
        char roles[4096];
        std_roles(roles, sizeof roles, NULL, NULL);
        tuf_put_root(2, 2, EXPIRED, roles, NULL, SIGNERS(K_R0));
}
static void root_good_then_bad(void)
{
        char roles[4096];
        std_roles(roles, sizeof roles, NULL, NULL);
        tuf_put_root(2, 2, LATER, roles, NULL, SIGNERS(K_R0));
        tuf_put_root(3, 3, LATER, roles, NULL, SIGNERS(K_ATK));
}

struct attack {
        const char *name;
        void (*attack)(void);
        time_t now;
        const char *want, *want2; /* substrings of the message */
};

static const struct attack attacks[] = {
    {"timestamp rollback", ts_rollback, TUF_NOW,
     "timestamp: version 1 is older than the trusted version 2 (rollback)", NULL},
    {"timestamp: same version, other bytes", ts_same_version_other_bytes, TUF_NOW,
     "timestamp: version 2 is the trusted version with other content (rollback)", NULL},
    {"snapshot rollback", snapshot_rollback, TUF_NOW,
     "snapshot: version 1 is older than the trusted version 2 (rollback)", NULL},
    {"targets rollback", targets_rollback, TUF_NOW,
     "targets: version 1 is older than the trusted version 2 (rollback)", NULL},
    {"timestamp freeze", ts_freeze, TUF_NOW, "timestamp: expired at 2027-01-15T07:59:59Z (freeze)",
     NULL},
    {"snapshot freeze", snapshot_freeze, TUF_NOW,
     "snapshot: expired at 2027-01-15T07:59:59Z (freeze)", NULL},
    {"targets freeze", targets_freeze, TUF_NOW, "targets: expired at 2027-01-15T07:59:59Z (freeze)",
     NULL},
    {"root freeze", nothing, LATER, "root 1: expired at 2028-01-15T08:00:00Z (freeze)", NULL},
    {"snapshot of another version", snapshot_of_another_version, TUF_NOW,
     "snapshot: version 2, the timestamp says 3 (mix-and-match)", NULL},
    {"targets hash mismatch", targets_hash_mismatch, TUF_NOW, "targets: hash ",
     ", the snapshot says " ZERO64 " (mix-and-match)"},
    {"snapshot shorter than announced", snapshot_shorter_than_announced, TUF_NOW,
     "snapshot: ", " bytes, the timestamp says "},
    {"endless timestamp", endless_timestamp, TUF_NOW,
     "timestamp: fetch `timestamp.json`: more than 65536 bytes (size cap)", NULL},
    {"endless root", endless_root, TUF_NOW,
     "root 2: fetch `root/2.json`: more than 1048576 bytes (size cap)", NULL},
    {"endless snapshot", endless_snapshot, TUF_NOW, "snapshot: fetch `snapshot/3.json`: more than ",
     " bytes (size cap)"},
    {"timestamp by an untrusted key", ts_by_untrusted_key, TUF_NOW,
     "timestamp: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
    {"snapshot by the timestamp key", snapshot_by_timestamp_key, TUF_NOW,
     "snapshot: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
    {"signatures below threshold", below_threshold, TUF_NOW,
     "timestamp: signatures: 1 valid from distinct trusted keys, 2 needed", NULL},
    {"the same key counted twice", same_key_twice, TUF_NOW,
     "timestamp: signatures: 1 valid from distinct trusted keys, 2 needed", NULL},
    {"expired key", expired_key, TUF_NOW,
     "timestamp: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
    {"revoked key", revoked_key, TUF_NOW,
     "timestamp: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
    {"targets with an unknown field", targets_unknown_field, TUF_NOW, "targets: x: unknown field",
     NULL},
    {"targets with a bad package hash", targets_bad_hash, TUF_NOW,
     "targets: packages.hello@1.0.hash: not 64 lowercase hex digits", NULL},
    {"new root signed by the old root only", root_signed_by_old_only, TUF_NOW,
     "root 2: its own keys: signatures: 0 valid from distinct trusted keys, 2 needed", NULL},
    {"new root signed by the new root only", root_signed_by_new_only, TUF_NOW,
     "root 2: root 1's keys: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
    {"new root: one of two new keys", root_one_of_two_new, TUF_NOW,
     "root 2: its own keys: signatures: 1 valid from distinct trusted keys, 2 needed", NULL},
    {"root version skip", root_version_skip, TUF_NOW, "root 2: version 3, not the next version 2",
     NULL},
    {"root threshold above its keys", root_threshold_above_keys, TUF_NOW,
     "root 2: roles.root.threshold: 2 is more than the 1 keys", NULL},
    {"new root already expired", root_expired, TUF_NOW,
     "root 2: expired at 2027-01-15T07:59:59Z (freeze)", NULL},
    {"a good root then a bad one", root_good_then_bad, TUF_NOW,
     "root 3: root 2's keys: signatures: 0 valid from distinct trusted keys, 1 needed", NULL},
};

static void test_each_attack_is_refused_and_trust_stays_as_it_was(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
                const struct attack *a = &attacks[i];
                tuf_fx_make();
                tuf_refresh_ok(TUF_NOW);
                a->attack();
                struct sl_error err = {0};
                if (tuf_refresh(a->now, NULL, &err) == 0)
                        fail_msg("%s: accepted", a->name);
                if (!strstr(err.msg, a->want) || (a->want2 && !strstr(err.msg, a->want2)))
                        fail_msg("%s:\n  got  %s\n  want %s ... %s", a->name, err.msg, a->want,
                                 a->want2 ? a->want2 : "");
                /* Again through the helper that compares trust/ byte for
                 * byte before and after. */
                tuf_refresh_refused(a->now, a->want);
                tuf_fx_destroy();
        }
}

/* ---- the good path ---- */

static void test_refresh_then_verify_package(void **state)
{
        (void)state;
        tuf_fx_make();
        struct st_targets t;
        struct sl_error err = {0};
        if (tuf_refresh(TUF_NOW, &t, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(t.version, 2);
        assert_int_equal(tuf_trusted_version("timestamp.json"), 2);
        assert_int_equal(tuf_trusted_version("snapshot.json"), 2);
        assert_int_equal(tuf_trusted_version("targets.json"), 2);
        const struct st_target *hello = st_targets_find(&t, "hello", "");
        assert_non_null(hello);
        assert_string_equal(hello->version, "1.0");
        assert_string_equal(hello->hash, tuf_fx.pkg_hash);
        assert_null(st_targets_find(&t, "hello", "2.0"));
        assert_null(st_targets_find(&t, "absent", ""));

        char rel[ST_HASH_HEX + 16];
        snprintf(rel, sizeof rel, "packages/%s.pkg", hello->hash);
        struct st_buf pkg = {0};
        assert_int_equal(tuf_fx.fetcher.fetch(tuf_fx.fetcher.ctx, rel, hello->length, &pkg, &err),
                         0);
        struct st_manifest m;
        if (st_tuf_verify_package(&t, hello, pkg.data, pkg.len, TUF_NOW, &m, &err) < 0)
                fail_msg("%s", err.msg);
        assert_string_equal(m.name, "hello");
        assert_int_equal(m.n_archives, 1);
        char arel[ST_HASH_HEX + 32];
        snprintf(arel, sizeof arel, "archives/%s.tar.zst", m.archives[0].hash);
        size_t alen;
        free(tuf_read(tuf_fx.repo, arel, &alen));
        assert_int_equal(alen, m.archives[0].size);
        st_manifest_free(&m);
        st_buf_free(&pkg);
        st_targets_free(&t);

        /* Nothing new: accepted again, the same bytes kept. */
        tuf_refresh_ok(TUF_NOW);
        assert_int_equal(tuf_trusted_version("timestamp.json"), 2);
        tuf_fx_destroy();
}

static void test_missing_trusted_root_is_refused(void **state)
{
        (void)state;
        tuf_fx_make();
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/root.json", tuf_fx.trust);
        assert_int_equal(unlink(path), 0);
        tuf_refresh_refused(TUF_NOW, "trust `root.json`: no trusted root");
        tuf_fx_destroy();
}

/* ---- root rotation by the writer ---- */

static void test_root_rotation_k_of_n_is_followed(void **state)
{
        (void)state;
        tuf_fx_make();
        tuf_refresh_ok(TUF_NOW);
        struct sl_error err = {0};
        /* Root 2: three root keys, two needed. Signed by R0 (root 1's one)
         * and R1 + R2 (two of root 2's). */
        struct st_repo_init next = {
            .roles = {tuf_role(2, SIGNERS(K_R0, K_R1, K_R2)), tuf_role(1, SIGNERS(K_TG)),
                      tuf_role(1, SIGNERS(K_SN)), tuf_role(1, SIGNERS(K_TS))},
            .expires = LATER,
        };
        struct st_repo_keys keys =
            tuf_repo_keys(SIGNERS(K_R0, K_R1, K_R2), NOBODY, SIGNERS(K_SN), SIGNERS(K_TS));
        if (st_repo_rotate_root(tuf_fx.repo, &next, &keys, &err) < 0)
                fail_msg("%s", err.msg);
        tuf_refresh_ok(TUF_NOW);
        assert_int_equal(tuf_trusted_version("root.json"), 2);
        assert_int_equal(tuf_trusted_version("timestamp.json"), 3);

        /* Root 3 drops R0: R1 and R2 are two of root 2's three. */
        next.roles[0] = tuf_role(2, SIGNERS(K_R1, K_R2));
        keys = tuf_repo_keys(SIGNERS(K_R1, K_R2), NOBODY, SIGNERS(K_SN), SIGNERS(K_TS));
        if (st_repo_rotate_root(tuf_fx.repo, &next, &keys, &err) < 0)
                fail_msg("%s", err.msg);
        /* The writer refuses a root 4 that root 3's threshold does not
         * sign, before writing anything. */
        next.roles[0] = tuf_role(1, SIGNERS(K_R1));
        keys = tuf_repo_keys(SIGNERS(K_R1), NOBODY, SIGNERS(K_SN), SIGNERS(K_TS));
        assert_int_equal(st_repo_rotate_root(tuf_fx.repo, &next, &keys, &err), -1);
        assert_string_equal(err.msg, "root 4: 1 of its keys given, 2 needed");
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/root/4.json", tuf_fx.repo);
        assert_int_equal(access(path, F_OK), -1);

        tuf_refresh_ok(TUF_NOW);
        assert_int_equal(tuf_trusted_version("root.json"), 3);
        tuf_fx_destroy();
}

/* An attacker holding the online keys pushes the versions of timestamp,
 * snapshot and targets to 1000; the client remembers them and refuses every
 * real timestamp, until the root rotates the timestamp key and the client
 * forgets what the old keys vouched for. */
static void test_fast_forward_then_recovery_by_rotation(void **state)
{
        (void)state;
        tuf_fx_make();
        tuf_refresh_ok(TUF_NOW);
        /* The attacker serves its documents to this client (on the way,
         * not in the repository: the real timestamp is put back after). */
        size_t len;
        char *real = tuf_read(tuf_fx.repo, "timestamp.json", &len);
        char body[1024], role[512];
        size_t pkg_len;
        free(tuf_read(tuf_fx.build, "hello@1.0.pkg", &pkg_len));
        tuf_role_json(role, sizeof role, 1, SIGNERS(K_TG));
        snprintf(body, sizeof body,
                 "\"signers\": {\"*\": %s}, \"packages\": {\"hello@1.0\": {\"length\": %zu, "
                 "\"hash\": \"%s\"}}",
                 role, pkg_len, tuf_fx.pkg_hash);
        tuf_put_targets(1000, LATER, body, SIGNERS(K_TG));
        tuf_put_snapshot(1000, LATER, 1000, "targets/1000.json", SIGNERS(K_SN));
        tuf_put_timestamp(1000, LATER, 1000, "snapshot/1000.json", SIGNERS(K_TS));
        tuf_refresh_ok(TUF_NOW);
        assert_int_equal(tuf_trusted_version("timestamp.json"), 1000);
        assert_int_equal(tuf_trusted_version("snapshot.json"), 1000);
        assert_int_equal(tuf_trusted_version("targets.json"), 1000);
        tuf_write(tuf_fx.repo, "timestamp.json", real, len);
        free(real);

        struct sl_error err = {0};
        char path[PATH_MAX];
        tuf_build_pkg("hello", "1.1", "hello 1.1 bytes", SIGNERS(K_TG), path, NULL);
        const char *pkgs[] = {path};
        struct st_repo_keys keys = tuf_std_keys();
        if (st_repo_add(tuf_fx.repo, pkgs, 1, LATER, &keys, &err) < 0)
                fail_msg("%s", err.msg);
        tuf_refresh_refused(
            TUF_NOW, "timestamp: version 3 is older than the trusted version 1000 (rollback)");

        /* A rotation that keeps the timestamp key forgets nothing. */
        struct st_repo_init next = {
            .roles = {tuf_role(1, SIGNERS(K_R0, K_R1)), tuf_role(1, SIGNERS(K_TG)),
                      tuf_role(1, SIGNERS(K_SN)), tuf_role(1, SIGNERS(K_TS))},
            .expires = LATER,
        };
        keys = tuf_repo_keys(SIGNERS(K_R0), NOBODY, SIGNERS(K_SN), SIGNERS(K_TS));
        if (st_repo_rotate_root(tuf_fx.repo, &next, &keys, &err) < 0)
                fail_msg("%s", err.msg);
        tuf_refresh_refused(
            TUF_NOW, "timestamp: version 4 is older than the trusted version 1000 (rollback)");

        /* Rotating the timestamp key is the recovery. */
        next.roles[3] = tuf_role(1, SIGNERS(K_TS2));
        keys = tuf_repo_keys(SIGNERS(K_R0), NOBODY, SIGNERS(K_SN), SIGNERS(K_TS2));
        if (st_repo_rotate_root(tuf_fx.repo, &next, &keys, &err) < 0)
                fail_msg("%s", err.msg);
        struct st_targets t;
        if (tuf_refresh(TUF_NOW, &t, &err) < 0)
                fail_msg("%s", err.msg);
        assert_int_equal(tuf_trusted_version("root.json"), 3);
        assert_int_equal(tuf_trusted_version("timestamp.json"), 5);
        assert_int_equal(tuf_trusted_version("snapshot.json"), 5);
        assert_int_equal(tuf_trusted_version("targets.json"), 3);
        const struct st_target *newest = st_targets_find(&t, "hello", "");
        assert_non_null(newest);
        assert_string_equal(newest->version, "1.1");
        st_targets_free(&t);

        /* The old key is out for good. */
        tuf_put_timestamp(2000, LATER, 5, "snapshot/5.json", SIGNERS(K_TS));
        tuf_refresh_refused(TUF_NOW,
                            "timestamp: signatures: 0 valid from distinct trusted keys, 1 needed");
        tuf_fx_destroy();
}

/* ---- packages ---- */

enum pkg_mutation { AS_FETCHED, FLIP_A_BYTE, ONE_MORE_BYTE };

static void publish_hello_2(const int *signers)
{
        char path[PATH_MAX];
        struct sl_error err = {0};
        tuf_build_pkg("hello", "2.0", "hello 2.0 bytes", signers, path, NULL);
        const char *pkgs[] = {path};
        struct st_repo_keys keys = tuf_std_keys();
        if (st_repo_add(tuf_fx.repo, pkgs, 1, LATER, &keys, &err) < 0)
                fail_msg("%s", err.msg);
}

static void set_signers(const char *name, struct st_role role)
{
        struct sl_error err = {0};
        struct st_repo_keys keys = tuf_std_keys();
        if (st_repo_set_signers(tuf_fx.repo, name, &role, LATER, &keys, &err) < 0)
                fail_msg("%s", err.msg);
}

static void pkg_nothing(void)
{
}
static void pkg_by_attacker(void)
{
        publish_hello_2(SIGNERS(K_ATK));
}
static void pkg_name_entry_wins(void)
{
        set_signers("hello", tuf_role(1, SIGNERS(K_PK2)));
}
static void pkg_signer_revoked(void)
{
        set_signers("*", tuf_role(1, SIGNERS(K_PK)));
        publish_hello_2(SIGNERS(K_PK));
        char roles[4096], revoked[128];
        std_roles(roles, sizeof roles, NULL, NULL);
        snprintf(revoked, sizeof revoked, "[\"%s\"]", tuf_hex[K_PK]);
        tuf_put_root(2, 2, LATER, roles, revoked, SIGNERS(K_R0));
}
static void pkg_signer_expired(void)
{
        struct st_role r = tuf_role(1, SIGNERS(K_PK));
        r.keys[0].expires = EXPIRED;
        set_signers("*", r);
        publish_hello_2(SIGNERS(K_PK));
}
static void pkg_no_signers_entry(void)
{
        char body[1024], role[512];
        size_t len;
        free(tuf_read(tuf_fx.build, "hello@1.0.pkg", &len));
        tuf_role_json(role, sizeof role, 1, SIGNERS(K_TG));
        snprintf(body, sizeof body,
                 "\"signers\": {\"other\": %s}, \"packages\": {\"hello@1.0\": {\"length\": %zu, "
                 "\"hash\": \"%s\"}}",
                 role, len, tuf_fx.pkg_hash);
        publish_targets(body, LATER);
}
static void pkg_manifest_of_another_version(void)
{
        char path[PATH_MAX], hash[ST_HASH_HEX], rel[ST_HASH_HEX + 16], body[1024], role[512];
        tuf_build_pkg("hello", "1.1", "hello 1.1 bytes", SIGNERS(K_TG), path, hash);
        size_t len;
        char *pkg = tuf_read(tuf_fx.build, "hello@1.1.pkg", &len);
        snprintf(rel, sizeof rel, "packages/%s.pkg", hash);
        tuf_write(tuf_fx.repo, rel, pkg, len);
        free(pkg);
        tuf_role_json(role, sizeof role, 1, SIGNERS(K_TG));
        snprintf(body, sizeof body,
                 "\"signers\": {\"*\": %s}, \"packages\": {\"hello@1.0\": {\"length\": %zu, "
                 "\"hash\": \"%s\"}}",
                 role, len, hash);
        publish_targets(body, LATER);
}

struct pkg_case {
        const char *name;
        void (*prepare)(void);
        const char *spec;
        enum pkg_mutation mutation;
        const char *want, *want2; /* NULL: accepted */
};

static const struct pkg_case pkg_cases[] = {
    {"signed by the signers", pkg_nothing, "hello@1.0", AS_FETCHED, NULL, NULL},
    {"arbitrary package: a key not in signers", pkg_by_attacker, "hello@2.0", AS_FETCHED,
     "package hello@2.0: signers `*`: signatures: 0 valid from distinct trusted keys, 1 "
     "needed",
     NULL},
    {"wrong software: one byte flipped", pkg_nothing, "hello@1.0", FLIP_A_BYTE,
     "package hello@1.0: hash ", "(wrong software)"},
    {"wrong software: one byte more", pkg_nothing, "hello@1.0", ONE_MORE_BYTE,
     "package hello@1.0: ", "bytes, targets says "},
    {"the entry for the name wins over *", pkg_name_entry_wins, "hello@1.0", AS_FETCHED,
     "package hello@1.0: signers `hello`: signatures: 0 valid from distinct trusted keys, 1 "
     "needed",
     NULL},
    {"a signer root revoked", pkg_signer_revoked, "hello@2.0", AS_FETCHED,
     "package hello@2.0: signers `*`: signatures: 0 valid from distinct trusted keys, 1 "
     "needed",
     NULL},
    {"an expired signer key", pkg_signer_expired, "hello@2.0", AS_FETCHED,
     "package hello@2.0: signers `*`: signatures: 0 valid from distinct trusted keys, 1 "
     "needed",
     NULL},
    {"no signers entry", pkg_no_signers_entry, "hello@1.0", AS_FETCHED,
     "package hello@1.0: no signers for `hello` and no `*` entry", NULL},
    {"the manifest of another version", pkg_manifest_of_another_version, "hello@1.0", AS_FETCHED,
     "package hello@1.0: the manifest is hello@1.1", NULL},
};

static void run_pkg_case(const struct pkg_case *c)
{
        tuf_fx_make();
        c->prepare();
        struct st_targets t;
        struct sl_error err = {0};
        if (tuf_refresh(TUF_NOW, &t, &err) < 0)
                fail_msg("%s: refresh: %s", c->name, err.msg);
        char name[ST_NAME_MAX], version[ST_VERSION_MAX];
        assert_int_equal(st_spec_parse(c->spec, name, version, NULL), 0);
        const struct st_target *target = st_targets_find(&t, name, version);
        assert_non_null(target);
        char rel[ST_HASH_HEX + 16];
        snprintf(rel, sizeof rel, "packages/%s.pkg", target->hash);
        size_t len;
        char *pkg = tuf_read(tuf_fx.repo, rel, &len);
        pkg = realloc(pkg, len + 1);
        if (c->mutation == FLIP_A_BYTE)
                pkg[len / 2] ^= 1;
        if (c->mutation == ONE_MORE_BYTE)
                pkg[len++] = ' ';
        struct st_manifest m;
        int r = st_tuf_verify_package(&t, target, pkg, len, TUF_NOW, &m, &err);
        if (!c->want && r < 0)
                fail_msg("%s: refused: %s", c->name, err.msg);
        if (c->want && r == 0)
                fail_msg("%s: accepted", c->name);
        if (c->want && (!strstr(err.msg, c->want) || (c->want2 && !strstr(err.msg, c->want2))))
                fail_msg("%s:\n  got  %s\n  want %s ... %s", c->name, err.msg, c->want,
                         c->want2 ? c->want2 : "");
        if (c->want)
                assert_null(m.archives);
        st_manifest_free(&m);
        free(pkg);
        st_targets_free(&t);
        tuf_fx_destroy();
}

static void test_package_checks_follow_targets_and_signers(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof pkg_cases / sizeof pkg_cases[0]; i++)
                run_pkg_case(&pkg_cases[i]);
}

/* ---- the writer ---- */

static void assert_in_repo(const char *rel)
{
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", tuf_fx.repo, rel);
        if (access(path, F_OK) < 0)
                fail_msg("`%s` missing from the repository", rel);
}

static void add_refused(const char *pkg, const struct st_repo_keys *keys, const char *want,
                        const char *want2)
{
        struct sl_error err = {0};
        const char *pkgs[] = {pkg};
        if (st_repo_add(tuf_fx.repo, pkgs, 1, LATER, keys, &err) == 0)
                fail_msg("accepted, wanted %s", want);
        if (!strstr(err.msg, want) || (want2 && !strstr(err.msg, want2)))
                fail_msg("\n  got  %s\n  want %s ... %s", err.msg, want, want2 ? want2 : "");
}

static void test_writer_layout_and_refusals(void **state)
{
        (void)state;
        tuf_fx_make();
        char rel[ST_HASH_HEX + 32], ah[ST_HASH_HEX];
        assert_in_repo("root/1.json");
        assert_in_repo("timestamp.json");
        assert_in_repo("snapshot/2.json");
        assert_in_repo("targets/2.json");
        snprintf(rel, sizeof rel, "packages/%s.pkg", tuf_fx.pkg_hash);
        assert_in_repo(rel);
        st_hash_bytes("hello archive bytes", strlen("hello archive bytes"), ah);
        snprintf(rel, sizeof rel, "archives/%s.tar.zst", ah);
        assert_in_repo(rel);
        size_t ts_len;
        char *ts_before = tuf_read(tuf_fx.repo, "timestamp.json", &ts_len);

        struct st_repo_keys keys = tuf_std_keys();
        char path[PATH_MAX], apath[PATH_MAX * 2];
        /* The same version with other bytes: clients that saw one must
         * never be shown another. */
        tuf_build_pkg("hello", "1.0", "other bytes", SIGNERS(K_TG), path, NULL);
        add_refused(path, &keys, "hello@1.0 is already published as ", ": File exists");
        /* An archive whose bytes are not the ones the manifest names. */
        tuf_build_pkg("hello", "3.0", "three", SIGNERS(K_TG), path, NULL);
        st_hash_bytes("three", 5, ah);
        snprintf(apath, sizeof apath, "%s/archives/%s.tar.zst", tuf_fx.build, ah);
        char want[256];
        snprintf(want, sizeof want, ", the manifest says %s", ah);
        tuf_write(tuf_fx.build, apath + strlen(tuf_fx.build) + 1, "THREE", 5);
        add_refused(path, &keys, "archive `", want);
        tuf_write(tuf_fx.build, apath + strlen(tuf_fx.build) + 1, "three and more", 14);
        add_refused(path, &keys, "archive `", ": longer than the 5 bytes the manifest says");
        tuf_write(tuf_fx.build, apath + strlen(tuf_fx.build) + 1, "thr", 3);
        add_refused(path, &keys, "archive `", ": 3 bytes, the manifest says 5");
        unlink(apath);
        add_refused(path, &keys, "archive `", ": No such file or directory");
        /* A key that is not the role's. */
        tuf_build_pkg("hello", "4.0", "four", SIGNERS(K_TG), path, NULL);
        struct st_repo_keys wrong =
            tuf_repo_keys(SIGNERS(K_R0), SIGNERS(K_SN), SIGNERS(K_SN), SIGNERS(K_TS));
        snprintf(want, sizeof want, "targets: key %s is not one of its keys", tuf_hex[K_SN]);
        add_refused(path, &wrong, want, NULL);
        size_t len;
        char *ts_after = tuf_read(tuf_fx.repo, "timestamp.json", &len);
        assert_true(len == ts_len && memcmp(ts_before, ts_after, len) == 0);
        free(ts_before);
        free(ts_after);

        /* Adding the same package again is no change to its entry. */
        keys = tuf_std_keys();
        const char *pkgs[] = {tuf_fx.pkg_path};
        struct sl_error err = {0};
        tuf_build_pkg("hello", "1.0", "hello archive bytes", SIGNERS(K_TG), path, NULL);
        if (st_repo_add(tuf_fx.repo, pkgs, 1, LATER, &keys, &err) < 0)
                fail_msg("%s", err.msg);

        struct st_role bad = tuf_role(0, SIGNERS(K_PK));
        assert_int_equal(st_repo_set_signers(tuf_fx.repo, "hello", &bad, LATER, &keys, &err), -1);
        assert_string_equal(err.msg, "targets: signers.hello.threshold: must be at least 1");
        assert_int_equal(st_repo_set_signers(tuf_fx.repo, "a b", &bad, LATER, &keys, &err), -1);
        assert_non_null(strstr(err.msg, "signers: `a b` is not a package name"));

        struct st_repo_init init = {
            .roles = {tuf_role(2, SIGNERS(K_R0)), tuf_role(1, SIGNERS(K_TG)),
                      tuf_role(1, SIGNERS(K_SN)), tuf_role(1, SIGNERS(K_TS))},
            .expires = LATER,
        };
        snprintf(path, sizeof path, "%s/other", tuf_fx.base);
        assert_int_equal(st_repo_init(path, &init, &keys, &err), -1);
        assert_string_equal(err.msg, "root 1: roles.root.threshold: 2 is more than the 1 keys");
        assert_int_equal(access(path, F_OK), -1);
        init.roles[0].threshold = 1;
        assert_int_equal(st_repo_init(tuf_fx.repo, &init, &keys, &err), -1);
        assert_non_null(strstr(err.msg, "Directory not empty"));
        tuf_fx_destroy();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_refresh_then_verify_package),
            cmocka_unit_test(test_missing_trusted_root_is_refused),
            cmocka_unit_test(test_each_attack_is_refused_and_trust_stays_as_it_was),
            cmocka_unit_test(test_root_rotation_k_of_n_is_followed),
            cmocka_unit_test(test_fast_forward_then_recovery_by_rotation),
            cmocka_unit_test(test_package_checks_follow_targets_and_signers),
            cmocka_unit_test(test_writer_layout_and_refusals),
        };
        return cmocka_run_group_tests(tests, tuf_keys_make, tuf_fx_teardown);
}
