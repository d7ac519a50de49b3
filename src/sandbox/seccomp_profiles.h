/* Seccomp policies as data, and the one function that turns them into BPF.
 *
 * Private to src/sandbox (and the unit tests). A policy is a default action
 * plus a list of rules; the builtin profiles are tables of rules
 * (seccomp_profiles.c), policy files are parsed into the same list
 * (seccomp_policy.c). sb-seccomp-gen compiles the builtin tables at build time
 * and writes the programs as C arrays (seccomp_builtin.c, generated); the
 * runtime compiles policy files with the same code.
 *
 * What a group of rules for one system call means (the compiler and
 * sb_seccomp_policy_eval agree on it, and the tests check that they do):
 *   - a conditional rule whose conditions all hold decides the call;
 *   - otherwise the unconditional rule for the call, if there is one;
 *   - otherwise the default action.
 * libseccomp leaves the outcome of overlapping rules with different actions
 * unspecified (an unconditional rule silently swallows conditional ones), so
 * sb_seccomp_policy_check refuses groups whose conditional rules could overlap:
 * when a call's rules carry more than one action, every conditional rule must
 * test one argument, the same one, with `==` or `& MASK ==` under the same
 * mask. Such value sets are disjoint by construction, and the compiler turns
 * "unconditional A, except these values" into disjoint masked compares.
 */
#ifndef SB_SECCOMP_PROFILES_H
#define SB_SECCOMP_PROFILES_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"
#include "sandbox/seccomp.h"

/* Longest x86_64 syscall name is 23 bytes (set_mempolicy_home_node). */
#define SB_SECCOMP_NAME_MAX 32
/* libseccomp compares each of the six arguments at most once per rule. */
#define SB_SECCOMP_MAX_COND 6
/* The kernel refuses programs longer than BPF_MAXINSNS (4096) instructions. */
#define SB_SECCOMP_MAX_INSNS 4096
/* Disjoint compares one "unconditional, except" group may expand into: at
 * most (values x mask bits); 256 covers four 64-bit values. Beyond that the
 * group belongs in a different shape of rule. */
#define SB_SECCOMP_EXPANSION_MAX 256
/* Highest syscall number probed when asking libseccomp what it knows. x86_64
 * numbers are dense below 1024 (the x32 range starts at 0x40000000). */
#define SB_SECCOMP_PROBE_NR_MAX 1024

/* Shorthands for rule conditions in tables (libseccomp's SCMP_A* macros are
 * compound literals, which are not constant initialisers in ISO C). */
/* clang-format off */
#define SB_ARG_EQ(n, v) {.arg = (n), .op = SCMP_CMP_EQ, .datum_a = (v)}
#define SB_ARG_MASKED(n, m, v)                                                 \
        {.arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (m), .datum_b = (v)}
/* Arguments the kernel declares as int/unsigned int: it ignores the upper 32
 * bits, so compares on them must too (or 0x100005412 passes as TIOCSTI). */
#define SB_ARG_EQ32(n, v) SB_ARG_MASKED(n, 0xffffffffULL, v)
/* clang-format on */

struct sb_seccomp_rule {
        char name[SB_SECCOMP_NAME_MAX];                /* as libseccomp spells it */
        uint32_t action;                               /* SCMP_ACT_* (== SECCOMP_RET_*) */
        struct scmp_arg_cmp cond[SB_SECCOMP_MAX_COND]; /* op 0 ends the list */
        const char *why;                               /* tables: one-line reason; else NULL */
        /* Filled by sb_seccomp_policy_add: */
        int nr; /* native x86_64 syscall number */
        unsigned int ncond;
        unsigned int line, col; /* policy files: where it was written */
};

struct sb_seccomp_profile {
        const char *name;
        const char *summary;
        uint32_t default_action;
        const char *const *allow; /* unconditionally allowed */
        size_t nallow;
        /* Allowed when this libseccomp knows them; older builds leave them to
         * the ENOSYS rule for calls newer than libseccomp (fails closed). */
        const char *const *allow_recent;
        size_t nallow_recent;
        const struct sb_seccomp_rule *rules; /* conditional allows and denies */
        size_t nrules;
};

extern const struct sb_seccomp_profile sb_seccomp_profiles[];
extern const size_t sb_seccomp_profiles_count;

/* NULL when name is not a builtin profile. */
const struct sb_seccomp_profile *sb_seccomp_profile_find(const char *name);

/* An expanded policy: what a profile table or a policy file turns into. */
struct sb_seccomp_policy {
        char source[256]; /* "builtin profile `posix`" or the file path */
        int from_file;    /* rule positions are file:line:column */
        uint32_t default_action;
        struct sb_seccomp_rule *rules;
        size_t len, cap;
};

/* Start p from a builtin profile (its default and all its rules). */
int sb_seccomp_policy_from_profile(struct sb_seccomp_policy *p,
                                   const struct sb_seccomp_profile *prof, struct sl_error *err);

/* Append a copy of r, resolving its name and counting its conditions. An
 * unknown name fails unless skip_unknown (then returns 0, adds nothing). */
int sb_seccomp_policy_add(struct sb_seccomp_policy *p, const struct sb_seccomp_rule *r,
                          int skip_unknown, struct sl_error *err);

/* Remove every rule for syscall nr (a file's rules replace an include's). */
void sb_seccomp_policy_drop_nr(struct sb_seccomp_policy *p, int nr);

void sb_seccomp_policy_free(struct sb_seccomp_policy *p);

/* Refuse ambiguous groups (see the header comment). err names the rule. */
int sb_seccomp_policy_check(const struct sb_seccomp_policy *p, struct sl_error *err);

/* The policy's meaning, evaluated from the data: the action for native call
 * nr with args (ignores the architecture and unknown-number prologue). */
uint32_t sb_seccomp_policy_eval(const struct sb_seccomp_policy *p, int nr, const uint64_t args[6]);

/* Check, compile with libseccomp, export, prepend the prologue. out->insns
 * is heap memory owned by out. */
int sb_seccomp_policy_compile(const struct sb_seccomp_policy *p, const char *name,
                              struct sb_seccomp_prog *out, struct sl_error *err);

/* The highest x86_64 syscall number this libseccomp resolves to a name. */
int sb_seccomp_max_known_nr(void);

/* Number of instructions sb_seccomp_prologue writes. */
#define SB_SECCOMP_PROLOGUE_LEN 8
/* Write our prologue: foreign arch or x32 bit -> KILL_PROCESS, nr >
 * max_known -> ERRNO(ENOSYS), else fall through to what follows. */
void sb_seccomp_prologue(struct sock_filter out[SB_SECCOMP_PROLOGUE_LEN], unsigned int max_known);

/* Builtin programs, compiled at build time (generated seccomp_builtin.c). */
struct sb_seccomp_builtin {
        const char *name;
        const struct sock_filter *insns;
        unsigned short len;
};
extern const struct sb_seccomp_builtin sb_seccomp_builtins[];
extern const size_t sb_seccomp_builtins_count;
extern const int sb_seccomp_builtin_max_known_nr; /* what the generator saw */

#endif
