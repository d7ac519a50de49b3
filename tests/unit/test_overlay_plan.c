/* Read-only overlays (a package's archives at /pkg): what the mount plan
 * refuses, with the exact message, before any namespace or process exists.
 * sb_spawn plans the root filesystem before clone, so a refused overlay
 * fails the spawn with nothing to clean up. (Mounting one for real is
 * tests/integration/test_sliced_package.sh's job, as root and unprivileged.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/spawn.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static char dir[PATH_MAX];      /* a scratch directory */
static char a[PATH_MAX + 8];    /* dir/a, dir/b: directories */
static char b[PATH_MAX + 8];
static char file[PATH_MAX + 8]; /* dir/f: a regular file */

static int setup(void **state)
{
        const char *base = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/test_overlay_plan.XXXXXX", base ? base : "/tmp");
        if (!mkdtemp(dir))
                return -1;
        snprintf(a, sizeof a, "%s/a", dir);
        snprintf(b, sizeof b, "%s/b", dir);
        snprintf(file, sizeof file, "%s/f", dir);
        FILE *f = fopen(file, "w");
        if (mkdir(a, 0755) < 0 || mkdir(b, 0755) < 0 || !f)
                return -1;
        fclose(f);
        return 0;
}

static int teardown(void **state)
{
        unlink(file);
        rmdir(a);
        rmdir(b);
        rmdir(dir);
        return 0;
}

/* Spawn /bin/true with one overlay; returns -1 with err, as a refused plan
 * must (a plan that passes would start a process: the cases never do). */
static int spawn_with(const char *const *lower, size_t n, const char *dest, struct sl_error *err)
{
        char *argv[] = { "/bin/true", NULL };
        char *env[] = { NULL };
        struct sb_overlay o = { .lower = lower, .n_lower = n, .dest = dest };
        struct sb_spec spec;
        struct sb_slice s;
        memset(&spec, 0, sizeof spec);
        spec.argv = argv;
        spec.env = env;
        spec.overlays = &o;
        spec.n_overlays = 1;
        spec.userns = -1;
        spec.uid = spec.gid = 200000;
        spec.parent_fd = -1;
        spec.stdio[0] = spec.stdio[1] = spec.stdio[2] = -1;
        return sb_spawn(&spec, &s, NULL, err);
}

static void test_overlay_refusals_name_the_directory_and_the_reason(void **state)
{
        char comma[PATH_MAX + 16], colon[PATH_MAX + 16], backslash[PATH_MAX + 16];
        char missing[PATH_MAX + 16];
        snprintf(comma, sizeof comma, "%s/x,upperdir=", dir);
        snprintf(colon, sizeof colon, "%s/x:y", dir);
        snprintf(backslash, sizeof backslash, "%s/x\\y", dir);
        snprintf(missing, sizeof missing, "%s/missing", dir);
        const struct {
                const char *name;
                const char *lower[2];
                size_t n;
                const char *dest;
                int code;
                const char *want; /* "@" stands for the offending directory */
        } cases[] = {
                { "a comma would end the lowerdir option", { a, comma }, 2, "/pkg", EINVAL,
                  "overlay on `/pkg`: lower directory `@` contains ':', ',' or '\\', which "
                  "overlayfs options cannot carry: Invalid argument" },
                { "a colon would split a layer", { colon, a }, 2, "/pkg", EINVAL,
                  "overlay on `/pkg`: lower directory `@` contains ':', ',' or '\\', which "
                  "overlayfs options cannot carry: Invalid argument" },
                { "a backslash would escape", { a, backslash }, 2, "/pkg", EINVAL,
                  "overlay on `/pkg`: lower directory `@` contains ':', ',' or '\\', which "
                  "overlayfs options cannot carry: Invalid argument" },
                { "relative", { a, "pkg/b" }, 2, "/pkg", EINVAL,
                  "overlay on `/pkg`: lower directory `@` is not absolute: Invalid argument" },
                { "missing", { missing, a }, 2, "/pkg", ENOENT,
                  "overlay on `/pkg`: lower directory `@`: No such file or directory" },
                { "a file", { a, file }, 2, "/pkg", ENOTDIR,
                  "overlay on `/pkg`: lower directory `@` is not a directory: Not a directory" },
                { "one layer is a bind's job", { a, NULL }, 1, "/pkg", EINVAL,
                  "overlay on `/pkg`: 1 lower directories (it needs two or more; bind a single "
                  "directory): Invalid argument" },
                { "not over what sliced builds", { a, b }, 2, "/proc/pkg", EINVAL,
                  "destination `/proc/pkg` is inside /proc, which sliced builds itself: Invalid "
                  "argument" },
                { "not above the root", { a, b }, 2, "/pkg/../etc", EINVAL,
                  "destination `/pkg/../etc` contains '..': Invalid argument" },
        };
        for (size_t i = 0; i < N_OF(cases); i++) {
                struct sl_error err = { 0 };
                char want[2 * PATH_MAX];
                const char *bad = cases[i].lower[0] == a ? cases[i].lower[1] : cases[i].lower[0];
                const char *at = strchr(cases[i].want, '@');
                if (at)
                        snprintf(want, sizeof want, "%.*s%s%s", (int)(at - cases[i].want),
                                 cases[i].want, bad, at + 1);
                else
                        snprintf(want, sizeof want, "%s", cases[i].want);
                int r = spawn_with(cases[i].lower, cases[i].n, cases[i].dest, &err);
                if (r != -1 || err.code != cases[i].code || strcmp(err.msg, want)) {
                        print_error("case '%s':\n  want: %s (%d)\n  got:  %s (%d)\n",
                                    cases[i].name, want, cases[i].code,
                                    r == 0 ? "(spawned)" : err.msg, err.code);
                        fail();
                }
        }
}

/* mount(2) copies at most a page of options: more layers than fit are
 * refused by name, not cut short. */
static void test_overlay_options_longer_than_a_page_are_refused(void **state)
{
        enum { LAYERS = 64 };
        const char *lower[LAYERS];
        char path[PATH_MAX];
        /* dir/a/./././... stays a directory and grows each layer's text */
        size_t n = (size_t)snprintf(path, sizeof path, "%s", a);
        while (n + 2 < 100)
                n += (size_t)snprintf(path + n, sizeof path - n, "/.");
        for (size_t i = 0; i < LAYERS; i++)
                lower[i] = path;
        struct sl_error err = { 0 };
        assert_int_equal(spawn_with(lower, LAYERS, "/pkg", &err), -1);
        assert_int_equal(err.code, E2BIG);
        assert_string_equal(err.msg, "overlay on `/pkg`: 64 lower directories make mount options "
                                     "longer than 4095 bytes: Argument list too long");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_overlay_refusals_name_the_directory_and_the_reason),
                cmocka_unit_test(test_overlay_options_longer_than_a_page_are_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
