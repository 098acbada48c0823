/*
 * common/tlog.h - the audit log's cryptography, shared by the supervisor
 * (which signs) and the host (which verifies): RFC 6962 Merkle trees,
 * C2SP tlog-checkpoints and C2SP signed notes with ECDSA P-256 (BearSSL).
 *
 * Merkle tree (RFC 6962, section 2.1): a leaf's hash is
 * SHA-256(0x00 || record), a node's SHA-256(0x01 || left || right), the
 * empty tree's SHA-256 of nothing. struct wd_merkle keeps only the roots of
 * the complete subtrees (one per set bit of the size, at most 64), so
 * appending and the root cost O(log n) and no record is kept.
 *
 * Checkpoint (C2SP tlog-checkpoint): the note text
 *
 *     <origin>\n<tree size, decimal>\n<root, base64>\n[extension lines]
 *
 * Signed note (C2SP signed-note): the text, an empty line, then one line
 *
 *     \u2014 <key name> <base64(key id (4 bytes) || signature)>\n
 *
 * with the key name the origin, the signature ECDSA P-256 over SHA-256 of
 * the text, ASN.1 DER (what `openssl dgst -sha256 -verify` checks), and the
 * key id the first 4 bytes of SHA-256 of the public key's DER
 * SubjectPublicKeyInfo (the form C2SP gives for ECDSA keys).
 *
 * Keys travel as base64 of the SubjectPublicKeyInfo (HELLO's audit_pubkey)
 * or as PEM ("PUBLIC KEY"). The private key is the caller's: see
 * supervisor/audit.c for how it is kept.
 */
#ifndef WARDEN_COMMON_TLOG_H
#define WARDEN_COMMON_TLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WD_HASH_BYTES 32
#define WD_HASH_B64 45       /* base64 of a hash, NUL included */
#define WD_P256_PUB_BYTES 65 /* uncompressed point */
#define WD_P256_PRIV_BYTES 32
#define WD_SPKI_BYTES 91    /* DER SubjectPublicKeyInfo of a P-256 key */
#define WD_SPKI_B64 125     /* its base64, NUL included */
#define WD_SIG_MAX_BYTES 72 /* ASN.1 DER ECDSA P-256 signature */
#define WD_KEY_ID_BYTES 4
#define WD_ORIGIN_MAX 160 /* a checkpoint's origin line */
#define WD_NOTE_MAX 1024  /* a signed checkpoint, all lines */
#define WD_PEM_MAX 256    /* a PEM public key */

struct wd_merkle {
	uint64_t size;
	uint8_t peak[64][WD_HASH_BYTES]; /* the complete subtrees, largest first */
	unsigned npeaks;
};

void wd_sha256(const void *p, size_t n, uint8_t out[WD_HASH_BYTES]);
void wd_merkle_leaf(const void *record, size_t n, uint8_t out[WD_HASH_BYTES]);
void wd_merkle_init(struct wd_merkle *m);
void wd_merkle_append(struct wd_merkle *m, const uint8_t leaf[WD_HASH_BYTES]);
void wd_merkle_root(const struct wd_merkle *m, uint8_t out[WD_HASH_BYTES]);

/* Base64 (RFC 4648, padded): encode writes a NUL; decode returns the byte
 * count or -EINVAL (bad alphabet, padding or length) / -ENOSPC. */
size_t wd_b64_encode(const uint8_t *p, size_t n, char *out, size_t size);
int wd_b64_decode(const char *s, size_t n, uint8_t *out, size_t size);

/* Public keys. */
struct wd_pubkey {
	uint8_t point[WD_P256_PUB_BYTES];
	uint8_t spki[WD_SPKI_BYTES];
	uint8_t id[WD_KEY_ID_BYTES];
};
void wd_pubkey_from_point(const uint8_t point[WD_P256_PUB_BYTES], struct wd_pubkey *k);
/* From base64 of the SPKI, or from a PEM text. */
int wd_pubkey_from_b64(const char *s, struct wd_pubkey *k, struct wd_err *err);
int wd_pubkey_from_pem(const char *pem, size_t n, struct wd_pubkey *k, struct wd_err *err);
/* The PEM text, NUL-terminated; returns its length. */
size_t wd_pubkey_pem(const struct wd_pubkey *k, char *out, size_t size);

/* The checkpoint text into out[size]; its length or -ENOSPC. `ext` is
 * extension lines (each ending in \n) or "". */
int wd_checkpoint_text(const char *origin, uint64_t size, const uint8_t root[WD_HASH_BYTES],
		       const char *ext, char *out, size_t size_out);

/* Sign `text` as a note with the private scalar `priv`: the whole signed
 * note into out[size]; its length or -errno. */
int wd_note_sign(const char *text, size_t n, const char *key_name, const uint8_t *priv,
		 const struct wd_pubkey *k, char *out, size_t size, struct wd_err *err);

/* A signed checkpoint, parsed and verified against `k`. */
struct wd_checkpoint {
	char origin[WD_ORIGIN_MAX];
	uint64_t size;
	uint8_t root[WD_HASH_BYTES];
	size_t text_len; /* the signed text's bytes, from the start of the note */
	uint8_t sig[WD_SIG_MAX_BYTES];
	size_t sig_len;
};
int wd_note_verify(const char *note, size_t n, const struct wd_pubkey *k, struct wd_checkpoint *c,
		   struct wd_err *err);

/* Lowercase hex of n bytes into out (2n+1). */
void wd_hex(const uint8_t *p, size_t n, char *out);

#endif
