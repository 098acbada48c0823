/*
 * init/verity.c - a full check of the dm-verity hash tree on the disks
 * against the pinned root hash (rootfs.h); the layout and the digest are
 * common/verity.h's, shared with the image tool.
 *
 * Layout (drivers/md/dm-verity-target.c, verity_ctr): with H hashes per
 * block (128 SHA-256 digests in 4096 bytes), the tree has the fewest
 * levels L such that H^L >= data blocks; level i has
 * ceil(data_blocks / H^(i+1)) blocks; the levels are stored from the top
 * (level L-1, one block) down to level 0, from hash block 0 (hash offset 0,
 * no superblock). Format 1: a digest is SHA-256(salt || block), and a hash
 * block holds its digests from byte 0, the rest zero.
 *
 * The check runs bottom-up in one pass, so every hash block is read once
 * and memory is one block per level: the digests of level i's blocks are
 * gathered into the block level i+1 must hold; when that block is full
 * (or the level ends) it is compared byte for byte with the one read from
 * the device, and its digest goes one level up; the top block's digest
 * must be the root hash. Equal blocks mean every entry matches the digest
 * of its child, so this is the top-down check dm-verity does on each read,
 * done for the whole tree at once (and it also holds the padding to zero).
 */
#include <errno.h>
#include <string.h>

#include "../common/verity.h"
#include "rootfs.h"

/* INIT_VERITY_HASHES_PER_BLOCK follows from these two. */
_Static_assert(INIT_ROOTFS_BLOCK_BYTES == WD_VERITY_BLOCK &&
		       INIT_ROOTFS_HASH_BYTES == WD_VERITY_DIGEST,
	       "the pin's blocks and digests are common/verity.h's");

int init_verity_geometry(uint64_t data_blocks, struct init_verity_geom *g, struct wd_err *err)
{
	struct wd_verity_layout l;

	memset(g, 0, sizeof(*g));
	if (data_blocks == 0 || data_blocks > INIT_ROOTFS_MAX_DATA_BLOCKS ||
	    wd_verity_layout(data_blocks, &l) < 0)
		return wd_err_set(err, EINVAL, "%llu data blocks: out of range 1..%llu",
				  (unsigned long long)data_blocks,
				  (unsigned long long)INIT_ROOTFS_MAX_DATA_BLOCKS);
	if (l.levels > INIT_VERITY_MAX_LEVELS)
		return wd_err_set(err, EINVAL, "a tree of %d levels", l.levels);
	g->data_blocks = data_blocks;
	g->levels = (unsigned)l.levels;
	for (unsigned i = 0; i < g->levels; i++) {
		g->level_start[i] = l.start[i];
		g->level_blocks[i] = l.blocks[i];
	}
	g->hash_blocks = l.total_blocks;
	return 0;
}

struct walk {
	const struct init_verity_geom *g;
	struct wd_sha256 salted; /* the hash state after the salt */
	const uint8_t *root;
	init_verity_read_fn read;
	void *ctx;
	/* want[i]: the block of level i being gathered (i >= 1) */
	uint8_t want[INIT_VERITY_MAX_LEVELS][INIT_ROOTFS_BLOCK_BYTES];
	unsigned fill[INIT_VERITY_MAX_LEVELS]; /* digests in want[i] */
	uint64_t done[INIT_VERITY_MAX_LEVELS]; /* blocks of level i checked */
	uint8_t got[INIT_ROOTFS_BLOCK_BYTES];
	bool root_checked;
};

static int mismatch(struct wd_err *err, const char *what, unsigned level, uint64_t block)
{
	return wd_err_set(err, EBADMSG, "%s (level %u, block %llu)", what, level,
			  (unsigned long long)block);
}

static int push(struct walk *w, unsigned level, const uint8_t d[INIT_ROOTFS_HASH_BYTES],
		struct wd_err *err);

