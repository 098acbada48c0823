/*
 * tests/unit/test_msgeg.c - vsock/msgeg.c: the egress stream payloads
 * (EG_OPEN, EG_REPLY, EG_WINDOW, EG_CLOSE; docs/protocol.md, "Streams").
 *
 * Each payload round-trips, and each rule of the strict decoders has a
 * payload that breaks it and is refused: a field out of range, a length
 * that does not add up, bytes where there must be none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../vsock/msg.h"

static void expect_error(int rc, int code, const struct wd_err *err, const char *why)
{
	assert_int_equal(rc, -code);
	assert_int_equal(err->code, code);
	assert_non_null(strstr(err->msg, why));
}

/* ---- OPEN ---- */

static int open_bytes(uint8_t *out, const char *host, uint16_t port, uint8_t proxy)
{
	struct wd_eg_open o = {.port = port, .proxy = proxy};
	struct wd_err err;

	(void)snprintf(o.host, sizeof(o.host), "%s", host);
	return wd_eg_open_encode(&o, out, &err);
}

static void test_open_round_trips(void **state)
{
	uint8_t p[WD_EG_OPEN_MAX_BYTES];
	struct wd_eg_open o;
	struct wd_err err;
	int n = open_bytes(p, "api.example.com", 443, WD_EG_PROXY_HTTP_CONNECT);

	(void)state;
	assert_int_equal(n, 4 + 15);
	assert_memory_equal(p,
			    "\x01\xbb\x01\x0f"
			    "api.example.com",
			    19);
	assert_int_equal(wd_eg_open_decode(p, (size_t)n, &o, &err), 0);
	assert_int_equal(o.port, 443);
	assert_int_equal(o.proxy, WD_EG_PROXY_HTTP_CONNECT);
	assert_string_equal(o.host, "api.example.com");
	n = open_bytes(p, "2001:db8::1", 8080, WD_EG_PROXY_SOCKS5);
	assert_int_equal(wd_eg_open_decode(p, (size_t)n, &o, &err), 0);
	assert_string_equal(o.host, "2001:db8::1");
}

static void test_open_longest_host_round_trips(void **state)
{
	uint8_t p[WD_EG_OPEN_MAX_BYTES];
	char host[WD_EG_HOST_MAX + 1];
	struct wd_eg_open o;
	struct wd_err err;

	(void)state;
	memset(host, 'a', WD_EG_HOST_MAX);
	host[WD_EG_HOST_MAX] = '\0';
	assert_int_equal(open_bytes(p, host, 1, WD_EG_PROXY_HTTP), WD_EG_OPEN_MAX_BYTES);
	assert_int_equal(wd_eg_open_decode(p, WD_EG_OPEN_MAX_BYTES, &o, &err), 0);
	assert_int_equal(strlen(o.host), WD_EG_HOST_MAX);
}

static void test_open_bad_fields_are_rejected(void **state)
{
	uint8_t p[WD_EG_OPEN_MAX_BYTES + 1];
	struct wd_eg_open o;
	struct wd_err err;
	int n = open_bytes(p, "a.example", 80, WD_EG_PROXY_HTTP);

	(void)state;
	p[0] = p[1] = 0; /* port 0 */
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), ERANGE, &err, "port 0");
	p[1] = 80;
	p[2] = 4; /* no such proxy */
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), EINVAL, &err, "proxy 4");
	p[2] = 0;
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), EINVAL, &err, "proxy 0");
	p[2] = WD_EG_PROXY_HTTP;
	p[4] = 'A'; /* not normalised */
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), EINVAL, &err, "0x41");
	p[4] = '\0';
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), EINVAL, &err, "0x00");
	p[4] = ' ';
	expect_error(wd_eg_open_decode(p, (size_t)n, &o, &err), EINVAL, &err, "0x20");
	p[4] = 'a';
	assert_int_equal(wd_eg_open_decode(p, (size_t)n, &o, &err), 0);
}

static void test_open_lengths_that_do_not_add_up_are_rejected(void **state)
{
	uint8_t p[WD_EG_OPEN_MAX_BYTES + 1] = {0};
	struct wd_eg_open o;
	struct wd_err err;
	int n = open_bytes(p, "a.example", 80, WD_EG_PROXY_HTTP);

	(void)state;
	expect_error(wd_eg_open_decode(p, (size_t)n - 1, &o, &err), EBADMSG, &err, "for a host");
	expect_error(wd_eg_open_decode(p, (size_t)n + 1, &o, &err), EBADMSG, &err, "for a host");
	expect_error(wd_eg_open_decode(p, 4, &o, &err), EBADMSG, &err, "not 5..");
	expect_error(wd_eg_open_decode(p, WD_EG_OPEN_MAX_BYTES + 1, &o, &err), EBADMSG, &err,
		     "not 5..");
	p[3] = 0; /* an empty host */
	expect_error(wd_eg_open_decode(p, 5, &o, &err), EBADMSG, &err, "for a host of 0");
}

