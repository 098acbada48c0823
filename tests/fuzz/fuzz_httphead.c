/*
 * tests/fuzz/fuzz_httphead.c - egress/http.c and egress/httpbody.c on
 * arbitrary bytes: what the agent sends the HTTP proxy, and what a server
 * answers through it.
 *
 * The first input byte picks how the rest is cut into pieces (and the
 * body framing tried); the rest is fed as a request head, a response
 * head, a message body and an answer's reason. Beyond "no crash, no
 * undefined behaviour":
 *   - a head fed in pieces gives the same result, status and fields as
 *     fed whole; a complete head lies within the bytes given and its bound
 *     and ends in CR LF CR LF; an error carries one of its statuses;
 *   - the forwarded head of an absolute-form request fits
 *     WD_EG_HTTP_FORWARD_MAX, holds no control byte but in CR LF and HTAB,
 *     no hop-by-hop field, one Host field and at most one Connection
 *     field, and ends in CR LF CR LF;
 *   - a body fed in pieces ends (or fails) at the same byte as whole;
 *   - an answer parses back as a response whose body is its
 *     Content-Length, in printable ASCII.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../egress/http.h"

#define MAX_IN ((size_t)2 * WD_EG_HTTP_HEAD_MAX)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned next_piece(unsigned *seed)
{
	*seed = *seed * 1103515245U + 12345U;
	return 1 + (*seed >> 16) % 97;
}

static void check_head(uint32_t head_len, const char *p, size_t n)
{
	if (head_len < 4 || head_len > n || head_len > WD_EG_HTTP_HEAD_MAX ||
	    memcmp(p + head_len - 4, "\r\n\r\n", 4) != 0)
		abort();
}

static void check_span(struct wd_eg_http_span s, uint32_t head_len)
{
	if (s.off > head_len || s.len > head_len - s.off)
		abort();
}

static bool ieq_prefix(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n <= k || line[k] != ':')
		return false;
	for (size_t i = 0; i < k; i++) {
		char c = line[i] >= 'A' && line[i] <= 'Z' ? (char)(line[i] - 'A' + 'a') : line[i];

		if (c != name[i])
			return false;
	}
	return true;
}

static void check_forwarded(const char *out, size_t n)
{
	static const char *const hop[] = {
		"keep-alive", "proxy-connection", "proxy-authorization", "proxy-authenticate", "te",
		"trailer",    "upgrade"};
	unsigned hosts = 0, conns = 0;
	size_t start = 0;

	if (n < 4 || n > WD_EG_HTTP_FORWARD_MAX || memcmp(out + n - 4, "\r\n\r\n", 4) != 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)out[i];

		if (c == '\r') {
			if (i + 1 >= n || out[i + 1] != '\n')
				abort();
		} else if (c == '\n') {
			if (i == 0 || out[i - 1] != '\r')
				abort();
			if (start > 0) { /* a field line, or the final empty line */
				const char *line = out + start;
				size_t len = i - 1 - start;

				for (size_t h = 0; h < sizeof(hop) / sizeof(hop[0]); h++)
					if (ieq_prefix(line, len, hop[h]))
						abort();
				hosts += ieq_prefix(line, len, "host");
				conns += ieq_prefix(line, len, "connection");
			}
			start = i + 1;
		} else if ((c < 0x20 && c != '\t') || c == 0x7f) {
			abort();
		}
	}
	if (hosts != 1 || conns > 1)
		abort();
}

static bool same_span(struct wd_eg_http_span a, struct wd_eg_http_span b)
{
	return a.off == b.off && a.len == b.len;
}

static bool same_request(const struct wd_eg_http_req *a, const struct wd_eg_http_req *b)
{
	return a->form == b->form && a->minor == b->minor && same_span(a->method, b->method) &&
	       same_span(a->host, b->host) && same_span(a->authority, b->authority) &&
	       same_span(a->path, b->path) && a->port == b->port &&
	       a->keep_alive == b->keep_alive && a->framing == b->framing &&
	       a->content_length == b->content_length;
}

static bool same_response(const struct wd_eg_http_resp *a, const struct wd_eg_http_resp *b)
{
	return a->head_len == b->head_len && a->minor == b->minor && a->code == b->code &&
	       a->interim == b->interim && a->keep_alive == b->keep_alive &&
	       a->framing == b->framing && a->content_length == b->content_length &&
	       a->status == b->status && a->why == b->why;
}

static bool same_body(const struct wd_eg_http_body *a, const struct wd_eg_http_body *b)
{
	return a->framing == b->framing && a->state == b->state && a->size_digit == b->size_digit &&
	       a->fields == b->fields && a->line == b->line && a->left == b->left &&
	       a->total == b->total;
}

