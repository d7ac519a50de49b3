/* The builtin seccomp profiles, as a specification.
 *
 * Most tests run the compiled programs (the very arrays the supervisor
 * installs) in an in-process BPF evaluator against tables of syscall vectors;
 * nothing is installed. Tables of rules are iterated too, so a rule added to
 * a profile is tested without touching this file. The last tests install
 * programs for real in forked children: posix (and a shell running under it),
 * strict before exec of a dynamic program, and strict followed by
 * strict-tight as libslice does it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_profiles.h"
#include "support/bpf_eval.h"

#define ALLOW   SECCOMP_RET_ALLOW
#define KILL    SECCOMP_RET_KILL_PROCESS
#define EPERM_  (SECCOMP_RET_ERRNO | EPERM)
#define ENOSYS_ (SECCOMP_RET_ERRNO | ENOSYS)

/* What glibc 2.36's pthread_create passes to clone. */
#define PTHREAD_CLONE                                                                              \
        (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |        \
         CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID)
#define SYS_mseal_ 462 /* Linux 6.10; newer than libseccomp 2.5.4 */
#define AF_VSOCK_  40
#define PROFILE_NAMES                                                                              \
        {                                                                                          \
                "posix", "strict", "strict-tight", "reaper"                                        \
        }

static struct sb_seccomp_prog get(const char *profile)
{
        struct sb_seccomp_prog p;
        struct sl_error err = {0};
        if (sb_seccomp_prog_get(profile, &p, &err) < 0)
                fail_msg("%s", err.msg);
        return p;
}

static uint32_t run(const char *profile, const struct seccomp_data *d)
{
        struct sb_seccomp_prog p = get(profile);
        uint32_t r = bpf_eval(p.insns, p.len, d);
        sb_seccomp_prog_release(&p);
        return r;
}

static void expect_ret(const char *profile, const char *what, uint32_t got, uint32_t want)
{
        char g[32], w[32];
        if (got != want)
                fail_msg("%s: %s: got %s, want %s", profile, what, bpf_ret_name(got, g, sizeof g),
                         bpf_ret_name(want, w, sizeof w));
}

/* ---- vectors: profile, behaviour, call, arguments, expected action ----- */

struct vec {
        const char *profile;
        const char *what;
        int nr;
        uint32_t expect;
        uint64_t args[6];
};
/* clang-format off */
#define V(prof, what, nr, expect, ...) {prof, what, nr, expect, {__VA_ARGS__}}

