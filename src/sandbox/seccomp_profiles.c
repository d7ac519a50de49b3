/* The builtin seccomp profiles as data, and the compiler that turns a policy
 * (a profile table or a parsed policy file) into BPF with libseccomp. Shared
 * by sb-seccomp-gen (build time) and the runtime (policy files).
 * docs/seccomp.md explains each choice at length; the tables carry a one-line
 * reason per denial.
 *
 * Conventions: the tables name x86_64 system calls as libseccomp spells them.
 * Compares on arguments the kernel reads as int use SB_ARG_EQ32 (a 32-bit
 * mask), because the kernel ignores the upper half and so must the filter.
 */
#include "sandbox/seccomp_profiles.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "lib/cleanup.h"

#define EPERM_  SCMP_ACT_ERRNO(EPERM)
#define ENOSYS_ SCMP_ACT_ERRNO(ENOSYS)
#define KILL_   SCMP_ACT_KILL_PROCESS
#define ALLOW_  SCMP_ACT_ALLOW

/* The tables keep several names a line, which clang-format would undo. */
/* clang-format off */
#define DENY(nm, act, reason) {.name = nm, .action = act, .why = reason}
#define RULE(nm, act, reason, ...) \
        {.name = nm, .action = act, .why = reason, .cond = {__VA_ARGS__}}

/* Every namespace flag clone() accepts. CLONE_NEWTIME (0x80) is missing on
 * purpose: in clone()'s flags that bit is part of the exit signal (CSIGNAL);
 * only clone3 and unshare take CLONE_NEWTIME, and both are denied. */
#define SB_CLONE_NS_FLAGS                                                      \
        (CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC |         \
         CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET)
/* What makes a clone() a thread: same address space, same signal handlers,
 * same thread group. glibc's pthread_create passes these and more. */
#define SB_CLONE_THREAD_FLAGS (CLONE_VM | CLONE_SIGHAND | CLONE_THREAD)
/* An open that neither writes, creates nor truncates. O_TRUNC with O_RDONLY
 * truncates on Linux, O_CREAT creates, access mode 3 is ioctl-only. */
#define SB_OPEN_WRITE_BITS (O_ACCMODE | O_CREAT | O_TRUNC)

#define SB_AF_VSOCK 40 /* AF_VSOCK; older libc headers lack it */

/* ---- posix: unmodified Linux programs ------------------------------------
 * Allow-list after moby's default profile, default ERRNO(ENOSYS) so a libc
 * probing a call we do not list takes its fallback path (clone3 -> clone,
 * openat2 -> openat, statx -> fstatat). */
