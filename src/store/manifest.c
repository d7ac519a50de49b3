/* Package manifests: parsed only after their exact bytes passed the
 * signature check, never re-serialised (JSON is not canonical). */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/store.h"
#include "store/util.h"

/* Upper bounds on list lengths: a manifest listing more is endless data. */
#define ST_MANIFEST_MAX_ARCHIVES 1024
#define ST_MANIFEST_MAX_DEPS     1024
/* The slice template's command: as many words as a shebang line plus room. */
#define ST_MANIFEST_MAX_ARGS 64
#define ST_MANIFEST_ARG_MAX  4096

static int st_parse_archive(json_t *a, size_t i, struct st_archive_ref *out, struct sl_error *err)
{
        static const char *const keys[] = {"hash", "size", NULL};
        char where[48];
        snprintf(where, sizeof where, "archives[%zu]", i);
        if (!json_is_object(a))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_json_only_keys(a, keys, where, err) < 0)
                return -1;
        if (st_json_get_str(a, "hash", where, out->hash, sizeof out->hash, err) < 0)
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
        if (st_json_only_keys(d, keys, where, err) < 0)
                return -1;
        if (st_json_get_str(d, "name", where, out->name, sizeof out->name, err) < 0 ||
            st_json_get_str(d, "version", where, out->version, sizeof out->version, err) < 0)
                return -1;
        char what[64];
        snprintf(what, sizeof what, "%s.name", where);
        if (st_name_check(out->name, what, err) < 0)
                return -1;
        snprintf(what, sizeof what, "%s.version", where);
        return st_version_check(out->version, what, err);
}

/* "slice": {"command": ["/pkg/bin/hello", "--flag"]}: how a slice runs the
 * package when the topology names no command of its own. */
static int st_parse_template(json_t *root, struct st_manifest *out, struct sl_error *err)
{
        static const char *const keys[] = {"command", NULL};
        json_t *t = json_object_get(root, "slice");
        if (!t)
                return 0;
        if (!json_is_object(t))
                return sl_error_set(err, 0, "slice: not an object");
        if (st_json_only_keys(t, keys, "slice", err) < 0)
                return -1;
        json_t *cmd = st_json_get_array(t, "command", "slice", ST_MANIFEST_MAX_ARGS, err);
        if (!cmd)
                return -1;
        if (json_array_size(cmd) == 0)
                return sl_error_set(err, 0, "slice.command: empty");
        out->command = calloc(json_array_size(cmd) + 1, sizeof *out->command);
        if (!out->command)
                return sl_error_set(err, ENOMEM, "slice.command");
        for (size_t i = 0; i < json_array_size(cmd); i++) {
                json_t *w = json_array_get(cmd, i);
                if (!json_is_string(w) || json_string_length(w) >= ST_MANIFEST_ARG_MAX ||
                    memchr(json_string_value(w), 0, json_string_length(w)))
                        return sl_error_set(err, 0,
                                            "slice.command[%zu]: not a string of at most %d bytes",
                                            i, ST_MANIFEST_ARG_MAX - 1);
                if (!(out->command[i] = strdup(json_string_value(w))))
                        return sl_error_set(err, ENOMEM, "slice.command");
                out->n_command = i + 1;
        }
        if (out->command[0][0] != '/')
                return sl_error_set(err, 0, "slice.command[0]: `%s` is not an absolute path",
                                    out->command[0]);
        return 0;
}

int st_manifest_parse(const void *bytes, size_t len, struct st_manifest *out, struct sl_error *err)
{
        static const char *const keys[] = {"name",         "version", "archives",
                                           "dependencies", "slice",   NULL};
        memset(out, 0, sizeof *out);
        if (len > ST_MANIFEST_MAX_BYTES)
                return sl_error_set(err, 0, "manifest: larger than %d bytes",
                                    ST_MANIFEST_MAX_BYTES);
        _cleanup_json_ json_t *root = st_json_parse(bytes, len, "manifest", err);
        if (!root)
                return -1;
        if (!json_is_object(root))
                return sl_error_set(err, 0, "manifest: not a JSON object");
        if (st_json_only_keys(root, keys, "", err) < 0 ||
            st_json_get_str(root, "name", "", out->name, sizeof out->name, err) < 0 ||
            st_json_get_str(root, "version", "", out->version, sizeof out->version, err) < 0)
                goto fail;
        if (st_name_check(out->name, "name", err) < 0 ||
            st_version_check(out->version, "version", err) < 0)
                goto fail;
        json_t *arch = st_json_get_array(root, "archives", "", ST_MANIFEST_MAX_ARCHIVES, err);
        json_t *deps =
            arch ? st_json_get_array(root, "dependencies", "", ST_MANIFEST_MAX_DEPS, err) : NULL;
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
        if (st_parse_template(root, out, err) < 0)
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
        for (size_t i = 0; m->command && i < m->n_command; i++)
                free(m->command[i]);
        free(m->command);
        m->archives = NULL;
        m->deps = NULL;
        m->command = NULL;
        m->n_archives = m->n_deps = m->n_command = 0;
}

/* Package names become file and mount names and appear in NAME@VERSION:
 * letters, digits and -_.+, starting with a letter or digit (Debian's rule,
 * plus upper case and `_`). Versions: the same characters plus `~` and `:`,
 * no `@` or `/`. */
int st_name_check(const char *name, const char *what, struct sl_error *err)
{
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789-_.+";
        size_t n = strlen(name);
        if (n == 0 || n >= ST_NAME_MAX || strspn(name, ok) != n || !isalnum((unsigned char)name[0]))
                return sl_error_set(err, 0,
                                    "%s: `%s` is not a package name (letters, digits, `-_.+`, "
                                    "starting with a letter or digit, at most %d)",
                                    what, name, ST_NAME_MAX - 1);
        return 0;
}

int st_version_check(const char *version, const char *what, struct sl_error *err)
{
        static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                 "0123456789-_.+~:";
        size_t n = strlen(version);
        if (n == 0 || n >= ST_VERSION_MAX || strspn(version, ok) != n ||
            !isalnum((unsigned char)version[0]))
                return sl_error_set(err, 0,
                                    "%s: `%s` is not a version (letters, digits, `-_.+~:`, "
                                    "starting with a letter or digit, at most %d)",
                                    what, version, ST_VERSION_MAX - 1);
        return 0;
}

int st_spec_parse(const char *spec, char name[ST_NAME_MAX], char version[ST_VERSION_MAX],
                  struct sl_error *err)
{
        const char *at = strchr(spec, '@');
        size_t n = at ? (size_t)(at - spec) : strlen(spec);
        if (n >= ST_NAME_MAX)
                return sl_error_set(err, 0, "`%s`: package name longer than %d", spec,
                                    ST_NAME_MAX - 1);
        memcpy(name, spec, n);
        name[n] = 0;
        version[0] = 0;
        if (st_name_check(name, spec, err) < 0)
                return -1;
        if (!at)
                return 0;
        if (strlen(at + 1) >= ST_VERSION_MAX)
                return sl_error_set(err, 0, "`%s`: version longer than %d", spec,
                                    ST_VERSION_MAX - 1);
        strcpy(version, at + 1);
        return st_version_check(version, spec, err);
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
