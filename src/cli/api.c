/* The API layer: every way a request can fail, said once, here. */
#include "cli/api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "lib/cleanup.h"

/* How much of a non-JSON error body is quoted: enough for a proxy's or a
 * crashed handler's one-line message, not a whole page. */
#define CLI_QUOTE_MAX 200

void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "slicectl: %s: ", ctx->cmd);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "slicectl: %s: ", ctx->cmd);
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, " (see `slicectl %s --help`)\n", ctx->cmd);
        va_end(ap);
        return CLI_EXIT_USAGE;
}

int cli_parse_opts(struct cli_ctx *ctx, int argc, char **argv, const char *opts,
                   const struct option *longopts, const char *usage,
                   int (*on_opt)(void *state, int c, const char *arg), void *state, int *exit_code)
{
        int c;
        optind = 1;
        opterr = 0; /* our own messages, prefixed like every other */
        while ((c = getopt_long(argc, argv, opts, longopts, NULL)) != -1) {
                switch (c) {
                case 'h':
                        fputs(usage, stdout);
                        *exit_code = CLI_EXIT_OK;
                        return -1;
                case CLI_OPT_SOCKET: ctx->socket = optarg; continue;
                case CLI_OPT_JSON: ctx->json = 1; continue;
                case '?':
                case ':':
                        *exit_code = cli_usage_error(ctx, "option '%s' %s", argv[optind - 1],
                                                     c == ':' ? "needs a value" : "is unknown");
                        return -1;
                }
                if (!on_opt || on_opt(state, c, optarg) < 0) {
                        *exit_code = CLI_EXIT_USAGE;
                        return -1;
                }
        }
        return 0;
}

static const char *connect_hint(int errnum)
{
        switch (errnum) {
        case ENOENT:
        case ECONNREFUSED: return " — is sliced running?";
        case EACCES:
        case EPERM: return " — this user may not open it";
        default: return "";
        }
}

/* One line of an error body that is not JSON, without control bytes. */
static void quote_body(const char *body, size_t len, char *out, size_t out_len)
{
        size_t n = 0;
        for (size_t i = 0; i < len && body[i] != '\n' && n + 1 < out_len && n < CLI_QUOTE_MAX; i++)
                out[n++] = (char)((unsigned char)body[i] < 0x20 ? ' ' : body[i]);
        out[n] = '\0';
}

/* An error answer: its `error` sentence and, for an invalid topology,
 * every `errors` line. */
static int daemon_error(const struct cli_ctx *ctx, const struct cli_http_response *r)
{
        json_t *j = json_loadb(r->body, r->len, 0, NULL);
        const char *msg = cli_json_str(j, "error");
        if (ctx->json && j) {
                fwrite(r->body, 1, r->len, stdout);
                if (r->len == 0 || r->body[r->len - 1] != '\n')
                        putchar('\n');
        }
        if (msg) {
                cli_error(ctx, "%s", msg);
                json_t *errors = json_object_get(j, "errors"), *e;
                size_t i;
                json_array_foreach(errors, i, e)
                {
                        if (json_is_string(e))
                                fprintf(stderr, "  %s\n", json_string_value(e));
                }
        } else {
                char quoted[CLI_QUOTE_MAX + 1];
                quote_body(r->body, r->len, quoted, sizeof quoted);
                cli_error(ctx, "sliced answered HTTP %ld%s%s", r->status, quoted[0] ? ": " : "",
                          quoted);
        }
        json_decref(j);
        return CLI_EXIT_FAIL;
}

