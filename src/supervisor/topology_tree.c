/* YAML and JSON text into one position-annotated node tree.
 *
 * YAML is read with libyaml's event API rather than its document API: events
 * carry the mark of every alias, so aliases can be refused where they are
 * written (the document API would silently share nodes, which makes "billion
 * laughs" and self-referencing anchors reachable from a hostile file).
 *
 * JSON is checked by jansson first, for strict syntax and its error messages
 * with line and column; jansson keeps no positions for values, so a small
 * reader then walks the already-valid text and builds the same tree with
 * positions. Columns count characters, as both libyaml and jansson do.
 */
#include "supervisor/topology_internal.h"

#include <errno.h>
#include <jansson.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "lib/cleanup.h"

/* ---- arena ---- */

/* Chunks are at least this big: a few hundred nodes each, one malloc per
 * chunk instead of per node. */
#define ARENA_CHUNK_MIN (64 * 1024)

struct sv_arena_chunk {
        struct sv_arena_chunk *next;
        size_t used, cap;
        alignas(max_align_t) unsigned char data[];
};

void *sv_arena_alloc(struct sv_arena *a, size_t n)
{
        const size_t align = alignof(max_align_t);
        n = (n + align - 1) & ~(align - 1);
        struct sv_arena_chunk *c = a->head;
        if (!c || c->cap - c->used < n) {
                size_t cap = n > ARENA_CHUNK_MIN ? n : ARENA_CHUNK_MIN;
                c = malloc(sizeof *c + cap);
                if (!c)
                        return NULL;
                c->used = 0;
                c->cap = cap;
                c->next = a->head;
                a->head = c;
        }
        void *p = c->data + c->used;
        c->used += n;
        memset(p, 0, n);
        return p;
}

void sv_arena_release(struct sv_arena *a)
{
        while (a->head) {
                struct sv_arena_chunk *next = a->head->next;
                free(a->head);
                a->head = next;
        }
}

/* ---- tree helpers ---- */

const char *sv_node_kind_name(const struct sv_node *n)
{
        if (!n)
                return "nothing";
        switch (n->kind) {
        case SV_NODE_MAP: return "a mapping";
        case SV_NODE_SEQ: return "a list";
        case SV_NODE_SCALAR: return n->is_null ? "null" : "a string";
        }
        return "?";
}

const struct sv_node *sv_node_get(const struct sv_node *map, const char *key)
{
        if (!map || map->kind != SV_NODE_MAP)
                return NULL;
        for (const struct sv_node *k = map->first; k; k = k->next)
                if (!k->dup_of && !strcmp(k->str, key))
                        return k->value;
        return NULL;
}

static void append(struct sv_node *parent, struct sv_node *child)
{
        child->ord = parent->n++;
        if (parent->last)
                parent->last->next = child;
        else
                parent->first = child;
        parent->last = child;
}

static int cmp_keys(const void *a, const void *b)
{
        const struct sv_node *x = *(const struct sv_node *const *)a;
        const struct sv_node *y = *(const struct sv_node *const *)b;
        int c = strcmp(x->str, y->str);
        if (c)
                return c;
        return x->ord < y->ord ? -1 : x->ord > y->ord;
}

/* Mark every repeated key with its first occurrence. Sorting keeps this
 * O(n log n) on a mapping with many keys. */
static int mark_duplicates(struct sv_node *map)
{
        if (map->n < 2)
                return 0;
        _cleanup_free_ struct sv_node **keys = calloc(map->n, sizeof *keys);
        if (!keys)
                return -1;
        size_t i = 0;
        for (struct sv_node *k = map->first; k; k = k->next)
                keys[i++] = k;
        qsort(keys, map->n, sizeof *keys, cmp_keys);
        for (i = 1; i < map->n; i++)
                if (!strcmp(keys[i]->str, keys[i - 1]->str))
                        keys[i]->dup_of = keys[i - 1]->dup_of ? keys[i - 1]->dup_of : keys[i - 1];
        return 0;
}

static struct sv_node *new_node(struct sv_arena *a, enum sv_node_kind kind, const char *file,
                                int line, int col)
{
        struct sv_node *n = sv_arena_alloc(a, sizeof *n);
        if (n) {
                n->kind = kind;
                n->pos = (struct sv_pos){.file = file, .line = line, .col = col};
        }
        return n;
}

