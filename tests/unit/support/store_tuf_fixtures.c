/* Fixtures for test_store_tuf.c: see store_tuf_fixtures.h. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/tuf_meta.h"
#include "store_tuf_fixtures.h"

uint8_t tuf_pk[K_N][ST_PK_BYTES];
uint8_t tuf_sk[K_N][ST_SK_BYTES];
char tuf_hex[K_N][2 * ST_PK_BYTES + 1];
struct tuf_fx tuf_fx;

/* Storage for roles and key lists handed to the writer. */
#define POOL 256
static struct st_key key_pool[POOL];
static size_t key_pool_used;
static uint8_t sk_pool[4][K_N][ST_SK_BYTES];

int tuf_keys_make(void **state)
{
        (void)state;
        for (int i = 0; i < K_N; i++) {
                if (st_key_gen(tuf_pk[i], tuf_sk[i], NULL) < 0)
                        return -1;
                st_hex_encode(tuf_pk[i], ST_PK_BYTES, tuf_hex[i]);
        }
        return 0;
}

/* Like the real fetcher: a missing file is ENOENT, more than max_bytes is
 * refused without returning the bytes. */
static int dir_fetch(void *ctx, const char *rel, uint64_t max_bytes, struct st_buf *out,
                     struct sl_error *err)
{
        int dirfd = open(ctx, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return sl_error_errno(err, "open `%s`", (const char *)ctx);
        int r = st_read_file_at(dirfd, rel, max_bytes, out, err);
        close(dirfd);
        if (r < 0 && err->code == EFBIG) {
                sl_error_set(err, 0, "fetch `%s`: more than %llu bytes (size cap)", rel,
                             (unsigned long long)max_bytes);
                err->code = EFBIG;
        }
        return r;
}

struct st_repo_keys tuf_repo_keys(const int *root, const int *targets, const int *snapshot,
                                  const int *timestamp)
{
        const int *lists[4] = {root, targets, snapshot, timestamp};
        size_t n[4] = {0};
        for (int r = 0; r < 4; r++)
                for (; lists[r][n[r]] >= 0; n[r]++)
                        memcpy(sk_pool[r][n[r]], tuf_sk[lists[r][n[r]]], ST_SK_BYTES);
        return (struct st_repo_keys){
            .root = (const uint8_t(*)[ST_SK_BYTES])sk_pool[0],
            .n_root = n[0],
            .targets = (const uint8_t(*)[ST_SK_BYTES])sk_pool[1],
            .n_targets = n[1],
            .snapshot = (const uint8_t(*)[ST_SK_BYTES])sk_pool[2],
            .n_snapshot = n[2],
            .timestamp = (const uint8_t(*)[ST_SK_BYTES])sk_pool[3],
            .n_timestamp = n[3],
        };
}

struct st_repo_keys tuf_std_keys(void)
{
        return tuf_repo_keys(SIGNERS(K_R0), SIGNERS(K_TG), SIGNERS(K_SN), SIGNERS(K_TS));
}

struct st_role tuf_role(unsigned threshold, const int *keys)
{
        struct st_role r = {.keys = &key_pool[key_pool_used], .threshold = threshold};
        for (; keys[r.n_keys] >= 0; r.n_keys++) {
                assert_true(key_pool_used < POOL);
                struct st_key *k = &key_pool[key_pool_used++];
                memset(k, 0, sizeof *k);
                memcpy(k->pk, tuf_pk[keys[r.n_keys]], ST_PK_BYTES);
        }
        return r;
}

char *tuf_read(const char *dir, const char *rel, size_t *len)
{
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        struct st_buf b = {0};
        struct sl_error err = {0};
        if (st_read_file(path, 64 << 20, &b, &err) < 0)
                fail_msg("%s", err.msg);
        if (len)
                *len = b.len;
        return (char *)b.data;
}

void tuf_write(const char *dir, const char *rel, const void *data, size_t len)
{
        char path[PATH_MAX * 2];
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        /* Plain writes: the test needs no durability, and fsync on a real
         * disk would make it slow. */
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, len), (ssize_t)len);
        close(fd);
}

static void hash_of(const void *data, size_t len, char out[ST_HASH_HEX])
{
        st_hash_bytes(data, len, out);
}

