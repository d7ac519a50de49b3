/* Seccomp at run time: hand out compiled programs and install them.
 *
 * Builtin programs were compiled at build time (seccomp_builtin.c, generated);
 * handing one out is a pointer. Policy files are compiled here with
 * libseccomp, once per file version and process: the compiled program is
 * cached, keyed by the file's identity and change times, and every caller
 * gets its own copy (a few KiB), so no cache entry is ever in use.
 */
#include "sandbox/seccomp.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/seccomp_profiles.h"

/* Distinct policy files one supervisor uses at once is small (one per kind
 * of slice); 16 covers that, and a miss only costs a recompile. */
#define SB_SECCOMP_FILE_CACHE_MAX 16

struct file_cache_entry {
        dev_t dev;
        ino_t ino;
        off_t size;
        struct timespec mtime, ctime;
        struct sock_filter *insns;
        unsigned short len;
};

static struct file_cache_entry file_cache[SB_SECCOMP_FILE_CACHE_MAX];
static size_t file_cache_next; /* round-robin victim */
static pthread_mutex_t file_cache_lock = PTHREAD_MUTEX_INITIALIZER;

static int same_file(const struct file_cache_entry *e, const struct stat *st)
{
        return e->insns && e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
               e->mtime.tv_sec == st->st_mtim.tv_sec && e->mtime.tv_nsec == st->st_mtim.tv_nsec &&
               e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

static struct sock_filter *copy_insns(const struct sock_filter *insns, unsigned short len)
{
        struct sock_filter *c = malloc((size_t)len * sizeof *c);
        if (c)
                memcpy(c, insns, (size_t)len * sizeof *c);
        return c;
}

/* Copy a cached program for st into out; 1 on a hit, 0 on a miss. */
static int cache_lookup(const struct stat *st, struct sb_seccomp_prog *out)
{
        int hit = 0;
        pthread_mutex_lock(&file_cache_lock);
        for (size_t i = 0; i < SB_SECCOMP_FILE_CACHE_MAX && !hit; i++) {
                if (!same_file(&file_cache[i], st))
                        continue;
                out->insns = copy_insns(file_cache[i].insns, file_cache[i].len);
                out->len = file_cache[i].len;
                out->owned = 1;
                hit = out->insns != NULL; /* out of memory: compile afresh and fail there */
        }
        pthread_mutex_unlock(&file_cache_lock);
        return hit;
}

/* Best effort: a program that cannot be cached is still returned. */
static void cache_store(const struct stat *st, const struct sb_seccomp_prog *prog)
{
        struct sock_filter *copy = copy_insns(prog->insns, prog->len);
        if (!copy)
                return;
        pthread_mutex_lock(&file_cache_lock);
        struct file_cache_entry *e = &file_cache[file_cache_next];
        file_cache_next = (file_cache_next + 1) % SB_SECCOMP_FILE_CACHE_MAX;
        free(e->insns);
        *e = (struct file_cache_entry){.dev = st->st_dev,
                                       .ino = st->st_ino,
                                       .size = st->st_size,
                                       .mtime = st->st_mtim,
                                       .ctime = st->st_ctim,
                                       .insns = copy,
                                       .len = prog->len};
        pthread_mutex_unlock(&file_cache_lock);
}

static int read_all(int fd, const char *path, char *buf, size_t len, struct sl_error *err)
{
        for (size_t done = 0; done < len;) {
                ssize_t n = read(fd, buf + done, len - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return sl_error_errno(err, "read `%s`", path);
                if (n == 0)
                        return sl_error_set(err, 0, "read `%s`: file shrank while being read",
                                            path);
                done += (size_t)n;
        }
        return 0;
}

static int file_prog_get(const char *path, struct sb_seccomp_prog *out, struct sl_error *err)
{
        /* Open once and fstat the fd: the bytes parsed are the bytes keyed. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return sl_error_errno(err, "open `%s`", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return sl_error_errno(err, "stat `%s`", path);
        if (!S_ISREG(st.st_mode))
                return sl_error_set(err, 0, "%s: not a regular file", path);
        if (st.st_size > SB_POLICY_FILE_MAX)
                return sl_error_set(err, 0, "%s: %lld bytes; policy files are limited to %d", path,
                                    (long long)st.st_size, SB_POLICY_FILE_MAX);
        snprintf(out->name, sizeof out->name, "%s", path);
        if (cache_lookup(&st, out))
                return 0;
        size_t len = (size_t)st.st_size;
        _cleanup_free_ char *text = malloc(len ? len : 1);
        if (!text)
                return sl_error_errno(err, "%s: allocating %zu bytes", path, len);
        if (read_all(fd, path, text, len, err) < 0)
                return -1;
        struct sb_seccomp_policy pol;
        if (sb_seccomp_policy_parse(path, text, len, &pol, err) < 0)
                return -1;
        int rc = sb_seccomp_policy_compile(&pol, path, out, err);
        sb_seccomp_policy_free(&pol);
        if (rc < 0)
                return -1;
        cache_store(&st, out);
        return 0;
}

int sb_seccomp_prog_get(const char *profile, struct sb_seccomp_prog *out, struct sl_error *err)
{
        memset(out, 0, sizeof *out);
        if (!profile || !*profile)
                return sl_error_set(err, EINVAL, "seccomp profile: empty name");
        if (strchr(profile, '/'))
                return file_prog_get(profile, out, err);
        for (size_t i = 0; i < sb_seccomp_builtins_count; i++) {
                const struct sb_seccomp_builtin *b = &sb_seccomp_builtins[i];
                if (strcmp(b->name, profile) != 0)
                        continue;
                snprintf(out->name, sizeof out->name, "%s", b->name);
                /* The kernel only reads the program; the cast keeps the
                 * public struct simple for owned and builtin programs. */
                out->insns = (struct sock_filter *)b->insns;
                out->len = b->len;
                out->owned = 0;
                return 0;
        }
        return sl_error_set(err, 0,
                            "unknown seccomp profile `%s` (builtin: posix, strict, "
                            "strict-tight, reaper; a policy file path contains a '/')",
                            profile);
}

void sb_seccomp_prog_release(struct sb_seccomp_prog *prog)
{
        if (!prog)
                return;
        if (prog->owned)
                free(prog->insns);
        memset(prog, 0, sizeof *prog);
}

int sb_seccomp_install_flags(const struct sb_seccomp_prog *prog, unsigned int flags)
{
        if (!prog || !prog->insns || prog->len == 0)
                return -EINVAL;
        struct sock_fprog fprog = {.len = prog->len, .filter = prog->insns};
        /* Raw syscall, not seccomp_load(): no allocation between clone and
         * exec, and the program is already compiled. */
        long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
        if (rc < 0)
                return -errno;
        return (int)rc;
}

int sb_seccomp_install(const struct sb_seccomp_prog *prog)
{
        return sb_seccomp_install_flags(prog, 0);
}
