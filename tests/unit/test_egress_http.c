/*
 * tests/unit/test_egress_http.c - egress/http.c and egress/httpbody.c: the
 * HTTP proxy's request and response heads, the forwarded head, body
 * framing and the proxy's own answers.
 *
 * The agent is the attacker: every smuggling shape (Content-Length with
 * Transfer-Encoding, differing lengths, a coding other than chunked, a
 * Connection field that would strip the framing), every line-ending and
 * control-byte trick, oversized heads and every unsupported form must be
 * refused with its status; every accepted head must give the same result
 * fed whole or a byte at a time, and a chunked body the same end however
 * it is split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../egress/http.h"

static char big[2 * WD_EG_HTTP_HEAD_MAX];

/* Parse s whole, then a byte at a time, and check both agree. */
static enum wd_eg_http_result req(const char *s, size_t n, struct wd_eg_http_req *r)
{
	struct wd_eg_http_req b;
	enum wd_eg_http_result whole, res = WD_EG_HTTP_MORE;

	wd_eg_http_req_init(r);
	whole = wd_eg_http_req_parse(r, s, n);
	wd_eg_http_req_init(&b);
	for (size_t i = 1; i <= n && res == WD_EG_HTTP_MORE; i++)
		res = wd_eg_http_req_parse(&b, s, i);
	assert_int_equal(res, whole);
	assert_int_equal(b.status, r->status);
	assert_int_equal(b.head_len, r->head_len);
	assert_int_equal(b.keep_alive, r->keep_alive);
	assert_int_equal(b.framing, r->framing);
	return whole;
}

#define REQ(lit, r) req(lit, sizeof(lit) - 1, r)

static void expect_status(const char *s, unsigned status)
{
	struct wd_eg_http_req r;

	if (req(s, strlen(s), &r) != WD_EG_HTTP_ERROR)
		fail_msg("accepted (%u expected): %s", status, s);
	if (r.status != status)
		fail_msg("status %u (%u expected, %s): %s", r.status, status, r.why, s);
	assert_non_null(r.why);
}

static void assert_span(const char *buf, struct wd_eg_http_span sp, const char *want)
{
	assert_int_equal(sp.len, strlen(want));
	assert_memory_equal(buf + sp.off, want, sp.len);
}

static void test_connect_authority_form_is_a_tunnel(void **state)
{
	static const char s[] = "CONNECT api.example.com:443 HTTP/1.1\r\n"
				"Host: api.example.com:443\r\n\r\n\x16\x03\x01";
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ(s, &r), WD_EG_HTTP_DONE);
	assert_int_equal(r.form, WD_EG_HTTP_FORM_CONNECT);
	assert_int_equal(r.head_len, sizeof(s) - 1 - 3); /* the TLS bytes are the tunnel's */
	assert_span(s, r.method, "CONNECT");
	assert_span(s, r.host, "api.example.com");
	assert_span(s, r.authority, "api.example.com:443");
	assert_int_equal(r.port, 443);
	assert_int_equal(r.minor, 1);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_NONE);
	assert_false(r.keep_alive);
}

static void test_connect_ipv6_keeps_its_brackets(void **state)
{
	static const char s[] = "CONNECT [2001:db8::1]:8443 HTTP/1.0\r\n\r\n";
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ(s, &r), WD_EG_HTTP_DONE);
	assert_span(s, r.host, "[2001:db8::1]");
	assert_int_equal(r.port, 8443);
	assert_int_equal(r.minor, 0);
}

