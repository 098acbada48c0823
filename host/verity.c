/* host/verity.c - see verity.h. */
#include "verity.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/sha256.h"

#define READ_BLOCKS ((size_t)64) /* blocks read at once: 256 KiB */

uint64_t wd_verity_tree_bytes(uint64_t data_blocks)
{
	struct wd_verity_layout l;

	if (wd_verity_layout(data_blocks, &l) < 0)
		return 0;
	return l.total_blocks * WD_VERITY_BLOCK;
}

/* pread(2) exactly n bytes at off. */
static int read_at(int fd, void *buf, size_t n, uint64_t off, const char *what, struct wd_err *err)
{
	size_t got = 0;

	while (got < n) {
		uint64_t at = off + got;
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wd_err_sys(err, errno, "read %s at byte %llu", what,
					  (unsigned long long)at);
		if (r == 0)
			return wd_err_set(err, EIO, "%s ends at byte %llu, before its last block",
					  what, (unsigned long long)at);
		got += (size_t)r;
	}
	return 0;
}

static int write_at(int fd, const void *buf, size_t n, uint64_t off, struct wd_err *err)
{
	size_t done = 0;

	while (done < n) {
		uint64_t at = off + done;
		ssize_t r = pwrite(fd, (const char *)buf + done, n - done, (off_t)at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wd_err_sys(err, errno, "write the hash tree at byte %llu",
					  (unsigned long long)at);
		done += (size_t)r;
	}
	return 0;
}

struct pass {
	const struct wd_sha256 *salted; /* the hash state after the salt */
	int tree_fd;
	bool check;  /* compare with tree_fd instead of writing it */
	uint8_t *in; /* READ_BLOCKS blocks */
	uint8_t out[WD_VERITY_BLOCK];
	uint8_t disk[WD_VERITY_BLOCK];
};

static void digest(const struct pass *p, const uint8_t *block, uint8_t out[WD_VERITY_DIGEST])
{
	wd_verity_digest(p->salted, block, out);
}

/* One finished hash block: written, or compared with the one on disk. */
static int emit(struct pass *p, int level, uint64_t index, uint64_t at, struct wd_err *err)
{
	uint64_t byte = at * WD_VERITY_BLOCK;

	if (!p->check)
		return write_at(p->tree_fd, p->out, WD_VERITY_BLOCK, at * WD_VERITY_BLOCK, err);
	if (read_at(p->tree_fd, p->disk, WD_VERITY_BLOCK, at * WD_VERITY_BLOCK, "the hash tree",
		    err) < 0)
		return wd_err_ret(err);
	if (memcmp(p->disk, p->out, WD_VERITY_BLOCK) != 0)
		return wd_err_set(err, EBADMSG,
				  "hash tree level %d block %llu (byte %llu of the hash file) does "
				  "not match its data",
				  level, (unsigned long long)index, (unsigned long long)byte);
	return 0;
}

/*
 * Hash `count` blocks of `in_fd` from block `in_start` into level `level`,
 * whose blocks go to `out_start` onwards in the tree.
 */
static int hash_level(struct pass *p, int in_fd, const char *in_what, uint64_t in_start,
		      uint64_t count, int level, uint64_t out_start, struct wd_err *err)
{
	uint64_t done = 0, out_index = 0;
	size_t filled = 0; /* digests in p->out */

	memset(p->out, 0, sizeof(p->out));
	while (done < count) {
		size_t n = count - done < READ_BLOCKS ? (size_t)(count - done) : READ_BLOCKS;

		if (read_at(in_fd, p->in, n * WD_VERITY_BLOCK, (in_start + done) * WD_VERITY_BLOCK,
			    in_what, err) < 0)
			return wd_err_ret(err);
		for (size_t i = 0; i < n; i++) {
			digest(p, p->in + i * WD_VERITY_BLOCK, p->out + filled * WD_VERITY_DIGEST);
			if (++filled < WD_VERITY_PER_BLOCK)
				continue;
			if (emit(p, level, out_index, out_start + out_index, err) < 0)
				return wd_err_ret(err);
			out_index++;
			filled = 0;
			memset(p->out, 0, sizeof(p->out));
		}
		done += n;
	}
	if (filled > 0 && emit(p, level, out_index, out_start + out_index, err) < 0)
		return wd_err_ret(err);
	return 0;
}

static int run(int data_fd, uint64_t data_blocks, const uint8_t *salt, size_t salt_len, int tree_fd,
	       bool check, uint8_t root[WD_VERITY_DIGEST], struct wd_err *err)
{
	struct wd_verity_layout l;
	struct wd_sha256 salted;
	struct pass *p;
	int rc = 0;

	if (wd_verity_layout(data_blocks, &l) < 0)
		return wd_err_set(err, EINVAL, "verity: %llu data blocks is out of range",
				  (unsigned long long)data_blocks);
	if (salt_len > WD_VERITY_SALT_MAX)
		return wd_err_set(err, EINVAL, "verity: a salt of %zu bytes is over %d", salt_len,
				  WD_VERITY_SALT_MAX);
	p = calloc(1, sizeof(*p));
	if (p == NULL || (p->in = malloc((size_t)READ_BLOCKS * WD_VERITY_BLOCK)) == NULL) {
		free(p);
		return wd_err_set(err, ENOMEM, "verity: out of memory");
	}
	wd_verity_salted(&salted, salt, salt_len);
	p->salted = &salted;
	p->tree_fd = tree_fd;
	p->check = check;
	for (int i = 0; i < l.levels && rc == 0; i++) {
		if (i == 0)
			rc = hash_level(p, data_fd, "the data", 0, data_blocks, 0, l.start[0], err);
		else
			rc = hash_level(p, tree_fd, "the hash tree", l.start[i - 1],
					l.blocks[i - 1], i, l.start[i], err);
	}
	/* The root: the digest of the top level's one block, or of the only
	 * data block when there is no level. */
	if (rc == 0) {
		int fd = l.levels == 0 ? data_fd : tree_fd;
		uint64_t at = l.levels == 0 ? 0 : l.start[l.levels - 1];

		rc = read_at(fd, p->in, WD_VERITY_BLOCK, at * WD_VERITY_BLOCK,
			     l.levels == 0 ? "the data" : "the hash tree", err);
		if (rc == 0)
			digest(p, p->in, root);
	}
	free(p->in);
	free(p);
	return rc;
}

int wd_verity_build(int data_fd, uint64_t data_blocks, const uint8_t *salt, size_t salt_len,
		    int tree_fd, uint8_t root[WD_VERITY_DIGEST], struct wd_err *err)
{
	uint64_t bytes = wd_verity_tree_bytes(data_blocks);

	if (bytes == 0 && data_blocks != 1)
		return wd_err_set(err, EINVAL, "verity: %llu data blocks is out of range",
				  (unsigned long long)data_blocks);
	if (ftruncate(tree_fd, (off_t)bytes) < 0)
		return wd_err_sys(err, errno, "truncate the hash tree to %llu bytes",
				  (unsigned long long)bytes);
	return run(data_fd, data_blocks, salt, salt_len, tree_fd, false, root, err);
}

int wd_verity_check(int data_fd, uint64_t data_blocks, const uint8_t *salt, size_t salt_len,
		    int tree_fd, const uint8_t root[WD_VERITY_DIGEST], struct wd_err *err)
{
	uint64_t bytes = wd_verity_tree_bytes(data_blocks);
	uint8_t got[WD_VERITY_DIGEST];
	off_t end = lseek(tree_fd, 0, SEEK_END);

	if (end < 0)
		return wd_err_sys(err, errno, "the hash tree: lseek");
	if ((uint64_t)end != bytes)
		return wd_err_set(err, EBADMSG,
				  "the hash tree is %llu bytes; %llu data blocks need %llu",
				  (unsigned long long)end, (unsigned long long)data_blocks,
				  (unsigned long long)bytes);
	if (run(data_fd, data_blocks, salt, salt_len, tree_fd, true, got, err) < 0)
		return wd_err_ret(err);
	if (memcmp(got, root, WD_VERITY_DIGEST) != 0)
		return wd_err_set(err, EBADMSG, "the hash tree's top does not match the root hash");
	return 0;
}
