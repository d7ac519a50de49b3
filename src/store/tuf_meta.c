/* The four role documents of a repository (docs/store.md, "Repository
 * metadata"), parsed strictly: unknown fields refused, every field checked,
 * every message naming the role and the field. */
#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/tuf_meta.h"

const char *const st_tuf_role_names[ST_TUF_N_ROLES] = {"root", "targets", "snapshot", "timestamp"};

/* Room for "packages.NAME@VERSION" and a field after it. */
#define ST_WHERE_MAX (ST_NAME_MAX + ST_VERSION_MAX + 32)

void st_hash_bytes(const void *bytes, size_t len, char out[ST_HASH_HEX])
{
        uint8_t h[ST_HASH_BYTES];
        crypto_generichash(h, sizeof h, bytes, len, NULL, 0);
        st_hex_encode(h, sizeof h, out);
}

void st_role_free(struct st_role *r)
{
        if (!r)
                return;
        free(r->keys);
        r->keys = NULL;
        r->n_keys = 0;
        r->threshold = 0;
}

int st_role_copy(struct st_role *dst, const struct st_role *src, struct sl_error *err)
{
        dst->keys = calloc(src->n_keys + 1, sizeof *dst->keys);
        if (!dst->keys)
                return sl_error_set(err, ENOMEM, "copy role");
        if (src->n_keys)
                memcpy(dst->keys, src->keys, src->n_keys * sizeof *dst->keys);
        dst->n_keys = src->n_keys;
        dst->threshold = src->threshold;
        return 0;
}

void st_role_apply_revoked(struct st_role *r, const uint8_t (*revoked)[ST_PK_BYTES],
                           size_t n_revoked)
{
        for (size_t i = 0; i < r->n_keys; i++)
                for (size_t j = 0; j < n_revoked; j++)
                        if (memcmp(r->keys[i].pk, revoked[j], ST_PK_BYTES) == 0)
                                r->keys[i].revoked = 1;
}

static int st_role_has(const struct st_role *r, const uint8_t pk[ST_PK_BYTES])
{
        for (size_t i = 0; i < r->n_keys; i++)
                if (memcmp(r->keys[i].pk, pk, ST_PK_BYTES) == 0)
                        return 1;
        return 0;
}

int st_role_same_keys(const struct st_role *a, const struct st_role *b)
{
        for (size_t i = 0; i < a->n_keys; i++)
                if (!st_role_has(b, a->keys[i].pk))
                        return 0;
        for (size_t i = 0; i < b->n_keys; i++)
                if (!st_role_has(a, b->keys[i].pk))
                        return 0;
        return 1;
}

/* A string field holding exactly 64 lowercase hex digits (a BLAKE2b-256
 * digest or an Ed25519 public key). */
static int st_get_hex64(json_t *obj, const char *field, const char *where, char out[ST_HASH_HEX],
                        struct sl_error *err)
{
        const char *dot = *where ? "." : "";
        json_t *v = json_object_get(obj, field);
        if (!v)
                return sl_error_set(err, 0, "%s%s%s: missing", where, dot, field);
        if (!json_is_string(v) || !st_is_hash_hex(json_string_value(v)) ||
            json_string_length(v) != ST_HASH_HEX - 1)
                return sl_error_set(err, 0, "%s%s%s: not 64 lowercase hex digits", where, dot,
                                    field);
        memcpy(out, json_string_value(v), ST_HASH_HEX);
        return 0;
}

static int st_get_time(json_t *obj, const char *field, const char *where, time_t *out,
                       struct sl_error *err)
{
        char s[ST_TIME_STR + 1], what[ST_WHERE_MAX];
        snprintf(what, sizeof what, "%s%s%s", where, *where ? "." : "", field);
        if (st_json_get_str(obj, field, where, s, sizeof s, err) < 0)
                return -1;
        return st_time_parse(s, out, what, err);
}

static int st_get_version(json_t *obj, const char *field, const char *where, uint64_t *out,
                          struct sl_error *err)
{
        if (st_json_get_u64(obj, field, where, ST_TUF_VERSION_MAX, out, err) < 0)
                return -1;
        if (*out == 0)
                return sl_error_set(err, 0, "%s%s%s: must be at least 1", where, *where ? "." : "",
                                    field);
        return 0;
}

