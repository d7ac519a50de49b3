/* slicectl logs [-f] SLICE, slicectl events: NDJSON streams from sliced,
 * printed a line at a time as they arrive. Ctrl-C (or SIGTERM) ends a
 * stream cleanly with status 0, as does a reader that went away
 * (`slicectl events | head -3`). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/format.h"
#include "lib/cleanup.h"
#include "lib/parse.h"

/* sliced keeps at most this many lines per slice (LOG_RING_LINES_MAX of
 * sliced.conf's log_ring_lines); asking for more is a typo. */
#define CLI_TAIL_MAX 1000000

#define SOCKET_OPTION                                                                              \
        "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"                   \
        "                   " CLI_DEFAULT_SOCKET ")\n"                                             \
        "  -h, --help       show this help\n"

static const char logs_usage[] =
    "Usage: slicectl logs [OPTIONS] SLICE\n"
    "\n"
    "Print the last lines SLICE wrote to stdout and stderr, as sliced keeps them;\n"
    "with -f, then every new line as it comes, until Ctrl-C. SLICE is a path such\n"
    "as app/web or /app/web. Control characters in a line are shown as \\xNN.\n"
    "\n"
    "Options:\n"
    "  -f, --follow     keep printing new lines until interrupted\n"
    "  -n, --tail N     how many of the last lines to print first (sliced's\n"
    "                   default: 100; 0 with -f: only new lines)\n"
    "  -t, --timestamps prefix each line with the time sliced received it\n"
    "  --json           print sliced's NDJSON lines as they are:\n"
    "                   {\"ts\", \"seq\", \"stream\", \"text\"}\n" SOCKET_OPTION "\n"
    "Exit status: 0 ok (also after Ctrl-C); 1 sliced answered an error (e.g. no\n"
    "such slice), or with -f the slice left the topology; 2 usage; 3 sliced\n"
    "unreachable, or the connection broke (sliced stopped).\n";

static const char events_usage[] =
    "Usage: slicectl events [OPTIONS]\n"
    "\n"
    "Print every change of a slice's state as sliced makes it, one line each\n"
    "(time, slice, new state, reason), until Ctrl-C.\n"
    "\n"
    "Options:\n"
    "  --json           print sliced's NDJSON lines as they are:\n"
    "                   {\"ts\", \"path\", \"state\", \"reason\"}\n" SOCKET_OPTION "\n"
    "Exit status: 0 after Ctrl-C; 1 sliced answered an error; 2 usage;\n"
    "3 sliced unreachable, or the stream ended (sliced stopped).\n";

static const struct option logs_long[] = {
    {"follow", no_argument, NULL, 'f'},
    {"tail", required_argument, NULL, 'n'},
    {"timestamps", no_argument, NULL, 't'},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};
static const struct option events_long[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};

struct stream {
        const struct cli_ctx *ctx;
        int follow;
        int timestamps;
        /* a followed stream that sliced ends cleanly: what it means */
        const char *end_msg;
        int end_code;
        long long tail; /* --tail, or -1: sliced's default */
        int colour;
        int out_errno; /* why writing stdout failed */
        unsigned bad;  /* lines that were not JSON objects */
        void (*print)(struct stream *s, const json_t *line);
};

static int logs_opt(void *state, int c, const char *arg)
{
        struct stream *s = state;
        struct sl_error err;
        uint64_t n;
        switch (c) {
        case 'f': s->follow = 1; return 0;
        case 't': s->timestamps = 1; return 0;
        case 'n':
                if (sl_parse_u64(arg, 0, CLI_TAIL_MAX, &n, &err) < 0) {
                        cli_usage_error(s->ctx, "--tail: %s", err.msg);
                        return -1;
                }
                s->tail = (long long)n;
                return 0;
        }
        return -1;
}

static void print_log(struct stream *s, const json_t *j)
{
        const char *text = cli_json_str(j, "text");
        long long ts;
        if (s->timestamps && cli_json_int(j, "ts", &ts) == 0) {
                char t[CLI_TIME_LEN];
                cli_human_time(ts, t);
                printf("%s ", t);
        }
        if (text)
                cli_put_text(stdout, text, strlen(text));
        putchar('\n');
}

