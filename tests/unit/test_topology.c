/* The topology loader as a specification: bad inputs and the exact messages
 * they produce (every error of a file, in file order), good inputs decoded
 * field by field, start order, digests, directories, and hostile input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "supervisor/topology.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* ---- helpers ---- */

static const char *fixture(const char *rel)
{
        static char buf[PATH_MAX];
        const char *src = getenv("SLICED_SOURCE_DIR");
        snprintf(buf, sizeof buf, "%s/tests/unit/data/topology/%s", src ? src : ".", rel);
        return buf;
}

static struct sv_topology *load_ok(const char *name, const char *text)
{
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err = { 0 };
        int r = sv_topology_load_string(name, text, &t, &d, &err);
        for (size_t i = 0; i < d.n; i++)
                print_error("unexpected: %s\n", d.msgs[i]);
        assert_int_equal(r, 0);
        assert_int_equal(d.n, 0);
        assert_non_null(t);
        return t;
}

static struct sv_topology *load_file_ok(const char *path)
{
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err = { 0 };
        int r = sv_topology_load(path, &t, &d, &err);
        for (size_t i = 0; i < d.n; i++)
                print_error("unexpected: %s\n", d.msgs[i]);
        if (r < 0)
                print_error("%s\n", err.msg);
        assert_int_equal(r, 0);
        assert_non_null(t);
        return t;
}

static struct sv_slice_spec *find(const struct sv_topology *t, const char *path)
{
        struct sv_slice_spec *s = sv_topology_find(t, path);
        if (!s)
                print_error("no slice %s\n", path);
        assert_non_null(s);
        return s;
}

/* Check a diagnostic list against the expected messages, all of them. */
static void assert_diag(const struct sv_diag *d, const char *const *want)
{
        size_t n = 0;
        while (want[n])
                n++;
        int ok = d->n == n;
        for (size_t i = 0; ok && i < n; i++)
                ok = !strcmp(d->msgs[i], want[i]);
        if (!ok) {
                print_error("expected %zu messages:\n", n);
                for (size_t i = 0; i < n; i++)
                        print_error("  %s\n", want[i]);
                print_error("got %zu:\n", d->n);
                for (size_t i = 0; i < d->n; i++)
                        print_error("  %s\n", d->msgs[i]);
                fail();
        }
}

static void assert_rejected(const char *name, const char *text, const char *const *want)
{
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err = { 0 };
        assert_int_equal(sv_topology_load_string(name, text, &t, &d, &err), -1);
        assert_null(t);
        assert_int_equal(err.code, EINVAL);
        assert_diag(&d, want);
        /* the summary quotes the first message */
        assert_non_null(strstr(err.msg, want[0]));
        sv_diag_free(&d);
}

/* ---- bad inputs and their exact messages ---- */

#define MSGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

struct bad_case {
        const char *name; /* the behaviour, as the test's name */
        const char *file; /* .json selects JSON */
        const char *text;
        const char *const *want;
};

