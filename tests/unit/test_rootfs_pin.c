/*
 * tests/unit/test_rootfs_pin.c - init_rootfs_pin_parse(): /etc/warden/rootfs.
 *
 * The pin is what PID 1 trusts about the root filesystem: the serials of
 * its two devices, its size and the root hash. What is proved here: the
 * documented example parses to the values written; every key is required
 * exactly once and no other key is taken; the values format 1 fixes are
 * refused when different; serials, block counts and hex are bounded and
 * strict; the file and line bounds hold; and no byte outside printable
 * ASCII gets through. Inputs are heap copies of exactly their length, so
 * ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/rootfs.h"

#define SALT "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define ROOT "e20e8490f0e67cbec604aa2658e3bb6e3d5e3df2ed61d49fc62eb95c13a440fa"

/* The example of docs/image.md, with a known salt and root hash. */
static const char example[] = "# warden rootfs pin (docs/image.md)\n"
			      "format 1\n"
			      "fs erofs\n"
			      "data-serial warden-rootfs\n"
			      "hash-serial warden-verity\n"
			      "data-blocks 534\n"
			      "data-block-size 4096\n"
			      "hash-block-size 4096\n"
			      "hash-offset 0\n"
			      "algorithm sha256\n"
			      "salt " SALT "\n"
			      "root-hash " ROOT "\n";

static int parse_n(const char *text, size_t len, struct init_rootfs_pin *pin, struct wd_err *err)
{
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, text, len);
	wd_err_clear(err);
	rc = init_rootfs_pin_parse(copy, len, pin, err);
	free(copy);
	if (rc < 0) {
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	}
	return rc;
}

static int parse(const char *text, struct init_rootfs_pin *pin, struct wd_err *err)
{
	return parse_n(text, strlen(text), pin, err);
}

/* The example with the line starting with `key ` replaced by `line`
 * (NULL: removed), or `line` added at the end when no line has that key. */
static void with_line(const char *key, const char *line, char *out, size_t size)
{
	const char *p = example;
	size_t used = 0, klen = strlen(key);
	bool replaced = false;

	out[0] = '\0';
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = (size_t)(nl - p) + 1;

		if (strncmp(p, key, klen) == 0 && p[klen] == ' ') {
			replaced = true;
			if (line != NULL)
				used += (size_t)snprintf(out + used, size - used, "%s\n", line);
		} else {
			used += (size_t)snprintf(out + used, size - used, "%.*s", (int)n, p);
		}
		assert_true(used < size);
		p += n;
	}
	if (!replaced && line != NULL)
		(void)snprintf(out + used, size - used, "%s\n", line);
}

static void assert_refused_with(const char *key, const char *line, const char *in_msg)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	char text[INIT_ROOTFS_PIN_MAX_BYTES];

	with_line(key, line, text, sizeof(text));
	if (parse(text, &pin, &err) >= 0)
		fail_msg("accepted with '%s'", line != NULL ? line : key);
	if (strstr(err.msg, in_msg) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", line != NULL ? line : key, err.msg,
			 in_msg);
}

static void test_the_documented_example_parses(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(example, &pin, &err), 0);
	assert_string_equal(pin.data_serial, "warden-rootfs");
	assert_string_equal(pin.hash_serial, "warden-verity");
	assert_true(pin.data_blocks == 534);
	assert_string_equal(pin.salt_hex, SALT);
	assert_string_equal(pin.root_hash_hex, ROOT);
	assert_int_equal(pin.salt[0], 0x01);
	assert_int_equal(pin.salt[31], 0xef);
	assert_int_equal(pin.root_hash[0], 0xe2);
	assert_int_equal(pin.root_hash[31], 0xfa);
}

static void test_keys_in_any_order_without_final_newline(void **state)
{
	static const char text[] = "root-hash " ROOT "\nsalt " SALT "\n\n# comment\n"
				   "algorithm sha256\nhash-offset 0\nhash-block-size 4096\n"
				   "data-block-size 4096\ndata-blocks 1\nhash-serial b\n"
				   "data-serial a\nfs erofs\nformat 1";
	struct init_rootfs_pin pin;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(text, &pin, &err), 0);
	assert_true(pin.data_blocks == 1);
	assert_string_equal(pin.data_serial, "a");
}

