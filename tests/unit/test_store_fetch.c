/* Downloads (src/store/fetch.c) against an in-process libmicrohttpd server on
 * 127.0.0.1: documents, missing documents, an endless stream and an honest
 * but too large Content-Length against the size cap, a trickle against the
 * low-speed and total timeouts, redirects to http (followed) and to file://
 * or ftp:// (refused); file:// URLs; schemes; the environment overrides; the
 * progress bar on a TTY only; st_url_join.
 *
 * Not covered: the connect timeout (it needs an address that drops SYNs,
 * which a test cannot count on), and a Content-Length smaller than the body
 * (MHD sends the length it computes; curl reads no more than a declared
 * length anyway, so such a lie cannot get past the cap). */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
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

#include "store/fetch.h"

#define DOC           "hello, store\n"
#define KiB           (1024ULL)
#define MiB           (1024ULL * KiB)
#define TRICKLE_MS    300 /* one byte every 300 ms: far below any low-speed floor */
#define TRICKLE_BYTES 20

static struct MHD_Daemon *g_mhd;
static char g_base[64]; /* http://127.0.0.1:PORT */
static char g_tmp[256]; /* scratch directory for file:// tests */

/* An endless or declared-large body: 'x' as fast as the client takes it. */
static ssize_t fill_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)cls, (void)pos;
        memset(buf, 'x', max);
        return (ssize_t)max;
}

/* One byte every TRICKLE_MS (each connection has its own thread). */
static ssize_t trickle_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void)cls, (void)max;
        if (pos >= TRICKLE_BYTES)
                return MHD_CONTENT_READER_END_OF_STREAM;
        usleep(TRICKLE_MS * 1000);
        buf[0] = '.';
        return 1;
}

static enum MHD_Result send_status(struct MHD_Connection *c, unsigned status, const char *location)
{
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (location)
                MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, location);
        enum MHD_Result ret = MHD_queue_response(c, status, r);
        MHD_destroy_response(r);
        return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
        (void)cls, (void)method, (void)version, (void)upload, (void)upload_size, (void)con_cls;
        struct MHD_Response *r = NULL;
        if (strcmp(url, "/doc") == 0)
                r = MHD_create_response_from_buffer(strlen(DOC), DOC, MHD_RESPMEM_PERSISTENT);
        else if (strcmp(url, "/endless") == 0)
                r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, fill_cb, NULL, NULL);
        else if (strcmp(url, "/big") == 0)
                r = MHD_create_response_from_callback(10 * MiB, 4096, fill_cb, NULL, NULL);
        else if (strcmp(url, "/trickle") == 0)
                r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1, trickle_cb, NULL, NULL);
        else if (strcmp(url, "/gone") == 0)
                return send_status(c, MHD_HTTP_GONE, NULL);
        else if (strcmp(url, "/error") == 0)
                return send_status(c, MHD_HTTP_INTERNAL_SERVER_ERROR, NULL);
        else if (strcmp(url, "/to-file") == 0)
                return send_status(c, MHD_HTTP_FOUND, "file:///etc/passwd");
        else if (strcmp(url, "/to-ftp") == 0)
                return send_status(c, MHD_HTTP_FOUND, "ftp://127.0.0.1/doc");
        else if (strcmp(url, "/to-doc") == 0)
                return send_status(c, MHD_HTTP_FOUND, "/doc");
        else if (strcmp(url, "/loop") == 0)
                return send_status(c, MHD_HTTP_FOUND, "/loop");
        else if (strcmp(url, "/no-location") == 0)
                return send_status(c, MHD_HTTP_FOUND, NULL);
        else
                return send_status(c, MHD_HTTP_NOT_FOUND, NULL);
        enum MHD_Result ret = MHD_queue_response(c, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return ret;
}

