/* slicectl: the command-line client of sliced. `run` confines one command
 * itself; every other command talks to sliced's API (docs/api.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/pkg.h"

static void usage(FILE *f)
{
        fputs("Usage: slicectl [--socket PATH] [--json] COMMAND [OPTIONS] [ARGS]\n"
              "\n"
              "Commands:\n"
              "  run [OPTIONS] -- COMMAND [ARG...]   run one confined command in the foreground\n"
              "\n"
              "  status               list the slices sliced supervises, with their state\n"
              "  get SLICE            show everything sliced reports of one slice\n"
              "  logs [-f] [--tail N] SLICE\n"
              "                       print a slice's recent output; -f: then follow it\n"
              "  events               print each change of a slice's state as it happens\n"
              "  restart SLICE        restart a slice\n"
              "  stop SLICE           stop a slice\n"
              "  start SLICE          start a stopped, down or failed slice\n"
              "  diff -f FILE         show what applying topology FILE would change\n"
              "  apply -f FILE        make topology FILE sliced's topology\n"
              "\n"
              "Packages (docs/store.md):\n"
              "  key gen NAME         make an Ed25519 key pair NAME.key, NAME.pub\n"
              "  pkg build|sign       make and sign packages (local files)\n"
              "  pkg install|remove|list|rollback|gc|verify|audit\n"
              "                       the package store, through sliced or --store DIR\n"
              "  repo init|add|rotate|signers\n"
              "                       publish into a repository folder\n"
              "\n"
              "SLICE is a slice's path: app/web or /app/web.\n"
              "\n"
              "Options (before or after COMMAND, for all but run):\n"
              "  --socket PATH   sliced's API socket (default $SLICED_SOCKET, else\n"
              "                  " CLI_DEFAULT_SOCKET ")\n"
              "  --json          print sliced's JSON answers as they are, for scripts\n"
              "  -h, --help      show this help\n"
              "  --version       show the version\n"
              "\n"
              "Exit status of the commands that talk to sliced: 0 ok; 1 sliced answered an\n"
              "error; 2 usage; 3 sliced cannot be reached.\n"
              "`slicectl COMMAND --help` describes a command's options.\n",
              f);
}

static const struct {
        const char *name;
        int (*fn)(struct cli_ctx *ctx, int argc, char **argv);
} commands[] = {
    {"status", cli_status},  {"get", cli_get},     {"logs", cli_logs},    {"events", cli_events},
    {"restart", cli_action}, {"stop", cli_action}, {"start", cli_action}, {"diff", cli_diff},
    {"apply", cli_apply},    {"key", cli_key},     {"pkg", cli_pkg},      {"repo", cli_repo},
};

/* The global options, before the command: --socket PATH (or =PATH), --json. */
static int global_opts(struct cli_ctx *ctx, int argc, char **argv, int *i)
{
        for (; *i < argc && argv[*i][0] == '-'; (*i)++) {
                const char *a = argv[*i];
                if (!strcmp(a, "--json")) {
                        ctx->json = 1;
                } else if (!strncmp(a, "--socket=", 9)) {
                        ctx->socket = a + 9;
                } else if (!strcmp(a, "--socket")) {
                        if (++*i == argc) {
                                fputs("slicectl: option '--socket' needs a value\n", stderr);
                                return -1;
                        }
                        ctx->socket = argv[*i];
                } else {
                        return 0; /* -h, --version, or unknown: main decides */
                }
        }
        return 0;
}

int main(int argc, char **argv)
{
        struct cli_ctx ctx = {0};
        int i = 1;
        if (global_opts(&ctx, argc, argv, &i) < 0)
                return CLI_EXIT_USAGE;
        if (i >= argc) {
                usage(stderr);
                return CLI_EXIT_USAGE;
        }
        const char *cmd = argv[i];
        if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(cmd, "--version")) {
                printf("slicectl %s\n", SLICED_VERSION);
                return 0;
        }
        if (!strcmp(cmd, "run")) {
                if (i > 1) {
                        fputs("slicectl: run: --socket and --json do not apply to run\n", stderr);
                        return CLI_EXIT_USAGE;
                }
                return cli_run(argc - i, argv + i);
        }
        if (!ctx.socket) {
                const char *env = getenv("SLICED_SOCKET");
                ctx.socket = env && *env ? env : CLI_DEFAULT_SOCKET;
        }
        for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
                if (!strcmp(cmd, commands[k].name)) {
                        ctx.cmd = commands[k].name;
                        return commands[k].fn(&ctx, argc - i, argv + i);
                }
        if (cmd[0] == '-')
                fprintf(stderr, "slicectl: unknown option '%s' (see `slicectl --help`)\n", cmd);
        else
                fprintf(stderr, "slicectl: unknown command '%s' (see `slicectl --help`)\n", cmd);
        return CLI_EXIT_USAGE;
}
