/*
 * tests/unit/test_frame.c - vsock/frame.c: framing, per-direction MACs and
 * sequence numbers between host and guest.
 *
 * Each test has a host and a guest, each with its own channel state and
 * receive decoder; frames are encoded by one and fed, whole, altered or
 * in pieces, to the other (or back to the sender, as a reflection). Every
 * rejection must be an error with a reason, and final.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/frame.h"
#include "../../vsock/msg.h"

#define OUT_BYTES 4096

struct side {
	struct wd_chan ch;
	struct wd_decoder dec;
	uint8_t *buf;
};

struct pair {
	struct side host, guest;
};

static const uint8_t test_key[WD_KEY_BYTES] = {
	0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
	0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
	0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
};

static void side_init(struct side *s, enum wd_side who)
{
	wd_chan_init(&s->ch, who);
	s->buf = malloc(WD_FRAME_MAX_BYTES);
	assert_non_null(s->buf);
	wd_decoder_init(&s->dec, s->buf, WD_FRAME_MAX_BYTES);
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	side_init(&p->host, WD_SIDE_HOST);
	side_init(&p->guest, WD_SIDE_GUEST);
	*state = p;
	return 0;
}

/* Both sides already hold the job key (the KEY exchange is its own test). */
static int setup_keyed(void **state)
{
	struct pair *p;

	if (setup(state) < 0)
		return -1;
	p = *state;
	wd_chan_set_key(&p->host.ch, test_key);
	wd_chan_set_key(&p->guest.ch, test_key);
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	free(p->host.buf);
	free(p->guest.buf);
	free(p);
	return 0;
}

static size_t encode(struct side *from, unsigned type, uint32_t stream, const void *payload,
		     size_t len, uint8_t *out)
{
	struct wd_err err;
	int n = wd_frame_encode(&from->ch, type, stream, payload, len, out, OUT_BYTES, &err);

	assert_true(n > 0);
	return (size_t)n;
}

static void feed(struct side *to, const uint8_t *bytes, size_t n)
{
	uint8_t *where;
	size_t room = wd_decoder_space(&to->dec, &where);

	assert_true(room >= n);
	memcpy(where, bytes, n);
	wd_decoder_fill(&to->dec, n);
}

static int next(struct side *to, struct wd_frame *f, struct wd_err *err)
{
	int rc;

	wd_err_clear(err);
	rc = wd_decoder_next(&to->dec, &to->ch, f, err);
	if (rc < 0) {
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	}
	return rc;
}

/* Feed one frame and expect it rejected with `code` and a reason naming `why`. */
static void expect_rejected(struct side *to, const uint8_t *frame, size_t n, int code,
			    const char *why)
{
	struct wd_frame f;
	struct wd_err err;

	feed(to, frame, n);
	assert_int_equal(next(to, &f, &err), -code);
	assert_non_null(strstr(err.msg, why));
}

/* A READY frame as a guest sends it before the key. */
static size_t ready_frame(uint8_t *out)
{
	struct wd_chan ch;
	uint8_t payload[WD_READY_BYTES];
	struct wd_err err;
	int n;

	wd_chan_init(&ch, WD_SIDE_GUEST);
	(void)wd_ready_encode(payload);
	n = wd_frame_encode(&ch, WD_MSG_READY, WD_STREAM_CONTROL, payload, sizeof(payload), out,
			    OUT_BYTES, &err);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_keyed_frame_round_trips(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;
	size_t n = encode(&p->host, WD_MSG_DATA, WD_STREAM_STDIN, "hello", 5, out);

	assert_int_equal(n, WD_FRAME_HEADER_BYTES + 5 + WD_FRAME_MAC_BYTES);
	feed(&p->guest, out, n);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_DATA);
	assert_int_equal(f.flags, WD_FLAG_MAC);
	assert_int_equal(f.stream, WD_STREAM_STDIN);
	assert_int_equal(f.seq, 1);
	assert_int_equal(f.len, 5);
	assert_memory_equal(f.payload, "hello", 5);
	assert_int_equal(next(&p->guest, &f, &err), 0);
}

