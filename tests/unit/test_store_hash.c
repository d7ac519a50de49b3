/* Content addressing (src/store/hash.c): BLAKE2b-256 of the exact bytes. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/store.h"

/* BLAKE2b-256("") from the BLAKE2 reference implementation. */
#define EMPTY_HASH "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8"

/* Three reads' worth, so the streaming path is exercised. */
#define BIG (200 * 1024)

static void write_file(const char *path, const unsigned char *data, size_t n)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, n), (ssize_t)n);
        close(fd);
}

static int setup(void **state)
{
        char *path = malloc(300);
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(path, 300, "%s/test_store_hash.XXXXXX", tmp);
        int fd = mkstemp(path);
        if (fd < 0)
                return -1;
        close(fd);
        *state = path;
        return 0;
}

static int teardown(void **state)
{
        unlink(*state);
        free(*state);
        return 0;
}

static void test_empty_archive_hashes_to_the_blake2b_vector(void **state)
{
        char hex[ST_HASH_HEX];
        struct sl_error err = { 0 };
        assert_int_equal(st_archive_hash(*state, 0, hex, &err), 0);
        assert_string_equal(hex, EMPTY_HASH);
}

static void test_hash_is_stable_and_one_flipped_byte_changes_it(void **state)
{
        static unsigned char data[BIG];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (unsigned char)(i * 7 + 3);
        write_file(*state, data, sizeof data);
        char a[ST_HASH_HEX], b[ST_HASH_HEX], c[ST_HASH_HEX];
        struct sl_error err = { 0 };
        assert_int_equal(st_archive_hash(*state, 0, a, &err), 0);
        assert_int_equal(st_archive_hash(*state, 0, b, &err), 0);
        assert_string_equal(a, b);
        assert_int_equal(strlen(a), 64);
        data[BIG - 1000] ^= 0x01;
        write_file(*state, data, sizeof data);
        assert_int_equal(st_archive_hash(*state, 0, c, &err), 0);
        assert_string_not_equal(a, c);
}

static void test_archive_over_the_cap_is_refused(void **state)
{
        static const unsigned char eleven[11] = "0123456789";
        write_file(*state, eleven, sizeof eleven);
        char hex[ST_HASH_HEX];
        struct sl_error err = { 0 };
        assert_int_equal(st_archive_hash(*state, 10, hex, &err), -1);
        char want[512];
        snprintf(want, sizeof want,
                 "`%s`: hash archive: larger than the cap of 10 bytes: File too large",
                 (const char *)*state);
        assert_string_equal(err.msg, want);
        assert_int_equal(st_archive_hash(*state, 11, hex, &err), 0);
}

static void test_missing_archive_names_the_path(void **state)
{
        (void)state;
        char hex[ST_HASH_HEX];
        struct sl_error err = { 0 };
        assert_int_equal(st_archive_hash("/nonexistent/pkg.tar.zst", 0, hex, &err), -1);
        assert_string_equal(err.msg, "open `/nonexistent/pkg.tar.zst`: No such file or directory");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_empty_archive_hashes_to_the_blake2b_vector,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(
                    test_hash_is_stable_and_one_flipped_byte_changes_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_archive_over_the_cap_is_refused, setup,
                                                teardown),
                cmocka_unit_test(test_missing_archive_names_the_path),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
