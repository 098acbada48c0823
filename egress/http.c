/*
 * egress/http.c - request and response heads of the egress HTTP proxy:
 * incremental line checks, then one strict parse of the whole head, and
 * the rewrite of an absolute-form request for forwarding (http.h).
 *
 * Each byte is checked once as it arrives (CR LF line ends, no control
 * byte but HTAB, the size and field-count bounds), so a client sending a
 * byte at a time costs O(n) in all. The head is parsed once its empty
 * line is in; the result keeps offsets into the caller's buffer, never
 * copies.
 */
#include "http.h"

#include <errno.h>
#include <string.h>

#include "httpsyn.h"

#define CONTENT_LENGTH_DIGITS 19 /* at most this many digits: < 2^63, never overflows */
#define PORT_DIGITS 5
#define VERSION_LEN 8 /* "HTTP/1.1" */

/* The hop-by-hop fields the forwarded head never carries (RFC 9110
 * section 7.6.1 and the proxy authentication fields), and Host, which the
 * rewrite sets from the URL. */
static const char *const hop_by_hop[] = {
	"connection",
	"keep-alive",
	"proxy-connection",
	"proxy-authorization",
	"proxy-authenticate",
	"te",
	"trailer",
	"upgrade",
	"host",
};

/* Fields a Connection field may not name: removing them would change the
 * request's framing or target on the way to the origin (smuggling). */
static const char *const framing_fields[] = {"content-length", "transfer-encoding", "host"};

struct line {
	uint32_t off, len; /* without its CR LF */
};

/* What a head's fields say about framing and the connection. */
struct fields {
	unsigned ncl, nte, nhost;
	uint64_t cl;
	bool cl_bad, cl_differ;
	bool te_exactly_chunked; /* one field, value "chunked" (requests) */
	bool te_last_chunked;    /* the last coding is chunked, and only it (responses) */
	bool te_bad;             /* "chunked" not last or twice, or not a coding list */
	bool conn_close, conn_keep_alive, conn_bad, conn_names_framing;
};

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* a[0..n) and b[0..n) equal but for ASCII case. */
static bool ieq_n(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower(b[i]))
			return false;
	return true;
}

static bool ieq(const char *a, size_t alen, const char *lit)
{
	return alen == strlen(lit) && ieq_n(a, lit, alen);
}

static bool in_list(const char *s, size_t n, const char *const *list, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (ieq(s, n, list[i]))
			return true;
	return false;
}

#define IN_LIST(s, n, list) in_list(s, n, list, sizeof(list) / sizeof((list)[0]))

static enum wd_eg_http_result fail(unsigned *status, const char **why, unsigned code,
				   const char *text)
{
	*status = code;
	*why = text;
	return WD_EG_HTTP_ERROR;
}

/*
 * Check buf[pos..len) line by line until the head's empty line. DONE sets
 * *head_len. Errors: 400 (bare CR or LF, a control byte), 431 (size,
 * field count).
 */
static enum wd_eg_http_result scan(struct wd_eg_http_scan *s, const char *buf, size_t len,
				   uint32_t *head_len, unsigned *status, const char **why)
{
	while (s->pos < len && s->pos < WD_EG_HTTP_HEAD_MAX) {
		uint8_t c = (uint8_t)buf[s->pos++];

		if (s->cr) {
			if (c != '\n')
				return fail(status, why, 400,
					    "a CR not followed by LF in the head");
			s->cr = 0;
			if (s->pos - s->line_start == 2) {
				*head_len = s->pos;
				return s->lines == 0 ? fail(status, why, 400,
							    "an empty line before the head")
						     : WD_EG_HTTP_DONE;
			}
			s->line_start = s->pos;
			if (++s->lines > 1 + WD_EG_HTTP_MAX_HEADERS)
				return fail(status, why, 431, "too many header fields");
		} else if (c == '\r') {
			s->cr = 1;
		} else if (c == '\n') {
			return fail(status, why, 400, "a line ending in LF without CR");
		} else if (!wd_eg_http_fieldchar(c)) {
			return fail(status, why, 400, "a control byte in the head");
		}
	}
	if (s->pos >= WD_EG_HTTP_HEAD_MAX)
		return fail(status, why, 431, "the head is over 16 KiB");
	return WD_EG_HTTP_MORE;
}

