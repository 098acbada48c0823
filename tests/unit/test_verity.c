/*
 * tests/unit/test_verity.c - init/verity.c: the dm-verity hash tree PID 1
 * checks before it trusts the root filesystem.
 *
 * The reference is veritysetup (cryptsetup), the tool whose trees
 * dm-verity reads: for data of 1, 2, 128, 129, 16384 and 16385 blocks
 * (no tree, one level, the first two-level tree, the first three-level
 * tree), `veritysetup format --no-superblock --format=1` writes a tree and
 * prints a root hash; warden's layout must put every level where that
 * tree has it (the check passes only then) and its size must be the hash
 * file's. Then the attacks: a byte changed in any level, in a block's zero
 * padding, a wrong root hash, a wrong salt, a tree cut short - each is
 * refused with -EBADMSG; a read error is passed on; each hash block is
 * read exactly once and the data device not at all.
 *
 * veritysetup is a build dependency (scripts/bootstrap.sh installs
 * cryptsetup-bin); without it the reference tests are skipped, loudly.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/sha256.h"
#include "../../init/rootfs.h"

#define BLOCK ((size_t)INIT_ROOTFS_BLOCK_BYTES)
#define SALT_HEX "5a1f00d5a1f00d5a1f00d5a1f00d5a1f00d5a1f00d5a1f00d5a1f00d5a1f00d0"

static const char *const veritysetup_paths[] = {"/usr/sbin/veritysetup", "/sbin/veritysetup",
						"/usr/bin/veritysetup"};

/* A tree made by veritysetup, in memory. */
struct ref {
	uint64_t data_blocks;
	uint8_t salt[32], root[32];
	uint8_t *hash; /* the hash file */
	size_t hash_len;
	uint8_t data0[BLOCK]; /* the first data block */
};

struct mem_reader {
	const struct ref *r;
	uint64_t hash_reads, data_reads;
	uint8_t *seen;    /* per hash block: times read */
	uint64_t fail_at; /* a hash block whose read fails (UINT64_MAX: none) */
};

static const char *veritysetup(void)
{
	for (size_t i = 0; i < sizeof(veritysetup_paths) / sizeof(veritysetup_paths[0]); i++) {
		if (access(veritysetup_paths[i], X_OK) == 0)
			return veritysetup_paths[i];
	}
	return NULL;
}

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

static size_t slurp(const char *path, uint8_t **out)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t got = 0;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	*out = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
	assert_non_null(*out);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *out + got, (size_t)st.st_size - got);

		assert_true(n > 0);
		got += (size_t)n;
	}
	(void)close(fd);
	return got;
}

/*
 * Data of `blocks` blocks (sparse zeros, with a few blocks of their own
 * content so that no two subtrees are alike), its tree by veritysetup.
 * Returns false when veritysetup is not installed.
 */
static bool make_ref(uint64_t blocks, struct ref *r)
{
	const char *vs = veritysetup();
	char dir[] = "/tmp/warden-unit-verity.XXXXXX", data[64], hash[64], out[64], line[256];
	uint8_t block[BLOCK];
	pid_t pid;
	int fd, status;
	FILE *f;
	bool root_seen = false;

	memset(r, 0, sizeof(*r));
	if (vs == NULL)
		return false;
	r->data_blocks = blocks;
	unhex(SALT_HEX, r->salt, sizeof(r->salt));
	assert_non_null(mkdtemp(dir));
	(void)snprintf(data, sizeof(data), "%s/data", dir);
	(void)snprintf(hash, sizeof(hash), "%s/hash", dir);
	(void)snprintf(out, sizeof(out), "%s/out", dir);
	fd = open(data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(blocks * BLOCK)), 0);
	for (uint64_t b = 0; b < blocks; b = b * 3 + 1) {
		memset(block, (int)(b & 0xff), sizeof(block));
		memcpy(block, &b, sizeof(b));
		assert_true(pwrite(fd, block, sizeof(block), (off_t)(b * BLOCK)) == (ssize_t)BLOCK);
		if (b == 0)
			memcpy(r->data0, block, BLOCK);
	}
	(void)close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (o < 0 || dup2(o, 1) < 0)
			_exit(126);
		execl(vs, vs, "format", "--no-superblock", "--format=1", "--hash=sha256",
		      "--salt=" SALT_HEX, "--data-block-size=4096", "--hash-block-size=4096", data,
		      hash, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	f = fopen(out, "r");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		char hex[65];

		if (sscanf(line, "Root hash: %64s", hex) == 1) {
			assert_int_equal(strlen(hex), 64);
			unhex(hex, r->root, sizeof(r->root));
			root_seen = true;
		}
	}
	(void)fclose(f);
	assert_true(root_seen);
	r->hash_len = slurp(hash, &r->hash);
	assert_int_equal(unlink(data), 0);
	assert_int_equal(unlink(hash), 0);
	assert_int_equal(unlink(out), 0);
	assert_int_equal(rmdir(dir), 0);
	return true;
}

