/* Scope-bound cleanup, as crun does it: every early return releases what the
 * function holds. Assign NULL / -1 to a variable to hand ownership away. */
#ifndef SL_CLEANUP_H
#define SL_CLEANUP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void sl_freep(void *p)
{
        free(*(void **)p);
}
static inline void sl_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno; /* close must not clobber the errno we report */
                close(*fd);
                errno = saved;
        }
}
static inline void sl_fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}

#define _cleanup_free_   __attribute__((cleanup(sl_freep)))
#define _cleanup_close_  __attribute__((cleanup(sl_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(sl_fclosep)))

/* Take ownership out of a cleanup variable. */
static inline int sl_steal_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}
#define SL_STEAL_PTR(p)                                                                            \
        ({                                                                                         \
                __typeof__(p) _tmp = (p);                                                          \
                (p) = NULL;                                                                        \
                _tmp;                                                                              \
        })

#define SL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
