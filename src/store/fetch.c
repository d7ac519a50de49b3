/* Downloads for the store through libcurl's easy interface: see fetch.h.
 *
 * Every limit is enforced by us as well as asked of curl where curl can do
 * it: the size cap in the write callback (a chunked or lying response has no
 * Content-Length for CURLOPT_MAXFILESIZE to check), the protocols both by
 * scheme before curl sees the URL and by CURLOPT_PROTOCOLS_STR. */
#include "store/fetch.h"
#include "store/util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/cleanup.h"

/* Upper bounds for the environment overrides: a week for any timeout (far
 * above the one-hour default for a whole transfer), 1 GiB/s for the
 * low-speed floor (above any link we would be told to demand). */
#define ST_FETCH_ENV_MAX_S       (7L * 24 * 3600)
#define ST_FETCH_ENV_MAX_BYTES_S (1L << 30)
/* First allocation of an in-memory download; doubled as it fills. */
#define ST_FETCH_BUF_START (16 * 1024)
/* The progress bar is redrawn at most this often (10/s): fast enough to
 * look alive, slow enough not to cost anything on a fast link. */
#define ST_FETCH_PROGRESS_MS 100
/* Characters of the label the bar shows. */
#define ST_FETCH_LABEL_WIDTH 40

/* One transfer: where the bytes go and what we saw. */
struct st_fetch {
        CURL *h;
        uint64_t max;    /* size cap */
        uint64_t got;    /* bytes accepted so far */
        int over;        /* the size cap stopped the transfer */
        int write_errno; /* writing to fd failed with this */
        int fd;          /* destination, or -1 for memory */
        uint8_t *data;   /* memory destination */
        size_t cap;
        char errbuf[CURL_ERROR_SIZE]; /* curl's words, kept while h lives */
        /* progress bar */
        int bar;
        char label[ST_FETCH_LABEL_WIDTH + 1];
        struct timespec start; /* before curl_easy_perform */
        struct timespec last;
        int drawn;
        uint64_t now_bytes, total_bytes;
};

/* The limits of one call, each from the call, else the environment, else
 * the default. */
struct st_fetch_limits {
        long connect_s, low_bytes, low_time_s, total_s;
};

static pthread_once_t st_curl_once = PTHREAD_ONCE_INIT;
static CURLcode st_curl_init_rc;

/* curl_global_init is not thread-safe and must run once per process. */
static void st_curl_init(void)
{
        st_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* A message without strerror, but with an errno callers can test. */
static int st_fetch_error(struct sl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int st_fetch_error(struct sl_error *err, int code, const char *fmt, ...)
{
        if (!err)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
        return -1;
}

/* given (from the call) if set, else $env parsed strictly, else def. */
static int st_fetch_limit(long given, const char *field, const char *env, long def, long max,
                          long *out, struct sl_error *err)
{
        if (given < 0)
                return st_fetch_error(err, EINVAL, "fetch: %s: %ld is negative", field, given);
        if (given > 0) {
                *out = given;
                return 0;
        }
        const char *s = getenv(env);
        if (!s) {
                *out = def;
                return 0;
        }
        char *end = NULL;
        errno = 0;
        long v = strtol(s, &end, 10);
        /* digits only: no sign, no space, no unit suffix mistaken for seconds */
        if (!*s || !isdigit((unsigned char)*s) || errno || *end || v < 1 || v > max)
                return st_fetch_error(err, EINVAL,
                                      "environment variable %s: `%s` is not a whole number from 1 "
                                      "to %ld",
                                      env, s, max);
        *out = v;
        return 0;
}

static int st_fetch_limits(const struct st_fetch_opts *o, struct st_fetch_limits *l,
                           struct sl_error *err)
{
        if (st_fetch_limit(o->connect_timeout_s, "connect_timeout_s",
                           "SLICED_FETCH_CONNECT_TIMEOUT", ST_FETCH_CONNECT_TIMEOUT_S,
                           ST_FETCH_ENV_MAX_S, &l->connect_s, err) < 0 ||
            st_fetch_limit(o->low_speed_bytes, "low_speed_bytes", "SLICED_FETCH_LOW_SPEED_BYTES",
                           ST_FETCH_LOW_SPEED_BYTES, ST_FETCH_ENV_MAX_BYTES_S, &l->low_bytes,
                           err) < 0 ||
            st_fetch_limit(o->low_speed_time_s, "low_speed_time_s", "SLICED_FETCH_LOW_SPEED_TIME",
                           ST_FETCH_LOW_SPEED_TIME_S, ST_FETCH_ENV_MAX_S, &l->low_time_s,
                           err) < 0 ||
            st_fetch_limit(o->total_timeout_s, "total_timeout_s", "SLICED_FETCH_TIMEOUT",
                           ST_FETCH_TOTAL_TIMEOUT_S, ST_FETCH_ENV_MAX_S, &l->total_s, err) < 0)
                return -1;
        return 0;
}

static int st_fetch_keep(struct st_fetch *f, const char *data, size_t n)
{
        if (f->fd >= 0) {
                if (st_write_all(f->fd, data, n) < 0) {
                        f->write_errno = errno;
                        return -1;
                }
                return 0;
        }
        /* got + n <= max here, so the NUL still fits in max + 1 */
        if (f->got + n + 1 > f->cap) {
                size_t c = f->cap ? f->cap : ST_FETCH_BUF_START;
                while (c < f->got + n + 1)
                        c *= 2;
                if (c > f->max + 1)
                        c = (size_t)f->max + 1;
                uint8_t *p = realloc(f->data, c);
                if (!p) {
                        f->write_errno = ENOMEM;
                        return -1;
                }
                f->data = p;
                f->cap = c;
        }
        memcpy(f->data + f->got, data, n);
        return 0;
}

static size_t st_fetch_on_data(char *data, size_t size, size_t nmemb, void *opaque)
{
        struct st_fetch *f = opaque;
        size_t n = size * nmemb;
        /* The cap counts bytes as they arrive: chunked encoding, an endless
         * stream or a Content-Length that lies never get past it. */
        if (n > f->max - f->got) {
                f->over = 1;
                return 0; /* a short count: curl stops with CURLE_WRITE_ERROR */
        }
        if (st_fetch_keep(f, data, n) < 0)
                return 0;
        f->got += n;
        return n;
}

static void st_human_bytes(uint64_t n, char *out, size_t cap)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < SL_ARRAY_SIZE(units)) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(out, cap, "%llu B", (unsigned long long)n);
        else
                snprintf(out, cap, "%.1f %s", v, units[u]);
}

