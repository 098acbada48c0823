/*
 * tests/unit/test_egress_dial.c - egress/dial.c, the host's half of an
 * egress stream, against a fake guest.
 *
 * The guest's end is a keyed wd_conn on one end of a socketpair, driven by
 * the test: it sends EG_OPEN and DATA as a supervisor would (or would not:
 * the host's check must not depend on the guest's) and reads what the host
 * answers. The host's end runs the dial engine and the stream core exactly
 * as `warden run` does. Every server is on this machine's loopback, made
 * here; names are pinned with `hosts` or answered by a resolver hook that
 * counts its lookups, so no test touches a real resolver or network.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../../common/clock.h"
#include "../../common/egress.h"
#include "../../egress/dial.h"
#include "../../egress/mux.h"
#include "../../vsock/conn.h"
#include "../../vsock/msg.h"

#define WAIT_MS 5000 /* a bound on any wait here; never reached when things work */
#define MAX_RECORDS 16

struct rec {
	char activity[16], severity[16];
	char data[WD_EG_DIAL_RECORD_MAX];
};

struct fx {
	struct wd_egress rules;
	struct wd_conn host, guest;
	struct wd_eg_mux *mux;
	struct wd_eg_dial *dial;
	struct rec recs[MAX_RECORDS];
	int nrecs;
	uint32_t next_id;
	/* what the guest received for the stream it waits on */
	bool got_reply;
	struct wd_eg_reply reply;
	char data[4096];
	size_t data_len;
	bool closed;
};

static bool system_resolver; /* the next fixture uses getaddrinfo, not the hook */
static int lookups;          /* the resolver hook's calls (atomic: it runs on resolver threads) */
static int hook_running;

/* The resolver hook: "two.test" has a private address and then loopback,
 * "loop.test" loopback, anything else does not resolve. */
static int hook(void *ctx, const char *name, struct wd_egress_addr *out, size_t max)
{
	int n = 0;

	(void)ctx;
	__atomic_fetch_add(&lookups, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&hook_running, 1, __ATOMIC_SEQ_CST);
	memset(out, 0, max * sizeof(*out));
	if (strcmp(name, "two.test") == 0) {
		out[n].family = AF_INET;
		memcpy(out[n++].a, (const uint8_t[]){10, 1, 2, 3}, 4);
	}
	if (strcmp(name, "two.test") == 0 || strcmp(name, "loop.test") == 0) {
		out[n].family = AF_INET;
		memcpy(out[n++].a, (const uint8_t[]){127, 0, 0, 1}, 4);
	}
	__atomic_fetch_sub(&hook_running, 1, __ATOMIC_SEQ_CST);
	return n;
}

static void on_record(void *ctx, const struct wd_eg_dial_record *r)
{
	struct fx *f = ctx;

	assert_true(f->nrecs < MAX_RECORDS);
	(void)snprintf(f->recs[f->nrecs].activity, sizeof(f->recs[0].activity), "%s", r->activity);
	(void)snprintf(f->recs[f->nrecs].severity, sizeof(f->recs[0].severity), "%s", r->severity);
	(void)snprintf(f->recs[f->nrecs].data, sizeof(f->recs[0].data), "%s", r->data);
	f->nrecs++;
}

/* A fixture with this policy's egress section (JSON text). */
static struct fx *fx_new(const char *egress_json)
{
	static const uint8_t key[WD_KEY_BYTES] = {7, 1, 2, 3};
	struct fx *f = calloc(1, sizeof(*f));
	cJSON *j = cJSON_Parse(egress_json);
	struct wd_eg_mux_config mc;
	struct wd_eg_dial_config dc;
	struct wd_err err;
	int sv[2];

	assert_non_null(f);
	assert_non_null(j);
	wd_egress_defaults(&f->rules);
	if (wd_egress_read(j, &f->rules, &err) < 0)
		fail_msg("%s", err.msg);
	cJSON_Delete(j);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	assert_int_equal(wd_conn_init(&f->host, sv[0], WD_SIDE_HOST, &err), 0);
	assert_int_equal(wd_conn_init(&f->guest, sv[1], WD_SIDE_GUEST, &err), 0);
	wd_chan_set_key(&f->host.chan, key);
	wd_chan_set_key(&f->guest.chan, key);
	memset(&mc, 0, sizeof(mc));
	mc.max_streams = f->rules.connections;
	mc.idle_ms = (uint64_t)f->rules.idle_timeout_s * 1000;
	if (wd_eg_mux_new(&f->mux, &f->host, &mc, &err) < 0)
		fail_msg("%s", err.msg);
	memset(&dc, 0, sizeof(dc));
	dc.rules = &f->rules;
	dc.conn = &f->host;
	dc.mux = f->mux;
	dc.record = on_record;
	dc.record_ctx = f;
	dc.resolve = system_resolver ? NULL : hook;
	system_resolver = false;
	if (wd_eg_dial_new(&dc, &f->dial, &err) < 0)
		fail_msg("%s", err.msg);
	f->next_id = WD_STREAM_EGRESS_BASE;
	__atomic_store_n(&lookups, 0, __ATOMIC_SEQ_CST);
	return f;
}