static const struct vec vectors[] = {
        V("posix", "getpid is allowed", SYS_getpid, ALLOW, 0),
        V("posix", "execve is allowed", SYS_execve, ALLOW, 0),
        V("posix", "mount is refused", SYS_mount, EPERM_, 0),
        V("posix", "unshare(CLONE_NEWNS) is refused", SYS_unshare, EPERM_, CLONE_NEWNS),
        V("posix", "fork-style clone is allowed", SYS_clone, ALLOW, SIGCHLD),
        V("posix", "pthread-style clone is allowed", SYS_clone, ALLOW, PTHREAD_CLONE),
        V("posix", "clone(CLONE_NEWUSER) is refused", SYS_clone, EPERM_, CLONE_NEWUSER | SIGCHLD),
        V("posix", "clone(CLONE_NEWNET) is refused", SYS_clone, EPERM_, CLONE_NEWNET),
        V("posix", "clone(CLONE_NEWCGROUP) is refused", SYS_clone, EPERM_, CLONE_NEWCGROUP),
        V("posix", "clone flags' upper half (ignored by the kernel) does not hide CLONE_NEWPID",
          SYS_clone, EPERM_, 0xdead000000000000ULL | CLONE_NEWPID),
        V("posix", "clone3 says ENOSYS so glibc falls back to clone", SYS_clone3, ENOSYS_, 0),
        V("posix", "ioctl TCGETS is allowed", SYS_ioctl, ALLOW, 0, TCGETS),
        V("posix", "ioctl FIONREAD is allowed", SYS_ioctl, ALLOW, 0, FIONREAD),
        V("posix", "ioctl one past TIOCSTI is allowed", SYS_ioctl, ALLOW, 0, TIOCSTI + 1),
        V("posix", "ioctl TIOCSTI is refused", SYS_ioctl, EPERM_, 0, TIOCSTI),
        V("posix", "ioctl TIOCSTI with the ignored upper half set is refused", SYS_ioctl, EPERM_,
          0, 0x100000000ULL | TIOCSTI),
        V("posix", "ioctl TIOCLINUX is refused", SYS_ioctl, EPERM_, 0, TIOCLINUX),
        V("posix", "personality(PER_LINUX) is allowed", SYS_personality, ALLOW, 0),
        V("posix", "personality(0xffffffff) (query) is allowed", SYS_personality, ALLOW, 0xffffffff),
        V("posix", "personality(PER_LINUX32) is refused", SYS_personality, EPERM_, 0x0008),
        V("posix", "personality(ADDR_NO_RANDOMIZE) is refused", SYS_personality, EPERM_, 0x0040000),
        V("posix", "socket(AF_UNIX) is allowed", SYS_socket, ALLOW, AF_UNIX, SOCK_STREAM),
        V("posix", "socket(AF_INET) is allowed", SYS_socket, ALLOW, AF_INET, SOCK_DGRAM),
        V("posix", "socket(AF_VSOCK) is refused", SYS_socket, EPERM_, AF_VSOCK_, SOCK_STREAM),
        V("posix", "seccomp(SET_MODE_FILTER) is allowed", SYS_seccomp, ALLOW, SECCOMP_SET_MODE_FILTER, 0),
        V("posix", "seccomp with SPEC_ALLOW is refused", SYS_seccomp, EPERM_,
          SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW),
        V("posix", "bpf is refused", SYS_bpf, EPERM_, 0),
        V("posix", "io_uring_setup is refused", SYS_io_uring_setup, EPERM_, 0),
        V("posix", "ptrace is refused", SYS_ptrace, EPERM_, 0),
        V("posix", "a call libseccomp knows but posix does not list says ENOSYS", SYS_mbind, ENOSYS_, 0),

        V("strict", "openat O_RDONLY|O_CLOEXEC is allowed", SYS_openat, ALLOW, AT_FDCWD, 0, O_RDONLY | O_CLOEXEC),
        V("strict", "openat O_WRONLY kills", SYS_openat, KILL, AT_FDCWD, 0, O_WRONLY),
        V("strict", "openat O_RDWR kills", SYS_openat, KILL, AT_FDCWD, 0, O_RDWR),
        V("strict", "openat O_RDONLY|O_CREAT kills", SYS_openat, KILL, AT_FDCWD, 0, O_RDONLY | O_CREAT),
        V("strict", "openat O_RDONLY|O_TRUNC kills", SYS_openat, KILL, AT_FDCWD, 0, O_RDONLY | O_TRUNC),
        V("strict", "openat with access mode 3 kills", SYS_openat, KILL, AT_FDCWD, 0, O_ACCMODE),
        V("strict", "open O_RDONLY is allowed", SYS_open, ALLOW, 0, O_RDONLY),
        V("strict", "open O_WRONLY kills", SYS_open, KILL, 0, O_WRONLY),
        V("strict", "openat2 says ENOSYS", SYS_openat2, ENOSYS_, 0),
        V("strict", "execve is allowed", SYS_execve, ALLOW, 0),
        V("strict", "execveat is allowed (sealed memfd)", SYS_execveat, ALLOW, 0),
        V("strict", "mmap PROT_EXEC is allowed (the loader maps code)", SYS_mmap, ALLOW,
          0, 4096, PROT_READ | PROT_EXEC),
        V("strict", "socket kills", SYS_socket, KILL, AF_UNIX, SOCK_STREAM),
        V("strict", "fork kills", SYS_fork, KILL, 0),
        V("strict", "fork-style clone kills", SYS_clone, KILL, SIGCHLD),
        V("strict", "pthread-style clone is allowed", SYS_clone, ALLOW, PTHREAD_CLONE),
        V("strict", "clone3 says ENOSYS", SYS_clone3, ENOSYS_, 0),
        V("strict", "prctl(PR_SET_NO_NEW_PRIVS) is allowed", SYS_prctl, ALLOW, PR_SET_NO_NEW_PRIVS, 1),
        V("strict", "prctl(PR_SET_DUMPABLE) kills", SYS_prctl, KILL, PR_SET_DUMPABLE, 1),
        V("strict", "seccomp(SET_MODE_FILTER) is allowed", SYS_seccomp, ALLOW, SECCOMP_SET_MODE_FILTER, 0),
        V("strict", "seccomp(SET_MODE_FILTER, TSYNC) is allowed", SYS_seccomp, ALLOW,
          SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC),
        V("strict", "seccomp with SPEC_ALLOW kills", SYS_seccomp, KILL,
          SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_SPEC_ALLOW),
        V("strict", "seccomp(GET_ACTION_AVAIL) kills", SYS_seccomp, KILL, SECCOMP_GET_ACTION_AVAIL, 0),
        V("strict", "prlimit64 reading RLIMIT_STACK is allowed", SYS_prlimit64, ALLOW,
          0, RLIMIT_STACK, 0, 0x7ffd0000),
        V("strict", "prlimit64 setting a limit kills", SYS_prlimit64, KILL, 0, RLIMIT_STACK, 0x7ffd0000, 0),
        V("strict", "ioctl TCGETS is allowed", SYS_ioctl, ALLOW, 1, TCGETS),
        V("strict", "ioctl TIOCSTI kills", SYS_ioctl, KILL, 1, TIOCSTI),
        V("strict", "sendto without a destination is allowed", SYS_sendto, ALLOW, 3, 0x1000, 10, 0, 0, 0),
        V("strict", "sendto to an address kills", SYS_sendto, KILL, 3, 0x1000, 10, 0, 0x2000, 110),
        V("strict", "unshare kills", SYS_unshare, KILL, CLONE_NEWUSER),

        V("strict-tight", "openat O_RDONLY kills", SYS_openat, KILL, AT_FDCWD, 0, O_RDONLY),
        V("strict-tight", "open kills", SYS_open, KILL, 0, O_RDONLY),
        V("strict-tight", "socket kills", SYS_socket, KILL, AF_UNIX, SOCK_STREAM),
        V("strict-tight", "socketpair kills", SYS_socketpair, KILL, AF_UNIX, SOCK_STREAM),
        V("strict-tight", "execve kills", SYS_execve, KILL, 0),
        V("strict-tight", "execveat kills", SYS_execveat, KILL, 0),
        V("strict-tight", "fork kills", SYS_fork, KILL, 0),
        V("strict-tight", "vfork kills", SYS_vfork, KILL, 0),
        V("strict-tight", "fork-style clone kills", SYS_clone, KILL, SIGCHLD),
        V("strict-tight", "clone with CLONE_THREAD but a namespace flag kills", SYS_clone, KILL,
          PTHREAD_CLONE | CLONE_NEWNS),
        V("strict-tight", "pthread-style clone is allowed", SYS_clone, ALLOW, PTHREAD_CLONE),
        V("strict-tight", "clone3 says ENOSYS", SYS_clone3, ENOSYS_, 0),
        V("strict-tight", "mmap PROT_READ|PROT_WRITE is allowed", SYS_mmap, ALLOW,
          0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS),
        V("strict-tight", "mmap PROT_EXEC kills", SYS_mmap, KILL, 0, 4096, PROT_READ | PROT_EXEC),
        V("strict-tight", "mprotect to PROT_EXEC kills", SYS_mprotect, KILL, 0x1000, 4096, PROT_READ | PROT_EXEC),
        V("strict-tight", "mprotect to PROT_NONE is allowed (guard pages)", SYS_mprotect, ALLOW, 0x1000, 4096, PROT_NONE),
        V("strict-tight", "memfd_create kills", SYS_memfd_create, KILL, 0),
        V("strict-tight", "prctl kills", SYS_prctl, KILL, PR_SET_NO_NEW_PRIVS, 1),
        V("strict-tight", "seccomp kills", SYS_seccomp, KILL, SECCOMP_SET_MODE_FILTER, 0),
        V("strict-tight", "arch_prctl kills", SYS_arch_prctl, KILL, 0x1002, 0),
        V("strict-tight", "read is allowed", SYS_read, ALLOW, 0),
        V("strict-tight", "recvmsg is allowed", SYS_recvmsg, ALLOW, 3),
        V("strict-tight", "sendmsg is allowed", SYS_sendmsg, ALLOW, 3),
        V("strict-tight", "futex is allowed", SYS_futex, ALLOW, 0),
        V("strict-tight", "epoll_wait is allowed", SYS_epoll_wait, ALLOW, 3),
        V("strict-tight", "ioctl FIONREAD is allowed", SYS_ioctl, ALLOW, 3, FIONREAD),
        V("strict-tight", "exit_group is allowed", SYS_exit_group, ALLOW, 0),

        V("reaper", "wait4 is allowed", SYS_wait4, ALLOW, (uint64_t)-1),
        V("reaper", "waitid is allowed", SYS_waitid, ALLOW, P_ALL),
        V("reaper", "kill is allowed", SYS_kill, ALLOW, (uint64_t)-1, SIGTERM),
        V("reaper", "rt_sigtimedwait is allowed", SYS_rt_sigtimedwait, ALLOW, 0),
        V("reaper", "write is allowed", SYS_write, ALLOW, 2),
        V("reaper", "openat kills", SYS_openat, KILL, AT_FDCWD, 0, O_RDONLY),
        V("reaper", "fork kills", SYS_fork, KILL, 0),
        V("reaper", "clone kills", SYS_clone, KILL, SIGCHLD),
        V("reaper", "execve kills", SYS_execve, KILL, 0),
        V("reaper", "socket kills", SYS_socket, KILL, AF_UNIX),
};
/* clang-format on */

