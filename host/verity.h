/*
 * host/verity.h - the dm-verity hash tree of an image's root filesystem,
 * computed in C from files, in the layout of common/verity.h (the one
 * `veritysetup format --no-superblock --format=1` writes).
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
#include "../common/verity.h"

#define WD_VERITY_SALT_MAX 256 /* bytes, veritysetup's limit */

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
