/*
 * vsock/conn.h - a framed, authenticated channel over one byte-stream fd.
 *
 * Both sides use it the same way, from a poll(2) loop: the fd is
 * non-blocking; wd_conn_send() encodes a frame into the output queue;
 * wd_conn_flush() writes as much of the queue as the peer takes (POLLOUT
 * when wd_conn_queued() > 0); wd_conn_read() takes whatever arrived
 * (POLLIN) and wd_conn_next() hands out complete, verified frames. Take
 * frames with wd_conn_next() until it returns 0 before reading again: the
 * receive buffer holds at most one frame beyond the one being read.
 *
 * Backpressure: the queue is bounded (WD_CONN_QUEUE_BYTES). A producer (the
 * agent's stdout, say) checks wd_conn_queued() against
 * WD_CONN_HIGH_WATER before reading more from its source, so a slow peer
 * makes the producer block instead of anything being dropped. Control
 * frames (EXIT, ERROR, ...) are small and always fit below the bound.
 *
 * Partial reads and writes are handled; EINTR is retried; a peer that
 * vanishes is reported (0 from wd_conn_read, -EPIPE from wd_conn_flush).
 * The buffers are allocated once by wd_conn_init() and freed by
 * wd_conn_close(), which also wipes the keys.
 *
 * Resumption (docs/protocol.md, "A broken channel"). After
 * wd_conn_keep_sent(), frames stay in the queue after they were written,
 * the last WD_CONN_KEEP_BYTES of them at least WD_CONN_KEEP_BYTES / 2, so
 * that a new connection can carry on where the old one broke: the side's
 * break handler (wd_conn_on_break) is called when a read sees the end of
 * the stream or a reset, or a write sees EPIPE; it puts a new connection
 * in place (wd_conn_detach, wd_conn_attach, the RESUME exchange,
 * wd_conn_rewind) and the read or write that saw the break reports
 * "nothing yet" (-EAGAIN, 1), so the caller's poll loop goes on with the
 * new fd. Nothing is resent that the peer has, and nothing is skipped: the
 * peer says which sequence number it accepted last. A write that fails
 * while bytes from the peer are still unread does not call the handler at
 * once: those bytes (an ERROR, the last records) are read first, and the
 * end of the stream that follows calls it.
 */
#ifndef WARDEN_VSOCK_CONN_H
#define WARDEN_VSOCK_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "frame.h"

#define WD_CONN_QUEUE_BYTES (4UL * 1024UL * 1024UL) /* output queue */
#define WD_CONN_HIGH_WATER (256UL * 1024UL)         /* producers pause above this */
#define WD_CONN_DATA_CHUNK (64UL * 1024UL)          /* stdio is sent in chunks of this */
#define WD_CONN_KEEP_BYTES (8UL * 1024UL * 1024UL)  /* sent frames kept for resending */

struct wd_conn;

/*
 * A break handler: `why` says what broke. Returns 1 when a new connection
 * is in place, 0 when this break is the end (the caller sees it as
 * before), or -errno with `err` set (resumption failed).
 */
typedef int (*wd_conn_break_fn)(struct wd_conn *c, void *ctx, const char *why, struct wd_err *err);

struct wd_conn {
	int fd;
	struct wd_chan chan;
	struct wd_decoder dec;
	uint8_t *rbuf;  /* WD_FRAME_MAX_BYTES, the decoder's */
	uint8_t *queue; /* WD_CONN_QUEUE_BYTES */
	size_t qhead;   /* first unsent byte */
	size_t qtail;   /* end of queued bytes */
	size_t qkeep;   /* first byte of the oldest frame kept after it was sent */
	size_t qhigh;   /* bytes of the queue ever used (wiped at close) */
	bool keep;      /* wd_conn_keep_sent() was called */
	uint8_t pre[WD_RESUME_FRAME_BYTES]; /* written before the queue: RESUME */
	size_t pre_off, pre_len;
	wd_conn_break_fn on_break;
	void *break_ctx;
	bool in_break;
	bool write_broken;      /* a write failed while the peer's last bytes were still
			      to be read: nothing is written (the queue is kept)
			      until the read side ends and the handler runs */
	uint64_t epoch;         /* resumptions completed */
	uint64_t resent_frames; /* frames sent again after them */
	uint64_t bytes_in, bytes_out, frames_in, frames_out;
};

