/*
 * tests/fuzz/fuzz_stream.c - the egress stream payloads (vsock/msgeg.c)
 * and the stream core (egress/mux.c) fed what a hostile peer sends.
 *
 *   byte 0 % 5  0 EG_OPEN, 1 EG_REPLY, 2 EG_WINDOW, 3 EG_CLOSE: the rest
 *               is one payload; what decodes must encode to the same bytes
 *               4: a mux program (below)
 *
 * A mux program: byte 1 sets max_streams (1..8); then operations, each a
 * byte and its arguments: open an id, attach a socketpair (with first
 * bytes), write to or end or reset a socket's far end, feed a DATA,
 * EG_WINDOW or EG_CLOSE frame for an opened or an arbitrary id, run,
 * reset, cancel, read the far ends. A frame the mux refuses stops the
 * program (the caller would fail the channel). Every other call must
 * succeed or fail only as mux.h says, the counters must stay within
 * their bounds, and a stream ends DONE only when attached and by its own
 * count (never the peer's word). Frames the mux sends go to a keyed
 * channel whose other end is drained.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../egress/mux.h"
#include "fuzz_key.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_IDS 64
#define MAX_PEERS 16

struct prog {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct prog *g)
{
	uint8_t b;

	if (g->n == 0)
		return 0;
	b = *g->p++;
	g->n--;
	return b;
}

static void round_trip(unsigned sel, const uint8_t *p, size_t n)
{
	static uint8_t out[WD_EG_REPLY_MAX_BYTES];
	struct wd_eg_open o;
	struct wd_eg_reply r;
	enum wd_eg_close c;
	uint32_t w;
	struct wd_err err;
	int k = -1;

	switch (sel) {
	case 0:
		if (wd_eg_open_decode(p, n, &o, &err) < 0)
			return;
		k = wd_eg_open_encode(&o, out, &err);
		break;
	case 1:
		if (wd_eg_reply_decode(p, n, &r, &err) < 0)
			return;
		k = wd_eg_reply_encode(&r, out, &err);
		break;
	case 2:
		if (wd_eg_window_decode(p, n, &w, &err) < 0)
			return;
		wd_eg_window_encode(w, out);
		k = WD_EG_WINDOW_BYTES;
		break;
	default:
		if (wd_eg_close_decode(p, n, &c, &err) < 0)
			return;
		wd_eg_close_encode(c, out);
		k = WD_EG_CLOSE_BYTES;
		break;
	}
	if (k < 0 || (size_t)k != n || memcmp(out, p, n) != 0)
		abort(); /* the decoder took something its encoder would not write */
}

static struct wd_conn conn;
static int drain_fd = -1;

