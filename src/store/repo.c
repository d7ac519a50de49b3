/* The writer side of a repository (docs/store.md, "Repository layout"):
 * slicectl repo init/add and key rotation publish into a folder that is
 * then served over file:// or HTTP(S).
 *
 * Order matters to readers fetching while we write: content-addressed files
 * (archives, packages) first, then the new versioned documents (root,
 * targets, snapshot), and timestamp.json, the only file rewritten in
 * place, last, so a reader never sees a timestamp naming files not there
 * yet. Every document is signed and re-parsed by the reader's own parser
 * before the first byte is written, so a repository no client would accept
 * is refused here instead. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/tuf_meta.h"

/* The repository as it is now: the latest root, the versions of the
 * other documents and the targets document to extend. */
struct st_repo {
        int dirfd;
        char dir[PATH_MAX];
        struct st_root root;
        uint64_t ts_version, snap_version, targets_version;
        json_t *targets; /* the current targets document */
};

static void st_repo_close(struct st_repo *r)
{
        if (r->dirfd >= 0)
                close(r->dirfd);
        r->dirfd = -1;
        st_root_free(&r->root);
        json_decref(r->targets);
        r->targets = NULL;
}

/* Read and split rel; the writer trusts its own folder's signatures (the
 * readers check them) but parses each document strictly all the same. */
static int st_repo_read(struct st_repo *r, const char *rel, size_t cap, struct st_envelope *env,
                        struct sl_error *err)
{
        struct st_buf b = {0};
        int rc = st_read_file_at(r->dirfd, rel, cap, &b, err);
        if (rc == 0 && st_envelope_parse(b.data, b.len, env, err) < 0)
                rc = sl_error_prefix(err, "`%s`", rel);
        st_buf_free(&b);
        return rc;
}

static int st_repo_load_root(struct st_repo *r, struct sl_error *err)
{
        char rel[48];
        uint64_t n = 0;
        /* The latest root is the last of the chain root/1.json, 2, ... */
        for (;;) {
                snprintf(rel, sizeof rel, "root/%llu.json", (unsigned long long)n + 1);
                if (faccessat(r->dirfd, rel, F_OK, 0) < 0)
                        break;
                n++;
        }
        if (n == 0)
                return sl_error_set(err, ENOENT, "no root/1.json: not a repository");
        snprintf(rel, sizeof rel, "root/%llu.json", (unsigned long long)n);
        struct st_envelope env;
        if (st_repo_read(r, rel, ST_TUF_ROOT_MAX, &env, err) < 0)
                return -1;
        int rc = st_root_parse(env.signed_bytes.data, env.signed_bytes.len, rel, &r->root, err);
        st_envelope_free(&env);
        if (rc == 0 && r->root.version != n)
                rc = sl_error_set(err, 0, "`%s`: says version %llu", rel,
                                  (unsigned long long)r->root.version);
        return rc;
}

static int st_repo_load(struct st_repo *r, const char *dir, struct sl_error *err)
{
        memset(r, 0, sizeof *r);
        r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r->dirfd < 0)
                return sl_error_errno(err, "repository `%s`", dir);
        snprintf(r->dir, sizeof r->dir, "%s", dir);
        if (st_repo_load_root(r, err) < 0)
                return -1;
        struct st_envelope env;
        struct st_timestamp ts;
        if (st_repo_read(r, "timestamp.json", ST_TUF_TIMESTAMP_MAX, &env, err) < 0)
                return -1;
        int rc =
            st_timestamp_parse(env.signed_bytes.data, env.signed_bytes.len, "timestamp", &ts, err);
        st_envelope_free(&env);
        if (rc < 0)
                return -1;
        r->ts_version = ts.version;
        r->snap_version = ts.snapshot.version;
        char rel[48];
        snprintf(rel, sizeof rel, "snapshot/%llu.json", (unsigned long long)r->snap_version);
        struct st_snapshot snap;
        if (st_repo_read(r, rel, ST_TUF_META_MAX, &env, err) < 0)
                return -1;
        rc = st_snapshot_parse(env.signed_bytes.data, env.signed_bytes.len, "snapshot", &snap, err);
        st_envelope_free(&env);
        if (rc < 0)
                return -1;
        r->targets_version = snap.targets.version;
        snprintf(rel, sizeof rel, "targets/%llu.json", (unsigned long long)r->targets_version);
        if (st_repo_read(r, rel, ST_TUF_META_MAX, &env, err) < 0)
                return -1;
        struct st_targets t;
        rc =
            st_targets_parse(env.signed_bytes.data, env.signed_bytes.len, "targets", NULL, &t, err);
        st_targets_free(&t);
        if (rc == 0 && !(r->targets = st_json_parse(env.signed_bytes.data, env.signed_bytes.len,
                                                    "targets", err)))
                rc = -1;
        st_envelope_free(&env);
        return rc;
}