static const char *const posix_allow[] = {
        /* file descriptors and I/O */
        "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv",
        "pwritev", "preadv2", "pwritev2", "lseek", "close", "close_range", "dup",
        "dup2", "dup3", "fcntl", "flock", "fsync", "fdatasync", "sync", "syncfs",
        "sync_file_range", "truncate", "ftruncate", "fallocate", "fadvise64",
        "readahead", "sendfile", "splice", "tee", "vmsplice", "copy_file_range",
        "pipe", "pipe2",
        /* paths: the mount namespace decides what they reach */
        "open", "openat", "openat2", "creat", "stat", "fstat", "lstat",
        "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat",
        "faccessat2", "readlink", "readlinkat", "getdents", "getdents64",
        "getcwd", "chdir", "fchdir", "mkdir", "mkdirat", "rmdir", "unlink",
        "unlinkat", "rename", "renameat", "renameat2", "link", "linkat",
        "symlink", "symlinkat", "mknod", "mknodat", "chmod", "fchmod", "fchmodat",
        "chown", "fchown", "lchown", "fchownat", "umask", "utime", "utimes",
        "utimensat", "futimesat", "getxattr", "lgetxattr", "fgetxattr",
        "listxattr", "llistxattr", "flistxattr", "setxattr", "lsetxattr",
        "fsetxattr", "removexattr", "lremovexattr", "fremovexattr",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
        /* memory */
        "brk", "mmap", "munmap", "mprotect", "mremap", "msync", "mincore",
        "madvise", "mlock", "mlock2", "munlock", "mlockall", "munlockall",
        "remap_file_pages", "membarrier", "memfd_create", "memfd_secret",
        "pkey_alloc", "pkey_free", "pkey_mprotect",
        /* processes and threads (clone: see the rules) */
        "fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4",
        "waitid", "kill", "tkill", "tgkill", "getpid", "getppid", "gettid",
        "getpgid", "getpgrp", "setpgid", "getsid", "setsid", "set_tid_address",
        "set_robust_list", "get_robust_list", "rseq", "arch_prctl", "prctl",
        "futex", "futex_waitv", "set_thread_area", "get_thread_area",
        "pidfd_open", "pidfd_send_signal", "process_mrelease",
        /* identity: capabilities are dropped and no_new_privs is set */
        "getuid", "geteuid", "getgid", "getegid", "getresuid", "getresgid",
        "getgroups", "setuid", "setgid", "setreuid", "setregid", "setresuid",
        "setresgid", "setfsuid", "setfsgid", "setgroups", "capget", "capset",
        /* signals */
        "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigpending",
        "rt_sigsuspend", "rt_sigtimedwait", "rt_sigqueueinfo",
        "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "pause",
        "restart_syscall",
        /* time (reading it; setting it is denied below) */
        "alarm", "getitimer", "setitimer", "nanosleep", "clock_nanosleep",
        "clock_gettime", "clock_getres", "gettimeofday", "time", "times",
        "timer_create", "timer_settime", "timer_gettime", "timer_getoverrun",
        "timer_delete", "timerfd_create", "timerfd_settime", "timerfd_gettime",
        /* scheduling, limits, system information */
        "sched_yield", "sched_getaffinity", "sched_setaffinity",
        "sched_getparam", "sched_setparam", "sched_getscheduler",
        "sched_setscheduler", "sched_get_priority_max", "sched_get_priority_min",
        "sched_rr_get_interval", "sched_getattr", "sched_setattr",
        "getpriority", "setpriority", "ioprio_get", "ioprio_set", "getcpu",
        "getrlimit", "setrlimit", "prlimit64", "getrusage", "sysinfo", "uname",
        "getrandom",
        /* waiting on many fds */
        "poll", "ppoll", "select", "pselect6", "epoll_create", "epoll_create1",
        "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd",
        "eventfd2",
        /* sockets (socket itself: see the rules); the network namespace
         * decides what they reach */
        "socketpair", "bind", "connect", "listen", "accept", "accept4",
        "getsockname", "getpeername", "getsockopt", "setsockopt", "sendto",
        "recvfrom", "sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown",
        /* POSIX AIO and System V / POSIX IPC: scoped by the IPC namespace */
        "io_setup", "io_destroy", "io_getevents", "io_pgetevents", "io_submit",
        "io_cancel", "shmget", "shmat", "shmdt", "shmctl", "semget", "semop",
        "semtimedop", "semctl", "msgget", "msgsnd", "msgrcv", "msgctl",
        "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify",
        "mq_getsetattr",
        /* a program may restrict itself further */
        "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

/* Linux 6.5-6.7 calls; Debian's libseccomp 2.5.4 knows them. */
static const char *const posix_allow_recent[] = {
        "cachestat", "fchmodat2", "map_shadow_stack", "futex_wake",
        "futex_wait", "futex_requeue",
};

static const struct sb_seccomp_rule posix_rules[] = {
        /* filesystem topology: the supervisor built the slice's view */
        DENY("mount", EPERM_, "would change the filesystem view the supervisor built"),
        DENY("umount2", EPERM_, "would uncover what the slice's mounts hide"),
        DENY("pivot_root", EPERM_, "would swap the slice's root"),
        DENY("chroot", EPERM_, "a chroot inside a slice only helps escape tricks"),
        DENY("move_mount", EPERM_, "new mount API: changes the filesystem view"),
        DENY("open_tree", EPERM_, "new mount API: clones mount trees"),
        DENY("fsopen", EPERM_, "new mount API: creates filesystem contexts"),
        DENY("fsmount", EPERM_, "new mount API: creates mounts"),
        DENY("fsconfig", EPERM_, "new mount API: configures filesystems"),
        DENY("fspick", EPERM_, "new mount API: reconfigures existing mounts"),
        DENY("mount_setattr", EPERM_, "changes mount flags (e.g. drops read-only)"),
        DENY("open_by_handle_at", EPERM_, "opens files by handle, bypassing path checks (shocker)"),
        DENY("name_to_handle_at", EPERM_, "produces handles for open_by_handle_at"),
        DENY("quotactl", EPERM_, "filesystem quota administration"),
        DENY("quotactl_fd", EPERM_, "filesystem quota administration"),
        DENY("fanotify_init", EPERM_, "filesystem-wide event monitoring"),
        /* other processes' memory and descriptors */
        DENY("ptrace", EPERM_, "reads and writes other processes"),
        DENY("process_vm_readv", EPERM_, "reads another process's memory"),
        DENY("process_vm_writev", EPERM_, "writes another process's memory"),
        DENY("process_madvise", EPERM_, "acts on another process's memory"),
        DENY("pidfd_getfd", EPERM_, "steals a descriptor from another process"),
        DENY("kcmp", EPERM_, "compares other processes' kernel objects (ptrace-level probe)"),
        DENY("migrate_pages", EPERM_, "moves another process's pages between NUMA nodes"),
        DENY("move_pages", EPERM_, "moves another process's pages between NUMA nodes"),
        /* large kernel attack surface a program can do without */
        DENY("bpf", EPERM_, "eBPF: verifier and maps are a large attack surface"),
        DENY("perf_event_open", EPERM_, "perf: side channels and a history of kernel bugs"),
        DENY("userfaultfd", EPERM_, "stalls kernel page faults at will (race-exploit aid)"),
        DENY("io_uring_setup", EPERM_, "io_uring: bypasses this filter for the I/O it submits"),
        DENY("io_uring_enter", EPERM_, "io_uring: bypasses this filter for the I/O it submits"),
        DENY("io_uring_register", EPERM_, "io_uring: bypasses this filter for the I/O it submits"),
        DENY("keyctl", EPERM_, "kernel keyrings are not namespaced"),
        DENY("add_key", EPERM_, "kernel keyrings are not namespaced"),
        DENY("request_key", EPERM_, "kernel keyrings are not namespaced; can upcall to the host"),
        DENY("modify_ldt", EPERM_, "16-bit segments: only Wine/DOSEMU need it; history of kernel bugs"),
        /* the machine, not the slice */
        DENY("kexec_load", EPERM_, "boots another kernel"),
        DENY("kexec_file_load", EPERM_, "boots another kernel"),
        DENY("init_module", EPERM_, "loads kernel code"),
        DENY("finit_module", EPERM_, "loads kernel code"),
        DENY("delete_module", EPERM_, "unloads kernel code"),
        DENY("create_module", EPERM_, "obsolete module call"),
        DENY("get_kernel_syms", EPERM_, "obsolete module call"),
        DENY("query_module", EPERM_, "obsolete module call"),
        DENY("acct", EPERM_, "host-wide process accounting"),
        DENY("swapon", EPERM_, "host swap configuration"),
        DENY("swapoff", EPERM_, "host swap configuration"),
        DENY("reboot", EPERM_, "reboots the host (or kills a pid namespace's init)"),
        DENY("settimeofday", EPERM_, "the clock is not namespaced"),
        DENY("clock_settime", EPERM_, "the clock is not namespaced"),
        DENY("clock_adjtime", EPERM_, "the clock is not namespaced"),
        DENY("adjtimex", EPERM_, "the clock is not namespaced"),
        DENY("syslog", EPERM_, "reads the kernel log (addresses, other tenants)"),
        DENY("iopl", EPERM_, "raw I/O port access"),
        DENY("ioperm", EPERM_, "raw I/O port access"),
        DENY("sethostname", EPERM_, "host identity belongs to the supervisor"),
        DENY("setdomainname", EPERM_, "host identity belongs to the supervisor"),
        DENY("vhangup", EPERM_, "hangs up the controlling terminal of others"),
        DENY("lookup_dcookie", EPERM_, "oprofile internals; leaks paths"),
        DENY("nfsservctl", EPERM_, "removed NFS server control"),
        DENY("uselib", EPERM_, "a.out loader; obsolete"),
        /* namespaces: the supervisor made the slice's */
        DENY("unshare", EPERM_, "new namespaces would undo the slice's confinement"),
        DENY("setns", EPERM_, "would join other namespaces"),
        DENY("clone", EPERM_, "with a CLONE_NEW* flag it creates namespaces"),
        RULE("clone", ALLOW_, "fork- and thread-style clone without namespace flags",
             SB_ARG_MASKED(0, SB_CLONE_NS_FLAGS, 0)),
        DENY("clone3", ENOSYS_, "flags sit behind a pointer; ENOSYS makes glibc use clone"),
        /* terminal injection */
        RULE("ioctl", EPERM_, "TIOCSTI fakes terminal input (pushes commands into the parent shell)",
             SB_ARG_EQ32(1, TIOCSTI)),
        RULE("ioctl", EPERM_, "TIOCLINUX can paste the console selection as input",
             SB_ARG_EQ32(1, TIOCLINUX)),
        RULE("ioctl", ALLOW_, NULL),
        /* personality: only the default and the query */
        DENY("personality", EPERM_, "others turn off ASLR, make all memory executable (READ_IMPLIES_EXEC) or emulate foreign ABIs"),
        RULE("personality", ALLOW_, "PER_LINUX", SB_ARG_EQ32(0, 0)),
        RULE("personality", ALLOW_, "query", SB_ARG_EQ32(0, 0xffffffffULL)),
        /* sockets: everything but vsock, which is not namespaced */
        RULE("socket", ALLOW_, NULL),
        RULE("socket", EPERM_, "AF_VSOCK reaches the hypervisor host; not namespaced",
             SB_ARG_EQ32(0, SB_AF_VSOCK)),
        /* seccomp: stacking only tightens; but keep the SSB mitigation */
        RULE("seccomp", ALLOW_, NULL),
        RULE("seccomp", EPERM_, "SECCOMP_FILTER_FLAG_SPEC_ALLOW turns off a Spectre mitigation",
             SB_ARG_MASKED(1, SECCOMP_FILTER_FLAG_SPEC_ALLOW, SECCOMP_FILTER_FLAG_SPEC_ALLOW)),
};

/* ---- strict, stage one: from execve to libslice's constructor ------------
 * What glibc's dynamic loader and libc start-up need, read-only, plus
 * everything strict-tight allows: stacked filters all run and the strictest
 * answer wins, so a call stage two allows must pass stage one too. */

/* What stage two allows unconditionally (stage one includes it). */
#define TIGHT_ALLOW \
        "read", "write", "readv", "writev", "pread64", "recvmsg", "recvfrom", \
        "sendmsg", "shutdown", "close", "lseek", "fcntl", "fstat", "newfstatat", \
        "poll", "ppoll", "epoll_create1", "epoll_ctl", "epoll_wait", \
        "epoll_pwait", "epoll_pwait2", "futex", "munmap", "mremap", "madvise", \
        "brk", "clock_gettime", "clock_getres", "gettimeofday", \
        "clock_nanosleep", "nanosleep", "sched_yield", \
        "sched_getaffinity", /* glibc's pthread_getattr_np: sanitizers, runtimes */ \
        "getpid", "gettid", "tgkill", "exit", "exit_group", "rt_sigaction", \
        "rt_sigprocmask", "rt_sigreturn", "rt_sigpending", "rt_sigsuspend", \
        "rt_sigtimedwait", "sigaltstack", "restart_syscall", "getrandom", \
        "set_robust_list", "rseq"

/* socketpair's type argument, with SOCK_NONBLOCK left free: every other
 * bit (the type, SOCK_CLOEXEC) must be exactly what the rule says, so a
 * session socket is close-on-exec from birth. */
#define SB_SOCK_TYPE_BITS (0xffffffffULL & ~(uint64_t)SOCK_NONBLOCK)

/* Rules stage one shares with stage two (threads, stdio, fd traffic). */
#define TIGHT_RULES \
        RULE("clone", ALLOW_, "threads only: same memory, handlers, group", \
             SB_ARG_MASKED(0, SB_CLONE_THREAD_FLAGS | SB_CLONE_NS_FLAGS, SB_CLONE_THREAD_FLAGS)), \
        DENY("clone3", ENOSYS_, "flags behind a pointer; glibc falls back to clone"), \
        RULE("sendto", ALLOW_, "only without a destination: no reaching named sockets", \
             SB_ARG_EQ(4, 0)), \
        RULE("ioctl", ALLOW_, "isatty() for stdio buffering", SB_ARG_EQ32(1, TCGETS)), \
        RULE("ioctl", ALLOW_, "bytes waiting on an fd", SB_ARG_EQ32(1, FIONREAD)), \
        RULE("socketpair", ALLOW_, "servers create session sockets: unix stream, close-on-exec", \
             SB_ARG_EQ32(0, AF_UNIX), SB_ARG_MASKED(1, SB_SOCK_TYPE_BITS, SOCK_STREAM | SOCK_CLOEXEC)), \
        RULE("socketpair", ALLOW_, "servers create session sockets: unix seqpacket, close-on-exec", \
             SB_ARG_EQ32(0, AF_UNIX), SB_ARG_MASKED(1, SB_SOCK_TYPE_BITS, SOCK_SEQPACKET | SOCK_CLOEXEC)), \
        RULE("getsockopt", ALLOW_, "libslice checks its parent channel is AF_UNIX", \
             SB_ARG_EQ32(1, SOL_SOCKET), SB_ARG_EQ32(2, SO_DOMAIN)), \
        RULE("sysinfo", ENOSYS_, "glibc's qsort asks for the machine's memory: ENOSYS makes " \
             "it fall back instead of killing the slice, and reveals nothing"), \
        RULE("getsockopt", ALLOW_, "libslice checks its parent channel is SOCK_SEQPACKET", \
             SB_ARG_EQ32(1, SOL_SOCKET), SB_ARG_EQ32(2, SO_TYPE))

static const char *const strict_allow[] = {
        TIGHT_ALLOW,
        /* the exec itself (execveat: the supervisor may run a sealed memfd) */
        "execve", "execveat",
        /* loader: map libraries (with PROT_EXEC), set up TLS and the thread */
        "mmap", "mprotect", "arch_prctl", "set_tid_address", "access",
        "faccessat", "faccessat2", "readlink", "readlinkat",
};

static const struct sb_seccomp_rule strict_rules[] = {
        TIGHT_RULES,
        RULE("openat", ALLOW_, "loader and libc read files: read-only, no create, no truncate",
             SB_ARG_MASKED(2, SB_OPEN_WRITE_BITS, O_RDONLY)),
        RULE("open", ALLOW_, "read-only, no create, no truncate",
             SB_ARG_MASKED(1, SB_OPEN_WRITE_BITS, O_RDONLY)),
        DENY("openat2", ENOSYS_, "flags behind a pointer; glibc falls back to openat"),
        RULE("prlimit64", ALLOW_, "libc reads RLIMIT_STACK; setting is refused", SB_ARG_EQ(2, 0)),
        RULE("prctl", ALLOW_, "libslice sets no_new_privs before stage two",
             SB_ARG_EQ32(0, PR_SET_NO_NEW_PRIVS)),
        RULE("seccomp", ALLOW_, "libslice installs stage two (optionally TSYNC, nothing else)",
             SB_ARG_EQ32(0, SECCOMP_SET_MODE_FILTER),
             SB_ARG_MASKED(1, 0xffffffffULL & ~(uint64_t)SECCOMP_FILTER_FLAG_TSYNC, 0)),
};

/* ---- strict-tight, stage two: a component that talks over its fds ------ */
static const char *const tight_allow[] = {TIGHT_ALLOW};

static const struct sb_seccomp_rule tight_rules[] = {
        TIGHT_RULES,
        /* No new executable memory: code is mapped by now, and W^X leaves an
         * exploit nothing to jump to. (JITs need posix or a policy file.) */
        RULE("mmap", ALLOW_, "without PROT_EXEC", SB_ARG_MASKED(2, PROT_EXEC, 0)),
        RULE("mprotect", ALLOW_, "without PROT_EXEC", SB_ARG_MASKED(2, PROT_EXEC, 0)),
};

/* ---- reaper: pid 1 of a slice, after it forked the command ------------- */
/* sigaltstack only moves the caller's own signal stack; sanitizer runtimes
 * call it in their signal interceptors, so the reaper survives an ASan build. */
static const char *const reaper_allow[] = {
        "rt_sigprocmask", "rt_sigtimedwait", "rt_sigaction", "rt_sigreturn",
        "wait4", "waitid", "kill", "write", "read", "close", "exit",
        "exit_group", "getpid", "restart_syscall", "clock_gettime", "sigaltstack",
};

#define PROFILE(nm, def, sum, allow_, recent_, rules_, nrecent) \
        {.name = nm, .default_action = def, .summary = sum, \
         .allow = allow_, .nallow = SL_ARRAY_SIZE(allow_), \
         .allow_recent = recent_, .nallow_recent = nrecent, \
         .rules = rules_, .nrules = SL_ARRAY_SIZE(rules_)}

static const struct sb_seccomp_rule no_rules[1]; /* zero-length arrays are not C */

const struct sb_seccomp_profile sb_seccomp_profiles[] = {
        PROFILE("posix", ENOSYS_, "unmodified Linux programs", posix_allow,
                posix_allow_recent, posix_rules, SL_ARRAY_SIZE(posix_allow_recent)),
        PROFILE("strict", KILL_, "native slices until libslice tightens (stage one)",
                strict_allow, NULL, strict_rules, 0),
        PROFILE("strict-tight", KILL_, "native slices from main() on (stage two)",
                tight_allow, NULL, tight_rules, 0),
        {.name = "reaper", .default_action = KILL_, .summary = "pid 1 of a slice",
         .allow = reaper_allow, .nallow = SL_ARRAY_SIZE(reaper_allow),
         .rules = no_rules, .nrules = 0},
};
const size_t sb_seccomp_profiles_count = SL_ARRAY_SIZE(sb_seccomp_profiles);
/* clang-format on */

const struct sb_seccomp_profile *sb_seccomp_profile_find(const char *name)
{
        for (size_t i = 0; i < sb_seccomp_profiles_count; i++)
                if (strcmp(sb_seccomp_profiles[i].name, name) == 0)
                        return &sb_seccomp_profiles[i];
        return NULL;
}

/* ---- policies: expanding, checking, evaluating --------------------------- */

/* "file:line:column" for a rule from a policy file, else the policy's name. */
static const char *rule_where(const struct sb_seccomp_policy *p, const struct sb_seccomp_rule *r,
                              char *buf, size_t len)
{
        if (p->from_file && r->line > 0)
                snprintf(buf, len, "%s:%u:%u", p->source, r->line, r->col);
        else
                snprintf(buf, len, "%s", p->source);
        return buf;
}

/* Where the other rule of a conflict is: "line 3" or "the table". */
static const char *rule_ref(const struct sb_seccomp_policy *p, const struct sb_seccomp_rule *r,
                            char *buf, size_t len)
{
        if (p->from_file && r->line > 0)
                snprintf(buf, len, "line %u", r->line);
        else
                snprintf(buf, len, "the included profile");
        return buf;
}

static int policy_grow(struct sb_seccomp_policy *p, struct sl_error *err)
{
        if (p->len < p->cap)
                return 0;
        size_t cap = p->cap ? p->cap * 2 : 64;
        struct sb_seccomp_rule *n = realloc(p->rules, cap * sizeof *n);
        if (!n)
                return sl_error_errno(err, "%s: growing the rule list", p->source);
        p->rules = n;
        p->cap = cap;
        return 0;
}

int sb_seccomp_policy_add(struct sb_seccomp_policy *p, const struct sb_seccomp_rule *r,
                          int skip_unknown, struct sl_error *err)
{
        char at[320];
        int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r->name);
        /* Negative numbers are libseccomp's pseudo-syscalls for other
         * architectures (socketcall, stime): not x86_64 calls. */
        if (nr < 0) {
                if (skip_unknown)
                        return 0;
                return sl_error_set(err, 0, "%s: unknown syscall '%s'",
                                    rule_where(p, r, at, sizeof at), r->name);
        }
        unsigned int ncond = 0, seen = 0;
        while (ncond < SB_SECCOMP_MAX_COND && r->cond[ncond].op != 0) {
                const struct scmp_arg_cmp *c = &r->cond[ncond];
                if (c->arg >= SB_SECCOMP_MAX_COND || c->op >= _SCMP_CMP_MAX)
                        return sl_error_set(err, 0, "%s: bad condition for '%s'",
                                            rule_where(p, r, at, sizeof at), r->name);
                if (seen & (1u << c->arg))
                        return sl_error_set(err, 0, "%s: arg%u is compared twice in one rule",
                                            rule_where(p, r, at, sizeof at), c->arg);
                seen |= 1u << c->arg;
                ncond++;
        }
        if (policy_grow(p, err) < 0)
                return -1;
        struct sb_seccomp_rule *dst = &p->rules[p->len++];
        *dst = *r;
        dst->nr = nr;
        dst->ncond = ncond;
        return 0;
}

