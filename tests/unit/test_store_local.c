/* The local store (src/store/local*.c): install through a fake source,
 * dependencies, archives shared between packages, refused archives leaving
 * the store as it was, remove, rollback, resolve, opening. gc, verify and
 * inuse.json are in test_store_local_gc.c; the fixtures (packages, helpers)
 * in support/store_local_fixtures.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/local.h"
#include "support/store_local_fixtures.h"

/* ---- install ---- */

static void test_install_makes_the_package_and_its_dependencies_current(void **state)
{
        struct fx_world *t = *state;
        assert_int_equal(fx_install(t, "hello@1.0"), 1);
        fx_assert_current(t, 1, "base@1 hello@1.0 libfoo@2.1");
        char p[PATH_MAX];
        /* Archives and trees read-only; executables stay executable. */
        fx_store_path(t, p, "archives/%s.tar.zst", t->hello);
        assert_int_equal(fx_stat(p).st_mode & 07777, 0444);
        fx_store_path(t, p, "trees/%s", t->hello);
        assert_int_equal(fx_stat(p).st_mode & 07777, 0555);
        fx_store_path(t, p, "trees/%s/bin/hello", t->hello);
        assert_int_equal(fx_stat(p).st_mode & 07777, 0555);
        fx_store_path(t, p, "trees/%s/share/hello.txt", t->hello);
        assert_int_equal(fx_stat(p).st_mode & 07777, 0444);
        fx_store_path(t, p, "trees/%s/share/link", t->hello);
        assert_true(S_ISLNK(fx_stat(p).st_mode));
        fx_store_path(t, p, "packages/%s.pkg", fx_repo_package(&t->repo, "hello", "1.0")->hash);
        assert_true(fx_exists(p));
        fx_store_path(t, p, "current");
        char target[64] = "";
        assert_true(readlink(p, target, sizeof target - 1) > 0);
        assert_string_equal(target, "generations/1.json");
        struct st_buf gen = {0};
        fx_store_path(t, p, "generations/1.json");
        assert_int_equal(st_read_file(p, 1 << 20, &gen, NULL), 0);
        fx_assert_contains((const char *)gen.data, "\"reason\": \"install hello@1.0\"");
        st_buf_free(&gen);
        fx_assert_verify_clean(t);
}

static void test_installing_what_is_installed_changes_nothing(void **state)
{
        struct fx_world *t = *state;
        assert_int_equal(fx_install(t, "hello@1.0"), 1);
        size_t archives = t->repo.archive_calls;
        char *before = fx_snapshot(t->store);
        assert_int_equal(fx_install(t, "hello@1.0"), 1);
        assert_int_equal(fx_install(t, "libfoo@2.1"), 1);
        char *after = fx_snapshot(t->store);
        assert_string_equal(before, after);
        assert_int_equal(t->repo.archive_calls, archives);
        free(before);
        free(after);
}

static void test_name_alone_installs_the_newest_and_versions_sit_side_by_side(void **state)
{
        struct fx_world *t = *state;
        assert_int_equal(fx_install(t, "hello@1.0"), 1);
        assert_int_equal(fx_install(t, "hello"), 2);
        fx_assert_current(t, 2, "base@1 hello@1.0 hello@2.0 libfoo@2.1");
        fx_assert_verify_clean(t);
}

static void test_a_dependency_cycle_installs_each_package_once(void **state)
{
        struct fx_world *t = *state;
        assert_int_equal(fx_install(t, "cyc-a@1"), 1);
        fx_assert_current(t, 1, "cyc-a@1 cyc-b@1");
}

static void test_an_archive_two_packages_share_is_stored_once(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "hello@1.0");
        char a[PATH_MAX], tr[PATH_MAX], dir[PATH_MAX];
        fx_store_path(t, a, "archives/%s.tar.zst", t->shared);
        fx_store_path(t, tr, "trees/%s", t->shared);
        struct stat a1 = fx_stat(a), t1 = fx_stat(tr);
        size_t calls = t->repo.archive_calls;
        fx_install(t, "world@1");
        /* Only world's own archive was fetched; the shared one is the same
         * file and the same tree as before. */
        assert_int_equal(t->repo.archive_calls, calls + 1);
        assert_int_equal(fx_stat(a).st_ino, a1.st_ino);
        assert_int_equal(fx_stat(tr).st_ino, t1.st_ino);
        uint64_t want = 0;
        const char *installed[] = {t->base, t->libfoo, t->hello, t->shared, t->world};
        for (size_t i = 0; i < sizeof installed / sizeof *installed; i++)
                want += fx_repo_archive(&t->repo, installed[i])->bytes.len;
        fx_store_path(t, dir, "archives");
        assert_int_equal(fx_du(dir), want);
        fx_assert_verify_clean(t);
}

