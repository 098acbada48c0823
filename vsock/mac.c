/* vsock/mac.c - see mac.h. GCM as in NIST SP 800-38D, section 7.1, with
 * an empty plaintext; the arithmetic is BearSSL's. */
#include "mac.h"

#include <string.h>

#include <bearssl_hash.h>

/* Probed once: BearSSL's getters run CPUID, which in a VM is a trip to the
 * hypervisor (tens of microseconds on a small frame's path). */
static int hw = -1;
static br_ghash ghash_hw;
static const br_block_ctr_class *aes_hw;

bool wd_mac_hw(void)
{
	if (hw < 0) {
		ghash_hw = br_ghash_pclmul_get();
		aes_hw = br_aes_x86ni_ctr_get_vtable();
		hw = ghash_hw != 0 && aes_hw != NULL;
	}
	return hw == 1;
}

void wd_mac_use_hw(bool on)
{
	hw = -1;
	if (!on || !wd_mac_hw())
		hw = 0;
}

/* The key's own AES implementation (its vtable), and the GHASH in force. */
static br_ghash ghash(void)
{
	return wd_mac_hw() ? ghash_hw : br_ghash_ctmul64;
}

/* AES of the block (iv || cc), iv 12 bytes, cc big-endian: CTR mode over zeros. */
static void aes_block(const struct wd_mac_key *k, const uint8_t iv[12], uint32_t cc,
		      uint8_t out[16])
{
	memset(out, 0, 16);
	(void)k->aes.vtable->run(&k->aes.vtable, iv, cc, out, 16);
}

void wd_mac_key_init(struct wd_mac_key *k, const uint8_t key[WD_MAC_KEY_BYTES])
{
	static const uint8_t zero[12] = {0};
	const br_block_ctr_class *impl = wd_mac_hw() ? aes_hw : &br_aes_ct64_ctr_vtable;

	impl->init(&k->aes.vtable, key, WD_MAC_KEY_BYTES);
	aes_block(k, zero, 0, k->h);
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* The last GHASH block: the two lengths in bits. */
static void lengths(uint8_t *y, const uint8_t *h, br_ghash gh, uint64_t first, uint64_t second)
{
	uint8_t b[16];

	put_be64(b, first << 3);
	put_be64(b + 8, second << 3);
	gh(y, h, b, sizeof(b));
}

void wd_mac(const struct wd_mac_key *k, const uint8_t *iv, size_t iv_len, const uint8_t *data,
	    size_t len, uint8_t tag[WD_MAC_TAG_BYTES])
{
	br_ghash gh = ghash();
	uint8_t j0[16], y[16] = {0}, mask[16];
	uint32_t cc;

	/* The pre-counter block J0. */
	if (iv_len == 12) {
		memcpy(j0, iv, 12);
		cc = 1;
	} else {
		memset(j0, 0, sizeof(j0));
		gh(j0, k->h, iv, iv_len);
		lengths(j0, k->h, gh, 0, iv_len);
		cc = (uint32_t)j0[12] << 24 | (uint32_t)j0[13] << 16 | (uint32_t)j0[14] << 8 |
		     j0[15];
	}
	/* S = GHASH(A, zero-padded, || len(A) || len(C) = 0); the tag is S ^ AES(J0). */
	gh(y, k->h, data, len);
	lengths(y, k->h, gh, len, 0);
	aes_block(k, j0, cc, mask);
	for (size_t i = 0; i < WD_MAC_TAG_BYTES; i++)
		tag[i] = y[i] ^ mask[i];
	explicit_bzero(y, sizeof(y));
	explicit_bzero(mask, sizeof(mask));
}