static void test_profiles_answer_each_vector_as_specified(void **state)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(vectors); i++) {
                const struct vec *v = &vectors[i];
                struct seccomp_data d = bpf_vec(v->nr, v->args[0], v->args[1], v->args[2],
                                                v->args[3], v->args[4], v->args[5]);
                expect_ret(v->profile, v->what, run(v->profile, &d), v->expect);
        }
}

static void test_foreign_architectures_and_x32_are_killed_in_every_profile(void **state)
{
        static const struct {
                const char *what;
                uint32_t arch;
                int nr;
        } foreign[] = {
            {"i386 execve (int $0x80)", AUDIT_ARCH_I386, 11},
            {"i386 getpid", AUDIT_ARCH_I386, 20},
            {"i386 number 0", AUDIT_ARCH_I386, 0},
            {"x32 read", AUDIT_ARCH_X86_64, 0x40000000},
            {"x32 getpid", AUDIT_ARCH_X86_64, 0x40000000 | 39},
            {"x32 execve", AUDIT_ARCH_X86_64, 0x40000000 | 520},
        };
        const char *profiles[] = PROFILE_NAMES;
        for (size_t p = 0; p < SL_ARRAY_SIZE(profiles); p++)
                for (size_t i = 0; i < SL_ARRAY_SIZE(foreign); i++) {
                        struct seccomp_data d = bpf_vec(foreign[i].nr, 0, 0, 0, 0, 0, 0);
                        d.arch = foreign[i].arch;
                        expect_ret(profiles[p], foreign[i].what, run(profiles[p], &d), KILL);
                }
}

