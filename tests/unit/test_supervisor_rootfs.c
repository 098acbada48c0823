/*
 * tests/unit/test_supervisor_rootfs.c - supervisor/rootfs.c: the three
 * WARDEN_ROOTFS* settings (all or none, each checked), and the kernel's
 * DM_TABLE_STATUS answer read with every offset checked: the one verity
 * target's status ('V', 'C') and table (its data device and root digest).
 *
 * The answers are built here as the kernel lays them out (a struct
 * dm_ioctl, data_start, one struct dm_target_spec and its string), then
 * broken one field at a time: each breakage is refused, none is read past.
 * The query itself needs a dm-verity device: the image tests boot one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <linux/dm-ioctl.h>
#include <string.h>

#include "../../supervisor/rootfs.h"

#define HASH "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define SALT "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
#define TABLE "1 254:0 254:16 4096 4096 2560 0 sha256 " HASH " " SALT

static struct wd_err err;

/* ---- settings ------------------------------------------------------------ */

static void test_no_rootfs_is_fine(void **state)
{
	struct sup_rootfs r;

	(void)state;
	assert_int_equal(sup_rootfs_settings(NULL, NULL, NULL, &r, &err), 0);
	assert_false(r.on);
	assert_string_equal(r.root_hash, "");
}

static void test_all_three_are_taken(void **state)
{
	struct sup_rootfs r;

	(void)state;
	assert_int_equal(sup_rootfs_settings("/run/warden/rootfs", HASH, "warden-root", &r, &err),
			 0);
	assert_true(r.on);
	assert_string_equal(r.mount, "/run/warden/rootfs");
	assert_string_equal(r.root_hash, HASH);
	assert_string_equal(r.dm, "warden-root");
}

/* A rootfs without its device cannot be checked: not started at all. */
static void test_some_but_not_all_is_refused(void **state)
{
	struct sup_rootfs r;

	(void)state;
	assert_int_equal(sup_rootfs_settings("/run/warden/rootfs", HASH, NULL, &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "WARDEN_ROOTFS_DM"));
	assert_false(r.on);
	assert_int_equal(sup_rootfs_settings(NULL, HASH, "warden-root", &r, &err), -EINVAL);
	assert_int_equal(sup_rootfs_settings("/r", NULL, "warden-root", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "WARDEN_ROOTFS_HASH"));
}

static void test_each_value_is_checked(void **state)
{
	struct sup_rootfs r;

	(void)state;
	assert_int_equal(sup_rootfs_settings("run/warden/rootfs", HASH, "d", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "WARDEN_ROOTFS:"));
	assert_int_equal(sup_rootfs_settings("/r", "0123", "d", &r, &err), -EINVAL);
	assert_int_equal(sup_rootfs_settings("/r", HASH "0", "d", &r, &err), -EINVAL);
	assert_int_equal(sup_rootfs_settings(
				 "/r",
				 "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
				 "d", &r, &err),
			 -EINVAL);
	assert_non_null(strstr(err.msg, "WARDEN_ROOTFS_HASH"));
	assert_int_equal(sup_rootfs_settings("/r", HASH, "../control", &r, &err), -EINVAL);
	assert_int_equal(sup_rootfs_settings("/r", HASH, "", &r, &err), -EINVAL);
	assert_int_equal(sup_rootfs_settings("/r", HASH, "..", &r, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "WARDEN_ROOTFS_DM"));
	assert_false(r.on);
}

/* ---- the kernel's answer --------------------------------------------------- */

static _Alignas(8) unsigned char answer[1024];

/* An answer as DM_TABLE_STATUS lays it out: one target and its string. */
static size_t build(const char *type, const char *text)
{
	struct dm_ioctl io;
	struct dm_target_spec spec;
	size_t start = sizeof(io), n = strlen(text) + 1;

	memset(answer, 0xa5, sizeof(answer)); /* nothing is read that was not written */
	memset(&io, 0, sizeof(io));
	io.version[0] = DM_VERSION_MAJOR;
	io.data_start = (uint32_t)start;
	io.data_size = (uint32_t)(start + sizeof(spec) + n);
	io.target_count = 1;
	memset(&spec, 0, sizeof(spec));
	spec.length = 2560ULL * 8; /* sectors: 2560 blocks of 4096 bytes */
	(void)strncpy(spec.target_type, type, sizeof(spec.target_type));
	memcpy(answer, &io, sizeof(io));
	memcpy(answer + start, &spec, sizeof(spec));
	memcpy(answer + start + sizeof(spec), text, n);
	return io.data_size;
}

static struct dm_ioctl *header(void)
{
	return (struct dm_ioctl *)(void *)answer;
}

static void test_status_v_and_c_are_read(void **state)
{
	char text[64], st = 0;
	size_t len = build("verity", "V");

	(void)state;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), 0);
	assert_int_equal(sup_verity_parse_status(text, &st, &err), 0);
	assert_int_equal(st, 'V');
	len = build("verity", "C");
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), 0);
	assert_int_equal(sup_verity_parse_status(text, &st, &err), 0);
	assert_int_equal(st, 'C');
	/* A later kernel may say more after a space. */
	assert_int_equal(sup_verity_parse_status("C 1", &st, &err), 0);
	assert_int_equal(st, 'C');
}

static void test_status_other_than_v_or_c_is_refused(void **state)
{
	char st = 'V';

	(void)state;
	assert_int_equal(sup_verity_parse_status("", &st, &err), -EINVAL);
	assert_int_equal(sup_verity_parse_status("X", &st, &err), -EINVAL);
	assert_int_equal(sup_verity_parse_status("v", &st, &err), -EINVAL);
	assert_int_equal(sup_verity_parse_status("VC", &st, &err), -EINVAL);
	assert_int_equal(sup_verity_parse_status("Corrupt", &st, &err), -EINVAL);
	assert_int_equal(st, 'V');
}

