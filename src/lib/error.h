/* sliced — one error type threaded through every call.
 *
 * Functions return 0 (or a count) on success and -1 on failure, filling a
 * struct sl_error with the errno and a sentence naming the object:
 *   "mount `/newroot/proc`: Operation not permitted".
 * Never print and continue; never lose errno.
 */
#ifndef SL_ERROR_H
#define SL_ERROR_H

#include <stddef.h>

/* Long enough for a path, a step name and a strerror text. */
#define SL_ERROR_MSG_MAX 512

struct sl_error {
        int code;                   /* errno value, 0 when not from a syscall */
        char msg[SL_ERROR_MSG_MAX]; /* complete sentence, no trailing newline */
};

/* Fill err with errnum and the formatted message; when errnum != 0 append
 * ": strerror(errnum)". Returns -1 so callers can `return sl_error_set(...)`.
 * err may be NULL (the message is dropped, the return value still -1). */
int sl_error_set(struct sl_error *err, int errnum, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like sl_error_set with errno captured at the call. */
#define sl_error_errno(err, ...) sl_error_set((err), errno, __VA_ARGS__)

/* Prefix an existing message: "context: old message". Returns -1. */
int sl_error_prefix(struct sl_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void sl_error_clear(struct sl_error *err);

#endif
