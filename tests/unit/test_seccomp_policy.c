/* Seccomp policy files (`--profile FILE`), as a specification.
 *
 * Good policies are parsed, compiled with libseccomp and run in the BPF
 * evaluator against the calls they are about; their meaning as read from the
 * rules (sb_seccomp_policy_eval) must agree with the program. Bad policies
 * are a table of inputs and the exact message each must produce, naming
 * file:line:column. Then the file path: reading, caching, unreadable files,
 * and the example policies shipped in conf/seccomp.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/seccomp.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/seccomp_profiles.h"
#include "support/bpf_eval.h"

#define ALLOW      SECCOMP_RET_ALLOW
#define KILL       SECCOMP_RET_KILL_PROCESS
#define ERR(e)     (SECCOMP_RET_ERRNO | (e))
#define MAX_CHECKS 10

struct call {
        int nr;
        uint64_t args[6];
        uint32_t expect;
};

struct good {
        const char *what;
        const char *text;
        struct call calls[MAX_CHECKS]; /* ends at nr 0 with expect 0 */
};

/* clang-format off */
static const struct good good_policies[] = {
        {"a from-scratch policy: listed calls, a denial with its errno, kill for the rest",
         "default kill\n"
         "allow read write exit_group\n"
         "deny openat errno ENOENT\n",
         {{SYS_read, {0}, ALLOW},
          {SYS_write, {1}, ALLOW},
          {SYS_openat, {0}, ERR(ENOENT)},
          {SYS_socket, {1}, KILL},
          {500, {0}, ERR(ENOSYS)}}},
        {"deny without errno means EPERM; kill rules; default errno",
         "default errno EACCES\n"
         "allow getpid\n"
         "deny mount\n"
         "kill ptrace\n",
         {{SYS_getpid, {0}, ALLOW},
          {SYS_mount, {0}, ERR(EPERM)},
          {SYS_ptrace, {0}, KILL},
          {SYS_read, {0}, ERR(EACCES)}}},
        {"conditions: ==, & MASK ==, and; other values fall to the default",
         "default errno ENOSYS\n"
         "allow socket if arg0 == 1\n"
         "allow openat if arg2 & 0x3 == 0\n"
         "allow mmap if arg2 & 0x4 == 0 and arg3 == 0x22\n",
         {{SYS_socket, {1, 1}, ALLOW},
          {SYS_socket, {2, 1}, ERR(ENOSYS)},
          {SYS_openat, {0, 0, 0x80000}, ALLOW},
          {SYS_openat, {0, 0, 1}, ERR(ENOSYS)},
          {SYS_mmap, {0, 4096, 3, 0x22}, ALLOW},
          {SYS_mmap, {0, 4096, 7, 0x22}, ERR(ENOSYS)},
          {SYS_mmap, {0, 4096, 3, 0x02}, ERR(ENOSYS)}}},
        {"range compares",
         "default kill\n"
         "allow close if arg0 > 2\n"
         "allow dup if arg0 <= 2\n"
         "allow kill if arg1 != 9\n",
         {{SYS_close, {3}, ALLOW},
          {SYS_close, {2}, KILL},
          {SYS_dup, {2}, ALLOW},
          {SYS_dup, {3}, KILL},
          {SYS_kill, {1, 15}, ALLOW},
          {SYS_kill, {1, 9}, KILL}}},
        {"include posix keeps its rules for calls the file does not mention",
         "include posix\n"
         "deny socket errno EAFNOSUPPORT\n",
         {{SYS_socket, {1}, ERR(EAFNOSUPPORT)},
          {SYS_mount, {0}, ERR(EPERM)},
          {SYS_clone, {0x10000000}, ERR(EPERM)},
          {SYS_ioctl, {0, TIOCSTI}, ERR(EPERM)},
          {SYS_read, {0}, ALLOW},
          {SYS_mbind, {0}, ERR(ENOSYS)}}},
        {"a file's rules for a call replace the included ones: unconditional with exceptions",
         "include posix\n"
         "allow ioctl\n"
         "deny ioctl if arg1 & 0xffffffff == 0x5412 errno EIO\n",
         {{SYS_ioctl, {0, TIOCSTI}, ERR(EIO)},
          {SYS_ioctl, {0, 0x100005412ULL}, ERR(EIO)},
          {SYS_ioctl, {0, TIOCLINUX}, ALLOW},
          {SYS_ioctl, {0, TCGETS}, ALLOW}}},
        {"only a conditional rule for a call: the rest falls to the default, not the include",
         "include posix\n"
         "deny ioctl if arg1 & 0xffffffff == 0x5412\n",
         {{SYS_ioctl, {0, TIOCSTI}, ERR(EPERM)},
          {SYS_ioctl, {0, TCGETS}, ERR(ENOSYS)}}},
        {"include, then a stricter default",
         "include posix\n"
         "default kill\n",
         {{SYS_mbind, {0}, KILL},
          {SYS_read, {0}, ALLOW},
          {SYS_mount, {0}, ERR(EPERM)}}},
        {"comments, blank lines, tabs, CRLF, several names, repeated identical rules",
         "# a comment\n"
         "\n"
         "   default kill   # trailing comment\r\n"
         "\tallow\tread  write\t# tabs\n"
         "allow read\n"
         "allow getpid#no space before the comment\n",
         {{SYS_read, {0}, ALLOW},
          {SYS_write, {0}, ALLOW},
          {SYS_getpid, {0}, ALLOW},
          {SYS_close, {0}, KILL}}},
        {"hex numbers in any case, the largest 64-bit value",
         "default kill\n"
         "allow lseek if arg1 == 0xFFFFFFFFFFFFFFFF\n"
         "allow close if arg0 == 0xaB\n",
         {{SYS_lseek, {0, ~0ULL}, ALLOW},
          {SYS_close, {0xab}, ALLOW}}},
};
/* clang-format on */

