/* Rules that span slices, checked once every file is decoded:
 *
 *   - sibling names are unique (across files at the top level);
 *   - a route to a slice names a sibling or a child that provides the
 *     service; a route to parent ends at a server, a deny, or the platform,
 *     which provides only its own services;
 *   - a parent's memory, pids and files bound the sum of what its children
 *     need, and a child's cores lie within its ancestors' cores;
 *   - routes among siblings form no cycle, since a client starts after the
 *     servers it routes to (start_rank).
 */
#include "supervisor/topology_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

static const char *const platform_services[] = {"log", "config", "rom", "report"};

int sv_platform_provides(const char *service)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(platform_services); i++)
                if (!strcmp(service, platform_services[i]))
                        return 1;
        return 0;
}

static int cmp_route_key(const void *key, const void *elem)
{
        return strcmp(key, (*(struct sv_route *const *)elem)->service);
}

const struct sv_route *sv_slice_route(const struct sv_slice_spec *s, const char *service)
{
        struct sv_route **r = s->route_index ? bsearch(service, s->route_index, s->n_route_index,
                                                       sizeof *s->route_index, cmp_route_key)
                                             : NULL;
        if (r)
                return *r;
        for (size_t i = 0; i < s->n_routes; i++)
                if (!strcmp(s->routes[i].service, "default"))
                        return &s->routes[i];
        return NULL;
}

/* A client depends on a server: the sibling pair that orders their start. */
struct edge {
        struct sv_slice_spec *from, *to; /* siblings */
        const struct sv_slice_spec *client;
        const struct sv_route *route;
};

struct check {
        struct sv_topology *t;
        struct sv_diagbuf *d;
        struct edge *edges;
        size_t n_edges, cap;
        int oom;
};

/* Names of a sibling group, sorted, for lookups and duplicate detection. */
struct group {
        struct sv_slice_spec **by_name;
        size_t n;
};

static int cmp_by_name(const void *a, const void *b)
{
        const struct sv_slice_spec *x = *(struct sv_slice_spec *const *)a;
        const struct sv_slice_spec *y = *(struct sv_slice_spec *const *)b;
        int c = strcmp(x->name, y->name);
        return c ? c : (x < y ? -1 : x > y); /* array order = file order */
}

static int group_index(struct check *c, struct sv_slice_spec *arr, size_t n, struct group *g)
{
        g->n = 0;
        g->by_name = calloc(n ? n : 1, sizeof *g->by_name);
        if (!g->by_name) {
                c->oom = 1;
                return -1;
        }
        for (size_t i = 0; i < n; i++)
                if (arr[i].name)
                        g->by_name[g->n++] = &arr[i];
        qsort(g->by_name, g->n, sizeof *g->by_name, cmp_by_name);
        return 0;
}

static int cmp_name_key(const void *key, const void *elem)
{
        return strcmp(key, (*(struct sv_slice_spec *const *)elem)->name);
}

static struct sv_slice_spec *group_find(const struct group *g, const char *name)
{
        /* the first of equal names: duplicates are reported, routes go to
         * the one written first */
        struct sv_slice_spec **p =
            bsearch(name, g->by_name, g->n, sizeof *g->by_name, cmp_name_key);
        while (p && p > g->by_name && !strcmp(p[-1]->name, name))
                p--;
        return p ? *p : NULL;
}

static void report_duplicates(struct check *c, const struct group *g)
{
        for (size_t i = 1; i < g->n; i++) {
                const struct sv_slice_spec *first = group_find(g, g->by_name[i]->name);
                if (first != g->by_name[i])
                        sv_diag_add(c->d, &g->by_name[i]->pos, NULL, g->by_name[i]->path,
                                    "duplicate slice name '%s' (first defined at %s:%d:%d)",
                                    g->by_name[i]->name, first->pos.file, first->pos.line,
                                    first->pos.col);
        }
}

