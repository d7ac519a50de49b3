/* /v1/packages: the package store's operations over the API (docs/api.md,
 * "Packages"). They are the same functions `slicectl pkg --store` calls
 * (store/ops.c). An install downloads, hashes and unpacks, and every
 * operation waits for the store's lock, so each runs in libuv's thread pool
 * while its connection is suspended; sliced's loop thread keeps serving
 * slices meanwhile and answers when the work is done. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "store/ops.h"
#include "store/store.h"
#include "store/util.h"
#include "supervisor/api_internal.h"

/* An OSV feed for one ecosystem is tens of MiB; a topology is 4 MiB. */
#define API_OSV_BODY_MAX (64u << 20)
#define API_SPECS_MAX    1000 /* packages in one install/remove request */
#define API_ROOT_MAX     (1u << 20)

enum pkg_op { OP_LIST, OP_INSTALL, OP_REMOVE, OP_ROLLBACK, OP_GC, OP_VERIFY, OP_AUDIT };

struct api_pkg_work {
        uv_work_t req;
        struct api_pkg_work *next;
        struct sv_api *api;
        struct MHD_Connection *conn;
        int detached; /* sliced is stopping: nobody to answer */
        int done;
        enum pkg_op op;
        char *store;
        char **specs;
        size_t n_specs;
        char *repo;
        char *blob; /* install: the root to pin; audit: the OSV feed */
        size_t blob_len;
        unsigned long long number; /* rollback generation, gc keep */
        json_t *result;
        struct sl_error err;
        int rc;
};

size_t api_body_max(const char *url)
{
        return !strcmp(url, "/v1/packages/audit") ? API_OSV_BODY_MAX : API_BODY_MAX;
}

static void work_free(struct api_pkg_work *w)
{
        for (size_t i = 0; i < w->n_specs; i++)
                free(w->specs[i]);
        free(w->specs);
        free(w->store);
        free(w->repo);
        free(w->blob);
        json_decref(w->result);
        free(w);
}

/* In the thread pool: only w's own data, no supervisor state. */
static void work_run(uv_work_t *req)
{
        struct api_pkg_work *w = req->data;
        const char *const *specs = (const char *const *)w->specs;
        switch (w->op) {
        case OP_LIST: w->rc = st_op_list(w->store, &w->result, &w->err); break;
        case OP_INSTALL: {
                struct st_install_req r = {.specs = specs,
                                           .n = w->n_specs,
                                           .repo = w->repo,
                                           .root = w->blob,
                                           .root_len = w->blob_len};
                w->rc = st_op_install(w->store, &r, &w->result, &w->err);
                break;
        }
        case OP_REMOVE:
                w->rc = st_op_remove(w->store, specs, w->n_specs, &w->result, &w->err);
                break;
        case OP_ROLLBACK: w->rc = st_op_rollback(w->store, w->number, &w->result, &w->err); break;
        case OP_GC: w->rc = st_op_gc(w->store, (unsigned)w->number, &w->result, &w->err); break;
        case OP_VERIFY: w->rc = st_op_verify(w->store, &w->result, &w->err); break;
        case OP_AUDIT:
                w->rc = st_op_audit(w->store, w->blob, w->blob_len, &w->result, &w->err);
                break;
        }
}

/* Back on the loop thread: wake the connection, which answers from w. */
static void work_done(uv_work_t *req, int status)
{
        (void)status;
        struct api_pkg_work *w = req->data;
        if (w->detached) {
                work_free(w);
                return;
        }
        for (struct api_pkg_work **p = &w->api->works; *p; p = &(*p)->next)
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        w->done = 1;
        MHD_resume_connection(w->conn);
        api_run_mhd(w->api);
}

void api_packages_detach(struct sv_api *api)
{
        for (struct api_pkg_work *w = api->works; w; w = w->next) {
                w->detached = 1;
                MHD_resume_connection(w->conn);
        }
        api->works = NULL;
}

