/*
 * tests/fuzz/fuzz_boottimes.c - wd_boot_times_parse() on arbitrary text.
 *
 * The supervisor parses WARDEN_BOOT_TIMES from its environment, which is a
 * NUL-terminated string, so the input is copied into an exact-size buffer
 * with a NUL added (a NUL inside the input simply ends the string early).
 * Beyond "no crash, no undefined behaviour", whatever parses must format
 * within WD_BOOT_TIMES_BYTES, read exactly as written (the formatted text
 * equals the input with leading zeros dropped: a value that wrapped around
 * on overflow would not) and parse back to the same values.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/boottimes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Copy `in` (a string that parsed) to `out` without leading zeros in values. */
static void drop_leading_zeros(const char *in, char *out)
{
	bool value_start = false;

	for (; *in != '\0'; in++) {
		if (value_start && *in == '0' && in[1] >= '0' && in[1] <= '9')
			continue;
		value_start = *in == '=';
		*out++ = *in;
	}
	*out = '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_boot_times t, again;
	char buf[WD_BOOT_TIMES_BYTES], plain[WD_BOOT_TIMES_BYTES];
	struct wd_err err;
	char *text = malloc(size + 1);

	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&t, 0, sizeof(t));
	memset(&again, 0, sizeof(again));
	if (wd_boot_times_parse(text, &t, &err) == 0) {
		if (wd_boot_times_format(&t, buf, sizeof(buf)) < 0)
			abort();
		drop_leading_zeros(text, plain); /* it parsed, so it is under the bound */
		if (strcmp(plain, buf) != 0)
			abort();
		if (wd_boot_times_parse(buf, &again, &err) < 0 ||
		    memcmp(&t, &again, sizeof(t)) != 0)
			abort();
	} else if (err.code <= 0 || err.msg[0] == '\0') {
		abort();
	}
	free(text);
	return 0;
}
