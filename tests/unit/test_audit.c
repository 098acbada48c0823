/*
 * tests/unit/test_audit.c - the audit log's pieces: canonical JSON
 * (common/jcanon.c), Merkle trees, base64, keys and signed checkpoints
 * (common/tlog.c), the guest's log (supervisor/audit.c) checked by the
 * host's verifier (host/auditverify.c), and AUDIT_ACK.
 *
 * The Merkle roots are RFC 6962's test vectors (the certificate
 * transparency reference leaves), and a definition-by-recursion root for
 * every size up to 300; signatures are checked against a second key and
 * against tampered text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bearssl.h>

#include "../../common/jcanon.h"
#include "../../common/sha256.h"
#include "../../common/tlog.h"
#include "../../host/auditverify.h"
#include "../../host/collect.h"
#include "../../supervisor/audit.h"
#include "../../vsock/msg.h"

static char buf[8192];

/* ---- canonical JSON -------------------------------------------------------- */

static void test_writer_output_is_canonical(void **state)
{
	struct wd_jw w;
	int n;

	(void)state;
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "a", "q\"b\\s/\n\x01\x7f\xc3\xa9");
	wd_jw_array(&w, "b");
	wd_jw_uint(&w, NULL, 0);
	wd_jw_bool(&w, NULL, true);
	wd_jw_close(&w);
	wd_jw_object(&w, "c");
	wd_jw_uint(&w, "x", 1ULL << 53);
	wd_jw_close(&w);
	n = wd_jw_end(&w);
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, "{\"a\":\"q\\\"b\\\\s/\\n\\u0001\\u007f\xc3\xa9\",\"b\":[0,true],"
				 "\"c\":{\"x\":9007199254740992}}");
	assert_int_equal(wd_jcanon_check(buf, (size_t)n, 4096, NULL, &(struct wd_err){0}), 0);
}

static void test_writer_refuses_keys_out_of_order_and_big_numbers(void **state)
{
	struct wd_jw w;

	(void)state;
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "b", "");
	wd_jw_str(&w, "a", "");
	assert_int_equal(wd_jw_end(&w), -EINVAL);
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "a", "");
	wd_jw_str(&w, "a", "");
	assert_int_equal(wd_jw_end(&w), -EINVAL);
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_uint(&w, "a", (1ULL << 53) + 1);
	assert_int_equal(wd_jw_end(&w), -EINVAL);
	wd_jw_init(&w, buf, 8);
	wd_jw_str(&w, "a", "longer than eight");
	assert_int_equal(wd_jw_end(&w), -ENOSPC);
}

static void test_writer_replaces_invalid_utf8(void **state)
{
	struct wd_jw w;

	(void)state;
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "a", "x\xff\xc0\x80y");
	assert_true(wd_jw_end(&w) > 0);
	assert_string_equal(buf, "{\"a\":\"x\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdy\"}");
}

/* An exec path an agent chose: ESC [ 2 J, OSC 52, CSI and OSC as C1, DEL.
 * No control character stays raw in the record, so printing it drives no
 * terminal; U+00A0, the first character past C1, stays as it is. */
static void test_writer_escapes_del_and_c1_controls(void **state)
{
	static const char path[] = "/x\x1b[2J\x1b]52;c;aGk=\x07\xc2\x9b"
				   "1m\xc2\x9d\x7f\xc2\xa0";
	struct wd_jw w;
	static struct wd_jscan scan;
	char back[64];
	int n;

	(void)state;
	wd_jw_init(&w, buf, sizeof(buf));
	wd_jw_str(&w, "path", path);
	n = wd_jw_end(&w);
	assert_true(n > 0);
	assert_string_equal(buf, "{\"path\":\"/x\\u001b[2J\\u001b]52;c;aGk=\\u0007\\u009b1m"
				 "\\u009d\\u007f\xc2\xa0\"}");
	/* Both checks take it, and the scanner reads back the very bytes. */
	assert_int_equal(wd_jcanon_check(buf, (size_t)n, 4096, NULL, &(struct wd_err){0}), 0);
	assert_int_equal(wd_jcanon_scan(buf, (size_t)n, 4096, &scan, &(struct wd_err){0}), 0);
	assert_int_equal(wd_jscan_string(wd_jscan_get(&scan, -1, "path"), back, sizeof(back)),
			 (int)strlen(path));
	assert_string_equal(back, path);
}

/* Keys with escapes are ordered by the bytes they stand for: U+0085 (C2 85
 * once unescaped) before U+00E9 (C3 A9), and after 'z'. */
