/* slicectl's HTTP/1.1 client for sliced's API, over a unix socket (libcurl
 * with CURLOPT_UNIX_SOCKET_PATH). One request at a time, blocking, but
 * interruptible: SIGINT or SIGTERM during a request ends it at once. */
#ifndef SL_CLI_HTTP_H
#define SL_CLI_HTTP_H

#include <stddef.h>

#include "lib/error.h"

/* Each line of a streamed body (without its '\n') as it arrives. Return 0
 * to go on, -1 to stop the transfer (e.g. stdout is gone). */
typedef int (*cli_http_line_fn)(void *opaque, const char *line, size_t len);

struct cli_http_request {
        const char *method; /* "GET", "POST", "PUT" */
        const char *target; /* "/v1/slices/app/web?x=1", already escaped */
        const char *body;   /* request body, or NULL for none */
        size_t body_len;
        const char *content_type; /* of the body */
        /* Streams (NDJSON): a 2xx body goes line by line to on_line and is
         * not collected, and there is no time limit. Any other status's
         * body is collected as usual. NULL: collect the body. */
        cli_http_line_fn on_line;
        void *opaque;
        /* End the transfer (CLI_HTTP_STOPPED) when stdout hangs up: a pipe
         * whose reader has gone, a terminal that closed. A quiet stream
         * would otherwise learn of it only at its next line. */
        int stop_on_stdout_hangup;
};

struct cli_http_response {
        long status; /* the HTTP status code */
        char *body;  /* collected body, NUL-terminated (never NULL after DONE) */
        size_t len;
};

enum cli_http_outcome {
        CLI_HTTP_DONE,        /* a complete answer arrived (any status) */
        CLI_HTTP_UNREACHABLE, /* could not connect: err->code is the errno */
        CLI_HTTP_BROKEN,      /* connected, then no (complete) answer: closed, reset, timed out */
        CLI_HTTP_INTERRUPTED, /* SIGINT or SIGTERM arrived */
        CLI_HTTP_STOPPED,     /* on_line returned -1, or stdout hung up */
        CLI_HTTP_FAILED,      /* a local failure (memory, libcurl) */
};

/* Send REQ to the server listening on SOCKET and wait for the whole answer
 * (or, for streams, until it ends). Fills resp (release it with
 * cli_http_response_free, whatever the outcome) and, unless DONE, err. */
enum cli_http_outcome cli_http_do(const char *socket, const struct cli_http_request *req,
                                  struct cli_http_response *resp, struct sl_error *err);

void cli_http_response_free(struct cli_http_response *resp);

/* "%XX"-escape one path segment or query value (unreserved bytes pass).
 * Returns a malloc'd string, NULL when out of memory. */
char *cli_http_escape(const char *s);

#endif
