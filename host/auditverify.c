/* host/auditverify.c - see auditverify.h. */
#include "auditverify.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/jcanon.h"
#include "../common/json.h"

static const char header_prefix[] = "{\"segment\":{";

void wd_verify_init(struct wd_verify *v, const struct wd_pubkey *key)
{
	memset(v, 0, sizeof(*v));
	wd_merkle_init(&v->tree);
	if (key != NULL) {
		v->key = *key;
		v->pinned = v->have_key = true;
	}
}

void wd_verify_free(struct wd_verify *v)
{
	free(v->cps);
	v->cps = NULL;
	v->ncps = v->cps_cap = 0;
}

bool wd_verify_is_header(const char *line, size_t len)
{
	return len >= sizeof(header_prefix) - 1 &&
	       memcmp(line, header_prefix, sizeof(header_prefix) - 1) == 0;
}

/* A string member, or NULL. */
static const char *str(const cJSON *o, const char *name)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static bool uint_of(const cJSON *o, const char *name, uint64_t *out)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, name);

	if (!cJSON_IsNumber(m))
		return false;
	*out = (uint64_t)m->valuedouble;
	return true;
}

static bool hex_is(const char *s, const uint8_t *h, size_t n)
{
	char x[2 * WD_HASH_BYTES + 1];

	wd_hex(h, n, x);
	return s != NULL && strcmp(s, x) == 0;
}

static int keep_cp(struct wd_verify *v, uint64_t size, const uint8_t root[WD_HASH_BYTES],
		   struct wd_err *err)
{
	if (v->ncps == v->cps_cap) {
		size_t cap = v->cps_cap ? 2 * v->cps_cap : 64;
		struct wd_verify_cp *p = realloc(v->cps, cap * sizeof(*p));

		if (p == NULL)
			return wd_err_set(err, ENOMEM, "out of memory");
		v->cps = p;
		v->cps_cap = cap;
	}
	v->cps[v->ncps].size = size;
	memcpy(v->cps[v->ncps].root, root, WD_HASH_BYTES);
	v->ncps++;
	return 0;
}

/* A record's members, found by the one-pass canonical scan. */
struct rec {
	struct wd_jscan s;
	int data, md, actor; /* indices of those objects, -3: none */
};

static const struct wd_jmember *top(const struct rec *r, const char *key)
{
	return wd_jscan_get(&r->s, -1, key);
}

static const struct wd_jmember *in(const struct rec *r, int parent, const char *key)
{
	return parent >= 0 ? wd_jscan_get(&r->s, parent, key) : NULL;
}

/* A string member, unescaped into out[size], or NULL. */
static const char *text(const struct wd_jmember *m, char *out, size_t size)
{
	return wd_jscan_string(m, out, size) >= 0 ? out : NULL;
}

/* Is the member the string `want` (ASCII names need no unescaping)? */
static bool is(const struct wd_jmember *m, const char *want)
{
	size_t n = strlen(want);

	return m != NULL && m->type == 's' && m->val_len == n && memcmp(m->val, want, n) == 0;
}

/* The first record names the log: its key, origin and boot. */
static int take_start(struct wd_verify *v, uint64_t seq, const struct rec *r, struct wd_err *err)
{
	char pubbuf[WD_SPKI_B64 + 1], originbuf[WD_ORIGIN_MAX];
	const char *pub = text(in(r, r->data, "pubkey"), pubbuf, sizeof(pubbuf));
	const char *origin = text(in(r, r->data, "origin"), originbuf, sizeof(originbuf));
	struct wd_pubkey k;

	if (!is(top(r, "class"), "lifecycle") || !is(top(r, "activity"), "start") || pub == NULL ||
	    origin == NULL)
		return wd_err_set(err, EBADMSG,
				  "record %llu: the log's first record is not lifecycle/start "
				  "with its key and origin",
				  (unsigned long long)seq);
	if (wd_pubkey_from_b64(pub, &k, err) < 0)
		return wd_err_wrap(err, "record %llu: data.pubkey", (unsigned long long)seq);
	if (v->pinned && memcmp(k.spki, v->key.spki, WD_SPKI_BYTES) != 0)
		return wd_err_set(err, EKEYREJECTED,
				  "record %llu: the log is signed by another key than the one "
				  "pinned",
				  (unsigned long long)seq);
	if (strstr(origin, v->boot) == NULL ||
	    (v->origin[0] != '\0' && strcmp(origin, v->origin) != 0))
		return wd_err_set(err, EBADMSG, "record %llu: data.origin does not name boot %s",
				  (unsigned long long)seq, v->boot);
	v->key = k;
	v->have_key = true;
	(void)snprintf(v->origin, sizeof(v->origin), "%s", origin);
	return 0;
}