int sb_seccomp_policy_from_profile(struct sb_seccomp_policy *p,
                                   const struct sb_seccomp_profile *prof, struct sl_error *err)
{
        memset(p, 0, sizeof *p);
        snprintf(p->source, sizeof p->source, "builtin profile `%s`", prof->name);
        p->default_action = prof->default_action;
        struct sb_seccomp_rule r = {.action = SCMP_ACT_ALLOW};
        for (size_t i = 0; i < prof->nallow + prof->nallow_recent; i++) {
                int recent = i >= prof->nallow;
                const char *name = recent ? prof->allow_recent[i - prof->nallow] : prof->allow[i];
                snprintf(r.name, sizeof r.name, "%s", name);
                if (sb_seccomp_policy_add(p, &r, recent, err) < 0)
                        goto fail;
        }
        for (size_t i = 0; i < prof->nrules; i++)
                if (sb_seccomp_policy_add(p, &prof->rules[i], 0, err) < 0)
                        goto fail;
        return 0;
fail:
        sb_seccomp_policy_free(p);
        return -1;
}

void sb_seccomp_policy_drop_nr(struct sb_seccomp_policy *p, int nr)
{
        size_t keep = 0;
        for (size_t i = 0; i < p->len; i++)
                if (p->rules[i].nr != nr)
                        p->rules[keep++] = p->rules[i];
        p->len = keep;
}

