/*
 * vsock/mac.h - the frames' MAC: GMAC, that is AES-256-GCM (NIST SP
 * 800-38D) with the frame as the additional data and nothing encrypted,
 * under one direction key of the channel (vsock/frame.c derives it).
 *
 * Why not HMAC-SHA256 (the MAC before): every byte of a job's stdio, files
 * and egress crosses the channel, MACed by the sender and checked by the
 * receiver. SHA-256 with the CPU's SHA extensions runs at about 1.6 GiB/s,
 * which held the channel to a quarter of what the transport carries;
 * GHASH with carry-less multiplication (PCLMULQDQ) runs at about 4 GiB/s,
 * and the AES (AES-NI) is two blocks per frame. docs/bench.md, section 4.
 *
 * The IV must never authenticate two different messages under one key:
 * with GMAC that would give the hash key away, and with it forgeries. The
 * frame code makes each IV a function of what the frame says (the
 * sequence number, which goes up by one per frame sent; for RESUME its
 * epoch and payload), so one IV can only ever MAC one frame: a frame sent
 * again after a resumption is the same bytes with the same tag.
 *
 * Two implementations, the same tags (tests/unit/test_frame.c checks both
 * against BearSSL's GCM): AES-NI and PCLMULQDQ where the CPU has both
 * (BearSSL's br_aes_x86ni, br_ghash_pclmul), else BearSSL's constant-time
 * portable code (br_aes_ct64, br_ghash_ctmul64), e.g. a guest under an
 * emulator without them. The choice is made once; the AES key schedule of
 * a key follows the choice in force when the key was set.
 *
 * No allocation; keys are wiped by the caller (explicit_bzero on the
 * struct: it holds the expanded AES key and the hash key).
 */
#ifndef WARDEN_VSOCK_MAC_H
#define WARDEN_VSOCK_MAC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bearssl_block.h>

#define WD_MAC_KEY_BYTES 32 /* AES-256 */
#define WD_MAC_TAG_BYTES 16 /* the whole GCM tag, not truncated */

struct wd_mac_key {
	br_aes_gen_ctr_keys aes; /* the expanded key, x86ni or ct64 */
	uint8_t h[16];           /* GHASH's key: AES(0) */
};

void wd_mac_key_init(struct wd_mac_key *k, const uint8_t key[WD_MAC_KEY_BYTES]);

/* The GCM tag of `data` as additional data and no ciphertext, with an IV
 * of iv_len bytes (12: the usual counter form; any other length goes
 * through GHASH, as GCM defines). */
void wd_mac(const struct wd_mac_key *k, const uint8_t *iv, size_t iv_len, const uint8_t *data,
	    size_t len, uint8_t tag[WD_MAC_TAG_BYTES]);

/* Are AES-NI and PCLMULQDQ in use? (For tests and the benchmark's report.) */
bool wd_mac_hw(void);

/* Use the portable code (tests compare both). On again only where the CPU
 * has the instructions. Keys set before keep their implementation. */
void wd_mac_use_hw(bool on);

#endif
