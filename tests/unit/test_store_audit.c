/* st_audit (src/store/audit.c): each running slice with its package,
 * generation and archives; OSV advisories matched by exact versions and by
 * ECOSYSTEM/SEMVER ranges; malformed feeds refused naming the position. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/local.h"
#include "support/store_local_fixtures.h"

#define HASH_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define HASH_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

struct t {
        char dir[PATH_MAX / 2];
        char store[PATH_MAX / 2 + 8];
        struct st_store *s;
};

static int setup(void **state)
{
        struct t *t = calloc(1, sizeof *t);
        struct sl_error err = {0};
        if (!t || fx_mkdtemp("test_store_audit", t->dir, sizeof t->dir) < 0)
                return -1;
        snprintf(t->store, sizeof t->store, "%s/store", t->dir);
        if (st_store_open(t->store, ST_WRITE, &t->s, &err) < 0)
                return -1;
        char archives[2][ST_HASH_HEX] = {HASH_A, HASH_B};
        struct st_inuse_slice slices[] = {
            {.slice = "/app/web",
             .package = "world@1",
             .generation = 1,
             .archives = archives,
             .n_archives = 2},
            {.slice = "/app/api",
             .package = "hello@1.0",
             .generation = 2,
             .archives = archives,
             .n_archives = 1},
            {.slice = "/app/old",
             .package = "hello@0.9",
             .generation = 2,
             .archives = NULL,
             .n_archives = 0},
        };
        struct st_inuse u = {.slices = slices, .n = 3};
        if (st_inuse_write(t->store, &u, &err) < 0)
                return -1;
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct t *t = *state;
        st_store_close(t->s);
        fx_rm_rf(t->dir);
        free(t);
        return 0;
}

static json_t *audit(struct t *t, const char *feed)
{
        json_t *out = NULL;
        struct sl_error err = {0};
        if (st_audit(t->s, feed, feed ? strlen(feed) : 0, &out, &err) < 0)
                fail_msg("audit: %s", err.msg);
        return out;
}

/* "ID ID ..." of a slice's vulnerabilities, in feed order. */
static void ids(json_t *slice, char *out, size_t cap)
{
        json_t *v = json_object_get(slice, "vulnerabilities");
        size_t n = 0;
        out[0] = 0;
        for (size_t i = 0; i < json_array_size(v); i++)
                n += (size_t)snprintf(
                    out + n, cap - n, "%s%s", n ? " " : "",
                    json_string_value(json_object_get(json_array_get(v, i), "id")));
}

static void test_without_a_feed_each_slice_lists_package_generation_archives(void **state)
{
        struct t *t = *state;
        json_t *out = audit(t, NULL);
        json_t *slices = json_object_get(out, "slices");
        assert_int_equal(json_array_size(slices), 3);
        json_t *web = json_array_get(slices, 0);
        assert_string_equal(json_string_value(json_object_get(web, "slice")), "/app/web");
        assert_string_equal(json_string_value(json_object_get(web, "package")), "world@1");
        assert_int_equal(json_integer_value(json_object_get(web, "generation")), 1);
        json_t *a = json_object_get(web, "archives");
        assert_int_equal(json_array_size(a), 2);
        assert_string_equal(json_string_value(json_array_get(a, 1)), HASH_B);
        /* Not checked is not the same as none found. */
        assert_null(json_object_get(web, "vulnerabilities"));
        json_decref(out);
}

static const char feed[] =
    "[{\"id\": \"OSV-1\", \"summary\": \"exact version\", \"affected\": [{\"package\": "
    "{\"ecosystem\": \"sliced\", \"name\": \"hello\"}, \"versions\": [\"1.0\"]}]},"
    " {\"id\": \"OSV-2\", \"affected\": [{\"package\": {\"name\": \"hello\"}, \"ranges\": "
    "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"1.0\"}]}]}]},"
    " {\"id\": \"OSV-3\", \"summary\": \"semver\", \"affected\": [{\"package\": {\"name\": "
    "\"world\"}, \"ranges\": [{\"type\": \"SEMVER\", \"events\": [{\"introduced\": \"0.5\"}, "
    "{\"last_affected\": \"1\"}]}]}]},"
    " {\"id\": \"OSV-4\", \"affected\": [{\"package\": {\"name\": \"hello\"}, \"ranges\": "
    "[{\"type\": \"GIT\", \"repo\": \"x\", \"events\": [{\"introduced\": \"0\"}]}]}]},"
    " {\"id\": \"OSV-5\", \"affected\": [{\"package\": {\"name\": \"other\"}, \"versions\": "
    "[\"1.0\", \"0.9\", \"1\"]}]},"
    " {\"id\": \"OSV-6\", \"affected\": [{\"package\": {\"name\": \"hello\"}, \"ranges\": "
    "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"1.0\"}]}]}]},"
    " {\"id\": \"OSV-7\", \"modified\": \"2026-01-01T00:00:00Z\", \"affected\": [{\"package\": "
    "{\"name\": \"hello\"}, \"ranges\": [{\"type\": \"ECOSYSTEM\", \"events\": "
    "[{\"introduced\": \"0.1\"}, {\"fixed\": \"0.5\"}, {\"introduced\": \"0.8\"}, "
    "{\"fixed\": \"0.9.1\"}]}]}]},"
    " {\"id\": \"OSV-8\", \"affected\": [{\"package\": {\"name\": \"world\"}, \"ranges\": "
    "[{\"type\": \"ECOSYSTEM\", \"events\": [{\"introduced\": \"0\"}, {\"fixed\": \"1\"}]}]}]}]";

