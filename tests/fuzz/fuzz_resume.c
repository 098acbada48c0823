/*
 * tests/fuzz/fuzz_resume.c - the search for the peer's RESUME at the start
 * of a new connection (vsock/frame.c, wd_decoder_find_resume), over
 * arbitrary bytes.
 *
 *   byte 0      bit 0: the receiving side (host 0, guest 1); bit 1: a
 *               genuine RESUME from the other side is put into the bytes
 *   byte 1      the size of the pieces the bytes are fed in (1..256)
 *   bytes 2-3   where the genuine RESUME goes (modulo the rest's length + 1)
 *   bytes 4-11  its epoch; bytes 12-19 the sequence it carries
 *   the rest    what the connection brings around it
 *
 * Raw bytes never carry a valid MAC, so: a RESUME is found exactly when a
 * genuine one was put in, with its epoch and sequence, and what follows it
 * stays in the decoder byte for byte. Nothing else is ever taken.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/frame.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 8192

static uint64_t be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t stream[MAX_INPUT + WD_RESUME_FRAME_BYTES];
	static uint8_t *rbuf;
	enum wd_side rx_side;
	struct wd_chan rx, tx;
	struct wd_decoder dec;
	uint64_t epoch = 0, seq = 0, want_epoch, want_seq;
	size_t piece, at, rest, n = 0, fed = 0, after = 0;
	bool genuine, found = false;

	if (size < 20 || size - 20 > MAX_INPUT)
		return 0;
	if (rbuf == NULL && (rbuf = malloc(WD_FRAME_MAX_BYTES)) == NULL)
		abort();
	rx_side = (data[0] & 1) != 0 ? WD_SIDE_GUEST : WD_SIDE_HOST;
	genuine = (data[0] & 2) != 0;
	piece = (size_t)data[1] + 1;
	want_epoch = be64(data + 4);
	want_seq = be64(data + 12);
	rest = size - 20;
	at = ((size_t)data[2] << 8 | data[3]) % (rest + 1);

	wd_chan_init(&rx, rx_side);
	wd_chan_set_key(&rx, fuzz_key);
	wd_chan_init(&tx, rx_side == WD_SIDE_HOST ? WD_SIDE_GUEST : WD_SIDE_HOST);
	wd_chan_set_key(&tx, fuzz_key);
	memcpy(stream, data + 20, at);
	n = at;
	if (genuine)
		n += (size_t)wd_resume_encode(&tx, want_epoch, want_seq, stream + n);
	memcpy(stream + n, data + 20 + at, rest - at);
	n += rest - at;

	wd_decoder_init(&dec, rbuf, WD_FRAME_MAX_BYTES);
	while (fed < n && !found) {
		size_t k = n - fed < piece ? n - fed : piece;
		uint8_t *where;

		if (wd_decoder_space(&dec, &where) < k)
			abort();
		memcpy(where, stream + fed, k);
		wd_decoder_fill(&dec, k);
		fed += k;
		found = wd_decoder_find_resume(&dec, &rx, &epoch, &seq) == 1;
	}
	if (found != genuine)
		abort();
	if (found) {
		if (epoch != want_epoch || seq != want_seq)
			abort();
		after = dec.used - dec.start;
		if (after != fed - (at + WD_RESUME_FRAME_BYTES) ||
		    memcmp(dec.buf + dec.start, stream + at + WD_RESUME_FRAME_BYTES, after) != 0)
			abort();
	}
	return 0;
}