/* ---- documents ---- */

static json_t *st_key_json(const struct st_key *k)
{
        char hex[2 * ST_PK_BYTES + 1], when[ST_TIME_STR];
        st_hex_encode(k->pk, ST_PK_BYTES, hex);
        if (!k->expires)
                return json_string(hex);
        st_time_format(k->expires, when);
        return json_pack("{s:s,s:s}", "public", hex, "expires", when);
}

static json_t *st_role_json(const struct st_role *role)
{
        json_t *keys = json_array();
        for (size_t i = 0; keys && i < role->n_keys; i++)
                if (json_array_append_new(keys, st_key_json(&role->keys[i])) < 0) {
                        json_decref(keys);
                        return NULL;
                }
        return keys ? json_pack("{s:o,s:I}", "keys", keys, "threshold", (json_int_t)role->threshold)
                    : NULL;
}

static json_t *st_header_json(const char *type, uint64_t version, time_t expires)
{
        char when[ST_TIME_STR];
        st_time_format(expires, when);
        return json_pack("{s:s,s:I,s:s}", "type", type, "version", (json_int_t)version, "expires",
                         when);
}

/* What the referring document says of a file: version, length, hash. */
static json_t *st_ref_json(uint64_t version, const char *file_text)
{
        char h[ST_HASH_HEX];
        st_hash_bytes(file_text, strlen(file_text), h);
        return json_pack("{s:I,s:I,s:s}", "version", (json_int_t)version, "length",
                         (json_int_t)strlen(file_text), "hash", h);
}

/* Root's revoked list: the previous root's, plus keys flagged revoked. */
static json_t *st_revoked_json(const struct st_root *prev, const struct st_role *roles)
{
        json_t *a = json_array();
        char hex[2 * ST_PK_BYTES + 1];
        for (size_t i = 0; a && prev && i < prev->n_revoked; i++) {
                st_hex_encode(prev->revoked[i], ST_PK_BYTES, hex);
                json_array_append_new(a, json_string(hex));
        }
        for (int r = 0; a && r < ST_TUF_N_ROLES; r++) {
                for (size_t i = 0; i < roles[r].n_keys; i++) {
                        if (!roles[r].keys[i].revoked)
                                continue;
                        st_hex_encode(roles[r].keys[i].pk, ST_PK_BYTES, hex);
                        size_t j;
                        json_t *v;
                        int seen = 0;
                        json_array_foreach(a, j, v) seen |= strcmp(json_string_value(v), hex) == 0;
                        if (!seen)
                                json_array_append_new(a, json_string(hex));
                }
        }
        return a;
}

static json_t *st_root_json(uint64_t version, const struct st_repo_init *init,
                            const struct st_root *prev)
{
        json_t *doc = st_header_json("root", version, init->expires);
        json_t *roles = json_object();
        if (!doc || !roles || json_object_set_new(doc, "roles", roles) < 0) {
                json_decref(doc);
                return NULL;
        }
        for (int i = 0; i < ST_TUF_N_ROLES; i++)
                if (json_object_set_new(roles, st_tuf_role_names[i],
                                        st_role_json(&init->roles[i])) < 0) {
                        json_decref(doc);
                        return NULL;
                }
        if (json_object_set_new(doc, "revoked", st_revoked_json(prev, init->roles)) < 0) {
                json_decref(doc);
                return NULL;
        }
        return doc;
}

/* ---- signing ---- */

/* The keys given must belong to a role listed (a wrong key is a mistake to
 * report, not to publish) and reach every listed role's threshold, counted
 * as the reader counts: distinct keys, revoked ones not at all. Expiry is
 * the reader's to judge at its own `now`. */
