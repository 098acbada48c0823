/*
 * egress/socks5.h - the SOCKS5 handshake of the egress proxy (RFC 1928;
 * docs/egress.md, "The proxies' parsers").
 *
 * The supervisor's SOCKS5 proxy (127.0.0.1:1080 in the agent's namespace)
 * reads two messages from the agent, which is hostile: the greeting (the
 * authentication methods it offers) and the request (command and
 * destination). This module owns their syntax and the replies' encoding;
 * it does no I/O and no allocation. Both parsers take every byte received
 * so far (each call sees the previous call's bytes plus the new ones) and
 * say how many bytes the message took: what follows it in the same read
 * is the next message, or the tunnel's first bytes.
 *
 * Only "no authentication" (0x00) and CONNECT (0x01) are spoken. Refusals
 * that RFC 1928 gives a reply for get that reply and then the connection
 * is closed: a greeting without method 0x00 gets method 0xFF, BIND and
 * UDP ASSOCIATE (and any other command) get 0x07, an unknown address type
 * 0x08. A message that is not SOCKS5 at all (another version, no methods,
 * a reserved byte not 0, an empty domain name) gets no reply: close.
 */
#ifndef WARDEN_EGRESS_SOCKS5_H
#define WARDEN_EGRESS_SOCKS5_H

#include <stddef.h>
#include <stdint.h>

#define WD_EG_SOCKS_VERSION 5
#define WD_EG_SOCKS_GREETING_MAX 257 /* VER, NMETHODS, 255 methods */
#define WD_EG_SOCKS_REQUEST_MAX 262  /* VER CMD RSV ATYP, length, 255-byte name, port */
#define WD_EG_SOCKS_NAME_MAX 255     /* bytes of a domain name (its length byte's range) */
#define WD_EG_SOCKS_HOST_TEXT 256    /* room for the host as text, NUL included */
#define WD_EG_SOCKS_METHOD_REPLY_LEN 2
#define WD_EG_SOCKS_REPLY_LEN 10 /* VER REP RSV ATYP(1) BND.ADDR(4) BND.PORT(2) */

#define WD_EG_SOCKS_METHOD_NONE 0x00    /* no authentication required */
#define WD_EG_SOCKS_METHOD_REFUSED 0xff /* no acceptable methods */
#define WD_EG_SOCKS_CMD_CONNECT 0x01
#define WD_EG_SOCKS_ATYP_IPV4 0x01
#define WD_EG_SOCKS_ATYP_DOMAIN 0x03
#define WD_EG_SOCKS_ATYP_IPV6 0x04

/* Reply codes (RFC 1928 section 6). */
enum wd_eg_socks_rep {
	WD_EG_SOCKS_SUCCEEDED = 0x00,
	WD_EG_SOCKS_GENERAL_FAILURE = 0x01,
	WD_EG_SOCKS_NOT_ALLOWED = 0x02, /* connection not allowed by ruleset */
	WD_EG_SOCKS_NET_UNREACHABLE = 0x03,
	WD_EG_SOCKS_HOST_UNREACHABLE = 0x04,
	WD_EG_SOCKS_REFUSED = 0x05,
	WD_EG_SOCKS_TTL_EXPIRED = 0x06,
	WD_EG_SOCKS_CMD_UNSUPPORTED = 0x07,
	WD_EG_SOCKS_ATYP_UNSUPPORTED = 0x08,
};

enum wd_eg_socks_result {
	WD_EG_SOCKS_CLOSE = -2, /* not SOCKS5: close without a reply */
	WD_EG_SOCKS_REPLY = -1, /* refused: send the reply (`rep`), then close */
	WD_EG_SOCKS_MORE = 0,   /* nothing wrong yet: feed more bytes */
	WD_EG_SOCKS_DONE = 1,   /* complete; *used bytes taken */
};

/*
 * The greeting VER NMETHODS METHODS at the start of buf[0..len). DONE:
 * *used is its length, *method is 0x00 when offered, else 0xFF (send it,
 * then close). CLOSE: VER not 5 or NMETHODS 0.
 */
enum wd_eg_socks_result wd_eg_socks_greeting(const uint8_t *buf, size_t len, size_t *used,
					     uint8_t *method);

/* The method selection message: VER, METHOD. */
void wd_eg_socks_method_reply(uint8_t method, uint8_t out[WD_EG_SOCKS_METHOD_REPLY_LEN]);

struct wd_eg_socks_req {
	uint8_t atyp; /* WD_EG_SOCKS_ATYP_IPV4, _DOMAIN or _IPV6 */
	/* The destination as text: the domain name's bytes as sent (printable
	 * ASCII, no space), or the address in inet_ntop's form ("10.0.0.1",
	 * "2001:db8::1", no brackets). NUL-terminated; host_len without it. */
	char host[WD_EG_SOCKS_HOST_TEXT];
	size_t host_len;
	uint8_t addr[16]; /* IPv4 in addr[0..3], IPv6 in addr[0..15] */
	uint16_t port;    /* 1..65535 */
	uint8_t rep;      /* REPLY: the reply code to send */
};

/*
 * The request VER CMD RSV ATYP DST.ADDR DST.PORT at the start of
 * buf[0..len). DONE: a CONNECT, req filled, *used its length (bytes after
 * it are the tunnel's). REPLY with req->rep: CMD other than CONNECT
 * (0x07, answered as soon as the first four bytes are in), ATYP other
 * than 1, 3, 4 (0x08), a domain name with a byte outside printable
 * ASCII or a space (0x04: no such host can exist), port 0 (0x01).
 * CLOSE: VER not 5, RSV not 0, a domain name of length 0.
 */
enum wd_eg_socks_result wd_eg_socks_request(const uint8_t *buf, size_t len,
					    struct wd_eg_socks_req *req, size_t *used);

/* A reply: VER 5, rep, RSV 0, ATYP IPv4, BND.ADDR 0.0.0.0, BND.PORT 0
 * (the proxy's own address tells the agent nothing it needs). */
void wd_eg_socks_reply(uint8_t rep, uint8_t out[WD_EG_SOCKS_REPLY_LEN]);

#endif
