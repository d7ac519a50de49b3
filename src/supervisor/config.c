/* sliced.conf: a YAML mapping of scalars, read with the topology's tree
 * reader so errors name file:line:column the same way. The file is applied
 * whole or not at all: values go to a copy, which replaces *cfg only when
 * every key was valid. */
#include "supervisor/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/parse.h"
#include "supervisor/topology_internal.h"

/* A config file is a dozen lines; this bounds what a wrong path (a log, a
 * device) can make us read. */
#define CONFIG_MAX_SIZE (64 * 1024)
/* Longest unix socket path: sizeof(sockaddr_un.sun_path) - 1. */
#define API_SOCKET_MAX 107
/* A per-slice ring of a million lines is already ~100 MB per slice. */
#define LOG_RING_LINES_MAX 1000000
/* (uid_t)-1 means "no change" to setresuid and chown: never a real uid. */
#define UID_LAST_MAX 4294967294ull

#define DEFAULT_STATE_DIR      "/var/lib/sliced"
#define DEFAULT_RUNTIME_DIR    "/run/sliced"
#define DEFAULT_TOPOLOGY       "/etc/sliced/slices.d"
#define API_SOCKET_NAME        "api.sock"
#define STORE_DIR_NAME         "store"
#define DEFAULT_CGROUP_FSROOT  "/sys/fs/cgroup"
#define DEFAULT_CGROUP_BASE    "sliced"
#define DEFAULT_UID_FIRST      200000
#define DEFAULT_UID_COUNT      65536
#define DEFAULT_LOG_RING_LINES 1000
#define DEFAULT_ROUTE_WAIT_MS  5000

void sv_config_defaults(struct sv_config *cfg)
{
        memset(cfg, 0, sizeof *cfg);
        snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", DEFAULT_STATE_DIR);
        snprintf(cfg->store_dir, sizeof cfg->store_dir, "%s/%s", DEFAULT_STATE_DIR, STORE_DIR_NAME);
        snprintf(cfg->runtime_dir, sizeof cfg->runtime_dir, "%s", DEFAULT_RUNTIME_DIR);
        snprintf(cfg->topology, sizeof cfg->topology, "%s", DEFAULT_TOPOLOGY);
        snprintf(cfg->api_socket, sizeof cfg->api_socket, "%s/%s", DEFAULT_RUNTIME_DIR,
                 API_SOCKET_NAME);
        snprintf(cfg->cgroup_fsroot, sizeof cfg->cgroup_fsroot, "%s", DEFAULT_CGROUP_FSROOT);
        snprintf(cfg->cgroup_base, sizeof cfg->cgroup_base, "%s", DEFAULT_CGROUP_BASE);
        cfg->uid_first = DEFAULT_UID_FIRST;
        cfg->uid_count = DEFAULT_UID_COUNT;
        cfg->log_target = SV_LOG_AUTO;
        cfg->log_ring_lines = DEFAULT_LOG_RING_LINES;
        cfg->route_wait_ms = DEFAULT_ROUTE_WAIT_MS;
}

/* A verdict on the file's content: errno EINVAL, but no strerror text
 * appended to a message that already says what is wrong. */