static void route_err(struct check *c, const struct sv_slice_spec *s, const struct sv_route *r,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void route_err(struct check *c, const struct sv_slice_spec *s, const struct sv_route *r,
                      const char *fmt, ...)
{
        char body[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        sv_diag_add(c->d, &r->pos, NULL, s->path, "routes.%s: %s", r->service, body);
}

static int depth_of(const struct sv_slice_spec *s)
{
        int n = 0;
        for (; s; s = s->parent)
                n++;
        return n;
}

/* Record that client depends on server, as the pair of siblings (their
 * ancestors-or-selves under one parent) whose start order it constrains.
 * None when one contains the other. */
static void add_edge(struct check *c, const struct sv_slice_spec *client,
                     const struct sv_slice_spec *server, const struct sv_route *r)
{
        const struct sv_slice_spec *a = client, *b = server;
        int da = depth_of(a), db = depth_of(b);
        for (; da > db; da--)
                a = a->parent;
        for (; db > da; db--)
                b = b->parent;
        while (a->parent != b->parent) {
                a = a->parent;
                b = b->parent;
        }
        if (a == b)
                return;
        if (c->n_edges == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 32;
                struct edge *e = realloc(c->edges, cap * sizeof *e);
                if (!e) {
                        c->oom = 1;
                        return;
                }
                c->edges = e;
                c->cap = cap;
        }
        /* the topology is ours to annotate: const only on the way in */
        c->edges[c->n_edges++] =
            (struct edge){(struct sv_slice_spec *)a, (struct sv_slice_spec *)b, client, r};
}

static int provides(const struct sv_slice_spec *s, const char *service)
{
        for (char **p = s->provides; p && *p; p++)
                if (!strcmp(*p, service))
                        return 1;
        return 0;
}

static void suggest_target(struct check *c, const struct sv_slice_spec *s, const struct sv_route *r,
                           const struct group *sib, const struct group *kids)
{
        const char *names[64];
        size_t n = 0;
        for (size_t i = 0; i < sib->n && n < SL_ARRAY_SIZE(names); i++)
                if (sib->by_name[i] != s)
                        names[n++] = sib->by_name[i]->name;
        for (size_t i = 0; i < kids->n && n < SL_ARRAY_SIZE(names); i++)
                names[n++] = kids->by_name[i]->name;
        const char *hint = sv_suggest(r->slice, names, n);
        if (hint)
                route_err(c, s, r, "no sibling or child slice named '%s' (did you mean '%s'?)",
                          r->slice, hint);
        else
                route_err(c, s, r, "no sibling or child slice named '%s'", r->slice);
}

static void check_slice_route(struct check *c, struct sv_slice_spec *s, struct sv_route *r,
                              const struct group *sib, const struct group *kids)
{
        struct sv_slice_spec *as_sib = group_find(sib, r->slice);
        struct sv_slice_spec *as_kid = group_find(kids, r->slice);
        if (as_sib == s)
                as_sib = NULL;
        if (as_sib && as_kid) {
                route_err(c, s, r, "'%s' names both a sibling and a child; rename one", r->slice);
                return;
        }
        struct sv_slice_spec *to = as_kid ? as_kid : as_sib;
        if (!to) {
                if (s->name && !strcmp(r->slice, s->name))
                        route_err(c, s, r, "a slice cannot route to itself");
                else
                        suggest_target(c, s, r, sib, kids);
                return;
        }
        if (!provides(to, r->service)) {
                route_err(c, s, r, "slice '%s' does not provide '%s'", r->slice, r->service);
                return;
        }
        r->to = to;
        add_edge(c, s, to, r);
}

/* Follow s's "parent" route for r->service up the tree: through each
 * ancestor's rule for it, to a server, a deny or the platform. An ancestor's
 * explicit "S: parent" answers for itself (it is checked on its own); what
 * is reported here is only what s's route reaches through default rules. */
static void check_parent_route(struct check *c, struct sv_slice_spec *s, const struct sv_route *r)
{
        const struct sv_slice_spec *via = NULL;
        int answered = 0;
        for (const struct sv_slice_spec *p = s->parent; p; p = p->parent) {
                const struct sv_route *pr = sv_slice_route(p, r->service);
                if (!pr || pr->target == SV_ROUTE_DENY)
                        return;
                if (pr->target == SV_ROUTE_SLICE) {
                        if (!pr->to)
                                return; /* reported at p */
                        if (pr->to == s)
                                route_err(c, s, r, "resolves back to this slice through %s",
                                          p->path);
                        else
                                add_edge(c, s, pr->to, r);
                        return;
                }
                if (strcmp(pr->service, "default"))
                        answered = 1;
                else if (!answered)
                        via = p;
        }
        if (answered || sv_platform_provides(r->service))
                return;
        if (via)
                route_err(c, s, r,
                          "the platform provides no '%s' (reached through the default route of %s)",
                          r->service, via->path);
        else
                route_err(c, s, r, "the platform provides no '%s'", r->service);
}

static void check_routes(struct check *c, struct sv_slice_spec *s, const struct group *sib,
                         const struct group *kids)
{
        for (size_t i = 0; i < s->n_routes; i++) {
                struct sv_route *r = &s->routes[i];
                if (!strcmp(r->service, "default"))
                        continue; /* parent or deny: nothing to resolve */
                if (r->target == SV_ROUTE_SLICE)
                        check_slice_route(c, s, r, sib, kids);
                else if (r->target == SV_ROUTE_PARENT)
                        check_parent_route(c, s, r);
        }
}

static void check_cores(struct check *c, const struct sv_slice_spec *s)
{
        const struct sv_slice_spec *a = s->parent;
        while (a && !a->res.cores)
                a = a->parent;
        if (!s->res.cores || !a)
                return;
        cpu_set_t outside;
        char out[256], theirs[256];
        CPU_XOR(&outside, &s->res.cpus, &a->res.cpus);
        CPU_AND(&outside, &outside, &s->res.cpus);
        if (CPU_COUNT(&outside) == 0)
                return;
        sv_format_cpuset(&outside, out, sizeof out);
        sv_format_cpuset(&a->res.cpus, theirs, sizeof theirs);
        sv_diag_add(c->d, &s->res.pos.cores, NULL, s->path,
                    "resources.cpu.cores: %s %s %s outside the cores of %s (%s)",
                    CPU_COUNT(&outside) == 1 ? "CPU" : "CPUs", out,
                    CPU_COUNT(&outside) == 1 ? "is" : "are", a->path, theirs);
}

enum { Q_MEMORY, Q_PIDS, Q_FILES, Q_N };

static uint64_t sat_add(uint64_t a, uint64_t b)
{
        return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* What s needs of each quota: its own limit, or when it sets none, what its
 * children need together (they are bounded by its cgroup only). Reports a
 * slice whose children need more than it has. */
static void check_quota(struct check *c, const struct sv_slice_spec *s, uint64_t need[Q_N])
{
        uint64_t kids[Q_N] = {0, 0, 0};
        for (size_t i = 0; i < s->n_children; i++) {
                uint64_t k[Q_N];
                check_quota(c, &s->children[i], k);
                for (int q = 0; q < Q_N; q++)
                        kids[q] = sat_add(kids[q], k[q]);
        }
        const uint64_t own[Q_N] = {s->res.memory, s->res.pids, s->res.files};
        const struct sv_pos *pos[Q_N] = {&s->res.pos.memory, &s->res.pos.pids, &s->res.pos.files};
        static const char *const what[Q_N] = {"memory", "pids", "files"};
        for (int q = 0; q < Q_N; q++) {
                need[q] = own[q] ? own[q] : kids[q];
                if (!own[q] || kids[q] <= own[q])
                        continue;
                char a[32], b[32];
                if (q == Q_MEMORY) {
                        sv_format_size(kids[q], a, sizeof a);
                        sv_format_size(own[q], b, sizeof b);
                        sv_diag_add(c->d, pos[q], NULL, s->path,
                                    "children need %s of memory, the slice has %s", a, b);
                } else {
                        sv_diag_add(c->d, pos[q], NULL, s->path,
                                    "children need %llu %s, the slice has %llu",
                                    (unsigned long long)kids[q], what[q],
                                    (unsigned long long)own[q]);
                }
        }
}

static void set_parents(struct sv_slice_spec *arr, size_t n, struct sv_slice_spec *parent)
{
        for (size_t i = 0; i < n; i++) {
                arr[i].parent = parent;
                set_parents(arr[i].children, arr[i].n_children, &arr[i]);
        }
}

/* Parents before children, so a child's parent route finds its ancestors'
 * routes already resolved. */
static void check_group(struct check *c, struct sv_slice_spec *arr, size_t n, const struct group *g)
{
        report_duplicates(c, g);
        for (size_t i = 0; i < n && !c->oom; i++) {
                struct sv_slice_spec *s = &arr[i];
                struct group kids;
                if (group_index(c, s->children, s->n_children, &kids) < 0)
                        return;
                check_routes(c, s, g, &kids);
                check_cores(c, s);
                check_group(c, s->children, s->n_children, &kids);
                free(kids.by_name);
        }
}

/* ---- start order ---- */

enum { WHITE = 0, GRAY, BLACK };

struct ranking {
        struct check *c;
        struct sv_slice_spec *base; /* the sibling group */
        size_t n;
        size_t *first; /* edges of sibling i: adj[first[i] .. first[i+1]) */
        struct edge **adj;
        unsigned char *color;
        size_t *stack;     /* the DFS path */
        struct edge **via; /* the edge that reached stack[k] */
        size_t depth;
};

static void report_cycle(struct ranking *r, size_t w, struct edge *closing)
{
        size_t k = r->depth;
        while (k > 0 && r->stack[k - 1] != w)
                k--;
        k--; /* stack[k] == w: w is gray, so on the path */
        const struct edge *e = k + 1 < r->depth ? r->via[k + 1] : closing;
        char msg[SL_ERROR_MSG_MAX];
        size_t off = 0;
        for (size_t i = k; i <= r->depth && off < sizeof msg; i++) {
                const char *path = i < r->depth ? r->base[r->stack[i]].path : r->base[w].path;
                int n = snprintf(msg + off, sizeof msg - off, "%s%s", i > k ? " -> " : "", path);
                off += n > 0 ? (size_t)n : 0;
        }
        sv_diag_add(r->c->d, &e->route->pos, NULL, e->client->path, "route cycle: %s", msg);
}

/* A client's rank is one more than its highest server's; servers first. */
static void visit(struct ranking *r, size_t v, struct edge *via)
{
        r->color[v] = GRAY;
        r->via[r->depth] = via;
        r->stack[r->depth++] = v;
        unsigned rank = 0;
        for (size_t i = r->first[v]; i < r->first[v + 1]; i++) {
                struct edge *e = r->adj[i];
                size_t w = (size_t)(e->to - r->base);
                if (r->color[w] == GRAY) {
                        report_cycle(r, w, e);
                        continue;
                }
                if (r->color[w] == WHITE)
                        visit(r, w, e);
                if (r->base[w].start_rank + 1 > rank)
                        rank = r->base[w].start_rank + 1;
        }
        r->depth--;
        r->color[v] = BLACK;
        r->base[v].start_rank = rank;
}

static struct sv_slice_spec *group_base(const struct check *c, const struct sv_slice_spec *s)
{
        return s->parent ? s->parent->children : c->t->slices;
}

static int cmp_edge(const void *a, const void *b)
{
        const struct edge *x = a, *y = b;
        /* by client sibling, then server sibling (file order within one
         * array), then where the route is written: cycles are found and
         * named the same way on every run */
        if (x->from != y->from)
                return (uintptr_t)x->from < (uintptr_t)y->from ? -1 : 1;
        if (x->to != y->to)
                return (uintptr_t)x->to < (uintptr_t)y->to ? -1 : 1;
        if (x->route->pos.line != y->route->pos.line)
                return x->route->pos.line < y->route->pos.line ? -1 : 1;
        return x->route->pos.col < y->route->pos.col ? -1 : x->route->pos.col > y->route->pos.col;
}

/* Rank one sibling group from its edges (edges[0..n_edges), sorted). */
static void rank_group(struct check *c, struct edge *edges, size_t n_edges)
{
        struct sv_slice_spec *base = group_base(c, edges[0].from);
        size_t n = edges[0].from->parent ? edges[0].from->parent->n_children : c->t->n_slices;
        struct ranking r = {.c = c, .base = base, .n = n};
        _cleanup_free_ size_t *first = calloc(n + 1, sizeof *first);
        _cleanup_free_ struct edge **adj = calloc(n_edges, sizeof *adj);
        _cleanup_free_ unsigned char *color = calloc(n, 1);
        _cleanup_free_ size_t *stack = calloc(n, sizeof *stack);
        _cleanup_free_ struct edge **via = calloc(n, sizeof *via);
        if (!first || !adj || !color || !stack || !via) {
                c->oom = 1;
                return;
        }
        /* edges are sorted by their client sibling: a CSR adjacency */
        for (size_t i = 0; i < n_edges; i++) {
                adj[i] = &edges[i];
                first[(size_t)(edges[i].from - base) + 1]++;
        }
        for (size_t i = 0; i < n; i++)
                first[i + 1] += first[i];
        r.first = first;
        r.adj = adj;
        r.color = color;
        r.stack = stack;
        r.via = via;
        for (size_t v = 0; v < n; v++)
                if (color[v] == WHITE)
                        visit(&r, v, NULL);
}

static void rank_groups(struct check *c)
{
        if (c->n_edges == 0)
                return;
        qsort(c->edges, c->n_edges, sizeof *c->edges, cmp_edge);
        /* sorting by client pointer keeps each group's edges together: a
         * group's siblings are one array */
        size_t i = 0;
        while (i < c->n_edges && !c->oom) {
                struct sv_slice_spec *base = group_base(c, c->edges[i].from);
                size_t j = i + 1;
                while (j < c->n_edges && group_base(c, c->edges[j].from) == base)
                        j++;
                rank_group(c, c->edges + i, j - i);
                i = j;
        }
}

int sv_check_topology(struct sv_topology *t, struct sv_diagbuf *d)
{
        struct check c = {.t = t, .d = d};
        struct group top;
        set_parents(t->slices, t->n_slices, NULL);
        if (group_index(&c, t->slices, t->n_slices, &top) < 0)
                return -1;
        check_group(&c, t->slices, t->n_slices, &top);
        free(top.by_name);
        for (size_t i = 0; i < t->n_slices; i++) {
                uint64_t need[Q_N];
                check_quota(&c, &t->slices[i], need);
        }
        if (!c.oom)
                rank_groups(&c);
        free(c.edges);
        if (c.oom) {
                errno = ENOMEM;
                return -1;
        }
        return 0;
}
