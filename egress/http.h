/*
 * egress/http.h - the HTTP/1.x parsers of the egress proxy (docs/egress.md,
 * "The proxies' parsers").
 *
 * The supervisor's HTTP proxy (127.0.0.1:3128 in the agent's namespace)
 * reads request heads from the agent, which is hostile, and response heads
 * from servers the policy allows, which are not trusted either. This module
 * owns the syntax of both and nothing else: it does no I/O and no
 * allocation, every buffer is the caller's, and every bound is one of the
 * named constants below.
 *
 *   - Request heads (wd_eg_http_req_parse): incremental over the bytes
 *     received so far; need-more, complete (head length), or an error with
 *     the status to answer: 400 malformed or not a proxy request, 431 head
 *     over WD_EG_HTTP_HEAD_MAX or more than WD_EG_HTTP_MAX_HEADERS fields,
 *     501 a method form or transfer coding the proxy does not carry, 505 an
 *     HTTP version other than 1.0 and 1.1. Accepted: `CONNECT host:port`
 *     (authority-form, port required, IPv6 in brackets) and absolute-form
 *     `http://host[:port]/path?query`.
 *   - Forwarding (wd_eg_http_req_rewrite): the absolute-form head in origin
 *     form, hop-by-hop fields removed, Host set from the URL.
 *   - Response heads (wd_eg_http_resp_parse): the same syntax rules; an
 *     error means 502 to the agent.
 *   - Body framing (struct wd_eg_http_body): where a message ends, for
 *     keep-alive, in both directions; the bytes themselves pass unchanged.
 *   - The proxy's own answers (wd_eg_http_error_write): 403 with
 *     X-Warden-Deny, 4xx/5xx, always Connection: close.
 *
 * The syntax is RFC 9112's, taken strictly where leniency lets two parsers
 * disagree about where a message ends (request smuggling): lines end in
 * CR LF only (a bare CR or LF is an error), no obs-fold, no NUL or other
 * control byte but HTAB in a field, no whitespace between a field name and
 * its colon, field names are tokens; a request with both Content-Length
 * and Transfer-Encoding, with differing Content-Lengths, or with a
 * Content-Length that is not all digits or overflows is refused (400), a
 * transfer coding other than exactly "chunked" is refused (501), and a
 * chunked body's sizes, extensions and trailers are checked byte by byte.
 */
#ifndef WARDEN_EGRESS_HTTP_H
#define WARDEN_EGRESS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WD_EG_HTTP_HEAD_MAX 16384  /* bytes of a request or response head, final CR LF included */
#define WD_EG_HTTP_MAX_HEADERS 100 /* field lines in a head, or in a chunked body's trailers */
#define WD_EG_HTTP_HOST_MAX 255    /* bytes of a target's host, brackets included (OPEN's bound) */
#define WD_EG_HTTP_CHUNK_LINE_MAX 4096 /* bytes of a chunk-size line with its extensions */
#define WD_EG_HTTP_TRAILER_MAX 16384   /* bytes of a chunked body's trailer section */
#define WD_EG_HTTP_DEFAULT_PORT 80     /* absolute-form http:// without a port */
#define WD_EG_HTTP_REASON_MAX 200      /* bytes of a reason in an answer the proxy writes */
#define WD_EG_HTTP_ANSWER_MAX 1024     /* room wd_eg_http_error_write() needs */
/* Room wd_eg_http_req_rewrite() needs: the rewrite only shortens the head
 * but for "/" (empty path), a Host line the request lacked, and one
 * Connection line. */
#define WD_EG_HTTP_FORWARD_MAX (WD_EG_HTTP_HEAD_MAX + 2 * WD_EG_HTTP_HOST_MAX + 64)

/* What the proxy answers a CONNECT it carries, before the tunnel's bytes. */
#define WD_EG_HTTP_CONNECT_OK "HTTP/1.1 200 Connection established\r\n\r\n"

enum wd_eg_http_result {
	WD_EG_HTTP_ERROR = -1, /* see `status` and `why` */
	WD_EG_HTTP_MORE = 0,   /* nothing wrong yet: feed more bytes */
	WD_EG_HTTP_DONE = 1,   /* complete */
};

