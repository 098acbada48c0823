/*
 * tests/fuzz/fuzz_jbound.c - a string from the agent written within a
 * bound (common/jbound.c, wd_jw_str_bounded), as the exec records write
 * paths: the first byte sets the bound (times 4), the rest is the string
 * (up to its first NUL: paths have none).
 *
 * Beyond "no crash, no undefined behaviour, no leak": the result is
 * canonical JSON within `shown` + WD_JW_BOUNDED_EXTRA bytes; written as a
 * string it is the value itself, byte for byte; written as an object it
 * says the value's length and SHA-256, and its prefix fits the bound.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/jcanon.h"
#include "../../common/tlog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_object(const cJSON *v, const char *s, size_t n, size_t shown)
{
	const cJSON *len = cJSON_GetObjectItemCaseSensitive(v, "len");
	const cJSON *prefix = cJSON_GetObjectItemCaseSensitive(v, "prefix");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(v, "sha256");
	uint8_t h[WD_HASH_BYTES];
	char hex[2 * WD_HASH_BYTES + 1];

	if (!cJSON_IsNumber(len) || (size_t)len->valuedouble != n || !cJSON_IsString(prefix) ||
	    !cJSON_IsString(sha))
		abort();
	wd_sha256(s, n, h);
	wd_hex(h, sizeof(h), hex);
	if (strcmp(sha->valuestring, hex) != 0 || strlen(prefix->valuestring) > shown)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[16384];
	size_t shown, n;
	const char *s;
	struct wd_jw w;
	struct wd_err err;
	cJSON *tree = NULL;
	const cJSON *v;
	int len;

	if (size < 1)
		return 0;
	shown = (size_t)data[0] * 4;
	s = (const char *)data + 1;
	n = strnlen(s, size - 1);
	wd_jw_init(&w, out, sizeof(out));
	wd_jw_str_bounded(&w, "v", s, n, shown);
	len = wd_jw_end(&w);
	if (len < 0 || (size_t)len > shown + WD_JW_BOUNDED_EXTRA + 6) /* {"v": and } */
		abort();
	if (wd_jcanon_check(out, (size_t)len, sizeof(out), &tree, &err) < 0)
		abort();
	v = cJSON_GetObjectItemCaseSensitive(tree, "v");
	if (cJSON_IsString(v)) {
		if (strlen(v->valuestring) != n || memcmp(v->valuestring, s, n) != 0)
			abort();
	} else if (cJSON_IsObject(v)) {
		check_object(v, s, n, shown);
	} else {
		abort();
	}
	cJSON_Delete(tree);
	return 0;
}