static void test_empty_data_frame_round_trips(void **state)
{
	struct pair *p = *state;
	size_t n;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;

	n = encode(&p->guest, WD_MSG_DATA, WD_STREAM_STDOUT, NULL, 0, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.stream, WD_STREAM_STDOUT);
	assert_int_equal(f.len, 0);
}

static void test_sequence_numbers_count_up_by_one_per_direction(void **state)
{
	struct pair *p = *state;
	size_t n;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;

	for (uint64_t i = 1; i <= 5; i++) {
		n = encode(&p->host, WD_MSG_DATA, 1, "x", 1, out);
		feed(&p->guest, out, n);
		assert_int_equal(next(&p->guest, &f, &err), 1);
		assert_int_equal(f.seq, i);
	}
	n = encode(&p->guest, WD_MSG_DATA, 2, "y", 1, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.seq, 1);
}

static void test_flipped_payload_bit_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = encode(&p->host, WD_MSG_DATA, 1, "hello", 5, out);

	out[WD_FRAME_HEADER_BYTES + 2] ^= 0x01;
	expect_rejected(&p->guest, out, n, EBADMSG, "MAC mismatch");
}

static void test_flipped_header_bit_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = encode(&p->host, WD_MSG_DATA, 1, "hello", 5, out);

	out[11] ^= 0x02; /* stream id 1 becomes 3: still a valid stream */
	expect_rejected(&p->guest, out, n, EBADMSG, "MAC mismatch");
}

static void test_flipped_mac_bit_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = encode(&p->host, WD_MSG_DATA, 1, "hello", 5, out);

	out[n - 1] ^= 0x80;
	expect_rejected(&p->guest, out, n, EBADMSG, "MAC mismatch");
}

static void test_frame_under_another_key_is_rejected(void **state)
{
	struct pair *p = *state;
	struct wd_chan other;
	uint8_t out[OUT_BYTES], key[WD_KEY_BYTES];
	struct wd_err err;
	int n;

	memcpy(key, test_key, sizeof(key));
	key[0] ^= 1;
	wd_chan_init(&other, WD_SIDE_HOST);
	wd_chan_set_key(&other, key);
	n = wd_frame_encode(&other, WD_MSG_DATA, 1, "x", 1, out, sizeof(out), &err);
	assert_true(n > 0);
	expect_rejected(&p->guest, out, (size_t)n, EBADMSG, "MAC mismatch");
}

static void test_replayed_frame_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;
	size_t n = encode(&p->host, WD_MSG_DATA, 1, "once", 4, out);

	feed(&p->guest, out, n);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	expect_rejected(&p->guest, out, n, EPROTO, "replayed");
}

static void test_out_of_order_sequence_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t first[OUT_BYTES], second[OUT_BYTES];
	size_t n1 = encode(&p->host, WD_MSG_DATA, 1, "1", 1, first);
	size_t n2 = encode(&p->host, WD_MSG_DATA, 1, "2", 1, second);

	(void)n1;
	expect_rejected(&p->guest, second, n2, EPROTO, "sequence");
}

static void test_older_sequence_after_newer_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t f1[OUT_BYTES], f2[OUT_BYTES];
	size_t n1 = encode(&p->host, WD_MSG_DATA, 1, "1", 1, f1);
	size_t n2 = encode(&p->host, WD_MSG_DATA, 1, "2", 1, f2);
	struct wd_frame f;
	struct wd_err err;

	feed(&p->guest, f1, n1);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	feed(&p->guest, f2, n2);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	expect_rejected(&p->guest, f1, n1, EPROTO, "replayed or reordered");
}

static void test_skipped_sequence_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t f1[OUT_BYTES], f3[OUT_BYTES];
	size_t n1 = encode(&p->host, WD_MSG_DATA, 1, "1", 1, f1);
	size_t n3;
	struct wd_frame f;
	struct wd_err err;

	(void)encode(&p->host, WD_MSG_DATA, 1, "2", 1, f3); /* dropped on the way */
	n3 = encode(&p->host, WD_MSG_DATA, 1, "3", 1, f3);
	feed(&p->guest, f1, n1);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	expect_rejected(&p->guest, f3, n3, EPROTO, "skips");
}

