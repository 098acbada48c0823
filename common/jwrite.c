/*
 * common/jwrite.c - the canonical JSON writer of jcanon.h (struct wd_jw),
 * apart from the checks: it needs no JSON library, so warden-init, which
 * links none, writes its record with it too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "jcanon.h"
#include "json.h"

static const char hexdigits[] = "0123456789abcdef";

static void fail(struct wd_jw *w, int code)
{
	if (w->err == 0)
		w->err = code;
}

static void put(struct wd_jw *w, const void *p, size_t n)
{
	if (w->err != 0)
		return;
	if (n >= w->size - w->len) { /* room for the final NUL too */
		fail(w, -ENOSPC);
		return;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void putc1(struct wd_jw *w, char c)
{
	if (w->err != 0)
		return;
	if (w->len + 1 >= w->size) {
		fail(w, -ENOSPC);
		return;
	}
	w->buf[w->len++] = c;
}

static void put_u00(struct wd_jw *w, uint8_t v)
{
	char u[6] = {'\\', 'u', '0', '0', hexdigits[v >> 4], hexdigits[v & 15]};

	put(w, u, sizeof(u));
}

/* A string's bytes, escaped; invalid UTF-8 becomes U+FFFD. Every control
 * character is escaped, DEL and C1 (U+0080..U+009F) too: a record is
 * printed on terminals, and they act on those. */
static void put_string(struct wd_jw *w, const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0;

	putc1(w, '"');
	while (i < n && w->err == 0) {
		size_t run = i;

		/* The common case: a run of plain printable ASCII. */
		while (run < n && p[run] >= 0x20 && p[run] < 0x7f && p[run] != '"' &&
		       p[run] != '\\')
			run++;
		put(w, p + i, run - i);
		i = run;
		if (i >= n)
			break;
		if (p[i] >= 0x80) {
			size_t seq = wd_utf8_seq(p + i, n - i);

			if (seq == 0) {
				put(w, "\xef\xbf\xbd", 3);
				i++;
			} else if (seq == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
				put_u00(w, p[i + 1]); /* C1 */
				i += 2;
			} else {
				put(w, p + i, seq);
				i += seq;
			}
			continue;
		}
		switch (p[i]) {
		case '"':
			put(w, "\\\"", 2);
			break;
		case '\\':
			put(w, "\\\\", 2);
			break;
		case '\b':
			put(w, "\\b", 2);
			break;
		case '\f':
			put(w, "\\f", 2);
			break;
		case '\n':
			put(w, "\\n", 2);
			break;
		case '\r':
			put(w, "\\r", 2);
			break;
		case '\t':
			put(w, "\\t", 2);
			break;
		default:
			put_u00(w, p[i]); /* the other C0 controls, DEL */
		}
		i++;
	}
	putc1(w, '"');
}

/* The separator and key before a member; refuses a key out of order. */
static void member(struct wd_jw *w, const char *key)
{
	int d = w->depth - 1;

	if (w->err != 0)
		return;
	if (d < 0 || (key == NULL) != w->array[d]) {
		fail(w, -EINVAL);
		return;
	}
	if (key != NULL && w->last[d] != NULL && strcmp(w->last[d], key) >= 0) {
		fail(w, -EINVAL);
		return;
	}
	if (!w->first[d])
		putc1(w, ',');
	w->first[d] = false;
	if (key != NULL) {
		w->last[d] = key;
		put_string(w, key, strlen(key));
		putc1(w, ':');
	}
}

static void open_container(struct wd_jw *w, const char *key, bool array)
{
	if (w->depth > 0)
		member(w, key);
	if (w->err != 0)
		return;
	if (w->depth >= WD_JW_MAX_DEPTH) {
		fail(w, -E2BIG);
		return;
	}
	putc1(w, array ? '[' : '{');
	w->array[w->depth] = array;
	w->first[w->depth] = true;
	w->last[w->depth] = NULL;
	w->depth++;
}

void wd_jw_init(struct wd_jw *w, char *buf, size_t size)
{
	memset(w, 0, sizeof(*w));
	w->buf = buf;
	w->size = size;
	if (size == 0)
		w->err = -ENOSPC;
	open_container(w, NULL, false);
}

void wd_jw_object(struct wd_jw *w, const char *key)
{
	open_container(w, key, false);
}

void wd_jw_array(struct wd_jw *w, const char *key)
{
	open_container(w, key, true);
}

void wd_jw_close(struct wd_jw *w)
{
	if (w->err != 0)
		return;
	if (w->depth <= 1) { /* the top level is closed by wd_jw_end() */
		fail(w, -EINVAL);
		return;
	}
	w->depth--;
	putc1(w, w->array[w->depth] ? ']' : '}');
}

void wd_jw_strn(struct wd_jw *w, const char *key, const char *s, size_t n)
{
	member(w, key);
	put_string(w, s, n);
}

void wd_jw_str(struct wd_jw *w, const char *key, const char *s)
{
	wd_jw_strn(w, key, s, strlen(s));
}

void wd_jw_uint(struct wd_jw *w, const char *key, uint64_t v)
{
	char num[24];
	size_t at = sizeof(num);

	if (v > WD_JSON_MAX_INT) {
		fail(w, -EINVAL);
		return;
	}
	member(w, key);
	/* Decimal by hand: this runs for every record, snprintf is slow. */
	do {
		num[--at] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	put(w, num + at, sizeof(num) - at);
}

void wd_jw_bool(struct wd_jw *w, const char *key, bool v)
{
	member(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
}

void wd_jw_raw(struct wd_jw *w, const char *key, const char *json, size_t n)
{
	member(w, key);
	put(w, json, n);
}

int wd_jw_end(struct wd_jw *w)
{
	if (w->err == 0 && w->depth != 1)
		fail(w, -EINVAL);
	putc1(w, '}');
	if (w->err != 0)
		return w->err;
	w->buf[w->len] = '\0';
	w->depth = 0;
	return (int)w->len;
}
