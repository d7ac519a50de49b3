/* sliced's own settings (conf/sliced.conf, YAML): where state lives, which
 * cgroup subtree and uid range it uses, where logs go. Every setting can be
 * overridden on the command line. */
#ifndef SV_CONFIG_H
#define SV_CONFIG_H

#include <limits.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"

enum sv_log_target { SV_LOG_AUTO = 0, SV_LOG_JOURNAL, SV_LOG_STDERR };

struct sv_config {
        char state_dir[PATH_MAX];     /* default /var/lib/sliced */
        char store_dir[PATH_MAX];     /* package store; default <state_dir>/store */
        char runtime_dir[PATH_MAX];   /* default /run/sliced */
        char topology[PATH_MAX];      /* default /etc/sliced/slices.d */
        char api_socket[PATH_MAX];    /* default <runtime_dir>/api.sock */
        char cgroup_fsroot[PATH_MAX]; /* default /sys/fs/cgroup */
        char cgroup_base[256];        /* default "sliced" */
        uid_t uid_first;              /* default 200000 */
        uint32_t uid_count;           /* default 65536 */
        enum sv_log_target log_target;
        uint32_t log_ring_lines; /* per-slice ring buffer; default 1000 */
        uint64_t route_wait_ms;  /* session wait for a server (issue 4); default 5000 */
};

void sv_config_defaults(struct sv_config *cfg);

/* Read a YAML mapping of scalars; unknown keys and bad values are errors
 * naming file:line:column. Keys not present keep their current value. */
int sv_config_load(const char *file, struct sv_config *cfg, struct sl_error *err);

/* store_dir follows state_dir: when c's state_dir differs from old's and
 * c's store_dir is still old's default (<state_dir>/store), c's becomes
 * <new state_dir>/store. -1 when that path is too long. */
int sv_config_follow_state_dir(const struct sv_config *old, struct sv_config *c);

/* One setting by its sliced.conf key (command-line overrides), with the same
 * checks as the file. */
int sv_config_set(struct sv_config *cfg, const char *key, const char *value, struct sl_error *err);

#endif
