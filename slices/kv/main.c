/* kv — an in-memory key-value server, a native slice.
 *
 * Announces the service `kv`. Each session is a stream socket speaking one
 * request per line:
 *
 *     GET key          -> OK value     | ERR no such key
 *     PUT key value    -> OK           | ERR read-only | ERR full
 *     DEL key          -> OK           | ERR no such key | ERR read-only
 *
 * Keys are 1-255 bytes without blanks; a value is the rest of the line.
 * Policy by label (set by the supervisor, so unforgeable): a client whose
 * label ends in ":rw" may write, any other reads only.
 *
 * One thread, one epoll set over the parent channel and the session
 * sockets, all non-blocking: a client that stops reading its answers is
 * stopped being read from (its output is bounded), never waited for.
 * Runs under `strict-tight` from main() on: it creates nothing but session
 * socketpairs and opens nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <slice/slice.h>

#include "store.h"

#define KV_MAX_SESSIONS 64
/* A request line, newline included: "PUT " + key + " " + value + "\n". */
#define KV_LINE_MAX 4096
/* Answers queued for one client before kv stops reading its requests. */
#define KV_OUT_MAX (64 * 1024)
#define KV_EVENTS  32

enum kv_access { KV_READ = 1, KV_WRITE = 2 };

/* Most specific rule wins; anything unlisted reads only. */
static const struct sl_label_rule kv_policy[] = {
    {NULL, ":rw", KV_WRITE},
    {NULL, ":ro", KV_READ},
};

struct session {
        int fd;
        uint64_t id;
        enum kv_access access;
        char label[SL_LABEL_MAX + 1];
        char in[KV_LINE_MAX];
        size_t nin;
        char *out;
        size_t nout;
        bool reading;         /* EPOLLIN armed */
        struct session *dead; /* ended in this batch of events; freed after it */
};

struct kv {
        struct sl_slice *sl;
        int ep;
        struct kv_store store;
        struct session *sessions[KV_MAX_SESSIONS];
        size_t nsessions;
        struct session *dead; /* ended, still named by events of this batch */
};

/* ---- sessions ------------------------------------------------------------- */

static void report(struct kv *kv)
{
        char json[128];
        snprintf(json, sizeof json, "{\"sessions\":%zu,\"keys\":%zu,\"bytes\":%zu}", kv->nsessions,
                 kv->store.entries, kv->store.bytes);
        sl_report(kv->sl, json);
}

static int slot_of(struct kv *kv, const struct session *s)
{
        for (int i = 0; i < KV_MAX_SESSIONS; i++)
                if (kv->sessions[i] == s)
                        return i;
        return -1;
}

/* End a session. tell: kv ends it (not the client or the supervisor), so
 * the supervisor must drop its duplicate of the client's end. */
static void session_end(struct kv *kv, struct session *s, bool tell, const char *why)
{
        sl_log(kv->sl, SL_LOG_INFO, "session %llu (%s) ends: %s", (unsigned long long)s->id,
               s->label, why);
        if (tell)
                sl_serve_close(kv->sl, s->id);
        close(s->fd); /* also leaves the epoll set */
        s->fd = -1;
        kv->sessions[slot_of(kv, s)] = NULL;
        kv->nsessions--;
        s->dead = kv->dead;
        kv->dead = s;
        report(kv);
}

static void arm(struct kv *kv, struct session *s)
{
        s->reading = s->nout < KV_OUT_MAX;
        struct epoll_event ev = {.events = (s->reading ? EPOLLIN : 0) | (s->nout ? EPOLLOUT : 0),
                                 .data.ptr = s};
        epoll_ctl(kv->ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Write what is queued. Returns -1 if the session is gone. */
static int flush(struct kv *kv, struct session *s)
{
        while (s->nout) {
                ssize_t n = write(s->fd, s->out, s->nout);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        session_end(kv, s, false, "the client stopped reading");
                        return -1;
                }
                memmove(s->out, s->out + n, s->nout - (size_t)n);
                s->nout -= (size_t)n;
        }
        arm(kv, s);
        return 0;
}

static void answer(struct session *s, const char *a, const char *b)
{
        size_t la = strlen(a), lb = b ? strlen(b) : 0;
        char *out = realloc(s->out, s->nout + la + lb + 2);
        if (!out)
                return; /* dropped; the client times out rather than kv dying */
        s->out = out;
        memcpy(s->out + s->nout, a, la);
        s->nout += la;
        if (b) {
                s->out[s->nout++] = ' ';
                memcpy(s->out + s->nout, b, lb);
                s->nout += lb;
        }
        s->out[s->nout++] = '\n';
}

/* ---- requests -------------------------------------------------------------- */

static void request(struct kv *kv, struct session *s, char *line)
{
        char *cmd = line, *key = strchr(line, ' '), *val = NULL;
        if (key) {
                *key++ = '\0';
                val = strchr(key, ' ');
                if (val)
                        *val++ = '\0';
        }
        bool get = !strcmp(cmd, "GET"), put = !strcmp(cmd, "PUT"), del = !strcmp(cmd, "DEL");
        if (!get && !put && !del) {
                answer(s, "ERR", "unknown command (GET, PUT, DEL)");
                return;
        }
        if (!key || !*key || (put ? !val : val != NULL)) {
                answer(s, "ERR", put ? "usage: PUT key value" : "usage: GET|DEL key");
                return;
        }
        if (get) {
                const char *v = kv_get(&kv->store, key);
                answer(s, v ? "OK" : "ERR", v ? v : "no such key");
                return;
        }
        if (s->access != KV_WRITE) {
                answer(s, "ERR", "read-only");
                return;
        }
        int rc = put ? kv_put(&kv->store, key, val) : kv_del(&kv->store, key);
        if (rc == -ENOENT)
                answer(s, "ERR", "no such key");
        else if (rc == -E2BIG)
                answer(s, "ERR", "full");
        else if (rc < 0)
                answer(s, "ERR", "out of memory");
        else
                answer(s, "OK", NULL);
}

/* Read what the client sent and answer every complete line. */
static void session_readable(struct kv *kv, struct session *s)
{
        for (;;) {
                ssize_t n = read(s->fd, s->in + s->nin, sizeof s->in - s->nin);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        session_end(kv, s, false, n == 0 ? "closed" : strerror(errno));
                        return;
                }
                s->nin += (size_t)n;
                char *start = s->in, *nl;
                while ((nl = memchr(start, '\n', s->nin - (size_t)(start - s->in)))) {
                        *nl = '\0';
                        if (nl > start && nl[-1] == '\r')
                                nl[-1] = '\0';
                        request(kv, s, start);
                        start = nl + 1;
                }
                s->nin -= (size_t)(start - s->in);
                memmove(s->in, start, s->nin);
                if (s->nin == sizeof s->in) {
                        answer(s, "ERR", "line too long");
                        if (flush(kv, s) == 0)
                                session_end(kv, s, true, "line too long");
                        return;
                }
                if (s->nout >= KV_OUT_MAX)
                        break; /* let the client catch up first */
        }
        flush(kv, s);
}

