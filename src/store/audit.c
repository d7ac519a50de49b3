/* Audit: which running slice uses which package and archives (inuse.json),
 * and, given an OSV feed, which advisories affect those packages.
 *
 * OSV (https://ossf.github.io/osv-schema/): a record affects NAME@VERSION
 * when one of its `affected[]` names the package (any ecosystem: our
 * package names are our own) and lists the version in `versions[]`, or an
 * ECOSYSTEM or SEMVER range's events put it inside: introduced <= v <
 * fixed, or introduced <= v <= last_affected, "0" meaning from the start,
 * an open interval when nothing closes it. Events are paired in the order
 * listed (OSV producers list them sorted). Both range types compare by
 * st_version_cmp (dpkg order), which agrees with SemVer on plain
 * MAJOR.MINOR.PATCH. The feed is checked whole before any matching:
 * errors name the position, "osv: [3].affected[0].ranges[1].events: not
 * an array". */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/local_priv.h"
#include "store/tuf.h"

/* Feeds are downloaded files: cap their shape as well as their size. */
#define ST_OSV_MAX_RECORDS  (1u << 20)
#define ST_OSV_MAX_AFFECTED 4096
#define ST_OSV_MAX_LIST     65536 /* versions, ranges, events */

/* A position in the feed; a path too deep for the buffer is cut short,
 * which only shortens a message. */
static void st_pos(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void st_pos(char *out, size_t cap, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out, cap, fmt, ap);
        va_end(ap);
}

/* "where.field" or "field" at the top. */
static void st_at(char *out, size_t cap, const char *where, const char *field)
{
        st_pos(out, cap, "%s%s%s", where, *where ? "." : "", field);
}

/* Optional field: NULL when absent, else it must be of the wanted kind. */
static int st_osv_opt(json_t *obj, const char *field, json_type type, const char *kind,
                      const char *where, json_t **out, struct sl_error *err)
{
        char at[256];
        *out = json_object_get(obj, field);
        if (!*out || json_typeof(*out) == type)
                return 0;
        st_at(at, sizeof at, where, field);
        return sl_error_set(err, 0, "%s: not %s", at, kind);
}

static int st_osv_strings(json_t *a, const char *where, struct sl_error *err)
{
        if (json_array_size(a) > ST_OSV_MAX_LIST)
                return sl_error_set(err, 0, "%s: more than %u entries", where, ST_OSV_MAX_LIST);
        for (size_t i = 0; i < json_array_size(a); i++)
                if (!json_is_string(json_array_get(a, i)))
                        return sl_error_set(err, 0, "%s[%zu]: not a string", where, i);
        return 0;
}

static const char *const st_osv_events[] = {"introduced", "fixed", "last_affected", "limit", NULL};

static int st_osv_check_event(json_t *e, const char *where, struct sl_error *err)
{
        if (!json_is_object(e))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (json_object_size(e) != 1)
                return sl_error_set(err, 0,
                                    "%s: must hold exactly one of introduced, fixed, "
                                    "last_affected, limit",
                                    where);
        if (st_json_only_keys(e, st_osv_events, where, err) < 0)
                return -1;
        const char *key;
        json_t *v;
        json_object_foreach(e, key, v)
        {
                if (!json_is_string(v))
                        return sl_error_set(err, 0, "%s.%s: not a string", where, key);
        }
        return 0;
}

static int st_osv_check_range(json_t *r, const char *where, struct sl_error *err)
{
        char at[256];
        json_t *type, *events;
        if (!json_is_object(r))
                return sl_error_set(err, 0, "%s: not an object", where);
        st_at(at, sizeof at, where, "type");
        if (!(type = json_object_get(r, "type")))
                return sl_error_set(err, 0, "%s: missing", at);
        if (!json_is_string(type))
                return sl_error_set(err, 0, "%s: not a string", at);
        if (!(events = st_json_get_array(r, "events", where, ST_OSV_MAX_LIST, err)))
                return -1;
        for (size_t i = 0; i < json_array_size(events); i++) {
                st_pos(at, sizeof at, "%s.events[%zu]", where, i);
                if (st_osv_check_event(json_array_get(events, i), at, err) < 0)
                        return -1;
        }
        return 0;
}

