/*
 * tests/fuzz/fuzz_record.c - the audit record parser (common/jcanon.c) on
 * arbitrary bytes: one line, as the host's collector and `warden audit`
 * take it from the guest or from a file.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message; a line taken as canonical writes back to the very same
 * bytes.
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
	struct wd_err err;
	cJSON *tree = NULL;
	int n;

	if (wd_jcanon_check((const char *)data, size, 8192, &tree, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || tree != NULL)
			abort();
		return 0;
	}
	n = wd_jcanon_write(tree, again, sizeof(again));
	if (n < 0 || (size_t)n != size || memcmp(again, data, size) != 0)
		abort();
	cJSON_Delete(tree);
	return 0;
}
