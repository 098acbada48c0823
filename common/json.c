/* common/json.c - see json.h. */
#include "json.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

#define FIELD_NAME_SHOWN 32 /* bytes of an unknown field's name in a message */

/* A name from the wire, made safe for a log line: printable ASCII, cut short. */
static const char *shown(const char *s, char buf[FIELD_NAME_SHOWN + 4])
{
	size_t i;

	for (i = 0; i < FIELD_NAME_SHOWN && s[i] != '\0'; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] != '\0') {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static size_t digits(const uint8_t *p, size_t n, size_t i)
{
	while (i < n && is_digit(p[i]))
		i++;
	return i;
}

/* Length of the RFC 8259 number at p, or 0 if it is malformed. */
static size_t number_len(const uint8_t *p, size_t n)
{
	size_t i = 0, start;

	if (p[i] == '-')
		i++;
	if (i >= n || !is_digit(p[i]))
		return 0;
	i = p[i] == '0' ? i + 1 : digits(p, n, i);
	if (i < n && p[i] == '.') {
		start = ++i;
		i = digits(p, n, i);
		if (i == start)
			return 0;
	}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		start = i;
		i = digits(p, n, i);
		if (i == start)
			return 0;
	}
	if (i < n && (is_digit(p[i]) || strchr("+-.eE", p[i]) != NULL))
		return 0; /* "01", "1.2.3": cJSON would read on */
	return i;
}

/* Step 1 of decoding (see json.h). */
static int prescan(const uint8_t *p, size_t len, const char *what, struct wd_err *err)
{
	bool in_string = false;
	size_t i = 0, n;

	while (i < len) {
		uint8_t c = p[i];

		if (in_string) {
			if (c == '"') {
				in_string = false;
				n = 1;
			} else if (c == '\\') {
				if (len - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
					return wd_err_set(err, EINVAL,
							  "%s: NUL in a string (byte %zu)", what,
							  i);
				n = 2; /* cJSON checks the escape itself */
			} else if (c < 0x20) {
				return wd_err_set(err, EINVAL,
						  "%s: control character in a string (byte %zu)",
						  what, i);
			} else {
				n = wd_utf8_seq(p + i, len - i);
				if (n == 0)
					return wd_err_set(
						err, EINVAL,
						"%s: invalid UTF-8 in a string (byte %zu)", what,
						i);
			}
		} else if (c == '"') {
			in_string = true;
			n = 1;
		} else if (c == '-' || is_digit(c)) {
			n = number_len(p + i, len - i);
			if (n == 0)
				return wd_err_set(err, EBADMSG, "%s: malformed number (byte %zu)",
						  what, i);
		} else if (c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n' && c != '\r')) {
			return wd_err_set(err, EBADMSG, "%s: unexpected byte 0x%02x (byte %zu)",
					  what, c, i);
		} else {
			n = 1;
		}
		i += n;
	}
	return 0;
}

static bool json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

cJSON *wd_json_parse_object(const uint8_t *p, size_t len, size_t max, const char *what,
			    struct wd_err *err)
{
	const char *text = (const char *)p, *end = NULL;
	cJSON *root;

	if (len == 0) {
		(void)wd_err_set(err, EBADMSG, "%s: empty payload", what);
		return NULL;
	}
	if (len > max) {
		(void)wd_err_set(err, E2BIG, "%s: %zu bytes, over %zu", what, len, max);
		return NULL;
	}
	if (prescan(p, len, what, err) < 0)
		return NULL;
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root == NULL) {
		const char *at = cJSON_GetErrorPtr();
		size_t off = at != NULL && at >= text && at <= text + len ? (size_t)(at - text) : 0;

		(void)wd_err_set(err, EBADMSG, "%s: not valid JSON (near byte %zu)", what, off);
		return NULL;
	}
	while (end != NULL && end < text + len && json_space(*end))
		end++;
	if (end != text + len) {
		cJSON_Delete(root);
		(void)wd_err_set(err, EBADMSG, "%s: bytes after the JSON value", what);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		(void)wd_err_set(err, EINVAL, "%s: not a JSON object", what);
		return NULL;
	}
	return root;
}

/* ---- reading fields ------------------------------------------------------- */

int wd_json_check_fields(const cJSON *obj, const struct wd_json_field *fields, const char *what,
			 struct wd_err *err)
{
	char buf[FIELD_NAME_SHOWN + 4];
	uint32_t seen = 0;
	const cJSON *it;
	size_t i;

	if (!cJSON_IsObject(obj))
		return wd_err_set(err, EINVAL, "%s: expected an object", what);
	cJSON_ArrayForEach(it, obj)
	{
		for (i = 0; fields[i].name != NULL; i++)
			if (strcmp(it->string, fields[i].name) == 0)
				break;
		if (fields[i].name == NULL)
			return wd_err_set(err, EINVAL, "%s: unknown field '%s'", what,
					  shown(it->string, buf));
		if ((seen & (1U << i)) != 0)
			return wd_err_set(err, EINVAL, "%s: field '%s' given twice", what,
					  fields[i].name);
		seen |= 1U << i;
	}
	for (i = 0; fields[i].name != NULL; i++)
		if (fields[i].required && (seen & (1U << i)) == 0)
			return wd_err_set(err, EINVAL, "%s: missing field '%s'", what,
					  fields[i].name);
	return 0;
}

