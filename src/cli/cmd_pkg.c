/* slicectl pkg install|remove|list|rollback|gc|verify|audit: the package
 * store's operations, through sliced's API (docs/api.md, "Packages") or,
 * with --store DIR, directly on a store directory without sliced (image
 * builds, recovery, tests). Both ways run the same operations (store/ops.c)
 * and print the same JSON answer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/api.h"
#include "cli/format.h"
#include "cli/pkg.h"
#include "lib/cleanup.h"
#include "store/ops.h"
#include "store/store.h"
#include "store/util.h"

#define OSV_FEED_MAX  (256u << 20) /* 256 MiB: the whole OSV database for one ecosystem fits */
#define ROOT_FILE_MAX (1u << 20)   /* ST_TUF_ROOT_MAX */

#define STORE_OPTIONS_HELP                                                                         \
        "  --store DIR      work on the store in DIR directly, without sliced\n"                   \
        "                   (default $SLICED_STORE; unset: ask sliced over its API)\n"             \
        "  --json           print the answer as JSON (the API's answer)\n"                         \
        "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"                   \
        "                   " CLI_DEFAULT_SOCKET ")\n"                                             \
        "  -h, --help       show this help\n"

static const char install_usage[] =
    "Usage: slicectl pkg install [OPTIONS] NAME[@VERSION]...\n"
    "\n"
    "Install packages and their dependencies from the trusted repository into a\n"
    "new generation of the store, which becomes the current one. Metadata and\n"
    "packages are verified (TUF roles, thresholds, expiry, versions, hashes,\n"
    "signers) before a byte is unpacked; without a version, the newest.\n"
    "\n"
    "Options:\n"
    "  --repo URL       the repository (file://, http://, https://); remembered\n"
    "  --root FILE      pin this root metadata file (first use: obtain it out of band)\n"
    "  --no-progress    no progress bars\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 installed (or already there); 1 refused or failed, nothing\n"
    "changed; 2 usage; 3 sliced unreachable.\n";

static const char remove_usage[] =
    "Usage: slicectl pkg remove [OPTIONS] NAME[@VERSION]...\n"
    "\n"
    "Make a new generation without these packages (NAME: every version). Refused\n"
    "while another installed package depends on one. Files stay until `pkg gc`.\n"
    "\n"
    "Options:\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 removed; 1 refused; 2 usage; 3 sliced unreachable.\n";

static const char list_usage[] =
    "Usage: slicectl pkg list [OPTIONS]\n"
    "\n"
    "List the packages of the current generation; with --generations, the kept\n"
    "generations instead (the current one marked *).\n"
    "\n"
    "Options:\n"
    "  --generations    list generations\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 ok; 1 failed; 2 usage; 3 sliced unreachable.\n";

static const char rollback_usage[] =
    "Usage: slicectl pkg rollback [OPTIONS] [GENERATION]\n"
    "\n"
    "Make a kept generation the current one again (default: the one before the\n"
    "current). Running slices keep what they run until restarted.\n"
    "\n"
    "Options:\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 ok; 1 failed (e.g. no such generation); 2 usage; 3 sliced\n"
    "unreachable.\n";

static const char gc_usage[] =
    "Usage: slicectl pkg gc [OPTIONS]\n"
    "\n"
    "Remove generations beyond the newest N kept ones (never the current), then\n"
    "every package and archive that no kept generation and no running slice uses,\n"
    "and leftovers of interrupted operations.\n"
    "\n"
    "Options:\n"
    "  --keep N         keep the N newest generations (default: all)\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 ok; 1 failed; 2 usage; 3 sliced unreachable.\n";

static const char verify_usage[] =
    "Usage: slicectl pkg verify [OPTIONS]\n"
    "\n"
    "Rehash every archive and package in the store, compare each unpacked tree\n"
    "with its archive, and check every kept generation names only what is there.\n"
    "\n"
    "Options:\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 intact; 1 corruption found (listed) or failed; 2 usage;\n"
    "3 sliced unreachable.\n";

static const char audit_usage[] =
    "Usage: slicectl pkg audit [OPTIONS]\n"
    "\n"
    "For each running slice: its package, generation and the archives it runs;\n"
    "with --osv, the known vulnerabilities of those package versions.\n"
    "\n"
    "Options:\n"
    "  --osv FILE       an OSV JSON feed (array of records, {\"vulns\": [...]}, or "
    "one)\n" STORE_OPTIONS_HELP "\n"
    "Exit status: 0 no known vulnerability; 1 vulnerabilities found, or failed;\n"
    "2 usage; 3 sliced unreachable.\n";