static int st_check_keys(const char *label, const struct st_role *const *roles, size_t n_roles,
                         const uint8_t (*sks)[ST_SK_BYTES], size_t n, struct sl_error *err)
{
        _cleanup_free_ uint8_t(*pks)[ST_PK_BYTES] = calloc(n + 1, ST_PK_BYTES);
        if (!pks)
                return sl_error_set(err, ENOMEM, "%s", label);
        for (size_t i = 0; i < n; i++) {
                crypto_sign_ed25519_sk_to_pk(pks[i], sks[i]);
                int member = 0;
                for (size_t r = 0; r < n_roles; r++)
                        for (size_t k = 0; k < roles[r]->n_keys; k++)
                                member |= memcmp(roles[r]->keys[k].pk, pks[i], ST_PK_BYTES) == 0;
                if (!member) {
                        char hex[2 * ST_PK_BYTES + 1];
                        st_hex_encode(pks[i], ST_PK_BYTES, hex);
                        return sl_error_set(err, 0, "%s: key %s is not one of its keys", label,
                                            hex);
                }
        }
        for (size_t r = 0; r < n_roles; r++) {
                unsigned good = 0;
                for (size_t k = 0; k < roles[r]->n_keys; k++) {
                        if (roles[r]->keys[k].revoked)
                                continue;
                        for (size_t i = 0; i < n; i++)
                                if (memcmp(roles[r]->keys[k].pk, pks[i], ST_PK_BYTES) == 0) {
                                        good++;
                                        break;
                                }
                }
                if (good < roles[r]->threshold)
                        return sl_error_set(err, 0, "%s: %u of its keys given, %u needed", label,
                                            good, roles[r]->threshold);
        }
        return 0;
}

/* Parse the document as a reader would: what we cannot read back, nobody
 * can. */
static int st_read_back(enum st_tuf_role_id role, const char *text, const char *label,
                        struct sl_error *err)
{
        size_t len = strlen(text);
        switch (role) {
        case ST_TUF_ROOT: {
                struct st_root r;
                int rc = st_root_parse(text, len, label, &r, err);
                st_root_free(&r);
                return rc;
        }
        case ST_TUF_TARGETS: {
                struct st_targets t;
                int rc = st_targets_parse(text, len, label, NULL, &t, err);
                st_targets_free(&t);
                return rc;
        }
        case ST_TUF_SNAPSHOT: {
                struct st_snapshot s;
                return st_snapshot_parse(text, len, label, &s, err);
        }
        case ST_TUF_TIMESTAMP: {
                struct st_timestamp t;
                return st_timestamp_parse(text, len, label, &t, err);
        }
        default: return sl_error_set(err, EINVAL, "%s: no such role", label);
        }
}

/* doc → its exact bytes, read back, signed: the envelope file's text. */
static char *st_sign_doc(json_t *doc, enum st_tuf_role_id role, const char *label,
                         const struct st_role *const *roles, size_t n_roles,
                         const uint8_t (*sks)[ST_SK_BYTES], size_t n, struct sl_error *err)
{
        if (!doc) {
                sl_error_set(err, ENOMEM, "%s", label);
                return NULL;
        }
        /* These bytes are the document from now on: signed and verified as
         * they are, never produced again. */
        _cleanup_free_ char *text = json_dumps(doc, JSON_PRESERVE_ORDER | JSON_INDENT(1));
        if (!text) {
                sl_error_set(err, ENOMEM, "%s", label);
                return NULL;
        }
        if (st_read_back(role, text, label, err) < 0 ||
            st_check_keys(label, roles, n_roles, sks, n, err) < 0)
                return NULL;
        struct st_envelope env = {0};
        char *out = NULL;
        if (st_buf_set(&env.signed_bytes, text, strlen(text), err) == 0) {
                size_t i = 0;
                while (i < n && st_envelope_sign(&env, sks[i], err) == 0)
                        i++;
                if (i == n)
                        out = st_envelope_encode(&env, err);
        }
        st_envelope_free(&env);
        return out;
}

/* ---- publishing ---- */

/* New documents to write, in this order; NULL = unchanged. */
struct st_publish {
        char *root, *targets, *snapshot, *timestamp;
};

