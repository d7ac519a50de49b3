/* Shared helpers of the store: see util.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/util.h"

void st_buf_free(struct st_buf *b)
{
        if (!b)
                return;
        free(b->data);
        b->data = NULL;
        b->len = 0;
}

int st_buf_set(struct st_buf *b, const void *data, size_t len, struct sl_error *err)
{
        uint8_t *p = malloc(len + 1);
        if (!p)
                return sl_error_set(err, ENOMEM, "buffer of %zu bytes", len);
        if (len)
                memcpy(p, data, len);
        p[len] = 0;
        free(b->data);
        b->data = p;
        b->len = len;
        return 0;
}

void st_json_decrefp(json_t **j)
{
        json_decref(*j);
}

static const char *dot(const char *where)
{
        return *where ? "." : "";
}

int st_json_only_keys(json_t *obj, const char *const *allowed, const char *where,
                      struct sl_error *err)
{
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                int ok = 0;
                for (size_t i = 0; allowed[i]; i++)
                        ok |= strcmp(key, allowed[i]) == 0;
                if (!ok)
                        return sl_error_set(err, 0, "%s%s%s: unknown field", where, dot(where),
                                            key);
        }
        return 0;
}

int st_json_get_str(json_t *obj, const char *field, const char *where, char *out, size_t cap,
                    struct sl_error *err)
{
        json_t *v = json_object_get(obj, field);
        if (!v)
                return sl_error_set(err, 0, "%s%s%s: missing", where, dot(where), field);
        if (!json_is_string(v))
                return sl_error_set(err, 0, "%s%s%s: not a string", where, dot(where), field);
        size_t n = json_string_length(v);
        if (n == 0 || n >= cap || memchr(json_string_value(v), 0, n))
                return sl_error_set(err, 0, "%s%s%s: must be 1 to %zu characters", where,
                                    dot(where), field, cap - 1);
        memcpy(out, json_string_value(v), n + 1);
        return 0;
}

int st_json_get_u64(json_t *obj, const char *field, const char *where, uint64_t max, uint64_t *out,
                    struct sl_error *err)
{
        json_t *v = json_object_get(obj, field);
        if (!v)
                return sl_error_set(err, 0, "%s%s%s: missing", where, dot(where), field);
        if (!json_is_integer(v))
                return sl_error_set(err, 0, "%s%s%s: not an integer", where, dot(where), field);
        json_int_t i = json_integer_value(v);
        if (i < 0)
                return sl_error_set(err, 0, "%s%s%s: negative", where, dot(where), field);
        if ((uint64_t)i > max)
                return sl_error_set(err, 0, "%s%s%s: above %llu", where, dot(where), field,
                                    (unsigned long long)max);
        *out = (uint64_t)i;
        return 0;
}

json_t *st_json_get_array(json_t *obj, const char *field, const char *where, size_t max,
                          struct sl_error *err)
{
        json_t *a = json_object_get(obj, field);
        if (!a) {
                sl_error_set(err, 0, "%s%s%s: missing", where, dot(where), field);
                return NULL;
        }
        if (!json_is_array(a)) {
                sl_error_set(err, 0, "%s%s%s: not an array", where, dot(where), field);
                return NULL;
        }
        if (json_array_size(a) > max) {
                sl_error_set(err, 0, "%s%s%s: more than %zu entries", where, dot(where), field,
                             max);
                return NULL;
        }
        return a;
}

json_t *st_json_parse(const void *bytes, size_t len, const char *label, struct sl_error *err)
{
        json_error_t je;
        json_t *root = json_loadb(bytes, len, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                sl_error_set(err, 0, "%s:%d:%d: %s", label, je.line, je.column, je.text);
        return root;
}

void st_hex_encode(const uint8_t *in, size_t len, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * len] = 0;
}

static int hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        return -1;
}

int st_hex_decode(const char *hex, uint8_t *out, size_t len, const char *what, struct sl_error *err)
{
        if (strlen(hex) != 2 * len)
                return sl_error_set(err, 0, "%s: not %zu lowercase hex digits", what, 2 * len);
        for (size_t i = 0; i < len; i++) {
                int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return sl_error_set(err, 0, "%s: not %zu lowercase hex digits", what,
                                            2 * len);
                out[i] = (uint8_t)(hi << 4 | lo);
        }
        return 0;
}

int st_is_hash_hex(const char *s)
{
        size_t n = strlen(s);
        return n == 64 && strspn(s, "0123456789abcdef") == n;
}

char *st_base64_encode(const uint8_t *in, size_t len)
{
        size_t cap = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
        char *out = malloc(cap);
        if (out)
                sodium_bin2base64(out, cap, in, len, sodium_base64_VARIANT_ORIGINAL);
        return out;
}

int st_base64_decode(const char *in, size_t in_len, struct st_buf *out, const char *what,
                     struct sl_error *err)
{
        size_t cap = in_len / 4 * 3 + 3, n = 0;
        const char *end = NULL;
        uint8_t *p = malloc(cap + 1);
        if (!p)
                return sl_error_set(err, ENOMEM, "%s", what);
        if (sodium_base642bin(p, cap, in, in_len, NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) !=
                0 ||
            end != in + in_len) {
                free(p);
                return sl_error_set(err, 0, "%s: not valid base64", what);
        }
        p[n] = 0;
        st_buf_free(out);
        out->data = p;
        out->len = n;
        return 0;
}

int st_time_parse(const char *s, time_t *out, const char *what, struct sl_error *err)
{
        struct tm tm = {0};
        const char *end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (!end || *end || strlen(s) != ST_TIME_STR - 1)
                return sl_error_set(err, 0, "%s: `%s` is not a time like 2027-01-31T00:00:00Z",
                                    what, s);
        *out = timegm(&tm);
        return 0;
}

void st_time_format(time_t t, char out[ST_TIME_STR])
{
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(out, ST_TIME_STR, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int st_read_file_at(int dirfd, const char *path, size_t max, struct st_buf *out,
                    struct sl_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return sl_error_errno(err, "open `%s`", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sl_error_errno(err, "stat `%s`", path);
        if (!S_ISREG(st.st_mode))
                return sl_error_set(err, EINVAL, "read `%s`: not a regular file", path);
        if ((uint64_t)st.st_size > max)
                return sl_error_set(err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
        _cleanup_free_ uint8_t *p = malloc((size_t)st.st_size + 1);
        if (!p)
                return sl_error_set(err, ENOMEM, "read `%s`", path);
        size_t got = 0;
        while (got < (size_t)st.st_size) {
                ssize_t r = read(fd, p + got, (size_t)st.st_size - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return sl_error_errno(err, "read `%s`", path);
                if (r == 0)
                        break; /* shrank meanwhile: take what is there */
                got += (size_t)r;
        }
        p[got] = 0;
        st_buf_free(out);
        out->data = SL_STEAL_PTR(p);
        out->len = got;
        return 0;
}

