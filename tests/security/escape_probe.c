/* escape-probe: runs inside a slice and tries one way out per invocation.
 *
 *   escape-probe --list [PROFILE]      attempt names (those that apply to PROFILE)
 *   escape-probe --expect NAME PROFILE expected outcome: "errno E[|E2...]",
 *                                      "holds[|errno E]", "signal SIGSYS", "n/a"
 *   escape-probe --table               the attempt table as Markdown
 *   escape-probe NAME [PROFILE [ARG]]  run one attempt in this process
 *
 * PROFILE is posix or strict; when not given, SLICE_SECCOMP=strict (set by
 * the spawner for strict slices) selects strict, else posix. ARG is extra
 * input a few attempts take (a live host port, a quota): see the table.
 *
 * A run prints one line and exits 0 when the attempt was blocked as expected:
 *   BLOCKED name: what was tried: errno EPERM (Operation not permitted)
 * or exits 1 with
 *   ESCAPED name: what got through
 *   UNEXPECTED name: what was tried: got errno X, expected errno Y
 * An attempt the filter is expected to kill prints nothing: the runner reads
 * SIGSYS from the exit status (128 + 31 from slicectl run).
 *
 * Linked with libslice, so under strict it runs tightened to strict-tight
 * before main(), like every native slice: the run path uses write(2) only.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Links libslice's stage-two constructor (see the header's "Static linking"). */
#include <slice/slice.h>

#include "probe.h"

/* ---- recording outcomes (probe.h) ---------------------------------------- */

static void vset(struct probe_result *r, enum probe_kind kind, int err, const char *fmt,
                 va_list ap)
{
        r->kind = kind;
        r->err = err;
        vsnprintf(r->detail, sizeof r->detail, fmt, ap);
}

void probe_failed(struct probe_result *r, int err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset(r, PROBE_ERRNO, err, fmt, ap);
        va_end(ap);
}

void probe_escaped(struct probe_result *r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset(r, PROBE_ESCAPED, 0, fmt, ap);
        va_end(ap);
}

void probe_holds(struct probe_result *r, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vset(r, PROBE_HOLDS, 0, fmt, ap);
        va_end(ap);
}

void probe_call(struct probe_result *r, long ret, const char *what)
{
        if (ret < 0)
                probe_failed(r, errno, "%s", what);
        else
                probe_escaped(r, "%s returned %ld", what, ret);
}

void probe_call_past(struct probe_result *r, long ret, const char *what, const int *passed)
{
        int e = errno;
        if (ret >= 0) {
                probe_escaped(r, "%s returned %ld", what, ret);
                return;
        }
        for (; *passed; passed++)
                if (e == *passed) {
                        probe_escaped(r, "%s got past the privilege check (%s)", what,
                                      probe_errname(e));
                        return;
                }
        probe_failed(r, e, "%s", what);
}

const char *probe_errname(int err)
{
        static char unknown[32];
        const char *name = strerrorname_np(err);
        if (name)
                return name;
        snprintf(unknown, sizeof unknown, "errno %d", err);
        return unknown;
}

long probe_read_file(const char *path, char *buf, size_t len)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t got = 0;
        while (got < len - 1) {
                ssize_t n = read(fd, buf + got, len - 1 - got);
                if (n < 0) {
                        int e = errno;
                        close(fd);
                        errno = e;
                        return -1;
                }
                if (n == 0)
                        break;
                got += (size_t)n;
        }
        close(fd);
        buf[got] = '\0';
        return (long)got;
}

/* ---- the table ------------------------------------------------------------ */

/* Pseudo result code for "the property holds" in an expectation list; above
 * every errno (the kernel's stop at 4095). */
#define HOLDS 10000
#define EXPECT_MAX 4

enum expect_kind { X_NA = 0, X_RESULT, X_SIGNAL };
struct expect {
        enum expect_kind kind;
        int ok[EXPECT_MAX]; /* X_RESULT: accepted errnos / HOLDS, 0-terminated */
        int sig;            /* X_SIGNAL */
};
#define OK(...) { .kind = X_RESULT, .ok = { __VA_ARGS__ } }
#define KILLED { .kind = X_SIGNAL, .sig = SIGSYS }
#define NA { .kind = X_NA }

struct attempt {
        const char *name;
        const char *threat; /* what would be gained if it worked */
        probe_fn fn;
        struct expect posix, strict;
        const char *note;   /* why an expectation is what it is; NULL if plain */
};