static int check_checkpoint(struct wd_verify *v, uint64_t seq, const struct rec *r,
			    struct wd_err *err)
{
	static char notebuf[WD_NOTE_MAX + 1];
	const char *note = text(in(r, r->data, "note"), notebuf, sizeof(notebuf));
	uint8_t root[WD_HASH_BYTES];
	struct wd_checkpoint c;
	uint64_t size;

	if (note == NULL || !wd_jscan_uint(in(r, r->data, "tree_size"), &size))
		return wd_err_set(err, EBADMSG,
				  "record %llu: a checkpoint without note or tree_size",
				  (unsigned long long)seq);
	if (!v->have_key)
		return wd_err_set(err, EKEYREJECTED,
				  "record %llu: a checkpoint, and no key to check it",
				  (unsigned long long)seq);
	if (wd_note_verify(note, strlen(note), &v->key, &c, err) < 0)
		return wd_err_wrap(err, "record %llu", (unsigned long long)seq);
	if (v->origin[0] != '\0' && strcmp(c.origin, v->origin) != 0)
		return wd_err_set(err, EBADMSG,
				  "record %llu: the checkpoint is of another log (%s)",
				  (unsigned long long)seq, c.origin);
	if (c.size != seq - 1 || size != c.size)
		return wd_err_set(err, EBADMSG,
				  "record %llu: the checkpoint covers %llu records, not the %llu "
				  "before it",
				  (unsigned long long)seq, (unsigned long long)c.size,
				  (unsigned long long)seq - 1);
	wd_merkle_root(&v->tree, root);
	if (memcmp(root, c.root, sizeof(root)) != 0)
		return wd_err_set(err, EBADMSG,
				  "record %llu: the checkpoint's root is not the root of records "
				  "%llu..%llu: a record before it was changed, added or removed",
				  (unsigned long long)seq, (unsigned long long)v->start,
				  (unsigned long long)seq - 1);
	if (keep_cp(v, c.size, c.root, err) < 0)
		return -err->code;
	v->checkpoints++;
	v->covered = c.size;
	v->last_cp_seq = seq;
	v->last_note_len = strlen(note);
	memcpy(v->last_note, note, v->last_note_len + 1);
	return 1;
}

/* The metadata every record has, checked against the chain. */
static int check_metadata(struct wd_verify *v, const struct rec *r, uint64_t *seq_out,
			  struct wd_err *err)
{
	char bootbuf[WD_AUDIT_BOOT_HEX + 1], prevbuf[2 * WD_HASH_BYTES + 2];
	char uidbuf[WD_AUDIT_BOOT_HEX + 24], want_uid[WD_AUDIT_BOOT_HEX + 24];
	const char *boot = text(in(r, r->md, "boot"), bootbuf, sizeof(bootbuf));
	const char *prev = text(in(r, r->md, "prev"), prevbuf, sizeof(prevbuf));
	const char *uid = text(in(r, r->md, "uid"), uidbuf, sizeof(uidbuf));
	const struct wd_jmember *d = top(r, "data"), *t = top(r, "time");
	const struct wd_jmember *version = in(r, r->md, "version");
	const struct wd_jmember *cls = top(r, "class"), *act = top(r, "activity");
	const struct wd_jmember *out = top(r, "outcome"), *sev = top(r, "severity");
	const struct wd_jmember *proc = in(r, r->actor, "process");
	uint64_t seq;

