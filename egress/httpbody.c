/*
 * egress/httpbody.c - where an HTTP/1.x message body ends (Content-Length,
 * chunked, until close), and the proxy's own short answers (http.h).
 *
 * The chunked tracker is a byte-at-a-time state machine over RFC 9112
 * section 7.1's grammar, so a body split anywhere gives the same result
 * as in one piece; it only counts (the proxy forwards the bytes as they
 * are), and chunk data is skipped in whole runs. Strict where a lenient
 * reader would disagree with another about the end: the size is hex
 * digits only (no sign, no "0x", no space before CR), whitespace only
 * around ';' and '=' in extensions, CR LF exactly after every line and
 * after chunk data, trailer fields as strict as a head's.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "httpsyn.h"
#include "../common/parse.h"

enum chunk_state {
	CH_SIZE,        /* hex digits */
	CH_SIZE_BWS,    /* whitespace after the size: only before ';' */
	CH_EXT_NAME0,   /* after ';': whitespace, then a token */
	CH_EXT_NAME,    /* in the name */
	CH_EXT_NAME_WS, /* whitespace after the name: '=' or ';' follows */
	CH_EXT_VAL0,    /* after '=': whitespace, then a token or a quoted string */
	CH_EXT_TOKEN,   /* in a token value */
	CH_EXT_QUOTED,  /* in a quoted string */
	CH_EXT_QESC,    /* after a backslash in a quoted string */
	CH_EXT_END,     /* after a quoted string's closing quote */
	CH_EXT_VAL_WS,  /* whitespace after a value: only ';' follows */
	CH_LINE_LF,     /* the size line's CR was seen */
	CH_DATA,
	CH_DATA_CR,
	CH_DATA_LF,
	CH_TR_START, /* start of a trailer line, or the final CR */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_FINAL_LF,
	CH_DONE,
};

void wd_eg_http_body_init(struct wd_eg_http_body *b, enum wd_eg_http_framing framing,
			  uint64_t content_length)
{
	memset(b, 0, sizeof(*b));
	b->framing = (uint8_t)framing;
	b->state = CH_SIZE;
	if (framing == WD_EG_HTTP_BODY_LENGTH)
		b->left = content_length;
}

/* After a size or an extension: ';' starts one, CR ends the line. */
static int ext_next(uint8_t c, enum chunk_state ws)
{
	if (wd_eg_http_ows(c))
		return ws;
	if (c == ';')
		return CH_EXT_NAME0;
	if (c == '\r')
		return CH_LINE_LF;
	return -1;
}

/* qdtext and quoted-pair's second byte (RFC 9110 section 5.6.4). */
static bool qdtext(uint8_t c)
{
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
	       (c >= 0x5d && c <= 0x7e) || c >= 0x80;
}

/* One byte of a size line: the next state, or -1. */
static int size_line(struct wd_eg_http_body *b, uint8_t c)
{
	int h;

	switch (b->state) {
	case CH_SIZE:
		h = wd_hex_digit(c);
		if (h >= 0) {
			if (b->left > (UINT64_MAX >> 4))
				return -1;
			b->left = b->left << 4 | (uint64_t)h;
			b->size_digit = true;
			return CH_SIZE;
		}
		return b->size_digit ? ext_next(c, CH_SIZE_BWS) : -1;
	case CH_SIZE_BWS:
		return wd_eg_http_ows(c) ? CH_SIZE_BWS : c == ';' ? CH_EXT_NAME0 : -1;
	case CH_EXT_NAME0:
		return wd_eg_http_ows(c) ? CH_EXT_NAME0 : wd_eg_http_tchar(c) ? CH_EXT_NAME : -1;
	case CH_EXT_NAME:
		if (wd_eg_http_tchar(c))
			return CH_EXT_NAME;
		return c == '=' ? CH_EXT_VAL0 : ext_next(c, CH_EXT_NAME_WS);
	case CH_EXT_NAME_WS:
		if (c == '=')
			return CH_EXT_VAL0;
		return c == '\r' ? -1 : ext_next(c, CH_EXT_NAME_WS);
	case CH_EXT_VAL0:
		if (wd_eg_http_ows(c))
			return CH_EXT_VAL0;
		return wd_eg_http_tchar(c) ? CH_EXT_TOKEN : c == '"' ? CH_EXT_QUOTED : -1;
	case CH_EXT_TOKEN:
		return wd_eg_http_tchar(c) ? CH_EXT_TOKEN : ext_next(c, CH_EXT_VAL_WS);
	case CH_EXT_QUOTED:
		if (c == '"')
			return CH_EXT_END;
		return c == '\\' ? CH_EXT_QESC : qdtext(c) ? CH_EXT_QUOTED : -1;
	case CH_EXT_QESC:
		return qdtext(c) || c == '"' || c == '\\' ? CH_EXT_QUOTED : -1;
	case CH_EXT_END:
		return ext_next(c, CH_EXT_VAL_WS);
	case CH_EXT_VAL_WS:
		return c == '\r' ? -1 : ext_next(c, CH_EXT_VAL_WS);
	case CH_LINE_LF:
		if (c != '\n')
			return -1;
		b->line = 0;
		return b->left == 0 ? CH_TR_START : CH_DATA;
	default:
		return -1;
	}
}

