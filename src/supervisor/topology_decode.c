/* Node tree -> struct sv_slice_spec: the schema of one slice, field by field.
 *
 * Decoding never stops at an error: a bad field is reported (position, slice
 * path, field path) and left at its default, and the walk goes on, so one
 * run shows every problem of a file. Field groups live in topology_fields.c.
 */
#include "supervisor/topology_decode.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/parse.h"
#include "store/store.h"

/* Defaults of a slice, as documented in topology.h and docs/config.md. */
#define DEFAULT_PROFILE              "posix"
#define DEFAULT_CWD                  "/"
#define DEFAULT_BACKOFF_INITIAL_MS   100
#define DEFAULT_BACKOFF_MAX_MS       30000
#define DEFAULT_CRASH_LOOP_MAX       5
#define DEFAULT_CRASH_LOOP_WINDOW_MS 60000
#define DEFAULT_HEALTH_INTERVAL_MS   10000
#define DEFAULT_HEALTH_TIMEOUT_MS    5000
#define DEFAULT_HEALTH_FAILURES      3
#define DEFAULT_STOP_TIMEOUT_MS      10000

/* ---- reporting ---- */

static void dec_vreport(struct dec *d, const struct sv_pos *pos, int with_key, const char *fmt,
                        va_list ap) __attribute__((format(printf, 4, 0)));

static void dec_vreport(struct dec *d, const struct sv_pos *pos, int with_key, const char *fmt,
                        va_list ap)
{
        char body[SL_ERROR_MSG_MAX];
        vsnprintf(body, sizeof body, fmt, ap);
        if (with_key && d->key_len)
                sv_diag_add(d->diag, pos, d->in->file, d->path, "%s: %s", d->key, body);
        else
                sv_diag_add(d->diag, pos, d->in->file, d->path, "%s", body);
}

void dec_err(struct dec *d, const struct sv_node *n, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        dec_vreport(d, n ? &n->pos : NULL, 1, fmt, ap);
        va_end(ap);
}

void dec_err_at(struct dec *d, const struct sv_pos *pos, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        dec_vreport(d, pos, 0, fmt, ap);
        va_end(ap);
}

size_t dec_key_push(struct dec *d, const char *name)
{
        size_t old = d->key_len;
        int n = snprintf(d->key + old, sizeof d->key - old, "%s%s", old ? "." : "", name);
        d->key_len =
            n < 0 || (size_t)n >= sizeof d->key - old ? sizeof d->key - 1 : old + (size_t)n;
        return old;
}

size_t dec_key_push_index(struct dec *d, size_t i)
{
        size_t old = d->key_len;
        int n = snprintf(d->key + old, sizeof d->key - old, "[%zu]", i);
        d->key_len =
            n < 0 || (size_t)n >= sizeof d->key - old ? sizeof d->key - 1 : old + (size_t)n;
        return old;
}

void dec_key_pop(struct dec *d, size_t len)
{
        d->key_len = len;
        d->key[len] = '\0';
}

/* ---- type checks and value parsers ---- */

char *dec_strdup(struct dec *d, const char *s)
{
        char *c = strdup(s);
        if (!c)
                d->oom = 1;
        return c;
}

int dec_dup_key(struct dec *d, const struct sv_node *k)
{
        if (!k->dup_of)
                return 0;
        dec_err_at(d, &k->pos, "duplicate key '%s' (first at %d:%d)", k->str, k->dup_of->pos.line,
                   k->dup_of->pos.col);
        return 1;
}

static const char *kind_want(enum sv_node_kind kind)
{
        return kind == SV_NODE_MAP ? "a mapping" : kind == SV_NODE_SEQ ? "a list" : "a string";
}

const char *dec_got(const struct sv_node *v, char *buf, size_t len)
{
        if (!v || v->kind != SV_NODE_SCALAR || v->is_null)
                return sv_node_kind_name(v);
        /* quote the value: "got '/usr/bin/web'" says more than "a string" */
        if (v->len > len - 3)
                snprintf(buf, len, "'%.*s...'", (int)(len - 6), v->str);
        else
                snprintf(buf, len, "'%s'", v->str);
        return buf;
}

int dec_is(struct dec *d, const struct sv_node *v, enum sv_node_kind kind)
{
        char got[80];
        if (v && v->kind == kind && !v->is_null)
                return 1;
        dec_err(d, v, "expected %s, got %s", kind_want(kind), dec_got(v, got, sizeof got));
        return 0;
}