static int group_setup(void **state)
{
        (void)state;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        /* a thread per connection: the trickle sleeps in its callback */
        g_mhd =
            MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
                             NULL, NULL, serve, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
        if (!g_mhd)
                return -1;
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(g_mhd, MHD_DAEMON_INFO_BIND_PORT);
        if (!info || !info->port)
                return -1;
        snprintf(g_base, sizeof g_base, "http://127.0.0.1:%u", (unsigned)info->port);
        const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
        snprintf(g_tmp, sizeof g_tmp, "%s/test_store_fetch.XXXXXX", tmp);
        if (!mkdtemp(g_tmp))
                return -1;
        /* the environment must not change the defaults under test */
        unsetenv("SLICED_FETCH_CONNECT_TIMEOUT");
        unsetenv("SLICED_FETCH_LOW_SPEED_BYTES");
        unsetenv("SLICED_FETCH_LOW_SPEED_TIME");
        unsetenv("SLICED_FETCH_TIMEOUT");
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (g_mhd)
                MHD_stop_daemon(g_mhd);
        char p[300];
        snprintf(p, sizeof p, "%s/doc", g_tmp);
        unlink(p);
        rmdir(g_tmp);
        return 0;
}

static void url(char *out, size_t cap, const char *path)
{
        snprintf(out, cap, "%s%s", g_base, path);
}

static const struct st_fetch_opts small = {.max_bytes = 1 * MiB};

static void test_document_is_fetched_into_memory_nul_terminated(void **state)
{
        (void)state;
        char u[128];
        url(u, sizeof u, "/doc");
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &small, &b, &err), 0);
        assert_int_equal(b.len, strlen(DOC));
        assert_string_equal((char *)b.data, DOC);
        st_buf_free(&b);
}

static void test_document_is_fetched_into_an_fd(void **state)
{
        (void)state;
        char u[128], path[300], got[64] = "";
        url(u, sizeof u, "/doc");
        snprintf(path, sizeof path, "%s/fd", g_tmp);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        uint64_t written = 0;
        struct sl_error err = {0};
        assert_int_equal(st_fetch_fd(u, &small, fd, &written, &err), 0);
        assert_int_equal(written, strlen(DOC));
        assert_int_equal(pread(fd, got, sizeof got - 1, 0), (ssize_t)strlen(DOC));
        assert_string_equal(got, DOC);
        close(fd);
        unlink(path);
}

/* Status answers: "not there" is ENOENT, every other error status is not. */
static void test_http_errors_name_the_status(void **state)
{
        (void)state;
        /* clang-format off */
        static const struct {
                const char *path;
                int code;
                const char *msg;
        } cases[] = {
                {"/missing",     ENOENT, "HTTP 404"},
                {"/gone",        ENOENT, "HTTP 410"},
                {"/error",       EIO,    "HTTP 500"},
                {"/no-location", EIO,    "HTTP 302"},
        };
        /* clang-format on */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char u[128], want[256];
                url(u, sizeof u, cases[i].path);
                struct st_buf b = {0};
                struct sl_error err = {0};
                assert_int_equal(st_fetch_buf(u, &small, &b, &err), -1);
                snprintf(want, sizeof want, "fetch `%s`: %s", u, cases[i].msg);
                assert_string_equal(err.msg, want);
                assert_int_equal(err.code, cases[i].code);
                assert_null(b.data);
        }
}

static void test_endless_stream_stops_at_the_size_cap(void **state)
{
        (void)state;
        char u[128], want[256];
        url(u, sizeof u, "/endless");
        struct st_fetch_opts o = {.max_bytes = 100 * KiB};
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), -1);
        snprintf(want, sizeof want, "fetch `%s`: more than 102400 bytes (size cap)", u);
        assert_string_equal(err.msg, want);
        assert_int_equal(err.code, EFBIG);
}

/* An honest Content-Length above the cap: refused before a body byte is
 * written (the write-callback cap alone would have written the first
 * chunks). */
static void test_declared_length_over_the_cap_is_refused_before_the_body(void **state)
{
        (void)state;
        char u[128], want[256], path[300];
        url(u, sizeof u, "/big");
        snprintf(path, sizeof path, "%s/big", g_tmp);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        struct st_fetch_opts o = {.max_bytes = 100 * KiB};
        uint64_t written = 1;
        struct sl_error err = {0};
        assert_int_equal(st_fetch_fd(u, &o, fd, &written, &err), -1);
        snprintf(want, sizeof want, "fetch `%s`: more than 102400 bytes (size cap)", u);
        assert_string_equal(err.msg, want);
        assert_int_equal(written, 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0);
        close(fd);
        unlink(path);
}

