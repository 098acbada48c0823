/* common/sha256.c - see sha256.h (FIPS 180-4). */
#include "sha256.h"

#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t k256[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2};

static uint32_t ror(uint32_t x, unsigned n)
{
	return x >> n | x << (32 - n);
}

static void compress_portable(uint32_t h[8], const uint8_t *p, size_t blocks)
{
	for (; blocks > 0; blocks--, p += 64) {
		uint32_t w[64], a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5],
				g = h[6], k = h[7];

		for (size_t i = 0; i < 16; i++)
			w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
			       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
		for (size_t i = 16; i < 64; i++) {
			uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
			uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);

			w[i] = w[i - 16] + s0 + w[i - 7] + s1;
		}
		for (size_t i = 0; i < 64; i++) {
			uint32_t t1 = k + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) +
				      ((e & f) ^ (~e & g)) + k256[i] + w[i];
			uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) +
				      ((a & b) ^ (a & c) ^ (b & c));

			k = g;
			g = f;
			f = e;
			e = d + t1;
			d = c;
			c = b;
			b = a;
			a = t1 + t2;
		}
		h[0] += a;
		h[1] += b;
		h[2] += c;
		h[3] += d;
		h[4] += e;
		h[5] += f;
		h[6] += g;
		h[7] += k;
	}
}

#if defined(__x86_64__)
/*
 * SHA-NI: the state as ABEF/CDGH, four rounds per step, the message
 * schedule four words at a time (sha256msg1, an alignr for W[t-7],
 * sha256msg2), two sha256rnds2 per step.
 */
__attribute__((target("sha,sse4.1,ssse3"))) static void compress_ni(uint32_t h[8], const uint8_t *p,
								    size_t blocks)
{
	const __m128i mask = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
	__m128i t = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
	__m128i s1 = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
	__m128i s0;

	t = _mm_shuffle_epi32(t, 0xB1);    /* CDAB */
	s1 = _mm_shuffle_epi32(s1, 0x1B);  /* EFGH */
	s0 = _mm_alignr_epi8(t, s1, 8);    /* ABEF */
	s1 = _mm_blend_epi16(s1, t, 0xF0); /* CDGH */
	for (; blocks > 0; blocks--, p += 64) {
		__m128i abef = s0, cdgh = s1, m[4];

		/* Unrolled (the build is -Os): m[] stays in registers and the
		 * branch goes, about 1.5 times faster. */
#pragma GCC unroll 16
		for (size_t g = 0; g < 16; g++) {
			__m128i w;

			if (g < 4) {
				m[g] = _mm_shuffle_epi8(
					_mm_loadu_si128(
						(const __m128i *)(const void *)(p + 16 * g)),
					mask);
			} else {
				__m128i x = _mm_sha256msg1_epu32(m[g & 3], m[(g + 1) & 3]);

				x = _mm_add_epi32(
					x, _mm_alignr_epi8(m[(g + 3) & 3], m[(g + 2) & 3], 4));
				m[g & 3] = _mm_sha256msg2_epu32(x, m[(g + 3) & 3]);
			}
			w = _mm_add_epi32(
				m[g & 3],
				_mm_loadu_si128((const __m128i *)(const void *)&k256[4 * g]));
			s1 = _mm_sha256rnds2_epu32(s1, s0, w);
			s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(w, 0x0E));
		}
		s0 = _mm_add_epi32(s0, abef);
		s1 = _mm_add_epi32(s1, cdgh);
	}
	t = _mm_shuffle_epi32(s0, 0x1B);   /* FEBA */
	s1 = _mm_shuffle_epi32(s1, 0xB1);  /* DCHG */
	s0 = _mm_blend_epi16(t, s1, 0xF0); /* DCBA */
	s1 = _mm_alignr_epi8(s1, t, 8);    /* ABEF */
	_mm_storeu_si128((__m128i *)(void *)&h[0], s0);
	_mm_storeu_si128((__m128i *)(void *)&h[4], s1);
}

static int hw = -1;