static int bad_input(struct sl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int bad_input(struct sl_error *err, const char *fmt, ...)
{
        if (!err)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = EINVAL;
        return -1;
}

/* Each setter checks one value; on failure it fills e with a message that
 * quotes the value (the caller adds file:line:col and the key). */
typedef int (*setter_fn)(struct sv_config *c, const char *v, struct sl_error *e);

static int set_path(char *dst, size_t cap, const char *v, struct sl_error *e)
{
        if (sv_check_abs_path(v, "path", e) < 0)
                return -1;
        if (strlen(v) >= cap)
                return sl_error_set(e, 0, "path is longer than %zu bytes", cap - 1);
        /* no stale bytes after the NUL: configs compare with memcmp */
        memset(dst, 0, cap);
        memcpy(dst, v, strlen(v));
        return 0;
}

static int set_state_dir(struct sv_config *c, const char *v, struct sl_error *e)
{
        return set_path(c->state_dir, sizeof c->state_dir, v, e);
}

static int set_store_dir(struct sv_config *c, const char *v, struct sl_error *e)
{
        return set_path(c->store_dir, sizeof c->store_dir, v, e);
}

static int set_runtime_dir(struct sv_config *c, const char *v, struct sl_error *e)
{
        return set_path(c->runtime_dir, sizeof c->runtime_dir, v, e);
}

static int set_topology(struct sv_config *c, const char *v, struct sl_error *e)
{
        return set_path(c->topology, sizeof c->topology, v, e);
}

static int set_api_socket(struct sv_config *c, const char *v, struct sl_error *e)
{
        if (strlen(v) > API_SOCKET_MAX)
                return sl_error_set(e, 0,
                                    "'%s' is longer than a unix socket path can be (%d bytes)", v,
                                    API_SOCKET_MAX);
        return set_path(c->api_socket, sizeof c->api_socket, v, e);
}

static int set_cgroup_root(struct sv_config *c, const char *v, struct sl_error *e)
{
        return set_path(c->cgroup_fsroot, sizeof c->cgroup_fsroot, v, e);
}

static int set_cgroup_base(struct sv_config *c, const char *v, struct sl_error *e)
{
        char abs[sizeof c->cgroup_base + 1];
        if (!*v || v[0] == '/')
                return sl_error_set(
                    e, 0, "'%s' is not a relative cgroup path (e.g. sliced or system.slice/sliced)",
                    v);
        if (strlen(v) >= sizeof c->cgroup_base)
                return sl_error_set(e, 0, "'%s' is longer than %zu bytes", v,
                                    sizeof c->cgroup_base - 1);
        snprintf(abs, sizeof abs, "/%s", v);
        if (sv_check_abs_path(abs, "cgroup path", e) < 0)
                return -1;
        memset(c->cgroup_base, 0, sizeof c->cgroup_base);
        memcpy(c->cgroup_base, v, strlen(v));
        return 0;
}

static int set_uid_range(struct sv_config *c, const char *v, struct sl_error *e)
{
        char first[32];
        const char *dash = strchr(v, '-');
        uint64_t lo, hi;
        struct sl_error pe;
        if (!dash || (size_t)(dash - v) >= sizeof first)
                return sl_error_set(e, 0, "'%s' is not a range FIRST-LAST (e.g. 200000-265535)", v);
        memcpy(first, v, (size_t)(dash - v));
        first[dash - v] = '\0';
        /* uid 0 is root: never hand it to a slice */
        if (sl_parse_u64(first, 1, UID_LAST_MAX, &lo, &pe) < 0 ||
            sl_parse_u64(dash + 1, 1, UID_LAST_MAX, &hi, &pe) < 0)
                return sl_error_set(e, 0, "'%s': %s", v, pe.msg);
        if (hi < lo)
                return sl_error_set(e, 0, "'%s': the last uid is below the first", v);
        c->uid_first = (uid_t)lo;
        c->uid_count = (uint32_t)(hi - lo + 1);
        return 0;
}

static int set_log_target(struct sv_config *c, const char *v, struct sl_error *e)
{
        static const char *const names[] = {"auto", "journal", "stderr"};
        static const enum sv_log_target vals[] = {SV_LOG_AUTO, SV_LOG_JOURNAL, SV_LOG_STDERR};
        for (size_t i = 0; i < SL_ARRAY_SIZE(names); i++)
                if (!strcmp(v, names[i])) {
                        c->log_target = vals[i];
                        return 0;
                }
        const char *hint = sv_suggest(v, names, SL_ARRAY_SIZE(names));
        if (hint)
                return sl_error_set(
                    e, 0, "'%s' is not auto, journal or stderr (did you mean '%s'?)", v, hint);
        return sl_error_set(e, 0, "'%s' is not auto, journal or stderr", v);
}

static int set_log_ring_lines(struct sv_config *c, const char *v, struct sl_error *e)
{
        uint64_t n;
        if (sl_parse_u64(v, 0, LOG_RING_LINES_MAX, &n, e) < 0)
                return -1;
        c->log_ring_lines = (uint32_t)n;
        return 0;
}

static int set_route_wait(struct sv_config *c, const char *v, struct sl_error *e)
{
        return sv_parse_duration(v, &c->route_wait_ms, e);
}

static const struct {
        const char *key;
        setter_fn set;
} config_keys[] = {
    {"state_dir", set_state_dir},     {"store_dir", set_store_dir},
    {"runtime_dir", set_runtime_dir}, {"topology", set_topology},
    {"api_socket", set_api_socket},   {"cgroup_root", set_cgroup_root},
    {"cgroup_base", set_cgroup_base}, {"uid_range", set_uid_range},
    {"log_target", set_log_target},   {"log_ring_lines", set_log_ring_lines},
    {"route_wait", set_route_wait},
};

/* The first problem is the message; the count says whether there are more. */
struct config_errors {
        const char *file;
        struct sl_error *err;
        size_t n;
};

static void config_err(struct config_errors *ce, const struct sv_pos *pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void config_err(struct config_errors *ce, const struct sv_pos *pos, const char *fmt, ...)
{
        if (ce->n++ > 0)
                return;
        char body[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(body, sizeof body, fmt, ap);
        va_end(ap);
        bad_input(ce->err, "%s:%d:%d: %s", ce->file, pos->line, pos->col, body);
}

static void apply_key(struct config_errors *ce, const struct sv_node *k, struct sv_config *c,
                      int *api_set, int *store_set)
{
        const char *names[SL_ARRAY_SIZE(config_keys)];
        struct sl_error e;
        const struct sv_node *v = k->value;
        size_t i;
        if (k->dup_of) {
                config_err(ce, &k->pos, "duplicate key '%s' (first at %d:%d)", k->str,
                           k->dup_of->pos.line, k->dup_of->pos.col);
                return;
        }
        for (i = 0; i < SL_ARRAY_SIZE(config_keys); i++) {
                names[i] = config_keys[i].key;
                if (!strcmp(k->str, config_keys[i].key))
                        break;
        }
        if (i == SL_ARRAY_SIZE(config_keys)) {
                const char *hint = sv_suggest(k->str, names, SL_ARRAY_SIZE(names));
                if (hint)
                        config_err(ce, &k->pos, "unknown key '%s' (did you mean '%s'?)", k->str,
                                   hint);
                else
                        config_err(ce, &k->pos, "unknown key '%s'", k->str);
                return;
        }
        if (!v || v->kind != SV_NODE_SCALAR || v->is_null) {
                config_err(ce, v ? &v->pos : &k->pos, "%s: expected a string, got %s", k->str,
                           sv_node_kind_name(v));
                return;
        }
        if (config_keys[i].set(c, v->str, &e) < 0) {
                config_err(ce, &v->pos, "%s: %s", k->str, e.msg);
                return;
        }
        if (config_keys[i].set == set_api_socket)
                *api_set = 1;
        if (config_keys[i].set == set_store_dir)
                *store_set = 1;
}

static int read_config(const char *file, char **text, size_t *len, struct sl_error *err)
{
        _cleanup_close_ int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return sl_error_errno(err, "config `%s`", file);
        if (!S_ISREG(st.st_mode))
                return bad_input(err, "config `%s`: not a regular file", file);
        _cleanup_free_ char *buf = malloc(CONFIG_MAX_SIZE + 1);
        size_t n = 0;
        if (!buf)
                return sl_error_set(err, ENOMEM, "config `%s`", file);
        for (;;) {
                ssize_t r = read(fd, buf + n, CONFIG_MAX_SIZE + 1 - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return sl_error_errno(err, "config `%s`: read", file);
                if (r == 0 || (n += (size_t)r) > CONFIG_MAX_SIZE)
                        break;
        }
        if (n > CONFIG_MAX_SIZE)
                return bad_input(err, "config `%s`: larger than %d bytes", file, CONFIG_MAX_SIZE);
        *text = SL_STEAL_PTR(buf);
        *len = n;
        return 0;
}

int sv_config_load(const char *file, struct sv_config *cfg, struct sl_error *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        if (read_config(file, &text, &len, err) < 0)
                return -1;
        struct sv_arena arena = {0};
        struct sv_node *root = NULL;
        struct sv_pos epos;
        struct sl_error e = {0};
        if (sv_tree_parse(&arena, file, text, len, SV_DOC_YAML, &root, &epos, &e) < 0) {
                sv_arena_release(&arena);
                if (e.code == ENOMEM)
                        return sl_error_set(err, ENOMEM, "config `%s`", file);
                return bad_input(err, "%s:%d:%d: %s", file, epos.line, epos.col, e.msg);
        }
        struct sv_config c = *cfg;
        struct config_errors ce = {.file = file, .err = err};
        int api_set = 0, store_set = 0;
        if (root && (root->kind != SV_NODE_MAP || root->is_null))
                config_err(&ce, &root->pos, "expected a mapping of settings, got %s",
                           sv_node_kind_name(root));
        else if (root)
                for (const struct sv_node *k = root->first; k; k = k->next)
                        apply_key(&ce, k, &c, &api_set, &store_set);
        sv_arena_release(&arena);
        if (ce.n > 1 && err) {
                size_t used = strlen(err->msg);
                snprintf(err->msg + used, sizeof err->msg - used, " (and %zu more error%s)",
                         ce.n - 1, ce.n == 2 ? "" : "s");
        }
        if (ce.n)
                return -1;
        /* api_socket defaults to <runtime_dir>/api.sock: it follows a new
         * runtime_dir unless it was set on its own */
        char old_default[sizeof cfg->runtime_dir + sizeof API_SOCKET_NAME + 1];
        char new_default[sizeof old_default];
        snprintf(old_default, sizeof old_default, "%s/%s", cfg->runtime_dir, API_SOCKET_NAME);
        snprintf(new_default, sizeof new_default, "%s/%s", c.runtime_dir, API_SOCKET_NAME);
        if (!api_set && strcmp(c.runtime_dir, cfg->runtime_dir) &&
            !strcmp(cfg->api_socket, old_default)) {
                if (strlen(new_default) > API_SOCKET_MAX)
                        return sl_error_set(err, EINVAL,
                                            "%s: runtime_dir is too long for %s (a unix socket "
                                            "path); set api_socket",
                                            file, new_default);
                memset(c.api_socket, 0, sizeof c.api_socket);
                memcpy(c.api_socket, new_default, strlen(new_default));
        }
        /* store_dir defaults to <state_dir>/store the same way */
        if (!store_set && sv_config_follow_state_dir(cfg, &c) < 0)
                return sl_error_set(err, EINVAL,
                                    "%s: state_dir is too long for %s/%s; set store_dir", file,
                                    c.state_dir, STORE_DIR_NAME);
        *cfg = c;
        return 0;
}

int sv_config_follow_state_dir(const struct sv_config *old, struct sv_config *c)
{
        char old_default[sizeof old->state_dir + sizeof STORE_DIR_NAME + 1];
        char new_default[sizeof old_default];
        snprintf(old_default, sizeof old_default, "%s/%s", old->state_dir, STORE_DIR_NAME);
        snprintf(new_default, sizeof new_default, "%s/%s", c->state_dir, STORE_DIR_NAME);
        if (!strcmp(c->state_dir, old->state_dir) || strcmp(c->store_dir, old_default))
                return 0;
        if (strlen(new_default) >= sizeof c->store_dir)
                return -1;
        memset(c->store_dir, 0, sizeof c->store_dir);
        memcpy(c->store_dir, new_default, strlen(new_default));
        return 0;
}

int sv_config_set(struct sv_config *cfg, const char *key, const char *value, struct sl_error *err)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(config_keys); i++)
                if (!strcmp(config_keys[i].key, key)) {
                        if (config_keys[i].set(cfg, value, err) < 0)
                                return sl_error_prefix(err, "%s", key);
                        return 0;
                }
        return sl_error_set(err, 0, "unknown setting '%s'", key);
}
