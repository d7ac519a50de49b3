/* slicectl status, slicectl get SLICE: what sliced reports of its slices
 * (the slice object of docs/api.md, the same as in state.json). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/api.h"
#include "cli/format.h"
#include "lib/cleanup.h"

static const char status_usage[] =
    "Usage: slicectl status [OPTIONS]\n"
    "\n"
    "List every slice sliced supervises: its path, state, the reason it last\n"
    "ended, restarts, pid and current memory. States are coloured on a terminal\n"
    "(not with NO_COLOR set).\n"
    "\n"
    "Options:\n"
    "  --json           print sliced's answer as it is: {\"slices\": [SLICE, ...]}\n"
    "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"
    "                   " CLI_DEFAULT_SOCKET ")\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 ok; 1 sliced answered an error; 2 usage; 3 sliced unreachable.\n";

static const char get_usage[] =
    "Usage: slicectl get [OPTIONS] SLICE\n"
    "\n"
    "Show everything sliced reports of one slice: state, reason, process,\n"
    "resource use and limits, sessions and the slice's own report. SLICE is a\n"
    "path such as app/web or /app/web.\n"
    "\n"
    "Options:\n"
    "  --json           print sliced's answer (the slice object) as it is\n"
    "  --socket PATH    sliced's API socket (default $SLICED_SOCKET, else\n"
    "                   " CLI_DEFAULT_SOCKET ")\n"
    "  -h, --help       show this help\n"
    "\n"
    "Exit status: 0 ok; 1 sliced answered an error (e.g. no such slice);\n"
    "2 usage; 3 sliced unreachable.\n";

static const struct option common_long[] = {CLI_COMMON_OPTIONS, {NULL, 0, NULL, 0}};

/* A member as text for a table cell: "-" when absent or null. */
static void int_cell(const json_t *o, const char *key, char *buf, size_t len)
{
        long long v;
        if (cli_json_int(o, key, &v) < 0)
                snprintf(buf, len, "-");
        else
                snprintf(buf, len, "%lld", v);
}

static void size_cell(const json_t *o, const char *key, char buf[CLI_SIZE_LEN])
{
        long long v;
        if (cli_json_int(o, key, &v) < 0 || v < 0)
                snprintf(buf, CLI_SIZE_LEN, "-");
        else
                cli_human_size((uint64_t)v, buf);
}

static int status_table(const struct cli_ctx *ctx, const json_t *slices)
{
        static const char *const head[] = {"PATH", "STATE", "REASON", "RESTARTS", "PID", "MEMORY"};
        struct cli_table t;
        if (cli_table_init(&t, SL_ARRAY_SIZE(head), head) < 0) {
                cli_error(ctx, "out of memory");
                return CLI_EXIT_FAIL;
        }
        size_t i;
        json_t *s;
        json_array_foreach(slices, i, s)
        {
                char restarts[24], pid[24], mem[CLI_SIZE_LEN];
                const char *path = cli_json_str(s, "path"), *state = cli_json_str(s, "state");
                const char *reason = cli_json_str(s, "reason");
                int_cell(s, "restarts", restarts, sizeof restarts);
                int_cell(s, "pid", pid, sizeof pid);
                size_cell(json_object_get(s, "resources"), "memory_current", mem);
                const char *row[] = {path ? path : "?",
                                     state ? state : "?",
                                     reason ? reason : "-",
                                     restarts,
                                     pid,
                                     mem};
                const char *colours[] = {NULL, cli_state_colour(state), NULL, NULL, NULL, NULL};
                if (cli_table_add(&t, row, colours) < 0) {
                        cli_table_free(&t);
                        cli_error(ctx, "out of memory");
                        return CLI_EXIT_FAIL;
                }
        }
        cli_table_print(&t, stdout, cli_colour_on(stdout));
        cli_table_free(&t);
        return CLI_EXIT_OK;
}

int cli_status(struct cli_ctx *ctx, int argc, char **argv)
{
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:h", common_long, status_usage, NULL, NULL, &code) <
            0)
                return code;
        if (optind < argc)
                return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind]);
        struct cli_http_request req = {.method = "GET", .target = "/v1/slices"};
        struct cli_answer ans;
        if ((code = cli_api_call(ctx, &req, &ans)) != 0)
                return code;
        json_t *slices = json_object_get(ans.json, "slices");
        if (ctx->json) {
                code = cli_print_raw(&ans) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        } else if (!json_is_array(slices)) {
                cli_error(ctx, "sliced's answer has no \"slices\" list");
                code = CLI_EXIT_FAIL;
        } else {
                code = status_table(ctx, slices);
        }
        cli_answer_free(&ans);
        return code;
}

/* ---- get ------------------------------------------------------------------ */