static int mem_read(enum init_verity_dev dev, uint64_t block, uint8_t *buf, void *ctx,
		    struct wd_err *err)
{
	struct mem_reader *m = ctx;

	if (dev == INIT_VERITY_DATA) {
		assert_true(block == 0);
		m->data_reads++;
		memcpy(buf, m->r->data0, BLOCK);
		return 0;
	}
	if (block == m->fail_at)
		return wd_err_set(err, EIO, "read hash block %llu", (unsigned long long)block);
	assert_true((block + 1) * BLOCK <= m->r->hash_len);
	m->seen[block]++;
	m->hash_reads++;
	memcpy(buf, m->r->hash + block * BLOCK, BLOCK);
	return 0;
}

static int check_ref(const struct ref *r, const uint8_t *salt, const uint8_t *root,
		     struct mem_reader *m, struct wd_err *err)
{
	struct init_verity_geom g;
	int rc;

	assert_int_equal(init_verity_geometry(r->data_blocks, &g, err), 0);
	memset(m, 0, sizeof(*m));
	m->r = r;
	m->fail_at = UINT64_MAX;
	m->seen = calloc(r->hash_len / BLOCK + 1, 1);
	assert_non_null(m->seen);
	wd_err_clear(err);
	rc = init_verity_check(&g, salt, root, mem_read, m, err);
	/* A tree that passes was read whole, each block once. */
	for (uint64_t b = 0; rc == 0 && b < g.hash_blocks; b++)
		assert_int_equal(m->seen[b], 1);
	free(m->seen);
	m->seen = NULL;
	return rc;
}

static void free_ref(struct ref *r)
{
	free(r->hash);
	r->hash = NULL;
}

/* ---- the layout, against veritysetup -------------------------------------- */

static void check_against_veritysetup(uint64_t blocks, unsigned want_levels)
{
	struct init_verity_geom g;
	struct mem_reader m;
	struct wd_err err;
	struct ref r;

	if (!make_ref(blocks, &r))
		skip();
	assert_int_equal(init_verity_geometry(blocks, &g, &err), 0);
	assert_int_equal(g.levels, want_levels);
	assert_true(g.hash_blocks * BLOCK == r.hash_len);
	if (check_ref(&r, r.salt, r.root, &m, &err) != 0)
		fail_msg("%llu blocks: %s", (unsigned long long)blocks, err.msg);
	assert_true(m.hash_reads == g.hash_blocks);
	assert_true(m.data_reads == (want_levels == 0 ? 1 : 0));
	free_ref(&r);
}

static void test_one_block_has_no_tree_and_its_digest_is_the_root(void **state)
{
	(void)state;
	check_against_veritysetup(1, 0);
}

static void test_two_blocks_make_one_level(void **state)
{
	(void)state;
	check_against_veritysetup(2, 1);
}

static void test_128_blocks_fill_one_hash_block(void **state)
{
	(void)state;
	check_against_veritysetup(128, 1);
}

static void test_129_blocks_make_two_levels(void **state)
{
	(void)state;
	check_against_veritysetup(129, 2);
}

static void test_16384_and_16385_blocks_are_two_and_three_levels(void **state)
{
	(void)state;
	check_against_veritysetup(16384, 2);
	check_against_veritysetup(16385, 3);
}

static void test_geometry_puts_the_top_level_first(void **state)
{
	struct init_verity_geom g;
	struct wd_err err;

	(void)state;
	assert_int_equal(init_verity_geometry(16385, &g, &err), 0);
	assert_int_equal(g.levels, 3);
	assert_true(g.level_start[2] == 0 && g.level_blocks[2] == 1);
	assert_true(g.level_start[1] == 1 && g.level_blocks[1] == 2);
	assert_true(g.level_start[0] == 3 && g.level_blocks[0] == 129);
	assert_true(g.hash_blocks == 132);
	assert_int_equal(init_verity_geometry(INIT_ROOTFS_MAX_DATA_BLOCKS, &g, &err), 0);
	assert_int_equal(g.levels, 4);
	assert_int_equal(init_verity_geometry(0, &g, &err), -EINVAL);
	assert_int_equal(init_verity_geometry(INIT_ROOTFS_MAX_DATA_BLOCKS + 1, &g, &err), -EINVAL);
}

/* ---- attacks on the tree ------------------------------------------------------ */

static void assert_refused_after_flip(struct ref *r, size_t offset, const char *what)
{
	struct mem_reader m;
	struct wd_err err;

	assert_true(offset < r->hash_len);
	r->hash[offset] ^= 0x01;
	if (check_ref(r, r->salt, r->root, &m, &err) != -EBADMSG)
		fail_msg("a byte flipped %s (offset %zu) was not refused", what, offset);
	assert_int_equal(err.code, EBADMSG);
	r->hash[offset] ^= 0x01;
	assert_int_equal(check_ref(r, r->salt, r->root, &m, &err), 0);
}

