/*
 * tests/unit/test_egress_mux.c - egress/mux.c: streams pumped between
 * sockets and the authenticated channel (docs/protocol.md, "Streams").
 *
 * Two muxes, a guest's and a host's, talk over a keyed wd_conn pair on a
 * socketpair in this one process. Each stream has four sockets: the
 * test's "client" and the guest mux's end (a socketpair or a loopback TCP
 * connection: the agent's connection to the proxy), and the host mux's
 * end and the test's "server" (the dialed connection). The test plays the
 * proxy and the dialer: the guest opens with EG_OPEN, the host answers
 * EG_REPLY and both attach. Bytes are a pattern that depends on the
 * stream, the direction and the position, so a byte lost, doubled or
 * moved to another stream is seen. No assertion depends on timing: loops
 * run until a condition holds, with a bound on rounds that only a hang
 * reaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../egress/mux.h"

#define MAX_STREAMS 512
#define MAX_ENDS 1024
#define ROUNDS 200000 /* poll rounds before a test counts as hung */
#define KIB ((uint64_t)1024)
#define MIB (1024 * KIB)

static const uint8_t test_key[WD_KEY_BYTES] = {
	0x21, 0x43, 0x65, 0x87, 0xa9, 0xcb, 0xed, 0x0f, 0x12, 0x34, 0x56,
	0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x13, 0x24, 0x35, 0x46, 0x57, 0x68,
	0x79, 0x8a, 0x9b, 0xac, 0xbd, 0xce, 0xdf, 0xe0, 0xf1, 0x02,
};

/* One direction of the test's own end of a stream. */
struct app {
	int fd;
	uint32_t seed_out, seed_in; /* patterns written and expected */
	uint64_t to_send, sent;
	uint64_t expect, got;
	bool send_after_eof; /* answer only once the other side ended (half-close) */
	bool no_read;        /* a reader that never reads */
	bool eof_sent, eof_seen;
	int read_errno;
	bool bad; /* a byte that does not match */
};

struct tstream {
	uint32_t id;
	int g_fd, h_fd; /* the muxes' ends, until attached */
	struct app client, server;
};

struct end_rec {
	struct wd_eg_end e;
};

struct side {
	struct wd_conn conn;
	struct wd_eg_mux *mux;
	struct end_rec ends[MAX_ENDS];
	size_t nends;
	int error; /* the first error a frame or run returned */
	char msg[WD_ERR_MSG_BYTES];
};

struct world {
	struct side g, h;
	struct tstream ts[MAX_STREAMS];
	size_t nts;
};

static uint8_t pattern(uint32_t seed, uint64_t i)
{
	uint64_t x = (i + 1) * 0x9e3779b97f4a7c15ULL ^ seed;

	return (uint8_t)(x >> 29 ^ x >> 7);
}

static void on_close(void *ctx, const struct wd_eg_end *e)
{
	struct side *s = ctx;

	assert_true(s->nends < MAX_ENDS);
	s->ends[s->nends++].e = *e;
}

static void nonblock(int fd)
{
	assert_int_equal(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
}

static struct world *world_new(unsigned g_max, uint64_t g_idle, unsigned h_max, uint64_t h_idle)
{
	struct world *w = calloc(1, sizeof(*w));
	struct wd_eg_mux_config gc = {
		.max_streams = g_max, .idle_ms = g_idle, .on_close = on_close};
	struct wd_eg_mux_config hc = {
		.max_streams = h_max, .idle_ms = h_idle, .on_close = on_close};
	struct wd_err err;
	int sv[2];

	assert_non_null(w);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(wd_conn_init(&w->h.conn, sv[0], WD_SIDE_HOST, &err), 0);
	assert_int_equal(wd_conn_init(&w->g.conn, sv[1], WD_SIDE_GUEST, &err), 0);
	wd_chan_set_key(&w->h.conn.chan, test_key);
	wd_chan_set_key(&w->g.conn.chan, test_key);
	gc.ctx = &w->g;
	hc.ctx = &w->h;
	assert_int_equal(wd_eg_mux_new(&w->g.mux, &w->g.conn, &gc, &err), 0);
	assert_int_equal(wd_eg_mux_new(&w->h.mux, &w->h.conn, &hc, &err), 0);
	return w;
}

static void app_close(struct app *a)
{
	if (a->fd >= 0)
		(void)close(a->fd);
	a->fd = -1;
}

static void world_free(struct world *w)
{
	wd_eg_mux_free(w->g.mux);
	wd_eg_mux_free(w->h.mux);
	wd_conn_close(&w->g.conn);
	wd_conn_close(&w->h.conn);
	for (size_t i = 0; i < w->nts; i++) {
		app_close(&w->ts[i].client);
		app_close(&w->ts[i].server);
		if (w->ts[i].g_fd >= 0)
			(void)close(w->ts[i].g_fd);
		if (w->ts[i].h_fd >= 0)
			(void)close(w->ts[i].h_fd);
	}
	free(w);
}

/* A connected loopback TCP pair (for resets, which a socketpair lacks). */
static void tcp_pair(int fds[2])
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(l >= 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	fds[0] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fds[0] >= 0);
	assert_int_equal(connect(fds[0], (struct sockaddr *)&a, sizeof(a)), 0);
	fds[1] = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(fds[1] >= 0);
	(void)close(l);
}

