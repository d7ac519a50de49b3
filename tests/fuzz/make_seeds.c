/* Writes the seed corpus for fuzz_parent_decode: one valid datagram of
 * each message type, prefixed with its fd count as the target reads it.
 * The files under corpus/parent/ were made with it:
 *
 *     fuzz_parent_seeds tests/fuzz/corpus/parent
 */
#include <stdio.h>
#include <stdlib.h>

#include "lib/parentproto.h"

static const unsigned char hash[SL_PP_BLAKE2B_LEN] = {1, 2, 3, [31] = 32};

static void put(const char *dir, const char *name, const sl_pp_envelope *e, unsigned nfds)
{
        static uint8_t buf[SL_PP_DATAGRAM_MAX + 1];
        buf[0] = (uint8_t)nfds;
        size_t n = protobuf_c_message_pack(&e->base, buf + 1);
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, n + 1, f) != n + 1 || fclose(f) != 0) {
                perror(path);
                exit(1);
        }
}

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: fuzz_parent_seeds DIR\n");
                return 2;
        }
        const char *d = argv[1];
        struct sl_pp_msg m;
        put(d, "session-request", sl_pp_session_request(&m, 1, "kv", "ns=a", 4, 4096), 0);
        put(d, "session-close", sl_pp_session_close(&m, 1, SL_PP_SERVER), 0);
        put(d, "session-grant", sl_pp_session_grant(&m, 1, "/store/kv", 4096, hash), 1);
        put(d, "session-deny", sl_pp_session_deny(&m, 1, "no route to 'kv'"), 0);
        put(d, "session-closed", sl_pp_session_closed(&m, 1, SL_PP_CLIENT, "server died"), 0);
        put(d, "announce", sl_pp_announce(&m, "kv"), 0);
        put(d, "create-session-reply-ok", sl_pp_create_session_reply(&m, 9, true, NULL), 1);
        put(d, "create-session-reply-refused",
            sl_pp_create_session_reply(&m, 9, false, "read-only"), 0);
        put(d, "create-session", sl_pp_create_session(&m, 9, "kv", "/app/web:rw", "x", 1, 0), 0);
        put(d, "heartbeat", sl_pp_heartbeat(&m, 42), 0);
        put(d, "heartbeat-ack", sl_pp_heartbeat_ack(&m, 42), 0);
        put(d, "config-update", sl_pp_config_update(&m, 123, hash), 1);
        put(d, "report", sl_pp_report(&m, "{\"ready\":true}"), 0);
        put(d, "log", sl_pp_log(&m, 6, "started"), 0);
        return 0;
}