static struct sb_seccomp_policy parse_ok(const char *source, const char *text)
{
        struct sb_seccomp_policy pol;
        struct sl_error err = {0};
        if (sb_seccomp_policy_parse(source, text, strlen(text), &pol, &err) < 0)
                fail_msg("%s", err.msg);
        return pol;
}

static void check_calls(const char *what, const struct sb_seccomp_policy *pol,
                        const struct sb_seccomp_prog *prog, const struct call *calls)
{
        char g[32], w[32];
        for (size_t i = 0; i < MAX_CHECKS && calls[i].expect != 0; i++) {
                const struct call *c = &calls[i];
                struct seccomp_data d = bpf_vec(c->nr, c->args[0], c->args[1], c->args[2],
                                                c->args[3], c->args[4], c->args[5]);
                uint32_t got = bpf_eval(prog->insns, prog->len, &d);
                if (got != c->expect)
                        fail_msg("%s: syscall %d: program says %s, want %s", what, c->nr,
                                 bpf_ret_name(got, g, sizeof g),
                                 bpf_ret_name(c->expect, w, sizeof w));
                if (c->nr <= sb_seccomp_max_known_nr() &&
                    sb_seccomp_policy_eval(pol, c->nr, c->args) != c->expect)
                        fail_msg(
                            "%s: syscall %d: the rules say %s, want %s", what, c->nr,
                            bpf_ret_name(sb_seccomp_policy_eval(pol, c->nr, c->args), g, sizeof g),
                            bpf_ret_name(c->expect, w, sizeof w));
        }
}

static void test_good_policies_compile_and_mean_what_they_say(void **state)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(good_policies); i++) {
                const struct good *g = &good_policies[i];
                struct sb_seccomp_policy pol = parse_ok("good.policy", g->text);
                struct sb_seccomp_prog prog;
                struct sl_error err = {0};
                if (sb_seccomp_policy_compile(&pol, "good.policy", &prog, &err) < 0)
                        fail_msg("%s: %s", g->what, err.msg);
                assert_true(prog.owned);
                check_calls(g->what, &pol, &prog, g->calls);
                sb_seccomp_prog_release(&prog);
                sb_seccomp_policy_free(&pol);
        }
}

/* ---- bad policies and their exact messages ------------------------------ */

struct bad {
        const char *text;
        const char *msg;
};

