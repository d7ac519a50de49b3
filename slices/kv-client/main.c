/* kv-client — a native slice that opens a `kv` session, stores a value and
 * reads it back.
 *
 *     kv-client KEY VALUE
 *
 * Prints each request and its answer ("PUT greeting: OK", "GET greeting: OK
 * hello") and exits 0 when both were answered OK and the value came back as
 * stored, 1 otherwise (including a refused session: the reason is printed).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <slice/slice.h>

/* How long to wait for the supervisor to route the session, and for kv to
 * answer one request. */
#define OPEN_TIMEOUT_MS  10000
#define REPLY_TIMEOUT_MS 5000
#define LINE_MAX_        4096

/* Send one request line and read one answer line into buf. */
static int ask(int fd, const char *req, char *buf, size_t len)
{
        size_t n = strlen(req);
        for (size_t off = 0; off < n;) {
                ssize_t w = write(fd, req + off, n - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                off += (size_t)w;
        }
        size_t got = 0;
        while (got + 1 < len) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, REPLY_TIMEOUT_MS) <= 0)
                        return -1;
                ssize_t r = read(fd, buf + got, 1); /* one line per request: stop at '\n' */
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        return -1;
                if (buf[got] == '\n')
                        break;
                got++;
        }
        buf[got] = '\0';
        return 0;
}

int main(int argc, char **argv)
{
        if (argc != 3 || !*argv[1] || strpbrk(argv[1], " \t\r\n") || strpbrk(argv[2], "\r\n")) {
                fprintf(stderr,
                        "usage: kv-client KEY VALUE (KEY without blanks, VALUE one line)\n");
                return 1;
        }
        const char *key = argv[1], *value = argv[2];
        struct sl_slice *sl;
        char msg[SL_MSG_MAX];
        if (sl_init(&sl, msg, sizeof msg) < 0) {
                fprintf(stderr, "kv-client: %s\n", msg);
                return 1;
        }
        int fd;
        uint64_t id;
        int rc = sl_session_open(sl, "kv", NULL, 0, 0, OPEN_TIMEOUT_MS, &fd, &id, msg, sizeof msg);
        if (rc < 0) {
                fprintf(stderr, "kv-client: session to kv: %s\n", msg);
                sl_free(sl);
                return 1;
        }

        char req[LINE_MAX_ + 16], put[LINE_MAX_], get[LINE_MAX_];
        snprintf(req, sizeof req, "PUT %s %s\n", key, value);
        int put_ok = ask(fd, req, put, sizeof put) == 0;
        printf("PUT %s: %s\n", key, put_ok ? put : "(no answer)");
        snprintf(req, sizeof req, "GET %s\n", key);
        int get_ok = ask(fd, req, get, sizeof get) == 0;
        printf("GET %s: %s\n", key, get_ok ? get : "(no answer)");

        char want[LINE_MAX_ + 4];
        snprintf(want, sizeof want, "OK %s", value);
        int good = put_ok && get_ok && !strcmp(put, "OK") && !strcmp(get, want);

        sl_session_close(sl, id);
        close(fd);
        sl_free(sl);
        return good ? 0 : 1;
}
