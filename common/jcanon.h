/*
 * common/jcanon.h - canonical JSON: the one byte form an audit record has.
 *
 * Canonical here means: objects only at the top, keys sorted by byte value
 * (all keys are ASCII, so this is also RFC 8785's UTF-16 order), each key
 * once, no whitespace, strings in UTF-8 with only `"`, `\` and the control
 * characters escaped (`\b \f \n \r \t`, the other C0 controls, DEL and the
 * C1 controls U+0080..U+009F as `\u00xx`, lower-case hex), numbers
 * only as non-negative integers up to 2^53 written in decimal, `true` and
 * `false`; no `null`, no fraction, no exponent. Two records are the same
 * record exactly when their bytes are the same, which is what the hash
 * chain and the Merkle tree need. No control character is ever in a
 * record's bytes as it is, so a record can be printed on a terminal:
 * escaping DEL and C1 is this form's own rule (RFC 8259 and RFC 8785 leave
 * them raw), and the guest's writer and the host's checks apply it alike.
 *
 * Writing (the guest): struct wd_jw appends to a caller-owned buffer and
 * refuses keys out of order, so a record is canonical by construction.
 * Strings that come from outside (paths, names) may hold any bytes: an
 * invalid UTF-8 byte is written as U+FFFD. Errors stick: the first one is
 * kept and wd_jw_end() returns it (-ENOSPC the buffer is short, -EINVAL a
 * key out of order or a number over 2^53, -E2BIG nesting over
 * WD_JW_MAX_DEPTH).
 *
 * Checking (the host): wd_jcanon_check() parses a line strictly (common/
 * json.h) and re-serialises it canonically; the line is canonical only if
 * the bytes match.
 */
#ifndef WARDEN_COMMON_JCANON_H
#define WARDEN_COMMON_JCANON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "err.h"

#define WD_JW_MAX_DEPTH 8        /* nested objects and arrays */
#define WD_JCANON_MAX_MEMBERS 64 /* members of one object, when checking */
#define WD_JCANON_MAX_LINE 65536 /* longest line wd_jcanon_check takes */

struct wd_jw {
	char *buf;
	size_t size, len;
	int depth;                         /* open objects and arrays */
	bool array[WD_JW_MAX_DEPTH];       /* the open container is an array */
	bool first[WD_JW_MAX_DEPTH];       /* nothing written in it yet */
	const char *last[WD_JW_MAX_DEPTH]; /* its last key (the caller keeps it alive) */
	int err;
};

/* Start a record in buf[size]: the top-level object is opened. */
void wd_jw_init(struct wd_jw *w, char *buf, size_t size);

/* Members: `key` is NULL inside an array, a key otherwise. */
void wd_jw_object(struct wd_jw *w, const char *key);
void wd_jw_array(struct wd_jw *w, const char *key);
void wd_jw_close(struct wd_jw *w); /* the innermost object or array */
void wd_jw_str(struct wd_jw *w, const char *key, const char *s);
void wd_jw_strn(struct wd_jw *w, const char *key, const char *s, size_t n);
void wd_jw_uint(struct wd_jw *w, const char *key, uint64_t v);
void wd_jw_bool(struct wd_jw *w, const char *key, bool v);
/* A value that is already canonical JSON text (an object built elsewhere). */
void wd_jw_raw(struct wd_jw *w, const char *key, const char *json, size_t n);

/*
 * A string from outside that may be long or not UTF-8 (a path the agent
 * chose): written as a string when its JSON form, quotes included, takes
 * at most `shown` bytes and every byte is written as it is; otherwise as
 * an object that says it was cut, {"len": the value's bytes, "prefix": its
 * longest start of whole characters whose JSON form fits `shown` (invalid
 * UTF-8 as U+FFFD), "sha256": of all its bytes}, so a reader cannot take
 * a prefix for the value. At most `shown` + WD_JW_BOUNDED_EXTRA bytes
 * either way (jbound.c).
 */
#define WD_JW_BOUNDED_EXTRA 112
void wd_jw_str_bounded(struct wd_jw *w, const char *key, const char *s, size_t n, size_t shown);

/* Close the top-level object and NUL-terminate. Returns the length or the
 * first error (negative errno). */
int wd_jw_end(struct wd_jw *w);

/*
 * `line` (len bytes, no newline, at most `max` and WD_JCANON_MAX_LINE) is
 * one canonical JSON object. Returns 0 and, when `out` is not NULL, the
 * parsed tree; or -EBADMSG not JSON, -EINVAL not canonical, -E2BIG too
 * long, with `err` saying where. The tree lives in an arena that the next
 * call reuses: the caller is done with it (cJSON_Delete, which is then
 * free) before checking another line. Not thread-safe.
 */
int wd_jcanon_check(const char *line, size_t len, size_t max, cJSON **out, struct wd_err *err);

/* Write `v` (an object) canonically into buf[size]: the length, or
 * -ENOSPC, or -EINVAL when it holds what canonical JSON has not. */
int wd_jcanon_write(const cJSON *v, char *buf, size_t size);

/*
 * The fast check, one pass and no allocation: the same verdict as
 * wd_jcanon_check() (a fuzz target holds them to it), and the members of
 * the top-level object and of the objects directly in it, as spans of the
 * line, for lookups (at most WD_JSCAN_MEMBERS; further ones are checked
 * but not kept).
 */
#define WD_JSCAN_MEMBERS 96

struct wd_jmember {
	const char *key; /* its bytes, between the quotes, escaped as in the line */
	size_t key_len;
	const char *val; /* the value; a string's without its quotes, still escaped */
	size_t val_len;
	char type;  /* 's' string, 'n' number, 'o' object, 'a' array, 't' true, 'f' false */
	int parent; /* index of the object member it is in, -1: the top level */
};

struct wd_jscan {
	struct wd_jmember m[WD_JSCAN_MEMBERS];
	size_t n;
};

int wd_jcanon_scan(const char *line, size_t len, size_t max, struct wd_jscan *s,
		   struct wd_err *err);

/* The member `key` of the object `parent` (-1: the top level), or NULL. */
const struct wd_jmember *wd_jscan_get(const struct wd_jscan *s, int parent, const char *key);

/* Index of a member (for wd_jscan_get's `parent`). */
int wd_jscan_index(const struct wd_jscan *s, const struct wd_jmember *m);

/* A string member's value, unescaped, NUL-terminated into out[size]: its
 * length, or -1 when it is not a string, holds a NUL or does not fit. */
ssize_t wd_jscan_string(const struct wd_jmember *m, char *out, size_t size);

/* An integer member's value, or false when it is not a number. */
bool wd_jscan_uint(const struct wd_jmember *m, uint64_t *out);

#endif