static void fx_free(struct fx *f)
{
	struct wd_err err;

	(void)wd_eg_dial_close_all(f->dial, WD_EG_CLOSE_JOB_END, false, &err);
	wd_eg_dial_free(f->dial);
	wd_eg_mux_free(f->mux);
	wd_conn_close(&f->host);
	wd_conn_close(&f->guest);
	wd_egress_free(&f->rules);
	/* A resolver thread still in the hook would be reported as a leak. */
	while (__atomic_load_n(&hook_running, __ATOMIC_SEQ_CST) > 0)
		(void)usleep(1000);
	(void)usleep(1000);
	free(f);
}

/* The guest's side of one frame. */
static void guest_frame(struct fx *f, const struct wd_frame *fr, uint32_t id)
{
	struct wd_err err;

	if (fr->stream != id)
		return;
	if (fr->type == WD_MSG_EG_REPLY) {
		assert_int_equal(wd_eg_reply_decode(fr->payload, fr->len, &f->reply, &err), 0);
		f->got_reply = true;
	} else if (fr->type == WD_MSG_DATA) {
		assert_true(f->data_len + fr->len <= sizeof(f->data));
		memcpy(f->data + f->data_len, fr->payload, fr->len);
		f->data_len += fr->len;
	} else if (fr->type == WD_MSG_EG_CLOSE) {
		f->closed = true;
	}
}

/*
 * Run both ends until `done` says so (or WAIT_MS, a failure). The host's
 * frames go through wd_eg_dial_frame; its return is the host's verdict on
 * the guest (kept in *host_rc: -EPROTO ends the loop).
 */
static int turn(struct fx *f, uint32_t id, bool (*done)(struct fx *), int *host_rc)
{
	uint64_t end = wd_mono_ns() + WAIT_MS * WD_NS_PER_MS;
	struct wd_err err;

	*host_rc = 0;
	while (!done(f)) {
		struct wd_frame fr;
		struct pollfd p[3] = {{.fd = wd_eg_dial_fd(f->dial), .events = POLLIN},
				      {.fd = f->host.fd, .events = POLLIN},
				      {.fd = f->guest.fd, .events = POLLIN}};
		int ms = wd_eg_dial_next_deadline(f->dial), rc;

		if (wd_mono_ns() > end)
			return -ETIMEDOUT;
		assert_true(wd_conn_flush(&f->host, &err) >= 0);
		assert_true(wd_conn_flush(&f->guest, &err) >= 0);
		if (ms < 0 || ms > 50)
			ms = 50;
		(void)poll(p, 3, ms);
		(void)wd_conn_read(&f->host, &err);
		while ((rc = wd_conn_next(&f->host, &fr, &err)) == 1) {
			*host_rc = wd_eg_dial_frame(f->dial, &fr, &err);
			if (*host_rc < 0) {
				print_message("host: %s\n", err.msg);
				return 0;
			}
		}
		assert_int_equal(rc, 0);
		assert_int_equal(wd_eg_dial_run(f->dial, &err), 0);
		assert_true(wd_conn_flush(&f->host, &err) >= 0);
		(void)wd_conn_read(&f->guest, &err);
		while ((rc = wd_conn_next(&f->guest, &fr, &err)) == 1)
			guest_frame(f, &fr, id);
		assert_int_equal(rc, 0);
	}
	return 0;
}

static bool has_reply(struct fx *f)
{
	return f->got_reply;
}