/* clang-format off */
static const struct bad bad_policies[] = {
        {"alow read\n",
         "bad.policy:1:1: unknown statement 'alow' (include, default, allow, deny, kill)"},
        {"default kill\nallow opne\n", "bad.policy:2:7: unknown syscall 'opne'"},
        {"default kill\nallow read  opne write\n", "bad.policy:2:13: unknown syscall 'opne'"},
        {"default kill\nallow socketcall\n", "bad.policy:2:7: unknown syscall 'socketcall'"},
        {"default kill\nallow a_name_much_longer_than_any_syscall_name\n",
         "bad.policy:2:7: unknown syscall 'a_name_much_longer_than_any_syscall_name'"},
        {"default allow\n",
         "bad.policy:1:9: 'default allow' is refused: a deny-list lets through every call "
         "added after it was written (start from 'include posix')"},
        {"default trap\n", "bad.policy:1:9: expected 'kill' or 'errno ENAME', got 'trap'"},
        {"default\n", "bad.policy:1:8: expected 'kill' or 'errno ENAME' at the end of the line"},
        {"default errno\n",
         "bad.policy:1:14: expected an errno name (EPERM, ENOSYS, ...) at the end of the line"},
        {"default kill now\n", "bad.policy:1:14: unexpected 'now'"},
        {"default kill\ndefault errno EPERM\n", "bad.policy:2:1: default already set on line 1"},
        {"default kill\ndeny read errno EFOO\n", "bad.policy:2:17: unknown errno name 'EFOO'"},
        {"default kill\ndeny read errno 1\n", "bad.policy:2:17: unknown errno name '1'"},
        {"default kill\nallow read errno EPERM\n",
         "bad.policy:2:12: 'errno' only follows a deny rule"},
        {"default kill\nkill read if arg0 == 1 errno EPERM\n",
         "bad.policy:2:24: 'errno' only follows a deny rule"},
        {"default kill\nallow\n", "bad.policy:2:6: 'allow' needs at least one syscall name"},
        {"default kill\ndeny if arg0 == 1\n", "bad.policy:2:6: 'deny' needs at least one syscall name"},
        {"default kill\nallow read if\n", "bad.policy:2:14: expected 'arg0' .. 'arg5' at the end of the line"},
        {"default kill\nallow read if arg6 == 1\n",
         "bad.policy:2:15: expected 'arg0' .. 'arg5', got 'arg6'"},
        {"default kill\nallow read if fd == 1\n",
         "bad.policy:2:15: expected 'arg0' .. 'arg5', got 'fd'"},
        {"default kill\nallow read if arg0 =~ 1\n",
         "bad.policy:2:20: expected an operator (==, !=, <, <=, >, >=, &), got '=~'"},
        {"default kill\nallow read if arg0==1\n",
         "bad.policy:2:15: expected 'arg0' .. 'arg5', got 'arg0==1'"},
        {"default kill\nallow read if arg0 ==\n", "bad.policy:2:22: expected a number at the end of the line"},
        {"default kill\nallow read if arg0 == 0xZZ\n", "bad.policy:2:23: bad number '0xZZ'"},
        {"default kill\nallow read if arg0 == 0x\n", "bad.policy:2:23: bad number '0x'"},
        {"default kill\nallow read if arg0 == -1\n", "bad.policy:2:23: bad number '-1'"},
        {"default kill\nallow read if arg0 == 18446744073709551616\n",
         "bad.policy:2:23: number '18446744073709551616' does not fit in 64 bits"},
        {"default kill\nallow read if arg0 & 0x4\n",
         "bad.policy:2:25: expected '==' after the mask at the end of the line"},
        {"default kill\nallow read if arg0 & 0x4 != 0\n",
         "bad.policy:2:26: expected '==' after the mask, got '!='"},
        {"default kill\nallow read if arg0 & 0x4 == 0x5\n",
         "bad.policy:2:29: value 0x5 has bits outside the mask 0x4, so it never matches"},
        {"default kill\nallow read if arg0 == 1 and arg0 == 2\n",
         "bad.policy:2:29: arg0 is compared twice in one rule"},
        {"default kill\nallow read if arg0 == 1 or arg1 == 2\n", "bad.policy:2:25: unexpected 'or'"},
        {"default kill\nallow read if arg0 == 1 and\n",
         "bad.policy:2:28: expected 'arg0' .. 'arg5' at the end of the line"},
        {"default kill\ninclude posix\n", "bad.policy:2:1: include must come before any rule or default"},
        {"allow read\ninclude posix\n", "bad.policy:2:1: include must come before any rule or default"},
        {"include posixx\n",
         "bad.policy:1:9: unknown profile 'posixx' (builtin: posix, strict, strict-tight, reaper)"},
        {"include posix strict\n", "bad.policy:1:15: unexpected 'strict'"},
        {"include\n", "bad.policy:1:8: expected a builtin profile name at the end of the line"},
        {"include posix\ninclude strict\n",
         "bad.policy:2:1: only one include per file (the first is on line 1)"},
        {"allow read\n",
         "bad.policy: no 'include' or 'default' line: say what happens to the calls the file does not list"},
        {"# only a comment\n",
         "bad.policy: no 'include' or 'default' line: say what happens to the calls the file does not list"},
        {"default kill\nallow read\ndeny read\n",
         "bad.policy:3:6: conflicting rules for 'read': errno EPERM here, allow at line 2"},
        {"default kill\nallow ioctl if arg1 == 1\ndeny ioctl if arg0 == 2\n",
         "bad.policy:3:6: rules for 'ioctl' have different actions, so each conditional one must "
         "test the same single argument with == or & MASK ==, under one mask"},
        {"default kill\nallow ioctl\ndeny ioctl if arg1 > 5\n",
         "bad.policy:3:6: rules for 'ioctl' have different actions, so each conditional one must "
         "test the same single argument with == or & MASK ==, under one mask"},
        {"default kill\nallow ioctl if arg1 & 0xff == 1\ndeny ioctl if arg1 == 2\n",
         "bad.policy:3:6: rules for 'ioctl' have different actions, so each conditional one must "
         "test the same single argument with == or & MASK ==, under one mask"},
        {"default kill\nallow ioctl if arg1 == 5\ndeny ioctl if arg1 == 5\n",
         "bad.policy:3:6: rule for 'ioctl' matches the same calls as the rule at line 2, "
         "with a different action"},
        {"default kill\nallow re\0ad\n", "bad.policy:2:9: NUL byte in a policy file"},
};
/* clang-format on */

