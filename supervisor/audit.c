/* supervisor/audit.c - see audit.h. */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <bearssl.h>

#include "../common/clock.h"
#include "../common/jcanon.h"
#include "../common/json.h"
#include "../common/log.h"
#include "../vsock/msg.h"

#define PAGE 4096
#define LEN_BYTES 4                   /* a spilled line's length prefix */
#define SPILL_CHUNK_BYTES (64 * 1024) /* the spill file is read back in pieces of this */

/* The one page that holds the private key. */
struct secret {
	uint8_t priv[BR_EC_KBUF_PRIV_MAX_SIZE];
	size_t priv_len;
};

struct queue {
	uint8_t *mem; /* ring of whole lines */
	size_t cap, head, used;
	uint32_t *lens; /* their lengths, oldest first (ring) */
	size_t lens_cap, lens_head, n;
	size_t nsent, sent_bytes; /* lines (and their bytes) from the head already sent */
	int spill_fd;
	uint64_t spill_cap, spill_off, spill_end, spill_n;
	uint64_t first_seq; /* the sequence of the line at head */
};

static struct {
	struct secret *key;
	uint64_t seq;        /* the last record's */
	uint64_t covered;    /* tree size of the last checkpoint */
	uint64_t last_cp_ns; /* when it was made */
	uint64_t lost;       /* records that could not be written */
	uint64_t acked;      /* the host stored every sequence up to this */
	uint64_t stall_ns;
	uint64_t bytes;    /* of every record made, with its newline */
	const char *spent; /* the budget spent, NULL none */
	int (*before_checkpoint)(struct wd_err *err);
	size_t line_len;
	struct wd_policy_audit lim;
	struct queue q;
	struct wd_merkle tree;
	bool open;
	bool in_checkpoint;
	bool flushing; /* in before_checkpoint */
	bool stalled;
	uint8_t prev[WD_HASH_BYTES];
	char boot[SUP_AUDIT_BOOT_HEX];
	struct wd_pubkey pub;
	char origin[WD_ORIGIN_MAX];
	char line[SUP_AUDIT_RECORD_MAX + 1];
	uint8_t frame[WD_CONN_DATA_CHUNK];
} lg;

/* ---- the key ------------------------------------------------------------- */

static int make_key(struct wd_err *err)
{
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	uint8_t seed[48], pub[BR_EC_KBUF_PUB_MAX_SIZE];
	void *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED)
		return wd_err_sys(err, errno, "audit key: mmap");
	if (mlock(page, PAGE) < 0 || madvise(page, PAGE, MADV_DONTDUMP) < 0 ||
	    madvise(page, PAGE, MADV_WIPEONFORK) < 0) {
		int e = errno;

		(void)munmap(page, PAGE);
		return wd_err_sys(err, e, "audit key: lock its page");
	}
	lg.key = page;
	if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
		return wd_err_sys(err, errno, "audit key: getrandom");
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	lg.key->priv_len =
		br_ec_keygen(&rng.vtable, &br_ec_p256_m31, &sk, lg.key->priv, BR_EC_secp256r1);
	explicit_bzero(&rng, sizeof(rng));
	if (lg.key->priv_len != WD_P256_PRIV_BYTES)
		return wd_err_set(err, EIO, "audit key: P-256 key generation failed");
	if (br_ec_compute_pub(&br_ec_p256_m31, &pk, pub, &sk) != WD_P256_PUB_BYTES)
		return wd_err_set(err, EIO, "audit key: the public key");
	explicit_bzero(&sk, sizeof(sk));
	wd_pubkey_from_point(pub, &lg.pub);
	return 0;
}

/* ---- the queue ------------------------------------------------------------ */

