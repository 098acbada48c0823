/*
 * tests/unit/test_egress_proxy.c - egress/proxy.c and relay.c: the guest's
 * HTTP and SOCKS5 proxies against a fake host end.
 *
 * The engine gets real loopback listeners this test makes and the guest
 * end of a keyed wd_conn socketpair. The test plays the host on the other
 * end: it decodes each EG_OPEN and answers it as the test says (REPLY
 * connected, REPLY refused, or nothing), and for a connected stream runs a
 * host-side mux (egress/mux.h) whose socket's far end the test drives: an
 * echo, or an HTTP server the test reads and answers by hand. Clients are
 * real TCP sockets to the listeners. Nothing asserts a time: loops run
 * until a condition holds, bounded by a round count only a hang reaches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../common/clock.h"
#include "../../egress/mux.h"
#include "../../egress/proxy.h"

#define ROUNDS 20000 /* pump rounds before a test counts as hung */
#define MAX_RECORDS 64
#define MAX_SERVERS 16

static const uint8_t test_key[WD_KEY_BYTES] = {
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb,
	0xcc, 0xdd, 0xee, 0xff, 0x00, 0x01, 0x12, 0x23, 0x34, 0x45, 0x56,
	0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0,
};

static const char policy[] = "{\"allow\": [{\"host\": \"echo.test\", \"ports\": [7]},"
			     "             {\"host\": \"*.web.test\", \"ports\": [80, 8080]},"
			     "             {\"cidr\": \"192.0.2.0/24\", \"ports\": [9]},"
			     "             {\"cidr\": \"2001:db8::/32\", \"ports\": [9]}],"
			     " \"deny\": [{\"host\": \"bad.web.test\"}],"
			     " \"limits\": {\"connections\": 3, \"connect_timeout_s\": 1}}";

enum host_mode { HOST_CONNECT, HOST_REFUSE, HOST_SILENT };

struct server {
	int fd; /* the test's end of the dialed "connection" */
	uint32_t id;
	struct wd_eg_open open;
	bool echo;
};

struct record {
	char cls[32], activity[32], outcome[16];
	char data[2048];
};

struct world {
	struct wd_egress rules;
	struct wd_conn g, h;  /* the channel: guest end (the engine's), host end (the test's) */
	struct wd_eg_mux *hm; /* the host's streams */
	struct wd_eg_proxies *px;
	int http_port, socks_port;
	enum host_mode mode;
	uint8_t refuse_result;
	struct server sv[MAX_SERVERS];
	size_t nsv;
	unsigned opens;
	struct record rec[MAX_RECORDS];
	size_t nrec;
};

static int record(void *ctx, const char *cls, const char *activity, const char *outcome,
		  const char *severity, const char *data, struct wd_err *err)
{
	struct world *w = ctx;
	struct record *r;

	assert_true(w->nrec < MAX_RECORDS);
	r = &w->rec[w->nrec++];
	(void)snprintf(r->cls, sizeof(r->cls), "%s", cls);
	(void)snprintf(r->activity, sizeof(r->activity), "%s", activity);
	(void)snprintf(r->outcome, sizeof(r->outcome), "%s", outcome);
	(void)snprintf(r->data, sizeof(r->data), "%s", data);
	return 0;
}

/* The first record of cls/activity whose data holds `needle`, or NULL. */
static const struct record *find_record(const struct world *w, const char *cls,
					const char *activity, const char *needle)
{
	for (size_t i = 0; i < w->nrec; i++)
		if (strcmp(w->rec[i].cls, cls) == 0 && strcmp(w->rec[i].activity, activity) == 0 &&
		    (needle == NULL || strstr(w->rec[i].data, needle) != NULL))
			return &w->rec[i];
	return NULL;
}

static int listener(int *port)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

static struct world *world_new(const char *rules, unsigned handshake_max, uint64_t head_ms)
{
	struct world *w = calloc(1, sizeof(*w));
	struct wd_eg_mux_config hc = {.max_streams = 64};
	struct wd_eg_proxy_config cfg;
	struct wd_err err;
	cJSON *j = cJSON_Parse(rules);
	int sv[2];