/* Under strict-tight (stage two of strict) only fd I/O, memory without
 * PROT_EXEC, time, signals, futexes and thread clones are allowed, everything
 * else kills the process: so most attempts expect SIGSYS there, often from
 * the first call they make (an open, a socket) rather than the one they aim
 * at. Both are the same block. */
static const struct attempt attempts[] = {
        /* mounts and namespaces */
        { "mount-tmpfs", "re-arrange the file system view (cover or uncover paths)",
          try_mount_tmpfs, OK(EPERM), KILLED, NULL },
        { "umount-root", "detach the slice root and see what lies beneath",
          try_umount_root, OK(EPERM), KILLED, NULL },
        { "remount-root-rw", "make the read-only slice root writable",
          try_remount_root_rw, OK(EPERM), KILLED, NULL },
        { "mount-setattr-rw", "clear MOUNT_ATTR_RDONLY on a system bind (/usr)",
          try_mount_setattr_rw, OK(EPERM), KILLED, NULL },
        { "fsopen", "new mount API: create a file system to mount",
          try_fsopen, OK(EPERM), KILLED, NULL },
        { "open-tree-clone", "new mount API: clone the root mount tree to re-attach",
          try_open_tree_clone, OK(EPERM), KILLED, NULL },
        { "pivot-root", "swap the root for another directory",
          try_pivot_root, OK(EPERM), KILLED, NULL },
        { "chroot", "set up the classic chroot break-out (chroot + fchdir ..)",
          try_chroot, OK(EPERM), KILLED, NULL },
        { "unshare-user", "new user namespace: a full capability set again",
          try_unshare_user, OK(EPERM), KILLED,
          "the kernel allows this to anyone: only the filter refuses it" },
        { "unshare-mount", "private mount namespace to re-mount in",
          try_unshare_mount, OK(EPERM), KILLED, NULL },
        { "setns-net", "join another network namespace through a namespace handle",
          try_setns_net, OK(EPERM), KILLED,
          "opens /proc/1/ns/net (or, refused, our own) first, then setns" },
        { "clone-newuser", "clone(CLONE_NEWUSER): a child with capabilities",
          try_clone_newuser, OK(EPERM), KILLED, NULL },
        { "clone3", "clone3 hides its flags from seccomp behind a pointer",
          try_clone3, OK(ENOSYS), OK(ENOSYS),
          "ENOSYS in both profiles so glibc falls back to clone, whose flags are checked" },
        /* other processes */
        { "ptrace-attach", "control pid 1 (the reaper, which talks to the supervisor)",
          try_ptrace_attach, OK(EPERM), KILLED, NULL },
        { "process-vm-readv", "read pid 1's memory", try_process_vm_readv, OK(EPERM),
          KILLED, NULL },
        { "process-vm-writev", "write pid 1's memory", try_process_vm_writev, OK(EPERM),
          KILLED, NULL },
        { "pidfd-getfd", "copy pid 1's descriptors (its report pipe) into the slice",
          try_pidfd_getfd, OK(EPERM), KILLED, NULL },
        { "proc-pid1-environ", "read the reaper's environment (a copy of the supervisor's)",
          try_proc_pid1_environ, OK(EACCES), KILLED,
          "the kernel's ptrace-read check on pid 1: it must not be dumpable to us" },
        { "proc-pid1-fd", "reopen the reaper's fds through /proc/1/fd and forge reports",
          try_proc_pid1_fd, OK(EACCES), KILLED, "ptrace-read check on pid 1" },
        { "proc-pid1-mem", "write the reaper's memory through /proc/1/mem",
          try_proc_pid1_mem, OK(EACCES), KILLED, "ptrace-attach check on pid 1" },
        { "proc-pid1-exe", "reach the supervisor's binary via /proc/1/exe (CVE-2019-5736)",
          try_proc_pid1_exe, OK(EACCES), KILLED, "ptrace-read check on pid 1" },
        { "proc-only-slice", "see (and so signal or inspect) host processes",
          try_proc_only_slice, OK(HOLDS), KILLED, NULL },
        { "kill-all", "kill(-1, SIGKILL) reaching processes outside the slice",
          try_kill_all, OK(ESRCH), KILLED,
          "ESRCH: no process but pid 1 and ourselves exists to receive it" },
        /* kernel interfaces */
        { "bpf-prog-load", "load eBPF code into the kernel", try_bpf_prog_load, OK(EPERM),
          KILLED, NULL },
        { "perf-event-open", "perf events: side channels, kernel bug surface",
          try_perf_event_open, OK(EPERM), KILLED,
          "perf_event_paranoid=2 would allow it: only the filter refuses it" },
        { "userfaultfd", "stall kernel page faults to win races (exploit primitive)",
          try_userfaultfd, OK(EPERM), KILLED,
          "UFFD_USER_MODE_ONLY is allowed to anyone: only the filter refuses it" },
        { "io-uring-setup", "io_uring: I/O the filter never sees", try_io_uring_setup,
          OK(EPERM), KILLED, NULL },
        { "keyctl", "the host user's keyring (keyrings are not namespaced)", try_keyctl,
          OK(EPERM), KILLED, NULL },
        { "add-key", "kernel keyring objects", try_add_key, OK(EPERM), KILLED, NULL },
        { "request-key", "keyring lookups that upcall /sbin/request-key on the host",
          try_request_key, OK(EPERM), KILLED, NULL },
        { "kexec-load", "boot another kernel", try_kexec_load, OK(EPERM), KILLED, NULL },
        { "init-module", "load kernel code", try_init_module, OK(EPERM), KILLED, NULL },
        { "finit-module", "load kernel code from a file", try_finit_module, OK(EPERM),
          KILLED, NULL },
        { "delete-module", "unload kernel code", try_delete_module, OK(EPERM), KILLED,
          NULL },
        { "open-by-handle-at", "open host files by handle, past the mount view (shocker)",
          try_open_by_handle_at, OK(EPERM), KILLED, NULL },
        { "name-to-handle-at", "obtain file handles to forge for open_by_handle_at",
          try_name_to_handle_at, OK(EPERM), KILLED, NULL },
        { "ioctl-tiocsti", "push input into the caller's terminal", try_tiocsti, OK(EPERM),
          KILLED, "fd -1: EBADF would mean the request is not filtered" },
        { "ioctl-tioclinux", "paste the console selection as terminal input",
          try_tioclinux, OK(EPERM), KILLED, "fd -1, as for TIOCSTI" },
        { "acct", "switch host-wide process accounting", try_acct, OK(EPERM), KILLED, NULL },
        { "swapon", "change the host's swap", try_swapon, OK(EPERM), KILLED, NULL },
        { "reboot", "reboot the host (or kill the slice's init)", try_reboot, OK(EPERM),
          KILLED, NULL },
        { "settimeofday", "change the host clock / time zone", try_settimeofday, OK(EPERM),
          KILLED, NULL },
        { "clock-settime", "set the host clock", try_clock_settime, OK(EPERM), KILLED, NULL },
        { "adjtimex", "slew the host clock", try_adjtimex, OK(EPERM), KILLED, NULL },
        { "clock-adjtime", "slew the host clock", try_clock_adjtime, OK(EPERM), KILLED,
          NULL },
        { "syslog-read", "read the kernel log (addresses, other tenants' messages)",
          try_syslog_read, OK(EPERM), KILLED, NULL },
        { "iopl", "raw I/O port access to hardware", try_iopl, OK(EPERM), KILLED, NULL },
        { "ioperm", "raw I/O port access to hardware", try_ioperm, OK(EPERM), KILLED, NULL },
        { "personality-linux32", "foreign-ABI persona (syscall confusion)",
          try_personality_linux32, OK(EPERM), KILLED, NULL },
        { "personality-rie", "READ_IMPLIES_EXEC: every readable mapping executable",
          try_personality_rie, OK(EPERM), KILLED, NULL },
        { "x32-syscall", "x32 ABI numbers (bit 30) slipping past number checks",
          try_x32_syscall, KILLED, KILLED, "the prologue kills any call with the x32 bit" },
        { "i386-int80", "i386 syscall table via int $0x80 (different numbers)",
          try_i386_int80, KILLED, KILLED, "foreign architecture: killed before any rule" },
        { "unknown-syscall", "calls newer than the filter must fail soft, not kill",
          try_unknown_syscall, OK(ENOSYS), OK(ENOSYS),
          "470 and 1000: above what libseccomp knows, answered ENOSYS in both profiles" },
        { "sched-fifo", "real-time priority: starve the host's CPUs", try_sched_fifo,
          OK(EPERM), KILLED, "allowed by the filter; the kernel refuses (no CAP_SYS_NICE)" },
        { "nice-raise", "negative nice: more CPU than the host's processes",
          try_nice_raise, OK(EACCES), KILLED,
          "allowed by the filter; the kernel refuses with EACCES (no CAP_SYS_NICE)" },
        /* identity, capabilities, limits */
        { "setuid-root", "become uid 0", try_setuid_root, OK(EPERM, EINVAL), KILLED,
          "root mode EPERM (no CAP_SETUID); user-ns mode EINVAL (uid 0 is not mapped)" },
        { "setgid-root", "become gid 0", try_setgid_root, OK(EPERM, EINVAL), KILLED,
          "as setuid-root" },
        { "setgroups", "join group root", try_setgroups, OK(EPERM), KILLED,
          "no CAP_SETGID; in user-ns mode setgroups is denied for the namespace" },
        { "capset-raise", "raise capabilities again", try_capset_raise, OK(EPERM), KILLED,
          NULL },
        { "ambient-raise", "put a capability in the ambient set (kept across exec)",
          try_ambient_raise, OK(EPERM), KILLED, NULL },
        { "caps-zero", "any capability left in any set", try_caps_zero, OK(HOLDS), NA,
          "strict: capget and prctl are killed, so the read-back runs under posix only" },
        { "no-new-privs", "exec gaining privileges (setuid files, file capabilities)",
          try_no_new_privs, OK(HOLDS), NA, "strict: prctl is killed (see caps-zero)" },
        { "seccomp-mode", "running without a filter", try_seccomp_mode, OK(HOLDS), NA,
          "strict: prctl is killed - itself proof of the filter" },
        { "setuid-exec", "exec a setuid-root program to become root",
          try_setuid_exec, OK(HOLDS), KILLED,
          "posix: the program runs and keeps our uid (nosuid binds, no_new_privs); "
          "strict: execve is killed" },
        { "nofile-raise-hard", "lift the fd quota", try_nofile_raise_hard, OK(EPERM),
          KILLED, NULL },
        { "nofile-exceed", "hold more fds than the quota (ARG: the quota given)",
          try_nofile_exceed, OK(EMFILE), OK(EMFILE),
          "strict: F_DUPFD only, the limit itself cannot be read (prlimit is killed)" },
        { "fds-closed", "use a descriptor inherited from the supervisor", try_fds_closed,
          OK(EBADF), OK(EBADF), "fds 3 and up are closed when nothing is granted" },
        { "sethostname", "change the host's name", try_sethostname, OK(EPERM), KILLED,
          NULL },
        /* file system */
        { "read-shadow", "read the host's password hashes", try_read_shadow,
          OK(ENOENT, EACCES), KILLED,
          "ENOENT: /etc/shadow is not bound; EACCES if it ever is (mode 0640 root)" },
        { "host-home", "host directories with secrets (/root, /home, /var, /run...)",
          try_host_home, OK(ENOENT), KILLED, "none of them is bound" },
        { "granted-only", "host files beside a granted path", try_granted_only, OK(HOLDS),
          KILLED, NULL },
        { "write-usr", "modify host system files", try_write_usr, OK(EROFS), KILLED, NULL },
        { "write-granted", "modify a read-only grant (here: the probe's directory)",
          try_write_granted, OK(EROFS), KILLED, NULL },
        { "create-in-root", "plant files in the slice root", try_create_in_root, OK(EROFS),
          KILLED, NULL },
        { "mknod-device", "create a device node to reach a disk directly",
          try_mknod_device, OK(EPERM), KILLED, "mknod is allowed (FIFOs); CAP_MKNOD is not" },
        { "dev-disk", "open host disks", try_dev_disk, OK(ENOENT), KILLED, NULL },
        { "dev-mem", "physical / kernel memory, I/O ports, kernel log", try_dev_mem,
          OK(ENOENT), KILLED, NULL },
        { "dev-minimal", "device nodes beyond null zero full random urandom (tty)",
          try_dev_minimal, OK(HOLDS), KILLED, "also checks each node's major:minor" },
        { "proc-sysrq-trigger", "crash or reboot the host with one byte",
          try_proc_sysrq_trigger, OK(EACCES, EROFS, ENOENT, HOLDS), KILLED,
          "EACCES: mode 0200 root; EROFS: the read-only bind; ENOENT: kernel without "
          "CONFIG_MAGIC_SYSRQ; holds: masked" },
        { "proc-kcore", "read kernel memory", try_proc_kcore, OK(HOLDS, ENOENT), KILLED,
          "holds: masked by /dev/null; ENOENT: kernel without CONFIG_PROC_KCORE" },
        { "proc-core-pattern", "core_pattern pipe: run a program as host root",
          try_proc_core_pattern, OK(EACCES, EROFS), KILLED,
          "EACCES: mode 0644 root; EROFS: /proc/sys is bound read-only" },
        { "sys-absent", "uevent_helper / cgroup release_agent: run programs as host root",
          try_sys_absent, OK(ENOENT), KILLED, "/sys is not mounted" },
        { "host-sockets", "ask host daemons (systemd, D-Bus, Docker) to act for us",
          try_host_sockets, OK(ENOENT), KILLED, NULL },
        { "tmp-size", "fill host memory through /tmp (ARG: its size in bytes)",
          try_tmp_size, OK(ENOSPC), KILLED, NULL },
        /* network */
        { "net-connect-host", "reach a service on the host's loopback (ARG: its port)",
          try_net_connect_host, OK(ECONNREFUSED), KILLED,
          "the slice's lo is its own: nothing listens there" },
        { "net-only-lo", "any interface but lo (a way to the host's network)",
          try_net_only_lo, OK(HOLDS), KILLED, NULL },
        { "raw-socket", "forge packets", try_raw_socket, OK(EPERM), KILLED,
          "socket is allowed; CAP_NET_RAW is not" },
        { "packet-socket", "sniff / inject link-layer frames", try_packet_socket, OK(EPERM),
          KILLED, "socket is allowed; CAP_NET_RAW is not" },
        { "netlink-newlink", "create network interfaces (rtnetlink)",
          try_netlink_newlink, OK(EPERM), KILLED, "the kernel's CAP_NET_ADMIN check" },
        { "abstract-unix", "host abstract unix sockets (ARG: a live name, no '@')",
          try_abstract_unix, OK(ECONNREFUSED), KILLED,
          "abstract names belong to the network namespace" },
        /* strict only */
        { "exec-memory", "make memory executable after start-up (W^X)",
          try_exec_memory, NA, KILLED,
          "posix allows it (JITs); strict-tight refuses PROT_EXEC" },
};