static int queue_open(struct queue *q, const struct wd_policy_audit *l, struct wd_err *err)
{
	q->cap = (size_t)l->memory_bytes;
	q->mem = malloc(q->cap);
	q->lens_cap = q->cap / 64 + 1;
	q->lens = malloc(q->lens_cap * sizeof(*q->lens));
	if (q->mem == NULL || q->lens == NULL)
		return wd_err_set(err, ENOMEM, "audit: a queue of %zu bytes", q->cap);
	q->spill_cap = l->spill_bytes;
	q->spill_fd = -1;
	if (q->spill_cap > 0) {
		q->spill_fd = memfd_create("warden-audit-spill", MFD_CLOEXEC);
		if (q->spill_fd < 0)
			return wd_err_sys(err, errno, "audit: the spill file (memfd_create)");
	}
	q->first_seq = 1;
	return 0;
}

static void queue_free(struct queue *q)
{
	free(q->mem);
	free(q->lens);
	if (q->spill_fd >= 0)
		(void)close(q->spill_fd);
	memset(q, 0, sizeof(*q));
	q->spill_fd = -1;
}

/* Bytes in and out of the ring, `off` bytes after its head. */
static void ring_put(struct queue *q, size_t off, const void *src, size_t n)
{
	size_t at = (q->head + off) % q->cap, first = n < q->cap - at ? n : q->cap - at;

	memcpy(q->mem + at, src, first);
	memcpy(q->mem, (const uint8_t *)src + first, n - first);
}

static void ring_get(const struct queue *q, size_t off, void *dst, size_t n)
{
	size_t at = (q->head + off) % q->cap, first = n < q->cap - at ? n : q->cap - at;

	memcpy(dst, q->mem + at, first);
	memcpy((uint8_t *)dst + first, q->mem, n - first);
}

static bool mem_fits(const struct queue *q, size_t n)
{
	return q->used + n <= q->cap && q->n < q->lens_cap;
}

static void mem_push(struct queue *q, const void *line, size_t n)
{
	ring_put(q, q->used, line, n);
	q->lens[(q->lens_head + q->n) % q->lens_cap] = (uint32_t)n;
	q->used += n;
	q->n++;
}

static uint64_t spill_used(const struct queue *q)
{
	return q->spill_end - q->spill_off;
}

static int spill_push(struct queue *q, const void *line, size_t n, struct wd_err *err)
{
	/* The length and the line in one write. */
	static uint8_t rec[LEN_BYTES + SUP_AUDIT_RECORD_MAX + 1];

	if (n > SUP_AUDIT_RECORD_MAX + 1)
		return wd_err_set(err, E2BIG, "audit: a line of %zu bytes for the spill file", n);
	rec[0] = (uint8_t)(n >> 24);
	rec[1] = (uint8_t)(n >> 16);
	rec[2] = (uint8_t)(n >> 8);
	rec[3] = (uint8_t)n;
	memcpy(rec + LEN_BYTES, line, n);
	if (pwrite(q->spill_fd, rec, LEN_BYTES + n, (off_t)q->spill_end) !=
	    (ssize_t)(LEN_BYTES + n))
		return wd_err_sys(err, errno ? errno : EIO, "audit: the spill file");
	q->spill_end += LEN_BYTES + n;
	q->spill_n++;
	return 0;
}

/* Move spilled lines into memory while they fit, reading the file in
 * chunks (not a read per line: a full queue drains at the host's pace). */
