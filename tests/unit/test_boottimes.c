/*
 * tests/unit/test_boottimes.c - common/boottimes.c: WARDEN_BOOT_TIMES, the
 * timings init hands to the supervisor in its environment.
 *
 * The supervisor parses what init formatted; the environment is still
 * input, so the parser is strict: every field, in order, decimal, bounded.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../common/boottimes.h"

#define VALID "t0=1,mounts=2,modules=3,sysctls=4,system=5,spawn=6"

static int parse(const char *s, struct wd_boot_times *t, struct wd_err *err)
{
	int rc;

	wd_err_clear(err);
	rc = wd_boot_times_parse(s, t, err);
	if (rc < 0) {
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	}
	return rc;
}

static void test_format_then_parse_round_trips(void **state)
{
	const struct wd_boot_times in = {
		.t0_ns = 123456789,
		.mounts_ns = 0,
		.modules_ns = 42,
		.sysctls_ns = 1000000,
		.system_ns = 7,
		.spawn_ns = 99,
	};
	struct wd_boot_times out;
	char buf[WD_BOOT_TIMES_BYTES];
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_boot_times_format(&in, buf, sizeof(buf)), 0);
	assert_string_equal(buf,
			    "t0=123456789,mounts=0,modules=42,sysctls=1000000,system=7,spawn=99");
	memset(&out, 0xff, sizeof(out));
	assert_int_equal(parse(buf, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_largest_values_round_trip(void **state)
{
	const struct wd_boot_times in = {UINT64_MAX, UINT64_MAX, UINT64_MAX,
					 UINT64_MAX, UINT64_MAX, UINT64_MAX};
	struct wd_boot_times out;
	char buf[WD_BOOT_TIMES_BYTES];
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_boot_times_format(&in, buf, sizeof(buf)), 0);
	assert_true(strlen(buf) < WD_BOOT_TIMES_BYTES);
	assert_int_equal(parse(buf, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_format_into_a_short_buffer_fails(void **state)
{
	const struct wd_boot_times in = {1, 2, 3, 4, 5, 6};
	char buf[WD_BOOT_TIMES_BYTES];

	(void)state;
	assert_int_equal(wd_boot_times_format(&in, buf, strlen(VALID)), -ENOSPC);
	assert_int_equal(wd_boot_times_format(&in, buf, strlen(VALID) + 1), 0);
	assert_string_equal(buf, VALID);
}

static void test_missing_field_is_rejected(void **state)
{
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("t0=1,mounts=2,modules=3,sysctls=4,system=5", &t, &err), -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": missing field 'spawn'");
	assert_int_equal(parse("t0=1", &t, &err), -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": missing field 'mounts'");
	assert_int_equal(parse("t0=1,mounts=2,sysctls=4,system=5,spawn=6", &t, &err), -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": expected field 'modules'");
}

static void test_fields_out_of_order_are_rejected(void **state)
{
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("mounts=2,t0=1,modules=3,sysctls=4,system=5,spawn=6", &t, &err),
			 -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": expected field 't0'");
	assert_int_equal(parse("t0=1,mounts=2,modules=3,sysctls=4,spawn=6,system=5", &t, &err),
			 -EINVAL);
}

static void test_extra_field_is_rejected(void **state)
{
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(VALID ",ready=7", &t, &err), -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": unexpected field 'ready=7'");
	assert_int_equal(parse(VALID ",", &t, &err), -EINVAL);
}

static void test_junk_values_are_rejected(void **state)
{
	static const char *const bad[] = {
		"",
		"t0",
		"t0=",
		"t0 =1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0= 1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0=1x,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0=-1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0=+1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t00=1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"T0=1,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0=1,,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
		"t0=1;mounts=2;modules=3;sysctls=4;system=5;spawn=6",
		"t0=1,mounts=2,modules=3,sysctls=4,system=5,spawn=6 ",
		"t0=18446744073709551616,mounts=2,modules=3,sysctls=4,system=5,spawn=6",
	};
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &t, &err) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	}
}

static void test_value_error_names_the_field(void **state)
{
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("t0=1,mounts=2,modules=x,sysctls=4,system=5,spawn=6", &t, &err),
			 -EINVAL);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV ": modules: 'x' is not a number");
}

/* VALID with t0's value padded by leading zeros to a total of `len` bytes. */
static void padded(char *buf, size_t len)
{
	static const char valid[] = VALID;
	const char *after_t0 = &valid[strlen("t0=1")];
	size_t rest = strlen(after_t0);

	assert_true(len >= strlen(valid));
	memcpy(buf, "t0=", 3);
	memset(buf + 3, '0', len - rest - 4);
	buf[len - rest - 1] = '1';
	memcpy(buf + len - rest, after_t0, rest + 1);
	assert_int_equal(strlen(buf), len);
}

static void test_255_bytes_are_accepted(void **state)
{
	char buf[WD_BOOT_TIMES_BYTES + 8];
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	padded(buf, WD_BOOT_TIMES_BYTES - 1);
	assert_int_equal(parse(buf, &t, &err), 0);
	assert_true(t.t0_ns == 1 && t.spawn_ns == 6);
}

static void test_over_255_bytes_is_rejected(void **state)
{
	char buf[WD_BOOT_TIMES_BYTES + 8];
	struct wd_boot_times t;
	struct wd_err err;

	(void)state;
	padded(buf, WD_BOOT_TIMES_BYTES);
	assert_int_equal(parse(buf, &t, &err), -E2BIG);
	assert_string_equal(err.msg, WD_BOOT_TIMES_ENV " over 255 bytes");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_then_parse_round_trips),
		cmocka_unit_test(test_largest_values_round_trip),
		cmocka_unit_test(test_format_into_a_short_buffer_fails),
		cmocka_unit_test(test_missing_field_is_rejected),
		cmocka_unit_test(test_fields_out_of_order_are_rejected),
		cmocka_unit_test(test_extra_field_is_rejected),
		cmocka_unit_test(test_junk_values_are_rejected),
		cmocka_unit_test(test_value_error_names_the_field),
		cmocka_unit_test(test_255_bytes_are_accepted),
		cmocka_unit_test(test_over_255_bytes_is_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
