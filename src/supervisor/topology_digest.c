/* sv_slice_spec.digest: BLAKE2b-256 over a canonical serialisation of every
 * field whose change needs the slice restarted.
 *
 * The serialisation is of decoded values, never of text, so reformatting a
 * file, YAML vs JSON, key order, "64M" vs "67108864" and writing a default
 * out all leave it unchanged. Children, the name and positions are not in it:
 * a change below or beside a slice does not restart it. Sets (env, provides)
 * are sorted; sequences whose order means something (argv, mounts, listen,
 * routes: first match wins) are kept in order. Every item is tagged and
 * length-prefixed, so no two different specs serialise alike.
 */
#include "supervisor/topology_internal.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Bumped whenever the serialisation changes: old digests then all differ,
 * which restarts everything once rather than missing a change. */
#define DIGEST_DOMAIN "sliced.slice.v2"

static void put_u64(crypto_generichash_state *st, uint64_t v)
{
        unsigned char b[8];
        for (int i = 0; i < 8; i++)
                b[i] = (unsigned char)(v >> (8 * i));
        crypto_generichash_update(st, b, sizeof b);
}

static void put_str(crypto_generichash_state *st, const char *s)
{
        if (!s) {
                put_u64(st, UINT64_MAX);
                return;
        }
        size_t n = strlen(s);
        put_u64(st, n);
        crypto_generichash_update(st, (const unsigned char *)s, n);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static void put_strv(crypto_generichash_state *st, char **v, int sorted)
{
        size_t n = 0;
        while (v && v[n])
                n++;
        put_u64(st, n);
        if (!n)
                return;
        char **copy = sorted ? malloc(n * sizeof *copy) : NULL;
        if (copy) {
                memcpy(copy, v, n * sizeof *copy);
                qsort(copy, n, sizeof *copy, cmp_str);
                v = copy;
        } else if (sorted) {
                /* no memory to sort: a digest that differs only restarts */
                put_str(st, "unsorted");
        }
        for (size_t i = 0; i < n; i++)
                put_str(st, v[i]);
        free(copy);
}

static void put_resources(crypto_generichash_state *st, const struct sv_resources *r)
{
        put_str(st, "resources");
        put_u64(st, r->memory);
        put_u64(st, r->pids);
        put_u64(st, r->files);
        put_u64(st, r->cpu_weight);
        put_u64(st, r->cpu_quota_us);
        put_u64(st, r->cpu_period_us);
        /* the parsed set, not the text: "0-1" and "0,1" are one set */
        put_u64(st, r->cores != NULL);
        if (r->cores)
                crypto_generichash_update(st, (const unsigned char *)&r->cpus, sizeof r->cpus);
}

static void put_health(crypto_generichash_state *st, const struct sv_health *h)
{
        put_str(st, "health");
        put_u64(st, h->kind);
        if (h->kind == SV_HEALTH_NONE)
                return;
        if (h->kind == SV_HEALTH_EXEC) {
                put_strv(st, h->exec, 0);
                put_u64(st, h->interval_ms);
                put_u64(st, h->timeout_ms);
        } else {
                put_u64(st, h->heartbeat_ms);
        }
        put_u64(st, h->failure_threshold);
        put_u64(st, h->start_period_ms);
}

void sv_slice_digest(struct sv_slice_spec *s)
{
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, sizeof s->digest);
        put_str(&st, DIGEST_DOMAIN);
        put_str(&st, "exec");
        put_strv(&st, s->exec, 0);
        /* NAME@VERSION: another version is another program */
        put_str(&st, "package");
        put_str(&st, s->package);
        put_str(&st, "env");
        put_strv(&st, s->env, 1);
        put_str(&st, "profile");
        put_str(&st, s->profile);
        put_str(&st, "hostname");
        put_str(&st, s->hostname);
        put_str(&st, "cwd");
        put_str(&st, s->cwd);
        put_resources(&st, &s->res);
        put_str(&st, "mounts");
        put_u64(&st, s->n_mounts);
        for (size_t i = 0; i < s->n_mounts; i++) {
                put_str(&st, s->mounts[i].src);
                put_str(&st, s->mounts[i].dest);
                put_u64(&st, (uint64_t) !!s->mounts[i].rw);
        }
        put_str(&st, "network");
        put_u64(&st, s->net);
        put_strv(&st, s->listen, 0);
        put_str(&st, "provides");
        put_strv(&st, s->provides, 1);
        put_str(&st, "routes");
        put_u64(&st, s->n_routes);
        for (size_t i = 0; i < s->n_routes; i++) {
                put_str(&st, s->routes[i].service);
                put_u64(&st, s->routes[i].target);
                put_str(&st, s->routes[i].slice);
                put_str(&st, s->routes[i].label);
        }
        put_str(&st, "restart");
        put_u64(&st, s->restart.policy);
        put_u64(&st, s->restart.backoff_initial_ms);
        put_u64(&st, s->restart.backoff_max_ms);
        put_u64(&st, s->restart.crash_loop_max);
        put_u64(&st, s->restart.crash_loop_window_ms);
        put_health(&st, &s->health);
        put_str(&st, "stop_timeout");
        put_u64(&st, s->stop_timeout_ms);
        crypto_generichash_final(&st, s->digest, sizeof s->digest);
}
