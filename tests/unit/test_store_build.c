/* Package build (src/store/build.c): a package directory becomes an unsigned
 * envelope and content-addressed archives that unpack (st_unpack) to the
 * same files, modes and links; the archive bytes depend on the contents
 * only (not on mtimes, owners, creation order or the build), so equal trees
 * share one archive; what the store would refuse to unpack is refused at
 * build time, naming the file; package.json errors name the field. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/build.h"
#include "store/store.h"
#include "store/util.h"

#define PKG_JSON                                                                                   \
        "{\"name\": \"hello\", \"version\": \"1.0\",\n"                                            \
        " \"dependencies\": [{\"name\": \"libfoo\", \"version\": \"2.1\"}],\n"                     \
        " \"archives\": [\"base\"], \"slice\": {\"command\": [\"/pkg/bin/hello\"]}}\n"

#define LONG_NAME                                                                                  \
        "share/a-name-longer-than-the-hundred-bytes-of-a-ustar-header-so-the-pax-writer-"          \
        "must-add-a-record-for-it.txt"

/* snprintf into an array, failing the test if it did not fit */
#define JOIN(buf, ...) assert_true(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

static const struct st_limits limits = {.max_bytes = 1 << 20, .max_entries = 64};

/* The test tree, as data. type: 'f' file, 'd' directory, 'l' symlink,
 * 'h' hardlink to `data`. */
struct node {
        char type;
        const char *path;
        mode_t mode;
        const char *data; /* file contents, link target */
};

/* clang-format off */
static const struct node tree[] = {
        {'d', "bin",              0755, NULL},
        {'f', "bin/hello",        0755, "#!/bin/sh\necho hello\n"},
        {'h', "bin/hello-again",  0,    "bin/hello"},
        {'l', "bin/hi",           0,    "hello"},
        {'d', "etc",              0755, NULL},
        {'f', "etc/secret",       0600, "s3cret\n"},
        {'d', "share",            0775, NULL}, /* group write: dropped */
        {'d', "share/doc",        0755, NULL},
        {'f', "share/doc/README", 0664, "read me\n"},
        {'f', LONG_NAME,          0644, "long\n"},
        {'l', "doc",              0,    "share/doc"},
        {'l', "share/doc/up",     0,    "../../bin/hello"},
        {'d', "var",              0700, NULL},
};
/* clang-format on */
#define N_TREE (sizeof tree / sizeof tree[0])

/* The archive's entries: sorted bytewise per directory, each directory
 * followed by its contents. */
static const char *const tar_order[] = {
    "bin/",    "bin/hello",  "bin/hello-again",  "bin/hi",
    "doc",     "etc/",       "etc/secret",       "share/",
    LONG_NAME, "share/doc/", "share/doc/README", "share/doc/up",
    "var/",
};