static void test_refused_archives_leave_the_store_unchanged(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "world@1");
        const struct fx_archive *hello = fx_repo_archive(&t->repo, t->hello);
        struct st_buf flipped = {0};
        assert_int_equal(st_buf_set(&flipped, hello->bytes.data, hello->bytes.len, NULL), 0);
        flipped.data[flipped.len / 2] ^= 1;
        char flipped_hash[ST_HASH_HEX], want[3][SL_ERROR_MSG_MAX];
        {
                /* BLAKE2b of the flipped bytes, as the store will report it. */
                char path[PATH_MAX];
                snprintf(path, sizeof path, "%s/flipped", t->dir);
                assert_int_equal(st_write_atomic(path, flipped.data, flipped.len, 0644, NULL), 0);
                assert_int_equal(st_archive_hash(path, 0, flipped_hash, NULL), 0);
        }
        snprintf(want[0], sizeof want[0], "archive %s: hash mismatch, got %s", t->hello,
                 flipped_hash);
        snprintf(want[1], sizeof want[1], "archive %s: size mismatch, got %zu bytes, expected %zu",
                 t->hello, hello->bytes.len - 1, hello->bytes.len);
        snprintf(want[2], sizeof want[2], "entry `../x`: `..` component");
        const struct {
                const char *spec;
                enum fx_fault fault;
        } cases[] = {{"hello@1.0", FX_FLIP_BYTE}, {"hello@1.0", FX_SHORT}, {"evil@1", FX_OK}};
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                char *before = fx_snapshot(t->store), msg[SL_ERROR_MSG_MAX];
                t->repo.fault = cases[i].fault;
                snprintf(t->repo.fault_hash, sizeof t->repo.fault_hash, "%s", t->hello);
                assert_int_equal(fx_try_install(t, cases[i].spec, msg), -1);
                fx_assert_contains(msg, want[i]);
                char *after = fx_snapshot(t->store);
                if (strcmp(before, after) != 0)
                        fail_msg("case %zu changed the store:\n%s---\n%s", i, before, after);
                fx_assert_current(t, 1, "world@1");
                free(before);
                free(after);
        }
        t->repo.fault = FX_OK;
        st_buf_free(&flipped);
        fx_assert_verify_clean(t);
        /* And the good archive still installs afterwards. */
        assert_int_equal(fx_install(t, "hello@1.0"), 2);
}

static void test_an_envelope_not_matching_its_hash_is_refused(void **state)
{
        struct fx_world *t = *state;
        t->repo.fault = FX_PKG_HASH;
        char msg[SL_ERROR_MSG_MAX];
        assert_int_equal(fx_try_install(t, "base@1", msg), -1);
        fx_assert_contains(msg, "package base@1: envelope hash mismatch, got ");
        fx_assert_current(t, 0, "");
}

static void test_a_package_the_source_lacks_is_named(void **state)
{
        struct fx_world *t = *state;
        char msg[SL_ERROR_MSG_MAX];
        assert_int_equal(fx_try_install(t, "nothere@3", msg), -1);
        assert_string_equal(msg, "package nothere@3: not in the repository: No such file or "
                                 "directory");
}

/* ---- remove and rollback ---- */