void tuf_build_pkg(const char *name, const char *version, const char *archive, const int *signers,
                   char path[PATH_MAX], char hash[ST_HASH_HEX])
{
        char ah[ST_HASH_HEX], rel[ST_HASH_HEX + 32], manifest[512];
        hash_of(archive, strlen(archive), ah);
        snprintf(rel, sizeof rel, "archives/%s.tar.zst", ah);
        tuf_write(tuf_fx.build, rel, archive, strlen(archive));
        snprintf(manifest, sizeof manifest,
                 "{\"name\": \"%s\", \"version\": \"%s\", \"archives\": [{\"hash\": \"%s\", "
                 "\"size\": %zu}], \"dependencies\": []}",
                 name, version, ah, strlen(archive));
        struct st_envelope env = {0};
        assert_int_equal(st_buf_set(&env.signed_bytes, manifest, strlen(manifest), NULL), 0);
        for (size_t i = 0; signers[i] >= 0; i++)
                assert_int_equal(st_envelope_sign(&env, tuf_sk[signers[i]], NULL), 0);
        char *text = st_envelope_encode(&env, NULL);
        assert_non_null(text);
        snprintf(rel, sizeof rel, "%s@%s.pkg", name, version);
        tuf_write(tuf_fx.build, rel, text, strlen(text));
        snprintf(path, PATH_MAX, "%s/%s", tuf_fx.build, rel);
        if (hash)
                hash_of(text, strlen(text), hash);
        free(text);
        st_envelope_free(&env);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

void tuf_fx_make(void)
{
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        tuf_fx_destroy(); /* what a failed test left behind */
        memset(&tuf_fx, 0, sizeof tuf_fx);
        key_pool_used = 0;
        snprintf(tuf_fx.base, sizeof tuf_fx.base, "%s/test_store_tuf.XXXXXX", tmp);
        assert_non_null(mkdtemp(tuf_fx.base));
        snprintf(tuf_fx.repo, sizeof tuf_fx.repo, "%s/repo", tuf_fx.base);
        snprintf(tuf_fx.trust, sizeof tuf_fx.trust, "%s/trust", tuf_fx.base);
        snprintf(tuf_fx.build, sizeof tuf_fx.build, "%s/build", tuf_fx.base);
        char archives[PATH_MAX];
        snprintf(archives, sizeof archives, "%s/archives", tuf_fx.build);
        assert_int_equal(mkdir(tuf_fx.trust, 0700), 0);
        assert_int_equal(mkdir(tuf_fx.build, 0755), 0);
        assert_int_equal(mkdir(archives, 0755), 0);

        struct st_repo_init init = {
            .roles = {tuf_role(1, SIGNERS(K_R0)), tuf_role(1, SIGNERS(K_TG)),
                      tuf_role(1, SIGNERS(K_SN)), tuf_role(1, SIGNERS(K_TS))},
            .expires = TUF_NOW + TUF_YEAR,
        };
        struct st_repo_keys keys = tuf_std_keys();
        struct sl_error err = {0};
        if (st_repo_init(tuf_fx.repo, &init, &keys, &err) < 0)
                fail_msg("init: %s", err.msg);
        tuf_build_pkg("hello", "1.0", "hello archive bytes", SIGNERS(K_TG), tuf_fx.pkg_path,
                      tuf_fx.pkg_hash);
        const char *pkgs[] = {tuf_fx.pkg_path};
        if (st_repo_add(tuf_fx.repo, pkgs, 1, TUF_NOW + TUF_YEAR, &keys, &err) < 0)
                fail_msg("add: %s", err.msg);
        size_t len;
        char *root = tuf_read(tuf_fx.repo, "root/1.json", &len);
        tuf_write(tuf_fx.trust, "root.json", root, len);
        free(root);
        tuf_fx.fetcher = (struct st_tuf_fetcher){.fetch = dir_fetch, .ctx = tuf_fx.repo};
}

int tuf_fx_teardown(void **state)
{
        (void)state;
        tuf_fx_destroy();
        return 0;
}

void tuf_fx_destroy(void)
{
        if (tuf_fx.base[0])
                nftw(tuf_fx.base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        tuf_fx.base[0] = 0;
}

void tuf_put_signed(const char *rel, const char *text, const int *signers)
{
        /* Built by hand, not with st_envelope_sign: a test may want one key
         * to sign twice. */
        struct st_envelope env = {0};
        assert_int_equal(st_buf_set(&env.signed_bytes, text, strlen(text), NULL), 0);
        size_t n = 0;
        while (signers[n] >= 0)
                n++;
        env.sigs = calloc(n + 1, sizeof *env.sigs);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(
                    st_sign(text, strlen(text), tuf_sk[signers[i]], &env.sigs[i], NULL), 0);
        env.n_sigs = n;
        char *file = st_envelope_encode(&env, NULL);
        assert_non_null(file);
        tuf_write(tuf_fx.repo, rel, file, strlen(file));
        free(file);
        st_envelope_free(&env);
}

void tuf_ref(const char *rel, uint64_t version, char *out, size_t cap)
{
        size_t len;
        char *data = tuf_read(tuf_fx.repo, rel, &len);
        char h[ST_HASH_HEX];
        hash_of(data, len, h);
        free(data);
        snprintf(out, cap, "{\"version\": %llu, \"length\": %zu, \"hash\": \"%s\"}",
                 (unsigned long long)version, len, h);
}

static const char *when(time_t t, char buf[ST_TIME_STR])
{
        st_time_format(t, buf);
        return buf;
}

void tuf_put_timestamp(uint64_t v, time_t expires, uint64_t snap_v, const char *snap_rel,
                       const int *signers)
{
        char ref[256], text[512], w[ST_TIME_STR];
        tuf_ref(snap_rel, snap_v, ref, sizeof ref);
        snprintf(text, sizeof text,
                 "{\"type\": \"timestamp\", \"version\": %llu, \"expires\": \"%s\", "
                 "\"snapshot\": %s}",
                 (unsigned long long)v, when(expires, w), ref);
        tuf_put_signed("timestamp.json", text, signers);
}

void tuf_put_snapshot(uint64_t v, time_t expires, uint64_t targets_v, const char *targets_rel,
                      const int *signers)
{
        char ref[256], text[512], w[ST_TIME_STR], rel[64];
        tuf_ref(targets_rel, targets_v, ref, sizeof ref);
        snprintf(text, sizeof text,
                 "{\"type\": \"snapshot\", \"version\": %llu, \"expires\": \"%s\", "
                 "\"targets\": %s}",
                 (unsigned long long)v, when(expires, w), ref);
        snprintf(rel, sizeof rel, "snapshot/%llu.json", (unsigned long long)v);
        tuf_put_signed(rel, text, signers);
}

void tuf_put_targets(uint64_t v, time_t expires, const char *body, const int *signers)
{
        char text[4096], w[ST_TIME_STR], rel[64];
        snprintf(text, sizeof text,
                 "{\"type\": \"targets\", \"version\": %llu, \"expires\": \"%s\", %s}",
                 (unsigned long long)v, when(expires, w), body);
        snprintf(rel, sizeof rel, "targets/%llu.json", (unsigned long long)v);
        tuf_put_signed(rel, text, signers);
}

void tuf_role_json(char *out, size_t cap, unsigned threshold, const int *keys)
{
        size_t n = (size_t)snprintf(out, cap, "{\"keys\": [");
        for (size_t i = 0; keys[i] >= 0; i++)
                n +=
                    (size_t)snprintf(out + n, cap - n, "%s\"%s\"", i ? ", " : "", tuf_hex[keys[i]]);
        snprintf(out + n, cap - n, "], \"threshold\": %u}", threshold);
}

void tuf_roles_json(char *out, size_t cap, const char *root, const char *targets,
                    const char *snapshot, const char *timestamp)
{
        snprintf(out, cap, "\"root\": %s, \"targets\": %s, \"snapshot\": %s, \"timestamp\": %s",
                 root, targets, snapshot, timestamp);
}

void tuf_put_root(uint64_t file_v, uint64_t doc_v, time_t expires, const char *roles,
                  const char *revoked, const int *signers)
{
        char text[8192], w[ST_TIME_STR], rel[64], rev[1024] = "";
        if (revoked)
                snprintf(rev, sizeof rev, ", \"revoked\": %s", revoked);
        snprintf(text, sizeof text,
                 "{\"type\": \"root\", \"version\": %llu, \"expires\": \"%s\", "
                 "\"roles\": {%s}%s}",
                 (unsigned long long)doc_v, when(expires, w), roles, rev);
        snprintf(rel, sizeof rel, "root/%llu.json", (unsigned long long)file_v);
        tuf_put_signed(rel, text, signers);
}

uint64_t tuf_trusted_version(const char *name)
{
        size_t len;
        char *file = tuf_read(tuf_fx.trust, name, &len);
        struct st_envelope env;
        struct sl_error err = {0};
        assert_int_equal(st_envelope_parse(file, len, &env, &err), 0);
        free(file);
        /* Every role document has "version" at the top: read it with the
         * parser of the role the file is named after. */
        uint64_t v = 0;
        const struct st_buf *b = &env.signed_bytes;
        if (strcmp(name, "timestamp.json") == 0) {
                struct st_timestamp t;
                assert_int_equal(st_timestamp_parse(b->data, b->len, name, &t, &err), 0);
                v = t.version;
        } else if (strcmp(name, "snapshot.json") == 0) {
                struct st_snapshot s;
                assert_int_equal(st_snapshot_parse(b->data, b->len, name, &s, &err), 0);
                v = s.version;
        } else if (strcmp(name, "targets.json") == 0) {
                struct st_targets t;
                assert_int_equal(st_targets_parse(b->data, b->len, name, NULL, &t, &err), 0);
                v = t.version;
                st_targets_free(&t);
        } else {
                struct st_root r;
                assert_int_equal(st_root_parse(b->data, b->len, name, &r, &err), 0);
                v = r.version;
                st_root_free(&r);
        }
        st_envelope_free(&env);
        return v;
}

int tuf_refresh(time_t now, struct st_targets *out, struct sl_error *err)
{
        struct st_targets t;
        int r = st_tuf_refresh(tuf_fx.trust, &tuf_fx.fetcher, now, out ? out : &t, err);
        if (!out)
                st_targets_free(&t);
        return r;
}

void tuf_refresh_ok(time_t now)
{
        struct sl_error err = {0};
        if (tuf_refresh(now, NULL, &err) < 0)
                fail_msg("refresh refused: %s", err.msg);
}

/* Every file of trust/ with its bytes, for a before/after comparison. */
struct trust_copy {
        char names[16][64];
        char *data[16];
        size_t len[16];
        size_t n;
};

static void trust_save(struct trust_copy *c)
{
        static const char *const files[] = {"root.json", "timestamp.json", "snapshot.json",
                                            "targets.json"};
        memset(c, 0, sizeof *c);
        for (size_t i = 0; i < 4; i++) {
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%s/%s", tuf_fx.trust, files[i]);
                if (access(path, F_OK) < 0)
                        continue;
                snprintf(c->names[c->n], sizeof c->names[0], "%s", files[i]);
                c->data[c->n] = tuf_read(tuf_fx.trust, files[i], &c->len[c->n]);
                c->n++;
        }
}

static size_t trust_entries(void)
{
        size_t n = 0;
        struct dirent *e;
        DIR *d = opendir(tuf_fx.trust);
        assert_non_null(d);
        while ((e = readdir(d)))
                n += e->d_name[0] != '.';
        closedir(d);
        return n;
}

static void trust_assert_same(struct trust_copy *c)
{
        assert_int_equal(trust_entries(), c->n);
        for (size_t i = 0; i < c->n; i++) {
                size_t len;
                char *now = tuf_read(tuf_fx.trust, c->names[i], &len);
                if (len != c->len[i] || memcmp(now, c->data[i], len) != 0)
                        fail_msg("trust/%s changed by a refused refresh", c->names[i]);
                free(now);
                free(c->data[i]);
        }
}

void tuf_refresh_refused(time_t now, const char *want)
{
        struct trust_copy before;
        trust_save(&before);
        struct sl_error err = {0};
        if (tuf_refresh(now, NULL, &err) == 0)
                fail_msg("refresh accepted, wanted: %s", want);
        if (!strstr(err.msg, want))
                fail_msg("\n  got  %s\n  want %s", err.msg, want);
        trust_assert_same(&before);
}