static int fail(struct sv_pos *epos, const char *file, int line, int col, struct sl_error *err,
                int code, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

static int fail(struct sv_pos *epos, const char *file, int line, int col, struct sl_error *err,
                int code, const char *fmt, ...)
{
        *epos =
            (struct sv_pos){.file = file, .line = line < 1 ? 1 : line, .col = col < 1 ? 1 : col};
        va_list ap;
        va_start(ap, fmt);
        if (err) {
                vsnprintf(err->msg, sizeof err->msg, fmt, ap);
                err->code = code;
        }
        va_end(ap);
        return -1;
}

/* ---- the tree under construction (both formats) ---- */

struct builder {
        struct sv_arena *a;
        const char *file;
        struct sv_node *stack[SV_TOPO_MAX_NESTING];
        struct sv_node *pending_key[SV_TOPO_MAX_NESTING]; /* map awaiting a value */
        int depth;
        struct sv_node *root;
        struct sv_pos *epos;
        struct sl_error *err;
};

/* Attach a finished node to the open container (or make it the root). */
static int attach(struct builder *b, struct sv_node *n)
{
        if (b->depth == 0) {
                b->root = n;
                return 0;
        }
        struct sv_node *top = b->stack[b->depth - 1];
        if (top->kind == SV_NODE_SEQ) {
                append(top, n);
                return 0;
        }
        struct sv_node **key = &b->pending_key[b->depth - 1];
        if (*key) {
                (*key)->value = n;
                *key = NULL;
                return 0;
        }
        if (n->kind != SV_NODE_SCALAR)
                return fail(b->epos, b->file, n->pos.line, n->pos.col, b->err, EINVAL,
                            "mapping keys must be strings, not %s", sv_node_kind_name(n));
        append(top, n);
        *key = n;
        return 0;
}

static int push(struct builder *b, struct sv_node *n)
{
        if (b->depth == SV_TOPO_MAX_NESTING)
                return fail(b->epos, b->file, n->pos.line, n->pos.col, b->err, EINVAL,
                            "nesting deeper than %d levels", SV_TOPO_MAX_NESTING);
        b->stack[b->depth] = n;
        b->pending_key[b->depth] = NULL;
        b->depth++;
        return 0;
}

static int pop(struct builder *b)
{
        struct sv_node *n = b->stack[--b->depth];
        if (n->kind == SV_NODE_MAP && mark_duplicates(n) < 0)
                return fail(b->epos, b->file, n->pos.line, n->pos.col, b->err, ENOMEM,
                            "out of memory");
        return attach(b, n);
}

static int scalar(struct builder *b, const char *s, size_t len, int is_null, int line, int col)
{
        if (memchr(s, '\0', len))
                return fail(b->epos, b->file, line, col, b->err, EINVAL,
                            "string contains a NUL character");
        if (len > SV_TOPO_MAX_STRING)
                return fail(b->epos, b->file, line, col, b->err, EINVAL,
                            "string longer than %d bytes", SV_TOPO_MAX_STRING);
        struct sv_node *n = new_node(b->a, SV_NODE_SCALAR, b->file, line, col);
        char *copy = n ? sv_arena_alloc(b->a, len + 1) : NULL;
        if (!copy)
                return fail(b->epos, b->file, line, col, b->err, ENOMEM, "out of memory");
        memcpy(copy, s, len);
        n->str = copy;
        n->len = len;
        n->is_null = is_null;
        return attach(b, n);
}

/* ---- YAML ---- */

static int yaml_is_null(const yaml_event_t *ev)
{
        if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
                return 0;
        const char *v = (const char *)ev->data.scalar.value;
        return !strcmp(v, "") || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
               !strcmp(v, "NULL");
}

/* Line and column of a byte offset (reader errors carry only an offset). */
static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
        *line = 1;
        *col = 1;
        for (size_t i = 0; i < off && i < len; i++) {
                if (text[i] == '\n') {
                        (*line)++;
                        *col = 1;
                } else if (((unsigned char)text[i] & 0xc0) != 0x80) {
                        (*col)++;
                }
        }
}

