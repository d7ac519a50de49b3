/* Policy file parser: text in, struct sb_seccomp_policy out. No I/O here, so
 * every message is testable from a string. Grammar (docs/seccomp.md):
 *
 *   line      = [statement] ["#" comment]
 *   statement = "include" PROFILE
 *             | "default" ("kill" | "errno" ENAME)
 *             | "allow" NAME... [cond]
 *             | "deny"  NAME... [cond] ["errno" ENAME]      (EPERM if omitted)
 *             | "kill"  NAME... [cond]
 *   cond      = "if" cmp ("and" cmp)...
 *   cmp       = ARG ("==" | "!=" | "<" | "<=" | ">" | ">=") NUMBER
 *             | ARG "&" NUMBER "==" NUMBER
 *   ARG       = "arg0" .. "arg5";  NUMBER = decimal or 0x hex, 64 bits
 *
 * Tokens are separated by blanks. A file's rules for a call replace every rule
 * the included profile has for that call.
 */
#include "sandbox/seccomp_policy.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"

/* clang-format off */
/* errno names a policy may return, as <errno.h> spells them. */
static const struct {
        const char *name;
        int value;
} errno_names[] = {
        {"EPERM", EPERM},     {"ENOENT", ENOENT},       {"EIO", EIO},
        {"ENXIO", ENXIO},     {"EBADF", EBADF},         {"EAGAIN", EAGAIN},
        {"ENOMEM", ENOMEM},   {"EACCES", EACCES},       {"EFAULT", EFAULT},
        {"EBUSY", EBUSY},     {"EEXIST", EEXIST},       {"EXDEV", EXDEV},
        {"ENODEV", ENODEV},   {"ENOTDIR", ENOTDIR},     {"EINVAL", EINVAL},
        {"ENOTTY", ENOTTY},   {"ENOSPC", ENOSPC},       {"EROFS", EROFS},
        {"ENOSYS", ENOSYS},   {"ENOTSUP", ENOTSUP},     {"EOPNOTSUPP", EOPNOTSUPP},
        {"EAFNOSUPPORT", EAFNOSUPPORT}, {"EPROTONOSUPPORT", EPROTONOSUPPORT},
        {"ECONNREFUSED", ECONNREFUSED}, {"ENETUNREACH", ENETUNREACH},
};

static const struct {
        const char *text;
        enum scmp_compare op;
} operators[] = {
        {"==", SCMP_CMP_EQ}, {"!=", SCMP_CMP_NE}, {"<", SCMP_CMP_LT},
        {"<=", SCMP_CMP_LE}, {">", SCMP_CMP_GT},  {">=", SCMP_CMP_GE},
        {"&", SCMP_CMP_MASKED_EQ},
};
/* clang-format on */

struct tok {
        const char *s;
        size_t len;
        unsigned int col; /* 1-based byte column */
};

struct lexer {
        const char *source;
        const char *line; /* start of the current line */
        const char *p;    /* next unread byte of the line */
        const char *end;  /* end of the line (comment cut off) */
        unsigned int lineno;
        struct sl_error *err;
};

static int tok_is(const struct tok *t, const char *word)
{
        return t->len == strlen(word) && memcmp(t->s, word, t->len) == 0;
}

