/* The field groups of a slice: resources, mounts, network, routes, restart,
 * health. Each decodes one value of the node tree into the spec and reports
 * what it rejects with the field path ("resources.cpu.max: ..."). */
#include "supervisor/topology_decode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/parse.h"

/* PID_MAX_LIMIT on 64-bit kernels: no pids.max above it means anything. */
#define PIDS_MAX (4u * 1024 * 1024)
/* fs.nr_open's default: RLIMIT_NOFILE cannot go higher without a sysctl. */
#define FILES_MAX (1u << 20)
/* cgroup v2 cpu.weight range */
#define CPU_WEIGHT_MIN 1
#define CPU_WEIGHT_MAX 10000
/* The kernel's default CFS period; cpu.max quota is a share of it. */
#define CPU_PERIOD_US 100000
/* 1% of one CPU up to 1024 CPUs' worth, as slicectl run --cpu-max. */
#define CPU_PERCENT_MAX 102400
/* Restarts counted in a crash-loop window: beyond this it is not a limit. */
#define CRASH_LOOP_MAX 10000
/* Consecutive failed probes before a restart. */
#define HEALTH_FAILURES_MAX 1000

/* ---- resources ---- */

static void res_memory(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        const char *s = dec_str(d, v);
        struct sl_error e;
        if (!s)
                return;
        if (sl_parse_size(s, &r->memory, 0, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        r->pos.memory = v->pos;
}

static void res_pids(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        if (dec_u64(d, v, 1, PIDS_MAX, &r->pids) == 0)
                r->pos.pids = v->pos;
}

static void res_files(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        if (dec_u64(d, v, 1, FILES_MAX, &r->files) == 0)
                r->pos.files = v->pos;
}

static void cpu_weight(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        dec_u64(d, v, CPU_WEIGHT_MIN, CPU_WEIGHT_MAX, &r->cpu_weight);
}

static void cpu_max(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        const char *s = dec_str(d, v);
        char num[32];
        uint64_t pct;
        struct sl_error e;
        if (!s)
                return;
        if (!strcmp(s, "max")) {
                r->cpu_quota_us = 0;
                r->cpu_period_us = 0;
                return;
        }
        size_t n = strlen(s);
        if (n < 2 || n >= sizeof num || s[n - 1] != '%') {
                dec_err(d, v, "'%s' is not a percentage of one CPU (e.g. 50%%, 200%%) or max", s);
                return;
        }
        memcpy(num, s, n - 1);
        num[n - 1] = '\0';
        if (sl_parse_u64(num, 1, CPU_PERCENT_MAX, &pct, &e) < 0) {
                dec_err(d, v, "'%s': %s", s, e.msg);
                return;
        }
        r->cpu_period_us = CPU_PERIOD_US;
        r->cpu_quota_us = pct * (CPU_PERIOD_US / 100);
}

/* "0-1,3", or a list of such items ([0, 1], ["0-1", 3]), one cpuset. */
static void cpu_cores(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_resources *r = obj;
        char text[SV_TOPO_MAX_STRING + 1];
        size_t off = 0;
        struct sl_error e;
        if (v && v->kind == SV_NODE_SEQ) {
                if (!dec_list(d, v))
                        return;
                if (v->n == 0) {
                        dec_err(d, v, "must not be empty");
                        return;
                }
                for (const struct sv_node *it = v->first; it; it = it->next) {
                        size_t k = dec_key_push_index(d, it->ord);
                        const char *s = dec_str(d, it);
                        dec_key_pop(d, k);
                        if (!s)
                                return;
                        int w = snprintf(text + off, sizeof text - off, "%s%s", off ? "," : "", s);
                        if (w < 0 || (size_t)w >= sizeof text - off) {
                                dec_err(d, v, "CPU list is too long");
                                return;
                        }
                        off += (size_t)w;
                }
        } else {
                const char *s = dec_str(d, v);
                if (!s)
                        return;
                snprintf(text, sizeof text, "%s", s);
        }
        if (sl_parse_cpulist(text, &r->cpus, NULL, 0, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(r->cores);
        r->cores = dec_strdup(d, text);
        r->pos.cores = v->pos;
}

static const struct field cpu_fields[] = {
    {"weight", cpu_weight},
    {"max", cpu_max},
    {"cores", cpu_cores},
};

static void res_cpu(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_fields(d, v, cpu_fields, SL_ARRAY_SIZE(cpu_fields), obj);
}

static const struct field res_fields[] = {
    {"memory", res_memory},
    {"pids", res_pids},
    {"files", res_files},
    {"cpu", res_cpu},
};

void dec_resources(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        dec_fields(d, v, res_fields, SL_ARRAY_SIZE(res_fields), &s->res);
}

/* ---- mounts ---- */

/* Fold "." and ".." out of an absolute path, lexically (no symlink is
 * followed: the mount itself resolves the result). In place. */
static void normalize(char *path)
{
        char *out = path, *in = path;
        while (*in) {
                while (*in == '/')
                        in++;
                char *end = in + strcspn(in, "/");
                size_t n = (size_t)(end - in);
                if (n == 1 && in[0] == '.') {
                        /* skip */
                } else if (n == 2 && in[0] == '.' && in[1] == '.') {
                        while (out > path && *--out != '/')
                                ;
                } else if (n) {
                        *out++ = '/';
                        memmove(out, in, n);
                        out += n;
                }
                in = end;
        }
        if (out == path)
                *out++ = '/';
        *out = '\0';
}

/* A source written "./x" or "../x" is relative to the topology file's
 * directory, so an appliance's topology and the files it grants can move as
 * one folder (the demo runs from the source tree). The result is absolute
 * and without "..". */
static char *resolve_src(struct dec *d, const char *p)
{
        char *val = NULL;
        if ((strncmp(p, "./", 2) && strncmp(p, "../", 3)) || !d->in->base_dir)
                return dec_strdup(d, p);
        if (asprintf(&val, "%s/%s", d->in->base_dir, p) < 0) {
                d->oom = 1;
                return NULL;
        }
        normalize(val);
        return val;
}

static void mount_path(struct dec *d, const struct sv_node *v, const char *what, int is_src,
                       char **out)
{
        const char *p = dec_str(d, v);
        struct sl_error e;
        if (!p)
                return;
        _cleanup_free_ char *val = is_src ? resolve_src(d, p) : dec_strdup(d, p);
        if (!val)
                return;
        if (sv_check_abs_path(val, what, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(*out);
        *out = SL_STEAL_PTR(val);
}

static void mount_src(struct dec *d, const struct sv_node *v, void *obj)
{
        mount_path(d, v, "mount source", 1, &((struct sv_mount *)obj)->src);
}

static void mount_dest(struct dec *d, const struct sv_node *v, void *obj)
{
        mount_path(d, v, "mount destination", 0, &((struct sv_mount *)obj)->dest);
}

static void mount_rw(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_bool(d, v, &((struct sv_mount *)obj)->rw);
}

static const struct field mount_fields[] = {
    {"src", mount_src},
    {"dest", mount_dest},
    {"rw", mount_rw},
};

/* "SRC", "SRC:DEST" or "SRC:DEST:ro|rw"; a path with ':' needs the mapping. */
static void mount_short(struct dec *d, const struct sv_node *v, struct sv_mount *m)
{
        struct sl_error e;
        char *f[3] = {NULL, NULL, NULL};
        size_t n = 0;
        for (const char *p = v->str; *p; p++)
                n += *p == ':';
        if (n > 2) {
                dec_err(d, v,
                        "'%s' is not SRC[:DEST[:ro|rw]] (write a path with ':' as {src: ..., dest: "
                        "...})",
                        v->str);
                return;
        }
        _cleanup_free_ char *copy = dec_strdup(d, v->str);
        if (!copy)
                return;
        char *p = copy;
        for (size_t i = 0; i <= n; i++)
                f[i] = strsep(&p, ":");
        if (n == 2 && strcmp(f[2], "ro") && strcmp(f[2], "rw")) {
                dec_err(d, v, "'%s': the mode is ro or rw, not '%s'", v->str, f[2]);
                return;
        }
        _cleanup_free_ char *src = resolve_src(d, f[0]);
        if (!src)
                return;
        if (sv_check_abs_path(src, "mount source", &e) < 0 ||
            (n > 0 && sv_check_abs_path(f[1], "mount destination", &e) < 0)) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        m->src = SL_STEAL_PTR(src);
        m->dest = n > 0 ? dec_strdup(d, f[1]) : NULL;
        m->rw = n == 2 && !strcmp(f[2], "rw");
}

void dec_mounts(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        if (!dec_list(d, v))
                return;
        s->mounts = calloc(v->n ? v->n : 1, sizeof *s->mounts);
        /* each kept mount's index in the file's list, for messages */
        _cleanup_free_ size_t *ord = calloc(v->n ? v->n : 1, sizeof *ord);
        if (!s->mounts || !ord) {
                d->oom = 1;
                return;
        }
        for (const struct sv_node *it = v->first; it; it = it->next) {
                struct sv_mount *m = &s->mounts[s->n_mounts];
                size_t k = dec_key_push_index(d, it->ord);
                m->pos = it->pos;
                if (it->kind == SV_NODE_SCALAR && !it->is_null) {
                        mount_short(d, it, m);
                } else if (dec_fields(d, it, mount_fields, SL_ARRAY_SIZE(mount_fields), m) &&
                           !sv_node_get(it, "src")) {
                        dec_err(d, it, "missing 'src'");
                }
                if (m->src && !m->dest)
                        m->dest = dec_strdup(d, m->src);
                for (size_t j = 0; m->dest && j < s->n_mounts; j++)
                        if (!strcmp(s->mounts[j].dest, m->dest)) {
                                dec_err(d, it, "'%s' is already mounted by mounts[%zu]", m->dest,
                                        ord[j]);
                                free(m->dest);
                                m->dest = NULL;
                                break;
                        }
                dec_key_pop(d, k);
                if (m->src && m->dest) {
                        ord[s->n_mounts++] = it->ord;
                } else {
                        free(m->src);
                        free(m->dest);
                        memset(m, 0, sizeof *m);
                }
        }
}

/* ---- network ---- */

static void net_listen(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        char **l = dec_strv(d, v, sv_check_listen);
        if (!l)
                return;
        dec_strv_free(s->listen);
        s->listen = l;
}

static const struct field net_fields[] = {
    {"listen", net_listen},
};

static const char *const net_modes[] = {"none", "host"};

void dec_network(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        if (v && v->kind == SV_NODE_MAP) {
                /* listening sockets are handed in; the slice keeps its own
                 * network namespace */
                s->net = SV_NET_NONE;
                dec_fields(d, v, net_fields, SL_ARRAY_SIZE(net_fields), s);
                return;
        }
        if (v && v->kind == SV_NODE_SEQ) {
                dec_err(d, v, "expected none, host or {listen: [...]}, got a list");
                return;
        }
        int m = dec_enum(d, v, net_modes, SL_ARRAY_SIZE(net_modes));
        if (m >= 0)
                s->net = m == 0 ? SV_NET_NONE : SV_NET_HOST;
}

/* ---- routes ---- */

static void route_slice(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_route *r = obj;
        const char *n = dec_str(d, v);
        struct sl_error e;
        if (!n)
                return;
        if (sv_check_slice_name(n, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(r->slice);
        r->slice = dec_strdup(d, n);
}

static void route_label(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_route *r = obj;
        const char *l = dec_str(d, v);
        struct sl_error e;
        if (!l)
                return;
        if (sv_check_label(l, &e) < 0) {
                dec_err(d, v, "%s", e.msg);
                return;
        }
        free(r->label);
        r->label = dec_strdup(d, l);
}

static const struct field route_fields[] = {
    {"slice", route_slice},
    {"label", route_label},
};

/* One route's target; returns 0 when r is complete. */
static int route_target(struct dec *d, const struct sv_node *v, struct sv_route *r)
{
        int is_default = !strcmp(r->service, "default");
        if (v && v->kind == SV_NODE_MAP && !is_default) {
                if (!dec_fields(d, v, route_fields, SL_ARRAY_SIZE(route_fields), r))
                        return -1;
                if (!sv_node_get(v, "slice")) {
                        dec_err(d, v, "missing 'slice'");
                        return -1;
                }
                r->target = SV_ROUTE_SLICE;
                return r->slice ? 0 : -1;
        }
        if (v && v->kind == SV_NODE_SCALAR && !v->is_null) {
                if (!strcmp(v->str, "parent")) {
                        r->target = SV_ROUTE_PARENT;
                        return 0;
                }
                if (!strcmp(v->str, "deny")) {
                        r->target = SV_ROUTE_DENY;
                        return 0;
                }
        }
        char got[80];
        if (is_default)
                dec_err(d, v, "the default route is parent or deny, not %s",
                        dec_got(v, got, sizeof got));
        else if (v && v->kind == SV_NODE_SCALAR && !v->is_null &&
                 sv_check_slice_name(v->str, NULL) == 0)
                dec_err(d, v,
                        "'%s' is not parent or deny (to route to slice '%s', write {slice: %s})",
                        v->str, v->str, v->str);
        else
                dec_err(d, v, "expected parent, deny or {slice: NAME, label: LABEL}, got %s",
                        dec_got(v, got, sizeof got));
        return -1;
}

static int cmp_route(const void *a, const void *b)
{
        return strcmp((*(struct sv_route *const *)a)->service,
                      (*(struct sv_route *const *)b)->service);
}

void dec_routes(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        struct sl_error e;
        if (!dec_is(d, v, SV_NODE_MAP))
                return;
        if (v->n > SV_TOPO_MAX_LIST) {
                dec_err(d, v, "more than %d routes", SV_TOPO_MAX_LIST);
                return;
        }
        s->routes = calloc(v->n ? v->n : 1, sizeof *s->routes);
        s->route_index = calloc(v->n ? v->n : 1, sizeof *s->route_index);
        if (!s->routes || !s->route_index) {
                d->oom = 1;
                return;
        }
        for (const struct sv_node *k = v->first; k; k = k->next) {
                if (dec_dup_key(d, k))
                        continue;
                size_t old = dec_key_push(d, k->str);
                struct sv_route *r = &s->routes[s->n_routes];
                r->pos = k->pos;
                if (strcmp(k->str, "default") && sv_check_service_name(k->str, &e) < 0) {
                        dec_err(d, k, "%s", e.msg);
                } else if ((r->service = dec_strdup(d, k->str)) &&
                           route_target(d, k->value, r) == 0) {
                        s->n_routes++;
                        if (strcmp(r->service, "default"))
                                s->route_index[s->n_route_index++] = r;
                        r = NULL;
                }
                if (r) {
                        free(r->service);
                        free(r->slice);
                        free(r->label);
                        memset(r, 0, sizeof *r);
                }
                dec_key_pop(d, old);
        }
        qsort(s->route_index, s->n_route_index, sizeof *s->route_index, cmp_route);
}

/* ---- restart ---- */

static const char *const restart_policies[] = {"always", "on-failure", "never"};

static void restart_policy(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_restart *r = obj;
        int p = dec_enum(d, v, restart_policies, SL_ARRAY_SIZE(restart_policies));
        if (p >= 0)
                r->policy = p == 0   ? SV_RESTART_ALWAYS
                            : p == 1 ? SV_RESTART_ON_FAILURE
                                     : SV_RESTART_NEVER;
}

static void backoff_initial(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 0, &((struct sv_restart *)obj)->backoff_initial_ms);
}

static void backoff_max(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 0, &((struct sv_restart *)obj)->backoff_max_ms);
}

static const struct field backoff_fields[] = {
    {"initial", backoff_initial},
    {"max", backoff_max},
};

static void restart_backoff(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_restart *r = obj;
        if (dec_fields(d, v, backoff_fields, SL_ARRAY_SIZE(backoff_fields), r) &&
            r->backoff_initial_ms > r->backoff_max_ms)
                dec_err(d, v, "initial (%llums) is longer than max (%llums)",
                        (unsigned long long)r->backoff_initial_ms,
                        (unsigned long long)r->backoff_max_ms);
}

static void crash_loop_max(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_restart *r = obj;
        uint64_t n;
        if (dec_u64(d, v, 1, CRASH_LOOP_MAX, &n) == 0)
                r->crash_loop_max = (unsigned)n;
}

static void crash_loop_window(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 0, &((struct sv_restart *)obj)->crash_loop_window_ms);
}

static const struct field crash_loop_fields[] = {
    {"max", crash_loop_max},
    {"window", crash_loop_window},
};

static void restart_crash_loop(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_fields(d, v, crash_loop_fields, SL_ARRAY_SIZE(crash_loop_fields), obj);
}

static const struct field restart_fields[] = {
    {"policy", restart_policy},
    {"backoff", restart_backoff},
    {"crash_loop", restart_crash_loop},
};

void dec_restart(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        if (v && v->kind == SV_NODE_SCALAR && !v->is_null)
                restart_policy(d, v, &s->restart); /* restart: always */
        else
                dec_fields(d, v, restart_fields, SL_ARRAY_SIZE(restart_fields), &s->restart);
}

/* ---- health ---- */

static void health_exec(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_health *h = obj;
        char **argv = dec_strv(d, v, NULL);
        if (!argv)
                return;
        if (!argv[0] || !argv[0][0]) {
                dec_err(d, v, argv[0] ? "the command must not be empty" : "must not be empty");
                dec_strv_free(argv);
                return;
        }
        h->exec = argv;
        h->kind = SV_HEALTH_EXEC;
}

static void health_heartbeat(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_health *h = obj;
        if (dec_duration(d, v, 0, &h->heartbeat_ms) == 0 && h->kind == SV_HEALTH_NONE)
                h->kind = SV_HEALTH_HEARTBEAT;
}

static void health_interval(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 0, &((struct sv_health *)obj)->interval_ms);
}

static void health_timeout(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 0, &((struct sv_health *)obj)->timeout_ms);
}

static void health_failures(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_health *h = obj;
        uint64_t n;
        if (dec_u64(d, v, 1, HEALTH_FAILURES_MAX, &n) == 0)
                h->failure_threshold = (unsigned)n;
}

static void health_start_period(struct dec *d, const struct sv_node *v, void *obj)
{
        dec_duration(d, v, 1, &((struct sv_health *)obj)->start_period_ms);
}

enum { H_EXEC = 1u << 0, H_HEARTBEAT = 1u << 1, H_INTERVAL = 1u << 2, H_TIMEOUT = 1u << 3 };

static const struct field health_fields[] = {
    {"exec", health_exec},         {"heartbeat", health_heartbeat},
    {"interval", health_interval}, {"timeout", health_timeout},
    {"failures", health_failures}, {"start_period", health_start_period},
};

void dec_health(struct dec *d, const struct sv_node *v, void *obj)
{
        struct sv_slice_spec *s = obj;
        unsigned seen = dec_fields(d, v, health_fields, SL_ARRAY_SIZE(health_fields), &s->health);
        if (!v || v->kind != SV_NODE_MAP || v->is_null)
                return;
        if ((seen & H_EXEC) && (seen & H_HEARTBEAT)) {
                dec_err(d, v, "use either exec or heartbeat, not both");
                s->health.kind = SV_HEALTH_NONE;
        } else if (!(seen & (H_EXEC | H_HEARTBEAT))) {
                dec_err(d, v, "needs exec (a probe) or heartbeat");
        } else if ((seen & H_HEARTBEAT) && (seen & (H_INTERVAL | H_TIMEOUT))) {
                dec_err(
                    d, v,
                    "interval and timeout apply to exec probes; a heartbeat has its own period");
        }
}
