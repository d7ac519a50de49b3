/* slicectl restart|stop|start SLICE: ask sliced to act on one slice. The
 * answer (202) means sliced accepted the action, not that it is done:
 * `slicectl events` or `slicectl get` show how it goes. */
#include <stdio.h>
#include <string.h>

#include "cli/api.h"
#include "lib/cleanup.h"

#define ACTION_USAGE(action, what)                                                                 \
        "Usage: slicectl " action " [OPTIONS] SLICE\n"                                             \
        "\n" what "\n"                                                                             \
        "SLICE is a path such as app/web or /app/web. sliced answers as soon as it\n"              \
        "has accepted the action; `slicectl events` shows how it goes. Changing a\n"               \
        "slice needs root or membership of group sliced.\n"                                        \
        "\n"                                                                                       \
        "Options:\n"                                                                               \
        "  --json           print sliced's answer as it is: {\"path\", \"action\", \"state\"}\n"   \
        "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"                   \
        "                   " CLI_DEFAULT_SOCKET ")\n"                                             \
        "  -h, --help       show this help\n"                                                      \
        "\n"                                                                                       \
        "Exit status: 0 accepted; 1 sliced refused (no such slice, not allowed, or the\n"          \
        "action makes no sense for the slice, e.g. starting a group); 2 usage;\n"                  \
        "3 sliced unreachable.\n"

static const struct {
        const char *action, *usage;
} actions[] = {
    {"restart", ACTION_USAGE("restart", "Restart SLICE: stop it, then start it again.")},
    {"stop", ACTION_USAGE("stop", "Stop SLICE; sliced leaves it stopped until it is started.")},
    {"start", ACTION_USAGE("start", "Start SLICE when it is stopped, down or failed.")},
};

static const struct option action_long[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};

int cli_action(struct cli_ctx *ctx, int argc, char **argv)
{
        const char *usage = NULL;
        for (size_t i = 0; i < SL_ARRAY_SIZE(actions); i++)
                if (!strcmp(ctx->cmd, actions[i].action))
                        usage = actions[i].usage;
        if (!usage)
                return cli_usage_error(ctx, "not an action");

        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:h", action_long, usage, NULL, NULL, &code) < 0)
                return code;
        if (optind >= argc)
                return cli_usage_error(ctx, "no slice given");
        if (optind + 1 < argc)
                return cli_usage_error(ctx, "unexpected argument '%s' (one slice at a time)",
                                       argv[optind + 1]);
        char path[CLI_SLICE_PATH_MAX], suffix[32];
        _cleanup_free_ char *target = NULL;
        snprintf(suffix, sizeof suffix, "/%s", ctx->cmd);
        if ((code = cli_slice_target(ctx, argv[optind], suffix, path, &target)) != 0)
                return code;
        struct cli_http_request req = {.method = "POST", .target = target};
        struct cli_answer ans;
        if ((code = cli_api_call(ctx, &req, &ans)) != 0)
                return code;
        if (ctx->json) {
                code = cli_print_raw(&ans) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        } else {
                const char *state = cli_json_str(ans.json, "state");
                printf("%s: %s accepted%s%s%s\n", path, ctx->cmd, state ? " (now " : "",
                       state ? state : "", state ? ")" : "");
        }
        cli_answer_free(&ans);
        return code;
}