/* How a message's body is delimited (RFC 9112 section 6.3). */
enum wd_eg_http_framing {
	WD_EG_HTTP_BODY_NONE = 0, /* no body: the head is the message */
	WD_EG_HTTP_BODY_LENGTH,   /* Content-Length bytes */
	WD_EG_HTTP_BODY_CHUNKED,  /* chunked transfer coding, to the last chunk and trailers */
	WD_EG_HTTP_BODY_CLOSE,    /* a response read until the server closes */
};

/* A part of the caller's buffer: buf[off .. off + len). Offsets, not
 * pointers, so that the caller may move its buffer. */
struct wd_eg_http_span {
	uint32_t off, len;
};

/* Incremental line checks; internal, zeroed by the init functions. */
struct wd_eg_http_scan {
	uint32_t pos;        /* bytes checked so far */
	uint32_t line_start; /* where the current line began */
	uint16_t lines;      /* lines completed */
	uint8_t cr;          /* the last byte checked was a CR */
};

enum wd_eg_http_form {
	WD_EG_HTTP_FORM_CONNECT = 1,  /* CONNECT host:port: a tunnel */
	WD_EG_HTTP_FORM_ABSOLUTE = 2, /* METHOD http://host[:port]/path: forwarded */
};

struct wd_eg_http_req {
	struct wd_eg_http_scan scan;
	/* Set by WD_EG_HTTP_DONE. Spans are in the buffer given to the call. */
	uint32_t head_len; /* bytes of the head; what follows is body or tunnel */
	enum wd_eg_http_form form;
	unsigned minor;                /* HTTP/1.<minor>: 0 or 1 */
	struct wd_eg_http_span method; /* a token: "CONNECT", "GET", ... */
	struct wd_eg_http_span host; /* as sent, "[v6]" with its brackets; 1..WD_EG_HTTP_HOST_MAX */
	struct wd_eg_http_span authority; /* host[:port] as sent: the forwarded Host */
	struct wd_eg_http_span path;      /* absolute-form: path and query ("" means "/") */
	uint16_t port;                    /* 1..65535 */
	bool keep_alive;                  /* the client wants its connection kept */
	enum wd_eg_http_framing framing;  /* NONE, LENGTH or CHUNKED (CONNECT: NONE) */
	uint64_t content_length;          /* LENGTH */
	/* Set by WD_EG_HTTP_ERROR. */
	unsigned status; /* 400, 431, 501, 505 */
	const char *why; /* static, one line of printable ASCII, for the answer's body */
};

/* Ready a request for a new head (also between requests on one connection). */
void wd_eg_http_req_init(struct wd_eg_http_req *r);

/*
 * Parse the request head at the start of buf[0..len): every byte received
 * so far on the connection, the same bytes as in the previous call plus
 * what arrived since (each byte is checked once; the head is parsed whole
 * when its empty line has arrived). DONE: the head is buf[0..head_len) and
 * the fields above are set; ERROR: answer `status` and close. Calls after
 * DONE or ERROR return the same result.
 */
enum wd_eg_http_result wd_eg_http_req_parse(struct wd_eg_http_req *r, const char *buf, size_t len);

/*
 * The head to send to the origin for an absolute-form request r parsed
 * from buf: `METHOD /path?query HTTP/1.<minor>`, the client's fields in
 * their order without the hop-by-hop ones (Connection, Keep-Alive,
 * Proxy-Connection, Proxy-Authorization, Proxy-Authenticate, TE, Trailer,
 * Upgrade, Host, and every field that a Connection field names), then
 * `Host: <authority>`, then `Connection: close` when the client does not
 * keep its connection (or `Connection: keep-alive` for an HTTP/1.0 client
 * that does), then the empty line. The version stays the client's: the
 * proxy passes the response's bytes unchanged, so an HTTP/1.0 client must
 * not get an HTTP/1.1 server's chunked body. out has `size` bytes
 * (WD_EG_HTTP_FORWARD_MAX is always enough). Returns the bytes written, or
 * -ENOSPC (short buffer) or -EINVAL (r is not a parsed absolute-form
 * request).
 */
