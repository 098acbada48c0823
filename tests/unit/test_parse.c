/*
 * tests/unit/test_parse.c - common/parse.c: the strict parsers every value
 * from outside goes through (kernel command line, argv, policy numbers).
 *
 * What they promise (parse.h): all of the input is consumed, no signs, no
 * blanks, no empty string, no overflow (also after unit scaling), inclusive
 * bounds, *out untouched on failure, and one error line naming the value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../common/parse.h"

#define UNTOUCHED 0xdeadbeefULL

/* The value parsed, or the negative errno; *out must stay as it was on failure. */
static int u64(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err)
{
	int rc;

	*out = UNTOUCHED;
	wd_err_clear(err);
	rc = wd_parse_u64(s, min, max, out, err);
	if (rc < 0) {
		assert_int_equal(*out, UNTOUCHED);
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	}
	return rc;
}

static int duration(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err)
{
	int rc;

	*out = UNTOUCHED;
	wd_err_clear(err);
	rc = wd_parse_duration_ms(s, min, max, out, err);
	if (rc < 0) {
		assert_int_equal(*out, UNTOUCHED);
		assert_int_equal(err->code, -rc);
	}
	return rc;
}

static int size(const char *s, uint64_t min, uint64_t max, uint64_t *out, struct wd_err *err)
{
	int rc;

	*out = UNTOUCHED;
	wd_err_clear(err);
	rc = wd_parse_size(s, min, max, out, err);
	if (rc < 0) {
		assert_int_equal(*out, UNTOUCHED);
		assert_int_equal(err->code, -rc);
	}
	return rc;
}

/* ---- wd_parse_u64 ---------------------------------------------------- */

