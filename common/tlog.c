/* common/tlog.c - see tlog.h. */
#include "tlog.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bearssl.h>

#include "parse.h"
#include "sha256.h"

static const uint8_t spki_prefix[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
				      0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
				      0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
_Static_assert(sizeof(spki_prefix) + WD_P256_PUB_BYTES == WD_SPKI_BYTES, "P-256 SPKI size");

static const char pem_begin[] = "-----BEGIN PUBLIC KEY-----\n";
static const char pem_end[] = "-----END PUBLIC KEY-----\n";
static const char em_dash[] = "\xe2\x80\x94 "; /* U+2014 and a space: a signature line */

void wd_sha256(const void *p, size_t n, uint8_t out[WD_HASH_BYTES])
{
	struct wd_sha256 c;

	wd_sha256_init(&c);
	wd_sha256_update(&c, p, n);
	wd_sha256_final(&c, out);
}

void wd_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- Merkle tree -------------------------------------------------------- */

void wd_merkle_leaf(const void *record, size_t n, uint8_t out[WD_HASH_BYTES])
{
	static const uint8_t zero = 0x00;
	struct wd_sha256 c;

	wd_sha256_init(&c);
	wd_sha256_update(&c, &zero, 1);
	wd_sha256_update(&c, record, n);
	wd_sha256_final(&c, out);
}

static void node(const uint8_t l[WD_HASH_BYTES], const uint8_t r[WD_HASH_BYTES],
		 uint8_t out[WD_HASH_BYTES])
{
	uint8_t in[1 + 2 * WD_HASH_BYTES];
	struct wd_sha256 c;

	in[0] = 0x01;
	memcpy(in + 1, l, WD_HASH_BYTES);
	memcpy(in + 1 + WD_HASH_BYTES, r, WD_HASH_BYTES);
	wd_sha256_init(&c);
	wd_sha256_update(&c, in, sizeof(in));
	wd_sha256_final(&c, out);
}

void wd_merkle_init(struct wd_merkle *m)
{
	memset(m, 0, sizeof(*m));
}

/* The peaks are the complete subtrees of the size's set bits, largest
 * first; a new leaf merges with every peak of the size's trailing ones. */
void wd_merkle_append(struct wd_merkle *m, const uint8_t leaf[WD_HASH_BYTES])
{
	memcpy(m->peak[m->npeaks++], leaf, WD_HASH_BYTES);
	for (uint64_t s = m->size; s & 1; s >>= 1) {
		m->npeaks--;
		node(m->peak[m->npeaks - 1], m->peak[m->npeaks], m->peak[m->npeaks - 1]);
	}
	m->size++;
}

/* RFC 6962's MTH splits at the largest power of two below the size: that
 * is folding the peaks from the right. */
void wd_merkle_root(const struct wd_merkle *m, uint8_t out[WD_HASH_BYTES])
{
	uint8_t r[WD_HASH_BYTES];

	if (m->npeaks == 0) {
		wd_sha256("", 0, out);
		return;
	}
	memcpy(r, m->peak[m->npeaks - 1], WD_HASH_BYTES);
	for (unsigned i = m->npeaks - 1; i-- > 0;)
		node(m->peak[i], r, r);
	memcpy(out, r, WD_HASH_BYTES);
}

/* ---- base64 ---------------------------------------------------------------- */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t wd_b64_encode(const uint8_t *p, size_t n, char *out, size_t size)
{
	size_t o = 0;

	if (size < (n + 2) / 3 * 4 + 1) {
		if (size > 0)
			out[0] = '\0';
		return 0;
	}
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return o;
}

static int b64_value(char c)
{
	const char *at = c != '\0' ? strchr(b64, c) : NULL;

	return at != NULL ? (int)(at - b64) : -1;
}

int wd_b64_decode(const char *s, size_t n, uint8_t *out, size_t size)
{
	size_t o = 0;

	if (n % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 4) {
		int v[4];
		size_t pad = 0;

		for (int j = 0; j < 4; j++) {
			v[j] = b64_value(s[i + (size_t)j]);
			if (s[i + (size_t)j] == '=' && i + 4 == n && j >= 2) {
				v[j] = 0;
				pad++;
			} else if (v[j] < 0 || pad > 0) {
				return -EINVAL;
			}
		}
		if (o + 3 - pad > size)
			return -ENOSPC;
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		/* Canonical: the bits padding drops must be zero. */
		if ((pad == 1 && (w & 0xff) != 0) || (pad == 2 && (w & 0xffff) != 0))
			return -EINVAL;
		out[o++] = (uint8_t)(w >> 16);
		if (pad < 2)
			out[o++] = (uint8_t)(w >> 8);
		if (pad < 1)
			out[o++] = (uint8_t)w;
	}
	return (int)o;
}

/* ---- keys ------------------------------------------------------------------ */

void wd_pubkey_from_point(const uint8_t point[WD_P256_PUB_BYTES], struct wd_pubkey *k)
{
	uint8_t h[WD_HASH_BYTES];

	memcpy(k->point, point, WD_P256_PUB_BYTES);
	memcpy(k->spki, spki_prefix, sizeof(spki_prefix));
	memcpy(k->spki + sizeof(spki_prefix), point, WD_P256_PUB_BYTES);
	wd_sha256(k->spki, WD_SPKI_BYTES, h);
	memcpy(k->id, h, WD_KEY_ID_BYTES);
}

static int from_spki(const uint8_t *der, int n, struct wd_pubkey *k, struct wd_err *err)
{
	if (n != WD_SPKI_BYTES || memcmp(der, spki_prefix, sizeof(spki_prefix)) != 0 ||
	    der[sizeof(spki_prefix)] != 0x04)
		return wd_err_set(err, EINVAL,
				  "not an ECDSA P-256 public key (SubjectPublicKeyInfo, "
				  "uncompressed point)");
	wd_pubkey_from_point(der + sizeof(spki_prefix), k);
	return 0;
}

int wd_pubkey_from_b64(const char *s, struct wd_pubkey *k, struct wd_err *err)
{
	uint8_t der[WD_SPKI_BYTES + 3];
	int n = wd_b64_decode(s, strlen(s), der, sizeof(der));

	if (n < 0)
		return wd_err_set(err, EINVAL, "public key: not base64");
	return from_spki(der, n, k, err);
}

int wd_pubkey_from_pem(const char *pem, size_t n, struct wd_pubkey *k, struct wd_err *err)
{
	char body[WD_PEM_MAX];
	size_t blen = 0, i = 0;
	uint8_t der[WD_SPKI_BYTES + 3];
	int dn;

	if (n < sizeof(pem_begin) - 1 || memcmp(pem, pem_begin, sizeof(pem_begin) - 1) != 0)
		return wd_err_set(err, EINVAL, "public key: no '-----BEGIN PUBLIC KEY-----' line");
	i = sizeof(pem_begin) - 1;
	while (i < n && pem[i] != '-') {
		if (pem[i] != '\n' && pem[i] != '\r') {
			if (blen + 1 >= sizeof(body))
				return wd_err_set(err, E2BIG, "public key: too long");
			body[blen++] = pem[i];
		}
		i++;
	}
	if (n - i < sizeof(pem_end) - 2 || memcmp(pem + i, pem_end, sizeof(pem_end) - 2) != 0)
		return wd_err_set(err, EINVAL, "public key: no '-----END PUBLIC KEY-----' line");
	body[blen] = '\0';
	dn = wd_b64_decode(body, blen, der, sizeof(der));
	if (dn < 0)
		return wd_err_set(err, EINVAL, "public key: the PEM body is not base64");
	return from_spki(der, dn, k, err);
}

size_t wd_pubkey_pem(const struct wd_pubkey *k, char *out, size_t size)
{
	char b[WD_SPKI_B64];
	size_t n = wd_b64_encode(k->spki, WD_SPKI_BYTES, b, sizeof(b));
	int len;

	/* 64 characters a line, as PEM has it. */
	len = snprintf(out, size, "%s%.64s\n%.*s\n%s", pem_begin, b, (int)(n - 64), b + 64,
		       pem_end);
	return len < 0 || (size_t)len >= size ? 0 : (size_t)len;
}

/* ---- checkpoints and notes -------------------------------------------------- */

int wd_checkpoint_text(const char *origin, uint64_t size, const uint8_t root[WD_HASH_BYTES],
		       const char *ext, char *out, size_t size_out)
{
	char r[WD_HASH_B64];
	int n;

	(void)wd_b64_encode(root, WD_HASH_BYTES, r, sizeof(r));
	n = snprintf(out, size_out, "%s\n%llu\n%s\n%s", origin, (unsigned long long)size, r, ext);
	return n < 0 || (size_t)n >= size_out ? -ENOSPC : n;
}

int wd_note_sign(const char *text, size_t n, const char *key_name, const uint8_t *priv,
		 const struct wd_pubkey *k, char *out, size_t size, struct wd_err *err)
{
	uint8_t x[WD_P256_PRIV_BYTES]; /* BearSSL's key structs hold non-const pointers */
	br_ec_private_key sk = {BR_EC_secp256r1, x, WD_P256_PRIV_BYTES};
	uint8_t h[WD_HASH_BYTES], blob[WD_KEY_ID_BYTES + WD_SIG_MAX_BYTES];
	char sig64[(sizeof(blob) + 2) / 3 * 4 + 1];
	size_t sl;
	int len;

	memcpy(x, priv, sizeof(x));
	wd_sha256(text, n, h);
	sl = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, h, &sk,
				    blob + WD_KEY_ID_BYTES);
	explicit_bzero(x, sizeof(x));
	if (sl == 0)
		return wd_err_set(err, EIO, "ECDSA P-256 signing failed");
	memcpy(blob, k->id, WD_KEY_ID_BYTES);
	(void)wd_b64_encode(blob, WD_KEY_ID_BYTES + sl, sig64, sizeof(sig64));
	len = snprintf(out, size, "%.*s\n%s%s %s\n", (int)n, text, em_dash, key_name, sig64);
	if (len < 0 || (size_t)len >= size)
		return wd_err_set(err, ENOSPC, "a signed checkpoint does not fit %zu bytes", size);
	return len;
}

