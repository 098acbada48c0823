/*
 * tests/unit/test_mac.c - vsock/mac.c, the frames' GMAC, and the MAC as
 * vsock/frame.c puts it on the wire.
 *
 * The tags are checked against a published GCM test vector and against
 * BearSSL's own GCM (br_gcm_*, which vsock/mac.c does not use), on both
 * implementations (AES-NI with PCLMULQDQ where this CPU has them, and the
 * portable constant-time code a guest without them uses); a frame's MAC is
 * recomputed here from docs/protocol.md's description alone (direction key
 * by BearSSL's HMAC, IV from the sequence number or the RESUME's fields).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <bearssl.h>

#include "../../vsock/frame.h"
#include "../../vsock/mac.h"

static const uint8_t job_key[WD_KEY_BYTES] = "a job key of 32 bytes for tests";

/* BearSSL's AES-256-GCM tag of `data` as additional data, nothing encrypted. */
static void reference_tag(const uint8_t key[32], const uint8_t *iv, size_t iv_len,
			  const uint8_t *data, size_t len, uint8_t tag[16])
{
	br_aes_ct64_ctr_keys aes;
	br_gcm_context gcm;

	br_aes_ct64_ctr_init(&aes, key, 32);
	br_gcm_init(&gcm, &aes.vtable, br_ghash_ctmul64);
	br_gcm_reset(&gcm, iv, iv_len);
	br_gcm_aad_inject(&gcm, data, len);
	br_gcm_flip(&gcm);
	br_gcm_get_tag(&gcm, tag);
}

/* McGrew and Viega, "The Galois/Counter Mode of Operation", test case 13:
 * AES-256, zero key, zero 96-bit IV, no data. */
static void test_gcm_test_vector_on_both_paths(void **state)
{
	static const uint8_t want[16] = {0x53, 0x0f, 0x8a, 0xfb, 0xc7, 0x45, 0x36, 0xb9,
					 0xa9, 0x63, 0xb4, 0xf1, 0xc4, 0xcb, 0x73, 0x8b};
	uint8_t key[32] = {0}, iv[12] = {0}, tag[16];

	(void)state;
	for (int path = 0; path < 2; path++) {
		struct wd_mac_key k;

		wd_mac_use_hw(path == 0);
		wd_mac_key_init(&k, key);
		wd_mac(&k, iv, sizeof(iv), NULL, 0, tag);
		assert_memory_equal(tag, want, sizeof(want));
	}
	wd_mac_use_hw(true);
}

/* Every length up to 300 bytes and a whole 64 KiB DATA frame, with the
 * stream's 12-byte IVs and RESUME's 16-byte ones, both paths. */
static void test_mac_matches_bearssl_gcm_on_both_paths(void **state)
{
	static uint8_t data[WD_FRAME_HEADER_BYTES + 65536 + 7];
	uint8_t key[32], iv[16], a[16], b[16];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(i * 37 + 5);
	for (size_t i = 0; i < sizeof(iv); i++)
		iv[i] = (uint8_t)(i * 11 + 3);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 2654435761U >> 11);
	for (int path = 0; path < 2; path++) {
		struct wd_mac_key k;

		wd_mac_use_hw(path == 0);
		wd_mac_key_init(&k, key);
		for (size_t n = 0; n <= 301; n += n < 301 ? 1 : sizeof(data) - 301) {
			for (size_t iv_len = 12; iv_len <= 16; iv_len += 4) {
				wd_mac(&k, iv, iv_len, data, n, a);
				reference_tag(key, iv, iv_len, data, n, b);
				if (memcmp(a, b, sizeof(a)) != 0)
					fail_msg("path %d, %zu bytes, IV of %zu", path, n, iv_len);
			}
		}
	}
	wd_mac_use_hw(true);
}

static void direction_key(const char *label, uint8_t out[32])
{
	br_hmac_key_context kc;
	br_hmac_context hc;

	br_hmac_key_init(&kc, &br_sha256_vtable, job_key, sizeof(job_key));
	br_hmac_init(&hc, &kc, 0);
	br_hmac_update(&hc, label, strlen(label));
	(void)br_hmac_out(&hc, out);
}

/* A DATA frame and a RESUME as the host sends them carry the tag the
 * protocol describes, computed here without vsock/. */
