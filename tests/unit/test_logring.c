/* The per-slice output ring: bounded by lines and by bytes, oldest first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/logring.h"

static void test_keeps_the_newest_lines_up_to_the_line_cap(void **state)
{
        (void)state;
        struct sv_logring r;
        assert_int_equal(sv_logring_init(&r, 3), 0);
        const char *lines[] = { "one", "two", "three", "four", "five" };
        for (size_t i = 0; i < 5; i++)
                assert_int_equal(sv_logring_push(&r, lines[i], strlen(lines[i]), 0, i), 0);
        assert_int_equal(r.n, 3);
        assert_string_equal(sv_logring_at(&r, 0)->text, "three");
        assert_string_equal(sv_logring_at(&r, 2)->text, "five");
        assert_int_equal(sv_logring_at(&r, 2)->seq, 5);
        assert_null(sv_logring_at(&r, 3));
        sv_logring_free(&r);
}

static void test_byte_bound_drops_old_lines_for_long_ones(void **state)
{
        (void)state;
        struct sv_logring r;
        assert_int_equal(sv_logring_init(&r, 1000), 0);
        static char big[SV_LOGRING_BYTES / 2];
        memset(big, 'x', sizeof big);
        assert_int_equal(sv_logring_push(&r, "small", 5, 1, 0), 0);
        for (int i = 0; i < 3; i++)
                assert_int_equal(sv_logring_push(&r, big, sizeof big - 10, 0, 0), 0);
        assert_true(r.bytes <= SV_LOGRING_BYTES);
        /* two of the long lines fit the byte budget; "small" and the first
         * long one were dropped for them */
        assert_int_equal(r.n, 2);
        assert_int_equal(sv_logring_at(&r, 0)->is_err, 0);
        assert_int_equal(sv_logring_at(&r, 0)->seq, 3);
        sv_logring_free(&r);
}

static void test_a_line_longer_than_the_ring_is_truncated_not_lost(void **state)
{
        (void)state;
        struct sv_logring r;
        assert_int_equal(sv_logring_init(&r, 4), 0);
        static char huge[SV_LOGRING_BYTES * 2];
        memset(huge, 'y', sizeof huge);
        assert_int_equal(sv_logring_push(&r, huge, sizeof huge, 0, 0), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(strlen(sv_logring_at(&r, 0)->text), SV_LOGRING_BYTES - 1);
        sv_logring_free(&r);
}

static void test_grows_on_demand_and_keeps_order_across_wraps(void **state)
{
        (void)state;
        struct sv_logring r;
        char line[32];
        assert_int_equal(sv_logring_init(&r, 100), 0);
        assert_int_equal(r.alloc, 0); /* nothing allocated for a quiet slice */
        for (int i = 0; i < 250; i++) {
                int n = snprintf(line, sizeof line, "line %d", i);
                assert_int_equal(sv_logring_push(&r, line, (size_t)n, i & 1, 0), 0);
        }
        assert_int_equal(r.n, 100);
        assert_int_equal(r.alloc, 100);
        for (int i = 0; i < 100; i++) {
                snprintf(line, sizeof line, "line %d", 150 + i);
                assert_string_equal(sv_logring_at(&r, (size_t)i)->text, line);
        }
        sv_logring_free(&r);
}

static void test_zero_capacity_keeps_nothing(void **state)
{
        (void)state;
        struct sv_logring r;
        assert_int_equal(sv_logring_init(&r, 0), 0);
        assert_int_equal(sv_logring_push(&r, "a", 1, 0, 0), 0);
        assert_int_equal(r.n, 0);
        assert_int_equal(r.next_seq, 1);
        sv_logring_free(&r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_keeps_the_newest_lines_up_to_the_line_cap),
                cmocka_unit_test(test_byte_bound_drops_old_lines_for_long_ones),
                cmocka_unit_test(test_a_line_longer_than_the_ring_is_truncated_not_lost),
                cmocka_unit_test(test_grows_on_demand_and_keeps_order_across_wraps),
                cmocka_unit_test(test_zero_capacity_keeps_nothing),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
