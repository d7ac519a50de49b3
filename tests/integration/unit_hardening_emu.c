/* unit-hardening-emu: run a command under the kernel-side restrictions that
 * systemd/sliced.service puts on sliced, without systemd: the capability
 * bounding set and the seccomp filters, both of which every child inherits.
 * tests/integration/test_unit_hardening.sh reads the settings from the unit
 * file (system-call groups expanded by `systemd-analyze syscall-filter`),
 * builds this with cc, and runs sliced under it.
 *
 *   unit-hardening-emu [--drop-caps CAP,...] [--deny-syscalls NAME,...]
 *                      [--errno EPERM|EACCES|ENOSYS] [--lock-personality]
 *                      [--restrict-realtime] [--restrict-suid-sgid]
 *                      -- COMMAND [ARG...]
 *
 * What each option does is what systemd 252 does for the setting of the
 * same name (src/shared/seccomp-util.c):
 *   CapabilityBoundingSet=~  PR_CAPBSET_DROP for each capability
 *   SystemCallFilter=~       the calls fail with SystemCallErrorNumber=
 *   LockPersonality=yes      personality(x) fails with EPERM unless x is the
 *                            current personality
 *   RestrictRealtime=yes     sched_setscheduler() to SCHED_FIFO, SCHED_RR or
 *                            SCHED_DEADLINE fails with EPERM
 *   RestrictSUIDSGID=yes     chmod/fchmod/fchmodat with S_ISUID or S_ISGID, and
 *                            open/openat/creat/mknod/mknodat creating such a
 *                            file, fail with EPERM
 *   SystemCallArchitectures=native: libseccomp's default (native arch only).
 * The filter is installed without no_new_privs (CAP_SYS_ADMIN, as sliced
 * has under systemd). Exit status 125 when setting up fails. */
#include <cap-ng.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *fmt, const char *arg)
{
        fprintf(stderr, "unit-hardening-emu: ");
        fprintf(stderr, fmt, arg);
        fputc('\n', stderr);
        exit(125);
}

static void rule(scmp_filter_ctx c, int err, const char *call, unsigned n, struct scmp_arg_cmp a,
                 struct scmp_arg_cmp b)
{
        int nr = seccomp_syscall_resolve_name(call);
        if (nr == __NR_SCMP_ERROR)
                return; /* not a call of this architecture: nothing to filter */
        int r = n == 0   ? seccomp_rule_add(c, SCMP_ACT_ERRNO(err), nr, 0)
                : n == 1 ? seccomp_rule_add(c, SCMP_ACT_ERRNO(err), nr, 1, a)
                         : seccomp_rule_add(c, SCMP_ACT_ERRNO(err), nr, 2, a, b);
        if (r < 0)
                die("cannot add a rule for %s", call);
}

static const struct scmp_arg_cmp none = { 0 };

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "drop-caps", required_argument, NULL, 'c' },
                { "deny-syscalls", required_argument, NULL, 's' },
                { "errno", required_argument, NULL, 'e' },
                { "lock-personality", no_argument, NULL, 'p' },
                { "restrict-realtime", no_argument, NULL, 'r' },
                { "restrict-suid-sgid", no_argument, NULL, 'u' },
                { NULL, 0, NULL, 0 },
        };
        char *caps = NULL, *calls = NULL;
        int err = EPERM, lock_pers = 0, rt = 0, suid = 0, o;
        while ((o = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (o) {
                case 'c': caps = optarg; break;
                case 's': calls = optarg; break;
                case 'e':
                        err = !strcmp(optarg, "EPERM")    ? EPERM
                              : !strcmp(optarg, "EACCES") ? EACCES
                              : !strcmp(optarg, "ENOSYS") ? ENOSYS
                                                          : 0;
                        if (!err)
                                die("unknown errno name %s", optarg);
                        break;
                case 'p': lock_pers = 1; break;
                case 'r': rt = 1; break;
                case 'u': suid = 1; break;
                default: exit(125);
                }
        }
        if (optind >= argc)
                die("%s", "no command (see the comment atop unit_hardening_emu.c)");

        for (char *save = NULL, *t = caps ? strtok_r(caps, ", ", &save) : NULL; t;
             t = strtok_r(NULL, ", ", &save)) {
                char name[64];
                const char *n = strncasecmp(t, "CAP_", 4) ? t : t + 4;
                size_t i = 0;
                for (; n[i] && i < sizeof name - 1; i++)
                        name[i] = (char)tolower((unsigned char)n[i]);
                name[i] = '\0';
                int cap = capng_name_to_capability(name);
                if (cap < 0)
                        die("unknown capability %s", t);
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        die("PR_CAPBSET_DROP %s failed", t);
        }

        scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
        if (!c || seccomp_attr_set(c, SCMP_FLTATR_CTL_NNP, 0) < 0)
                die("%s", "seccomp_init failed");
        for (char *save = NULL, *t = calls ? strtok_r(calls, ", ", &save) : NULL; t;
             t = strtok_r(NULL, ", ", &save))
                rule(c, err, t, 0, none, none);
        if (lock_pers)
                rule(c, EPERM, "personality", 1,
                     SCMP_A0(SCMP_CMP_NE, (scmp_datum_t)personality(0xffffffff)), none);
        if (rt) {
                static const int pol[] = { SCHED_FIFO, SCHED_RR, SCHED_DEADLINE };
                for (size_t i = 0; i < sizeof pol / sizeof *pol; i++)
                        rule(c, EPERM, "sched_setscheduler", 1,
                             SCMP_A1(SCMP_CMP_MASKED_EQ, ~(scmp_datum_t)SCHED_RESET_ON_FORK &
                                                                 0xffffffff,
                                     (scmp_datum_t)pol[i]),
                             none);
        }
        if (suid) {
                static const mode_t bits[] = { S_ISUID, S_ISGID };
                for (size_t i = 0; i < 2; i++) {
                        scmp_datum_t m = bits[i];
                        rule(c, EPERM, "chmod", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "fchmod", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "fchmodat", 1, SCMP_A2(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "creat", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "mknod", 1, SCMP_A1(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "mknodat", 1, SCMP_A2(SCMP_CMP_MASKED_EQ, m, m), none);
                        rule(c, EPERM, "open", 2, SCMP_A1(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT),
                             SCMP_A2(SCMP_CMP_MASKED_EQ, m, m));
                        rule(c, EPERM, "openat", 2, SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT),
                             SCMP_A3(SCMP_CMP_MASKED_EQ, m, m));
                }
        }
        if (seccomp_load(c) < 0)
                die("%s", "seccomp_load failed");
        seccomp_release(c);
        execvp(argv[optind], argv + optind);
        die("cannot execute %s", argv[optind]);
}