static void test_bad_policies_name_file_line_column_and_problem(void **state)
{
        for (size_t i = 0; i < SL_ARRAY_SIZE(bad_policies); i++) {
                const struct bad *b = &bad_policies[i];
                /* The NUL case: the text runs to its last newline. */
                size_t len = strlen(b->text);
                if (strstr(b->msg, "NUL byte"))
                        len += strlen(b->text + len + 1) + 1;
                struct sb_seccomp_policy pol;
                struct sl_error err = {0};
                if (sb_seccomp_policy_parse("bad.policy", b->text, len, &pol, &err) == 0)
                        fail_msg("accepted: %s", b->text);
                if (strcmp(err.msg, b->msg) != 0)
                        fail_msg("for input \"%s\"\n  got:  %s\n  want: %s", b->text, err.msg,
                                 b->msg);
                assert_null(pol.rules);
        }
}

static void test_limits_are_enforced_with_named_constants(void **state)
{
        struct sl_error err = {0};
        struct sb_seccomp_policy pol;
        char want[128];

        /* A line of SB_POLICY_LINE_MAX bytes is fine, one byte more is not. */
        for (int over = 0; over <= 1; over++) {
                size_t n = SB_POLICY_LINE_MAX + (size_t)over;
                _cleanup_free_ char *text = malloc(strlen("default kill\n") + n + 2);
                assert_non_null(text);
                char *line = stpcpy(text, "default kill\n");
                memset(line, ' ', n);
                memcpy(line, "allow", 5);
                memcpy(line + n - 4, "read", 4);
                strcpy(line + n, "\n");
                int rc = sb_seccomp_policy_parse("long.policy", text, strlen(text), &pol, &err);
                assert_int_equal(rc, over ? -1 : 0);
                if (!over) {
                        sb_seccomp_policy_free(&pol);
                        continue;
                }
                snprintf(want, sizeof want, "long.policy:2:%d: line longer than %d bytes",
                         SB_POLICY_LINE_MAX + 1, SB_POLICY_LINE_MAX);
                assert_string_equal(err.msg, want);
        }

        /* SB_POLICY_RULES_MAX rules are fine, one more is not. */
        size_t per = strlen("allow read\n");
        _cleanup_free_ char *many = malloc(13 + per * (SB_POLICY_RULES_MAX + 1) + 1);
        assert_non_null(many);
        char *p = stpcpy(many, "default kill\n");
        for (int i = 0; i < SB_POLICY_RULES_MAX; i++)
                p = stpcpy(p, "allow read\n");
        assert_int_equal(sb_seccomp_policy_parse("many.policy", many, strlen(many), &pol, &err), 0);
        assert_int_equal(pol.len, SB_POLICY_RULES_MAX);
        sb_seccomp_policy_free(&pol);
        stpcpy(p, "allow read\n");
        assert_int_equal(sb_seccomp_policy_parse("many.policy", many, strlen(many), &pol, &err),
                         -1);
        snprintf(want, sizeof want, "many.policy:%d:7: more than %d rules", SB_POLICY_RULES_MAX + 2,
                 SB_POLICY_RULES_MAX);
        assert_string_equal(err.msg, want);
}