struct fixture {
        char root[256];
        char pkg[300];
        char out[300];
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
        snprintf(f->root, sizeof f->root, "%s/test_store_build.XXXXXX", tmp);
        if (!mkdtemp(f->root))
                return -1;
        snprintf(f->pkg, sizeof f->pkg, "%s/pkg", f->root);
        snprintf(f->out, sizeof f->out, "%s/out", f->root);
        if (mkdir(f->pkg, 0755) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        nftw(f->root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        free(f);
        return 0;
}

static void write_at(const char *dir, const char *rel, const char *data, mode_t mode)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void mkdir_at(const char *dir, const char *rel, mode_t mode)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        assert_int_equal(mkdir(p, 0700), 0);
        assert_int_equal(chmod(p, mode), 0);
}

/* The tree under dir/sub, in table order or backwards (another readdir
 * order), optionally with other times and owners. */
static void make_tree(const char *dir, const char *sub, int backwards, int disturb)
{
        char base[PATH_MAX];
        snprintf(base, sizeof base, "%s/%s", dir, sub);
        assert_int_equal(mkdir(base, 0755), 0);
        /* directories first and parents first; the rest in either order */
        for (size_t k = 0; k < N_TREE; k++) {
                const struct node *n = &tree[k];
                if (n->type == 'd')
                        mkdir_at(base, n->path, n->mode);
        }
        for (size_t k = 0; k < N_TREE; k++) {
                const struct node *n = &tree[backwards ? N_TREE - 1 - k : k];
                char p[PATH_MAX], t[PATH_MAX];
                JOIN(p, "%s/%s", base, n->path);
                if (n->type == 'f')
                        write_at(base, n->path, n->data, n->mode);
                if (n->type == 'l')
                        assert_int_equal(symlink(n->data, p), 0);
                if (n->type == 'h') {
                        JOIN(t, "%s/%s", base, n->data);
                        if (access(t, F_OK) != 0) /* backwards: target not made yet */
                                write_at(base, n->data, "#!/bin/sh\necho hello\n", 0755);
                        assert_int_equal(link(t, p), 0);
                }
        }
        if (!disturb)
                return;
        for (size_t k = 0; k < N_TREE; k++) {
                char p[PATH_MAX];
                JOIN(p, "%s/%s", base, tree[k].path);
                struct timespec ts[2] = {{.tv_sec = 1000000000}, {.tv_sec = 1234567890}};
                assert_int_equal(utimensat(AT_FDCWD, p, ts, AT_SYMLINK_NOFOLLOW), 0);
                if (geteuid() == 0)
                        assert_int_equal(lchown(p, 1234, 5678), 0);
        }
}

static void build_ok(const char *dir, const char *out, char *pkg_path)
{
        struct sl_error err = {0};
        int r = st_pkg_build(dir, out, pkg_path, PATH_MAX, &err);
        if (r != 0)
                fail_msg("st_pkg_build: %s", err.msg);
}

/* The manifest inside the envelope at path, checked to be unsigned. */
static void read_manifest(const char *path, struct st_manifest *m)
{
        struct st_buf b = {0}, signed_bytes = {0};
        struct sl_error err = {0};
        assert_int_equal(st_read_file(path, 1 << 20, &b, &err), 0);
        json_t *env = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(env);
        assert_int_equal(json_object_size(env), 2);
        json_t *sigs = json_object_get(env, "signatures");
        assert_true(json_is_array(sigs) && json_array_size(sigs) == 0);
        const char *s = json_string_value(json_object_get(env, "signed"));
        assert_non_null(s);
        assert_int_equal(st_base64_decode(s, strlen(s), &signed_bytes, "signed", &err), 0);
        assert_int_equal(st_manifest_parse(signed_bytes.data, signed_bytes.len, m, &err), 0);
        json_decref(env);
        st_buf_free(&b);
        st_buf_free(&signed_bytes);
}

static void archive_path(const char *out, const char *hash, char *p)
{
        assert_true(snprintf(p, PATH_MAX, "%s/archives/%s.tar.zst", out, hash) < PATH_MAX);
}

static void check_file(const char *dir, const char *rel, const char *data, mode_t mode)
{
        char p[PATH_MAX], got[256] = "";
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, mode);
        assert_int_equal(st.st_nlink, 1);
        int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, got, sizeof got - 1), (ssize_t)strlen(data));
        close(fd);
        assert_string_equal(got, data);
}

static void check_link(const char *dir, const char *rel, const char *target)
{
        char p[PATH_MAX], got[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        ssize_t n = readlink(p, got, sizeof got - 1);
        assert_true(n > 0);
        got[n] = 0;
        assert_string_equal(got, target);
}

static void check_dir(const char *dir, const char *rel, mode_t mode)
{
        char p[PATH_MAX];
        snprintf(p, sizeof p, "%s/%s", dir, rel);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, mode);
}

static void test_package_builds_and_its_archive_unpacks_to_the_same_tree(void **state)
{
        struct fixture *f = *state;
        char pkg_path[PATH_MAX], want[PATH_MAX], arch[PATH_MAX], dest[PATH_MAX];
        write_at(f->pkg, "package.json", PKG_JSON, 0644);
        make_tree(f->pkg, "base", 0, 0);
        build_ok(f->pkg, f->out, pkg_path);
        snprintf(want, sizeof want, "%s/hello@1.0.pkg", f->out);
        assert_string_equal(pkg_path, want);

        struct st_manifest m;
        read_manifest(pkg_path, &m);
        assert_string_equal(m.name, "hello");
        assert_string_equal(m.version, "1.0");
        assert_int_equal(m.n_deps, 1);
        assert_string_equal(m.deps[0].name, "libfoo");
        assert_string_equal(m.deps[0].version, "2.1");
        assert_int_equal(m.n_command, 1);
        assert_string_equal(m.command[0], "/pkg/bin/hello");
        assert_int_equal(m.n_archives, 1);

        /* stored under its hash, with its size */
        char hex[ST_HASH_HEX];
        struct sl_error err = {0};
        archive_path(f->out, m.archives[0].hash, arch);
        assert_int_equal(st_archive_hash(arch, 0, hex, &err), 0);
        assert_string_equal(hex, m.archives[0].hash);
        struct stat st;
        assert_int_equal(stat(arch, &st), 0);
        assert_int_equal((uint64_t)st.st_size, m.archives[0].size);

        snprintf(dest, sizeof dest, "%s/unpacked", f->root);
        if (st_unpack(arch, dest, &limits, &err) != 0)
                fail_msg("st_unpack: %s", err.msg);
        check_file(dest, "bin/hello", "#!/bin/sh\necho hello\n", 0755);
        check_file(dest, "bin/hello-again", "#!/bin/sh\necho hello\n", 0755); /* no hardlink */
        check_file(dest, "etc/secret", "s3cret\n", 0600);
        check_file(dest, "share/doc/README", "read me\n", 0644); /* g+w dropped */
        check_file(dest, LONG_NAME, "long\n", 0644);
        check_link(dest, "bin/hi", "hello");
        check_link(dest, "doc", "share/doc");
        check_link(dest, "share/doc/up", "../../bin/hello");
        check_dir(dest, "share", 0755); /* g+w dropped */
        check_dir(dest, "var", 0700);
        st_manifest_free(&m);
}