static void test_escaped_c1_keys_are_ordered_by_their_bytes(void **state)
{
	static const char good[] = "{\"z\":1,\"\\u0085\":2,\"\xc3\xa9\":3}";
	static const char bad[] = "{\"\\u0085\":2,\"z\":1}";
	static struct wd_jscan scan;
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_jcanon_check(good, strlen(good), 4096, NULL, &err), 0);
	assert_int_equal(wd_jcanon_scan(good, strlen(good), 4096, &scan, &err), 0);
	assert_int_equal(wd_jcanon_check(bad, strlen(bad), 4096, NULL, &err), -EINVAL);
	assert_int_equal(wd_jcanon_scan(bad, strlen(bad), 4096, &scan, &err), -EINVAL);
}

static void test_non_canonical_lines_are_refused(void **state)
{
	static const char *const bad[] = {
		"{\"b\":1,\"a\":2}",       /* unsorted */
		"{\"a\":1,\"a\":1}",       /* repeated */
		"{\"a\": 1}",              /* a space */
		"{\"a\":\"\\/\"}",         /* an escape canonical form has not */
		"{\"a\":\"\\u0041\"}",     /* an escaped letter */
		"{\"a\":1.5}",             /* a fraction */
		"{\"a\":1e3}",             /* an exponent */
		"{\"a\":-1}",              /* a negative number */
		"{\"a\":null}",            /* null */
		"{\"a\":\"\\u001F\"}",     /* upper-case hex */
		"[1]",                     /* not an object */
		"{\"a\":1}x",              /* junk after it */
		"{\"a\":\"\xc3\"}",        /* cut UTF-8 */
		"{\"a\":\"\x7f\"}",        /* a raw DEL */
		"{\"a\":\"\xc2\x9b\"}",    /* a raw C1 control (CSI) */
		"{\"a\":\"\\u00a0\"}",     /* an escaped character past C1 */
		"{\"a\":\"\\u007F\"}",     /* upper-case hex */
		"{\"a\":9007199254740993}" /* over 2^53 */
	};
	static struct wd_jscan scan;
	struct wd_err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (wd_jcanon_check(bad[i], strlen(bad[i]), 4096, NULL, &err) == 0)
			fail_msg("accepted: %s", bad[i]);
		if (wd_jcanon_scan(bad[i], strlen(bad[i]), 4096, &scan, &err) == 0)
			fail_msg("the scanner accepted: %s", bad[i]);
	}
	assert_int_equal(wd_jcanon_check("{\"a\":[],\"b\":{}}", 15, 4096, NULL, &err), 0);
}

/* ---- Merkle trees --------------------------------------------------------------- */

