/* An in-process classic-BPF evaluator for seccomp programs: run a compiled
 * filter on a syscall vector and get the SECCOMP_RET_* value the kernel would
 * act on, without installing anything. Policies are tested as data.
 *
 * It implements what the kernel's seccomp checker admits (loads from struct
 * seccomp_data, ALU with K or X, scratch memory, JA/JEQ/JGT/JGE/JSET, RET)
 * and fails the running cmocka test loudly on anything else: an unknown
 * opcode, a misaligned or out-of-range load, a jump past the end, or running
 * off the end without RET.
 */
#ifndef BPF_EVAL_H
#define BPF_EVAL_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>

uint32_t bpf_eval(const struct sock_filter *prog, size_t len, const struct seccomp_data *d);

/* A native x86_64 vector. */
struct seccomp_data bpf_vec(int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                            uint64_t a5);

/* What the kernel does with two stacked filters' answers: the one with the
 * highest precedence wins (KILL_PROCESS > KILL_THREAD > TRAP > ERRNO >
 * USER_NOTIF > TRACE > LOG > ALLOW); on a tie, the newer filter's (first). */
uint32_t bpf_stack(uint32_t newer, uint32_t older);

/* "ALLOW", "KILL_PROCESS", "ERRNO(EPERM)", ... into buf, for messages. */
const char *bpf_ret_name(uint32_t ret, char *buf, size_t len);

#endif
