/* common/jcanon.c - see jcanon.h. */
#include "jcanon.h"

#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- checking ------------------------------------------------------------- */

/*
 * cJSON allocates every node and string with malloc: for a log of a
 * million records that is most of the work. While a line is checked its
 * tree comes from one arena instead, reset by the next check; the free
 * hook ignores what lies in the arena, so trees from anywhere else are
 * freed as before.
 */
#define ARENA_BYTES (1U << 20)
static _Alignas(max_align_t) unsigned char arena[ARENA_BYTES];
static size_t arena_used;
static bool arena_on;

static void *arena_malloc(size_t n)
{
	size_t at = (arena_used + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);

	if (!arena_on || n > ARENA_BYTES - at)
		return malloc(n);
	arena_used = at + n;
	return arena + at;
}

static void arena_free(void *p)
{
	if ((unsigned char *)p >= arena && (unsigned char *)p < arena + ARENA_BYTES)
		return;
	free(p);
}

static void arena_begin(void)
{
	static bool hooked;

	if (!hooked) {
		cJSON_Hooks h = {arena_malloc, arena_free};

		cJSON_InitHooks(&h);
		hooked = true;
	}
	arena_used = 0;
	arena_on = true;
}

static void jw_fail(struct wd_jw *w, int code)
{
	if (w->err == 0)
		w->err = code;
}

static int by_key(const void *a, const void *b)
{
	const cJSON *const *x = a, *const *y = b;

	return strcmp((*x)->string, (*y)->string);
}

static void write_value(struct wd_jw *w, const char *key, const cJSON *v);

static void write_members(struct wd_jw *w, const cJSON *obj)
{
	const cJSON *m[WD_JCANON_MAX_MEMBERS] = {NULL};
	size_t n = 0;

	for (const cJSON *c = obj->child; c != NULL; c = c->next) {
		if (n == WD_JCANON_MAX_MEMBERS || c->string == NULL) {
			jw_fail(w, -EINVAL);
			return;
		}
		m[n++] = c;
	}
	qsort(m, n, sizeof(const cJSON *), by_key);
	/* A repeated key fails member()'s strict order. */
	for (size_t i = 0; i < n; i++)
		write_value(w, m[i]->string, m[i]);
}

static void write_value(struct wd_jw *w, const char *key, const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		wd_jw_object(w, key);
		write_members(w, v);
		wd_jw_close(w);
	} else if (cJSON_IsArray(v)) {
		wd_jw_array(w, key);
		for (const cJSON *c = v->child; c != NULL; c = c->next)
			write_value(w, NULL, c);
		wd_jw_close(w);
	} else if (cJSON_IsString(v)) {
		wd_jw_str(w, key, v->valuestring);
	} else if (cJSON_IsBool(v)) {
		wd_jw_bool(w, key, cJSON_IsTrue(v));
	} else if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		   v->valuedouble <= (double)WD_JSON_MAX_INT &&
		   v->valuedouble == (double)(uint64_t)v->valuedouble) {
		wd_jw_uint(w, key, (uint64_t)v->valuedouble);
	} else {
		jw_fail(w, -EINVAL); /* null, a fraction, a negative number */
	}
}

int wd_jcanon_write(const cJSON *v, char *buf, size_t size)
{
	struct wd_jw w;

	if (!cJSON_IsObject(v))
		return -EINVAL;
	wd_jw_init(&w, buf, size);
	write_members(&w, v);
	return wd_jw_end(&w);
}

int wd_jcanon_check(const char *line, size_t len, size_t max, cJSON **out, struct wd_err *err)
{
	static char again[WD_JCANON_MAX_LINE + 2];
	cJSON *v;
	int n;

	if (out != NULL)
		*out = NULL;
	if (len > WD_JCANON_MAX_LINE || len > max)
		return wd_err_set(err, E2BIG, "record: over %zu bytes", max);
	arena_begin();
	v = wd_json_parse_object((const uint8_t *)line, len, max, "record", err);
	arena_on = false;
	if (v == NULL)
		return -err->code;
	n = wd_jcanon_write(v, again, len + 2);
	if (n < 0 || (size_t)n != len || memcmp(again, line, len) != 0) {
		size_t at = 0;

		while (n > 0 && at < len && at < (size_t)n && again[at] == line[at])
			at++;
		cJSON_Delete(v);
		return wd_err_set(err, EINVAL,
				  "record: not canonical JSON (sorted keys, no spaces, integers "
				  "only) at byte %zu",
				  at);
	}
	if (out != NULL)
		*out = v;
	else
		cJSON_Delete(v);
	return 0;
}