const char *dec_str(struct dec *d, const struct sv_node *v)
{
        return dec_is(d, v, SV_NODE_SCALAR) ? v->str : NULL;
}

int dec_list(struct dec *d, const struct sv_node *v)
{
        if (!dec_is(d, v, SV_NODE_SEQ))
                return 0;
        if (v->n > SV_TOPO_MAX_LIST) {
                dec_err(d, v, "more than %d items", SV_TOPO_MAX_LIST);
                return 0;
        }
        return 1;
}

int dec_duration(struct dec *d, const struct sv_node *v, int allow_zero, uint64_t *out)
{
        const char *s = dec_str(d, v);
        struct sl_error e;
        uint64_t ms;
        if (!s)
                return -1;
        if (sv_parse_duration(s, &ms, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return -1;
        }
        if (!allow_zero && ms == 0) {
                dec_err(d, v, "must be longer than 0");
                return -1;
        }
        *out = ms;
        return 0;
}

int dec_u64(struct dec *d, const struct sv_node *v, uint64_t min, uint64_t max, uint64_t *out)
{
        const char *s = dec_str(d, v);
        struct sl_error e;
        if (!s)
                return -1;
        if (sl_parse_u64(s, min, max, out, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return -1;
        }
        return 0;
}

int dec_bool(struct dec *d, const struct sv_node *v, int *out)
{
        const char *s = dec_str(d, v);
        struct sl_error e;
        if (!s)
                return -1;
        if (sv_parse_bool(s, out, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return -1;
        }
        return 0;
}

int dec_enum(struct dec *d, const struct sv_node *v, const char *const *names, size_t n)
{
        const char *s = dec_str(d, v);
        if (!s)
                return -1;
        for (size_t i = 0; i < n; i++)
                if (!strcmp(s, names[i]))
                        return (int)i;
        char list[256] = "";
        size_t off = 0;
        for (size_t i = 0; i < n && off < sizeof list; i++) {
                int w = snprintf(list + off, sizeof list - off, "%s%s",
                                 i == 0       ? ""
                                 : i + 1 == n ? " or "
                                              : ", ",
                                 names[i]);
                off += w > 0 ? (size_t)w : 0;
        }
        const char *hint = sv_suggest(s, names, n);
        if (hint)
                dec_err(d, v, "'%s' is not %s (did you mean '%s'?)", s, list, hint);
        else
                dec_err(d, v, "'%s' is not %s", s, list);
        return -1;
}

void dec_strv_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

char **dec_strv(struct dec *d, const struct sv_node *v,
                int (*check)(const char *, struct sl_error *))
{
        if (!dec_list(d, v))
                return NULL;
        char **out = calloc(v->n + 1, sizeof *out);
        if (!out) {
                d->oom = 1;
                return NULL;
        }
        size_t n = 0;
        int bad = 0;
        for (const struct sv_node *it = v->first; it; it = it->next) {
                size_t k = dec_key_push_index(d, it->ord);
                const char *s = dec_str(d, it);
                struct sl_error e;
                if (s && check && check(s, &e) < 0) {
                        dec_err(d, it, "%s", e.msg);
                        s = NULL;
                }
                dec_key_pop(d, k);
                if (!s) {
                        bad = 1;
                        continue;
                }
                if (!(out[n++] = dec_strdup(d, s)))
                        bad = 1;
        }
        if (bad) {
                dec_strv_free(out);
                return NULL;
        }
        return out;
}

unsigned dec_fields(struct dec *d, const struct sv_node *v, const struct field *f, size_t n,
                    void *obj)
{
        const char *names[DEC_FIELDS_MAX];
        unsigned seen = 0;
        if (!dec_is(d, v, SV_NODE_MAP))
                return 0;
        if (n > DEC_FIELDS_MAX)
                n = DEC_FIELDS_MAX; /* a table this long is our bug; keep seen in range */
        for (size_t i = 0; i < n; i++)
                names[i] = f[i].key;
        for (const struct sv_node *k = v->first; k; k = k->next) {
                if (dec_dup_key(d, k))
                        continue;
                size_t i;
                for (i = 0; i < n; i++)
                        if (!strcmp(k->str, f[i].key))
                                break;
                if (i == n) {
                        const char *hint = sv_suggest(k->str, names, n);
                        if (hint)
                                dec_err_at(d, &k->pos, "unknown key '%s' (did you mean '%s'?)",
                                           k->str, hint);
                        else
                                dec_err_at(d, &k->pos, "unknown key '%s'", k->str);
                        continue;
                }
                seen |= 1u << i;
                size_t old = dec_key_push(d, k->str);
                f[i].fn(d, k->value, obj);
                dec_key_pop(d, old);
        }
        return seen;
}

/* ---- the slice ---- */

static void slice_name(struct dec *d, const struct sv_node *v, void *obj)
{
        /* read before the other fields (it names the slice in every message);
         * here it is only checked */
        const char *s = dec_str(d, v);
        struct sl_error e;
        if (s && sv_check_slice_name(s, &e) < 0)
                dec_err(d, v, "%s", e.msg);
}

static void slice_exec(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        char **argv = dec_strv(d, v, NULL);
        if (!argv)
                return;
        if (!argv[0]) {
                dec_err(d, v, "must not be empty");
        } else if (!argv[0][0]) {
                dec_err(d, v->first, "the command must not be empty");
        } else {
                s->exec = argv;
                return;
        }
        dec_strv_free(argv);
}

/* `package: NAME@VERSION`: a package of the local store, run at exactly
 * this version (a slice never floats to whatever is newest: what runs is
 * what the topology names, and a change of it restarts the slice). Only the
 * syntax is checked here; whether it is installed is known at start. */
static void slice_package(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        const char *p = dec_str(d, v);
        char name[ST_NAME_MAX], version[ST_VERSION_MAX];
        struct sl_error e;
        if (!p)
                return;
        if (st_spec_parse(p, name, version, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        if (!version[0]) {
                dec_err(d, v, "'%s' names no version (write NAME@VERSION, e.g. %s@1.0)", p, name);
                return;
        }
        free(s->package);
        s->package = dec_strdup(d, p);
}

static int env_find(char **env, size_t n, const char *key, size_t klen)
{
        for (size_t i = 0; i < n; i++)
                if (!strncmp(env[i], key, klen) && env[i][klen] == '=')
                        return 1;
        return 0;
}

/* One "KEY=VALUE"; returns 0 to keep it. */
static int env_entry(struct dec *d, const struct sv_node *at, char **env, size_t n, const char *key,
                     size_t klen, const char *val, char **out)
{
        _cleanup_free_ char *k = strndup(key, klen);
        struct sl_error e;
        if (!k) {
                d->oom = 1;
                return -1;
        }
        if (sv_check_env_key(k, &e) < 0) {
                dec_err(d, at, "%s", e.msg);
                return -1;
        }
        if (env_find(env, n, key, klen)) {
                dec_err(d, at, "'%s' is set twice", k);
                return -1;
        }
        if (asprintf(out, "%s=%s", k, val) < 0) {
                d->oom = 1;
                return -1;
        }
        return 0;
}

static void slice_env(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        int is_map = v && v->kind == SV_NODE_MAP;
        if (!is_map && !dec_list(d, v))
                return;
        if (v->n > SV_TOPO_MAX_LIST) {
                dec_err(d, v, "more than %d items", SV_TOPO_MAX_LIST);
                return;
        }
        char **env = calloc(v->n + 1, sizeof *env);
        size_t n = 0;
        if (!env) {
                d->oom = 1;
                return;
        }
        for (const struct sv_node *it = v->first; it; it = it->next) {
                if (is_map) {
                        if (dec_dup_key(d, it))
                                continue;
                        size_t k = dec_key_push(d, it->str);
                        const char *val = dec_str(d, it->value);
                        dec_key_pop(d, k);
                        if (val &&
                            env_entry(d, it, env, n, it->str, strlen(it->str), val, &env[n]) == 0)
                                n++;
                        continue;
                }
                size_t k = dec_key_push_index(d, it->ord);
                const char *kv = dec_str(d, it);
                const char *eq = kv ? strchr(kv, '=') : NULL;
                if (kv && !eq)
                        dec_err(d, it, "'%s' is not KEY=VALUE", kv);
                else if (kv &&
                         env_entry(d, it, env, n, kv, (size_t)(eq - kv), eq + 1, &env[n]) == 0)
                        n++;
                dec_key_pop(d, k);
        }
        dec_strv_free(s->env);
        s->env = env;
}

static const char *const builtin_profiles[] = {"posix", "strict"};

static void slice_profile(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        const char *p = dec_str(d, v);
        char *val = NULL;
        if (!p)
                return;
        if (!strchr(p, '/')) {
                if (dec_enum(d, v, builtin_profiles, SL_ARRAY_SIZE(builtin_profiles)) < 0)
                        return; /* a file in the topology's directory is written ./name */
                val = dec_strdup(d, p);
        } else if (p[0] == '/' || !d->in->base_dir) {
                val = dec_strdup(d, p);
        } else {
                /* relative to the topology file, so a directory of slices
                 * and their policies can move as a whole */
                const char *rel = !strncmp(p, "./", 2) ? p + 2 : p;
                if (asprintf(&val, "%s/%s", d->in->base_dir, rel) < 0) {
                        d->oom = 1;
                        val = NULL;
                }
        }
        if (!val)
                return;
        /* ".." is fine here (unlike in mounts): the supervisor reads the
         * file, it is not a grant to the slice */
        if (strlen(val) >= PATH_MAX) {
                dec_err(d, v, "policy file path is longer than %d bytes", PATH_MAX - 1);
                free(val);
                return;
        }
        free(s->profile);
        s->profile = val;
}

/* `config`: any YAML/JSON value, delivered to the slice as JSON through
 * the platform's `config` service. Plain scalars that read as integers or
 * booleans become JSON numbers and booleans; null stays null. */
static json_t *node_json(const struct sv_node *n)
{
        if (n->kind == SV_NODE_MAP) {
                json_t *o = json_object();
                for (const struct sv_node *k = n->first; k && o; k = k->next)
                        if (json_object_set_new(o, k->str, node_json(k->value)) < 0) {
                                json_decref(o);
                                o = NULL;
                        }
                return o;
        }
        if (n->kind == SV_NODE_SEQ) {
                json_t *a = json_array();
                for (const struct sv_node *i = n->first; i && a; i = i->next)
                        if (json_array_append_new(a, node_json(i)) < 0) {
                                json_decref(a);
                                a = NULL;
                        }
                return a;
        }
        if (n->is_null)
                return json_null();
        if (!strcmp(n->str, "true") || !strcmp(n->str, "false"))
                return json_boolean(n->str[0] == 't');
        char *end;
        errno = 0;
        long long v = strtoll(n->str, &end, 10);
        if (*n->str && !*end && errno == 0 &&
            (isdigit((unsigned char)n->str[0]) || n->str[0] == '-'))
                return json_integer(v);
        return json_stringn(n->str, n->len);
}

static void slice_config(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        json_t *j = node_json(v);
        char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (!text) {
                dec_err(d, v, "config cannot be represented as JSON");
                return;
        }
        free(s->config_json);
        s->config_json = text;
}

static void slice_hostname(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        const char *h = dec_str(d, v);
        struct sl_error e;
        if (!h)
                return;
        if (sv_check_hostname(h, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(s->hostname);
        s->hostname = dec_strdup(d, h);
}

static void slice_cwd(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        const char *c = dec_str(d, v);
        struct sl_error e;
        if (!c)
                return;
        if (sv_check_abs_path(c, "directory", &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(s->cwd);
        s->cwd = dec_strdup(d, c);
}

static void slice_provides(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        struct sl_error e;
        if (!dec_list(d, v))
                return;
        char **p = calloc(v->n + 1, sizeof *p);
        size_t n = 0;
        if (!p) {
                d->oom = 1;
                return;
        }
        for (const struct sv_node *it = v->first; it; it = it->next) {
                size_t k = dec_key_push_index(d, it->ord);
                const char *name = dec_str(d, it);
                if (name && sv_check_service_name(name, &e) < 0) {
                        dec_err(d, it, "%s", e.msg);
                        name = NULL;
                } else if (name && !strcmp(name, "default")) {
                        dec_err(d, it, "'default' names the default route, not a service");
                        name = NULL;
                }
                for (size_t j = 0; name && j < n; j++)
                        if (!strcmp(name, p[j])) {
                                dec_err(d, it, "'%s' is listed twice", name);
                                name = NULL;
                        }
                if (name && (p[n] = dec_strdup(d, name)))
                        n++;
                dec_key_pop(d, k);
        }
        dec_strv_free(s->provides);
        s->provides = p;
}

static void slice_stop_timeout(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        dec_duration(d, v, 1, &s->stop_timeout_ms);
}

static int decode_slice(struct dec *d, const struct sv_node *n, const char *parent_path,
                        size_t index, struct sv_slice_spec *s);

static void slice_children(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        /* not dec_list: SV_TOPO_MAX_SLICES bounds slices, across lists */
        if (!dec_is(d, v, SV_NODE_SEQ))
                return;
        if (d->depth >= SV_TOPO_MAX_DEPTH) {
                dec_err(d, v, "slices nested deeper than %d levels", SV_TOPO_MAX_DEPTH);
                return;
        }
        s->children = calloc(v->n ? v->n : 1, sizeof *s->children);
        if (!s->children) {
                d->oom = 1;
                return;
        }
        const char *path = d->path;
        unsigned depth = d->depth;
        char key[DEC_KEY_MAX];
        size_t key_len = d->key_len;
        memcpy(key, d->key, sizeof key);
        d->depth++;
        for (const struct sv_node *it = v->first; it && !d->oom; it = it->next) {
                if (it->kind != SV_NODE_MAP || it->is_null) {
                        char got[80];
                        dec_err(d, it, "a slice is a mapping, not %s",
                                dec_got(it, got, sizeof got));
                        continue;
                }
                if (decode_slice(d, it, path, it->ord, &s->children[s->n_children]) == 0)
                        s->n_children++;
                d->path = path;
                memcpy(d->key, key, sizeof key);
                d->key_len = key_len;
        }
        d->depth = depth;
        d->path = path;
        memcpy(d->key, key, sizeof key);
        d->key_len = key_len;
}

/* Field order is the order of the docs; dec_fields tolerates any order. */
static const struct field slice_fields[] = {
    {"name", slice_name},     {"exec", slice_exec},         {"package", slice_package},
    {"env", slice_env},       {"profile", slice_profile},   {"hostname", slice_hostname},
    {"cwd", slice_cwd},       {"resources", dec_resources}, {"mounts", dec_mounts},
    {"network", dec_network}, {"provides", slice_provides}, {"routes", dec_routes},
    {"restart", dec_restart}, {"health", dec_health},       {"stop_timeout", slice_stop_timeout},
    {"config", slice_config}, {"slices", slice_children},
};

static void slice_defaults(struct dec *d, struct sv_slice_spec *s)
{
        s->profile = dec_strdup(d, DEFAULT_PROFILE);
        s->cwd = dec_strdup(d, DEFAULT_CWD);
        s->restart = (struct sv_restart){
            .policy = SV_RESTART_ON_FAILURE,
            .backoff_initial_ms = DEFAULT_BACKOFF_INITIAL_MS,
            .backoff_max_ms = DEFAULT_BACKOFF_MAX_MS,
            .crash_loop_max = DEFAULT_CRASH_LOOP_MAX,
            .crash_loop_window_ms = DEFAULT_CRASH_LOOP_WINDOW_MS,
        };
        s->health = (struct sv_health){
            .kind = SV_HEALTH_NONE,
            .interval_ms = DEFAULT_HEALTH_INTERVAL_MS,
            .timeout_ms = DEFAULT_HEALTH_TIMEOUT_MS,
            .failure_threshold = DEFAULT_HEALTH_FAILURES,
        };
        s->stop_timeout_ms = DEFAULT_STOP_TIMEOUT_MS;
        s->net = SV_NET_NONE;
}

/* The slice's path: its name when valid, else its index ("/app/[2]") so
 * messages about a nameless slice still say which one. */
static char *slice_path(struct dec *d, const struct sv_node *n, const char *parent_path,
                        size_t index, const char **name)
{
        const struct sv_node *v = sv_node_get(n, "name");
        char *path = NULL;
        *name = NULL;
        if (v && v->kind == SV_NODE_SCALAR && !v->is_null && sv_check_slice_name(v->str, NULL) == 0)
                *name = v->str;
        int r = *name ? asprintf(&path, "%s/%s", parent_path, *name)
                      : asprintf(&path, "%s/[%zu]", parent_path, index);
        if (r < 0) {
                d->oom = 1;
                return NULL;
        }
        return path;
}

/* The package is mounted read-only at /pkg: a grant cannot be mounted
 * there or inside it (it would hide the package, or find no mount point in
 * the read-only overlay). */
static void check_package_dir(struct dec *d, const struct sv_slice_spec *s)
{
        size_t n = strlen(SV_PACKAGE_DIR);
        for (size_t i = 0; i < s->n_mounts; i++) {
                const char *dest = s->mounts[i].dest;
                if (!strncmp(dest, SV_PACKAGE_DIR, n) && (dest[n] == '\0' || dest[n] == '/'))
                        dec_err_at(d, &s->mounts[i].pos,
                                   "mounts: '%s' is inside " SV_PACKAGE_DIR
                                   ", where package %s is mounted",
                                   dest, s->package);
        }
}

/* Returns -1 when the slice is left out (past SV_TOPO_MAX_SLICES, or no
 * memory); s is then empty. */
static int decode_slice(struct dec *d, const struct sv_node *n, const char *parent_path,
                        size_t index, struct sv_slice_spec *s)
{
        const char *name;
        memset(s, 0, sizeof *s);
        s->pos = n->pos;
        if (++*d->total > SV_TOPO_MAX_SLICES) {
                if (!d->limit_reported)
                        sv_diag_add(d->diag, &n->pos, d->in->file, NULL,
                                    "more than %d slices in the topology", SV_TOPO_MAX_SLICES);
                d->limit_reported = 1;
                return -1;
        }
        s->path = slice_path(d, n, parent_path, index, &name);
        if (!s->path)
                return -1;
        d->path = s->path;
        dec_key_pop(d, 0);
        slice_defaults(d, s);
        if (name)
                s->name = dec_strdup(d, name);
        dec_fields(d, n, slice_fields, SL_ARRAY_SIZE(slice_fields), s);
        d->path = s->path; /* children moved it */
        dec_key_pop(d, 0);

        if (!sv_node_get(n, "name"))
                dec_err_at(d, &n->pos, "missing 'name'");
        if (!s->exec && !sv_node_get(n, "exec") && !sv_node_get(n, "package") && s->n_children == 0)
                dec_err_at(d, &n->pos,
                           "missing 'exec' or 'package' (a slice without child slices runs a "
                           "command)");
        if (!sv_slice_runs(s) && !sv_node_get(n, "package") && s->n_children > 0) {
                /* a pure group: nothing runs, so nothing can serve or be probed */
                const struct sv_node *p = sv_node_get(n, "provides");
                const struct sv_node *h = sv_node_get(n, "health");
                if (p && s->provides && s->provides[0])
                        dec_err_at(d, &p->pos,
                                   "provides: a slice without 'exec' or 'package' cannot provide "
                                   "services");
                if (h)
                        dec_err_at(d, &h->pos,
                                   "health: a slice without 'exec' or 'package' has nothing to "
                                   "check");
        }
        if (s->package)
                check_package_dir(d, s);
        if (!s->hostname && s->name)
                s->hostname = dec_strdup(d, s->name);
        sv_slice_digest(s);
        return 0;
}

/* ---- the document ---- */

struct doc_out {
        struct dec *d;
        struct sv_slice_spec **slices;
        size_t *n, *cap;
};

static void doc_slices(struct dec *d, const struct sv_node *v, void *obj)
{
        struct doc_out *o = obj;
        if (!dec_is(d, v, SV_NODE_SEQ))
                return;
        if (*o->n + v->n > *o->cap) {
                size_t cap = *o->n + v->n;
                struct sv_slice_spec *a = realloc(*o->slices, cap * sizeof *a);
                if (!a) {
                        d->oom = 1;
                        return;
                }
                *o->slices = a;
                *o->cap = cap;
        }
        d->depth = 1;
        for (const struct sv_node *it = v->first; it && !d->oom; it = it->next) {
                if (it->kind != SV_NODE_MAP || it->is_null) {
                        char got[80];
                        dec_err(d, it, "a slice is a mapping, not %s",
                                dec_got(it, got, sizeof got));
                        continue;
                }
                if (decode_slice(d, it, "", it->ord, &(*o->slices)[*o->n]) == 0)
                        (*o->n)++;
                d->path = "/";
                dec_key_pop(d, 0);
                dec_key_push(d, "slices");
        }
}

static const struct field doc_fields[] = {
    {"slices", doc_slices},
};

int sv_decode_document(const struct sv_decode_in *in, const struct sv_node *root,
                       struct sv_slice_spec **slices, size_t *n_slices, size_t *cap, size_t *total,
                       struct sv_diagbuf *diag)
{
        struct dec d = {.in = in, .diag = diag, .path = "/", .total = total};
        struct doc_out o = {.d = &d, .slices = slices, .n = n_slices, .cap = cap};
        if (!root)
                return 0; /* an empty file: no slices */
        if (root->kind != SV_NODE_MAP || root->is_null) {
                dec_err(&d, root, "expected a mapping with a 'slices' list, got %s",
                        sv_node_kind_name(root));
                return 0;
        }
        dec_fields(&d, root, doc_fields, SL_ARRAY_SIZE(doc_fields), &o);
        if (d.oom) {
                errno = ENOMEM;
                return -1;
        }
        return 0;
}
