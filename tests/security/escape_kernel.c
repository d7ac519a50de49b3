/* Escape attempts through kernel interfaces a slice has no use for: code
 * loading (BPF, modules, kexec), attack surface that regularly carries
 * privilege-escalation bugs (io_uring, userfaultfd, perf, keyrings), host-wide
 * state (clock, swap, accounting, reboot, kernel log, terminal input), and the
 * syscall ABIs a filter must not let through (x32, i386). */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/kexec.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <linux/tiocl.h>
#include <linux/userfaultfd.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* Created by a call that escaped: close it and report. */
static void escaped_fd(struct probe_result *r, long fd, const char *what)
{
        close((int)fd);
        probe_escaped(r, "%s returned fd %ld", what, fd);
}

static void fd_call(struct probe_result *r, long fd, const char *what)
{
        if (fd >= 0)
                escaped_fd(r, fd, what);
        else
                probe_failed(r, errno, "%s", what);
}

void try_bpf_prog_load(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* "r0 = 0; exit": the smallest valid socket filter. */
        struct bpf_insn prog[2];
        memset(prog, 0, sizeof prog);
        prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
        prog[1].code = BPF_JMP | BPF_EXIT;
        union bpf_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
        attr.insn_cnt = 2;
        attr.insns = (uint64_t)(uintptr_t)prog;
        attr.license = (uint64_t)(uintptr_t)"GPL";
        fd_call(r, syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr), "bpf(BPF_PROG_LOAD)");
}

void try_perf_event_open(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Counting our own task clock in user space is what even
         * perf_event_paranoid=2 allows: only the filter stands in the way. */
        struct perf_event_attr attr;
        memset(&attr, 0, sizeof attr);
        attr.size = sizeof attr;
        attr.type = PERF_TYPE_SOFTWARE;
        attr.config = PERF_COUNT_SW_TASK_CLOCK;
        attr.disabled = 1;
        attr.exclude_kernel = 1;
        attr.exclude_hv = 1;
        fd_call(r, syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC),
                "perf_event_open(task clock of self)");
}

void try_userfaultfd(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* User-mode-only faults are allowed to anyone by the kernel; the
         * filter is what keeps the exploit primitive away. */
        fd_call(r, syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY),
                "userfaultfd(UFFD_USER_MODE_ONLY)");
}

void try_io_uring_setup(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        fd_call(r, syscall(SYS_io_uring_setup, 1U, &p), "io_uring_setup(1)");
}

void try_keyctl(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Keyrings are not namespaced: the user keyring is shared with every
         * process of the same uid on the host. */
        long id = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_USER_KEYRING, 0);
        if (id >= 0) {
                probe_escaped(r, "keyctl found the user keyring (id %ld)", id);
                return;
        }
        probe_failed(r, errno, "keyctl(KEYCTL_GET_KEYRING_ID, user keyring)");
}

void try_add_key(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Into the process keyring: it dies with us. */
        long id = syscall(SYS_add_key, "user", "sliced-probe", "x", 1UL,
                          KEY_SPEC_PROCESS_KEYRING);
        if (id >= 0) {
                probe_escaped(r, "add_key created key %ld", id);
                return;
        }
        probe_failed(r, errno, "add_key(user, process keyring)");
}

void try_request_key(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* ENOKEY: the lookup ran (and with a callout, /sbin/request-key would
         * run on the host). */
        long ret = syscall(SYS_request_key, "user", "sliced-probe-absent", NULL,
                           KEY_SPEC_PROCESS_KEYRING);
        probe_call_past(r, ret, "request_key(user)", PROBE_PAST(ENOKEY));
}

void try_kexec_load(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* One segment too many: EINVAL right after the CAP_SYS_BOOT check. */
        long ret = syscall(SYS_kexec_load, 0UL, (unsigned long)KEXEC_SEGMENT_MAX + 1, NULL, 0UL);
        probe_call_past(r, ret, "kexec_load(17 segments)", PROBE_PAST(EINVAL));
}