/* What is in the archive, entry by entry: order, owners, times. */
static void test_archive_entries_are_sorted_with_fixed_owner_and_time(void **state)
{
        struct fixture *f = *state;
        char pkg_path[PATH_MAX], arch[PATH_MAX];
        write_at(f->pkg, "package.json", PKG_JSON, 0644);
        make_tree(f->pkg, "base", 1, 1);
        build_ok(f->pkg, f->out, pkg_path);
        struct st_manifest m;
        read_manifest(pkg_path, &m);
        archive_path(f->out, m.archives[0].hash, arch);
        st_manifest_free(&m);

        struct archive *a = archive_read_new();
        archive_read_support_format_tar(a);
        archive_read_support_filter_zstd(a);
        assert_int_equal(archive_read_open_filename(a, arch, 10240), ARCHIVE_OK);
        struct archive_entry *e;
        size_t i = 0;
        while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
                assert_true(i < sizeof tar_order / sizeof tar_order[0]);
                assert_string_equal(archive_entry_pathname(e), tar_order[i]);
                assert_int_equal(archive_entry_uid(e), 0);
                assert_int_equal(archive_entry_gid(e), 0);
                assert_true(!archive_entry_uname(e) || !*archive_entry_uname(e));
                assert_true(!archive_entry_gname(e) || !*archive_entry_gname(e));
                assert_int_equal(archive_entry_mtime(e), 0);
                assert_false(archive_entry_atime_is_set(e));
                assert_false(archive_entry_ctime_is_set(e));
                assert_null(archive_entry_hardlink(e));
                assert_int_equal(archive_entry_perm(e) & 022, 0);
                i++;
        }
        assert_int_equal(i, sizeof tar_order / sizeof tar_order[0]);
        archive_read_free(a);
}

static void read_bytes(const char *path, struct st_buf *b)
{
        struct sl_error err = {0};
        assert_int_equal(st_read_file(path, 1 << 20, b, &err), 0);
}

/* Same contents, same bytes: built twice, and from a copy made in another
 * order with other mtimes and (as root) other owners. */
static void test_archives_are_reproducible(void **state)
{
        struct fixture *f = *state;
        char p1[PATH_MAX], p2[PATH_MAX], p3[PATH_MAX], copy[PATH_MAX], out2[PATH_MAX];
        write_at(f->pkg, "package.json", PKG_JSON, 0644);
        make_tree(f->pkg, "base", 0, 0);
        build_ok(f->pkg, f->out, p1);
        struct st_buf first = {0}, second = {0}, third = {0};
        read_bytes(p1, &first);
        build_ok(f->pkg, f->out, p2);
        read_bytes(p2, &second);
        assert_int_equal(first.len, second.len);
        assert_memory_equal(first.data, second.data, first.len);

        snprintf(copy, sizeof copy, "%s/copy", f->root);
        snprintf(out2, sizeof out2, "%s/out2", f->root);
        assert_int_equal(mkdir(copy, 0755), 0);
        write_at(copy, "package.json", PKG_JSON, 0644);
        make_tree(copy, "base", 1, 1);
        build_ok(copy, out2, p3);
        read_bytes(p3, &third);
        assert_int_equal(first.len, third.len);
        assert_memory_equal(first.data, third.data, first.len); /* same manifest */

        struct st_manifest m;
        read_manifest(p1, &m);
        char a1[PATH_MAX], a2[PATH_MAX];
        archive_path(f->out, m.archives[0].hash, a1);
        archive_path(out2, m.archives[0].hash, a2);
        st_manifest_free(&m);
        struct st_buf x = {0}, y = {0};
        read_bytes(a1, &x);
        read_bytes(a2, &y);
        assert_int_equal(x.len, y.len);
        assert_memory_equal(x.data, y.data, x.len);
        st_buf_free(&first);
        st_buf_free(&second);
        st_buf_free(&third);
        st_buf_free(&x);
        st_buf_free(&y);
}