int wd_eg_http_req_rewrite(const struct wd_eg_http_req *r, const char *buf, char *out, size_t size);

struct wd_eg_http_resp {
	struct wd_eg_http_scan scan;
	bool head_request; /* the request was HEAD: no body whatever the fields say */
	/* Set by WD_EG_HTTP_DONE. */
	uint32_t head_len;
	unsigned minor;                  /* HTTP/1.<minor>: 0 or 1 */
	unsigned code;                   /* 100..599 */
	bool interim;                    /* 1xx: another response head follows (101 is an error) */
	bool keep_alive;                 /* the server keeps the connection after this response */
	enum wd_eg_http_framing framing; /* NONE, LENGTH, CHUNKED or CLOSE */
	uint64_t content_length;         /* LENGTH */
	/* Set by WD_EG_HTTP_ERROR: status 502, the proxy's answer to the agent. */
	unsigned status;
	const char *why;
};

/* Ready for the response to a request; head_request: its method was HEAD. */
void wd_eg_http_resp_init(struct wd_eg_http_resp *r, bool head_request);

/*
 * Parse a response head (status line and fields) at the start of
 * buf[0..len), incrementally as wd_eg_http_req_parse(). Framing follows
 * RFC 9112 section 6.3: HEAD, 1xx, 204 and 304 have no body; a
 * Transfer-Encoding whose last coding is chunked is CHUNKED, any other is
 * CLOSE; else Content-Length; else CLOSE. Both Transfer-Encoding and
 * Content-Length, differing Content-Lengths, a bad Content-Length, "chunked"
 * not last, or a 101 (the proxy never forwards Upgrade) are errors.
 */
enum wd_eg_http_result wd_eg_http_resp_parse(struct wd_eg_http_resp *r, const char *buf,
					     size_t len);

/*
 * Where a message body ends, for either direction. Initialised from a
 * parsed head's framing and content_length; then fed the bytes that
 * follow the head, in pieces of any size. The bytes are never changed.
 */
struct wd_eg_http_body {
	uint8_t framing; /* enum wd_eg_http_framing */
	uint8_t state;   /* chunked: where in the grammar */
	bool size_digit; /* chunked: the size line has a digit */
	uint16_t fields; /* chunked: trailer fields seen */
	uint32_t line;   /* chunked: bytes of the current size line or trailer section */
	uint64_t left;   /* LENGTH: bytes to come; CHUNKED: of the current chunk's data */
	uint64_t total;  /* bytes fed that belong to the message */
};

void wd_eg_http_body_init(struct wd_eg_http_body *b, enum wd_eg_http_framing framing,
			  uint64_t content_length);

/*
 * Feed p[0..n). *used is how many of those bytes belong to the message.
 * MORE: all n do and the message goes on; DONE: the message ended after
 * *used bytes (what follows is the next message); ERROR: a malformed
 * chunked body (*used bytes were good; close the connection). NONE is
 * DONE at once with *used 0; CLOSE is never DONE (see _body_eof_ok).
 */
enum wd_eg_http_result wd_eg_http_body_feed(struct wd_eg_http_body *b, const char *p, size_t n,
					    size_t *used);

/* The peer closed: was that the message's proper end (CLOSE framing, or
 * a message already done)? False means a truncated message. */
bool wd_eg_http_body_eof_ok(const struct wd_eg_http_body *b);

/*
 * The proxy's own answer: `HTTP/1.1 <code> <phrase>`, for 403 an
 * `X-Warden-Deny: <reason>` field, `Content-Type: text/plain`,
 * `Content-Length`, `Connection: close`, and a one-line body naming the
 * reason. code is one of 400, 403, 431, 501, 502, 503, 504, 505. The
 * reason (reason_len bytes, any content) is cut at WD_EG_HTTP_REASON_MAX
 * and every byte outside printable ASCII becomes '?'. Returns the bytes
 * written into out (a NUL follows them, not counted), or -EINVAL (unknown code) or -ENOSPC (size short;
 * WD_EG_HTTP_ANSWER_MAX is always enough).
 */
int wd_eg_http_error_write(unsigned code, const char *reason, size_t reason_len, char *out,
			   size_t size);

#endif