static int st_osv_check_affected(json_t *a, const char *where, struct sl_error *err)
{
        char at[256];
        json_t *pkg, *name, *versions, *ranges;
        if (!json_is_object(a))
                return sl_error_set(err, 0, "%s: not an object", where);
        if (st_osv_opt(a, "package", JSON_OBJECT, "an object", where, &pkg, err) < 0 ||
            st_osv_opt(a, "versions", JSON_ARRAY, "an array", where, &versions, err) < 0 ||
            st_osv_opt(a, "ranges", JSON_ARRAY, "an array", where, &ranges, err) < 0)
                return -1;
        if (pkg) {
                st_at(at, sizeof at, where, "package");
                if (!(name = json_object_get(pkg, "name")))
                        return sl_error_set(err, 0, "%s.name: missing", at);
                if (!json_is_string(name))
                        return sl_error_set(err, 0, "%s.name: not a string", at);
        }
        st_at(at, sizeof at, where, "versions");
        if (versions && st_osv_strings(versions, at, err) < 0)
                return -1;
        if (ranges && json_array_size(ranges) > ST_OSV_MAX_LIST)
                return sl_error_set(err, 0, "%s.ranges: more than %u entries", where,
                                    ST_OSV_MAX_LIST);
        for (size_t i = 0; ranges && i < json_array_size(ranges); i++) {
                st_pos(at, sizeof at, "%s.ranges[%zu]", where, i);
                if (st_osv_check_range(json_array_get(ranges, i), at, err) < 0)
                        return -1;
        }
        return 0;
}

static int st_osv_check_record(json_t *rec, const char *where, struct sl_error *err)
{
        char at[256];
        json_t *id, *summary, *affected;
        if (!json_is_object(rec))
                return sl_error_set(err, 0, "%s: not an object", *where ? where : "record");
        st_at(at, sizeof at, where, "id");
        if (!(id = json_object_get(rec, "id")))
                return sl_error_set(err, 0, "%s: missing", at);
        if (!json_is_string(id) || json_string_length(id) == 0)
                return sl_error_set(err, 0, "%s: not a non-empty string", at);
        if (st_osv_opt(rec, "summary", JSON_STRING, "a string", where, &summary, err) < 0 ||
            st_osv_opt(rec, "affected", JSON_ARRAY, "an array", where, &affected, err) < 0)
                return -1;
        st_at(at, sizeof at, where, "affected");
        if (affected && json_array_size(affected) > ST_OSV_MAX_AFFECTED)
                return sl_error_set(err, 0, "%s: more than %u entries", at, ST_OSV_MAX_AFFECTED);
        for (size_t i = 0; affected && i < json_array_size(affected); i++) {
                char item[256];
                st_pos(item, sizeof item, "%s[%zu]", at, i);
                if (st_osv_check_affected(json_array_get(affected, i), item, err) < 0)
                        return -1;
        }
        return 0;
}

/* The records of a feed: an array of records, {"vulns": [...]} (the OSV
 * API's answer), or one record. *prefix is how positions are named. */
static json_t *st_osv_records(json_t *root, const char **prefix, struct sl_error *err)
{
        json_t *records = root;
        *prefix = "";
        if (json_is_object(root) && json_object_get(root, "vulns")) {
                records = json_object_get(root, "vulns");
                *prefix = "vulns";
                if (!json_is_array(records)) {
                        sl_error_set(err, 0, "vulns: not an array");
                        return NULL;
                }
        }
        if (json_is_array(records) && json_array_size(records) > ST_OSV_MAX_RECORDS) {
                sl_error_set(err, 0, "more than %u records", ST_OSV_MAX_RECORDS);
                return NULL;
        }
        if (!json_is_array(records) && !json_is_object(records)) {
                sl_error_set(err, 0, "not an array of records, {\"vulns\": [...]} or a record");
                return NULL;
        }
        return records;
}