static void test_remove_is_refused_while_a_package_depends_on_it(void **state)
{
        struct fx_world *t = *state;
        char msg[SL_ERROR_MSG_MAX];
        fx_install(t, "hello@1.0");
        assert_int_equal(fx_remove(t, "libfoo", msg), 0);
        assert_string_equal(msg, "cannot remove libfoo@2.1: hello@1.0 depends on it");
        assert_int_equal(fx_remove(t, "nothere", msg), 0);
        assert_string_equal(msg, "package nothere is not installed (generation 1)");
        assert_int_equal(fx_remove(t, "hello@2.0", msg), 0);
        assert_string_equal(msg, "package hello@2.0 is not installed (generation 1)");
        fx_assert_current(t, 1, "base@1 hello@1.0 libfoo@2.1");
        assert_int_equal(fx_remove(t, "hello", NULL), 2);
        fx_assert_current(t, 2, "base@1 libfoo@2.1");
        /* Removing a package and what depends on it together is fine. */
        const char *both[] = {"libfoo@2.1", "base"};
        struct st_store *s = fx_open(t, ST_WRITE);
        struct sl_error err = {0};
        uint64_t gen;
        assert_int_equal(st_store_remove(s, both, 2, &gen, &err), 0);
        st_store_close(s);
        fx_assert_current(t, 3, "");
}

static void test_rollback_to_the_previous_and_to_a_given_generation(void **state)
{
        struct fx_world *t = *state;
        char msg[SL_ERROR_MSG_MAX];
        uint64_t gen;
        assert_int_equal(fx_rollback(t, 0, &gen, msg), -1);
        assert_string_equal(msg, "no generation before 0");
        fx_install(t, "world@1");
        fx_install(t, "hello@1.0");
        assert_int_equal(fx_rollback(t, 0, &gen, msg), 0);
        assert_int_equal(gen, 1);
        fx_assert_current(t, 1, "world@1");
        assert_int_equal(fx_rollback(t, 0, &gen, msg), -1);
        assert_string_equal(msg, "no generation before 1");
        assert_int_equal(fx_rollback(t, 2, &gen, msg), 0);
        fx_assert_current(t, 2, "base@1 hello@1.0 libfoo@2.1 world@1");
        assert_int_equal(fx_rollback(t, 9, &gen, msg), -1);
        assert_string_equal(msg, "generation 9 does not exist");
        fx_assert_verify_clean(t);
}

static void test_install_after_a_rollback_gets_a_fresh_number(void **state)
{
        struct fx_world *t = *state;
        char msg[SL_ERROR_MSG_MAX], p[PATH_MAX];
        uint64_t gen;
        fx_install(t, "world@1");
        fx_install(t, "hello@1.0");
        fx_store_path(t, p, "generations/2.json");
        struct st_buf before = {0}, after = {0};
        assert_int_equal(st_read_file(p, 1 << 20, &before, NULL), 0);
        assert_int_equal(fx_rollback(t, 0, &gen, msg), 0);
        assert_int_equal(fx_install(t, "hello@2.0"), 3);
        fx_assert_current(t, 3, "base@1 hello@2.0 libfoo@2.1 world@1");
        /* Generation 2 is kept as it was: generation files are never rewritten. */
        assert_int_equal(st_read_file(p, 1 << 20, &after, NULL), 0);
        assert_int_equal(after.len, before.len);
        assert_memory_equal(after.data, before.data, before.len);
        st_buf_free(&before);
        st_buf_free(&after);
        struct st_store *s = fx_open(t, ST_READ);
        struct st_generation *gens;
        size_t n;
        uint64_t cur;
        struct sl_error err = {0};
        assert_int_equal(st_store_generations(s, &gens, &n, &cur, &err), 0);
        assert_int_equal(n, 3);
        assert_int_equal(cur, 3);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(gens[i].number, i + 1);
                st_generation_free(&gens[i]);
        }
        free(gens);
        st_store_close(s);
}

/* ---- resolve ---- */

static void test_resolve_lists_the_closure_own_archives_first(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "app@1");
        struct st_store *s = fx_open(t, ST_READ);
        struct st_resolved r;
        struct sl_error err = {0};
        if (st_store_resolve(s, "app", "1", &r, &err) < 0)
                fail_msg("resolve: %s", err.msg);
        const char *want[] = {t->app1, t->app2, t->lib1, t->base, t->tool1};
        assert_int_equal(r.n, 5);
        for (size_t i = 0; i < r.n; i++) {
                char tree[PATH_MAX];
                assert_string_equal(r.archives[i], want[i]);
                snprintf(tree, sizeof tree, "%s/trees/%s", st_store_dir(s), want[i]);
                assert_string_equal(r.trees[i], tree);
        }
        assert_null(r.trees[r.n]);
        assert_null(r.command);
        assert_int_equal(r.generation, 1);
        st_resolved_free(&r);
        st_store_close(s);

        fx_install(t, "hello@1.0");
        s = fx_open(t, ST_READ);
        assert_int_equal(st_store_resolve(s, "hello", "", &r, &err), 0);
        assert_string_equal(r.version, "1.0");
        assert_non_null(r.command);
        assert_string_equal(r.command[0], "/pkg/bin/hello");
        assert_string_equal(r.command[1], "--greet");
        assert_null(r.command[2]);
        assert_string_equal(r.archives[0], t->hello);
        assert_string_equal(r.archives[1], t->shared);
        assert_string_equal(r.archives[2], t->libfoo);
        assert_string_equal(r.archives[3], t->base);
        st_resolved_free(&r);
        st_store_close(s);
}

