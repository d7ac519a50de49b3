/* Private to the spawn mechanism: the plan the caller prepares before clone
 * and the messages the slice sends back. Everything the child needs is
 * computed before clone3, so the child path allocates nothing. */
#ifndef SB_SPAWN_INTERNAL_H
#define SB_SPAWN_INTERNAL_H

#include <limits.h>
#include <stdint.h>

#include "sandbox/seccomp.h"
#include "sandbox/spawn.h"

/* Messages from the reaper/command to the caller. Smaller than PIPE_BUF, so
 * each write() is atomic even with two writers on one pipe. */
enum sb_msg_type { SB_MSG_STEP = 1, SB_MSG_ERROR, SB_MSG_STARTED, SB_MSG_EXIT, SB_MSG_NSFDS };
#define SB_MSG_DETAIL_MAX 300
struct sb_msg {
        uint32_t type;
        uint32_t step;
        int32_t err;    /* errno for SB_MSG_ERROR */
        int32_t status; /* wait status for SB_MSG_EXIT; SB_MSG_NSFDS: bit per enum
                           sb_ns sent, the fds in that order */
        int32_t pid;    /* command pid inside, for SB_MSG_STARTED */
        char detail[SB_MSG_DETAIL_MAX];
};

enum sb_mount_kind {
        SB_MNT_BIND,       /* src (under /oldroot) onto dest; ro unless rw */
        SB_MNT_DEV,        /* device node bind: keeps dev, adds nosuid,noexec */
        SB_MNT_SYMLINK,    /* dest -> src (target text) */
        SB_MNT_TMPFS,      /* tmpfs on dest with data options */
        SB_MNT_PROC,       /* fresh proc on dest */
        SB_MNT_DIR,        /* mkdir dest */
        SB_MNT_RO_SELF,    /* bind dest onto itself read-only (masks /proc/sys...) */
        SB_MNT_MASK,       /* bind /dev/null over dest if it exists */
        SB_MNT_REMOUNT_RO, /* make the mount at dest read-only (not recursive) */
        SB_MNT_OVERLAY,    /* read-only overlayfs on dest; src holds its whole
                              option string ("lowerdir=/oldroot/a:/oldroot/b,...") */
};

struct sb_mount_op {
        enum sb_mount_kind kind;
        char src[PATH_MAX];  /* absolute, already prefixed with /oldroot; for
                                SB_MNT_OVERLAY the option string, which PATH_MAX
                                (one page) also bounds: mount(2) copies at most a
                                page of options */
        char dest[PATH_MAX]; /* absolute, already prefixed with /newroot */
        int rw;
        int is_dir;    /* src is a directory (else a file) */
        int optional;  /* skip silently when the source is missing */
        char data[96]; /* tmpfs options */
};

struct sb_child_ctx {
        const struct sb_spec *spec;
        int use_userns;
        int report_wr;    /* to the caller */
        int sync_rd;      /* caller says go */
        int caller_pidfd; /* the caller, to notice its death across the uid change */
        struct sb_mount_op *mounts;
        size_t n_mounts;
        char **envp;      /* spec env + activation variables */
        char *listen_pid; /* points into envp: "LISTEN_PID=" + digits buffer */
        size_t listen_pid_cap;
        struct sb_seccomp_prog prog;
        struct sb_seccomp_prog reaper_prog;
        char hostname[64];
};

/* Child side (child.c): runs as pid 1 of the slice, never returns. */
_Noreturn void sb_reaper_main(struct sb_child_ctx *ctx);

/* Root filesystem (rootfs.c). */
int sb_rootfs_plan(const struct sb_spec *spec, struct sb_mount_op **ops, size_t *n,
                   struct sl_error *err);
/* Child side: runs the plan and pivots. On failure fills step and msg. */
int sb_rootfs_build(const struct sb_child_ctx *ctx, enum sb_step *step, char *msg, size_t msglen);

/* Shared by the command and exec-in children (child.c): change to uid/gid
 * with no capability left and no_new_privs; read it back from /proc. */
int sb_drop_privileges(uid_t uid, gid_t gid, int userns, enum sb_step *step, char *msg, size_t len);
int sb_verify_restrictions(uid_t uid, char *msg, size_t len);

/* Report helpers used by the child. */
void sb_report(int fd, enum sb_msg_type type, enum sb_step step, int err, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

#endif
