/* Helpers every benchmark shares: clocks, finding the programs under test,
 * and removing what a killed sliced leaves behind. */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>

double bu_now_ms(void); /* CLOCK_MONOTONIC */
void bu_sleep_ms(double ms);
int bu_cmp_double(const void *a, const void *b); /* qsort, ascending */

/* prog itself if it contains a '/', else the first executable of that name
 * in PATH; malloc'd absolute path, or NULL. */
char *bu_which(const char *prog);

/* A program under test: opt if given, else $env, else build_rel relative to
 * this benchmark's own directory (build/bench/...), else name in PATH. */
char *bu_find_prog(const char *opt, const char *env, const char *build_rel, const char *name);

/* rm -r for nftw(..., FTW_DEPTH | FTW_PHYS). */
struct stat;
struct FTW;
int bu_rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw);

/* rmdir a cgroup tree, deepest first (cgroupfs has no files to unlink). */
void bu_rmdir_tree(const char *dir, int depth);

/* Remove <hierarchy>/<base> under /sys/fs/cgroup for every hierarchy (and
 * the unified root): what a SIGKILLed sliced could not. Returns how many
 * there were. base "" does nothing. */
int bu_remove_cgroups(const char *base);

#endif
