/*
 * vsock/msgeg.c - the egress stream payloads of msg.h: EG_OPEN, EG_REPLY,
 * EG_WINDOW and EG_CLOSE (big-endian, exact sizes; docs/protocol.md,
 * "Streams"). The decoders accept only what the encoders write: every
 * enum in range, counts within their bounds, unused address bytes zero,
 * texts from a fixed alphabet, nothing after the last field.
 */
#include "msg.h"

#include <errno.h>
#include <string.h>

static const char *const proxy_names[] = {
	[WD_EG_PROXY_HTTP_CONNECT] = "http-connect",
	[WD_EG_PROXY_HTTP] = "http",
	[WD_EG_PROXY_SOCKS5] = "socks5",
};

static const char *const result_names[] = {
	[WD_EG_CONNECTED] = "connected", [WD_EG_DENIED] = "denied",     [WD_EG_RESOLVE] = "resolve",
	[WD_EG_ADDRESS] = "address",     [WD_EG_CONNECT] = "connect",   [WD_EG_TIMEOUT] = "timeout",
	[WD_EG_LIMIT] = "limit",         [WD_EG_INTERNAL] = "internal",
};

static const char *const close_names[] = {
	[WD_EG_CLOSE_DONE] = "done",         [WD_EG_CLOSE_RESET] = "reset",
	[WD_EG_CLOSE_IDLE] = "idle",         [WD_EG_CLOSE_JOB_END] = "job-end",
	[WD_EG_CLOSE_LIMIT] = "limit",       [WD_EG_CLOSE_PROTOCOL] = "protocol",
	[WD_EG_CLOSE_SHUTDOWN] = "shutdown",
};

const char *wd_eg_proxy_name(unsigned p)
{
	return p >= 1 && p <= WD_EG_PROXY_MAX ? proxy_names[p] : "?";
}

const char *wd_eg_result_name(unsigned r)
{
	return r <= WD_EG_RESULT_MAX ? result_names[r] : "?";
}

const char *wd_eg_close_name(unsigned c)
{
	return c <= WD_EG_CLOSE_MAX ? close_names[c] : "?";
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A host as common/egress.c normalises it: a lowercase name or an address
 * literal. The host side parses it again; this only keeps the wire clean. */
static bool host_byte(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
	       c == '_' || c == ':';
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}

/* ---- OPEN ----------------------------------------------------------------- */

static int check_open(const uint8_t *host, size_t n, unsigned port, unsigned proxy,
		      struct wd_err *err)
{
	if (port == 0)
		return wd_err_set(err, ERANGE, "eg open: port 0");
	if (proxy < 1 || proxy > WD_EG_PROXY_MAX)
		return wd_err_set(err, EINVAL, "eg open: proxy %u, not 1..%d", proxy,
				  WD_EG_PROXY_MAX);
	if (n == 0 || n > WD_EG_HOST_MAX)
		return wd_err_set(err, ERANGE, "eg open: host of %zu bytes, not 1..%d", n,
				  WD_EG_HOST_MAX);
	for (size_t i = 0; i < n; i++)
		if (!host_byte(host[i]))
			return wd_err_set(err, EINVAL,
					  "eg open: host byte 0x%02x at %zu, not [a-z0-9._:-]",
					  host[i], i);
	return 0;
}

int wd_eg_open_encode(const struct wd_eg_open *o, uint8_t out[WD_EG_OPEN_MAX_BYTES],
		      struct wd_err *err)
{
	size_t n = strnlen(o->host, sizeof(o->host));

	if (check_open((const uint8_t *)o->host, n, o->port, o->proxy, err) < 0)
		return -err->code;
	put_be16(out, o->port);
	out[2] = o->proxy;
	out[3] = (uint8_t)n;
	memcpy(out + 4, o->host, n);
	return (int)(4 + n);
}

int wd_eg_open_decode(const uint8_t *p, size_t len, struct wd_eg_open *o, struct wd_err *err)
{
	size_t n;

	if (len < WD_EG_OPEN_MIN_BYTES || len > WD_EG_OPEN_MAX_BYTES)
		return wd_err_set(err, EBADMSG, "eg open: %zu bytes, not %d..%d", len,
				  WD_EG_OPEN_MIN_BYTES, WD_EG_OPEN_MAX_BYTES);
	n = p[3];
	if (len != 4 + n)
		return wd_err_set(err, EBADMSG, "eg open: %zu bytes for a host of %zu", len, n);
	if (check_open(p + 4, n, get_be16(p), p[2], err) < 0)
		return -err->code;
	o->port = get_be16(p);
	o->proxy = p[2];
	memcpy(o->host, p + 4, n);
	o->host[n] = '\0';
	return 0;
}

/* ---- REPLY ---------------------------------------------------------------- */

static bool zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != 0)
			return false;
	return true;
}