static const char *const rfc6962_roots[] = {
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void test_merkle_roots_match_rfc6962_vectors(void **state)
{
	static const uint8_t l6[] = {0x40, 0x41, 0x42, 0x43};
	static const uint8_t l7[] = {0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57};
	static const uint8_t l8[] = {0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67,
				     0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f};
	const struct {
		const uint8_t *p;
		size_t n;
	} leaves[] = {{(const uint8_t *)"", 0},
		      {(const uint8_t *)"\x00", 1},
		      {(const uint8_t *)"\x10", 1},
		      {(const uint8_t *)"\x20\x21", 2},
		      {(const uint8_t *)"\x30\x31", 2},
		      {l6, sizeof(l6)},
		      {l7, sizeof(l7)},
		      {l8, sizeof(l8)}};
	struct wd_merkle m;
	uint8_t leaf[WD_HASH_BYTES], root[WD_HASH_BYTES];
	char hex[2 * WD_HASH_BYTES + 1];

	(void)state;
	wd_merkle_init(&m);
	wd_merkle_root(&m, root);
	wd_hex(root, sizeof(root), hex);
	assert_string_equal(hex,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	for (size_t i = 0; i < 8; i++) {
		wd_merkle_leaf(leaves[i].p, leaves[i].n, leaf);
		wd_merkle_append(&m, leaf);
		wd_merkle_root(&m, root);
		wd_hex(root, sizeof(root), hex);
		assert_string_equal(hex, rfc6962_roots[i]);
	}
}

/* RFC 6962's definition: split at the largest power of two below n. */
static void mth(const uint8_t (*leaf)[WD_HASH_BYTES], size_t n, uint8_t out[WD_HASH_BYTES])
{
	uint8_t in[1 + 2 * WD_HASH_BYTES], l[WD_HASH_BYTES], r[WD_HASH_BYTES];
	size_t k = 1;

	if (n == 1) {
		memcpy(out, leaf[0], WD_HASH_BYTES);
		return;
	}
	while (2 * k < n)
		k *= 2;
	mth(leaf, k, l);
	mth(leaf + k, n - k, r);
	in[0] = 1;
	memcpy(in + 1, l, WD_HASH_BYTES);
	memcpy(in + 1 + WD_HASH_BYTES, r, WD_HASH_BYTES);
	wd_sha256(in, sizeof(in), out);
}

static void test_merkle_compact_root_equals_the_definition(void **state)
{
	static uint8_t leaf[300][WD_HASH_BYTES];
	struct wd_merkle m;
	uint8_t a[WD_HASH_BYTES], b[WD_HASH_BYTES];

	(void)state;
	wd_merkle_init(&m);
	for (size_t i = 0; i < 300; i++) {
		char rec[32];
		int n = snprintf(rec, sizeof(rec), "record %zu", i);

		wd_merkle_leaf(rec, (size_t)n, leaf[i]);
		wd_merkle_append(&m, leaf[i]);
		wd_merkle_root(&m, a);
		mth(leaf, i + 1, b);
		assert_memory_equal(a, b, WD_HASH_BYTES);
		assert_int_equal(m.npeaks, __builtin_popcountll(i + 1));
	}
}

/* SHA-256, both paths (SHA-NI where the CPU has it, and the portable
 * one), against BearSSL's, for every length up to 300 bytes, in pieces of
 * every size, and for 1 MiB. */
static void test_sha256_matches_bearssl_on_both_paths(void **state)
{
	static uint8_t data[1 << 20];
	uint8_t a[32], b[32];

	(void)state;
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 2654435761U >> 13);
	for (int path = 0; path < 2; path++) {
		wd_sha256_use_hw(path == 0);
		for (size_t n = 0; n <= 300; n++) {
			for (size_t piece = 1; piece <= 70; piece += 23) {
				struct wd_sha256 c;
				br_sha256_context r;

				wd_sha256_init(&c);
				for (size_t at = 0; at < n; at += piece)
					wd_sha256_update(&c, data + at,
							 piece < n - at ? piece : n - at);
				wd_sha256_final(&c, a);
				br_sha256_init(&r);
				br_sha256_update(&r, data, n);
				br_sha256_out(&r, b);
				if (memcmp(a, b, 32) != 0)
					fail_msg("path %d, %zu bytes in pieces of %zu", path, n,
						 piece);
			}
		}
		wd_sha256(data, sizeof(data), a);
		{
			br_sha256_context r;

			br_sha256_init(&r);
			br_sha256_update(&r, data, sizeof(data));
			br_sha256_out(&r, b);
		}
		assert_memory_equal(a, b, 32);
	}
	wd_sha256_use_hw(true);
}

/* HMAC-SHA256 as the channel uses it, against BearSSL's: the one-shot
 * form, and a precomputed key reused for many messages (one key object
 * for all of them: using it must not change it), on both SHA-256 paths,
 * up to a whole 64 KiB DATA frame. */
static void test_hmac_matches_bearssl(void **state)
{
	static uint8_t msg[24 + 65536 + 32];
	static const size_t big[] = {1023, 65536 + 24, sizeof(msg)};
	uint8_t key[32], a[32], b[32], c[32];

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(7 * i + 1);
	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i ^ 0x5a ^ (i >> 8));
	for (int path = 0; path < 2; path++) {
		struct wd_hmac_sha256_key k;

		wd_sha256_use_hw(path == 0);
		wd_hmac_sha256_key(&k, key, sizeof(key));
		for (size_t i = 0; i < 200 / 13 + 1 + sizeof(big) / sizeof(big[0]); i++) {
			size_t n = i <= 200 / 13 ? i * 13 : big[i - 200 / 13 - 1];
			br_hmac_key_context kc;
			br_hmac_context hc;

			wd_hmac_sha256(key, sizeof(key), "label", 5, msg, n, a);
			wd_hmac_sha256_keyed(&k, "label", 5, msg, n, c);
			br_hmac_key_init(&kc, &br_sha256_vtable, key, sizeof(key));
			br_hmac_init(&hc, &kc, 0);
			br_hmac_update(&hc, "label", 5);
			br_hmac_update(&hc, msg, n);
			(void)br_hmac_out(&hc, b);
			if (memcmp(a, b, 32) != 0 || memcmp(c, b, 32) != 0)
				fail_msg("path %d, %zu bytes", path, n);
		}
	}
	wd_sha256_use_hw(true);
}

/* ---- base64, keys, notes ------------------------------------------------------------ */

static void test_base64_round_trips_and_refuses_bad_text(void **state)
{
	uint8_t out[16];
	char text[32];

	(void)state;
	for (size_t n = 0; n <= 5; n++) {
		(void)wd_b64_encode((const uint8_t *)"abcde", n, text, sizeof(text));
		assert_int_equal(wd_b64_decode(text, strlen(text), out, sizeof(out)), (int)n);
		assert_memory_equal(out, "abcde", n);
	}
	assert_int_equal(wd_b64_decode("YQ=", 3, out, sizeof(out)), -EINVAL);  /* length */
	assert_int_equal(wd_b64_decode("YR==", 4, out, sizeof(out)), -EINVAL); /* stray bits */
	assert_int_equal(wd_b64_decode("Y=Q=", 4, out, sizeof(out)), -EINVAL); /* padding inside */
	assert_int_equal(wd_b64_decode("Y*==", 4, out, sizeof(out)), -EINVAL); /* alphabet */
	assert_int_equal(wd_b64_decode("YWJj", 4, out, 2), -ENOSPC);
}