void sb_seccomp_policy_free(struct sb_seccomp_policy *p)
{
        if (!p)
                return;
        free(p->rules);
        p->rules = NULL;
        p->len = p->cap = 0;
}

static int cond_holds(const struct scmp_arg_cmp *c, const uint64_t args[6])
{
        uint64_t a = args[c->arg];
        switch (c->op) {
        case SCMP_CMP_NE: return a != c->datum_a;
        case SCMP_CMP_LT: return a < c->datum_a;
        case SCMP_CMP_LE: return a <= c->datum_a;
        case SCMP_CMP_EQ: return a == c->datum_a;
        case SCMP_CMP_GE: return a >= c->datum_a;
        case SCMP_CMP_GT: return a > c->datum_a;
        case SCMP_CMP_MASKED_EQ: return (a & c->datum_a) == c->datum_b;
        default: return 0;
        }
}

static int rule_holds(const struct sb_seccomp_rule *r, const uint64_t args[6])
{
        for (unsigned int i = 0; i < r->ncond; i++)
                if (!cond_holds(&r->cond[i], args))
                        return 0;
        return 1;
}

uint32_t sb_seccomp_policy_eval(const struct sb_seccomp_policy *p, int nr, const uint64_t args[6])
{
        const struct sb_seccomp_rule *u = NULL;
        for (size_t i = 0; i < p->len; i++) {
                const struct sb_seccomp_rule *r = &p->rules[i];
                if (r->nr != nr)
                        continue;
                if (r->ncond == 0) {
                        if (!u)
                                u = r;
                } else if (rule_holds(r, args)) {
                        return r->action;
                }
        }
        return u ? u->action : p->default_action;
}

