/* Secure unpack (src/store/unpack.c): one malicious archive per attack, each
 * refused with a message naming the entry and nothing left behind; good
 * archives unpack with their files, links and modes. Archives are built here
 * with libarchive's writer, small on disk (the 10 GiB bomb is sparse). */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/entry.h"
#include "store/store.h"

#define KiB (1024ULL)
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

/* Caps for the tests: small, so the oversized cases stay small too. */
static const struct st_limits test_limits = { .max_bytes = 1 * MiB, .max_entries = 16 };

struct spec {
        const char *path;
        mode_t type;          /* AE_IFREG, AE_IFDIR, ... */
        mode_t perm;
        const char *data;     /* regular files: contents */
        uint64_t size;        /* regular files: declared size when data is NULL */
        const char *symlink;  /* AE_IFLNK target */
        const char *hardlink; /* hardlink target: type ignored */
        int sparse;           /* one 4 KiB chunk at the end, the rest a hole */
};

enum filter { PLAIN, GZIP, ZSTD };

struct fixture {
        char dir[256];
        char archive[300];
        char dest[300];
};

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb, (void)flag, (void)ftw;
        remove(p);
        return 0;
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof *f);
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(f->dir, sizeof f->dir, "%s/test_store_unpack.XXXXXX", tmp);
        if (!mkdtemp(f->dir))
                return -1;
        snprintf(f->archive, sizeof f->archive, "%s/pkg.tar", f->dir);
        snprintf(f->dest, sizeof f->dest, "%s/out", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void write_entry(struct archive *a, const struct spec *s)
{
        static const char chunk[4 * KiB];
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, s->path);
        archive_entry_set_perm(e, s->perm ? s->perm : 0644);
        archive_entry_set_mtime(e, 1700000000, 0);
        uint64_t size = 0;
        if (s->hardlink) {
                archive_entry_set_filetype(e, AE_IFREG);
                archive_entry_set_hardlink(e, s->hardlink);
        } else {
                archive_entry_set_filetype(e, s->type);
                if (s->type == AE_IFLNK)
                        archive_entry_set_symlink(e, s->symlink);
                if (s->type == AE_IFCHR)
                        archive_entry_set_rdev(e, makedev(1, 3));
                if (s->type == AE_IFREG)
                        size = s->data ? strlen(s->data) : s->size;
        }
        archive_entry_set_size(e, (la_int64_t)size);
        if (s->sparse)
                archive_entry_sparse_add_entry(e, (la_int64_t)(size - sizeof chunk),
                                               sizeof chunk);
        assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
        if (s->data)
                assert_int_equal(archive_write_data(a, s->data, size), (la_ssize_t)size);
        else if (s->sparse)
                assert_int_equal(archive_write_data(a, chunk, sizeof chunk), sizeof chunk);
        /* Otherwise the data is left out: finish_entry pads with zeros up
         * to the declared size (oversized entries stay at a few MiB). */
        archive_entry_free(e);
}

static void build(const char *path, enum filter filt, const struct spec *specs)
{
        struct archive *a = archive_write_new();
        assert_non_null(a);
        assert_int_equal(archive_write_set_format_pax_restricted(a), ARCHIVE_OK);
        if (filt == GZIP)
                assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
        if (filt == ZSTD)
                assert_int_equal(archive_write_add_filter_zstd(a), ARCHIVE_OK);
        assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
        for (const struct spec *s = specs; s->path; s++)
                write_entry(a, s);
        assert_int_equal(archive_write_close(a), ARCHIVE_OK);
        archive_write_free(a);
}

/* Nothing at dest, and no aside directory left next to it. */
static void assert_nothing_installed(const struct fixture *f)
{
        struct stat st;
        assert_int_equal(lstat(f->dest, &st), -1);
        DIR *d = opendir(f->dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "out", 3) == 0)
                        fail_msg("left behind: %s", de->d_name);
        closedir(d);
}

struct attack {
        const char *name;
        struct spec entries[20];
        const char *message; /* after "unpack `ARCHIVE`: " */
};