/* A stream to be: sockets made, nothing sent yet. Sizes in bytes. */
static struct tstream *stream_new(struct world *w, bool tcp, uint64_t up, uint64_t down)
{
	struct tstream *t = &w->ts[w->nts];
	int c[2], h[2];

	assert_true(w->nts < MAX_STREAMS);
	if (tcp) {
		tcp_pair(c);
		tcp_pair(h);
	} else {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, c), 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, h), 0);
	}
	nonblock(c[0]);
	nonblock(h[1]);
	memset(t, 0, sizeof(*t));
	t->id = wd_eg_mux_next_id(w->g.mux) + (uint32_t)w->nts;
	t->client = (struct app){.fd = c[0], .to_send = up, .expect = down};
	t->server = (struct app){.fd = h[1], .to_send = down, .expect = up};
	t->client.seed_out = t->server.seed_in = t->id * 2;
	t->server.seed_out = t->client.seed_in = t->id * 2 + 1;
	t->g_fd = c[1];
	t->h_fd = h[0];
	w->nts++;
	return t;
}

static struct tstream *find_ts(struct world *w, uint32_t id)
{
	for (size_t i = 0; i < w->nts; i++)
		if (w->ts[i].id == id)
			return &w->ts[i];
	return NULL;
}

/* The guest's proxy: EG_OPEN for the stream. */
static void guest_open(struct world *w, struct tstream *t)
{
	struct wd_eg_open o = {.port = 443, .proxy = WD_EG_PROXY_HTTP_CONNECT};
	uint8_t p[WD_EG_OPEN_MAX_BYTES];
	struct wd_err err;
	int n;

	(void)snprintf(o.host, sizeof(o.host), "s%u.example", t->id);
	n = wd_eg_open_encode(&o, p, &err);
	assert_true(n > 0);
	assert_int_equal(wd_eg_mux_open(w->g.mux, t->id, t, &err), 0);
	assert_int_equal(wd_conn_send(&w->g.conn, WD_MSG_EG_OPEN, t->id, p, (size_t)n, &err), 0);
}

static int host_on_open(struct world *w, const struct wd_frame *f, struct wd_err *err)
{
	struct wd_eg_reply r = {.result = WD_EG_CONNECTED, .rule = 0, .dialed_port = 443};
	uint8_t p[WD_EG_REPLY_MAX_BYTES];
	struct wd_eg_open o;
	struct tstream *t = find_ts(w, f->stream);
	int rc, n;

	if (wd_eg_open_decode(f->payload, f->len, &o, err) < 0)
		return -err->code;
	assert_non_null(t);
	rc = wd_eg_mux_open(w->h.mux, f->stream, t, err);
	if (rc == -EMFILE) {
		r = (struct wd_eg_reply){.result = WD_EG_LIMIT, .rule = -1};
		(void)snprintf(r.reason, sizeof(r.reason), "too many connections");
	} else if (rc < 0) {
		return rc;
	} else {
		r.dialed.family = 4;
		memcpy(r.dialed.a, "\x7f\0\0\1", 4);
		rc = wd_eg_mux_attach(w->h.mux, f->stream, t->h_fd, NULL, 0, err);
		t->h_fd = -1;
		if (rc < 0)
			return rc;
	}
	n = wd_eg_reply_encode(&r, p, err);
	if (n < 0)
		return n;
	return wd_conn_send(&w->h.conn, WD_MSG_EG_REPLY, f->stream, p, (size_t)n, err);
}

static int guest_on_reply(struct world *w, const struct wd_frame *f, struct wd_err *err)
{
	struct wd_eg_reply r;
	struct tstream *t = find_ts(w, f->stream);
	int rc;

	if (wd_eg_reply_decode(f->payload, f->len, &r, err) < 0)
		return -err->code;
	assert_non_null(t);
	if (wd_eg_mux_state(w->g.mux, f->stream) != WD_EG_ID_PENDING)
		return 0; /* ended meanwhile */
	if (r.result != WD_EG_CONNECTED)
		return wd_eg_mux_cancel(w->g.mux, f->stream, false, WD_EG_CLOSE_RESET, err);
	rc = wd_eg_mux_attach(w->g.mux, f->stream, t->g_fd, NULL, 0, err);
	t->g_fd = -1;
	return rc;
}

static void side_error(struct side *s, int rc, const struct wd_err *err)
{
	if (rc < 0 && s->error == 0) {
		s->error = -rc;
		(void)snprintf(s->msg, sizeof(s->msg), "%s", err->msg);
	}
}