/* ---- policy files ------------------------------------------------------- */

struct tmpdir {
        char path[64];
};

static int setup_tmpdir(void **state)
{
        struct tmpdir *t = calloc(1, sizeof *t);
        if (!t)
                return -1;
        strcpy(t->path, "/tmp/sliced-seccomp-policy-XXXXXX");
        if (!mkdtemp(t->path)) {
                free(t);
                return -1;
        }
        *state = t;
        return 0;
}

static int teardown_tmpdir(void **state)
{
        struct tmpdir *t = *state;
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->path);
        int rc = system(cmd);
        free(t);
        return rc == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fputs(text, f) >= 0, 1);
        assert_int_equal(fclose(f), 0);
}

static void test_policy_file_compiles_like_its_text(void **state)
{
        struct tmpdir *t = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/net.policy", t->path);
        const char *text = "include posix\ndeny socket errno EAFNOSUPPORT\n";
        write_file(path, text);
        struct sb_seccomp_prog fromfile, fromtext;
        struct sl_error err = {0};
        if (sb_seccomp_prog_get(path, &fromfile, &err) < 0)
                fail_msg("%s", err.msg);
        struct sb_seccomp_policy pol = parse_ok(path, text);
        assert_int_equal(sb_seccomp_policy_compile(&pol, path, &fromtext, &err), 0);
        assert_string_equal(fromfile.name, path);
        assert_true(fromfile.owned);
        assert_int_equal(fromfile.len, fromtext.len);
        assert_memory_equal(fromfile.insns, fromtext.insns, fromtext.len * sizeof *fromtext.insns);
        sb_seccomp_prog_release(&fromfile);
        sb_seccomp_prog_release(&fromtext);
        sb_seccomp_policy_free(&pol);
}

static uint32_t eval_file(const char *path, int nr, uint64_t a0)
{
        struct sb_seccomp_prog p;
        struct sl_error err = {0};
        if (sb_seccomp_prog_get(path, &p, &err) < 0)
                fail_msg("%s", err.msg);
        struct seccomp_data d = bpf_vec(nr, a0, 0, 0, 0, 0, 0);
        uint32_t r = bpf_eval(p.insns, p.len, &d);
        sb_seccomp_prog_release(&p);
        return r;
}

static void test_a_changed_policy_file_is_compiled_again(void **state)
{
        struct tmpdir *t = *state;
        char path[128];
        snprintf(path, sizeof path, "%s/changing.policy", t->path);
        write_file(path, "default kill\nallow read\ndeny write errno EIO\n");
        assert_int_equal(eval_file(path, SYS_write, 1), ERR(EIO));
        assert_int_equal(eval_file(path, SYS_write, 1), ERR(EIO));              /* cached copy */
        write_file(path, "default kill\nallow read\ndeny write errno EROFS\n"); /* same size */
        assert_int_equal(eval_file(path, SYS_write, 1), ERR(EROFS));
        write_file(path, "default kill\nallow read write\n");
        assert_int_equal(eval_file(path, SYS_write, 1), ALLOW);
}

