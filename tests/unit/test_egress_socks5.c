/*
 * tests/unit/test_egress_socks5.c - egress/socks5.c: the SOCKS5 greeting
 * and request from the agent, and the replies.
 *
 * Every message is also fed a byte at a time: each proper prefix must ask
 * for more (or fail at the first byte that makes it wrong), never read past
 * what arrived, and the whole must give the same result. Every address
 * type, every refusal with its reply code, and the bytes after a message
 * (the tunnel's) left alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../egress/socks5.h"

/* Each prefix of m[0..n) is MORE; the whole gives the result. Copies each
 * prefix to the heap so that ASan sees any read past it. */
static enum wd_eg_socks_result greeting(const uint8_t *m, size_t n, size_t *used, uint8_t *method)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = malloc(i + 1);
		size_t u = 0;
		uint8_t x = 0x55;

		assert_non_null(p);
		memcpy(p, m, i);
		assert_int_equal(wd_eg_socks_greeting(p, i, &u, &x), WD_EG_SOCKS_MORE);
		free(p);
	}
	return wd_eg_socks_greeting(m, n, used, method);
}

static void test_greeting_with_no_auth_is_accepted(void **state)
{
	static const uint8_t m[] = {5, 3, 0x02, 0x80, 0x00, 5, 1, 0}; /* then a request */
	size_t used = 0;
	uint8_t method = 0x55;

	(void)state;
	assert_int_equal(greeting(m, 5, &used, &method), WD_EG_SOCKS_DONE);
	assert_int_equal(wd_eg_socks_greeting(m, sizeof(m), &used, &method), WD_EG_SOCKS_DONE);
	assert_int_equal(used, 5);
	assert_int_equal(method, WD_EG_SOCKS_METHOD_NONE);
}

static void test_greeting_without_no_auth_gets_ff(void **state)
{
	static const uint8_t m[] = {5, 2, 0x01, 0x02};
	size_t used = 0;
	uint8_t method = 0x55;

	(void)state;
	assert_int_equal(greeting(m, sizeof(m), &used, &method), WD_EG_SOCKS_DONE);
	assert_int_equal(used, 4);
	assert_int_equal(method, WD_EG_SOCKS_METHOD_REFUSED);
}

static void test_greeting_with_255_methods(void **state)
{
	uint8_t m[WD_EG_SOCKS_GREETING_MAX];
	size_t used = 0;
	uint8_t method = 0x55;

	(void)state;
	m[0] = 5;
	m[1] = 255;
	memset(m + 2, 0x09, 255);
	m[WD_EG_SOCKS_GREETING_MAX - 1] = 0x00; /* the last one */
	assert_int_equal(greeting(m, sizeof(m), &used, &method), WD_EG_SOCKS_DONE);
	assert_int_equal(used, WD_EG_SOCKS_GREETING_MAX);
	assert_int_equal(method, WD_EG_SOCKS_METHOD_NONE);
}

static void test_greeting_that_is_not_socks5_is_closed_at_once(void **state)
{
	static const uint8_t v4[] = {4, 1, 0, 80, 10, 0, 0, 1, 0};
	static const uint8_t http[] = "CONNECT a:1 HTTP/1.1\r\n\r\n";
	static const uint8_t none[] = {5, 0};
	size_t used = 0;
	uint8_t method = 0x55;

	(void)state;
	assert_int_equal(wd_eg_socks_greeting(v4, 1, &used, &method), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_greeting(v4, sizeof(v4), &used, &method), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_greeting(http, 1, &used, &method), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_greeting(none, 1, &used, &method), WD_EG_SOCKS_MORE);
	assert_int_equal(wd_eg_socks_greeting(none, 2, &used, &method), WD_EG_SOCKS_CLOSE);
	assert_int_equal(used, 0);
	assert_int_equal(method, 0x55);
}

static void test_method_reply(void **state)
{
	uint8_t out[WD_EG_SOCKS_METHOD_REPLY_LEN];

	(void)state;
	wd_eg_socks_method_reply(WD_EG_SOCKS_METHOD_NONE, out);
	assert_memory_equal(out, ((uint8_t[]){5, 0x00}), 2);
	wd_eg_socks_method_reply(WD_EG_SOCKS_METHOD_REFUSED, out);
	assert_memory_equal(out, ((uint8_t[]){5, 0xff}), 2);
}

/* As greeting(): every prefix MORE, then the whole. */
static enum wd_eg_socks_result request(const uint8_t *m, size_t n, struct wd_eg_socks_req *r,
				       size_t *used)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = malloc(i + 1);
		size_t u = 0;

		assert_non_null(p);
		memcpy(p, m, i);
		assert_int_equal(wd_eg_socks_request(p, i, r, &u), WD_EG_SOCKS_MORE);
		assert_int_equal(u, 0);
		free(p);
	}
	return wd_eg_socks_request(m, n, r, used);
}

