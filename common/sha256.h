/*
 * common/sha256.h - SHA-256 for the audit log's hashes (leaves, nodes,
 * notes), with the CPU's SHA extensions when it has them.
 *
 * Every audit record is hashed on both sides of the channel, so the hash
 * is the log's largest cost; BearSSL's portable code runs at about 190 MB/s
 * on the machines warden is built on, the x86 SHA-NI instructions at
 * several times that. The choice is made once (CPUID leaf 7, EBX bit 29,
 * with SSSE3 and SSE4.1); both paths give the same digests, which
 * tests/unit/test_audit.c checks against BearSSL. Not constant-time-
 * sensitive: it hashes public data only.
 */
#ifndef WARDEN_COMMON_SHA256_H
#define WARDEN_COMMON_SHA256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wd_sha256 {
	uint32_t h[8];
	uint8_t buf[64];
	uint64_t len; /* bytes hashed so far */
};

void wd_sha256_init(struct wd_sha256 *c);
void wd_sha256_update(struct wd_sha256 *c, const void *p, size_t n);
void wd_sha256_final(struct wd_sha256 *c, uint8_t out[32]);

/* HMAC-SHA256 (RFC 2104) of a || b under a key of at most 64 bytes (the
 * channel's 32-byte direction keys); the key's copies are wiped. */
void wd_hmac_sha256(const uint8_t *key, size_t key_len, const void *a, size_t an, const void *b,
		    size_t bn, uint8_t out[32]);

/*
 * HMAC-SHA256 under a key used for many messages (a channel direction):
 * the states after hashing the key's inner and outer pad blocks, computed
 * once (RFC 2104, section 4), so a message costs its own blocks and two
 * more instead of four more. The states are as secret as the key: wipe
 * them with explicit_bzero. The MACs are wd_hmac_sha256's.
 */
struct wd_hmac_sha256_key {
	uint32_t inner[8]; /* after SHA-256 of K ^ ipad */
	uint32_t outer[8]; /* after SHA-256 of K ^ opad */
};

void wd_hmac_sha256_key(struct wd_hmac_sha256_key *k, const uint8_t *key, size_t key_len);
void wd_hmac_sha256_keyed(const struct wd_hmac_sha256_key *k, const void *a, size_t an,
			  const void *b, size_t bn, uint8_t out[32]);

/* Is the SHA-NI path in use? (For the benchmark's report.) */
bool wd_sha256_hw(void);

/* Turn the SHA-NI path off (tests compare both paths; the benchmark
 * measures both). On again only where the CPU has it. */
void wd_sha256_use_hw(bool on);

#endif