static const struct attack attacks[] = {
        { "dotdot",
          { { .path = "ok", .type = AE_IFREG, .data = "x" },
            { .path = "sub/../../evil", .type = AE_IFREG, .data = "x" } },
          "entry `sub/../../evil`: `..` component" },
        { "absolute path",
          { { .path = "/etc/evil", .type = AE_IFREG, .data = "x" } },
          "entry `/etc/evil`: absolute path" },
        { "symlink escape, absolute target",
          { { .path = "etc", .type = AE_IFDIR, .perm = 0755 },
            { .path = "etc/passwd", .type = AE_IFLNK, .symlink = "/etc/passwd" } },
          "entry `etc/passwd`: symlink target `/etc/passwd` is absolute" },
        { "symlink escape, relative target",
          { { .path = "a/b/up", .type = AE_IFLNK, .symlink = "../../../x" } },
          "entry `a/b/up`: symlink target `../../../x` leaves the tree" },
        { "symlink escape through an in-tree symlink",
          { { .path = "a/s", .type = AE_IFLNK, .symlink = ".." },
            { .path = "t", .type = AE_IFLNK, .symlink = "a/s/.." } },
          "entry `t`: symlink target `a/s/..` leaves the tree" },
        { "hardlink",
          { { .path = "f", .type = AE_IFREG, .data = "x" },
            { .path = "g", .hardlink = "f" } },
          "entry `g`: hardlink to `f` refused" },
        { "character device",
          { { .path = "dev/null", .type = AE_IFCHR, .perm = 0666 } },
          "entry `dev/null`: character device refused" },
        { "fifo",
          { { .path = "pipe", .type = AE_IFIFO } },
          "entry `pipe`: fifo refused" },
        { "setuid file",
          { { .path = "bin/su", .type = AE_IFREG, .perm = 04755, .data = "#!" } },
          "entry `bin/su`: setuid/setgid/sticky mode 4755 refused" },
        { "setgid directory",
          { { .path = "d", .type = AE_IFDIR, .perm = 02755 } },
          "entry `d/`: setuid/setgid/sticky mode 2755 refused" },
        { "oversized entry",
          { { .path = "big", .type = AE_IFREG, .size = 2 * MiB } },
          "entry `big`: size 2097152 above the cap of 1048576 bytes" },
        { "running total over the cap",
          { { .path = "half1", .type = AE_IFREG, .size = 600 * KiB },
            { .path = "half2", .type = AE_IFREG, .size = 600 * KiB } },
          "entry `half2`: total size above the cap of 1048576 bytes" },
        { "too many entries",
          { { .path = "f00", .type = AE_IFREG }, { .path = "f01", .type = AE_IFREG },
            { .path = "f02", .type = AE_IFREG }, { .path = "f03", .type = AE_IFREG },
            { .path = "f04", .type = AE_IFREG }, { .path = "f05", .type = AE_IFREG },
            { .path = "f06", .type = AE_IFREG }, { .path = "f07", .type = AE_IFREG },
            { .path = "f08", .type = AE_IFREG }, { .path = "f09", .type = AE_IFREG },
            { .path = "f10", .type = AE_IFREG }, { .path = "f11", .type = AE_IFREG },
            { .path = "f12", .type = AE_IFREG }, { .path = "f13", .type = AE_IFREG },
            { .path = "f14", .type = AE_IFREG }, { .path = "f15", .type = AE_IFREG },
            { .path = "f16", .type = AE_IFREG } },
          "entry `f16`: more than 16 entries" },
        { "10 GiB sparse bomb",
          { { .path = "bomb", .type = AE_IFREG, .size = 10 * GiB, .sparse = 1 } },
          "entry `bomb`: size 10737418240 above the cap of 1048576 bytes" },
        { "duplicate entry replacing a file",
          { { .path = "f", .type = AE_IFREG, .data = "first" },
            { .path = "f", .type = AE_IFLNK, .symlink = "g" } },
          "entry `f`: duplicate of an earlier entry" },
};

static void test_each_malicious_archive_is_refused_naming_the_entry(void **state)
{
        struct fixture *f = *state;
        for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
                const struct attack *at = &attacks[i];
                build(f->archive, PLAIN, at->entries);
                struct stat st;
                assert_int_equal(stat(f->archive, &st), 0);
                /* The archives themselves stay small: the bomb is sparse. */
                if (st.st_size > (off_t)(4 * MiB))
                        fail_msg("%s: archive is %lld bytes", at->name, (long long)st.st_size);
                struct sl_error err = { 0 };
                if (st_unpack(f->archive, f->dest, &test_limits, &err) == 0)
                        fail_msg("%s: accepted", at->name);
                char want[1024];
                snprintf(want, sizeof want, "unpack `%s`: %s", f->archive, at->message);
                if (strcmp(err.msg, want) != 0)
                        fail_msg("%s:\n  got  %s\n  want %s", at->name, err.msg, want);
                assert_nothing_installed(f);
        }
}

static const struct spec good[] = {
        { .path = "./", .type = AE_IFDIR, .perm = 0755 },
        { .path = "bin", .type = AE_IFDIR, .perm = 0755 },
        { .path = "bin/tool", .type = AE_IFREG, .perm = 0755, .data = "#!/bin/sh\necho hi\n" },
        { .path = "etc/tool.conf", .type = AE_IFREG, .perm = 0640, .data = "level = 3\n" },
        { .path = "lib/tool", .type = AE_IFLNK, .perm = 0777, .symlink = "../bin/tool" },
        { .path = "./share/./doc", .type = AE_IFDIR, .perm = 0700 },
        { .path = "empty", .type = AE_IFREG, .perm = 0600, .data = "" },
        { 0 },
};

static void assert_file(const char *dest, const char *rel, mode_t perm, const char *data)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dest, rel);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, perm);
        if (!data) {
                assert_true(S_ISDIR(st.st_mode));
                return;
        }
        assert_true(S_ISREG(st.st_mode));
        char buf[256] = { 0 };
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof buf - 1), (ssize_t)strlen(data));
        close(fd);
        assert_string_equal(buf, data);
}