/* A fixed private scalar (any value below the group order works). */
static const uint8_t priv[WD_P256_PRIV_BYTES] = {0x1f, 0x2e, 0x3d, 0x4c, 0x5b, 0x6a, 0x79, 0x88,
						 0x97, 0xa6, 0xb5, 0xc4, 0xd3, 0xe2, 0xf1, 0x00,
						 0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78,
						 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0};

static void key_of(const uint8_t *x, struct wd_pubkey *k)
{
	uint8_t copy[WD_P256_PRIV_BYTES];
	br_ec_private_key sk = {BR_EC_secp256r1, copy, WD_P256_PRIV_BYTES};
	br_ec_public_key pk;
	uint8_t pub[BR_EC_KBUF_PUB_MAX_SIZE];

	memcpy(copy, x, sizeof(copy));
	assert_int_equal(br_ec_compute_pub(&br_ec_p256_m31, &pk, pub, &sk), WD_P256_PUB_BYTES);
	wd_pubkey_from_point(pub, k);
}

static void test_signed_checkpoint_verifies_and_tampering_does_not(void **state)
{
	struct wd_pubkey k, other;
	struct wd_checkpoint c;
	struct wd_err err;
	uint8_t root[WD_HASH_BYTES] = {1, 2, 3}, other_priv[WD_P256_PRIV_BYTES];
	char text[256], note[WD_NOTE_MAX], pem[WD_PEM_MAX];
	int tn, nn;

	(void)state;
	key_of(priv, &k);
	memcpy(other_priv, priv, sizeof(other_priv));
	other_priv[31] ^= 1;
	key_of(other_priv, &other);
	tn = wd_checkpoint_text("vm/audit/00", 42, root, "", text, sizeof(text));
	assert_true(tn > 0);
	nn = wd_note_sign(text, (size_t)tn, "vm/audit/00", priv, &k, note, sizeof(note), &err);
	assert_true(nn > tn);
	assert_int_equal(wd_note_verify(note, (size_t)nn, &k, &c, &err), 0);
	assert_int_equal(c.size, 42);
	assert_string_equal(c.origin, "vm/audit/00");
	assert_memory_equal(c.root, root, sizeof(root));
	/* The key travels as PEM too. */
	assert_true(wd_pubkey_pem(&k, pem, sizeof(pem)) > 0);
	assert_int_equal(wd_pubkey_from_pem(pem, strlen(pem), &other, &err), 0);
	assert_memory_equal(other.spki, k.spki, WD_SPKI_BYTES);
	key_of(other_priv, &other);
	/* Another key's view: no signature of it. */
	assert_int_equal(wd_note_verify(note, (size_t)nn, &other, &c, &err), -EKEYREJECTED);
	/* The tree size changed: the signature fails. */
	note[strlen("vm/audit/00\n")] = '5';
	assert_int_equal(wd_note_verify(note, (size_t)nn, &k, &c, &err), -EKEYREJECTED);
	/* No empty line before the signature. */
	assert_int_equal(wd_note_verify(text, (size_t)tn, &k, &c, &err), -EINVAL);
}

/* ---- the guest's log, checked by the host's verifier ----------------------------------- */

static char lines[16][SUP_AUDIT_RECORD_MAX + 1];

static void keep_last(size_t *n)
{
	size_t len;
	const char *l = sup_audit_last_line(&len);

	memcpy(lines[(*n)++], l, len + 1);
}

/* A log with the budget `max_records`, `max_bytes`, a checkpoint only when
 * asked, and its start record (naming the key). */
static void open_log(uint64_t max_records, uint64_t max_bytes)
{
	struct wd_policy_audit lim;
	struct wd_err err;
	char data[512], spki[WD_SPKI_B64];
	struct sup_audit_event start = {"lifecycle",         "start", "success", "informational",
					"warden-supervisor", 1,       0,         data};
	struct wd_jw w;

	assert_int_equal(sup_audit_open("unit", &err), 0);
	wd_policy_audit_defaults(&lim);
	lim.checkpoint_every = 1000000;
	lim.max_records = max_records;
	lim.max_bytes = max_bytes;
	assert_int_equal(sup_audit_set_limits(&lim, &err), 0);
	(void)wd_b64_encode(sup_audit_pubkey()->spki, WD_SPKI_BYTES, spki, sizeof(spki));
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "origin", sup_audit_origin());
	wd_jw_str(&w, "pubkey", spki);
	assert_true(wd_jw_end(&w) > 0);
	assert_int_equal(sup_audit_record(&start, &err), 0);
}

