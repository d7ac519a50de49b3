/* Seccomp profiles: compiled BPF programs and how a slice installs them.
 *
 * Builtin profiles are compiled from their rule tables (seccomp_profiles.c)
 * with libseccomp at build time by sb-seccomp-gen, so a spawn only copies a
 * ready program into the kernel. Policy files (docs/seccomp.md) are compiled at
 * run time, once per file and process.
 */
#ifndef SB_SECCOMP_H
#define SB_SECCOMP_H

#include <linux/filter.h>
#include <stddef.h>

#include "lib/error.h"

/* Name of the environment variable the spawner sets so libslice knows which
 * stage-two filter to install before main() (value: "strict"). */
#define SB_SECCOMP_ENV "SLICE_SECCOMP"

struct sb_seccomp_prog {
        char name[64]; /* "posix", "strict", "reaper", or the policy file path */
        struct sock_filter *insns;
        unsigned short len; /* number of instructions */
        int owned;          /* insns is heap memory this struct owns */
};

/* Resolve profile: "posix", "strict" (stage one: what the supervisor installs
 * before exec; libslice tightens to "strict-tight" before main), "reaper" (pid 1
 * of a slice), "strict-tight", or a path to a policy file (contains a '/').
 * Returns 0 and fills out, or -1 with err naming the profile (for files:
 * file:line:column of the bad token). */
int sb_seccomp_prog_get(const char *profile, struct sb_seccomp_prog *out, struct sl_error *err);

/* Free what prog owns; safe on a zeroed or builtin prog. */
void sb_seccomp_prog_release(struct sb_seccomp_prog *prog);

/* Install prog on the calling thread with seccomp(SECCOMP_SET_MODE_FILTER).
 * The caller has set PR_SET_NO_NEW_PRIVS. Async-signal-safe (no allocation),
 * so it runs between clone and exec. Returns 0 or -errno. */
int sb_seccomp_install(const struct sb_seccomp_prog *prog);

/* Same with seccomp filter flags (SECCOMP_FILTER_FLAG_*). With
 * SECCOMP_FILTER_FLAG_TSYNC a positive return is the id of a thread that
 * could not be synchronised (nothing was installed). */
int sb_seccomp_install_flags(const struct sb_seccomp_prog *prog, unsigned int flags);

#endif
