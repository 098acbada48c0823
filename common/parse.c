/* common/parse.c - see parse.h. */
#include "parse.h"

#include <errno.h>
#include <string.h>

static int parse_digits(const char *s, const char **end, uint64_t *out, struct wd_err *err)
{
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return wd_err_set(err, EINVAL, "'%s' is not a number", s);
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return wd_err_set(err, ERANGE, "'%s' is too large", s);
		v = v * 10 + d;
	}
	*end = p;
	*out = v;
	return 0;
}

static int check_range(const char *s, uint64_t v, uint64_t min, uint64_t max, const char *unit,
		       struct wd_err *err)
{
	if (v < min || v > max)
		return wd_err_set(err, ERANGE, "'%s' is out of range (%llu to %llu%s)", s,
				  (unsigned long long)min, (unsigned long long)max, unit);
	return 0;
}

int wd_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err)
{
	const char *end;
	uint64_t v;
	int rc;

	rc = parse_digits(s, &end, &v, err);
	if (rc < 0)
		return rc;
	if (*end != '\0')
		return wd_err_set(err, EINVAL, "'%s' is not a number", s);
	rc = check_range(s, v, min, max, "", err);
	if (rc < 0)
		return rc;
	*out = v;
	return 0;
}

struct unit {
	const char *suffix;
	uint64_t scale;
};

static int parse_scaled(const char *s, const struct unit *units, uint64_t min, uint64_t max,
			const char *unit_name, uint64_t *out, struct wd_err *err)
{
	const char *end = s;
	uint64_t v = 0;
	int rc;

	rc = parse_digits(s, &end, &v, err);
	if (rc < 0)
		return rc;
	for (const struct unit *u = units; u->suffix != NULL; u++) {
		if (strcmp(end, u->suffix) != 0)
			continue;
		if (v > UINT64_MAX / u->scale)
			return wd_err_set(err, ERANGE, "'%s' is too large", s);
		v *= u->scale;
		rc = check_range(s, v, min, max, unit_name, err);
		if (rc < 0)
			return rc;
		*out = v;
		return 0;
	}
	return wd_err_set(err, EINVAL, "'%s' has an unknown unit", s);
}

int wd_parse_duration_ms(const char *s, uint64_t min_ms, uint64_t max_ms, uint64_t *out,
			 struct wd_err *err)
{
	static const struct unit units[] = {
		{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {NULL, 0},
	};

	return parse_scaled(s, units, min_ms, max_ms, " ms", out, err);
}

int wd_parse_size(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err)
{
	static const struct unit units[] = {
		{"", 1},
		{"K", 1ULL << 10},
		{"KiB", 1ULL << 10},
		{"M", 1ULL << 20},
		{"MiB", 1ULL << 20},
		{"G", 1ULL << 30},
		{"GiB", 1ULL << 30},
		{NULL, 0},
	};

	return parse_scaled(s, units, min, max, " bytes", out, err);
}

int wd_parse_bool(const char *s, bool *out, struct wd_err *err)
{
	static const char *const yes[] = {"1", "yes", "on", "true", NULL};
	static const char *const no[] = {"0", "no", "off", "false", NULL};

	for (unsigned i = 0; yes[i] != NULL; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return wd_err_set(err, EINVAL, "'%s' is not a boolean (use 1/0, yes/no, on/off)", s);
}

int wd_parse_enum(const char *s, const char *const *names, unsigned *out, struct wd_err *err)
{
	char expected[160];
	size_t used = 0;

	for (unsigned i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	expected[0] = '\0';
	for (unsigned i = 0; names[i] != NULL && used < sizeof(expected); i++) {
		size_t n = strlen(names[i]);

		if (used + n + 2 >= sizeof(expected))
			break;
		if (i > 0)
			expected[used++] = '|';
		memcpy(expected + used, names[i], n);
		used += n;
		expected[used] = '\0';
	}
	return wd_err_set(err, EINVAL, "'%s' is not one of %s", s, expected);
}

int wd_parse_hostname(const char *s, struct wd_err *err)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 64)
		return wd_err_set(err, EINVAL, "host name must be 1 to 64 characters");
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return wd_err_set(err, EINVAL,
						  "'%s' has an empty label or one ending in '-'",
						  s);
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (c == '-' && label > 0)))
			return wd_err_set(err, EINVAL, "'%s' is not a valid host name", s);
		if (++label > 63)
			return wd_err_set(err, EINVAL, "'%s' has a label over 63 characters", s);
	}
	return 0;
}
