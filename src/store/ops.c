/* The store's operations as JSON results: see ops.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/local.h"
#include "store/ops.h"
#include "store/remote.h"

static void store_closep(struct st_store **s)
{
        st_store_close(*s);
}
#define _cleanup_store_ __attribute__((cleanup(store_closep)))

static void generation_freep(struct st_generation *g)
{
        st_generation_free(g);
}
#define _cleanup_generation_ __attribute__((cleanup(generation_freep)))

static json_t *packages_json(const struct st_generation *g)
{
        json_t *pkgs = json_array();
        for (size_t i = 0; pkgs && i < g->n_pkgs; i++) {
                const struct st_installed *p = &g->pkgs[i];
                json_t *arch = json_array();
                for (size_t k = 0; arch && k < p->n_archives; k++)
                        json_array_append_new(arch, json_string(p->archives[k]));
                json_array_append_new(pkgs, json_pack("{s:s, s:s, s:s, s:o*}", "name", p->name,
                                                      "version", p->version, "manifest",
                                                      p->manifest, "archives", arch));
        }
        return pkgs;
}

json_t *st_generation_json(const struct st_generation *g)
{
        char created[ST_TIME_STR];
        st_time_format(g->created, created);
        return json_pack("{s:I, s:s, s:s, s:o*}", "generation", (json_int_t)g->number, "created",
                         created, "reason", g->reason, "packages", packages_json(g));
}

static json_t *oom(struct sl_error *err)
{
        sl_error_set(err, ENOMEM, "building the answer");
        return NULL;
}

/* The answer of every operation that may switch generations. */
static int change_json(struct st_store *s, uint64_t previous, json_t **out, struct sl_error *err)
{
        _cleanup_generation_ struct st_generation cur = {0};
        if (st_store_current(s, &cur, err) < 0)
                return -1;
        *out = json_pack("{s:I, s:I, s:b, s:o*}", "generation", (json_int_t)cur.number, "previous",
                         (json_int_t)previous, "changed", cur.number != previous, "packages",
                         packages_json(&cur));
        return *out ? 0 : (oom(err), -1);
}

static int current_number(struct st_store *s, uint64_t *n, struct sl_error *err)
{
        _cleanup_generation_ struct st_generation cur = {0};
        if (st_store_current(s, &cur, err) < 0)
                return -1;
        *n = cur.number;
        return 0;
}

int st_op_install(const char *store, const struct st_install_req *req, json_t **out,
                  struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        uint64_t previous, gen;
        if (req->n == 0)
                return sl_error_set(err, EINVAL, "install: no package named");
        if (st_store_open(store, ST_WRITE, &s, err) < 0 || current_number(s, &previous, err) < 0)
                return -1;
        struct st_remote *r = NULL;
        if (st_remote_open(s, req->repo, req->root, req->root_len, req->progress, time(NULL), &r,
                           err) < 0)
                return -1;
        int rc = st_store_install(s, st_remote_source(r), req->specs, req->n, &gen, err);
        st_remote_close(r);
        if (rc < 0)
                return -1;
        return change_json(s, previous, out, err);
}

int st_op_remove(const char *store, const char *const *specs, size_t n, json_t **out,
                 struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        uint64_t previous, gen;
        if (n == 0)
                return sl_error_set(err, EINVAL, "remove: no package named");
        if (st_store_open(store, ST_WRITE, &s, err) < 0 || current_number(s, &previous, err) < 0 ||
            st_store_remove(s, specs, n, &gen, err) < 0)
                return -1;
        return change_json(s, previous, out, err);
}

int st_op_rollback(const char *store, unsigned long long gen, json_t **out, struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        uint64_t previous, now_gen;
        if (st_store_open(store, ST_WRITE, &s, err) < 0 || current_number(s, &previous, err) < 0 ||
            st_store_rollback(s, gen, &now_gen, err) < 0)
                return -1;
        return change_json(s, previous, out, err);
}

int st_op_list(const char *store, json_t **out, struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        struct st_generation *gens = NULL;
        size_t n = 0;
        uint64_t current = 0;
        if (st_store_open(store, ST_READ, &s, err) < 0 ||
            st_store_generations(s, &gens, &n, &current, err) < 0)
                return -1;
        json_t *list = json_array(), *pkgs = NULL;
        for (size_t i = 0; list && i < n; i++) {
                char created[ST_TIME_STR];
                st_time_format(gens[i].created, created);
                json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:I, s:b}", "generation",
                                                      (json_int_t)gens[i].number, "created",
                                                      created, "reason", gens[i].reason, "packages",
                                                      (json_int_t)gens[i].n_pkgs, "current",
                                                      gens[i].number == current));
                if (gens[i].number == current)
                        pkgs = packages_json(&gens[i]);
        }
        for (size_t i = 0; i < n; i++)
                st_generation_free(&gens[i]);
        free(gens);
        *out =
            json_pack("{s:s, s:I, s:o*, s:o*}", "store", store, "generation", (json_int_t)current,
                      "packages", pkgs ? pkgs : json_array(), "generations", list);
        return *out ? 0 : (oom(err), -1);
}

int st_op_gc(const char *store, unsigned keep, json_t **out, struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        struct st_gc_report rep = {0};
        if (st_store_open(store, ST_WRITE, &s, err) < 0 || st_store_gc(s, keep, &rep, err) < 0)
                return -1;
        *out = json_pack(
            "{s:I, s:I, s:I, s:I, s:I}", "generations_removed", (json_int_t)rep.generations_removed,
            "packages_removed", (json_int_t)rep.packages_removed, "archives_removed",
            (json_int_t)rep.archives_removed, "leftovers_removed",
            (json_int_t)rep.leftovers_removed, "bytes_freed", (json_int_t)rep.bytes_freed);
        return *out ? 0 : (oom(err), -1);
}

int st_op_verify(const char *store, json_t **out, struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        struct st_verify_report rep = {0};
        if (st_store_open(store, ST_READ, &s, err) < 0 || st_store_verify(s, &rep, err) < 0)
                return -1;
        json_t *problems = json_array();
        for (size_t i = 0; problems && i < rep.n_problems; i++)
                json_array_append_new(problems,
                                      json_pack("{s:s, s:s}", "path", rep.problems[i].path, "what",
                                                rep.problems[i].what));
        *out = json_pack("{s:b, s:I, s:I, s:I, s:I, s:o*}", "ok", rep.n_problems == 0,
                         "archives_checked", (json_int_t)rep.archives_checked, "trees_checked",
                         (json_int_t)rep.trees_checked, "packages_checked",
                         (json_int_t)rep.packages_checked, "generations_checked",
                         (json_int_t)rep.generations_checked, "problems", problems);
        st_verify_report_free(&rep);
        return *out ? 0 : (oom(err), -1);
}

int st_op_audit(const char *store, const void *osv, size_t osv_len, json_t **out,
                struct sl_error *err)
{
        _cleanup_store_ struct st_store *s = NULL;
        if (st_store_open(store, ST_READ, &s, err) < 0)
                return -1;
        return st_audit(s, osv, osv_len, out, err);
}