int st_read_file(const char *path, size_t max, struct st_buf *out, struct sl_error *err)
{
        return st_read_file_at(AT_FDCWD, path, max, out, err);
}

int st_fsync_dir_at(int dirfd, const char *path, struct sl_error *err)
{
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return sl_error_errno(err, "open directory `%s`", path);
        if (fsync(fd) < 0)
                return sl_error_errno(err, "fsync directory `%s`", path);
        return 0;
}

int st_write_all(int fd, const void *data, size_t len)
{
        const uint8_t *p = data;
        while (len) {
                ssize_t w = write(fd, p, len);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -1;
                p += w;
                len -= (size_t)w;
        }
        return 0;
}

int st_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                       struct sl_error *err)
{
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof tmp, "%s.tmp-XXXXXX", name) >= (int)sizeof tmp)
                return sl_error_set(err, ENAMETOOLONG, "write `%s`", name);
        /* mkostemp works on cwd-relative or absolute names only: build the
         * unique suffix ourselves against dirfd. */
        _cleanup_close_ int fd = -1;
        for (int tries = 0; tries < 100 && fd < 0; tries++) {
                uint32_t r = randombytes_random();
                snprintf(tmp + strlen(tmp) - 6, 7, "%06x", r & 0xffffff);
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
                if (fd < 0 && errno != EEXIST)
                        return sl_error_errno(err, "create `%s`", tmp);
        }
        if (fd < 0)
                return sl_error_errno(err, "create `%s`", tmp);
        if (fchmod(fd, mode) < 0 || st_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
                sl_error_errno(err, "write `%s`", tmp);
                unlinkat(dirfd, tmp, 0);
                return -1;
        }
        if (renameat(dirfd, tmp, dirfd, name) < 0) {
                sl_error_errno(err, "rename `%s` to `%s`", tmp, name);
                unlinkat(dirfd, tmp, 0);
                return -1;
        }
        /* The rename is durable only once the directory entry is on disk. */
        char dir[PATH_MAX];
        const char *slash = strrchr(name, '/');
        if (slash) {
                snprintf(dir, sizeof dir, "%.*s", (int)(slash - name), name);
                if (!*dir)
                        strcpy(dir, "/");
        } else {
                strcpy(dir, ".");
        }
        return st_fsync_dir_at(dirfd, dir, err);
}

int st_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                    struct sl_error *err)
{
        return st_write_atomic_at(AT_FDCWD, path, data, len, mode, err);
}

DIR *st_opendir_at(int dirfd, const char *path)
{
        int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int saved = errno;
                close(fd);
                errno = saved;
        }
        return d;
}
