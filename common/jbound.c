/*
 * common/jbound.c - a string from outside written into a record within a
 * bound (jcanon.h: wd_jw_str_bounded). Apart from jwrite.c because it
 * hashes (tlog.c), which warden-init's writer does not need.
 */
#include "jcanon.h"
#include "json.h"
#include "tlog.h"

/* The JSON bytes of the character at p (what jwrite.c writes for it), the
 * raw bytes it takes in *raw, and whether it is written as it is. */
static size_t char_cost(const uint8_t *p, size_t n, size_t *raw, bool *exact)
{
	*raw = 1;
	*exact = true;
	if (p[0] >= 0x80) {
		size_t seq = wd_utf8_seq(p, n);

		if (seq == 0) {
			*exact = false;
			return 3; /* U+FFFD */
		}
		*raw = seq;
		return seq == 2 && p[0] == 0xc2 && p[1] < 0xa0 ? 6 : seq; /* C1: \u00xx */
	}
	if (p[0] == '"' || p[0] == '\\')
		return 2;
	if (p[0] >= 0x20 && p[0] != 0x7f)
		return 1;
	if (p[0] == '\b' || p[0] == '\f' || p[0] == '\n' || p[0] == '\r' || p[0] == '\t')
		return 2;
	return 6; /* \u00xx: the other C0 controls, DEL */
}

/* How many of the n bytes at s fit in `room` JSON bytes, whole characters
 * only; *exact: all of them, each written as it is. */
static size_t fitting(const uint8_t *s, size_t n, size_t room, bool *exact)
{
	size_t i = 0, used = 0;

	*exact = true;
	while (i < n) {
		size_t raw;
		bool same;
		size_t cost = char_cost(s + i, n - i, &raw, &same);

		if (used + cost > room) {
			*exact = false;
			break;
		}
		used += cost;
		i += raw;
		*exact = *exact && same;
	}
	return i;
}

void wd_jw_str_bounded(struct wd_jw *w, const char *key, const char *s, size_t n, size_t shown)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t room = shown > 2 ? shown - 2 : 0; /* the quotes */
	uint8_t h[WD_HASH_BYTES];
	char hex[2 * WD_HASH_BYTES + 1];
	bool exact;
	size_t fit = fitting(p, n, room, &exact);

	if (exact && fit == n) {
		wd_jw_strn(w, key, s, n);
		return;
	}
	wd_sha256(s, n, h);
	wd_hex(h, sizeof(h), hex);
	wd_jw_object(w, key);
	wd_jw_uint(w, "len", n);
	wd_jw_strn(w, "prefix", s, fit);
	wd_jw_str(w, "sha256", hex);
	wd_jw_close(w);
}