static long st_ms_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static void st_fetch_draw(struct st_fetch *f)
{
        char now[32], total[32];
        st_human_bytes(f->now_bytes, now, sizeof now);
        /* \r back to the start, \033[K clears what a longer line left */
        if (f->total_bytes > 0) {
                st_human_bytes(f->total_bytes, total, sizeof total);
                uint64_t pct =
                    f->now_bytes >= f->total_bytes ? 100 : f->now_bytes * 100 / f->total_bytes;
                fprintf(stderr, "\r%-*s %10s / %-10s %3llu%%\033[K", ST_FETCH_LABEL_WIDTH, f->label,
                        now, total, (unsigned long long)pct);
        } else {
                fprintf(stderr, "\r%-*s %10s\033[K", ST_FETCH_LABEL_WIDTH, f->label, now);
        }
        f->drawn = 1;
}

static int st_fetch_on_progress(void *opaque, curl_off_t dltotal, curl_off_t dlnow,
                                curl_off_t ultotal, curl_off_t ulnow)
{
        (void)ultotal, (void)ulnow;
        struct st_fetch *f = opaque;
        f->now_bytes = dlnow > 0 ? (uint64_t)dlnow : 0;
        f->total_bytes = dltotal > 0 ? (uint64_t)dltotal : 0;
        if (f->drawn && st_ms_since(&f->last) < ST_FETCH_PROGRESS_MS)
                return 0;
        clock_gettime(CLOCK_MONOTONIC, &f->last);
        st_fetch_draw(f);
        return 0;
}

/* The bar names the label, else the URL's last path component. */
static void st_fetch_label(struct st_fetch *f, const char *url, const char *label)
{
        if (!label || !*label) {
                size_t n = strcspn(url, "?#");
                while (n > 0 && url[n - 1] == '/')
                        n--;
                size_t start = n;
                while (start > 0 && url[start - 1] != '/')
                        start--;
                snprintf(f->label, sizeof f->label, "%.*s", (int)(n - start), url + start);
                return;
        }
        snprintf(f->label, sizeof f->label, "%s", label);
}

/* Only explicit http://, https:// and file:// URLs: curl would otherwise
 * guess a scheme for "host/path". CURLOPT_PROTOCOLS_STR is the second line. */
static int st_fetch_scheme_ok(const char *url)
{
        static const char *const schemes[] = {"http://", "https://", "file://"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(schemes); i++)
                if (strncasecmp(url, schemes[i], strlen(schemes[i])) == 0)
                        return 1;
        return 0;
}

