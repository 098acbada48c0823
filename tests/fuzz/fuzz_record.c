/*
 * tests/fuzz/fuzz_record.c - the audit record parser (common/jcanon.c) on
 * arbitrary bytes: one line, as the host's collector and `warden audit`
 * take it from the guest or from a file.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message; a line taken as canonical writes back to the very same
 * bytes; and the one-pass scanner the verifier uses (wd_jcanon_scan) gives
 * the same verdict as the parse-and-rewrite check, on every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/jcanon.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char again[WD_JCANON_MAX_LINE + 2];
	static struct wd_jscan scan;
	struct wd_err err, err2;
	cJSON *tree = NULL;
	int n, fast;

	wd_err_clear(&err2);
	fast = wd_jcanon_scan((const char *)data, size, 8192, &scan, &err2);

	if (wd_jcanon_check((const char *)data, size, 8192, &tree, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || tree != NULL || fast == 0)
			abort();
		return 0;
	}
	if (fast != 0)
		abort();
	n = wd_jcanon_write(tree, again, sizeof(again));
	if (n < 0 || (size_t)n != size || memcmp(again, data, size) != 0)
		abort();
	cJSON_Delete(tree);
	return 0;
}
