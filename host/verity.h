/*
 * host/verity.h - the dm-verity hash tree of an image's root filesystem,
 * computed in C, the way `veritysetup format --no-superblock --format=1
 * --hash=sha256 --data-block-size=4096 --hash-block-size=4096` lays it out
 * (cryptsetup lib/verity/verity_hash.c; the kernel's
 * Documentation/admin-guide/device-mapper/verity.rst):
 *
 *   - a digest is sha256(salt || block) (format 1; format 0 put the salt
 *     last); 128 digests fill a 4096-byte hash block, the last block of a
 *     level is padded with zeros;
 *   - level 0 hashes the data blocks, level i+1 the blocks of level i, up
 *     to the level that fits in one block; that level's block, hashed, is
 *     the root hash. One data block: no level at all, the root hash is the
 *     digest of that block and the tree is empty;
 *   - on disk the top level comes first, then the one below, level 0 last,
 *     from byte 0 of the hash file (no superblock, hash offset 0).
 *
 * The image tool builds the tree with veritysetup and with this code, and
 * refuses an image where the two differ; `warden image verify` recomputes
 * it and compares it with rootfs.verity's bytes and the root hash.
 * Streaming: memory use is a few blocks whatever the image's size.
 * Failure: -errno with `err` saying which level and block, or which read.
 */
#ifndef WARDEN_HOST_VERITY_H
#define WARDEN_HOST_VERITY_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define WD_VERITY_BLOCK 4096                                     /* data and hash block, bytes */
#define WD_VERITY_DIGEST 32                                      /* sha256 */
#define WD_VERITY_PER_BLOCK (WD_VERITY_BLOCK / WD_VERITY_DIGEST) /* 128 */
#define WD_VERITY_MAX_LEVELS 16                                  /* 128^16 blocks: never reached */
#define WD_VERITY_SALT_MAX 256                                   /* bytes, veritysetup's limit */
#define WD_VERITY_MAX_DATA_BLOCKS (1ull << 40)                   /* 4 PiB of data */

/* The levels of the tree for `data_blocks` (>= 1) blocks: how many, and for
 * each (0 = over the data) its first block in the hash file and its size
 * in blocks. -EINVAL for 0 or over WD_VERITY_MAX_DATA_BLOCKS. */
struct wd_verity_layout {
	int levels;
	uint64_t start[WD_VERITY_MAX_LEVELS];  /* in hash blocks */
	uint64_t blocks[WD_VERITY_MAX_LEVELS]; /* in hash blocks */
	uint64_t total_blocks;                 /* of the whole tree */
};
int wd_verity_layout(uint64_t data_blocks, struct wd_verity_layout *l);

/* The tree's size in bytes for `data_blocks` blocks (0 when invalid). */
uint64_t wd_verity_tree_bytes(uint64_t data_blocks);

/*
 * Hash `data_blocks` blocks read from `data_fd` (from offset 0) into a tree
 * written to `tree_fd` (from offset 0; the file is truncated to the tree's
 * size) and its root hash into root.
 */
int wd_verity_build(int data_fd, uint64_t data_blocks, const uint8_t *salt, size_t salt_len,
		    int tree_fd, uint8_t root[WD_VERITY_DIGEST], struct wd_err *err);

/*
 * Recompute the tree from `data_fd` and compare it, block by block, with
 * `tree_fd` (which must be exactly the tree's size) and the result with
 * `root`. 0 when all agree; -EBADMSG naming the first hash block that
 * differs ("level L block B") or the root hash; other -errno for I/O.
 */
int wd_verity_check(int data_fd, uint64_t data_blocks, const uint8_t *salt, size_t salt_len,
		    int tree_fd, const uint8_t root[WD_VERITY_DIGEST], struct wd_err *err);

#endif
