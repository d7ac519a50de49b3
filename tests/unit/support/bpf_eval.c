/* Classic BPF, seccomp dialect (kernel/seccomp.c: seccomp_check_filter and
 * net/core/filter.c). See bpf_eval.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/bpf_eval.h"

#include <linux/audit.h>
#include <stdio.h>
#include <string.h>

/* Scratch memory cells, as in the kernel (BPF_MEMWORDS). */
#define BPF_EVAL_MEMWORDS 16

static uint32_t load_word(const struct seccomp_data *d, uint32_t k, size_t pc)
{
        /* The kernel admits only aligned 32-bit loads inside seccomp_data. */
        if (k % 4 != 0 || k > sizeof *d - 4)
                fail_msg("bpf_eval: pc %zu loads offset %u outside struct seccomp_data", pc, k);
        uint32_t w;
        memcpy(&w, (const char *)d + k, sizeof w);
        return w;
}

static uint32_t alu(uint16_t code, uint32_t a, uint32_t operand, size_t pc)
{
        switch (BPF_OP(code)) {
        case BPF_ADD: return a + operand;
        case BPF_SUB: return a - operand;
        case BPF_MUL: return a * operand;
        case BPF_DIV: return operand ? a / operand : 0; /* kernel: division by 0 returns 0 */
        case BPF_MOD: return operand ? a % operand : 0;
        case BPF_AND: return a & operand;
        case BPF_OR: return a | operand;
        case BPF_XOR: return a ^ operand;
        case BPF_LSH: return operand < 32 ? a << operand : 0;
        case BPF_RSH: return operand < 32 ? a >> operand : 0;
        case BPF_NEG: return -a;
        }
        fail_msg("bpf_eval: pc %zu: unknown ALU opcode 0x%04x", pc, code);
        return 0;
}

static int jump_taken(uint16_t code, uint32_t a, uint32_t operand, size_t pc)
{
        switch (BPF_OP(code)) {
        case BPF_JEQ: return a == operand;
        case BPF_JGT: return a > operand;
        case BPF_JGE: return a >= operand;
        case BPF_JSET: return (a & operand) != 0;
        }
        fail_msg("bpf_eval: pc %zu: unknown jump opcode 0x%04x", pc, code);
        return 0;
}

uint32_t bpf_eval(const struct sock_filter *prog, size_t len, const struct seccomp_data *d)
{
        uint32_t a = 0, x = 0, mem[BPF_EVAL_MEMWORDS] = {0};
        if (len == 0 || len > BPF_MAXINSNS)
                fail_msg("bpf_eval: program length %zu", len);
        for (size_t pc = 0; pc < len; pc++) {
                const struct sock_filter *s = &prog[pc];
                uint16_t code = s->code;
                switch (code) {
                case BPF_LD | BPF_W | BPF_ABS: a = load_word(d, s->k, pc); continue;
                case BPF_LD | BPF_W | BPF_LEN: a = sizeof *d; continue;
                case BPF_LDX | BPF_W | BPF_LEN: x = sizeof *d; continue;
                case BPF_LD | BPF_IMM: a = s->k; continue;
                case BPF_LDX | BPF_IMM: x = s->k; continue;
                case BPF_MISC | BPF_TAX: x = a; continue;
                case BPF_MISC | BPF_TXA: a = x; continue;
                case BPF_LD | BPF_MEM:
                case BPF_LDX | BPF_MEM:
                case BPF_ST:
                case BPF_STX:
                        if (s->k >= BPF_EVAL_MEMWORDS)
                                fail_msg("bpf_eval: pc %zu: scratch cell %u", pc, s->k);
                        if (code == (BPF_LD | BPF_MEM))
                                a = mem[s->k];
                        else if (code == (BPF_LDX | BPF_MEM))
                                x = mem[s->k];
                        else
                                mem[s->k] = code == BPF_ST ? a : x;
                        continue;
                case BPF_RET | BPF_K: return s->k;
                case BPF_RET | BPF_A: return a;
                case BPF_JMP | BPF_JA:
                        if (s->k >= len - pc - 1)
                                fail_msg("bpf_eval: pc %zu: JA %u jumps past the end", pc, s->k);
                        pc += s->k;
                        continue;
                }
                if (BPF_CLASS(code) == BPF_ALU) {
                        uint32_t operand = BPF_SRC(code) == BPF_X ? x : s->k;
                        a = alu(code, a, operand, pc);
                        continue;
                }
                if (BPF_CLASS(code) == BPF_JMP) {
                        uint32_t operand = BPF_SRC(code) == BPF_X ? x : s->k;
                        size_t off = jump_taken(code, a, operand, pc) ? s->jt : s->jf;
                        if (off >= len - pc - 1)
                                fail_msg("bpf_eval: pc %zu: jump by %zu runs past the end", pc,
                                         off);
                        pc += off;
                        continue;
                }
                fail_msg("bpf_eval: pc %zu: unknown opcode 0x%04x", pc, code);
        }
        fail_msg("bpf_eval: fell off the end of a %zu-instruction program", len);
        return 0;
}

struct seccomp_data bpf_vec(int nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                            uint64_t a5)
{
        struct seccomp_data d = {
            .nr = nr, .arch = AUDIT_ARCH_X86_64, .args = {a0, a1, a2, a3, a4, a5}};
        return d;
}

uint32_t bpf_stack(uint32_t newer, uint32_t older)
{
        /* kernel/seccomp.c: ACTION_ONLY() as a signed int, lowest wins. */
        int32_t n = (int32_t)(newer & SECCOMP_RET_ACTION_FULL);
        int32_t o = (int32_t)(older & SECCOMP_RET_ACTION_FULL);
        return o < n ? older : newer;
}

const char *bpf_ret_name(uint32_t ret, char *buf, size_t len)
{
        uint32_t action = ret & SECCOMP_RET_ACTION_FULL, data = ret & SECCOMP_RET_DATA;
        if (action == SECCOMP_RET_ERRNO) {
                const char *name = strerrorname_np((int)data);
                snprintf(buf, len, "ERRNO(%s)", name ? name : "?");
        } else {
                snprintf(buf, len, "%s",
                         action == SECCOMP_RET_ALLOW          ? "ALLOW"
                         : action == SECCOMP_RET_KILL_PROCESS ? "KILL_PROCESS"
                         : action == SECCOMP_RET_KILL_THREAD  ? "KILL_THREAD"
                         : action == SECCOMP_RET_TRAP         ? "TRAP"
                         : action == SECCOMP_RET_LOG          ? "LOG"
                         : action == SECCOMP_RET_TRACE        ? "TRACE"
                         : action == SECCOMP_RET_USER_NOTIF   ? "USER_NOTIF"
                                                              : "?");
        }
        return buf;
}