static void test_connect_targets_that_are_refused(void **state)
{
	(void)state;
	expect_status("CONNECT example.com HTTP/1.1\r\n\r\n", 400);       /* no port */
	expect_status("CONNECT example.com: HTTP/1.1\r\n\r\n", 400);      /* empty port */
	expect_status("CONNECT example.com:0 HTTP/1.1\r\n\r\n", 400);     /* port 0 */
	expect_status("CONNECT example.com:65536 HTTP/1.1\r\n\r\n", 400); /* over 16 bits */
	expect_status("CONNECT example.com:004430 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT example.com:44a HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT example.com:-1 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT [::1 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT []:443 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT [fe80::1%25eth0]:443 HTTP/1.1\r\n\r\n", 400); /* zone */
	expect_status("CONNECT [::1]x:443 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT user@example.com:443 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT exa%6dple.com:443 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT :443 HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT /index.html HTTP/1.1\r\n\r\n", 400);
	expect_status("CONNECT http://example.com:443/ HTTP/1.1\r\n\r\n", 400);
	/* A body on CONNECT would be read as tunnel bytes by one side only. */
	expect_status("CONNECT a.example:443 HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 400);
	expect_status("CONNECT a.example:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

static void test_connect_host_length_is_bounded(void **state)
{
	struct wd_eg_http_req r;
	int n;

	(void)state;
	memset(big, 'a', sizeof(big));
	n = snprintf(big, sizeof(big), "CONNECT %.*s:443 HTTP/1.1\r\n\r\n", WD_EG_HTTP_HOST_MAX,
		     big + 1000);
	assert_int_equal(req(big, (size_t)n, &r), WD_EG_HTTP_DONE);
	assert_int_equal(r.host.len, WD_EG_HTTP_HOST_MAX);
	memset(big, 'a', sizeof(big));
	n = snprintf(big, sizeof(big), "CONNECT %.*s:443 HTTP/1.1\r\n\r\n", WD_EG_HTTP_HOST_MAX + 1,
		     big + 1000);
	assert_int_equal(req(big, (size_t)n, &r), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
}

static void test_lower_case_connect_is_not_connect(void **state)
{
	(void)state;
	/* Methods are case-sensitive: "connect" is some other method, whose
	 * target must then be absolute-form. */
	expect_status("connect example.com:443 HTTP/1.1\r\n\r\n", 400);
}

static void test_absolute_form_is_split_into_host_port_path(void **state)
{
	static const char s[] = "GET http://Example.com:8080/a/b?x=1&y=%20 HTTP/1.1\r\n"
				"Host: wrong.example\r\nAccept: */*\r\n\r\n";
	static const char d[] = "HEAD HTTP://example.com HTTP/1.1\r\n\r\n";
	static const char q[] = "GET http://10.0.0.1?q HTTP/1.1\r\n\r\n";
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ(s, &r), WD_EG_HTTP_DONE);
	assert_int_equal(r.form, WD_EG_HTTP_FORM_ABSOLUTE);
	assert_span(s, r.method, "GET");
	assert_span(s, r.host, "Example.com");
	assert_span(s, r.authority, "Example.com:8080");
	assert_span(s, r.path, "/a/b?x=1&y=%20");
	assert_int_equal(r.port, 8080);
	assert_true(r.keep_alive);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_NONE);

	assert_int_equal(REQ(d, &r), WD_EG_HTTP_DONE);
	assert_span(d, r.host, "example.com");
	assert_int_equal(r.port, WD_EG_HTTP_DEFAULT_PORT);
	assert_span(d, r.path, "");

	assert_int_equal(REQ(q, &r), WD_EG_HTTP_DONE);
	assert_span(q, r.host, "10.0.0.1");
	assert_span(q, r.path, "?q");
}

static void test_https_and_other_schemes_are_told_to_use_connect(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ("GET https://example.com/ HTTP/1.1\r\n\r\n", &r), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.why, "CONNECT"));
	assert_int_equal(REQ("GET ftp://example.com/ HTTP/1.1\r\n\r\n", &r), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.why, "CONNECT"));
	expect_status("GET ws://example.com/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET example.com:80 HTTP/1.1\r\n\r\n", 400); /* authority-form, not CONNECT */
	expect_status("GET http:/example.com/ HTTP/1.1\r\n\r\n", 400);
}

static void test_origin_and_asterisk_forms_are_not_proxy_requests(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ("GET /index.html HTTP/1.1\r\nHost: a\r\n\r\n", &r), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(r.why, "not a proxy request"));
	expect_status("OPTIONS * HTTP/1.1\r\n\r\n", 501);
}

static void test_urls_the_proxy_will_not_guess_about(void **state)
{
	(void)state;
	expect_status("GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://example.com/#frag HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http:/// HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://example.com:/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://example.com:99999/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://exa\\mple.com/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://example.com/\xc3\xa9 HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://[::1/ HTTP/1.1\r\n\r\n", 400);
}

static void test_versions(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ("GET http://a/ HTTP/1.0\r\n\r\n", &r), WD_EG_HTTP_DONE);
	assert_int_equal(r.minor, 0);
	expect_status("GET http://a/ HTTP/2.0\r\n\r\n", 505);
	expect_status("GET http://a/ HTTP/1.2\r\n\r\n", 505);
	expect_status("GET http://a/ HTTP/0.9\r\n\r\n", 505);
	expect_status("GET http://a/ HTTP/1.1x\r\n\r\n", 400);
	expect_status("GET http://a/ http/1.1\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/11\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.\r\n\r\n", 400);
	expect_status("GET http://a/\r\n\r\n", 400); /* HTTP/0.9 style: no version */
}

static void test_malformed_request_lines(void **state)
{
	(void)state;
	expect_status("GET  http://a/ HTTP/1.1\r\n\r\n", 400);
	expect_status(" GET http://a/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://a/  HTTP/1.1\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1 \r\n\r\n", 400);
	expect_status("GET\thttp://a/ HTTP/1.1\r\n\r\n", 400);
	expect_status("G(ET http://a/ HTTP/1.1\r\n\r\n", 400);
	expect_status("GET\r\n\r\n", 400);
	expect_status("\r\nGET http://a/ HTTP/1.1\r\n\r\n", 400); /* an empty line first */
}

static void test_field_syntax_is_strict(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	expect_status("GET http://a/ HTTP/1.1\r\nX: 1\r\n folded\r\n\r\n", 400); /* obs-fold */
	expect_status("GET http://a/ HTTP/1.1\r\n\tX: 1\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nHost : a\r\n\r\n", 400); /* space before colon */
	expect_status("GET http://a/ HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nNoColon\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\n: empty name\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nX[a]: 1\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nX: a\rb\r\n\r\n", 400);  /* bare CR */
	expect_status("GET http://a/ HTTP/1.1\r\nX: a\nb\r\n\r\n", 400);  /* bare LF */
	expect_status("GET http://a/ HTTP/1.1\nX: a\n\n", 400);           /* LF line ends */
	expect_status("GET http://a/ HTTP/1.1\r\nX: a\x7f\r\n\r\n", 400); /* DEL */
	expect_status("GET http://a/ HTTP/1.1\r\nX: \x1b[2J\r\n\r\n", 400);
	assert_int_equal(req("GET http://a/ HTTP/1.1\r\nX: a\0b\r\n\r\n", 30, &r),
			 WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
	/* Text beyond ASCII in a value (obs-text), tabs and empty values pass. */
	assert_int_equal(REQ("GET http://a/ HTTP/1.1\r\nX: caf\xc3\xa9\t x\r\nY:\r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
}

static void test_bad_bytes_fail_before_the_head_ends(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	/* No empty line yet: the error is known as soon as the byte is in. */
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, "GET http://a/ HTTP/1.1\n", 23),
			 WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 400);
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, "GET \0", 5), WD_EG_HTTP_ERROR);
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, "GET\rx", 5), WD_EG_HTTP_ERROR);
	/* And stays an error. */
	assert_int_equal(wd_eg_http_req_parse(&r, "GET http://a/ HTTP/1.1\r\n\r\n", 26),
			 WD_EG_HTTP_ERROR);
}