/* The next line of s[0..n) from *at, without its \n; -1 when none ends. */
static ssize_t next_line(const char *s, size_t n, size_t *at, const char **line)
{
	const char *nl;

	if (*at >= n)
		return -1;
	nl = memchr(s + *at, '\n', n - *at);
	if (nl == NULL)
		return -1;
	*line = s + *at;
	*at = (size_t)(nl - s) + 1;
	return nl - *line;
}

static int parse_text(const char *note, size_t n, struct wd_checkpoint *c, size_t *sigs,
		      struct wd_err *err)
{
	const char *l;
	size_t at = 0;
	ssize_t ln;
	char num[24];
	int rn;

	ln = next_line(note, n, &at, &l);
	if (ln <= 0 || (size_t)ln >= sizeof(c->origin))
		return wd_err_set(err, EINVAL, "checkpoint: no origin line");
	memcpy(c->origin, l, (size_t)ln);
	c->origin[ln] = '\0';
	ln = next_line(note, n, &at, &l);
	if (ln <= 0 || (size_t)ln >= sizeof(num))
		return wd_err_set(err, EINVAL, "checkpoint: no tree size line");
	memcpy(num, l, (size_t)ln);
	num[ln] = '\0';
	if (wd_parse_u64(num, 0, UINT64_MAX, &c->size, err) < 0 ||
	    (num[0] == '0' && num[1] != '\0'))
		return wd_err_set(err, EINVAL, "checkpoint: tree size '%s' is not a decimal", num);
	ln = next_line(note, n, &at, &l);
	if (ln <= 0)
		return wd_err_set(err, EINVAL, "checkpoint: no root hash line");
	rn = wd_b64_decode(l, (size_t)ln, c->root, sizeof(c->root));
	if (rn != WD_HASH_BYTES)
		return wd_err_set(err, EINVAL,
				  "checkpoint: the root hash is not 32 bytes of base64");
	/* Extension lines, then the empty line that ends the text. */
	while ((ln = next_line(note, n, &at, &l)) > 0)
		;
	if (ln < 0)
		return wd_err_set(err, EINVAL, "checkpoint: no empty line before the signatures");
	c->text_len = at - 1;
	*sigs = at;
	return 0;
}

