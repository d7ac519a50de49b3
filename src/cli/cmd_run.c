/* slicectl run: one confined command in the foreground, like bwrap or
 * `systemd-run --wait`. Exit status: the command's, 128+N for signal N,
 * 125 when slicectl or the sandbox setup failed, 126/127 when the command
 * cannot be executed / is not found. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cli.h"
#include "lib/cleanup.h"
#include "lib/listen.h"
#include "lib/parse.h"
#include "sandbox/cgroup.h"
#include "sandbox/spawn.h"

/* Caps on repeated options: far above any real use, they bound memory. */
#define RUN_MAX_BINDS  256
#define RUN_MAX_ENV    256
#define RUN_MAX_LISTEN 64
/* Root mode picks a uid from this range when --uid is not given (outside
 * the ranges Debian allocates to users and systemd's DynamicUser). */
#define RUN_UID_FIRST 200000u
#define RUN_UID_COUNT 65536u
#define CGROUP_FSROOT "/sys/fs/cgroup"

static const char run_usage[] =
    "Usage: slicectl run [OPTIONS] -- COMMAND [ARG...]\n"
    "\n"
    "Run COMMAND as a slice in the foreground: new pid, mount, network, ipc, uts\n"
    "and cgroup namespaces (and a user namespace when not root), a read-only root\n"
    "holding only the system paths and what is granted, no capabilities,\n"
    "no_new_privs and a seccomp profile. Signals are forwarded; the exit status\n"
    "is the command's (128+N for signal N).\n"
    "\n"
    "Options:\n"
    "  --profile posix|strict|FILE  seccomp profile (default posix; see docs/seccomp.md)\n"
    "  --ro PATH[:DEST]        grant PATH read-only at DEST (default: same path)\n"
    "  --rw PATH[:DEST]        grant PATH read-write\n"
    "  --memory SIZE           memory limit (e.g. 64M); OOM kills are reported\n"
    "  --pids N                limit on processes and threads\n"
    "  --files N               fd quota (RLIMIT_NOFILE, default 1024)\n"
    "  --cpus LIST             CPUs to run on (e.g. 0-1,3)\n"
    "  --cpu-weight N          CPU weight 1-10000 (default 100)\n"
    "  --cpu-max PERCENT       CPU time cap, e.g. 50% of one CPU, 200% of two\n"
    "  --net none|host         own network namespace with lo only (default) or the host's\n"
    "  --listen [NAME=]tcp:HOST:PORT|unix:PATH\n"
    "                          pre-bound listening socket passed as fd 3, 4, ...\n"
    "                          (LISTEN_FDS/LISTEN_FDNAMES, systemd socket activation)\n"
    "  --env KEY=VALUE         set a variable (the environment starts clean:\n"
    "                          PATH, HOME=/tmp, LANG=C.UTF-8, TERM if set)\n"
    "  --hostname NAME         hostname inside (default: slice)\n"
    "  --cwd DIR               working directory inside (default /)\n"
    "  --tmp-size SIZE         size of the /tmp tmpfs (default 64M)\n"
    "  --tty                   give the command /dev/tty and the caller's terminal session\n"
    "  --uid N, --gid N        ids inside (root: default from 200000-265535; user\n"
    "                          namespace: default the caller's ids)\n"
    "  --cgroup-root DIR       cgroupfs mount (default /sys/fs/cgroup)\n"
    "  -v, --verbose           print each setup step\n"
    "  -h, --help              show this help\n"
    "\n"
    "Exit status: the command's; 125 setup failed; 126 cannot execute; 127 not found.\n";

struct run_opts {
        struct sb_spec spec;
        struct sb_bind binds[RUN_MAX_BINDS];
        struct sb_fd_grant fds[RUN_MAX_LISTEN];
        char names[RUN_MAX_LISTEN][SL_LISTEN_NAME_MAX];
        char *env[RUN_MAX_ENV + 8];
        size_t n_env;
        struct sb_cgroup_limits lim;
        int want_cgroup;
        int uid_set, gid_set;
        const char *cgroup_root;
};

static int run_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("slicectl: run: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        return -1;
}

