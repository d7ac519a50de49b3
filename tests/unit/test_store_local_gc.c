/* The local store, cleaning and checking: gc keeping what generations and
 * running slices use, leftovers of interrupted operations, verify finding
 * each kind of tampering, inuse.json. */
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

/* ---- gc ---- */

static void write_inuse(struct fx_world *t, const char *slice, const char *package, uint64_t gen,
                        const char *const *archives)
{
        struct st_inuse_slice sl = {.generation = gen};
        char(*a)[ST_HASH_HEX] = calloc(8, sizeof *a);
        snprintf(sl.slice, sizeof sl.slice, "%s", slice ? slice : "");
        snprintf(sl.package, sizeof sl.package, "%s", package ? package : "");
        for (size_t i = 0; archives && archives[i]; i++)
                snprintf(a[sl.n_archives++], ST_HASH_HEX, "%s", archives[i]);
        sl.archives = a;
        struct st_inuse u = {.slices = &sl, .n = slice ? 1 : 0};
        struct sl_error err = {0};
        if (st_inuse_write(t->store, &u, &err) < 0)
                fail_msg("inuse: %s", err.msg);
        free(a);
}

static struct st_gc_report gc(struct fx_world *t, unsigned keep)
{
        struct st_store *s = fx_open(t, ST_WRITE);
        struct st_gc_report rep;
        struct sl_error err = {0};
        if (st_store_gc(s, keep, &rep, &err) < 0)
                fail_msg("gc: %s", err.msg);
        st_store_close(s);
        return rep;
}

static void test_gc_keeps_the_current_generation_and_what_slices_use(void **state)
{
        struct fx_world *t = *state;
        char p[PATH_MAX];
        fx_install(t, "world@1");        /* 1 */
        fx_install(t, "hello@1.0");      /* 2 */
        fx_remove(t, "hello@1.0", NULL); /* 3 */
        fx_remove(t, "world", NULL);     /* 4: base, libfoo */
        write_inuse(t, "/app/web", "world@1", 1, (const char *const[]){t->world, t->shared, NULL});
        struct st_gc_report rep = gc(t, 1);
        assert_int_equal(rep.generations_removed, 2); /* 2 and 3; 1 runs /app/web */
        assert_int_equal(rep.packages_removed, 1);    /* hello@1.0 */
        assert_int_equal(rep.archives_removed, 1);    /* hello's own */
        const struct fx_archive *hello = fx_repo_archive(&t->repo, t->hello);
        assert_true(rep.bytes_freed >= hello->bytes.len + strlen("hello 1.0") + strlen("hi"));
        fx_store_path(t, p, "archives/%s.tar.zst", t->hello);
        assert_false(fx_exists(p));
        fx_store_path(t, p, "trees/%s", t->hello);
        assert_false(fx_exists(p));
        fx_store_path(t, p, "trees/%s", t->world);
        assert_true(fx_exists(p));
        fx_store_path(t, p, "generations/1.json");
        assert_true(fx_exists(p));
        fx_assert_current(t, 4, "base@1 libfoo@2.1");
        fx_assert_verify_clean(t);

        /* The slice stopped: world goes, and the archive it shared. */
        write_inuse(t, NULL, NULL, 0, NULL);
        rep = gc(t, 1);
        assert_int_equal(rep.generations_removed, 1);
        assert_int_equal(rep.packages_removed, 1);
        assert_int_equal(rep.archives_removed, 2);
        fx_store_path(t, p, "trees/%s", t->shared);
        assert_false(fx_exists(p));
        fx_assert_current(t, 4, "base@1 libfoo@2.1");
        fx_assert_verify_clean(t);
        rep = gc(t, 0);
        assert_int_equal(rep.generations_removed + rep.packages_removed + rep.archives_removed, 0);
}

