#include "lib/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int sl_error_set(struct sl_error *err, int errnum, const char *fmt, ...)
{
        if (!err)
                return -1;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                n = 0;
        if (errnum != 0 && (size_t)n < sizeof err->msg)
                snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", strerror(errnum));
        err->code = errnum;
        return -1;
}

int sl_error_prefix(struct sl_error *err, const char *fmt, ...)
{
        if (!err)
                return -1;
        char prefix[SL_ERROR_MSG_MAX];
        char old[SL_ERROR_MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* prefix, then ": ", then as much of the old message as fits */
        size_t n = strnlen(prefix, sizeof err->msg - 3);
        memcpy(err->msg, prefix, n);
        memcpy(err->msg + n, ": ", 2);
        size_t rest = sizeof err->msg - n - 3;
        size_t m = strnlen(old, rest);
        memcpy(err->msg + n + 2, old, m);
        err->msg[n + 2 + m] = '\0';
        return -1;
}

void sl_error_clear(struct sl_error *err)
{
        if (!err)
                return;
        err->code = 0;
        err->msg[0] = '\0';
}