static int add_bind(struct run_opts *o, char *arg, int rw)
{
        if (o->spec.n_binds == RUN_MAX_BINDS)
                return run_error("too many --ro/--rw (at most %d)", RUN_MAX_BINDS);
        char *colon = strchr(arg, ':');
        struct sb_bind *b = &o->binds[o->spec.n_binds++];
        if (colon)
                *colon = '\0';
        b->src = arg;
        b->dest = colon ? colon + 1 : arg;
        b->rw = rw;
        if (b->src[0] != '/' || b->dest[0] != '/')
                return run_error("%s %s%s%s: paths must be absolute", rw ? "--rw" : "--ro", b->src,
                                 colon ? ":" : "", colon ? b->dest : "");
        return 0;
}

static int add_env(struct run_opts *o, char *kv)
{
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return run_error("--env '%s': expected KEY=VALUE", kv);
        size_t klen = (size_t)(eq - kv) + 1;
        for (size_t i = 0; i < o->n_env; i++)
                if (!strncmp(o->env[i], kv, klen)) {
                        o->env[i] = kv; /* later settings win, as with env(1) */
                        return 0;
                }
        if (o->n_env == RUN_MAX_ENV)
                return run_error("too many --env (at most %d)", RUN_MAX_ENV);
        o->env[o->n_env++] = kv;
        return 0;
}

static int parse_percent(const char *arg, struct sb_cgroup_limits *lim)
{
        char buf[32];
        struct sl_error err;
        uint64_t pct;
        size_t n = strlen(arg);
        if (n == 0 || n >= sizeof buf || arg[n - 1] != '%')
                return run_error("--cpu-max '%s': expected a percentage such as 50%%", arg);
        memcpy(buf, arg, n - 1);
        buf[n - 1] = '\0';
        /* 1% of one CPU up to 1024 CPUs' worth */
        if (sl_parse_u64(buf, 1, 102400, &pct, &err) < 0)
                return run_error("--cpu-max: %s", err.msg);
        lim->cpu_period_us = 100000; /* the kernel's default CFS period */
        lim->cpu_quota_us = pct * 1000;
        return 0;
}

enum {
        OPT_PROFILE = 256,
        OPT_RO,
        OPT_RW,
        OPT_MEMORY,
        OPT_PIDS,
        OPT_FILES,
        OPT_CPUS,
        OPT_CPU_WEIGHT,
        OPT_CPU_MAX,
        OPT_NET,
        OPT_LISTEN,
        OPT_ENV,
        OPT_HOSTNAME,
        OPT_CWD,
        OPT_TMP_SIZE,
        OPT_TTY,
        OPT_UID,
        OPT_GID,
        OPT_CGROUP_ROOT,
};

static const struct option run_long[] = {
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"ro", required_argument, NULL, OPT_RO},
    {"rw", required_argument, NULL, OPT_RW},
    {"memory", required_argument, NULL, OPT_MEMORY},
    {"pids", required_argument, NULL, OPT_PIDS},
    {"files", required_argument, NULL, OPT_FILES},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"cpu-weight", required_argument, NULL, OPT_CPU_WEIGHT},
    {"cpu-max", required_argument, NULL, OPT_CPU_MAX},
    {"net", required_argument, NULL, OPT_NET},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"env", required_argument, NULL, OPT_ENV},
    {"hostname", required_argument, NULL, OPT_HOSTNAME},
    {"cwd", required_argument, NULL, OPT_CWD},
    {"tmp-size", required_argument, NULL, OPT_TMP_SIZE},
    {"tty", no_argument, NULL, OPT_TTY},
    {"uid", required_argument, NULL, OPT_UID},
    {"gid", required_argument, NULL, OPT_GID},
    {"cgroup-root", required_argument, NULL, OPT_CGROUP_ROOT},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Numeric options share one shape: parse, range-check, name the option. */
static int num_opt(const char *opt, const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
        struct sl_error err;
        if (sl_parse_u64(arg, min, max, out, &err) < 0)
                return run_error("%s: %s", opt, err.msg);
        return 0;
}

static void verbose_log(void *ctx, const char *line)
{
        (void)ctx;
        fprintf(stderr, "slicectl: %s\n", line);
}

