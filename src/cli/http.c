/* The HTTP client: libcurl's multi interface driving one transfer, so that
 * the wait can watch a self-pipe as well and a Ctrl-C ends even a stream
 * that is silent (curl's own progress callback would only see it within a
 * second, and blocking calls would not see it at all). */
#include "cli/http.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "lib/cleanup.h"

/* A complete non-stream answer is at most this large: the biggest one, the
 * list of slices, is about 1 KiB a slice, so this holds tens of thousands. */
#define CLI_HTTP_BODY_MAX (64u << 20)
/* A streamed NDJSON line is at most this large (one log line, escaped, or
 * one event): far above sliced's own log line limit. */
#define CLI_HTTP_LINE_MAX (1u << 20)
/* How long a non-stream request may take. sliced answers from memory, and
 * a dry run validates in milliseconds; a minute means it is stuck. */
#define CLI_HTTP_TIMEOUT_MS 60000L
/* connect(2) on a unix socket succeeds or fails at once unless the listen
 * backlog is full; then sliced is too busy to be waited for. */
#define CLI_HTTP_CONNECT_TIMEOUT_MS 10000L
/* Upper bound of one wait; the self-pipe wakes it earlier. */
#define CLI_HTTP_POLL_MS 1000

struct transfer {
        CURL *h;
        const struct cli_http_request *req;
        struct cli_http_response *resp;
        size_t cap; /* of resp->body */
        char *line; /* partial stream line */
        size_t line_len, line_cap;
        int streaming; /* decided at the first byte of the body */
        int decided;
        int stopped;       /* on_line asked to stop */
        const char *limit; /* which limit an oversized answer broke */
};

static volatile sig_atomic_t g_interrupted;
static int g_wake[2] = {-1, -1};

static void on_signal(int sig)
{
        int saved = errno;
        (void)sig;
        g_interrupted = 1;
        if (g_wake[1] >= 0) {
                ssize_t r = write(g_wake[1], "", 1); /* async-signal-safe wake-up */
                (void)r;
        }
        errno = saved;
}

static int grow(char **buf, size_t *cap, size_t need, size_t max)
{
        if (need <= *cap)
                return 0;
        if (need > max)
                return -1;
        size_t n = *cap ? *cap : 4096;
        while (n < need)
                n *= 2;
        if (n > max)
                n = max;
        char *p = realloc(*buf, n);
        if (!p)
                return -1;
        *buf = p;
        *cap = n;
        return 0;
}

static int collect(struct transfer *t, const char *data, size_t n)
{
        struct cli_http_response *r = t->resp;
        if (grow(&r->body, &t->cap, r->len + n + 1, CLI_HTTP_BODY_MAX) < 0) {
                t->limit = "an answer";
                return -1;
        }
        memcpy(r->body + r->len, data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return 0;
}

static int stream(struct transfer *t, const char *data, size_t n)
{
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t take = nl ? (size_t)(nl - data) : n;
                if (grow(&t->line, &t->line_cap, t->line_len + take + 1, CLI_HTTP_LINE_MAX) < 0) {
                        t->limit = "a line";
                        return -1;
                }
                memcpy(t->line + t->line_len, data, take);
                t->line_len += take;
                if (!nl)
                        return 0;
                t->line[t->line_len] = '\0';
                size_t len = t->line_len;
                t->line_len = 0;
                if (t->req->on_line(t->req->opaque, t->line, len) < 0) {
                        t->stopped = 1;
                        return -1;
                }
                data = nl + 1;
                n -= take + 1;
        }
        return 0;
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *opaque)
{
        struct transfer *t = opaque;
        size_t n = size * nmemb;
        if (!t->decided) {
                /* headers are complete before the first body byte */
                curl_easy_getinfo(t->h, CURLINFO_RESPONSE_CODE, &t->resp->status);
                t->streaming = t->req->on_line && t->resp->status / 100 == 2;
                t->decided = 1;
        }
        int r = t->streaming ? stream(t, data, n) : collect(t, data, n);
        return r < 0 ? 0 : n; /* a short count makes curl stop with WRITE_ERROR */
}

static struct curl_slist *headers(const struct cli_http_request *req)
{
        char ct[256];
        struct curl_slist *l = NULL, *next;
        const char *accept = req->on_line ? "Accept: application/x-ndjson, application/json"
                                          : "Accept: application/json";
        /* "Content-Type:" with no value removes curl's form-encoding default */
        snprintf(ct, sizeof ct, "Content-Type:%s%s", req->content_type ? " " : "",
                 req->content_type ? req->content_type : "");
        /* no "Expect: 100-continue" round trip before a large body */
        const char *lines[] = {accept, ct, "Expect:"};
        for (size_t i = 0; i < SL_ARRAY_SIZE(lines); i++) {
                if (!(next = curl_slist_append(l, lines[i]))) {
                        curl_slist_free_all(l);
                        return NULL;
                }
                l = next;
        }
        return l;
}

