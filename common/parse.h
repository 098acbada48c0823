/*
 * common/parse.h - strict parsers for values that come from outside.
 *
 * Every parser rejects the whole input unless all of it is consumed: no
 * leading or trailing junk, no signs, no overflow, no empty strings. Bounds
 * are inclusive and checked after unit scaling. Each returns 0 and sets
 * *out, or returns -EINVAL / -ERANGE and fills `err` with one line naming
 * the problem (the caller adds which key or field it was).
 */
#ifndef WARDEN_COMMON_PARSE_H
#define WARDEN_COMMON_PARSE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

/* A hex digit's value (either case), or -1. */
static inline int wd_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decimal unsigned integer in [min, max]. */
int wd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err);

/*
 * Duration in milliseconds, in [min_ms, max_ms]. Accepts "<n>ms", "<n>s",
 * "<n>m" and a bare "<n>", which means seconds.
 */
int wd_parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out,
			 struct wd_err *err);

/*
 * Size in bytes, in [min, max]. Accepts a bare byte count or a binary
 * suffix: K, M, G (also KiB, MiB, GiB).
 */
int wd_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err);

/* Boolean: 1/0, yes/no, on/off, true/false. */
int wd_parse_bool(const char *s, bool *out, struct wd_err *err);

/* One of `names` (NULL-terminated); *out is its index. */
int wd_parse_enum(const char *s, const char *const *names, unsigned *out, struct wd_err *err);

/*
 * A host name as the kernel and RFC 1123 accept it: 1..63 characters of
 * [A-Za-z0-9-] per label, labels separated by '.', no label starting or
 * ending with '-', at most 64 characters in all (the kernel's limit).
 */
int wd_parse_hostname(const char *s, struct wd_err *err);

#endif