/* The line at *off in a complete head; false at the empty line. */
static bool next_line(const char *buf, uint32_t head_len, uint32_t *off, struct line *l)
{
	const char *cr = memchr(buf + *off, '\r', head_len - *off);
	uint32_t end = (uint32_t)(cr - buf); /* the scan found every line's CR */

	l->off = *off;
	l->len = end - *off;
	*off = end + 2;
	return l->len > 0;
}

/* Split a field line into name and trimmed value; false if malformed. */
static bool split_field(const char *buf, const struct line *l, struct line *name,
			struct line *value)
{
	const char *p = buf + l->off;
	uint32_t i = 0, end = l->len;

	while (i < l->len && wd_eg_http_tchar((uint8_t)p[i]))
		i++;
	if (i == 0 || i == l->len || p[i] != ':')
		return false; /* obs-fold, empty name, whitespace before the colon, no colon */
	name->off = l->off;
	name->len = i;
	i++;
	while (i < end && wd_eg_http_ows((uint8_t)p[i]))
		i++;
	while (end > i && wd_eg_http_ows((uint8_t)p[end - 1]))
		end--;
	value->off = l->off + i;
	value->len = end - i;
	return true;
}

/*
 * Call fn for each element of a comma-separated list (RFC 9110 section
 * 5.6.1: empty elements are skipped), trimmed of OWS.
 */
typedef void (*list_fn)(const char *e, size_t n, void *arg);

static void each_element(const char *v, size_t n, list_fn fn, void *arg)
{
	size_t i = 0;

	while (i <= n) {
		size_t start = i, end;

		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (start < end && wd_eg_http_ows((uint8_t)v[start]))
			start++;
		while (end > start && wd_eg_http_ows((uint8_t)v[end - 1]))
			end--;
		if (end > start)
			fn(v + start, end - start, arg);
		i++;
	}
}

static bool is_token(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!wd_eg_http_tchar((uint8_t)s[i]))
			return false;
	return true;
}

static void connection_element(const char *e, size_t n, void *arg)
{
	struct fields *f = arg;

	if (!is_token(e, n))
		f->conn_bad = true;
	else if (ieq(e, n, "close"))
		f->conn_close = true;
	else if (ieq(e, n, "keep-alive"))
		f->conn_keep_alive = true;
	else if (IN_LIST(e, n, framing_fields))
		f->conn_names_framing = true;
}

/* A transfer coding: a token, perhaps with parameters (";q=..."). */
static void coding_element(const char *e, size_t n, void *arg)
{
	struct fields *f = arg;
	size_t name = 0;

	while (name < n && wd_eg_http_tchar((uint8_t)e[name]))
		name++;
	if (name == 0) {
		f->te_bad = true;
		return;
	}
	if (f->te_last_chunked)
		f->te_bad = true; /* a coding after chunked */
	f->te_last_chunked = ieq(e, name, "chunked");
	if (f->te_last_chunked && name != n)
		f->te_bad = true; /* chunked takes no parameters */
}

static void content_length(struct fields *f, const char *v, size_t n)
{
	uint64_t x = 0;

	if (n == 0 || n > CONTENT_LENGTH_DIGITS) {
		f->cl_bad = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9') {
			f->cl_bad = true;
			return;
		}
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (f->ncl > 0 && x != f->cl)
		f->cl_differ = true;
	f->cl = x;
	f->ncl++;
}

