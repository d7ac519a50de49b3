#include "bench_util.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double bu_now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void bu_sleep_ms(double ms)
{
        struct timespec ts = {.tv_sec = (time_t)(ms / 1e3),
                              .tv_nsec = (long)((ms - (double)(time_t)(ms / 1e3) * 1e3) * 1e6)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int bu_cmp_double(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

char *bu_which(const char *prog)
{
        if (strchr(prog, '/'))
                return access(prog, X_OK) == 0 ? realpath(prog, NULL) : NULL;
        const char *path = getenv("PATH");
        if (!path)
                path = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
        char buf[PATH_MAX];
        while (*path) {
                size_t n = strcspn(path, ":");
                if (n &&
                    (size_t)snprintf(buf, sizeof buf, "%.*s/%s", (int)n, path, prog) < sizeof buf &&
                    access(buf, X_OK) == 0)
                        return strdup(buf);
                path += n + (path[n] == ':');
        }
        return NULL;
}

char *bu_find_prog(const char *opt, const char *env, const char *build_rel, const char *name)
{
        if (opt)
                return bu_which(opt);
        const char *e = getenv(env);
        if (e && *e)
                return bu_which(e);
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash) {
                        *slash = '\0';
                        char cand[PATH_MAX + 64];
                        snprintf(cand, sizeof cand, "%s/%s", self, build_rel);
                        if (access(cand, X_OK) == 0)
                                return realpath(cand, NULL);
                }
        }
        return bu_which(name);
}

int bu_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        remove(path);
        return 0;
}

void bu_rmdir_tree(const char *dir, int depth)
{
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d))) {
                        if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") ||
                            !strcmp(e->d_name, ".."))
                                continue;
                        char sub[PATH_MAX];
                        if (depth < 20 &&
                            (size_t)snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) < sizeof sub)
                                bu_rmdir_tree(sub, depth + 1);
                }
                closedir(d);
        }
        rmdir(dir);
}

int bu_remove_cgroups(const char *base)
{
        if (!base || !base[0])
                return 0;
        int found = 0;
        char p[PATH_MAX];
        DIR *d = opendir("/sys/fs/cgroup");
        if (d) {
                struct dirent *e;
                while ((e = readdir(d))) {
                        if (e->d_name[0] == '.')
                                continue;
                        snprintf(p, sizeof p, "/sys/fs/cgroup/%s/%s", e->d_name, base);
                        if (access(p, F_OK) == 0) {
                                found++;
                                bu_rmdir_tree(p, 0);
                        }
                }
                closedir(d);
        }
        /* a pure v2 host: the base is right under the root */
        snprintf(p, sizeof p, "/sys/fs/cgroup/%s", base);
        if (access(p, F_OK) == 0) {
                found++;
                bu_rmdir_tree(p, 0);
        }
        return found;
}