/* "source:line:column: message" */
__attribute__((format(printf, 3, 4))) static int lex_error(struct lexer *lx, unsigned int col,
                                                           const char *fmt, ...)
{
        char msg[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        return sl_error_set(lx->err, 0, "%s:%u:%u: %s", lx->source, lx->lineno, col, msg);
}

/* Next blank-separated token of the line; 0 at the end. */
static int next_tok(struct lexer *lx, struct tok *t)
{
        while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t' || *lx->p == '\r'))
                lx->p++;
        if (lx->p == lx->end)
                return 0;
        t->s = lx->p;
        t->col = (unsigned int)(lx->p - lx->line) + 1;
        while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\r')
                lx->p++;
        t->len = (size_t)(lx->p - t->s);
        return 1;
}

/* Where an expected token is missing: just past the line's last byte. */
static unsigned int eol_col(const struct lexer *lx)
{
        const char *e = lx->end;
        while (e > lx->line && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
                e--;
        return (unsigned int)(e - lx->line) + 1;
}

static int parse_number(struct lexer *lx, const struct tok *t, uint64_t *out)
{
        int hex = t->len > 2 && t->s[0] == '0' && (t->s[1] == 'x' || t->s[1] == 'X');
        size_t i = hex ? 2 : 0;
        uint64_t v = 0;
        if (i == t->len)
                return lex_error(lx, t->col, "bad number '%.*s'", (int)t->len, t->s);
        for (; i < t->len; i++) {
                char c = t->s[i];
                unsigned int d = (c >= '0' && c <= '9')          ? (unsigned int)(c - '0')
                                 : (hex && c >= 'a' && c <= 'f') ? (unsigned int)(c - 'a' + 10)
                                 : (hex && c >= 'A' && c <= 'F') ? (unsigned int)(c - 'A' + 10)
                                                                 : 16;
                unsigned int base = hex ? 16 : 10;
                if (d >= base)
                        return lex_error(lx, t->col, "bad number '%.*s'", (int)t->len, t->s);
                if (v > (UINT64_MAX - d) / base)
                        return lex_error(lx, t->col, "number '%.*s' does not fit in 64 bits",
                                         (int)t->len, t->s);
                v = v * base + d;
        }
        *out = v;
        return 0;
}

/* Expect one more token; name what was expected if the line ends. */
static int need_tok(struct lexer *lx, struct tok *t, const char *what)
{
        if (next_tok(lx, t))
                return 0;
        return lex_error(lx, eol_col(lx), "expected %s at the end of the line", what);
}

static int parse_errno(struct lexer *lx, uint32_t *action)
{
        struct tok t;
        if (need_tok(lx, &t, "an errno name (EPERM, ENOSYS, ...)") < 0)
                return -1;
        for (size_t i = 0; i < SL_ARRAY_SIZE(errno_names); i++)
                if (tok_is(&t, errno_names[i].name)) {
                        *action = SCMP_ACT_ERRNO((uint32_t)errno_names[i].value);
                        return 0;
                }
        return lex_error(lx, t.col, "unknown errno name '%.*s'", (int)t.len, t.s);
}

/* cmp = ARG OP NUMBER | ARG "&" NUMBER "==" NUMBER; fills c. seen: args so far. */
static int parse_cmp(struct lexer *lx, struct scmp_arg_cmp *c, unsigned int *seen)
{
        struct tok t;
        if (need_tok(lx, &t, "'arg0' .. 'arg5'") < 0)
                return -1;
        if (t.len != 4 || memcmp(t.s, "arg", 3) != 0 || t.s[3] < '0' || t.s[3] > '5')
                return lex_error(lx, t.col, "expected 'arg0' .. 'arg5', got '%.*s'", (int)t.len,
                                 t.s);
        c->arg = (unsigned int)(t.s[3] - '0');
        if (*seen & (1u << c->arg))
                return lex_error(lx, t.col, "arg%u is compared twice in one rule", c->arg);
        *seen |= 1u << c->arg;
        if (need_tok(lx, &t, "an operator (==, !=, <, <=, >, >=, &)") < 0)
                return -1;
        size_t i = 0;
        while (i < SL_ARRAY_SIZE(operators) && !tok_is(&t, operators[i].text))
                i++;
        if (i == SL_ARRAY_SIZE(operators))
                return lex_error(lx, t.col,
                                 "expected an operator (==, !=, <, <=, >, >=, &), got '%.*s'",
                                 (int)t.len, t.s);
        c->op = operators[i].op;
        if (need_tok(lx, &t, "a number") < 0 || parse_number(lx, &t, &c->datum_a) < 0)
                return -1;
        if (c->op != SCMP_CMP_MASKED_EQ)
                return 0;
        if (need_tok(lx, &t, "'==' after the mask") < 0)
                return -1;
        if (!tok_is(&t, "=="))
                return lex_error(lx, t.col, "expected '==' after the mask, got '%.*s'", (int)t.len,
                                 t.s);
        if (need_tok(lx, &t, "a number") < 0 || parse_number(lx, &t, &c->datum_b) < 0)
                return -1;
        if (c->datum_b & ~c->datum_a)
                return lex_error(
                    lx, t.col, "value 0x%llx has bits outside the mask 0x%llx, so it never matches",
                    (unsigned long long)c->datum_b, (unsigned long long)c->datum_a);
        return 0;
}

struct parse_state {
        struct sb_seccomp_policy *pol;
        unsigned int include_line, default_line, rules;
        /* Calls this file has rules for: their first rule drops the
         * included profile's rules for the call. */
        unsigned char seen[SB_SECCOMP_PROBE_NR_MAX / 8 + 1];
};

/* allow | deny | kill NAME... [if cmp [and cmp]...] [errno ENAME] */
static int parse_rule(struct lexer *lx, struct parse_state *st, const struct tok *verb)
{
        uint32_t action = tok_is(verb, "allow")  ? SCMP_ACT_ALLOW
                          : tok_is(verb, "kill") ? SCMP_ACT_KILL_PROCESS
                                                 : SCMP_ACT_ERRNO(EPERM);
        struct lexer names = *lx; /* the names are read again once the rule is known */
        struct tok t;
        size_t n = 0;
        int more;
        while ((more = next_tok(lx, &t)) && !tok_is(&t, "if") && !tok_is(&t, "errno"))
                n++;
        if (n == 0)
                return lex_error(lx, more ? t.col : eol_col(lx),
                                 "'%.*s' needs at least one syscall name", (int)verb->len, verb->s);
        struct sb_seccomp_rule r = {.action = action, .line = lx->lineno};
        unsigned int seen = 0, ncond = 0;
        if (more && tok_is(&t, "if")) {
                do {
                        if (parse_cmp(lx, &r.cond[ncond++], &seen) < 0)
                                return -1;
                } while ((more = next_tok(lx, &t)) && tok_is(&t, "and"));
        }
        if (more && tok_is(&t, "errno")) {
                if (!tok_is(verb, "deny"))
                        return lex_error(lx, t.col, "'errno' only follows a deny rule");
                if (parse_errno(lx, &r.action) < 0)
                        return -1;
                more = next_tok(lx, &t);
        }
        if (more)
                return lex_error(lx, t.col, "unexpected '%.*s'", (int)t.len, t.s);
        while (n-- > 0 && next_tok(&names, &t)) {
                int nr = -1;
                r.col = t.col;
                if (t.len < sizeof r.name) {
                        memcpy(r.name, t.s, t.len);
                        r.name[t.len] = '\0';
                        nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_X86_64, r.name);
                }
                /* Negative: libseccomp's pseudo-numbers for other arches. */
                if (nr < 0 || nr > SB_SECCOMP_PROBE_NR_MAX)
                        return lex_error(lx, t.col, "unknown syscall '%.*s'", (int)t.len, t.s);
                if (++st->rules > SB_POLICY_RULES_MAX)
                        return lex_error(lx, t.col, "more than %d rules", SB_POLICY_RULES_MAX);
                if (!(st->seen[nr / 8] & (1u << (nr % 8)))) {
                        st->seen[nr / 8] |= (unsigned char)(1u << (nr % 8));
                        sb_seccomp_policy_drop_nr(st->pol, nr);
                }
                if (sb_seccomp_policy_add(st->pol, &r, 0, lx->err) < 0)
                        return -1;
        }
        return 0;
}

static int parse_include(struct lexer *lx, struct parse_state *st, const struct tok *verb)
{
        struct tok t;
        if (st->include_line)
                return lex_error(lx, verb->col,
                                 "only one include per file (the first is on line %u)",
                                 st->include_line);
        if (st->rules || st->default_line)
                return lex_error(lx, verb->col, "include must come before any rule or default");
        if (need_tok(lx, &t, "a builtin profile name") < 0)
                return -1;
        char name[SB_SECCOMP_NAME_MAX];
        snprintf(name, sizeof name, "%.*s", (int)t.len, t.s);
        const struct sb_seccomp_profile *prof = sb_seccomp_profile_find(name);
        if (!prof || t.len >= sizeof name)
                return lex_error(
                    lx, t.col,
                    "unknown profile '%.*s' (builtin: posix, strict, strict-tight, reaper)",
                    (int)t.len, t.s);
        struct tok extra;
        if (next_tok(lx, &extra))
                return lex_error(lx, extra.col, "unexpected '%.*s'", (int)extra.len, extra.s);
        struct sb_seccomp_policy inc;
        if (sb_seccomp_policy_from_profile(&inc, prof, lx->err) < 0)
                return -1;
        /* Keep the file's name and positions; take the profile's content. */
        sb_seccomp_policy_free(st->pol);
        st->pol->default_action = inc.default_action;
        st->pol->rules = inc.rules;
        st->pol->len = inc.len;
        st->pol->cap = inc.cap;
        st->include_line = lx->lineno;
        return 0;
}

static int parse_default(struct lexer *lx, struct parse_state *st, const struct tok *verb)
{
        struct tok t, extra;
        if (st->default_line)
                return lex_error(lx, verb->col, "default already set on line %u", st->default_line);
        if (need_tok(lx, &t, "'kill' or 'errno ENAME'") < 0)
                return -1;
        if (tok_is(&t, "kill")) {
                st->pol->default_action = SCMP_ACT_KILL_PROCESS;
        } else if (tok_is(&t, "errno")) {
                if (parse_errno(lx, &st->pol->default_action) < 0)
                        return -1;
        } else if (tok_is(&t, "allow")) {
                return lex_error(lx, t.col,
                                 "'default allow' is refused: a deny-list lets through every "
                                 "call added after it was written (start from 'include posix')");
        } else {
                return lex_error(lx, t.col, "expected 'kill' or 'errno ENAME', got '%.*s'",
                                 (int)t.len, t.s);
        }
        if (next_tok(lx, &extra))
                return lex_error(lx, extra.col, "unexpected '%.*s'", (int)extra.len, extra.s);
        st->default_line = lx->lineno;
        return 0;
}

static int parse_line(struct lexer *lx, struct parse_state *st)
{
        struct tok verb;
        if (!next_tok(lx, &verb))
                return 0; /* blank or comment */
        if (tok_is(&verb, "include"))
                return parse_include(lx, st, &verb);
        if (tok_is(&verb, "default"))
                return parse_default(lx, st, &verb);
        if (tok_is(&verb, "allow") || tok_is(&verb, "deny") || tok_is(&verb, "kill"))
                return parse_rule(lx, st, &verb);
        return lex_error(lx, verb.col,
                         "unknown statement '%.*s' (include, default, allow, deny, kill)",
                         (int)verb.len, verb.s);
}

int sb_seccomp_policy_parse(const char *source, const char *text, size_t len,
                            struct sb_seccomp_policy *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        snprintf(out->source, sizeof out->source, "%s", source);
        out->from_file = 1;
        struct parse_state st = {.pol = out};
        struct lexer lx = {.source = source, .err = err};
        const char *p = text, *end = text + len;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                const char *eol = nl ? nl : end;
                lx.lineno++;
                lx.line = lx.p = p;
                if ((size_t)(eol - p) > SB_POLICY_LINE_MAX) {
                        lex_error(&lx, SB_POLICY_LINE_MAX + 1, "line longer than %d bytes",
                                  SB_POLICY_LINE_MAX);
                        goto fail;
                }
                const char *nul = memchr(p, '\0', (size_t)(eol - p));
                if (nul) {
                        lex_error(&lx, (unsigned int)(nul - p) + 1, "NUL byte in a policy file");
                        goto fail;
                }
                const char *hash = memchr(p, '#', (size_t)(eol - p));
                lx.end = hash ? hash : eol;
                if (parse_line(&lx, &st) < 0)
                        goto fail;
                p = nl ? nl + 1 : end;
        }
        if (!st.include_line && !st.default_line) {
                sl_error_set(err, 0,
                             "%s: no 'include' or 'default' line: say what happens to the "
                             "calls the file does not list",
                             source);
                goto fail;
        }
        if (sb_seccomp_policy_check(out, err) < 0)
                goto fail;
        return 0;
fail:
        sb_seccomp_policy_free(out);
        return -1;
}