/* Read every field after the start line; false on a malformed line. */
static bool read_fields(const char *buf, uint32_t head_len, uint32_t off, struct fields *f)
{
	struct line l, name, value;

	memset(f, 0, sizeof(*f));
	while (next_line(buf, head_len, &off, &l)) {
		const char *v;

		if (!split_field(buf, &l, &name, &value))
			return false;
		v = buf + value.off;
		if (ieq(buf + name.off, name.len, "content-length")) {
			content_length(f, v, value.len);
		} else if (ieq(buf + name.off, name.len, "transfer-encoding")) {
			f->nte++;
			f->te_exactly_chunked = f->nte == 1 && ieq(v, value.len, "chunked");
			each_element(v, value.len, coding_element, f);
		} else if (ieq(buf + name.off, name.len, "connection")) {
			each_element(v, value.len, connection_element, f);
		} else if (ieq(buf + name.off, name.len, "host")) {
			f->nhost++;
		}
	}
	return true;
}

/* "HTTP/1.0" or "HTTP/1.1": 1 and *minor; another HTTP/x.y: 0; else -1. */
static int version(const char *v, size_t n, unsigned *minor)
{
	if (n != VERSION_LEN || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' ||
	    v[6] != '.' || v[7] < '0' || v[7] > '9')
		return -1;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return 0;
	*minor = (unsigned)(v[7] - '0');
	return 1;
}

static bool host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_';
}

static bool v6_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
	       c == ':' || c == '.';
}

/*
 * host[:port] at buf[off..off+n): a name or IPv4 literal of [A-Za-z0-9-._],
 * or "[v6]"; the port 1..65535 in decimal, required or default_port.
 * Returns NULL or what is wrong.
 */
static const char *authority(const char *buf, uint32_t off, uint32_t n, unsigned default_port,
			     struct wd_eg_http_req *r)
{
	const char *a = buf + off;
	uint32_t h = 0, p;
	unsigned port = 0;

	if (n > 0 && a[0] == '[') {
		while (++h < n && v6_char(a[h]))
			;
		if (h == n || a[h] != ']' || h == 1)
			return "a bracketed host that is not an IPv6 address";
		h++;
	} else {
		while (h < n && host_char(a[h]))
			h++;
		if (h == 0)
			return "no host";
	}
	if (h > WD_EG_HTTP_HOST_MAX)
		return "a host over 255 bytes";
	if (h < n && a[h] != ':')
		return "a host with characters a host name cannot have";
	r->host.off = off;
	r->host.len = h;
	if (h == n) {
		if (default_port == 0)
			return "no port (CONNECT takes host:port)";
		r->port = (uint16_t)default_port;
		return NULL;
	}
	for (p = h + 1; p < n; p++) {
		if (a[p] < '0' || a[p] > '9' || p - h > PORT_DIGITS)
			return "a port that is not a number from 1 to 65535";
		port = port * 10 + (unsigned)(a[p] - '0');
	}
	if (p == h + 1 || port == 0 || port > UINT16_MAX)
		return "a port that is not a number from 1 to 65535";
	r->port = (uint16_t)port;
	return NULL;
}

static bool prefix_ieq(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && ieq_n(s, lit, k);
}

/* The request target: CONNECT's authority-form or http:// absolute-form. */
static enum wd_eg_http_result target(struct wd_eg_http_req *r, const char *buf, struct line t)
{
	const char *s = buf + t.off, *why;
	uint32_t a, end;