static void print_event(struct stream *s, const json_t *j)
{
        const char *path = cli_json_str(j, "path"), *state = cli_json_str(j, "state");
        const char *reason = cli_json_str(j, "reason");
        const char *colour = s->colour ? cli_state_colour(state) : NULL;
        char t[CLI_TIME_LEN] = "-";
        long long ts;
        if (cli_json_int(j, "ts", &ts) == 0)
                cli_human_time(ts, t);
        printf("%s  %s  %s%s%s", t, path ? path : "?", colour ? colour : "", state ? state : "?",
               colour ? CLI_RESET : "");
        if (reason && strcmp(reason, "-") != 0) /* null (or an older sliced's "-"): none */
                printf(" (%s)", reason);
        putchar('\n');
}

static int on_line(void *opaque, const char *line, size_t len)
{
        struct stream *s = opaque;
        if (len == 0)
                return 0; /* a keep-alive */
        if (s->ctx->json) {
                fwrite(line, 1, len, stdout);
                putchar('\n');
        } else {
                json_t *j = json_loadb(line, len, 0, NULL);
                if (json_is_object(j))
                        s->print(s, j);
                else if (s->bad++ == 0)
                        cli_error(s->ctx, "skipping a line from sliced that is not a JSON object");
                json_decref(j);
        }
        /* each line as it comes, even into a pipe */
        if (cli_flush_stdout() < 0) {
                s->out_errno = errno;
                return -1;
        }
        return 0;
}

static int run_stream(struct stream *s, const char *target)
{
        struct cli_http_request req = {
            .method = "GET",
            .target = target,
            .on_line = on_line,
            .opaque = s,
            .stop_on_stdout_hangup = 1,
        };
        struct cli_answer ans;
        /* a closed stdout shows as EPIPE in on_line, not as a fatal signal */
        signal(SIGPIPE, SIG_IGN);
        s->colour = cli_colour_on(stdout);
        int code = cli_api_call(s->ctx, &req, &ans);
        if (code == CLI_EXIT_INTERRUPTED)
                return CLI_EXIT_OK; /* Ctrl-C is how a stream ends */
        if (code != CLI_EXIT_OK)
                return code;
        int stopped = ans.stopped;
        cli_answer_free(&ans);
        if (stopped && s->out_errno && s->out_errno != EPIPE) {
                cli_error(s->ctx, "cannot write to standard output: %s", strerror(s->out_errno));
                return CLI_EXIT_FAIL;
        }
        if (stopped)
                return CLI_EXIT_OK; /* the reader has what it wanted */
        if (s->follow) {
                cli_error(s->ctx, "%s", s->end_msg);
                return s->end_code;
        }
        return CLI_EXIT_OK;
}

int cli_logs(struct cli_ctx *ctx, int argc, char **argv)
{
        struct stream s = {.ctx = ctx, .tail = -1, .print = print_log};
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:hfn:t", logs_long, logs_usage, logs_opt, &s, &code) <
            0)
                return code;
        if (optind >= argc)
                return cli_usage_error(ctx, "no slice given");
        if (optind + 1 < argc)
                return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind + 1]);
        char path[CLI_SLICE_PATH_MAX], query[64] = "/logs";
        size_t n = strlen(query);
        if (s.tail >= 0)
                n += (size_t)snprintf(query + n, sizeof query - n, "?tail=%lld", s.tail);
        if (s.follow)
                snprintf(query + n, sizeof query - n, "%cfollow=1", s.tail >= 0 ? '&' : '?');
        _cleanup_free_ char *target = NULL;
        if ((code = cli_slice_target(ctx, argv[optind], query, path, &target)) != 0)
                return code;
        /* sliced ends a slice's log stream when the slice leaves the
         * topology; when sliced stops, the connection breaks instead */
        char end_msg[CLI_SLICE_PATH_MAX + 64];
        snprintf(end_msg, sizeof end_msg, "sliced ended the log stream: %s left the topology",
                 path);
        s.end_msg = end_msg;
        s.end_code = CLI_EXIT_FAIL;
        return run_stream(&s, target);
}

int cli_events(struct cli_ctx *ctx, int argc, char **argv)
{
        struct stream s = {
            .ctx = ctx,
            .follow = 1,
            .print = print_event,
            .end_msg = "sliced ended the event stream (is it stopping?)",
            .end_code = CLI_EXIT_UNREACHABLE,
        };
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:h", events_long, events_usage, NULL, NULL, &code) <
            0)
                return code;
        if (optind < argc)
                return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
        return run_stream(&s, "/v1/events");
}
