/* bench-store: the package store's install against plain `tar -x`.
 *
 * One package of FILES files (SIZE KiB each, half-compressible content) in a
 * shared archive plus a small archive of its own is built, signed and
 * published with slicectl into a file:// repository. Each round then, in a
 * rotating order:
 *   store    slicectl pkg install --store NEW: metadata refresh, signature
 *            and hash checks, secure unpack, fsync of every file, generation
 *   tar      tar --zstd -xf of the same archives into a fresh directory
 *   tar+sync the same, then `sync -f` on it (tar does not fsync; the store does)
 * and prints the medians, the throughput of the content and the ratios.
 * The aim: store >= 0.8 x tar.
 *
 * Then the bytes written for a second package that shares the big archive:
 * installed into a store that has the first package, against into an empty
 * store, read from /proc/PID/io (write_bytes: what reached the block layer,
 * and wchar) before the child is reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/bench_util.h"

extern char **environ;

struct io_use {
        uint64_t write_bytes, wchar;
};

static char tmp[] = "/tmp/bench-store-XXXXXX";
static const char *slicectl;

/* Run argv with stdio on /dev/null (stderr kept when verbose); wait; the
 * child's /proc/PID/io is read before it is reaped. 0 on exit status 0. */
static int run(char *const argv[], struct io_use *io)
{
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        pid_t pid;
        int e = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (e) {
                fprintf(stderr, "bench-store: spawn %s: %s\n", argv[0], strerror(e));
                return -1;
        }
        siginfo_t si;
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) < 0)
                return -1;
        if (io) {
                char path[64], line[128];
                snprintf(path, sizeof path, "/proc/%d/io", (int)pid);
                FILE *f = fopen(path, "re");
                memset(io, 0, sizeof *io);
                while (f && fgets(line, sizeof line, f)) {
                        sscanf(line, "write_bytes: %" SCNu64, &io->write_bytes);
                        sscanf(line, "wchar: %" SCNu64, &io->wchar);
                }
                if (f)
                        fclose(f);
        }
        int status;
        waitpid(pid, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status)) {
                fprintf(stderr, "bench-store: `%s %s` failed (status %d)\n", argv[0],
                        argv[1] ? argv[1] : "", status);
                return -1;
        }
        return 0;
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
        char cmd[8192];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(cmd, sizeof cmd, fmt, ap);
        va_end(ap);
        char *argv[] = {"/bin/sh", "-ec", cmd, NULL};
        return run(argv, NULL);
}

/* Content that compresses about 2:1, like binaries and data files do. */
static int make_content(const char *dir, int files, int kib)
{
        char path[4096];
        unsigned seed = 12345;
        char *buf = malloc((size_t)kib * 1024);
        if (!buf)
                return -1;
        for (int i = 0; i < files; i++) {
                snprintf(path, sizeof path, "%s/d%02d", dir, i % 64);
                mkdir(path, 0755);
                snprintf(path, sizeof path, "%s/d%02d/f%05d", dir, i % 64, i);
                for (int k = 0; k < kib * 1024; k++)
                        buf[k] = (char)((k & 1) ? (rand_r(&seed) & 0xff) : 'a' + (k & 15));
                int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || write(fd, buf, (size_t)kib * 1024) != kib * 1024) {
                        free(buf);
                        return -1;
                }
                close(fd);
        }
        free(buf);
        return 0;
}

