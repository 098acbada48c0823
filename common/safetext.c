/* common/safetext.c - see safetext.h. */
#include "safetext.h"

#include <string.h>

#include "json.h"

static const char hexdigits[] = "0123456789abcdef";

/* What becomes of the unit (one byte or one UTF-8 character) at p. */
enum unit_kind {
	KEEP,        /* as it is */
	ESCAPE_CP,   /* a control character: \u00xx */
	ESCAPE_BYTE, /* not UTF-8: \xNN */
	WAIT,        /* it may go on past the input: more is needed */
};

/* How the output treats LF, tab and CR. */
enum unit_mode {
	LINE,   /* every control escaped */
	STREAM, /* LF, tab and CR LF pass */
};

/* The length of the character a lead byte starts (0: none can). */
static size_t lead_len(uint8_t c)
{
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	return c >= 0xf0 && c <= 0xf4 ? 4 : 0;
}

/*
 * The unit at p (avail bytes, at least 1) and its length. `end`: nothing
 * follows the input, so nothing waits. The verdict depends on these bytes
 * alone, which is what makes the stream form split-proof.
 */
static enum unit_kind classify(const uint8_t *p, size_t avail, bool end, enum unit_mode mode,
			       size_t *len)
{
	uint8_t c = p[0];
	size_t need;

	*len = 1;
	if (c >= 0x20 && c < 0x7f)
		return KEEP;
	if (c < 0x80) {
		if (mode == STREAM && (c == '\n' || c == '\t'))
			return KEEP;
		if (mode == STREAM && c == '\r') {
			if (avail >= 2)
				return p[1] == '\n' ? KEEP : ESCAPE_CP;
			return end ? ESCAPE_CP : WAIT;
		}
		return ESCAPE_CP; /* C0, DEL */
	}
	need = lead_len(c);
	if (need > avail && !end)
		return WAIT;
	*len = wd_utf8_seq(p, avail);
	if (*len == 0) {
		*len = 1;
		return ESCAPE_BYTE;
	}
	return *len == 2 && c == 0xc2 && p[1] < 0xa0 ? ESCAPE_CP : KEEP; /* C1 */
}

/* The unit's output: its length (at most WD_SAFE_GROWTH * len). */
static size_t emit(const uint8_t *p, size_t len, enum unit_kind kind, char *out)
{
	uint8_t v = kind == ESCAPE_CP && len == 2 ? p[1] : p[0];

	if (kind == KEEP) {
		memcpy(out, p, len);
		return len;
	}
	if (kind == ESCAPE_BYTE) {
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hexdigits[v >> 4];
		out[3] = hexdigits[v & 15];
		return 4;
	}
	out[0] = '\\';
	out[1] = 'u';
	out[2] = '0';
	out[3] = '0';
	out[4] = hexdigits[v >> 4];
	out[5] = hexdigits[v & 15];
	return 6;
}

/* One unit into out[*o .. size), unless it does not fit: false. */
static bool put_unit(const uint8_t *p, size_t len, enum unit_kind kind, char *out, size_t size,
		     size_t *o)
{
	char tmp[WD_SAFE_GROWTH * 4];
	size_t n = emit(p, len, kind, tmp);

	if (n > size - *o)
		return false;
	memcpy(out + *o, tmp, n);
	*o += n;
	return true;
}

size_t wd_safe_line(const char *in, size_t n, char *out, size_t size)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t i = 0, o = 0, len;

	while (i < n) {
		enum unit_kind kind = classify(p + i, n - i, true, LINE, &len);

		if (!put_unit(p + i, len, kind, out, size, &o))
			break;
		i += len;
	}
	return o;
}

size_t wd_safe_json(const char *in, size_t n, char *out, size_t size)
{
	const uint8_t *p = (const uint8_t *)in;
	size_t i = 0, o = 0, len;
	bool in_string = false, escaped = false;

	while (i < n) {
		enum unit_kind kind = classify(p + i, n - i, true, LINE, &len);
		uint8_t c = p[i];

		if (!in_string && (c == '\t' || c == '\r' || c == '\n')) {
			c = ' '; /* whitespace between tokens, one that is harmless */
			if (!put_unit(&c, 1, KEEP, out, size, &o))
				break;
			i++;
			continue;
		}
		if (in_string && !escaped && c == '"')
			in_string = false;
		else if (!in_string && c == '"')
			in_string = true;
		escaped = in_string && !escaped && c == '\\';
		if (!put_unit(p + i, len, kind, out, size, &o))
			break;
		i += len;
	}
	return o;
}

/* Units of in[*i .. n) into out at *o, until one must wait: its start. */
static void stream_units(const uint8_t *in, size_t n, size_t *i, char *out, size_t *o)
{
	size_t len;

	while (*i < n) {
		size_t run = *i;
		enum unit_kind kind;

		/* The common case: a run of printable ASCII, lines and tabs. */
		while (run < n &&
		       ((in[run] >= 0x20 && in[run] < 0x7f) || in[run] == '\n' || in[run] == '\t'))
			run++;
		memcpy(out + *o, in + *i, run - *i);
		*o += run - *i;
		*i = run;
		if (run == n)
			return;
		kind = classify(in + *i, n - *i, false, STREAM, &len);
		if (kind == WAIT)
			return;
		*o += emit(in + *i, len, kind, out + *o);
		*i += len;
	}
}

size_t wd_safe_stream(struct wd_safe_stream *st, const uint8_t *in, size_t n, char *out)
{
	size_t i = 0, o = 0;

	if (st->nheld > 0) {
		/* What was held, with the new input's first bytes to decide on:
		 * a unit is at most 4 bytes long. */
		uint8_t tmp[WD_SAFE_HELD + 4];
		size_t k = st->nheld, m = n < 4 ? n : 4, at = 0;

		memcpy(tmp, st->held, k);
		if (m > 0)
			memcpy(tmp + k, in, m);
		stream_units(tmp, k + m, &at, out, &o);
		if (at < k) {
			/* Still unfinished, so all of the input fit in tmp
			 * (m == n): what is left is held again. */
			memmove(st->held, tmp + at, k + m - at);
			st->nheld = k + m - at;
			return o;
		}
		i = at - k;
		st->nheld = 0;
	}
	if (n == 0)
		return o;
	stream_units(in, n, &i, out, &o);
	memcpy(st->held, in + i, n - i); /* at most WD_SAFE_HELD bytes wait */
	st->nheld = n - i;
	return o;
}

size_t wd_safe_stream_end(struct wd_safe_stream *st, char *out)
{
	size_t i = 0, o = 0, len;

	while (i < st->nheld) {
		enum unit_kind kind = classify(st->held + i, st->nheld - i, true, STREAM, &len);

		o += emit(st->held + i, len, kind, out + o);
		i += len;
	}
	st->nheld = 0;
	return o;
}