static void make_leftovers(struct fx_world *t)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "trees/%s.tmp-unpack", t->hello);
        fx_mkdir(p, 0755);
        fx_store_path(t, p, "trees/%s.tmp-unpack/sub", t->hello);
        fx_mkdir(p, 0755);
        fx_store_path(t, p, "trees/%s.tmp-unpack/sub/f", t->hello);
        fx_write_file(p, "partial", 0444);
        fx_store_path(t, p, "trees/%s.tmp-unpack/sub", t->hello);
        assert_int_equal(chmod(p, 0555), 0);
        fx_store_path(t, p, "tmp/archive-abcdef");
        fx_write_file(p, "half a download", 0600);
        fx_store_path(t, p, "archives/%s.tar.zst.tmp-123456", t->hello);
        fx_write_file(p, "x", 0444);
        fx_store_path(t, p, "generations/7.json.tmp-abcdef");
        fx_write_file(p, "{", 0444);
        fx_store_path(t, p, "current.tmp-0000abcd");
        assert_int_equal(symlink("generations/7.json", p), 0);
}

static void test_a_writer_sweeps_leftovers_and_gc_counts_them(void **state)
{
        struct fx_world *t = *state;
        char p[PATH_MAX];
        fx_install(t, "world@1");
        make_leftovers(t);
        /* A reader leaves them alone and verify does not count them. */
        fx_assert_verify_clean(t);
        fx_store_path(t, p, "tmp/archive-abcdef");
        assert_true(fx_exists(p));
        struct st_gc_report rep = gc(t, 0);
        assert_int_equal(rep.leftovers_removed, 5);
        assert_true(rep.bytes_freed >= strlen("partial") + strlen("half a download"));
        fx_store_path(t, p, "trees/%s.tmp-unpack", t->hello);
        assert_false(fx_exists(p));
        fx_store_path(t, p, "current.tmp-0000abcd");
        assert_false(fx_exists(p));
        fx_store_path(t, p, "generations/7.json.tmp-abcdef");
        assert_false(fx_exists(p));
        fx_assert_current(t, 1, "world@1");
        fx_assert_verify_clean(t);
}

/* ---- verify ---- */

static void flip_byte(const char *path)
{
        struct stat st = fx_stat(path);
        assert_int_equal(chmod(path, 0644), 0);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        unsigned char c;
        assert_int_equal(pread(fd, &c, 1, st.st_size / 2), 1);
        c ^= 0x20;
        assert_int_equal(pwrite(fd, &c, 1, st.st_size / 2), 1);
        close(fd);
        assert_int_equal(chmod(path, st.st_mode & 07777), 0);
}

struct tamper {
        const char *name;
        void (*apply)(struct fx_world *t, char *path, char *what);
};

static void tamper_archive_byte(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "archives/%s.tar.zst", t->hello);
        flip_byte(p);
        sprintf(path, "archives/%s.tar.zst", t->hello);
        strcpy(what, "hash mismatch: expected ");
}

static void tamper_tree_file(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "trees/%s/share/hello.txt", t->hello);
        assert_int_equal(chmod(p, 0644), 0); /* u+w to tamper */
        fx_write_file(p, "HI", 0444);
        sprintf(path, "trees/%s/share/hello.txt", t->hello);
        strcpy(what, "content: expected BLAKE2b ");
}

static void tamper_tree_mode(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "trees/%s/share/hello.txt", t->hello);
        assert_int_equal(chmod(p, 0555), 0);
        sprintf(path, "trees/%s/share/hello.txt", t->hello);
        strcpy(what, "mode: expected 0444, found 0555");
}

static void tamper_tree_extra(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "trees/%s/share", t->hello);
        assert_int_equal(chmod(p, 0755), 0);
        fx_store_path(t, p, "trees/%s/share/extra", t->hello);
        fx_write_file(p, "planted", 0444);
        fx_store_path(t, p, "trees/%s/share", t->hello);
        assert_int_equal(chmod(p, 0555), 0);
        sprintf(path, "trees/%s/share/extra", t->hello);
        strcpy(what, "not in the archive");
}