enum { OPT_STORE = 2000, OPT_REPO, OPT_ROOT, OPT_NO_PROGRESS, OPT_GENERATIONS, OPT_KEEP, OPT_OSV };

struct pkg_args {
        const char *store;
        const char *repo;
        const char *root;
        const char *osv;
        int no_progress;
        int generations;
        long keep;
};

static const struct option pkg_long[] = {
    CLI_COMMON_OPTIONS,
    {"store", required_argument, NULL, OPT_STORE},
    {"repo", required_argument, NULL, OPT_REPO},
    {"root", required_argument, NULL, OPT_ROOT},
    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
    {"generations", no_argument, NULL, OPT_GENERATIONS},
    {"keep", required_argument, NULL, OPT_KEEP},
    {"osv", required_argument, NULL, OPT_OSV},
    {NULL, 0, NULL, 0},
};

/* Which options each command accepts (the rest are usage errors). */
struct pkg_cmd {
        const char *name;
        const char *usage;
        unsigned opts; /* bits of 1 << (OPT_x - OPT_STORE) */
        int min_args, max_args;
        int (*print)(const struct pkg_args *args, json_t *answer);
        /* the exit status an answer means (NULL: 0) */
        int (*verdict)(json_t *answer);
};

static int on_pkg_opt(void *state, int c, const char *arg)
{
        struct pkg_args *a = state;
        char *end;
        switch (c) {
        case OPT_STORE: a->store = arg; return 0;
        case OPT_REPO: a->repo = arg; return 0;
        case OPT_ROOT: a->root = arg; return 0;
        case OPT_NO_PROGRESS: a->no_progress = 1; return 0;
        case OPT_GENERATIONS: a->generations = 1; return 0;
        case OPT_OSV: a->osv = arg; return 0;
        case OPT_KEEP:
                errno = 0;
                a->keep = strtol(arg, &end, 10);
                if (errno || *end || !*arg || a->keep < 1 || a->keep > 1000000) {
                        fprintf(stderr, "slicectl pkg gc: --keep `%s` is not a number from 1\n",
                                arg);
                        return -1;
                }
                return 0;
        }
        return -1;
}

/* ---- printing the answers ---- */

static int print_change(const struct pkg_args *args, json_t *a)
{
        (void)args;
        long long gen = 0, prev = 0;
        cli_json_int(a, "generation", &gen);
        cli_json_int(a, "previous", &prev);
        if (json_is_true(json_object_get(a, "changed")))
                printf("generation %lld is now current (was %lld)\n", gen, prev);
        else
                printf("nothing to change: generation %lld stays current\n", gen);
        return CLI_EXIT_OK;
}

static void archives_cell(json_t *p, char *buf, size_t len)
{
        json_t *arch = json_object_get(p, "archives");
        snprintf(buf, len, "%zu", json_is_array(arch) ? json_array_size(arch) : 0);
}

static int print_list(const struct pkg_args *args, json_t *a)
{
        int gens = args->generations;
        struct cli_table t;
        size_t i;
        json_t *e;
        if (gens) {
                static const char *const head[] = {"", "GENERATION", "CREATED", "PACKAGES",
                                                   "REASON"};
                if (cli_table_init(&t, SL_ARRAY_SIZE(head), head) < 0)
                        return CLI_EXIT_FAIL;
                json_array_foreach(json_object_get(a, "generations"), i, e)
                {
                        char gen[24], n[24];
                        long long v = 0;
                        cli_json_int(e, "generation", &v);
                        snprintf(gen, sizeof gen, "%lld", v);
                        cli_json_int(e, "packages", &v);
                        snprintf(n, sizeof n, "%lld", v);
                        const char *row[] = {json_is_true(json_object_get(e, "current")) ? "*" : "",
                                             gen, cli_json_str(e, "created"), n,
                                             cli_json_str(e, "reason")};
                        cli_table_add(&t, row, NULL);
                }
        } else {
                static const char *const head[] = {"NAME", "VERSION", "ARCHIVES", "MANIFEST"};
                if (cli_table_init(&t, SL_ARRAY_SIZE(head), head) < 0)
                        return CLI_EXIT_FAIL;
                long long gen = 0;
                cli_json_int(a, "generation", &gen);
                printf("generation %lld of %s\n", gen, cli_json_str(a, "store"));
                json_array_foreach(json_object_get(a, "packages"), i, e)
                {
                        char n[24], manifest[16];
                        archives_cell(e, n, sizeof n);
                        const char *m = cli_json_str(e, "manifest");
                        snprintf(manifest, sizeof manifest, "%.12s", m ? m : "-");
                        const char *row[] = {cli_json_str(e, "name"), cli_json_str(e, "version"), n,
                                             manifest};
                        cli_table_add(&t, row, NULL);
                }
        }
        cli_table_print(&t, stdout, 0);
        cli_table_free(&t);
        return CLI_EXIT_OK;
}

