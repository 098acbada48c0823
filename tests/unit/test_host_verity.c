/*
 * tests/unit/test_host_verity.c - host/verity.c: the hash tree warden
 * computes is byte for byte the one `veritysetup format --no-superblock
 * --format=1` writes, with the same root hash, for data of 1, 2, 128, 129,
 * 16385 and 16512 blocks (no level; one level of one block; one full
 * block; two levels; three levels; a full second level); and the check
 * refuses a tree with a changed byte at any level, changed data, a wrong
 * root hash, salt or tree size.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fileio.h"
#include "../../common/tlog.h"
#include "../../host/imageio.h"
#include "../../host/toolrun.h"
#include "../../host/verity.h"

static struct wd_err err;
static char dir[] = "/tmp/warden-test-verity.XXXXXX";

static const uint8_t salt[32] = {0x5a, 0x17, 0x00, 0xff, 1,  2,  3,  4,  5,  6,   7,
				 8,    9,    10,   11,   12, 13, 14, 15, 16, 17,  18,
				 19,   20,   21,   22,   23, 24, 25, 26, 27, 0x80};

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* `blocks` blocks of reproducible pseudo-random data in dir/name. */
static int make_data(const char *name, uint64_t blocks)
{
	char path[256];
	uint8_t buf[WD_VERITY_BLOCK];
	uint32_t x = (uint32_t)blocks * 2654435761u + 1;
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (uint64_t b = 0; b < blocks; b++) {
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		assert_int_equal(wd_write_all(fd, buf, sizeof(buf)), 0);
	}
	return fd;
}

static int open_path(const char *name, int flags)
{
	char path[256];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, flags | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	return fd;
}

static bool same_files(int a, int b)
{
	uint8_t x[WD_VERITY_BLOCK], y[WD_VERITY_BLOCK];
	off_t off = 0;

	if (lseek(a, 0, SEEK_END) != lseek(b, 0, SEEK_END))
		return false;
	for (;;) {
		ssize_t n = pread(a, x, sizeof(x), off), m = pread(b, y, sizeof(y), off);

		if (n != m || n < 0)
			return false;
		if (n == 0)
			return true;
		if (memcmp(x, y, (size_t)n) != 0)
			return false;
		off += n;
	}
}

/* veritysetup's tree for dir/data into dir/vs.tree; its root hash. */
static void veritysetup(char root_hex[WD_IMAGE_HEX])
{
	char data[256], tree[256], out[4096], salt_hex[65];
	struct wd_tool t = {.in_fd = -1, .out_fd = -1, .out = out, .out_size = sizeof(out)};
	struct wd_argv a;
	const char *p;

	(void)snprintf(data, sizeof(data), "%s/data", dir);
	(void)snprintf(tree, sizeof(tree), "%s/vs.tree", dir);
	(void)unlink(tree);
	wd_hex(salt, sizeof(salt), salt_hex);
	wd_argv_init(&a);
	wd_argv_add(&a, "veritysetup");
	wd_argv_add(&a, "format");
	wd_argv_add(&a, "--no-superblock");
	wd_argv_add(&a, "--format=1");
	wd_argv_add(&a, "--hash=sha256");
	wd_argv_add(&a, "--data-block-size=4096");
	wd_argv_add(&a, "--hash-block-size=4096");
	wd_argv_add(&a, "--salt=%s", salt_hex);
	wd_argv_add(&a, "%s", data);
	wd_argv_add(&a, "%s", tree);
	if (wd_tool_run(&t, &a, &err) < 0)
		fail_msg("%s", err.msg);
	p = strstr(out, "Root hash:");
	assert_non_null(p);
	p += strlen("Root hash:");
	p += strspn(p, " \t");
	memcpy(root_hex, p, 64);
	root_hex[64] = '\0';
}

static void same_as_veritysetup(uint64_t blocks)
{
	char want[WD_IMAGE_HEX], got[WD_IMAGE_HEX], path[64];
	uint8_t root[32];
	int dfd = make_data("data", blocks), tfd, vfd;

	if (wd_tool_find("veritysetup", path, sizeof(path), &err) < 0)
		skip();
	tfd = open_path("warden.tree", O_RDWR | O_CREAT | O_TRUNC);
	assert_int_equal(wd_verity_build(dfd, blocks, salt, sizeof(salt), tfd, root, &err), 0);
	wd_hex(root, sizeof(root), got);
	veritysetup(want);
	assert_string_equal(got, want);
	vfd = open_path("vs.tree", O_RDONLY);
	assert_true(same_files(tfd, vfd));
	assert_int_equal((uint64_t)lseek(vfd, 0, SEEK_END), wd_verity_tree_bytes(blocks));
	assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), vfd, root, &err), 0);
	(void)close(vfd);
	(void)close(tfd);
	(void)close(dfd);
}

static void test_one_block_has_no_tree(void **state)
{
	(void)state;
	assert_int_equal(wd_verity_tree_bytes(1), 0);
	same_as_veritysetup(1);
}