static void test_trickle_hits_the_low_speed_limit(void **state)
{
        (void)state;
        char u[128], want[256];
        url(u, sizeof u, "/trickle");
        struct st_fetch_opts o = {.max_bytes = 1 * MiB, .low_speed_time_s = 1};
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), -1);
        snprintf(want, sizeof want,
                 "fetch `%s`: timed out (low-speed limit: less than 1024 bytes/s for 1 s): ", u);
        assert_memory_equal(err.msg, want, strlen(want));
        assert_int_equal(err.code, ETIMEDOUT);
}

/* Fast enough for the low-speed floor, too slow for the whole-transfer
 * limit, which here comes from the environment. */
static void test_trickle_hits_the_total_timeout_from_the_environment(void **state)
{
        (void)state;
        char u[128], want[256];
        url(u, sizeof u, "/trickle");
        struct st_fetch_opts o = {.max_bytes = 1 * MiB, .low_speed_bytes = 1};
        struct st_buf b = {0};
        struct sl_error err = {0};
        setenv("SLICED_FETCH_TIMEOUT", "1", 1);
        int r = st_fetch_buf(u, &o, &b, &err);
        unsetenv("SLICED_FETCH_TIMEOUT");
        assert_int_equal(r, -1);
        snprintf(want, sizeof want, "fetch `%s`: timed out (total timeout of 1 s): ", u);
        assert_memory_equal(err.msg, want, strlen(want));
        assert_int_equal(err.code, ETIMEDOUT);
}

static void test_bad_environment_values_name_the_variable(void **state)
{
        (void)state;
        /* clang-format off */
        static const struct {
                const char *var, *value, *max;
        } cases[] = {
                {"SLICED_FETCH_TIMEOUT",         "abc",                  "604800"},
                {"SLICED_FETCH_TIMEOUT",         "",                     "604800"},
                {"SLICED_FETCH_TIMEOUT",         "0",                    "604800"},
                {"SLICED_FETCH_TIMEOUT",         "-5",                   "604800"},
                {"SLICED_FETCH_TIMEOUT",         " 5",                   "604800"},
                {"SLICED_FETCH_TIMEOUT",         "5s",                   "604800"},
                {"SLICED_FETCH_TIMEOUT",         "604801",               "604800"},
                {"SLICED_FETCH_CONNECT_TIMEOUT", "99999999999999999999", "604800"},
                {"SLICED_FETCH_LOW_SPEED_TIME",  "1.5",                  "604800"},
                {"SLICED_FETCH_LOW_SPEED_BYTES", "1k",                   "1073741824"},
        };
        /* clang-format on */
        char u[128];
        url(u, sizeof u, "/doc");
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                char want[256];
                struct st_buf b = {0};
                struct sl_error err = {0};
                setenv(cases[i].var, cases[i].value, 1);
                int r = st_fetch_buf(u, &small, &b, &err);
                unsetenv(cases[i].var);
                assert_int_equal(r, -1);
                snprintf(want, sizeof want,
                         "environment variable %s: `%s` is not a whole number from 1 to %s",
                         cases[i].var, cases[i].value, cases[i].max);
                assert_string_equal(err.msg, want);
        }
}

/* A value given by the call wins over the environment (not even parsed). */
static void test_call_options_win_over_the_environment(void **state)
{
        (void)state;
        char u[128];
        url(u, sizeof u, "/doc");
        struct st_fetch_opts o = {.max_bytes = 1 * MiB, .total_timeout_s = 60};
        struct st_buf b = {0};
        struct sl_error err = {0};
        setenv("SLICED_FETCH_TIMEOUT", "nonsense", 1);
        int r = st_fetch_buf(u, &o, &b, &err);
        unsetenv("SLICED_FETCH_TIMEOUT");
        assert_int_equal(r, 0);
        assert_string_equal((char *)b.data, DOC);
        st_buf_free(&b);
}

static void test_redirect_to_http_is_followed(void **state)
{
        (void)state;
        char u[128];
        url(u, sizeof u, "/to-doc");
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &small, &b, &err), 0);
        assert_string_equal((char *)b.data, DOC);
        st_buf_free(&b);
}

/* A web server must not be able to make us read local files or speak
 * another protocol. */
