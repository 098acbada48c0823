/*
 * tests/fuzz/fuzz_frame.c - the frame decoder (vsock/frame.c) over
 * arbitrary bytes, on either side, with and without the key.
 *
 * Byte 0 chooses the run:
 *   bit 0      the receiving side: host (0) or guest (1)
 *   bits 1-2   0: the rest is raw bytes for an unkeyed receiver
 *              1: raw bytes for a keyed receiver
 *              2, 3: the rest is records [type][stream][len][len bytes],
 *                 encoded by a real sender for the other side (unkeyed
 *                 while it sends READY or KEY, keyed from its first other
 *                 frame on, as in the handshake), one byte of record
 *                 byte 2 & 0x3f flipped at offset byte 3 when bit 7 of
 *                 byte 2 is set
 * Byte 1 is the size of the pieces the bytes are fed in (1..256): the
 * result must not depend on how the stream is cut.
 *
 * Raw bytes never pass a MAC, so the records mode is what reaches the
 * sequence and direction checks behind it. Beyond "no crash, no undefined
 * behaviour": every frame handed out is in bounds and of a type this side
 * receives; an error is final; an intact record comes out exactly as sent
 * and a tampered keyed one never comes out at all.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/frame.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RECORD_MAX (WD_FRAME_HEADER_BYTES + 255 + WD_FRAME_MAC_BYTES)

static uint8_t *rbuf;

struct rx {
	struct wd_chan ch;
	struct wd_decoder dec;
	bool failed;
	uint64_t last_seq;
};

/* Check one frame handed out by the decoder. */
static void check_frame(const struct rx *r, const struct wd_frame *f)
{
	if (f->len > WD_FRAME_MAX_PAYLOAD || f->payload < r->dec.buf ||
	    f->payload + f->len > r->dec.buf + r->dec.used)
		abort();
	if (!wd_msg_type_valid_for(r->ch.side, f->type))
		abort();
	if ((f->flags & WD_FLAG_MAC) != 0) {
		if (f->seq != r->last_seq + 1)
			abort();
	} else if (f->seq != 0 || (f->type != WD_MSG_READY && f->type != WD_MSG_KEY)) {
		abort();
	}
}

/* Take every complete frame; returns how many (stops at an error). */
static int drain(struct rx *r, struct wd_frame *last)
{
	struct wd_frame f;
	struct wd_err err;
	int got = 0, rc;

	while ((rc = wd_decoder_next(&r->dec, &r->ch, &f, &err)) == 1) {
		if (r->failed)
			abort();
		check_frame(r, &f);
		if ((f.flags & WD_FLAG_MAC) != 0)
			r->last_seq = f.seq;
		if (last != NULL)
			*last = f;
		got++;
	}
	if (rc < 0) {
		if (err.code != -rc || err.msg[0] == '\0')
			abort();
		r->failed = true;
		/* An error is final. */
		if (wd_decoder_next(&r->dec, &r->ch, &f, &err) >= 0)
			abort();
		return -1;
	}
	if (rc != 0 || r->failed)
		abort();
	return got;
}

/* Feed `n` bytes in pieces of `piece`; returns frames seen, -1 on error. */
static int feed(struct rx *r, const uint8_t *p, size_t n, size_t piece, struct wd_frame *last)
{
	int total = 0;

	while (n > 0) {
		uint8_t *where;
		size_t room = wd_decoder_space(&r->dec, &where);
		size_t k = n < piece ? n : piece;
		int got;

		if (room == 0)
			abort(); /* a waiting decoder always has room for its frame */
		if (k > room)
			k = room;
		memcpy(where, p, k);
		wd_decoder_fill(&r->dec, k);
		p += k;
		n -= k;
		got = drain(r, last);
		if (got < 0)
			return -1;
		total += got;
	}
	return total;
}

static void run_records(struct rx *r, const uint8_t *p, size_t n, size_t piece)
{
	struct wd_chan tx;
	unsigned flip_record, flip_at, index = 0;
	bool flip;

	if (n < 2)
		return;
	flip = (p[0] & 0x80) != 0;
	flip_record = p[0] & 0x3fU;
	flip_at = p[1];
	p += 2;
	n -= 2;
	wd_chan_init(&tx, r->ch.side == WD_SIDE_HOST ? WD_SIDE_GUEST : WD_SIDE_HOST);
	while (n >= 3 && (size_t)p[2] <= n - 3) {
		uint8_t out[RECORD_MAX];
		unsigned type = p[0], len = p[2];
		uint32_t stream = p[1];
		const uint8_t *payload = p + 3;
		struct wd_frame f;
		struct wd_err err;
		bool unkeyed = type == WD_MSG_READY || type == WD_MSG_KEY;
		int size, got;

		p += 3 + len;
		n -= 3 + len;
		if (!unkeyed && !tx.keyed) {
			wd_chan_set_key(&tx, fuzz_key);
			wd_chan_set_key(&r->ch, fuzz_key);
		}
		size = wd_frame_encode(&tx, type, stream, payload, len, out, sizeof(out), &err);
		if (size < 0)
			continue;
		if (flip && index == flip_record) {
			out[flip_at % (unsigned)size] ^= (uint8_t)(1U << (flip_at % 8));
			got = feed(r, out, (size_t)size, piece, &f);
			if (got > 0 && !unkeyed)
				abort(); /* a tampered authenticated frame came out */
			return;
		}
		index++;
		got = feed(r, out, (size_t)size, piece, &f);
		if (got != 1 || f.type != type || f.stream != stream || f.len != len ||
		    (len > 0 && memcmp(f.payload, payload, len) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rx r;
	unsigned mode;
	size_t piece;

	if (size < 2)
		return 0;
	if (rbuf == NULL && (rbuf = malloc(WD_FRAME_MAX_BYTES)) == NULL)
		abort();
	memset(&r, 0, sizeof(r));
	wd_chan_init(&r.ch, (data[0] & 1) != 0 ? WD_SIDE_GUEST : WD_SIDE_HOST);
	wd_decoder_init(&r.dec, rbuf, WD_FRAME_MAX_BYTES);
	mode = (data[0] >> 1) & 3U;
	piece = (size_t)data[1] + 1;
	if (mode >= 2) {
		run_records(&r, data + 2, size - 2, piece);
		return 0;
	}
	if (mode == 1)
		wd_chan_set_key(&r.ch, fuzz_key);
	(void)feed(&r, data + 2, size - 2, piece, NULL);
	return 0;
}