/* An address: family 0 only where `none_ok`, unused bytes 0. */
static int check_addr(const struct wd_eg_addr *a, bool none_ok, const char *what,
		      struct wd_err *err)
{
	switch (a->family) {
	case 0:
		if (!none_ok)
			return wd_err_set(err, EINVAL, "eg reply: %s has no address", what);
		if (!zero(a->a, sizeof(a->a)))
			return wd_err_set(err, EINVAL, "eg reply: %s: family 0 with bytes", what);
		return 0;
	case 4:
		if (!zero(a->a + 4, sizeof(a->a) - 4))
			return wd_err_set(err, EINVAL, "eg reply: %s: IPv4 with bytes past 4",
					  what);
		return 0;
	case 6:
		return 0;
	default:
		return wd_err_set(err, EINVAL, "eg reply: %s: family %u, not 0, 4 or 6", what,
				  a->family);
	}
}

static int check_reply(const struct wd_eg_reply *r, size_t reason_len, struct wd_err *err)
{
	bool ok = r->result == WD_EG_CONNECTED;

	if (r->result > WD_EG_RESULT_MAX)
		return wd_err_set(err, EINVAL, "eg reply: result %u, not 0..%d", r->result,
				  WD_EG_RESULT_MAX);
	if (r->rule < -1 || r->rule > WD_EG_RULE_MAX)
		return wd_err_set(err, ERANGE, "eg reply: rule %d, not -1..%d", r->rule,
				  WD_EG_RULE_MAX);
	if (check_addr(&r->dialed, !ok, "dialed", err) < 0)
		return -err->code;
	if (ok ? r->dialed.family == 0 || r->dialed_port == 0
	       : r->dialed.family != 0 || r->dialed_port != 0)
		return wd_err_set(err, EINVAL, "eg reply: %s with%s a dialed address and port",
				  wd_eg_result_name(r->result), ok ? "out" : "");
	if (r->naddrs > WD_EG_MAX_ADDRS)
		return wd_err_set(err, E2BIG, "eg reply: %u addresses, at most %d", r->naddrs,
				  WD_EG_MAX_ADDRS);
	for (unsigned i = 0; i < r->naddrs; i++)
		if (check_addr(&r->addrs[i], false, "address", err) < 0)
			return -err->code;
	if (reason_len > WD_EG_REASON_MAX)
		return wd_err_set(err, E2BIG, "eg reply: reason of %zu bytes, at most %d",
				  reason_len, WD_EG_REASON_MAX);
	if (ok ? reason_len != 0 : reason_len == 0)
		return wd_err_set(err, EINVAL, "eg reply: %s with%s a reason",
				  wd_eg_result_name(r->result), ok ? "" : "out");
	if (!printable(r->reason, reason_len))
		return wd_err_set(err, EINVAL, "eg reply: reason not printable ASCII");
	return 0;
}

static uint8_t *put_addr(uint8_t *p, const struct wd_eg_addr *a)
{
	p[0] = a->family;
	memcpy(p + 1, a->a, sizeof(a->a));
	return p + WD_EG_ADDR_BYTES;
}

static const uint8_t *get_addr(const uint8_t *p, struct wd_eg_addr *a)
{
	a->family = p[0];
	memcpy(a->a, p + 1, sizeof(a->a));
	return p + WD_EG_ADDR_BYTES;
}

int wd_eg_reply_encode(const struct wd_eg_reply *r, uint8_t out[WD_EG_REPLY_MAX_BYTES],
		       struct wd_err *err)
{
	size_t rn = strnlen(r->reason, sizeof(r->reason));
	uint8_t *p = out;