void try_init_module(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* An empty image: ENOEXEC after the CAP_SYS_MODULE check. */
        long ret = syscall(SYS_init_module, NULL, 0UL, "");
        probe_call_past(r, ret, "init_module(empty image)", PROBE_PAST(ENOEXEC, EFAULT, EINVAL));
}

void try_finit_module(const struct probe_ctx *ctx, struct probe_result *r)
{
        long ret = syscall(SYS_finit_module, -1, "", 0);
        probe_call_past(r, ret, "finit_module(fd -1)", PROBE_PAST(EBADF));
}

void try_delete_module(const struct probe_ctx *ctx, struct probe_result *r)
{
        long ret = syscall(SYS_delete_module, "sliced_probe_absent", O_NONBLOCK);
        probe_call_past(r, ret, "delete_module(sliced_probe_absent)", PROBE_PAST(ENOENT));
}

/* struct file_handle with room for any file system's handle. */
struct probe_fh {
        unsigned int handle_bytes;
        int handle_type;
        unsigned char f_handle[MAX_HANDLE_SZ];
};

void try_open_by_handle_at(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The "shocker" escape: guess handles to open host files outside
         * the container's root. A zero handle is invalid (ESTALE) once past
         * the CAP_DAC_READ_SEARCH check. */
        struct probe_fh fh;
        memset(&fh, 0, sizeof fh);
        fh.handle_bytes = 8;
        fh.handle_type = 1; /* FILEID_INO32_GEN */
        long fd = syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                escaped_fd(r, fd, "open_by_handle_at(zero handle)");
                return;
        }
        probe_call_past(r, fd, "open_by_handle_at(zero handle)",
                        PROBE_PAST(ESTALE, EINVAL, ENOENT, EOPNOTSUPP));
}

void try_name_to_handle_at(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The other half of shocker: a handle to learn the format from. */
        struct probe_fh fh;
        memset(&fh, 0, sizeof fh);
        fh.handle_bytes = MAX_HANDLE_SZ;
        int mount_id;
        long ret = syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &fh, &mount_id, 0);
        if (ret == 0) {
                probe_escaped(r, "name_to_handle_at(/) gave a %u-byte handle", fh.handle_bytes);
                return;
        }
        probe_failed(r, errno, "name_to_handle_at(/)");
}

void try_tiocsti(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* TIOCSTI pushes input into a terminal: into the caller's shell when
         * the slice shares the tty. The filter matches the request number,
         * so fd -1 shows it without touching any terminal: EBADF means the
         * request reached the kernel. */
        char c = '\n';
        long ret = ioctl(-1, TIOCSTI, &c);
        probe_call_past(r, ret, "ioctl(-1, TIOCSTI)", PROBE_PAST(EBADF));
}

void try_tioclinux(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* TIOCLINUX can paste the console selection as input, like TIOCSTI. */
        char sub = TIOCL_PASTESEL;
        long ret = ioctl(-1, TIOCLINUX, &sub);
        probe_call_past(r, ret, "ioctl(-1, TIOCLINUX)", PROBE_PAST(EBADF));
}

#define ABSENT "/.sliced-probe-absent"

void try_acct(const struct probe_ctx *ctx, struct probe_result *r)
{
        long ret = syscall(SYS_acct, ABSENT);
        probe_call_past(r, ret, "acct(" ABSENT ")", PROBE_PAST(ENOENT));
}

void try_swapon(const struct probe_ctx *ctx, struct probe_result *r)
{
        long ret = syscall(SYS_swapon, ABSENT, 0);
        probe_call_past(r, ret, "swapon(" ABSENT ")", PROBE_PAST(ENOENT));
}

void try_reboot(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The CAP_SYS_BOOT check comes first, the magic second: with a wrong
         * first magic the call can never reboot anything. */
        long ret = syscall(SYS_reboot, 0x5113dUL, (unsigned long)LINUX_REBOOT_MAGIC2,
                           (unsigned long)LINUX_REBOOT_CMD_CAD_OFF, NULL);
        probe_call_past(r, ret, "reboot(wrong magic, CAD_OFF)", PROBE_PAST(EINVAL));
}

