/*
 * tests/fuzz/fuzz_verify.c - the audit log verifier (host/auditverify.c) on
 * arbitrary bytes: the input's lines are a log (headers and records), its
 * last line also a final checkpoint; the key is the log's own (record 1
 * or the header names it), so mutated seeds still reach the signatures.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message, and once a line is refused the verifier is not fed more.
 * The seeds are a real log made by the guest's code (tests/fuzz/corpus/
 * fuzz_verify), so mutations reach the checkpoint and chain checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../host/auditverify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *last = p;
	struct wd_verify v;
	struct wd_err err;

	wd_verify_init(&v, NULL);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		last = p;
		if (wd_verify_line(&v, p, len, &err) < 0) {
			if (err.code <= 0 || err.msg[0] == '\0')
				abort();
			break;
		}
		p += len + 1;
	}
	if (wd_verify_final(&v, last, (size_t)(end - last), &err) < 0 &&
	    (err.code <= 0 || err.msg[0] == '\0'))
		abort();
	wd_verify_free(&v);
	return 0;
}