static void test_oversize_length_is_rejected_from_the_header(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	uint32_t len = (uint32_t)WD_FRAME_MAX_PAYLOAD + 1;

	(void)encode(&p->host, WD_MSG_DATA, 1, "x", 1, out);
	out[20] = (uint8_t)(len >> 24);
	out[21] = (uint8_t)(len >> 16);
	out[22] = (uint8_t)(len >> 8);
	out[23] = (uint8_t)len;
	/* The header alone is enough: no megabyte is awaited first. */
	expect_rejected(&p->guest, out, WD_FRAME_HEADER_BYTES, EMSGSIZE, "length");
}

static void test_encoder_refuses_an_oversize_payload(void **state)
{
	struct pair *p = *state;
	uint8_t *big = calloc(1, (size_t)WD_FRAME_MAX_BYTES);
	struct wd_err err;
	int rc;

	assert_non_null(big);
	rc = wd_frame_encode(&p->host.ch, WD_MSG_DATA, 1, big, (size_t)WD_FRAME_MAX_PAYLOAD + 1,
			     big, (size_t)WD_FRAME_MAX_BYTES, &err);
	free(big);
	assert_int_equal(rc, -E2BIG);
}

static void test_truncated_frame_waits_for_more_bytes(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;
	size_t n = encode(&p->host, WD_MSG_DATA, 1, "hello", 5, out);

	feed(&p->guest, out, WD_FRAME_HEADER_BYTES - 1);
	assert_int_equal(next(&p->guest, &f, &err), 0);
	feed(&p->guest, out + WD_FRAME_HEADER_BYTES - 1, n - WD_FRAME_HEADER_BYTES);
	assert_int_equal(next(&p->guest, &f, &err), 0);
	assert_int_equal(next(&p->guest, &f, &err), 0);
	feed(&p->guest, out + n - 1, 1);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	assert_memory_equal(f.payload, "hello", 5);
}

/* A frame header with the given type, sequence number 0, no MAC, length 0. */
static void raw_header(uint8_t *h, unsigned type)
{
	memset(h, 0, WD_FRAME_HEADER_BYTES);
	h[0] = 'W';
	h[1] = 'D';
	h[2] = WD_PROTO_VERSION;
	h[3] = (uint8_t)type;
}

static void test_unknown_type_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t h[WD_FRAME_HEADER_BYTES];

	raw_header(h, WD_MSG_TYPE_MAX + 1);
	expect_rejected(&p->host, h, sizeof(h), EPROTO, "unknown type");
}

static void test_type_zero_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t h[WD_FRAME_HEADER_BYTES];

	raw_header(h, 0);
	expect_rejected(&p->guest, h, sizeof(h), EPROTO, "unknown type");
}

static void test_type_sent_in_the_wrong_direction_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = encode(&p->host, WD_MSG_SIGNAL, WD_STREAM_CONTROL, "\0\0\0\x0f", 4, out);

	/* The host's own SIGNAL frame, reflected back at it. */
	expect_rejected(&p->host, out, n, EPROTO, "not one this side receives");
}

static void test_host_data_reflected_to_the_host_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = encode(&p->host, WD_MSG_DATA, WD_STREAM_STDIN, "ls\n", 3, out);

	/* DATA flows both ways, so only the direction key tells them apart. */
	expect_rejected(&p->host, out, n, EBADMSG, "MAC mismatch");
}

static void test_egress_types_pass_only_in_their_direction(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_frame f;
	struct wd_err err;
	size_t n;

	/* OPEN goes guest -> host, REPLY host -> guest, WINDOW and CLOSE both. */
	assert_true(wd_msg_type_valid_for(WD_SIDE_HOST, WD_MSG_EG_OPEN));
	assert_false(wd_msg_type_valid_for(WD_SIDE_GUEST, WD_MSG_EG_OPEN));
	assert_true(wd_msg_type_valid_for(WD_SIDE_GUEST, WD_MSG_EG_REPLY));
	assert_false(wd_msg_type_valid_for(WD_SIDE_HOST, WD_MSG_EG_REPLY));
	for (unsigned t = WD_MSG_EG_WINDOW; t <= WD_MSG_EG_CLOSE; t++) {
		assert_true(wd_msg_type_valid_for(WD_SIDE_HOST, t));
		assert_true(wd_msg_type_valid_for(WD_SIDE_GUEST, t));
	}
	assert_string_equal(wd_msg_type_name(WD_MSG_EG_OPEN), "EG_OPEN");
	assert_string_equal(wd_msg_type_name(WD_MSG_EG_CLOSE), "EG_CLOSE");
	n = encode(&p->guest, WD_MSG_EG_OPEN, WD_STREAM_EGRESS_BASE, "\1\273\1\1x", 5, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_EG_OPEN);
	assert_int_equal(f.stream, WD_STREAM_EGRESS_BASE);
	/* The guest's OPEN reflected back at the guest. */
	expect_rejected(&p->guest, out, n, EPROTO, "not one this side receives");
}