/* A head of exactly `size` bytes: request line, one padding field, CRLF. */
static size_t head_of(size_t size)
{
	static const char line[] = "GET http://a/ HTTP/1.1\r\nX: ";
	size_t pad = size - (sizeof(line) - 1) - 4;

	memcpy(big, line, sizeof(line) - 1);
	memset(big + sizeof(line) - 1, 'p', pad);
	memcpy(big + sizeof(line) - 1 + pad, "\r\n\r\n", 4);
	return size;
}

static void test_head_size_is_bounded_at_16_kib(void **state)
{
	struct wd_eg_http_req r;
	size_t n;

	(void)state;
	n = head_of(WD_EG_HTTP_HEAD_MAX);
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, big, n), WD_EG_HTTP_DONE);
	assert_int_equal(r.head_len, WD_EG_HTTP_HEAD_MAX);

	n = head_of(WD_EG_HTTP_HEAD_MAX + 1);
	assert_int_equal(req(big, n, &r), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 431);

	/* A head that never ends is refused at the bound, not read on. */
	memset(big, 'a', sizeof(big));
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, big, WD_EG_HTTP_HEAD_MAX - 1), WD_EG_HTTP_MORE);
	assert_int_equal(wd_eg_http_req_parse(&r, big, WD_EG_HTTP_HEAD_MAX), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 431);
}

static size_t head_with_fields(unsigned count)
{
	size_t n = (size_t)snprintf(big, sizeof(big), "GET http://a/ HTTP/1.1\r\n");

	for (unsigned i = 0; i < count; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "X-%u: v\r\n", i);
	n += (size_t)snprintf(big + n, sizeof(big) - n, "\r\n");
	return n;
}

static void test_field_count_is_bounded(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(req(big, head_with_fields(WD_EG_HTTP_MAX_HEADERS), &r), WD_EG_HTTP_DONE);
	assert_int_equal(req(big, head_with_fields(WD_EG_HTTP_MAX_HEADERS + 1), &r),
			 WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 431);
}

static void test_request_smuggling_shapes_are_refused(void **state)
{
	(void)state;
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\n"
		      "Transfer-Encoding: chunked\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		      "Content-Length: 5\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length:\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		      501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		      "Transfer-Encoding: chunked\r\n\r\n",
		      501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: xchunked\r\n\r\n", 501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked;x=1\r\n\r\n", 501);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 501);
	expect_status("POST http://a/ HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n", 400);
	/* Connection would strip the framing on the way to the origin. */
	expect_status("POST http://a/ HTTP/1.1\r\nContent-Length: 5\r\n"
		      "Connection: Content-Length\r\n\r\n",
		      400);
	expect_status("POST http://a/ HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
		      "Connection: keep-alive, transfer-encoding\r\n\r\n",
		      400);
	expect_status("GET http://a/ HTTP/1.1\r\nConnection: host\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nConnection: a b\r\n\r\n", 400);
	expect_status("GET http://a/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
}

