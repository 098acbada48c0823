/*
 * tests/fuzz/fuzz_safetext.c - common/safetext.c on arbitrary bytes: what
 * the agent writes to its stdout and stderr with --sanitize-output, and
 * what the guest puts in log lines and records.
 *
 * Beyond "no crash, no undefined behaviour": every output is valid UTF-8
 * with no control character a terminal acts on (the stream form keeps LF,
 * tab, and CR only before LF); no output is longer than its bound; the
 * stream form gives the same bytes whole as in pieces (the pieces' sizes
 * come from the input's first two bytes); and the JSON form of a line
 * that parses as a JSON object parses again to the same members, in the
 * same order.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/json.h"
#include "../../common/safetext.h"

#define MAX_IN 16384

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Valid UTF-8 and no C0 (but `allow`), DEL or C1; a CR only before LF. */
static void check_safe(const char *s, size_t n, bool stream)
{
	const uint8_t *p = (const uint8_t *)s;

	for (size_t i = 0, k; i < n; i += k) {
		k = wd_utf8_seq(p + i, n - i);
		if (k == 0 || p[i] == 0x7f || (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
			abort();
		if (p[i] < 0x20 && !(stream && (p[i] == '\n' || p[i] == '\t' ||
						(p[i] == '\r' && i + 1 < n && p[i + 1] == '\n'))))
			abort();
	}
}

static void stream_case(const uint8_t *p, size_t n, unsigned seed)
{
	static char whole[WD_SAFE_STREAM_OUT(MAX_IN)], split[WD_SAFE_STREAM_OUT(MAX_IN)];
	struct wd_safe_stream a = {{0}, 0}, b = {{0}, 0};
	size_t wn, sn = 0;

	wn = wd_safe_stream(&a, p, n, whole);
	if (wn > WD_SAFE_STREAM_OUT(n))
		abort();
	wn += wd_safe_stream_end(&a, whole + wn);
	for (size_t i = 0; i < n;) {
		size_t k;

		seed = seed * 1103515245U + 12345U;
		k = 1 + (seed >> 16) % 7;
		k = k < n - i ? k : n - i;
		sn += wd_safe_stream(&b, p + i, k, split + sn);
		i += k;
	}
	sn += wd_safe_stream_end(&b, split + sn);
	if (sn != wn || memcmp(whole, split, wn) != 0 || wn > WD_SAFE_GROWTH * n)
		abort();
	check_safe(whole, wn, true);
}

static void line_case(const uint8_t *p, size_t n)
{
	static char out[WD_SAFE_GROWTH * MAX_IN];
	size_t cut = wd_safe_line((const char *)p, n, out, n / 2), len;

	if (cut > n / 2)
		abort();
	check_safe(out, cut, false);
	len = wd_safe_line((const char *)p, n, out, sizeof(out));
	if (len > WD_SAFE_GROWTH * n || len < cut)
		abort();
	check_safe(out, len, false);
}

static void json_case(const uint8_t *p, size_t n)
{
	static char out[WD_SAFE_GROWTH * MAX_IN];
	struct wd_err err;
	cJSON *a = wd_json_parse_object(p, n, MAX_IN, "fuzz", &err), *b;
	char *pa, *pb;
	size_t len;

	len = wd_safe_json((const char *)p, n, out, sizeof(out));
	if (a == NULL)
		return;
	check_safe(out, len, false);
	b = wd_json_parse_object((const uint8_t *)out, len, sizeof(out), "fuzz", &err);
	if (b == NULL)
		abort();
	/* The same members in the same order (repeated keys included). */
	pa = cJSON_PrintUnformatted(a);
	pb = cJSON_PrintUnformatted(b);
	if (pa == NULL || pb == NULL || strcmp(pa, pb) != 0)
		abort();
	cJSON_free(pa);
	cJSON_free(pb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned seed;

	if (size < 2 || size - 2 > MAX_IN)
		return 0;
	seed = (unsigned)data[0] << 8 | data[1];
	data += 2;
	size -= 2;
	stream_case(data, size, seed);
	line_case(data, size);
	json_case(data, size);
	return 0;
}