static void test_egress_frames_are_told_apart_from_the_jobs(void **state)
{
	(void)state;
	assert_true(wd_frame_is_egress(WD_MSG_DATA, WD_STREAM_EGRESS_BASE));
	assert_true(wd_frame_is_egress(WD_MSG_EG_WINDOW, WD_STREAM_STDIN));
	assert_false(wd_frame_is_egress(WD_MSG_DATA, WD_STREAM_STDIN));
	assert_false(wd_frame_is_egress(WD_MSG_DATA, WD_STREAM_EGRESS_BASE - 1));
	assert_false(wd_frame_is_egress(WD_MSG_RESUME, WD_STREAM_EGRESS_BASE));
	assert_false(wd_frame_is_egress(WD_MSG_STDIN_ACK, WD_STREAM_EGRESS_BASE));
}

static void test_encoder_refuses_a_type_this_side_does_not_send(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_err err;

	assert_int_equal(
		wd_frame_encode(&p->guest.ch, WD_MSG_JOB, 0, "{}", 2, out, sizeof(out), &err),
		-EPROTO);
	assert_int_equal(
		wd_frame_encode(&p->host.ch, WD_MSG_EXIT, 0, "{}", 2, out, sizeof(out), &err),
		-EPROTO);
}

static void test_unkeyed_frame_after_an_authenticated_one_is_rejected(void **state)
{
	struct pair *p = *state;
	size_t n;
	uint8_t ready[OUT_BYTES], out[OUT_BYTES];
	size_t nr = ready_frame(ready);
	struct wd_frame f;
	struct wd_err err;

	n = encode(&p->guest, WD_MSG_HELLO, 0, "{}", 2, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	expect_rejected(&p->host, ready, nr, EACCES, "after the key");
}

static void test_key_to_a_keyed_guest_is_rejected(void **state)
{
	struct pair *p = *state;
	struct wd_chan fresh;
	uint8_t out[OUT_BYTES];
	struct wd_err err;
	int n;

	wd_chan_init(&fresh, WD_SIDE_HOST);
	n = wd_frame_encode(&fresh, WD_MSG_KEY, 0, test_key, WD_KEY_BYTES, out, sizeof(out), &err);
	assert_true(n > 0);
	expect_rejected(&p->guest, out, (size_t)n, EACCES, "after the key");
}

static void test_keyed_type_without_mac_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t h[WD_FRAME_HEADER_BYTES];

	raw_header(h, WD_MSG_HELLO);
	expect_rejected(&p->host, h, sizeof(h), EACCES, "no MAC");
}

static void test_mac_frame_before_the_key_is_rejected(void **state)
{
	struct pair *p = *state;
	struct wd_chan keyed;
	uint8_t out[OUT_BYTES];
	struct wd_err err;
	int n;

	wd_chan_init(&keyed, WD_SIDE_HOST);
	wd_chan_set_key(&keyed, test_key);
	n = wd_frame_encode(&keyed, WD_MSG_JOB, 0, "{}", 2, out, sizeof(out), &err);
	assert_true(n > 0);
	expect_rejected(&p->guest, out, (size_t)n, EACCES, "before any key");
}

static void test_encoder_refuses_keyed_type_before_the_key(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	struct wd_err err;

	assert_int_equal(
		wd_frame_encode(&p->host.ch, WD_MSG_JOB, 0, "{}", 2, out, sizeof(out), &err),
		-EPROTO);
}

static void test_unkeyed_frame_with_a_sequence_number_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = ready_frame(out);

	out[19] = 1;
	expect_rejected(&p->host, out, n, EPROTO, "sequence number");
}

