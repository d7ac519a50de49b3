/* Package manifests: parsed only after their exact bytes passed the
 * signature check, never re-serialised (JSON is not canonical). */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

/* Upper bounds on list lengths: a manifest listing more is endless data. */
#define ST_MANIFEST_MAX_ARCHIVES 1024
#define ST_MANIFEST_MAX_DEPS     1024

static void st_json_decref(json_t **j)
{
        json_decref(*j);
}
#define _cleanup_json_ __attribute__((cleanup(st_json_decref)))

/* Refuse any key of obj not in allowed (NULL-terminated). */
static int st_only_keys(json_t *obj, const char *const *allowed, const char *where,
                        struct sl_error *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                int ok = 0;
                for (size_t i = 0; allowed[i]; i++)
                        ok |= strcmp(key, allowed[i]) == 0;
                if (!ok)
                        return sl_error_set(err, 0, "%s%s%s: unknown field", where,
                                            *where ? "." : "", key);
        }
        return 0;
}

static int st_get_str(json_t *obj, const char *field, const char *where, char *out, size_t cap,
                      struct sl_error *err)
{
        const char *dot = *where ? "." : "";
        json_t *v = json_object_get(obj, field);
        if (!v)
                return sl_error_set(err, 0, "%s%s%s: missing", where, dot, field);
        if (!json_is_string(v))
                return sl_error_set(err, 0, "%s%s%s: not a string", where, dot, field);
        size_t n = json_string_length(v);
        if (n == 0 || n >= cap || memchr(json_string_value(v), 0, n))
                return sl_error_set(err, 0, "%s%s%s: must be 1 to %zu characters", where, dot,
                                    field, cap - 1);
        memcpy(out, json_string_value(v), n + 1);
        return 0;
}

static int st_parse_archive(json_t *a, size_t i, struct st_archive_ref *out, struct sl_error *err)
{
        static const char *const keys[] = {"hash", "size", NULL};
        char where[48];
        snprintf(where, sizeof where, "archives[%zu]", i);
        if (!json_is_object(a))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_only_keys(a, keys, where, err) < 0)
                return -1;
        if (st_get_str(a, "hash", where, out->hash, sizeof out->hash, err) < 0)
                return -1;
        size_t n = strlen(out->hash);
        if (n != ST_HASH_HEX - 1 || strspn(out->hash, "0123456789abcdef") != n)
                return sl_error_set(err, 0, "%s.hash: not 64 lowercase hex digits (BLAKE2b-256)",
                                    where);
        json_t *s = json_object_get(a, "size");
        if (!s)
                return sl_error_set(err, 0, "%s.size: missing", where);
        if (!json_is_integer(s))
                return sl_error_set(err, 0, "%s.size: not an integer", where);
        json_int_t v = json_integer_value(s);
        if (v < 0)
                return sl_error_set(err, 0, "%s.size: negative", where);
        if ((uint64_t)v > ST_ARCHIVE_MAX_BYTES)
                return sl_error_set(err, 0, "%s.size: above the archive cap", where);
        out->size = (uint64_t)v;
        return 0;
}

static int st_parse_dep(json_t *d, size_t i, struct st_dep *out, struct sl_error *err)
{
        static const char *const keys[] = {"name", "version", NULL};
        char where[48];
        snprintf(where, sizeof where, "dependencies[%zu]", i);
        if (!json_is_object(d))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_only_keys(d, keys, where, err) < 0)
                return -1;
        if (st_get_str(d, "name", where, out->name, sizeof out->name, err) < 0)
                return -1;
        return st_get_str(d, "version", where, out->version, sizeof out->version, err);
}

static json_t *st_get_array(json_t *root, const char *field, size_t max, struct sl_error *err)
{
        json_t *a = json_object_get(root, field);
        if (!a) {
                sl_error_set(err, 0, "%s: missing", field);
                return NULL;
        }
        if (!json_is_array(a)) {
                sl_error_set(err, 0, "%s: not an array", field);
                return NULL;
        }
        if (json_array_size(a) > max) {
                sl_error_set(err, 0, "%s: more than %zu entries", field, max);
                return NULL;
        }
        return a;
}

int st_manifest_parse(const void *bytes, size_t len, struct st_manifest *out, struct sl_error *err)
{
        static const char *const keys[] = {"name", "version", "archives", "dependencies", NULL};
        memset(out, 0, sizeof *out);
        if (len > ST_MANIFEST_MAX_BYTES)
                return sl_error_set(err, 0, "manifest: larger than %d bytes",
                                    ST_MANIFEST_MAX_BYTES);
        json_error_t je;
        _cleanup_json_ json_t *root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return sl_error_set(err, 0, "manifest:%d:%d: %s", je.line, je.column, je.text);
        if (!json_is_object(root))
                return sl_error_set(err, 0, "manifest: not a JSON object");
        if (st_only_keys(root, keys, "", err) < 0 ||
            st_get_str(root, "name", "", out->name, sizeof out->name, err) < 0 ||
            st_get_str(root, "version", "", out->version, sizeof out->version, err) < 0)
                goto fail;
        json_t *arch = st_get_array(root, "archives", ST_MANIFEST_MAX_ARCHIVES, err);
        json_t *deps = arch ? st_get_array(root, "dependencies", ST_MANIFEST_MAX_DEPS, err) : NULL;
        if (!arch || !deps)
                goto fail;
        out->n_archives = json_array_size(arch);
        out->n_deps = json_array_size(deps);
        out->archives = calloc(out->n_archives + 1, sizeof *out->archives);
        out->deps = calloc(out->n_deps + 1, sizeof *out->deps);
        if (!out->archives || !out->deps) {
                sl_error_set(err, ENOMEM, "manifest");
                goto fail;
        }
        for (size_t i = 0; i < out->n_archives; i++)
                if (st_parse_archive(json_array_get(arch, i), i, &out->archives[i], err) < 0)
                        goto fail;
        for (size_t i = 0; i < out->n_deps; i++)
                if (st_parse_dep(json_array_get(deps, i), i, &out->deps[i], err) < 0)
                        goto fail;
        return 0;
fail:
        st_manifest_free(out);
        return sl_error_prefix(err, "manifest");
}

void st_manifest_free(struct st_manifest *m)
{
        if (!m)
                return;
        free(m->archives);
        free(m->deps);
        m->archives = NULL;
        m->deps = NULL;
        m->n_archives = m->n_deps = 0;
}

int st_manifest_load(const void *bytes, size_t len, const struct st_sig *sigs, size_t n_sigs,
                     const struct st_key *trusted, size_t n_keys, unsigned threshold, time_t now,
                     struct st_manifest *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        /* Signatures first: the JSON parser never sees unauthenticated bytes. */
        if (st_verify_threshold(bytes, len, sigs, n_sigs, trusted, n_keys, threshold, now, err) < 0)
                return sl_error_prefix(err, "manifest");
        return st_manifest_parse(bytes, len, out, err);
}
