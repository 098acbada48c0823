/*
 * tests/unit/test_supervisor_measure.c - supervisor/measure.c: the SHA-256
 * measurements of the HELLO, in lowercase hex.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/fileio.h"
#include "../../common/tlog.h"
#include "../../supervisor/measure.h"

/* FIPS 180-2 test vectors. */
#define SHA_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define SHA_ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define SHA_MILLION_A "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"

static void write_temp(char path[64], const char *data, size_t len)
{
	int fd;

	(void)snprintf(path, 64, "/tmp/warden-measure-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(wd_write_all(fd, data, len), 0);
	assert_int_equal(close(fd), 0);
}

static void expect_digest(const char *data, size_t len, const char *hex)
{
	char path[64], got[WD_SHA256_HEX];
	struct wd_err err;

	write_temp(path, data, len);
	assert_int_equal(sup_sha256_file(path, got, &err), 0);
	assert_string_equal(got, hex);
	assert_int_equal(unlink(path), 0);
}

static void test_known_digests(void **state)
{
	(void)state;
	expect_digest("", 0, SHA_EMPTY);
	expect_digest("abc", 3, SHA_ABC);
}

static void test_file_larger_than_one_chunk(void **state)
{
	char *a = malloc(1000000);

	(void)state;
	assert_non_null(a);
	memset(a, 'a', 1000000);
	expect_digest(a, 1000000, SHA_MILLION_A);
	free(a);
}

static void test_missing_file_is_enoent(void **state)
{
	char got[WD_SHA256_HEX];
	struct wd_err err;

	(void)state;
	assert_int_equal(sup_sha256_file("/nonexistent/warden/manifest", got, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/warden/manifest"));
}

static void test_hex_is_lowercase(void **state)
{
	static const uint8_t raw[] = {0x00, 0x9f, 0xab, 0xff};
	char out[9];

	(void)state;
	wd_hex(raw, sizeof(raw), out);
	assert_string_equal(out, "009fabff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_digests),
		cmocka_unit_test(test_file_larger_than_one_chunk),
		cmocka_unit_test(test_missing_file_is_enoent),
		cmocka_unit_test(test_hex_is_lowercase),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