/* ---- the fast check ------------------------------------------------------------ */

struct scanner {
	const uint8_t *p;
	size_t n, i;
	struct wd_jscan *out;
	struct wd_err *err;
	bool escaped; /* the last string scanned had an escape */
};

static int not_canonical(struct scanner *sc, const char *why)
{
	return wd_err_set(sc->err, EINVAL, "record: not canonical JSON: %s at byte %zu", why,
			  sc->i);
}

static bool lower_hex(uint8_t c, unsigned *v)
{
	if (c >= '0' && c <= '9')
		*v = c - '0';
	else if (c >= 'a' && c <= 'f')
		*v = c - 'a' + 10;
	else
		return false;
	return true;
}

/* Bytes a string may hold as they are: printable ASCII but '"' and '\\' (not DEL). */
static const uint8_t plain[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* The characters canonical JSON writes as \u00xx: the controls without a
 * short escape (never NUL: the strict reader refuses it), DEL and C1. */
static bool u00_escaped(unsigned v)
{
	if (v == 0x7f || (v >= 0x80 && v <= 0x9f))
		return true;
	return v > 0 && v < 0x20 && v != '\b' && v != '\f' && v != '\n' && v != '\r' && v != '\t';
}

/* A string from its opening quote; its content's span. */
static int scan_string(struct scanner *sc, const char **start, size_t *len)
{
	size_t i = sc->i + 1;

	sc->escaped = false;
	while (i < sc->n) {
		uint8_t c;

		/* The common case first: a run of plain bytes. */
		while (i + 4 <= sc->n && plain[sc->p[i]] & plain[sc->p[i + 1]] &
						 plain[sc->p[i + 2]] & plain[sc->p[i + 3]])
			i += 4;
		while (i < sc->n && plain[sc->p[i]])
			i++;
		if (i >= sc->n)
			break;
		c = sc->p[i];

		if (c == '"') {
			*start = (const char *)sc->p + sc->i + 1;
			*len = i - sc->i - 1;
			sc->i = i + 1;
			return 0;
		}
		if (c < 0x20 || c == 0x7f) {
			sc->i = i;
			return not_canonical(sc, "a raw control character in a string");
		}
		if (c == '\\') {
			uint8_t e = i + 1 < sc->n ? sc->p[i + 1] : 0;
			unsigned hi, lo;

			sc->escaped = true;
			if (e == '"' || e == '\\' || e == 'b' || e == 'f' || e == 'n' || e == 'r' ||
			    e == 't') {
				i += 2;
				continue;
			}
			/* \u00xx, lower-case hex, only for what has no other form. */
			if (e != 'u' || i + 5 >= sc->n || sc->p[i + 2] != '0' ||
			    sc->p[i + 3] != '0' || !lower_hex(sc->p[i + 4], &hi) ||
			    !lower_hex(sc->p[i + 5], &lo) || !u00_escaped(hi * 16 + lo)) {
				sc->i = i;
				return not_canonical(sc, "an escape canonical JSON has not");
			}
			i += 6;
			continue;
		}
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c == 0xc2 && i + 1 < sc->n && sc->p[i + 1] >= 0x80 && sc->p[i + 1] < 0xa0) {
			sc->i = i;
			return not_canonical(sc, "a raw C1 control character in a string");
		}
		c = (uint8_t)wd_utf8_seq(sc->p + i, sc->n - i);
		if (c == 0) {
			sc->i = i;
			return not_canonical(sc, "invalid UTF-8");
		}
		i += c;
	}
	return not_canonical(sc, "an unterminated string");
}

/* The escape at s[*i] (one the scanner let through), as the UTF-8 bytes it
 * stands for: 1, or 2 for a C1 control. */
static size_t unescape(const char *s, size_t *i, uint8_t out[2])
{
	unsigned c = (uint8_t)s[*i + 1], hi = 0, lo = 0;

	*i += 2;
	switch (c) {
	case 'b':
		c = '\b';
		break;
	case 'f':
		c = '\f';
		break;
	case 'n':
		c = '\n';
		break;
	case 'r':
		c = '\r';
		break;
	case 't':
		c = '\t';
		break;
	case 'u':
		(void)lower_hex((uint8_t)s[*i + 2], &hi);
		(void)lower_hex((uint8_t)s[*i + 3], &lo);
		*i += 4;
		c = hi * 16 + lo;
		if (c >= 0x80) {
			out[0] = 0xc2;
			out[1] = (uint8_t)c;
			return 2;
		}
		break;
	default:
		break; /* " and \ */
	}
	out[0] = (uint8_t)c;
	return 1;
}