/* One byte after the data or in the trailers: the next state, or -1. */
static int after_data(struct wd_eg_http_body *b, uint8_t c)
{
	switch (b->state) {
	case CH_DATA_CR:
		return c == '\r' ? CH_DATA_LF : -1;
	case CH_DATA_LF:
		if (c != '\n')
			return -1;
		b->size_digit = false;
		b->line = 0;
		return CH_SIZE;
	case CH_TR_START:
		if (c == '\r')
			return CH_FINAL_LF;
		if (!wd_eg_http_tchar(c) || ++b->fields > WD_EG_HTTP_MAX_HEADERS)
			return -1;
		return CH_TR_NAME;
	case CH_TR_NAME:
		return wd_eg_http_tchar(c) ? CH_TR_NAME : c == ':' ? CH_TR_VALUE : -1;
	case CH_TR_VALUE:
		return c == '\r' ? CH_TR_LF : wd_eg_http_fieldchar(c) ? CH_TR_VALUE : -1;
	case CH_TR_LF:
		return c == '\n' ? CH_TR_START : -1;
	case CH_FINAL_LF:
		return c == '\n' ? CH_DONE : -1;
	default:
		return -1;
	}
}

static enum wd_eg_http_result chunked(struct wd_eg_http_body *b, const char *p, size_t n,
				      size_t *used)
{
	size_t i = 0;

	while (i < n && b->state != CH_DONE) {
		int next;

		if (b->state == CH_DATA) {
			uint64_t k = n - i < b->left ? n - i : b->left;

			i += (size_t)k;
			b->left -= k;
			if (b->left == 0)
				b->state = CH_DATA_CR;
			continue;
		}
		if (b->state <= CH_LINE_LF) {
			next = size_line(b, (uint8_t)p[i]);
			if (++b->line > WD_EG_HTTP_CHUNK_LINE_MAX)
				next = -1;
		} else {
			next = after_data(b, (uint8_t)p[i]);
			if (b->state >= CH_TR_START && ++b->line > WD_EG_HTTP_TRAILER_MAX)
				next = -1;
		}
		if (next < 0) {
			*used = i;
			b->total += i;
			return WD_EG_HTTP_ERROR;
		}
		b->state = (uint8_t)next;
		i++;
	}
	*used = i;
	b->total += i;
	return b->state == CH_DONE ? WD_EG_HTTP_DONE : WD_EG_HTTP_MORE;
}

enum wd_eg_http_result wd_eg_http_body_feed(struct wd_eg_http_body *b, const char *p, size_t n,
					    size_t *used)
{
	uint64_t k;

	switch (b->framing) {
	case WD_EG_HTTP_BODY_LENGTH:
		k = n < b->left ? n : b->left;
		b->left -= k;
		b->total += k;
		*used = (size_t)k;
		return b->left == 0 ? WD_EG_HTTP_DONE : WD_EG_HTTP_MORE;
	case WD_EG_HTTP_BODY_CHUNKED:
		return chunked(b, p, n, used);
	case WD_EG_HTTP_BODY_CLOSE:
		b->total += n;
		*used = n;
		return WD_EG_HTTP_MORE;
	default:
		*used = 0;
		return WD_EG_HTTP_DONE;
	}
}

bool wd_eg_http_body_eof_ok(const struct wd_eg_http_body *b)
{
	switch (b->framing) {
	case WD_EG_HTTP_BODY_LENGTH:
		return b->left == 0;
	case WD_EG_HTTP_BODY_CHUNKED:
		return b->state == CH_DONE;
	default:
		return true;
	}
}

static const struct {
	unsigned code;
	const char *phrase;
} phrases[] = {
	{400, "Bad Request"},
	{403, "Forbidden"},
	{408, "Request Timeout"},
	{431, "Request Header Fields Too Large"},
	{501, "Not Implemented"},
	{502, "Bad Gateway"},
	{503, "Service Unavailable"},
	{504, "Gateway Timeout"},
	{505, "HTTP Version Not Supported"},
};

int wd_eg_http_error_write(unsigned code, const char *reason, size_t reason_len, char *out,
			   size_t size)
{
	char safe[WD_EG_HTTP_REASON_MAX + 1], body[WD_EG_HTTP_REASON_MAX + 64];
	const char *phrase = NULL;
	int blen, n;

	for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
		if (phrases[i].code == code)
			phrase = phrases[i].phrase;
	if (phrase == NULL)
		return -EINVAL;
	if (reason_len > WD_EG_HTTP_REASON_MAX)
		reason_len = WD_EG_HTTP_REASON_MAX;
	for (size_t i = 0; i < reason_len; i++)
		safe[i] = reason[i] >= 0x20 && reason[i] <= 0x7e ? reason[i] : '?';
	safe[reason_len] = '\0';
	if (reason_len == 0)
		snprintf(safe, sizeof(safe), "%s", phrase);
	blen = snprintf(body, sizeof(body), "warden egress proxy: %s%s\n",
			code == 403 ? "denied: " : "", safe);
	if (code == 403)
		n = snprintf(out, size,
			     "HTTP/1.1 %u %s\r\nX-Warden-Deny: %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			     code, phrase, safe, blen, body);
	else
		n = snprintf(out, size,
			     "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\n"
			     "Content-Length: %d\r\nConnection: close\r\n\r\n%s",
			     code, phrase, blen, body);
	if (n < 0 || (size_t)n >= size)
		return -ENOSPC;
	return n;
}