/* KEY = "<64 hex>" or {"public": "<64 hex>", "expires": TIME}. */
static int st_parse_key(json_t *k, const char *where, struct st_key *out, struct sl_error *err)
{
        static const char *const keys[] = {"public", "expires", NULL};
        char hex[ST_HASH_HEX];
        memset(out, 0, sizeof *out);
        if (json_is_string(k)) {
                if (!st_is_hash_hex(json_string_value(k)) ||
                    json_string_length(k) != ST_HASH_HEX - 1)
                        return sl_error_set(err, 0, "%s: not 64 lowercase hex digits", where);
                return st_hex_decode(json_string_value(k), out->pk, ST_PK_BYTES, where, err);
        }
        if (!json_is_object(k))
                return sl_error_set(err, 0, "%s: neither a key nor {\"public\", \"expires\"}",
                                    where);
        if (st_json_only_keys(k, keys, where, err) < 0 ||
            st_get_hex64(k, "public", where, hex, err) < 0)
                return -1;
        if (json_object_get(k, "expires") &&
            st_get_time(k, "expires", where, &out->expires, err) < 0)
                return -1;
        return st_hex_decode(hex, out->pk, ST_PK_BYTES, where, err);
}

/* {"keys": [KEY...], "threshold": K}, 1 <= K <= number of keys. */
static int st_parse_role(json_t *r, const char *where, struct st_role *out, struct sl_error *err)
{
        static const char *const keys[] = {"keys", "threshold", NULL};
        char what[ST_WHERE_MAX];
        memset(out, 0, sizeof *out);
        if (!json_is_object(r))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_json_only_keys(r, keys, where, err) < 0)
                return -1;
        json_t *ks = st_json_get_array(r, "keys", where, ST_TUF_MAX_KEYS, err);
        if (!ks)
                return -1;
        out->keys = calloc(json_array_size(ks) + 1, sizeof *out->keys);
        if (!out->keys)
                return sl_error_set(err, ENOMEM, "%s", where);
        for (size_t i = 0; i < json_array_size(ks); i++) {
                snprintf(what, sizeof what, "%s.keys[%zu]", where, i);
                if (st_parse_key(json_array_get(ks, i), what, &out->keys[i], err) < 0)
                        return -1;
                /* A key listed twice would make n look larger than the
                 * number of distinct keys that can ever sign. */
                for (size_t j = 0; j < i; j++)
                        if (memcmp(out->keys[j].pk, out->keys[i].pk, ST_PK_BYTES) == 0)
                                return sl_error_set(err, 0, "%s: the same key as keys[%zu]", what,
                                                    j);
                out->n_keys = i + 1;
        }
        uint64_t t;
        if (st_json_get_u64(r, "threshold", where, ST_TUF_MAX_KEYS, &t, err) < 0)
                return -1;
        if (t == 0)
                return sl_error_set(err, 0, "%s.threshold: must be at least 1", where);
        if (t > out->n_keys)
                return sl_error_set(err, 0, "%s.threshold: %llu is more than the %zu keys", where,
                                    (unsigned long long)t, out->n_keys);
        out->threshold = (unsigned)t;
        return 0;
}

/* The fields every role document has: type, version, expires. */
static int st_check_common(json_t *root, const char *type, const char *const *allowed,
                           uint64_t *version, time_t *expires, struct sl_error *err)
{
        char t[32];
        if (!json_is_object(root))
                return sl_error_set(err, 0, "not a JSON object");
        if (st_json_only_keys(root, allowed, "", err) < 0 ||
            st_json_get_str(root, "type", "", t, sizeof t, err) < 0)
                return -1;
        if (strcmp(t, type) != 0)
                return sl_error_set(err, 0, "type: `%s` where `%s` was expected", t, type);
        if (st_get_version(root, "version", "", version, err) < 0 ||
            st_get_time(root, "expires", "", expires, err) < 0)
                return -1;
        return 0;
}

static json_t *st_parse_common(const void *bytes, size_t len, const char *label, const char *type,
                               const char *const *allowed, uint64_t *version, time_t *expires,
                               struct sl_error *err)
{
        /* The parser's messages read "LABEL:LINE:COLUMN: text" already. */
        json_t *root = st_json_parse(bytes, len, label, err);
        if (root && st_check_common(root, type, allowed, version, expires, err) < 0) {
                json_decref(root);
                sl_error_prefix(err, "%s", label);
                return NULL;
        }
        return root;
}

/* {"version": M, "length": L, "hash": H}: what one document says of the
 * next. max_length bounds the download that length allows. */
static int st_parse_ref(json_t *root, const char *field, uint64_t max_length,
                        struct st_meta_ref *out, struct sl_error *err)
{
        static const char *const keys[] = {"version", "length", "hash", NULL};
        json_t *r = json_object_get(root, field);
        if (!r)
                return sl_error_set(err, 0, "%s: missing", field);
        if (!json_is_object(r))
                return sl_error_set(err, 0, "%s: not an object", field);
        if (st_json_only_keys(r, keys, field, err) < 0 ||
            st_get_version(r, "version", field, &out->version, err) < 0 ||
            st_json_get_u64(r, "length", field, max_length, &out->length, err) < 0 ||
            st_get_hex64(r, "hash", field, out->hash, err) < 0)
                return -1;
        return 0;
}