static int spill_refill(struct queue *q, struct wd_err *err)
{
	static uint8_t chunk[SPILL_CHUNK_BYTES];

	while (q->spill_n > 0) {
		size_t want = spill_used(q) < sizeof(chunk) ? (size_t)spill_used(q) : sizeof(chunk);
		ssize_t got = pread(q->spill_fd, chunk, want, (off_t)q->spill_off);
		size_t at = 0;

		if (got < LEN_BYTES)
			return wd_err_sys(err, got < 0 ? errno : EIO,
					  "audit: reading the spill file");
		while (q->spill_n > 0 && at + LEN_BYTES <= (size_t)got) {
			const uint8_t *len = chunk + at;
			size_t n = (size_t)len[0] << 24 | (size_t)len[1] << 16 |
				   (size_t)len[2] << 8 | len[3];

			if (n == 0 || n > SUP_AUDIT_RECORD_MAX + 1)
				return wd_err_set(err, EIO, "audit: the spill file is corrupt");
			if (at + LEN_BYTES + n > (size_t)got)
				break; /* in the next chunk */
			if (!mem_fits(q, n))
				return 0;
			mem_push(q, chunk + at + LEN_BYTES, n);
			at += LEN_BYTES + n;
			q->spill_off += LEN_BYTES + n;
			q->spill_n--;
		}
		if (at == 0)
			return wd_err_set(err, EIO, "audit: the spill file is corrupt");
	}
	/* Give the file's pages back. */
	if (q->spill_end > 0 && ftruncate(q->spill_fd, 0) == 0)
		q->spill_off = q->spill_end = 0;
	else if (q->spill_off >= PAGE)
		(void)fallocate(q->spill_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
				(off_t)(q->spill_off & ~(uint64_t)(PAGE - 1)));
	return 0;
}

static uint64_t queued_bytes(const struct queue *q)
{
	return q->used + spill_used(q);
}

static uint64_t queue_bound(const struct queue *q)
{
	return q->cap + q->spill_cap;
}

/* A line (with its \n) into the queue: memory, else the spill file. */
static int enqueue(const char *line, size_t n, struct wd_err *err)
{
	struct queue *q = &lg.q;

	if (q->spill_n == 0 && mem_fits(q, n)) {
		mem_push(q, line, n);
		return 0;
	}
	if (q->spill_fd >= 0 && spill_used(q) + LEN_BYTES + n <= q->spill_cap)
		return spill_push(q, line, n, err);
	return wd_err_set(err, ENOBUFS,
			  "audit: %llu bytes of records are waiting for the host's acknowledgement "
			  "(memory %zu, spill file %llu): no room for one more",
			  (unsigned long long)queued_bytes(q), q->cap,
			  (unsigned long long)q->spill_cap);
}

/* ---- records -------------------------------------------------------------- */

/* "<boot>/<sequence>", by hand: it is made for every record. */
static void uid_of(uint64_t seq, char *out, size_t size)
{
	char num[24];
	size_t at = sizeof(num), b = strlen(lg.boot);

	do {
		num[--at] = (char)('0' + seq % 10);
		seq /= 10;
	} while (seq != 0);
	if (b + 1 + sizeof(num) - at + 1 > size) {
		out[0] = '\0';
		return;
	}
	memcpy(out, lg.boot, b);
	out[b] = '/';
	memcpy(out + b + 1, num + at, sizeof(num) - at);
	out[b + 1 + sizeof(num) - at] = '\0';
}

static int write_line(const struct sup_audit_event *ev, struct wd_err *err)
{
	char prev[2 * WD_HASH_BYTES + 1], uid[SUP_AUDIT_BOOT_HEX + 24];
	uint64_t seq = lg.seq + 1;
	struct wd_jw w;
	const char *data = ev->data != NULL ? ev->data : "{}";
	int n;

	wd_hex(lg.prev, sizeof(lg.prev), prev);
	uid_of(seq, uid, sizeof(uid));
	wd_jw_init(&w, lg.line, sizeof(lg.line) - 1); /* room for the \n */
	wd_jw_str(&w, "activity", ev->activity);
	wd_jw_object(&w, "actor");
	if (ev->pid > 0)
		wd_jw_uint(&w, "pid", (uint64_t)ev->pid);
	wd_jw_str(&w, "process", ev->actor);
	if (ev->uid >= 0)
		wd_jw_uint(&w, "uid", (uint64_t)ev->uid);
	wd_jw_close(&w);
	wd_jw_str(&w, "class", ev->cls);
	wd_jw_raw(&w, "data", data, strlen(data));
	wd_jw_object(&w, "metadata");
	wd_jw_str(&w, "boot", lg.boot);
	wd_jw_str(&w, "prev", prev);
	wd_jw_uint(&w, "sequence", seq);
	wd_jw_str(&w, "uid", uid);
	wd_jw_str(&w, "version", "1");
	wd_jw_close(&w);
	wd_jw_str(&w, "outcome", ev->outcome);
	wd_jw_str(&w, "severity", ev->severity);
	wd_jw_uint(&w, "time", wd_wall_ms());
	n = wd_jw_end(&w);
	if (n < 0)
		return wd_err_set(err, -n, "audit: a %s/%s record does not encode (%s)", ev->cls,
				  ev->activity, n == -ENOSPC ? "too long" : "bad field");
	lg.line_len = (size_t)n;
	return 0;
}