/* The status an operation's failure maps to. */
static unsigned failure_status(const struct api_pkg_work *w)
{
        switch (w->err.code) {
        case ENOENT: return w->op == OP_INSTALL ? 422 : 404;
        case EINVAL: return 400;
        case EEXIST: return 409;
        default: return 422;
        }
}

/* The request's JSON body ({} when empty); NULL after answering 400. */
static json_t *body_json(struct MHD_Connection *c, const struct conn_ctx *cc, enum MHD_Result *ret)
{
        if (!cc->len)
                return json_object();
        json_error_t je;
        json_t *j = json_loadb(cc->body, cc->len, JSON_REJECT_DUPLICATES, &je);
        if (!j || !json_is_object(j)) {
                *ret = api_send_error(c, 400, "body:%d:%d: %s", je.line, je.column,
                                      j ? "not a JSON object" : je.text);
                json_decref(j);
                return NULL;
        }
        return j;
}

/* Parse the fields an operation takes; 0, or -1 after answering 400. */
static int parse_fields(struct MHD_Connection *c, struct api_pkg_work *w, json_t *b,
                        enum MHD_Result *ret)
{
        static const char *const allowed[][5] = {
            [OP_INSTALL] = {"packages", "repo", "root", NULL},
            [OP_REMOVE] = {"packages", NULL},
            [OP_ROLLBACK] = {"generation", NULL},
            [OP_GC] = {"keep", NULL},
            [OP_VERIFY] = {NULL},
        };
        const char *key;
        json_t *v;
        json_object_foreach(b, key, v)
        {
                int ok = 0;
                for (size_t i = 0; allowed[w->op][i]; i++)
                        ok |= !strcmp(key, allowed[w->op][i]);
                if (!ok) {
                        *ret = api_send_error(c, 400, "body: %s: unknown field", key);
                        return -1;
                }
        }
        json_t *pk = json_object_get(b, "packages");
        if (w->op == OP_INSTALL || w->op == OP_REMOVE) {
                if (!json_is_array(pk) || !json_array_size(pk) ||
                    json_array_size(pk) > API_SPECS_MAX) {
                        *ret = api_send_error(c, 400,
                                              "body: packages: an array of 1 to %d "
                                              "\"NAME[@VERSION]\" strings is required",
                                              API_SPECS_MAX);
                        return -1;
                }
                w->specs = calloc(json_array_size(pk) + 1, sizeof *w->specs);
                for (size_t i = 0; w->specs && i < json_array_size(pk); i++) {
                        json_t *e = json_array_get(pk, i);
                        char name[ST_NAME_MAX], version[ST_VERSION_MAX];
                        struct sl_error err = {0};
                        if (!json_is_string(e) ||
                            st_spec_parse(json_string_value(e), name, version, &err) < 0) {
                                *ret = api_send_error(c, 400, "body: packages[%zu]: %s", i,
                                                      json_is_string(e) ? err.msg : "not a string");
                                return -1;
                        }
                        w->specs[w->n_specs++] = strdup(json_string_value(e));
                }
        }
        json_t *repo = json_object_get(b, "repo"), *root = json_object_get(b, "root");
        if ((repo && !json_is_string(repo)) || (root && !json_is_string(root)) ||
            (root && json_string_length(root) > API_ROOT_MAX)) {
                *ret = api_send_error(c, 400, "body: %s: not a string (of at most 1 MiB)",
                                      repo && !json_is_string(repo) ? "repo" : "root");
                return -1;
        }
        if (repo)
                w->repo = strdup(json_string_value(repo));
        if (root) {
                w->blob_len = json_string_length(root);
                w->blob = malloc(w->blob_len + 1);
                if (w->blob)
                        memcpy(w->blob, json_string_value(root), w->blob_len + 1);
        }
        json_t *n = json_object_get(b, w->op == OP_GC ? "keep" : "generation");
        if (n && (!json_is_integer(n) || json_integer_value(n) < 1)) {
                *ret = api_send_error(c, 400, "body: %s: not a number from 1",
                                      w->op == OP_GC ? "keep" : "generation");
                return -1;
        }
        if (n)
                w->number = (unsigned long long)json_integer_value(n);
        return 0;
}