static void test_resolve_names_a_package_that_is_not_installed(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "world@1");
        fx_install(t, "hello@1.0");
        fx_install(t, "hello@2.0");
        struct st_store *s = fx_open(t, ST_READ);
        struct st_resolved r;
        struct sl_error err = {0};
        assert_int_equal(st_store_resolve(s, "nothere", "1", &r, &err), -1);
        assert_string_equal(err.msg, "package nothere@1 is not installed (generation 3)");
        assert_int_equal(st_store_resolve(s, "world", "2", &r, &err), -1);
        assert_string_equal(err.msg, "package world@2 is not installed (generation 3)");
        assert_int_equal(st_store_resolve(s, "hello", "", &r, &err), -1);
        assert_string_equal(err.msg, "package hello: several versions are installed "
                                     "(generation 3); name one as hello@VERSION");
        st_store_close(s);
}

/* ---- opening ---- */

static void test_reading_a_missing_store_is_refused_without_creating_it(void **state)
{
        struct fx_world *t = *state;
        struct st_store *s = NULL;
        struct sl_error err = {0};
        assert_int_equal(st_store_open(t->store, ST_READ, &s, &err), -1);
        char want[PATH_MAX + 32];
        snprintf(want, sizeof want, "no store at `%s`", t->store);
        assert_string_equal(err.msg, want);
        assert_false(fx_exists(t->store));
        /* A writer creates the layout, every directory 0755. */
        s = fx_open(t, ST_WRITE);
        const char *dirs[] = {"",       "/archives", "/trees", "/packages", "/generations",
                              "/trust", "/tmp"};
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s%s", t->store, dirs[i]);
                struct stat st = fx_stat(p);
                assert_true(S_ISDIR(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0755);
        }
        st_store_close(s);
        /* A reader of an empty store sees generation 0. */
        fx_assert_current(t, 0, "");
}

static void test_a_read_only_store_refuses_changes(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "world@1");
        struct st_store *s = fx_open(t, ST_READ);
        struct sl_error err = {0};
        uint64_t gen;
        const char *spec = "base@1";
        assert_int_equal(st_store_install(s, &t->src, &spec, 1, &gen, &err), -1);
        fx_assert_contains(err.msg, "is open read-only");
        struct st_gc_report rep;
        assert_int_equal(st_store_gc(s, 0, &rep, &err), -1);
        assert_int_equal(st_store_rollback(s, 0, &gen, &err), -1);
        st_store_close(s);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_world_setup, fx_world_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_install_makes_the_package_and_its_dependencies_current),
            T(test_installing_what_is_installed_changes_nothing),
            T(test_name_alone_installs_the_newest_and_versions_sit_side_by_side),
            T(test_a_dependency_cycle_installs_each_package_once),
            T(test_an_archive_two_packages_share_is_stored_once),
            T(test_refused_archives_leave_the_store_unchanged),
            T(test_an_envelope_not_matching_its_hash_is_refused),
            T(test_a_package_the_source_lacks_is_named),
            T(test_remove_is_refused_while_a_package_depends_on_it),
            T(test_rollback_to_the_previous_and_to_a_given_generation),
            T(test_install_after_a_rollback_gets_a_fresh_number),
            T(test_resolve_lists_the_closure_own_archives_first),
            T(test_resolve_names_a_package_that_is_not_installed),
            T(test_reading_a_missing_store_is_refused_without_creating_it),
            T(test_a_read_only_store_refuses_changes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