static size_t count_files(const char *dir)
{
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                n += de->d_name[0] != '.';
        closedir(d);
        return n;
}

/* Two packages (and two archives of one package) with equal trees share
 * one archive file; archives keep the order package.json lists them in. */
static void test_equal_trees_share_one_archive(void **state)
{
        struct fixture *f = *state;
        char p1[PATH_MAX], p2[PATH_MAX], other[PATH_MAX], archives[PATH_MAX];
        write_at(f->pkg, "package.json",
                 "{\"name\": \"a\", \"version\": \"1\", \"dependencies\": [],"
                 " \"archives\": [\"base\", \"docs\", \"same\"]}",
                 0644);
        make_tree(f->pkg, "base", 0, 0);
        make_tree(f->pkg, "same", 1, 1);
        assert_int_equal(mkdir(strcat(strcpy(other, f->pkg), "/docs"), 0755), 0);
        write_at(other, "README", "docs\n", 0644);
        build_ok(f->pkg, f->out, p1);

        snprintf(other, sizeof other, "%s/other", f->root);
        assert_int_equal(mkdir(other, 0755), 0);
        write_at(other, "package.json",
                 "{\"name\": \"b\", \"version\": \"2\", \"dependencies\": [],"
                 " \"archives\": [\"data\"]}",
                 0644);
        make_tree(other, "data", 0, 1);
        build_ok(other, f->out, p2);

        struct st_manifest a, b;
        read_manifest(p1, &a);
        read_manifest(p2, &b);
        assert_int_equal(a.n_archives, 3);
        assert_int_equal(b.n_archives, 1);
        assert_string_equal(a.archives[0].hash, b.archives[0].hash);
        assert_string_equal(a.archives[2].hash, b.archives[0].hash);
        assert_string_not_equal(a.archives[1].hash, a.archives[0].hash);
        snprintf(archives, sizeof archives, "%s/archives", f->out);
        assert_int_equal(count_files(archives), 2); /* base=same=data, docs */
        st_manifest_free(&a);
        st_manifest_free(&b);
}

enum extra { NONE, SETUID, STICKY_DIR, FIFO, SOCKET, ABS_LINK, LEAVING_LINK, NO_JSON };

/* package.json texts for the table below */
#define X    "{\"name\": \"x\", \"version\": \"1\", "
#define DEPS X "\"dependencies\": [], "
#define GOOD DEPS "\"archives\": [\"base\"]}"

static void make_extra(const char *base, enum extra x)
{
        char p[PATH_MAX];
        switch (x) {
        case NONE:
        case NO_JSON: break;
        case SETUID:
                mkdir_at(base, "bin", 0755);
                write_at(base, "bin/su", "x", 04755);
                break;
        case STICKY_DIR: mkdir_at(base, "tmp", 01777); break;
        case FIFO:
                JOIN(p, "%s/pipe", base);
                assert_int_equal(mkfifo(p, 0644), 0);
                break;
        case SOCKET: {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                JOIN(sa.sun_path, "%s/sock", base);
                int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                assert_true(s >= 0);
                assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof sa), 0);
                close(s);
                break;
        }
        case ABS_LINK:
                JOIN(p, "%s/l", base);
                assert_int_equal(symlink("/etc/passwd", p), 0);
                break;
        case LEAVING_LINK:
                mkdir_at(base, "sub", 0755);
                JOIN(p, "%s/sub/l", base);
                assert_int_equal(symlink("../../x", p), 0);
                break;
        }
}

/* Each bad package and its message; "DIR" stands for the package
 * directory. Nothing is left in OUT afterwards. */