static enum MHD_Result answer(struct MHD_Connection *c, struct conn_ctx *cc)
{
        struct api_pkg_work *w = cc->work;
        cc->work = NULL;
        enum MHD_Result r = w->rc < 0 ? api_send_error(c, failure_status(w), "%s", w->err.msg)
                                      : api_send_json(c, 200, json_incref(w->result));
        work_free(w);
        return r;
}

static int op_of(const char *method, const char *rest, enum pkg_op *op)
{
        static const struct {
                const char *method, *rest;
                enum pkg_op op;
        } routes[] = {
            {"GET", "", OP_LIST},           {"POST", "/install", OP_INSTALL},
            {"POST", "/remove", OP_REMOVE}, {"POST", "/rollback", OP_ROLLBACK},
            {"POST", "/gc", OP_GC},         {"POST", "/verify", OP_VERIFY},
            {"GET", "/audit", OP_AUDIT},    {"POST", "/audit", OP_AUDIT},
        };
        int path_known = 0;
        for (size_t i = 0; i < SL_ARRAY_SIZE(routes); i++) {
                if (strcmp(rest, routes[i].rest))
                        continue;
                path_known = 1;
                if (!strcmp(method, routes[i].method)) {
                        *op = routes[i].op;
                        return 0;
                }
        }
        return path_known ? -405 : -404;
}

enum MHD_Result api_on_packages(struct sv_api *api, struct MHD_Connection *c, const char *method,
                                const char *rest, struct conn_ctx *cc)
{
        if (cc->work && cc->work->done)
                return answer(c, cc);
        if (cc->work) /* detached at shutdown: close without an answer */
                return MHD_NO;
        enum pkg_op op;
        int r = op_of(method, rest, &op);
        if (r == -404)
                return api_send_error(c, 404,
                                      "no endpoint %s /v1/packages%s (install, remove, rollback, "
                                      "gc, verify, audit)",
                                      method, rest);
        if (r == -405)
                return api_send_error(c, 405, "%s /v1/packages%s: use %s", method, rest,
                                      *rest && strcmp(rest, "/audit") ? "POST" : "GET");
        if (cc->too_big)
                return api_send_error(c, 413, "the request body is larger than %zu bytes",
                                      api_body_max(op == OP_AUDIT ? "/v1/packages/audit" : ""));
        char who[64];
        /* Reading the store is open to whoever may use the socket; changing
         * it (and verify, which reads every byte of it) is for operators. */
        if (op != OP_LIST && op != OP_AUDIT && !api_may_change(api, c, who, sizeof who))
                return api_send_error(c, 403,
                                      "%s may not change sliced: root or group '%s' required", who,
                                      API_GROUP);
        struct api_pkg_work *w = calloc(1, sizeof *w);
        if (!w || !(w->store = strdup(api->sv->cfg.store_dir))) {
                free(w);
                return api_send_error(c, 500, "out of memory");
        }
        w->op = op;
        w->api = api;
        w->conn = c;
        w->req.data = w;
        enum MHD_Result ret = MHD_NO;
        if (op == OP_AUDIT) {
                if (cc->len && !(w->blob = malloc(cc->len))) {
                        work_free(w);
                        return api_send_error(c, 500, "out of memory");
                }
                if (cc->len)
                        memcpy(w->blob, cc->body, cc->len);
                w->blob_len = cc->len;
        } else if (op != OP_LIST) {
                _cleanup_json_ json_t *b = body_json(c, cc, &ret);
                if (!b || parse_fields(c, w, b, &ret) < 0) {
                        work_free(w);
                        return ret;
                }
        }
        int e = uv_queue_work(api->sv->loop, &w->req, work_run, work_done);
        if (e < 0) {
                work_free(w);
                return api_send_error(c, 500, "queue the operation: %s", uv_strerror(e));
        }
        w->next = api->works;
        api->works = w;
        cc->work = w;
        MHD_suspend_connection(c);
        return MHD_YES;
}