/* want[level] is complete: it must be the block on the device; its digest goes up. */
static int flush(struct walk *w, unsigned level, struct wd_err *err)
{
	uint64_t block = w->done[level];
	uint8_t d[INIT_ROOTFS_HASH_BYTES];
	int rc;

	if (block >= w->g->level_blocks[level])
		return mismatch(err, "internal: level overflows", level, block);
	rc = w->read(INIT_VERITY_HASH, w->g->level_start[level] + block, w->got, w->ctx, err);
	if (rc < 0)
		return rc;
	if (memcmp(w->got, w->want[level], INIT_ROOTFS_BLOCK_BYTES) != 0)
		return mismatch(err, "a hash block is not the digests of the blocks below it",
				level, block);
	wd_verity_digest(&w->salted, w->want[level], d);
	memset(w->want[level], 0, INIT_ROOTFS_BLOCK_BYTES);
	w->fill[level] = 0;
	w->done[level]++;
	return push(w, level + 1, d, err);
}

/* A digest of a block of level `level`-1, for level `level` (or the root). */
static int push(struct walk *w, unsigned level, const uint8_t d[INIT_ROOTFS_HASH_BYTES],
		struct wd_err *err)
{
	if (level == w->g->levels) {
		/* The top block (or, with no tree, the one data block). */
		if (w->root_checked)
			return mismatch(err, "internal: a second top block", level, 0);
		w->root_checked = true;
		if (memcmp(d, w->root, INIT_ROOTFS_HASH_BYTES) != 0)
			return wd_err_set(err, EBADMSG,
					  "the top of the tree does not hash to the root hash");
		return 0;
	}
	memcpy(w->want[level] + (size_t)w->fill[level] * INIT_ROOTFS_HASH_BYTES, d,
	       INIT_ROOTFS_HASH_BYTES);
	if (++w->fill[level] == INIT_VERITY_HASHES_PER_BLOCK)
		return flush(w, level, err);
	return 0;
}

int init_verity_check(const struct init_verity_geom *g, const uint8_t salt[INIT_ROOTFS_SALT_BYTES],
		      const uint8_t root[INIT_ROOTFS_HASH_BYTES], init_verity_read_fn read,
		      void *ctx, struct wd_err *err)
{
	static struct walk w; /* 36 KiB: PID 1 keeps it off its stack */
	uint8_t d[INIT_ROOTFS_HASH_BYTES];
	int rc;

	memset(&w, 0, sizeof(w));
	w.g = g;
	wd_verity_salted(&w.salted, salt, INIT_ROOTFS_SALT_BYTES);
	w.root = root;
	w.read = read;
	w.ctx = ctx;
	if (g->levels == 0) {
		rc = read(INIT_VERITY_DATA, 0, w.got, ctx, err);
		if (rc < 0)
			return rc;
		wd_verity_digest(&w.salted, w.got, d);
		return push(&w, 0, d, err);
	}
	/* Level 0 is only hashed: its entries are the data blocks' digests,
	 * which dm-verity checks on every read. */
	for (uint64_t b = 0; b < g->level_blocks[0]; b++) {
		rc = read(INIT_VERITY_HASH, g->level_start[0] + b, w.got, ctx, err);
		if (rc < 0)
			return rc;
		wd_verity_digest(&w.salted, w.got, d);
		rc = push(&w, 1, d, err);
		if (rc < 0)
			return rc;
	}
	/* The partial last block of each level, lowest first: each flush may
	 * complete the level above. */
	for (unsigned i = 1; i < g->levels; i++) {
		if (w.fill[i] > 0 && (rc = flush(&w, i, err)) < 0)
			return rc;
	}
	for (unsigned i = 1; i < g->levels; i++) {
		if (w.done[i] != g->level_blocks[i])
			return mismatch(err, "internal: level not complete", i, w.done[i]);
	}
	if (!w.root_checked)
		return wd_err_set(err, EBADMSG, "internal: the root was never reached");
	return 0;
}