/* OPEN host:port on the next id; returns the id. */
static uint32_t guest_open(struct fx *f, const char *host, uint16_t port)
{
	struct wd_eg_open o;
	uint8_t buf[WD_EG_OPEN_MAX_BYTES];
	struct wd_err err;
	int n;

	memset(&o, 0, sizeof(o));
	o.port = port;
	o.proxy = WD_EG_PROXY_HTTP_CONNECT;
	(void)snprintf(o.host, sizeof(o.host), "%s", host);
	n = wd_eg_open_encode(&o, buf, &err);
	assert_true(n > 0);
	assert_int_equal(wd_conn_send(&f->guest, WD_MSG_EG_OPEN, f->next_id, buf, (size_t)n, &err),
			 0);
	f->got_reply = false;
	f->data_len = 0;
	f->closed = false;
	return f->next_id++;
}

/* OPEN and wait for the REPLY; returns the id. */
static uint32_t open_and_wait(struct fx *f, const char *host, uint16_t port)
{
	uint32_t id = guest_open(f, host, port);
	int host_rc;

	assert_int_equal(turn(f, id, has_reply, &host_rc), 0);
	assert_int_equal(host_rc, 0);
	return id;
}

static const char *reply_addr(const struct wd_eg_addr *a, char *out, size_t size)
{
	return inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->a, out, (socklen_t)size);
}

/* ---- loopback servers ---------------------------------------------------- */

/* A listener on 127.0.0.1, any port. */
static int listener(int backlog, uint16_t *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, backlog), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*port = ntohs(sa.sin_port);
	return fd;
}

/* Fill the accept queue of a listener with backlog 0 (nobody accepts):
 * the kernel then drops new SYNs, so a connect there gets no answer. */
#define FILL 4
static void fill_backlog(uint16_t port, int fill[FILL])
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};

	for (int i = 0; i < FILL; i++) {
		fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		assert_true(fill[i] >= 0);
		(void)connect(fill[i], (struct sockaddr *)&sa, sizeof(sa));
	}
	(void)usleep(50000); /* the handshakes that can complete, completed */
}

/* Echo one connection until its end. */
static void *echo_main(void *arg)
{
	int lfd = *(const int *)arg, c = accept(lfd, NULL, NULL);
	char buf[1024];
	ssize_t n;

	while (c >= 0 && (n = read(c, buf, sizeof(buf))) > 0)
		if (write(c, buf, (size_t)n) != n)
			break;
	if (c >= 0)
		(void)close(c);
	return NULL;
}

static char policy[1024];

static const char *pol(const char *fmt, ...) WD_PRINTF(1, 2);
static const char *pol(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(policy, sizeof(policy), fmt, ap);
	va_end(ap);
	return policy;
}

static bool dialing(struct fx *f)
{
	return wd_eg_dial_pending(f->dial) > 0;
}

static bool not_dialing(struct fx *f)
{
	return wd_eg_dial_pending(f->dial) == 0;
}

static bool has_echo(struct fx *f)
{
	return f->data_len >= 5;
}

/* ---- tests --------------------------------------------------------------- */

/* A pinned name, a cidr rule for 127.0.0.1/32: connected to exactly the
 * pinned address, and bytes go both ways. */
static void test_pinned_name_with_cidr_connects_and_echoes(void **state)
{
	uint16_t port;
	int lfd = listener(4, &port);
	pthread_t th;
	struct fx *f;
	struct wd_err err;
	char a[64];
	uint32_t id;
	int host_rc;

	(void)state;
	f = fx_new(pol("{\"allow\":[{\"host\":\"echo.test\",\"ports\":[%u]},"
		       "{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}],"
		       "\"hosts\":{\"echo.test\":\"127.0.0.1\"}}",
		       port, port));
	assert_int_equal(pthread_create(&th, NULL, echo_main, &lfd), 0);
	id = open_and_wait(f, "echo.test", port);
	assert_int_equal(f->reply.result, WD_EG_CONNECTED);
	assert_int_equal(f->reply.dialed.family, 4);
	assert_string_equal(reply_addr(&f->reply.dialed, a, sizeof(a)), "127.0.0.1");
	assert_int_equal(f->reply.dialed_port, port);
	assert_int_equal(f->reply.naddrs, 1);
	assert_string_equal(reply_addr(&f->reply.addrs[0], a, sizeof(a)), "127.0.0.1");
	/* loopback passes only by a cidr rule naming it: that rule decided */
	assert_int_equal(f->reply.rule, 1);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0); /* pinned */
	assert_int_equal(wd_conn_send(&f->guest, WD_MSG_DATA, id, "hello", 5, &err), 0);
	assert_int_equal(turn(f, id, has_echo, &host_rc), 0);
	assert_int_equal(host_rc, 0);
	assert_memory_equal(f->data, "hello", 5);
	assert_int_equal(f->nrecs, 0);
	/* The guest's EOF: the server sees the end, closes, and the host's EOF comes back. */
	assert_int_equal(wd_conn_send(&f->guest, WD_MSG_DATA, id, NULL, 0, &err), 0);
	fx_free(f);
	assert_int_equal(pthread_join(th, NULL), 0);
	(void)close(lfd);
}

