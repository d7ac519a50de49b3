/* slicectl key, pkg and repo: the package store's commands. */
#ifndef SL_CLI_PKG_H
#define SL_CLI_PKG_H

#include "cli/cli.h"

/* pkg install|remove|list|rollback|gc|verify|audit (cmd_pkg.c). argv[0] is
 * the subcommand. Returns -1 when sub is not one of them. */
int cli_pkg_store(struct cli_ctx *ctx, const char *sub, int argc, char **argv);

/* slicectl key ..., pkg ..., repo ... (cmd_repo.c): argv[0] is the command. */
int cli_key(struct cli_ctx *ctx, int argc, char **argv);
int cli_pkg(struct cli_ctx *ctx, int argc, char **argv);
int cli_repo(struct cli_ctx *ctx, int argc, char **argv);

#endif