static int st_osv_check(json_t *records, const char *prefix, struct sl_error *err)
{
        if (json_is_object(records))
                return st_osv_check_record(records, "", err);
        for (size_t i = 0; i < json_array_size(records); i++) {
                char where[64];
                st_pos(where, sizeof where, "%s[%zu]", prefix, i);
                if (st_osv_check_record(json_array_get(records, i), where, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- matching (on a checked feed) ---- */

static int st_at_least(const char *v, const char *introduced)
{
        return strcmp(introduced, "0") == 0 || st_version_cmp(v, introduced) >= 0;
}

static int st_osv_in_range(json_t *range, const char *v)
{
        const char *type = json_string_value(json_object_get(range, "type"));
        if (strcmp(type, "ECOSYSTEM") != 0 && strcmp(type, "SEMVER") != 0)
                return 0; /* GIT ranges name commits, not versions */
        json_t *events = json_object_get(range, "events");
        const char *open = NULL;
        for (size_t i = 0; i < json_array_size(events); i++) {
                json_t *e = json_array_get(events, i);
                const char *x;
                if ((x = json_string_value(json_object_get(e, "introduced")))) {
                        open = x;
                } else if ((x = json_string_value(json_object_get(e, "fixed"))) && open) {
                        if (st_at_least(v, open) && st_version_cmp(v, x) < 0)
                                return 1;
                        open = NULL;
                } else if ((x = json_string_value(json_object_get(e, "last_affected"))) && open) {
                        if (st_at_least(v, open) && st_version_cmp(v, x) <= 0)
                                return 1;
                        open = NULL;
                }
        }
        return open && st_at_least(v, open);
}

static int st_osv_affects(json_t *rec, const char *name, const char *version)
{
        json_t *affected = json_object_get(rec, "affected");
        for (size_t i = 0; i < json_array_size(affected); i++) {
                json_t *a = json_array_get(affected, i);
                json_t *pkg = json_object_get(a, "package");
                if (!pkg || strcmp(json_string_value(json_object_get(pkg, "name")), name) != 0)
                        continue;
                json_t *versions = json_object_get(a, "versions");
                for (size_t j = 0; j < json_array_size(versions); j++)
                        if (strcmp(json_string_value(json_array_get(versions, j)), version) == 0)
                                return 1;
                json_t *ranges = json_object_get(a, "ranges");
                for (size_t j = 0; j < json_array_size(ranges); j++)
                        if (st_osv_in_range(json_array_get(ranges, j), version))
                                return 1;
        }
        return 0;
}

static json_t *st_osv_matches(json_t *records, const char *package)
{
        char name[ST_NAME_MAX], version[ST_VERSION_MAX];
        json_t *out = json_array();
        if (!out || st_spec_parse(package, name, version, NULL) < 0)
                return out; /* inuse.json was checked: NAME@VERSION */
        size_t n = json_is_array(records) ? json_array_size(records) : 1;
        for (size_t i = 0; i < n; i++) {
                json_t *rec = json_is_array(records) ? json_array_get(records, i) : records;
                if (!st_osv_affects(rec, name, version))
                        continue;
                json_t *v = json_pack("{s:O}", "id", json_object_get(rec, "id"));
                json_t *summary = json_object_get(rec, "summary");
                if (v && summary)
                        json_object_set(v, "summary", summary);
                if (!v || json_array_append_new(out, v) < 0) {
                        json_decref(out);
                        return NULL;
                }
        }
        return out;
}

static json_t *st_audit_slice(const struct st_inuse_slice *sl, json_t *records)
{
        json_t *archives = json_array();
        for (size_t i = 0; archives && i < sl->n_archives; i++)
                json_array_append_new(archives, json_string(sl->archives[i]));
        json_t *o = json_pack("{s:s, s:s, s:I, s:o}", "slice", sl->slice, "package", sl->package,
                              "generation", (json_int_t)sl->generation, "archives", archives);
        if (o && records) {
                json_t *vulns = st_osv_matches(records, sl->package);
                if (!vulns || json_object_set_new(o, "vulnerabilities", vulns) < 0) {
                        json_decref(o);
                        return NULL;
                }
        }
        return o;
}

int st_audit(struct st_store *s, const void *osv, size_t osv_len, json_t **out,
             struct sl_error *err)
{
        *out = NULL;
        _cleanup_json_ json_t *feed = NULL;
        json_t *records = NULL;
        if (osv) {
                const char *prefix;
                if (!(feed = st_json_parse(osv, osv_len, "osv", err)))
                        return -1;
                if (!(records = st_osv_records(feed, &prefix, err)) ||
                    st_osv_check(records, prefix, err) < 0)
                        return sl_error_prefix(err, "osv");
        }
        struct st_inuse u;
        if (st_inuse_read(st_store_dir(s), &u, err) < 0)
                return -1;
        json_t *slices = json_array();
        for (size_t i = 0; slices && i < u.n; i++)
                if (json_array_append_new(slices, st_audit_slice(&u.slices[i], records)) < 0) {
                        json_decref(slices);
                        slices = NULL;
                }
        st_inuse_free(&u);
        *out = json_pack("{s:o}", "slices", slices);
        if (!*out)
                return sl_error_set(err, ENOMEM, "audit");
        return 0;
}
