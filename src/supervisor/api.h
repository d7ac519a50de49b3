/* The management API: HTTP/1.1 + JSON on a unix socket, served by
 * libmicrohttpd from sliced's own libuv loop (no second thread holding
 * state). docs/api.md describes every endpoint. */
#ifndef SV_API_H
#define SV_API_H

#include "lib/error.h"

struct sv_supervisor;
struct sv_slice;
struct sv_api;

/* Bind the socket (mode 0660, group `sliced` when it exists), start serving.
 * Every later call accepts a NULL api. */
int sv_api_start(struct sv_supervisor *sv, struct sv_api **out, struct sl_error *err);
void sv_api_stop(struct sv_api *api);
/* A slice changed state / printed a line: wake the streams that follow it. */
void sv_api_event(struct sv_api *api, const struct sv_slice *s);
void sv_api_output(struct sv_api *api);

#endif