static void test_request_framing(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ("POST http://a/ HTTP/1.1\r\nContent-Length: 0042\r\n"
			     "content-length: 42\r\n\r\n",
			     &r),
			 WD_EG_HTTP_DONE);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_LENGTH);
	assert_int_equal(r.content_length, 42);
	assert_int_equal(
		REQ("POST http://a/ HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n", &r),
		WD_EG_HTTP_DONE);
	assert_true(r.content_length == 9999999999999999999ULL);
	assert_int_equal(REQ("POST http://a/ HTTP/1.1\r\nTransfer-Encoding:  ChUnKeD \r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_CHUNKED);
	assert_int_equal(REQ("CONNECT a:1 HTTP/1.1\r\nContent-Length: 0\r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_NONE);
}

static void test_keep_alive_decisions(void **state)
{
	struct wd_eg_http_req r;

	(void)state;
	assert_int_equal(REQ("GET http://a/ HTTP/1.1\r\n\r\n", &r), WD_EG_HTTP_DONE);
	assert_true(r.keep_alive);
	assert_int_equal(REQ("GET http://a/ HTTP/1.1\r\nConnection: close\r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(REQ("GET http://a/ HTTP/1.1\r\nConnection: Keep-Alive\r\n"
			     "Connection: x-a, , CLOSE\r\n\r\n",
			     &r),
			 WD_EG_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(REQ("GET http://a/ HTTP/1.0\r\n\r\n", &r), WD_EG_HTTP_DONE);
	assert_false(r.keep_alive);
	assert_int_equal(REQ("GET http://a/ HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
	assert_true(r.keep_alive);
	/* Proxy-Connection is not Connection. */
	assert_int_equal(REQ("GET http://a/ HTTP/1.0\r\nProxy-Connection: keep-alive\r\n\r\n", &r),
			 WD_EG_HTTP_DONE);
	assert_false(r.keep_alive);
}

static void test_results_are_sticky_until_init(void **state)
{
	static const char s[] = "GET http://a/ HTTP/1.1\r\n\r\nGET http://b/ HTTP/1.1\r\n\r\n";
	struct wd_eg_http_req r;

	(void)state;
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, s, sizeof(s) - 1), WD_EG_HTTP_DONE);
	assert_int_equal(r.head_len, 26);
	assert_int_equal(wd_eg_http_req_parse(&r, s, sizeof(s) - 1), WD_EG_HTTP_DONE);
	assert_int_equal(r.head_len, 26);
	/* The next request on the connection: init, then the bytes after. */
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, s + 26, sizeof(s) - 1 - 26), WD_EG_HTTP_DONE);
	assert_span(s + 26, r.host, "b");
}

static void expect_rewrite(const char *in, const char *want)
{
	static char out[WD_EG_HTTP_FORWARD_MAX];
	struct wd_eg_http_req r;
	int n;

	assert_int_equal(req(in, strlen(in), &r), WD_EG_HTTP_DONE);
	n = wd_eg_http_req_rewrite(&r, in, out, sizeof(out));
	assert_true(n > 0);
	if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0)
		fail_msg("rewrite gave\n%.*s\nwanted\n%s", n, out, want);
}

static void test_rewrite_to_origin_form_without_hop_by_hop_fields(void **state)
{
	(void)state;
	expect_rewrite("POST http://api.example:8080/v1/x?y=2 HTTP/1.1\r\n"
		       "Host: evil.example\r\n"
		       "User-Agent: t\r\n"
		       "Connection: keep-alive, X-Secret\r\n"
		       "Keep-Alive: timeout=5\r\n"
		       "Proxy-Connection: keep-alive\r\n"
		       "Proxy-Authorization: Basic dTpw\r\n"
		       "Proxy-Authenticate: x\r\n"
		       "x-secret: 1\r\n"
		       "TE: trailers\r\n"
		       "Trailer: X-T\r\n"
		       "Upgrade: websocket\r\n"
		       "Content-Length: 3\r\n"
		       "Accept: */*\r\n"
		       "\r\nabc",
		       "POST /v1/x?y=2 HTTP/1.1\r\n"
		       "User-Agent: t\r\n"
		       "Content-Length: 3\r\n"
		       "Accept: */*\r\n"
		       "Host: api.example:8080\r\n"
		       "\r\n");
}

static void test_rewrite_paths_versions_and_connection(void **state)
{
	(void)state;
	expect_rewrite("GET http://a.example HTTP/1.1\r\nConnection: close\r\n\r\n",
		       "GET / HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n");
	expect_rewrite("GET http://a.example?q=1 HTTP/1.1\r\n\r\n",
		       "GET /?q=1 HTTP/1.1\r\nHost: a.example\r\n\r\n");
	/* HTTP/1.0 stays 1.0: the server must not answer it chunked. */
	expect_rewrite("GET http://[2001:db8::1]:81/ HTTP/1.0\r\n\r\n",
		       "GET / HTTP/1.0\r\nHost: [2001:db8::1]:81\r\nConnection: close\r\n\r\n");
	expect_rewrite("GET http://a/ HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
		       "GET / HTTP/1.0\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
	/* Values are kept byte for byte, their field names too. */
	expect_rewrite("GET http://a/ HTTP/1.1\r\nX-Mixed:  v \t\r\n\r\n",
		       "GET / HTTP/1.1\r\nX-Mixed:  v \t\r\nHost: a\r\n\r\n");
}

static void test_rewrite_bounds_and_misuse(void **state)
{
	static const char s[] = "GET http://a.example/p HTTP/1.1\r\nX: y\r\n\r\n";
	static const char c[] = "CONNECT a:1 HTTP/1.1\r\n\r\n";
	char out[128];
	struct wd_eg_http_req r;
	int n;

	(void)state;
	assert_int_equal(REQ(s, &r), WD_EG_HTTP_DONE);
	n = wd_eg_http_req_rewrite(&r, s, out, sizeof(out));
	assert_true(n > 0);
	for (size_t size = 0; size < (size_t)n; size++)
		assert_int_equal(wd_eg_http_req_rewrite(&r, s, out, size), -ENOSPC);
	assert_int_equal(wd_eg_http_req_rewrite(&r, s, out, (size_t)n), n);
	assert_int_equal(REQ(c, &r), WD_EG_HTTP_DONE);
	assert_int_equal(wd_eg_http_req_rewrite(&r, c, out, sizeof(out)), -EINVAL);
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_rewrite(&r, s, out, sizeof(out)), -EINVAL);
}

static void test_rewrite_of_the_largest_head_fits_its_bound(void **state)
{
	static char out[WD_EG_HTTP_FORWARD_MAX];
	struct wd_eg_http_req r;
	size_t n = head_of(WD_EG_HTTP_HEAD_MAX);

	(void)state;
	/* "GET http://a/" -> "GET /": the padding field survives whole. */
	wd_eg_http_req_init(&r);
	assert_int_equal(wd_eg_http_req_parse(&r, big, n), WD_EG_HTTP_DONE);
	assert_true(wd_eg_http_req_rewrite(&r, big, out, sizeof(out)) > 0);
}

/* ---- responses ---- */

static enum wd_eg_http_result resp(const char *s, bool head, struct wd_eg_http_resp *r)
{
	struct wd_eg_http_resp b;
	enum wd_eg_http_result whole, res = WD_EG_HTTP_MORE;
	size_t n = strlen(s);

	wd_eg_http_resp_init(r, head);
	whole = wd_eg_http_resp_parse(r, s, n);
	wd_eg_http_resp_init(&b, head);
	for (size_t i = 1; i <= n && res == WD_EG_HTTP_MORE; i++)
		res = wd_eg_http_resp_parse(&b, s, i);
	assert_int_equal(res, whole);
	assert_int_equal(b.framing, r->framing);
	assert_int_equal(b.status, r->status);
	return whole;
}

static void expect_framing(const char *s, bool head, enum wd_eg_http_framing framing,
			   bool keep_alive)
{
	struct wd_eg_http_resp r;

	if (resp(s, head, &r) != WD_EG_HTTP_DONE)
		fail_msg("refused (%s): %s", r.why, s);
	assert_int_equal(r.framing, framing);
	assert_int_equal(r.keep_alive, keep_alive);
}

static void expect_bad_response(const char *s)
{
	struct wd_eg_http_resp r;

	if (resp(s, false, &r) != WD_EG_HTTP_ERROR)
		fail_msg("accepted: %s", s);
	assert_int_equal(r.status, 502);
	assert_non_null(r.why);
}

static void test_response_framing(void **state)
{
	struct wd_eg_http_resp r;

	(void)state;
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", false, &r),
			 WD_EG_HTTP_DONE);
	assert_int_equal(r.code, 200);
	assert_int_equal(r.head_len, 38);
	assert_int_equal(r.content_length, 5);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_LENGTH);
	assert_true(r.keep_alive);
	assert_false(r.interim);
	expect_framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false,
		       WD_EG_HTTP_BODY_CHUNKED, true);
	expect_framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", false,
		       WD_EG_HTTP_BODY_CHUNKED, true);
	expect_framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false,
		       WD_EG_HTTP_BODY_CLOSE, false);
	expect_framing("HTTP/1.1 200 OK\r\n\r\n", false, WD_EG_HTTP_BODY_CLOSE, false);
	expect_framing("HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\n", false,
		       WD_EG_HTTP_BODY_LENGTH, false);
	expect_framing("HTTP/1.0 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n",
		       false, WD_EG_HTTP_BODY_LENGTH, true);
	expect_framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", false,
		       WD_EG_HTTP_BODY_LENGTH, false);
	/* No body whatever the fields say: HEAD, 1xx, 204, 304. */
	expect_framing("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, WD_EG_HTTP_BODY_NONE,
		       true);
	expect_framing("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", true,
		       WD_EG_HTTP_BODY_NONE, true);
	expect_framing("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", false,
		       WD_EG_HTTP_BODY_NONE, true);
	expect_framing("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n", false,
		       WD_EG_HTTP_BODY_NONE, true);
	assert_int_equal(resp("HTTP/1.1 100 Continue\r\n\r\n", false, &r), WD_EG_HTTP_DONE);
	assert_true(r.interim);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_NONE);
	assert_int_equal(resp("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", false, &r),
			 WD_EG_HTTP_DONE);
	assert_true(r.interim);
}

