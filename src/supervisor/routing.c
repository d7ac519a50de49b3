#include "supervisor/routing.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static enum sv_resolution deny(struct sv_resolved *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static enum sv_resolution deny(struct sv_resolved *out, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(out->reason, sizeof out->reason, fmt, ap);
        va_end(ap);
        return out->kind = SV_RESOLVE_DENIED;
}

static void trail_add(char *trail, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void trail_add(char *trail, size_t cap, const char *fmt, ...)
{
        size_t t = strlen(trail);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(trail + t, cap - t, fmt, ap);
        va_end(ap);
}

/* Append ":label" to the label being built; labels are set by the topology
 * only, so a client cannot choose what the server is told. */
static void add_label(struct sv_resolved *out, const char *label)
{
        if (!label || !*label)
                return;
        trail_add(out->label, sizeof out->label, ":%s", label);
}

enum sv_resolution sv_route_resolve(const struct sv_slice_spec *client, const char *service,
                                    struct sv_resolved *out)
{
        memset(out, 0, sizeof *out);
        snprintf(out->label, sizeof out->label, "%s", client->path);
        /* the hops so far, for a denial: "/a/b: route 'kv' goes to parent; " */
        char trail[SV_REASON_MAX] = "";
        const struct sv_slice_spec *at = client;
        for (unsigned depth = 0; at && depth <= SV_TOPO_MAX_DEPTH; depth++) {
                const struct sv_route *r = sv_slice_route(at, service);
                if (!r)
                        return deny(out, "%s%s has no route for '%s'", trail, at->path, service);
                int dflt = !strcmp(r->service, "default");
                switch (r->target) {
                case SV_ROUTE_DENY:
                        return deny(out,
                                    dflt ? "%s%s: the default route denies '%s'"
                                         : "%s%s: route '%s' is denied",
                                    trail, at->path, service);
                case SV_ROUTE_SLICE:
                        if (!r->to) /* validation resolves every target */
                                return deny(out, "%s%s: route '%s' names unknown slice '%s'", trail,
                                            at->path, service, r->slice);
                        add_label(out, r->label);
                        out->server = r->to;
                        return out->kind = SV_RESOLVE_SLICE;
                case SV_ROUTE_PARENT:
                        add_label(out, r->label);
                        trail_add(trail, sizeof trail,
                                  dflt ? "%s: default route for '%s' goes to parent; "
                                       : "%s: route '%s' goes to parent; ",
                                  at->path, service);
                        if (!at->parent) {
                                if (sv_platform_provides(service))
                                        return out->kind = SV_RESOLVE_PLATFORM;
                                return deny(out, "%sthe platform provides no '%s'", trail, service);
                        }
                        at = at->parent;
                        break;
                }
        }
        return deny(out, "route for '%s' is deeper than %d hops", service, SV_TOPO_MAX_DEPTH);
}
