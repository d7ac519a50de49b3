/* Platform services: what the supervisor itself provides to every slice —
 * its configuration and named read-only files (rom) as sealed memfds,
 * reports, and logging.
 *
 * A memfd from the supervisor is checked before the slice sees it: sealed
 * against shrinking, growing and writing (so what the slice reads is what
 * was hashed, and stays so: no TOCTOU), and as long as the grant says.
 */
#include "libslice/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* What makes a memfd immutable. F_SEAL_SEAL is not required: with these
 * three in place, a later seal could only restrict it further. */
#define SL_REQUIRED_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

int sl__check_sealed(struct sl_slice *sl, int fd, uint64_t size, const char *what)
{
        int seals = fcntl(fd, F_GET_SEALS);
        if (seals < 0)
                return sl__fail(sl, EBADMSG, "%s: not a sealed memfd (F_GET_SEALS: %s)", what,
                                strerror(errno));
        if ((seals & SL_REQUIRED_SEALS) != SL_REQUIRED_SEALS)
                return sl__fail(sl, EBADMSG,
                                "%s: memfd not sealed against shrink, grow and write (seals 0x%x)",
                                what, (unsigned)seals);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sl__fail(sl, EBADMSG, "%s: fstat: %s", what, strerror(errno));
        if ((uint64_t)st.st_size != size)
                return sl__fail(sl, EBADMSG, "%s: memfd holds %lld bytes, the grant says %llu",
                                what, (long long)st.st_size, (unsigned long long)size);
        return 0;
}

/* Open a platform service whose grant is a sealed memfd. */
static int open_memfd(struct sl_slice *sl, const char *service, const char *name,
                      struct sl_result *res)
{
        char what[SL_SERVICE_MAX + 80];
        snprintf(what, sizeof what, name ? "%s '%.64s'" : "%s", service, name);
        int rc = sl__open_wait(sl, service, name, name ? strlen(name) : 0, 0,
                               SL_PLATFORM_TIMEOUT_MS, NULL, res);
        if (rc < 0)
                return rc;
        rc = sl__check_sealed(sl, res->fd, res->size, what);
        if (rc < 0) {
                close(res->fd);
                res->fd = -1;
        }
        return rc;
}

int sl_config(struct sl_slice *sl, int *memfd, size_t *size)
{
        *memfd = -1;
        struct sl_result res;
        int rc = open_memfd(sl, "config", NULL, &res);
        if (rc < 0)
                return rc;
        *memfd = res.fd;
        *size = (size_t)res.size;
        return 0;
}

int sl_rom(struct sl_slice *sl, const char *name, int *memfd, size_t *size,
           unsigned char blake2b[SL_BLAKE2B_LEN])
{
        *memfd = -1;
        if (!name || !*name || strlen(name) > SL_ARGS_MAX)
                return sl__fail(sl, EINVAL, "rom: a name of 1-%d bytes is needed", SL_ARGS_MAX);
        struct sl_result res;
        int rc = open_memfd(sl, "rom", name, &res);
        if (rc < 0)
                return rc;
        if (!res.has_blake2b) {
                close(res.fd);
                return sl__fail(sl, EBADMSG, "rom '%.64s': the grant carries no hash", name);
        }
        *memfd = res.fd;
        *size = (size_t)res.size;
        if (blake2b)
                memcpy(blake2b, res.blake2b, SL_BLAKE2B_LEN);
        return 0;
}

void sl_on_config_update(struct sl_slice *sl, sl_config_cb cb, void *ctx)
{
        sl->config_cb = cb;
        sl->config_ctx = ctx;
}

void sl__on_config_update(struct sl_slice *sl, const Sliced__Parent__ConfigUpdate *u, int fd)
{
        if (!sl->config_cb || sl__check_sealed(sl, fd, u->size, "config update") < 0) {
                close(fd);
                return;
        }
        const unsigned char *hash = u->blake2b.len == SL_BLAKE2B_LEN ? u->blake2b.data : NULL;
        sl->config_cb(sl->config_ctx, fd, (size_t)u->size, hash);
}

int sl_report(struct sl_slice *sl, const char *json)
{
        size_t n = json ? strlen(json) : 0;
        if (n == 0 || n > SL_REPORT_MAX)
                return sl__fail(sl, EINVAL, "report: %zu bytes, expected 1-%d", n, SL_REPORT_MAX);
        struct sl_pp_msg m;
        return sl__send(sl, sl_pp_report(&m, json), NULL, 0);
}

int sl_log(struct sl_slice *sl, int level, const char *fmt, ...)
{
        if (level < 0 || level > SL_PP_LOG_LEVEL_MAX)
                return sl__fail(sl, EINVAL, "log level %d, expected 0-%d", level,
                                SL_PP_LOG_LEVEL_MAX);
        char text[SL_LOG_MAX + 1];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap); /* cut at SL_LOG_MAX */
        va_end(ap);
        struct sl_pp_msg m;
        return sl__send(sl, sl_pp_log(&m, (unsigned)level, text), NULL, 0);
}