void try_settimeofday(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* No time, and a time zone out of the +-15 h range: EINVAL right
         * after the CAP_SYS_TIME check. */
        struct timezone tz = { .tz_minuteswest = 24 * 60, .tz_dsttime = 0 };
        long ret = syscall(SYS_settimeofday, NULL, &tz);
        probe_call_past(r, ret, "settimeofday(tz +24h)", PROBE_PAST(EINVAL));
}

void try_clock_settime(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* The kernel validates the time before the capability, so only a
         * valid one tests the privilege: set the clock to what it reads now
         * (if it ever succeeds, the clock moves back by well under a
         * microsecond). */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        long ret = syscall(SYS_clock_settime, CLOCK_REALTIME, &now);
        if (ret == 0) {
                probe_escaped(r, "clock_settime(CLOCK_REALTIME) set the host clock");
                return;
        }
        probe_failed(r, errno, "clock_settime(CLOCK_REALTIME, now)");
}

/* A modifying adjtimex request the kernel rejects (tick far below the
 * 900000/HZ floor) right after its CAP_SYS_TIME check. */
static void bad_tick(struct timex *tx)
{
        memset(tx, 0, sizeof *tx);
        tx->modes = ADJ_TICK;
        tx->tick = 1;
}

void try_adjtimex(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct timex tx;
        bad_tick(&tx);
        long ret = syscall(SYS_adjtimex, &tx);
        probe_call_past(r, ret, "adjtimex(ADJ_TICK)", PROBE_PAST(EINVAL));
}

void try_clock_adjtime(const struct probe_ctx *ctx, struct probe_result *r)
{
        struct timex tx;
        bad_tick(&tx);
        long ret = syscall(SYS_clock_adjtime, CLOCK_REALTIME, &tx);
        probe_call_past(r, ret, "clock_adjtime(CLOCK_REALTIME, ADJ_TICK)", PROBE_PAST(EINVAL));
}

void try_syslog_read(const struct probe_ctx *ctx, struct probe_result *r)
{
        char buf[512];
        long n = syscall(SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, (int)sizeof buf);
        if (n >= 0) {
                probe_escaped(r, "read %ld bytes of the kernel log", n);
                return;
        }
        probe_failed(r, errno, "syslog(SYSLOG_ACTION_READ_ALL)");
}

void try_iopl(const struct probe_ctx *ctx, struct probe_result *r)
{
        if (syscall(SYS_iopl, 3) == 0) {
                syscall(SYS_iopl, 0);
                probe_escaped(r, "iopl(3) granted port I/O (dropped again)");
                return;
        }
        probe_failed(r, errno, "iopl(3)");
}

void try_ioperm(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* 0x80: the POST diagnostic port, harmless even if granted. */
        if (syscall(SYS_ioperm, 0x80UL, 1UL, 1) == 0) {
                syscall(SYS_ioperm, 0x80UL, 1UL, 0);
                probe_escaped(r, "ioperm(0x80) granted port I/O (dropped again)");
                return;
        }
        probe_failed(r, errno, "ioperm(0x80)");
}

static void try_persona(struct probe_result *r, unsigned long persona, const char *what)
{
        /* 0xffffffff only queries; anything else changes the persona, which
         * the kernel allows anyone. */
        long old = syscall(SYS_personality, 0xffffffffUL);
        long ret = syscall(SYS_personality, persona);
        if (ret >= 0) {
                if (old >= 0)
                        syscall(SYS_personality, (unsigned long)old);
                probe_escaped(r, "personality(%s) took effect (restored)", what);
                return;
        }
        probe_failed(r, errno, "personality(%s)", what);
}

void try_personality_linux32(const struct probe_ctx *ctx, struct probe_result *r)
{
        try_persona(r, PER_LINUX32, "PER_LINUX32");
}

void try_personality_rie(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* READ_IMPLIES_EXEC makes every readable mapping executable. */
        try_persona(r, READ_IMPLIES_EXEC, "READ_IMPLIES_EXEC");
}