/* Read and dispatch every frame that arrived for side `s`. */
static void side_input(struct world *w, struct side *s)
{
	struct wd_err err;
	struct wd_frame f;
	int rc;

	if (s->error != 0)
		return;
	for (;;) {
		while ((rc = wd_conn_next(&s->conn, &f, &err)) == 1) {
			if (f.type == WD_MSG_EG_OPEN)
				rc = host_on_open(w, &f, &err);
			else if (f.type == WD_MSG_EG_REPLY)
				rc = guest_on_reply(w, &f, &err);
			else if (wd_frame_is_egress(f.type, f.stream))
				rc = wd_eg_mux_frame(s->mux, &f, &err);
			else
				rc = wd_err_set(&err, EPROTO, "unexpected %s",
						wd_msg_type_name(f.type));
			if (rc < 0) {
				side_error(s, rc, &err);
				return;
			}
		}
		assert_int_equal(rc, 0);
		rc = wd_conn_read(&s->conn, &err);
		if (rc == -EAGAIN)
			return;
		assert_true(rc > 0);
	}
}

static void side_flush_and_run(struct side *s)
{
	struct wd_err err;
	int rc;

	if (s->error != 0)
		return;
	rc = wd_conn_flush(&s->conn, &err);
	assert_true(rc >= 0);
	rc = wd_eg_mux_run(s->mux, &err);
	side_error(s, rc, &err);
	if (rc == 0)
		assert_true(wd_conn_flush(&s->conn, &err) >= 0);
}

static void app_io(struct app *a)
{
	uint8_t b[65536];

	while (a->fd >= 0 && a->sent < a->to_send && (!a->send_after_eof || a->eof_seen)) {
		size_t n = a->to_send - a->sent < sizeof(b) ? (size_t)(a->to_send - a->sent)
							    : sizeof(b);
		ssize_t k;

		for (size_t i = 0; i < n; i++)
			b[i] = pattern(a->seed_out, a->sent + i);
		k = send(a->fd, b, n, MSG_NOSIGNAL);
		if (k <= 0)
			break;
		a->sent += (uint64_t)k;
	}
	if (a->fd >= 0 && a->sent == a->to_send && !a->eof_sent &&
	    (!a->send_after_eof || a->eof_seen)) {
		assert_int_equal(shutdown(a->fd, SHUT_WR), 0);
		a->eof_sent = true;
	}
	while (a->fd >= 0 && !a->no_read && !a->eof_seen && a->read_errno == 0) {
		ssize_t k = recv(a->fd, b, sizeof(b), 0);

		if (k < 0) {
			if (errno != EAGAIN)
				a->read_errno = errno;
			break;
		}
		if (k == 0) {
			a->eof_seen = true;
			break;
		}
		for (ssize_t i = 0; i < k; i++)
			if (b[i] != pattern(a->seed_in, a->got + (uint64_t)i))
				a->bad = true;
		a->got += (uint64_t)k;
	}
}

static bool app_done(const struct app *a)
{
	return a->eof_sent && a->eof_seen && a->got == a->expect && !a->bad;
}

static bool stream_done(const struct tstream *t)
{
	return app_done(&t->client) && app_done(&t->server);
}

/* One round: wait a little for anything, then move everything. */
static void round_once(struct world *w)
{
	struct pollfd p[4 + 2 * MAX_STREAMS];
	int dl[2] = {wd_eg_mux_next_deadline(w->g.mux), wd_eg_mux_next_deadline(w->h.mux)};
	int timeout = 20;
	nfds_t n = 0;

	for (int i = 0; i < 2; i++)
		if (dl[i] >= 0 && dl[i] < timeout)
			timeout = dl[i];
	p[n++] = (struct pollfd){.fd = w->g.conn.fd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = w->h.conn.fd, .events = POLLIN};
	p[n++] = (struct pollfd){.fd = wd_eg_mux_fd(w->g.mux), .events = POLLIN};
	p[n++] = (struct pollfd){.fd = wd_eg_mux_fd(w->h.mux), .events = POLLIN};
	if (wd_conn_queued(&w->g.conn) > 0)
		p[0].events |= POLLOUT;
	if (wd_conn_queued(&w->h.conn) > 0)
		p[1].events |= POLLOUT;
	for (size_t i = 0; i < w->nts; i++) {
		struct app *a[2] = {&w->ts[i].client, &w->ts[i].server};

		for (int j = 0; j < 2; j++)
			if (a[j]->fd >= 0)
				p[n++] = (struct pollfd){
					.fd = a[j]->fd,
					.events =
						(short)((a[j]->no_read || a[j]->eof_seen ? 0
											 : POLLIN) |
							(a[j]->sent < a[j]->to_send ? POLLOUT
										    : 0))};
	}
	(void)poll(p, n, timeout);
	side_input(w, &w->g);
	side_input(w, &w->h);
	side_flush_and_run(&w->g);
	side_flush_and_run(&w->h);
	for (size_t i = 0; i < w->nts; i++) {
		app_io(&w->ts[i].client);
		app_io(&w->ts[i].server);
	}
}

typedef bool (*until_fn)(struct world *w, void *arg);

static void run_until(struct world *w, until_fn until, void *arg)
{
	for (int r = 0; r < ROUNDS; r++) {
		if (until(w, arg))
			return;
		assert_int_equal(w->g.error, 0);
		assert_int_equal(w->h.error, 0);
		round_once(w);
	}
	fail_msg("no progress after %d rounds", ROUNDS);
}