static int st_parse_revoked(json_t *root, struct st_root *out, struct sl_error *err)
{
        if (!json_object_get(root, "revoked"))
                return 0;
        json_t *a = st_json_get_array(root, "revoked", "", ST_TUF_MAX_REVOKED, err);
        if (!a)
                return -1;
        out->revoked = calloc(json_array_size(a) + 1, sizeof *out->revoked);
        if (!out->revoked)
                return sl_error_set(err, ENOMEM, "revoked");
        for (size_t i = 0; i < json_array_size(a); i++) {
                char what[32];
                json_t *k = json_array_get(a, i);
                snprintf(what, sizeof what, "revoked[%zu]", i);
                if (!json_is_string(k) || !st_is_hash_hex(json_string_value(k)) ||
                    json_string_length(k) != ST_HASH_HEX - 1)
                        return sl_error_set(err, 0, "%s: not 64 lowercase hex digits", what);
                if (st_hex_decode(json_string_value(k), out->revoked[i], ST_PK_BYTES, what, err) <
                    0)
                        return -1;
                out->n_revoked = i + 1;
        }
        return 0;
}

static int st_root_parse_json(json_t *root, struct st_root *out, struct sl_error *err)
{
        static const char *const role_keys[] = {"root", "targets", "snapshot", "timestamp", NULL};
        json_t *roles = json_object_get(root, "roles");
        if (!roles)
                return sl_error_set(err, 0, "roles: missing");
        if (!json_is_object(roles))
                return sl_error_set(err, 0, "roles: not an object");
        if (st_json_only_keys(roles, role_keys, "roles", err) < 0)
                return -1;
        for (int i = 0; i < ST_TUF_N_ROLES; i++) {
                char where[32];
                snprintf(where, sizeof where, "roles.%s", st_tuf_role_names[i]);
                json_t *r = json_object_get(roles, st_tuf_role_names[i]);
                if (!r)
                        return sl_error_set(err, 0, "%s: missing", where);
                if (st_parse_role(r, where, &out->roles[i], err) < 0)
                        return -1;
        }
        if (st_parse_revoked(root, out, err) < 0)
                return -1;
        for (int i = 0; i < ST_TUF_N_ROLES; i++)
                st_role_apply_revoked(&out->roles[i], (const uint8_t(*)[ST_PK_BYTES])out->revoked,
                                      out->n_revoked);
        return 0;
}

int st_root_parse(const void *bytes, size_t len, const char *label, struct st_root *out,
                  struct sl_error *err)
{
        static const char *const keys[] = {"type", "version", "expires", "roles", "revoked", NULL};
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *root =
            st_parse_common(bytes, len, label, "root", keys, &out->version, &out->expires, err);
        if (!root)
                return -1;
        if (st_root_parse_json(root, out, err) < 0) {
                st_root_free(out);
                return sl_error_prefix(err, "%s", label);
        }
        return 0;
}

void st_root_free(struct st_root *r)
{
        if (!r)
                return;
        for (int i = 0; i < ST_TUF_N_ROLES; i++)
                st_role_free(&r->roles[i]);
        free(r->revoked);
        r->revoked = NULL;
        r->n_revoked = 0;
}

int st_timestamp_parse(const void *bytes, size_t len, const char *label, struct st_timestamp *out,
                       struct sl_error *err)
{
        static const char *const keys[] = {"type", "version", "expires", "snapshot", NULL};
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *root = st_parse_common(bytes, len, label, "timestamp", keys,
                                                      &out->version, &out->expires, err);
        if (!root)
                return -1;
        if (st_parse_ref(root, "snapshot", ST_TUF_META_MAX, &out->snapshot, err) < 0)
                return sl_error_prefix(err, "%s", label);
        return 0;
}

int st_snapshot_parse(const void *bytes, size_t len, const char *label, struct st_snapshot *out,
                      struct sl_error *err)
{
        static const char *const keys[] = {"type", "version", "expires", "targets", NULL};
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *root =
            st_parse_common(bytes, len, label, "snapshot", keys, &out->version, &out->expires, err);
        if (!root)
                return -1;
        if (st_parse_ref(root, "targets", ST_TUF_META_MAX, &out->targets, err) < 0)
                return sl_error_prefix(err, "%s", label);
        return 0;
}