static void test_response_status_lines(void **state)
{
	struct wd_eg_http_resp r;

	(void)state;
	assert_int_equal(resp("HTTP/1.1 599\r\n\r\n", false, &r), WD_EG_HTTP_DONE);
	assert_int_equal(r.code, 599);
	assert_int_equal(resp("HTTP/1.1 404 \r\n\r\n", false, &r), WD_EG_HTTP_DONE);
	assert_int_equal(resp("HTTP/1.1 200 Gr\xc3\xbc\xc3\x9f \tdich\r\n\r\n", false, &r),
			 WD_EG_HTTP_DONE);
	expect_bad_response("HTTP/1.1 20 OK\r\n\r\n");
	expect_bad_response("HTTP/1.1 2000 OK\r\n\r\n");
	expect_bad_response("HTTP/1.1 099 X\r\n\r\n");
	expect_bad_response("HTTP/1.1 600 X\r\n\r\n");
	expect_bad_response("HTTP/1.1 2x0 X\r\n\r\n");
	expect_bad_response("HTTP/1.1  200 OK\r\n\r\n");
	expect_bad_response("HTTP/2 200 OK\r\n\r\n");
	expect_bad_response("HTTP/2.0 200 OK\r\n\r\n");
	expect_bad_response("ICY 200 OK\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\nContent-Length: 1\n\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nX : y\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n");
}

static void test_response_smuggling_shapes_are_refused(void **state)
{
	(void)state;
	expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nContent-Length: five\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
			    "Transfer-Encoding: chunked\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked;q=1\r\n\r\n");
	expect_bad_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: ,\"x\"\r\n\r\n");
	expect_bad_response("HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n");
	/* Even where the head has no body, the fields are checked. */
	expect_bad_response("HTTP/1.1 304 Not Modified\r\nContent-Length: 1\r\n"
			    "Content-Length: 2\r\n\r\n");
}