/* A conditional rule fit for a group with several actions: one compare,
 * == or & MASK ==, as the set {x : (x & mask) == val}. */
static int value_shape(const struct sb_seccomp_rule *r, unsigned int *arg, uint64_t *mask,
                       uint64_t *val)
{
        if (r->ncond != 1)
                return 0;
        const struct scmp_arg_cmp *c = &r->cond[0];
        *arg = c->arg;
        if (c->op == SCMP_CMP_EQ) {
                *mask = ~(uint64_t)0;
                *val = c->datum_a;
                return 1;
        }
        if (c->op == SCMP_CMP_MASKED_EQ) {
                *mask = c->datum_a;
                *val = c->datum_b & c->datum_a;
                return 1;
        }
        return 0;
}

static const char *action_text(uint32_t action, char *buf, size_t len)
{
        if (action == SCMP_ACT_ALLOW)
                snprintf(buf, len, "allow");
        else if (action == SCMP_ACT_KILL_PROCESS)
                snprintf(buf, len, "kill");
        else if ((action & 0xffff0000U) == SCMP_ACT_ERRNO(0) &&
                 strerrorname_np((int)(action & 0xffffU)))
                snprintf(buf, len, "errno %s", strerrorname_np((int)(action & 0xffffU)));
        else
                snprintf(buf, len, "action 0x%08x", action);
        return buf;
}