/* Takes ownership of `fd` (made non-blocking, close-on-exec). */
int wd_conn_init(struct wd_conn *c, int fd, enum wd_side side, struct wd_err *err);

/* Close the fd, wipe the keys, free the buffers. Safe to call twice. */
void wd_conn_close(struct wd_conn *c);

/*
 * Queue one frame. Returns 0, -ENOBUFS when the queue has no room (flush
 * first), or the encoder's error. Payloads over WD_FRAME_MAX_PAYLOAD are
 * the caller's to split.
 */
int wd_conn_send(struct wd_conn *c, unsigned type, uint32_t stream, const void *payload, size_t len,
		 struct wd_err *err);

/* Bytes waiting to be written. */
size_t wd_conn_queued(const struct wd_conn *c);

/* Is there something to write, on a stream that takes writes (poll for
 * POLLOUT only then: a broken one would wake the poll at once)? */
bool wd_conn_want_write(const struct wd_conn *c);

/*
 * Write queued bytes without blocking. Returns 0 when the queue is empty,
 * 1 when bytes remain (wait for POLLOUT), or -errno (-EPIPE: the peer is
 * gone).
 */
int wd_conn_flush(struct wd_conn *c, struct wd_err *err);

/* Flush, waiting up to timeout_ms (-1: forever). 0, or -ETIMEDOUT / -errno. */
int wd_conn_flush_wait(struct wd_conn *c, int timeout_ms, struct wd_err *err);

/*
 * Read what has arrived without blocking. Returns the byte count (> 0),
 * 0 when the peer closed, -EAGAIN when nothing is there, or -errno.
 */
int wd_conn_read(struct wd_conn *c, struct wd_err *err);

/* Next verified frame: 1, 0 (need more bytes), or -errno (fatal, see frame.h). */
int wd_conn_next(struct wd_conn *c, struct wd_frame *f, struct wd_err *err);

/*
 * Wait up to timeout_ms for the next frame, reading as needed. Returns 1,
 * -ETIMEDOUT, -EPIPE (closed), or -errno. For simple request/response
 * steps (the handshake); the main loops use poll themselves.
 */
int wd_conn_recv_wait(struct wd_conn *c, struct wd_frame *f, int timeout_ms, struct wd_err *err);

/* From now on keep sent frames for resending (after the key is installed). */
void wd_conn_keep_sent(struct wd_conn *c);

/* Call fn when the stream breaks (see above); NULL: a break is the end. */
void wd_conn_on_break(struct wd_conn *c, wd_conn_break_fn fn, void *ctx);

/* Close the broken fd and forget the partial frame being received. */
void wd_conn_detach(struct wd_conn *c);

/* Take a new connection's fd (made non-blocking, close-on-exec). */
int wd_conn_attach(struct wd_conn *c, int fd, struct wd_err *err);

/*
 * The peer accepted every frame up to `peer_seq`: send everything after
 * it again, then what is still queued. -EPROTO when it claims more than was
 * sent, -ENOBUFS when a frame it needs is no longer kept.
 */
int wd_conn_rewind(struct wd_conn *c, uint64_t peer_seq, struct wd_err *err);

/* Queue this side's RESUME ahead of everything else. */
void wd_conn_send_resume(struct wd_conn *c, uint64_t epoch);

/* Write the queued RESUME only: 0 sent, 1 the fd is full, -errno. */
int wd_conn_flush_resume(struct wd_conn *c, struct wd_err *err);

/* Look for the peer's RESUME in what arrived (wd_decoder_find_resume). */
int wd_conn_find_resume(struct wd_conn *c, uint64_t *epoch, uint64_t *last_seq);

#endif
