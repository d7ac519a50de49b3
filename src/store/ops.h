/* The store's operations as the management plane sees them: each takes the
 * store directory and returns its result as a JSON object, the same one
 * sliced's API answers (docs/api.md, "Packages") and `slicectl pkg` prints.
 * slicectl --store calls these directly; sliced calls them from a worker
 * thread. Each opens the store with the lock it needs and closes it. */
#ifndef ST_OPS_H
#define ST_OPS_H

#include <jansson.h>
#include <stddef.h>

#include "lib/error.h"

struct st_install_req {
        const char *const *specs; /* NAME or NAME@VERSION */
        size_t n;
        const char *repo; /* URL, or NULL: the remembered one */
        const void *root; /* a root envelope to pin (its bytes), or NULL */
        size_t root_len;
        int progress; /* progress bars on a TTY */
};

/* {"generation", "previous", "changed", "packages": [...]} */
int st_op_install(const char *store, const struct st_install_req *req, json_t **out,
                  struct sl_error *err);
int st_op_remove(const char *store, const char *const *specs, size_t n, json_t **out,
                 struct sl_error *err);
/* gen 0 = the generation before the current one. */
int st_op_rollback(const char *store, unsigned long long gen, json_t **out, struct sl_error *err);
/* {"store", "generation", "packages": [...], "generations": [...]} */
int st_op_list(const char *store, json_t **out, struct sl_error *err);
/* {"generations_removed", "packages_removed", "archives_removed",
 *  "leftovers_removed", "bytes_freed"} */
int st_op_gc(const char *store, unsigned keep, json_t **out, struct sl_error *err);
/* {"ok", "archives_checked", "trees_checked", "packages_checked",
 *  "generations_checked", "problems": [{"path", "what"}]} */
int st_op_verify(const char *store, json_t **out, struct sl_error *err);
/* st_audit's result. osv may be NULL. */
int st_op_audit(const char *store, const void *osv, size_t osv_len, json_t **out,
                struct sl_error *err);

/* A generation as JSON: {"generation", "created", "reason", "packages":
 * [{"name", "version", "manifest", "archives"}]}. */
struct st_generation;
json_t *st_generation_json(const struct st_generation *g);

#endif