static int print_gc(const struct pkg_args *args, json_t *a)
{
        (void)args;
        long long g = 0, p = 0, ar = 0, l = 0, b = 0;
        cli_json_int(a, "generations_removed", &g);
        cli_json_int(a, "packages_removed", &p);
        cli_json_int(a, "archives_removed", &ar);
        cli_json_int(a, "leftovers_removed", &l);
        cli_json_int(a, "bytes_freed", &b);
        char size[CLI_SIZE_LEN];
        cli_human_size((uint64_t)(b < 0 ? 0 : b), size);
        printf("removed %lld generation%s, %lld package%s, %lld archive%s, %lld leftover%s; "
               "freed %s\n",
               g, g == 1 ? "" : "s", p, p == 1 ? "" : "s", ar, ar == 1 ? "" : "s", l,
               l == 1 ? "" : "s", size);
        return CLI_EXIT_OK;
}

static int verify_verdict(json_t *a)
{
        json_t *p = json_object_get(a, "problems");
        return json_is_array(p) && json_array_size(p) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int audit_verdict(json_t *a)
{
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(a, "slices"), i, s)
        {
                json_t *v = json_object_get(s, "vulnerabilities");
                if (json_is_array(v) && json_array_size(v))
                        return CLI_EXIT_FAIL;
        }
        return CLI_EXIT_OK;
}