static void test_policy_file_errors_name_the_path(void **state)
{
        struct tmpdir *t = *state;
        char path[128], want[256];
        struct sb_seccomp_prog p;
        struct sl_error err = {0};

        assert_int_equal(sb_seccomp_prog_get("/nonexistent-dir/x.policy", &p, &err), -1);
        assert_string_equal(err.msg, "open `/nonexistent-dir/x.policy`: No such file or directory");
        assert_int_equal(err.code, ENOENT);

        snprintf(path, sizeof path, "%s/", t->path);
        assert_int_equal(sb_seccomp_prog_get(path, &p, &err), -1);
        snprintf(want, sizeof want, "%s/: not a regular file", t->path);
        assert_string_equal(err.msg, want);

        snprintf(path, sizeof path, "%s/typo.policy", t->path);
        write_file(path, "default kill\nallow opne\n");
        assert_int_equal(sb_seccomp_prog_get(path, &p, &err), -1);
        snprintf(want, sizeof want, "%s:2:7: unknown syscall 'opne'", path);
        assert_string_equal(err.msg, want);

        snprintf(path, sizeof path, "%s/big.policy", t->path);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        for (int i = 0; i <= SB_POLICY_FILE_MAX / 64; i++)
                fprintf(f, "# %-61s\n", "padding"); /* 64 bytes a line */
        assert_int_equal(fclose(f), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(sb_seccomp_prog_get(path, &p, &err), -1);
        snprintf(want, sizeof want, "%s: %lld bytes; policy files are limited to %d", path,
                 (long long)st.st_size, SB_POLICY_FILE_MAX);
        assert_string_equal(err.msg, want);
}

/* The examples in conf/seccomp compile, and each does what its comments say. */
static void test_example_policies_compile_and_behave(void **state)
{
        const char *src = getenv("SLICED_SOURCE_DIR");
        if (!src)
                skip();
        static const struct {
                const char *file;
                struct call calls[MAX_CHECKS];
        } examples[] = {
            {"posix-offline.policy",
             {{SYS_socket, {2}, ERR(EAFNOSUPPORT)},
              {SYS_connect, {3}, ERR(EACCES)},
              {SYS_socketpair, {1}, ALLOW},
              {SYS_mount, {0}, ERR(EPERM)},
              {SYS_read, {0}, ALLOW}}},
            {"posix-hardened.policy",
             {{SYS_ptrace, {0}, KILL},
              {SYS_unshare, {0}, KILL},
              {SYS_ioctl, {0, TIOCSTI}, ERR(EPERM)},
              {SYS_ioctl, {0, 0x100005412ULL}, ERR(EPERM)},
              {SYS_ioctl, {0, 0x5423}, ERR(ENOTTY)},
              {SYS_ioctl, {0, TCGETS}, ALLOW},
              {SYS_chroot, {0}, ERR(EPERM)}}},
            {"static-pipe-filter.policy",
             {{SYS_execve, {0}, ALLOW},
              {SYS_read, {0}, ALLOW},
              {SYS_mmap, {0, 4096, 3}, ALLOW},
              {SYS_mmap, {0, 4096, 5}, KILL},
              {SYS_openat, {0}, ERR(EACCES)},
              {SYS_socket, {1}, KILL},
              {SYS_ioctl, {1, TCGETS}, ALLOW},
              {SYS_ioctl, {1, TIOCSTI}, KILL}}},
        };
        char dir[512];
        snprintf(dir, sizeof dir, "%s/conf/seccomp", src);
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t found = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t n = strlen(e->d_name);
                if (n < 7 || strcmp(e->d_name + n - 7, ".policy") != 0)
                        continue;
                found++;
                char path[1024];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                struct sb_seccomp_prog prog;
                struct sl_error err = {0};
                if (sb_seccomp_prog_get(path, &prog, &err) < 0)
                        fail_msg("%s", err.msg);
                for (size_t i = 0; i < SL_ARRAY_SIZE(examples); i++) {
                        if (strcmp(examples[i].file, e->d_name) != 0)
                                continue;
                        _cleanup_free_ char *text = NULL;
                        size_t len = 0;
                        FILE *f = fopen(path, "re");
                        assert_non_null(f);
                        assert_true(getdelim(&text, &len, '\0', f) > 0);
                        fclose(f);
                        struct sb_seccomp_policy pol = parse_ok(path, text);
                        check_calls(e->d_name, &pol, &prog, examples[i].calls);
                        sb_seccomp_policy_free(&pol);
                }
                sb_seccomp_prog_release(&prog);
        }
        closedir(d);
        assert_true(found >= SL_ARRAY_SIZE(examples));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_good_policies_compile_and_mean_what_they_say),
            cmocka_unit_test(test_bad_policies_name_file_line_column_and_problem),
            cmocka_unit_test(test_limits_are_enforced_with_named_constants),
            cmocka_unit_test_setup_teardown(test_policy_file_compiles_like_its_text, setup_tmpdir,
                                            teardown_tmpdir),
            cmocka_unit_test_setup_teardown(test_a_changed_policy_file_is_compiled_again,
                                            setup_tmpdir, teardown_tmpdir),
            cmocka_unit_test_setup_teardown(test_policy_file_errors_name_the_path, setup_tmpdir,
                                            teardown_tmpdir),
            cmocka_unit_test(test_example_policies_compile_and_behave),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
