/* Spawning a slice: one command, fully confined.
 *
 * sb_spawn() clones a reaper into new namespaces; the reaper builds the root,
 * forks the command, and the command drops every privilege, installs its
 * seccomp filter and execs. sb_spawn returns once the command has exec'd, or
 * fails naming the exact setup step and errno (docs/architecture.md has the
 * sequence and why it is in that order).
 */
#ifndef SB_SPAWN_H
#define SB_SPAWN_H

#include <sched.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/error.h"
#include "sandbox/cgroup.h"

/* Setup steps, in the order they run. Reported in errors and, when verbose,
 * as they happen. */
enum sb_step {
        SB_STEP_CLONE = 1,
        SB_STEP_PDEATHSIG,
        SB_STEP_SYNC,
        SB_STEP_USERNS_MAP,
        SB_STEP_CGROUP,
        SB_STEP_MOUNT_PRIVATE,
        SB_STEP_MOUNT_BASE,
        SB_STEP_MOUNT_ROOT,
        SB_STEP_MOUNT_BIND,
        SB_STEP_MOUNT_OVERLAY,
        SB_STEP_MOUNT_PROC,
        SB_STEP_MOUNT_DEV,
        SB_STEP_MOUNT_TMP,
        SB_STEP_PIVOT_ROOT,
        SB_STEP_HOSTNAME,
        SB_STEP_LOOPBACK,
        SB_STEP_RLIMITS,
        SB_STEP_AFFINITY,
        SB_STEP_FORK_COMMAND,
        SB_STEP_FDS,
        SB_STEP_CHDIR,
        SB_STEP_SETID,
        SB_STEP_CAPS,
        SB_STEP_NO_NEW_PRIVS,
        SB_STEP_VERIFY,
        SB_STEP_SECCOMP,
        SB_STEP_EXEC,
        SB_STEP__MAX,
};
const char *sb_step_name(enum sb_step step);

struct sb_bind {
        const char *src;  /* host path (absolute) */
        const char *dest; /* path inside the slice (absolute) */
        int rw;           /* read-write; default read-only */
};

/* A read-only union of host directories at dest: overlayfs with lower
 * layers only (no upper layer, so nothing can be written through it), as a
 * package's archives are mounted at /pkg. The first directory is the top
 * layer: its files hide those of the same name below. Each directory must
 * be absolute, free of ':', ',' and '\\' (they would split or escape the
 * mount's option string), and there must be at least two (one directory is
 * a read-only struct sb_bind). */
struct sb_overlay {
        const char *const *lower; /* host directories, top layer first */
        size_t n_lower;
        const char *dest; /* path inside the slice (absolute) */
};

struct sb_fd_grant {
        int fd;           /* in the caller; duplicated into the slice */
        const char *name; /* LISTEN_FDNAMES entry */
};

enum sb_net { SB_NET_NONE = 0, SB_NET_HOST };

/* Where setup messages go when verbose (one line, no newline). */
typedef void (*sb_log_fn)(void *ctx, const char *line);

struct sb_spec {
        char *const *argv;   /* argv[0] looked up in the slice's PATH */
        char *const *env;    /* complete environment, NULL-terminated */
        const char *profile; /* seccomp profile: posix, strict, or a file */
        const struct sb_bind *binds;
        size_t n_binds;
        const struct sb_overlay *overlays; /* mounted before the binds */
        size_t n_overlays;
        int no_system_paths;  /* do not bind /usr, /lib*, /bin, /sbin, /etc subset */
        const char *hostname; /* default "slice" */
        enum sb_net net;
        const struct sb_fd_grant *fds; /* socket-activation fds: 3, 4, ... */
        size_t n_fds;
        int parent_fd;  /* >=0: passed after the activation fds, number
                           in SLICE_PARENT_FD */
        uint64_t files; /* RLIMIT_NOFILE; 0 = SB_DEFAULT_FILES */
        cpu_set_t cpus;
        int has_cpus;
        uint64_t tmp_size; /* bytes of /tmp; 0 = SB_DEFAULT_TMP_SIZE */
        int dev_tty;       /* bind /dev/tty (and keep stdin a tty) */
        int userns;        /* 1: user namespace, 0: none (root only), -1: auto */
        uid_t uid;         /* uid/gid the command runs as (inside) */
        gid_t gid;
        struct sb_cgroup *cgroup; /* optional; the slice is placed in it */
        const char *cwd;          /* inside the slice; default "/" */
        int stdio[3];             /* fds for 0,1,2; -1 = inherit the caller's */
        sb_log_fn log;            /* verbose step log; NULL = quiet */
        void *log_ctx;
};

