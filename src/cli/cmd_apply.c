/* slicectl apply -f FILE, slicectl diff -f FILE: send a whole topology to
 * sliced (PUT /v1/topology), to apply it or to see what applying it would
 * do (?dry_run=1). Both print sliced's plan: which slices start, stop,
 * restart, and how many stay as they are.
 *
 * A directory is refused rather than merged here: sliced applies a topology
 * by replacing its source file, so the directory would have to become one
 * file anyway, and a merge in the client could disagree with sliced's own
 * (duplicate names across files, relative profile paths, JSON beside YAML).
 * docs/api.md says how to do it by hand. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/format.h"
#include "lib/cleanup.h"

/* sliced refuses topology files larger than this (SV_TOPO_MAX_FILE_SIZE in
 * src/supervisor/topology.h); refusing here saves sending them. */
#define CLI_TOPOLOGY_MAX (4u << 20)

#define APPLY_OPTIONS                                                                              \
        "Options:\n"                                                                               \
        "  -f, --file FILE  the topology, YAML or JSON (a name ending in .json is JSON);\n"        \
        "                   - reads standard input (JSON if it starts with '{')\n"                 \
        "  --json           print sliced's answer as it is: {\"dry_run\", \"plan\"}\n"             \
        "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"                   \
        "                   " CLI_DEFAULT_SOCKET ")\n"                                             \
        "  -h, --help       show this help\n"                                                      \
        "\n"                                                                                       \
        "The plan: `+ PATH (start)`, `- PATH (stop)`, `~ PATH (restart)` and\n"                    \
        "`= N unchanged`. FILE must be one file: sliced replaces its topology file\n"              \
        "with it, or, when it reads a directory, the directory's api-applied.yaml.\n"              \
        "\n"                                                                                       \
        "Exit status: 0 ok; 1 sliced refused (every error of an invalid topology is\n"             \
        "listed) or FILE cannot be read; 2 usage; 3 sliced unreachable.\n"

static const char apply_usage[] =
    "Usage: slicectl apply [OPTIONS] -f FILE\n"
    "\n"
    "Make FILE sliced's topology: sliced validates it completely, then starts,\n"
    "stops and restarts slices to match it, and prints what it does. Needs root\n"
    "or membership of group sliced.\n"
    "\n" APPLY_OPTIONS;

static const char diff_usage[] =
    "Usage: slicectl diff [OPTIONS] -f FILE\n"
    "\n"
    "Show what `slicectl apply -f FILE` would do, changing nothing: sliced\n"
    "validates FILE and prints its plan (a dry run).\n"
    "\n" APPLY_OPTIONS;

static const struct option apply_long[] = {
    {"file", required_argument, NULL, 'f'},
    CLI_COMMON_OPTIONS,
    {NULL, 0, NULL, 0},
};

struct apply_opts {
        const struct cli_ctx *ctx;
        const char *file;
};

static int apply_opt(void *state, int c, const char *arg)
{
        struct apply_opts *o = state;
        if (c != 'f')
                return -1;
        if (o->file) {
                cli_usage_error(o->ctx, "-f given twice (apply takes one file)");
                return -1;
        }
        o->file = arg;
        return 0;
}

