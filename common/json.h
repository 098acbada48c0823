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

#endif