static void st_publish_free(struct st_publish *p)
{
        free(p->root);
        free(p->targets);
        free(p->snapshot);
        free(p->timestamp);
}

/* Sign r->targets as the next version (when new_targets), then snapshot
 * and timestamp naming the targets, each checked against root's roles. */
static int st_prepare(struct st_repo *r, const struct st_root *root, time_t expires,
                      const struct st_repo_keys *keys, int new_targets, struct st_publish *p,
                      struct sl_error *err)
{
        const struct st_role *role;
        uint64_t tv = r->targets_version;
        _cleanup_free_ char *cur_targets = NULL;
        if (new_targets) {
                role = &root->roles[ST_TUF_TARGETS];
                tv = r->targets_version + 1;
                json_object_set_new(r->targets, "version", json_integer((json_int_t)tv));
                char when[ST_TIME_STR];
                st_time_format(expires, when);
                json_object_set_new(r->targets, "expires", json_string(when));
                p->targets = st_sign_doc(r->targets, ST_TUF_TARGETS, "targets", &role, 1,
                                         keys->targets, keys->n_targets, err);
                if (!p->targets)
                        return -1;
        }
        const char *targets_file = p->targets;
        if (!targets_file) {
                /* Unchanged targets: the snapshot names the file as it is. */
                char rel[48];
                struct st_buf b = {0};
                snprintf(rel, sizeof rel, "targets/%llu.json", (unsigned long long)tv);
                if (st_read_file_at(r->dirfd, rel, ST_TUF_META_MAX, &b, err) < 0)
                        return -1;
                cur_targets = (char *)b.data;
                targets_file = cur_targets;
        }
        json_t *snap = st_header_json("snapshot", r->snap_version + 1, expires);
        if (snap)
                json_object_set_new(snap, "targets", st_ref_json(tv, targets_file));
        role = &root->roles[ST_TUF_SNAPSHOT];
        p->snapshot = st_sign_doc(snap, ST_TUF_SNAPSHOT, "snapshot", &role, 1, keys->snapshot,
                                  keys->n_snapshot, err);
        json_decref(snap);
        if (!p->snapshot)
                return -1;
        json_t *ts = st_header_json("timestamp", r->ts_version + 1, expires);
        if (ts)
                json_object_set_new(ts, "snapshot", st_ref_json(r->snap_version + 1, p->snapshot));
        role = &root->roles[ST_TUF_TIMESTAMP];
        p->timestamp = st_sign_doc(ts, ST_TUF_TIMESTAMP, "timestamp", &role, 1, keys->timestamp,
                                   keys->n_timestamp, err);
        json_decref(ts);
        return p->timestamp ? 0 : -1;
}

static int st_put(struct st_repo *r, const char *rel, const char *text, struct sl_error *err)
{
        if (st_write_atomic_at(r->dirfd, rel, text, strlen(text), 0644, err) < 0)
                return sl_error_prefix(err, "repository `%s`", r->dir);
        return 0;
}

/* Root, targets, snapshot, then timestamp: see the top of this file. */
static int st_commit(struct st_repo *r, const struct st_publish *p, struct sl_error *err)
{
        char rel[48];
        if (p->root) {
                snprintf(rel, sizeof rel, "root/%llu.json",
                         (unsigned long long)r->root.version + 1);
                if (st_put(r, rel, p->root, err) < 0)
                        return -1;
        }
        if (p->targets) {
                snprintf(rel, sizeof rel, "targets/%llu.json",
                         (unsigned long long)r->targets_version + 1);
                if (st_put(r, rel, p->targets, err) < 0)
                        return -1;
        }
        snprintf(rel, sizeof rel, "snapshot/%llu.json", (unsigned long long)r->snap_version + 1);
        if (st_put(r, rel, p->snapshot, err) < 0)
                return -1;
        return st_put(r, "timestamp.json", p->timestamp, err);
}

/* Republish with a changed targets document. */
static int st_republish(struct st_repo *r, time_t expires, const struct st_repo_keys *keys,
                        struct sl_error *err)
{
        struct st_publish p = {0};
        int rc = st_prepare(r, &r->root, expires, keys, 1, &p, err);
        if (rc == 0)
                rc = st_commit(r, &p, err);
        st_publish_free(&p);
        return rc;
}