/* The rebinding case: a name the policy allows, pinned (or resolved) to
 * loopback, without a cidr rule naming loopback. */
static void test_pinned_name_to_loopback_without_cidr_is_refused(void **state)
{
	uint16_t port;
	int lfd = listener(4, &port);
	struct fx *f;
	char a[64];

	(void)state;
	f = fx_new(pol("{\"allow\":[{\"host\":\"echo.test\",\"ports\":[%u]}],"
		       "\"hosts\":{\"echo.test\":\"127.0.0.1\"}}",
		       port));
	(void)open_and_wait(f, "echo.test", port);
	assert_int_equal(f->reply.result, WD_EG_ADDRESS);
	assert_int_equal(f->reply.dialed.family, 0);
	assert_int_equal(f->reply.naddrs, 1);
	assert_string_equal(reply_addr(&f->reply.addrs[0], a, sizeof(a)), "127.0.0.1");
	assert_non_null(strstr(f->reply.reason, "127.0.0.1 is loopback"));
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].activity, "refused");
	assert_non_null(strstr(f->recs[0].data, "\"result\":\"address\""));
	assert_non_null(strstr(f->recs[0].data,
			       "\"refused\":[{\"address\":\"127.0.0.1\",\"reason\":\"127.0.0.1 "
			       "is loopback\"}]"));
	fx_free(f);
	(void)close(lfd);
}

/* A name resolved to a private and a loopback address, a cidr rule for
 * loopback only: the private one is refused (and recorded), loopback
 * dialed; the REPLY lists both. */
static void test_resolved_addresses_are_each_checked_and_listed(void **state)
{
	uint16_t port;
	int lfd = listener(4, &port);
	pthread_t th;
	struct fx *f;
	char a[64];

	(void)state;
	f = fx_new(pol("{\"allow\":[{\"host\":\"two.test\",\"ports\":[%u]},"
		       "{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}]}",
		       port, port));
	assert_int_equal(pthread_create(&th, NULL, echo_main, &lfd), 0);
	(void)open_and_wait(f, "two.test", port);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(f->reply.result, WD_EG_CONNECTED);
	assert_int_equal(f->reply.naddrs, 2);
	assert_string_equal(reply_addr(&f->reply.addrs[0], a, sizeof(a)), "10.1.2.3");
	assert_string_equal(reply_addr(&f->reply.addrs[1], a, sizeof(a)), "127.0.0.1");
	assert_string_equal(reply_addr(&f->reply.dialed, a, sizeof(a)), "127.0.0.1");
	assert_int_equal(f->nrecs, 1);
	assert_non_null(strstr(f->recs[0].data, "\"dialed\":\"127.0.0.1\""));
	assert_non_null(strstr(f->recs[0].data, "10.1.2.3 is private"));
	fx_free(f);
	assert_int_equal(pthread_join(th, NULL), 0);
	(void)close(lfd);
}

static void test_ip_literal_without_cidr_is_denied(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"host\":\"echo.test\",\"ports\":[80]}],"
		   "\"hosts\":{\"echo.test\":\"127.0.0.1\"}}");
	(void)open_and_wait(f, "127.0.0.1", 80);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(f->reply.naddrs, 0);
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].severity, "high");
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	fx_free(f);
}

static void test_deny_rule_beats_allow_rule(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"host\":\"*.example.com\",\"ports\":[443]}],"
		   "\"deny\":[{\"host\":\"uploads.example.com\"}]}");
	(void)open_and_wait(f, "uploads.example.com", 443);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(f->reply.rule, 0);
	assert_non_null(strstr(f->reply.reason, "deny[0]"));
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	assert_int_equal(f->nrecs, 1);
	assert_non_null(strstr(f->recs[0].data, "\"list\":\"deny\""));
	fx_free(f);
}

/* No DNS for a name no rule allows: the resolver is never asked. */
static void test_name_not_allowed_is_never_resolved(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"host\":\"loop.test\",\"ports\":[443]}]}");
	(void)open_and_wait(f, "secret-data.exfil.test", 443);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	assert_non_null(strstr(f->recs[0].data, "\"host\":\"secret-data.exfil.test\""));
	/* and an allowed one is (the hook is live): loopback then refused */
	(void)open_and_wait(f, "loop.test", 443);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 1);
	assert_int_equal(f->reply.result, WD_EG_ADDRESS);
	fx_free(f);
}

