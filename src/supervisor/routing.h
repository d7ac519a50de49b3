/* Session routing as a pure function of the topology (Genode init's rules):
 * from the client slice, follow first-match routes through `parent` hops
 * until a sibling/child server, the platform, or a denial. A denial names the
 * hop that broke, e.g. "/app/db: route 'kv' goes to parent; /app has no route
 * for 'kv'". */
#ifndef SV_ROUTING_H
#define SV_ROUTING_H

#include "supervisor/topology.h"

#define SV_LABEL_MAX  512
#define SV_REASON_MAX 512

enum sv_resolution { SV_RESOLVE_DENIED = 0, SV_RESOLVE_SLICE, SV_RESOLVE_PLATFORM };

struct sv_resolved {
        enum sv_resolution kind;
        const struct sv_slice_spec *server; /* SV_RESOLVE_SLICE */
        char label[SV_LABEL_MAX];           /* client path, then ":label" of each labelled hop */
        char reason[SV_REASON_MAX];         /* SV_RESOLVE_DENIED */
};

/* Resolve service for client. Always fills out; returns out->kind. */
enum sv_resolution sv_route_resolve(const struct sv_slice_spec *client, const char *service,
                                    struct sv_resolved *out);

#endif