static void test_u64_accepts_zero_and_the_largest_value(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(u64("0", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(u64("18446744073709551615", 0, UINT64_MAX, &v, &err), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(u64("007", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 7);
}

static void test_u64_rejects_overflow(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(u64("18446744073709551616", 0, UINT64_MAX, &v, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "too large"));
	assert_int_equal(u64("18446744073709551620", 0, UINT64_MAX, &v, &err), -ERANGE);
	assert_int_equal(u64("99999999999999999999999", 0, UINT64_MAX, &v, &err), -ERANGE);
}

static void test_u64_rejects_empty_input(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(u64("", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is not a number"));
}

static void test_u64_rejects_leading_and_trailing_junk(void **state)
{
	static const char *const bad[] = {" 1",   "1 ",  "\t1", "1\n",   "1x",    "x1",
					  "0x10", "1.0", "1e3", "1,000", "1_000", "one"};
	struct wd_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(u64(bad[i], 0, UINT64_MAX, &v, &err), -EINVAL);
}

static void test_u64_rejects_signs(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(u64("+1", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(u64("-1", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(u64("-0", 0, UINT64_MAX, &v, &err), -EINVAL);
}

static void test_u64_bounds_are_inclusive(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(u64("5", 5, 10, &v, &err), 0);
	assert_int_equal(v, 5);
	assert_int_equal(u64("10", 5, 10, &v, &err), 0);
	assert_int_equal(v, 10);
	assert_int_equal(u64("4", 5, 10, &v, &err), -ERANGE);
	assert_string_equal(err.msg, "'4' is out of range (5 to 10)");
	assert_int_equal(u64("11", 5, 10, &v, &err), -ERANGE);
}

/* ---- wd_parse_duration_ms -------------------------------------------- */

static void test_duration_accepts_each_unit(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(duration("250ms", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 250);
	assert_int_equal(duration("3s", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 3000);
	assert_int_equal(duration("2m", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 120000);
	assert_int_equal(duration("0ms", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 0);
}

static void test_duration_bare_number_means_seconds(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(duration("7", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(v, 7000);
}

static void test_duration_rejects_unknown_units(void **state)
{
	static const char *const bad[] = {"1h",   "1d",  "1us",  "1S",  "1MS",
					  "1sec", "1 s", "5ms ", "1s1", "1.5s"};
	struct wd_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(duration(bad[i], 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(duration("1h", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "unknown unit"));
}

static void test_duration_rejects_a_unit_without_number(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(duration("ms", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(duration("s", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(duration("", 0, UINT64_MAX, &v, &err), -EINVAL);
	assert_int_equal(duration("-1s", 0, UINT64_MAX, &v, &err), -EINVAL);
}

static void test_duration_rejects_overflow_when_scaling(void **state)
{
	char text[64];
	struct wd_err err;
	uint64_t v;

	(void)state;
	/* The largest count of each unit that still fits, then one more. */
	(void)snprintf(text, sizeof(text), "%llus", (unsigned long long)(UINT64_MAX / 1000));
	assert_int_equal(duration(text, 0, UINT64_MAX, &v, &err), 0);
	assert_true(v == UINT64_MAX / 1000 * 1000);
	(void)snprintf(text, sizeof(text), "%llus", (unsigned long long)(UINT64_MAX / 1000 + 1));
	assert_int_equal(duration(text, 0, UINT64_MAX, &v, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "too large"));
	(void)snprintf(text, sizeof(text), "%llum", (unsigned long long)(UINT64_MAX / 60000));
	assert_int_equal(duration(text, 0, UINT64_MAX, &v, &err), 0);
	(void)snprintf(text, sizeof(text), "%llum", (unsigned long long)(UINT64_MAX / 60000 + 1));
	assert_int_equal(duration(text, 0, UINT64_MAX, &v, &err), -ERANGE);
	(void)snprintf(text, sizeof(text), "%llu", (unsigned long long)(UINT64_MAX / 1000 + 1));
	assert_int_equal(duration(text, 0, UINT64_MAX, &v, &err), -ERANGE);
	assert_int_equal(duration("18446744073709551615ms", 0, UINT64_MAX, &v, &err), 0);
	assert_int_equal(duration("18446744073709551616ms", 0, UINT64_MAX, &v, &err), -ERANGE);
}

static void test_duration_bounds_apply_after_scaling(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(duration("10ms", 10, 60000, &v, &err), 0);
	assert_int_equal(duration("9ms", 10, 60000, &v, &err), -ERANGE);
	assert_int_equal(duration("1m", 10, 60000, &v, &err), 0);
	assert_int_equal(v, 60000);
	assert_int_equal(duration("61s", 10, 60000, &v, &err), -ERANGE);
	assert_int_equal(duration("60001ms", 10, 60000, &v, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "10 to 60000 ms"));
}

/* ---- wd_parse_size ----------------------------------------------------- */

static void test_size_accepts_each_suffix(void **state)
{
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {
		{"4096", 4096},       {"4K", 4096},       {"4KiB", 4096},       {"2M", 2ULL << 20},
		{"2MiB", 2ULL << 20}, {"3G", 3ULL << 30}, {"3GiB", 3ULL << 30}, {"0", 0},
	};
	struct wd_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(size(ok[i].text, 0, UINT64_MAX, &v, &err), 0);
		assert_true(v == ok[i].bytes);
	}
}

static void test_size_rejects_other_suffixes(void **state)
{
	static const char *const bad[] = {"1k", "1m",  "1g", "1T", "1KB", "1MB",
					  "1B", "1 K", "K",  "",   "1Ki", "-1K"};
	struct wd_err err;
	uint64_t v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(size(bad[i], 0, UINT64_MAX, &v, &err), -EINVAL);
}

static void test_size_rejects_overflow_when_scaling(void **state)
{
	char text[64];
	struct wd_err err;
	uint64_t v;

	(void)state;
	(void)snprintf(text, sizeof(text), "%lluG", (unsigned long long)(UINT64_MAX >> 30));
	assert_int_equal(size(text, 0, UINT64_MAX, &v, &err), 0);
	(void)snprintf(text, sizeof(text), "%lluG", (unsigned long long)((UINT64_MAX >> 30) + 1));
	assert_int_equal(size(text, 0, UINT64_MAX, &v, &err), -ERANGE);
	(void)snprintf(text, sizeof(text), "%lluKiB", (unsigned long long)((UINT64_MAX >> 10) + 1));
	assert_int_equal(size(text, 0, UINT64_MAX, &v, &err), -ERANGE);
}

static void test_size_bounds_apply_after_scaling(void **state)
{
	struct wd_err err;
	uint64_t v;

	(void)state;
	assert_int_equal(size("1M", 1ULL << 20, 1ULL << 30, &v, &err), 0);
	assert_int_equal(size("1048575", 1ULL << 20, 1ULL << 30, &v, &err), -ERANGE);
	assert_int_equal(size("1G", 1ULL << 20, 1ULL << 30, &v, &err), 0);
	assert_int_equal(size("1025M", 1ULL << 20, 1ULL << 30, &v, &err), -ERANGE);
	assert_non_null(strstr(err.msg, "bytes"));
}

/* ---- wd_parse_bool ------------------------------------------------------- */

static void test_bool_accepts_each_spelling(void **state)
{
	static const char *const yes[] = {"1", "yes", "on", "true"};
	static const char *const no[] = {"0", "no", "off", "false"};
	struct wd_err err;
	bool v;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		v = false;
		assert_int_equal(wd_parse_bool(yes[i], &v, &err), 0);
		assert_true(v);
		v = true;
		assert_int_equal(wd_parse_bool(no[i], &v, &err), 0);
		assert_false(v);
	}
}

static void test_bool_rejects_anything_else(void **state)
{
	static const char *const bad[] = {"", "2", "Yes", "TRUE", "y", "n", "enable", " 1", "1 "};
	struct wd_err err;
	bool v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = true;
		assert_int_equal(wd_parse_bool(bad[i], &v, &err), -EINVAL);
		assert_true(v);
	}
	assert_non_null(strstr(err.msg, "not a boolean"));
}

/* ---- wd_parse_enum --------------------------------------------------------- */

static void test_enum_returns_the_index_of_the_name(void **state)
{
	static const char *const names[] = {"poweroff", "reboot", "halt", NULL};
	struct wd_err err;
	unsigned v = 99;

	(void)state;
	assert_int_equal(wd_parse_enum("poweroff", names, &v, &err), 0);
	assert_int_equal(v, 0);
	assert_int_equal(wd_parse_enum("halt", names, &v, &err), 0);
	assert_int_equal(v, 2);
}

static void test_enum_error_lists_the_choices(void **state)
{
	static const char *const names[] = {"poweroff", "reboot", "halt", NULL};
	struct wd_err err;
	unsigned v = 99;

	(void)state;
	assert_int_equal(wd_parse_enum("sideways", names, &v, &err), -EINVAL);
	assert_string_equal(err.msg, "'sideways' is not one of poweroff|reboot|halt");
	assert_int_equal(v, 99);
	assert_int_equal(wd_parse_enum("", names, &v, &err), -EINVAL);
	assert_int_equal(wd_parse_enum("Halt", names, &v, &err), -EINVAL);
}

static void test_enum_error_text_stays_bounded_with_long_names(void **state)
{
	static const char *const names[] = {
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
		"cccccccccccccccccccccccccccccccccccccccccccccccccc",
		"dddddddddddddddddddddddddddddddddddddddddddddddddd",
		"eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
		NULL,
	};
	struct wd_err err;
	unsigned v;

	(void)state;
	assert_int_equal(wd_parse_enum("x", names, &v, &err), -EINVAL);
	assert_true(strlen(err.msg) < sizeof(err.msg));
	assert_non_null(strstr(err.msg, names[0]));
	assert_null(strstr(err.msg, names[4]));
}

/* ---- wd_parse_hostname ------------------------------------------------------ */

static void test_hostname_accepts_rfc1123_names(void **state)
{
	static const char *const ok[] = {"a", "warden", "vm-1", "a.b.c", "1abc", "A-Z.09", "x1"};
	struct wd_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(wd_parse_hostname(ok[i], &err), 0);
}

static void test_hostname_rejects_bad_labels(void **state)
{
	static const char *const bad[] = {"",    "-a",  "a-",  "a..b",     ".a",  "a.",  "a.-b",
					  "a_b", "a b", "a/b", "\xc3\xa9", "a\n", "*.a", "a-.b"};
	struct wd_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(wd_parse_hostname(bad[i], &err), -EINVAL);
}

static void test_hostname_label_limit_is_63(void **state)
{
	char name[80];
	struct wd_err err;

	(void)state;
	memset(name, 'a', 63);
	name[63] = '\0';
	assert_int_equal(wd_parse_hostname(name, &err), 0);
	memset(name, 'a', 64);
	name[64] = '\0';
	assert_int_equal(wd_parse_hostname(name, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "over 63"));
}

static void test_hostname_total_limit_is_64(void **state)
{
	char name[80];
	struct wd_err err;

	(void)state;
	/* 32 + '.' + 31 = 64 characters, every label short enough. */
	memset(name, 'a', 64);
	name[32] = '.';
	name[64] = '\0';
	assert_int_equal(wd_parse_hostname(name, &err), 0);
	memset(name, 'a', 65);
	name[32] = '.';
	name[65] = '\0';
	assert_int_equal(wd_parse_hostname(name, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "1 to 64"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_accepts_zero_and_the_largest_value),
		cmocka_unit_test(test_u64_rejects_overflow),
		cmocka_unit_test(test_u64_rejects_empty_input),
		cmocka_unit_test(test_u64_rejects_leading_and_trailing_junk),
		cmocka_unit_test(test_u64_rejects_signs),
		cmocka_unit_test(test_u64_bounds_are_inclusive),
		cmocka_unit_test(test_duration_accepts_each_unit),
		cmocka_unit_test(test_duration_bare_number_means_seconds),
		cmocka_unit_test(test_duration_rejects_unknown_units),
		cmocka_unit_test(test_duration_rejects_a_unit_without_number),
		cmocka_unit_test(test_duration_rejects_overflow_when_scaling),
		cmocka_unit_test(test_duration_bounds_apply_after_scaling),
		cmocka_unit_test(test_size_accepts_each_suffix),
		cmocka_unit_test(test_size_rejects_other_suffixes),
		cmocka_unit_test(test_size_rejects_overflow_when_scaling),
		cmocka_unit_test(test_size_bounds_apply_after_scaling),
		cmocka_unit_test(test_bool_accepts_each_spelling),
		cmocka_unit_test(test_bool_rejects_anything_else),
		cmocka_unit_test(test_enum_returns_the_index_of_the_name),
		cmocka_unit_test(test_enum_error_lists_the_choices),
		cmocka_unit_test(test_enum_error_text_stays_bounded_with_long_names),
		cmocka_unit_test(test_hostname_accepts_rfc1123_names),
		cmocka_unit_test(test_hostname_rejects_bad_labels),
		cmocka_unit_test(test_hostname_label_limit_is_63),
		cmocka_unit_test(test_hostname_total_limit_is_64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
