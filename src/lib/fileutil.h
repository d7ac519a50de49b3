/* Small file helpers used by the sandbox (cgroupfs, /proc) and the CLI. */
#ifndef SL_FILEUTIL_H
#define SL_FILEUTIL_H

#include <stddef.h>
#include <sys/types.h>

#include "lib/error.h"

/* Write the whole string to an existing file (O_WRONLY|O_TRUNC|O_CLOEXEC),
 * relative to dirfd (AT_FDCWD for absolute). One write() call, as cgroupfs
 * and /proc/PID/uid_map require. */
int sl_write_file_at(int dirfd, const char *path, const char *data, struct sl_error *err);

/* Read at most cap-1 bytes of a file into buf, NUL-terminated. Returns the
 * length, or -1. */
ssize_t sl_read_file_at(int dirfd, const char *path, char *buf, size_t cap, struct sl_error *err);

/* mkdir -p with mode for each created component. */
int sl_mkdir_p(const char *path, mode_t mode, struct sl_error *err);

#endif