static void test_open_encoder_refuses_what_the_decoder_refuses(void **state)
{
	uint8_t p[WD_EG_OPEN_MAX_BYTES];

	(void)state;
	assert_int_equal(open_bytes(p, "", 80, 1), -ERANGE);
	assert_int_equal(open_bytes(p, "x y", 80, 1), -EINVAL);
	assert_int_equal(open_bytes(p, "x", 0, 1), -ERANGE);
	assert_int_equal(open_bytes(p, "x", 80, 9), -EINVAL);
}

/* ---- REPLY ---- */

static struct wd_eg_reply connected(void)
{
	struct wd_eg_reply r = {.result = WD_EG_CONNECTED, .rule = 2, .dialed_port = 443};

	r.dialed.family = 4;
	memcpy(r.dialed.a, "\x7f\x00\x00\x01", 4);
	r.naddrs = 2;
	r.addrs[0] = r.dialed;
	r.addrs[1].family = 6;
	r.addrs[1].a[15] = 1;
	return r;
}

static void test_reply_connected_round_trips(void **state)
{
	uint8_t p[WD_EG_REPLY_MAX_BYTES];
	struct wd_eg_reply r = connected(), d;
	struct wd_err err;
	int n = wd_eg_reply_encode(&r, p, &err);

	(void)state;
	assert_int_equal(n, WD_EG_REPLY_MIN_BYTES + 2 * WD_EG_ADDR_BYTES);
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(wd_eg_reply_decode(p, (size_t)n, &d, &err), 0);
	assert_int_equal(d.result, WD_EG_CONNECTED);
	assert_int_equal(d.rule, 2);
	assert_int_equal(d.dialed.family, 4);
	assert_memory_equal(d.dialed.a, r.dialed.a, 16);
	assert_int_equal(d.dialed_port, 443);
	assert_int_equal(d.naddrs, 2);
	assert_int_equal(d.addrs[1].family, 6);
	assert_int_equal(d.addrs[1].a[15], 1);
	assert_string_equal(d.reason, "");
}

static void test_reply_refusal_round_trips(void **state)
{
	uint8_t p[WD_EG_REPLY_MAX_BYTES];
	struct wd_eg_reply r = {.result = WD_EG_ADDRESS, .rule = -1}, d;
	struct wd_err err;
	int n;

	(void)state;
	r.naddrs = WD_EG_MAX_ADDRS;
	for (int i = 0; i < WD_EG_MAX_ADDRS; i++) {
		r.addrs[i].family = 4;
		r.addrs[i].a[0] = 10;
		r.addrs[i].a[3] = (uint8_t)i;
	}
	memset(r.reason, 'x', WD_EG_REASON_MAX);
	memcpy(r.reason, "address 10.0.0.0 is private", 27);
	n = wd_eg_reply_encode(&r, p, &err);
	assert_int_equal(n, WD_EG_REPLY_MAX_BYTES);
	assert_int_equal(wd_eg_reply_decode(p, (size_t)n, &d, &err), 0);
	assert_int_equal(d.result, WD_EG_ADDRESS);
	assert_int_equal(d.rule, -1);
	assert_int_equal(d.naddrs, WD_EG_MAX_ADDRS);
	assert_int_equal(d.addrs[15].a[3], 15);
	assert_int_equal(strlen(d.reason), WD_EG_REASON_MAX);
	assert_memory_equal(d.reason, "address 10.0.0.0 is private", 27);
}

/* Encode `r` without its checks: the bytes a hostile host could send. */
static size_t raw_reply(const struct wd_eg_reply *r, uint8_t *p)
{
	size_t rn = strlen(r->reason), k = 0;

	p[k++] = r->result;
	p[k++] = (uint8_t)((uint16_t)r->rule >> 8);
	p[k++] = (uint8_t)r->rule;
	p[k++] = r->dialed.family;
	memcpy(p + k, r->dialed.a, 16);
	k += 16;
	p[k++] = (uint8_t)(r->dialed_port >> 8);
	p[k++] = (uint8_t)r->dialed_port;
	p[k++] = r->naddrs;
	for (unsigned i = 0; i < r->naddrs && i < WD_EG_MAX_ADDRS; i++) {
		p[k++] = r->addrs[i].family;
		memcpy(p + k, r->addrs[i].a, 16);
		k += 16;
	}
	p[k++] = (uint8_t)rn;
	memcpy(p + k, r->reason, rn);
	return k + rn;
}