/* The rules of one group (syscall nr); first is the index of its first rule. */
static int check_group(const struct sb_seccomp_policy *p, size_t first, struct sl_error *err)
{
        char at[320], ref[64], a1[32], a2[32];
        const struct sb_seccomp_rule *u = NULL, *c0 = NULL;
        int multi = 0;
        for (size_t i = first; i < p->len; i++) {
                const struct sb_seccomp_rule *r = &p->rules[i];
                if (r->nr != p->rules[first].nr)
                        continue;
                if (r->ncond == 0 && !u) {
                        u = r;
                } else if (r->ncond == 0 && r->action != u->action) {
                        return sl_error_set(
                            err, 0, "%s: conflicting rules for '%s': %s here, %s at %s",
                            rule_where(p, r, at, sizeof at), r->name,
                            action_text(r->action, a1, sizeof a1),
                            action_text(u->action, a2, sizeof a2), rule_ref(p, u, ref, sizeof ref));
                } else if (r->ncond > 0 && !c0) {
                        c0 = r;
                }
        }
        if (!c0)
                return 0;
        uint32_t ref_action = u ? u->action : c0->action;
        for (size_t i = first; i < p->len; i++)
                if (p->rules[i].nr == c0->nr && p->rules[i].ncond > 0 &&
                    p->rules[i].action != ref_action)
                        multi = 1;
        if (!multi)
                return 0;
        unsigned int arg0, arg;
        uint64_t mask0, mask, val0, val;
        for (size_t i = first; i < p->len; i++) {
                const struct sb_seccomp_rule *r = &p->rules[i];
                if (r->nr != c0->nr || r->ncond == 0)
                        continue;
                if (!value_shape(r, &arg, &mask, &val) || !value_shape(c0, &arg0, &mask0, &val0) ||
                    arg != arg0 || mask != mask0)
                        return sl_error_set(
                            err, 0,
                            "%s: rules for '%s' have different actions, so each conditional one "
                            "must test the same single argument with == or & MASK ==, under one "
                            "mask",
                            rule_where(p, r, at, sizeof at), r->name);
                for (size_t j = first; j < i; j++) {
                        const struct sb_seccomp_rule *o = &p->rules[j];
                        unsigned int oarg;
                        uint64_t omask, oval;
                        if (o->nr != r->nr || o->ncond == 0 || o->action == r->action)
                                continue;
                        if (value_shape(o, &oarg, &omask, &oval) && oval == val)
                                return sl_error_set(err, 0,
                                                    "%s: rule for '%s' matches the same calls as "
                                                    "the rule at %s, with a different action",
                                                    rule_where(p, r, at, sizeof at), r->name,
                                                    rule_ref(p, o, ref, sizeof ref));
                }
        }
        return 0;
}

