/*
 * vsock/frame.h - the wire format between host and guest (docs/protocol.md
 * is the normative text; this header is its C contract).
 *
 * Used by both sides: the supervisor in the guest (root, trusted) and the
 * host launcher. Everything arriving here comes from the other side of a
 * trust boundary and is checked before use: magic, version, reserved bits,
 * type, length bound, MAC, sequence number. The first failure is final: the
 * channel is closed and the job fails closed; a decoder in error state stays
 * in error.
 *
 * A frame on the wire (all integers big-endian):
 *
 *   offset size
 *    0      2   magic "WD" (0x57 0x44)
 *    2      1   version, WD_PROTO_VERSION
 *    3      1   type (enum wd_msg_type)
 *    4      1   flags: bit 0 WD_FLAG_MAC (a MAC follows the payload); others 0
 *    5      3   reserved, 0
 *    8      4   stream id (0 control, 1 stdin, 2 stdout, 3 stderr, 16+N file N,
 *                 WD_STREAM_EGRESS_BASE and up: egress streams)
 *   12      8   sequence number
 *   20      4   payload length, at most WD_FRAME_MAX_PAYLOAD
 *   24      n   payload
 *   24+n   16   GMAC tag over bytes 0 .. 24+n-1, if WD_FLAG_MAC (vsock/mac.h)
 *
 * Authentication: READY (guest to host) and KEY (host to guest) are the only
 * frames without a MAC, and the only ones with sequence number 0. KEY
 * carries the job's 256-bit key K. From then on every frame in both
 * directions carries a MAC under a direction key derived from K
 * (HMAC-SHA256(K, "warden gmac host->guest") and "... guest->host"), so a
 * frame cannot be reflected back to its sender, and sequence numbers start
 * at 1 and go up by exactly 1 per frame in each direction: a replayed,
 * dropped, reordered or forged frame is an error. The MAC is GMAC
 * (AES-256-GCM, nothing encrypted) with the sequence number as its IV
 * (0^32 || seq, 12 bytes): each sequence number is MACed once per key.
 *
 * No allocation: the caller owns every context and buffer.
 */
#ifndef WARDEN_VSOCK_FRAME_H
#define WARDEN_VSOCK_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "mac.h"

#define WD_PROTO_VERSION 4
#define WD_FRAME_HEADER_BYTES 24
#define WD_FRAME_MAC_BYTES WD_MAC_TAG_BYTES    /* 16 */
#define WD_FRAME_MAX_PAYLOAD (1024UL * 1024UL) /* 1 MiB: a job, a chunk of a file */
#define WD_FRAME_MAX_BYTES (WD_FRAME_HEADER_BYTES + WD_FRAME_MAX_PAYLOAD + WD_FRAME_MAC_BYTES)
#define WD_KEY_BYTES 32
#define WD_FLAG_MAC 0x01U

/*
 * Stdin flow control: the host never has more than WD_STDIN_WINDOW bytes of
 * stdin in flight, that is sent but not yet acknowledged by a STDIN_ACK.
 * The guest acknowledges what it has passed on to the agent (or dropped
 * after the agent closed its stdin), at least every WD_STDIN_WINDOW / 4
 * bytes and whenever its buffer runs empty. So a slow reader slows the
 * host down instead of failing the job, and control frames (SIGNAL,
 * SHUTDOWN) never wait behind stdin.
 */
#define WD_STDIN_WINDOW (1024UL * 1024UL)

/* Stream ids. */
#define WD_STREAM_CONTROL 0U
#define WD_STREAM_STDIN 1U
#define WD_STREAM_STDOUT 2U
#define WD_STREAM_STDERR 3U
#define WD_STREAM_FILE_BASE 16U /* file N of the job travels on stream 16+N */
/* Egress streams (docs/protocol.md, "Streams"): ids from here up, chosen
 * by the guest, strictly increasing, never reused in a job. Far above the
 * file streams (WD_JOB_MAX_FILES of them), so the two never meet. */
#define WD_STREAM_EGRESS_BASE 0x10000U

static inline bool wd_stream_is_egress(uint32_t stream)
{
	return stream >= WD_STREAM_EGRESS_BASE;
}