static int print_verify(const struct pkg_args *args, json_t *a)
{
        (void)args;
        long long ar = 0, tr = 0, pk = 0, ge = 0;
        cli_json_int(a, "archives_checked", &ar);
        cli_json_int(a, "trees_checked", &tr);
        cli_json_int(a, "packages_checked", &pk);
        cli_json_int(a, "generations_checked", &ge);
        json_t *problems = json_object_get(a, "problems");
        size_t i;
        json_t *p;
        json_array_foreach(problems, i, p)
            printf("%s: %s\n", cli_json_str(p, "path"), cli_json_str(p, "what"));
        size_t n = json_is_array(problems) ? json_array_size(problems) : 0;
        printf("%s: %lld archives, %lld trees, %lld packages, %lld generations checked",
               n ? "CORRUPT" : "store intact", ar, tr, pk, ge);
        if (n)
                printf("; %zu problem%s", n, n == 1 ? "" : "s");
        putchar('\n');
        return n ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

static int print_audit(const struct pkg_args *args, json_t *a)
{
        (void)args;
        size_t i, k, found = 0;
        json_t *s, *x;
        json_t *slices = json_object_get(a, "slices");
        if (!json_is_array(slices) || json_array_size(slices) == 0)
                printf("no running slice runs a package\n");
        json_array_foreach(slices, i, s)
        {
                long long gen = 0;
                cli_json_int(s, "generation", &gen);
                printf("%s\t%s (generation %lld)\n", cli_json_str(s, "slice"),
                       cli_json_str(s, "package"), gen);
                json_array_foreach(json_object_get(s, "archives"), k, x)
                    printf("\tarchive %s\n", json_string_value(x));
                json_array_foreach(json_object_get(s, "vulnerabilities"), k, x)
                {
                        const char *summary = cli_json_str(x, "summary");
                        printf("\tVULNERABLE %s%s%s\n", cli_json_str(x, "id"), summary ? ": " : "",
                               summary ? summary : "");
                        found++;
                }
        }
        if (found)
                printf("%zu known vulnerabilit%s in running slices\n", found,
                       found == 1 ? "y" : "ies");
        return found ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

#define OPT(x)     (1u << ((x)-OPT_STORE))
#define STORE_OPTS OPT(OPT_STORE)

static const struct pkg_cmd pkg_cmds[] = {
    {"install", install_usage, STORE_OPTS | OPT(OPT_REPO) | OPT(OPT_ROOT) | OPT(OPT_NO_PROGRESS), 1,
     1000, print_change, NULL},
    {"remove", remove_usage, STORE_OPTS, 1, 1000, print_change, NULL},
    {"list", list_usage, STORE_OPTS | OPT(OPT_GENERATIONS), 0, 0, print_list, NULL},
    {"rollback", rollback_usage, STORE_OPTS, 0, 1, print_change, NULL},
    {"gc", gc_usage, STORE_OPTS | OPT(OPT_KEEP), 0, 0, print_gc, NULL},
    {"verify", verify_usage, STORE_OPTS, 0, 0, print_verify, verify_verdict},
    {"audit", audit_usage, STORE_OPTS | OPT(OPT_OSV), 0, 0, print_audit, audit_verdict},
};

/* ---- doing it: locally or through sliced ---- */

static int read_optional_file(const char *path, size_t max, struct st_buf *out,
                              const struct cli_ctx *ctx)
{
        struct sl_error err = {0};
        if (path && st_read_file(path, max, out, &err) < 0) {
                cli_error(ctx, "%s", err.msg);
                return -1;
        }
        return 0;
}

static json_t *specs_json(int argc, char **argv)
{
        json_t *a = json_array();
        for (int i = 0; a && i < argc; i++)
                json_array_append_new(a, json_string(argv[i]));
        return a;
}

static int run_local(const struct cli_ctx *ctx, const struct pkg_cmd *c, const struct pkg_args *a,
                     int argc, char **argv, const struct st_buf *blob, json_t **out)
{
        struct sl_error err = {0};
        const char *const *specs = (const char *const *)argv;
        int rc = -1;
        if (!strcmp(c->name, "install")) {
                struct st_install_req req = {.specs = specs,
                                             .n = (size_t)argc,
                                             .repo = a->repo,
                                             .root = blob->data,
                                             .root_len = blob->len,
                                             .progress = !a->no_progress};
                rc = st_op_install(a->store, &req, out, &err);
        } else if (!strcmp(c->name, "remove")) {
                rc = st_op_remove(a->store, specs, (size_t)argc, out, &err);
        } else if (!strcmp(c->name, "list")) {
                rc = st_op_list(a->store, out, &err);
        } else if (!strcmp(c->name, "rollback")) {
                rc = st_op_rollback(a->store, argc ? strtoull(argv[0], NULL, 10) : 0, out, &err);
        } else if (!strcmp(c->name, "gc")) {
                rc = st_op_gc(a->store, (unsigned)a->keep, out, &err);
        } else if (!strcmp(c->name, "verify")) {
                rc = st_op_verify(a->store, out, &err);
        } else if (!strcmp(c->name, "audit")) {
                rc = st_op_audit(a->store, blob->data, blob->len, out, &err);
        }
        if (rc < 0) {
                cli_error(ctx, "%s", err.msg);
                return CLI_EXIT_FAIL;
        }
        return CLI_EXIT_OK;
}

static int run_remote(const struct cli_ctx *ctx, const struct pkg_cmd *c, const struct pkg_args *a,
                      int argc, char **argv, const struct st_buf *blob, json_t **out)
{
        struct cli_http_request req = {.method = "POST", .content_type = "application/json"};
        char target[64];
        snprintf(target, sizeof target, "/v1/packages/%s", c->name);
        req.target = target;
        _cleanup_json_ json_t *body = json_object();
        if (!strcmp(c->name, "list")) {
                req.method = "GET";
                req.target = "/v1/packages";
        } else if (!strcmp(c->name, "install")) {
                json_object_set_new(body, "packages", specs_json(argc, argv));
                if (a->repo)
                        json_object_set_new(body, "repo", json_string(a->repo));
                if (blob->data)
                        json_object_set_new(body, "root",
                                            json_stringn((const char *)blob->data, blob->len));
        } else if (!strcmp(c->name, "remove")) {
                json_object_set_new(body, "packages", specs_json(argc, argv));
        } else if (!strcmp(c->name, "rollback") && argc) {
                json_object_set_new(body, "generation",
                                    json_integer((json_int_t)strtoull(argv[0], NULL, 10)));
        } else if (!strcmp(c->name, "gc") && a->keep) {
                json_object_set_new(body, "keep", json_integer(a->keep));
        } else if (!strcmp(c->name, "audit")) {
                /* the feed is the body, as it is */
                req.body = blob->data ? (const char *)blob->data : NULL;
                req.body_len = blob->len;
                if (!blob->data)
                        req.method = "GET";
        }
        _cleanup_free_ char *text = NULL;
        if (strcmp(req.method, "GET") && !req.body) {
                text = json_dumps(body, JSON_COMPACT);
                if (!text) {
                        cli_error(ctx, "out of memory");
                        return CLI_EXIT_FAIL;
                }
                req.body = text;
                req.body_len = strlen(text);
        }
        struct cli_answer ans;
        int code = cli_api_call(ctx, &req, &ans);
        if (code)
                return code;
        *out = json_incref(ans.json);
        cli_answer_free(&ans);
        return *out ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int check_args(struct cli_ctx *ctx, const struct pkg_cmd *c, const struct pkg_args *a,
                      int argc, char **argv)
{
        const struct {
                int opt;
                int set;
                const char *name;
        } used[] = {{OPT_REPO, a->repo != NULL, "--repo"},
                    {OPT_ROOT, a->root != NULL, "--root"},
                    {OPT_NO_PROGRESS, a->no_progress, "--no-progress"},
                    {OPT_GENERATIONS, a->generations, "--generations"},
                    {OPT_KEEP, a->keep != 0, "--keep"},
                    {OPT_OSV, a->osv != NULL, "--osv"}};
        for (size_t i = 0; i < SL_ARRAY_SIZE(used); i++)
                if (used[i].set && !(c->opts & OPT(used[i].opt)))
                        return cli_usage_error(ctx, "option '%s' does not apply", used[i].name);
        if (argc < c->min_args)
                return cli_usage_error(ctx, "no package named");
        if (argc > c->max_args)
                return cli_usage_error(ctx, "unexpected argument '%s'", argv[c->max_args]);
        if (!strcmp(c->name, "rollback") && argc) {
                char *end;
                errno = 0;
                unsigned long long g = strtoull(argv[0], &end, 10);
                if (errno || *end || !g || argv[0][0] == '-')
                        return cli_usage_error(ctx, "`%s` is not a generation number", argv[0]);
        }
        for (int i = 0; c->min_args && i < argc; i++) {
                char name[ST_NAME_MAX], version[ST_VERSION_MAX];
                struct sl_error err = {0};
                if (st_spec_parse(argv[i], name, version, &err) < 0)
                        return cli_usage_error(ctx, "%s", err.msg);
        }
        return 0;
}

int cli_pkg_store(struct cli_ctx *ctx, const char *sub, int argc, char **argv)
{
        const struct pkg_cmd *c = NULL;
        for (size_t i = 0; i < SL_ARRAY_SIZE(pkg_cmds); i++)
                if (!strcmp(sub, pkg_cmds[i].name))
                        c = &pkg_cmds[i];
        if (!c)
                return -1;
        struct pkg_args a = {.store = getenv("SLICED_STORE")};
        if (a.store && !*a.store)
                a.store = NULL;
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:h", pkg_long, c->usage, on_pkg_opt, &a, &code) < 0)
                return code;
        argc -= optind;
        argv += optind;
        if ((code = check_args(ctx, c, &a, argc, argv)) != 0)
                return code;
        _cleanup_buf_ struct st_buf blob = {0};
        if (read_optional_file(a.root, ROOT_FILE_MAX, &blob, ctx) < 0 ||
            read_optional_file(a.osv, OSV_FEED_MAX, &blob, ctx) < 0)
                return CLI_EXIT_FAIL;
        _cleanup_json_ json_t *answer = NULL;
        code = a.store ? run_local(ctx, c, &a, argc, argv, &blob, &answer)
                       : run_remote(ctx, c, &a, argc, argv, &blob, &answer);
        if (code)
                return code;
        if (ctx->json) {
                _cleanup_free_ char *text =
                    json_dumps(answer, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
                if (!text)
                        return CLI_EXIT_FAIL;
                puts(text);
                /* the exit status still tells what the answer means */
                return c->verdict ? c->verdict(answer) : CLI_EXIT_OK;
        }
        return c->print(&a, answer);
}
