/* Internals of the topology loader, shared by its files:
 *
 *   topology_tree.c    YAML / JSON text -> position-annotated node tree
 *   topology_value.c   scalar syntaxes (durations, names, paths) and did-you-mean
 *   topology_diag.c    collecting diagnostics, sorted into file order
 *   topology_decode.c  node tree -> struct sv_slice_spec (the schema)
 *   topology_check.c   cross-slice rules: names, routes, quotas, cycles, start order
 *   topology_digest.c  the canonical serialisation behind sv_slice_spec.digest
 *   topology.c         files and directories, the public API
 *
 * config.c reads sliced.conf with the same tree reader.
 */
#ifndef SV_TOPOLOGY_INTERNAL_H
#define SV_TOPOLOGY_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "supervisor/topology.h"

/* ---- node tree (topology_tree.c) ---- */

/* Bump allocator for one document's nodes and strings: a tree is built,
 * read once and dropped whole, so nodes are never freed one by one. */
struct sv_arena {
        struct sv_arena_chunk *head;
};
void *sv_arena_alloc(struct sv_arena *a, size_t n); /* zeroed; NULL on ENOMEM */
void sv_arena_release(struct sv_arena *a);

enum sv_node_kind { SV_NODE_SCALAR = 1, SV_NODE_SEQ, SV_NODE_MAP };

struct sv_node {
        enum sv_node_kind kind;
        struct sv_pos pos;
        const char *str; /* scalar text, NUL-terminated, no NUL inside */
        size_t len;
        int is_null;                  /* YAML plain ~/null/empty, JSON null */
        struct sv_node *first, *last; /* seq: items; map: keys */
        struct sv_node *next;
        size_t n;                     /* number of items / keys */
        struct sv_node *value;        /* map key: its value */
        const struct sv_node *dup_of; /* map key written before in the same map */
        size_t ord;                   /* index within its container */
};

enum sv_doc_format { SV_DOC_YAML = 0, SV_DOC_JSON };

/* Parse text (len bytes, any content) as one document. Returns 0 with *root
 * (NULL for an empty YAML stream), or -1 with *epos and err->msg set to a
 * message without position ("YAML syntax error: ..."); err->code is ENOMEM
 * for allocation failures, else EINVAL. Repeated mapping keys are not errors
 * here: they are marked (dup_of) for the reader of the tree to report. */
int sv_tree_parse(struct sv_arena *a, const char *file, const char *text, size_t len,
                  enum sv_doc_format fmt, struct sv_node **root, struct sv_pos *epos,
                  struct sl_error *err);

/* "a mapping", "a list", "a string", "null". */
const char *sv_node_kind_name(const struct sv_node *n);

/* Value of key in a mapping (first occurrence), or NULL. */
const struct sv_node *sv_node_get(const struct sv_node *map, const char *key);

/* ---- scalar syntaxes (topology_value.c) ---- */

/* Upper bound of any duration: 30 days, far beyond a sane timeout, and small
 * enough that no sum of durations overflows. */
#define SV_DURATION_MAX_MS (30ull * 24 * 3600 * 1000)

/* "100ms", "5s", "2m", "1h", "1m30s"; "0" alone. A unit is required
 * otherwise: a bare "5" could mean seconds or milliseconds. */
int sv_parse_duration(const char *s, uint64_t *ms, struct sl_error *err);
int sv_parse_bool(const char *s, int *out, struct sl_error *err);

int sv_check_slice_name(const char *s, struct sl_error *err);
int sv_check_service_name(const char *s, struct sl_error *err);
int sv_check_label(const char *s, struct sl_error *err);
int sv_check_env_key(const char *s, struct sl_error *err);
int sv_check_hostname(const char *s, struct sl_error *err);
/* Absolute, no "." or ".." component, shorter than PATH_MAX. what names the
 * value in the message ("mount source"). */
int sv_check_abs_path(const char *s, const char *what, struct sl_error *err);
/* "[NAME=]tcp:HOST:PORT" or "[NAME=]unix:/PATH", syntax only. */
int sv_check_listen(const char *s, struct sl_error *err);

/* Closest candidate to word (optimal string alignment distance, ignoring
 * case), or NULL when none is close enough to be a likely typo. */
const char *sv_suggest(const char *word, const char *const *cands, size_t n);

/* 64M, 1536K, 1G, or plain bytes: the largest exact binary unit. */
void sv_format_size(uint64_t v, char *buf, size_t len);
/* "0-3,5" */
void sv_format_cpuset(const cpu_set_t *set, char *buf, size_t len);

/* ---- diagnostics (topology_diag.c) ---- */

struct sv_diag_ent {
        size_t file_idx; /* order of the file: diagnostics sort by file, line, column */
        int line, col;
        size_t seq; /* order of discovery, for equal positions */
        char *msg;
};

struct sv_diagbuf {
        struct sv_diag_ent *v;
        size_t n, cap;
        size_t dropped; /* beyond SV_TOPO_MAX_ERRORS */
        int oom;
        const struct sv_topology *t; /* its interned file names give file_idx */
};

/* Add "file:line:col: path: message" (path may be NULL; pos may be NULL or
 * have line 0 for whole-file problems: "file: message"). */
void sv_diag_add(struct sv_diagbuf *d, const struct sv_pos *pos, const char *file, const char *path,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void sv_diag_vadd(struct sv_diagbuf *d, const struct sv_pos *pos, const char *file,
                  const char *path, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
/* Sort into file order and move the messages into out (appending). */
int sv_diag_finish(struct sv_diagbuf *d, struct sv_diag *out);
void sv_diagbuf_release(struct sv_diagbuf *d);

/* ---- decoding (topology_decode.c) ---- */

struct sv_decode_in {
        const char *file;     /* interned: positions point here */
        const char *base_dir; /* relative policy files resolve against it */
};

/* Decode one document's top-level slices and append them to
 * *slices / *n_slices (capacity *cap). *total counts slices across files for
 * SV_TOPO_MAX_SLICES. Errors go to d. Returns -1 only on ENOMEM. */
int sv_decode_document(const struct sv_decode_in *in, const struct sv_node *root,
                       struct sv_slice_spec **slices, size_t *n_slices, size_t *cap, size_t *total,
                       struct sv_diagbuf *d);

void sv_slice_spec_release(struct sv_slice_spec *s);

/* ---- cross-slice validation (topology_check.c) ---- */

/* Set parent pointers and paths' route indexes, check everything that spans
 * slices, and compute start ranks. Returns -1 only on ENOMEM. */
int sv_check_topology(struct sv_topology *t, struct sv_diagbuf *d);

/* ---- digest (topology_digest.c) ---- */

void sv_slice_digest(struct sv_slice_spec *s);

#endif
