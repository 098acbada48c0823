/*
 * tests/fuzz/fuzz_hello.c - wd_hello_decode() on arbitrary bytes: the
 * guest's first authenticated words to the host.
 *
 * Beyond "no crash, no undefined behaviour, no leak": an error has a code
 * and a message and leaves the hello zeroed; a hello that decodes encodes
 * again and that encoding decodes to the same hello.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

static bool same_hello(const struct wd_hello *a, const struct wd_hello *b)
{
	return a->version == b->version && strcmp(a->mode, b->mode) == 0 &&
	       a->boot.t0_ns == b->boot.t0_ns && a->boot.mounts_ns == b->boot.mounts_ns &&
	       a->boot.modules_ns == b->boot.modules_ns &&
	       a->boot.sysctls_ns == b->boot.sysctls_ns && a->boot.system_ns == b->boot.system_ns &&
	       a->boot.spawn_ns == b->boot.spawn_ns && a->ready_ns == b->ready_ns &&
	       strcmp(a->init_sha256, b->init_sha256) == 0 &&
	       strcmp(a->supervisor_sha256, b->supervisor_sha256) == 0 &&
	       strcmp(a->manifest_sha256, b->manifest_sha256) == 0 &&
	       strcmp(a->audit_pubkey, b->audit_pubkey) == 0 &&
	       strcmp(a->audit_key_id, b->audit_key_id) == 0 &&
	       strcmp(a->audit_origin, b->audit_origin) == 0 &&
	       strcmp(a->rootfs_root_hash, b->rootfs_root_hash) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_hello h, again;
	char out[4096];
	struct wd_err err;
	int n;

	if (wd_hello_decode(data, size, &h, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || !all_zero(&h, sizeof(h)))
			abort();
		return 0;
	}
	n = wd_hello_encode(&h, out, sizeof(out), &err);
	if (n < 0 || wd_hello_decode((const uint8_t *)out, (size_t)n, &again, &err) < 0 ||
	    !same_hello(&h, &again))
		abort();
	return 0;
}
