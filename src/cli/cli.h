/* slicectl: shared declarations of the subcommands. */
#ifndef SL_CLI_H
#define SL_CLI_H

#include <getopt.h>

/* Exit codes for slicectl's own failures, as bwrap/env/chroot use them. */
#define CLI_EXIT_SETUP    125 /* slicectl or the sandbox setup failed */
#define CLI_EXIT_NOEXEC   126 /* the command exists but cannot be executed */
#define CLI_EXIT_NOTFOUND 127 /* the command was not found in the slice */

/* Exit codes of the commands that talk to sliced (docs/api.md). */
#define CLI_EXIT_OK          0
#define CLI_EXIT_FAIL        1 /* sliced answered an error, or a local file failed */
#define CLI_EXIT_USAGE       2 /* the command line is wrong */
#define CLI_EXIT_UNREACHABLE 3 /* no connection to sliced, or it broke */

/* Where sliced listens unless --socket or $SLICED_SOCKET say otherwise
 * (sliced.conf's api_socket default: runtime_dir/api.sock). */
#define CLI_DEFAULT_SOCKET "/run/sliced/api.sock"

/* What every daemon command shares: the global options. */
struct cli_ctx {
        const char *cmd;    /* the command's name, for messages */
        const char *socket; /* --socket, else $SLICED_SOCKET, else the default */
        int json;           /* --json: the daemon's JSON as is, for scripts */
};

/* The options every daemon command accepts, for its getopt_long table. */
enum { CLI_OPT_SOCKET = 1000, CLI_OPT_JSON };
#define CLI_COMMON_OPTIONS                                                                         \
        {"socket", required_argument, NULL, CLI_OPT_SOCKET},                                       \
            {"json", no_argument, NULL, CLI_OPT_JSON},                                             \
        {                                                                                          \
                "help", no_argument, NULL, 'h'                                                     \
        }

/* Parse a command's options (getopt_long with OPTS and LONGOPTS, which hold
 * CLI_COMMON_OPTIONS). Common options fill ctx; -h prints USAGE and returns
 * the exit code 0 through *exit_code; others go to on_opt (may be NULL),
 * which returns 0 or prints its complaint and returns -1. Returns 0 to go
 * on (optind points at the first operand), -1 to exit with *exit_code. */
int cli_parse_opts(struct cli_ctx *ctx, int argc, char **argv, const char *opts,
                   const struct option *longopts, const char *usage,
                   int (*on_opt)(void *state, int c, const char *arg), void *state, int *exit_code);

/* "slicectl CMD: MESSAGE (see `slicectl CMD --help`)" on stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "slicectl CMD: MESSAGE" on stderr. */
void cli_error(const struct cli_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

int cli_run(int argc, char **argv);
int cli_status(struct cli_ctx *ctx, int argc, char **argv);
int cli_get(struct cli_ctx *ctx, int argc, char **argv);
int cli_apply(struct cli_ctx *ctx, int argc, char **argv);
int cli_diff(struct cli_ctx *ctx, int argc, char **argv);
int cli_logs(struct cli_ctx *ctx, int argc, char **argv);
int cli_events(struct cli_ctx *ctx, int argc, char **argv);
/* restart, stop, start: ctx->cmd names the action. */
int cli_action(struct cli_ctx *ctx, int argc, char **argv);

#endif
