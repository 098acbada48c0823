/*
 * egress/mux.h - the stream core: one table of egress streams per side,
 * each a non-blocking socket paired with a stream id, pumped both ways
 * over the authenticated channel (docs/protocol.md, "Streams").
 *
 * Both sides use it the same way. The guest's proxy opens a stream when
 * it sends EG_OPEN and attaches the agent's accepted socket (with any
 * bytes the proxy already read from it, sent first) when EG_REPLY says
 * CONNECTED; the host's dialer opens the stream when EG_OPEN arrives and
 * attaches the dialed socket once connected, just before its REPLY. From
 * then on the mux owns the socket; the caller chooses nothing else.
 * EG_OPEN and EG_REPLY themselves are the caller's; DATA on egress ids,
 * EG_WINDOW and EG_CLOSE go to wd_eg_mux_frame().
 *
 * The caller's poll loop: poll wd_eg_mux_fd() for POLLIN, with a timeout
 * from wd_eg_mux_next_deadline(); call wd_eg_mux_run() when that fd is
 * readable, when the deadline has come (0 means now), and after every
 * flush of the channel (reads stop while the channel's queue is at
 * WD_CONN_HIGH_WATER and resume only from run).
 *
 * Rules kept here (docs/protocol.md):
 * - Ids: wd_eg_mux_open() takes ids strictly increasing from
 *   WD_STREAM_EGRESS_BASE. A frame for an id opened and since ended is
 *   dropped (a WINDOW or DATA in flight); for an id never opened, or DATA
 *   or WINDOW for one opened but not attached yet, it is a protocol error.
 * - Credit: at most WD_EG_WINDOW bytes of DATA payload per direction are
 *   in flight beyond what the receiver credited with EG_WINDOW; the mux
 *   never sends more, and a peer that does is a protocol error, as is
 *   credit for more than was sent. The receiver credits what it has
 *   written into its socket, every quarter window, and all it owes once
 *   the peer's EOF is in and its buffer is empty; the sender takes
 *   EG_WINDOW after its own EOF too (an acknowledgement). DATA payloads
 *   are at most WD_EG_CHUNK.
 * - Fairness: ready sockets are read round-robin, one chunk per turn, and
 *   no socket is read while the channel's queue holds WD_CONN_HIGH_WATER
 *   bytes or more; a stream whose peer does not read only runs out of
 *   credit, the others go on.
 * - End: a socket's EOF sends an empty DATA; an empty DATA received is a
 *   shutdown(SHUT_WR) of the socket once the bytes before it are written.
 *   A side ends the stream as DONE only when it has sent its EOF and
 *   received the peer's, written every byte received into its socket,
 *   and had every byte it sent credited back (the peer wrote it): so a
 *   peer's write failure (its EG_CLOSE RESET) always comes first and the
 *   record says reset. A peer that never credits leaves the stream to the
 *   idle timeout (IDLE). A socket error sends EG_CLOSE
 *   (RESET); an EG_CLOSE received, an idle timeout, wd_eg_mux_reset() and
 *   wd_eg_mux_close_all() close the socket with SO_LINGER 0 (the far end
 *   sees a reset), sending EG_CLOSE unless the peer sent it.
 *
 * Memory: a stream costs WD_EG_STREAM_BYTES (its struct and table slot)
 * plus the kernel's socket; a buffer exists only while bytes wait for a
 * socket that does not take them (at most WD_EG_WINDOW), or while the
 * first bytes given to attach wait for credit, and is freed when empty.
 * The mux holds one WD_EG_CHUNK read buffer for all streams.
 *
 * Failure: a protocol error (-EPROTO, -EBADMSG, -ERANGE, -EINVAL from the
 * payload decoders) and a failed send on the channel are returned with
 * `err` set; the caller then fails the channel (the mux's state is no
 * longer trusted: free it). Socket errors only end their stream.
 *
 * The close callback runs once for every stream that ends, except one
 * ended by wd_eg_mux_cancel(); it must not call the mux. Single-threaded.
 */
#ifndef WARDEN_EGRESS_MUX_H
#define WARDEN_EGRESS_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../vsock/conn.h"
#include "../vsock/msg.h"

#define WD_EG_MUX_MAX_STREAMS 8192U /* a table's bound (policy: 4096 at most) */
#define WD_EG_STREAM_BYTES 192U     /* per stream, buffers aside (checked at build) */

struct wd_eg_mux;

/* How one stream ended, for the close callback and the records. */
struct wd_eg_end {
	uint32_t id;
	void *user;                 /* the caller's pointer given to wd_eg_mux_open */
	enum wd_eg_close reason;    /* DONE (every byte written, both ways), or why it was reset */
	bool by_peer;               /* the reason came in the peer's EG_CLOSE */
	bool attached;              /* false: it ended before wd_eg_mux_attach */
	uint64_t bytes_from_socket; /* read from the socket, sent as DATA (delivered if DONE) */
	uint64_t bytes_to_socket;   /* received as DATA, written into the socket */
	uint64_t duration_ms;       /* from wd_eg_mux_open to the end */
};

typedef void (*wd_eg_close_fn)(void *ctx, const struct wd_eg_end *end);