int sb_seccomp_policy_check(const struct sb_seccomp_policy *p, struct sl_error *err)
{
        for (size_t i = 0; i < p->len; i++) {
                size_t j = 0;
                while (j < i && p->rules[j].nr != p->rules[i].nr)
                        j++;
                if (j == i && check_group(p, i, err) < 0)
                        return -1;
        }
        return 0;
}

/* ---- compiling ----------------------------------------------------------- */

static void ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}
#define _cleanup_scmp_ __attribute__((cleanup(ctx_releasep)))

struct emit {
        scmp_filter_ctx ctx;
        const struct sb_seccomp_policy *p;
        const struct sb_seccomp_rule *rule; /* the unconditional rule expanded */
        unsigned int arg;
        size_t count;
};

static int add_rule(const struct sb_seccomp_policy *p, scmp_filter_ctx ctx,
                    const struct sb_seccomp_rule *r, uint32_t action, unsigned int ncond,
                    const struct scmp_arg_cmp *cond, struct sl_error *err)
{
        char at[320];
        /* _exact: refuse rather than silently rewrite what we asked for. */
        int rc = seccomp_rule_add_exact_array(ctx, action, r->nr, ncond, cond);
        if (rc < 0)
                return sl_error_set(err, -rc, "%s: libseccomp refused the rule for '%s'",
                                    rule_where(p, r, at, sizeof at), r->name);
        return 0;
}

/* Emit disjoint masked compares covering {x : (x & mask) not in vals}: walk
 * the mask bits from the top; a branch no value takes becomes one compare
 * (the prefix so far, that bit flipped), a branch values take recurses. */
static int emit_complement(struct emit *e, uint64_t mask, uint64_t *vals, size_t n, uint64_t pmask,
                           uint64_t pval, int bit, struct sl_error *err)
{
        while (bit >= 0 && !(mask >> bit & 1))
                bit--;
        if (bit < 0)
                return 0; /* every mask bit fixed: this prefix is a value */
        uint64_t b = (uint64_t)1 << bit;
        size_t lo = 0; /* partition: vals[0..lo) have the bit clear */
        for (size_t i = 0; i < n; i++)
                if (!(vals[i] & b)) {
                        uint64_t t = vals[lo];
                        vals[lo++] = vals[i];
                        vals[i] = t;
                }
        for (int side = 0; side < 2; side++) {
                uint64_t v = pval | (side ? b : 0);
                uint64_t *sv = side ? vals + lo : vals;
                size_t sn = side ? n - lo : lo;
                if (sn > 0) {
                        if (emit_complement(e, mask, sv, sn, pmask | b, v, bit - 1, err) < 0)
                                return -1;
                        continue;
                }
                if (++e->count > SB_SECCOMP_EXPANSION_MAX) {
                        char at[320];
                        return sl_error_set(err, 0,
                                            "%s: the exceptions to the rule for '%s' expand "
                                            "to more than %d compares",
                                            rule_where(e->p, e->rule, at, sizeof at), e->rule->name,
                                            SB_SECCOMP_EXPANSION_MAX);
                }
                struct scmp_arg_cmp c = {
                    .arg = e->arg, .op = SCMP_CMP_MASKED_EQ, .datum_a = pmask | b, .datum_b = v};
                if (add_rule(e->p, e->ctx, e->rule, e->rule->action, 1, &c, err) < 0)
                        return -1;
        }
        return 0;
}

/* One syscall's rules (checked by sb_seccomp_policy_check) into ctx. */
static int compile_group(const struct sb_seccomp_policy *p, scmp_filter_ctx ctx, size_t first,
                         struct sl_error *err)
{
        int nr = p->rules[first].nr;
        const struct sb_seccomp_rule *u = NULL;
        for (size_t i = first; i < p->len && !u; i++)
                if (p->rules[i].nr == nr && p->rules[i].ncond == 0)
                        u = &p->rules[i];
        uint32_t fallback = u ? u->action : p->default_action;
        uint64_t vals[SB_SECCOMP_EXPANSION_MAX], mask = 0;
        struct emit e = {.ctx = ctx, .p = p, .rule = u};
        size_t nvals = 0;
        for (size_t i = first; i < p->len; i++) {
                const struct sb_seccomp_rule *r = &p->rules[i];
                /* A conditional rule with the fallback's action changes
                 * nothing (and libseccomp refuses rules equal to the default). */
                if (r->nr != nr || r->ncond == 0 || r->action == fallback)
                        continue;
                if (r->action != p->default_action &&
                    add_rule(p, ctx, r, r->action, r->ncond, r->cond, err) < 0)
                        return -1;
                if (!u)
                        continue;
                if (nvals == SB_SECCOMP_EXPANSION_MAX) {
                        char at[320];
                        return sl_error_set(err, 0, "%s: too many exceptions for '%s'",
                                            rule_where(p, r, at, sizeof at), r->name);
                }
                value_shape(r, &e.arg, &mask, &vals[nvals++]);
        }
        if (!u || u->action == p->default_action)
                return 0;
        if (nvals == 0)
                return add_rule(p, ctx, u, u->action, 0, NULL, err);
        return emit_complement(&e, mask, vals, nvals, 0, 0, 63, err);
}

