/* Session routing: where a request for a service goes, and how a denial
 * names the hop that broke. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "supervisor/routing.h"

static const char topo[] =
        "slices:\n"
        "  - name: db\n"
        "    exec: [/x]\n"
        "    provides: [kv]\n"
        "  - name: app\n"
        "    routes:\n"
        "      kv: {slice: db, label: app}\n"
        "      secret: deny\n"
        "      log: parent\n"
        "    slices:\n"
        "      - name: web\n"
        "        exec: [/x]\n"
        "        routes:\n"
        "          kv: parent\n"
        "          log: parent\n"
        "          secret: parent\n"
        "          metrics: parent\n"
        "          cache: {slice: cache, label: rw}\n"
        "      - name: cache\n"
        "        exec: [/x]\n"
        "        provides: [cache]\n"
        "      - name: lonely\n"
        "        exec: [/x]\n"
        "        routes:\n"
        "          default: deny\n";

struct route_case {
        const char *client, *service;
        enum sv_resolution kind;
        const char *server; /* SV_RESOLVE_SLICE */
        const char *label_or_reason;
};

static const struct route_case cases[] = {
        { "/app/web", "kv", SV_RESOLVE_SLICE, "/db", "/app/web:app" },
        { "/app/web", "cache", SV_RESOLVE_SLICE, "/app/cache", "/app/web:rw" },
        { "/app/web", "log", SV_RESOLVE_PLATFORM, NULL, "/app/web" },
        { "/app/web", "secret", SV_RESOLVE_DENIED, NULL,
          "/app/web: route 'secret' goes to parent; /app: route 'secret' is denied" },
        /* validation allows a nested parent route that ends at an ancestor
         * without a rule: the ancestor decides, and says so */
        { "/app/web", "metrics", SV_RESOLVE_DENIED, NULL,
          "/app/web: route 'metrics' goes to parent; /app has no route for 'metrics'" },
        { "/app/web", "nothing", SV_RESOLVE_DENIED, NULL, "/app/web has no route for 'nothing'" },
        { "/app/lonely", "kv", SV_RESOLVE_DENIED, NULL,
          "/app/lonely: the default route denies 'kv'" },
        { "/db", "kv", SV_RESOLVE_DENIED, NULL, "/db has no route for 'kv'" },
        { "/app/cache", "log", SV_RESOLVE_DENIED, NULL, "/app/cache has no route for 'log'" },
};

static void test_routes_resolve_to_server_platform_or_named_denial(void **state)
{
        (void)state;
        struct sv_topology *t = NULL;
        struct sv_diag d = { 0 };
        struct sl_error err;
        int r = sv_topology_load_string("t.yaml", topo, &t, &d, &err);
        for (size_t i = 0; r < 0 && i < d.n; i++)
                print_message("%s\n", d.msgs[i]);
        assert_int_equal(r, 0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const struct route_case *c = &cases[i];
                struct sv_resolved res;
                print_message("%s asks for '%s'\n", c->client, c->service);
                const struct sv_slice_spec *client = sv_topology_find(t, c->client);
                assert_non_null(client);
                assert_int_equal(sv_route_resolve(client, c->service, &res), c->kind);
                if (c->kind == SV_RESOLVE_SLICE)
                        assert_string_equal(res.server->path, c->server);
                assert_string_equal(c->kind == SV_RESOLVE_DENIED ? res.reason : res.label,
                                    c->label_or_reason);
        }
        sv_diag_free(&d);
        sv_topology_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_routes_resolve_to_server_platform_or_named_denial),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