	assert_non_null(w);
	assert_non_null(j);
	wd_egress_defaults(&w->rules);
	assert_int_equal(wd_egress_read(j, &w->rules, &err), 0);
	cJSON_Delete(j);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(wd_conn_init(&w->h, sv[0], WD_SIDE_HOST, &err), 0);
	assert_int_equal(wd_conn_init(&w->g, sv[1], WD_SIDE_GUEST, &err), 0);
	wd_chan_set_key(&w->h.chan, test_key);
	wd_chan_set_key(&w->g.chan, test_key);
	assert_int_equal(wd_eg_mux_new(&w->hm, &w->h, &hc, &err), 0);
	memset(&cfg, 0, sizeof(cfg));
	cfg.http_fd = listener(&w->http_port);
	cfg.socks_fd = listener(&w->socks_port);
	cfg.rules = &w->rules;
	cfg.conn = &w->g;
	cfg.record = record;
	cfg.record_ctx = w;
	cfg.handshake_max = handshake_max;
	cfg.head_timeout_ms = head_ms;
	assert_int_equal(wd_eg_proxy_new(&w->px, &cfg, &err), 0);
	return w;
}

static void world_free(struct world *w)
{
	wd_eg_proxy_free(w->px);
	wd_eg_mux_free(w->hm);
	wd_conn_close(&w->g);
	wd_conn_close(&w->h);
	for (size_t i = 0; i < w->nsv; i++)
		if (w->sv[i].fd >= 0)
			(void)close(w->sv[i].fd);
	wd_egress_free(&w->rules);
	free(w);
}

/* ---- the fake host ------------------------------------------------------- */

static void reply(struct world *w, uint32_t id, uint8_t result, const char *reason)
{
	struct wd_eg_reply r;
	uint8_t buf[WD_EG_REPLY_MAX_BYTES];
	struct wd_err err;
	int n;

	memset(&r, 0, sizeof(r));
	r.result = result;
	r.rule = -1;
	r.naddrs = 1;
	r.addrs[0].family = 4;
	r.addrs[0].a[0] = 192;
	r.addrs[0].a[2] = 2;
	r.addrs[0].a[3] = 7;
	if (result == WD_EG_CONNECTED) {
		r.dialed = r.addrs[0];
		r.dialed_port = 7;
	}
	(void)snprintf(r.reason, sizeof(r.reason), "%s", reason);
	n = wd_eg_reply_encode(&r, buf, &err);
	assert_true(n > 0);
	assert_int_equal(wd_conn_send(&w->h, WD_MSG_EG_REPLY, id, buf, (size_t)n, &err), 0);
}

static void host_open(struct world *w, const struct wd_frame *f)
{
	struct wd_eg_open o;
	struct wd_err err;
	int pair[2];

	assert_int_equal(wd_eg_open_decode(f->payload, f->len, &o, &err), 0);
	w->opens++;
	if (w->mode == HOST_SILENT)
		return;
	assert_int_equal(wd_eg_mux_open(w->hm, f->stream, NULL, &err), 0);
	if (w->mode == HOST_REFUSE) {
		assert_int_equal(wd_eg_mux_cancel(w->hm, f->stream, false, WD_EG_CLOSE_RESET, &err),
				 0);
		reply(w, f->stream, w->refuse_result, "address 127.0.0.1 is loopback");
		return;
	}
	assert_true(w->nsv < MAX_SERVERS);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pair), 0);
	w->sv[w->nsv] = (struct server){
		.fd = pair[0], .id = f->stream, .open = o, .echo = o.port == 7 || o.port == 9};
	w->nsv++;
	assert_int_equal(wd_eg_mux_attach(w->hm, f->stream, pair[1], NULL, 0, &err), 0);
	reply(w, f->stream, WD_EG_CONNECTED, "");
}

static void echo(struct server *s)
{
	char buf[8192];
	ssize_t n;

	if (s->fd < 0 || !s->echo)
		return;
	n = read(s->fd, buf, sizeof(buf));
	if (n > 0)
		assert_int_equal(write(s->fd, buf, (size_t)n), n);
	if (n == 0) {
		(void)close(s->fd);
		s->fd = -1;
	}
}