static void test_bad_packages_are_refused_naming_the_problem(void **state)
{
        struct fixture *f = *state;
        /* clang-format off */
        static const struct {
                const char *json; /* package.json; NULL for NO_JSON */
                enum extra extra;
                const char *msg;
        } cases[] = {
                {NULL, NO_JSON, "open `DIR/package.json`: No such file or directory"},
                {DEPS "\"archives\": [\"base\"], \"colour\": \"red\"}",
                 NONE, "DIR/package.json: colour: unknown field"},
                {"{\"name\": \"-x\", \"version\": \"1\", \"dependencies\": [], "
                 "\"archives\": [\"base\"]}",
                 NONE, "DIR/package.json: name: `-x` is not a package name (letters, digits, "
                       "`-_.+`, starting with a letter or digit, at most 127)"},
                {X "\"archives\": [\"base\"]}",
                 NONE, "DIR/package.json: dependencies: missing"},
                {X "\"dependencies\": [{\"name\": \"y\"}], \"archives\": [\"base\"]}",
                 NONE, "DIR/package.json: dependencies[0].version: missing"},
                {DEPS "\"archives\": [\"base\"], \"slice\": {\"command\": [\"hello\"]}}",
                 NONE, "DIR/package.json: slice.command[0]: `hello` is not an absolute path"},
                {DEPS "\"archives\": []}",
                 NONE, "DIR/package.json: archives: empty (a package has 1 to 1024 archives)"},
                {X "\"dependencies\": []}",
                 NONE, "DIR/package.json: archives: missing"},
                {DEPS "\"archives\": [\"base\", \"nope\"]}",
                 NONE, "DIR/package.json: archives[1]: `nope`: No such file or directory"},
                {DEPS "\"archives\": [\"package.json\"]}",
                 NONE, "DIR/package.json: archives[0]: `package.json` is not a directory"},
                {DEPS "\"archives\": [\"base/bin\"]}",
                 NONE, "DIR/package.json: archives[0]: `base/bin` is not the name of a "
                       "subdirectory"},
                {DEPS "\"archives\": [\"..\"]}",
                 NONE, "DIR/package.json: archives[0]: `..` is not the name of a subdirectory"},
                {DEPS "\"archives\": [\"base\", \"base\"]}",
                 NONE, "DIR/package.json: archives[1]: `base` listed twice"},
                {DEPS "\"archives\": [7]}",
                 NONE, "DIR/package.json: archives[0]: not a string"},
                {GOOD, SETUID,       "DIR/base/bin/su: setuid/setgid/sticky mode 4755 refused"},
                {GOOD, STICKY_DIR,   "DIR/base/tmp: setuid/setgid/sticky mode 1777 refused"},
                {GOOD, FIFO,         "DIR/base/pipe: fifo refused"},
                {GOOD, SOCKET,       "DIR/base/sock: socket refused"},
                {GOOD, ABS_LINK,     "DIR/base/l: symlink target `/etc/passwd` is absolute"},
                {GOOD, LEAVING_LINK, "DIR/base/sub/l: symlink target `../../x` leaves the tree"},
        };
        /* clang-format on */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char dir[PATH_MAX], out[PATH_MAX], base[PATH_MAX], want[1024];
                char pkg_path[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/bad%zu", f->root, i);
                snprintf(out, sizeof out, "%s/badout%zu", f->root, i);
                assert_int_equal(mkdir(dir, 0755), 0);
                JOIN(base, "%s/base", dir);
                assert_int_equal(mkdir(base, 0755), 0);
                write_at(base, "file", "contents\n", 0644);
                make_extra(base, cases[i].extra);
                if (cases[i].json)
                        write_at(dir, "package.json", cases[i].json, 0644);
                struct sl_error err = {0};
                assert_int_equal(st_pkg_build(dir, out, pkg_path, sizeof pkg_path, &err), -1);
                /* DIR in the expected message stands for dir */
                const char *d = strstr(cases[i].msg, "DIR");
                JOIN(want, "%.*s%s%s", (int)(d - cases[i].msg), cases[i].msg, dir, d + 3);
                assert_string_equal(err.msg, want);
                /* no archive, no temporary file, no package left */
                JOIN(base, "%s/archives", out);
                if (access(base, F_OK) == 0)
                        assert_int_equal(count_files(base), 0);
                JOIN(base, "%s/x@1.pkg", out);
                assert_int_not_equal(access(base, F_OK), 0);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(
                test_package_builds_and_its_archive_unpacks_to_the_same_tree, setup, teardown),
            cmocka_unit_test_setup_teardown(
                test_archive_entries_are_sorted_with_fixed_owner_and_time, setup, teardown),
            cmocka_unit_test_setup_teardown(test_archives_are_reproducible, setup, teardown),
            cmocka_unit_test_setup_teardown(test_equal_trees_share_one_archive, setup, teardown),
            cmocka_unit_test_setup_teardown(test_bad_packages_are_refused_naming_the_problem, setup,
                                            teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