static void expect_reply_rejected(const struct wd_eg_reply *r, int code, const char *why)
{
	uint8_t p[WD_EG_REPLY_MAX_BYTES + 64];
	struct wd_eg_reply d, before;
	struct wd_err err;
	size_t n = raw_reply(r, p);

	memset(&d, 0x5a, sizeof(d));
	before = d;
	expect_error(wd_eg_reply_decode(p, n, &d, &err), code, &err, why);
	assert_memory_equal(&d, &before, sizeof(d)); /* untouched on failure */
	/* The encoder refuses the same. */
	assert_int_equal(wd_eg_reply_encode(r, p, &err), -code);
}

static void test_reply_bad_fields_are_rejected(void **state)
{
	struct wd_eg_reply r;

	(void)state;
	r = connected();
	r.result = WD_EG_RESULT_MAX + 1;
	expect_reply_rejected(&r, EINVAL, "result 8");
	r = connected();
	r.rule = -2;
	expect_reply_rejected(&r, ERANGE, "rule -2");
	r.rule = WD_EG_RULE_MAX + 1;
	expect_reply_rejected(&r, ERANGE, "rule 256");
	r = connected();
	r.dialed.family = 5;
	expect_reply_rejected(&r, EINVAL, "family 5");
	r = connected();
	r.dialed.a[4] = 1; /* IPv4 with bytes past its four */
	expect_reply_rejected(&r, EINVAL, "past 4");
	r = connected();
	r.dialed_port = 0;
	expect_reply_rejected(&r, EINVAL, "without a dialed address");
	r = connected();
	memset(&r.dialed, 0, sizeof(r.dialed));
	expect_reply_rejected(&r, EINVAL, "has no address");
	r = connected();
	(void)snprintf(r.reason, sizeof(r.reason), "but why");
	expect_reply_rejected(&r, EINVAL, "with a reason");
	r = connected();
	r.addrs[1].family = 0;
	expect_reply_rejected(&r, EINVAL, "address has no address");
	r = (struct wd_eg_reply){.result = WD_EG_DENIED, .rule = 0};
	expect_reply_rejected(&r, EINVAL, "without a reason");
	(void)snprintf(r.reason, sizeof(r.reason), "deny\x1b[2J");
	expect_reply_rejected(&r, EINVAL, "not printable");
	(void)snprintf(r.reason, sizeof(r.reason), "deny-rule deny[0]");
	r.dialed_port = 443;
	expect_reply_rejected(&r, EINVAL, "with a dialed address");
	r.dialed_port = 0;
	r.dialed.a[0] = 1; /* family 0 with bytes */
	expect_reply_rejected(&r, EINVAL, "family 0 with bytes");
}

static void test_reply_lengths_that_do_not_add_up_are_rejected(void **state)
{
	uint8_t p[WD_EG_REPLY_MAX_BYTES + 64] = {0};
	struct wd_eg_reply r = connected(), d;
	struct wd_err err;
	size_t n = raw_reply(&r, p);

	(void)state;
	expect_error(wd_eg_reply_decode(p, n - 1, &d, &err), EBADMSG, &err, "2 addresses need");
	expect_error(wd_eg_reply_decode(p, n + 1, &d, &err), EBADMSG, &err, "expected");
	expect_error(wd_eg_reply_decode(p, WD_EG_REPLY_MIN_BYTES - 1, &d, &err), EBADMSG, &err,
		     "bytes, not");
	p[WD_EG_REPLY_MIN_BYTES - 2] = 3; /* three addresses announced, two there */
	expect_error(wd_eg_reply_decode(p, n, &d, &err), EBADMSG, &err, "3 addresses need");
	p[WD_EG_REPLY_MIN_BYTES - 2] = WD_EG_MAX_ADDRS + 1;
	expect_error(wd_eg_reply_decode(p, WD_EG_REPLY_MAX_BYTES, &d, &err), E2BIG, &err,
		     "17 addresses");
	/* A NUL inside the reason. */
	r = (struct wd_eg_reply){.result = WD_EG_CONNECT, .rule = -1};
	(void)snprintf(r.reason, sizeof(r.reason), "refused");
	n = raw_reply(&r, p);
	p[n - 3] = '\0';
	expect_error(wd_eg_reply_decode(p, n, &d, &err), EINVAL, &err, "not printable");
}