enum wd_msg_type {
	WD_MSG_READY = 0x01,        /* g->h, unauthenticated, seq 0, repeated until KEY */
	WD_MSG_KEY = 0x02,          /* h->g, unauthenticated, seq 0: the job key */
	WD_MSG_HELLO = 0x03,        /* g->h: version, boot timings, measurements (JSON) */
	WD_MSG_JOB = 0x04,          /* h->g: argv, env, cwd, limits, files... (JSON) */
	WD_MSG_DATA = 0x05,         /* stdin, stdout, stderr or a file, by stream id;
				    an empty payload is the stream's EOF */
	WD_MSG_WINSIZE = 0x06,      /* h->g: rows u16, cols u16 (a PTY job) */
	WD_MSG_SIGNAL = 0x07,       /* h->g: signal number u32, for the agent */
	WD_MSG_STARTED = 0x08,      /* g->h: the agent runs (JSON: pid) */
	WD_MSG_EXIT = 0x09,         /* g->h: status, signal, OOM, timeout, usage (JSON) */
	WD_MSG_APPROVAL_REQ = 0x0a, /* g->h: a tool call waits for a human (JSON) */
	WD_MSG_APPROVAL_ANS = 0x0b, /* h->g: the answer (JSON) */
	WD_MSG_AUDIT = 0x0c,        /* g->h: audit records (JSONL) */
	WD_MSG_AUDIT_ACK = 0x0d,    /* h->g: highest audit sequence stored, u64 */
	WD_MSG_SHUTDOWN = 0x0e,     /* h->g: end the VM */
	WD_MSG_ERROR = 0x0f,        /* either way: a fatal error (JSON: code, message) */
	WD_MSG_STDIN_ACK = 0x10,    /* g->h: stdin bytes taken so far, u64 (flow control) */
	WD_MSG_RESUME = 0x11,       /* either way, first on a new connection: epoch in the
				    sequence field, last sequence received, u64 */
	/* Egress streams (msg.h, docs/protocol.md "Streams"), on egress ids only. */
	WD_MSG_EG_OPEN = 0x12,   /* g->h: open a stream to host:port */
	WD_MSG_EG_REPLY = 0x13,  /* h->g: connected, or why not */
	WD_MSG_EG_WINDOW = 0x14, /* either way: credit for more DATA, u32 */
	WD_MSG_EG_CLOSE = 0x15,  /* either way: the stream is reset, reason u8 */
};
#define WD_MSG_TYPE_MAX WD_MSG_EG_CLOSE

/* A frame that belongs to an egress stream: one of the EG_ types, or DATA
 * on an egress id. Such frames go to the egress engine (egress/), never
 * to the job's own stream handling. */
static inline bool wd_frame_is_egress(unsigned type, uint32_t stream)
{
	return (type >= WD_MSG_EG_OPEN && type <= WD_MSG_EG_CLOSE) ||
	       (type == WD_MSG_DATA && wd_stream_is_egress(stream));
}
#define WD_RESUME_FRAME_BYTES (WD_FRAME_HEADER_BYTES + 8 + WD_FRAME_MAC_BYTES)

/* Which side a context speaks for: it signs with its own direction key and
 * verifies with the other's. */
enum wd_side {
	WD_SIDE_HOST = 0,
	WD_SIDE_GUEST = 1,
};

/* A decoded frame. `payload` points into the decoder's buffer and is valid
 * until the next call on that decoder. */
struct wd_frame {
	uint8_t type;
	uint8_t flags;
	uint32_t stream;
	uint64_t seq;
	uint32_t len;
	const uint8_t *payload;
};

/*
 * Per-channel state: keys and sequence numbers of both directions. Before
 * wd_chan_set_key() only READY and KEY pass in and out; after it, only
 * authenticated frames.
 */
struct wd_chan {
	enum wd_side side;
	bool keyed;
	struct wd_mac_key send_key; /* direction key for frames we send */
	struct wd_mac_key recv_key; /* direction key for frames we receive */
	uint64_t send_seq;          /* last sequence number sent */
	uint64_t recv_seq;          /* last sequence number accepted */
	bool recv_authed;           /* an authenticated frame arrived: no unkeyed ones after */
};

