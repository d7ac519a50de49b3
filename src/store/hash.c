/* Content addressing: BLAKE2b-256 of an archive's exact bytes. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "store/store.h"

/* Read size: large enough that syscall overhead does not dominate. */
#define ST_HASH_CHUNK (64 * 1024)

int st_archive_hash_fd(int fd, uint64_t max_bytes, char out_hex[ST_HASH_HEX], struct sl_error *err)
{
        if (sodium_init() < 0)
                return sl_error_set(err, 0, "libsodium: initialisation failed");
        if (max_bytes == 0)
                max_bytes = ST_ARCHIVE_MAX_BYTES;
        crypto_generichash_state st;
        crypto_generichash_init(&st, NULL, 0, ST_HASH_BYTES);
        static __thread unsigned char buf[ST_HASH_CHUNK];
        uint64_t total = 0;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sl_error_errno(err, "hash archive: read");
                if (n == 0)
                        break;
                total += (uint64_t)n;
                if (total > max_bytes)
                        return sl_error_set(err, EFBIG,
                                            "hash archive: larger than the cap of %llu bytes",
                                            (unsigned long long)max_bytes);
                crypto_generichash_update(&st, buf, (unsigned long long)n);
        }
        unsigned char h[ST_HASH_BYTES];
        crypto_generichash_final(&st, h, sizeof h);
        sodium_bin2hex(out_hex, ST_HASH_HEX, h, sizeof h);
        return 0;
}

int st_archive_hash(const char *path, uint64_t max_bytes, char out_hex[ST_HASH_HEX],
                    struct sl_error *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return sl_error_errno(err, "open `%s`", path);
        if (st_archive_hash_fd(fd, max_bytes, out_hex, err) < 0)
                return sl_error_prefix(err, "`%s`", path);
        return 0;
}