static int parse_one(struct run_opts *o, int c, char *arg)
{
        struct sl_error err;
        uint64_t v;
        struct sb_spec *s = &o->spec;
        switch (c) {
        case OPT_PROFILE: s->profile = arg; return 0;
        case OPT_RO: return add_bind(o, arg, 0);
        case OPT_RW: return add_bind(o, arg, 1);
        case OPT_MEMORY:
                o->want_cgroup = 1;
                if (sl_parse_size(arg, &o->lim.memory_max, 0, &err) < 0)
                        return run_error("--memory: %s", err.msg);
                return 0;
        case OPT_PIDS:
                o->want_cgroup = 1;
                return num_opt("--pids", arg, 1, 4194304, &o->lim.pids_max); /* pid_max limit */
        case OPT_FILES:
                /* the kernel's default fs.nr_open caps RLIMIT_NOFILE at 2^20 */
                return num_opt("--files", arg, 4, 1048576, &s->files);
        case OPT_CPUS: {
                if (sl_parse_cpulist(arg, &s->cpus, o->lim.cpus, sizeof o->lim.cpus, &err) < 0)
                        return run_error("--cpus: %s", err.msg);
                cpu_set_t avail, both;
                if (sched_getaffinity(0, sizeof avail, &avail) == 0) {
                        CPU_AND(&both, &avail, &s->cpus);
                        if (CPU_COUNT(&both) == 0)
                                return run_error("--cpus '%s': none of these CPUs is available to "
                                                 "this process (%d are)",
                                                 arg, CPU_COUNT(&avail));
                }
                s->has_cpus = 1;
                return 0;
        }
        case OPT_CPU_WEIGHT:
                o->want_cgroup = 1;
                return num_opt("--cpu-weight", arg, 1, 10000, &o->lim.cpu_weight);
        case OPT_CPU_MAX: o->want_cgroup = 1; return parse_percent(arg, &o->lim);
        case OPT_NET:
                if (!strcmp(arg, "none"))
                        s->net = SB_NET_NONE;
                else if (!strcmp(arg, "host"))
                        s->net = SB_NET_HOST;
                else
                        return run_error("--net '%s': expected none or host", arg);
                return 0;
        case OPT_LISTEN: {
                if (s->n_fds == RUN_MAX_LISTEN)
                        return run_error("too many --listen (at most %d)", RUN_MAX_LISTEN);
                int fd = sl_listen_open(arg, o->names[s->n_fds], &err);
                if (fd < 0)
                        return run_error("--listen: %s", err.msg);
                o->fds[s->n_fds].fd = fd;
                o->fds[s->n_fds].name = o->names[s->n_fds];
                s->n_fds++;
                return 0;
        }
        case OPT_ENV: return add_env(o, arg);
        case OPT_HOSTNAME:
                if (!*arg || strlen(arg) > 63)
                        return run_error("--hostname '%s': must be 1-63 characters", arg);
                s->hostname = arg;
                return 0;
        case OPT_CWD:
                if (arg[0] != '/')
                        return run_error("--cwd '%s': must be an absolute path", arg);
                s->cwd = arg;
                return 0;
        case OPT_TMP_SIZE:
                if (sl_parse_size(arg, &s->tmp_size, 0, &err) < 0)
                        return run_error("--tmp-size: %s", err.msg);
                return 0;
        case OPT_TTY: s->dev_tty = 1; return 0;
        case OPT_UID:
                o->uid_set = 1;
                if (num_opt("--uid", arg, 1, 0xfffffffe, &v) < 0)
                        return -1;
                s->uid = (uid_t)v;
                return 0;
        case OPT_GID:
                o->gid_set = 1;
                if (num_opt("--gid", arg, 1, 0xfffffffe, &v) < 0)
                        return -1;
                s->gid = (gid_t)v;
                return 0;
        case OPT_CGROUP_ROOT: o->cgroup_root = arg; return 0;
        case 'v': s->log = verbose_log; return 0;
        }
        return run_error("unknown option (see `slicectl run --help`)");
}