static int st_mkdir_empty(const char *dir, struct sl_error *err)
{
        if (mkdir(dir, 0755) == 0)
                return 0;
        if (errno != EEXIST)
                return sl_error_errno(err, "create repository `%s`", dir);
        DIR *d = opendir(dir);
        if (!d)
                return sl_error_errno(err, "repository `%s`", dir);
        struct dirent *e;
        int empty = 1;
        while ((e = readdir(d)))
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        empty = 0;
        closedir(d);
        if (!empty)
                return sl_error_set(err, ENOTEMPTY, "repository `%s`", dir);
        return 0;
}

int st_repo_init(const char *dir, const struct st_repo_init *init, const struct st_repo_keys *keys,
                 struct sl_error *err)
{
        static const char *const subdirs[] = {"root", "targets", "snapshot", "packages",
                                              "archives"};
        /* Sign everything in memory first: a wrong key leaves no repository
         * half made. */
        const struct st_role *role = &init->roles[ST_TUF_ROOT];
        json_t *doc = st_root_json(1, init, NULL);
        _cleanup_free_ char *root =
            st_sign_doc(doc, ST_TUF_ROOT, "root 1", &role, 1, keys->root, keys->n_root, err);
        json_decref(doc);
        if (!root)
                return -1;
        struct st_repo r = {.dirfd = -1, .targets_version = 0, .snap_version = 0};
        struct st_publish p = {0};
        int rc = -1;
        r.targets = st_header_json("targets", 1, init->expires);
        json_t *signers = json_object();
        struct st_role any = init->roles[ST_TUF_TARGETS];
        any.threshold = 1;
        if (!r.targets || !signers || json_object_set_new(signers, "*", st_role_json(&any)) < 0 ||
            json_object_set_new(r.targets, "signers", signers) < 0 ||
            json_object_set_new(r.targets, "packages", json_object()) < 0) {
                sl_error_set(err, ENOMEM, "targets");
                goto out;
        }
        /* st_prepare numbers from the current versions, 0 here, and needs
         * only the roles of the root it signs for. */
        struct st_root first = {0};
        memcpy(first.roles, init->roles, sizeof first.roles);
        if (st_prepare(&r, &first, init->expires, keys, 1, &p, err) < 0)
                goto out;
        if (st_mkdir_empty(dir, err) < 0)
                goto out;
        r.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (r.dirfd < 0) {
                sl_error_errno(err, "repository `%s`", dir);
                goto out;
        }
        snprintf(r.dir, sizeof r.dir, "%s", dir);
        for (size_t i = 0; i < SL_ARRAY_SIZE(subdirs); i++)
                if (mkdirat(r.dirfd, subdirs[i], 0755) < 0) {
                        sl_error_errno(err, "repository `%s`: create `%s`", dir, subdirs[i]);
                        goto out;
                }
        p.root = SL_STEAL_PTR(root);
        rc = st_commit(&r, &p, err);
out:
        st_publish_free(&p);
        st_repo_close(&r);
        return rc;
}

/* ---- packages ---- */

/* Copy the archive the manifest names from src_dir/archives/ into the
 * repository: copied aside, the copy's size and hash checked against the
 * manifest (the bytes that will be served, not the ones we read earlier),
 * then renamed into place. An archive already there is kept. */
