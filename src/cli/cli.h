/* slicectl: shared declarations of the subcommands. */
#ifndef SL_CLI_H
#define SL_CLI_H

/* Exit codes for slicectl's own failures, as bwrap/env/chroot use them. */
#define CLI_EXIT_SETUP 125    /* slicectl or the sandbox setup failed */
#define CLI_EXIT_NOEXEC 126   /* the command exists but cannot be executed */
#define CLI_EXIT_NOTFOUND 127 /* the command was not found in the slice */

int cli_run(int argc, char **argv);

#endif