static void test_numbers_newer_than_libseccomp_say_enosys_in_every_profile(void **state)
{
        /* Computed by the generator from libseccomp (Debian's 2.5.4 knows
         * up to futex_requeue, 456), never hard-coded; runtime agrees. */
        int max = sb_seccomp_builtin_max_known_nr;
        assert_int_equal(max, sb_seccomp_max_known_nr());
        assert_true(max >= 435); /* clone3: anything older could not run glibc 2.36 */
        const int newer[] = {max + 1, SYS_mseal_, 500, 1023, 0x3fffffff};
        const char *profiles[] = PROFILE_NAMES;
        for (size_t p = 0; p < SL_ARRAY_SIZE(profiles); p++)
                for (size_t i = 0; i < SL_ARRAY_SIZE(newer); i++) {
                        char what[64];
                        snprintf(what, sizeof what, "syscall %d", newer[i]);
                        struct seccomp_data d = bpf_vec(newer[i], 1, 2, 3, 4, 5, 6);
                        expect_ret(profiles[p], what, run(profiles[p], &d), ENOSYS_);
                }
}

/* ---- the tables themselves ------------------------------------------- */

static struct sb_seccomp_policy policy_of(const char *name)
{
        struct sb_seccomp_policy pol;
        struct sl_error err = {0};
        const struct sb_seccomp_profile *prof = sb_seccomp_profile_find(name);
        assert_non_null(prof);
        if (sb_seccomp_policy_from_profile(&pol, prof, &err) < 0)
                fail_msg("%s", err.msg);
        return pol;
}

