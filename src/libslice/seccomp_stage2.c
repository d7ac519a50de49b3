/* Seccomp stage two: tighten `strict` to `strict-tight` before main().
 *
 * Why two stages: the supervisor must install a filter before execve (a
 * filter installed by the program itself would come after the dynamic loader
 * and every constructor had run unconfined), but the loader needs calls a
 * component does not (openat, mmap with PROT_EXEC, arch_prctl, execve
 * itself). So stage one allows exactly the start-up, and the first code the
 * slice runs that is ours — this constructor — drops to what a component
 * talking over its fds needs. Filters stack and the strictest answer wins, so
 * stage two can only narrow stage one.
 *
 * No read-back here: after tightening, /proc/self/status cannot be opened,
 * and before it the answer would say nothing about stage two. The supervisor
 * reads back stage one; a failure to install stage two ends the process.
 */
#include "slice/slice.h"

#include <errno.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sandbox/seccomp.h"

/* Exit status when the slice refuses to start; 125 is what container
 * runtimes use for "the runtime failed", distinct from the program's own. */
#define SL_STAGE2_EXIT 125

const int sl_seccomp_stage2_linked = 1;

static int tightened;

int sl_seccomp_tighten(void)
{
        if (__atomic_load_n(&tightened, __ATOMIC_ACQUIRE))
                return 0; /* strict-tight forbids seccomp(): a second install could not work */
        struct sb_seccomp_prog prog;
        if (sb_seccomp_prog_get("strict-tight", &prog, NULL) < 0)
                return -ENOENT; /* builtin: only a broken build gets here */
        /* Required to install a filter without CAP_SYS_ADMIN. The supervisor
         * has set it already under `strict`; setting it again is a no-op. */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return -errno;
        /* TSYNC: a thread some earlier constructor started gets the filter
         * too; if one cannot (it runs a different filter), nothing is
         * installed and we fail rather than leave it unconfined. */
        int rc = sb_seccomp_install_flags(&prog, SECCOMP_FILTER_FLAG_TSYNC);
        sb_seccomp_prog_release(&prog);
        if (rc > 0)
                return -EBUSY;
        if (rc < 0)
                return rc;
        __atomic_store_n(&tightened, 1, __ATOMIC_RELEASE);
        return 0;
}

/* Priority 101, the first one not reserved for the implementation: run before
 * the slice's own constructors, which must not see stage one. */
__attribute__((constructor(101))) static void sl_seccomp_stage2(void)
{
        const char *mode = getenv(SB_SECCOMP_ENV);
        if (!mode)
                return;
        char value[32];
        snprintf(value, sizeof value, "%s", mode);
        /* Children cannot exec under strict-tight, but a slice that calls
         * sl_seccomp_tighten() itself may fork first: do not pass it on. */
        unsetenv(SB_SECCOMP_ENV);
        if (strcmp(value, "strict") != 0) {
                /* Fail closed: an unknown value is a supervisor/slice
                 * mismatch, not a reason to run unconfined. */
                fprintf(stderr, "libslice: %s=%s names no stage-two profile; refusing to run\n",
                        SB_SECCOMP_ENV, value);
                _exit(SL_STAGE2_EXIT);
        }
        int rc = sl_seccomp_tighten();
        if (rc < 0) {
                fprintf(stderr, "libslice: installing seccomp stage two (strict-tight): %s\n",
                        strerror(-rc));
                _exit(SL_STAGE2_EXIT);
        }
}