void wd_chan_init(struct wd_chan *ch, enum wd_side side);

/* Install the job key K: derive both direction keys, reset sequences. */
void wd_chan_set_key(struct wd_chan *ch, const uint8_t key[WD_KEY_BYTES]);

/* Wipe key material (explicit_bzero). */
void wd_chan_wipe(struct wd_chan *ch);

/* A frame type this side may receive (e.g. a guest never receives EXIT). */
bool wd_msg_type_valid_for(enum wd_side receiver, unsigned type);
const char *wd_msg_type_name(unsigned type);

/*
 * Encode one frame into `out` (at least WD_FRAME_HEADER_BYTES + len +
 * WD_FRAME_MAC_BYTES bytes). Takes the next sequence number and adds the
 * MAC when the channel is keyed; READY and KEY go out unkeyed with seq 0.
 * Returns the frame's size, or a negative errno (E2BIG over the payload
 * bound, EPROTO for a type this side may not send in this state).
 */
int wd_frame_encode(struct wd_chan *ch, unsigned type, uint32_t stream, const void *payload,
		    size_t len, uint8_t *out, size_t out_size, struct wd_err *err);

/*
 * Incremental decoder over a byte stream: feed whatever arrived, take
 * complete frames out one by one. Holds at most one frame's bytes.
 */
struct wd_decoder {
	uint8_t *buf; /* caller's buffer of at least WD_FRAME_MAX_BYTES */
	size_t size;
	size_t start;    /* first byte not yet handed out */
	size_t used;     /* end of the bytes received */
	size_t consumed; /* bytes of the frame returned last, dropped on the next call */
	bool failed;
};

void wd_decoder_init(struct wd_decoder *d, uint8_t *buf, size_t size);

/* Room left for incoming bytes, and where to put them (then wd_decoder_fill). */
size_t wd_decoder_space(struct wd_decoder *d, uint8_t **where);
void wd_decoder_fill(struct wd_decoder *d, size_t n);

/*
 * Take the next complete frame. Returns 1 and fills `f`, 0 if more bytes
 * are needed, or a negative errno with `err` naming the reason (bad magic,
 * version, reserved bits, unknown type, over-long, MAC mismatch, sequence
 * not last+1, unauthenticated frame after the key, ...). After an error
 * the decoder returns the same error forever.
 */
int wd_decoder_next(struct wd_decoder *d, struct wd_chan *ch, struct wd_frame *f,
		    struct wd_err *err);

/* A whole encoded frame's size and sequence number, from its (valid) header. */
size_t wd_frame_size(const uint8_t *h);
uint64_t wd_frame_seq(const uint8_t *h);

/*
 * Resumption (docs/protocol.md, "A broken channel"). A RESUME frame is
 * authenticated with the sender's direction key like every other frame,
 * but its sequence field carries the resumption's epoch (1 for the first,
 * then +1) instead of the stream's counter, and it is valid only as the
 * first frame of a new connection: inside the stream the decoder refuses
 * it. Its payload is the last sequence number the sender accepted, so the
 * other side knows which frames to send again. Its MAC's IV is the epoch
 * and that payload (16 bytes, so never one of the stream's 12-byte IVs):
 * a RESUME sent again with the same IV is the same frame.
 */
int wd_resume_encode(const struct wd_chan *ch, uint64_t epoch, uint64_t last_seq,
		     uint8_t out[WD_RESUME_FRAME_BYTES]);

/*
 * Look for the peer's RESUME among the bytes a new connection brought
 * (virtio-serial may first deliver the rest of what was in flight before
 * the break). Bytes that cannot start one are dropped. Returns 1 with the
 * frame taken out of the buffer (what follows it stays for
 * wd_decoder_next), or 0 when more bytes are needed. Never an error: the
 * caller bounds the wait and the bytes.
 */
int wd_decoder_find_resume(struct wd_decoder *d, const struct wd_chan *ch, uint64_t *epoch,
			   uint64_t *last_seq);

#endif
