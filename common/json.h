/*
 * common/json.h - strict reading of JSON from outside the trusted side.
 *
 * Used by the protocol's message decoders (vsock/msg.c) and by the seccomp
 * profile parser (sandbox/ociseccomp.c). Decoding goes in steps, each
 * rejecting what the next would accept too loosely:
 *
 *   1. a scan of the raw bytes: UTF-8 only inside strings, no control
 *      character or escaped NUL in a string (cJSON would cut the string
 *      there without saying so), numbers in RFC 8259 grammar (cJSON takes
 *      "+1" and "01");
 *   2. cJSON parses, and the whole text must be one object;
 *   3. each object's members are checked against its field list: unknown,
 *      duplicate and missing fields are errors.
 *
 * Integers are read through cJSON's double, so they are bounded by
 * WD_JSON_MAX_INT. Every error names `what` (a message or a JSON path).
 */
#ifndef WARDEN_COMMON_JSON_H
#define WARDEN_COMMON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define WD_JSON_MAX_INT (1ULL << 53) /* largest integer a double holds exactly */

/* The members an object may have, ending with a NULL name. At most 32. */
struct wd_json_field {
	const char *name;
	bool required;
};

/* Length of the valid UTF-8 sequence at p (not NUL, not a surrogate, not
 * overlong, at most U+10FFFF), or 0. */
size_t wd_utf8_seq(const uint8_t *p, size_t n);
bool wd_utf8_valid(const char *s, size_t len);

/*
 * Steps 1 and 2: `len` bytes (1 to `max`) as one JSON object, or NULL with
 * `err` set. The caller frees the tree with cJSON_Delete().
 */
cJSON *wd_json_parse_object(const uint8_t *p, size_t len, size_t max, const char *what,
			    struct wd_err *err);

/* Step 3 for one object. */
int wd_json_check_fields(const cJSON *obj, const struct wd_json_field *fields, const char *what,
			 struct wd_err *err);

/*
 * The integer member `name`, at most `max` (and WD_JSON_MAX_INT); negative,
 * fractional and non-number values are errors. Absent: *out is left alone.
 */
int wd_json_get_uint(const cJSON *obj, const char *name, uint64_t max, uint64_t *out,
		     const char *what, struct wd_err *err);

/* A 64-bit value carried as a decimal string (JSON numbers stop at 2^53).
 * Absent: *out is left alone. */
int wd_json_get_u64_text(const cJSON *obj, const char *name, uint64_t *out, const char *what,
			 struct wd_err *err);
/* A boolean member; absent: *out is left alone. */
int wd_json_get_bool(const cJSON *obj, const char *name, bool *out, const char *what,
		     struct wd_err *err);
/* A string member of at most `max` bytes, UTF-8; *out points into the tree.
 * Absent: *out and *len are left alone. */
int wd_json_get_string(const cJSON *obj, const char *name, size_t max, const char **out,
		       size_t *len, const char *what, struct wd_err *err);
/* A string member copied into `buf` of `size` bytes (NUL included). */
int wd_json_get_string_into(const cJSON *obj, const char *name, char *buf, size_t size,
			    const char *what, struct wd_err *err);

/*
 * Building a tree to send: the wd_jb_* calls never fail on their own; what
 * went wrong (allocation, an integer over WD_JSON_MAX_INT) is collected in
 * the build and reported once by wd_jb_finish(). A NULL parent object is
 * ignored (its creation already failed and was noted).
 */
struct wd_json_build {
	bool oom;
	const char *too_big; /* first integer field over 2^53 */
};
cJSON *wd_jb_object(struct wd_json_build *b, cJSON *obj, const char *name);
void wd_jb_uint(struct wd_json_build *b, cJSON *obj, const char *name, uint64_t v);
void wd_jb_u64_text(struct wd_json_build *b, cJSON *obj, const char *name, uint64_t v);
void wd_jb_string(struct wd_json_build *b, cJSON *obj, const char *name, const char *s);
void wd_jb_bool(struct wd_json_build *b, cJSON *obj, const char *name, bool v);
void wd_jb_string_array(struct wd_json_build *b, cJSON *obj, const char *name,
			const char *const *items, size_t n);
/* Print `root` compactly into `out` (`size` bytes) and free it. Returns the
 * length, or -errno: ENOMEM, ERANGE (an integer over 2^53), ENOSPC (does
 * not fit), E2BIG (over `max` bytes). */
int wd_jb_finish(cJSON *root, struct wd_json_build *b, char *out, size_t size, size_t max,
		 const char *what, struct wd_err *err);

#endif
