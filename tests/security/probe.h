/* The escape probe: one binary that runs inside a slice and tries one way out
 * per invocation (escape_probe.c has the table and the command line).
 *
 * An attempt is a function that tries the escape once and records what the
 * kernel did in a struct probe_result:
 *   - the call failed with an errno (PROBE_ERRNO), which the driver compares
 *     with the errnos the table expects for the profile;
 *   - the escape worked, or the call got past the privilege check the
 *     sandbox relies on (PROBE_ESCAPED): always a failure;
 *   - a property of the slice that cannot be "attempted" holds (PROBE_HOLDS:
 *     no capability left, only lo, /proc/kcore masked...).
 * Attempts the seccomp filter is expected to kill (SIGSYS) never return; the
 * runner sees the signal in slicectl's exit status.
 *
 * Every attempt is harmless if it does succeed: arguments are chosen so the
 * kernel rejects them right after the privilege check (an invalid magic, an
 * out-of-range value, a path that does not exist), and whatever it did
 * create is undone before reporting. So the probe can also run unconfined
 * (it then reports ESCAPED), which is how it is shown to detect an escape.
 */
#ifndef SL_ESCAPE_PROBE_H
#define SL_ESCAPE_PROBE_H

#include <stddef.h>

enum probe_kind { PROBE_ERRNO = 1, PROBE_ESCAPED, PROBE_HOLDS };

/* Room for a path, a syscall name and what came back. */
#define PROBE_DETAIL_MAX 256

struct probe_result {
        enum probe_kind kind;
        int err;                        /* PROBE_ERRNO */
        char detail[PROBE_DETAIL_MAX];  /* what happened, for the report line */
};

/* Extra input for an attempt: the runner may pass a host endpoint that is
 * known to be live (a TCP port on the host's loopback, an abstract unix
 * socket name), so "cannot reach it" is tested against something real. */
struct probe_ctx {
        const char *arg; /* NULL when the runner gave none */
        int strict;      /* running under the strict profile: no open, no
                            socket, no exec; checks use syscalls only */
};

typedef void (*probe_fn)(const struct probe_ctx *ctx, struct probe_result *r);

/* Recording an outcome. errno is captured by the caller (probe_failed takes
 * it explicitly so a cleanup in between cannot clobber it). */
