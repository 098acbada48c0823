/*
 * tests/unit/test_resume.c - a broken channel put back (vsock/frame.c's
 * RESUME, vsock/conn.c's kept frames and rewind; docs/protocol.md, "A
 * broken channel").
 *
 * A host and a guest conn are keyed with the same job key over a
 * socketpair; a "break" is a new socketpair in place of the old one, with
 * whatever was in flight lost. The RESUME must be found behind junk, only
 * when it is authentic and from the other side, never inside the stream;
 * the rewind must send again exactly what the peer lacks, and refuse what
 * it cannot honestly do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../vsock/conn.h"
#include "../../vsock/frame.h"

static const uint8_t test_key[WD_KEY_BYTES] = {
	0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe, 0x01, 0x23, 0x45,
	0x67, 0x89, 0xab, 0xcd, 0xef, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
	0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00,
};

struct pair {
	struct wd_conn host, guest;
};

static void connect_pair(struct pair *p, bool init)
{
	int sv[2];
	struct wd_err err;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	if (init) {
		assert_int_equal(wd_conn_init(&p->host, sv[0], WD_SIDE_HOST, &err), 0);
		assert_int_equal(wd_conn_init(&p->guest, sv[1], WD_SIDE_GUEST, &err), 0);
		return;
	}
	wd_conn_detach(&p->host);
	wd_conn_detach(&p->guest);
	assert_int_equal(wd_conn_attach(&p->host, sv[0], &err), 0);
	assert_int_equal(wd_conn_attach(&p->guest, sv[1], &err), 0);
}

static int setup(void **state)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return -1;
	connect_pair(p, true);
	wd_chan_set_key(&p->host.chan, test_key);
	wd_chan_set_key(&p->guest.chan, test_key);
	wd_conn_keep_sent(&p->host);
	wd_conn_keep_sent(&p->guest);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pair *p = *state;

	wd_conn_close(&p->host);
	wd_conn_close(&p->guest);
	free(p);
	return 0;
}

/* Host DATA frames 1..n on stdin, payload "frame N", flushed to the socket. */
static void host_sends(struct pair *p, int from, int to)
{
	struct wd_err err;
	char b[32];

	for (int i = from; i <= to; i++) {
		int n = snprintf(b, sizeof(b), "frame %d", i);

		assert_int_equal(
			wd_conn_send(&p->host, WD_MSG_DATA, WD_STREAM_STDIN, b, (size_t)n, &err),
			0);
	}
	assert_int_equal(wd_conn_flush(&p->host, &err), 0);
}

/* Take up to `max` frames at the guest, checking each is the next one. */
static int guest_takes(struct pair *p, int expect_first, int max)
{
	struct wd_frame f;
	struct wd_err err;
	int got = 0;
	char b[32];

	while (got < max) {
		int rc = wd_conn_next(&p->guest, &f, &err);

		if (rc == 0 && wd_conn_read(&p->guest, &err) > 0)
			continue;
		if (rc == 0)
			break;
		assert_int_equal(rc, 1);
		(void)snprintf(b, sizeof(b), "frame %d", expect_first + got);
		assert_int_equal(f.len, strlen(b));
		assert_memory_equal(f.payload, b, f.len);
		got++;
	}
	return got;
}

static void test_resume_is_found_behind_junk_and_the_stream_follows(void **state)
{
	struct pair *p = *state;
	uint8_t junk[300], frame[WD_RESUME_FRAME_BYTES];
	uint64_t epoch = 0, last = 0;
	struct wd_frame f;
	struct wd_err err;
	uint8_t *where;

	/* Junk that looks like frames: magic, the RESUME header's start, a
	 * cut frame. */
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i % 7 == 0 ? 'W' : i % 7 == 1 ? 'D' : i);
	(void)wd_resume_encode(&p->guest.chan, 3, 77, frame);
	memcpy(junk + 100, frame, 30);
	assert_true(wd_decoder_space(&p->host.dec, &where) > sizeof(junk) + sizeof(frame));
	memcpy(where, junk, sizeof(junk));
	memcpy(where + sizeof(junk), frame, sizeof(frame));
	wd_decoder_fill(&p->host.dec, sizeof(junk) + sizeof(frame));
	assert_int_equal(wd_conn_send(&p->guest, WD_MSG_DATA, WD_STREAM_STDOUT, "x", 1, &err), 0);
	assert_int_equal(wd_conn_flush(&p->guest, &err), 0);
	assert_true(wd_conn_read(&p->host, &err) > 0);

	assert_int_equal(wd_conn_find_resume(&p->host, &epoch, &last), 1);
	assert_int_equal(epoch, 3);
	assert_int_equal(last, 77);
	assert_int_equal(wd_conn_next(&p->host, &f, &err), 1);
	assert_int_equal(f.type, WD_MSG_DATA);
	assert_int_equal(f.seq, 1);
}