	if (check_reply(r, rn, err) < 0)
		return -err->code;
	*p++ = r->result;
	put_be16(p, (uint16_t)r->rule);
	p += 2;
	p = put_addr(p, &r->dialed);
	put_be16(p, r->dialed_port);
	p += 2;
	*p++ = r->naddrs;
	for (unsigned i = 0; i < r->naddrs; i++)
		p = put_addr(p, &r->addrs[i]);
	*p++ = (uint8_t)rn;
	memcpy(p, r->reason, rn);
	return (int)(p + rn - out);
}

int wd_eg_reply_decode(const uint8_t *p, size_t len, struct wd_eg_reply *r, struct wd_err *err)
{
	struct wd_eg_reply t; /* checked whole before `r` is touched */
	const uint8_t *q = p;
	size_t need = WD_EG_REPLY_MIN_BYTES, rn;

	if (len < need || len > WD_EG_REPLY_MAX_BYTES)
		return wd_err_set(err, EBADMSG, "eg reply: %zu bytes, not %zu..%d", len, need,
				  WD_EG_REPLY_MAX_BYTES);
	memset(&t, 0, sizeof(t));
	t.result = *q++;
	t.rule = (int16_t)get_be16(q);
	q += 2;
	q = get_addr(q, &t.dialed);
	t.dialed_port = get_be16(q);
	q += 2;
	t.naddrs = *q++;
	if (t.naddrs > WD_EG_MAX_ADDRS)
		return wd_err_set(err, E2BIG, "eg reply: %u addresses, at most %d", t.naddrs,
				  WD_EG_MAX_ADDRS);
	need += (size_t)t.naddrs * WD_EG_ADDR_BYTES;
	if (len < need)
		return wd_err_set(err, EBADMSG, "eg reply: %zu bytes, %u addresses need %zu", len,
				  t.naddrs, need);
	for (unsigned i = 0; i < t.naddrs; i++)
		q = get_addr(q, &t.addrs[i]);
	rn = *q++;
	if (len != need + rn)
		return wd_err_set(err, EBADMSG, "eg reply: %zu bytes, expected %zu", len,
				  need + rn);
	memcpy(t.reason, q, rn);
	t.reason[rn] = '\0';
	if (memchr(t.reason, '\0', rn) != NULL)
		return wd_err_set(err, EINVAL, "eg reply: reason not printable ASCII");
	if (check_reply(&t, rn, err) < 0)
		return -err->code;
	*r = t;
	return 0;
}

/* ---- WINDOW and CLOSE ----------------------------------------------------- */

void wd_eg_window_encode(uint32_t credit, uint8_t out[WD_EG_WINDOW_BYTES])
{
	put_be16(out, (uint16_t)(credit >> 16));
	put_be16(out + 2, (uint16_t)credit);
}

int wd_eg_window_decode(const uint8_t *p, size_t len, uint32_t *credit, struct wd_err *err)
{
	uint32_t v;

	if (len != WD_EG_WINDOW_BYTES)
		return wd_err_set(err, EBADMSG, "eg window: %zu bytes, expected %d", len,
				  WD_EG_WINDOW_BYTES);
	v = (uint32_t)get_be16(p) << 16 | get_be16(p + 2);
	if (v == 0 || v > WD_EG_WINDOW)
		return wd_err_set(err, ERANGE, "eg window: credit %u, not 1..%lu", v, WD_EG_WINDOW);
	*credit = v;
	return 0;
}

void wd_eg_close_encode(enum wd_eg_close reason, uint8_t out[WD_EG_CLOSE_BYTES])
{
	out[0] = (uint8_t)reason;
}

int wd_eg_close_decode(const uint8_t *p, size_t len, enum wd_eg_close *reason, struct wd_err *err)
{
	if (len != WD_EG_CLOSE_BYTES)
		return wd_err_set(err, EBADMSG, "eg close: %zu bytes, expected %d", len,
				  WD_EG_CLOSE_BYTES);
	if (p[0] < WD_EG_CLOSE_RESET || p[0] > WD_EG_CLOSE_MAX)
		return wd_err_set(err, EINVAL, "eg close: reason %u, not %d..%d", p[0],
				  WD_EG_CLOSE_RESET, WD_EG_CLOSE_MAX);
	*reason = (enum wd_eg_close)p[0];
	return 0;
}