void probe_failed(struct probe_result *r, int err, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
void probe_escaped(struct probe_result *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void probe_holds(struct probe_result *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* The usual shape: ret < 0 is a failure with errno, anything else means
 * the call went through. what names the call, e.g. "mount tmpfs on /tmp". */
void probe_call(struct probe_result *r, long ret, const char *what);

/* Like probe_call for calls whose privilege check comes before argument
 * validation: the arguments are deliberately invalid, so an errno in
 * `passed` (0-terminated, e.g. PROBE_PAST(EINVAL)) means the kernel got past
 * the privilege check - an escape, though a harmless one. */
void probe_call_past(struct probe_result *r, long ret, const char *what, const int *passed);
#define PROBE_PAST(...) ((const int[]){ __VA_ARGS__, 0 })

/* "EPERM" for EPERM; "errno N" when the C library has no name for it. */
const char *probe_errname(int err);

/* Read a whole small file (a /proc entry); returns bytes read or -1. */
long probe_read_file(const char *path, char *buf, size_t len);

/* The attempts, grouped by what they try to reach. */
/* escape_ns.c: mounts and namespaces */
void try_mount_tmpfs(const struct probe_ctx *, struct probe_result *);
void try_umount_root(const struct probe_ctx *, struct probe_result *);
void try_remount_root_rw(const struct probe_ctx *, struct probe_result *);
void try_mount_setattr_rw(const struct probe_ctx *, struct probe_result *);
void try_fsopen(const struct probe_ctx *, struct probe_result *);
void try_open_tree_clone(const struct probe_ctx *, struct probe_result *);
void try_pivot_root(const struct probe_ctx *, struct probe_result *);
void try_chroot(const struct probe_ctx *, struct probe_result *);
void try_unshare_user(const struct probe_ctx *, struct probe_result *);
void try_unshare_mount(const struct probe_ctx *, struct probe_result *);
void try_setns_net(const struct probe_ctx *, struct probe_result *);
void try_clone_newuser(const struct probe_ctx *, struct probe_result *);
void try_clone3(const struct probe_ctx *, struct probe_result *);

/* escape_proc.c: other processes, /proc, kill */
void try_ptrace_attach(const struct probe_ctx *, struct probe_result *);
void try_process_vm_readv(const struct probe_ctx *, struct probe_result *);
void try_process_vm_writev(const struct probe_ctx *, struct probe_result *);
void try_pidfd_getfd(const struct probe_ctx *, struct probe_result *);
void try_proc_pid1_environ(const struct probe_ctx *, struct probe_result *);
void try_proc_pid1_fd(const struct probe_ctx *, struct probe_result *);
void try_proc_pid1_mem(const struct probe_ctx *, struct probe_result *);
void try_proc_pid1_exe(const struct probe_ctx *, struct probe_result *);
void try_proc_only_slice(const struct probe_ctx *, struct probe_result *);
void try_kill_all(const struct probe_ctx *, struct probe_result *);

/* escape_kernel.c: kernel interfaces a slice has no business with */
void try_bpf_prog_load(const struct probe_ctx *, struct probe_result *);
void try_perf_event_open(const struct probe_ctx *, struct probe_result *);
void try_userfaultfd(const struct probe_ctx *, struct probe_result *);
void try_io_uring_setup(const struct probe_ctx *, struct probe_result *);
void try_keyctl(const struct probe_ctx *, struct probe_result *);
void try_add_key(const struct probe_ctx *, struct probe_result *);
void try_request_key(const struct probe_ctx *, struct probe_result *);
void try_kexec_load(const struct probe_ctx *, struct probe_result *);
void try_init_module(const struct probe_ctx *, struct probe_result *);
void try_finit_module(const struct probe_ctx *, struct probe_result *);
void try_delete_module(const struct probe_ctx *, struct probe_result *);
void try_open_by_handle_at(const struct probe_ctx *, struct probe_result *);
void try_name_to_handle_at(const struct probe_ctx *, struct probe_result *);
void try_tiocsti(const struct probe_ctx *, struct probe_result *);
void try_tioclinux(const struct probe_ctx *, struct probe_result *);
void try_acct(const struct probe_ctx *, struct probe_result *);
void try_swapon(const struct probe_ctx *, struct probe_result *);
void try_reboot(const struct probe_ctx *, struct probe_result *);
void try_settimeofday(const struct probe_ctx *, struct probe_result *);
void try_clock_settime(const struct probe_ctx *, struct probe_result *);
void try_adjtimex(const struct probe_ctx *, struct probe_result *);
void try_clock_adjtime(const struct probe_ctx *, struct probe_result *);
void try_syslog_read(const struct probe_ctx *, struct probe_result *);
void try_iopl(const struct probe_ctx *, struct probe_result *);
void try_ioperm(const struct probe_ctx *, struct probe_result *);
void try_personality_linux32(const struct probe_ctx *, struct probe_result *);
void try_personality_rie(const struct probe_ctx *, struct probe_result *);
void try_x32_syscall(const struct probe_ctx *, struct probe_result *);
void try_i386_int80(const struct probe_ctx *, struct probe_result *);
void try_unknown_syscall(const struct probe_ctx *, struct probe_result *);
void try_sched_fifo(const struct probe_ctx *, struct probe_result *);
void try_nice_raise(const struct probe_ctx *, struct probe_result *);
void try_exec_memory(const struct probe_ctx *, struct probe_result *);

/* escape_creds.c: identity, capabilities, limits, descriptors */
void try_setuid_root(const struct probe_ctx *, struct probe_result *);
void try_setgid_root(const struct probe_ctx *, struct probe_result *);
void try_setgroups(const struct probe_ctx *, struct probe_result *);
void try_capset_raise(const struct probe_ctx *, struct probe_result *);
void try_ambient_raise(const struct probe_ctx *, struct probe_result *);
void try_caps_zero(const struct probe_ctx *, struct probe_result *);
void try_no_new_privs(const struct probe_ctx *, struct probe_result *);
void try_seccomp_mode(const struct probe_ctx *, struct probe_result *);
void try_setuid_exec(const struct probe_ctx *, struct probe_result *);
void try_nofile_raise_hard(const struct probe_ctx *, struct probe_result *);
void try_nofile_exceed(const struct probe_ctx *, struct probe_result *);
void try_fds_closed(const struct probe_ctx *, struct probe_result *);
void try_sethostname(const struct probe_ctx *, struct probe_result *);

/* escape_fs.c: the file system layout */
void try_read_shadow(const struct probe_ctx *, struct probe_result *);
void try_host_home(const struct probe_ctx *, struct probe_result *);
void try_write_usr(const struct probe_ctx *, struct probe_result *);
void try_write_granted(const struct probe_ctx *, struct probe_result *);
void try_create_in_root(const struct probe_ctx *, struct probe_result *);
void try_granted_only(const struct probe_ctx *, struct probe_result *);
void try_mknod_device(const struct probe_ctx *, struct probe_result *);
void try_dev_disk(const struct probe_ctx *, struct probe_result *);
void try_dev_mem(const struct probe_ctx *, struct probe_result *);
void try_dev_minimal(const struct probe_ctx *, struct probe_result *);
void try_proc_sysrq_trigger(const struct probe_ctx *, struct probe_result *);
void try_proc_kcore(const struct probe_ctx *, struct probe_result *);
void try_proc_core_pattern(const struct probe_ctx *, struct probe_result *);
void try_sys_absent(const struct probe_ctx *, struct probe_result *);
void try_host_sockets(const struct probe_ctx *, struct probe_result *);
void try_tmp_size(const struct probe_ctx *, struct probe_result *);

/* escape_net.c: the network namespace */
void try_net_connect_host(const struct probe_ctx *, struct probe_result *);
void try_net_only_lo(const struct probe_ctx *, struct probe_result *);
void try_raw_socket(const struct probe_ctx *, struct probe_result *);
void try_packet_socket(const struct probe_ctx *, struct probe_result *);
void try_netlink_newlink(const struct probe_ctx *, struct probe_result *);
void try_abstract_unix(const struct probe_ctx *, struct probe_result *);

#endif