	for (uint32_t i = 0; i < t.len; i++)
		if ((uint8_t)s[i] < 0x21 || (uint8_t)s[i] > 0x7e || s[i] == '#')
			return fail(&r->status, &r->why, 400,
				    "a request target with a byte URLs cannot have");
	if (ieq(buf + r->method.off, r->method.len, "CONNECT") &&
	    memcmp(buf + r->method.off, "CONNECT", 7) == 0) {
		r->form = WD_EG_HTTP_FORM_CONNECT;
		why = authority(buf, t.off, t.len, 0, r);
		if (why != NULL)
			return fail(&r->status, &r->why, 400, why);
		r->authority.off = t.off;
		r->authority.len = t.len;
		return WD_EG_HTTP_DONE;
	}
	if (t.len == 1 && s[0] == '*')
		return fail(&r->status, &r->why, 501, "asterisk-form (OPTIONS *) is not forwarded");
	if (s[0] == '/')
		return fail(&r->status, &r->why, 400,
			    "not a proxy request: send http:// URLs in absolute form, or CONNECT");
	if (prefix_ieq(s, t.len, "https://"))
		return fail(&r->status, &r->why, 400,
			    "https:// URLs go through CONNECT: use this proxy as HTTPS_PROXY");
	if (!prefix_ieq(s, t.len, "http://"))
		return fail(&r->status, &r->why, 400,
			    "only http:// URLs are forwarded; other schemes go through CONNECT");
	r->form = WD_EG_HTTP_FORM_ABSOLUTE;
	a = t.off + 7;
	for (end = a; end < t.off + t.len && buf[end] != '/' && buf[end] != '?'; end++)
		if (buf[end] == '@')
			return fail(&r->status, &r->why, 400, "user information in the URL");
	why = authority(buf, a, end - a, WD_EG_HTTP_DEFAULT_PORT, r);
	if (why != NULL)
		return fail(&r->status, &r->why, 400, why);
	r->authority.off = a;
	r->authority.len = end - a;
	r->path.off = end;
	r->path.len = t.off + t.len - end;
	return WD_EG_HTTP_DONE;
}