/* A cidr rule admits literals and pinned names, never a name to look up:
 * a name under the agent's own zone on a port only a cidr rule has is
 * refused unresolved (a lookup would carry its bytes to that zone's
 * servers), while a pinned name is decided by its pin. */
static void test_cidr_rule_never_sends_a_name_to_the_resolver(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"ports\":[8000]}],"
		   "\"hosts\":{\"pinned.test\":\"127.0.0.1\"}}");
	(void)open_and_wait(f, "73656372657420646174.exfil.test", 8000);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	(void)open_and_wait(f, "pinned.test", 8000);
	assert_int_not_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	fx_free(f);
}

static void test_port_not_allowed_is_denied(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"host\":\"loop.test\",\"ports\":[443]}]}");
	(void)open_and_wait(f, "loop.test", 22);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_non_null(strstr(f->reply.reason, "port"));
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0);
	fx_free(f);
}

static void test_unresolvable_name_is_a_resolve_failure(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[{\"host\":\"nowhere.test\",\"ports\":[443]}]}");
	(void)open_and_wait(f, "nowhere.test", 443);
	assert_int_equal(f->reply.result, WD_EG_RESOLVE);
	assert_int_equal(f->nrecs, 1);
	assert_non_null(strstr(f->recs[0].data, "\"result\":\"resolve\""));
	fx_free(f);
}

/* getaddrinfo's answers (here /etc/hosts' localhost: no query leaves the
 * machine) are checked like any other: loopback without a cidr rule. */
static void test_system_resolver_answers_are_checked_too(void **state)
{
	struct fx *f;
	char a[64];
	bool v4 = false;

	(void)state;
	system_resolver = true;
	f = fx_new("{\"allow\":[{\"host\":\"localhost\",\"ports\":[443]}]}");
	(void)open_and_wait(f, "localhost", 443);
	assert_int_equal(f->reply.result, WD_EG_ADDRESS);
	assert_true(f->reply.naddrs >= 1);
	for (unsigned i = 0; i < f->reply.naddrs; i++)
		v4 |= strcmp(reply_addr(&f->reply.addrs[i], a, sizeof(a)), "127.0.0.1") == 0;
	assert_true(v4);
	assert_non_null(strstr(f->reply.reason, "is loopback"));
	assert_int_equal(__atomic_load_n(&lookups, __ATOMIC_SEQ_CST), 0); /* not the hook */
	fx_free(f);
}

/* limits.connections 1: one stream open, the next OPEN gets LIMIT. */
static void test_connection_limit_answers_limit(void **state)
{
	uint16_t port;
	int lfd = listener(4, &port);
	pthread_t th;
	struct fx *f;

	(void)state;
	f = fx_new(pol("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}],"
		       "\"limits\":{\"connections\":1}}",
		       port));
	assert_int_equal(pthread_create(&th, NULL, echo_main, &lfd), 0);
	(void)open_and_wait(f, "127.0.0.1", port);
	assert_int_equal(f->reply.result, WD_EG_CONNECTED);
	(void)open_and_wait(f, "127.0.0.1", port);
	assert_int_equal(f->reply.result, WD_EG_LIMIT);
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].activity, "limit");
	assert_non_null(strstr(f->recs[0].data, "\"connections\":1"));
	fx_free(f);
	assert_int_equal(pthread_join(th, NULL), 0);
	(void)close(lfd);
}

static void test_closed_port_is_a_connect_failure(void **state)
{
	uint16_t port;
	int lfd = listener(1, &port);
	struct fx *f;

	(void)state;
	(void)close(lfd); /* nothing listens there now */
	f = fx_new(pol("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}]}", port));
	(void)open_and_wait(f, "127.0.0.1", port);
	assert_int_equal(f->reply.result, WD_EG_CONNECT);
	assert_non_null(strstr(f->reply.reason, "refused"));
	assert_int_equal(f->nrecs, 0); /* a failure, not a refusal */
	fx_free(f);
}

/* A listener whose accept queue is full drops new SYNs: the connect gets
 * no answer, and the host gives up after connect_timeout_s. */