static int setup(struct transfer *t, const char *socket, struct curl_slist *hdrs, char *errbuf)
{
        const struct cli_http_request *req = t->req;
        char url[8192];
        /* the host is a placeholder: the socket path decides where it goes */
        if ((size_t)snprintf(url, sizeof url, "http://localhost%s", req->target) >= sizeof url)
                return -1;
        CURL *h = t->h;
        int bad = 0;
        bad |= curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket);
        bad |= curl_easy_setopt(h, CURLOPT_URL, url);
        bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "slicectl/" SLICED_VERSION);
        bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
        bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, t);
        bad |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CLI_HTTP_CONNECT_TIMEOUT_MS);
        if (!req->on_line)
                bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, CLI_HTTP_TIMEOUT_MS);
        if (strcmp(req->method, "GET") != 0) {
                /* a POST body under the request's own method name */
                bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body ? req->body : "");
                bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                                        (curl_off_t)(req->body ? req->body_len : 0));
                bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
        }
        return bad ? -1 : 0;
}

/* Whether stdout has hung up. poll reports POLLERR/POLLHUP even when no
 * event is asked for; a file or /dev/null never does. */
static int stdout_hung_up(void)
{
        struct pollfd p = {.fd = STDOUT_FILENO, .events = 0};
        return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP));
}

/* Run the transfer until it ends, a signal arrives or (when asked) stdout
 * hangs up; the CURLcode. */
static CURLcode drive(CURLM *m, struct transfer *t, int *interrupted)
{
        int running = 1;
        /* the self-pipe, and stdout with no events: only its hang-up wakes us */
        struct curl_waitfd w[2] = {{.fd = g_wake[0], .events = CURL_WAIT_POLLIN},
                                   {.fd = STDOUT_FILENO, .events = 0}};
        unsigned nw = t->req->stop_on_stdout_hangup ? 2 : 1;
        for (;;) {
                if (curl_multi_perform(m, &running) != CURLM_OK)
                        return CURLE_OUT_OF_MEMORY;
                if (!running)
                        break;
                if (curl_multi_poll(m, w, nw, CLI_HTTP_POLL_MS, NULL) != CURLM_OK)
                        return CURLE_OUT_OF_MEMORY;
                if (g_interrupted) {
                        *interrupted = 1;
                        return CURLE_ABORTED_BY_CALLBACK;
                }
                if (nw == 2 && stdout_hung_up()) {
                        t->stopped = 1;
                        return CURLE_WRITE_ERROR;
                }
        }
        int left;
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left)))
                if (msg->msg == CURLMSG_DONE && msg->easy_handle == t->h)
                        return msg->data.result;
        return CURLE_RECV_ERROR;
}

/* The errno alone: the caller names the socket around it. */
static enum cli_http_outcome unreachable(struct sl_error *err, int errnum)
{
        err->code = errnum;
        snprintf(err->msg, sizeof err->msg, "%s", strerror(errnum));
        return CLI_HTTP_UNREACHABLE;
}

static enum cli_http_outcome classify(struct transfer *t, CURLcode rc, const char *errbuf,
                                      struct sl_error *err)
{
        const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        long oserr = 0;
        switch (rc) {
        case CURLE_OK: return CLI_HTTP_DONE;
        case CURLE_COULDNT_CONNECT:
                curl_easy_getinfo(t->h, CURLINFO_OS_ERRNO, &oserr);
                return unreachable(err, oserr ? (int)oserr : ECONNREFUSED);
        case CURLE_WRITE_ERROR:
                if (t->stopped)
                        return CLI_HTTP_STOPPED;
                if (t->limit) {
                        sl_error_set(err, 0, "sliced sent %s longer than %u bytes", t->limit,
                                     !strcmp(t->limit, "a line") ? CLI_HTTP_LINE_MAX
                                                                 : CLI_HTTP_BODY_MAX);
                        return CLI_HTTP_BROKEN;
                }
                sl_error_set(err, 0, "out of memory");
                return CLI_HTTP_FAILED;
        case CURLE_OPERATION_TIMEDOUT: {
                curl_off_t us = 0;
                curl_easy_getinfo(t->h, CURLINFO_TOTAL_TIME_T, &us);
                sl_error_set(err, 0, "no answer after %lld s (is sliced stuck?)",
                             (long long)(us / 1000000));
                return CLI_HTTP_BROKEN;
        }
        case CURLE_GOT_NOTHING:
                sl_error_set(err, 0, "the connection closed without an answer");
                return CLI_HTTP_BROKEN;
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_PARTIAL_FILE:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_UNSUPPORTED_PROTOCOL: sl_error_set(err, 0, "%s", why); return CLI_HTTP_BROKEN;
        default: sl_error_set(err, 0, "libcurl: %s", why); return CLI_HTTP_FAILED;
        }
}