static const struct bad_case bad_cases[] = {
        { "test_yaml_syntax_error_names_line_and_column", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web\n",
          MSGS("t.yaml:4:1: YAML syntax error: did not find expected ',' or ']' "
               "(while parsing a flow sequence at 3:11)") },
        { "test_json_syntax_error_names_line_and_column", "t.json",
          "{\"slices\": [\n"
          "  {\"name\": \"web\",}\n"
          "]}",
          MSGS("t.json:2:18: JSON syntax error: string or '}' expected near '}'") },
        { "test_unknown_key_suggests_the_closest_key", "web.yaml",
          "slices:\n"
          "  - name: app\n"
          "    slices:\n"
          "      - name: db\n"
          "        exec: [/usr/bin/db]\n"
          "        resources:\n"
          "          memroy: 64M\n",
          MSGS("web.yaml:7:11: /app/db: unknown key 'memroy' (did you mean 'memory'?)") },
        { "test_unknown_key_far_from_any_key_gets_no_suggestion", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    colour: red\n",
          MSGS("t.yaml:4:5: /web: unknown key 'colour'") },
        { "test_unknown_top_level_key_is_reported", "t.yaml",
          "slice:\n"
          "  - name: web\n",
          MSGS("t.yaml:1:1: /: unknown key 'slice' (did you mean 'slices'?)") },
        { "test_duplicate_key_names_the_first_occurrence", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    resources: {memory: 1M, pids: 2, memory: 2M}\n",
          MSGS("t.yaml:4:38: /web: duplicate key 'memory' (first at 4:17)") },
        { "test_wrong_types_name_what_was_expected_and_found", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: /bin/web\n"
          "    resources: [64M]\n"
          "    routes: [log]\n"
          "    hostname: {a: b}\n"
          "    cwd:\n",
          MSGS("t.yaml:3:11: /web: exec: expected a list, got '/bin/web'",
               "t.yaml:4:16: /web: resources: expected a mapping, got a list",
               "t.yaml:5:13: /web: routes: expected a mapping, got a list",
               "t.yaml:6:15: /web: hostname: expected a string, got a mapping",
               "t.yaml:7:9: /web: cwd: expected a string, got null") },
        { "test_bad_sizes_and_counts_quote_the_value", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    resources: {memory: 64Q, pids: 0, files: many}\n",
          MSGS("t.yaml:4:25: /web: resources.memory: '64Q' has an unknown unit (use K, M, G or T)",
               "t.yaml:4:36: /web: resources.pids: '0' is out of range [1, 4194304]",
               "t.yaml:4:46: /web: resources.files: 'many' is not a non-negative integer") },
        { "test_durations_need_a_known_unit", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    stop_timeout: 10\n"
          "    restart: {backoff: {initial: 5sec, max: 0s}}\n",
          MSGS("t.yaml:4:19: /web: stop_timeout: duration '10' needs a unit (ms, s, m or h)",
               "t.yaml:5:34: /web: restart.backoff.initial: duration '5sec' has an unknown unit "
               "'sec' (use ms, s, m or h)",
               "t.yaml:5:45: /web: restart.backoff.max: must be longer than 0") },
        { "test_cpu_values_are_checked", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    resources: {cpu: {weight: 20000, max: 50, cores: 3-1}}\n",
          MSGS("t.yaml:4:31: /web: resources.cpu.weight: '20000' is out of range [1, 10000]",
               "t.yaml:4:43: /web: resources.cpu.max: '50' is not a percentage of one CPU "
               "(e.g. 50%, 200%) or max",
               "t.yaml:4:54: /web: resources.cpu.cores: CPU list '3-1': range 3-1 is reversed") },
        { "test_slice_names_follow_the_name_syntax", "t.yaml",
          "slices:\n"
          "  - name: Web_1\n"
          "    exec: [/bin/web]\n"
          "  - exec: [/bin/db]\n",
          MSGS("t.yaml:2:11: /[0]: name: 'Web_1' is not a valid name (1-63 of a-z, 0-9 and '-', "
               "not starting with '-')",
               "t.yaml:4:5: /[1]: missing 'name'") },
        { "test_enum_values_suggest_the_closest", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    restart: {policy: alway}\n"
          "    network: hots\n"
          "    profile: stict\n",
          MSGS("t.yaml:4:23: /web: restart.policy: 'alway' is not always, on-failure or never "
               "(did you mean 'always'?)",
               "t.yaml:5:14: /web: network: 'hots' is not none or host (did you mean 'host'?)",
               "t.yaml:6:14: /web: profile: 'stict' is not posix or strict (did you mean 'strict'?)") },
        { "test_leaf_without_exec_and_empty_exec_are_rejected", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    cwd: /\n"
          "  - name: db\n"
          "    exec: []\n"
          "  - name: kv\n"
          "    exec: ['']\n",
          MSGS("t.yaml:2:5: /web: missing 'exec' or 'package' (a slice without child slices runs a "
               "command)",
               "t.yaml:5:11: /db: exec: must not be empty",
               "t.yaml:7:12: /kv: exec: the command must not be empty") },
        { "test_mount_paths_must_be_absolute_and_plain", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    mounts:\n"
          "      - srv/www:/www\n"
          "      - {src: /srv, dest: www}\n"
          "      - /srv/../etc:/etc\n"
          "      - /srv:/srv:rx\n"
          "      - {dest: /x}\n"
          "      - /a:/www\n"
          "      - /b:/www\n",
          MSGS("t.yaml:5:9: /web: mounts[0]: mount source 'srv/www' is not an absolute path",
               "t.yaml:6:27: /web: mounts[1].dest: mount destination 'www' is not an absolute path",
               "t.yaml:7:9: /web: mounts[2]: mount source '/srv/../etc' must not contain '..' "
               "components",
               "t.yaml:8:9: /web: mounts[3]: '/srv:/srv:rx': the mode is ro or rw, not 'rx'",
               "t.yaml:9:9: /web: mounts[4]: missing 'src'",
               "t.yaml:11:9: /web: mounts[6]: '/www' is already mounted by mounts[5]") },
        { "test_duplicate_sibling_names_name_both_places", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "  - name: web\n"
          "    exec: [/bin/web2]\n",
          MSGS("t.yaml:4:5: /web: duplicate slice name 'web' (first defined at t.yaml:2:5)") },
        { "test_route_to_unknown_slice_suggests_a_sibling", "t.yaml",
          "slices:\n"
          "  - name: db\n"
          "    exec: [/bin/db]\n"
          "    provides: [kv]\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    routes: {kv: {slice: dbb}, log: {slice: zzz}}\n",
          MSGS("t.yaml:7:14: /web: routes.kv: no sibling or child slice named 'dbb' (did you mean "
               "'db'?)",
               "t.yaml:7:32: /web: routes.log: no sibling or child slice named 'zzz'") },
        { "test_route_to_slice_that_does_not_provide_the_service", "t.yaml",
          "slices:\n"
          "  - name: db\n"
          "    exec: [/bin/db]\n"
          "    provides: [kv]\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    routes: {blob: {slice: db}}\n",
          MSGS("t.yaml:7:14: /web: routes.blob: slice 'db' does not provide 'blob'") },
        { "test_route_forms_and_labels_are_checked", "t.yaml",
          "slices:\n"
          "  - name: db\n"
          "    exec: [/bin/db]\n"
          "    provides: [kv]\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    routes:\n"
          "      kv: {slice: db, label: 'read only'}\n"
          "      blob: db\n"
          "      Bad: deny\n"
          "      x: {label: a}\n"
          "      default: {slice: db}\n",
          MSGS("t.yaml:8:30: /web: routes.kv.label: 'read only' is not a valid label (1-63 of A-Z, "
               "a-z, 0-9, '-', '_' and '.', starting with a letter or digit)",
               "t.yaml:9:13: /web: routes.blob: 'db' is not parent or deny (to route to slice 'db', "
               "write {slice: db})",
               "t.yaml:10:7: /web: routes.Bad: 'Bad' is not a valid service name (1-63 of a-z, 0-9, "
               "'-', '_' and '.', starting with a letter or digit)",
               "t.yaml:11:10: /web: routes.x: missing 'slice'",
               "t.yaml:12:16: /web: routes.default: the default route is parent or deny, not a "
               "mapping") },
        { "test_route_to_itself_is_rejected", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    provides: [kv]\n"
          "    routes: {kv: {slice: web}}\n",
          MSGS("t.yaml:5:14: /web: routes.kv: a slice cannot route to itself") },
        { "test_platform_provides_only_its_own_services", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    routes: {log: parent, config: parent, rom: parent, report: parent, kv: parent}\n",
          MSGS("t.yaml:4:72: /web: routes.kv: the platform provides no 'kv'") },
        { "test_parent_route_reaching_the_platform_through_defaults_is_named", "t.yaml",
          "slices:\n"
          "  - name: app\n"
          "    routes: {default: parent}\n"
          "    slices:\n"
          "      - name: web\n"
          "        exec: [/bin/web]\n"
          "        routes: {kv: parent, log: parent, blob: parent}\n"
          "  - name: sys\n"
          "    routes: {blob: deny, kv: parent}\n"
          "    slices:\n"
          "      - name: web\n"
          "        exec: [/bin/web]\n"
          "        routes: {kv: parent, blob: parent, other: parent}\n",
          MSGS("t.yaml:7:18: /app/web: routes.kv: the platform provides no 'kv' (reached through "
               "the default route of /app)",
               "t.yaml:7:43: /app/web: routes.blob: the platform provides no 'blob' (reached "
               "through the default route of /app)",
               "t.yaml:9:26: /sys: routes.kv: the platform provides no 'kv'") },
        { "test_children_needing_more_memory_than_the_parent_name_the_sum", "t.yaml",
          "slices:\n"
          "  - name: app\n"
          "    resources: {memory: 64M, pids: 10, files: 100}\n"
          "    slices:\n"
          "      - name: db\n"
          "        exec: [/bin/db]\n"
          "        resources: {memory: 32M, pids: 6, files: 50}\n"
          "      - name: web\n"
          "        exec: [/bin/web]\n"
          "        resources: {memory: 64M, pids: 5, files: 50}\n",
          MSGS("t.yaml:3:25: /app: children need 96M of memory, the slice has 64M",
               "t.yaml:3:36: /app: children need 11 pids, the slice has 10") },
        { "test_quota_of_a_limitless_group_is_what_its_children_need", "t.yaml",
          "slices:\n"
          "  - name: sys\n"
          "    resources: {files: 100}\n"
          "    slices:\n"
          "      - name: grp\n"
          "        slices:\n"
          "          - name: a\n"
          "            exec: [/bin/a]\n"
          "            resources: {files: 60}\n"
          "          - name: b\n"
          "            exec: [/bin/b]\n"
          "            resources: {files: 60}\n",
          MSGS("t.yaml:3:24: /sys: children need 120 files, the slice has 100") },
        { "test_child_cores_must_lie_within_the_nearest_ancestor_cores", "t.yaml",
          "slices:\n"
          "  - name: app\n"
          "    resources: {cpu: {cores: 0-1}}\n"
          "    slices:\n"
          "      - name: grp\n"
          "        slices:\n"
          "          - name: web\n"
          "            exec: [/bin/web]\n"
          "            resources: {cpu: {cores: [1, 2-3]}}\n",
          MSGS("t.yaml:9:38: /app/grp/web: resources.cpu.cores: CPUs 2-3 are outside the cores of "
               "/app (0-1)") },
        { "test_route_cycle_among_siblings_is_named", "t.yaml",
          "slices:\n"
          "  - name: a\n"
          "    exec: [/bin/a]\n"
          "    provides: [s]\n"
          "    routes: {t: {slice: b}}\n"
          "  - name: b\n"
          "    exec: [/bin/b]\n"
          "    provides: [t]\n"
          "    routes: {s: {slice: a}}\n",
          MSGS("t.yaml:5:14: /a: route cycle: /a -> /b -> /a") },
        { "test_route_cycle_through_a_parent_route_is_named", "t.yaml",
          "slices:\n"
          "  - name: app\n"
          "    routes: {kv: {slice: db}}\n"
          "    slices:\n"
          "      - name: db\n"
          "        exec: [/bin/db]\n"
          "        provides: [kv]\n"
          "        routes: {web: {slice: web}}\n"
          "      - name: web\n"
          "        exec: [/bin/web]\n"
          "        provides: [web]\n"
          "        routes: {kv: parent}\n",
          MSGS("t.yaml:8:18: /app/db: route cycle: /app/db -> /app/web -> /app/db") },
        { "test_every_error_in_a_file_is_reported_in_file_order", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    resources: {memory: lots}\n"
          "    routes: {kv: {slice: nope}}\n"
          "    stop_timeout: soon\n"
          "  - name: web\n"
          "    exce: [/bin/web]\n",
          MSGS("t.yaml:4:25: /web: resources.memory: 'lots' is not a size (expected e.g. 64M, 1G, "
               "4096)",
               "t.yaml:5:14: /web: routes.kv: no sibling or child slice named 'nope'",
               "t.yaml:6:19: /web: stop_timeout: 'soon' is not a duration (expected e.g. 100ms, 5s, "
               "2m, 1h)",
               "t.yaml:7:5: /web: missing 'exec' or 'package' (a slice without child slices runs a "
               "command)",
               "t.yaml:7:5: /web: duplicate slice name 'web' (first defined at t.yaml:2:5)",
               "t.yaml:8:5: /web: unknown key 'exce' (did you mean 'exec'?)") },
        { "test_json_semantic_errors_name_line_and_column", "t.json",
          "{\"slices\": [\n"
          "  {\"name\": \"web\", \"exec\": [\"/bin/web\"],\n"
          "   \"resources\": {\"memroy\": \"64M\", \"pids\": -1},\n"
          "   \"routes\": {\"kv\": \"parent\"}}\n"
          "]}\n",
          MSGS("t.json:3:18: /web: unknown key 'memroy' (did you mean 'memory'?)",
               "t.json:3:43: /web: resources.pids: '-1' is not a non-negative integer",
               "t.json:4:15: /web: routes.kv: the platform provides no 'kv'") },
        { "test_json_columns_count_characters_not_bytes", "t.json",
          "{\"slices\": [{\"name\": \"web\", \"exec\": [\"/bin/wéb\"], \"cwd\": \"x\"}]}",
          MSGS("t.json:1:58: /web: cwd: directory 'x' is not an absolute path") },
        { "test_yaml_alias_is_rejected_where_written", "t.yaml",
          "x: &cmd [/bin/web]\n"
          "slices:\n"
          "  - name: web\n"
          "    exec: *cmd\n",
          MSGS("t.yaml:4:11: YAML aliases are not supported: write the value out") },
        { "test_second_yaml_document_is_rejected", "t.yaml",
          "slices: []\n"
          "---\n"
          "slices: []\n",
          MSGS("t.yaml:2:1: a file holds one YAML document; this is a second one") },
        { "test_nul_character_in_a_string_is_rejected", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [\"/bin/web\\0x\"]\n",
          MSGS("t.yaml:3:12: string contains a NUL character") },
        { "test_top_level_and_slices_must_be_mappings", "t.yaml",
          "slices:\n"
          "  - web\n"
          "  - [a]\n",
          MSGS("t.yaml:2:5: /: slices: a slice is a mapping, not 'web'",
               "t.yaml:3:5: /: slices: a slice is a mapping, not a list") },
        { "test_top_level_list_is_rejected", "t.yaml", "- name: web\n",
          MSGS("t.yaml:1:1: /: expected a mapping with a 'slices' list, got a list") },
        { "test_health_needs_exactly_one_of_exec_or_heartbeat", "t.yaml",
          "slices:\n"
          "  - name: a\n"
          "    exec: [/bin/a]\n"
          "    health: {exec: [/bin/true], heartbeat: 1s}\n"
          "  - name: b\n"
          "    exec: [/bin/b]\n"
          "    health: {interval: 1s}\n"
          "  - name: c\n"
          "    exec: [/bin/c]\n"
          "    health: {heartbeat: 1s, timeout: 1s}\n",
          MSGS("t.yaml:4:13: /a: health: use either exec or heartbeat, not both",
               "t.yaml:7:13: /b: health: needs exec (a probe) or heartbeat",
               "t.yaml:10:13: /c: health: interval and timeout apply to exec probes; a heartbeat "
               "has its own period") },
        { "test_env_names_and_pairs_are_checked", "t.yaml",
          "slices:\n"
          "  - name: a\n"
          "    exec: [/bin/a]\n"
          "    env: {1X: a, OK: b, NUL: ~}\n"
          "  - name: b\n"
          "    exec: [/bin/b]\n"
          "    env: [A=1, B, A=2]\n",
          MSGS("t.yaml:4:11: /a: env: '1X' is not a valid variable name (letters, digits and '_', "
               "not starting with a digit)",
               "t.yaml:4:30: /a: env.NUL: expected a string, got null",
               "t.yaml:7:16: /b: env[1]: 'B' is not KEY=VALUE",
               "t.yaml:7:19: /b: env[2]: 'A' is set twice") },
        { "test_listen_addresses_are_checked_without_binding", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    network: {listen: ['tcp:127.0.0.1:99999', 'unix:run/x.sock', 'udp:1.2.3.4:5', "
          "'=tcp::80'], mode: none}\n",
          MSGS("t.yaml:4:24: /web: network.listen[0]: listen 'tcp:127.0.0.1:99999': port '99999' "
               "is not a number in 1-65535",
               "t.yaml:4:47: /web: network.listen[1]: listen 'unix:run/x.sock': unix socket path "
               "must be absolute",
               "t.yaml:4:66: /web: network.listen[2]: listen 'udp:1.2.3.4:5': expected "
               "[NAME=]tcp:HOST:PORT or [NAME=]unix:PATH",
               "t.yaml:4:83: /web: network.listen[3]: listen '=tcp::80': NAME must be 1-63 "
               "characters without ':'",
               "t.yaml:4:96: /web: unknown key 'mode'") },
        { "test_group_without_exec_cannot_provide_or_be_probed", "t.yaml",
          "slices:\n"
          "  - name: grp\n"
          "    provides: [kv]\n"
          "    health: {heartbeat: 1s}\n"
          "    slices:\n"
          "      - name: web\n"
          "        exec: [/bin/web]\n",
          MSGS("t.yaml:3:15: /grp: provides: a slice without 'exec' or 'package' cannot provide "
               "services",
               "t.yaml:4:13: /grp: health: a slice without 'exec' or 'package' has nothing to "
               "check") },
        { "test_package_names_an_exact_version", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    package: hello\n"
          "  - name: db\n"
          "    package: -db@1.0\n"
          "  - name: kv\n"
          "    package: kv@1/2\n"
          "  - name: log\n"
          "    package: [log@1.0]\n"
          "  - name: fs\n"
          "    package: fs@\n",
          MSGS("t.yaml:3:14: /web: package: 'hello' names no version (write NAME@VERSION, e.g. "
               "hello@1.0)",
               "t.yaml:5:14: /db: package: -db@1.0: `-db` is not a package name (letters, digits, "
               "`-_.+`, starting with a letter or digit, at most 127)",
               "t.yaml:7:14: /kv: package: kv@1/2: `1/2` is not a version (letters, digits, "
               "`-_.+~:`, starting with a letter or digit, at most 63)",
               "t.yaml:9:14: /log: package: expected a string, got a list",
               "t.yaml:11:14: /fs: package: fs@: `` is not a version (letters, digits, `-_.+~:`, "
               "starting with a letter or digit, at most 63)") },
        { "test_grants_cannot_be_mounted_over_or_inside_the_package", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    package: hello@1.0\n"
          "    mounts:\n"
          "      - /srv/www:/www\n"
          "      - /srv/data:/pkg/data\n"
          "      - {src: /srv/pkg, dest: /pkg}\n"
          "      - /srv/pkg2:/pkg2\n",
          MSGS("t.yaml:6:9: /web: mounts: '/pkg/data' is inside /pkg, where package hello@1.0 is "
               "mounted",
               "t.yaml:7:9: /web: mounts: '/pkg' is inside /pkg, where package hello@1.0 is "
               "mounted") },
        { "test_provides_lists_each_service_once", "t.yaml",
          "slices:\n"
          "  - name: db\n"
          "    exec: [/bin/db]\n"
          "    provides: [kv, default, kv]\n",
          MSGS("t.yaml:4:20: /db: provides[1]: 'default' names the default route, not a service",
               "t.yaml:4:29: /db: provides[2]: 'kv' is listed twice") },
        { "test_hostname_cwd_and_backoff_are_checked", "t.yaml",
          "slices:\n"
          "  - name: web\n"
          "    exec: [/bin/web]\n"
          "    hostname: -web\n"
          "    cwd: /srv/./www\n"
          "    restart: {backoff: {initial: 1m, max: 10s}}\n",
          MSGS("t.yaml:4:15: /web: hostname: '-web' is not a valid hostname (1-64 of letters, "
               "digits, '-' and '.')",
               "t.yaml:5:10: /web: cwd: directory '/srv/./www' must not contain '.' components",
               "t.yaml:6:24: /web: restart.backoff: initial (60000ms) is longer than max (10000ms)") },
        { "test_slice_and_child_with_the_same_name_make_a_route_ambiguous", "t.yaml",
          "slices:\n"
          "  - name: db\n"
          "    exec: [/bin/db]\n"
          "    provides: [kv]\n"
          "  - name: app\n"
          "    exec: [/bin/app]\n"
          "    routes: {kv: {slice: db}}\n"
          "    slices:\n"
          "      - name: db\n"
          "        exec: [/bin/db]\n"
          "        provides: [kv]\n",
          MSGS("t.yaml:7:14: /app: routes.kv: 'db' names both a sibling and a child; rename one") },
};

static void run_bad_case(void **state)
{
        const struct bad_case *c = *state;
        assert_rejected(c->file, c->text, c->want);
}

/* ---- limits: generated input ---- */

static void test_slices_nested_deeper_than_the_limit_are_rejected(void **state)
{
        char text[8192];
        size_t off = 0;
        off += (size_t)snprintf(text + off, sizeof text - off, "{\"slices\": [");
        for (int i = 0; i <= SV_TOPO_MAX_DEPTH; i++)
                off += (size_t)snprintf(text + off, sizeof text - off,
                                        "{\"name\": \"s%d\", \"exec\": [\"/x\"], \"slices\": [", i);
        for (int i = 0; i <= SV_TOPO_MAX_DEPTH; i++)
                off += (size_t)snprintf(text + off, sizeof text - off, "]}");
        snprintf(text + off, sizeof text - off, "]}");
        /* the 16th slice's "slices" list would hold a 17th level */
        assert_rejected("deep.json", text,
                        MSGS("deep.json:1:690: /s0/s1/s2/s3/s4/s5/s6/s7/s8/s9/s10/s11/s12/s13/s14/s15: "
                             "slices: slices nested deeper than 16 levels"));
}

static void test_more_slices_than_the_limit_are_rejected(void **state)
{
        size_t cap = (SV_TOPO_MAX_SLICES + 2) * 40 + 64;
        char *text = malloc(cap);
        size_t off = 0;
        assert_non_null(text);
        off += (size_t)snprintf(text + off, cap - off, "slices:\n");
        for (int i = 0; i <= SV_TOPO_MAX_SLICES; i++)
                off += (size_t)snprintf(text + off, cap - off, "- {name: s%d, exec: [/x]}\n", i);
        assert_rejected("many.yaml", text,
                        MSGS("many.yaml:4098:3: more than 4096 slices in the topology"));
        free(text);
}

static void test_deep_yaml_nesting_is_rejected_not_recursed(void **state)
{
        char text[512];
        memset(text, '[', 100);
        text[100] = '\0';
        assert_rejected("deep.yaml", text, MSGS("deep.yaml:1:65: nesting deeper than 64 levels"));
}

static void test_string_longer_than_the_limit_is_rejected(void **state)
{
        size_t n = SV_TOPO_MAX_STRING + 1;
        char *text = malloc(n + 64);
        assert_non_null(text);
        strcpy(text, "slices:\n  - name: web\n    exec: [/");
        size_t off = strlen(text);
        memset(text + off, 'a', n);
        strcpy(text + off + n, "]\n");
        assert_rejected("long.yaml", text, MSGS("long.yaml:3:12: string longer than 4096 bytes"));
        free(text);
}

/* ---- good inputs ---- */

static int has(char **v, const char *s)
{
        for (; v && *v; v++)
                if (!strcmp(*v, s))
                        return 1;
        return 0;
}

static size_t count(char **v)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        return n;
}

static void check_example(const struct sv_topology *t, const char *dir)
{
        char policy[PATH_MAX];
        assert_int_equal(t->n_slices, 2);

        struct sv_slice_spec *store = find(t, "/store");
        assert_string_equal(store->name, "store");
        assert_null(store->parent);
        assert_int_equal(count(store->exec), 3);
        assert_string_equal(store->exec[2], "/var/lib/store");
        assert_int_equal(count(store->env), 2);
        assert_true(has(store->env, "LANG=C.UTF-8"));
        assert_true(has(store->env, "STORE_MODE=fast"));
        assert_string_equal(store->profile, "strict");
        assert_string_equal(store->hostname, "store"); /* default: the name */
        assert_string_equal(store->cwd, "/");
        assert_int_equal(store->res.memory, 32 << 20);
        assert_int_equal(store->res.pids, 8);
        assert_int_equal(store->res.files, 64);
        assert_int_equal(store->res.cpu_weight, 200);
        assert_int_equal(store->res.cpu_quota_us, 50000);
        assert_int_equal(store->res.cpu_period_us, 100000);
        assert_int_equal(CPU_COUNT(&store->res.cpus), 2);
        assert_true(CPU_ISSET(0, &store->res.cpus) && CPU_ISSET(1, &store->res.cpus));
        assert_int_equal(store->n_mounts, 2);
        assert_string_equal(store->mounts[0].src, "/var/lib/store");
        assert_string_equal(store->mounts[0].dest, "/data");
        assert_true(store->mounts[0].rw);
        assert_string_equal(store->mounts[1].src, "/etc/ssl/certs");
        assert_string_equal(store->mounts[1].dest, "/etc/ssl/certs"); /* default: src */
        assert_false(store->mounts[1].rw);
        assert_int_equal(store->net, SV_NET_NONE);
        assert_null(store->listen);
        assert_true(has(store->provides, "kv") && has(store->provides, "blob"));
        assert_int_equal(store->n_routes, 1);
        assert_int_equal(store->routes[0].target, SV_ROUTE_PARENT);
        assert_int_equal(store->restart.policy, SV_RESTART_ALWAYS);
        assert_int_equal(store->restart.backoff_initial_ms, 200);
        assert_int_equal(store->restart.backoff_max_ms, 90000);
        assert_int_equal(store->restart.crash_loop_max, 3);
        assert_int_equal(store->restart.crash_loop_window_ms, 120000);
        assert_int_equal(store->health.kind, SV_HEALTH_HEARTBEAT);
        assert_int_equal(store->health.heartbeat_ms, 1000);
        assert_int_equal(store->health.failure_threshold, 2);
        assert_int_equal(store->stop_timeout_ms, 3000);
        assert_int_equal(store->start_rank, 0);

        struct sv_slice_spec *app = find(t, "/app");
        assert_null(app->exec); /* a pure group */
        assert_string_equal(app->hostname, "appliance");
        assert_int_equal(app->res.memory, 96 << 20);
        assert_int_equal(CPU_COUNT(&app->res.cpus), 3);
        assert_int_equal(app->n_routes, 2);
        assert_string_equal(app->routes[0].service, "kv");
        assert_int_equal(app->routes[0].target, SV_ROUTE_SLICE);
        assert_string_equal(app->routes[0].slice, "store");
        assert_string_equal(app->routes[0].label, "app");
        assert_ptr_equal(app->routes[0].to, store);
        assert_string_equal(app->routes[1].service, "default");
        assert_int_equal(app->routes[1].target, SV_ROUTE_PARENT);
        assert_int_equal(app->n_children, 2);
        assert_int_equal(app->start_rank, 1); /* /app/web reaches /store through /app */

        struct sv_slice_spec *web = find(t, "/app/web");
        assert_ptr_equal(web->parent, app);
        assert_string_equal(web->path, "/app/web");
        assert_int_equal(count(web->env), 2);
        assert_string_equal(web->env[0], "PORT=8080");
        assert_true(has(web->env, "DEBUG="));
        snprintf(policy, sizeof policy, "%s/policies/web.policy", dir);
        assert_string_equal(web->profile, policy);
        assert_string_equal(web->cwd, "/srv");
        assert_int_equal(web->res.memory, 64 << 20);
        assert_int_equal(web->res.cpu_quota_us, 0); /* max: unlimited */
        assert_int_equal(web->n_mounts, 2);
        assert_string_equal(web->mounts[0].dest, "/www");
        assert_false(web->mounts[0].rw);
        assert_true(web->mounts[1].rw);
        assert_int_equal(web->net, SV_NET_NONE);
        assert_int_equal(count(web->listen), 2);
        assert_string_equal(web->listen[0], "http=tcp:127.0.0.1:8080");
        /* routes keep file order: first match wins */
        assert_int_equal(web->n_routes, 4);
        const char *order[] = { "kv", "cache", "secrets", "default" };
        const enum sv_route_target targets[] = { SV_ROUTE_PARENT, SV_ROUTE_SLICE, SV_ROUTE_DENY,
                                                 SV_ROUTE_DENY };
        for (size_t i = 0; i < 4; i++) {
                assert_string_equal(web->routes[i].service, order[i]);
                assert_int_equal(web->routes[i].target, targets[i]);
        }
        assert_string_equal(web->routes[1].label, "ro");
        assert_int_equal(web->health.kind, SV_HEALTH_EXEC);
        assert_string_equal(web->health.exec[0], "/bin/true");
        assert_int_equal(web->health.interval_ms, 5000);
        assert_int_equal(web->health.timeout_ms, 1000);
        assert_int_equal(web->health.failure_threshold, 4);
        assert_int_equal(web->health.start_period_ms, 10000);
        assert_int_equal(web->restart.policy, SV_RESTART_ON_FAILURE); /* default */
        assert_int_equal(web->start_rank, 1);                       /* after cache */

        struct sv_slice_spec *cache = find(t, "/app/cache");
        assert_int_equal(cache->net, SV_NET_HOST);
        assert_int_equal(cache->restart.policy, SV_RESTART_NEVER);
        assert_int_equal(cache->start_rank, 0);
        assert_ptr_equal(web->routes[1].to, cache);
}

static void test_example_yaml_decodes_every_field(void **state)
{
        char dir[PATH_MAX];
        assert_non_null(realpath(fixture(""), dir));
        struct sv_topology *t = load_file_ok(fixture("example.yaml"));
        check_example(t, dir);
        assert_int_equal(t->n_files, 1);
        assert_string_equal(t->files[0], fixture("example.yaml"));
        assert_ptr_equal(find(t, "/app/web")->pos.file, t->files[0]);
        assert_int_equal(find(t, "/app/web")->pos.line, 29);
        assert_int_equal(find(t, "/app/web")->pos.col, 9);
        sv_topology_free(t);
}

static void test_example_json_decodes_like_the_yaml(void **state)
{
        char dir[PATH_MAX];
        assert_non_null(realpath(fixture(""), dir));
        struct sv_topology *t = load_file_ok(fixture("example.json"));
        check_example(t, dir);
        sv_topology_free(t);
}

static void test_json_equivalent_yields_the_same_digests(void **state)
{
        struct sv_topology *y = load_file_ok(fixture("example.yaml"));
        struct sv_topology *j = load_file_ok(fixture("example.json"));
        const char *paths[] = { "/store", "/app", "/app/web", "/app/cache" };
        for (size_t i = 0; i < N_OF(paths); i++)
                assert_memory_equal(find(y, paths[i])->digest, find(j, paths[i])->digest, 32);
        sv_topology_free(y);
        sv_topology_free(j);
}

static void test_minimal_slice_gets_the_documented_defaults(void **state)
{
        struct sv_topology *t = load_ok("t.yaml", "slices: [{name: web, exec: [/bin/web]}]\n");
        struct sv_slice_spec *s = find(t, "/web");
        assert_null(s->env);
        assert_string_equal(s->profile, "posix");
        assert_string_equal(s->hostname, "web");
        assert_string_equal(s->cwd, "/");
        assert_int_equal(s->res.memory, 0);
        assert_int_equal(s->res.pids, 0);
        assert_int_equal(s->res.files, 0);
        assert_int_equal(s->res.cpu_weight, 0);
        assert_null(s->res.cores);
        assert_null(s->package);
        assert_int_equal(s->n_mounts, 0);
        assert_int_equal(s->net, SV_NET_NONE);
        assert_null(s->provides);
        assert_int_equal(s->n_routes, 0);
        assert_null(sv_slice_route(s, "log")); /* no rule: deny */
        assert_int_equal(s->restart.policy, SV_RESTART_ON_FAILURE);
        assert_int_equal(s->restart.backoff_initial_ms, 100);
        assert_int_equal(s->restart.backoff_max_ms, 30000);
        assert_int_equal(s->restart.crash_loop_max, 5);
        assert_int_equal(s->restart.crash_loop_window_ms, 60000);
        assert_int_equal(s->health.kind, SV_HEALTH_NONE);
        assert_int_equal(s->stop_timeout_ms, 10000);
        assert_int_equal(s->n_children, 0);
        sv_topology_free(t);
}

static void test_durations_accept_units_and_compounds(void **state)
{
        struct sv_topology *t = load_ok("t.yaml",
                                        "slices:\n"
                                        "  - name: web\n"
                                        "    exec: [/bin/web]\n"
                                        "    stop_timeout: 0\n"
                                        "    restart: {backoff: {initial: 250ms, max: 1h2m3s}, "
                                        "crash_loop: {window: 2m}}\n"
                                        "    health: {heartbeat: 1500ms, start_period: 0s}\n");
        struct sv_slice_spec *s = find(t, "/web");
        assert_int_equal(s->stop_timeout_ms, 0);
        assert_int_equal(s->restart.backoff_initial_ms, 250);
        assert_int_equal(s->restart.backoff_max_ms, 3723000);
        assert_int_equal(s->restart.crash_loop_window_ms, 120000);
        assert_int_equal(s->health.heartbeat_ms, 1500);
        sv_topology_free(t);
}

static void test_relative_policy_file_resolves_against_the_topology_directory(void **state)
{
        const char *text = "slices:\n"
                           "  - {name: a, exec: [/x], profile: ./a.policy}\n"
                           "  - {name: b, exec: [/x], profile: ../policies/b.policy}\n"
                           "  - {name: c, exec: [/x], profile: /etc/sliced/c.policy}\n";
        struct sv_topology *t = load_ok("/etc/sliced/slices.d/t.yaml", text);
        assert_string_equal(find(t, "/a")->profile, "/etc/sliced/slices.d/a.policy");
        assert_string_equal(find(t, "/b")->profile, "/etc/sliced/slices.d/../policies/b.policy");
        assert_string_equal(find(t, "/c")->profile, "/etc/sliced/c.policy");
        sv_topology_free(t);
        /* a name without a directory: kept as written */
        t = load_ok("t.yaml", text);
        assert_string_equal(find(t, "/a")->profile, "./a.policy");
        sv_topology_free(t);
}

static void test_relative_mount_source_resolves_against_the_topology_directory(void **state)
{
        (void)state;
        const char *text = "slices:\n"
                           "  - name: a\n"
                           "    exec: [/x]\n"
                           "    mounts: [{src: ./www, dest: /srv/www}, ./data:/data:rw]\n";
        struct sv_topology *t = load_ok("/opt/app/t.yaml", text);
        const struct sv_slice_spec *a = find(t, "/a");
        assert_int_equal(a->n_mounts, 2);
        assert_string_equal(a->mounts[0].src, "/opt/app/www");
        assert_string_equal(a->mounts[0].dest, "/srv/www");
        assert_string_equal(a->mounts[1].src, "/opt/app/data");
        assert_true(a->mounts[1].rw);
        sv_topology_free(t);
        /* "../" climbs from the topology's directory, folded lexically */
        t = load_ok("/opt/app/conf/t.yaml",
                    "slices: [{name: a, exec: [/x], mounts: ['../bin/./x:/x', ./y/../z:/z]}]\n");
        assert_string_equal(find(t, "/a")->mounts[0].src, "/opt/app/bin/x");
        assert_string_equal(find(t, "/a")->mounts[1].src, "/opt/app/conf/z");
        sv_topology_free(t);
        /* a destination is never relative */
        assert_rejected("t.yaml", "slices: [{name: a, exec: [/x], mounts: [{src: /w, dest: ./w}]}]\n",
                        MSGS("t.yaml:1:57: /a: mounts[0].dest: mount destination './w' is not an absolute path"));
}

static void test_empty_file_is_an_empty_topology(void **state)
{
        struct sv_topology *t = load_ok("t.yaml", "# nothing yet\n");
        assert_int_equal(t->n_slices, 0);
        sv_topology_free(t);
        t = load_ok("t.yaml", "slices: []\n");
        assert_int_equal(t->n_slices, 0);
        sv_topology_free(t);
}

static int record(struct sv_slice_spec *s, void *ctx)
{
        char *out = ctx;
        strcat(out, s->path);
        strcat(out, " ");
        return 0;
}

static void test_walk_visits_parents_first_and_servers_before_clients(void **state)
{
        struct sv_topology *t = load_ok("t.yaml",
                                        "slices:\n"
                                        "  - name: web\n"
                                        "    exec: [/bin/web]\n"
                                        "    routes: {kv: {slice: db}, auth: {slice: auth}}\n"
                                        "  - name: db\n"
                                        "    exec: [/bin/db]\n"
                                        "    provides: [kv]\n"
                                        "    routes: {auth: {slice: auth}}\n"
                                        "  - name: auth\n"
                                        "    exec: [/bin/auth]\n"
                                        "    provides: [auth]\n"
                                        "    slices:\n"
                                        "      - name: b\n"
                                        "        exec: [/bin/b]\n"
                                        "        routes: {x: {slice: a}}\n"
                                        "      - name: a\n"
                                        "        exec: [/bin/a]\n"
                                        "        provides: [x]\n"
                                        "  - name: tool\n"
                                        "    exec: [/bin/tool]\n");
        assert_int_equal(find(t, "/auth")->start_rank, 0);
        assert_int_equal(find(t, "/tool")->start_rank, 0);
        assert_int_equal(find(t, "/db")->start_rank, 1);
        assert_int_equal(find(t, "/web")->start_rank, 2);
        char order[256] = "";
        assert_int_equal(sv_topology_walk(t, record, order), 0);
        assert_string_equal(order, "/auth /auth/a /auth/b /tool /db /web ");
        sv_topology_free(t);
}

static int stop_at_db(struct sv_slice_spec *s, void *ctx)
{
        (*(int *)ctx)++;
        return strcmp(s->path, "/db") ? 0 : 7;
}

static void test_walk_stops_at_the_first_nonzero_result(void **state)
{
        struct sv_topology *t = load_ok("t.yaml", "slices:\n"
                                                  "  - {name: db, exec: [/x]}\n"
                                                  "  - {name: web, exec: [/x]}\n");
        int visited = 0;
        assert_int_equal(sv_topology_walk(t, stop_at_db, &visited), 7);
        assert_int_equal(visited, 1);
        sv_topology_free(t);
}

static void test_find_and_route_lookup(void **state)
{
        struct sv_topology *t = load_ok("t.yaml",
                                        "slices:\n"
                                        "  - name: app\n"
                                        "    routes: {log: parent, default: deny}\n"
                                        "    slices:\n"
                                        "      - name: db\n"
                                        "        exec: [/bin/db]\n");
        assert_null(sv_topology_find(t, "/nope"));
        assert_null(sv_topology_find(t, "app"));
        assert_null(sv_topology_find(t, "/app/db/x"));
        struct sv_slice_spec *app = find(t, "/app");
        assert_ptr_equal(find(t, "/app/db")->parent, app);
        const struct sv_route *r = sv_slice_route(app, "log");
        assert_non_null(r);
        assert_int_equal(r->target, SV_ROUTE_PARENT);
        r = sv_slice_route(app, "kv");
        assert_non_null(r);
        assert_string_equal(r->service, "default");
        assert_int_equal(r->target, SV_ROUTE_DENY);
        assert_true(sv_platform_provides("rom"));
        assert_false(sv_platform_provides("kv"));
        sv_topology_free(t);
}

/* ---- digests ---- */

static const char digest_base[] = "slices:\n"
                                  "  - name: db\n"
                                  "    exec: [/bin/db, --fast]\n"
                                  "    env: {A: '1', B: '2'}\n"
                                  "    resources: {memory: 64M, cpu: {cores: 0-1}}\n"
                                  "    provides: [kv, blob]\n"
                                  "    routes: {log: parent, default: deny}\n"
                                  "    slices: [{name: child, exec: [/bin/c]}]\n"
                                  "  - name: web\n"
                                  "    exec: [/bin/web]\n";

static void digest_of(const char *text, const char *path, unsigned char out[32])
{
        struct sv_topology *t = load_ok("t.yaml", text);
        memcpy(out, find(t, path)->digest, 32);
        sv_topology_free(t);
}

static void test_digest_survives_reformatting_and_defaults_written_out(void **state)
{
        unsigned char a[32], b[32];
        digest_of(digest_base, "/db", a);
        digest_of("# the same slice, written differently\n"
                  "slices:\n"
                  "- provides: [blob, kv]\n"
                  "  env: [B=2, A=1]\n"
                  "  routes:\n"
                  "    log: parent\n"
                  "    default: deny\n"
                  "  name: db\n"
                  "  exec:\n"
                  "    - /bin/db\n"
                  "    - \"--fast\"\n"
                  "  resources: {cpu: {cores: '0,1'}, memory: 65536K}\n"
                  "  profile: posix\n"
                  "  hostname: db\n"
                  "  cwd: /\n"
                  "  network: none\n"
                  "  restart: {policy: on-failure, backoff: {initial: 100ms, max: 30s}}\n"
                  "  stop_timeout: 10s\n"
                  "  slices: [{name: child, exec: [/bin/c]}]\n",
                  "/db", b);
        assert_memory_equal(a, b, 32);
}

static void test_digest_ignores_siblings_and_children(void **state)
{
        unsigned char a[32], b[32];
        digest_of(digest_base, "/db", a);
        char text[sizeof digest_base + 64];
        snprintf(text, sizeof text, "%s", digest_base);
        /* a different child and a different sibling */
        char *p = strstr(text, "/bin/c");
        memcpy(p, "/bin/d", 6);
        p = strstr(text, "/bin/web");
        memcpy(p, "/bin/wab", 8);
        digest_of(text, "/db", b);
        assert_memory_equal(a, b, 32);
}

/* Each change to a restart-relevant field changes the digest. */
static void test_digest_changes_with_every_field(void **state)
{
        static const struct {
                const char *from, *to;
        } edits[] = {
                { "--fast", "--slow" },
                { "A: '1'", "A: '9'" },
                { "memory: 64M", "memory: 65M" },
                { "cores: 0-1", "cores: 0-2" },
                { "provides: [kv, blob]", "provides: [kv]" },
                { "log: parent", "log: deny" },
                { "default: deny", "default: parent" },
                { "    slices:", "    profile: strict\n    slices:" },
                { "    slices:", "    hostname: other\n    slices:" },
                { "    slices:", "    cwd: /tmp\n    slices:" },
                { "    slices:", "    mounts: [/srv]\n    slices:" },
                { "    slices:", "    network: host\n    slices:" },
                { "    slices:", "    restart: always\n    slices:" },
                { "    slices:", "    health: {heartbeat: 1s}\n    slices:" },
                { "    slices:", "    stop_timeout: 11s\n    slices:" },
                { "    slices:", "    package: db@1.0\n    slices:" },
        };
        unsigned char a[32], b[32];
        digest_of(digest_base, "/db", a);
        for (size_t i = 0; i < N_OF(edits); i++) {
                char text[1024];
                const char *at = strstr(digest_base, edits[i].from);
                assert_non_null(at);
                snprintf(text, sizeof text, "%.*s%s%s", (int)(at - digest_base), digest_base,
                         edits[i].to, at + strlen(edits[i].from));
                digest_of(text, "/db", b);
                if (!memcmp(a, b, 32))
                        print_error("edit '%s' -> '%s' kept the digest\n", edits[i].from,
                                    edits[i].to);
                assert_memory_not_equal(a, b, 32);
        }
}

static void test_package_version_is_in_the_digest(void **state)
{
        unsigned char a[32], b[32], c[32];
        digest_of("slices: [{name: web, package: hello@1.0}]\n", "/web", a);
        digest_of("slices: [{name: web, package: hello@1.1}]\n", "/web", b);
        digest_of("slices: [{name: web, package: hello@1.0, exec: [/pkg/bin/hello]}]\n", "/web",
                  c);
        assert_memory_not_equal(a, b, 32); /* another version restarts the slice */
        assert_memory_not_equal(a, c, 32); /* so does another command */
        digest_of("{\"slices\": [{\"package\": \"hello@1.0\", \"name\": \"web\"}]}\n", "/web", b);
        assert_memory_equal(a, b, 32);
}

static void test_package_alone_runs_the_template_command(void **state)
{
        struct sv_topology *t = load_ok("t.yaml",
                                        "slices:\n"
                                        "  - name: web\n"
                                        "    package: hello@1.0+deb1~rc:2\n"
                                        "  - name: app\n"
                                        "    package: app@2\n"
                                        "    provides: [http]\n"
                                        "    health: {heartbeat: 1s}\n"
                                        "    slices: [{name: db, exec: [/bin/db]}]\n"
                                        "  - name: grp\n"
                                        "    slices: [{name: x, exec: [/bin/x], mounts: [/srv:/pkg]}]\n");
        struct sv_slice_spec *web = find(t, "/web");
        assert_string_equal(web->package, "hello@1.0+deb1~rc:2");
        assert_null(web->exec); /* the package's slice template supplies it */
        assert_true(sv_slice_runs(web));
        struct sv_slice_spec *app = find(t, "/app");
        assert_true(sv_slice_runs(app)); /* a package with children is not a pure group */
        assert_string_equal(app->provides[0], "http");
        assert_false(sv_slice_runs(find(t, "/grp")));
        assert_null(find(t, "/grp/x")->package); /* /pkg is free without a package */
        sv_topology_free(t);
}

/* ---- directories ---- */

static void test_directory_contributes_top_level_slices_from_each_file(void **state)
{
        char dir[PATH_MAX], policy[PATH_MAX + 16];
        assert_non_null(realpath(fixture("dir-ok"), dir));
        struct sv_topology *t = load_file_ok(fixture("dir-ok"));
        /* sorted by file name; README and the dotfile are not read */
        assert_int_equal(t->n_files, 2);
        assert_int_equal(t->n_slices, 2);
        assert_string_equal(t->slices[0].name, "logd");
        assert_string_equal(t->slices[1].name, "app");
        snprintf(policy, sizeof policy, "%s/logd.policy", dir);
        assert_string_equal(t->slices[0].profile, policy);
        /* routes cross files */
        assert_ptr_equal(t->slices[1].routes[0].to, &t->slices[0]);
        assert_int_equal(t->slices[1].start_rank, 1);
        sv_topology_free(t);
}

static void test_directory_duplicate_names_name_both_files(void **state)
{
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err = { 0 };
        char a[PATH_MAX + 64], b[3 * PATH_MAX];
        assert_int_equal(sv_topology_load(fixture("dir-dup"), &t, &d, &err), -1);
        assert_null(t);
        snprintf(a, sizeof a, "%s", fixture("dir-dup/a.yaml"));
        snprintf(b, sizeof b, "%s:4:5: /web: duplicate slice name 'web' (first defined at %s:2:5)",
                 fixture("dir-dup/b.yml"), a);
        assert_diag(&d, MSGS(b));
        sv_diag_free(&d);
}

static void test_missing_path_fails_with_errno(void **state)
{
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err = { 0 };
        assert_int_equal(sv_topology_load(fixture("nope.yaml"), &t, &d, &err), -1);
        assert_int_equal(err.code, ENOENT);
        assert_null(t);
}

static void test_shipped_example_topology_is_valid(void **state)
{
        char path[PATH_MAX];
        const char *src = getenv("SLICED_SOURCE_DIR");
        snprintf(path, sizeof path, "%s/conf/topology.example.yaml", src ? src : ".");
        struct sv_topology *t = load_file_ok(path);
        assert_true(t->n_slices > 0);
        sv_topology_free(t);
        /* the demo the README's first command runs */
        snprintf(path, sizeof path, "%s/conf/demo/topology.yaml", src ? src : ".");
        t = load_file_ok(path);
        assert_non_null(find(t, "/shop/worker"));
        assert_string_equal(find(t, "/web")->mounts[0].dest, "/srv/www");
        sv_topology_free(t);
}

/* ---- hostile input ---- */

/* Deterministic mutations of a valid file (byte flips, truncations, spliced
 * structure characters): every result must load or be rejected, never crash,
 * leak or hang (the sanitizer build checks the first two). */
static void test_mutated_inputs_never_crash(void **state)
{
        static const char alphabet[] = "{}[]:,-'\"\n #&*!|>%@`\\\t0aZ/";
        char base[8192];
        FILE *f = fopen(fixture("example.yaml"), "r");
        assert_non_null(f);
        size_t n = fread(base, 1, sizeof base - 1, f);
        fclose(f);
        base[n] = '\0';
        unsigned long long seed = 0x5eed;
        for (int round = 0; round < 3000; round++) {
                char text[sizeof base];
                memcpy(text, base, n + 1);
                int edits = 1 + round % 4;
                for (int e = 0; e < edits; e++) {
                        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                        size_t at = (size_t)(seed >> 33) % n;
                        text[at] = alphabet[(seed >> 17) % (sizeof alphabet - 1)];
                }
                if (round % 7 == 0)
                        text[(seed >> 40) % n] = '\0';
                struct sv_topology *t = NULL;
                struct sv_diag d = { 0 };
                struct sl_error err = { 0 };
                const char *name = round % 2 ? "m.yaml" : "m.json";
                int r = sv_topology_load_string(name, text, &t, &d, &err);
                assert_true(r == 0 ? t != NULL && d.n == 0 : t == NULL && d.n > 0);
                sv_topology_free(t);
                sv_diag_free(&d);
        }
}

int main(void)
{
        static const struct CMUnitTest fixed[] = {
                cmocka_unit_test(test_slices_nested_deeper_than_the_limit_are_rejected),
                cmocka_unit_test(test_more_slices_than_the_limit_are_rejected),
                cmocka_unit_test(test_deep_yaml_nesting_is_rejected_not_recursed),
                cmocka_unit_test(test_string_longer_than_the_limit_is_rejected),
                cmocka_unit_test(test_example_yaml_decodes_every_field),
                cmocka_unit_test(test_example_json_decodes_like_the_yaml),
                cmocka_unit_test(test_json_equivalent_yields_the_same_digests),
                cmocka_unit_test(test_minimal_slice_gets_the_documented_defaults),
                cmocka_unit_test(test_durations_accept_units_and_compounds),
                cmocka_unit_test(test_relative_policy_file_resolves_against_the_topology_directory),
                cmocka_unit_test(test_relative_mount_source_resolves_against_the_topology_directory),
                cmocka_unit_test(test_empty_file_is_an_empty_topology),
                cmocka_unit_test(test_walk_visits_parents_first_and_servers_before_clients),
                cmocka_unit_test(test_walk_stops_at_the_first_nonzero_result),
                cmocka_unit_test(test_find_and_route_lookup),
                cmocka_unit_test(test_digest_survives_reformatting_and_defaults_written_out),
                cmocka_unit_test(test_digest_ignores_siblings_and_children),
                cmocka_unit_test(test_digest_changes_with_every_field),
                cmocka_unit_test(test_package_version_is_in_the_digest),
                cmocka_unit_test(test_package_alone_runs_the_template_command),
                cmocka_unit_test(test_directory_contributes_top_level_slices_from_each_file),
                cmocka_unit_test(test_directory_duplicate_names_name_both_files),
                cmocka_unit_test(test_missing_path_fails_with_errno),
                cmocka_unit_test(test_shipped_example_topology_is_valid),
                cmocka_unit_test(test_mutated_inputs_never_crash),
        };
        enum { N_BAD = sizeof bad_cases / sizeof bad_cases[0], N_FIXED = sizeof fixed / sizeof fixed[0] };
        /* one named test per row of the table */
        static struct CMUnitTest tests[N_BAD + N_FIXED];
        for (size_t i = 0; i < N_BAD; i++)
                tests[i] = (struct CMUnitTest){ .name = bad_cases[i].name,
                                                .test_func = run_bad_case,
                                                .initial_state = (void *)&bad_cases[i] };
        memcpy(tests + N_BAD, fixed, sizeof fixed);
        return _cmocka_run_group_tests("topology", tests, N_BAD + N_FIXED, NULL, NULL);
}