static void test_redirect_to_another_protocol_is_refused(void **state)
{
        (void)state;
        static const char *const paths[] = {"/to-file", "/to-ftp"};
        for (size_t i = 0; i < 2; i++) {
                char u[128], want[256];
                url(u, sizeof u, paths[i]);
                struct st_buf b = {0};
                struct sl_error err = {0};
                assert_int_equal(st_fetch_buf(u, &small, &b, &err), -1);
                snprintf(want, sizeof want,
                         "fetch `%s`: protocol not allowed (http, https, file; "
                         "redirects only to http, https): ",
                         u);
                assert_memory_equal(err.msg, want, strlen(want));
                assert_int_equal(err.code, EPROTONOSUPPORT);
                assert_null(b.data);
        }
}

static void test_redirect_loop_stops_after_the_limit(void **state)
{
        (void)state;
        char u[128], want[256];
        url(u, sizeof u, "/loop");
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &small, &b, &err), -1);
        snprintf(want, sizeof want, "fetch `%s`: more than 5 redirects", u);
        assert_string_equal(err.msg, want);
}

static void test_file_url_is_fetched_and_capped(void **state)
{
        (void)state;
        char path[300], u[400], want[512];
        snprintf(path, sizeof path, "%s/doc", g_tmp);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(DOC, f);
        fclose(f);
        snprintf(u, sizeof u, "file://%s", path);
        struct st_buf b = {0};
        struct sl_error err = {0};
        /* exactly at the cap: fine */
        struct st_fetch_opts o = {.max_bytes = strlen(DOC)};
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), 0);
        assert_string_equal((char *)b.data, DOC);
        st_buf_free(&b);
        /* one byte over */
        o.max_bytes = strlen(DOC) - 1;
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), -1);
        snprintf(want, sizeof want, "fetch `%s`: more than %zu bytes (size cap)", u,
                 strlen(DOC) - 1);
        assert_string_equal(err.msg, want);
}

static void test_missing_file_url_is_enoent(void **state)
{
        (void)state;
        char u[400], want[512];
        snprintf(u, sizeof u, "file://%s/nothing-here", g_tmp);
        struct st_buf b = {0};
        struct sl_error err = {0};
        assert_int_equal(st_fetch_buf(u, &small, &b, &err), -1);
        assert_int_equal(err.code, ENOENT);
        snprintf(want, sizeof want, "fetch `%s`: not found: ", u);
        assert_memory_equal(err.msg, want, strlen(want));
}

static void test_other_schemes_and_bad_options_are_refused(void **state)
{
        (void)state;
        static const char *const urls[] = {
            "ftp://127.0.0.1/doc", "gopher://127.0.0.1/doc",
            "dict://127.0.0.1/x",  "127.0.0.1/doc",
            "scp://h/x",           "",
        };
        for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
                char want[256];
                struct st_buf b = {0};
                struct sl_error err = {0};
                assert_int_equal(st_fetch_buf(urls[i], &small, &b, &err), -1);
                snprintf(want, sizeof want,
                         "fetch `%s`: only http://, https:// and file:// URLs are allowed",
                         urls[i]);
                assert_string_equal(err.msg, want);
                assert_int_equal(err.code, EPROTONOSUPPORT);
        }
        char u[128], want[256];
        url(u, sizeof u, "/doc");
        struct st_buf b = {0};
        struct sl_error err = {0};
        struct st_fetch_opts o = {.max_bytes = 0};
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), -1);
        snprintf(want, sizeof want, "fetch `%s`: no size cap given", u);
        assert_string_equal(err.msg, want);
        o = (struct st_fetch_opts){.max_bytes = 1, .connect_timeout_s = -1};
        assert_int_equal(st_fetch_buf(u, &o, &b, &err), -1);
        assert_string_equal(err.msg, "fetch: connect_timeout_s: -1 is negative");
}

/* fd 2 replaced by `to` while fetching /doc with progress on. */
static void fetch_with_stderr(int to)
{
        char u[128];
        url(u, sizeof u, "/doc");
        struct st_fetch_opts o = {.max_bytes = 1 * MiB, .progress = 1, .label = "the-doc"};
        struct st_buf b = {0};
        struct sl_error err = {0};
        int saved = dup(STDERR_FILENO);
        assert_true(saved >= 0);
        dup2(to, STDERR_FILENO);
        int r = st_fetch_buf(u, &o, &b, &err);
        dup2(saved, STDERR_FILENO);
        close(saved);
        assert_int_equal(r, 0);
        st_buf_free(&b);
}