#define N_ATTEMPTS (sizeof attempts / sizeof attempts[0])

static const struct attempt *find(const char *name)
{
        for (size_t i = 0; i < N_ATTEMPTS; i++)
                if (!strcmp(attempts[i].name, name))
                        return &attempts[i];
        return NULL;
}

static const struct expect *expect_for(const struct attempt *a, const char *profile)
{
        if (!strcmp(profile, "posix"))
                return &a->posix;
        if (!strcmp(profile, "strict"))
                return &a->strict;
        return NULL;
}

/* "errno EPERM|EINVAL", "holds|errno ENOENT", "signal SIGSYS", "n/a" */
static void expect_str(const struct expect *x, char *buf, size_t len)
{
        size_t used = 0;
        buf[0] = '\0';
        switch (x->kind) {
        case X_NA:
                snprintf(buf, len, "n/a");
                return;
        case X_SIGNAL:
                snprintf(buf, len, "signal SIG%s", sigabbrev_np(x->sig));
                return;
        case X_RESULT:
                break;
        }
        int errnos = 0;
        for (int i = 0; i < EXPECT_MAX && x->ok[i]; i++) {
                const char *sep = used ? "|" : "";
                if (x->ok[i] == HOLDS)
                        used += (size_t)snprintf(buf + used, len - used, "%sholds", sep);
                else
                        used += (size_t)snprintf(buf + used, len - used, "%s%s%s", sep,
                                                 errnos++ ? "" : "errno ",
                                                 probe_errname(x->ok[i]));
                if (used >= len)
                        return;
        }
}