int wd_note_verify(const char *note, size_t n, const struct wd_pubkey *k, struct wd_checkpoint *c,
		   struct wd_err *err)
{
	uint8_t q[WD_P256_PUB_BYTES];
	br_ec_public_key pk = {BR_EC_secp256r1, q, WD_P256_PUB_BYTES};
	size_t at, name_len;
	uint8_t h[WD_HASH_BYTES];
	bool found = false;
	const char *l;
	ssize_t ln;

	memcpy(q, k->point, sizeof(q));
	memset(c, 0, sizeof(*c));
	if (n > WD_NOTE_MAX)
		return wd_err_set(err, E2BIG, "checkpoint: over %d bytes", WD_NOTE_MAX);
	if (parse_text(note, n, c, &at, err) < 0)
		return -err->code;
	name_len = strlen(c->origin);
	if (at >= n)
		return wd_err_set(err, EINVAL, "checkpoint: no signature");
	while ((ln = next_line(note, n, &at, &l)) >= 0) {
		uint8_t blob[WD_KEY_ID_BYTES + WD_SIG_MAX_BYTES + 2];
		size_t pre = sizeof(em_dash) - 1;
		const char *sp;
		int bn;

		if ((size_t)ln < pre + 1 || memcmp(l, em_dash, pre) != 0)
			return wd_err_set(err, EINVAL,
					  "checkpoint: a signature line without '\u2014 '");
		sp = memchr(l + pre, ' ', (size_t)ln - pre);
		if (sp == NULL)
			return wd_err_set(err, EINVAL,
					  "checkpoint: a signature line without a key name");
		/* Only our key's line counts; others (witnesses) are ignored. */
		if ((size_t)(sp - (l + pre)) != name_len ||
		    memcmp(l + pre, c->origin, name_len) != 0)
			continue;
		bn = wd_b64_decode(sp + 1, (size_t)(l + ln - sp - 1), blob, sizeof(blob));
		if (bn <= WD_KEY_ID_BYTES || memcmp(blob, k->id, WD_KEY_ID_BYTES) != 0)
			continue;
		c->sig_len = (size_t)bn - WD_KEY_ID_BYTES;
		if (c->sig_len > WD_SIG_MAX_BYTES)
			return wd_err_set(err, EINVAL, "checkpoint: the signature is too long");
		memcpy(c->sig, blob + WD_KEY_ID_BYTES, c->sig_len);
		found = true;
	}
	if (at != n)
		return wd_err_set(err, EINVAL, "checkpoint: bytes after the last line");
	if (!found)
		return wd_err_set(err, EKEYREJECTED,
				  "checkpoint: no signature by the pinned key (name '%s', id "
				  "%02x%02x%02x%02x)",
				  c->origin, k->id[0], k->id[1], k->id[2], k->id[3]);
	wd_sha256(note, c->text_len, h);
	if (br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, h, sizeof(h), &pk, c->sig, c->sig_len) != 1)
		return wd_err_set(err, EKEYREJECTED, "checkpoint: the signature does not verify");
	return 0;
}