static int checkpoint(struct wd_err *err);

/* The budget a record of `n` bytes would overrun with `reserve` records
 * (and SUP_AUDIT_RECORD_MAX + 1 bytes for each) kept back; NULL: none. */
static const char *overrun(uint64_t n, uint64_t reserve)
{
	if (lg.seq + 1 + reserve > lg.lim.max_records)
		return wd_budget_records;
	if (lg.bytes + n + reserve * (SUP_AUDIT_RECORD_MAX + 1) > lg.lim.max_bytes)
		return wd_budget_bytes;
	return NULL;
}

static uint64_t budget_of(const char *name)
{
	return strcmp(name, wd_budget_records) == 0 ? lg.lim.max_records : lg.lim.max_bytes;
}

/*
 * Does the record just written fit? The agent's within the budget less
 * the reserve: else the budget is spent and the record not made. Any
 * record past the reserve's start spends it too (the agent's next call
 * has no room), and none goes past the whole budget.
 */
static int within_budget(bool agent, struct wd_err *err)
{
	uint64_t n = lg.line_len + 1;
	const char *over = overrun(n, SUP_AUDIT_BUDGET_RESERVE_RECORDS);

	if (over != NULL && lg.spent == NULL) {
		lg.spent = over;
		wd_warn("audit: the job's budget audit.%s (%llu) is spent", over,
			(unsigned long long)budget_of(over));
	}
	if (agent && lg.spent != NULL)
		return wd_err_set(
			err, EDQUOT,
			"audit: the job's budget audit.%s (%llu) is spent: no more records "
			"of the agent",
			lg.spent, (unsigned long long)budget_of(lg.spent));
	over = overrun(n, 0);
	if (over != NULL)
		return wd_err_set(err, EDQUOT,
				  "audit: a record past the whole budget audit.%s (%llu)", over,
				  (unsigned long long)budget_of(over));
	return 0;
}

static int append(const struct sup_audit_event *ev, bool agent, struct wd_err *err)
{
	uint8_t leaf[WD_HASH_BYTES];
	int rc;

	if (!lg.open)
		return wd_err_set(err, EINVAL, "audit: the log is not open");
	if (write_line(ev, err) < 0) {
		lg.lost++;
		wd_warn("%s: recorded as lost", err->msg);
		return 0;
	}
	if (within_budget(agent, err) < 0)
		return -err->code;
	wd_merkle_leaf(lg.line, lg.line_len, leaf);
	lg.line[lg.line_len] = '\n';
	rc = enqueue(lg.line, lg.line_len + 1, err);
	lg.line[lg.line_len] = '\0';
	if (rc < 0)
		return rc;
	lg.seq++;
	lg.bytes += lg.line_len + 1;
	memcpy(lg.prev, leaf, sizeof(leaf));
	wd_merkle_append(&lg.tree, leaf);
	wd_debug("record %llu: %s/%s", (unsigned long long)lg.seq, ev->cls, ev->activity);
	if (!lg.in_checkpoint && lg.seq - lg.covered > lg.lim.checkpoint_every)
		return checkpoint(err);
	return 0;
}

int sup_audit_record(const struct sup_audit_event *ev, struct wd_err *err)
{
	return append(ev, false, err);
}

int sup_audit_record_agent(const struct sup_audit_event *ev, struct wd_err *err)
{
	return append(ev, true, err);
}