static void test_bad_magic_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = ready_frame(out);

	out[1] = 'X';
	expect_rejected(&p->host, out, n, EPROTO, "bad magic");
}

static void test_bad_version_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = ready_frame(out);

	out[2] = WD_PROTO_VERSION + 1;
	expect_rejected(&p->host, out, n, EPROTO, "version");
}

static void test_reserved_flag_bit_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = ready_frame(out);

	out[4] = 0x02;
	expect_rejected(&p->host, out, n, EPROTO, "reserved");
}

static void test_reserved_header_byte_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t out[OUT_BYTES];
	size_t n = ready_frame(out);

	out[7] = 0x01;
	expect_rejected(&p->host, out, n, EPROTO, "reserved");
}

static void test_decoder_stays_failed_after_an_error(void **state)
{
	struct pair *p = *state;
	uint8_t bad[OUT_BYTES], good[OUT_BYTES];
	size_t nb = ready_frame(bad), ng = ready_frame(good);
	struct wd_frame f;
	struct wd_err err;

	bad[0] = 'X';
	expect_rejected(&p->host, bad, nb, EPROTO, "bad magic");
	/* A fresh decoder would take this READY; a failed one never again. */
	assert_int_equal(next(&p->host, &f, &err), -EPROTO);
	p->host.dec.used = 0; /* drop the bad bytes: the failure must not depend on them */
	feed(&p->host, good, ng);
	assert_int_equal(next(&p->host, &f, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "already failed"));
}

static void test_key_exchange_then_authenticated_flow(void **state)
{
	struct pair *p = *state;
	size_t n;
	uint8_t out[OUT_BYTES], key[WD_KEY_BYTES];
	struct wd_frame f;
	struct wd_err err;

	/* guest: READY */
	n = ready_frame(out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_READY);
	assert_int_equal(wd_ready_decode(f.payload, f.len, &err), 0);
	/* host: KEY, unkeyed, then it keys itself */
	n = encode(&p->host, WD_MSG_KEY, 0, test_key, WD_KEY_BYTES, out);
	feed(&p->guest, out, n);
	wd_chan_set_key(&p->host.ch, test_key);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_KEY);
	assert_int_equal(f.flags, 0);
	assert_int_equal(f.seq, 0);
	assert_int_equal(wd_key_decode(f.payload, f.len, key, &err), 0);
	wd_chan_set_key(&p->guest.ch, key);
	/* guest: HELLO; host: JOB; both authenticated from sequence 1 */
	n = encode(&p->guest, WD_MSG_HELLO, 0, "{}", 2, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_HELLO);
	assert_int_equal(f.seq, 1);
	n = encode(&p->host, WD_MSG_JOB, 0, "{}", 2, out);
	feed(&p->guest, out, n);
	assert_int_equal(next(&p->guest, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_JOB);
	assert_int_equal(f.seq, 1);
	n = encode(&p->guest, WD_MSG_STARTED, 0, "{}", 2, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.seq, 2);
}