static void test_every_key_is_required(void **state)
{
	static const char *const keys[] = {"format",          "fs",
					   "data-serial",     "hash-serial",
					   "data-blocks",     "data-block-size",
					   "hash-block-size", "hash-offset",
					   "algorithm",       "salt",
					   "root-hash"};

	(void)state;
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char want[64];

		(void)snprintf(want, sizeof(want), "no '%s' line", keys[i]);
		assert_refused_with(keys[i], NULL, want);
	}
}

static void test_a_key_given_twice_is_refused(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	char text[INIT_ROOTFS_PIN_MAX_BYTES];

	(void)state;
	/* Even with the same value: a second line is never a harmless repeat. */
	(void)snprintf(text, sizeof(text), "%sroot-hash %s\n", example, ROOT);
	assert_int_equal(parse(text, &pin, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "root-hash given twice"));
}

static void test_an_unknown_key_is_refused(void **state)
{
	(void)state;
	assert_refused_with("hash-start", "hash-start 0", "unknown key 'hash-start'");
	assert_refused_with("Format", "Format 1", "unknown key");
	assert_refused_with("options", "options ignore_corruption", "unknown key");
}

static void test_values_format_1_fixes_are_refused_when_different(void **state)
{
	(void)state;
	assert_refused_with("format", "format 2", "format: only 1 is supported");
	assert_refused_with("fs", "fs squashfs", "fs: only erofs");
	assert_refused_with("data-block-size", "data-block-size 512", "only 4096");
	assert_refused_with("hash-block-size", "hash-block-size 8192", "only 4096");
	assert_refused_with("hash-offset", "hash-offset 4096", "hash-offset: only 0");
	assert_refused_with("algorithm", "algorithm sha1", "algorithm: only sha256");
	assert_refused_with("algorithm", "algorithm SHA256", "only sha256");
}

static void test_serials_are_bounded_and_plain(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	char text[INIT_ROOTFS_PIN_MAX_BYTES];

	(void)state;
	with_line("data-serial", "data-serial abcdefghij0123456789", text, sizeof(text));
	assert_int_equal(parse(text, &pin, &err), 0);
	assert_string_equal(pin.data_serial, "abcdefghij0123456789");
	assert_refused_with("data-serial", "data-serial abcdefghij0123456789x", "1 to 20");
	assert_refused_with("hash-serial", "hash-serial a/b", "[A-Za-z0-9._-]");
	assert_refused_with("hash-serial", "hash-serial a\\b", "[A-Za-z0-9._-]");
	assert_refused_with("data-serial", "data-serial warden-verity", "are the same");
}

static void test_data_blocks_are_decimal_and_in_range(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	char text[INIT_ROOTFS_PIN_MAX_BYTES], line[64];

	(void)state;
	(void)snprintf(line, sizeof(line), "data-blocks %llu",
		       (unsigned long long)INIT_ROOTFS_MAX_DATA_BLOCKS);
	with_line("data-blocks", line, text, sizeof(text));
	assert_int_equal(parse(text, &pin, &err), 0);
	assert_true(pin.data_blocks == INIT_ROOTFS_MAX_DATA_BLOCKS);
	(void)snprintf(line, sizeof(line), "data-blocks %llu",
		       (unsigned long long)INIT_ROOTFS_MAX_DATA_BLOCKS + 1);
	assert_refused_with("data-blocks", line, "data-blocks");
	assert_refused_with("data-blocks", "data-blocks 0", "data-blocks");
	assert_refused_with("data-blocks", "data-blocks -1", "data-blocks");
	assert_refused_with("data-blocks", "data-blocks 0x10", "data-blocks");
	assert_refused_with("data-blocks", "data-blocks 18446744073709551617", "data-blocks");
}