/* A log of 12 records made by the guest's own code: start, ten denials,
 * a checkpoint over the eleven. The log stays open (its key) until
 * sup_audit_close(). */
static size_t build_log(void)
{
	struct wd_err err;
	struct sup_audit_event deny = {"seccomp", "deny", "denied", "medium",
				       "agent",   7,      65534,    "{\"syscall\":\"ptrace\"}"};
	size_t n = 0;

	open_log(WD_POLICY_BUDGET_RECORDS, WD_POLICY_BUDGET_BYTES);
	keep_last(&n);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(sup_audit_record(&deny, &err), 0);
		keep_last(&n);
	}
	assert_int_equal(sup_audit_checkpoint(&err), 0);
	assert_int_equal(sup_audit_last_seq(), 12);
	keep_last(&n);
	return n;
}

static void test_guest_log_verifies_and_a_changed_record_does_not(void **state)
{
	struct wd_verify v;
	struct wd_err err;
	size_t n = build_log();
	int rc = 0;

	(void)state;
	wd_verify_init(&v, sup_audit_pubkey());
	for (size_t i = 0; i < n; i++)
		if (wd_verify_line(&v, lines[i], strlen(lines[i]), &err) != 0)
			fail_msg("line %zu: %s", i + 1, err.msg);
	assert_int_equal(v.checkpoints, 1);
	assert_int_equal(v.covered, 11);
	assert_int_equal(wd_verify_final(&v, v.last_note, v.last_note_len, &err), 0);
	wd_verify_free(&v);

	/* One byte of record 5 changed: record 6 no longer chains to it. */
	lines[4][strlen(lines[4]) - 30] ^= 1;
	wd_verify_init(&v, sup_audit_pubkey());
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = wd_verify_line(&v, lines[i], strlen(lines[i]), &err);
		if (rc < 0)
			assert_true(i == 4 || i == 5);
	}
	assert_true(rc < 0);
	assert_non_null(strstr(err.msg, "record"));
	wd_verify_free(&v);
	sup_audit_close();
}

/* A log's later segment verifies alone, from its header's state. */
static void test_header_carries_the_state_a_pruned_log_starts_from(void **state)
{
	struct wd_verify v, w;
	struct wd_err err;
	char header[WD_AUDIT_LINE_MAX];
	size_t n = build_log();

	(void)state;
	wd_verify_init(&v, NULL);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(wd_verify_line(&v, lines[i], strlen(lines[i]), &err), 0);
	assert_true(wd_verify_header(&v, 2, header, sizeof(header)) > 0);
	wd_verify_init(&w, NULL);
	assert_int_equal(wd_verify_line(&w, header, strlen(header), &err), 0);
	assert_int_equal(w.start, 7);
	for (size_t i = 6; i < n; i++)
		if (wd_verify_line(&w, lines[i], strlen(lines[i]), &err) != 0)
			fail_msg("line %zu: %s", i + 1, err.msg);
	assert_int_equal(w.checkpoints, 1);
	wd_verify_free(&w);
	/* A header whose peaks lie: the checkpoint's signed root says so. */
	header[strstr(header, "\"peaks\":[\"") - header + 10] ^= 1;
	wd_verify_init(&w, NULL);
	if (wd_verify_line(&w, header, strlen(header), &err) == 0) {
		int rc = 0;

		for (size_t i = 6; i < n && rc == 0; i++)
			rc = wd_verify_line(&w, lines[i], strlen(lines[i]), &err);
		assert_true(rc < 0);
	}
	wd_verify_free(&w);
	wd_verify_free(&v);
	sup_audit_close();
}

/* ---- the budget ------------------------------------------------------------------------------ */

/* The policy's audit section, read as every caller reads it. */
static int audit_section(const char *text, size_t len, struct wd_policy_audit *l,
			 struct wd_err *err)
{
	struct wd_policy p;
	int rc = wd_policy_read(text, len, &p, err);

	*l = p.audit;
	wd_policy_free(&p);
	return rc;
}

