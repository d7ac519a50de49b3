/* The 1-byte request/response of bench-session, shared by every variant so
 * that all of them run the same instructions and system calls:
 *
 *   client  pp_round(): write 1 byte, read 1 byte back (blocking socket),
 *           timed on CLOCK_MONOTONIC (vDSO: no system call)
 *   server  epoll_wait on its fds, then pp_echo(): read what is there, write
 *           it back
 *
 * Used by bench/slices/session/main.c (the client and server slices) and by
 * bench/session.c (two plain processes outside sliced). Header-only: the
 * two are separate programs.
 */
#ifndef BENCH_PINGPONG_H
#define BENCH_PINGPONG_H

#include <errno.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

static inline double pp_now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One round trip on fd; *us gets its wall time. Returns 0, or -1 (errno
 * set; EPIPE when the peer closed). */
static inline int pp_round(int fd, double *us)
{
        char c = 'p';
        double t0 = pp_now_us();
        ssize_t n;
        while ((n = write(fd, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1)
                return -1;
        while ((n = read(fd, &c, 1)) < 0 && errno == EINTR)
                ;
        if (n != 1) {
                if (n == 0)
                        errno = EPIPE;
                return -1;
        }
        *us = pp_now_us() - t0;
        return 0;
}

/* Answer what arrived on a readable fd. Returns 0, or -1 at EOF or on an
 * error (the caller drops the fd). */
static inline int pp_echo(int fd)
{
        char buf[64];
        ssize_t n;
        while ((n = read(fd, buf, sizeof buf)) < 0 && errno == EINTR)
                ;
        if (n <= 0)
                return -1;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(fd, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                off += w;
        }
        return 0;
}

/* Summary of samples (sorts them). p90 by nearest rank. */
struct pp_stats {
        int n;
        double median, p90, min, mean;
};

/* Heapsort, ascending. Not qsort(): glibc's qsort of more than 1 KiB asks
 * sysinfo() for the machine's memory (to choose a merge buffer), and
 * strict-tight kills the process for sysinfo. */
static inline void pp_sift(double *v, size_t root, size_t n)
{
        for (;;) {
                size_t child = 2 * root + 1;
                if (child >= n)
                        return;
                if (child + 1 < n && v[child + 1] > v[child])
                        child++;
                if (v[root] >= v[child])
                        return;
                double t = v[root];
                v[root] = v[child];
                v[child] = t;
                root = child;
        }
}

static inline void pp_sort(double *v, size_t n)
{
        for (size_t i = n / 2; i-- > 0;)
                pp_sift(v, i, n);
        for (size_t end = n; end-- > 1;) {
                double t = v[0];
                v[0] = v[end];
                v[end] = t;
                pp_sift(v, 0, end);
        }
}

static inline struct pp_stats pp_summarize(double *v, int n)
{
        struct pp_stats s = {.n = n};
        if (n <= 0)
                return s;
        pp_sort(v, (size_t)n);
        double sum = 0;
        for (int i = 0; i < n; i++)
                sum += v[i];
        s.min = v[0];
        s.median = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        int k = (9 * n + 9) / 10 - 1; /* ceil(0.9 n) - 1 */
        s.p90 = v[k < 0 ? 0 : k];
        s.mean = sum / n;
        return s;
}

#endif