static void test_resume_split_in_two_waits_for_the_rest(void **state)
{
	struct pair *p = *state;
	uint8_t frame[WD_RESUME_FRAME_BYTES], *where;
	uint64_t epoch = 0, last = 0;

	(void)wd_resume_encode(&p->guest.chan, 1, 5, frame);
	(void)wd_decoder_space(&p->host.dec, &where);
	memcpy(where, frame, 40);
	wd_decoder_fill(&p->host.dec, 40);
	assert_int_equal(wd_conn_find_resume(&p->host, &epoch, &last), 0);
	(void)wd_decoder_space(&p->host.dec, &where);
	memcpy(where, frame + 40, sizeof(frame) - 40);
	wd_decoder_fill(&p->host.dec, sizeof(frame) - 40);
	assert_int_equal(wd_conn_find_resume(&p->host, &epoch, &last), 1);
	assert_int_equal(last, 5);
}

/* Forged (another key), altered, or the host's own RESUME reflected back:
 * skipped like junk, never taken. */
static void test_forged_altered_or_reflected_resume_is_not_taken(void **state)
{
	struct pair *p = *state;
	uint8_t forged[WD_RESUME_FRAME_BYTES], altered[WD_RESUME_FRAME_BYTES];
	uint8_t reflected[WD_RESUME_FRAME_BYTES], other[WD_KEY_BYTES], *where;
	uint64_t epoch = 0, last = 0;
	struct wd_chan mallory;

	memcpy(other, test_key, sizeof(other));
	other[0] ^= 1;
	wd_chan_init(&mallory, WD_SIDE_GUEST);
	wd_chan_set_key(&mallory, other);
	(void)wd_resume_encode(&mallory, 1, 0, forged);
	(void)wd_resume_encode(&p->guest.chan, 1, 0, altered);
	altered[WD_FRAME_HEADER_BYTES + 7] ^= 1; /* the sequence it claims */
	(void)wd_resume_encode(&p->host.chan, 1, 0, reflected);
	(void)wd_decoder_space(&p->host.dec, &where);
	memcpy(where, forged, sizeof(forged));
	memcpy(where + sizeof(forged), altered, sizeof(altered));
	memcpy(where + 2 * sizeof(forged), reflected, sizeof(reflected));
	/* A byte that starts nothing, so that a MAC ending in a byte that
	 * could begin a header ("W") is not kept as the start of the next. */
	where[3 * sizeof(forged)] = 0;
	wd_decoder_fill(&p->host.dec, 3 * sizeof(forged) + 1);
	assert_int_equal(wd_conn_find_resume(&p->host, &epoch, &last), 0);
	assert_int_equal(p->host.dec.used - p->host.dec.start, 0);
}

static void test_resume_inside_the_stream_is_rejected(void **state)
{
	struct pair *p = *state;
	uint8_t frame[WD_RESUME_FRAME_BYTES], *where;
	struct wd_frame f;
	struct wd_err err;

	(void)wd_resume_encode(&p->guest.chan, 1, 0, frame);
	(void)wd_decoder_space(&p->host.dec, &where);
	memcpy(where, frame, sizeof(frame));
	wd_decoder_fill(&p->host.dec, sizeof(frame));
	assert_int_equal(wd_conn_next(&p->host, &f, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "RESUME inside the stream"));
	assert_int_equal(wd_conn_send(&p->host, WD_MSG_RESUME, 0, "12345678", 8, &err), -EPROTO);
}

/* The whole exchange: the guest took 20 of 50 frames when the channel
 * broke and the rest was lost in flight; after RESUME it gets 21..50, each
 * once, and then the stream goes on. */
static void test_rewind_sends_again_exactly_what_the_peer_lacks(void **state)
{
	struct pair *p = *state;
	uint64_t epoch = 0, last = 99;
	struct wd_err err;

	host_sends(p, 1, 50);
	assert_int_equal(guest_takes(p, 1, 20), 20);
	connect_pair(p, false); /* frames 21..50 are gone with the old socket */

	wd_conn_send_resume(&p->guest, 1);
	assert_int_equal(wd_conn_flush_resume(&p->guest, &err), 0);
	assert_true(wd_conn_read(&p->host, &err) > 0);
	assert_int_equal(wd_conn_find_resume(&p->host, &epoch, &last), 1);
	assert_int_equal(epoch, 1);
	assert_int_equal(last, 20);
	assert_int_equal(wd_conn_rewind(&p->host, last, &err), 0);
	assert_int_equal(p->host.resent_frames, 30);
	wd_conn_send_resume(&p->host, 1);
	assert_int_equal(wd_conn_flush(&p->host, &err), 0);

	assert_true(wd_conn_read(&p->guest, &err) > 0);
	assert_int_equal(wd_conn_find_resume(&p->guest, &epoch, &last), 1);
	assert_int_equal(last, 0);
	assert_int_equal(wd_conn_rewind(&p->guest, last, &err), 0);
	assert_int_equal(guest_takes(p, 21, 100), 30);
	host_sends(p, 51, 52);
	assert_int_equal(guest_takes(p, 51, 100), 2);
}