static void test_response_head_is_bounded(void **state)
{
	struct wd_eg_http_resp r;
	size_t n = head_of(WD_EG_HTTP_HEAD_MAX + 1);

	(void)state;
	memcpy(big, "HTTP/1.1 200 OK\r\nX:     ", 24); /* same length as the request line */
	wd_eg_http_resp_init(&r, false);
	assert_int_equal(wd_eg_http_resp_parse(&r, big, n), WD_EG_HTTP_ERROR);
	assert_int_equal(r.status, 502);
	n = head_of(WD_EG_HTTP_HEAD_MAX);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: pad ", 24);
	wd_eg_http_resp_init(&r, false);
	assert_int_equal(wd_eg_http_resp_parse(&r, big, n), WD_EG_HTTP_DONE);
}

/* ---- body framing ---- */

/* Feed body[0..n) in pieces cut at `cuts`; the result and bytes taken. */
static enum wd_eg_http_result feed_split(enum wd_eg_http_framing framing, uint64_t cl,
					 const char *p, size_t n, size_t cut, size_t step,
					 size_t *taken)
{
	struct wd_eg_http_body b;
	enum wd_eg_http_result res = WD_EG_HTTP_MORE;
	size_t at = 0, used;

	wd_eg_http_body_init(&b, framing, cl);
	while (res == WD_EG_HTTP_MORE && at < n) {
		size_t k = at < cut ? cut - at : step;

		if (k > n - at)
			k = n - at;
		res = wd_eg_http_body_feed(&b, p + at, k, &used);
		assert_true(used <= k);
		if (res == WD_EG_HTTP_MORE)
			assert_int_equal(used, k);
		at += used;
	}
	assert_true(b.total == at);
	*taken = at;
	return res;
}

static const char chunked_body[] = "1a;name=token;q=\"quoted \\\" \\\\ str\" ; x ;y = 2\r\n"
				   "abcdefghijklmnopqrstuvwxyz\r\n"
				   "5\r\n0\r\n\r\n\r\n"    /* data that looks like the end */
				   "A;e\r\n0123456789\r\n" /* upper-case hex */
				   "000\r\n"               /* the last chunk, leading zeros */
				   "Expires: never\r\nX-Checksum: abc\t \r\n"
				   "\r\n";

static void test_chunked_end_is_found_however_the_body_is_split(void **state)
{
	static char buf[sizeof(chunked_body) + 64];
	size_t n = sizeof(chunked_body) - 1, taken;

	(void)state;
	/* The next request's bytes follow in the same read. */
	memcpy(buf, chunked_body, n);
	memcpy(buf + n, "GET http://a/ HTTP/1.1\r\n\r\n", 26);
	for (size_t cut = 0; cut <= n + 26; cut++) {
		assert_int_equal(
			feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, buf, n + 26, cut, n + 26, &taken),
			WD_EG_HTTP_DONE);
		assert_int_equal(taken, n);
	}
	for (size_t step = 1; step < 8; step++) {
		assert_int_equal(
			feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, buf, n + 26, 0, step, &taken),
			WD_EG_HTTP_DONE);
		assert_int_equal(taken, n);
	}
}

static void test_chunked_body_cut_short_is_not_a_proper_end(void **state)
{
	struct wd_eg_http_body b;
	size_t used, n = sizeof(chunked_body) - 1;

	(void)state;
	for (size_t cut = 0; cut < n; cut++) {
		wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_CHUNKED, 0);
		assert_int_equal(wd_eg_http_body_feed(&b, chunked_body, cut, &used),
				 WD_EG_HTTP_MORE);
		assert_false(wd_eg_http_body_eof_ok(&b));
	}
	wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_CHUNKED, 0);
	assert_int_equal(wd_eg_http_body_feed(&b, chunked_body, n, &used), WD_EG_HTTP_DONE);
	assert_true(wd_eg_http_body_eof_ok(&b));
	assert_int_equal(wd_eg_http_body_feed(&b, "x", 1, &used), WD_EG_HTTP_DONE);
	assert_int_equal(used, 0);
}

/* body is refused at byte `at`, fed whole and a byte at a time. */
static void expect_bad_chunked(const char *body, size_t at)
{
	size_t taken, n = strlen(body);

	if (feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, body, n, n, n, &taken) != WD_EG_HTTP_ERROR)
		fail_msg("accepted: %s", body);
	if (taken != at)
		fail_msg("refused at %zu, not %zu: %s", taken, at, body);
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, body, n, 0, 1, &taken),
			 WD_EG_HTTP_ERROR);
	assert_int_equal(taken, at);
}