static bool all_done(struct world *w, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < w->nts; i++)
		if (!stream_done(&w->ts[i]))
			return false;
	return w->g.nends == w->nts && w->h.nends == w->nts;
}

static bool ends_at_least(struct world *w, void *arg)
{
	size_t want = *(size_t *)arg;

	return w->g.nends >= want && w->h.nends >= want;
}

static const struct wd_eg_end *end_of(const struct side *s, uint32_t id)
{
	for (size_t i = 0; i < s->nends; i++)
		if (s->ends[i].e.id == id)
			return &s->ends[i].e;
	return NULL;
}

static void assert_idle_memory(struct world *w)
{
	struct wd_eg_mux_stats st;

	wd_eg_mux_stats(w->g.mux, &st);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(st.buffered_bytes, 0);
	wd_eg_mux_stats(w->h.mux, &st);
	assert_int_equal(st.buffers, 0);
	assert_int_equal(st.buffered_bytes, 0);
}

/* ---- bytes ---------------------------------------------------------------- */

static void test_many_streams_carry_bytes_intact_both_ways(void **state)
{
	struct world *w = world_new(256, 0, 256, 0);
	struct tstream *big;

	(void)state;
	for (int i = 0; i < 200; i++)
		(void)stream_new(w, false, 64 * KIB, 64 * KIB + (uint64_t)i);
	big = stream_new(w, false, 8 * MIB, 8 * MIB);
	for (size_t i = 0; i < w->nts; i++)
		guest_open(w, &w->ts[i]);
	run_until(w, all_done, NULL);
	for (size_t i = 0; i < w->nts; i++) {
		const struct wd_eg_end *g = end_of(&w->g, w->ts[i].id);
		const struct wd_eg_end *h = end_of(&w->h, w->ts[i].id);

		assert_non_null(g);
		assert_non_null(h);
		assert_int_equal(g->reason, WD_EG_CLOSE_DONE);
		assert_int_equal(h->reason, WD_EG_CLOSE_DONE);
		assert_true(g->attached && h->attached);
		assert_int_equal(g->bytes_from_socket, w->ts[i].client.to_send);
		assert_int_equal(g->bytes_to_socket, w->ts[i].server.to_send);
		assert_int_equal(h->bytes_from_socket, w->ts[i].server.to_send);
		assert_int_equal(h->bytes_to_socket, w->ts[i].client.to_send);
	}
	assert_int_equal(big->server.got, 8 * MIB);
	assert_idle_memory(w);
	world_free(w);
}

static void test_half_close_lets_the_answer_through(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stream_new(w, false, 3000, 500000);
	const struct wd_eg_end *g, *h;

	(void)state;
	t->server.send_after_eof = true; /* a request, its end, then the answer */
	guest_open(w, t);
	run_until(w, all_done, NULL);
	assert_true(t->server.eof_seen && t->client.eof_seen);
	/* The request is less than a quarter window: DONE needed the credit
	 * the host flushes after the guest's end. */
	g = end_of(&w->g, t->id);
	h = end_of(&w->h, t->id);
	assert_int_equal(g->reason, WD_EG_CLOSE_DONE);
	assert_int_equal(h->reason, WD_EG_CLOSE_DONE);
	assert_false(g->by_peer || h->by_peer);
	assert_int_equal(g->bytes_from_socket, 3000);
	assert_int_equal(h->bytes_to_socket, 3000);
	assert_int_equal(h->bytes_from_socket, 500000);
	assert_int_equal(g->bytes_to_socket, 500000);
	assert_idle_memory(w);
	world_free(w);
}

static void test_first_bytes_go_before_the_socket(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stream_new(w, false, 100000, 0);
	uint8_t first[5000];
	struct wd_err err;
	size_t one = 1;

	(void)state;
	/* What the proxy read past the request head: the stream's first
	 * bytes. The client sends the rest of the same pattern. */
	for (size_t i = 0; i < sizeof(first); i++)
		first[i] = pattern(t->client.seed_out, i);
	t->client.sent = sizeof(first);
	assert_int_equal(wd_eg_mux_open(w->g.mux, t->id, t, &err), 0);
	assert_int_equal(wd_eg_mux_open(w->h.mux, t->id, t, &err), 0);
	assert_int_equal(wd_eg_mux_attach(w->h.mux, t->id, t->h_fd, NULL, 0, &err), 0);
	assert_int_equal(wd_eg_mux_attach(w->g.mux, t->id, t->g_fd, first, sizeof(first), &err), 0);
	t->g_fd = t->h_fd = -1;
	run_until(w, ends_at_least, &one);
	assert_true(app_done(&t->server));
	assert_int_equal(end_of(&w->g, t->id)->bytes_from_socket, 100000);
	world_free(w);
}

/* ---- ends ----------------------------------------------------------------- */

static bool reset_seen(struct world *w, void *arg)
{
	struct tstream *t = arg;

	return w->g.nends == 1 && w->h.nends == 1 && t->server.read_errno != 0;
}