static int st_fetch_setup(struct st_fetch *f, const char *url, const struct st_fetch_limits *l,
                          char *errbuf)
{
        CURL *h = f->h;
        int bad = 0;
        bad |= curl_easy_setopt(h, CURLOPT_URL, url);
        /* No file:// from a web server's Location, no other protocol ever. */
        bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https,file");
        bad |= curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        bad |= curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)ST_FETCH_MAX_REDIRECTS);
        /* Status >= 400 is an error, and its body is never written to fd. */
        bad |= curl_easy_setopt(h, CURLOPT_FAILONERROR, 1L);
        /* An honest Content-Length above the cap fails before the body. */
        bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE,
                                (curl_off_t)(f->max > INT64_MAX ? INT64_MAX : f->max));
        bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, l->connect_s);
        bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, l->low_bytes);
        bad |= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, l->low_time_s);
        bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT, l->total_s);
        /* No SIGALRM for DNS timeouts: the store runs inside sliced, whose
         * signals belong to its event loop. */
        bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "sliced-store");
        bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, st_fetch_on_data);
        bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
        /* CURLOPT_ACCEPT_ENCODING stays unset: no transparent decompression,
         * so the cap counts the bytes the server sent (no gzip bomb). */
        if (f->bar) {
                bad |= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, st_fetch_on_progress);
                bad |= curl_easy_setopt(h, CURLOPT_XFERINFODATA, f);
                bad |= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        }
        return bad ? -1 : 0;
}

/* CURLE_OPERATION_TIMEDOUT covers all three limits: tell them apart by how
 * long the transfer ran (our own clock, started before curl's: curl's
 * CURLINFO_TOTAL_TIME is not brought up to date on a timeout) and whether it
 * got connected. */
static int st_fetch_timed_out(struct st_fetch *f, const char *url, const struct st_fetch_limits *l,
                              const char *why, struct sl_error *err)
{
        curl_off_t connect_us = 0, app_us = 0;
        const char *scheme = NULL;
        curl_easy_getinfo(f->h, CURLINFO_CONNECT_TIME_T, &connect_us);
        curl_easy_getinfo(f->h, CURLINFO_APPCONNECT_TIME_T, &app_us);
        curl_easy_getinfo(f->h, CURLINFO_SCHEME, &scheme);
        /* The connect timeout runs until TLS is up for https. */
        int tls = scheme && strcasecmp(scheme, "https") == 0;
        int connected = connect_us > 0 && (!tls || app_us > 0);
        if (st_ms_since(&f->start) >= l->total_s * 1000)
                return st_fetch_error(err, ETIMEDOUT,
                                      "fetch `%s`: timed out (total timeout of %ld s): %s", url,
                                      l->total_s, why);
        if (!connected)
                return st_fetch_error(err, ETIMEDOUT,
                                      "fetch `%s`: timed out (connect timeout of %ld s): %s", url,
                                      l->connect_s, why);
        return st_fetch_error(err, ETIMEDOUT,
                              "fetch `%s`: timed out (low-speed limit: less than %ld bytes/s for "
                              "%ld s): %s",
                              url, l->low_bytes, l->low_time_s, why);
}

static int st_fetch_failed(struct st_fetch *f, const char *url, const struct st_fetch_limits *l,
                           CURLcode rc, const char *errbuf, struct sl_error *err)
{
        const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
        long status = 0;
        switch (rc) {
        case CURLE_WRITE_ERROR:
                if (f->write_errno)
                        return sl_error_set(err, f->write_errno, "fetch `%s`: write", url);
                if (!f->over)
                        break;
                /* fall through */
        case CURLE_FILESIZE_EXCEEDED:
                return st_fetch_error(err, EFBIG, "fetch `%s`: more than %llu bytes (size cap)",
                                      url, (unsigned long long)f->max);
        case CURLE_OPERATION_TIMEDOUT: return st_fetch_timed_out(f, url, l, why, err);
        case CURLE_HTTP_RETURNED_ERROR:
                curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
                /* "Not there" is an answer callers act on (the end of the
                 * root chain), not a failure. */
                return st_fetch_error(err, status == 404 || status == 410 ? ENOENT : EIO,
                                      "fetch `%s`: HTTP %ld", url, status);
        case CURLE_FILE_COULDNT_READ_FILE:
                return st_fetch_error(err, ENOENT, "fetch `%s`: not found: %s", url, why);
        case CURLE_UNSUPPORTED_PROTOCOL:
                return st_fetch_error(err, EPROTONOSUPPORT,
                                      "fetch `%s`: protocol not allowed (http, https, file; "
                                      "redirects only to http, https): %s",
                                      url, why);
        case CURLE_TOO_MANY_REDIRECTS:
                return st_fetch_error(err, ELOOP, "fetch `%s`: more than %d redirects", url,
                                      ST_FETCH_MAX_REDIRECTS);
        default: break;
        }
        return st_fetch_error(err, EIO, "fetch `%s`: %s", url, why);
}

static void st_fetch_cleanup(struct st_fetch *f)
{
        if (f->h)
                curl_easy_cleanup(f->h);
        free(f->data);
}