static void test_malformed_chunked_bodies_are_refused_where_they_go_wrong(void **state)
{
	(void)state;
	expect_bad_chunked("\r\n", 0);               /* no size */
	expect_bad_chunked("0x5\r\n", 1);            /* no 0x */
	expect_bad_chunked(" 5\r\n", 0);             /* no leading space */
	expect_bad_chunked("-1\r\n", 0);             /* no sign */
	expect_bad_chunked("5 \r\n", 2);             /* space only before ';' */
	expect_bad_chunked("5\nhello", 1);           /* bare LF */
	expect_bad_chunked("5\rhello", 2);           /* bare CR */
	expect_bad_chunked("g\r\n", 0);              /* not hex */
	expect_bad_chunked("5;\r\n", 2);             /* an empty extension name */
	expect_bad_chunked("5;a=\r\n", 4);           /* an empty value */
	expect_bad_chunked("5;a =\"x\r\n", 7);       /* an unterminated quoted string */
	expect_bad_chunked("5;a=\"\x01\"\r\n", 5);   /* a control byte in it */
	expect_bad_chunked("5;a=b c\r\n", 6);        /* two tokens */
	expect_bad_chunked("5;a \r\n", 4);           /* whitespace, then the end */
	expect_bad_chunked("5;a=b \r\n", 6);         /* likewise after a value */
	expect_bad_chunked("5;a=\"b\"c\r\n", 7);     /* text after the quote */
	expect_bad_chunked("5;a(b)\r\n", 3);         /* not a token */
	expect_bad_chunked("5\r\nhelloX\r\n", 8);    /* data longer than its size */
	expect_bad_chunked("5\r\nhello\rX", 9);      /* CR without LF after the data */
	expect_bad_chunked("0\r\n x: y\r\n\r\n", 3); /* trailer obs-fold */
	expect_bad_chunked("0\r\nx : y\r\n\r\n", 4); /* space before colon */
	expect_bad_chunked("0\r\nx\r\n\r\n", 4);     /* no colon */
	expect_bad_chunked("0\r\nx: \x7f\r\n\r\n", 6);
	expect_bad_chunked("0\r\nx: y\n\r\n", 7);
	expect_bad_chunked("0\r\n\rX", 4);
	expect_bad_chunked("10000000000000000\r\n", 16); /* over 64 bits */
}

static void test_chunk_sizes_and_trailers_are_bounded(void **state)
{
	static char body[2 * WD_EG_HTTP_TRAILER_MAX];
	size_t n, taken;

	(void)state;
	/* The largest size that fits 64 bits is taken (its data never ends). */
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, "ffffffffffffffff\r\nab", 20, 20,
				    20, &taken),
			 WD_EG_HTTP_MORE);
	/* A size line of extensions over its bound. */
	n = (size_t)snprintf(body, sizeof(body), "1");
	while (n < WD_EG_HTTP_CHUNK_LINE_MAX + 10)
		n += (size_t)snprintf(body + n, sizeof(body) - n, ";a=b");
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, body, n, n, n, &taken),
			 WD_EG_HTTP_ERROR);
	assert_int_equal(taken, WD_EG_HTTP_CHUNK_LINE_MAX);
	/* Trailer fields over their count. */
	n = (size_t)snprintf(body, sizeof(body), "0\r\n");
	for (unsigned i = 0; i <= WD_EG_HTTP_MAX_HEADERS; i++)
		n += (size_t)snprintf(body + n, sizeof(body) - n, "t%u: v\r\n", i);
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, body, n, n, n, &taken),
			 WD_EG_HTTP_ERROR);
	/* A trailer section over its size. */
	n = (size_t)snprintf(body, sizeof(body), "0\r\nt: ");
	memset(body + n, 'v', WD_EG_HTTP_TRAILER_MAX);
	n += WD_EG_HTTP_TRAILER_MAX;
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_CHUNKED, 0, body, n, n, n, &taken),
			 WD_EG_HTTP_ERROR);
}

static void test_length_none_and_close_framing(void **state)
{
	struct wd_eg_http_body b;
	size_t used, taken;

	(void)state;
	assert_int_equal(feed_split(WD_EG_HTTP_BODY_LENGTH, 5, "helloGET", 8, 2, 1, &taken),
			 WD_EG_HTTP_DONE);
	assert_int_equal(taken, 5);
	wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_LENGTH, 5);
	assert_int_equal(wd_eg_http_body_feed(&b, "hel", 3, &used), WD_EG_HTTP_MORE);
	assert_false(wd_eg_http_body_eof_ok(&b));
	wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_LENGTH, 0);
	assert_int_equal(wd_eg_http_body_feed(&b, "x", 1, &used), WD_EG_HTTP_DONE);
	assert_int_equal(used, 0);
	assert_true(wd_eg_http_body_eof_ok(&b));
	wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_NONE, 7);
	assert_int_equal(wd_eg_http_body_feed(&b, "x", 1, &used), WD_EG_HTTP_DONE);
	assert_int_equal(used, 0);
	wd_eg_http_body_init(&b, WD_EG_HTTP_BODY_CLOSE, 0);
	assert_int_equal(wd_eg_http_body_feed(&b, "0\r\n\r\n", 5, &used), WD_EG_HTTP_MORE);
	assert_int_equal(used, 5);
	assert_true(wd_eg_http_body_eof_ok(&b));
}

/* ---- the proxy's answers ---- */

