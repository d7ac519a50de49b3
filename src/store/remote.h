/* The store's st_source over a TUF repository: fetch.c for the bytes,
 * tuf.c for the trust. */
#ifndef ST_REMOTE_H
#define ST_REMOTE_H

#include <time.h>

#include "store/local.h"
#include "store/tuf.h"

struct st_remote;

/* Open the repository the store trusts. url: NULL = the one remembered in
 * STORE/trust/remote.json; given = remember it (must equal the remembered
 * one unless a root is given too). root/root_len: pin this root envelope (its bytes)
 * (first use, or to re-pin after a lost trust directory); refused when a
 * different root is already trusted. Refreshes the metadata (st_tuf_refresh)
 * before returning. progress: draw progress bars on a TTY. */
int st_remote_open(struct st_store *s, const char *url, const void *root, size_t root_len,
                   int progress, time_t now, struct st_remote **out, struct sl_error *err);
void st_remote_close(struct st_remote *r);
/* The source for st_store_install; valid while r is open. */
const struct st_source *st_remote_source(struct st_remote *r);
const struct st_targets *st_remote_targets(const struct st_remote *r);

#endif