/* A linear (or any other) target under the name is not the verified rootfs. */
static void test_a_target_other_than_verity_is_refused(void **state)
{
	char text[64];
	size_t len = build("linear", "254:0 0");

	(void)state;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "linear"));
	len = build("verity-x", "V");
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
}

static void test_target_type_without_its_nul_is_refused(void **state)
{
	struct dm_target_spec spec;
	char text[64];
	size_t len = build("verity", "V");

	(void)state;
	memcpy(&spec, answer + sizeof(struct dm_ioctl), sizeof(spec));
	memset(spec.target_type, 'v', sizeof(spec.target_type));
	memcpy(answer + sizeof(struct dm_ioctl), &spec, sizeof(spec));
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
}

static void test_not_exactly_one_target_is_refused(void **state)
{
	char text[64];
	size_t len;

	(void)state;
	len = build("verity", "V");
	header()->target_count = 0;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	len = build("verity", "V");
	header()->target_count = 2;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "2 targets"));
}

static void test_offsets_outside_the_answer_are_refused(void **state)
{
	char text[64];
	size_t len;

	(void)state;
	len = build("verity", "V");
	header()->data_size = (uint32_t)len + 1; /* past what came back */
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	len = build("verity", "V");
	header()->data_start = 8; /* inside the header */
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	len = build("verity", "V");
	header()->data_start = (uint32_t)len + 8; /* after the end */
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	len = build("verity", "V");
	header()->data_size = (uint32_t)(sizeof(struct dm_ioctl) + 4); /* no room for the target */
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	assert_int_equal(
		sup_verity_parse(answer, sizeof(struct dm_ioctl) - 1, text, sizeof(text), &err),
		-EINVAL);
}

/* The string must end inside data_size: a missing NUL is not read past. */
static void test_string_without_its_end_is_refused(void **state)
{
	char text[64];
	size_t len = build("verity", "V");

	(void)state;
	header()->data_size = (uint32_t)(len - 1); /* cuts the NUL off */
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no end"));
}

static void test_a_full_buffer_is_refused(void **state)
{
	char text[64];
	size_t len = build("verity", "V");

	(void)state;
	header()->flags |= DM_BUFFER_FULL_FLAG;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), -E2BIG);
	len = build("verity", TABLE);
	assert_int_equal(sup_verity_parse(answer, len, text, 16, &err), -E2BIG);
}

static void test_table_gives_data_device_and_root_hash(void **state)
{
	char text[512], data[SUP_ROOTFS_DEV_BYTES], root[WD_SHA256_HEX];
	size_t len = build("verity", TABLE " 1 ignore_zero_blocks");

	(void)state;
	assert_int_equal(sup_verity_parse(answer, len, text, sizeof(text), &err), 0);
	assert_int_equal(sup_verity_parse_table(text, data, root, &err), 0);
	assert_string_equal(data, "254:0");
	assert_string_equal(root, HASH);
}

static void test_table_not_as_expected_is_refused(void **state)
{
	char data[SUP_ROOTFS_DEV_BYTES], root[WD_SHA256_HEX];

	(void)state;
	assert_int_equal(sup_verity_parse_table("1 254:0 254:16 4096", data, root, &err), -EINVAL);
	assert_int_equal(sup_verity_parse_table("0 254:0 254:16 4096 4096 2560 0 sha256 " HASH
						" " SALT,
						data, root, &err),
			 -EINVAL);
	assert_int_equal(sup_verity_parse_table("1 vda 254:16 4096 4096 2560 0 sha256 " HASH
						" " SALT,
						data, root, &err),
			 -EINVAL);
	assert_int_equal(sup_verity_parse_table("1 254:0 254:16 4096 4096 2560 0 sha1 " HASH
						" " SALT,
						data, root, &err),
			 -EINVAL);
	assert_int_equal(sup_verity_parse_table("1 254:0 254:16 4096 4096 2560 0 sha256 0123 " SALT,
						data, root, &err),
			 -EINVAL);
	assert_int_equal(sup_verity_parse_table("", data, root, &err), -EINVAL);
}

/* No such device here: the query fails, and says which device. */
static void test_query_of_a_missing_device_fails(void **state)
{
	struct sup_rootfs r;
	struct sup_verity v;

	(void)state;
	assert_int_equal(sup_rootfs_settings("/r", HASH, "warden-test-no-such-device", &r, &err),
			 0);
	assert_true(sup_rootfs_check(&r, &v, &err) < 0);
	assert_non_null(strstr(err.msg, "warden-test-no-such-device"));
	assert_string_equal(v.data, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_rootfs_is_fine),
		cmocka_unit_test(test_all_three_are_taken),
		cmocka_unit_test(test_some_but_not_all_is_refused),
		cmocka_unit_test(test_each_value_is_checked),
		cmocka_unit_test(test_status_v_and_c_are_read),
		cmocka_unit_test(test_status_other_than_v_or_c_is_refused),
		cmocka_unit_test(test_a_target_other_than_verity_is_refused),
		cmocka_unit_test(test_target_type_without_its_nul_is_refused),
		cmocka_unit_test(test_not_exactly_one_target_is_refused),
		cmocka_unit_test(test_offsets_outside_the_answer_are_refused),
		cmocka_unit_test(test_string_without_its_end_is_refused),
		cmocka_unit_test(test_a_full_buffer_is_refused),
		cmocka_unit_test(test_table_gives_data_device_and_root_hash),
		cmocka_unit_test(test_table_not_as_expected_is_refused),
		cmocka_unit_test(test_query_of_a_missing_device_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