const char *sup_audit_spent(void)
{
	return lg.spent;
}

void sup_audit_usage(uint64_t *records, uint64_t *bytes)
{
	*records = lg.seq;
	*bytes = lg.bytes;
}

int sup_audit_record_spent(struct wd_err *err)
{
	char data[160];
	struct sup_audit_event ev = {
		"limit", "audit-budget", "failure", "medium", "warden-supervisor", (int)getpid(), 0,
		data};
	struct wd_jw w;

	if (lg.spent == NULL)
		return 0;
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "budget", lg.spent);
	wd_jw_uint(&w, "bytes", lg.bytes);
	wd_jw_uint(&w, "limit", budget_of(lg.spent));
	wd_jw_uint(&w, "records", lg.seq);
	if (wd_jw_end(&w) < 0)
		return wd_err_set(err, ENOSPC, "audit: the budget's record");
	return append(&ev, false, err);
}

void sup_audit_before_checkpoint(int (*fn)(struct wd_err *err))
{
	lg.before_checkpoint = fn;
}

/* The records since the last checkpoint, the checkpoint record excluded. */
static uint64_t uncovered(void)
{
	uint64_t n = lg.seq - lg.covered;

	return lg.covered > 0 ? n - 1 : n; /* the last checkpoint is a record too */
}

static int checkpoint(struct wd_err *err)
{
	char text[WD_NOTE_MAX], note[WD_NOTE_MAX], data[SUP_AUDIT_DATA_MAX];
	uint8_t root[WD_HASH_BYTES];
	struct sup_audit_event ev = {"audit",
				     "checkpoint",
				     "success",
				     "informational",
				     "warden-supervisor",
				     (int)getpid(),
				     0,
				     data};
	struct wd_jw w;
	int n, rc;

	/* Its records go in first (their own checkpoints, if due, skip this). */
	if (lg.before_checkpoint != NULL && !lg.flushing) {
		lg.flushing = true;
		rc = lg.before_checkpoint(err);
		lg.flushing = false;
		if (rc < 0)
			return rc;
	}
	if (uncovered() == 0)
		return 0;
	wd_merkle_root(&lg.tree, root);
	n = wd_checkpoint_text(lg.origin, lg.tree.size, root, "", text, sizeof(text));
	if (n < 0)
		return wd_err_set(err, ENOSPC, "audit: the checkpoint text");
	n = wd_note_sign(text, (size_t)n, lg.origin, lg.key->priv, &lg.pub, note, sizeof(note),
			 err);
	if (n < 0)
		return wd_err_wrap(err, "audit: checkpoint");
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_uint(&w, "lost", lg.lost);
	wd_jw_str(&w, "note", note);
	wd_jw_uint(&w, "tree_size", lg.tree.size);
	if (wd_jw_end(&w) < 0)
		return wd_err_set(err, ENOSPC, "audit: the checkpoint record");
	lg.in_checkpoint = true;
	rc = append(&ev, false, err);
	lg.in_checkpoint = false;
	if (rc < 0)
		return rc;
	lg.covered = lg.tree.size - 1;
	lg.last_cp_ns = wd_mono_ns();
	return 0;
}

int sup_audit_checkpoint(struct wd_err *err)
{
	return lg.open ? checkpoint(err) : 0;
}

int sup_audit_tick(uint64_t *next_ns, struct wd_err *err)
{
	uint64_t due;

	*next_ns = 0;
	if (!lg.open || uncovered() == 0)
		return 0;
	due = lg.last_cp_ns + lg.lim.checkpoint_ms * WD_NS_PER_MS;
	if (wd_mono_ns() >= due)
		return checkpoint(err);
	*next_ns = due;
	return 0;
}

/* ---- delivery ---------------------------------------------------------------- */