int sb_seccomp_max_known_nr(void)
{
        static int max_known = -1; /* what libseccomp knows does not change */
        if (max_known >= 0)
                return max_known;
        int max = 0;
        for (int nr = 0; nr <= SB_SECCOMP_PROBE_NR_MAX; nr++) {
                char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
                if (name)
                        max = nr;
                free(name);
        }
        max_known = max;
        return max;
}

/* Our prologue runs before libseccomp's program. libseccomp cannot express
 * "numbers above what I know" (it only matches numbers it can name), so
 * without it a strict profile would KILL a newer libc's first call to a new
 * syscall instead of letting it fall back on ENOSYS. Prepending is safe:
 * classic BPF jumps are relative and libseccomp's program reloads what it
 * tests. The arch and x32 checks repeat libseccomp's own, so a program is
 * safe to read without trusting the code that follows. */
void sb_seccomp_prologue(struct sock_filter out[SB_SECCOMP_PROLOGUE_LEN], unsigned int max_known)
{
        const struct sock_filter prologue[SB_SECCOMP_PROLOGUE_LEN] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
            BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, max_known, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        };
        memcpy(out, prologue, sizeof prologue);
}

/* seccomp_export_bpf writes to an fd (libseccomp 2.5 has no in-memory
 * export): a memfd, read back behind room for the prologue. */
static int export_program(const struct sb_seccomp_policy *p, scmp_filter_ctx ctx,
                          struct sock_filter **insns, size_t *len, struct sl_error *err)
{
        _cleanup_close_ int fd = memfd_create("sb-seccomp-bpf", MFD_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "%s: memfd_create", p->source);
        int rc = seccomp_export_bpf(ctx, fd);
        if (rc < 0)
                return sl_error_set(err, -rc, "%s: seccomp_export_bpf", p->source);
        off_t size = lseek(fd, 0, SEEK_END);
        if (size < 0)
                return sl_error_errno(err, "%s: lseek on the exported program", p->source);
        size_t n = (size_t)size / sizeof(struct sock_filter);
        if (size == 0 || (size_t)size % sizeof(struct sock_filter) != 0)
                return sl_error_set(err, 0,
                                    "%s: libseccomp exported %lld bytes, not whole instructions",
                                    p->source, (long long)size);
        if (n + SB_SECCOMP_PROLOGUE_LEN > SB_SECCOMP_MAX_INSNS)
                return sl_error_set(
                    err, 0, "%s: the program has %zu instructions; the kernel takes at most %d",
                    p->source, n + SB_SECCOMP_PROLOGUE_LEN, SB_SECCOMP_MAX_INSNS);
        _cleanup_free_ struct sock_filter *buf = calloc(n + SB_SECCOMP_PROLOGUE_LEN, sizeof *buf);
        if (!buf)
                return sl_error_errno(err, "%s: allocating the program", p->source);
        char *dst = (char *)(buf + SB_SECCOMP_PROLOGUE_LEN);
        for (size_t done = 0; done < (size_t)size;) {
                ssize_t got = pread(fd, dst + done, (size_t)size - done, (off_t)done);
                if (got <= 0)
                        return sl_error_set(err, got < 0 ? errno : EIO,
                                            "%s: reading the exported program", p->source);
                done += (size_t)got;
        }
        sb_seccomp_prologue(buf, (unsigned int)sb_seccomp_max_known_nr());
        *len = n + SB_SECCOMP_PROLOGUE_LEN;
        *insns = SL_STEAL_PTR(buf);
        return 0;
}

int sb_seccomp_policy_compile(const struct sb_seccomp_policy *p, const char *name,
                              struct sb_seccomp_prog *out, struct sl_error *err)
{
        if (sb_seccomp_policy_check(p, err) < 0)
                return -1;
        _cleanup_scmp_ scmp_filter_ctx ctx = seccomp_init(p->default_action);
        if (!ctx)
                return sl_error_set(err, 0, "%s: seccomp_init refused the default action",
                                    p->source);
        /* Kill foreign architectures outright (our prologue already does);
         * binary-tree dispatch keeps a ~300-call allow-list at O(log n). */
        int rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
        if (rc == 0)
                rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
        if (rc < 0)
                return sl_error_set(err, -rc, "%s: seccomp_attr_set", p->source);
        for (size_t i = 0; i < p->len; i++) {
                size_t j = 0;
                while (j < i && p->rules[j].nr != p->rules[i].nr)
                        j++;
                if (j == i && compile_group(p, ctx, i, err) < 0)
                        return -1;
        }
        struct sock_filter *insns = NULL;
        size_t len = 0;
        if (export_program(p, ctx, &insns, &len, err) < 0)
                return -1;
        memset(out, 0, sizeof *out);
        snprintf(out->name, sizeof out->name, "%s", name);
        out->insns = insns;
        out->len = (unsigned short)len;
        out->owned = 1;
        return 0;
}