static int yaml_fail(struct builder *b, yaml_parser_t *p, const char *text, size_t len)
{
        int line, col;
        if (p->error == YAML_MEMORY_ERROR)
                return fail(b->epos, b->file, 1, 1, b->err, ENOMEM, "out of memory");
        if (p->error == YAML_READER_ERROR) {
                offset_pos(text, len, p->problem_offset, &line, &col);
                return fail(b->epos, b->file, line, col, b->err, EINVAL, "YAML syntax error: %s",
                            p->problem ? p->problem : "unreadable input");
        }
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
        if (p->context)
                return fail(b->epos, b->file, line, col, b->err, EINVAL,
                            "YAML syntax error: %s (%s at %d:%d)",
                            p->problem ? p->problem : "invalid input", p->context,
                            (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
        return fail(b->epos, b->file, line, col, b->err, EINVAL, "YAML syntax error: %s",
                    p->problem ? p->problem : "invalid input");
}

/* One event into the builder. Returns 1 at the end of the stream. */
static int yaml_event(struct builder *b, const yaml_event_t *ev, int *docs)
{
        int line = (int)ev->start_mark.line + 1, col = (int)ev->start_mark.column + 1;
        struct sv_node *n;
        switch (ev->type) {
        case YAML_STREAM_END_EVENT: return 1;
        case YAML_DOCUMENT_START_EVENT:
                if (++*docs > 1)
                        return fail(b->epos, b->file, line, col, b->err, EINVAL,
                                    "a file holds one YAML document; this is a second one");
                return 0;
        case YAML_ALIAS_EVENT:
                return fail(b->epos, b->file, line, col, b->err, EINVAL,
                            "YAML aliases are not supported: write the value out");
        case YAML_SCALAR_EVENT:
                return scalar(b, (const char *)ev->data.scalar.value, ev->data.scalar.length,
                              yaml_is_null(ev), line, col);
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
                n = new_node(b->a, ev->type == YAML_MAPPING_START_EVENT ? SV_NODE_MAP : SV_NODE_SEQ,
                             b->file, line, col);
                if (!n)
                        return fail(b->epos, b->file, line, col, b->err, ENOMEM, "out of memory");
                return push(b, n);
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: return pop(b);
        default: return 0;
        }
}

static int parse_yaml(struct builder *b, const char *text, size_t len)
{
        yaml_parser_t p;
        if (!yaml_parser_initialize(&p))
                return fail(b->epos, b->file, 1, 1, b->err, ENOMEM, "out of memory");
        yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
        int docs = 0, r = 0;
        while (r == 0) {
                yaml_event_t ev;
                if (!yaml_parser_parse(&p, &ev)) {
                        r = yaml_fail(b, &p, text, len);
                        break;
                }
                r = yaml_event(b, &ev, &docs);
                yaml_event_delete(&ev);
        }
        yaml_parser_delete(&p);
        return r < 0 ? -1 : 0;
}

/* ---- JSON ---- */

struct jreader {
        struct builder *b;
        const char *s, *end;
        int line, col;
};

static void jadvance(struct jreader *r)
{
        if (*r->s == '\n') {
                r->line++;
                r->col = 1;
        } else if (((unsigned char)*r->s & 0xc0) != 0x80) {
                r->col++;
        }
        r->s++;
}

static void jskip_ws(struct jreader *r)
{
        while (r->s < r->end && (*r->s == ' ' || *r->s == '\t' || *r->s == '\n' || *r->s == '\r'))
                jadvance(r);
}

static int jbad(struct jreader *r)
{
        /* jansson accepted the text, so this reader disagreeing is our bug;
         * refuse rather than guess. */
        return fail(r->b->epos, r->b->file, r->line, r->col, r->b->err, EINVAL,
                    "JSON syntax error: unexpected input");
}

static int hex4(const char *s, unsigned *out)
{
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        v |= (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        v |= (unsigned)(c - 'A' + 10);
                else
                        return -1;
        }
        *out = v;
        return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xc0 | (cp >> 6));
                o[1] = (char)(0x80 | (cp & 0x3f));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xe0 | (cp >> 12));
                o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
                o[2] = (char)(0x80 | (cp & 0x3f));
                return 3;
        }
        o[0] = (char)(0xf0 | (cp >> 18));
        o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
}

/* A string token at r->s (the opening quote), decoded. A decoded string is
 * never longer than its escaped form, so the raw length bounds the buffer. */
