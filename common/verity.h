/*
 * common/verity.h - the dm-verity hash tree's shape and digest, shared by
 * the image tool on the host (host/verity.c: builds and checks a tree from
 * files) and warden-init in the guest (init/verity.c: checks a tree on its
 * disks against the pinned root hash).
 *
 * The layout is the one `veritysetup format --no-superblock --format=1
 * --hash=sha256 --data-block-size=4096 --hash-block-size=4096` writes and
 * the kernel's dm-verity reads (cryptsetup lib/verity/verity_hash.c;
 * drivers/md/dm-verity-target.c, verity_ctr):
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
 */
#ifndef WARDEN_COMMON_VERITY_H
#define WARDEN_COMMON_VERITY_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

#define WD_VERITY_BLOCK 4096                                     /* data and hash block, bytes */
#define WD_VERITY_DIGEST 32                                      /* sha256 */
#define WD_VERITY_PER_BLOCK (WD_VERITY_BLOCK / WD_VERITY_DIGEST) /* 128 */
#define WD_VERITY_MAX_LEVELS 16                                  /* 128^16 blocks: never reached */
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

/* The hash state after the salt: each block's digest starts from a copy. */
void wd_verity_salted(struct wd_sha256 *salted, const uint8_t *salt, size_t salt_len);

/* sha256(salt || block) of one WD_VERITY_BLOCK-byte block. */
void wd_verity_digest(const struct wd_sha256 *salted, const uint8_t *block,
		      uint8_t out[WD_VERITY_DIGEST]);

#endif