static int accepted(const struct expect *x, int code)
{
        if (x->kind != X_RESULT)
                return 0;
        for (int i = 0; i < EXPECT_MAX && x->ok[i]; i++)
                if (x->ok[i] == code)
                        return 1;
        return 0;
}

/* One line to stdout with write(2): the only output call strict-tight allows
 * that needs no set-up. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
        char line[PROBE_DETAIL_MAX + 256];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(line, sizeof line - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t)n > sizeof line - 2)
                n = (int)sizeof line - 2;
        line[n++] = '\n';
        for (int off = 0; off < n;) {
                ssize_t w = write(1, line + off, (size_t)(n - off));
                if (w <= 0)
                        return;
                off += (int)w;
        }
}

static int run(const struct attempt *a, const char *profile, const char *arg)
{
        const struct expect *x = expect_for(a, profile);
        char want[96];
        expect_str(x, want, sizeof want);
        if (x->kind == X_NA) {
                say("SKIPPED %s: does not apply to the %s profile", a->name, profile);
                return 2;
        }
        struct probe_ctx ctx = { .arg = arg, .strict = !strcmp(profile, "strict") };
        struct probe_result r;
        memset(&r, 0, sizeof r);
        errno = 0;
        a->fn(&ctx, &r);

        /* Still alive: for a SIGSYS expectation that alone is a failure. */
        char got[96];
        int code = r.kind == PROBE_HOLDS ? HOLDS : r.err;
        if (r.kind == PROBE_ESCAPED) {
                say("ESCAPED %s: %s", a->name, r.detail);
                return 1;
        }
        if (r.kind == PROBE_HOLDS)
                snprintf(got, sizeof got, "holds");
        else
                snprintf(got, sizeof got, "errno %s (%s)",
                         probe_errname(r.err), strerror(r.err));
        if (r.kind == 0) {
                say("UNEXPECTED %s: the attempt recorded no outcome", a->name);
                return 1;
        }
        if (!accepted(x, code)) {
                say("UNEXPECTED %s: %s: got %s, expected %s", a->name, r.detail, got, want);
                return 1;
        }
        if (r.kind == PROBE_HOLDS)
                say("BLOCKED %s: %s", a->name, r.detail);
        else
                say("BLOCKED %s: %s: %s", a->name, r.detail, got);
        return 0;
}