static void test_policy_reads_the_budget_and_names_a_bad_member(void **state)
{
	struct wd_policy_audit l;
	struct wd_err err;
	const char *ok = "{\"audit\": {\"max_records\": 300, \"max_bytes\": 2097152}}";
	static const struct {
		const char *policy, *says;
	} bad[] = {
		{"{\"audit\": {\"max_records\": 255}}", "policy: audit.max_records: at least 256"},
		{"{\"audit\": {\"max_records\": 1000000001}}", "policy: audit.max_records: over"},
		{"{\"audit\": {\"max_records\": 1.5}}", "policy: audit.max_records"},
		{"{\"audit\": {\"max_records\": \"300\"}}", "policy: audit.max_records"},
		{"{\"audit\": {\"max_bytes\": 1048575}}",
		 "policy: audit.max_bytes: at least 1048576"},
		{"{\"audit\": {\"max_bytes\": 1099511627777}}", "policy: audit.max_bytes: over"},
		{"{\"audit\": {\"max_bytes\": -1}}", "policy: audit.max_bytes"},
		{"{\"audit\": {\"max_record\": 300}}", "max_record"},
	};

	(void)state;
	assert_int_equal(audit_section("", 0, &l, &err), 0);
	assert_int_equal(l.max_records, WD_POLICY_BUDGET_RECORDS);
	assert_int_equal(l.max_bytes, WD_POLICY_BUDGET_BYTES);
	assert_int_equal(audit_section(ok, strlen(ok), &l, &err), 0);
	assert_int_equal(l.max_records, 300);
	assert_int_equal(l.max_bytes, 2097152);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (audit_section(bad[i].policy, strlen(bad[i].policy), &l, &err) == 0)
			fail_msg("accepted: %s", bad[i].policy);
		if (strstr(err.msg, bad[i].says) == NULL)
			fail_msg("%s: '%s' does not say '%s'", bad[i].policy, err.msg, bad[i].says);
		assert_int_equal(l.max_records, WD_POLICY_BUDGET_RECORDS); /* nothing half-read */
	}
}

static struct wd_verify budget_v;

/* The last record made, checked as the host would. */
static void verify_last(void)
{
	struct wd_err err;
	size_t len;
	const char *l = sup_audit_last_line(&len);

	if (wd_verify_line(&budget_v, l, len, &err) != 0)
		fail_msg("%s", err.msg);
}

/* A log with a budget, its start record checked as the host would. */
static void open_budget_log(uint64_t max_records, uint64_t max_bytes)
{
	open_log(max_records, max_bytes);
	wd_verify_init(&budget_v, sup_audit_pubkey());
	verify_last();
}

static const struct sup_audit_event agent_deny = {
	"seccomp", "deny", "denied", "medium", "agent", 7, 65534, "{\"syscall\":\"ptrace\"}"};
static const struct sup_audit_event own = {
	"lifecycle", "job-end", "success", "informational", "warden-supervisor", 2, 0, NULL};

/* The agent's records until the budget says no: how many were made. */
static uint64_t agent_until_spent(void)
{
	struct wd_err err;
	uint64_t made = 0;
	int rc;

	while ((rc = sup_audit_record_agent(&agent_deny, &err)) == 0) {
		verify_last();
		made++;
		assert_true(made < 100000);
	}
	assert_int_equal(rc, -EDQUOT);
	assert_non_null(strstr(err.msg, "is spent"));
	return made;
}

static void test_agent_records_stop_at_the_budget_less_its_reserve(void **state)
{
	struct wd_err err;
	uint64_t records, bytes;

	(void)state;
	open_budget_log(300, WD_POLICY_BUDGET_BYTES);
	assert_null(sup_audit_spent());
	/* Record 1 and the agent's up to 300 less the reserve. */
	assert_int_equal(agent_until_spent(), 300 - SUP_AUDIT_BUDGET_RESERVE_RECORDS - 1);
	assert_string_equal(sup_audit_spent(), "max_records");
	/* Once spent, spent: the agent gets nothing more. */
	assert_int_equal(sup_audit_record_agent(&agent_deny, &err), -EDQUOT);
	/* The reserve closes the log: the limit record, the rest, checkpoints. */
	assert_int_equal(sup_audit_record_spent(&err), 0);
	verify_last();
	assert_non_null(strstr(sup_audit_last_line(&(size_t){0}),
			       "\"class\":\"limit\",\"data\":{\"budget\":\"max_records\""));
	assert_int_equal(sup_audit_checkpoint(&err), 0);
	verify_last();
	while (sup_audit_last_seq() < 300) {
		assert_int_equal(sup_audit_record(&own, &err), 0);
		verify_last();
	}
	/* ... and no record past the whole budget, not even the supervisor's. */
	assert_int_equal(sup_audit_record(&own, &err), -EDQUOT);
	assert_non_null(strstr(err.msg, "audit.max_records (300)"));
	sup_audit_usage(&records, &bytes);
	assert_int_equal(records, 300);
	assert_int_equal(budget_v.seq, 300);
	wd_verify_free(&budget_v);
	sup_audit_close();
}