static void tamper_tree_missing(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "trees/%s/share", t->hello);
        assert_int_equal(chmod(p, 0755), 0);
        fx_store_path(t, p, "trees/%s/share/link", t->hello);
        assert_int_equal(unlink(p), 0);
        sprintf(path, "trees/%s/share/link", t->hello);
        strcpy(what, "missing");
        fx_store_path(t, p, "trees/%s/share", t->hello);
        assert_int_equal(chmod(p, 0555), 0);
}

static void tamper_missing_archive(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        fx_store_path(t, p, "archives/%s.tar.zst", t->hello);
        assert_int_equal(unlink(p), 0);
        strcpy(path, "generations/1.json");
        sprintf(what, "package hello@1.0: `archives/%s.tar.zst` missing", t->hello);
}

static void tamper_package(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX];
        const char *h = fx_repo_package(&t->repo, "hello", "1.0")->hash;
        fx_store_path(t, p, "packages/%s.pkg", h);
        flip_byte(p);
        sprintf(path, "packages/%s.pkg", h);
        strcpy(what, "hash mismatch: expected ");
}

static void tamper_current(struct fx_world *t, char *path, char *what)
{
        char p[PATH_MAX], tmp[PATH_MAX];
        fx_store_path(t, p, "current");
        fx_store_path(t, tmp, "current.new");
        assert_int_equal(symlink("generations/9.json", tmp), 0);
        assert_int_equal(rename(tmp, p), 0);
        strcpy(path, "current");
        strcpy(what, "points at generation 9, which is missing");
}

static void test_verify_finds_each_kind_of_tampering(void **state)
{
        struct fx_world *t = *state;
        static const struct tamper cases[] = {
            {"a flipped byte in an archive", tamper_archive_byte},
            {"a modified file in a tree", tamper_tree_file},
            {"a changed mode in a tree", tamper_tree_mode},
            {"an extra file in a tree", tamper_tree_extra},
            {"a file missing from a tree", tamper_tree_missing},
            {"a missing archive a generation names", tamper_missing_archive},
            {"a corrupted envelope", tamper_package},
            {"current pointing at no generation", tamper_current},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                fx_rm_rf(t->store);
                fx_install(t, "hello@1.0");
                fx_assert_verify_clean(t);
                char path[PATH_MAX], what[512];
                cases[i].apply(t, path, what);
                struct st_verify_report rep;
                fx_verify(t, &rep);
                int found = 0;
                for (size_t j = 0; j < rep.n_problems; j++)
                        found |= strcmp(rep.problems[j].path, path) == 0 &&
                                 strstr(rep.problems[j].what, what) != NULL;
                if (!found) {
                        for (size_t j = 0; j < rep.n_problems; j++)
                                print_error("  %s: %s\n", rep.problems[j].path,
                                            rep.problems[j].what);
                        fail_msg("%s: no problem `%s: %s`", cases[i].name, path, what);
                }
                assert_true(rep.archives_checked >= 4 || i == 5);
                st_verify_report_free(&rep);
        }
}

/* ---- inuse.json ---- */

