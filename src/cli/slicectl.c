/* slicectl: the command-line client of sliced. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static void usage(FILE *f)
{
        fputs("Usage: slicectl COMMAND [OPTIONS]\n"
              "\n"
              "Commands:\n"
              "  run [OPTIONS] -- COMMAND [ARG...]   run one confined command in the foreground\n"
              "\n"
              "Options:\n"
              "  -h, --help      show this help\n"
              "  --version       show the version\n"
              "\n"
              "`slicectl COMMAND --help` describes a command's options.\n",
              f);
}

int main(int argc, char **argv)
{
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        const char *cmd = argv[1];
        if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
                usage(stdout);
                return 0;
        }
        if (!strcmp(cmd, "--version")) {
                printf("slicectl %s\n", SLICED_VERSION);
                return 0;
        }
        if (!strcmp(cmd, "run"))
                return cli_run(argc - 1, argv + 1);
        fprintf(stderr, "slicectl: unknown command '%s' (see `slicectl --help`)\n", cmd);
        return 2;
}
