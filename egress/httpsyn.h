/*
 * egress/httpsyn.h - RFC 9110/9112 character classes shared by the head
 * parser (http.c) and the body tracker (httpbody.c). Private to egress/.
 */
#ifndef WARDEN_EGRESS_HTTPSYN_H
#define WARDEN_EGRESS_HTTPSYN_H

#include <stdbool.h>
#include <stdint.h>

/* tchar: a token's characters (RFC 9110 section 5.6.2). */
static inline bool wd_eg_http_tchar(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	switch (c) {
	case '!':
	case '#':
	case '$':
	case '%':
	case '&':
	case '\'':
	case '*':
	case '+':
	case '-':
	case '.':
	case '^':
	case '_':
	case '`':
	case '|':
	case '~':
		return true;
	default:
		return false;
	}
}

/* field-vchar, SP and HTAB: what a field value may hold (obs-text too). */
static inline bool wd_eg_http_fieldchar(uint8_t c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static inline bool wd_eg_http_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

#endif
