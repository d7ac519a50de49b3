/* Crash safety of the local store: SIGKILL a writer at random points of
 * gc + install/remove, 100 times, and check after each kill that the store
 * verifies clean (with the leftovers still there, and again after a writer
 * swept them) and that the active generation is the old or the new one,
 * never a mix (docs/store.md: "Until the last rename the old generation is
 * the active one").
 *
 * The kill delay is uniform in [0, T] where T is the duration of the same
 * operation measured uninterrupted, so kills land anywhere across it:
 * opening and sweeping, gc, fetching, unpacking, fsyncs, the switch.
 * SLICED_FAULT_SEED=N repeats a run. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/local.h"
#include "support/store_local_fixtures.h"

#define ITERATIONS 100
/* Files per archive and archives per package: enough that unpacking and
 * its fsyncs take a visible share of the operation, small enough that
 * 100 iterations stay within seconds. */
#define FILES_PER_ARCHIVE 6
#define ARCHIVES_PER_PKG  3
#define CALIBRATION_RUNS  5

struct op {
        const char *spec;
        int install; /* else remove */
        const char *after;
};

/* Every operation changes the generation. */
static const struct op ops[] = {
    {"B@1", 1, "A@1 B@1"},
    {"B", 0, "A@1"},
    {"B@2", 1, "A@1 B@2"},
    {"B", 0, "A@1"},
};
#define N_OPS (sizeof ops / sizeof *ops)

struct f {
        char dir[PATH_MAX / 2];
        char store[PATH_MAX / 2 + 8];
        struct fx_repo repo;
        struct st_source src;
};

static void add_package(struct f *f, const char *name, const char *version, int n_archives)
{
        char hashes[ARCHIVES_PER_PKG][ST_HASH_HEX];
        const char *list[ARCHIVES_PER_PKG + 1] = {0};
        for (int a = 0; a < n_archives; a++) {
                char paths[FILES_PER_ARCHIVE + 1][64], data[FILES_PER_ARCHIVE][64];
                struct fx_file files[FILES_PER_ARCHIVE + 2] = {{0}};
                snprintf(paths[0], sizeof paths[0], "%s-%d", name, a);
                files[0] = (struct fx_file){paths[0], 'd', 0755, NULL};
                for (int i = 0; i < FILES_PER_ARCHIVE; i++) {
                        snprintf(paths[i + 1], sizeof paths[i + 1], "%s-%d/file%d", name, a, i);
                        snprintf(data[i], sizeof data[i], "%s@%s archive %d file %d\n", name,
                                 version, a, i);
                        files[i + 1] = (struct fx_file){paths[i + 1], 'f', 0644, data[i]};
                }
                assert_int_equal(fx_repo_add_archive(&f->repo, files, hashes[a]), 0);
                list[a] = hashes[a];
        }
        assert_int_equal(fx_repo_add_package(&f->repo, name, version, list, NULL, NULL), 0);
}

static int setup(void **state)
{
        struct f *f = calloc(1, sizeof *f);
        if (!f || fx_mkdtemp("test_store_faults", f->dir, sizeof f->dir) < 0)
                return -1;
        snprintf(f->store, sizeof f->store, "%s/store", f->dir);
        add_package(f, "A", "1", 2);
        add_package(f, "B", "1", ARCHIVES_PER_PKG);
        add_package(f, "B", "2", ARCHIVES_PER_PKG);
        f->src = fx_repo_source(&f->repo);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct f *f = *state;
        fx_rm_rf(f->dir);
        fx_repo_free(&f->repo);
        free(f);
        return 0;
}

/* In the child: gc (so installs fetch and unpack again), then the op. */
static int run_op(struct f *f, const struct op *op)
{
        struct st_store *s;
        struct sl_error err = {0};
        struct st_gc_report rep;
        uint64_t gen;
        int r = st_store_open(f->store, ST_WRITE, &s, &err);
        if (r == 0) {
                r = st_store_gc(s, 1, &rep, &err);
                if (r == 0 && op->install)
                        r = st_store_install(s, &f->src, &op->spec, 1, &gen, &err);
                else if (r == 0)
                        r = st_store_remove(s, &op->spec, 1, &gen, &err);
                st_store_close(s);
        }
        if (r < 0)
                fprintf(stderr, "%s %s: %s\n", op->install ? "install" : "remove", op->spec,
                        err.msg);
        return r;
}

static int u64_cmp(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return x < y ? -1 : x > y;
}

/* What a kill interrupted, judged by the leftovers it left. */
enum stage { IN_FETCH, IN_UNPACK, IN_GC, IN_WRITE, IN_SWITCH, N_STAGES };
static const char *const stage_names[] = {"a download", "an unpack", "a gc removal",
                                          "an atomic write", "the switch of current"};

static void note_leftovers(const char *store, size_t seen[N_STAGES])
{
        static const char *const dirs[] = {"tmp",      "trees",       "archives",
                                           "packages", "generations", "."};
        int hit[N_STAGES] = {0};
        for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/%s", store, dirs[i]);
                DIR *d = opendir(p);
                struct dirent *de;
                while (d && (de = readdir(d))) {
                        const char *n = de->d_name;
                        if (i == 0 && strncmp(n, "archive-", 8) == 0)
                                hit[IN_FETCH] = 1;
                        else if (strstr(n, ".tmp-unpack"))
                                hit[IN_UNPACK] = 1;
                        else if (strstr(n, ".tmp-rm-"))
                                hit[IN_GC] = 1;
                        else if (strncmp(n, "current.tmp-", 12) == 0)
                                hit[IN_SWITCH] = 1;
                        else if (strstr(n, ".tmp-"))
                                hit[IN_WRITE] = 1;
                }
                if (d)
                        closedir(d);
        }
        for (int i = 0; i < N_STAGES; i++)
                seen[i] += (size_t)hit[i];
}