/* ---- serving ---------------------------------------------------------------- */

static int serve(void *ctx, uint64_t id, const char *client_label, const void *args, size_t len,
                 uint64_t memory, int *fd_out, char *reason, size_t reason_len)
{
        struct kv *kv = ctx;
        int i = slot_of(kv, NULL);
        if (i < 0) {
                snprintf(reason, reason_len, "kv: too many sessions (%d)", KV_MAX_SESSIONS);
                return -1;
        }
        struct session *s = calloc(1, sizeof *s);
        if (!s) {
                snprintf(reason, reason_len, "kv: out of memory");
                return -1;
        }
        int rc = sl_session_pair(&s->fd, fd_out);
        if (rc < 0) {
                snprintf(reason, reason_len, "kv: socketpair: %s", strerror(-rc));
                free(s);
                return -1;
        }
        s->id = id;
        s->access = sl_label_match(kv_policy, sizeof kv_policy / sizeof kv_policy[0], client_label,
                                   KV_READ);
        snprintf(s->label, sizeof s->label, "%s", client_label);
        fcntl(s->fd, F_SETFL, O_NONBLOCK); /* ours only: the client's end stays blocking */
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
        if (epoll_ctl(kv->ep, EPOLL_CTL_ADD, s->fd, &ev) < 0) {
                snprintf(reason, reason_len, "kv: epoll: %s", strerror(errno));
                close(s->fd);
                close(*fd_out);
                *fd_out = -1;
                free(s);
                return -1;
        }
        s->reading = true;
        kv->sessions[i] = s;
        kv->nsessions++;
        sl_log(kv->sl, SL_LOG_INFO, "session %llu for %s: %s", (unsigned long long)id, client_label,
               s->access == KV_WRITE ? "read-write" : "read-only");
        report(kv);
        return 0;
}

/* The supervisor ended a session we serve (client gone, route revoked). */
static void closed(void *ctx, uint64_t id, enum sl_role role, const char *reason)
{
        struct kv *kv = ctx;
        if (role != SL_ROLE_SERVER)
                return;
        for (int i = 0; i < KV_MAX_SESSIONS; i++)
                if (kv->sessions[i] && kv->sessions[i]->id == id) {
                        session_end(kv, kv->sessions[i], false, reason);
                        return;
                }
}

int main(void)
{
        static struct kv kv; /* the store's bucket array is large for a stack */
        char msg[SL_MSG_MAX];
        int rc = sl_init(&kv.sl, msg, sizeof msg);
        if (rc < 0) {
                fprintf(stderr, "kv: %s\n", msg);
                return 1;
        }
        kv.ep = epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
        if (kv.ep < 0 || epoll_ctl(kv.ep, EPOLL_CTL_ADD, sl_fd(kv.sl), &ev) < 0) {
                fprintf(stderr, "kv: epoll: %s\n", strerror(errno));
                return 1;
        }
        sl_on_session_closed(kv.sl, closed, &kv);
        if ((rc = sl_announce(kv.sl, "kv", serve, &kv)) < 0) {
                fprintf(stderr, "kv: announce: %s\n", sl_last_error(kv.sl));
                return 1;
        }
        sl_log(kv.sl, SL_LOG_INFO, "serving kv");
        for (;;) {
                struct epoll_event evs[KV_EVENTS];
                int n = epoll_wait(kv.ep, evs, KV_EVENTS, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "kv: epoll_wait: %s\n", strerror(errno));
                        return 1;
                }
                for (int i = 0; i < n; i++) {
                        struct session *s = evs[i].data.ptr;
                        if (!s) {
                                if (sl_dispatch(kv.sl) < 0) {
                                        /* The supervisor is gone: nobody can reach us. */
                                        fprintf(stderr, "kv: %s; exiting\n", sl_last_error(kv.sl));
                                        kv_store_clear(&kv.store);
                                        return 0;
                                }
                                continue;
                        }
                        if (s->fd >= 0 && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                                session_readable(&kv, s);
                        if (s->fd >= 0 && (evs[i].events & EPOLLOUT))
                                flush(&kv, s);
                }
                while (kv.dead) {
                        struct session *s = kv.dead;
                        kv.dead = s->dead;
                        free(s->out);
                        free(s);
                }
        }
}