static void test_advisories_match_by_version_list_and_ranges(void **state)
{
        struct t *t = *state;
        json_t *out = audit(t, feed);
        json_t *slices = json_object_get(out, "slices");
        static const char *const want[] = {
            "OSV-3",       /* world@1: 0.5 <= 1 <= last_affected 1; OSV-8 fixed at 1 */
            "OSV-1 OSV-6", /* hello@1.0: listed; open range from 1.0; OSV-2 fixed at 1.0 */
            "OSV-2 OSV-7", /* hello@0.9: from the start to 1.0; second interval of OSV-7 */
        };
        for (size_t i = 0; i < 3; i++) {
                char got[256];
                ids(json_array_get(slices, i), got, sizeof got);
                assert_string_equal(got, want[i]);
        }
        /* summary when the record has one, omitted when not */
        json_t *api = json_object_get(json_array_get(slices, 1), "vulnerabilities");
        assert_string_equal(json_string_value(json_object_get(json_array_get(api, 0), "summary")),
                            "exact version");
        assert_null(json_object_get(json_array_get(api, 1), "summary"));
        json_decref(out);
}

static void test_a_vulns_object_and_a_single_record_are_feeds_too(void **state)
{
        struct t *t = *state;
        char doc[sizeof feed + 32], got[128];
        snprintf(doc, sizeof doc, "{\"vulns\": %s}", feed);
        json_t *out = audit(t, doc);
        ids(json_array_get(json_object_get(out, "slices"), 1), got, sizeof got);
        assert_string_equal(got, "OSV-1 OSV-6");
        json_decref(out);
        out = audit(t, "{\"id\": \"ONE\", \"affected\": [{\"package\": {\"name\": \"world\"}, "
                       "\"versions\": [\"1\"]}]}");
        ids(json_array_get(json_object_get(out, "slices"), 0), got, sizeof got);
        assert_string_equal(got, "ONE");
        ids(json_array_get(json_object_get(out, "slices"), 1), got, sizeof got);
        assert_string_equal(got, "");
        json_decref(out);
}

static void test_a_malformed_feed_is_refused_naming_the_position(void **state)
{
        struct t *t = *state;
        static const struct {
                const char *doc, *want;
        } cases[] = {
            {"[{\"id\": \"A\"}, {\"id\": \"B\"}, {\"id\": \"C\"}, {\"id\": \"D\", \"affected\": "
             "[{\"ranges\": [{\"type\": \"SEMVER\", \"events\": []}, {\"type\": \"SEMVER\", "
             "\"events\": {}}]}]}]",
             "osv: [3].affected[0].ranges[1].events: not an array"},
            {"[{\"summary\": \"x\"}]", "osv: [0].id: missing"},
            {"[{\"id\": 3}]", "osv: [0].id: not a non-empty string"},
            {"[{\"id\": \"X\", \"summary\": 1}]", "osv: [0].summary: not a string"},
            {"[{\"id\": \"X\", \"affected\": {}}]", "osv: [0].affected: not an array"},
            {"[{\"id\": \"X\", \"affected\": [1]}]", "osv: [0].affected[0]: not an object"},
            {"[{\"id\": \"X\", \"affected\": [{\"package\": {\"ecosystem\": \"x\"}}]}]",
             "osv: [0].affected[0].package.name: missing"},
            {"[{\"id\": \"X\", \"affected\": [{\"versions\": [1]}]}]",
             "osv: [0].affected[0].versions[0]: not a string"},
            {"[{\"id\": \"X\", \"affected\": [{\"ranges\": [{\"events\": []}]}]}]",
             "osv: [0].affected[0].ranges[0].type: missing"},
            {"[{\"id\": \"X\", \"affected\": [{\"ranges\": [{\"type\": \"SEMVER\", \"events\": "
             "[{\"introduced\": \"1\", \"fixed\": \"2\"}]}]}]}]",
             "osv: [0].affected[0].ranges[0].events[0]: must hold exactly one of"},
            {"[{\"id\": \"X\", \"affected\": [{\"ranges\": [{\"type\": \"SEMVER\", \"events\": "
             "[{\"fixed\": 2}]}]}]}]",
             "osv: [0].affected[0].ranges[0].events[0].fixed: not a string"},
            {"[{\"id\": \"X\", \"affected\": [{\"ranges\": [{\"type\": \"SEMVER\", \"events\": "
             "[{\"fixd\": \"2\"}]}]}]}]",
             "osv: [0].affected[0].ranges[0].events[0].fixd: unknown field"},
            {"{\"vulns\": 3}", "osv: vulns: not an array"},
            {"{\"vulns\": [{\"id\": \"X\", \"affected\": 1}]}",
             "osv: vulns[0].affected: not an array"},
            {"{\"affected\": []}", "osv: id: missing"},
            {"[1]", "osv: [0]: not an object"},
            {"[1", "osv:1:"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                json_t *out = NULL;
                struct sl_error err = {0};
                assert_int_equal(st_audit(t->s, cases[i].doc, strlen(cases[i].doc), &out, &err),
                                 -1);
                assert_null(out);
                if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
                        fail_msg("%s: got `%s`, want `%s`", cases[i].doc, err.msg, cases[i].want);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(
                test_without_a_feed_each_slice_lists_package_generation_archives, setup, teardown),
            cmocka_unit_test_setup_teardown(test_advisories_match_by_version_list_and_ranges, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(test_a_vulns_object_and_a_single_record_are_feeds_too,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(test_a_malformed_feed_is_refused_naming_the_position,
                                            setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