int wd_json_get_uint(const cJSON *obj, const char *name, uint64_t max, uint64_t *out,
		     const char *what, struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	double v;

	if (it == NULL)
		return 0;
	if (!cJSON_IsNumber(it))
		return wd_err_set(err, EINVAL, "%s.%s: expected an integer", what, name);
	if (max > WD_JSON_MAX_INT)
		max = WD_JSON_MAX_INT;
	v = it->valuedouble;
	if (!(v >= 0.0))
		return wd_err_set(err, ERANGE, "%s.%s: negative", what, name);
	if (v > (double)max)
		return wd_err_set(err, ERANGE, "%s.%s: over the bound %llu", what, name,
				  (unsigned long long)max);
	if ((double)(uint64_t)v != v)
		return wd_err_set(err, EINVAL, "%s.%s: not an integer", what, name);
	*out = (uint64_t)v;
	return 0;
}

/* ---- reading members ---------------------------------------------------- */

/* A 64-bit value carried as a decimal string (JSON numbers stop at 2^53). */
int wd_json_get_u64_text(const cJSON *obj, const char *name, uint64_t *out, const char *what,
			 struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	struct wd_err why;

	if (it == NULL)
		return 0;
	if (!cJSON_IsString(it))
		return wd_err_set(err, EINVAL, "%s.%s: expected a decimal string", what, name);
	if (strlen(it->valuestring) > 20 ||
	    wd_parse_u64(it->valuestring, 0, UINT64_MAX, out, &why) < 0)
		return wd_err_set(err, EINVAL, "%s.%s: not a decimal integer below 2^64", what,
				  name);
	return 0;
}

int wd_json_get_bool(const cJSON *obj, const char *name, bool *out, const char *what,
		     struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (it == NULL)
		return 0;
	if (!cJSON_IsBool(it))
		return wd_err_set(err, EINVAL, "%s.%s: expected true or false", what, name);
	*out = cJSON_IsTrue(it);
	return 0;
}

/* A string of at most `max` bytes, UTF-8; *out points into the tree. */
int wd_json_get_string(const cJSON *obj, const char *name, size_t max, const char **out,
		       size_t *len, const char *what, struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	size_t n;

	if (it == NULL)
		return 0;
	if (!cJSON_IsString(it))
		return wd_err_set(err, EINVAL, "%s.%s: expected a string", what, name);
	n = strlen(it->valuestring);
	if (n > max)
		return wd_err_set(err, E2BIG, "%s.%s: %zu bytes, over %zu", what, name, n, max);
	if (!wd_utf8_valid(it->valuestring, n))
		return wd_err_set(err, EINVAL, "%s.%s: not UTF-8", what, name);
	*out = it->valuestring;
	*len = n;
	return 0;
}

/* Copy a string field into a fixed buffer of `size` bytes (NUL included). */
int wd_json_get_string_into(const cJSON *obj, const char *name, char *buf, size_t size,
			    const char *what, struct wd_err *err)
{
	const char *s = NULL;
	size_t n = 0;

	if (wd_json_get_string(obj, name, size - 1, &s, &n, what, err) < 0)
		return -err->code;
	if (s != NULL)
		memcpy(buf, s, n + 1);
	return 0;
}

/* ---- building a tree ---------------------------------------------------- */

cJSON *wd_jb_object(struct wd_json_build *b, cJSON *obj, const char *name)
{
	cJSON *it = cJSON_AddObjectToObject(obj, name);

	b->oom |= it == NULL;
	return it;
}

void wd_jb_uint(struct wd_json_build *b, cJSON *obj, const char *name, uint64_t v)
{
	char text[24];

	if (obj == NULL)
		return;
	if (v > WD_JSON_MAX_INT && b->too_big == NULL)
		b->too_big = name;
	/* Raw: cJSON would print a large double as "1e+15". */
	(void)snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	b->oom |= cJSON_AddRawToObject(obj, name, text) == NULL;
}

void wd_jb_u64_text(struct wd_json_build *b, cJSON *obj, const char *name, uint64_t v)
{
	char text[24];

	if (obj == NULL)
		return;
	(void)snprintf(text, sizeof(text), "%llu", (unsigned long long)v);
	b->oom |= cJSON_AddStringToObject(obj, name, text) == NULL;
}

void wd_jb_string(struct wd_json_build *b, cJSON *obj, const char *name, const char *s)
{
	if (obj != NULL)
		b->oom |= cJSON_AddStringToObject(obj, name, s) == NULL;
}

void wd_jb_bool(struct wd_json_build *b, cJSON *obj, const char *name, bool v)
{
	if (obj != NULL)
		b->oom |= cJSON_AddBoolToObject(obj, name, v) == NULL;
}

void wd_jb_string_array(struct wd_json_build *b, cJSON *obj, const char *name,
			const char *const *items, size_t n)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, name);

	if (arr == NULL) {
		b->oom = true;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		cJSON *s = cJSON_CreateString(items[i]);

		if (s == NULL || !cJSON_AddItemToArray(arr, s)) {
			cJSON_Delete(s);
			b->oom = true;
			return;
		}
	}
}

/* Print `root` compactly into `out` and free it. Returns the length. */
int wd_jb_finish(cJSON *root, struct wd_json_build *b, char *out, size_t size, size_t max,
		 const char *what, struct wd_err *err)
{
	size_t len;
	int rc;

	if (root == NULL || b->oom)
		rc = wd_err_set(err, ENOMEM, "%s: building the JSON", what);
	else if (b->too_big != NULL)
		rc = wd_err_set(err, ERANGE, "%s.%s: over 2^53", what, b->too_big);
	else if (size == 0 ||
		 !cJSON_PrintPreallocated(root, out, size > INT_MAX ? INT_MAX : (int)size, 0))
		rc = wd_err_set(err, ENOSPC, "%s: does not fit in %zu bytes", what, size);
	else if ((len = strlen(out)) > max)
		rc = wd_err_set(err, E2BIG, "%s: %zu bytes of JSON, over %zu", what, len, max);
	else
		rc = (int)len;
	cJSON_Delete(root);
	return rc;
}