static void test_reset_propagates_to_the_far_socket(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stream_new(w, true, 1 << 20, 1 << 20);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	const struct wd_eg_end *g, *h;
	size_t one = 1;

	(void)state;
	t->client.to_send = 1000; /* keep the stream open: no EOF from the client */
	t->client.eof_sent = true;
	t->server.to_send = 0;
	t->server.eof_sent = true;
	t->server.expect = 1000;
	guest_open(w, t);
	while (t->server.got < 1000)
		round_once(w);
	/* The agent's connection is reset. */
	assert_int_equal(setsockopt(t->client.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	app_close(&t->client);
	run_until(w, reset_seen, t);
	g = end_of(&w->g, t->id);
	h = end_of(&w->h, t->id);
	assert_int_equal(g->reason, WD_EG_CLOSE_RESET);
	assert_false(g->by_peer);
	assert_int_equal(h->reason, WD_EG_CLOSE_RESET);
	assert_true(h->by_peer);
	/* The dialed connection was reset too, not ended in order. */
	assert_int_equal(t->server.read_errno, ECONNRESET);
	assert_false(t->server.eof_seen);
	(void)one;
	world_free(w);
}

static bool both_ended(struct world *w, void *arg)
{
	(void)arg;
	return w->g.nends == 1 && w->h.nends == 1;
}

#define UPLOAD (WD_EG_WINDOW - 4096)

static bool upload_stuck_in_host(struct world *w, void *arg)
{
	struct tstream *t = arg;
	struct wd_eg_mux_stats st;
	int unread = 0;

	/* The answer and its end reached the client; the whole upload is in
	 * the host: part unread in the server's socket, the rest buffered. */
	wd_eg_mux_stats(w->h.mux, &st);
	assert_int_equal(ioctl(t->server.fd, FIONREAD, &unread), 0);
	return app_done(&t->client) && st.buffered_bytes > 0 &&
	       st.buffered_bytes + (size_t)unread == t->server.expect;
}

static void test_bytes_the_far_end_never_took_are_not_done(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stream_new(w, false, UPLOAD, 1000);
	int small = 4096;
	const struct wd_eg_end *g, *h;

	(void)state;
	/* The agent uploads less than a window (all of it and its end go out
	 * without waiting for credit) and half-closes; the server answers and
	 * closes without reading. The host's socket takes a few KiB, the rest
	 * waits in the host. */
	assert_int_equal(setsockopt(t->h_fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	t->server.no_read = true;
	guest_open(w, t);
	run_until(w, upload_stuck_in_host, t);
	/* Everything the guest holds is done but for the host's credit. */
	for (int i = 0; i < 100; i++)
		round_once(w);
	assert_int_equal(w->g.nends, 0);
	assert_int_equal(wd_eg_mux_state(w->g.mux, t->id), WD_EG_ID_LIVE);
	/* The server goes away with the upload unread: the host's write fails. */
	app_close(&t->server);
	run_until(w, both_ended, NULL);
	g = end_of(&w->g, t->id);
	h = end_of(&w->h, t->id);
	assert_int_equal(h->reason, WD_EG_CLOSE_RESET);
	assert_false(h->by_peer);
	assert_true(h->bytes_to_socket < UPLOAD);
	assert_int_equal(g->reason, WD_EG_CLOSE_RESET); /* not DONE */
	assert_true(g->by_peer);
	assert_int_equal(g->bytes_from_socket, UPLOAD);
	assert_int_equal(g->bytes_to_socket, 1000);
	world_free(w);
}

static void test_idle_stream_is_reset_on_both_sides(void **state)
{
	struct world *w = world_new(4, 30, 4, 0);
	struct tstream *t = stream_new(w, false, 10, 10);
	const struct wd_eg_end *g, *h;

	(void)state;
	t->client.eof_sent = t->server.eof_sent = true; /* never end: only idle */
	guest_open(w, t);
	while (t->server.got < 10 || t->client.got < 10)
		round_once(w);
	assert_true(wd_eg_mux_next_deadline(w->g.mux) >= 0);
	assert_int_equal(wd_eg_mux_next_deadline(w->h.mux), -1); /* no idle timeout there */
	run_until(w, both_ended, NULL);
	g = end_of(&w->g, t->id);
	h = end_of(&w->h, t->id);
	assert_int_equal(g->reason, WD_EG_CLOSE_IDLE);
	assert_false(g->by_peer);
	assert_int_equal(h->reason, WD_EG_CLOSE_IDLE);
	assert_true(h->by_peer);
	assert_true(g->duration_ms >= 30);
	world_free(w);
}

static void test_close_all_ends_every_stream(void **state)
{
	struct world *w = world_new(8, 0, 8, 0);
	struct wd_eg_mux_stats st;
	struct wd_err err;
	size_t three = 3;

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct tstream *t = stream_new(w, false, 100, 100);

		t->client.eof_sent = t->server.eof_sent = true;
		guest_open(w, t);
	}
	while (w->ts[2].client.got < 100 || w->ts[2].server.got < 100)
		round_once(w);
	assert_int_equal(wd_eg_mux_close_all(w->g.mux, WD_EG_CLOSE_JOB_END, true, &err), 0);
	assert_int_equal(w->g.nends, 3);
	run_until(w, ends_at_least, &three);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(w->g.ends[i].e.reason, WD_EG_CLOSE_JOB_END);
		assert_int_equal(end_of(&w->h, w->ts[i].id)->reason, WD_EG_CLOSE_JOB_END);
		assert_true(end_of(&w->h, w->ts[i].id)->by_peer);
	}
	wd_eg_mux_stats(w->h.mux, &st);
	assert_int_equal(st.live + st.pending, 0);
	assert_int_equal(wd_eg_mux_close_all(w->g.mux, WD_EG_CLOSE_DONE, true, &err), -EINVAL);
	world_free(w);
}

/* ---- fairness and memory ---------------------------------------------------- */

static bool fast_done(struct world *w, void *arg)
{
	struct tstream *t = arg;

	return stream_done(t) && end_of(&w->g, t->id) != NULL && end_of(&w->h, t->id) != NULL;
}

static void test_slow_reader_does_not_stall_another_stream(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *slow = stream_new(w, false, 8 * MIB, 0);
	struct tstream *fast = stream_new(w, false, 4 * MIB, 4 * MIB);
	struct wd_eg_mux_stats st;

	(void)state;
	slow->server.no_read = true; /* the remote never reads */
	guest_open(w, slow);
	guest_open(w, fast);
	run_until(w, fast_done, fast);
	assert_true(slow->client.sent < slow->client.to_send); /* still stuck */
	assert_int_equal(wd_eg_mux_state(w->g.mux, slow->id), WD_EG_ID_LIVE);
	/* What waits in the host for the slow socket is bounded by the window. */
	wd_eg_mux_stats(w->h.mux, &st);
	assert_true(st.buffered_bytes <= WD_EG_WINDOW);
	assert_int_equal(st.live, 1);
	world_free(w);
}

static bool delivered(struct world *w, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < w->nts; i++)
		if (w->ts[i].client.got < w->ts[i].client.expect ||
		    w->ts[i].server.got < w->ts[i].server.expect)
			return false;
	return true;
}

static void test_idle_streams_hold_no_buffer(void **state)
{
	struct world *w = world_new(64, 0, 64, 0);
	struct wd_eg_mux_stats st;

	(void)state;
	for (int i = 0; i < 50; i++) {
		struct tstream *t = stream_new(w, false, 1000, 300000);

		t->client.eof_sent = t->server.eof_sent = true; /* open, then quiet */
		guest_open(w, t);
	}
	run_until(w, delivered, NULL);
	wd_eg_mux_stats(w->g.mux, &st);
	assert_int_equal(st.live, 50);
	assert_idle_memory(w);
	world_free(w);
}

/* ---- ids, credit and protocol errors (one mux, frames fed directly) -------- */

static void feed(struct world *w, unsigned type, uint32_t id, const void *p, size_t len, int want,
		 const char *why)
{
	struct wd_frame f = {
		.type = (uint8_t)type, .stream = id, .len = (uint32_t)len, .payload = p};
	struct wd_err err;
	int rc;

	wd_err_clear(&err);
	rc = wd_eg_mux_frame(w->g.mux, &f, &err);
	assert_int_equal(rc, want);
	if (why != NULL)
		assert_non_null(strstr(err.msg, why));
}

/* A live guest stream whose socket takes nothing more: its peer's
 * receive buffer is filled first. */
static struct tstream *stuck_stream(struct world *w)
{
	struct tstream *t = stream_new(w, false, 0, 0);
	uint8_t junk[4096] = {0};
	struct wd_err err;

	nonblock(t->g_fd);
	while (send(t->g_fd, junk, sizeof(junk), MSG_NOSIGNAL) > 0)
		;
	assert_int_equal(wd_eg_mux_open(w->g.mux, t->id, t, &err), 0);
	assert_int_equal(wd_eg_mux_attach(w->g.mux, t->id, t->g_fd, NULL, 0, &err), 0);
	t->g_fd = -1;
	return t;
}

static void test_data_over_the_credit_is_a_protocol_error(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stuck_stream(w);
	static uint8_t chunk[WD_EG_CHUNK];
	struct wd_eg_mux_stats st;

	(void)state;
	for (size_t sent = 0; sent < WD_EG_WINDOW; sent += WD_EG_CHUNK)
		feed(w, WD_MSG_DATA, t->id, chunk, WD_EG_CHUNK, 0, NULL);
	wd_eg_mux_stats(w->g.mux, &st);
	assert_int_equal(st.buffered_bytes, WD_EG_WINDOW);
	feed(w, WD_MSG_DATA, t->id, chunk, 1, -EPROTO, "over the credit");
	world_free(w);
}

static void test_data_chunk_over_its_bound_is_a_protocol_error(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stuck_stream(w);
	static uint8_t chunk[WD_EG_CHUNK + 1];

	(void)state;
	feed(w, WD_MSG_DATA, t->id, chunk, sizeof(chunk), -EPROTO, "at most");
	world_free(w);
}

static void test_frames_for_ended_ids_are_dropped(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stuck_stream(w);
	uint8_t win[WD_EG_WINDOW_BYTES], cl[WD_EG_CLOSE_BYTES];
	struct wd_eg_mux_stats st;

	(void)state;
	wd_eg_window_encode(10, win);
	wd_eg_close_encode(WD_EG_CLOSE_RESET, cl);
	feed(w, WD_MSG_EG_CLOSE, t->id, cl, sizeof(cl), 0, NULL);
	assert_int_equal(w->g.nends, 1);
	assert_true(w->g.ends[0].e.by_peer);
	assert_int_equal(wd_eg_mux_state(w->g.mux, t->id), WD_EG_ID_ENDED);
	/* In flight when it ended: dropped, whatever they say. */
	feed(w, WD_MSG_DATA, t->id, "late", 4, 0, NULL);
	feed(w, WD_MSG_EG_WINDOW, t->id, win, sizeof(win), 0, NULL);
	feed(w, WD_MSG_EG_CLOSE, t->id, cl, sizeof(cl), 0, NULL);
	wd_eg_mux_stats(w->g.mux, &st);
	assert_int_equal(st.frames_dropped, 3);
	assert_int_equal(w->g.nends, 1);
	/* A malformed one is still an error. */
	feed(w, WD_MSG_EG_WINDOW, t->id, win, 3, -EBADMSG, "3 bytes");
	world_free(w);
}

static void test_frames_for_ids_never_opened_are_protocol_errors(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = stuck_stream(w);
	uint8_t win[WD_EG_WINDOW_BYTES], cl[WD_EG_CLOSE_BYTES];

	(void)state;
	wd_eg_window_encode(1, win);
	wd_eg_close_encode(WD_EG_CLOSE_RESET, cl);
	feed(w, WD_MSG_DATA, t->id + 1, "x", 1, -EPROTO, "never opened");
	feed(w, WD_MSG_EG_WINDOW, t->id + 7, win, sizeof(win), -EPROTO, "never opened");
	feed(w, WD_MSG_EG_CLOSE, UINT32_MAX, cl, sizeof(cl), -EPROTO, "never opened");
	feed(w, WD_MSG_EG_WINDOW, WD_STREAM_STDIN, win, sizeof(win), -EPROTO, "not an egress");
	feed(w, WD_MSG_EG_OPEN, t->id, "x", 1, -EINVAL, "not a stream frame");
	world_free(w);
}

static void test_stream_rules_are_enforced(void **state)
{
	struct world *w = world_new(2, 0, 4, 0);
	struct tstream *t = stuck_stream(w);
	uint8_t win[WD_EG_WINDOW_BYTES];
	struct wd_err err;
	uint32_t id = t->id;

	(void)state;
	/* Ids only go up. */
	assert_int_equal(wd_eg_mux_open(w->g.mux, id, NULL, &err), -EPROTO);
	assert_int_equal(wd_eg_mux_open(w->g.mux, WD_STREAM_EGRESS_BASE - 1, NULL, &err), -EPROTO);
	/* Credit for bytes never sent. */
	wd_eg_window_encode(1, win);
	feed(w, WD_MSG_EG_WINDOW, id, win, sizeof(win), -EPROTO, "were sent");
	/* DATA or WINDOW before the stream is connected. */
	assert_int_equal(wd_eg_mux_open(w->g.mux, id + 5, NULL, &err), 0);
	assert_int_equal(wd_eg_mux_state(w->g.mux, id + 3), WD_EG_ID_ENDED); /* skipped */
	assert_int_equal(wd_eg_mux_state(w->g.mux, id + 5), WD_EG_ID_PENDING);
	feed(w, WD_MSG_DATA, id + 5, "x", 1, -EPROTO, "before it was connected");
	/* The bound on open streams; the refused id counts as ended. */
	assert_int_equal(wd_eg_mux_open(w->g.mux, id + 6, NULL, &err), -EMFILE);
	assert_int_equal(wd_eg_mux_state(w->g.mux, id + 6), WD_EG_ID_ENDED);
	assert_int_equal(wd_eg_mux_cancel(w->g.mux, id + 5, false, WD_EG_CLOSE_RESET, &err), 0);
	assert_int_equal(w->g.nends, 0); /* the caller's own cancel: no callback */
	assert_int_equal(wd_eg_mux_open(w->g.mux, id + 7, NULL, &err), 0);
	/* DATA after the stream's end. */
	feed(w, WD_MSG_DATA, id, NULL, 0, 0, NULL);
	feed(w, WD_MSG_DATA, id, "x", 1, -EPROTO, "after its end");
	world_free(w);
}

/* A live guest stream whose client sent `n` bytes and its end, all of it
 * sent as DATA (to a host that never reads them) and not yet credited. */
static struct tstream *ended_upload(struct world *w, size_t n)
{
	struct tstream *t = stream_new(w, false, n, 0);
	uint8_t b[256] = {0};
	struct wd_err err;

	assert_true(n <= sizeof(b));
	assert_int_equal(wd_eg_mux_open(w->g.mux, t->id, t, &err), 0);
	assert_int_equal(wd_eg_mux_attach(w->g.mux, t->id, t->g_fd, NULL, 0, &err), 0);
	t->g_fd = -1;
	assert_int_equal(send(t->client.fd, b, n, MSG_NOSIGNAL), (ssize_t)n);
	assert_int_equal(shutdown(t->client.fd, SHUT_WR), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(wd_eg_mux_run(w->g.mux, &err), 0);
	return t;
}

static void test_window_after_the_end_acknowledges_the_last_bytes(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = ended_upload(w, 100);
	uint8_t win[WD_EG_WINDOW_BYTES];

	(void)state;
	/* The peer's end, with 100 bytes of ours not credited: not done. */
	feed(w, WD_MSG_DATA, t->id, NULL, 0, 0, NULL);
	assert_int_equal(wd_eg_mux_state(w->g.mux, t->id), WD_EG_ID_LIVE);
	/* Credit after our end is taken, in parts; the last part ends it. */
	wd_eg_window_encode(60, win);
	feed(w, WD_MSG_EG_WINDOW, t->id, win, sizeof(win), 0, NULL);
	assert_int_equal(w->g.nends, 0);
	wd_eg_window_encode(40, win);
	feed(w, WD_MSG_EG_WINDOW, t->id, win, sizeof(win), 0, NULL);
	assert_int_equal(w->g.nends, 1);
	assert_int_equal(w->g.ends[0].e.reason, WD_EG_CLOSE_DONE);
	assert_false(w->g.ends[0].e.by_peer);
	assert_int_equal(w->g.ends[0].e.bytes_from_socket, 100);
	assert_int_equal(wd_eg_mux_state(w->g.mux, t->id), WD_EG_ID_ENDED);
	world_free(w);
}

static void test_window_after_the_end_is_bounded_by_what_was_sent(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	struct tstream *t = ended_upload(w, 100);
	uint8_t win[WD_EG_WINDOW_BYTES];

	(void)state;
	wd_eg_window_encode(100, win);
	feed(w, WD_MSG_EG_WINDOW, t->id, win, sizeof(win), 0, NULL);
	assert_int_equal(w->g.nends, 0); /* the peer's end is not in yet */
	wd_eg_window_encode(1, win);
	feed(w, WD_MSG_EG_WINDOW, t->id, win, sizeof(win), -EPROTO, "were sent");
	world_free(w);
}

static void test_peer_close_of_a_pending_stream_runs_the_callback(void **state)
{
	struct world *w = world_new(4, 0, 4, 0);
	uint8_t cl[WD_EG_CLOSE_BYTES];
	struct wd_err err;
	uint32_t id = wd_eg_mux_next_id(w->g.mux);

	(void)state;
	assert_int_equal(wd_eg_mux_open(w->g.mux, id, &cl, &err), 0);
	wd_eg_close_encode(WD_EG_CLOSE_SHUTDOWN, cl);
	feed(w, WD_MSG_EG_CLOSE, id, cl, sizeof(cl), 0, NULL);
	assert_int_equal(w->g.nends, 1);
	assert_false(w->g.ends[0].e.attached); /* the dial to abort */
	assert_ptr_equal(w->g.ends[0].e.user, &cl);
	assert_int_equal(w->g.ends[0].e.reason, WD_EG_CLOSE_SHUTDOWN);
	/* Attaching now fails and closes the socket. */
	assert_int_equal(wd_eg_mux_attach(w->g.mux, id, dup(0), NULL, 0, &err), -ENOENT);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_streams_carry_bytes_intact_both_ways),
		cmocka_unit_test(test_half_close_lets_the_answer_through),
		cmocka_unit_test(test_first_bytes_go_before_the_socket),
		cmocka_unit_test(test_reset_propagates_to_the_far_socket),
		cmocka_unit_test(test_bytes_the_far_end_never_took_are_not_done),
		cmocka_unit_test(test_idle_stream_is_reset_on_both_sides),
		cmocka_unit_test(test_close_all_ends_every_stream),
		cmocka_unit_test(test_slow_reader_does_not_stall_another_stream),
		cmocka_unit_test(test_idle_streams_hold_no_buffer),
		cmocka_unit_test(test_data_over_the_credit_is_a_protocol_error),
		cmocka_unit_test(test_data_chunk_over_its_bound_is_a_protocol_error),
		cmocka_unit_test(test_frames_for_ended_ids_are_dropped),
		cmocka_unit_test(test_frames_for_ids_never_opened_are_protocol_errors),
		cmocka_unit_test(test_stream_rules_are_enforced),
		cmocka_unit_test(test_window_after_the_end_acknowledges_the_last_bytes),
		cmocka_unit_test(test_window_after_the_end_is_bounded_by_what_was_sent),
		cmocka_unit_test(test_peer_close_of_a_pending_stream_runs_the_callback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