int cli_api_call(const struct cli_ctx *ctx, const struct cli_http_request *req,
                 struct cli_answer *ans)
{
        struct cli_http_response r;
        struct sl_error err;
        memset(ans, 0, sizeof *ans);
        enum cli_http_outcome out = cli_http_do(ctx->socket, req, &r, &err);
        int code = CLI_EXIT_OK;
        switch (out) {
        case CLI_HTTP_DONE:
        case CLI_HTTP_STOPPED: break;
        case CLI_HTTP_UNREACHABLE:
                cli_error(ctx, "cannot connect to sliced at %s: %s%s (--socket to use another)",
                          ctx->socket, err.msg, connect_hint(err.code));
                code = CLI_EXIT_UNREACHABLE;
                break;
        case CLI_HTTP_BROKEN:
                cli_error(ctx, "lost the connection to sliced at %s: %s", ctx->socket, err.msg);
                code = CLI_EXIT_UNREACHABLE;
                break;
        case CLI_HTTP_INTERRUPTED: code = CLI_EXIT_INTERRUPTED; break;
        case CLI_HTTP_FAILED:
                cli_error(ctx, "%s", err.msg);
                code = CLI_EXIT_FAIL;
                break;
        }
        if (out == CLI_HTTP_DONE && r.status / 100 != 2) {
                code = daemon_error(ctx, &r);
        } else if (out == CLI_HTTP_DONE && !req->on_line) {
                json_error_t jerr;
                ans->json = json_loadb(r.body, r.len, 0, &jerr);
                if (!ans->json) {
                        cli_error(ctx, "sliced sent an answer that is not JSON (%s)", jerr.text);
                        code = CLI_EXIT_FAIL;
                }
        }
        if (code == CLI_EXIT_OK) {
                ans->stopped = out == CLI_HTTP_STOPPED;
                ans->status = r.status;
                ans->body = SL_STEAL_PTR(r.body);
                ans->len = r.len;
        } else {
                json_decref(ans->json);
                ans->json = NULL;
        }
        cli_http_response_free(&r);
        return code;
}

void cli_answer_free(struct cli_answer *ans)
{
        if (!ans)
                return;
        json_decref(ans->json);
        free(ans->body);
        memset(ans, 0, sizeof *ans);
}

int cli_print_raw(const struct cli_answer *ans)
{
        fwrite(ans->body, 1, ans->len, stdout);
        if (ans->len == 0 || ans->body[ans->len - 1] != '\n')
                putchar('\n');
        return cli_flush_stdout();
}

/* Append "/" + escaped SEG to the target. */
static int append_segment(char **target, size_t *len, const char *seg)
{
        _cleanup_free_ char *esc = cli_http_escape(seg);
        if (!esc)
                return -1;
        size_t n = strlen(esc);
        char *p = realloc(*target, *len + n + 2);
        if (!p)
                return -1;
        *target = p;
        p[(*len)++] = '/';
        memcpy(p + *len, esc, n + 1);
        *len += n;
        return 0;
}

int cli_slice_target(const struct cli_ctx *ctx, const char *slice, const char *suffix, char *path,
                     char **target)
{
        size_t n = strlen(slice);
        const char *s = slice[0] == '/' ? slice + 1 : slice;
        size_t sn = strlen(s);
        if (sn > 0 && s[sn - 1] == '/')
                sn--; /* "app/web/" as a shell completes a directory */
        if (sn == 0)
                return cli_usage_error(ctx, "'%s' names no slice (write it as app/web or /app/web)",
                                       slice);
        if (n >= CLI_SLICE_PATH_MAX)
                return cli_usage_error(ctx, "the slice path is longer than %d bytes",
                                       CLI_SLICE_PATH_MAX - 1);
        char *t = strdup("/v1/slices");
        size_t tlen = strlen("/v1/slices"), plen = 0;
        if (!t)
                goto oom;
        for (size_t i = 0; i < sn;) {
                size_t j = i;
                while (j < sn && s[j] != '/')
                        j++;
                char seg[CLI_SLICE_PATH_MAX];
                memcpy(seg, s + i, j - i);
                seg[j - i] = '\0';
                /* curl would fold "." and ".." away, and "" is no name */
                if (!seg[0] || !strcmp(seg, ".") || !strcmp(seg, "..")) {
                        free(t);
                        return cli_usage_error(ctx, "'%s' is not a slice path: '%s' is not a name",
                                               slice, seg);
                }
                if (append_segment(&t, &tlen, seg) < 0)
                        goto oom;
                path[plen++] = '/';
                memcpy(path + plen, seg, j - i);
                plen += j - i;
                i = j + 1;
        }
        path[plen] = '\0';
        if (suffix) {
                char *p = realloc(t, tlen + strlen(suffix) + 1);
                if (!p)
                        goto oom;
                t = p;
                strcpy(t + tlen, suffix);
        }
        *target = t;
        return 0;
oom:
        free(t);
        cli_error(ctx, "out of memory");
        return CLI_EXIT_FAIL;
}

const char *cli_json_str(const json_t *obj, const char *key)
{
        return json_string_value(json_object_get(obj, key));
}

int cli_json_int(const json_t *obj, const char *key, long long *out)
{
        json_t *v = json_object_get(obj, key);
        if (!json_is_integer(v))
                return -1;
        *out = json_integer_value(v);
        return 0;
}