/* Arguments under which the policy gives rule r's action for its call: the
 * values its conditions name, or for an unconditional rule the first single
 * bit that escapes the call's exceptions. */
static int args_for(const struct sb_seccomp_policy *pol, const struct sb_seccomp_rule *r,
                    uint64_t args[6])
{
        memset(args, 0, 6 * sizeof *args);
        for (unsigned int i = 0; i < r->ncond; i++) {
                const struct scmp_arg_cmp *c = &r->cond[i];
                args[c->arg] = c->op == SCMP_CMP_MASKED_EQ ? c->datum_b
                               : c->op == SCMP_CMP_NE      ? c->datum_a + 1
                                                           : c->datum_a;
        }
        for (unsigned int arg = 0; arg < 6 && sb_seccomp_policy_eval(pol, r->nr, args) != r->action;
             arg++)
                for (int bit = 0; bit < 64; bit++) {
                        args[arg] = (uint64_t)1 << bit;
                        if (sb_seccomp_policy_eval(pol, r->nr, args) == r->action)
                                break;
                        args[arg] = 0;
                }
        return sb_seccomp_policy_eval(pol, r->nr, args) == r->action;
}

static void test_every_posix_denial_returns_its_errno_never_kills(void **state)
{
        const struct sb_seccomp_profile *prof = sb_seccomp_profile_find("posix");
        struct sb_seccomp_policy pol = policy_of("posix");
        size_t tested = 0;
        for (size_t i = 0; i < prof->nrules; i++) {
                const struct sb_seccomp_rule *tr = &prof->rules[i];
                if (tr->action == SCMP_ACT_ALLOW)
                        continue;
                /* The expanded copy carries the resolved number. */
                const struct sb_seccomp_rule *r = NULL;
                for (size_t j = 0; j < pol.len && !r; j++)
                        if (strcmp(pol.rules[j].name, tr->name) == 0 &&
                            pol.rules[j].action == tr->action &&
                            memcmp(pol.rules[j].cond, tr->cond, sizeof tr->cond) == 0)
                                r = &pol.rules[j];
                assert_non_null(r);
                assert_true((r->action & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_ERRNO);
                uint64_t a[6];
                if (!args_for(&pol, r, a))
                        fail_msg("posix: no arguments reach the denial of %s", r->name);
                struct seccomp_data d = bpf_vec(r->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                expect_ret("posix", r->why, run("posix", &d), r->action);
                tested++;
        }
        assert_true(tested >= 60);
        sb_seccomp_policy_free(&pol);
}

static void test_every_denial_in_every_table_says_why(void **state)
{
        for (size_t p = 0; p < sb_seccomp_profiles_count; p++) {
                const struct sb_seccomp_profile *prof = &sb_seccomp_profiles[p];
                for (size_t i = 0; i < prof->nrules; i++)
                        if (prof->rules[i].action != SCMP_ACT_ALLOW &&
                            (!prof->rules[i].why || strlen(prof->rules[i].why) < 8))
                                fail_msg("%s: the denial of %s gives no reason", prof->name,
                                         prof->rules[i].name);
        }
}

static void test_every_listed_call_is_allowed(void **state)
{
        for (size_t p = 0; p < sb_seccomp_profiles_count; p++) {
                const struct sb_seccomp_profile *prof = &sb_seccomp_profiles[p];
                struct sb_seccomp_policy pol = policy_of(prof->name);
                for (size_t i = 0; i < pol.len; i++) {
                        if (pol.rules[i].action != SCMP_ACT_ALLOW || pol.rules[i].ncond > 0)
                                continue;
                        uint64_t a[6];
                        assert_true(args_for(&pol, &pol.rules[i], a));
                        struct seccomp_data d =
                            bpf_vec(pol.rules[i].nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                        expect_ret(prof->name, pol.rules[i].name, run(prof->name, &d), ALLOW);
                }
                sb_seccomp_policy_free(&pol);
        }
}

/* Interesting values for an argument: what the conditions name, next to it,
 * with the upper half set, all ones. */
static size_t samples(const struct sb_seccomp_policy *pol, int nr, unsigned int arg, uint64_t *out,
                      size_t cap)
{
        size_t n = 0;
        out[n++] = 0;
        out[n++] = ~(uint64_t)0;
        for (size_t i = 0; i < pol->len; i++)
                for (unsigned int c = 0; c < pol->rules[i].ncond; c++) {
                        const struct scmp_arg_cmp *k = &pol->rules[i].cond[c];
                        if (pol->rules[i].nr != nr || k->arg != arg || n + 6 > cap)
                                continue;
                        out[n++] = k->datum_a;
                        out[n++] = k->datum_b;
                        out[n++] = k->datum_a ^ 1;
                        out[n++] = k->datum_b | 0x100000000ULL;
                        out[n++] =
                            k->datum_b ^ (k->datum_a & -k->datum_a); /* flip lowest mask bit */
                        out[n++] = k->datum_a + 1;
                }
        return n;
}

/* For every call number and sampled arguments, the compiled program of each
 * profile says what its table says (sb_seccomp_policy_eval reads the rules
 * directly). This is what checks the exception expansion in the compiler. */
static void test_programs_answer_what_their_tables_say(void **state)
{
        int max = sb_seccomp_max_known_nr();
        for (size_t p = 0; p < sb_seccomp_profiles_count; p++) {
                const char *name = sb_seccomp_profiles[p].name;
                struct sb_seccomp_policy pol = policy_of(name);
                struct sb_seccomp_prog prog = get(name);
                for (int nr = 0; nr <= max; nr++)
                        for (unsigned int arg = 0; arg < 6; arg++) {
                                uint64_t vals[64];
                                size_t n = samples(&pol, nr, arg, vals, SL_ARRAY_SIZE(vals));
                                for (size_t v = 0; v < n; v++) {
                                        uint64_t a[6] = {0};
                                        a[arg] = vals[v];
                                        struct seccomp_data d =
                                            bpf_vec(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                                        char what[96];
                                        snprintf(what, sizeof what,
                                                 "syscall %d with arg%u = 0x%llx", nr, arg,
                                                 (unsigned long long)vals[v]);
                                        expect_ret(name, what, bpf_eval(prog.insns, prog.len, &d),
                                                   sb_seccomp_policy_eval(&pol, nr, a));
                                }
                        }
                sb_seccomp_prog_release(&prog);
                sb_seccomp_policy_free(&pol);
        }
}

static void test_builtin_programs_are_what_the_tables_compile_to(void **state)
{
        for (size_t p = 0; p < sb_seccomp_profiles_count; p++) {
                const char *name = sb_seccomp_profiles[p].name;
                struct sb_seccomp_policy pol = policy_of(name);
                struct sb_seccomp_prog fresh, builtin = get(name);
                struct sl_error err = {0};
                if (sb_seccomp_policy_compile(&pol, name, &fresh, &err) < 0)
                        fail_msg("%s", err.msg);
                assert_false(builtin.owned);
                assert_int_equal(fresh.len, builtin.len);
                assert_memory_equal(fresh.insns, builtin.insns, fresh.len * sizeof *fresh.insns);
                sb_seccomp_prog_release(&fresh);
                sb_seccomp_policy_free(&pol);
        }
}

/* Stage two stacks on stage one and the strictest answer wins: for every
 * vector, the pair must answer what strict-tight alone answers, or a call
 * stage two allows would die in stage one. */
static void test_strict_tight_only_narrows_strict(void **state)
{
        struct sb_seccomp_policy tight = policy_of("strict-tight");
        struct sb_seccomp_prog one = get("strict"), two = get("strict-tight");
        for (int nr = 0; nr <= sb_seccomp_max_known_nr() + 1; nr++)
                for (unsigned int arg = 0; arg < 6; arg++) {
                        uint64_t vals[64];
                        size_t n = samples(&tight, nr, arg, vals, SL_ARRAY_SIZE(vals));
                        for (size_t v = 0; v < n; v++) {
                                uint64_t a[6] = {0};
                                a[arg] = vals[v];
                                struct seccomp_data d =
                                    bpf_vec(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
                                uint32_t alone = bpf_eval(two.insns, two.len, &d);
                                uint32_t both = bpf_stack(alone, bpf_eval(one.insns, one.len, &d));
                                char what[64];
                                snprintf(what, sizeof what, "syscall %d, arg%u = 0x%llx", nr, arg,
                                         (unsigned long long)vals[v]);
                                expect_ret("strict then strict-tight", what, both, alone);
                        }
                }
        sb_seccomp_prog_release(&one);
        sb_seccomp_prog_release(&two);
        sb_seccomp_policy_free(&tight);
}

static void test_unknown_profile_names_the_builtins(void **state)
{
        struct sb_seccomp_prog p;
        struct sl_error err = {0};
        assert_int_equal(sb_seccomp_prog_get("posx", &p, &err), -1);
        assert_string_equal(err.msg, "unknown seccomp profile `posx` (builtin: posix, strict, "
                                     "strict-tight, reaper; a policy file path contains a '/')");
        assert_null(p.insns);
        sb_seccomp_prog_release(&p); /* zeroed: safe */
        assert_int_equal(sb_seccomp_install(&p), -EINVAL);
}

/* ---- installed for real ----------------------------------------------- */

/* Run body in a forked child; returns its wait status. */
static int in_child(int (*body)(void *), void *arg)
{
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(body(arg));
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        return status;
}

static int install(const char *profile, unsigned int flags)
{
        struct sb_seccomp_prog p;
        if (sb_seccomp_prog_get(profile, &p, NULL) < 0)
                return -1;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -1;
        return sb_seccomp_install_flags(&p, flags) == 0 ? 0 : -1;
}

/* Exit status: 0, or the number of the first check that failed. */
#define CHECK(n, cond)                                                                             \
        do {                                                                                       \
                if (!(cond))                                                                       \
                        return (n);                                                                \
        } while (0)

static int posix_child(void *unused)
{
        CHECK(1, install("posix", 0) == 0);
        CHECK(2, getpid() > 0);
        CHECK(3, unshare(CLONE_NEWNS) == -1 && errno == EPERM);
        CHECK(4, syscall(500) == -1 && errno == ENOSYS);
        CHECK(5, syscall(SYS_mseal_, 0, 0, 0) == -1 && errno == ENOSYS);
        CHECK(6, mount("none", "/", "tmpfs", 0, NULL) == -1 && errno == EPERM);
        CHECK(7, syscall(SYS_clone3, NULL, 0) == -1 && errno == ENOSYS);
        CHECK(8, syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0) == -1 && errno == EPERM);
        char c = 'x';
        CHECK(9, ioctl(0, TIOCSTI, &c) == -1 && errno == EPERM);
        pid_t kid = fork(); /* glibc: clone(SIGCHLD|...) */
        if (kid == 0)
                _exit(0);
        int st;
        CHECK(10, kid > 0 && waitpid(kid, &st, 0) == kid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        return 0;
}

static void test_posix_installed_refuses_with_eperm_and_enosys(void **state)
{
        int status = in_child(posix_child, NULL);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("posix child: status 0x%x (exit code = failed check)", status);
}

struct exec_case {
        const char *profile;
        const char *argv[6];
};

static int exec_child(void *arg)
{
        const struct exec_case *c = arg;
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 1) < 0)
                return 90;
        CHECK(91, install(c->profile, 0) == 0);
        execv(c->argv[0], (char *const *)c->argv);
        return 92;
}

static void test_programs_start_and_run_under_posix_and_strict(void **state)
{
        static const struct exec_case cases[] = {
            /* the dynamic loader and libc start-up, read-only */
            {"strict", {"/bin/true"}},
            {"strict", {"/bin/echo", "hello"}},
            /* ordinary shell code: pipe(), fork, wait, command substitution */
            {"posix", {"/bin/sh", "-c", "echo a | cat; x=$(echo SUB); test \"$x\" = SUB"}},
            {"posix", {"/bin/sh", "-c", "ls / >/dev/null && date >/dev/null && id -u"}},
        };
        for (size_t i = 0; i < SL_ARRAY_SIZE(cases); i++) {
                int status = in_child(exec_child, (void *)&cases[i]);
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        fail_msg("`%s` under %s: status 0x%x",
                                 cases[i].argv[2] ? cases[i].argv[2] : cases[i].argv[0],
                                 cases[i].profile, status);
        }
}

static int write_open_child(void *unused)
{
        CHECK(1, install("strict", 0) == 0);
        open("/tmp/sliced-seccomp-test", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        return 2; /* not reached: SIGSYS */
}

static void test_strict_kills_an_open_for_writing(void **state)
{
        int status = in_child(write_open_child, NULL);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGSYS);
}

static void *thread_body(void *arg)
{
        return arg;
}

/* Stage one, then stage two with TSYNC as libslice does; report progress
 * over a pipe, then try to open a file and die. */
static int tight_child(void *pipe_fd)
{
        int fd = *(int *)pipe_fd;
        CHECK(1, install("strict", 0) == 0);
        CHECK(2, install("strict-tight", SECCOMP_FILTER_FLAG_TSYNC) == 0);
        CHECK(3, write(fd, "w", 1) == 1);
        pthread_t t;
        void *ret = NULL;
        CHECK(4, pthread_create(&t, NULL, thread_body, (void *)0x5) == 0);
        CHECK(5, pthread_join(t, &ret) == 0 && ret == (void *)0x5);
        CHECK(6, write(fd, "t", 1) == 1);
        void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(7, m != MAP_FAILED && munmap(m, 4096) == 0);
        CHECK(8, syscall(SYS_mseal_, 0, 0, 0) == -1 && errno == ENOSYS);
        CHECK(9, write(fd, "n", 1) == 1);
        openat(AT_FDCWD, "/", O_RDONLY | O_CLOEXEC);
        return 10; /* not reached: SIGSYS */
}

static void test_strict_tight_runs_threads_and_kills_open(void **state)
{
        int p[2];
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        int status = in_child(tight_child, &p[1]);
        close(p[1]);
        char got[8] = {0};
        assert_true(read(p[0], got, sizeof got - 1) >= 0);
        close(p[0]);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
                fail_msg("strict-tight child: status 0x%x, progress '%s'", status, got);
        assert_string_equal(got, "wtn");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_profiles_answer_each_vector_as_specified),
            cmocka_unit_test(test_foreign_architectures_and_x32_are_killed_in_every_profile),
            cmocka_unit_test(test_numbers_newer_than_libseccomp_say_enosys_in_every_profile),
            cmocka_unit_test(test_every_posix_denial_returns_its_errno_never_kills),
            cmocka_unit_test(test_every_denial_in_every_table_says_why),
            cmocka_unit_test(test_every_listed_call_is_allowed),
            cmocka_unit_test(test_programs_answer_what_their_tables_say),
            cmocka_unit_test(test_builtin_programs_are_what_the_tables_compile_to),
            cmocka_unit_test(test_strict_tight_only_narrows_strict),
            cmocka_unit_test(test_unknown_profile_names_the_builtins),
            cmocka_unit_test(test_posix_installed_refuses_with_eperm_and_enosys),
            cmocka_unit_test(test_programs_start_and_run_under_posix_and_strict),
            cmocka_unit_test(test_strict_kills_an_open_for_writing),
            cmocka_unit_test(test_strict_tight_runs_threads_and_kills_open),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