static int st_copy_archive(struct st_repo *r, const char *src_dir, const struct st_archive_ref *ref,
                           struct sl_error *err)
{
        char dst[ST_HASH_HEX + 32], tmp[ST_HASH_HEX + 48], src[PATH_MAX];
        snprintf(dst, sizeof dst, "archives/%s.tar.zst", ref->hash);
        struct stat st;
        if (fstatat(r->dirfd, dst, &st, 0) == 0 && (uint64_t)st.st_size == ref->size)
                return 0;
        if (snprintf(src, sizeof src, "%s/archives/%s.tar.zst", src_dir, ref->hash) >=
            (int)sizeof src)
                return sl_error_set(err, ENAMETOOLONG, "archive %s", ref->hash);
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return sl_error_errno(err, "archive `%s`", src);
        /* A name of our own next to the final one, as st_write_atomic_at
         * does (mkostemp has no dirfd variant). */
        snprintf(tmp, sizeof tmp, "%s.tmp-%08x", dst, randombytes_random());
        _cleanup_close_ int out =
            openat(r->dirfd, tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return sl_error_errno(err, "create `%s`", tmp);
        static __thread uint8_t buf[64 * 1024];
        uint64_t total = 0;
        ssize_t n;
        /* One byte past the size is enough to know it is too long. */
        while (total <= ref->size && (n = read(in, buf, sizeof buf)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || st_write_all(out, buf, (size_t)n) < 0) {
                        sl_error_errno(err, "copy `%s`", src);
                        goto fail;
                }
                total += (uint64_t)n;
        }
        char h[ST_HASH_HEX];
        if (total > ref->size) {
                sl_error_set(err, 0, "archive `%s`: longer than the %llu bytes the manifest says",
                             src, (unsigned long long)ref->size);
                goto fail;
        }
        if (total < ref->size) {
                sl_error_set(err, 0, "archive `%s`: %llu bytes, the manifest says %llu", src,
                             (unsigned long long)total, (unsigned long long)ref->size);
                goto fail;
        }
        if (lseek(out, 0, SEEK_SET) < 0 || st_archive_hash_fd(out, ref->size, h, err) < 0) {
                sl_error_prefix(err, "archive `%s`", src);
                goto fail;
        }
        if (strcmp(h, ref->hash) != 0) {
                sl_error_set(err, 0, "archive `%s`: hash %s, the manifest says %s", src, h,
                             ref->hash);
                goto fail;
        }
        if (fchmod(out, 0644) < 0 || fsync(out) < 0) {
                sl_error_errno(err, "write `%s`", tmp);
                goto fail;
        }
        if (renameat(r->dirfd, tmp, r->dirfd, dst) < 0) {
                sl_error_errno(err, "rename `%s`", tmp);
                goto fail;
        }
        return st_fsync_dir_at(r->dirfd, "archives", err);
fail:
        unlinkat(r->dirfd, tmp, 0);
        return -1;
}

/* One .pkg file: its bytes, hash, manifest and the directory it is in. */
struct st_pkg_in {
        struct st_buf bytes;
        char hash[ST_HASH_HEX];
        struct st_manifest m;
        char dir[PATH_MAX];
};

static int st_pkg_load(const char *path, struct st_pkg_in *p, struct sl_error *err)
{
        if (st_read_file(path, ST_TUF_PACKAGE_MAX, &p->bytes, err) < 0)
                return -1;
        st_hash_bytes(p->bytes.data, p->bytes.len, p->hash);
        struct st_envelope env;
        if (st_envelope_parse(p->bytes.data, p->bytes.len, &env, err) < 0)
                return sl_error_prefix(err, "`%s`", path);
        /* Signatures are the clients' to check against targets' signers;
         * the writer only makes sure it is a manifest. */
        int rc = st_manifest_parse(env.signed_bytes.data, env.signed_bytes.len, &p->m, err);
        st_envelope_free(&env);
        if (rc < 0)
                return sl_error_prefix(err, "`%s`", path);
        char copy[PATH_MAX];
        snprintf(copy, sizeof copy, "%s", path);
        snprintf(p->dir, sizeof p->dir, "%s", dirname(copy));
        return 0;
}

/* Add NAME@VERSION to targets' packages; the same version with another
 * .pkg is refused: clients that saw one must never be shown another. */
static int st_targets_add(json_t *targets, const struct st_pkg_in *p, struct sl_error *err)
{
        char spec[ST_NAME_MAX + ST_VERSION_MAX + 1];
        snprintf(spec, sizeof spec, "%s@%s", p->m.name, p->m.version);
        json_t *pkgs = json_object_get(targets, "packages");
        json_t *old = json_object_get(pkgs, spec);
        if (old) {
                const char *h = json_string_value(json_object_get(old, "hash"));
                if (h && strcmp(h, p->hash) == 0)
                        return 0;
                return sl_error_set(err, EEXIST, "%s is already published as %s", spec,
                                    h ? h : "?");
        }
        json_t *e = json_pack("{s:I,s:s}", "length", (json_int_t)p->bytes.len, "hash", p->hash);
        if (!e || json_object_set_new(pkgs, spec, e) < 0)
                return sl_error_set(err, ENOMEM, "targets");
        return 0;
}

int st_repo_add(const char *dir, const char *const *pkg_files, size_t n, time_t expires,
                const struct st_repo_keys *keys, struct sl_error *err)
{
        struct st_repo r;
        struct st_pkg_in *pkgs = calloc(n + 1, sizeof *pkgs);
        int rc = -1;
        if (!pkgs)
                return sl_error_set(err, ENOMEM, "repo add");
        if (st_repo_load(&r, dir, err) < 0)
                goto out;
        /* Everything that can be refused without writing, first. */
        for (size_t i = 0; i < n; i++)
                if (st_pkg_load(pkg_files[i], &pkgs[i], err) < 0 ||
                    st_targets_add(r.targets, &pkgs[i], err) < 0)
                        goto out;
        for (size_t i = 0; i < n; i++) {
                for (size_t a = 0; a < pkgs[i].m.n_archives; a++)
                        if (st_copy_archive(&r, pkgs[i].dir, &pkgs[i].m.archives[a], err) < 0)
                                goto out;
                char rel[ST_HASH_HEX + 16];
                snprintf(rel, sizeof rel, "packages/%s.pkg", pkgs[i].hash);
                if (st_write_atomic_at(r.dirfd, rel, pkgs[i].bytes.data, pkgs[i].bytes.len, 0644,
                                       err) < 0)
                        goto out;
        }
        rc = st_republish(&r, expires, keys, err);
out:
        for (size_t i = 0; i < n; i++) {
                st_buf_free(&pkgs[i].bytes);
                st_manifest_free(&pkgs[i].m);
        }
        free(pkgs);
        st_repo_close(&r);
        return rc;
}

int st_repo_set_signers(const char *dir, const char *name, const struct st_role *role,
                        time_t expires, const struct st_repo_keys *keys, struct sl_error *err)
{
        if (strcmp(name, "*") != 0 && st_name_check(name, "signers", err) < 0)
                return -1;
        struct st_repo r;
        int rc = -1;
        if (st_repo_load(&r, dir, err) < 0)
                goto out;
        json_t *signers = json_object_get(r.targets, "signers");
        if (json_object_set_new(signers, name, st_role_json(role)) < 0) {
                sl_error_set(err, ENOMEM, "signers");
                goto out;
        }
        /* The new entry is validated when the document is read back. */
        rc = st_republish(&r, expires, keys, err);
out:
        st_repo_close(&r);
        return rc;
}

/* ---- rotation ---- */

int st_repo_rotate_root(const char *dir, const struct st_repo_init *next,
                        const struct st_repo_keys *keys, struct sl_error *err)
{
        struct st_repo r;
        struct st_publish p = {0};
        struct st_root nr = {0};
        struct st_envelope env = {0};
        int rc = -1;
        if (st_repo_load(&r, dir, err) < 0)
                goto out;
        char label[48];
        snprintf(label, sizeof label, "root %llu", (unsigned long long)r.root.version + 1);
        /* Signed by the old root's threshold and the new one's: a client
         * checks both (docs/store.md, step 1). */
        struct st_role new_root = {0};
        if (st_role_copy(&new_root, &next->roles[ST_TUF_ROOT], err) < 0)
                goto out;
        st_role_apply_revoked(&new_root, (const uint8_t(*)[ST_PK_BYTES])r.root.revoked,
                              r.root.n_revoked);
        const struct st_role *both[2] = {&r.root.roles[ST_TUF_ROOT], &new_root};
        json_t *doc = st_root_json(r.root.version + 1, next, &r.root);
        p.root = st_sign_doc(doc, ST_TUF_ROOT, label, both, 2, keys->root, keys->n_root, err);
        json_decref(doc);
        st_role_free(&new_root);
        if (!p.root || st_envelope_parse(p.root, strlen(p.root), &env, err) < 0 ||
            st_root_parse(env.signed_bytes.data, env.signed_bytes.len, label, &nr, err) < 0)
                goto out;
        /* The rest is signed for the new root: its keys, its revocations. */
        if (st_prepare(&r, &nr, next->expires, keys, keys->n_targets > 0, &p, err) < 0)
                goto out;
        rc = st_commit(&r, &p, err);
out:
        st_envelope_free(&env);
        st_root_free(&nr);
        st_publish_free(&p);
        st_repo_close(&r);
        return rc;
}