/* The transfer both entry points share; f->fd or f->data take the bytes. */
static int st_fetch_run(struct st_fetch *f, const char *url, const struct st_fetch_opts *o,
                        struct sl_error *err)
{
        struct st_fetch_limits l;
        if (!o || o->max_bytes == 0)
                return st_fetch_error(err, EINVAL, "fetch `%s`: no size cap given", url);
        if (!st_fetch_scheme_ok(url))
                return st_fetch_error(err, EPROTONOSUPPORT,
                                      "fetch `%s`: only http://, https:// and file:// URLs are "
                                      "allowed",
                                      url);
        if (st_fetch_limits(o, &l, err) < 0)
                return -1;
        pthread_once(&st_curl_once, st_curl_init);
        if (st_curl_init_rc != CURLE_OK)
                return sl_error_set(err, 0, "fetch: curl_global_init: %s",
                                    curl_easy_strerror(st_curl_init_rc));
        f->max = o->max_bytes;
        /* A bar only for a person watching; logs and pipes get nothing. */
        f->bar = o->progress && isatty(STDERR_FILENO);
        st_fetch_label(f, url, o->label);
        if (!(f->h = curl_easy_init()))
                return sl_error_set(err, ENOMEM, "fetch `%s`: curl_easy_init", url);
        if (st_fetch_setup(f, url, &l, f->errbuf) < 0)
                return sl_error_set(err, 0, "fetch `%s`: setting up curl failed", url);
        clock_gettime(CLOCK_MONOTONIC, &f->start);
        CURLcode rc = curl_easy_perform(f->h);
        if (f->bar) {
                if (rc == CURLE_OK && f->total_bytes == 0)
                        f->total_bytes = f->got;
                f->now_bytes = f->got;
                st_fetch_draw(f);
                fputc('\n', stderr);
        }
        if (rc != CURLE_OK)
                return st_fetch_failed(f, url, &l, rc, f->errbuf, err);
        /* A 3xx that was not followed (no Location) is not the document. */
        long status = 0;
        curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
        if (status != 0 && (status < 200 || status >= 300))
                return st_fetch_error(err, EIO, "fetch `%s`: HTTP %ld", url, status);
        return 0;
}

int st_fetch_buf(const char *url, const struct st_fetch_opts *o, struct st_buf *out,
                 struct sl_error *err)
{
        struct st_fetch f = {.fd = -1};
        int r = st_fetch_run(&f, url, o, err);
        if (r == 0) {
                if (!f.data && !(f.data = malloc(1))) {
                        st_fetch_cleanup(&f);
                        return sl_error_set(err, ENOMEM, "fetch `%s`", url);
                }
                f.data[f.got] = 0;
                st_buf_free(out);
                out->data = SL_STEAL_PTR(f.data);
                out->len = (size_t)f.got;
        }
        st_fetch_cleanup(&f);
        return r;
}

int st_fetch_fd(const char *url, const struct st_fetch_opts *o, int fd, uint64_t *written,
                struct sl_error *err)
{
        struct st_fetch f = {.fd = fd};
        int r = st_fetch_run(&f, url, o, err);
        if (written)
                *written = f.got;
        st_fetch_cleanup(&f);
        return r;
}

/* A relative part that cannot change which document the URL names beyond
 * appending path components: no `..` component, no query, fragment,
 * percent-escape (an escaped `..`), backslash, space or control byte. */
static int st_url_rel_ok(const char *rel)
{
        if (!*rel || rel[0] == '/')
                return 0;
        for (const char *p = rel; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p == 0x7f || strchr("?#%\\", *p))
                        return 0;
        for (const char *p = rel; *p;) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.')
                        return 0;
                p += n;
                if (*p)
                        p++;
        }
        return 1;
}

char *st_url_join(const char *base, const char *rel, struct sl_error *err)
{
        if (!base || !*base) {
                st_fetch_error(err, EINVAL, "url join: empty base URL");
                return NULL;
        }
        if (!rel || !st_url_rel_ok(rel)) {
                st_fetch_error(err, EINVAL,
                               "url join `%s`: `%s` is not a relative path without `..`, `?`, "
                               "`#`, `%%`, `\\` or spaces",
                               base, rel ? rel : "");
                return NULL;
        }
        size_t n = strlen(base);
        /* "http://h/repo/" + "x" and "http://h/repo" + "x" both give
         * "http://h/repo/x" */
        const char *sep = base[n - 1] == '/' ? "" : "/";
        char *out = NULL;
        if (asprintf(&out, "%s%s%s", base, sep, rel) < 0) {
                sl_error_set(err, ENOMEM, "url join `%s`", base);
                return NULL;
        }
        return out;
}
