/*
 * tests/fuzz/fuzz_socks5.c - egress/socks5.c on arbitrary bytes: what the
 * agent sends the SOCKS5 proxy.
 *
 * The input is fed as a greeting and, from its second byte on, as a
 * request. Beyond "no crash, no undefined behaviour" (ASan catches a read
 * past the bytes given, which are copied to a buffer of exactly that
 * size): every proper prefix of a complete message asks for more, a
 * result other than "more" stays the same as bytes are added, a message
 * takes no more than it was given and at most its bound, a refused
 * request carries a reply code, and an accepted one a port other than 0
 * and a host of printable ASCII with the length it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../egress/socks5.h"

#define MAX_IN 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A copy of exactly n bytes on the heap, for ASan to see reads past it. */
static uint8_t *exact_copy(const uint8_t *data, size_t n)
{
	uint8_t *p = malloc(n + 1);

	if (p == NULL)
		abort();
	memcpy(p, data, n);
	return p;
}

static enum wd_eg_socks_result greet(const uint8_t *data, size_t n, size_t *used, uint8_t *method)
{
	uint8_t *p = exact_copy(data, n);
	enum wd_eg_socks_result res = wd_eg_socks_greeting(p, n, used, method);

	free(p);
	return res;
}

static enum wd_eg_socks_result ask(const uint8_t *data, size_t n, struct wd_eg_socks_req *r,
				   size_t *used)
{
	uint8_t *p = exact_copy(data, n);
	enum wd_eg_socks_result res = wd_eg_socks_request(p, n, r, used);

	free(p);
	return res;
}

static void greeting_case(const uint8_t *data, size_t n)
{
	uint8_t method = 0x55, out[WD_EG_SOCKS_METHOD_REPLY_LEN];
	size_t used = 0, u;
	enum wd_eg_socks_result res = greet(data, n, &used, &method);

	if (res == WD_EG_SOCKS_REPLY)
		abort(); /* a greeting is answered with a method or closed */
	if (res == WD_EG_SOCKS_DONE) {
		if (used < 3 || used > n || used > WD_EG_SOCKS_GREETING_MAX ||
		    (method != WD_EG_SOCKS_METHOD_NONE && method != WD_EG_SOCKS_METHOD_REFUSED))
			abort();
		for (size_t i = 0; i < used; i++)
			if (greet(data, i, &u, &method) != WD_EG_SOCKS_MORE)
				abort();
		wd_eg_socks_method_reply(method, out);
		if (out[0] != WD_EG_SOCKS_VERSION || out[1] != method)
			abort();
	}
	if (res != WD_EG_SOCKS_MORE && n > 0) {
		enum wd_eg_socks_result shorter = greet(data, n - 1, &u, &method);

		if (shorter != WD_EG_SOCKS_MORE && shorter != res)
			abort();
	}
}

static void request_case(const uint8_t *data, size_t n)
{
	struct wd_eg_socks_req r, again;
	uint8_t out[WD_EG_SOCKS_REPLY_LEN];
	size_t used = 0, u;
	enum wd_eg_socks_result res = ask(data, n, &r, &used);

	if (res == WD_EG_SOCKS_REPLY) {
		if (r.rep != WD_EG_SOCKS_GENERAL_FAILURE && r.rep != WD_EG_SOCKS_HOST_UNREACHABLE &&
		    r.rep != WD_EG_SOCKS_CMD_UNSUPPORTED && r.rep != WD_EG_SOCKS_ATYP_UNSUPPORTED)
			abort();
		wd_eg_socks_reply(r.rep, out);
		if (out[0] != WD_EG_SOCKS_VERSION || out[1] != r.rep || out[3] != 1)
			abort();
	}
	if (res == WD_EG_SOCKS_DONE) {
		if (used < 8 || used > n || used > WD_EG_SOCKS_REQUEST_MAX || r.port == 0 ||
		    r.host_len == 0 || r.host_len >= sizeof(r.host) || strlen(r.host) != r.host_len)
			abort();
		for (size_t i = 0; i < r.host_len; i++)
			if (r.host[i] <= 0x20 || r.host[i] >= 0x7f)
				abort();
		for (size_t i = 0; i < used; i++)
			if (ask(data, i, &again, &u) != WD_EG_SOCKS_MORE)
				abort();
	}
	if (res != WD_EG_SOCKS_MORE && n > 0) {
		/* More bytes never change a decision: one byte less asks
		 * for more or decides the same. */
		enum wd_eg_socks_result shorter = ask(data, n - 1, &again, &u);

		if (shorter != WD_EG_SOCKS_MORE && shorter != res)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MAX_IN)
		return 0;
	greeting_case(data, size);
	if (size > 0)
		request_case(data + 1, size - 1);
	return 0;
}
