/* The schema decoder's own plumbing, shared by topology_decode.c (the slice
 * and document level) and topology_fields.c (the field groups: resources,
 * mounts, network, routes, restart, health). Not used outside the decoder. */
#ifndef SV_TOPOLOGY_DECODE_H
#define SV_TOPOLOGY_DECODE_H

#include "supervisor/topology_internal.h"

/* Longest field path within a slice ("restart.crash_loop.window"). */
#define DEC_KEY_MAX 256

struct dec {
        const struct sv_decode_in *in;
        struct sv_diagbuf *diag;
        const char *path;      /* the slice being decoded ("/app/db") */
        char key[DEC_KEY_MAX]; /* the field within it ("resources.cpu.max") */
        size_t key_len;
        unsigned depth; /* of the slice being decoded; 1 at the top */
        size_t *total;  /* slices decoded so far, all files */
        int limit_reported;
        int oom;
};

/* Entries of one field table: the bits of dec_fields' result. */
#define DEC_FIELDS_MAX 32

/* One key of a mapping and what decodes its value into obj. */
struct field {
        const char *key;
        void (*fn)(struct dec *d, const struct sv_node *v, void *obj);
};

/* Report at n: "<field>: message" (the field prefix when inside one). */
void dec_err(struct dec *d, const struct sv_node *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Report at pos without the field prefix. */
void dec_err_at(struct dec *d, const struct sv_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Append ".name" (or "name" at the start) / "[i]" to the field path;
 * returns the length to restore with dec_key_pop. */
size_t dec_key_push(struct dec *d, const char *name);
size_t dec_key_push_index(struct dec *d, size_t i);
void dec_key_pop(struct dec *d, size_t len);

/* Decode a mapping with a table of fields: reports duplicate and unknown keys
 * (with a did-you-mean). Returns the bitmask of table entries present, or 0
 * (after an error) when v is not a mapping. */
unsigned dec_fields(struct dec *d, const struct sv_node *v, const struct field *f, size_t n,
                    void *obj);
/* Report a repeated key; returns 1 when k is one (skip it). */
int dec_dup_key(struct dec *d, const struct sv_node *k);

/* How to name what was found: the quoted value of a scalar, else its kind. */
const char *dec_got(const struct sv_node *v, char *buf, size_t len);
/* The type checks: report "expected X, got Y" and return NULL / -1. */
const char *dec_str(struct dec *d, const struct sv_node *v);
int dec_is(struct dec *d, const struct sv_node *v, enum sv_node_kind kind);
/* A list within SV_TOPO_MAX_LIST items. */
int dec_list(struct dec *d, const struct sv_node *v);

/* Value parsers reporting "<field>: <message of the parser>". */
int dec_duration(struct dec *d, const struct sv_node *v, int allow_zero, uint64_t *out);
int dec_u64(struct dec *d, const struct sv_node *v, uint64_t min, uint64_t max, uint64_t *out);
int dec_bool(struct dec *d, const struct sv_node *v, int *out);
/* One of names[]; returns its index or -1 (with a did-you-mean). */
int dec_enum(struct dec *d, const struct sv_node *v, const char *const *names, size_t n);

/* strdup that records ENOMEM in d. */
char *dec_strdup(struct dec *d, const char *s);
/* A list of strings as a NULL-terminated vector; each item passes check
 * (may be NULL). NULL after an error. */
char **dec_strv(struct dec *d, const struct sv_node *v,
                int (*check)(const char *, struct sl_error *));
void dec_strv_free(char **v);

/* Field groups (topology_fields.c). */
void dec_resources(struct dec *d, const struct sv_node *v, void *obj);
void dec_mounts(struct dec *d, const struct sv_node *v, void *obj);
void dec_network(struct dec *d, const struct sv_node *v, void *obj);
void dec_routes(struct dec *d, const struct sv_node *v, void *obj);
void dec_restart(struct dec *d, const struct sv_node *v, void *obj);
void dec_health(struct dec *d, const struct sv_node *v, void *obj);

#endif