/* Catch SIGINT/SIGTERM for the length of a request; restore after. */
static int signals_catch(struct sigaction old[2])
{
        if (g_wake[0] < 0 && pipe2(g_wake, O_CLOEXEC | O_NONBLOCK) < 0)
                return -1;
        char drain[16];
        while (read(g_wake[0], drain, sizeof drain) > 0)
                ; /* a wake-up left by an earlier request */
        g_interrupted = 0;
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        static const int sigs[2] = {SIGINT, SIGTERM};
        for (int i = 0; i < 2; i++) {
                sigaction(sigs[i], NULL, &old[i]);
                /* an ignored signal stays ignored, as a shell's background
                 * job expects: Ctrl-C meant for the script is not for us */
                if (old[i].sa_handler != SIG_IGN)
                        sigaction(sigs[i], &sa, NULL);
        }
        return 0;
}

static void signals_restore(const struct sigaction old[2])
{
        sigaction(SIGINT, &old[0], NULL);
        sigaction(SIGTERM, &old[1], NULL);
}

enum cli_http_outcome cli_http_do(const char *socket, const struct cli_http_request *req,
                                  struct cli_http_response *resp, struct sl_error *err)
{
        static int curl_ready;
        memset(resp, 0, sizeof *resp);
        if (strlen(socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
                /* what connect(2) would say; curl's message is vaguer */
                return unreachable(err, ENAMETOOLONG);
        }
        if (!curl_ready) {
                if (curl_global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
                        sl_error_set(err, 0, "libcurl failed to initialise");
                        return CLI_HTTP_FAILED;
                }
                atexit(curl_global_cleanup);
                curl_ready = 1;
        }
        struct transfer t = {.req = req, .resp = resp};
        char errbuf[CURL_ERROR_SIZE] = "";
        struct curl_slist *hdrs = headers(req);
        CURLM *m = curl_multi_init();
        t.h = curl_easy_init();
        enum cli_http_outcome out = CLI_HTTP_FAILED;
        struct sigaction old[2];
        if (!hdrs || !m || !t.h || setup(&t, socket, hdrs, errbuf) < 0 ||
            curl_multi_add_handle(m, t.h) != CURLM_OK) {
                sl_error_set(err, 0, "cannot set up the request");
        } else if (signals_catch(old) < 0) {
                sl_error_errno(err, "pipe2");
        } else {
                int interrupted = 0;
                CURLcode rc = drive(m, &t, &interrupted);
                signals_restore(old);
                if (interrupted) {
                        sl_error_set(err, 0, "interrupted");
                        out = CLI_HTTP_INTERRUPTED;
                } else {
                        out = classify(&t, rc, errbuf, err);
                }
                curl_multi_remove_handle(m, t.h);
        }
        if (out == CLI_HTTP_DONE) {
                curl_easy_getinfo(t.h, CURLINFO_RESPONSE_CODE, &resp->status);
                /* a stream's last line may lack its '\n' */
                if (t.streaming && t.line_len > 0) {
                        t.line[t.line_len] = '\0';
                        if (req->on_line(req->opaque, t.line, t.line_len) < 0)
                                out = CLI_HTTP_STOPPED;
                }
                if (!resp->body && !(resp->body = calloc(1, 1))) {
                        sl_error_set(err, 0, "out of memory");
                        out = CLI_HTTP_FAILED;
                }
        }
        free(t.line);
        curl_easy_cleanup(t.h);
        curl_multi_cleanup(m);
        curl_slist_free_all(hdrs);
        return out;
}

void cli_http_response_free(struct cli_http_response *resp)
{
        if (!resp)
                return;
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
}

char *cli_http_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(3 * n + 1), *p = out;
        if (!out)
                return NULL;
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.' || c == '_' || c == '~') {
                        *p++ = (char)c;
                } else {
                        *p++ = '%';
                        *p++ = hex[c >> 4];
                        *p++ = hex[c & 15];
                }
        }
        *p = '\0';
        return out;
}