static double median(double *v, int n)
{
        qsort(v, (size_t)n, sizeof *v, bu_cmp_double);
        return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void cleanup(void)
{
        nftw(tmp, bu_rm_entry, 64, FTW_DEPTH | FTW_PHYS);
}

static int install(const char *store, const char *spec, struct io_use *io)
{
        char repo[512], root[512];
        snprintf(repo, sizeof repo, "file://%s/repo", tmp);
        snprintf(root, sizeof root, "%s/repo/root/1.json", tmp);
        char *argv[] = {(char *)slicectl, "pkg",         "install",    "--no-progress",
                        "--store",        (char *)store, "--repo",     repo,
                        "--root",         root,          (char *)spec, NULL};
        return run(argv, io);
}

int main(int argc, char **argv)
{
        int rounds = 5, files = 2000, kib = 16, c;
        while ((c = getopt(argc, argv, "n:w:c:f:s:h")) != -1) {
                switch (c) {
                case 'n': rounds = atoi(optarg); break;
                case 'f': files = atoi(optarg); break;
                case 's': kib = atoi(optarg); break;
                case 'w':
                case 'c': break; /* run-all.sh passes these to every benchmark */
                default:
                        fprintf(stderr, "Usage: bench-store [-n ROUNDS] [-f FILES] [-s KIB]\n");
                        return c == 'h' ? 0 : 2;
                }
        }
        if (rounds < 1 || rounds > 1000)
                rounds = 5;
        slicectl = bu_find_prog(NULL, "SLICECTL", "../src/cli/slicectl", "slicectl");
        if (!slicectl || !mkdtemp(tmp)) {
                fprintf(stderr, "bench-store: no slicectl or no temp dir\n");
                return 1;
        }
        atexit(cleanup);
        char dir[600];
        snprintf(dir, sizeof dir, "%s/pkga/big", tmp);
        if (sh("mkdir -p %s/pkga/big %s/pkga/own/a %s/pkgb/own/b %s/keys", tmp, tmp, tmp, tmp) ||
            make_content(dir, files, kib) ||
            sh("cd %s && cp -a pkga/big pkgb/big && echo a > pkga/own/a/x && echo b > "
               "pkgb/own/b/x && for p in a b; do printf '{\"name\": \"%%s\", \"version\": "
               "\"1.0\", \"dependencies\": [], \"archives\": [\"own\", \"big\"]}' pkg$p > "
               "pkg$p/package.json; done",
               tmp))
                return 1;
        if (sh("cd %s && S=%s && $S key gen keys/k >/dev/null && $S pkg build pkga -o out && "
               "$S pkg build pkgb -o out && $S pkg sign --key keys/k.key out/pkga@1.0.pkg "
               "out/pkgb@1.0.pkg && $S repo init repo --key root=keys/k.key --key "
               "targets=keys/k.key --key snapshot=keys/k.key --key timestamp=keys/k.key && $S "
               "repo add repo --key targets=keys/k.key --key snapshot=keys/k.key --key "
               "timestamp=keys/k.key out/pkga@1.0.pkg out/pkgb@1.0.pkg",
               tmp, slicectl))
                return 1;
        double content_mb = (double)files * kib / 1024.0;
        printf("bench-store: %d files x %d KiB = %.1f MiB in 2 archives, %d rounds\n", files, kib,
               content_mb, rounds);

        double *t_store = calloc((size_t)rounds, sizeof(double));
        double *t_tar = calloc((size_t)rounds, sizeof(double));
        double *t_sync = calloc((size_t)rounds, sizeof(double));
        for (int r = 0; r < rounds; r++) {
                for (int k = 0; k < 3; k++) {
                        int which = (r + k) % 3;
                        char target[600];
                        snprintf(target, sizeof target, "%s/round%d-%d", tmp, r, which);
                        double t0 = bu_now_ms();
                        int rc;
                        if (which == 0)
                                rc = install(target, "pkga@1.0", NULL);
                        else
                                rc = sh("mkdir -p %s && for a in %s/out/archives/*.tar.zst; do tar "
                                        "--zstd -xf $a -C %s; done%s%s",
                                        target, tmp, target, which == 2 ? " && sync -f " : "",
                                        which == 2 ? target : "");
                        double dt = bu_now_ms() - t0;
                        if (rc)
                                return 1;
                        (which == 0 ? t_store : which == 1 ? t_tar : t_sync)[r] = dt;
                        sh("chmod -R u+w %s && rm -rf %s", target, target);
                }
        }
        double ms = median(t_store, rounds), mt = median(t_tar, rounds),
               mts = median(t_sync, rounds);
        printf("  %-9s median %8.1f ms  %7.1f MiB/s\n", "store", ms, content_mb / ms * 1000);
        printf("  %-9s median %8.1f ms  %7.1f MiB/s\n", "tar", mt, content_mb / mt * 1000);
        printf("  %-9s median %8.1f ms  %7.1f MiB/s\n", "tar+sync", mts, content_mb / mts * 1000);
        printf("  throughput store/tar %.2fx, store/(tar+sync) %.2fx; aim (store >= 0.8 x tar): "
               "%s\n",
               mt / ms, mts / ms, mt / ms >= 0.8 ? "met" : "NOT met");

        /* Bytes written for package b, sharing the big archive with a. */
        char shared[600], empty[600];
        snprintf(shared, sizeof shared, "%s/shared", tmp);
        snprintf(empty, sizeof empty, "%s/empty", tmp);
        struct io_use io_shared, io_empty;
        if (install(shared, "pkga@1.0", NULL) || install(shared, "pkgb@1.0", &io_shared) ||
            install(empty, "pkgb@1.0", &io_empty))
                return 1;
        printf("  second package sharing its big archive: wrote %.1f KiB (wchar %.1f KiB); "
               "into an empty store: %.1f KiB (wchar %.1f KiB)\n",
               io_shared.write_bytes / 1024.0, io_shared.wchar / 1024.0,
               io_empty.write_bytes / 1024.0, io_empty.wchar / 1024.0);
        free(t_store);
        free(t_tar);
        free(t_sync);
        return 0;
}
