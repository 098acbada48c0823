/*
 * egress/socks5.c - the SOCKS5 greeting and request, and the replies
 * (RFC 1928; socks5.h). Both messages are at most a few hundred bytes, so
 * each call parses from the first byte: no state to keep between reads.
 */
#include "socks5.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#define REQUEST_FIXED 4 /* VER CMD RSV ATYP */
#define PORT_LEN 2

enum wd_eg_socks_result wd_eg_socks_greeting(const uint8_t *buf, size_t len, size_t *used,
					     uint8_t *method)
{
	size_t n;

	if (len >= 1 && buf[0] != WD_EG_SOCKS_VERSION)
		return WD_EG_SOCKS_CLOSE;
	if (len >= 2 && buf[1] == 0)
		return WD_EG_SOCKS_CLOSE;
	if (len < 2 || len < 2 + (size_t)buf[1])
		return WD_EG_SOCKS_MORE;
	n = buf[1];
	*method = memchr(buf + 2, WD_EG_SOCKS_METHOD_NONE, n) != NULL ? WD_EG_SOCKS_METHOD_NONE
								      : WD_EG_SOCKS_METHOD_REFUSED;
	*used = 2 + n;
	return WD_EG_SOCKS_DONE;
}

void wd_eg_socks_method_reply(uint8_t method, uint8_t out[WD_EG_SOCKS_METHOD_REPLY_LEN])
{
	out[0] = WD_EG_SOCKS_VERSION;
	out[1] = method;
}

static enum wd_eg_socks_result refuse(struct wd_eg_socks_req *req, uint8_t rep)
{
	req->rep = rep;
	return WD_EG_SOCKS_REPLY;
}

/* The address part once all of it is in: fill req; REPLY on a bad name. */
static enum wd_eg_socks_result destination(const uint8_t *a, size_t alen,
					   struct wd_eg_socks_req *req)
{
	if (req->atyp == WD_EG_SOCKS_ATYP_DOMAIN) {
		for (size_t i = 0; i < alen; i++)
			if (a[i] <= 0x20 || a[i] >= 0x7f)
				return refuse(req, WD_EG_SOCKS_HOST_UNREACHABLE);
		memcpy(req->host, a, alen);
		req->host[alen] = '\0';
		req->host_len = alen;
		return WD_EG_SOCKS_DONE;
	}
	memcpy(req->addr, a, alen);
	/* Cannot fail: the family is known and host has room for any address. */
	inet_ntop(req->atyp == WD_EG_SOCKS_ATYP_IPV4 ? AF_INET : AF_INET6, a, req->host,
		  sizeof(req->host));
	req->host_len = strlen(req->host);
	return WD_EG_SOCKS_DONE;
}

enum wd_eg_socks_result wd_eg_socks_request(const uint8_t *buf, size_t len,
					    struct wd_eg_socks_req *req, size_t *used)
{
	size_t alen, start = REQUEST_FIXED, total;
	enum wd_eg_socks_result res;

	if (len >= 1 && buf[0] != WD_EG_SOCKS_VERSION)
		return WD_EG_SOCKS_CLOSE;
	if (len >= 3 && buf[2] != 0)
		return WD_EG_SOCKS_CLOSE;
	if (len < REQUEST_FIXED)
		return WD_EG_SOCKS_MORE;
	memset(req, 0, sizeof(*req));
	req->atyp = buf[3];
	if (buf[1] != WD_EG_SOCKS_CMD_CONNECT)
		return refuse(req, WD_EG_SOCKS_CMD_UNSUPPORTED);
	switch (req->atyp) {
	case WD_EG_SOCKS_ATYP_IPV4:
		alen = 4;
		break;
	case WD_EG_SOCKS_ATYP_IPV6:
		alen = 16;
		break;
	case WD_EG_SOCKS_ATYP_DOMAIN:
		if (len < REQUEST_FIXED + 1)
			return WD_EG_SOCKS_MORE;
		alen = buf[REQUEST_FIXED];
		if (alen == 0)
			return WD_EG_SOCKS_CLOSE;
		start++;
		break;
	default:
		return refuse(req, WD_EG_SOCKS_ATYP_UNSUPPORTED);
	}
	total = start + alen + PORT_LEN;
	if (len < total)
		return WD_EG_SOCKS_MORE;
	req->port = (uint16_t)(buf[start + alen] << 8 | buf[start + alen + 1]);
	if (req->port == 0)
		return refuse(req, WD_EG_SOCKS_GENERAL_FAILURE);
	res = destination(buf + start, alen, req);
	if (res == WD_EG_SOCKS_DONE)
		*used = total;
	return res;
}

void wd_eg_socks_reply(uint8_t rep, uint8_t out[WD_EG_SOCKS_REPLY_LEN])
{
	memset(out, 0, WD_EG_SOCKS_REPLY_LEN);
	out[0] = WD_EG_SOCKS_VERSION;
	out[1] = rep;
	out[3] = WD_EG_SOCKS_ATYP_IPV4;
}
