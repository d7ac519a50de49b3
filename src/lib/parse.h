/* Parsers for the small value syntaxes users type: sizes, counts, CPU lists.
 * Each rejects trailing garbage, overflow and empty input with a message that
 * quotes the input. */
#ifndef SL_PARSE_H
#define SL_PARSE_H

#include <sched.h>
#include <stdint.h>

#include "lib/error.h"

/* "64M", "1G", "512K", "4096", "2GiB" (binary units; K/M/G/T, optional "i"/"iB"/"B").
 * Rejects 0 when allow_zero is false. */
int sl_parse_size(const char *s, uint64_t *out, int allow_zero, struct sl_error *err);

/* Decimal unsigned integer in [min, max]. */
int sl_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct sl_error *err);

/* "0-3,5,7-8" into a cpu_set_t; every CPU must be < CPU_SETSIZE. Also fills
 * a normalised text copy (for cpuset.cpus) in canon (canon_len bytes). */
int sl_parse_cpulist(const char *s, cpu_set_t *set, char *canon, size_t canon_len,
                     struct sl_error *err);

#endif