static void test_a_flipped_byte_in_any_level_is_refused(void **state)
{
	struct ref r;

	(void)state;
	if (!make_ref(16385, &r))
		skip();
	assert_refused_after_flip(&r, 0, "in the top block");
	assert_refused_after_flip(&r, 1 * BLOCK + 31, "in level 1");
	assert_refused_after_flip(&r, 2 * BLOCK + 4095 - 32, "in level 1's second block");
	assert_refused_after_flip(&r, 3 * BLOCK, "in level 0's first block");
	assert_refused_after_flip(&r, 100 * BLOCK + 2000, "in level 0");
	assert_refused_after_flip(&r, 131 * BLOCK + 31, "in the last block's only digest");
	free_ref(&r);
}

static void test_a_byte_in_the_zero_padding_is_refused(void **state)
{
	struct ref r;

	(void)state;
	if (!make_ref(16385, &r))
		skip();
	/* Level 0's last block holds one digest; the rest must stay zero. */
	assert_int_equal(r.hash[131 * BLOCK + 32], 0);
	assert_refused_after_flip(&r, 131 * BLOCK + 32, "in level 0's padding");
	assert_refused_after_flip(&r, 131 * BLOCK + BLOCK - 1, "at the end of level 0");
	/* The top block holds two digests (level 1 has two blocks). */
	assert_refused_after_flip(&r, 64, "in the top block's padding");
	free_ref(&r);
}

static void test_a_wrong_root_hash_or_salt_is_refused(void **state)
{
	uint8_t root[32], salt[32];
	struct mem_reader m;
	struct wd_err err;
	struct ref r;

	(void)state;
	if (!make_ref(129, &r))
		skip();
	memcpy(root, r.root, sizeof(root));
	root[31] ^= 0x80;
	assert_int_equal(check_ref(&r, r.salt, root, &m, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "root hash"));
	memcpy(salt, r.salt, sizeof(salt));
	salt[0] ^= 0x01;
	assert_int_equal(check_ref(&r, salt, r.root, &m, &err), -EBADMSG);
	free_ref(&r);
}

static void test_a_tree_for_other_data_is_refused(void **state)
{
	struct ref small, big;
	struct mem_reader m;
	struct wd_err err;

	(void)state;
	/* The pin says 129 blocks; the tree and root hash are for 128. */
	if (!make_ref(128, &small))
		skip();
	(void)make_ref(129, &big);
	free(big.hash);
	big.hash = malloc(3 * BLOCK);
	assert_non_null(big.hash);
	memset(big.hash, 0, 3 * BLOCK);
	memcpy(big.hash + BLOCK, small.hash, BLOCK);
	big.hash_len = 3 * BLOCK;
	assert_int_equal(check_ref(&big, small.salt, small.root, &m, &err), -EBADMSG);
	free_ref(&small);
	free_ref(&big);
}

static void test_a_read_error_is_passed_on(void **state)
{
	struct init_verity_geom g;
	struct mem_reader m;
	struct wd_err err;
	struct ref r;

	(void)state;
	if (!make_ref(16385, &r))
		skip();
	assert_int_equal(init_verity_geometry(r.data_blocks, &g, &err), 0);
	for (uint64_t b = 0; b < g.hash_blocks; b += 65) {
		memset(&m, 0, sizeof(m));
		m.r = &r;
		m.fail_at = b;
		m.seen = calloc(g.hash_blocks, 1);
		assert_non_null(m.seen);
		wd_err_clear(&err);
		assert_int_equal(init_verity_check(&g, r.salt, r.root, mem_read, &m, &err), -EIO);
		assert_non_null(strstr(err.msg, "read hash block"));
		free(m.seen);
	}
	free_ref(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_block_has_no_tree_and_its_digest_is_the_root),
		cmocka_unit_test(test_two_blocks_make_one_level),
		cmocka_unit_test(test_128_blocks_fill_one_hash_block),
		cmocka_unit_test(test_129_blocks_make_two_levels),
		cmocka_unit_test(test_16384_and_16385_blocks_are_two_and_three_levels),
		cmocka_unit_test(test_geometry_puts_the_top_level_first),
		cmocka_unit_test(test_a_flipped_byte_in_any_level_is_refused),
		cmocka_unit_test(test_a_byte_in_the_zero_padding_is_refused),
		cmocka_unit_test(test_a_wrong_root_hash_or_salt_is_refused),
		cmocka_unit_test(test_a_tree_for_other_data_is_refused),
		cmocka_unit_test(test_a_read_error_is_passed_on),
	};

	if (veritysetup() == NULL)
		fprintf(stderr,
			"test_verity: veritysetup not found (cryptsetup-bin): the reference "
			"tests are SKIPPED\n");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