/* An escaped string read back byte by byte. */
struct unescaped {
	const char *s;
	size_t n, i;
	uint8_t b[2];
	size_t nb, at;
};

/* The next byte, or -1 at the end. */
static int next_byte(struct unescaped *u)
{
	if (u->at == u->nb) {
		if (u->i >= u->n)
			return -1;
		u->at = 0;
		if (u->s[u->i] == '\\') {
			u->nb = unescape(u->s, &u->i, u->b);
		} else {
			u->b[0] = (uint8_t)u->s[u->i++];
			u->nb = 1;
		}
	}
	return u->b[u->at++];
}

/* Compare two escaped keys by their decoded bytes. */
static int key_cmp(const char *a, size_t an, const char *b, size_t bn, bool plain_keys)
{
	struct unescaped x = {a, an, 0, {0}, 0, 0}, y = {b, bn, 0, {0}, 0, 0};

	if (plain_keys) {
		int r = memcmp(a, b, an < bn ? an : bn);

		return r != 0 ? r : (an > bn) - (an < bn);
	}
	for (;;) {
		int p = next_byte(&x), q = next_byte(&y);

		if (p != q)
			return p < q ? -1 : 1;
		if (p < 0)
			return 0;
	}
}

static int scan_number(struct scanner *sc)
{
	uint64_t v = 0;
	size_t digits = 0;

	if (sc->p[sc->i] == '0') {
		sc->i++;
		return 0; /* a digit after it fails in the container: no leading zero */
	}
	while (sc->i < sc->n && sc->p[sc->i] >= '0' && sc->p[sc->i] <= '9') {
		if (++digits > 16)
			return not_canonical(sc, "a number over 2^53");
		v = v * 10 + (sc->p[sc->i] - '0');
		sc->i++;
	}
	if (v > WD_JSON_MAX_INT)
		return not_canonical(sc, "a number over 2^53");
	return 0;
}

static int scan_value(struct scanner *sc, int depth, int record_as);

static int scan_object(struct scanner *sc, int depth, int parent)
{
	const char *prev = NULL;
	size_t prev_len = 0, members = 0;
	bool prev_escaped = false;

	if (depth > WD_JW_MAX_DEPTH)
		return not_canonical(sc, "nested too deep");
	sc->i++;
	if (sc->i < sc->n && sc->p[sc->i] == '}') {
		sc->i++;
		return 0;
	}
	for (;;) {
		const char *key = NULL;
		size_t key_len = 0, vstart;
		int at = -1;

		if (sc->i >= sc->n || sc->p[sc->i] != '"')
			return not_canonical(sc, "no key");
		if (scan_string(sc, &key, &key_len) < 0)
			return -EINVAL;
		if (prev != NULL &&
		    key_cmp(prev, prev_len, key, key_len, !prev_escaped && !sc->escaped) >= 0)
			return not_canonical(sc, "keys not in order, or repeated");
		if (++members > WD_JCANON_MAX_MEMBERS)
			return not_canonical(sc, "too many members");
		prev = key;
		prev_len = key_len;
		prev_escaped = sc->escaped;
		if (sc->i >= sc->n || sc->p[sc->i] != ':')
			return not_canonical(sc, "no ':'");
		sc->i++;
		vstart = sc->i;
		if (parent >= -1 && sc->out->n < WD_JSCAN_MEMBERS) {
			struct wd_jmember *m = &sc->out->m[sc->out->n];

			at = (int)sc->out->n++;
			m->key = key;
			m->key_len = key_len;
			m->parent = parent;
		}
		/* Members of the top level's objects are kept too, no deeper. */
		if (scan_value(sc, depth, parent == -1 ? at : -2) < 0)
			return -EINVAL;
		if (at >= 0) {
			struct wd_jmember *m = &sc->out->m[at];
			uint8_t c = sc->p[vstart];

			m->type = (char)(c == '"'   ? 's'
					 : c == '{' ? 'o'
					 : c == '[' ? 'a'
					 : c == 't' ? 't'
					 : c == 'f' ? 'f'
						    : 'n');
			m->val = (const char *)sc->p + vstart + (c == '"');
			m->val_len = sc->i - vstart - (c == '"' ? 2 : 0);
		}
		if (sc->i < sc->n && sc->p[sc->i] == ',') {
			sc->i++;
			continue;
		}
		if (sc->i < sc->n && sc->p[sc->i] == '}') {
			sc->i++;
			return 0;
		}
		return not_canonical(sc, "no ',' or '}'");
	}
}