static uint64_t now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Fork a child running op; SIGKILL it after delay_us (UINT64_MAX: let it
 * finish). Returns 1 when the child had already finished on its own. */
static int run_child(struct f *f, const struct op *op, uint64_t delay_us)
{
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(run_op(f, op) < 0 ? 1 : 0);
        if (delay_us != UINT64_MAX) {
                struct timespec ts = {.tv_sec = (time_t)(delay_us / 1000000u),
                                      .tv_nsec = (long)(delay_us % 1000000u) * 1000};
                while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                        ;
                kill(pid, SIGKILL);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                assert_int_equal(errno, EINTR);
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                fail_msg("the child failed on its own: %s %s", op->install ? "install" : "remove",
                         op->spec);
        return WIFEXITED(status);
}

static void current_names(struct f *f, enum st_open_mode mode, char *out, size_t cap)
{
        struct st_store *s;
        struct st_generation g;
        struct sl_error err = {0};
        if (st_store_open(f->store, mode, &s, &err) < 0 || st_store_current(s, &g, &err) < 0)
                fail_msg("current: %s", err.msg);
        fx_gen_names(&g, out, cap);
        st_generation_free(&g);
        st_store_close(s);
}

static void assert_verify_clean(struct f *f, const char *when, int iteration)
{
        struct st_store *s;
        struct st_verify_report rep;
        struct sl_error err = {0};
        if (st_store_open(f->store, ST_READ, &s, &err) < 0 || st_store_verify(s, &rep, &err) < 0)
                fail_msg("verify: %s", err.msg);
        st_store_close(s);
        for (size_t i = 0; i < rep.n_problems; i++)
                print_error("  %s: %s\n", rep.problems[i].path, rep.problems[i].what);
        if (rep.n_problems)
                fail_msg("iteration %d, %s: %zu problems", iteration, when, rep.n_problems);
        st_verify_report_free(&rep);
}

static void test_sigkill_at_any_point_leaves_the_old_or_the_new_generation(void **state)
{
        struct f *f = *state;
        const char *env = getenv("SLICED_FAULT_SEED");
        unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)(time(NULL) ^ getpid());
        srand48(seed);
        print_message("seed %u (SLICED_FAULT_SEED)\n", seed);

        const struct op base = {"A@1", 1, "A@1"};
        run_child(f, &base, UINT64_MAX);
        /* Calibrate: each operation uninterrupted, the median of a few runs
         * (fsync times vary from run to run). */
        uint64_t t_us[N_OPS], runs[N_OPS][CALIBRATION_RUNS];
        for (int r = 0; r < CALIBRATION_RUNS; r++)
                for (size_t k = 0; k < N_OPS; k++) {
                        uint64_t t0 = now_us();
                        run_child(f, &ops[k], UINT64_MAX);
                        runs[k][r] = now_us() - t0;
                }
        for (size_t k = 0; k < N_OPS; k++) {
                qsort(runs[k], CALIBRATION_RUNS, sizeof runs[k][0], u64_cmp);
                t_us[k] = runs[k][CALIBRATION_RUNS / 2];
                print_message("uninterrupted %s %s: %llu us\n",
                              ops[k].install ? "install" : "remove", ops[k].spec,
                              (unsigned long long)t_us[k]);
        }
        size_t k = 0, before = 0, after = 0, finished = 0, seen[N_STAGES] = {0};
        uint64_t t_start = now_us();
        for (int i = 0; i < ITERATIONS; i++) {
                char old[256], got[256];
                current_names(f, ST_READ, old, sizeof old);
                uint64_t delay = (uint64_t)(drand48() * (double)t_us[k]);
                int done = run_child(f, &ops[k], delay);
                note_leftovers(f->store, seen);
                /* Leftovers still there: verify must not count them. */
                assert_verify_clean(f, "after the kill", i);
                current_names(f, ST_READ, got, sizeof got);
                if (strcmp(got, ops[k].after) == 0) {
                        after++;
                        finished += (size_t)done;
                        k = (k + 1) % N_OPS;
                } else if (strcmp(got, old) == 0) {
                        before++;
                } else {
                        fail_msg("iteration %d: active generation holds `%s`, neither the old "
                                 "`%s` nor the new `%s`",
                                 i, got, old, ops[k].after);
                }
                /* A writer sweeps the leftovers; the store stays as it was. */
                char swept[256];
                current_names(f, ST_WRITE, swept, sizeof swept);
                assert_string_equal(swept, got);
                assert_verify_clean(f, "after the sweep", i);
        }
        print_message("%d kills: %zu before the commit point, %zu after it (%zu of these after "
                      "the child had finished); %.1f s\n",
                      ITERATIONS, before, after, finished, (double)(now_us() - t_start) / 1e6);
        for (int i = 0; i < N_STAGES; i++)
                print_message("  killed inside %s: %zu\n", stage_names[i], seen[i]);
        assert_true(before > 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(
                test_sigkill_at_any_point_leaves_the_old_or_the_new_generation, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