/* ---- WINDOW and CLOSE ---- */

static void test_window_round_trips_and_bounds(void **state)
{
	uint8_t p[WD_EG_WINDOW_BYTES];
	uint32_t c = 0;
	struct wd_err err;

	(void)state;
	wd_eg_window_encode(WD_EG_WINDOW, p);
	assert_int_equal(wd_eg_window_decode(p, sizeof(p), &c, &err), 0);
	assert_int_equal(c, WD_EG_WINDOW);
	wd_eg_window_encode(1, p);
	assert_int_equal(wd_eg_window_decode(p, sizeof(p), &c, &err), 0);
	assert_int_equal(c, 1);
	wd_eg_window_encode(0, p);
	expect_error(wd_eg_window_decode(p, sizeof(p), &c, &err), ERANGE, &err, "credit 0");
	wd_eg_window_encode(WD_EG_WINDOW + 1, p);
	expect_error(wd_eg_window_decode(p, sizeof(p), &c, &err), ERANGE, &err, "credit 262145");
	expect_error(wd_eg_window_decode(p, 3, &c, &err), EBADMSG, &err, "3 bytes");
	expect_error(wd_eg_window_decode(p, 5, &c, &err), EBADMSG, &err, "5 bytes");
}

static void test_close_round_trips_and_bounds(void **state)
{
	uint8_t p[2] = {0};
	enum wd_eg_close c = WD_EG_CLOSE_DONE;
	struct wd_err err;

	(void)state;
	for (unsigned r = WD_EG_CLOSE_RESET; r <= WD_EG_CLOSE_MAX; r++) {
		wd_eg_close_encode((enum wd_eg_close)r, p);
		assert_int_equal(wd_eg_close_decode(p, 1, &c, &err), 0);
		assert_int_equal(c, r);
	}
	/* DONE is no reset: two empty DATA end a stream, never CLOSE. */
	wd_eg_close_encode(WD_EG_CLOSE_DONE, p);
	expect_error(wd_eg_close_decode(p, 1, &c, &err), EINVAL, &err, "reason 0");
	p[0] = WD_EG_CLOSE_MAX + 1;
	expect_error(wd_eg_close_decode(p, 1, &c, &err), EINVAL, &err, "reason 7");
	expect_error(wd_eg_close_decode(p, 0, &c, &err), EBADMSG, &err, "0 bytes");
	expect_error(wd_eg_close_decode(p, 2, &c, &err), EBADMSG, &err, "2 bytes");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(wd_eg_proxy_name(WD_EG_PROXY_HTTP_CONNECT), "http-connect");
	assert_string_equal(wd_eg_proxy_name(WD_EG_PROXY_SOCKS5), "socks5");
	assert_string_equal(wd_eg_proxy_name(0), "?");
	assert_string_equal(wd_eg_result_name(WD_EG_TIMEOUT), "timeout");
	assert_string_equal(wd_eg_result_name(WD_EG_RESULT_MAX + 1), "?");
	assert_string_equal(wd_eg_close_name(WD_EG_CLOSE_JOB_END), "job-end");
	assert_string_equal(wd_eg_close_name(WD_EG_CLOSE_MAX + 1), "?");
	for (unsigned i = 0; i <= WD_EG_RESULT_MAX; i++)
		assert_string_not_equal(wd_eg_result_name(i), "?");
	for (unsigned i = 0; i <= WD_EG_CLOSE_MAX; i++)
		assert_string_not_equal(wd_eg_close_name(i), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_round_trips),
		cmocka_unit_test(test_open_longest_host_round_trips),
		cmocka_unit_test(test_open_bad_fields_are_rejected),
		cmocka_unit_test(test_open_lengths_that_do_not_add_up_are_rejected),
		cmocka_unit_test(test_open_encoder_refuses_what_the_decoder_refuses),
		cmocka_unit_test(test_reply_connected_round_trips),
		cmocka_unit_test(test_reply_refusal_round_trips),
		cmocka_unit_test(test_reply_bad_fields_are_rejected),
		cmocka_unit_test(test_reply_lengths_that_do_not_add_up_are_rejected),
		cmocka_unit_test(test_window_round_trips_and_bounds),
		cmocka_unit_test(test_close_round_trips_and_bounds),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
