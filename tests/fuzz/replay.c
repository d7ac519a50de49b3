/* Runs the fuzz target over files without libFuzzer, so the seed corpus is
 * checked in every build: each seed must go through the target without a
 * crash, and must decode (seeds are valid messages) unless its name starts
 * with "bad-".
 *
 * Usage: fuzz_parent_decode_replay DIR|FILE...
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/parentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path, const char *name)
{
        static uint8_t buf[SL_PP_DATAGRAM_MAX + 4096];
        FILE *f = fopen(path, "rb");
        if (!f) {
                perror(path);
                return 1;
        }
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        LLVMFuzzerTestOneInput(buf, n);
        if (strncmp(name, "bad-", 4) == 0 || n == 0)
                return 0;
        sl_pp_envelope *m;
        struct sl_error err;
        if (sl_pp_decode(buf + 1, n - 1, buf[0] % (SL_PP_FDS_MAX + 2), &m, &err) < 0) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                return 1;
        }
        sl_pp_free(m);
        return 0;
}

int main(int argc, char **argv)
{
        int failed = 0, seen = 0;
        for (int i = 1; i < argc; i++) {
                DIR *d = opendir(argv[i]);
                if (!d) {
                        const char *base = strrchr(argv[i], '/');
                        failed |= run_file(argv[i], base ? base + 1 : argv[i]);
                        seen++;
                        continue;
                }
                for (struct dirent *e; (e = readdir(d));) {
                        if (e->d_name[0] == '.')
                                continue;
                        char path[4096];
                        snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
                        failed |= run_file(path, e->d_name);
                        seen++;
                }
                closedir(d);
        }
        printf("%d inputs, %s\n", seen, failed ? "FAILED" : "ok");
        return failed || seen == 0;
}