static void test_inuse_round_trips_and_a_missing_file_is_empty(void **state)
{
        struct fx_world *t = *state;
        fx_install(t, "world@1");
        struct st_inuse u;
        struct sl_error err = {0};
        assert_int_equal(st_inuse_read(t->store, &u, &err), 0);
        assert_int_equal(u.n, 0);
        char(*a)[ST_HASH_HEX] = calloc(2, sizeof *a);
        memcpy(a[0], t->world, ST_HASH_HEX);
        memcpy(a[1], t->shared, ST_HASH_HEX);
        struct st_inuse_slice sl[2] = {
            {.slice = "/app/web",
             .package = "world@1",
             .generation = 1,
             .archives = a,
             .n_archives = 2},
            {.slice = "/app/db",
             .package = "base@1",
             .generation = 7,
             .archives = NULL,
             .n_archives = 0},
        };
        struct st_inuse in = {.slices = sl, .n = 2};
        assert_int_equal(st_inuse_write(t->store, &in, &err), 0);
        assert_int_equal(st_inuse_read(t->store, &u, &err), 0);
        assert_int_equal(u.n, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(u.slices[i].slice, sl[i].slice);
                assert_string_equal(u.slices[i].package, sl[i].package);
                assert_int_equal(u.slices[i].generation, sl[i].generation);
                assert_int_equal(u.slices[i].n_archives, sl[i].n_archives);
                for (size_t j = 0; j < sl[i].n_archives; j++)
                        assert_string_equal(u.slices[i].archives[j], sl[i].archives[j]);
        }
        st_inuse_free(&u);
        free(a);
}

static void test_malformed_inuse_is_refused_naming_the_field(void **state)
{
        struct fx_world *t = *state;
        static const struct {
                const char *doc, *want;
        } cases[] = {
            {"[1]", "inuse.json: not a JSON object"},
            {"{\"slices\": [], \"x\": 1}", "inuse.json: x: unknown field"},
            {"{\"slices\": {}}", "inuse.json: slices: not an array"},
            {"{\"slices\": [1]}", "inuse.json: slices[0]: not an object"},
            {"{\"slices\": [{\"slice\": \"/a\", \"package\": \"x@1\", \"generation\": 1}]}",
             "inuse.json: slices[0].archives: missing"},
            {"{\"slices\": [{\"slice\": \"a\", \"package\": \"x@1\", \"generation\": 1, "
             "\"archives\": []}]}",
             "inuse.json: slices[0].slice: `a` is not a slice path"},
            {"{\"slices\": [{\"slice\": \"/a\", \"package\": \"x\", \"generation\": 1, "
             "\"archives\": []}]}",
             "inuse.json: slices[0].package: `x` is not NAME@VERSION"},
            {"{\"slices\": [{\"slice\": \"/a\", \"package\": \"x@1\", \"generation\": -1, "
             "\"archives\": []}]}",
             "inuse.json: slices[0].generation: negative"},
            {"{\"slices\": [{\"slice\": \"/a\", \"package\": \"x@1\", \"generation\": 1, "
             "\"archives\": [\"abc\"]}]}",
             "inuse.json: slices[0].archives[0]: not 64 lowercase hex digits"},
            {"{\"slices\": [{\"slice\": \"/a\", \"package\": \"x@1\", \"generation\": 1, "
             "\"archives\": [], \"pid\": 3}]}",
             "inuse.json: slices[0].pid: unknown field"},
            {"{\"slices\": [", "inuse.json:1:"},
        };
        fx_install(t, "world@1");
        char p[PATH_MAX];
        fx_store_path(t, p, "inuse.json");
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
                fx_write_file(p, cases[i].doc, 0644);
                struct st_inuse u;
                struct sl_error err = {0};
                assert_int_equal(st_inuse_read(t->store, &u, &err), -1);
                if (strncmp(err.msg, cases[i].want, strlen(cases[i].want)) != 0)
                        fail_msg("%s: got `%s`, want `%s`", cases[i].doc, err.msg, cases[i].want);
                /* gc refuses too: it cannot know what slices hold. */
                struct st_store *s = fx_open(t, ST_WRITE);
                struct st_gc_report rep;
                assert_int_equal(st_store_gc(s, 1, &rep, &err), -1);
                st_store_close(s);
        }
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_world_setup, fx_world_teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
            T(test_gc_keeps_the_current_generation_and_what_slices_use),
            T(test_a_writer_sweeps_leftovers_and_gc_counts_them),
            T(test_verify_finds_each_kind_of_tampering),
            T(test_inuse_round_trips_and_a_missing_file_is_empty),
            T(test_malformed_inuse_is_refused_naming_the_field),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