static void test_good_archive_unpacks_with_files_links_and_modes(void **state)
{
        struct fixture *f = *state;
        static const enum filter filters[] = { PLAIN, GZIP, ZSTD };
        for (size_t i = 0; i < 3; i++) {
                build(f->archive, filters[i], good);
                struct sl_error err = { 0 };
                if (st_unpack(f->archive, f->dest, &test_limits, &err) != 0)
                        fail_msg("filter %zu: %s", i, err.msg);
                assert_file(f->dest, "bin", 0755, NULL);
                assert_file(f->dest, "bin/tool", 0755, "#!/bin/sh\necho hi\n");
                assert_file(f->dest, "etc/tool.conf", 0640, "level = 3\n");
                assert_file(f->dest, "share/doc", 0700, NULL);
                assert_file(f->dest, "empty", 0600, "");
                char p[512], target[64] = { 0 };
                snprintf(p, sizeof p, "%s/lib/tool", f->dest);
                assert_int_equal(readlink(p, target, sizeof target - 1), 11);
                assert_string_equal(target, "../bin/tool");
                struct stat st;
                assert_int_equal(stat(f->dest, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0755);
                nftw(f->dest, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        }
}

static void test_existing_destination_is_left_alone(void **state)
{
        struct fixture *f = *state;
        build(f->archive, PLAIN, good);
        assert_int_equal(mkdir(f->dest, 0755), 0);
        struct sl_error err = { 0 };
        assert_int_equal(st_unpack(f->archive, f->dest, &test_limits, &err), -1);
        assert_non_null(strstr(err.msg, "destination"));
        char p[512];
        snprintf(p, sizeof p, "%s/bin", f->dest);
        struct stat st;
        assert_int_equal(lstat(p, &st), -1);
}

static void test_relative_destination_is_refused(void **state)
{
        struct fixture *f = *state;
        build(f->archive, PLAIN, good);
        struct sl_error err = { 0 };
        assert_int_equal(st_unpack(f->archive, "out", &test_limits, &err), -1);
        assert_non_null(strstr(err.msg, "destination `out` is not absolute"));
}

static void test_truncated_archive_installs_nothing(void **state)
{
        struct fixture *f = *state;
        static const struct spec one[] = {
                { .path = "a", .type = AE_IFREG, .size = 64 * KiB },
                { 0 },
        };
        build(f->archive, PLAIN, one);
        assert_int_equal(truncate(f->archive, 8 * KiB), 0);
        struct sl_error err = { 0 };
        assert_int_equal(st_unpack(f->archive, f->dest, &test_limits, &err), -1);
        assert_nothing_installed(f);
}

/* The second line: a name through an in-tree symlink passes st_check_entry
 * but libarchive's SECURE_SYMLINKS refuses to write through the link. */
static void test_writing_through_a_symlink_is_refused_by_libarchive(void **state)
{
        struct fixture *f = *state;
        static const struct spec through[] = {
                { .path = "sub", .type = AE_IFDIR, .perm = 0755 },
                { .path = "l", .type = AE_IFLNK, .symlink = "sub" },
                { .path = "l/x", .type = AE_IFREG, .data = "x" },
                { 0 },
        };
        build(f->archive, PLAIN, through);
        struct sl_error err = { 0 };
        assert_int_equal(st_unpack(f->archive, f->dest, &test_limits, &err), -1);
        char want[1024];
        snprintf(want, sizeof want, "unpack `%s`: entry `l/x`: ", f->archive);
        if (strncmp(err.msg, want, strlen(want)) != 0)
                fail_msg("got %s", err.msg);
        assert_nothing_installed(f);
}

struct link_case {
        const char *entry, *target;
        int inside;
};

static void test_symlink_targets_are_judged_from_their_directory(void **state)
{
        (void)state;
        static const struct link_case cases[] = {
                { "l", "x", 1 },
                { "l", ".", 1 },
                { "l", "..", 0 },
                { "a/l", "..", 1 },
                { "a/l", "../..", 0 },
                { "a/b/l", "../../c/d", 1 },
                { "a/b/l", "./../x", 1 },
                { "a/l", "x/../y", 0 }, /* ".." after a name: x may be a symlink */
                { "l", "/etc", 0 },
                { "l", "", 0 },
                { "./a//l", "..", 1 },
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                if (st_symlink_stays_inside(cases[i].entry, cases[i].target) != cases[i].inside)
                        fail_msg("%s -> %s: expected %d", cases[i].entry, cases[i].target,
                                 cases[i].inside);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(
                    test_each_malicious_archive_is_refused_naming_the_entry, setup, teardown),
                cmocka_unit_test_setup_teardown(
                    test_good_archive_unpacks_with_files_links_and_modes, setup, teardown),
                cmocka_unit_test_setup_teardown(test_existing_destination_is_left_alone, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_relative_destination_is_refused, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_truncated_archive_installs_nothing, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(
                    test_writing_through_a_symlink_is_refused_by_libarchive, setup, teardown),
                cmocka_unit_test(test_symlink_targets_are_judged_from_their_directory),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