/* Bit 30 selects the x32 ABI on x86_64; a filter that checks numbers without
 * it would match a different call than the kernel runs. */
#define X32_SYSCALL_BIT 0x40000000L

void try_x32_syscall(const struct probe_ctx *ctx, struct probe_result *r)
{
        long ret = syscall(X32_SYSCALL_BIT | SYS_getpid);
        if (ret >= 0) {
                probe_escaped(r, "x32 getpid returned %ld", ret);
                return;
        }
        probe_failed(r, errno, "x32 getpid (nr 0x%lx)", X32_SYSCALL_BIT | SYS_getpid);
}

void try_i386_int80(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* int $0x80 enters the i386 table, whose numbers differ: a filter
         * that does not check the architecture is bypassed this way. */
        long ret;
        __asm__ volatile("int $0x80"
                         : "=a"(ret)
                         : "a"(20L) /* i386 __NR_getpid */
                         : "rcx", "r8", "r9", "r10", "r11", "memory", "cc");
        if (ret >= 0) {
                probe_escaped(r, "i386 getpid via int $0x80 returned %ld", ret);
                return;
        }
        probe_failed(r, (int)-ret, "i386 getpid via int $0x80");
}

/* Numbers no kernel this code runs on has assigned; a filter must answer
 * them with ENOSYS (the libc fallback convention), not kill the process. */
static const long unknown_nrs[] = { 470, 1000 };

void try_unknown_syscall(const struct probe_ctx *ctx, struct probe_result *r)
{
        size_t n = sizeof unknown_nrs / sizeof unknown_nrs[0];
        for (size_t i = 0; i < n; i++) {
                long ret = syscall(unknown_nrs[i], 0L, 0L, 0L, 0L, 0L, 0L);
                if (ret >= 0) {
                        probe_escaped(r, "syscall %ld returned %ld", unknown_nrs[i], ret);
                        return;
                }
                if (errno != ENOSYS) {
                        probe_failed(r, errno, "syscall %ld", unknown_nrs[i]);
                        return;
                }
        }
        probe_failed(r, ENOSYS, "syscalls %ld and %ld (no such call)", unknown_nrs[0],
                     unknown_nrs[n - 1]);
}

void try_sched_fifo(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* A real-time busy loop starves the host's CPU. */
        struct sched_param p = { .sched_priority = 1 };
        if (sched_setscheduler(0, SCHED_FIFO, &p) == 0) {
                struct sched_param other = { .sched_priority = 0 };
                sched_setscheduler(0, SCHED_OTHER, &other);
                probe_escaped(r, "sched_setscheduler(SCHED_FIFO) succeeded (reverted)");
                return;
        }
        probe_failed(r, errno, "sched_setscheduler(SCHED_FIFO, 1)");
}

void try_nice_raise(const struct probe_ctx *ctx, struct probe_result *r)
{
        errno = 0;
        int old = getpriority(PRIO_PROCESS, 0); /* -1 is a valid nice value */
        if (errno)
                old = 0;
        if (setpriority(PRIO_PROCESS, 0, -20) == 0) {
                setpriority(PRIO_PROCESS, 0, old);
                probe_escaped(r, "setpriority(-20) raised our priority (reverted)");
                return;
        }
        probe_failed(r, errno, "setpriority(self, -20)");
}

void try_exec_memory(const struct probe_ctx *ctx, struct probe_result *r)
{
        /* Writable memory turned executable: where injected code would run. */
        size_t len = (size_t)sysconf(_SC_PAGESIZE);
        void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
                probe_failed(r, errno, "mmap(PROT_READ|PROT_WRITE)");
                return;
        }
        int ret = mprotect(p, len, PROT_READ | PROT_EXEC);
        int e = errno;
        munmap(p, len);
        if (ret == 0) {
                probe_escaped(r, "mprotect made anonymous memory executable");
                return;
        }
        probe_failed(r, e, "mprotect(PROT_READ|PROT_EXEC)");
}
