/*
 * vsock/msgbin.c - the fixed binary payloads of msg.h: READY, KEY,
 * WINSIZE, SIGNAL, STDIN_ACK and AUDIT_ACK (big-endian, exact sizes; the
 * JSON payloads are in msg.c). Layouts in docs/protocol.md.
 */
#include "msg.h"

#include <errno.h>
#include <string.h>

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int wd_ready_encode(uint8_t out[WD_READY_BYTES])
{
	out[0] = WD_PROTO_VERSION;
	out[1] = out[2] = out[3] = 0;
	return WD_READY_BYTES;
}

int wd_ready_decode(const uint8_t *p, size_t len, struct wd_err *err)
{
	if (len != WD_READY_BYTES)
		return wd_err_set(err, EBADMSG, "ready: %zu bytes, expected %d", len,
				  WD_READY_BYTES);
	if (p[0] != WD_PROTO_VERSION)
		return wd_err_set(err, EPROTO, "ready: protocol version %u, this side speaks %d",
				  p[0], WD_PROTO_VERSION);
	if (p[1] != 0 || p[2] != 0 || p[3] != 0)
		return wd_err_set(err, EBADMSG, "ready: reserved bytes set");
	return 0;
}

int wd_key_decode(const uint8_t *p, size_t len, uint8_t key[WD_KEY_BYTES], struct wd_err *err)
{
	if (len != WD_KEY_BYTES)
		return wd_err_set(err, EBADMSG, "key: %zu bytes, expected %d", len, WD_KEY_BYTES);
	memcpy(key, p, WD_KEY_BYTES);
	return 0;
}

void wd_winsize_encode(uint16_t rows, uint16_t cols, uint8_t out[WD_WINSIZE_BYTES])
{
	put_be32(out, (uint32_t)rows << 16 | cols);
}

int wd_winsize_decode(const uint8_t *p, size_t len, uint16_t *rows, uint16_t *cols,
		      struct wd_err *err)
{
	uint32_t v;

	if (len != WD_WINSIZE_BYTES)
		return wd_err_set(err, EBADMSG, "winsize: %zu bytes, expected %d", len,
				  WD_WINSIZE_BYTES);
	v = get_be32(p);
	if ((v >> 16) == 0 || (v & 0xffffU) == 0)
		return wd_err_set(err, ERANGE, "winsize: %ux%u, rows and columns start at 1",
				  v >> 16, v & 0xffffU);
	*rows = (uint16_t)(v >> 16);
	*cols = (uint16_t)v;
	return 0;
}

void wd_signal_encode(uint32_t signo, uint8_t out[WD_SIGNAL_BYTES])
{
	put_be32(out, signo);
}

int wd_signal_decode(const uint8_t *p, size_t len, int *signo, struct wd_err *err)
{
	uint32_t v;

	if (len != WD_SIGNAL_BYTES)
		return wd_err_set(err, EBADMSG, "signal: %zu bytes, expected %d", len,
				  WD_SIGNAL_BYTES);
	v = get_be32(p);
	if (v == 0 || v > WD_SIGNAL_MAX)
		return wd_err_set(err, ERANGE, "signal: %u, not 1..%u", v, WD_SIGNAL_MAX);
	*signo = (int)v;
	return 0;
}

/* ---- STDIN_ACK ------------------------------------------------------------ */

void wd_stdin_ack_encode(uint64_t total, uint8_t out[WD_STDIN_ACK_BYTES])
{
	put_be32(out, (uint32_t)(total >> 32));
	put_be32(out + 4, (uint32_t)total);
}

int wd_stdin_ack_decode(const uint8_t *p, size_t len, uint64_t *total, struct wd_err *err)
{
	if (len != WD_STDIN_ACK_BYTES)
		return wd_err_set(err, EBADMSG, "stdin ack: %zu bytes, expected %d", len,
				  WD_STDIN_ACK_BYTES);
	*total = (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
	return 0;
}

/* ---- AUDIT_ACK ------------------------------------------------------------ */

void wd_audit_ack_encode(uint64_t seq, uint8_t out[WD_AUDIT_ACK_BYTES])
{
	wd_stdin_ack_encode(seq, out);
}

int wd_audit_ack_decode(const uint8_t *p, size_t len, uint64_t *seq, struct wd_err *err)
{
	if (len != WD_AUDIT_ACK_BYTES)
		return wd_err_set(err, EBADMSG, "audit ack: %zu bytes, expected %d", len,
				  WD_AUDIT_ACK_BYTES);
	*seq = (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
	return 0;
}
