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

struct wd_conn {
	int fd;
	struct wd_chan chan;
	struct wd_decoder dec;
	uint8_t *rbuf;  /* WD_FRAME_MAX_BYTES, the decoder's */
	uint8_t *queue; /* WD_CONN_QUEUE_BYTES */
	size_t qhead;   /* first unsent byte */
	size_t qtail;   /* end of queued bytes */
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

#endif