static void drain(void)
{
	static uint8_t b[65536];
	struct wd_err err;
	int rc;

	do {
		while (recv(drain_fd, b, sizeof(b), MSG_DONTWAIT) > 0)
			;
		rc = wd_conn_flush(&conn, &err);
		if (rc < 0)
			abort();
	} while (rc == 1);
	while (recv(drain_fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static void setup(void)
{
	struct wd_err err;
	int sv[2];

	if (drain_fd >= 0)
		return;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 ||
	    wd_conn_init(&conn, sv[0], WD_SIDE_GUEST, &err) < 0)
		abort();
	wd_chan_set_key(&conn.chan, fuzz_key);
	drain_fd = sv[1];
}

struct state {
	struct wd_eg_mux *m;
	uint32_t ids[MAX_IDS];
	size_t nids;
	int peers[MAX_PEERS];
	size_t npeers;
};

static uint32_t pick_id(struct state *s, struct prog *g)
{
	uint8_t b = next(g);

	if (b < 0xf0 && s->nids > 0)
		return s->ids[b % s->nids];
	return (uint32_t)next(g) << 24 | (uint32_t)next(g) << 16 | (uint32_t)next(g) << 8 | next(g);
}

static void op_open(struct state *s, struct prog *g)
{
	uint32_t id = wd_eg_mux_next_id(s->m) + next(g) % 4;
	struct wd_err err;
	int rc = wd_eg_mux_open(s->m, id, NULL, &err);

	if (rc != 0 && rc != -EMFILE)
		abort();
	if (s->nids < MAX_IDS)
		s->ids[s->nids++] = id;
}

static void op_attach(struct state *s, struct prog *g)
{
	uint32_t id = pick_id(s, g);
	size_t len = next(g) % 32;
	struct wd_err err;
	int sv[2], rc;

	if (len > g->n)
		len = g->n;
	if (s->npeers == MAX_PEERS ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) < 0)
		return;
	rc = wd_eg_mux_attach(s->m, id, sv[0], g->p, len, &err);
	g->p += len;
	g->n -= len;
	if (rc == 0)
		s->peers[s->npeers++] = sv[1];
	else if (rc == -ENOENT)
		(void)close(sv[1]);
	else
		abort();
}

static void op_peer(struct state *s, struct prog *g)
{
	uint8_t how = next(g);
	size_t len = next(g);
	int fd;

	if (s->npeers == 0)
		return;
	fd = s->peers[how % s->npeers];
	if (len > g->n)
		len = g->n;
	switch (how >> 6) {
	case 0:
		(void)send(fd, g->p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		g->p += len;
		g->n -= len;
		break;
	case 1:
		(void)shutdown(fd, SHUT_WR);
		break;
	case 2: {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};

		(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		(void)shutdown(fd, SHUT_RDWR);
		break;
	}
	default:
		break;
	}
}

/* Returns false when the mux refused the frame. */
static bool op_frame(struct state *s, struct prog *g)
{
	static const uint8_t zeros[WD_EG_CHUNK + 1];
	static const uint8_t types[] = {WD_MSG_DATA, WD_MSG_EG_WINDOW, WD_MSG_EG_CLOSE};
	struct wd_frame f = {.type = types[next(g) % 3]};
	uint8_t l;
	struct wd_err err;

	f.stream = pick_id(s, g);
	l = next(g);
	if (l >= 0xfe) {
		f.payload = zeros;
		f.len = (uint32_t)(WD_EG_CHUNK + (l & 1U));
	} else {
		f.len = l < g->n ? l : (uint32_t)g->n;
		f.payload = g->p;
		g->p += f.len;
		g->n -= f.len;
	}
	if (f.type == WD_MSG_DATA && !wd_stream_is_egress(f.stream))
		f.stream += WD_STREAM_EGRESS_BASE; /* the caller routes only egress DATA here */
	return wd_eg_mux_frame(s->m, &f, &err) == 0;
}

/* DONE is counted, never told: only an attached stream, not by the peer. */
static void check_end(void *ctx, const struct wd_eg_end *e)
{
	(void)ctx;
	if (e->reason == WD_EG_CLOSE_DONE && (!e->attached || e->by_peer))
		abort();
}

static void check(const struct state *s)
{
	struct wd_eg_mux_stats st;

	wd_eg_mux_stats(s->m, &st);
	if (st.live + st.pending > 8 || st.buffered_bytes > (size_t)st.live * 2 * WD_EG_WINDOW ||
	    (st.buffered_bytes == 0) != (st.buffers == 0))
		abort();
}

static void program(struct prog *g)
{
	struct wd_eg_mux_config cfg = {.max_streams = 1U + next(g) % 8U, .on_close = check_end};
	struct state s = {0};
	struct wd_err err;
	bool ok = true;

	if (wd_eg_mux_new(&s.m, &conn, &cfg, &err) < 0)
		abort();
	while (ok && g->n > 0) {
		uint8_t op = next(g);

		switch (op % 8) {
		case 0:
			op_open(&s, g);
			break;
		case 1:
			op_attach(&s, g);
			break;
		case 2:
			op_peer(&s, g);
			break;
		case 3:
			ok = op_frame(&s, g);
			break;
		case 4:
			if (wd_eg_mux_run(s.m, &err) < 0)
				abort();
			(void)wd_eg_mux_next_deadline(s.m);
			break;
		case 5: {
			int rc = wd_eg_mux_reset(s.m, pick_id(&s, g), WD_EG_CLOSE_RESET, &err);

			if (rc != 0 && rc != -ENOENT)
				abort();
			break;
		}
		case 6: {
			int rc = wd_eg_mux_cancel(s.m, pick_id(&s, g), (op & 8) != 0,
						  WD_EG_CLOSE_SHUTDOWN, &err);

			if (rc != 0 && rc != -ENOENT)
				abort();
			break;
		}
		default:
			drain();
			for (size_t i = 0; i < s.npeers; i++) {
				uint8_t b[4096];

				while (recv(s.peers[i], b, sizeof(b), MSG_DONTWAIT) > 0)
					;
			}
			break;
		}
		check(&s);
		drain();
	}
	if (ok) {
		struct wd_eg_mux_stats st;

		if (wd_eg_mux_close_all(s.m, WD_EG_CLOSE_JOB_END, true, &err) < 0)
			abort();
		wd_eg_mux_stats(s.m, &st);
		if (st.live + st.pending != 0 || st.buffers != 0)
			abort();
	}
	wd_eg_mux_free(s.m);
	for (size_t i = 0; i < s.npeers; i++)
		(void)close(s.peers[i]);
	drain();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prog g = {data + 1, size > 0 ? size - 1 : 0};

	if (size == 0)
		return 0;
	if (data[0] % 5 < 4) {
		round_trip(data[0] % 5U, data + 1, size - 1);
		return 0;
	}
	setup();
	program(&g);
	return 0;
}
