/* host/collect.c - see collect.h. */
#include "collect.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../policy/policy.h"

int wd_collect_open(struct wd_collector *c, const char *dir, uint64_t segment_bytes, bool print,
		    struct wd_err *err)
{
	memset(c, 0, sizeof(*c));
	c->fd = c->dirfd = -1;
	c->dir = dir;
	c->print = print;
	c->segment_bytes = segment_bytes != 0 ? segment_bytes : WD_COLLECT_SEGMENT_BYTES;
	wd_collect_budget(c, WD_POLICY_BUDGET_RECORDS, WD_POLICY_BUDGET_BYTES);
	c->buf = malloc(WD_FRAME_MAX_PAYLOAD);
	if (c->buf == NULL)
		return wd_err_set(err, ENOMEM, "audit: a buffer");
	if (dir != NULL) {
		c->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (c->dirfd < 0)
			return wd_err_sys(err, errno, "--audit-dir: %s", dir);
	}
	return 0;
}

void wd_collect_budget(struct wd_collector *c, uint64_t max_records, uint64_t max_bytes)
{
	c->max_records = max_records;
	c->max_bytes = max_bytes;
}

void wd_collect_free(struct wd_collector *c)
{
	if (c->fd >= 0)
		(void)close(c->fd);
	if (c->dirfd >= 0)
		(void)close(c->dirfd);
	c->fd = c->dirfd = -1;
	free(c->buf);
	c->buf = NULL;
	wd_verify_free(&c->v);
}

static int fail_io(struct wd_collector *c, int e, const char *what, struct wd_err *err)
{
	return wd_err_sys(
		err, e, "audit: %s/%s: the job is stopped (records 1..%llu are stored and verify)",
		c->dir, what, (unsigned long long)c->synced);
}