static void test_bytes_budget_keeps_its_reserve_too(void **state)
{
	struct wd_err err;
	uint64_t records, bytes;

	(void)state;
	open_budget_log(WD_POLICY_BUDGET_RECORDS, WD_POLICY_BUDGET_BYTES_MIN);
	(void)agent_until_spent();
	assert_string_equal(sup_audit_spent(), "max_bytes");
	sup_audit_usage(&records, &bytes);
	/* The agent's last fitted under the budget less the reserve, the next would not have. */
	assert_true(bytes <= WD_POLICY_BUDGET_BYTES_MIN - SUP_AUDIT_BUDGET_RESERVE_BYTES);
	assert_true(bytes + 2 * (bytes / records) >
		    WD_POLICY_BUDGET_BYTES_MIN - SUP_AUDIT_BUDGET_RESERVE_BYTES);
	/* The reserve holds every record that closes the log, with a checkpoint each. */
	for (uint64_t i = 0; i < SUP_AUDIT_BUDGET_RESERVE_RECORDS / 2; i++) {
		assert_int_equal(sup_audit_record(&own, &err), 0);
		assert_int_equal(sup_audit_checkpoint(&err), 0);
	}
	wd_verify_free(&budget_v);
	sup_audit_close();
}

/* The function run before each checkpoint: its records are covered. */
static int hook_runs;

static int before_checkpoint(struct wd_err *err)
{
	hook_runs++;
	return sup_audit_record(&agent_deny, err);
}

static void test_checkpoint_takes_the_flushed_records_in(void **state)
{
	struct wd_err err;

	(void)state;
	open_budget_log(WD_POLICY_BUDGET_RECORDS, WD_POLICY_BUDGET_BYTES);
	sup_audit_before_checkpoint(before_checkpoint);
	assert_int_equal(sup_audit_checkpoint(&err), 0);
	/* start, the hook's record, the checkpoint over both */
	assert_int_equal(hook_runs, 1);
	assert_int_equal(sup_audit_last_seq(), 3);
	assert_non_null(strstr(sup_audit_last_line(&(size_t){0}), "\"tree_size\":2"));
	wd_verify_free(&budget_v);
	sup_audit_close();
	hook_runs = 0;
}

/* The host does not trust the guest to keep its budget: a record past it
 * is refused, the job fails, and what came before is stored. */
static void test_collector_refuses_a_record_past_the_budget(void **state)
{
	static struct wd_collector c;
	static char frame[64 * 1024];
	struct wd_hello h;
	struct wd_err err;
	char dir[] = "/tmp/warden-unit-collect.XXXXXX", path[128], line[SUP_AUDIT_RECORD_MAX + 2];
	size_t n = 0, len;
	FILE *seg;
	int stored = 0;

	(void)state;
	open_budget_log(WD_POLICY_BUDGET_RECORDS, WD_POLICY_BUDGET_BYTES);
	for (int i = 0; i < 10; i++) {
		const char *l;

		if (i > 0)
			assert_int_equal(sup_audit_record_agent(&agent_deny, &err), 0);
		l = sup_audit_last_line(&len);
		memcpy(frame + n, l, len);
		frame[n + len] = '\n';
		n += len + 1;
	}
	memset(&h, 0, sizeof(h));
	(void)wd_b64_encode(sup_audit_pubkey()->spki, WD_SPKI_BYTES, h.audit_pubkey,
			    sizeof(h.audit_pubkey));
	(void)snprintf(h.audit_origin, sizeof(h.audit_origin), "%s", sup_audit_origin());
	assert_non_null(mkdtemp(dir));
	assert_int_equal(wd_collect_open(&c, dir, 0, false, &err), 0);
	wd_collect_budget(&c, 6, WD_POLICY_BUDGET_BYTES);
	assert_int_equal(wd_collect_hello(&c, &h, &err), 0);
	if (wd_collect_frame(&c, (const uint8_t *)frame, n, &err) != -EDQUOT)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(err.msg, "record 7 past the job's budget audit.max_records (6"));
	/* Nothing more is taken. */
	assert_true(wd_collect_frame(&c, (const uint8_t *)frame, n, &err) < 0);
	assert_int_equal(wd_collect_close(&c, line, sizeof(line), &err), 0);
	(void)snprintf(path, sizeof(path), "%s/audit-%s.000001.jsonl", dir, sup_audit_boot_id());
	seg = fopen(path, "r");
	assert_non_null(seg);
	while (seg != NULL && fgets(line, sizeof(line), seg) != NULL)
		stored += strncmp(line, "{\"segment\":", 11) != 0;
	if (seg != NULL)
		(void)fclose(seg);
	assert_int_equal(stored, 6);
	wd_collect_free(&c);
	(void)snprintf(path, sizeof(path), "rm -rf -- '%s'", dir);
	assert_int_equal(system(path), 0);
	wd_verify_free(&budget_v);
	sup_audit_close();
}