static void test_two_blocks(void **state)
{
	(void)state;
	same_as_veritysetup(2);
}

static void test_128_blocks_fill_one_hash_block(void **state)
{
	(void)state;
	assert_int_equal(wd_verity_tree_bytes(128), 4096);
	same_as_veritysetup(128);
}

static void test_129_blocks_make_two_levels(void **state)
{
	(void)state;
	assert_int_equal(wd_verity_tree_bytes(129), 3 * 4096);
	same_as_veritysetup(129);
}

static void test_16385_blocks_make_three_levels(void **state)
{
	struct wd_verity_layout l;

	(void)state;
	assert_int_equal(wd_verity_layout(16385, &l), 0);
	assert_int_equal(l.levels, 3);
	assert_int_equal(l.blocks[0], 129);
	assert_int_equal(l.blocks[1], 2);
	assert_int_equal(l.blocks[2], 1);
	assert_int_equal(l.start[2], 0); /* the top level first */
	assert_int_equal(l.start[1], 1);
	assert_int_equal(l.start[0], 3);
	same_as_veritysetup(16385);
}

static void test_16512_blocks(void **state)
{
	(void)state;
	same_as_veritysetup(16512);
}

static void test_layout_bounds(void **state)
{
	struct wd_verity_layout l;

	(void)state;
	assert_int_equal(wd_verity_layout(0, &l), -EINVAL);
	assert_int_equal(wd_verity_layout(WD_VERITY_MAX_DATA_BLOCKS + 1, &l), -EINVAL);
	assert_int_equal(wd_verity_layout(WD_VERITY_MAX_DATA_BLOCKS, &l), 0);
	assert_true(l.levels <= WD_VERITY_MAX_LEVELS);
	assert_int_equal(wd_verity_tree_bytes(0), 0);
}

static void flip(int fd, off_t at)
{
	uint8_t b;

	assert_int_equal(pread(fd, &b, 1, at), 1);
	b ^= 0x01;
	assert_int_equal(pwrite(fd, &b, 1, at), 1);
}

/* A tree of 16385 blocks, then one change at a time: each is refused. */
static void test_check_refuses_every_change(void **state)
{
	const uint64_t blocks = 16385;
	uint8_t root[32], bad_root[32], bad_salt[32];
	int dfd = make_data("data", blocks);
	int tfd = open_path("warden.tree", O_RDWR | O_CREAT | O_TRUNC);
	/* a byte in the top level, the middle level, the last level */
	const off_t tree_bytes[] = {17, 4096 + 100, 3 * 4096 + 5, 131 * 4096 + 4095};

	(void)state;
	assert_int_equal(wd_verity_build(dfd, blocks, salt, sizeof(salt), tfd, root, &err), 0);
	assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, root, &err), 0);
	for (size_t i = 0; i < sizeof(tree_bytes) / sizeof(tree_bytes[0]); i++) {
		flip(tfd, tree_bytes[i]);
		assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, root, &err),
				 -EBADMSG);
		assert_non_null(strstr(err.msg, "level"));
		flip(tfd, tree_bytes[i]);
	}
	flip(dfd, 4096 * 9000 + 7);
	assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, root, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "level 0 block 70 "));
	flip(dfd, 4096 * 9000 + 7);
	memcpy(bad_root, root, sizeof(root));
	bad_root[31] ^= 0x80;
	assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, bad_root, &err),
			 -EBADMSG);
	assert_non_null(strstr(err.msg, "root hash"));
	memcpy(bad_salt, salt, sizeof(salt));
	bad_salt[0] ^= 1;
	assert_int_equal(wd_verity_check(dfd, blocks, bad_salt, sizeof(bad_salt), tfd, root, &err),
			 -EBADMSG);
	/* A tree one block longer (or shorter) than the data needs. */
	assert_int_equal(ftruncate(tfd, (off_t)wd_verity_tree_bytes(blocks) + 4096), 0);
	assert_int_equal(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, root, &err),
			 -EBADMSG);
	/* Data shorter than its block count. */
	assert_int_equal(ftruncate(tfd, (off_t)wd_verity_tree_bytes(blocks)), 0);
	assert_int_equal(ftruncate(dfd, 4096 * (off_t)(blocks - 1)), 0);
	assert_true(wd_verity_check(dfd, blocks, salt, sizeof(salt), tfd, root, &err) < 0);
	(void)close(tfd);
	(void)close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_block_has_no_tree),
		cmocka_unit_test(test_two_blocks),
		cmocka_unit_test(test_128_blocks_fill_one_hash_block),
		cmocka_unit_test(test_129_blocks_make_two_levels),
		cmocka_unit_test(test_16385_blocks_make_three_levels),
		cmocka_unit_test(test_16512_blocks),
		cmocka_unit_test(test_layout_bounds),
		cmocka_unit_test(test_check_refuses_every_change),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