static int jstring(struct jreader *r)
{
        int line = r->line, col = r->col;
        const char *q = r->s + 1;
        while (q < r->end && *q != '"')
                q += (*q == '\\' && q + 1 < r->end) ? 2 : 1;
        if (q >= r->end)
                return jbad(r);
        _cleanup_free_ char *buf = malloc((size_t)(q - r->s));
        if (!buf)
                return fail(r->b->epos, r->b->file, line, col, r->b->err, ENOMEM, "out of memory");
        size_t n = 0;
        const char *p = r->s + 1;
        while (p < q) {
                if (*p != '\\') {
                        buf[n++] = *p++;
                        continue;
                }
                p++;
                unsigned cp, lo;
                switch (*p) {
                case '"':
                case '\\':
                case '/':
                        buf[n++] = *p;
                        p++;
                        break;
                case 'b':
                        buf[n++] = '\b';
                        p++;
                        break;
                case 'f':
                        buf[n++] = '\f';
                        p++;
                        break;
                case 'n':
                        buf[n++] = '\n';
                        p++;
                        break;
                case 'r':
                        buf[n++] = '\r';
                        p++;
                        break;
                case 't':
                        buf[n++] = '\t';
                        p++;
                        break;
                case 'u':
                        if (q - p < 5 || hex4(p + 1, &cp) < 0)
                                return jbad(r);
                        p += 5;
                        if (cp >= 0xd800 && cp < 0xdc00) {
                                if (q - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                                    hex4(p + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                                        return jbad(r);
                                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                                p += 6;
                        }
                        n += put_utf8(buf + n, cp);
                        break;
                default: return jbad(r);
                }
        }
        while (r->s <= q)
                jadvance(r);
        return scalar(r->b, buf, n, 0, line, col);
}

static int jvalue(struct jreader *r);

static int jcontainer(struct jreader *r, int is_map)
{
        struct sv_node *n =
            new_node(r->b->a, is_map ? SV_NODE_MAP : SV_NODE_SEQ, r->b->file, r->line, r->col);
        if (!n)
                return fail(r->b->epos, r->b->file, r->line, r->col, r->b->err, ENOMEM,
                            "out of memory");
        if (push(r->b, n) < 0)
                return -1;
        char close = is_map ? '}' : ']';
        jadvance(r);
        jskip_ws(r);
        if (r->s < r->end && *r->s == close) {
                jadvance(r);
                return pop(r->b);
        }
        for (;;) {
                if (is_map) {
                        if (r->s >= r->end || *r->s != '"')
                                return jbad(r);
                        if (jstring(r) < 0)
                                return -1;
                        jskip_ws(r);
                        if (r->s >= r->end || *r->s != ':')
                                return jbad(r);
                        jadvance(r);
                }
                if (jvalue(r) < 0)
                        return -1;
                jskip_ws(r);
                if (r->s >= r->end)
                        return jbad(r);
                if (*r->s == close) {
                        jadvance(r);
                        return pop(r->b);
                }
                if (*r->s != ',')
                        return jbad(r);
                jadvance(r);
                jskip_ws(r);
        }
}

static int jvalue(struct jreader *r)
{
        jskip_ws(r);
        if (r->s >= r->end)
                return jbad(r);
        if (*r->s == '{' || *r->s == '[')
                return jcontainer(r, *r->s == '{');
        if (*r->s == '"')
                return jstring(r);
        /* number, true, false, null: the text as written */
        int line = r->line, col = r->col;
        const char *start = r->s;
        while (r->s < r->end && !strchr(",]} \t\r\n", *r->s))
                jadvance(r);
        size_t len = (size_t)(r->s - start);
        if (len == 0)
                return jbad(r);
        return scalar(r->b, start, len, len == 4 && !memcmp(start, "null", 4), line, col);
}

static int parse_json(struct builder *b, const char *text, size_t len)
{
        json_error_t jerr;
        json_t *j = json_loadb(text, len, 0, &jerr);
        if (!j)
                return fail(b->epos, b->file, jerr.line, jerr.column, b->err, EINVAL,
                            "JSON syntax error: %s", jerr.text);
        json_decref(j);
        struct jreader r = {.b = b, .s = text, .end = text + len, .line = 1, .col = 1};
        if (jvalue(&r) < 0)
                return -1;
        return 0;
}

int sv_tree_parse(struct sv_arena *a, const char *file, const char *text, size_t len,
                  enum sv_doc_format fmt, struct sv_node **root, struct sv_pos *epos,
                  struct sl_error *err)
{
        struct builder b = {.a = a, .file = file, .epos = epos, .err = err};
        if (len > SV_TOPO_MAX_FILE_SIZE)
                return fail(epos, file, 1, 1, err, EFBIG, "file is larger than %u bytes",
                            SV_TOPO_MAX_FILE_SIZE);
        int r = fmt == SV_DOC_JSON ? parse_json(&b, text, len) : parse_yaml(&b, text, len);
        if (r < 0)
                return -1;
        *root = b.root;
        return 0;
}