/* Figures behind the defaults. */
#define SB_DEFAULT_FILES    1024          /* glibc's soft default for RLIMIT_NOFILE */
#define SB_FDS_MAX          253           /* granted fds (+ parent channel): 3..255 */
#define SB_DEFAULT_TMP_SIZE (64ull << 20) /* /tmp tmpfs; counted in the memory cgroup */

/* The namespaces of a running slice, held open by fd (sent by the reaper
 * once they are final). They let sb_exec_in enter the slice without a
 * ptrace-style access check on the reaper, which is not dumpable. */
enum sb_ns {
        SB_NS_USER = 0,
        SB_NS_MNT,
        SB_NS_PID,
        SB_NS_NET,
        SB_NS_IPC,
        SB_NS_UTS,
        SB_NS_CGROUP,
        SB_NS__COUNT
};

struct sb_slice {
        pid_t pid;                /* reaper (pid 1 inside), in the caller's pid namespace */
        int pidfd;                /* of the reaper */
        int report_fd;            /* reaper -> caller messages (exit status) */
        pid_t inner_pid;          /* the command's pid inside the slice */
        int ns_fds[SB_NS__COUNT]; /* -1 where the slice shares the caller's */
};

enum sb_exit_kind { SB_EXIT_CODE = 0, SB_EXIT_SIGNAL };
struct sb_exit {
        enum sb_exit_kind kind;
        int code;   /* exit status (SB_EXIT_CODE) */
        int signal; /* terminating signal (SB_EXIT_SIGNAL) */
        int core;   /* dumped core */
};

/* Spawn; on success the command has exec'd and out is filled. On failure
 * err says "step: detail: strerror" and err->code is the errno. A failure of
 * the final exec sets *exec_failed (so callers can map ENOENT to 127, EACCES
 * to 126 as shells do). */
int sb_spawn(const struct sb_spec *spec, struct sb_slice *out, int *exec_failed,
             struct sl_error *err);

/* Block until the slice ends; fills how the command ended (the reaper's own
 * status if it died before telling). Closes the slice's fds. */
int sb_wait(struct sb_slice *s, struct sb_exit *ex, struct sl_error *err);

/* Send a signal to the slice's reaper, which forwards it to the command. */
int sb_signal(const struct sb_slice *s, int sig, struct sl_error *err);

/* Run a command inside a running slice — its namespaces, its cgroup, its
 * uid, no capabilities, no_new_privs, a seccomp profile — as exec health
 * probes do. out gets a pidfd of a helper whose exit status is the
 * command's (sb_wait works on it); SIGKILL to the helper kills the command
 * too. */
struct sb_exec_spec {
        char *const *argv;
        char *const *env;
        const char *profile; /* default posix */
        uid_t uid;
        gid_t gid;
        int userns;               /* the slice has a user namespace */
        struct sb_cgroup *cgroup; /* the slice's, or NULL */
        int stdio[3];             /* -1: /dev/null */
};
int sb_exec_in(const struct sb_slice *slice, const struct sb_exec_spec *x, struct sb_slice *out,
               struct sl_error *err);

/* 128+N / N, as shells report it. */
int sb_exit_status(const struct sb_exit *ex);

#endif