static void field(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void field(const char *name, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        printf("%-10s ", name);
        vprintf(fmt, ap);
        putchar('\n');
        va_end(ap);
}

/* "12M (peak 15M, limit 64M)"; NULL figures are left out. */
static void print_memory(const json_t *res, const json_t *limits)
{
        long long cur, peak, lim;
        char a[CLI_SIZE_LEN], b[CLI_SIZE_LEN], c[CLI_SIZE_LEN];
        int has_cur = cli_json_int(res, "memory_current", &cur) == 0;
        int has_peak = cli_json_int(res, "memory_peak", &peak) == 0;
        int has_lim = cli_json_int(limits, "memory", &lim) == 0;
        if (!has_cur && !has_lim)
                return;
        cli_human_size(has_cur ? (uint64_t)cur : 0, a);
        cli_human_size(has_peak ? (uint64_t)peak : 0, b);
        cli_human_size(has_lim ? (uint64_t)lim : 0, c);
        field("memory:", "%s%s%s%s%s%s", has_cur ? a : "-", has_peak ? " (peak " : "",
              has_peak ? b : "", has_peak ? ")" : "", has_lim ? ", limit " : "", has_lim ? c : "");
}

static void print_resources(const json_t *s)
{
        const json_t *res = json_object_get(s, "resources");
        const json_t *limits = json_object_get(s, "limits");
        long long v, lim;
        print_memory(res, limits);
        if (cli_json_int(res, "cpu_usec", &v) == 0)
                field("cpu:", "%lld.%03llds", v / 1000000, (v % 1000000) / 1000);
        int has_lim = cli_json_int(limits, "pids", &lim) == 0;
        if (cli_json_int(res, "pids", &v) == 0 && has_lim)
                field("pids:", "%lld, limit %lld", v, lim);
        else if (cli_json_int(res, "pids", &v) == 0)
                field("pids:", "%lld", v);
        /* the rest of the limits, as the topology writes them */
        const char *key;
        json_t *val;
        char line[512] = "";
        size_t n = 0;
        json_object_foreach((json_t *)limits, key, val)
        {
                if (!strcmp(key, "memory") || !strcmp(key, "pids"))
                        continue;
                char *text = json_dumps(val, JSON_ENCODE_ANY | JSON_COMPACT);
                if (text && n < sizeof line)
                        n += (size_t)snprintf(line + n, sizeof line - n, "%s%s %s", n ? ", " : "",
                                              key,
                                              json_is_string(val) ? json_string_value(val) : text);
                free(text);
        }
        if (n)
                field("limits:", "%s", line);
}

static void print_sessions(const json_t *s)
{
        const json_t *sess = json_object_get(s, "sessions");
        long long used = 0, served = 0;
        if (!sess)
                return;
        cli_json_int(sess, "used", &used);
        cli_json_int(sess, "served", &served);
        printf("%-10s used %lld, served %lld", "sessions:", used, served);
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(sess, "announced"), i, a)
        {
                printf("%s%s", i ? ", " : "; provides ",
                       json_string_value(a) ? json_string_value(a) : "?");
        }
        putchar('\n');
}

static void print_end(const json_t *s)
{
        long long v;
        if (cli_json_int(s, "exit_code", &v) == 0)
                field("exit:", "code %lld", v);
        if (cli_json_int(s, "signal", &v) == 0)
                field("exit:", "signal %lld (SIG%s)%s", v,
                      sigabbrev_np((int)v) ? sigabbrev_np((int)v) : "?",
                      json_is_true(json_object_get(s, "oom_killed")) ? ", killed by the OOM killer"
                                                                     : "");
        if (cli_json_int(s, "next_try_ms", &v) == 0)
                field("next try:", "in %lld.%03llds", v / 1000, v % 1000);
}

/* A slice running a store package: which one, from which generation, and
 * the archives mounted at /pkg (their hashes, top layer first). */
static void print_package(const json_t *s)
{
        const char *pkg = cli_json_str(s, "package");
        long long gen;
        if (!pkg)
                return;
        if (cli_json_int(s, "generation", &gen) == 0)
                field("package:", "%s (generation %lld)", pkg, gen);
        else
                field("package:", "%s (not mounted: the slice does not run)", pkg);
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(s, "archives"), i, a)
        {
                const char *hash = json_string_value(a);
                field(i ? "" : "archives:", "%s", hash ? hash : "?");
        }
}

static void print_slice(const json_t *s)
{
        char pid[24], restarts[24];
        const char *state = cli_json_str(s, "state"), *reason = cli_json_str(s, "reason");
        const char *colour = cli_colour_on(stdout) ? cli_state_colour(state) : NULL;
        int_cell(s, "pid", pid, sizeof pid);
        int_cell(s, "restarts", restarts, sizeof restarts);
        field("path:", "%s", cli_json_str(s, "path") ? cli_json_str(s, "path") : "?");
        field("state:", "%s%s%s", colour ? colour : "", state ? state : "?",
              colour ? CLI_RESET : "");
        field("reason:", "%s", reason ? reason : "-");
        field("restarts:", "%s", restarts);
        field("pid:", "%s", pid);
        long long uid;
        if (cli_json_int(s, "uid", &uid) == 0)
                field("uid:", "%lld", uid);
        if (json_is_true(json_object_get(s, "group")))
                field("group:", "yes (nothing runs in it; it bounds and routes its children)");
        print_package(s);
        print_end(s);
        print_resources(s);
        print_sessions(s);
        const json_t *report = json_object_get(s, "report");
        if (report && !json_is_null(report)) {
                char *text = json_dumps(report, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
                field("report:", "%s", text ? text : "?");
                free(text);
        }
}

int cli_get(struct cli_ctx *ctx, int argc, char **argv)
{
        int code;
        if (cli_parse_opts(ctx, argc, argv, "+:h", common_long, get_usage, NULL, NULL, &code) < 0)
                return code;
        if (optind >= argc)
                return cli_usage_error(ctx, "no slice given");
        if (optind + 1 < argc)
                return cli_usage_error(ctx, "unexpected argument '%s'", argv[optind + 1]);
        char path[CLI_SLICE_PATH_MAX];
        _cleanup_free_ char *target = NULL;
        if ((code = cli_slice_target(ctx, argv[optind], NULL, path, &target)) != 0)
                return code;
        struct cli_http_request req = {.method = "GET", .target = target};
        struct cli_answer ans;
        if ((code = cli_api_call(ctx, &req, &ans)) != 0)
                return code;
        if (ctx->json)
                code = cli_print_raw(&ans) < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
        else
                print_slice(ans.json);
        cli_answer_free(&ans);
        return code;
}