/* One round of everything: the engine, the channel both ways, the host. */
static void pump(struct world *w)
{
	struct wd_frame f;
	struct wd_err err;
	int rc;

	assert_int_equal(wd_eg_proxy_run(w->px, &err), 0);
	assert_true(wd_conn_flush(&w->g, &err) >= 0);
	rc = wd_conn_read(&w->h, &err);
	assert_true(rc > 0 || rc == -EAGAIN);
	while ((rc = wd_conn_next(&w->h, &f, &err)) == 1) {
		if (f.type == WD_MSG_EG_OPEN)
			host_open(w, &f);
		else
			assert_int_equal(wd_eg_mux_frame(w->hm, &f, &err), 0);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(wd_eg_mux_run(w->hm, &err), 0);
	assert_true(wd_conn_flush(&w->h, &err) >= 0);
	rc = wd_conn_read(&w->g, &err);
	assert_true(rc > 0 || rc == -EAGAIN);
	while ((rc = wd_conn_next(&w->g, &f, &err)) == 1)
		assert_int_equal(wd_eg_proxy_frame(w->px, &f, &err), 0);
	assert_int_equal(rc, 0);
	for (size_t i = 0; i < w->nsv; i++)
		echo(&w->sv[i]);
	{
		struct pollfd p = {.fd = wd_eg_proxy_fd(w->px), .events = POLLIN};

		(void)poll(&p, 1, 1);
	}
}

/* ---- clients ------------------------------------------------------------------ */

static int client(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(fcntl(fd, F_SETFL, O_NONBLOCK), 0);
	return fd;
}

static void send_all(struct world *w, int fd, const void *p, size_t len)
{
	size_t off = 0;

	for (int i = 0; off < len && i < ROUNDS; i++) {
		ssize_t n = write(fd, (const char *)p + off, len - off);

		if (n > 0)
			off += (size_t)n;
		pump(w);
	}
	assert_int_equal(off, len);
}

/* Read until `len` bytes or, with `until`, that text arrived (or EOF).
 * Returns the bytes read; *eof when the proxy closed. */
static size_t recv_until(struct world *w, int fd, char *buf, size_t size, size_t len,
			 const char *until, bool *eof)
{
	size_t got = 0;

	*eof = false;
	buf[0] = '\0';
	for (int i = 0; i < ROUNDS; i++) {
		ssize_t n = read(fd, buf + got, size - 1 - got);

		if (n > 0) {
			got += (size_t)n;
			buf[got] = '\0';
		} else if (n == 0 || (n < 0 && errno != EAGAIN)) {
			*eof = true;
			return got;
		}
		if ((len != 0 && got >= len) || (until != NULL && strstr(buf, until) != NULL))
			return got;
		pump(w);
	}
	fail_msg("no answer: %zu bytes so far: %s", got, buf);
	return got;
}

static void expect_text(struct world *w, int fd, const char *text)
{
	char buf[4096];
	bool eof;

	(void)recv_until(w, fd, buf, sizeof(buf), 0, text, &eof);
	if (strstr(buf, text) == NULL)
		fail_msg("expected \"%s\", got \"%s\"", text, buf);
}

/* A refusal: everything up to the proxy's close. */
static void answer_of(struct world *w, int fd, char *buf, size_t size)
{
	bool eof;

	(void)recv_until(w, fd, buf, size, size - 1, NULL, &eof);
	assert_true(eof);
}

static void expect_eof(struct world *w, int fd)
{
	char buf[4096];
	bool eof;

	(void)recv_until(w, fd, buf, sizeof(buf), sizeof(buf) - 1, NULL, &eof);
	assert_true(eof);
}

static void echo_roundtrip(struct world *w, int fd, size_t len)
{
	char *out = malloc(len), *in = malloc(len + 1);
	bool eof;

	assert_non_null(out);
	assert_non_null(in);
	for (size_t i = 0; i < len; i++)
		out[i] = (char)('a' + (i * 7 + len) % 26);
	send_all(w, fd, out, len);
	assert_int_equal(recv_until(w, fd, in, len + 1, len, NULL, &eof), len);
	assert_memory_equal(in, out, len);
	free(out);
	free(in);
}

static void wait_for(struct world *w, const char *cls, const char *activity, const char *needle)
{
	for (int i = 0; i < ROUNDS && find_record(w, cls, activity, needle) == NULL; i++)
		pump(w);
	if (find_record(w, cls, activity, needle) == NULL)
		fail_msg("no %s/%s record with %s", cls, activity, needle);
}

/* ---- HTTP CONNECT ---------------------------------------------------------------- */

static void test_connect_tunnel_carries_bytes_both_ways_and_is_recorded(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	int fd = client(w->http_port);
	static const char req[] = "CONNECT echo.test:7 HTTP/1.1\r\nHost: echo.test:7\r\n\r\nearly";
	char buf[64];
	bool eof;

	(void)state;
	send_all(w, fd, req, sizeof(req) - 1);
	expect_text(w, fd, "HTTP/1.1 200 Connection established\r\n\r\n");
	/* The bytes sent with the head went first on the stream. */
	assert_int_equal(recv_until(w, fd, buf, sizeof(buf), 5, NULL, &eof), 5);
	assert_memory_equal(buf, "early", 5);
	echo_roundtrip(w, fd, 200000);
	assert_non_null(find_record(w, "network", "connect",
				    "\"decision\":\"allow\",\"host\":\"echo.test\",\"id\":65536"));
	assert_non_null(find_record(w, "network", "connect", "\"rule\":{\"index\":0"));
	(void)shutdown(fd, SHUT_WR);
	expect_eof(w, fd);
	wait_for(w, "network", "close", "\"reason\":\"done\"");
	assert_non_null(find_record(w, "network", "close", "\"bytes_out\":200005"));
	assert_non_null(find_record(w, "network", "close", "\"dialed\":\"192.0.2.7\""));
	(void)close(fd);
	world_free(w);
}

/* ---- SOCKS5 ------------------------------------------------------------------------ */

static int socks_open(struct world *w, const uint8_t *req, size_t len, uint8_t *rep)
{
	static const uint8_t greet[] = {5, 1, 0};
	uint8_t buf[16];
	int fd = client(w->socks_port);
	bool eof;

	send_all(w, fd, greet, sizeof(greet));
	assert_int_equal(recv_until(w, fd, (char *)buf, sizeof(buf), 2, NULL, &eof), 2);
	assert_int_equal(buf[0], 5);
	assert_int_equal(buf[1], 0);
	send_all(w, fd, req, len);
	assert_int_equal(recv_until(w, fd, (char *)buf, sizeof(buf), 10, NULL, &eof), 10);
	assert_int_equal(buf[0], 5);
	*rep = buf[1];
	return fd;
}

static void test_socks5_connects_by_name_ipv4_and_ipv6(void **state)
{
	static const uint8_t by_name[] = {5,   1,   0,   3,   9,   'e', 'c', 'h',
					  'o', '.', 't', 'e', 's', 't', 0,   7};
	static const uint8_t by_v4[] = {5, 1, 0, 1, 192, 0, 2, 9, 0, 9};
	static const uint8_t by_v6[] = {5, 1, 0, 4, 0x20, 1, 0x0d, 0xb8, 0, 0, 0,
					0, 0, 0, 0, 0,    0, 0,    0,    1, 0, 9};
	const uint8_t *reqs[] = {by_name, by_v4, by_v6};
	size_t lens[] = {sizeof(by_name), sizeof(by_v4), sizeof(by_v6)};
	struct world *w = world_new(policy, 0, 0);

	(void)state;
	for (int i = 0; i < 3; i++) {
		uint8_t rep = 0xff;
		int fd = socks_open(w, reqs[i], lens[i], &rep);

		assert_int_equal(rep, 0);
		echo_roundtrip(w, fd, 5000);
		(void)close(fd);
	}
	assert_int_equal(w->opens, 3);
	assert_non_null(find_record(w, "network", "connect", "\"host\":\"echo.test\""));
	assert_non_null(find_record(w, "network", "connect", "\"host\":\"192.0.2.9\""));
	assert_non_null(find_record(w, "network", "connect", "\"host\":\"2001:db8::1\""));
	assert_non_null(find_record(w, "network", "connect", "\"proxy\":\"socks5\""));
	world_free(w);
}

/* ---- denials --------------------------------------------------------------------- */

struct denial {
	const char *target; /* CONNECT authority */
	const char *header; /* X-Warden-Deny */
	const char *data;   /* in the record */
};

static void test_denials_answer_403_with_the_reason_and_are_recorded(void **state)
{
	static const struct denial d[] = {
		{"nowhere.test:7", "X-Warden-Deny: no-rule", "\"reason\":\"no-rule\""},
		{"echo.test:8", "X-Warden-Deny: port", "\"reason\":\"port\""},
		{"bad.web.test:80", "X-Warden-Deny: deny-rule deny[0]", "\"list\":\"deny\""},
		{"8.8.8.8:7", "X-Warden-Deny: ip-literal", "\"host\":\"8.8.8.8\""},
		{"[2001:4860::8888]:443", "X-Warden-Deny: ip-literal",
		 "\"host\":\"2001:4860::8888\""},
		{"203.0.113.5:7", "X-Warden-Deny: special-address: 203.0.113.5 is documentation",
		 "\"reason\":\"special-address: 203.0.113.5 is documentation\""},
		{"2130706433:7", "X-Warden-Deny: bad-name", "\"reason\":\"bad-name\""},
	};
	struct world *w = world_new(policy, 0, 0);

	(void)state;
	for (size_t i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
		char req[256], ans[2048];
		int fd = client(w->http_port);
		int n = snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\n\r\n", d[i].target);

		send_all(w, fd, req, (size_t)n);
		answer_of(w, fd, ans, sizeof(ans));
		assert_true(strncmp(ans, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
		if (strstr(ans, d[i].header) == NULL)
			fail_msg("no \"%s\" in %s", d[i].header, ans);
		assert_non_null(find_record(w, "network", "connect", d[i].data));
		(void)close(fd);
	}
	assert_int_equal(w->opens, 0); /* nothing denied reached the host */
	assert_null(find_record(w, "network", "connect", "\"decision\":\"allow\""));
	world_free(w);
}

static void test_socks5_denial_is_0x02(void **state)
{
	static const uint8_t req[] = {5,   1,   0,   3,   11,  'n', 'o', 'w', 'h',
				      'e', 'r', 'e', '.', 't', 'e', 's', 0,   7};
	struct world *w = world_new(policy, 0, 0);
	uint8_t rep = 0;
	int fd;

	(void)state;
	fd = socks_open(w, req, sizeof(req), &rep);
	assert_int_equal(rep, 2);
	expect_eof(w, fd);
	assert_non_null(find_record(w, "network", "connect", "\"decision\":\"deny\""));
	assert_int_equal(w->opens, 0);
	(void)close(fd);
	world_free(w);
}

static void test_host_refusal_is_403_and_a_refused_record(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] = "CONNECT echo.test:7 HTTP/1.1\r\n\r\n";
	int fd = client(w->http_port);
	char ans[2048];

	(void)state;
	w->mode = HOST_REFUSE;
	w->refuse_result = WD_EG_ADDRESS;
	send_all(w, fd, req, sizeof(req) - 1);
	answer_of(w, fd, ans, sizeof(ans));
	assert_true(strncmp(ans, "HTTP/1.1 403 Forbidden\r\n", 24) == 0);
	assert_non_null(strstr(ans, "X-Warden-Deny: host: address 127.0.0.1 is loopback\r\n"));
	assert_non_null(find_record(w, "network", "refused", "\"result\":\"address\""));
	assert_non_null(find_record(w, "network", "refused", "\"resolved\":[\"192.0.2.7\"]"));
	assert_null(find_record(w, "network", "close", NULL)); /* it never opened */
	(void)close(fd);

	/* A failed connect is 502, a timeout 504. */
	w->refuse_result = WD_EG_CONNECT;
	fd = client(w->http_port);
	send_all(w, fd, req, sizeof(req) - 1);
	expect_text(w, fd, "HTTP/1.1 502 ");
	(void)close(fd);
	w->refuse_result = WD_EG_TIMEOUT;
	fd = client(w->http_port);
	send_all(w, fd, req, sizeof(req) - 1);
	expect_text(w, fd, "HTTP/1.1 504 ");
	(void)close(fd);
	world_free(w);
}

/* ---- bounds ------------------------------------------------------------------------- */

static void test_oversized_head_is_431(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	size_t len = 20000;
	char *req = malloc(len);
	int fd = client(w->http_port);

	(void)state;
	assert_non_null(req);
	memcpy(req, "CONNECT echo.test:7 HTTP/1.1\r\nX-Pad: ", 37);
	memset(req + 37, 'a', len - 37);
	/* The proxy answers before taking it all: the rest may not fit. */
	for (size_t off = 0, i = 0; off < len && i < 1000; i++) {
		ssize_t n = write(fd, req + off, len - off);

		if (n > 0)
			off += (size_t)n;
		pump(w);
	}
	expect_text(w, fd, "HTTP/1.1 431 ");
	assert_int_equal(w->opens, 0);
	(void)close(fd);
	free(req);
	world_free(w);
}

static void test_slow_client_does_not_delay_another_and_is_dropped(void **state)
{
	struct world *w = world_new(policy, 0, 300);
	static const char quick[] = "CONNECT echo.test:7 HTTP/1.1\r\n\r\n";
	int slow = client(w->http_port), fd;

	(void)state;
	send_all(w, slow, "CONNECT echo.te", 15);
	fd = client(w->http_port);
	send_all(w, fd, quick, sizeof(quick) - 1);
	expect_text(w, fd, "HTTP/1.1 200 Connection established");
	echo_roundtrip(w, fd, 1000);
	/* The quick one is through; the slow one still has no answer. */
	{
		char b[8];

		assert_int_equal(read(slow, b, sizeof(b)), -1);
		assert_int_equal(errno, EAGAIN);
	}
	send_all(w, slow, "s", 1);
	/* Its head never completes: it is dropped at the head timeout. */
	expect_eof(w, slow);
	assert_int_equal(w->opens, 1);
	(void)close(slow);
	(void)close(fd);
	world_free(w);
}

static void test_connection_limit_is_503_and_recorded(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] = "CONNECT echo.test:7 HTTP/1.1\r\n\r\n";
	int fds[3], over;

	(void)state;
	for (int i = 0; i < 3; i++) {
		fds[i] = client(w->http_port);
		send_all(w, fds[i], req, sizeof(req) - 1);
		expect_text(w, fds[i], "200 Connection established");
	}
	over = client(w->http_port);
	send_all(w, over, req, sizeof(req) - 1);
	expect_text(w, over, "HTTP/1.1 503 ");
	assert_non_null(find_record(w, "limit", "egress-connections", "\"limit\":3"));
	assert_int_equal(w->opens, 3);
	(void)close(over);
	/* One ends: there is room again. */
	(void)close(fds[0]);
	wait_for(w, "network", "close", "\"id\":65536");
	fds[0] = client(w->http_port);
	send_all(w, fds[0], req, sizeof(req) - 1);
	expect_text(w, fds[0], "200 Connection established");
	for (int i = 0; i < 3; i++)
		(void)close(fds[i]);
	world_free(w);
}

/* At the handshake bound a new client is still taken: the client that has
 * waited longest for its head gives up its slot (HTTP 408; SOCKS5 the
 * method reply then general failure) with a limit record, and the new
 * one is served at once rather than held in the backlog behind it. */
static void test_handshake_bound_evicts_the_oldest_handshake(void **state)
{
	static const char req[] = "CONNECT echo.test:7 HTTP/1.1\r\n\r\n";
	static const uint8_t socks_evicted[] = {5, 0, 5, 1, 0, 1, 0, 0, 0, 0, 0, 0};
	struct world *w = world_new(policy, 1, 0);
	int slow = client(w->http_port), second, slow_socks, third;
	struct wd_eg_proxy_stats st;
	char ans[2048];
	bool eof;

	(void)state;
	send_all(w, slow, "CONN", 4); /* holds the only handshake slot */
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.accepted, 1);
	assert_int_equal(st.handshakes, 1);
	second = client(w->http_port);
	send_all(w, second, req, sizeof(req) - 1);
	expect_text(w, second, "200 Connection established");
	echo_roundtrip(w, second, 1000);
	/* The slow one was answered and closed; the record says why. */
	answer_of(w, slow, ans, sizeof(ans));
	if (strncmp(ans, "HTTP/1.1 408 Request Timeout\r\n", 30) != 0)
		fail_msg("the evicted client got \"%s\"", ans);
	assert_non_null(
		find_record(w, "limit", "egress-connections",
			    "\"port\":0,\"proxy\":\"\",\"streams\":0,\"what\":\"handshakes\""));
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.accepted, 2);
	assert_int_equal(st.handshakes, 0);
	assert_int_equal(st.refused_limit, 1);
	assert_int_equal(w->opens, 1);

	/* A SOCKS5 client mid-greeting, evicted by the next client. */
	slow_socks = client(w->socks_port);
	send_all(w, slow_socks, "\x05", 1);
	third = client(w->http_port);
	send_all(w, third, req, sizeof(req) - 1);
	expect_text(w, third, "200 Connection established");
	assert_int_equal(recv_until(w, slow_socks, ans, sizeof(ans), sizeof(ans) - 1, NULL, &eof),
			 sizeof(socks_evicted));
	assert_true(eof);
	assert_memory_equal(ans, socks_evicted, sizeof(socks_evicted));
	assert_non_null(find_record(w, "limit", "egress-connections",
				    "\"proxy\":\"socks5\",\"streams\":1,\"what\":\"handshakes\""));
	assert_int_equal(w->opens, 2);
	(void)close(slow);
	(void)close(second);
	(void)close(slow_socks);
	(void)close(third);
	world_free(w);
}

