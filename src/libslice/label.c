/* Label policy: which rule a client's label falls under. Pure: data in,
 * verdict out, as Genode's session policies are matched by label.
 *
 * A label is the client's path in the slice tree followed by the labels of
 * the route hops ("/app/web:rw"), set by the supervisor. Servers usually
 * decide by where the client sits (a prefix) or by how the route labelled
 * it (a suffix); a rule may name both.
 */
#include "slice/slice.h"

#include <stdbool.h>
#include <string.h>

static size_t len0(const char *s)
{
        return s ? strlen(s) : 0;
}

/* prefix and suffix both fit, without sharing bytes of the label. */
static bool matches(const struct sl_label_rule *r, const char *label, size_t n)
{
        size_t p = len0(r->prefix), s = len0(r->suffix);
        if (p + s > n)
                return false;
        return (p == 0 || memcmp(label, r->prefix, p) == 0) &&
               (s == 0 || memcmp(label + n - s, r->suffix, s) == 0);
}

int sl_label_match(const struct sl_label_rule *rules, size_t n, const char *label, int dflt)
{
        if (!label)
                return dflt;
        size_t len = strlen(label);
        const struct sl_label_rule *best = NULL;
        size_t best_total = 0, best_prefix = 0;
        for (size_t i = 0; i < n; i++) {
                const struct sl_label_rule *r = &rules[i];
                if (!matches(r, label, len))
                        continue;
                size_t p = len0(r->prefix), total = p + len0(r->suffix);
                /* Strictly more specific replaces; equal keeps the earlier. */
                if (!best || total > best_total || (total == best_total && p > best_prefix)) {
                        best = r;
                        best_total = total;
                        best_prefix = p;
                }
        }
        return best ? best->verdict : dflt;
}