static void test_progress_bar_is_drawn_on_a_tty_only(void **state)
{
        (void)state;
        int master, slave;
        assert_int_equal(openpty(&master, &slave, NULL, NULL, NULL), 0);
        fetch_with_stderr(slave);
        /* everything written is in the pty by now; read until it is drained */
        char out[4096] = "";
        size_t n = 0;
        struct pollfd p = {.fd = master, .events = POLLIN};
        while (n < sizeof out - 1 && poll(&p, 1, 100) == 1) {
                ssize_t r = read(master, out + n, sizeof out - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
        }
        assert_true(n > 0);
        out[n] = 0;
        assert_non_null(strstr(out, "the-doc"));
        assert_non_null(strstr(out, "13 B / 13 B"));
        assert_non_null(strstr(out, "100%"));
        assert_true(out[n - 1] == '\n'); /* the bar ends its line */
        close(master);
        close(slave);

        char path[300];
        snprintf(path, sizeof path, "%s/stderr", g_tmp);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        fetch_with_stderr(fd);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0); /* not a TTY: not a byte */
        close(fd);
        unlink(path);
}

static void test_url_join(void **state)
{
        (void)state;
        /* clang-format off */
        static const struct {
                const char *base, *rel, *want; /* want NULL: refused */
        } cases[] = {
                {"http://h/repo",    "root/1.json",         "http://h/repo/root/1.json"},
                {"http://h/repo/",   "timestamp.json",      "http://h/repo/timestamp.json"},
                {"file:///srv/repo", "archives/a.tar.zst",  "file:///srv/repo/archives/a.tar.zst"},
                {"file:///",         "x",                   "file:///x"},
                {"http://h",         "a..b/c.d",            "http://h/a..b/c.d"},
                {"http://h",         "hello@1.0+git~1.pkg", "http://h/hello@1.0+git~1.pkg"},
                {"http://h",         "..",                  NULL},
                {"http://h",         "a/../b",              NULL},
                {"http://h",         "a/..",                NULL},
                {"http://h",         "/etc/passwd",         NULL},
                {"http://h",         "",                    NULL},
                {"http://h",         "a?b",                 NULL},
                {"http://h",         "a#b",                 NULL},
                {"http://h",         "%2e%2e/x",            NULL},
                {"http://h",         "a\\..\\b",            NULL},
                {"http://h",         "a b",                 NULL},
                {"http://h",         "a\nb",                NULL},
                {"",                 "x",                   NULL},
        };
        /* clang-format on */
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct sl_error err = {0};
                char *got = st_url_join(cases[i].base, cases[i].rel, &err);
                if (cases[i].want) {
                        assert_non_null(got);
                        assert_string_equal(got, cases[i].want);
                } else {
                        assert_null(got);
                        assert_int_equal(err.code, EINVAL);
                }
                free(got);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_document_is_fetched_into_memory_nul_terminated),
            cmocka_unit_test(test_document_is_fetched_into_an_fd),
            cmocka_unit_test(test_http_errors_name_the_status),
            cmocka_unit_test(test_endless_stream_stops_at_the_size_cap),
            cmocka_unit_test(test_declared_length_over_the_cap_is_refused_before_the_body),
            cmocka_unit_test(test_trickle_hits_the_low_speed_limit),
            cmocka_unit_test(test_trickle_hits_the_total_timeout_from_the_environment),
            cmocka_unit_test(test_bad_environment_values_name_the_variable),
            cmocka_unit_test(test_call_options_win_over_the_environment),
            cmocka_unit_test(test_redirect_to_http_is_followed),
            cmocka_unit_test(test_redirect_to_another_protocol_is_refused),
            cmocka_unit_test(test_redirect_loop_stops_after_the_limit),
            cmocka_unit_test(test_file_url_is_fetched_and_capped),
            cmocka_unit_test(test_missing_file_url_is_enoent),
            cmocka_unit_test(test_other_schemes_and_bad_options_are_refused),
            cmocka_unit_test(test_progress_bar_is_drawn_on_a_tty_only),
            cmocka_unit_test(test_url_join),
        };
        return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
