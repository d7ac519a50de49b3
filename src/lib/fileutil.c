#include "lib/fileutil.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"

int sl_write_file_at(int dirfd, const char *path, const char *data, struct sl_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "open `%s` for writing", path);
        size_t len = strlen(data);
        ssize_t n = write(fd, data, len);
        if (n < 0)
                return sl_error_errno(err, "write `%s` to `%s`", data, path);
        if ((size_t)n != len)
                return sl_error_set(err, EIO, "short write to `%s`", path);
        return 0;
}

ssize_t sl_read_file_at(int dirfd, const char *path, char *buf, size_t cap, struct sl_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "open `%s`", path);
        size_t off = 0;
        while (off + 1 < cap) {
                ssize_t n = read(fd, buf + off, cap - 1 - off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return sl_error_errno(err, "read `%s`", path);
                }
                if (n == 0)
                        break;
                off += (size_t)n;
        }
        buf[off] = '\0';
        return (ssize_t)off;
}

int sl_mkdir_p(const char *path, mode_t mode, struct sl_error *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
                return sl_error_set(err, ENAMETOOLONG, "mkdir `%s`", path);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                        return sl_error_errno(err, "mkdir `%s`", tmp);
                *p = '/';
        }
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return sl_error_errno(err, "mkdir `%s`", tmp);
        return 0;
}
