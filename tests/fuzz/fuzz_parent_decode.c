/* libFuzzer target: the parent-protocol decoder, which the supervisor runs
 * on every datagram a slice sends (and libslice on the supervisor's).
 *
 * Input: byte 0 picks how many fds "came with" the datagram (0-5: one over
 * the limit), the rest is the datagram. Decoding must never crash, leak or
 * read out of bounds; what it accepts must pass its own checks again and
 * re-pack within the datagram limit (so a supervisor may forward it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "lib/parentproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t nfds = data[0] % (SL_PP_FDS_MAX + 2);
        sl_pp_envelope *m;
        struct sl_error err;
        if (sl_pp_decode(data + 1, size - 1, nfds, &m, &err) == 0) {
                if (sl_pp_check(m, nfds, &err) != 0 ||
                    protobuf_c_message_get_packed_size(&m->base) > SL_PP_DATAGRAM_MAX)
                        abort();
                sl_pp_free(m);
        }
        return 0;
}