/* "signers": {"NAME or *": ROLE}: who may sign which package. */
static int st_parse_signers(json_t *root, struct st_targets *out, struct sl_error *err)
{
        json_t *s = json_object_get(root, "signers");
        if (!s)
                return sl_error_set(err, 0, "signers: missing");
        if (!json_is_object(s))
                return sl_error_set(err, 0, "signers: not an object");
        if (json_object_size(s) > ST_TUF_MAX_PACKAGES)
                return sl_error_set(err, 0, "signers: more than %d entries", ST_TUF_MAX_PACKAGES);
        out->signers = calloc(json_object_size(s) + 1, sizeof *out->signers);
        if (!out->signers)
                return sl_error_set(err, ENOMEM, "signers");
        const char *name;
        json_t *v;
        json_object_foreach(s, name, v)
        {
                char where[ST_WHERE_MAX];
                snprintf(where, sizeof where, "signers.%s", name);
                if (strcmp(name, "*") != 0 && st_name_check(name, where, err) < 0)
                        return -1;
                struct st_signers *e = &out->signers[out->n_signers];
                snprintf(e->name, sizeof e->name, "%s", name);
                if (st_parse_role(v, where, &e->role, err) < 0) {
                        st_role_free(&e->role);
                        return -1;
                }
                out->n_signers++;
        }
        return 0;
}

/* "packages": {"NAME@VERSION": {"length": L, "hash": H}}. */
static int st_parse_packages(json_t *root, struct st_targets *out, struct sl_error *err)
{
        static const char *const keys[] = {"length", "hash", NULL};
        json_t *p = json_object_get(root, "packages");
        if (!p)
                return sl_error_set(err, 0, "packages: missing");
        if (!json_is_object(p))
                return sl_error_set(err, 0, "packages: not an object");
        if (json_object_size(p) > ST_TUF_MAX_PACKAGES)
                return sl_error_set(err, 0, "packages: more than %d entries", ST_TUF_MAX_PACKAGES);
        out->packages = calloc(json_object_size(p) + 1, sizeof *out->packages);
        if (!out->packages)
                return sl_error_set(err, ENOMEM, "packages");
        const char *spec;
        json_t *v;
        json_object_foreach(p, spec, v)
        {
                struct st_target *t = &out->packages[out->n_packages];
                char where[ST_WHERE_MAX];
                snprintf(where, sizeof where, "packages.%s", spec);
                if (st_spec_parse(spec, t->name, t->version, err) < 0)
                        return sl_error_prefix(err, "packages");
                if (!t->version[0])
                        return sl_error_set(err, 0, "%s: not NAME@VERSION", where);
                if (!json_is_object(v))
                        return sl_error_set(err, 0, "%s: not an object", where);
                if (st_json_only_keys(v, keys, where, err) < 0 ||
                    st_json_get_u64(v, "length", where, ST_TUF_PACKAGE_MAX, &t->length, err) < 0 ||
                    st_get_hex64(v, "hash", where, t->hash, err) < 0)
                        return -1;
                out->n_packages++;
        }
        return 0;
}

int st_targets_parse(const void *bytes, size_t len, const char *label, const struct st_root *root,
                     struct st_targets *out, struct sl_error *err)
{
        static const char *const keys[] = {"type",    "version",  "expires",
                                           "signers", "packages", NULL};
        memset(out, 0, sizeof *out);
        _cleanup_json_ json_t *doc =
            st_parse_common(bytes, len, label, "targets", keys, &out->version, &out->expires, err);
        if (!doc)
                return -1;
        if (st_parse_signers(doc, out, err) < 0 || st_parse_packages(doc, out, err) < 0)
                goto fail;
        if (root && root->n_revoked) {
                out->revoked = calloc(root->n_revoked, sizeof *out->revoked);
                if (!out->revoked) {
                        sl_error_set(err, ENOMEM, "revoked keys");
                        goto fail;
                }
                memcpy(out->revoked, root->revoked, root->n_revoked * sizeof *out->revoked);
                out->n_revoked = root->n_revoked;
                for (size_t i = 0; i < out->n_signers; i++)
                        st_role_apply_revoked(&out->signers[i].role,
                                              (const uint8_t(*)[ST_PK_BYTES])out->revoked,
                                              out->n_revoked);
        }
        return 0;
fail:
        st_targets_free(out);
        return sl_error_prefix(err, "%s", label);
}

void st_targets_free(struct st_targets *t)
{
        if (!t)
                return;
        for (size_t i = 0; t->signers && i < t->n_signers; i++)
                st_role_free(&t->signers[i].role);
        free(t->signers);
        free(t->packages);
        free(t->revoked);
        memset(t, 0, sizeof *t);
}