static void test_silent_address_times_out(void **state)
{
	uint16_t port;
	int lfd = listener(0, &port);
	int fill[FILL];
	struct fx *f;
	uint64_t t0;

	(void)state;
	fill_backlog(port, fill);
	f = fx_new(pol("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}],"
		       "\"limits\":{\"connect_timeout_s\":1}}",
		       port));
	t0 = wd_mono_ns();
	(void)open_and_wait(f, "127.0.0.1", port);
	assert_int_equal(f->reply.result, WD_EG_TIMEOUT);
	assert_true(wd_mono_ns() - t0 >= 1000 * WD_NS_PER_MS); /* not before the limit */
	assert_non_null(strstr(f->reply.reason, "no answer"));
	fx_free(f);
	for (int i = 0; i < FILL; i++)
		(void)close(fill[i]);
	(void)close(lfd);
}

/* The guest's check counts for nothing: an OPEN the policy refuses, sent
 * anyway, is DENIED with a record, and the channel goes on. */
static void test_guest_that_skips_its_check_is_denied_and_recorded(void **state)
{
	struct fx *f;

	(void)state;
	f = fx_new("{\"allow\":[]}");
	(void)open_and_wait(f, "api.example.com", 443);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].activity, "refused");
	assert_non_null(strstr(f->recs[0].data, "\"result\":\"denied\""));
	(void)open_and_wait(f, "169.254.169.254", 80);
	assert_int_equal(f->reply.result, WD_EG_DENIED);
	assert_non_null(strstr(f->reply.reason, "metadata"));
	fx_free(f);
}

/* Ids only go up: an OPEN reusing one is a protocol error. */
static void test_open_with_a_used_id_is_a_protocol_error(void **state)
{
	struct fx *f;
	int host_rc;

	(void)state;
	f = fx_new("{\"allow\":[]}");
	(void)open_and_wait(f, "a.test", 443);
	f->next_id--;
	(void)guest_open(f, "a.test", 443);
	assert_int_equal(turn(f, f->next_id - 1, has_reply, &host_rc), 0);
	assert_int_equal(host_rc, -EPROTO);
	fx_free(f);
}

/* The guest gives up before the REPLY: the dial is dropped, no REPLY comes. */
static void test_close_before_reply_cancels_the_dial(void **state)
{
	uint16_t port;
	int lfd = listener(0, &port);
	int fill[FILL], host_rc;
	uint8_t why[WD_EG_CLOSE_BYTES];
	struct wd_err err;
	struct fx *f;
	uint32_t id;

	(void)state;
	fill_backlog(port, fill);
	f = fx_new(pol("{\"allow\":[{\"cidr\":\"127.0.0.1/32\",\"ports\":[%u]}]}", port));
	id = guest_open(f, "127.0.0.1", port);
	assert_int_equal(turn(f, id, dialing, &host_rc), 0);
	assert_int_equal(wd_eg_dial_pending(f->dial), 1);
	wd_eg_close_encode(WD_EG_CLOSE_RESET, why);
	assert_int_equal(wd_conn_send(&f->guest, WD_MSG_EG_CLOSE, id, why, sizeof(why), &err), 0);
	assert_int_equal(turn(f, id, not_dialing, &host_rc), 0);
	assert_int_equal(host_rc, 0);
	assert_int_equal(wd_eg_dial_pending(f->dial), 0);
	assert_false(f->got_reply);
	fx_free(f);
	for (int i = 0; i < FILL; i++)
		(void)close(fill[i]);
	(void)close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_name_with_cidr_connects_and_echoes),
		cmocka_unit_test(test_pinned_name_to_loopback_without_cidr_is_refused),
		cmocka_unit_test(test_resolved_addresses_are_each_checked_and_listed),
		cmocka_unit_test(test_ip_literal_without_cidr_is_denied),
		cmocka_unit_test(test_deny_rule_beats_allow_rule),
		cmocka_unit_test(test_name_not_allowed_is_never_resolved),
		cmocka_unit_test(test_cidr_rule_never_sends_a_name_to_the_resolver),
		cmocka_unit_test(test_port_not_allowed_is_denied),
		cmocka_unit_test(test_unresolvable_name_is_a_resolve_failure),
		cmocka_unit_test(test_system_resolver_answers_are_checked_too),
		cmocka_unit_test(test_connection_limit_answers_limit),
		cmocka_unit_test(test_closed_port_is_a_connect_failure),
		cmocka_unit_test(test_silent_address_times_out),
		cmocka_unit_test(test_guest_that_skips_its_check_is_denied_and_recorded),
		cmocka_unit_test(test_open_with_a_used_id_is_a_protocol_error),
		cmocka_unit_test(test_close_before_reply_cancels_the_dial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