	if (!wd_jscan_uint(in(r, r->md, "sequence"), &seq) || boot == NULL || prev == NULL ||
	    uid == NULL || version == NULL)
		return wd_err_set(
			err, EBADMSG,
			"after record %llu: a line without metadata.sequence, boot, prev, "
			"uid and version",
			(unsigned long long)v->seq);
	*seq_out = seq;
	if (!is(version, "1"))
		return wd_err_set(err, EBADMSG, "record %llu: metadata.version is not \"1\"",
				  (unsigned long long)seq);
	if (cls == NULL || cls->type != 's' || act == NULL || act->type != 's' || out == NULL ||
	    out->type != 's' || sev == NULL || sev->type != 's' || t == NULL || t->type != 'n' ||
	    d == NULL || d->type != 'o' || proc == NULL || proc->type != 's')
		return wd_err_set(err, EBADMSG,
				  "record %llu: class, activity, outcome, severity, time, data or "
				  "actor.process missing",
				  (unsigned long long)seq);
	if (v->boot[0] == '\0') {
		if (strlen(boot) != WD_AUDIT_BOOT_HEX - 1)
			return wd_err_set(err, EBADMSG, "record %llu: metadata.boot is not 32 hex",
					  (unsigned long long)seq);
		memcpy(v->boot, boot, WD_AUDIT_BOOT_HEX);
	} else if (strcmp(boot, v->boot) != 0) {
		return wd_err_set(err, EBADMSG,
				  "record %llu: of another boot (%s, the log's is %s)",
				  (unsigned long long)seq, boot, v->boot);
	}
	if (v->seq == 0 && v->start == 0) {
		if (seq != 1)
			return wd_err_set(err, EBADMSG,
					  "record %llu: the log starts there; records 1..%llu are "
					  "missing",
					  (unsigned long long)seq, (unsigned long long)seq - 1);
		v->start = 1;
	} else if (seq <= v->seq && v->repeats) {
		return 1;
	} else if (seq <= v->seq) {
		return wd_err_set(err, EBADMSG,
				  "record %llu: out of order or repeated (after record %llu)",
				  (unsigned long long)seq, (unsigned long long)v->seq);
	} else if (seq != v->seq + 1) {
		return wd_err_set(err, EBADMSG, "record %llu: records %llu..%llu are missing",
				  (unsigned long long)seq, (unsigned long long)v->seq + 1,
				  (unsigned long long)seq - 1);
	}
	(void)snprintf(want_uid, sizeof(want_uid), "%s/%llu", v->boot, (unsigned long long)seq);
	if (strcmp(uid, want_uid) != 0)
		return wd_err_set(err, EBADMSG, "record %llu: metadata.uid is not %s",
				  (unsigned long long)seq, want_uid);
	if (seq == 1 ? strspn(prev, "0") != (size_t)2 * WD_HASH_BYTES ||
			       prev[(size_t)2 * WD_HASH_BYTES] != '\0'
		     : !hex_is(prev, v->prev, WD_HASH_BYTES))
		return wd_err_set(err, EBADMSG,
				  "record %llu: metadata.prev is not the hash of record %llu: the "
				  "chain is broken (a record changed, added, removed or moved)",
				  (unsigned long long)seq, (unsigned long long)seq - 1);
	return 0;
}

