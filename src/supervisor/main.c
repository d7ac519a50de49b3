/* sliced: keeps an appliance's slices running as its topology declares. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fileutil.h"
#include "supervisor/supervisor.h"

#define DEFAULT_CONFIG "/etc/sliced/sliced.conf"

static const char usage[] =
    "Usage: sliced [OPTIONS]\n"
    "\n"
    "Run the slices of a topology in the foreground and keep them as declared.\n"
    "SIGHUP re-reads the topology and applies the difference; SIGTERM stops every\n"
    "slice in reverse start order and exits.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE        daemon settings (default " DEFAULT_CONFIG " if present)\n"
    "  -t, --topology FILE|DIR  the topology (YAML or JSON; a directory of them)\n"
    "      --state-dir DIR      persistent state (default /var/lib/sliced)\n"
    "      --store-dir DIR      the package store (default STATE_DIR/store)\n"
    "      --runtime-dir DIR    state report and API socket (default /run/sliced)\n"
    "      --cgroup-root DIR    cgroupfs mount (default /sys/fs/cgroup)\n"
    "      --log-target auto|journal|stderr\n"
    "      --cgroup-base NAME   cgroup subtree sliced owns (default sliced)\n"
    "      --uid-range FIRST-LAST  uids for slices when root (default 200000-265535)\n"
    "      --route-wait DURATION   how long a session request waits for its server\n"
    "      --api-socket PATH    the REST API socket (default RUNTIME_DIR/api.sock)\n"
    "      --check              validate the topology, list every error, and exit\n"
    "                           (0 valid, 1 invalid)\n"
    "  -h, --help               show this help\n"
    "      --version            show the version\n";

enum {
        OPT_STATE = 256,
        OPT_RUNTIME,
        OPT_CGROUP,
        OPT_CHECK,
        OPT_VERSION,
        OPT_LOG,
        OPT_CGROUP_BASE,
        OPT_UID_RANGE,
        OPT_ROUTE_WAIT,
        OPT_API_SOCKET,
        OPT_STORE
};

static const struct option longopts[] = {
    {"config", required_argument, NULL, 'c'},
    {"topology", required_argument, NULL, 't'},
    {"state-dir", required_argument, NULL, OPT_STATE},
    {"store-dir", required_argument, NULL, OPT_STORE},
    {"runtime-dir", required_argument, NULL, OPT_RUNTIME},
    {"cgroup-root", required_argument, NULL, OPT_CGROUP},
    {"log-target", required_argument, NULL, OPT_LOG},
    {"cgroup-base", required_argument, NULL, OPT_CGROUP_BASE},
    {"uid-range", required_argument, NULL, OPT_UID_RANGE},
    {"route-wait", required_argument, NULL, OPT_ROUTE_WAIT},
    {"api-socket", required_argument, NULL, OPT_API_SOCKET},
    {"check", no_argument, NULL, OPT_CHECK},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

struct overrides {
        const char *config, *topology, *state, *store, *runtime, *cgroup, *log;
        const char *cgroup_base, *uid_range, *route_wait, *api_socket;
        int check;
};

/* Command-line overrides, applied over sliced.conf in this order (the API
 * socket follows a changed runtime dir unless given itself). */
static int apply_overrides(struct sv_config *cfg, const struct overrides *o)
{
        const struct {
                const char *key, *value;
        } set[] = {
            {"topology", o->topology},     {"state_dir", o->state},
            {"store_dir", o->store},       {"runtime_dir", o->runtime},
            {"cgroup_root", o->cgroup},    {"cgroup_base", o->cgroup_base},
            {"uid_range", o->uid_range},   {"log_target", o->log},
            {"route_wait", o->route_wait}, {"api_socket", o->api_socket},
        };
        struct sl_error err;
        for (size_t i = 0; i < sizeof set / sizeof set[0]; i++) {
                if (!set[i].value)
                        continue;
                /* paths on the command line are relative to where it is typed */
                char abs[PATH_MAX];
                const char *v = set[i].value;
                if (i < 5 || !strcmp(set[i].key, "api_socket")) {
                        if (v[0] != '/' && realpath(v, abs)) {
                                v = abs;
                        } else if (v[0] != '/' && getcwd(abs, sizeof abs) &&
                                   strlen(abs) + strlen(v) + 2 < sizeof abs) {
                                strcat(abs, "/");
                                strcat(abs, v);
                                v = abs;
                        }
                }
                struct sv_config before = *cfg;
                if (sv_config_set(cfg, set[i].key, v, &err) < 0) {
                        char opt[32];
                        snprintf(opt, sizeof opt, "%s", set[i].key);
                        for (char *c = opt; *c; c++)
                                *c = *c == '_' ? '-' : *c;
                        /* the option is the sliced.conf key with dashes */
                        fprintf(stderr, "sliced: --%s: %s\n", opt, err.msg);
                        return -1;
                }
                if (!strcmp(set[i].key, "state_dir") && !o->store &&
                    sv_config_follow_state_dir(&before, cfg) < 0) {
                        fprintf(stderr, "sliced: --state-dir: too long for a store path; set "
                                        "--store-dir\n");
                        return -1;
                }
                if (!strcmp(set[i].key, "runtime_dir") && !o->api_socket) {
                        char sock[PATH_MAX + 16];
                        snprintf(sock, sizeof sock, "%s/api.sock", cfg->runtime_dir);
                        if (sv_config_set(cfg, "api_socket", sock, &err) < 0) {
                                fprintf(stderr, "sliced: --runtime-dir: %s\n", err.msg);
                                return -1;
                        }
                }
        }
        return 0;
}