/* ---- http:// forwarding ---------------------------------------------------------------- */

/* The test's server end for stream n: read the forwarded request. */
static void server_expect(struct world *w, size_t n, const char *text)
{
	char buf[8192];
	size_t got = 0;

	for (int i = 0; i < ROUNDS && n >= w->nsv; i++)
		pump(w);
	assert_true(n < w->nsv);
	for (int i = 0; i < ROUNDS; i++) {
		ssize_t r = read(w->sv[n].fd, buf + got, sizeof(buf) - 1 - got);

		if (r > 0) {
			got += (size_t)r;
			buf[got] = '\0';
			if (strstr(buf, text) != NULL)
				return;
		}
		pump(w);
	}
	fail_msg("the server got \"%s\", not \"%s\"", buf, text);
}

static void server_send(struct world *w, size_t n, const char *text)
{
	assert_int_equal(write(w->sv[n].fd, text, strlen(text)), (ssize_t)strlen(text));
}

static void test_absolute_get_is_forwarded_with_a_rewritten_head(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] = "GET http://www.web.test/a/b?c=1 HTTP/1.1\r\n"
				  "Host: www.web.test\r\nProxy-Connection: keep-alive\r\n"
				  "Proxy-Authorization: Basic eA==\r\nAccept: */*\r\n\r\n";
	int fd = client(w->http_port);

	(void)state;
	send_all(w, fd, req, sizeof(req) - 1);
	server_expect(w, 0, "\r\n\r\n");
	assert_int_equal(w->sv[0].open.port, 80);
	assert_string_equal(w->sv[0].open.host, "www.web.test");
	assert_int_equal(w->sv[0].open.proxy, WD_EG_PROXY_HTTP);
	server_send(w, 0, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	expect_text(w, fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
	assert_non_null(find_record(w, "network", "connect", "\"proxy\":\"http\""));
	(void)close(fd);
	world_free(w);
}

static void test_forwarded_head_loses_hop_by_hop_fields(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] =
		"GET http://www.web.test:8080/x HTTP/1.1\r\n"
		"Proxy-Connection: keep-alive\r\nProxy-Authorization: Basic eA==\r\n"
		"Accept: */*\r\n\r\n";
	char buf[4096] = "";
	size_t got = 0;
	int fd = client(w->http_port);

	(void)state;
	send_all(w, fd, req, sizeof(req) - 1);
	for (int i = 0; i < ROUNDS && w->nsv == 0; i++)
		pump(w);
	for (int i = 0; i < ROUNDS && strstr(buf, "\r\n\r\n") == NULL; i++) {
		ssize_t r = read(w->sv[0].fd, buf + got, sizeof(buf) - 1 - got);

		if (r > 0)
			got += (size_t)r;
		buf[got] = '\0';
		pump(w);
	}
	assert_true(strncmp(buf, "GET /x HTTP/1.1\r\n", 17) == 0);
	assert_non_null(strstr(buf, "Host: www.web.test:8080\r\n"));
	assert_non_null(strstr(buf, "Accept: */*\r\n"));
	assert_null(strstr(buf, "Proxy-"));
	(void)close(fd);
	world_free(w);
}