static void test_connect_ipv4(void **state)
{
	static const uint8_t m[] = {5, 1, 0, 1, 10, 20, 1, 5, 0x01, 0xbb, 'G', 'E', 'T'};
	struct wd_eg_socks_req r;
	size_t used = 0;

	(void)state;
	assert_int_equal(request(m, 10, &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(wd_eg_socks_request(m, sizeof(m), &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(used, 10); /* "GET" is the tunnel's */
	assert_int_equal(r.atyp, WD_EG_SOCKS_ATYP_IPV4);
	assert_string_equal(r.host, "10.20.1.5");
	assert_int_equal(r.host_len, 9);
	assert_memory_equal(r.addr, ((uint8_t[]){10, 20, 1, 5}), 4);
	assert_int_equal(r.port, 443);
}

static void test_connect_ipv6(void **state)
{
	static const uint8_t m[] = {5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0,    0,
				    0, 0, 0, 0, 0,    0,    0,    0,    1, 0xff, 0xff};
	static const uint8_t mapped[] = {5, 1, 0, 4,    0,    0,   0, 0, 0, 0, 0,
					 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1, 0, 80};
	struct wd_eg_socks_req r;
	size_t used = 0;

	(void)state;
	assert_int_equal(request(m, sizeof(m), &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(used, sizeof(m));
	assert_int_equal(r.atyp, WD_EG_SOCKS_ATYP_IPV6);
	assert_string_equal(r.host, "2001:db8::1");
	assert_memory_equal(r.addr, m + 4, 16);
	assert_int_equal(r.port, 65535);
	/* Text as inet_ntop writes it: the policy check classifies it. */
	assert_int_equal(request(mapped, sizeof(mapped), &r, &used), WD_EG_SOCKS_DONE);
	assert_string_equal(r.host, "::ffff:127.0.0.1");
}

static void test_connect_domain(void **state)
{
	static const uint8_t m[] = {5,   1,   0,   3,   11,  'e', 'x', 'a', 'm', 'p',
				    'l', 'e', '.', 'c', 'o', 'm', 0,   80,  0x16};
	struct wd_eg_socks_req r;
	size_t used = 0;

	(void)state;
	assert_int_equal(request(m, sizeof(m) - 1, &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(wd_eg_socks_request(m, sizeof(m), &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(used, sizeof(m) - 1);
	assert_int_equal(r.atyp, WD_EG_SOCKS_ATYP_DOMAIN);
	assert_string_equal(r.host, "example.com");
	assert_int_equal(r.host_len, 11);
	assert_int_equal(r.port, 80);
}

static void test_domain_of_255_bytes(void **state)
{
	uint8_t m[WD_EG_SOCKS_REQUEST_MAX];
	struct wd_eg_socks_req r;
	size_t used = 0;

	(void)state;
	memcpy(m, ((uint8_t[]){5, 1, 0, 3, 255}), 5);
	memset(m + 5, 'a', 255);
	m[260] = 0x1f;
	m[261] = 0x90;
	assert_int_equal(request(m, sizeof(m), &r, &used), WD_EG_SOCKS_DONE);
	assert_int_equal(used, WD_EG_SOCKS_REQUEST_MAX);
	assert_int_equal(r.host_len, WD_EG_SOCKS_NAME_MAX);
	assert_int_equal(strlen(r.host), WD_EG_SOCKS_NAME_MAX);
	assert_int_equal(r.port, 8080);
}

/* m is answered with `rep` once its first `at` bytes are in. */
static void expect_reply(const uint8_t *m, size_t n, size_t at, uint8_t rep)
{
	struct wd_eg_socks_req r;
	size_t used = 0x5555;

	for (size_t i = 0; i < at; i++)
		assert_int_equal(wd_eg_socks_request(m, i, &r, &used), WD_EG_SOCKS_MORE);
	assert_int_equal(wd_eg_socks_request(m, at, &r, &used), WD_EG_SOCKS_REPLY);
	assert_int_equal(r.rep, rep);
	assert_int_equal(wd_eg_socks_request(m, n, &r, &used), WD_EG_SOCKS_REPLY);
	assert_int_equal(r.rep, rep);
	assert_int_equal(used, 0x5555); /* nothing is taken for a tunnel */
}

static void test_bind_udp_and_unknown_commands_get_07(void **state)
{
	static const uint8_t bind[] = {5, 2, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t udp[] = {5, 3, 0, 1, 0, 0, 0, 0, 0, 0};
	static const uint8_t zero[] = {5, 0, 0, 3, 1, 'a', 0, 80};
	static const uint8_t nine[] = {5, 9, 0, 9, 1, 2, 3};

	(void)state;
	expect_reply(bind, sizeof(bind), 4, WD_EG_SOCKS_CMD_UNSUPPORTED);
	expect_reply(udp, sizeof(udp), 4, WD_EG_SOCKS_CMD_UNSUPPORTED);
	expect_reply(zero, sizeof(zero), 4, WD_EG_SOCKS_CMD_UNSUPPORTED);
	expect_reply(nine, sizeof(nine), 4, WD_EG_SOCKS_CMD_UNSUPPORTED);
}

static void test_unknown_address_types_get_08(void **state)
{
	(void)state;
	for (unsigned atyp = 0; atyp < 256; atyp++) {
		uint8_t m[] = {5, 1, 0, (uint8_t)atyp, 1, 2, 3, 4, 5, 6};

		if (atyp == WD_EG_SOCKS_ATYP_IPV4 || atyp == WD_EG_SOCKS_ATYP_DOMAIN ||
		    atyp == WD_EG_SOCKS_ATYP_IPV6)
			continue;
		expect_reply(m, sizeof(m), 4, WD_EG_SOCKS_ATYP_UNSUPPORTED);
	}
}

static void test_names_no_host_can_have_get_04(void **state)
{
	static const uint8_t bytes[] = {0x00, '\t', ' ', 0x1b, 0x7f, 0x80, 0xff};

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++) {
		uint8_t m[] = {5, 1, 0, 3, 3, 'a', bytes[i], 'b', 0, 80};

		expect_reply(m, sizeof(m), sizeof(m), WD_EG_SOCKS_HOST_UNREACHABLE);
	}
}

static void test_port_zero_gets_01(void **state)
{
	static const uint8_t v4[] = {5, 1, 0, 1, 1, 2, 3, 4, 0, 0};
	static const uint8_t name[] = {5, 1, 0, 3, 1, 'a', 0, 0};

	(void)state;
	expect_reply(v4, sizeof(v4), sizeof(v4), WD_EG_SOCKS_GENERAL_FAILURE);
	expect_reply(name, sizeof(name), sizeof(name), WD_EG_SOCKS_GENERAL_FAILURE);
}

static void test_requests_that_are_not_socks5_are_closed(void **state)
{
	static const uint8_t v4[] = {4, 1, 0, 1, 1, 2, 3, 4, 0, 80};
	static const uint8_t rsv[] = {5, 1, 1, 1, 1, 2, 3, 4, 0, 80};
	static const uint8_t empty[] = {5, 1, 0, 3, 0, 0, 80};
	struct wd_eg_socks_req r;
	size_t used = 0x5555;

	(void)state;
	assert_int_equal(wd_eg_socks_request(v4, 1, &r, &used), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_request(rsv, 2, &r, &used), WD_EG_SOCKS_MORE);
	assert_int_equal(wd_eg_socks_request(rsv, 3, &r, &used), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_request(rsv, sizeof(rsv), &r, &used), WD_EG_SOCKS_CLOSE);
	assert_int_equal(wd_eg_socks_request(empty, 4, &r, &used), WD_EG_SOCKS_MORE);
	assert_int_equal(wd_eg_socks_request(empty, 5, &r, &used), WD_EG_SOCKS_CLOSE);
	assert_int_equal(used, 0x5555);
}

static void test_replies_carry_an_unspecified_bound_address(void **state)
{
	uint8_t out[WD_EG_SOCKS_REPLY_LEN];

	(void)state;
	for (unsigned rep = WD_EG_SOCKS_SUCCEEDED; rep <= WD_EG_SOCKS_ATYP_UNSUPPORTED; rep++) {
		const uint8_t want[WD_EG_SOCKS_REPLY_LEN] = {5, (uint8_t)rep, 0, 1, 0, 0, 0, 0, 0,
							     0};

		memset(out, 0xaa, sizeof(out));
		wd_eg_socks_reply((uint8_t)rep, out);
		assert_memory_equal(out, want, sizeof(want));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting_with_no_auth_is_accepted),
		cmocka_unit_test(test_greeting_without_no_auth_gets_ff),
		cmocka_unit_test(test_greeting_with_255_methods),
		cmocka_unit_test(test_greeting_that_is_not_socks5_is_closed_at_once),
		cmocka_unit_test(test_method_reply),
		cmocka_unit_test(test_connect_ipv4),
		cmocka_unit_test(test_connect_ipv6),
		cmocka_unit_test(test_connect_domain),
		cmocka_unit_test(test_domain_of_255_bytes),
		cmocka_unit_test(test_bind_udp_and_unknown_commands_get_07),
		cmocka_unit_test(test_unknown_address_types_get_08),
		cmocka_unit_test(test_names_no_host_can_have_get_04),
		cmocka_unit_test(test_port_zero_gets_01),
		cmocka_unit_test(test_requests_that_are_not_socks5_are_closed),
		cmocka_unit_test(test_replies_carry_an_unspecified_bound_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