/* The file's bytes in *buf; a CLI_EXIT_* code. */
static int read_topology(const struct cli_ctx *ctx, const char *file, char **buf, size_t *len)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int std_in = !strcmp(file, "-");
        if (!std_in && (fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
                cli_error(ctx, "cannot open `%s`: %s", file, strerror(errno));
                return CLI_EXIT_FAIL;
        }
        int in = std_in ? STDIN_FILENO : fd;
        if (fstat(in, &st) == 0 && S_ISDIR(st.st_mode))
                return cli_usage_error(ctx,
                                       "`%s` is a directory: give one topology file "
                                       "(sliced applies a topology by replacing its one "
                                       "file; merge the directory's files into one first)",
                                       file);
        size_t cap = 0, n = 0;
        char *b = NULL;
        for (;;) {
                if (n + 1 >= cap) {
                        size_t ncap = cap ? 2 * cap : 65536;
                        char *p = realloc(b, ncap);
                        if (!p) {
                                free(b);
                                cli_error(ctx, "out of memory");
                                return CLI_EXIT_FAIL;
                        }
                        b = p;
                        cap = ncap;
                }
                ssize_t r = read(in, b + n, cap - n - 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        cli_error(ctx, "cannot read `%s`: %s", file, strerror(errno));
                        free(b);
                        return CLI_EXIT_FAIL;
                }
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > CLI_TOPOLOGY_MAX) {
                        cli_error(ctx,
                                  "`%s` is larger than %u bytes, sliced's limit for a "
                                  "topology file",
                                  file, CLI_TOPOLOGY_MAX);
                        free(b);
                        return CLI_EXIT_FAIL;
                }
        }
        b[n] = '\0';
        *buf = b;
        *len = n;
        return CLI_EXIT_OK;
}

/* As sliced tells its own files apart: a name ending in .json is JSON. */
static const char *content_type(const char *file, const char *body)
{
        size_t n = strlen(file);
        if (!strcmp(file, "-") && body) {
                body += strspn(body, " \t\r\n");
                return *body == '{' ? "application/json" : "application/yaml";
        }
        return n >= 5 && !strcmp(file + n - 5, ".json") ? "application/json" : "application/yaml";
}

static void plan_list(const json_t *plan, const char *key, char mark, const char *colour)
{
        size_t i;
        json_t *e;
        json_array_foreach(json_object_get(plan, key), i, e)
        {
                const char *path =
                    json_is_string(e) ? json_string_value(e) : cli_json_str(e, "path");
                printf("%s%c %s (%s)%s\n", colour ? colour : "", mark, path ? path : "?", key,
                       colour ? CLI_RESET : "");
        }
}

static int print_plan(const struct cli_ctx *ctx, const json_t *answer)
{
        const json_t *plan = json_object_get(answer, "plan");
        if (!json_is_object(plan)) {
                cli_error(ctx, "sliced's answer has no \"plan\"");
                return CLI_EXIT_FAIL;
        }
        int colour = cli_colour_on(stdout);
        plan_list(plan, "start", '+', colour ? CLI_GREEN : NULL);
        plan_list(plan, "stop", '-', colour ? CLI_RED : NULL);
        plan_list(plan, "restart", '~', colour ? CLI_YELLOW : NULL);
        printf("= %zu unchanged\n", json_array_size(json_object_get(plan, "unchanged")));
        return CLI_EXIT_OK;
}

static int put_topology(struct cli_ctx *ctx, int argc, char **argv, const char *usage, int dry_run)
{
        struct apply_opts o = {.ctx = ctx};
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:hf:", apply_long, usage, apply_opt, &o, &code) < 0)
                return code;
        if (optind < argc)
                return cli_usage_error(ctx, "unexpected argument '%s' (the file goes after -f)",
                                       argv[optind]);
        if (!o.file)
                return cli_usage_error(ctx, "no topology given (-f FILE)");
        _cleanup_free_ char *body = NULL;
        size_t len = 0;
        if ((code = read_topology(ctx, o.file, &body, &len)) != 0)
                return code;
        struct cli_http_request req = {
            .method = "PUT",
            .target = dry_run ? "/v1/topology?dry_run=1" : "/v1/topology",
            .body = body,
            .body_len = len,
            .content_type = content_type(o.file, body),
        };
        struct cli_answer ans;
        if ((code = cli_api_call(ctx, &req, &ans)) != 0)
                return code;
        if (ctx->json)
                code = cli_print_raw(&ans) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        else
                code = print_plan(ctx, ans.json);
        cli_answer_free(&ans);
        return code;
}

int cli_apply(struct cli_ctx *ctx, int argc, char **argv)
{
        return put_topology(ctx, argc, argv, apply_usage, 0);
}

int cli_diff(struct cli_ctx *ctx, int argc, char **argv)
{
        return put_topology(ctx, argc, argv, diff_usage, 1);
}