/* "METHOD SP target SP version": exactly one space each. */
static enum wd_eg_http_result request_line(struct wd_eg_http_req *r, const char *buf,
					   const struct line *l)
{
	const char *s = buf + l->off;
	const char *sp1 = memchr(s, ' ', l->len), *sp2;
	struct line t;
	int v;

	if (sp1 == NULL || sp1 == s)
		return fail(&r->status, &r->why, 400, "a malformed request line");
	sp2 = memchr(sp1 + 1, ' ', l->len - (size_t)(sp1 + 1 - s));
	if (sp2 == NULL || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', l->len - (size_t)(sp2 + 1 - s)))
		return fail(&r->status, &r->why, 400, "a malformed request line");
	r->method.off = l->off;
	r->method.len = (uint32_t)(sp1 - s);
	if (!is_token(s, r->method.len))
		return fail(&r->status, &r->why, 400, "a method that is not a token");
	v = version(sp2 + 1, l->len - (size_t)(sp2 + 1 - s), &r->minor);
	if (v < 0)
		return fail(&r->status, &r->why, 400, "a malformed HTTP version");
	if (v == 0)
		return fail(&r->status, &r->why, 505, "only HTTP/1.0 and HTTP/1.1 are spoken");
	t.off = (uint32_t)(sp1 + 1 - buf);
	t.len = (uint32_t)(sp2 - sp1 - 1);
	return target(r, buf, t);
}

/* Framing and keep-alive of a request from its fields (the smuggling rules). */
static enum wd_eg_http_result request_fields(struct wd_eg_http_req *r, const struct fields *f)
{
	if (f->cl_bad)
		return fail(&r->status, &r->why, 400,
			    "a Content-Length that is not a decimal number");
	if (f->cl_differ)
		return fail(&r->status, &r->why, 400, "differing Content-Length fields");
	if (f->ncl > 0 && f->nte > 0)
		return fail(&r->status, &r->why, 400, "both Content-Length and Transfer-Encoding");
	if (f->nte > 0 && r->minor == 0)
		return fail(&r->status, &r->why, 400, "Transfer-Encoding in an HTTP/1.0 request");
	if (f->nte > 0 && !f->te_exactly_chunked)
		return fail(&r->status, &r->why, 501, "a transfer coding other than chunked");
	if (f->nhost > 1)
		return fail(&r->status, &r->why, 400, "more than one Host field");
	if (f->conn_bad)
		return fail(&r->status, &r->why, 400,
			    "a Connection field that is not a token list");
	if (f->conn_names_framing)
		return fail(&r->status, &r->why, 400, "a Connection field naming a framing field");
	if (r->form == WD_EG_HTTP_FORM_CONNECT) {
		if (f->nte > 0 || f->cl > 0)
			return fail(&r->status, &r->why, 400, "a CONNECT request with a body");
		r->framing = WD_EG_HTTP_BODY_NONE;
		r->keep_alive = false; /* the connection becomes the tunnel */
		return WD_EG_HTTP_DONE;
	}
	if (f->nte > 0)
		r->framing = WD_EG_HTTP_BODY_CHUNKED;
	else if (f->ncl > 0)
		r->framing = WD_EG_HTTP_BODY_LENGTH;
	else
		r->framing = WD_EG_HTTP_BODY_NONE;
	r->content_length = f->cl;
	r->keep_alive = !f->conn_close && (r->minor == 1 || f->conn_keep_alive);
	return WD_EG_HTTP_DONE;
}

void wd_eg_http_req_init(struct wd_eg_http_req *r)
{
	memset(r, 0, sizeof(*r));
}

enum wd_eg_http_result wd_eg_http_req_parse(struct wd_eg_http_req *r, const char *buf, size_t len)
{
	enum wd_eg_http_result res;
	struct fields f;
	struct line l;
	uint32_t off = 0;

	if (r->status != 0)
		return WD_EG_HTTP_ERROR;
	if (r->head_len != 0)
		return WD_EG_HTTP_DONE;
	res = scan(&r->scan, buf, len, &r->head_len, &r->status, &r->why);
	if (res != WD_EG_HTTP_DONE)
		return res;
	next_line(buf, r->head_len, &off, &l);
	res = request_line(r, buf, &l);
	if (res == WD_EG_HTTP_DONE && !read_fields(buf, r->head_len, off, &f))
		res = fail(&r->status, &r->why, 400,
			   "a malformed header field (obs-fold, space before the colon, no name)");
	if (res == WD_EG_HTTP_DONE)
		res = request_fields(r, &f);
	return res;
}

/* Append n bytes; false when they do not fit. */
static bool put(char *out, size_t size, size_t *at, const char *s, size_t n)
{
	if (n > size - *at)
		return false;
	memcpy(out + *at, s, n);
	*at += n;
	return true;
}

#define PUTS(lit) put(out, size, &at, lit, sizeof(lit) - 1)

struct named {
	const char *name;
	size_t len;
	bool found;
};

static void named_element(const char *e, size_t n, void *arg)
{
	struct named *q = arg;

	if (n == q->len && ieq_n(e, q->name, n))
		q->found = true;
}

/* Does any Connection field of the head name this field? */
static bool named_by_connection(const char *buf, uint32_t head_len, const struct line *name)
{
	struct named q = {buf + name->off, name->len, false};
	struct line l, n, v;
	uint32_t off = 0;

	next_line(buf, head_len, &off, &l);
	while (!q.found && next_line(buf, head_len, &off, &l)) {
		split_field(buf, &l, &n, &v);
		if (ieq(buf + n.off, n.len, "connection"))
			each_element(buf + v.off, v.len, named_element, &q);
	}
	return q.found;
}

int wd_eg_http_req_rewrite(const struct wd_eg_http_req *r, const char *buf, char *out, size_t size)
{
	struct line l, name, value;
	uint32_t off = 0;
	size_t at = 0;
	bool ok;

	if (r->head_len == 0 || r->status != 0 || r->form != WD_EG_HTTP_FORM_ABSOLUTE)
		return -EINVAL;
	ok = put(out, size, &at, buf + r->method.off, r->method.len) && PUTS(" ");
	if (ok && (r->path.len == 0 || buf[r->path.off] == '?'))
		ok = PUTS("/");
	ok = ok && put(out, size, &at, buf + r->path.off, r->path.len);
	ok = ok && (r->minor == 0 ? PUTS(" HTTP/1.0\r\n") : PUTS(" HTTP/1.1\r\n"));
	next_line(buf, r->head_len, &off, &l);
	while (ok && next_line(buf, r->head_len, &off, &l)) {
		split_field(buf, &l, &name, &value);
		if (IN_LIST(buf + name.off, name.len, hop_by_hop) ||
		    named_by_connection(buf, r->head_len, &name))
			continue;
		ok = put(out, size, &at, buf + l.off, l.len) && PUTS("\r\n");
	}
	ok = ok && PUTS("Host: ") &&
	     put(out, size, &at, buf + r->authority.off, r->authority.len) && PUTS("\r\n");
	if (ok && !r->keep_alive)
		ok = PUTS("Connection: close\r\n");
	else if (ok && r->minor == 0)
		ok = PUTS("Connection: keep-alive\r\n");
	ok = ok && PUTS("\r\n");
	return ok ? (int)at : -ENOSPC;
}

/* "HTTP/1.x SP 3DIGIT [SP reason]". */
static const char *status_line(struct wd_eg_http_resp *r, const char *s, size_t n)
{
	unsigned code = 0;

	if (n < VERSION_LEN + 4 || s[VERSION_LEN] != ' ' || version(s, VERSION_LEN, &r->minor) != 1)
		return "a response that is not HTTP/1.0 or HTTP/1.1";
	for (size_t i = VERSION_LEN + 1; i < VERSION_LEN + 4; i++) {
		if (s[i] < '0' || s[i] > '9')
			return "a malformed status code";
		code = code * 10 + (unsigned)(s[i] - '0');
	}
	if (code < 100 || code > 599 || (n > VERSION_LEN + 4 && s[VERSION_LEN + 4] != ' '))
		return "a malformed status code";
	r->code = code;
	return NULL;
}

void wd_eg_http_resp_init(struct wd_eg_http_resp *r, bool head_request)
{
	memset(r, 0, sizeof(*r));
	r->head_request = head_request;
}

static enum wd_eg_http_result bad_response(struct wd_eg_http_resp *r, const char *why)
{
	return fail(&r->status, &r->why, 502, why);
}

enum wd_eg_http_result wd_eg_http_resp_parse(struct wd_eg_http_resp *r, const char *buf, size_t len)
{
	enum wd_eg_http_result res;
	struct fields f;
	struct line l;
	uint32_t off = 0;
	const char *why;

	if (r->status != 0)
		return WD_EG_HTTP_ERROR;
	if (r->head_len != 0)
		return WD_EG_HTTP_DONE;
	res = scan(&r->scan, buf, len, &r->head_len, &r->status, &r->why);
	if (res == WD_EG_HTTP_ERROR)
		r->status = 502;
	if (res != WD_EG_HTTP_DONE)
		return res;
	next_line(buf, r->head_len, &off, &l);
	why = status_line(r, buf + l.off, l.len);
	if (why != NULL)
		return bad_response(r, why);
	if (!read_fields(buf, r->head_len, off, &f))
		return bad_response(r, "a malformed header field in the response");
	if (r->code == 101)
		return bad_response(r, "a 101 Switching Protocols (Upgrade is not forwarded)");
	if (f.cl_bad || f.cl_differ)
		return bad_response(r,
				    "a bad or repeated differing Content-Length in the response");
	if (f.ncl > 0 && f.nte > 0)
		return bad_response(r, "both Content-Length and Transfer-Encoding in the response");
	if (f.te_bad)
		return bad_response(r, "a malformed Transfer-Encoding in the response");
	r->interim = r->code < 200;
	r->keep_alive = !f.conn_close && (r->minor == 1 || f.conn_keep_alive);
	if (r->head_request || r->interim || r->code == 204 || r->code == 304) {
		r->framing = WD_EG_HTTP_BODY_NONE;
	} else if (f.nte > 0) {
		r->framing = f.te_last_chunked ? WD_EG_HTTP_BODY_CHUNKED : WD_EG_HTTP_BODY_CLOSE;
	} else if (f.ncl > 0) {
		r->framing = WD_EG_HTTP_BODY_LENGTH;
		r->content_length = f.cl;
	} else {
		r->framing = WD_EG_HTTP_BODY_CLOSE;
	}
	if (r->framing == WD_EG_HTTP_BODY_CLOSE)
		r->keep_alive = false;
	return WD_EG_HTTP_DONE;
}
