/* sliced.conf: defaults, overrides, and every bad key or value rejected with
 * its position, leaving the configuration as it was. */
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

#include "supervisor/config.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char tmpdir[PATH_MAX];
static char conf_path[PATH_MAX + 32];

static int setup(void **state)
{
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/test_config.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(tmpdir))
                return -1;
        snprintf(conf_path, sizeof conf_path, "%s/sliced.conf", tmpdir);
        return 0;
}

static int teardown(void **state)
{
        unlink(conf_path);
        rmdir(tmpdir);
        return 0;
}

static void write_conf(const char *text)
{
        FILE *f = fopen(conf_path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static void load_ok(const char *text, struct sv_config *cfg)
{
        struct sl_error err = { 0 };
        write_conf(text);
        int r = sv_config_load(conf_path, cfg, &err);
        if (r < 0)
                print_error("%s\n", err.msg);
        assert_int_equal(r, 0);
}

static void test_defaults_are_the_documented_ones(void **state)
{
        struct sv_config c;
        sv_config_defaults(&c);
        assert_string_equal(c.state_dir, "/var/lib/sliced");
        assert_string_equal(c.store_dir, "/var/lib/sliced/store");
        assert_string_equal(c.runtime_dir, "/run/sliced");
        assert_string_equal(c.topology, "/etc/sliced/slices.d");
        assert_string_equal(c.api_socket, "/run/sliced/api.sock");
        assert_string_equal(c.cgroup_fsroot, "/sys/fs/cgroup");
        assert_string_equal(c.cgroup_base, "sliced");
        assert_int_equal(c.uid_first, 200000);
        assert_int_equal(c.uid_count, 65536);
        assert_int_equal(c.log_target, SV_LOG_AUTO);
        assert_int_equal(c.log_ring_lines, 1000);
        assert_int_equal(c.route_wait_ms, 5000);
}

static void test_every_key_overrides_its_default(void **state)
{
        struct sv_config c;
        sv_config_defaults(&c);
        load_ok("state_dir: /srv/state\n"
                "store_dir: /srv/packages\n"
                "runtime_dir: /run/s2\n"
                "topology: /etc/s2/topology.yaml\n"
                "api_socket: /run/api/s2.sock\n"
                "cgroup_root: /mnt/cgroup\n"
                "cgroup_base: system.slice/sliced.service\n"
                "uid_range: 100000-100099\n"
                "log_target: journal\n"
                "log_ring_lines: 0\n"
                "route_wait: 250ms\n",
                &c);
        assert_string_equal(c.state_dir, "/srv/state");
        assert_string_equal(c.store_dir, "/srv/packages");
        assert_string_equal(c.runtime_dir, "/run/s2");
        assert_string_equal(c.topology, "/etc/s2/topology.yaml");
        assert_string_equal(c.api_socket, "/run/api/s2.sock");
        assert_string_equal(c.cgroup_fsroot, "/mnt/cgroup");
        assert_string_equal(c.cgroup_base, "system.slice/sliced.service");
        assert_int_equal(c.uid_first, 100000);
        assert_int_equal(c.uid_count, 100);
        assert_int_equal(c.log_target, SV_LOG_JOURNAL);
        assert_int_equal(c.log_ring_lines, 0);
        assert_int_equal(c.route_wait_ms, 250);
}

static void test_keys_not_in_the_file_keep_their_value(void **state)
{
        struct sv_config c;
        sv_config_defaults(&c);
        c.log_target = SV_LOG_STDERR; /* as a command-line option would set it */
        load_ok("# comments only\n\n", &c);
        assert_int_equal(c.log_target, SV_LOG_STDERR);
        load_ok("", &c);
        load_ok("log_ring_lines: 5\n", &c);
        assert_int_equal(c.log_target, SV_LOG_STDERR);
        assert_int_equal(c.log_ring_lines, 5);
        assert_string_equal(c.state_dir, "/var/lib/sliced");
}

static void test_api_socket_follows_runtime_dir_unless_set(void **state)
{
        struct sv_config c;
        sv_config_defaults(&c);
        load_ok("runtime_dir: /run/other\n", &c);
        assert_string_equal(c.api_socket, "/run/other/api.sock");

        sv_config_defaults(&c);
        load_ok("runtime_dir: /run/other\napi_socket: /run/api.sock\n", &c);
        assert_string_equal(c.api_socket, "/run/api.sock");

        sv_config_defaults(&c);
        snprintf(c.api_socket, sizeof c.api_socket, "/tmp/cli.sock"); /* set before loading */
        load_ok("runtime_dir: /run/other\n", &c);
        assert_string_equal(c.api_socket, "/tmp/cli.sock");
}

static void test_store_dir_follows_state_dir_unless_set(void **state)
{
        struct sv_config c;
        sv_config_defaults(&c);
        load_ok("state_dir: /srv/state\n", &c);
        assert_string_equal(c.store_dir, "/srv/state/store");

        sv_config_defaults(&c);
        load_ok("state_dir: /srv/state\nstore_dir: /srv/pkgs\n", &c);
        assert_string_equal(c.store_dir, "/srv/pkgs");

        /* set before loading (the command line): kept */
        sv_config_defaults(&c);
        snprintf(c.store_dir, sizeof c.store_dir, "/mnt/store");
        load_ok("state_dir: /srv/state\n", &c);
        assert_string_equal(c.store_dir, "/mnt/store");
}

static void test_shipped_config_states_the_real_defaults(void **state)
{
        char path[PATH_MAX];
        const char *src = getenv("SLICED_SOURCE_DIR");
        snprintf(path, sizeof path, "%s/conf/sliced.conf", src ? src : ".");
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        /* as shipped (every key commented) and with every key line
         * uncommented, the file means the defaults */
        char text[16384], uncommented[16384], line[512];
        size_t off = 0, uoff = 0, keys = 0;
        while (fgets(line, sizeof line, f)) {
                off += (size_t)snprintf(text + off, sizeof text - off, "%s", line);
                int is_key = line[0] == '#' && line[1] >= 'a' && line[1] <= 'z' && strchr(line, ':');
                keys += is_key;
                uoff += (size_t)snprintf(uncommented + uoff, sizeof uncommented - uoff, "%s",
                                         is_key ? line + 1 : line);
        }
        fclose(f);
        assert_int_equal(keys, 11);
        struct sv_config want, got;
        sv_config_defaults(&want);
        sv_config_defaults(&got);
        load_ok(text, &got);
        assert_memory_equal(&want, &got, sizeof want);
        load_ok(uncommented, &got);
        assert_memory_equal(&want, &got, sizeof want);
}

/* Bad files and their exact messages; "@" stands for the file's path. */
static const struct {
        const char *name;
        const char *text;
        const char *want;
} bad[] = {
        { "unknown key suggests the closest", "stat_dir: /x\n",
          "@:1:1: unknown key 'stat_dir' (did you mean 'state_dir'?)" },
        { "unknown key without a close match", "colour: red\n", "@:1:1: unknown key 'colour'" },
        { "relative path", "state_dir: var/lib\n",
          "@:1:12: state_dir: path 'var/lib' is not an absolute path" },
        { "relative store", "store_dir: store\n",
          "@:1:12: store_dir: path 'store' is not an absolute path" },
        { "dot-dot path", "runtime_dir: /run/../tmp\n",
          "@:1:14: runtime_dir: path '/run/../tmp' must not contain '..' components" },
        { "socket path too long",
          "api_socket: /run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
          "@:1:13: api_socket: '/run/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock' is longer than a unix socket path "
          "can be (107 bytes)" },
        { "absolute cgroup base", "cgroup_base: /sliced\n",
          "@:1:14: cgroup_base: '/sliced' is not a relative cgroup path (e.g. sliced or "
          "system.slice/sliced)" },
        { "cgroup base escaping", "cgroup_base: a/../../b\n",
          "@:1:14: cgroup_base: cgroup path '/a/../../b' must not contain '..' components" },
        { "uid range without dash", "uid_range: 200000\n",
          "@:1:12: uid_range: '200000' is not a range FIRST-LAST (e.g. 200000-265535)" },
        { "uid range including root", "uid_range: 0-100\n",
          "@:1:12: uid_range: '0-100': '0' is out of range [1, 4294967294]" },
        { "uid range reversed", "uid_range: 300000-200000\n",
          "@:1:12: uid_range: '300000-200000': the last uid is below the first" },
        { "log target enum", "log_target: jornal\n",
          "@:1:13: log_target: 'jornal' is not auto, journal or stderr (did you mean 'journal'?)" },
        { "ring size", "log_ring_lines: lots\n",
          "@:1:17: log_ring_lines: 'lots' is not a non-negative integer" },
        { "route wait without unit", "route_wait: 5\n",
          "@:1:13: route_wait: duration '5' needs a unit (ms, s, m or h)" },
        { "value must be a scalar", "topology: [/a, /b]\n",
          "@:1:11: topology: expected a string, got a list" },
        { "empty value", "topology:\n", "@:1:10: topology: expected a string, got null" },
        { "duplicate key", "route_wait: 1s\nroute_wait: 2s\n",
          "@:2:1: duplicate key 'route_wait' (first at 1:1)" },
        { "not a mapping", "- state_dir\n", "@:1:1: expected a mapping of settings, got a list" },
        { "syntax error", "state_dir: /a\n  runtime_dir: /b\n",
          "@:2:14: YAML syntax error: mapping values are not allowed in this context" },
        { "several errors: the first and a count", "stat_dir: /x\nlog_target: x\nroute_wait: y\n",
          "@:1:1: unknown key 'stat_dir' (did you mean 'state_dir'?) (and 2 more errors)" },
};

static void test_bad_keys_and_values_name_their_position(void **state)
{
        for (size_t i = 0; i < N_OF(bad); i++) {
                struct sv_config before, c;
                struct sl_error err = { 0 };
                char want[2 * PATH_MAX];
                const char *at = strchr(bad[i].want, '@');
                snprintf(want, sizeof want, "%.*s%s%s", (int)(at - bad[i].want), bad[i].want,
                         conf_path, at + 1);
                sv_config_defaults(&before);
                c = before;
                write_conf(bad[i].text);
                int r = sv_config_load(conf_path, &c, &err);
                if (r != -1 || strcmp(err.msg, want)) {
                        print_error("case '%s':\n  want: %s\n  got:  %s\n", bad[i].name, want,
                                    r == 0 ? "(accepted)" : err.msg);
                        fail();
                }
                assert_int_equal(err.code, EINVAL);
                /* all or nothing: a rejected file changes nothing */
                assert_memory_equal(&before, &c, sizeof c);
        }
}

static void test_partially_bad_file_changes_nothing(void **state)
{
        struct sv_config before, c;
        struct sl_error err = { 0 };
        sv_config_defaults(&before);
        c = before;
        write_conf("state_dir: /srv/new\nlog_ring_lines: -1\n");
        assert_int_equal(sv_config_load(conf_path, &c, &err), -1);
        assert_memory_equal(&before, &c, sizeof c);
}

static void test_missing_file_fails_with_errno(void **state)
{
        struct sv_config c;
        struct sl_error err = { 0 };
        char path[PATH_MAX + 32];
        sv_config_defaults(&c);
        snprintf(path, sizeof path, "%s/nope.conf", tmpdir);
        assert_int_equal(sv_config_load(path, &c, &err), -1);
        assert_int_equal(err.code, ENOENT);
        assert_non_null(strstr(err.msg, "nope.conf"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_defaults_are_the_documented_ones),
                cmocka_unit_test(test_every_key_overrides_its_default),
                cmocka_unit_test(test_keys_not_in_the_file_keep_their_value),
                cmocka_unit_test(test_api_socket_follows_runtime_dir_unless_set),
                cmocka_unit_test(test_store_dir_follows_state_dir_unless_set),
                cmocka_unit_test(test_shipped_config_states_the_real_defaults),
                cmocka_unit_test(test_bad_keys_and_values_name_their_position),
                cmocka_unit_test(test_partially_bad_file_changes_nothing),
                cmocka_unit_test(test_missing_file_fails_with_errno),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