static void test_hex_is_64_lower_case_digits(void **state)
{
	(void)state;
	assert_refused_with("salt", "salt " SALT "0", "64 lower-case hex");
	assert_refused_with("root-hash", "root-hash e20e", "64 lower-case hex");
	assert_refused_with(
		"root-hash",
		"root-hash E20E8490F0E67CBEC604AA2658E3BB6E3D5E3DF2ED61D49FC62EB95C13A440FA",
		"64 lower-case hex");
	assert_refused_with("salt",
			    "salt 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
			    "64 lower-case hex");
	assert_refused_with("salt", "salt -", "64 lower-case hex");
}

static void test_spacing_is_exactly_one_space(void **state)
{
	(void)state;
	assert_refused_with("format", "format  1", "one value after one space");
	assert_refused_with("format", "format 1 ", "one value after one space");
	assert_refused_with("format", "format", "expected 'key value'");
	assert_refused_with("format", " format 1", "expected 'key value'");
	assert_refused_with("fs", "fs erofs extra", "one value after one space");
}

static void test_control_bytes_are_refused(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	char text[INIT_ROOTFS_PIN_MAX_BYTES];
	static const char bytes[] = {'\0', '\r', '\t', 0x7f, (char)0x80, (char)0xff};

	(void)state;
	for (size_t i = 0; i < sizeof(bytes); i++) {
		size_t len;

		(void)snprintf(text, sizeof(text), "%s", example);
		len = strlen(text);
		/* In the middle of the "fs erofs" line. */
		strstr(text, "fs erofs")[5] = bytes[i];
		assert_int_equal(parse_n(text, len, &pin, &err), -EINVAL);
		assert_non_null(strstr(err.msg, "byte 0x"));
	}
}

static void test_file_and_line_bounds(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;
	static char text[INIT_ROOTFS_PIN_MAX_BYTES + 2];
	size_t used;

	(void)state;
	/* Comments fill the file up to exactly the bound: accepted. */
	used = (size_t)snprintf(text, sizeof(text), "%s", example);
	while (used < INIT_ROOTFS_PIN_MAX_BYTES) {
		size_t n = INIT_ROOTFS_PIN_MAX_BYTES - used;

		if (n > 100)
			n = 100;
		memset(text + used, '#', n - 1);
		text[used + n - 1] = '\n';
		used += n;
	}
	assert_int_equal(parse_n(text, INIT_ROOTFS_PIN_MAX_BYTES, &pin, &err), 0);
	/* One byte more: refused before any line is looked at. */
	text[INIT_ROOTFS_PIN_MAX_BYTES] = '\n';
	assert_int_equal(parse_n(text, INIT_ROOTFS_PIN_MAX_BYTES + 1, &pin, &err), -E2BIG);
	/* A line over its bound, even a comment. */
	memset(text, '#', 300);
	text[300] = '\n';
	assert_int_equal(parse_n(text, 301, &pin, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "line 1"));
}

static void test_empty_input_names_the_first_missing_key(void **state)
{
	struct init_rootfs_pin pin;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse("", &pin, &err), -EINVAL);
	assert_string_equal(err.msg, "no 'format' line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_documented_example_parses),
		cmocka_unit_test(test_keys_in_any_order_without_final_newline),
		cmocka_unit_test(test_every_key_is_required),
		cmocka_unit_test(test_a_key_given_twice_is_refused),
		cmocka_unit_test(test_an_unknown_key_is_refused),
		cmocka_unit_test(test_values_format_1_fixes_are_refused_when_different),
		cmocka_unit_test(test_serials_are_bounded_and_plain),
		cmocka_unit_test(test_data_blocks_are_decimal_and_in_range),
		cmocka_unit_test(test_hex_is_64_lower_case_digits),
		cmocka_unit_test(test_spacing_is_exactly_one_space),
		cmocka_unit_test(test_control_bytes_are_refused),
		cmocka_unit_test(test_file_and_line_bounds),
		cmocka_unit_test(test_empty_input_names_the_first_missing_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