struct wd_eg_mux_config {
	/* open streams at most (pending and attached), 1..WD_EG_MUX_MAX_STREAMS */
	unsigned max_streams;
	uint64_t idle_ms;        /* a stream with no byte either way for this long is reset
				 (IDLE); 0: never */
	wd_eg_close_fn on_close; /* may be NULL */
	void *ctx;
};

/* Counters, for the records, the tests and the benchmarks. */
struct wd_eg_mux_stats {
	unsigned pending;      /* opened, not attached */
	unsigned live;         /* attached */
	unsigned buffers;      /* buffers allocated now (0 when every stream is idle) */
	size_t buffered_bytes; /* bytes waiting in them */
	uint64_t streams_ended;
	uint64_t frames_dropped; /* frames for ended ids */
};

/* The state of an id, as wd_eg_mux_state() tells it. */
enum wd_eg_id_state {
	WD_EG_ID_INVALID, /* not an egress id */
	WD_EG_ID_NEW,     /* never opened: above the last opened id */
	WD_EG_ID_PENDING, /* opened, not attached */
	WD_EG_ID_LIVE,    /* attached: bytes flow */
	WD_EG_ID_ENDED,   /* opened and ended (or never used: skipped ids count as ended) */
};

/*
 * A mux sending its frames on `conn` (not owned; it must outlive the mux).
 * -EINVAL for a bad config, -errno when the epoll fd or memory fails.
 */
int wd_eg_mux_new(struct wd_eg_mux **out, struct wd_conn *conn, const struct wd_eg_mux_config *cfg,
		  struct wd_err *err);

/* Close every socket and free everything; no frame is sent, no callback
 * runs (wd_eg_mux_close_all first for that). NULL is fine. */
void wd_eg_mux_free(struct wd_eg_mux *m);

/* The epoll fd to poll for POLLIN. */
int wd_eg_mux_fd(const struct wd_eg_mux *m);

/* The id the guest should open next (the last opened + 1). */
uint32_t wd_eg_mux_next_id(const struct wd_eg_mux *m);

enum wd_eg_id_state wd_eg_mux_state(const struct wd_eg_mux *m, uint32_t id);

/*
 * Open stream `id` (pending until attached). -EPROTO when `id` is not an
 * egress id above the last opened one (the peer's error, when the id came
 * in an EG_OPEN), -EMFILE when max_streams are open (the host answers
 * LIMIT; the id counts as opened and ended either way).
 */
int wd_eg_mux_open(struct wd_eg_mux *m, uint32_t id, void *user, struct wd_err *err);

/*
 * Attach the socket `fd` to pending stream `id`: bytes flow from now on.
 * `first` (len bytes, at most WD_EG_WINDOW, may be NULL) are sent before
 * anything read from the socket: what the proxy read past the request it
 * answered. The mux owns `fd` from this call on, even when it fails
 * (-ENOENT: `id` is not pending, e.g. the peer closed it meanwhile;
 * -E2BIG; -errno from epoll or memory).
 */
int wd_eg_mux_attach(struct wd_eg_mux *m, uint32_t id, int fd, const void *first, size_t len,
		     struct wd_err *err);

/* Forget pending stream `id` without a callback (the host's dial failed
 * and it sent a REPLY saying so; the guest got that REPLY); send EG_CLOSE
 * with `reason` first when `tell_peer` (the guest's client went away
 * before the REPLY). 0, -ENOENT when not pending, or a send error. */
int wd_eg_mux_cancel(struct wd_eg_mux *m, uint32_t id, bool tell_peer, enum wd_eg_close reason,
		     struct wd_err *err);

/* Reset one open stream (pending or live): EG_CLOSE with `reason` (not
 * DONE), the socket closed with SO_LINGER 0, the callback. -ENOENT when
 * it is not open. */
int wd_eg_mux_reset(struct wd_eg_mux *m, uint32_t id, enum wd_eg_close reason, struct wd_err *err);

/* Reset every open stream with `reason` (not DONE), e.g. JOB_END at the
 * end of the job; EG_CLOSE is sent only when `tell_peer` (the channel
 * still works). Callbacks run for each. */
int wd_eg_mux_close_all(struct wd_eg_mux *m, enum wd_eg_close reason, bool tell_peer,
			struct wd_err *err);

/*
 * A frame from the peer for an egress stream: DATA on an egress id,
 * EG_WINDOW or EG_CLOSE (anything else is -EINVAL, the caller's mistake).
 * 0 when taken or dropped; -errno (a protocol error) with `err` set.
 */
int wd_eg_mux_frame(struct wd_eg_mux *m, const struct wd_frame *f, struct wd_err *err);

/* Socket readiness, reads while the channel has room, idle expiry. 0, or
 * -errno when sending on the channel failed. */
int wd_eg_mux_run(struct wd_eg_mux *m, struct wd_err *err);

/* Milliseconds until run has work that no fd will announce: 0 when a
 * ready socket can be read now (it has credit and the channel's queue is
 * below the high-water mark), else the next idle expiry, or -1. */
int wd_eg_mux_next_deadline(const struct wd_eg_mux *m);

void wd_eg_mux_stats(const struct wd_eg_mux *m, struct wd_eg_mux_stats *st);

#endif
