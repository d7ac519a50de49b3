/* slicectl's side of sliced's REST API (docs/api.md): requests, the
 * mapping of every failure to a message and an exit code, slice names. */
#ifndef SL_CLI_API_H
#define SL_CLI_API_H

#include <stddef.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/http.h"

/* 128 + SIGINT, as a shell reports a command ended by Ctrl-C. Streams turn
 * it into 0: Ctrl-C is how one ends `logs -f` and `events`. */
#define CLI_EXIT_INTERRUPTED 130

/* The longest slice path: a path in a topology is shorter than 4096 bytes. */
#define CLI_SLICE_PATH_MAX 4096

/* A successful (2xx) answer. */
struct cli_answer {
        long status;
        char *body; /* NUL-terminated; empty for a stream */
        size_t len;
        json_t *json; /* the body parsed, when it is not a stream */
        int stopped;  /* a stream ended early: on_line said so, or stdout hung up */
};

/* Send REQ to sliced and wait for its answer. 0 when sliced answered 2xx
 * (ans filled; release with cli_answer_free). Otherwise everything is
 * already said on stderr (and, with --json, a daemon's error body on
 * stdout) and the result is the exit code: CLI_EXIT_FAIL for an error
 * answer or an unreadable one, CLI_EXIT_UNREACHABLE when there is no
 * connection or it broke, CLI_EXIT_INTERRUPTED after SIGINT/SIGTERM.
 * A stream stopped early (on_line, stdout's hang-up) returns 0 with
 * ans->stopped set. */
int cli_api_call(const struct cli_ctx *ctx, const struct cli_http_request *req,
                 struct cli_answer *ans);

void cli_answer_free(struct cli_answer *ans);

/* --json: the answer's body as sliced sent it, newline-terminated. */
int cli_print_raw(const struct cli_answer *ans);

/* SLICE as written on the command line ("app/web" or "/app/web") to its
 * path ("/app/web", in path[CLI_SLICE_PATH_MAX]) and API target
 * ("/v1/slices/app/web" + SUFFIX, malloc'd, segments escaped). On a bad
 * name, says so and returns CLI_EXIT_USAGE; 0 on success. */
int cli_slice_target(const struct cli_ctx *ctx, const char *slice, const char *suffix, char *path,
                     char **target);

/* Getters that tolerate a missing or mistyped member: the client must not
 * crash on a newer (or older) daemon's answer. */
const char *cli_json_str(const json_t *obj, const char *key);         /* NULL if absent */
int cli_json_int(const json_t *obj, const char *key, long long *out); /* -1 if absent */

#endif
