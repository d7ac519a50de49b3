/* Policy files: the line-based text format of `--profile FILE` (grammar and
 * examples in docs/seccomp.md). Parsing is a pure function from text to a
 * struct sb_seccomp_policy; seccomp.c reads the file and compiles.
 */
#ifndef SB_SECCOMP_POLICY_H
#define SB_SECCOMP_POLICY_H

#include <stddef.h>

#include "lib/error.h"
#include "sandbox/seccomp_profiles.h"

/* A line holds one statement; 4096 bytes fit every x86_64 syscall name that
 * matters on one `allow` line (slicectl learn writes ~10 names a line). */
#define SB_POLICY_LINE_MAX 4096
/* Rules a file may add. Each costs at least a few instructions and the
 * kernel takes at most 4096, so more could not compile anyway. */
#define SB_POLICY_RULES_MAX 1024
/* Largest policy file read into memory: 1024 rules with generous comments
 * fit several times over. */
#define SB_POLICY_FILE_MAX (256 * 1024)

/* Parse text (len bytes, need not be NUL-terminated) named source (used in
 * messages: "source:line:column: problem"). On success out holds the policy
 * (free it with sb_seccomp_policy_free) and the rule groups are checked. */
int sb_seccomp_policy_parse(const char *source, const char *text, size_t len,
                            struct sb_seccomp_policy *out, struct sl_error *err);

#endif