/* Markdown cell: '|' separates cells, so alternatives print as "\|". */
static void print_cell(const char *text)
{
        for (; *text; text++) {
                if (*text == '|')
                        putchar('\\');
                putchar(*text);
        }
        printf(" | ");
}

static void print_table(void)
{
        printf("| attempt | threat | posix | strict | why |\n|---|---|---|---|---|\n");
        for (size_t i = 0; i < N_ATTEMPTS; i++) {
                char p[96], s[96];
                expect_str(&attempts[i].posix, p, sizeof p);
                expect_str(&attempts[i].strict, s, sizeof s);
                printf("| `%s` | %s | ", attempts[i].name, attempts[i].threat);
                print_cell(p);
                print_cell(s);
                printf("%s |\n", attempts[i].note ? attempts[i].note : "");
        }
}

static int usage(void)
{
        fprintf(stderr, "usage: escape-probe --list [posix|strict]\n"
                        "       escape-probe --expect NAME posix|strict\n"
                        "       escape-probe --table\n"
                        "       escape-probe NAME [posix|strict [ARG]]\n");
        return 2;
}

static int valid_profile(const char *p)
{
        return !strcmp(p, "posix") || !strcmp(p, "strict");
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage();
        if (!strcmp(argv[1], "--list")) {
                if (argc > 3 || (argc == 3 && !valid_profile(argv[2])))
                        return usage();
                for (size_t i = 0; i < N_ATTEMPTS; i++)
                        if (argc == 2 || expect_for(&attempts[i], argv[2])->kind != X_NA)
                                printf("%s\n", attempts[i].name);
                return 0;
        }
        if (!strcmp(argv[1], "--table")) {
                print_table();
                return 0;
        }
        if (!strcmp(argv[1], "--expect")) {
                if (argc != 4 || !valid_profile(argv[3]))
                        return usage();
                const struct attempt *a = find(argv[2]);
                if (!a) {
                        fprintf(stderr, "escape-probe: no attempt named `%s`\n", argv[2]);
                        return 2;
                }
                char want[96];
                expect_str(expect_for(a, argv[3]), want, sizeof want);
                printf("%s\n", want);
                return 0;
        }
        const struct attempt *a = find(argv[1]);
        if (!a) {
                say("UNEXPECTED %s: no such attempt", argv[1]);
                return 2;
        }
        const char *env = getenv("SLICE_SECCOMP");
        const char *profile = argc > 2 ? argv[2] : env && !strcmp(env, "strict") ? "strict"
                                                                                 : "posix";
        if (!valid_profile(profile) || argc > 4)
                return usage();
        return run(a, profile, argc > 3 ? argv[3] : NULL);
}