static void test_frame_mac_is_the_documented_gmac(void **state)
{
	uint8_t key[32], frame[WD_FRAME_HEADER_BYTES + 5 + WD_FRAME_MAC_BYTES];
	uint8_t resume[WD_RESUME_FRAME_BYTES], iv[16] = {0}, tag[16];
	struct wd_chan ch;
	struct wd_err err;

	(void)state;
	assert_int_equal(WD_FRAME_MAC_BYTES, 16);
	direction_key("warden gmac host->guest", key);
	wd_chan_init(&ch, WD_SIDE_HOST);
	wd_chan_set_key(&ch, job_key);
	for (uint64_t seq = 1; seq <= 2; seq++) {
		assert_int_equal(wd_frame_encode(&ch, WD_MSG_DATA, WD_STREAM_STDIN, "hello", 5,
						 frame, sizeof(frame), &err),
				 (int)sizeof(frame));
		iv[11] = (uint8_t)seq; /* 0^32 || seq, big-endian */
		reference_tag(key, iv, 12, frame, WD_FRAME_HEADER_BYTES + 5, tag);
		assert_memory_equal(frame + WD_FRAME_HEADER_BYTES + 5, tag, 16);
	}
	assert_int_equal(wd_resume_encode(&ch, 3, 77, resume), WD_RESUME_FRAME_BYTES);
	memset(iv, 0, sizeof(iv));
	iv[7] = 3;   /* epoch */
	iv[15] = 77; /* last sequence received */
	reference_tag(key, iv, 16, resume, WD_FRAME_HEADER_BYTES + 8, tag);
	assert_memory_equal(resume + WD_FRAME_HEADER_BYTES + 8, tag, 16);
	wd_chan_wipe(&ch);
}

/* A host with AES-NI and a guest without (an emulator) speak the same
 * wire: frames from either path are byte for byte the same, and each side
 * takes the other's. */
static void test_both_paths_make_and_take_the_same_frames(void **state)
{
	static uint8_t a[WD_FRAME_HEADER_BYTES + 4096 + WD_FRAME_MAC_BYTES];
	static uint8_t b[sizeof(a)], payload[4096], rbuf[WD_FRAME_MAX_BYTES];
	struct wd_chan hw_host, sw_host, sw_guest;
	struct wd_decoder dec;
	struct wd_frame f;
	struct wd_err err;
	uint8_t *where;

	(void)state;
	memset(payload, 0x3c, sizeof(payload));
	wd_chan_init(&hw_host, WD_SIDE_HOST);
	wd_chan_set_key(&hw_host, job_key);
	wd_mac_use_hw(false);
	wd_chan_init(&sw_host, WD_SIDE_HOST);
	wd_chan_set_key(&sw_host, job_key);
	wd_chan_init(&sw_guest, WD_SIDE_GUEST);
	wd_chan_set_key(&sw_guest, job_key);
	wd_mac_use_hw(true);
	wd_decoder_init(&dec, rbuf, sizeof(rbuf));
	for (size_t len = 0; len <= sizeof(payload); len += 1021) {
		int n = wd_frame_encode(&hw_host, WD_MSG_DATA, WD_STREAM_STDIN, payload, len, a,
					sizeof(a), &err);

		assert_int_equal(wd_frame_encode(&sw_host, WD_MSG_DATA, WD_STREAM_STDIN, payload,
						 len, b, sizeof(b), &err),
				 n);
		assert_memory_equal(a, b, (size_t)n);
		assert_true(wd_decoder_space(&dec, &where) >= (size_t)n);
		memcpy(where, a, (size_t)n);
		wd_decoder_fill(&dec, (size_t)n);
		assert_int_equal(wd_decoder_next(&dec, &sw_guest, &f, &err), 1);
		assert_int_equal(f.len, len);
	}
}

/* The IV is the sequence number: the same payload twice gets two tags, and
 * a frame's tag does not verify under the next sequence number. */
static void test_same_payload_twice_gets_two_tags(void **state)
{
	uint8_t one[WD_FRAME_HEADER_BYTES + 3 + WD_FRAME_MAC_BYTES], two[sizeof(one)];
	struct wd_chan ch;
	struct wd_err err;

	(void)state;
	wd_chan_init(&ch, WD_SIDE_GUEST);
	wd_chan_set_key(&ch, job_key);
	assert_true(wd_frame_encode(&ch, WD_MSG_DATA, WD_STREAM_STDOUT, "abc", 3, one, sizeof(one),
				    &err) > 0);
	assert_true(wd_frame_encode(&ch, WD_MSG_DATA, WD_STREAM_STDOUT, "abc", 3, two, sizeof(two),
				    &err) > 0);
	assert_memory_not_equal(one + WD_FRAME_HEADER_BYTES + 3, two + WD_FRAME_HEADER_BYTES + 3,
				WD_FRAME_MAC_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gcm_test_vector_on_both_paths),
		cmocka_unit_test(test_mac_matches_bearssl_gcm_on_both_paths),
		cmocka_unit_test(test_frame_mac_is_the_documented_gmac),
		cmocka_unit_test(test_both_paths_make_and_take_the_same_frames),
		cmocka_unit_test(test_same_payload_twice_gets_two_tags),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