bool sup_audit_room(void)
{
	const struct queue *q = &lg.q;
	bool room = !lg.open || queued_bytes(q) + SUP_AUDIT_RESERVE_BYTES + SUP_AUDIT_RECORD_MAX <=
					queue_bound(q);

	if (!room && !lg.stalled) {
		lg.stalled = true;
		lg.stall_ns = wd_mono_ns();
		wd_warn("audit: %llu bytes wait for the host: the agent's audited actions wait",
			(unsigned long long)queued_bytes(q));
	} else if (room && lg.stalled) {
		char data[128];
		uint64_t ms = (wd_mono_ns() - lg.stall_ns) / WD_NS_PER_MS;
		struct sup_audit_event ev = {
			"audit",       "stall", "success", "medium", "warden-supervisor",
			(int)getpid(), 0,       data};
		struct wd_err err;

		lg.stalled = false;
		(void)snprintf(data, sizeof(data), "{\"blocked_ms\":%llu,\"queue_bytes\":%llu}",
			       (unsigned long long)ms, (unsigned long long)queue_bound(q));
		wd_info("audit: the host caught up after %llu ms", (unsigned long long)ms);
		if (append(&ev, false, &err) < 0)
			wd_warn("%s", err.msg);
	}
	return room;
}

/* The auth/resume record of the channel's last resumption, if one is pending. */
static int record_resume(struct sup_channel *ch, struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX];
	struct sup_audit_event ev = {
		"auth", "resume", "success", "medium", "warden-supervisor", (int)getpid(), 0, data};
	struct wd_jw w;

	if (!ch->resumed.pending)
		return 0;
	ch->resumed.pending = false;
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_uint(&w, "down_ms", ch->resumed.down_ms);
	wd_jw_uint(&w, "epoch", ch->resumed.epoch);
	wd_jw_str(&w, "reason", ch->resumed.why);
	wd_jw_uint(&w, "resent_frames", ch->resumed.resent);
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the resume record");
	if (sup_audit_record(&ev, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

int sup_audit_pump(struct sup_channel *ch, struct sup_fail *f)
{
	struct queue *q = &lg.q;

	if (lg.open && record_resume(ch, f) < 0)
		return -f->err.code;
	while (lg.open && q->nsent < q->n && wd_conn_queued(&ch->conn) < WD_CONN_HIGH_WATER) {
		size_t len = 0;

		while (q->nsent < q->n) {
			size_t l = q->lens[(q->lens_head + q->nsent) % q->lens_cap];

			if (len + l > sizeof(lg.frame))
				break;
			ring_get(q, q->sent_bytes, lg.frame + len, l);
			len += l;
			q->sent_bytes += l;
			q->nsent++;
		}
		if (sup_channel_send(ch, WD_MSG_AUDIT, WD_STREAM_CONTROL, lg.frame, len, f) < 0)
			return -f->err.code;
	}
	return 0;
}

int sup_audit_ack(const struct wd_frame *fr, struct sup_fail *f)
{
	struct queue *q = &lg.q;
	uint64_t ack, sent = q->first_seq + q->nsent - 1;

	if (wd_audit_ack_decode(fr->payload, fr->len, &ack, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_PROTOCOL, "AUDIT_ACK");
	if (ack < lg.acked || ack > sent)
		return sup_fail_set(f, SUP_FAIL_PROTOCOL, EPROTO,
				    "AUDIT_ACK %llu: acknowledged up to %llu, sent up to %llu",
				    (unsigned long long)ack, (unsigned long long)lg.acked,
				    (unsigned long long)sent);
	while (q->first_seq <= ack) {
		size_t l = q->lens[q->lens_head];

		q->head = (q->head + l) % q->cap;
		q->used -= l;
		q->lens_head = (q->lens_head + 1) % q->lens_cap;
		q->n--;
		q->nsent--;
		q->sent_bytes -= l;
		q->first_seq++;
	}
	lg.acked = ack;
	if (spill_refill(q, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

bool sup_audit_all_acked(void)
{
	return !lg.open || lg.acked == lg.seq;
}

uint64_t sup_audit_last_seq(void)
{
	return lg.seq;
}

/* ---- setup ------------------------------------------------------------------- */

int sup_audit_open(const char *vm_id, struct wd_err *err)
{
	uint8_t id[16];

	memset(&lg, 0, sizeof(lg));
	lg.q.spill_fd = -1;
	wd_policy_audit_defaults(&lg.lim);
	if (getrandom(id, sizeof(id), 0) != (ssize_t)sizeof(id))
		return wd_err_sys(err, errno, "audit: boot id: getrandom");
	wd_hex(id, sizeof(id), lg.boot);
	if ((size_t)snprintf(lg.origin, sizeof(lg.origin), "%s/audit/%s", vm_id, lg.boot) >=
	    sizeof(lg.origin))
		return wd_err_set(err, ENAMETOOLONG, "audit: the VM's name is too long");
	if (make_key(err) < 0 || queue_open(&lg.q, &lg.lim, err) < 0) {
		sup_audit_close();
		return -err->code;
	}
	wd_merkle_init(&lg.tree);
	lg.last_cp_ns = wd_mono_ns();
	lg.open = true;
	wd_info("audit: log %s, key id %02x%02x%02x%02x", lg.origin, lg.pub.id[0], lg.pub.id[1],
		lg.pub.id[2], lg.pub.id[3]);
	return 0;
}

/* A new size for the memory ring: its lines copied in order to the start. */
static int queue_resize(struct queue *q, size_t cap, struct wd_err *err)
{
	size_t lens_cap = cap / 64 + 1;
	uint8_t *mem;
	uint32_t *lens;

	if (cap < q->used || lens_cap < q->n)
		return wd_err_set(err, EBUSY, "audit: %zu bytes of records are already queued",
				  q->used);
	mem = malloc(cap);
	lens = malloc(lens_cap * sizeof(*lens));
	if (mem == NULL || lens == NULL) {
		free(mem);
		free(lens);
		return wd_err_set(err, ENOMEM, "audit: a queue of %zu bytes", cap);
	}
	ring_get(q, 0, mem, q->used);
	for (size_t i = 0; i < q->n; i++)
		lens[i] = q->lens[(q->lens_head + i) % q->lens_cap];
	free(q->mem);
	free(q->lens);
	q->mem = mem;
	q->lens = lens;
	q->cap = cap;
	q->lens_cap = lens_cap;
	q->head = q->lens_head = 0;
	return 0;
}

int sup_audit_set_limits(const struct wd_policy_audit *l, struct wd_err *err)
{
	struct queue *q = &lg.q;

	if (l->memory_bytes != q->cap && queue_resize(q, (size_t)l->memory_bytes, err) < 0)
		return -err->code;
	if (l->spill_bytes > 0 && q->spill_fd < 0) {
		q->spill_fd = memfd_create("warden-audit-spill", MFD_CLOEXEC);
		if (q->spill_fd < 0)
			return wd_err_sys(err, errno, "audit: the spill file (memfd_create)");
	}
	if (l->spill_bytes < spill_used(q))
		return wd_err_set(err, EBUSY, "audit: the spill file already holds more");
	q->spill_cap = l->spill_bytes;
	lg.lim = *l;
	return 0;
}

const struct wd_pubkey *sup_audit_pubkey(void)
{
	return &lg.pub;
}

const char *sup_audit_origin(void)
{
	return lg.origin;
}

const char *sup_audit_boot_id(void)
{
	return lg.boot;
}

const char *sup_audit_last_line(size_t *len)
{
	*len = lg.line_len;
	return lg.line;
}

void sup_audit_close(void)
{
	if (lg.key != NULL) {
		explicit_bzero(lg.key, sizeof(*lg.key));
		(void)munlock(lg.key, PAGE);
		(void)munmap(lg.key, PAGE);
		lg.key = NULL;
	}
	queue_free(&lg.q);
	lg.open = false;
}

void sup_audit_attach(struct sup_channel *ch)
{
	ch->hooks.pump = sup_audit_pump;
	ch->hooks.ack = sup_audit_ack;
}