static int nibble(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Lower-case hex of n bytes (2n digits) into out. */
static bool unhex(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int hi = nibble(s[2 * i]), lo = hi < 0 ? -1 : nibble(s[2 * i + 1]);

		if (lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static int take_header(struct wd_verify *v, const char *line, size_t len, struct wd_err *err)
{
	cJSON *root = NULL, *h;
	const char *origin, *prev, *pub;
	uint64_t index, start;
	const cJSON *peaks;
	struct wd_merkle m;
	int rc = -EBADMSG;

	if (wd_jcanon_check(line, len, WD_AUDIT_LINE_MAX, &root, err) < 0)
		return wd_err_wrap(err, "segment header");
	h = cJSON_GetObjectItemCaseSensitive(root, "segment");
	origin = str(h, "origin");
	prev = str(h, "prev");
	pub = str(h, "pubkey");
	peaks = cJSON_GetObjectItemCaseSensitive(h, "peaks");
	if (!uint_of(h, "index", &index) || !uint_of(h, "start", &start) || start == 0 ||
	    origin == NULL || prev == NULL || pub == NULL || !cJSON_IsArray(peaks)) {
		(void)wd_err_set(err, EBADMSG, "segment header: fields missing");
		goto out;
	}
	if (v->seq > 0 || v->start > 0) {
		/* A later segment: its header must say where the last one ended. */
		char want[WD_AUDIT_LINE_MAX];

		if (index != v->segment + 1 || start != v->seq + 1 ||
		    wd_verify_header(v, index, want, sizeof(want)) < 0 || strlen(want) != len ||
		    memcmp(want, line, len) != 0) {
			(void)wd_err_set(err, EBADMSG,
					 "segment %llu: its header does not continue segment %llu "
					 "(which ends at record %llu)",
					 (unsigned long long)index, (unsigned long long)v->segment,
					 (unsigned long long)v->seq);
			goto out;
		}
		v->segment = index;
		rc = 0;
		goto out;
	}
	/* The first segment there is: the state where it starts. */
	wd_merkle_init(&m);
	for (const cJSON *p = peaks->child; p != NULL; p = p->next) {
		if (!cJSON_IsString(p) || m.npeaks == 64 ||
		    wd_b64_decode(p->valuestring, strlen(p->valuestring), m.peak[m.npeaks],
				  WD_HASH_BYTES) != WD_HASH_BYTES) {
			(void)wd_err_set(err, EBADMSG, "segment header: a bad peak");
			goto out;
		}
		m.npeaks++;
	}
	m.size = start - 1;
	if ((unsigned)__builtin_popcountll(m.size) != m.npeaks || strlen(prev) != 64 ||
	    strlen(origin) >= sizeof(v->origin)) {
		(void)wd_err_set(err, EBADMSG, "segment header: peaks do not match its start");
		goto out;
	}
	if (!unhex(prev, v->prev, WD_HASH_BYTES)) {
		(void)wd_err_set(err, EBADMSG, "segment header: prev is not hex");
		goto out;
	}
	if (!v->have_key && wd_pubkey_from_b64(pub, &v->key, err) < 0)
		goto out;
	v->have_key = true;
	v->tree = m;
	v->seq = start - 1;
	v->start = start;
	v->segment = index;
	(void)snprintf(v->origin, sizeof(v->origin), "%s", origin);
	rc = 0;
out:
	cJSON_Delete(root);
	return rc < 0 ? -err->code : 0;
}

int wd_verify_line(struct wd_verify *v, const char *line, size_t len, struct wd_err *err)
{
	static struct rec r;
	uint8_t leaf[WD_HASH_BYTES];
	uint64_t seq = v->seq + 1;
	int rc;

	if (len > WD_AUDIT_LINE_MAX)
		return wd_err_set(err, E2BIG, "after record %llu: a line over %d bytes",
				  (unsigned long long)v->seq, WD_AUDIT_LINE_MAX);
	if (wd_verify_is_header(line, len))
		return take_header(v, line, len, err);
	if (wd_jcanon_scan(line, len, WD_AUDIT_LINE_MAX, &r.s, err) < 0)
		return wd_err_wrap(err, "record %llu (the one after %llu)", (unsigned long long)seq,
				   (unsigned long long)v->seq);
	r.data = wd_jscan_index(&r.s, top(&r, "data"));
	r.md = wd_jscan_index(&r.s, top(&r, "metadata"));
	r.actor = wd_jscan_index(&r.s, top(&r, "actor"));
	rc = check_metadata(v, &r, &seq, err);
	if (rc == 1)
		return 1;
	if (rc == 0 && seq == 1)
		rc = take_start(v, seq, &r, err);
	v->last_was_checkpoint = false;
	if (rc == 0 && is(top(&r, "class"), "audit") && is(top(&r, "activity"), "checkpoint")) {
		rc = check_checkpoint(v, seq, &r, err);
		v->last_was_checkpoint = rc == 1;
		rc = rc < 0 ? rc : 0;
	}
	if (rc < 0)
		return rc;
	wd_merkle_leaf(line, len, leaf);
	wd_merkle_append(&v->tree, leaf);
	memcpy(v->prev, leaf, sizeof(leaf));
	v->seq = seq;
	return 0;
}

int wd_verify_final(struct wd_verify *v, const char *final, size_t n, struct wd_err *err)
{
	struct wd_checkpoint c;

	if (!v->have_key)
		return wd_err_set(err, EKEYREJECTED, "no key to check the final checkpoint with");
	if (wd_note_verify(final, n, &v->key, &c, err) < 0)
		return wd_err_wrap(err, "final checkpoint");
	if (v->origin[0] != '\0' && strcmp(c.origin, v->origin) != 0)
		return wd_err_set(err, EBADMSG, "final checkpoint: of another log (%s)", c.origin);
	if (c.size >= v->seq)
		return wd_err_set(
			err, EBADMSG,
			"record %llu: missing; the final checkpoint covers %llu records and "
			"is itself record %llu, the log ends at record %llu: truncated or "
			"rolled back",
			(unsigned long long)v->seq + 1, (unsigned long long)c.size,
			(unsigned long long)c.size + 1, (unsigned long long)v->seq);
	for (size_t i = 0; i < v->ncps; i++)
		if (v->cps[i].size == c.size) {
			if (memcmp(v->cps[i].root, c.root, WD_HASH_BYTES) != 0)
				return wd_err_set(
					err, EBADMSG,
					"record %llu: the final checkpoint's root differs "
					"from the log's checkpoint there: another history",
					(unsigned long long)c.size + 1);
			return 0;
		}
	return wd_err_set(err, EBADMSG,
			  "record %llu: the log has no checkpoint where the final one is (tree "
			  "size %llu)",
			  (unsigned long long)c.size + 1, (unsigned long long)c.size);
}

int wd_verify_header(const struct wd_verify *v, uint64_t index, char *out, size_t size)
{
	char prev[2 * WD_HASH_BYTES + 1], pub[WD_SPKI_B64], peaks[64][WD_HASH_B64];
	struct wd_jw w;

	wd_hex(v->prev, WD_HASH_BYTES, prev);
	(void)wd_b64_encode(v->key.spki, WD_SPKI_BYTES, pub, sizeof(pub));
	wd_jw_init(&w, out, size);
	wd_jw_object(&w, "segment");
	wd_jw_uint(&w, "index", index);
	wd_jw_str(&w, "origin", v->origin);
	wd_jw_array(&w, "peaks");
	for (unsigned i = 0; i < v->tree.npeaks; i++) {
		(void)wd_b64_encode(v->tree.peak[i], WD_HASH_BYTES, peaks[i], sizeof(peaks[i]));
		wd_jw_str(&w, NULL, peaks[i]);
	}
	wd_jw_close(&w);
	wd_jw_str(&w, "prev", prev);
	wd_jw_str(&w, "pubkey", pub);
	wd_jw_uint(&w, "start", v->seq + 1);
	wd_jw_close(&w);
	return wd_jw_end(&w);
}