/* A new file of the log, written whole (0600, never over another). */
static int write_new(struct wd_collector *c, const char *name, const char *text, size_t n,
		     struct wd_err *err)
{
	int fd = openat(c->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return fail_io(c, errno, name, err);
	if (wd_write_all(fd, text, n) < 0 || fsync(fd) < 0) {
		int e = errno;

		(void)close(fd);
		return fail_io(c, e, name, err);
	}
	(void)close(fd);
	return 0;
}

static void seg_name(const struct wd_collector *c, uint64_t index, char *out, size_t size)
{
	(void)snprintf(out, size, "audit-%s.%06llu.jsonl", c->boot, (unsigned long long)index);
}

/* The next segment, its header first. */
static int open_segment(struct wd_collector *c, struct wd_err *err)
{
	char name[96], header[WD_AUDIT_LINE_MAX + 1];
	int n;

	c->index++;
	seg_name(c, c->index, name, sizeof(name));
	n = wd_verify_header(&c->v, c->index, header, sizeof(header) - 1);
	if (n < 0)
		return wd_err_set(err, ENOSPC, "audit: a segment header");
	header[n++] = '\n';
	c->fd = openat(c->dirfd, name,
		       O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->fd < 0)
		return fail_io(c, errno, name, err);
	if (wd_write_all(c->fd, header, (size_t)n) < 0)
		return fail_io(c, errno, name, err);
	c->size = (uint64_t)n;
	c->rotate = false;
	return 0;
}

int wd_collect_hello(struct wd_collector *c, const struct wd_hello *h, struct wd_err *err)
{
	const char *b = strstr(h->audit_origin, "/audit/");
	struct wd_pubkey k;
	char name[96], pem[WD_PEM_MAX];
	size_t n;

	if (wd_pubkey_from_b64(h->audit_pubkey, &k, err) < 0)
		return wd_err_wrap(err, "protocol: HELLO audit.pubkey");
	if (b == NULL || strlen(b + 7) != WD_AUDIT_BOOT_HEX - 1 ||
	    strspn(b + 7, "0123456789abcdef") != WD_AUDIT_BOOT_HEX - 1)
		return wd_err_set(err, EPROTO,
				  "protocol: HELLO audit.origin does not end in a boot id");
	memcpy(c->boot, b + 7, WD_AUDIT_BOOT_HEX);
	wd_verify_init(&c->v, &k);
	c->v.repeats = true;
	(void)snprintf(c->v.origin, sizeof(c->v.origin), "%s", h->audit_origin);
	c->started = true;
	wd_debug("audit: log %s, key id %s", h->audit_origin, h->audit_key_id);
	if (c->dirfd < 0)
		return 0;
	(void)snprintf(name, sizeof(name), "audit-%s.pub", c->boot);
	n = wd_pubkey_pem(&k, pem, sizeof(pem));
	if (write_new(c, name, pem, n, err) < 0)
		return -err->code;
	return open_segment(c, err);
}

/* Write what the frame's lines added; on failure cut back to the last
 * whole line, so what is stored still verifies. */
static int flush_buf(struct wd_collector *c, struct wd_err *err)
{
	char name[96];

	if (c->buf_len > 0 && wd_write_all(c->fd, c->buf, c->buf_len) < 0) {
		int e = errno;

		seg_name(c, c->index, name, sizeof(name));
		if (ftruncate(c->fd, (off_t)c->size) < 0)
			wd_warn_sys(errno, "audit: %s: cannot cut back a partial line", name);
		c->buf_len = 0;
		c->failed = true;
		return fail_io(c, e, name, err);
	}
	if (c->unsynced == 0 && c->buf_len > 0)
		c->unsynced_ns = wd_mono_ns();
	c->size += c->buf_len;
	c->unsynced += c->buf_len;
	c->stored += c->buf_records;
	if (c->buf_records > 0)
		c->written = c->buf_last;
	if (c->buf_note[0] != '\0')
		memcpy(c->note, c->buf_note, sizeof(c->note));
	c->buf_note[0] = '\0';
	c->buf_len = 0;
	c->buf_records = 0;
	return 0;
}

static int sync_segment(struct wd_collector *c, struct wd_err *err)
{
	char name[96];

	if (c->fd >= 0 && c->unsynced > 0 && fdatasync(c->fd) < 0) {
		c->failed = true;
		seg_name(c, c->index, name, sizeof(name));
		return fail_io(c, errno, name, err);
	}
	c->unsynced = 0;
	c->synced = c->fd >= 0 ? c->written : c->v.seq;
	return 0;
}

static int rotate(struct wd_collector *c, struct wd_err *err)
{
	if (flush_buf(c, err) < 0 || sync_segment(c, err) < 0)
		return -err->code;
	(void)close(c->fd);
	c->fd = -1;
	return open_segment(c, err);
}

/*
 * The record just verified (seq, `len` bytes) against the budget: past it,
 * the frame's lines before it are stored and nothing more is taken. The
 * guest keeps within it by itself; one that does not is not trusted.
 */
static int within_budget(struct wd_collector *c, size_t len, struct wd_err *err)
{
	struct wd_err ignored;
	uint64_t max;

	if (c->v.seq > c->max_records)
		c->over = wd_budget_records;
	else if (c->bytes + len + 1 > c->max_bytes)
		c->over = wd_budget_bytes;
	if (c->over == NULL) {
		c->bytes += len + 1;
		return 0;
	}
	max = strcmp(c->over, wd_budget_records) == 0 ? c->max_records : c->max_bytes;
	if (flush_buf(c, &ignored) < 0)
		wd_warn("%s", ignored.msg);
	return wd_err_set(err, EDQUOT,
			  "audit: the guest sent record %llu past the job's budget audit.%s (%llu, "
			  "docs/policy.md): the job is stopped (records 1..%llu are stored)",
			  (unsigned long long)c->v.seq, c->over, (unsigned long long)max,
			  (unsigned long long)(c->fd >= 0 ? c->written : c->stored));
}

int wd_collect_frame(struct wd_collector *c, const uint8_t *p, size_t n, struct wd_err *err)
{
	size_t start = 0;

	if (!c->started)
		return wd_err_set(err, EPROTO, "protocol: AUDIT before HELLO");
	if (c->failed || c->over != NULL)
		return wd_err_set(err, EIO, "audit: the log %s: nothing more is taken",
				  c->failed ? "cannot be written" : "is past its budget");
	if (n == 0 || p[n - 1] != '\n')
		return wd_err_set(err, EPROTO, "protocol: AUDIT: not whole lines");
	for (size_t i = 0; i < n; i++) {
		const char *line = (const char *)p + start;
		size_t len = i - start;
		int rc;

		if (p[i] != '\n')
			continue;
		start = i + 1;
		rc = wd_verify_line(&c->v, line, len, err);
		if (rc < 0)
			return wd_err_wrap(err, "protocol: AUDIT");
		if (rc == 1) {
			c->duplicates++;
			continue;
		}
		if (within_budget(c, len, err) < 0)
			return -err->code;
		if (c->print)
			wd_info("record: %.*s", (int)len, line);
		if (c->fd < 0) {
			c->stored++;
			memcpy(c->note, c->v.last_note, c->v.last_note_len + 1);
		} else {
			memcpy(c->buf + c->buf_len, line, len + 1);
			c->buf_len += len + 1;
			c->buf_records++;
			c->buf_last = c->v.seq;
			if (c->v.last_was_checkpoint)
				memcpy(c->buf_note, c->v.last_note, c->v.last_note_len + 1);
			if (c->size + c->buf_len >= c->segment_bytes)
				c->rotate = true;
			if (c->rotate && c->v.last_was_checkpoint && rotate(c, err) < 0)
				return -err->code;
		}
	}
	return flush_buf(c, err);
}

/* Is an idle sync due? Records kept nowhere (no --audit-dir) are at once. */
static bool sync_due(const struct wd_collector *c)
{
	return c->unsynced == 0 ||
	       wd_mono_ns() - c->unsynced_ns >= (uint64_t)WD_COLLECT_SYNC_MS * WD_NS_PER_MS;
}

int wd_collect_sync_due_ms(const struct wd_collector *c)
{
	uint64_t due = c->unsynced_ns + (uint64_t)WD_COLLECT_SYNC_MS * WD_NS_PER_MS, now;

	if (!c->started || c->failed || c->v.seq == c->acked || c->unsynced == 0)
		return -1;
	now = wd_mono_ns();
	return now >= due ? 0 : (int)((due - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

int wd_collect_sync(struct wd_collector *c, bool idle, uint64_t *ack, struct wd_err *err)
{
	*ack = 0;
	if (!c->started || c->failed || c->v.seq == c->acked)
		return 0;
	if (c->unsynced < WD_COLLECT_SYNC_BYTES && !(idle && sync_due(c)))
		return 0;
	if (sync_segment(c, err) < 0)
		return -err->code;
	*ack = c->synced;
	c->acked = c->synced;
	return 0;
}

int wd_collect_close(struct wd_collector *c, char *note, size_t size, struct wd_err *err)
{
	char name[96], tmp[112];
	int rc = 0;

	size_t n;

	note[0] = '\0';
	if (!c->started)
		return 0;
	if (c->dirfd >= 0 && !c->failed && (flush_buf(c, err) < 0 || sync_segment(c, err) < 0))
		return -err->code;
	/* Only a checkpoint that is on disk: the log must hold what it covers. */
	n = strlen(c->note);
	if (n > 0 && n < size)
		memcpy(note, c->note, n + 1);
	if (c->dirfd < 0 || n == 0)
		return 0;
	(void)snprintf(name, sizeof(name), "audit-%s.checkpoint", c->boot);
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	(void)unlinkat(c->dirfd, tmp, 0);
	if (write_new(c, tmp, c->note, n, err) < 0)
		return -err->code;
	if (renameat(c->dirfd, tmp, c->dirfd, name) < 0)
		rc = fail_io(c, errno, name, err);
	else if (fsync(c->dirfd) < 0)
		rc = fail_io(c, errno, c->dir, err);
	return rc;
}