static void default_env(struct run_opts *o)
{
        static char path[] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        static char home[] = "HOME=/tmp";
        static char lang[] = "LANG=C.UTF-8";
        o->env[o->n_env++] = path;
        o->env[o->n_env++] = home;
        o->env[o->n_env++] = lang;
        const char *term = getenv("TERM");
        if (term) {
                static char termbuf[128];
                snprintf(termbuf, sizeof termbuf, "TERM=%s", term);
                o->env[o->n_env++] = termbuf;
        }
}

static volatile sig_atomic_t g_pidfd = -1;
static volatile sig_atomic_t g_pending; /* arrived before the slice existed */

/* Forward to the reaper, which forwards to the command. pidfd_send_signal is
 * a plain syscall, safe in a handler. */
static void forward_signal(int sig)
{
        int saved = errno;
        if (g_pidfd >= 0)
                syscall(SYS_pidfd_send_signal, (int)g_pidfd, sig, NULL, 0);
        else
                g_pending = sig;
        errno = saved;
}

static void install_forwarding(int tty)
{
        static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
        struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < SL_ARRAY_SIZE(sigs); i++) {
                /* with the terminal shared, it delivers SIGINT/SIGQUIT itself */
                if (tty && (sigs[i] == SIGINT || sigs[i] == SIGQUIT)) {
                        signal(sigs[i], SIG_IGN);
                        continue;
                }
                sigaction(sigs[i], &sa, NULL);
        }
}

/* A `slicectl run` killed with SIGKILL cannot remove its cgroup. The next
 * run removes such leftovers: run-<pid> whose pid is gone. rmdir refuses a
 * cgroup that still has processes, so a live slice is never touched. */
