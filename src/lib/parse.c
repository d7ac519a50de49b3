#include "lib/parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct sl_error *err)
{
        if (!s || !*s)
                return sl_error_set(err, 0, "empty number");
        if (!isdigit((unsigned char)s[0]))
                return sl_error_set(err, 0, "'%s' is not a non-negative integer", s);
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return sl_error_set(err, 0, "'%s' is too large", s);
        if (*end != '\0')
                return sl_error_set(err, 0, "'%s' is not a non-negative integer", s);
        if (v < min || v > max)
                return sl_error_set(err, 0, "'%s' is out of range [%llu, %llu]", s,
                                    (unsigned long long)min, (unsigned long long)max);
        *out = v;
        return 0;
}

int sl_parse_size(const char *s, uint64_t *out, int allow_zero, struct sl_error *err)
{
        if (!s || !*s)
                return sl_error_set(err, 0, "empty size");
        if (!isdigit((unsigned char)s[0]))
                return sl_error_set(err, 0, "'%s' is not a size (expected e.g. 64M, 1G, 4096)", s);
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return sl_error_set(err, 0, "size '%s' is too large", s);
        unsigned shift = 0;
        switch (toupper((unsigned char)*end)) {
        case '\0': break;
        case 'K':
                shift = 10;
                end++;
                break;
        case 'M':
                shift = 20;
                end++;
                break;
        case 'G':
                shift = 30;
                end++;
                break;
        case 'T':
                shift = 40;
                end++;
                break;
        case 'B': break;
        default: return sl_error_set(err, 0, "'%s' has an unknown unit (use K, M, G or T)", s);
        }
        if (shift && (*end == 'i' || *end == 'I'))
                end++;
        if (*end == 'B' || *end == 'b')
                end++;
        if (*end != '\0')
                return sl_error_set(err, 0, "'%s' is not a size (expected e.g. 64M, 1G, 4096)", s);
        if (shift && v > (UINT64_MAX >> shift))
                return sl_error_set(err, 0, "size '%s' is too large", s);
        v <<= shift;
        if (!allow_zero && v == 0)
                return sl_error_set(err, 0, "size '%s' must be greater than zero", s);
        *out = v;
        return 0;
}

static int parse_cpu(const char **p, unsigned *cpu, const char *whole, struct sl_error *err)
{
        if (!isdigit((unsigned char)**p))
                return sl_error_set(err, 0, "CPU list '%s': expected a CPU number at '%s'", whole,
                                    *p);
        char *end;
        errno = 0;
        unsigned long v = strtoul(*p, &end, 10);
        if (errno == ERANGE || v >= CPU_SETSIZE)
                return sl_error_set(err, 0, "CPU list '%s': CPU %.*s is out of range", whole,
                                    (int)(end - *p), *p);
        *cpu = (unsigned)v;
        *p = end;
        return 0;
}

int sl_parse_cpulist(const char *s, cpu_set_t *set, char *canon, size_t canon_len,
                     struct sl_error *err)
{
        if (!s || !*s)
                return sl_error_set(err, 0, "empty CPU list");
        CPU_ZERO(set);
        const char *p = s;
        for (;;) {
                unsigned lo, hi;
                if (parse_cpu(&p, &lo, s, err) < 0)
                        return -1;
                hi = lo;
                if (*p == '-') {
                        p++;
                        if (parse_cpu(&p, &hi, s, err) < 0)
                                return -1;
                        if (hi < lo)
                                return sl_error_set(
                                    err, 0, "CPU list '%s': range %u-%u is reversed", s, lo, hi);
                }
                for (unsigned c = lo; c <= hi; c++)
                        CPU_SET(c, set);
                if (*p == '\0')
                        break;
                if (*p != ',')
                        return sl_error_set(
                            err, 0, "CPU list '%s': unexpected '%c' (use e.g. 0-2,5)", s, *p);
                p++;
        }
        if (canon && canon_len) {
                size_t n = (size_t)snprintf(canon, canon_len, "%s", s);
                if (n >= canon_len)
                        return sl_error_set(err, 0, "CPU list '%s' is too long", s);
        }
        return 0;
}
