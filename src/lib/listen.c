#include "lib/listen.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib/cleanup.h"

/* A socket file nobody listens on is what a killed owner leaves behind:
 * remove it, as systemd does for socket units. A live one is left alone and
 * bind() reports it in use. */
static void remove_stale_socket(const struct sockaddr_un *sa)
{
        struct stat st;
        if (lstat(sa->sun_path, &st) < 0 || !S_ISSOCK(st.st_mode))
                return;
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (probe < 0)
                return;
        if (connect(probe, (const struct sockaddr *)sa, sizeof *sa) < 0 && errno == ECONNREFUSED)
                unlink(sa->sun_path);
        close(probe);
}

static int open_unix(const char *spec, const char *path, struct sl_error *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (!*path || strlen(path) >= sizeof sa.sun_path)
                return sl_error_set(err, EINVAL,
                                    "listen '%s': unix socket path is empty or too long", spec);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return sl_error_errno(err, "listen '%s': socket", spec);
        remove_stale_socket(&sa);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
                return sl_error_errno(err, "listen '%s': bind", spec);
        if (listen(fd, SL_LISTEN_BACKLOG) < 0)
                return sl_error_errno(err, "listen '%s'", spec);
        return sl_steal_fd(&fd);
}

static int open_tcp(const char *spec, const char *hostport, struct sl_error *err)
{
        char host[256];
        const char *port;
        if (hostport[0] == '[') {
                const char *end = strchr(hostport, ']');
                if (!end || end[1] != ':')
                        return sl_error_set(err, EINVAL, "listen '%s': expected tcp:[ADDR]:PORT",
                                            spec);
                snprintf(host, sizeof host, "%.*s", (int)(end - hostport - 1), hostport + 1);
                port = end + 2;
        } else {
                const char *colon = strrchr(hostport, ':');
                if (!colon)
                        return sl_error_set(err, EINVAL, "listen '%s': expected tcp:HOST:PORT",
                                            spec);
                snprintf(host, sizeof host, "%.*s", (int)(colon - hostport), hostport);
                port = colon + 1;
        }
        if (!*port)
                return sl_error_set(err, EINVAL, "listen '%s': missing port", spec);
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
        struct addrinfo *res = NULL;
        int gr = getaddrinfo(*host ? host : NULL, port, &hints, &res);
        if (gr != 0)
                return sl_error_set(err, 0, "listen '%s': %s", spec, gai_strerror(gr));
        int fd = -1, e = 0;
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
                fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
                if (fd < 0) {
                        e = errno;
                        continue;
                }
                int one = 1;
                /* restartable services rebind while old connections linger */
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
                if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
                    listen(fd, SL_LISTEN_BACKLOG) < 0) {
                        e = errno;
                        close(fd);
                        fd = -1;
                }
        }
        freeaddrinfo(res);
        if (fd < 0)
                return sl_error_set(err, e, "listen '%s'", spec);
        return fd;
}

int sl_listen_open(const char *spec, char name[SL_LISTEN_NAME_MAX], struct sl_error *err)
{
        const char *addr = spec;
        const char *eq = strchr(spec, '=');
        snprintf(name, SL_LISTEN_NAME_MAX, "listen");
        if (eq) {
                size_t n = (size_t)(eq - spec);
                if (n == 0 || n >= SL_LISTEN_NAME_MAX || memchr(spec, ':', n))
                        return sl_error_set(err, EINVAL,
                                            "listen '%s': NAME must be 1-63 characters without ':'",
                                            spec);
                snprintf(name, SL_LISTEN_NAME_MAX, "%.*s", (int)n, spec);
                addr = eq + 1;
        }
        if (!strncmp(addr, "tcp:", 4))
                return open_tcp(spec, addr + 4, err);
        if (!strncmp(addr, "unix:", 5))
                return open_unix(spec, addr + 5, err);
        return sl_error_set(err, EINVAL, "listen '%s': expected tcp:HOST:PORT or unix:PATH", spec);
}
