/* Sessions: the supervisor's side of the parent protocol (docs/protocol.md).
 * Every slice has a parent channel; a client's SessionRequest is routed by
 * policy (routing.c) to a server slice, which answers CreateSession with one
 * end of a socketpair that is passed to the client. The supervisor keeps a
 * duplicate of that end: shutdown(SHUT_RDWR) on it ends the connection for
 * both holders, which is how a server's death or a reload revokes sessions.
 * A slice that breaks the protocol is cut off and killed; its restart
 * policy applies. The supervisor never blocks on a slice. */
#ifndef SV_SESSIONS_H
#define SV_SESSIONS_H

#include <stdint.h>

struct sv_slice;
struct sv_supervisor;

/* Bounds on what one slice can make the supervisor hold. */
#define SV_SESSIONS_PER_SLICE 1024        /* open or pending, as client */
#define SV_ANNOUNCE_MAX       64          /* services one server announces */
#define SV_ROM_MAX            (64u << 20) /* bytes of one rom */
#define SV_LOG_SESSIONS_MAX   8           /* `log` sessions per slice */

/* Make the parent channel before spawn: *theirs goes to the slice. */
int sv_chan_prepare(struct sv_slice *s, int *theirs);
/* After a successful spawn: start serving our end. After a failed one: drop it. */
void sv_chan_started(struct sv_slice *s, int ok);
/* The slice's process ended (or is being removed): close its channel, end
 * the sessions it served and used, give donated memory back. */
void sv_sessions_slice_gone(struct sv_slice *s, const char *why);
/* After a reload: revoke sessions whose route no longer leads where it did. */
void sv_sessions_recheck(struct sv_supervisor *sv);
/* Deliver a changed `config` to a running slice (ConfigUpdate). */
void sv_sessions_config_changed(struct sv_slice *s);
/* Heartbeat health: send one; returns 0 while answered in time, -1 when
 * `failures` heartbeats in a row went unanswered (misses are not counted
 * while counting is 0: the start period). */
int sv_heartbeat_tick(struct sv_slice *s, int counting);
/* Counts for the state report. */
void sv_sessions_count(const struct sv_slice *s, unsigned *used, unsigned *served);
void sv_sessions_free_all(struct sv_supervisor *sv);

#endif