/* ---- AUDIT_ACK ---------------------------------------------------------------------------- */

static void test_audit_ack_round_trips_and_refuses_other_sizes(void **state)
{
	uint8_t p[WD_AUDIT_ACK_BYTES];
	uint64_t seq = 0;
	struct wd_err err;

	(void)state;
	wd_audit_ack_encode(0x0102030405060708ULL, p);
	assert_int_equal(wd_audit_ack_decode(p, sizeof(p), &seq, &err), 0);
	assert_int_equal(seq, 0x0102030405060708ULL);
	assert_int_equal(wd_audit_ack_decode(p, 7, &seq, &err), -EBADMSG);
}

/*
 * The pages that hold the log's signing key (there is one): locked in
 * memory (VmFlags "lo"), left out of core dumps ("dd"), and blank in a
 * forked child ("wf": the agent is a fork of the supervisor). Found in
 * /proc/self/smaps by those flags; *addr is where they start. Under
 * AddressSanitizer mlock() is a no-op by design, so "lo" is not asked for
 * there; the musl build asks for it.
 */
#ifdef __SANITIZE_ADDRESS__
#define KEY_FLAGS_LOCKED false
#else
#define KEY_FLAGS_LOCKED true
#endif

static int key_pages(const volatile uint8_t **addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	char line[512];
	void *start = NULL, *end = NULL;
	int found = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		/* A mapping's first line: "START-END PERMS ...", no ':' in its first word. */
		if (strcspn(line, " ") > strcspn(line, "-") &&
		    strcspn(line, " ") < strcspn(line, ":") &&
		    sscanf(line, "%p-%p ", &start, &end) == 2)
			continue;
		if (strncmp(line, "VmFlags:", 8) == 0 && strstr(line, " dd") != NULL &&
		    strstr(line, " wf") != NULL &&
		    (!KEY_FLAGS_LOCKED || strstr(line, " lo") != NULL) &&
		    (uintptr_t)end - (uintptr_t)start == 4096) {
			*addr = start;
			found++;
		}
	}
	(void)fclose(f);
	return found;
}

static void test_key_page_is_locked_undumped_and_blank_in_a_fork(void **state)
{
	struct wd_err err;
	const volatile uint8_t *page = NULL;
	bool blank = true;
	int status = -1;
	pid_t pid;

	(void)state;
	assert_int_equal(sup_audit_open("keytest", &err), 0);
	assert_int_equal(key_pages(&page), 1);
	assert_non_null(page);
	if (page == NULL)
		return;
	for (size_t i = 0; i < 64; i++)
		blank = blank && page[i] == 0;
	assert_false(blank); /* the key is there, in the supervisor */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		for (size_t i = 0; i < 4096; i++)
			if (page[i] != 0)
				_exit(1);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0); /* ... and not in a fork */
	sup_audit_close();
	assert_int_equal(key_pages(&page), 0); /* gone at the end */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_output_is_canonical),
		cmocka_unit_test(test_writer_refuses_keys_out_of_order_and_big_numbers),
		cmocka_unit_test(test_writer_replaces_invalid_utf8),
		cmocka_unit_test(test_writer_escapes_del_and_c1_controls),
		cmocka_unit_test(test_escaped_c1_keys_are_ordered_by_their_bytes),
		cmocka_unit_test(test_non_canonical_lines_are_refused),
		cmocka_unit_test(test_merkle_roots_match_rfc6962_vectors),
		cmocka_unit_test(test_merkle_compact_root_equals_the_definition),
		cmocka_unit_test(test_sha256_matches_bearssl_on_both_paths),
		cmocka_unit_test(test_hmac_matches_bearssl),
		cmocka_unit_test(test_base64_round_trips_and_refuses_bad_text),
		cmocka_unit_test(test_signed_checkpoint_verifies_and_tampering_does_not),
		cmocka_unit_test(test_guest_log_verifies_and_a_changed_record_does_not),
		cmocka_unit_test(test_key_page_is_locked_undumped_and_blank_in_a_fork),
		cmocka_unit_test(test_header_carries_the_state_a_pruned_log_starts_from),
		cmocka_unit_test(test_audit_ack_round_trips_and_refuses_other_sizes),
		cmocka_unit_test(test_policy_reads_the_budget_and_names_a_bad_member),
		cmocka_unit_test(test_agent_records_stop_at_the_budget_less_its_reserve),
		cmocka_unit_test(test_bytes_budget_keeps_its_reserve_too),
		cmocka_unit_test(test_checkpoint_takes_the_flushed_records_in),
		cmocka_unit_test(test_collector_refuses_a_record_past_the_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