static void test_deny_answer_is_exact(void **state)
{
	char out[WD_EG_HTTP_ANSWER_MAX];
	int n;

	(void)state;
	n = wd_eg_http_error_write(403, "deny-rule deny[0]", 17, out, sizeof(out));
	assert_true(n > 0);
	assert_string_equal(out, "HTTP/1.1 403 Forbidden\r\n"
				 "X-Warden-Deny: deny-rule deny[0]\r\n"
				 "Content-Type: text/plain\r\n"
				 "Content-Length: 47\r\n"
				 "Connection: close\r\n\r\n"
				 "warden egress proxy: denied: deny-rule deny[0]\n");
	n = wd_eg_http_error_write(431, "", 0, out, sizeof(out));
	assert_true(n > 0);
	assert_null(strstr(out, "X-Warden-Deny"));
	assert_non_null(strstr(out, "HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}

/* The answer parses as a response whose body is exactly its length. */
static void assert_answer_is_well_framed(const char *out, size_t n)
{
	struct wd_eg_http_resp r;
	struct wd_eg_http_body b;
	size_t used;

	wd_eg_http_resp_init(&r, false);
	assert_int_equal(wd_eg_http_resp_parse(&r, out, n), WD_EG_HTTP_DONE);
	assert_int_equal(r.framing, WD_EG_HTTP_BODY_LENGTH);
	assert_false(r.keep_alive);
	wd_eg_http_body_init(&b, r.framing, r.content_length);
	assert_int_equal(wd_eg_http_body_feed(&b, out + r.head_len, n - r.head_len, &used),
			 WD_EG_HTTP_DONE);
	assert_int_equal(r.head_len + used, n);
	for (size_t i = r.head_len; i + 1 < n; i++)
		assert_true(out[i] >= 0x20 && out[i] <= 0x7e);
	assert_int_equal(out[n - 1], '\n');
}

static void test_answers_cannot_be_injected_into(void **state)
{
	static const char evil[] = "x\r\nSet-Cookie: a=b\r\n\r\n<script>\x1b[2J\xc3\xa9\0end";
	static const unsigned codes[] = {400, 403, 431, 501, 502, 503, 504, 505};
	char out[WD_EG_HTTP_ANSWER_MAX], longer[3 * WD_EG_HTTP_REASON_MAX];
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		n = wd_eg_http_error_write(codes[i], evil, sizeof(evil) - 1, out, sizeof(out));
		assert_true(n > 0);
		assert_null(strstr(out, "\r\nSet-Cookie"));
		assert_answer_is_well_framed(out, (size_t)n);
	}
	assert_non_null(strstr(out, "x??Set-Cookie: a=b???"
				    "?<script>?[2J???end"));
	memset(longer, 'r', sizeof(longer));
	n = wd_eg_http_error_write(403, longer, sizeof(longer), out, sizeof(out));
	assert_true(n > 0);
	assert_answer_is_well_framed(out, (size_t)n);
	/* The field holds the reason cut at its bound. */
	assert_int_equal(strcspn(strstr(out, "X-Warden-Deny: ") + 15, "\r"), WD_EG_HTTP_REASON_MAX);
	assert_true(n < WD_EG_HTTP_ANSWER_MAX);
}

static void test_answer_bounds_and_codes(void **state)
{
	char out[WD_EG_HTTP_ANSWER_MAX];
	int n;

	(void)state;
	assert_int_equal(wd_eg_http_error_write(200, "x", 1, out, sizeof(out)), -EINVAL);
	assert_int_equal(wd_eg_http_error_write(404, "x", 1, out, sizeof(out)), -EINVAL);
	n = wd_eg_http_error_write(502, "connect failed", 14, out, sizeof(out));
	assert_true(n > 0);
	for (size_t size = 0; size <= (size_t)n; size++)
		assert_int_equal(wd_eg_http_error_write(502, "connect failed", 14, out, size),
				 -ENOSPC);
	assert_int_equal(wd_eg_http_error_write(502, "connect failed", 14, out, (size_t)n + 1), n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_authority_form_is_a_tunnel),
		cmocka_unit_test(test_connect_ipv6_keeps_its_brackets),
		cmocka_unit_test(test_connect_targets_that_are_refused),
		cmocka_unit_test(test_connect_host_length_is_bounded),
		cmocka_unit_test(test_lower_case_connect_is_not_connect),
		cmocka_unit_test(test_absolute_form_is_split_into_host_port_path),
		cmocka_unit_test(test_https_and_other_schemes_are_told_to_use_connect),
		cmocka_unit_test(test_origin_and_asterisk_forms_are_not_proxy_requests),
		cmocka_unit_test(test_urls_the_proxy_will_not_guess_about),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_malformed_request_lines),
		cmocka_unit_test(test_field_syntax_is_strict),
		cmocka_unit_test(test_bad_bytes_fail_before_the_head_ends),
		cmocka_unit_test(test_head_size_is_bounded_at_16_kib),
		cmocka_unit_test(test_field_count_is_bounded),
		cmocka_unit_test(test_request_smuggling_shapes_are_refused),
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_keep_alive_decisions),
		cmocka_unit_test(test_results_are_sticky_until_init),
		cmocka_unit_test(test_rewrite_to_origin_form_without_hop_by_hop_fields),
		cmocka_unit_test(test_rewrite_paths_versions_and_connection),
		cmocka_unit_test(test_rewrite_bounds_and_misuse),
		cmocka_unit_test(test_rewrite_of_the_largest_head_fits_its_bound),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_response_status_lines),
		cmocka_unit_test(test_response_smuggling_shapes_are_refused),
		cmocka_unit_test(test_response_head_is_bounded),
		cmocka_unit_test(test_chunked_end_is_found_however_the_body_is_split),
		cmocka_unit_test(test_chunked_body_cut_short_is_not_a_proper_end),
		cmocka_unit_test(test_malformed_chunked_bodies_are_refused_where_they_go_wrong),
		cmocka_unit_test(test_chunk_sizes_and_trailers_are_bounded),
		cmocka_unit_test(test_length_none_and_close_framing),
		cmocka_unit_test(test_deny_answer_is_exact),
		cmocka_unit_test(test_answers_cannot_be_injected_into),
		cmocka_unit_test(test_answer_bounds_and_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
