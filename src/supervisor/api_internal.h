/* What api.c shares with the endpoint files beside it (api_packages.c). */
#ifndef SV_API_INTERNAL_H
#define SV_API_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <uv.h>

#include "supervisor/api.h"
#include "supervisor/supervisor.h"

/* A topology upload is bounded like a topology file. */
#define API_BODY_MAX SV_TOPO_MAX_FILE_SIZE
/* The file of a directory topology that `PUT /v1/topology` writes. */
#define API_APPLIED_YAML "api-applied.yaml"
#define API_APPLIED_JSON "api-applied.json"
/* Recent state changes kept for `GET /v1/events` followers that lag. */
#define API_EVENTS_MAX   256
#define API_TAIL_DEFAULT 100
#define API_GROUP        "sliced"
/* Concurrent connections: the API is for operators and tools, not traffic. */
#define API_CONNECTIONS_MAX 64

struct api_pkg_work;

struct api_event {
        uint64_t seq;
        char *line; /* one JSON object + '\n' */
};

enum stream_kind { STREAM_LOGS = 1, STREAM_EVENTS };

struct api_stream {
        struct api_stream *next;
        struct sv_api *api;
        struct MHD_Connection *conn;
        enum stream_kind kind;
        int follow;
        int suspended;
        char *path;        /* logs: the slice, looked up on every read */
        uint64_t next_seq; /* next log line / event to send */
        char *pending;     /* formatted, not yet copied out */
        size_t pending_len, pending_off;
};

struct sv_api {
        struct sv_supervisor *sv;
        struct MHD_Daemon *mhd;
        uv_poll_t poll;
        uv_timer_t timer;
        int listen_fd;
        gid_t group;
        int have_group;
        struct api_event events[API_EVENTS_MAX];
        uint64_t event_seq;
        struct api_stream *streams;
        struct api_pkg_work *works; /* package operations running in the thread pool */
        int handles_open;           /* while closing */
};

struct conn_ctx {
        char *body;
        size_t len;
        int too_big;
        struct api_pkg_work *work; /* a package operation answering this request */
};

/* /v1/packages[/...] (api_packages.c). rest is what follows "/v1/packages". */
enum MHD_Result api_on_packages(struct sv_api *api, struct MHD_Connection *c, const char *method,
                                const char *rest, struct conn_ctx *cc);
/* The largest body a request to url may carry. */
size_t api_body_max(const char *url);
/* At shutdown: detach the package operations still running (they finish
 * in their thread; nobody hears the answer). */
void api_packages_detach(struct sv_api *api);

/* Answer with j (consumed) as the JSON body. */
enum MHD_Result api_send_json(struct MHD_Connection *c, unsigned status, json_t *j);
/* Answer {"error": MESSAGE}. */
enum MHD_Result api_send_error(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* May the peer change sliced? who gets "uid N" for messages. */
int api_may_change(struct sv_api *api, struct MHD_Connection *c, char *who, size_t len);
/* Let libmicrohttpd do what is due now (after a resume, say). */
void api_run_mhd(struct sv_api *api);

#endif