static int scan_value(struct scanner *sc, int depth, int record_as)
{
	const char *s;
	size_t l;

	if (sc->i >= sc->n)
		return not_canonical(sc, "a value missing");
	switch (sc->p[sc->i]) {
	case '"':
		return scan_string(sc, &s, &l);
	case '{':
		return scan_object(sc, depth + 1, record_as >= 0 ? record_as : -2);
	case '[':
		if (depth + 1 > WD_JW_MAX_DEPTH)
			return not_canonical(sc, "nested too deep");
		sc->i++;
		if (sc->i < sc->n && sc->p[sc->i] == ']') {
			sc->i++;
			return 0;
		}
		for (;;) {
			if (scan_value(sc, depth + 1, -2) < 0)
				return -EINVAL;
			if (sc->i < sc->n && sc->p[sc->i] == ',') {
				sc->i++;
				continue;
			}
			if (sc->i < sc->n && sc->p[sc->i] == ']') {
				sc->i++;
				return 0;
			}
			return not_canonical(sc, "no ',' or ']'");
		}
	case 't':
		if (sc->n - sc->i < 4 || memcmp(sc->p + sc->i, "true", 4) != 0)
			return not_canonical(sc, "not a value");
		sc->i += 4;
		return 0;
	case 'f':
		if (sc->n - sc->i < 5 || memcmp(sc->p + sc->i, "false", 5) != 0)
			return not_canonical(sc, "not a value");
		sc->i += 5;
		return 0;
	default:
		if (sc->p[sc->i] >= '0' && sc->p[sc->i] <= '9')
			return scan_number(sc);
		return not_canonical(sc, "not a value (null, a sign, a space?)");
	}
}

int wd_jcanon_scan(const char *line, size_t len, size_t max, struct wd_jscan *s, struct wd_err *err)
{
	struct scanner sc = {(const uint8_t *)line, len, 0, s, err, false};

	s->n = 0;
	if (len > max)
		return wd_err_set(err, E2BIG, "record: over %zu bytes", max);
	if (len == 0 || line[0] != '{')
		return not_canonical(&sc, "not an object");
	if (scan_object(&sc, 1, -1) < 0)
		return -EINVAL;
	if (sc.i != len)
		return not_canonical(&sc, "bytes after the object");
	return 0;
}

const struct wd_jmember *wd_jscan_get(const struct wd_jscan *s, int parent, const char *key)
{
	size_t kl = strlen(key), i = 0;

	/* An object's members follow it, in one run (nothing deeper is kept). */
	if (parent >= 0)
		i = (size_t)parent + 1;
	for (; i < s->n; i++) {
		const struct wd_jmember *m = &s->m[i];

		if (parent >= 0 && m->parent != parent)
			break;
		if (m->parent == parent && m->key_len == kl && (kl == 0 || m->key[0] == key[0]) &&
		    memcmp(m->key, key, kl) == 0)
			return m;
	}
	return NULL;
}

int wd_jscan_index(const struct wd_jscan *s, const struct wd_jmember *m)
{
	return m != NULL ? (int)(m - s->m) : -3;
}

ssize_t wd_jscan_string(const struct wd_jmember *m, char *out, size_t size)
{
	size_t i = 0, o = 0;

	if (m == NULL || m->type != 's')
		return -1;
	while (i < m->val_len) {
		uint8_t c[2] = {(uint8_t)m->val[i], 0};
		size_t n = 1;

		if (c[0] == '\\')
			n = unescape(m->val, &i, c);
		else
			i++;
		if (c[0] == 0 || o + n >= size)
			return -1;
		memcpy(out + o, c, n);
		o += n;
	}
	out[o] = '\0';
	return (ssize_t)o;
}

bool wd_jscan_uint(const struct wd_jmember *m, uint64_t *out)
{
	uint64_t v = 0;

	if (m == NULL || m->type != 'n')
		return false;
	for (size_t i = 0; i < m->val_len; i++)
		v = v * 10 + (uint64_t)(m->val[i] - '0');
	*out = v;
	return true;
}