static int count_slice(struct sv_slice_spec *s, void *ctx)
{
        (void)s;
        ++*(size_t *)ctx;
        return 0;
}

static int check_only(const char *topology)
{
        struct sv_topology *t = NULL;
        struct sv_diag diag = {0};
        struct sl_error err;
        if (sv_topology_load(topology, &t, &diag, &err) < 0) {
                for (size_t i = 0; i < diag.n; i++)
                        fprintf(stderr, "%s\n", diag.msgs[i]);
                fprintf(stderr, "sliced: %s\n", err.msg);
                sv_diag_free(&diag);
                return 1;
        }
        size_t n = 0;
        sv_topology_walk(t, count_slice, &n);
        printf("sliced: topology %s is valid (%zu slices)\n", topology, n);
        sv_diag_free(&diag);
        sv_topology_free(t);
        return 0;
}

int main(int argc, char **argv)
{
        struct overrides o = {0};
        int c;
        while ((c = getopt_long(argc, argv, "c:t:h", longopts, NULL)) != -1) {
                switch (c) {
                case 'c': o.config = optarg; break;
                case 't': o.topology = optarg; break;
                case OPT_STATE: o.state = optarg; break;
                case OPT_STORE: o.store = optarg; break;
                case OPT_RUNTIME: o.runtime = optarg; break;
                case OPT_CGROUP: o.cgroup = optarg; break;
                case OPT_LOG: o.log = optarg; break;
                case OPT_CGROUP_BASE: o.cgroup_base = optarg; break;
                case OPT_UID_RANGE: o.uid_range = optarg; break;
                case OPT_ROUTE_WAIT: o.route_wait = optarg; break;
                case OPT_API_SOCKET: o.api_socket = optarg; break;
                case OPT_CHECK: o.check = 1; break;
                case 'h': fputs(usage, stdout); return 0;
                case OPT_VERSION: printf("sliced %s\n", SLICED_VERSION); return 0;
                default: fputs("(see `sliced --help`)\n", stderr); return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "sliced: unexpected argument '%s' (see `sliced --help`)\n",
                        argv[optind]);
                return 2;
        }
        struct sv_config cfg;
        struct sl_error err;
        sv_config_defaults(&cfg);
        const char *cfgfile = o.config                            ? o.config
                              : access(DEFAULT_CONFIG, F_OK) == 0 ? DEFAULT_CONFIG
                                                                  : NULL;
        if (cfgfile && sv_config_load(cfgfile, &cfg, &err) < 0) {
                fprintf(stderr, "sliced: %s\n", err.msg);
                return 1;
        }
        if (apply_overrides(&cfg, &o) < 0)
                return 2;
        if (o.check)
                return check_only(cfg.topology);

        if (sl_mkdir_p(cfg.state_dir, 0755, &err) < 0 ||
            sl_mkdir_p(cfg.runtime_dir, 0755, &err) < 0) {
                fprintf(stderr, "sliced: %s\n", err.msg);
                return 1;
        }
        /* Each slice holds ~11 fds here (pidfd, report socket, output pipes,
         * namespaces); lift the soft fd limit to the hard one so a thousand
         * slices fit. */
        struct rlimit nofile;
        if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
                nofile.rlim_cur = nofile.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
                        fprintf(stderr, "sliced: raising the fd limit: %s\n", strerror(errno));
        }
        /* A peer that went away (a slice's pipe, a closed stderr, an API
         * client) is an error to handle, not a reason for the supervisor of
         * every slice to die. Slices start with default dispositions again
         * (child.c resets them). */
        signal(SIGPIPE, SIG_IGN);
        static struct sv_supervisor sv;
        uv_loop_t *loop = uv_default_loop();
        if (sv_supervisor_init(&sv, loop, &cfg, cfg.topology, &err) < 0) {
                fprintf(stderr, "sliced: %s\n", err.msg);
                return 1;
        }
        if (sv_api_start(&sv, &sv.api, &err) < 0) {
                /* the slices run without it; say so, loudly */
                sv_log(&sv, 3, "management API not available: %s", err.msg);
                sv.api = NULL;
        }
        if (sv_supervisor_start(&sv, &err) < 0) {
                sv_log(&sv, 3, "%s", err.msg);
                sv_supervisor_shutdown(&sv);
        }
        uv_run(loop, UV_RUN_DEFAULT);
        sv_api_stop(sv.api);
        sv.api = NULL;
        sv_report_write(&sv, &err);
        sv_supervisor_free(&sv);
        uv_run(loop, UV_RUN_NOWAIT); /* let close callbacks run */
        uv_loop_close(loop);
        return sv.exit_code;
}