static void test_ready_repeated_before_hello_is_accepted_on_the_host(void **state)
{
	struct pair *p = *state;
	size_t n;
	uint8_t out[OUT_BYTES], ready[OUT_BYTES];
	size_t nr = ready_frame(ready);
	struct wd_frame f;
	struct wd_err err;

	for (int i = 0; i < 3; i++) {
		feed(&p->host, ready, nr);
		assert_int_equal(next(&p->host, &f, &err), 1);
	}
	(void)encode(&p->host, WD_MSG_KEY, 0, test_key, WD_KEY_BYTES, out);
	wd_chan_set_key(&p->host.ch, test_key);
	wd_chan_set_key(&p->guest.ch, test_key);
	/* READYs sent before the guest saw the KEY are still in flight. */
	feed(&p->host, ready, nr);
	assert_int_equal(next(&p->host, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_READY);
	n = encode(&p->guest, WD_MSG_HELLO, 0, "{}", 2, out);
	feed(&p->host, out, n);
	assert_int_equal(next(&p->host, &f, &err), 1);
	expect_rejected(&p->host, ready, nr, EACCES, "after the key");
}

static void test_frames_split_across_tiny_fills_come_out_whole(void **state)
{
	struct pair *p = *state;
	uint8_t stream[3 * OUT_BYTES];
	size_t total = 0;
	struct wd_frame f;
	struct wd_err err;
	unsigned got = 0;

	for (unsigned i = 0; i < 3; i++) {
		char payload[16];

		memset(payload, 'a' + (int)i, sizeof(payload));
		total += encode(&p->host, WD_MSG_DATA, 1, payload, 5 + i, stream + total);
	}
	for (size_t off = 0; off < total; off += 3) {
		size_t chunk = total - off < 3 ? total - off : 3;
		int rc;

		feed(&p->guest, stream + off, chunk);
		while ((rc = next(&p->guest, &f, &err)) == 1) {
			assert_int_equal(f.seq, got + 1);
			assert_int_equal(f.len, 5 + got);
			assert_int_equal(f.payload[0], 'a' + (int)got);
			got++;
		}
		assert_int_equal(rc, 0);
	}
	assert_int_equal(got, 3);
}

static void test_frames_fed_byte_by_byte_come_out_whole(void **state)
{
	struct pair *p = *state;
	uint8_t stream[2 * OUT_BYTES];
	size_t total = ready_frame(stream);
	struct wd_frame f;
	struct wd_err err;
	unsigned got = 0;

	wd_chan_set_key(&p->guest.ch, test_key);
	wd_chan_set_key(&p->host.ch, test_key);
	total += encode(&p->guest, WD_MSG_HELLO, 0, "{\"a\":1}", 7, stream + total);
	for (size_t i = 0; i < total; i++) {
		feed(&p->host, stream + i, 1);
		while (next(&p->host, &f, &err) == 1)
			got++;
	}
	assert_int_equal(got, 2);
}

#define KEYED(t) cmocka_unit_test_setup_teardown(t, setup_keyed, teardown)
#define UNKEYED(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		KEYED(test_keyed_frame_round_trips),
		KEYED(test_empty_data_frame_round_trips),
		KEYED(test_sequence_numbers_count_up_by_one_per_direction),
		KEYED(test_flipped_payload_bit_is_rejected),
		KEYED(test_flipped_header_bit_is_rejected),
		KEYED(test_flipped_mac_bit_is_rejected),
		KEYED(test_frame_under_another_key_is_rejected),
		KEYED(test_replayed_frame_is_rejected),
		KEYED(test_out_of_order_sequence_is_rejected),
		KEYED(test_older_sequence_after_newer_is_rejected),
		KEYED(test_skipped_sequence_is_rejected),
		KEYED(test_oversize_length_is_rejected_from_the_header),
		KEYED(test_encoder_refuses_an_oversize_payload),
		KEYED(test_truncated_frame_waits_for_more_bytes),
		UNKEYED(test_unknown_type_is_rejected),
		UNKEYED(test_type_zero_is_rejected),
		KEYED(test_type_sent_in_the_wrong_direction_is_rejected),
		KEYED(test_host_data_reflected_to_the_host_is_rejected),
		KEYED(test_egress_types_pass_only_in_their_direction),
		cmocka_unit_test(test_egress_frames_are_told_apart_from_the_jobs),
		UNKEYED(test_encoder_refuses_a_type_this_side_does_not_send),
		KEYED(test_unkeyed_frame_after_an_authenticated_one_is_rejected),
		KEYED(test_key_to_a_keyed_guest_is_rejected),
		KEYED(test_keyed_type_without_mac_is_rejected),
		UNKEYED(test_mac_frame_before_the_key_is_rejected),
		UNKEYED(test_encoder_refuses_keyed_type_before_the_key),
		UNKEYED(test_unkeyed_frame_with_a_sequence_number_is_rejected),
		UNKEYED(test_bad_magic_is_rejected),
		UNKEYED(test_bad_version_is_rejected),
		UNKEYED(test_reserved_flag_bit_is_rejected),
		UNKEYED(test_reserved_header_byte_is_rejected),
		UNKEYED(test_decoder_stays_failed_after_an_error),
		UNKEYED(test_key_exchange_then_authenticated_flow),
		UNKEYED(test_ready_repeated_before_hello_is_accepted_on_the_host),
		KEYED(test_frames_split_across_tiny_fills_come_out_whole),
		UNKEYED(test_frames_fed_byte_by_byte_come_out_whole),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