static void sweep_stale_runs(const struct sb_cgroup_sys *sys)
{
        for (unsigned h = 0; h < sys->n_hier; h++) {
                char dir[PATH_MAX];
                snprintf(dir, sizeof dir, "%s/%s%s%s", sys->fsroot, sys->hier[h].dir,
                         sys->hier[h].dir[0] ? "/" : "", sys->base);
                DIR *d = opendir(dir);
                if (!d)
                        continue;
                struct dirent *e;
                while ((e = readdir(d))) {
                        char *end;
                        if (strncmp(e->d_name, "run-", 4))
                                continue;
                        long pid = strtol(e->d_name + 4, &end, 10);
                        if (*end || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
                                continue;
                        char path[PATH_MAX + 300];
                        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                        rmdir(path);
                }
                closedir(d);
        }
}

static int setup_cgroup(struct run_opts *o, struct sb_cgroup **cg)
{
        /* Only when a limit is asked for: without one the slice needs no
         * cgroup (the pid namespace already takes every process down with
         * pid 1), and attaching to a v1 hierarchy costs an RCU grace period. */
        if (!o->want_cgroup)
                return 0;
        struct sb_cgroup_sys sys;
        struct sl_error err;
        char name[64];
        snprintf(name, sizeof name, "run-%d", (int)getpid());
        if (sb_cgroup_sys_init(&sys, o->cgroup_root ? o->cgroup_root : CGROUP_FSROOT, "sliced",
                               &err) < 0 ||
            sb_cgroup_create(&sys, name, &o->lim, cg, &err) < 0) {
                return run_error("resource limits need a cgroup: %s", err.msg);
        }
        sweep_stale_runs(&sys);
        o->spec.cgroup = *cg;
        return 0;
}

static int report_exit(const struct sb_exit *ex, struct sb_cgroup *cg, const struct run_opts *o)
{
        uint64_t ooms = 0;
        struct sl_error err;
        if (cg && sb_cgroup_oom_kills(cg, &ooms, &err) == 0 && ooms > 0) {
                fprintf(
                    stderr,
                    "slicectl: run: `%s` was killed by the OOM killer (memory limit %llu bytes)\n",
                    o->spec.argv[0], (unsigned long long)o->lim.memory_max);
                return 128 + SIGKILL;
        }
        if (ex->kind == SB_EXIT_SIGNAL && o->spec.log)
                fprintf(stderr, "slicectl: run: `%s` killed by signal %d (%s)%s\n", o->spec.argv[0],
                        ex->signal, strsignal(ex->signal), ex->core ? ", core dumped" : "");
        return sb_exit_status(ex);
}

int cli_run(int argc, char **argv)
{
        static struct run_opts o; /* large: keep it off the stack */
        memset(&o, 0, sizeof o);
        o.spec.parent_fd = -1;
        o.spec.userns = -1;
        o.spec.stdio[0] = o.spec.stdio[1] = o.spec.stdio[2] = -1;
        default_env(&o);

        int c;
        optind = 1;
        opterr = 0; /* our own messages, prefixed like every other */
        while ((c = getopt_long(argc, argv, "+:vh", run_long, NULL)) != -1) {
                if (c == 'h') {
                        fputs(run_usage, stdout);
                        return 0;
                }
                if (c == '?' || c == ':') {
                        run_error("option '%s' %s (see `slicectl run --help`)", argv[optind - 1],
                                  c == ':' ? "needs a value" : "is unknown");
                        return CLI_EXIT_SETUP;
                }
                if (parse_one(&o, c, optarg) < 0)
                        return CLI_EXIT_SETUP;
        }
        if (optind >= argc) {
                run_error("no command given (usage: slicectl run [OPTIONS] -- COMMAND [ARG...])");
                return CLI_EXIT_SETUP;
        }
        o.spec.argv = argv + optind;
        o.env[o.n_env] = NULL;
        o.spec.env = o.env;
        o.spec.binds = o.binds;
        o.spec.fds = o.fds;
        if (geteuid() == 0) {
                if (!o.uid_set)
                        o.spec.uid = RUN_UID_FIRST + (uid_t)getpid() % RUN_UID_COUNT;
                if (!o.gid_set)
                        o.spec.gid = o.spec.uid;
        } else {
                if (!o.uid_set)
                        o.spec.uid = geteuid();
                if (!o.gid_set)
                        o.spec.gid = getegid();
        }

        struct sb_cgroup *cg = NULL;
        if (setup_cgroup(&o, &cg) < 0)
                return CLI_EXIT_SETUP;

        struct sb_slice slice;
        struct sl_error err;
        int exec_failed = 0;
        install_forwarding(o.spec.dev_tty);
        if (sb_spawn(&o.spec, &slice, &exec_failed, &err) < 0) {
                int code = CLI_EXIT_SETUP;
                if (exec_failed) {
                        code = err.code == ENOENT ? CLI_EXIT_NOTFOUND : CLI_EXIT_NOEXEC;
                        run_error(
                            "%s%s", err.msg,
                            err.code == ENOENT
                                ? " (only system paths and --ro/--rw grants exist in the slice)"
                                : "");
                } else {
                        run_error("%s", err.msg);
                }
                sb_cgroup_destroy(cg, NULL);
                return code;
        }
        g_pidfd = slice.pidfd;
        if (g_pending) /* e.g. Ctrl-C during setup: deliver it now */
                sb_signal(&slice, g_pending, NULL);
        char *unix_paths[RUN_MAX_LISTEN] = {0};
        for (size_t i = 0; i < o.spec.n_fds; i++) {
                struct sockaddr_un sa;
                socklen_t len = sizeof sa;
                /* socket files we created are ours to remove afterwards */
                if (getsockname(o.fds[i].fd, (struct sockaddr *)&sa, &len) == 0 &&
                    sa.sun_family == AF_UNIX && sa.sun_path[0])
                        unix_paths[i] = strndup(sa.sun_path, sizeof sa.sun_path);
                close(o.fds[i].fd); /* the slice holds them now */
        }

        struct sb_exit ex;
        int status;
        if (sb_wait(&slice, &ex, &err) < 0) {
                run_error("%s", err.msg);
                status = CLI_EXIT_SETUP;
        } else {
                status = report_exit(&ex, cg, &o);
        }
        g_pidfd = -1;
        for (size_t i = 0; i < o.spec.n_fds; i++) {
                if (unix_paths[i])
                        unlink(unix_paths[i]);
                free(unix_paths[i]);
        }
        if (sb_cgroup_destroy(cg, &err) < 0 && o.spec.log)
                run_error("cleanup: %s", err.msg);
        return status;
}