static void test_keep_alive_reuses_the_stream_for_the_same_host_only(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char r1[] = "GET http://a.web.test/1 HTTP/1.1\r\nHost: a.web.test\r\n\r\n";
	static const char r2[] = "GET http://a.web.test/2 HTTP/1.1\r\nHost: a.web.test\r\n\r\n";
	static const char r3[] = "GET http://b.web.test/3 HTTP/1.1\r\nHost: b.web.test\r\n\r\n";
	int fd = client(w->http_port);

	(void)state;
	send_all(w, fd, r1, sizeof(r1) - 1);
	server_expect(w, 0, "GET /1 ");
	server_send(w, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	expect_text(w, fd, "\r\n\r\nok");
	send_all(w, fd, r2, sizeof(r2) - 1);
	server_expect(w, 0, "GET /2 "); /* the same stream */
	server_send(w, 0,
		    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n");
	expect_text(w, fd, "0\r\n\r\n");
	assert_int_equal(w->opens, 1);
	send_all(w, fd, r3, sizeof(r3) - 1);
	server_expect(w, 1, "GET /3 "); /* a new stream for another host */
	assert_int_equal(w->opens, 2);
	assert_string_equal(w->sv[1].open.host, "b.web.test");
	server_send(w, 1, "HTTP/1.1 204 No Content\r\n\r\n");
	expect_text(w, fd, "204 No Content");
	/* The first stream was ended from the proxy's side: its server sees
	 * EOF, closes, and the stream's close is recorded. */
	{
		char b[64];
		ssize_t n = 1;

		for (int i = 0; i < ROUNDS && n != 0; i++) {
			n = read(w->sv[0].fd, b, sizeof(b));
			pump(w);
		}
		assert_int_equal(n, 0);
		(void)close(w->sv[0].fd);
		w->sv[0].fd = -1;
	}
	wait_for(w, "network", "close", "\"host\":\"a.web.test\"");
	(void)close(fd);
	world_free(w);
}

static void test_chunked_post_passes_through(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char head[] = "POST http://up.web.test/u HTTP/1.1\r\nHost: up.web.test\r\n"
				   "Transfer-Encoding: chunked\r\n\r\n";
	static const char body[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	int fd = client(w->http_port);

	(void)state;
	send_all(w, fd, head, sizeof(head) - 1);
	send_all(w, fd, body, sizeof(body) - 1);
	server_expect(w, 0, "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
	server_send(w, 0, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
	expect_text(w, fd, "201 Created");
	(void)close(fd);
	world_free(w);
}

static void test_forwarded_request_to_a_denied_host_is_403(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] = "GET http://bad.web.test/ HTTP/1.1\r\n\r\n";
	int fd = client(w->http_port);
	char ans[2048];

	(void)state;
	send_all(w, fd, req, sizeof(req) - 1);
	answer_of(w, fd, ans, sizeof(ans));
	assert_non_null(strstr(ans, "X-Warden-Deny: deny-rule deny[0]\r\n"));
	assert_int_equal(w->opens, 0);
	(void)close(fd);
	world_free(w);
}

/* A forwarding client resets while its response comes back: one run's
 * batch holds the client's event, which ends the client and frees its
 * relay, then the pair's (the response the stream core wrote into the
 * socketpair). The second event must not reach the freed relay (the ASan
 * build fails here if it does). */
static void test_client_reset_while_its_response_arrives(void **state)
{
	static const char req[] = "POST http://up.web.test/u HTTP/1.1\r\nHost: up.web.test\r\n"
				  "Content-Length: 10\r\n\r\nhello";
	struct world *w = world_new(policy, 0, 0);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = client(w->http_port), rc;
	struct wd_eg_proxy_stats st;
	struct wd_frame f;
	struct wd_err err;
	bool data = false;

	(void)state;
	send_all(w, fd, req, sizeof(req) - 1);
	server_expect(w, 0, "\r\n\r\nhello"); /* half the body: the client is read */
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.relays, 1);
	/* The client resets: its socket is ready first... */
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	assert_int_equal(close(fd), 0);
	/* ... then the response reaches the pair (the engine's stream core
	 * writes a DATA frame's bytes as it takes it), with no run between. */
	server_send(w, 0, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	for (int i = 0; i < ROUNDS && !data; i++) {
		assert_int_equal(wd_eg_mux_run(w->hm, &err), 0);
		assert_true(wd_conn_flush(&w->h, &err) >= 0);
		rc = wd_conn_read(&w->g, &err);
		assert_true(rc > 0 || rc == -EAGAIN);
		while ((rc = wd_conn_next(&w->g, &f, &err)) == 1) {
			data = data || (f.type == WD_MSG_DATA && f.len > 0);
			assert_int_equal(wd_eg_proxy_frame(w->px, &f, &err), 0);
		}
		assert_int_equal(rc, 0);
	}
	assert_true(data);
	/* One run takes both events. */
	assert_int_equal(wd_eg_proxy_run(w->px, &err), 0);
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.relays, 0);
	assert_int_equal(st.clients, 0);
	/* The stream ends (its pair end closed) and is recorded. */
	wait_for(w, "network", "close", "\"host\":\"up.web.test\"");
	world_free(w);
}

/* ---- the end --------------------------------------------------------------------------- */

static void test_job_end_closes_every_stream_with_a_record(void **state)
{
	struct world *w = world_new(policy, 0, 0);
	static const char req[] = "CONNECT echo.test:7 HTTP/1.1\r\n\r\n";
	int a = client(w->http_port), b = client(w->http_port);
	struct wd_eg_proxy_stats st;
	struct wd_err err;

	(void)state;
	send_all(w, a, req, sizeof(req) - 1);
	expect_text(w, a, "200 Connection established");
	w->mode = HOST_SILENT; /* b waits for a REPLY that never comes */
	send_all(w, b, req, sizeof(req) - 1);
	for (int i = 0; i < 100; i++)
		pump(w);
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.streams, 2);
	assert_int_equal(wd_eg_proxy_end(w->px, true, &err), 0);
	assert_non_null(find_record(w, "network", "close", "\"id\":65536"));
	assert_non_null(find_record(w, "network", "close", "\"id\":65537"));
	assert_non_null(find_record(w, "network", "close", "\"reason\":\"job-end\""));
	wd_eg_proxy_stats(w->px, &st);
	assert_int_equal(st.streams, 0);
	assert_int_equal(st.clients, 0);
	expect_eof(w, a);
	(void)close(a);
	(void)close(b);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_tunnel_carries_bytes_both_ways_and_is_recorded),
		cmocka_unit_test(test_socks5_connects_by_name_ipv4_and_ipv6),
		cmocka_unit_test(test_denials_answer_403_with_the_reason_and_are_recorded),
		cmocka_unit_test(test_socks5_denial_is_0x02),
		cmocka_unit_test(test_host_refusal_is_403_and_a_refused_record),
		cmocka_unit_test(test_oversized_head_is_431),
		cmocka_unit_test(test_slow_client_does_not_delay_another_and_is_dropped),
		cmocka_unit_test(test_connection_limit_is_503_and_recorded),
		cmocka_unit_test(test_handshake_bound_evicts_the_oldest_handshake),
		cmocka_unit_test(test_absolute_get_is_forwarded_with_a_rewritten_head),
		cmocka_unit_test(test_forwarded_head_loses_hop_by_hop_fields),
		cmocka_unit_test(test_keep_alive_reuses_the_stream_for_the_same_host_only),
		cmocka_unit_test(test_chunked_post_passes_through),
		cmocka_unit_test(test_forwarded_request_to_a_denied_host_is_403),
		cmocka_unit_test(test_client_reset_while_its_response_arrives),
		cmocka_unit_test(test_job_end_closes_every_stream_with_a_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