static void test_rewind_refuses_a_claim_beyond_what_was_sent(void **state)
{
	struct pair *p = *state;
	struct wd_err err;

	host_sends(p, 1, 5);
	assert_int_equal(wd_conn_rewind(&p->host, 6, &err), -EPROTO);
	assert_non_null(strstr(err.msg, "the last sent is 5"));
	assert_int_equal(wd_conn_rewind(&p->host, 5, &err), 0);
}

/* More than WD_CONN_KEEP_BYTES later, the oldest frames are gone: a peer
 * that needs them is told so, never sent a gap; a recent point still works. */
static void test_rewind_past_what_is_kept_is_refused(void **state)
{
	struct pair *p = *state;
	static uint8_t chunk[60000];
	uint8_t sink[65536];
	struct wd_err err;
	size_t sent = 0;

	while (sent < WD_CONN_QUEUE_BYTES + 2 * WD_CONN_KEEP_BYTES) {
		int rc = wd_conn_send(&p->host, WD_MSG_DATA, WD_STREAM_STDIN, chunk, sizeof(chunk),
				      &err);

		assert_int_equal(rc, 0);
		sent += sizeof(chunk);
		while (wd_conn_flush(&p->host, &err) == 1)
			assert_true(read(p->guest.fd, sink, sizeof(sink)) > 0);
	}
	assert_int_equal(wd_conn_rewind(&p->host, 0, &err), -ENOBUFS);
	assert_non_null(strstr(err.msg, "no longer kept"));
	assert_true(p->host.qhead - p->host.qkeep >= WD_CONN_KEEP_BYTES / 2 - sizeof(chunk) - 100);
	assert_int_equal(wd_conn_rewind(&p->host, p->host.chan.send_seq - 10, &err), 0);
	assert_int_equal(p->host.resent_frames, 10);
}

static int handler_calls;
static int handler_answer;
static char handler_why[256];

static int on_break(struct wd_conn *c, void *ctx, const char *why, struct wd_err *err)
{
	(void)c;
	(void)ctx;
	(void)err;
	handler_calls++;
	(void)snprintf(handler_why, sizeof(handler_why), "%s", why);
	return handler_answer;
}

/* The end of the stream goes to the handler: "resumed" is "nothing yet",
 * "final" is the end as without one. */
static void test_break_handler_decides_what_an_end_means(void **state)
{
	struct pair *p = *state;
	struct wd_err err;

	wd_conn_on_break(&p->guest, on_break, NULL);
	(void)shutdown(p->host.fd, SHUT_WR);
	handler_answer = 1;
	assert_int_equal(wd_conn_read(&p->guest, &err), -EAGAIN);
	assert_int_equal(handler_calls, 1);
	assert_non_null(strstr(handler_why, "closed"));
	handler_answer = 0;
	assert_int_equal(wd_conn_read(&p->guest, &err), 0);
	assert_int_equal(handler_calls, 2);
}

/* The peer's last words (an ERROR, say) and then its end: a write that
 * fails first must not lose them. The handler runs at the end of the
 * stream, after they were read. */
static void test_last_words_are_read_before_the_break_is_handled(void **state)
{
	struct pair *p = *state;
	struct wd_frame f;
	struct wd_err err;
	static uint8_t chunk[60000];
	int rc = 0;

	wd_conn_on_break(&p->host, on_break, NULL);
	handler_calls = 0;
	handler_answer = 0;
	assert_int_equal(wd_conn_send(&p->guest, WD_MSG_DATA, WD_STREAM_STDOUT, "bye", 3, &err), 0);
	assert_int_equal(wd_conn_flush(&p->guest, &err), 0);
	(void)close(p->guest.fd);
	p->guest.fd = -1;
	/* The host goes on writing into a socket nobody reads any more. */
	for (int i = 0; i < 200 && rc == 0; i++) {
		assert_int_equal(wd_conn_send(&p->host, WD_MSG_DATA, WD_STREAM_STDIN, chunk,
					      sizeof(chunk), &err),
				 0);
		rc = wd_conn_flush(&p->host, &err);
		if (p->host.write_broken)
			break;
	}
	assert_true(p->host.write_broken);
	assert_int_equal(handler_calls, 0);
	assert_false(wd_conn_want_write(&p->host));
	assert_true(wd_conn_read(&p->host, &err) > 0);
	assert_int_equal(wd_conn_next(&p->host, &f, &err), 1);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.payload, "bye", 3);
	assert_int_equal(wd_conn_read(&p->host, &err), 0);
	assert_int_equal(handler_calls, 1);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_resume_is_found_behind_junk_and_the_stream_follows),
		T(test_resume_split_in_two_waits_for_the_rest),
		T(test_forged_altered_or_reflected_resume_is_not_taken),
		T(test_resume_inside_the_stream_is_rejected),
		T(test_rewind_sends_again_exactly_what_the_peer_lacks),
		T(test_rewind_refuses_a_claim_beyond_what_was_sent),
		T(test_rewind_past_what_is_kept_is_refused),
		T(test_break_handler_decides_what_an_end_means),
		T(test_last_words_are_read_before_the_break_is_handled),
	};

	(void)signal(SIGPIPE, SIG_IGN); /* as both programs do: EPIPE, not a signal */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