bool wd_sha256_hw(void)
{
	if (hw < 0) {
		unsigned a, b, c, d;
		bool ok = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSSE3) && (c & bit_SSE4_1) &&
			  __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1U << 29));

		hw = ok;
	}
	return hw == 1;
}

void wd_sha256_use_hw(bool on)
{
	hw = -1;
	if (!on || !wd_sha256_hw())
		hw = 0;
}

static void compress(uint32_t h[8], const uint8_t *p, size_t blocks)
{
	if (wd_sha256_hw())
		compress_ni(h, p, blocks);
	else
		compress_portable(h, p, blocks);
}
#else
bool wd_sha256_hw(void)
{
	return false;
}

void wd_sha256_use_hw(bool on)
{
	(void)on;
}

static void compress(uint32_t h[8], const uint8_t *p, size_t blocks)
{
	compress_portable(h, p, blocks);
}
#endif

void wd_sha256_init(struct wd_sha256 *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

	memcpy(c->h, iv, sizeof(iv));
	c->len = 0;
}

void wd_sha256_update(struct wd_sha256 *c, const void *data, size_t n)
{
	const uint8_t *p = data;
	size_t fill = (size_t)(c->len % 64);

	c->len += n;
	if (fill > 0) {
		size_t take = 64 - fill < n ? 64 - fill : n;

		memcpy(c->buf + fill, p, take);
		p += take;
		n -= take;
		if (fill + take < 64)
			return;
		compress(c->h, c->buf, 1);
	}
	if (n >= 64) {
		compress(c->h, p, n / 64);
		p += n / 64 * 64;
		n %= 64;
	}
	memcpy(c->buf, p, n);
}

void wd_sha256_final(struct wd_sha256 *c, uint8_t out[32])
{
	uint64_t bits = c->len * 8;
	size_t fill = (size_t)(c->len % 64);
	uint8_t pad[72] = {0x80};
	size_t padn = fill < 56 ? 56 - fill : 120 - fill;

	for (size_t i = 0; i < 8; i++)
		pad[padn + (size_t)i] = (uint8_t)(bits >> (56 - 8 * i));
	wd_sha256_update(c, pad, padn + 8);
	for (size_t i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

/* The state after one block of key ^ pad bytes. */
static void pad_state(uint32_t h[8], const uint8_t *key, size_t key_len, uint8_t pad_byte)
{
	uint8_t pad[64];
	struct wd_sha256 c;

	memset(pad, pad_byte, sizeof(pad));
	for (size_t i = 0; i < key_len && i < sizeof(pad); i++)
		pad[i] ^= key[i];
	wd_sha256_init(&c);
	compress(c.h, pad, 1);
	memcpy(h, c.h, sizeof(c.h));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(&c, sizeof(c));
}

void wd_hmac_sha256_key(struct wd_hmac_sha256_key *k, const uint8_t *key, size_t key_len)
{
	pad_state(k->inner, key, key_len, 0x36);
	pad_state(k->outer, key, key_len, 0x5c);
}

void wd_hmac_sha256_keyed(const struct wd_hmac_sha256_key *k, const void *a, size_t an,
			  const void *b, size_t bn, uint8_t out[32])
{
	uint8_t inner[32];
	struct wd_sha256 c;

	memcpy(c.h, k->inner, sizeof(c.h));
	c.len = 64;
	if (an > 0)
		wd_sha256_update(&c, a, an);
	if (bn > 0)
		wd_sha256_update(&c, b, bn);
	wd_sha256_final(&c, inner);
	memcpy(c.h, k->outer, sizeof(c.h));
	c.len = 64;
	wd_sha256_update(&c, inner, sizeof(inner));
	wd_sha256_final(&c, out);
	explicit_bzero(&c, sizeof(c));
	explicit_bzero(inner, sizeof(inner));
}

void wd_hmac_sha256(const uint8_t *key, size_t key_len, const void *a, size_t an, const void *b,
		    size_t bn, uint8_t out[32])
{
	struct wd_hmac_sha256_key k;

	wd_hmac_sha256_key(&k, key, key_len);
	wd_hmac_sha256_keyed(&k, a, an, b, bn, out);
	explicit_bzero(&k, sizeof(k));
}
