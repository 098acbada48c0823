/* common/verity.c - see verity.h. */
#include "verity.h"

#include <errno.h>
#include <string.h>

#define BITS_PER_LEVEL 7 /* log2(WD_VERITY_PER_BLOCK) */

_Static_assert(WD_VERITY_PER_BLOCK == 1U << BITS_PER_LEVEL, "128 digests per hash block");

int wd_verity_layout(uint64_t data_blocks, struct wd_verity_layout *l)
{
	uint64_t pos = 0;

	memset(l, 0, sizeof(*l));
	if (data_blocks == 0 || data_blocks > WD_VERITY_MAX_DATA_BLOCKS)
		return -EINVAL;
	/* cryptsetup's hash_levels(): as many levels as it takes for the
	 * block numbers below data_blocks to fit in one hash block. */
	while (((data_blocks - 1) >> (BITS_PER_LEVEL * l->levels)) != 0)
		l->levels++;
	for (int i = l->levels - 1; i >= 0; i--) {
		unsigned shift = (unsigned)(i + 1) * BITS_PER_LEVEL;

		l->start[i] = pos;
		l->blocks[i] = (data_blocks + (1ull << shift) - 1) >> shift;
		pos += l->blocks[i];
	}
	l->total_blocks = pos;
	return 0;
}

void wd_verity_salted(struct wd_sha256 *salted, const uint8_t *salt, size_t salt_len)
{
	wd_sha256_init(salted);
	wd_sha256_update(salted, salt, salt_len);
}

void wd_verity_digest(const struct wd_sha256 *salted, const uint8_t *block,
		      uint8_t out[WD_VERITY_DIGEST])
{
	struct wd_sha256 c = *salted;

	wd_sha256_update(&c, block, WD_VERITY_BLOCK);
	wd_sha256_final(&c, out);
}