static void request_case(const char *p, size_t n, unsigned seed)
{
	static char out[WD_EG_HTTP_FORWARD_MAX];
	struct wd_eg_http_req whole, split;
	enum wd_eg_http_result a, b = WD_EG_HTTP_MORE;
	int len;

	wd_eg_http_req_init(&whole);
	a = wd_eg_http_req_parse(&whole, p, n);
	wd_eg_http_req_init(&split);
	for (size_t at = 0; at < n && b == WD_EG_HTTP_MORE;) {
		at += next_piece(&seed);
		b = wd_eg_http_req_parse(&split, p, at < n ? at : n);
	}
	if (a != b || whole.status != split.status || whole.head_len != split.head_len)
		abort();
	if (a == WD_EG_HTTP_ERROR) {
		if (whole.why == NULL || (whole.status != 400 && whole.status != 431 &&
					  whole.status != 501 && whole.status != 505))
			abort();
		return;
	}
	if (a != WD_EG_HTTP_DONE)
		return;
	if (!same_request(&whole, &split))
		abort();
	check_head(whole.head_len, p, n);
	check_span(whole.method, whole.head_len);
	check_span(whole.host, whole.head_len);
	check_span(whole.authority, whole.head_len);
	check_span(whole.path, whole.head_len);
	if (whole.host.len == 0 || whole.host.len > WD_EG_HTTP_HOST_MAX || whole.port == 0 ||
	    whole.minor > 1)
		abort();
	len = wd_eg_http_req_rewrite(&whole, p, out, sizeof(out));
	if (whole.form == WD_EG_HTTP_FORM_CONNECT) {
		if (len != -EINVAL || whole.framing != WD_EG_HTTP_BODY_NONE)
			abort();
		return;
	}
	if (len <= 0)
		abort();
	check_forwarded(out, (size_t)len);
}

static void response_case(const char *p, size_t n, unsigned seed)
{
	struct wd_eg_http_resp whole, split;
	enum wd_eg_http_result a, b = WD_EG_HTTP_MORE;
	bool head = seed & 1;

	wd_eg_http_resp_init(&whole, head);
	a = wd_eg_http_resp_parse(&whole, p, n);
	wd_eg_http_resp_init(&split, head);
	for (size_t at = 0; at < n && b == WD_EG_HTTP_MORE;) {
		at += next_piece(&seed);
		b = wd_eg_http_resp_parse(&split, p, at < n ? at : n);
	}
	if (a != b || !same_response(&whole, &split))
		abort();
	if (a == WD_EG_HTTP_ERROR && (whole.status != 502 || whole.why == NULL))
		abort();
	if (a == WD_EG_HTTP_DONE) {
		check_head(whole.head_len, p, n);
		if (whole.code < 100 || whole.code > 599 || whole.code == 101 ||
		    (whole.framing == WD_EG_HTTP_BODY_CLOSE && whole.keep_alive))
			abort();
	}
}

static void body_case(const char *p, size_t n, unsigned seed)
{
	enum wd_eg_http_framing framing = (enum wd_eg_http_framing)(seed % 4);
	struct wd_eg_http_body whole, split;
	enum wd_eg_http_result a, b = WD_EG_HTTP_MORE;
	size_t used, at = 0;
	uint64_t cl = seed % 3 == 0 ? n / 2 : seed;

	wd_eg_http_body_init(&whole, framing, cl);
	a = wd_eg_http_body_feed(&whole, p, n, &used);
	if (used > n || whole.total != used || (a == WD_EG_HTTP_MORE && used != n))
		abort();
	wd_eg_http_body_init(&split, framing, cl);
	while (at < n && b == WD_EG_HTTP_MORE) {
		size_t k = next_piece(&seed), u;

		k = k < n - at ? k : n - at;
		b = wd_eg_http_body_feed(&split, p + at, k, &u);
		if (u > k || (b == WD_EG_HTTP_MORE && u != k))
			abort();
		at += u;
	}
	if (n > 0 && (a != b || at != used || !same_body(&whole, &split)))
		abort();
	if ((a == WD_EG_HTTP_DONE) !=
	    (framing != WD_EG_HTTP_BODY_CLOSE && wd_eg_http_body_eof_ok(&whole)))
		abort();
}

static void answer_case(const char *p, size_t n, unsigned seed)
{
	static const unsigned codes[] = {400, 403, 431, 501, 502, 503, 504, 505};
	char out[WD_EG_HTTP_ANSWER_MAX];
	struct wd_eg_http_resp r;
	struct wd_eg_http_body b;
	size_t used;
	int len = wd_eg_http_error_write(codes[seed % 8], p, n, out, sizeof(out));

	if (len <= 0)
		abort();
	wd_eg_http_resp_init(&r, false);
	if (wd_eg_http_resp_parse(&r, out, (size_t)len) != WD_EG_HTTP_DONE ||
	    r.framing != WD_EG_HTTP_BODY_LENGTH || r.keep_alive)
		abort();
	wd_eg_http_body_init(&b, r.framing, r.content_length);
	if (wd_eg_http_body_feed(&b, out + r.head_len, (size_t)len - r.head_len, &used) !=
		    WD_EG_HTTP_DONE ||
	    r.head_len + used != (size_t)len)
		abort();
	for (size_t i = r.head_len; i + 1 < (size_t)len; i++)
		if (out[i] < 0x20 || out[i] > 0x7e)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data + 1;
	unsigned seed;

	if (size < 1 || size - 1 > MAX_IN)
		return 0;
	seed = data[0];
	size--;
	request_case(p, size, seed);
	response_case(p, size, seed);
	body_case(p, size, seed);
	answer_case(p, size, seed);
	return 0;
}
