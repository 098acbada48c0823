/*
 * host/collect.h - the host's audit collector: the guest's records (AUDIT
 * frames), checked as they arrive, stored, acknowledged (docs/audit.md).
 *
 * Every record goes through host/auditverify.h before it is stored: a
 * record that breaks the chain, a checkpoint whose signature or root is
 * wrong, or a key other than HELLO's is a protocol error that ends the job.
 * A record whose sequence was already stored (the guest sends again what
 * was not acknowledged, after a reconnect) is dropped.
 *
 * Files, in --audit-dir (made 0700 by `warden run`), per log:
 *   audit-<boot>.NNNNNN.jsonl  segments: a header line, then records;
 *                              O_APPEND, 0600; a new segment starts after the
 *                              first checkpoint past `segment_bytes`
 *   audit-<boot>.pub           the key pinned from HELLO (PEM)
 *   audit-<boot>.checkpoint    the last checkpoint (a signed note), written
 *                              at the end of the job (renamed into place)
 *
 * Durability: records are written as they arrive; the segment is
 * fdatasync'ed before an acknowledgement is sent, so AUDIT_ACK means "on
 * disk". That happens when WD_COLLECT_SYNC_BYTES are unsynced, when the
 * frames that arrived are all taken and the oldest unsynced record has
 * waited WD_COLLECT_SYNC_MS (a trickle of records is synced a few at a
 * time, not one by one), and at each rotation and the end.
 * A write that fails (ENOSPC, EIO) is cut back to the last whole line and
 * fails the job closed: the guest is stopped, nothing later is
 * acknowledged, and what is stored still verifies.
 *
 * Without --audit-dir, records are checked and acknowledged, counted, and
 * (with -v) printed; nothing is kept.
 *
 * The budget. The guest ends the job when the policy's audit.max_records
 * or audit.max_bytes is spent (policy/policy.h); the collector enforces
 * the same budget itself, as the guest is not trusted: a record past
 * either (bytes: each record's line with its newline, segment headers
 * aside) is refused and ends the job, and what came before it is stored.
 */
#ifndef WARDEN_HOST_COLLECT_H
#define WARDEN_HOST_COLLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../vsock/msg.h"
#include "auditverify.h"

#define WD_COLLECT_SEGMENT_BYTES (64ULL << 20) /* default rotation size */
#define WD_COLLECT_SYNC_BYTES (1ULL << 20)     /* unsynced bytes before a sync */
#define WD_COLLECT_SYNC_MS 5                   /* ... or, idle, the oldest's wait */

struct wd_collector {
	const char *dir; /* NULL: records are not kept */
	int dirfd;
	bool print; /* each record on stderr (-v without --audit-dir) */
	uint64_t segment_bytes;
	struct wd_verify v;
	char boot[WD_AUDIT_BOOT_HEX];
	bool started;         /* HELLO taken */
	int fd;               /* the open segment */
	uint64_t index;       /* its number */
	uint64_t size;        /* its bytes */
	bool rotate;          /* over segment_bytes: a new one after the next checkpoint */
	uint64_t stored;      /* records stored */
	uint64_t synced;      /* the highest sequence on disk */
	uint64_t acked;       /* the highest acknowledged */
	uint64_t unsynced;    /* bytes written since the last sync */
	uint64_t unsynced_ns; /* when the first of them was written (CLOCK_MONOTONIC) */
	uint64_t duplicates;  /* records dropped as already stored */
	char *buf;            /* one frame's lines, to write at once */
	size_t buf_len;
	uint64_t buf_records; /* records in buf */
	uint64_t buf_last;    /* the last sequence in buf */
	uint64_t written;     /* the last sequence written */
	bool failed;          /* a write failed: nothing more is taken */
	uint64_t max_records; /* the job's budget (wd_collect_budget) */
	uint64_t max_bytes;
	uint64_t bytes;                 /* of the records taken, with their newlines */
	const char *over;               /* the budget a record overran: nothing more is taken */
	char note[WD_NOTE_MAX + 1];     /* the last checkpoint written to disk */
	char buf_note[WD_NOTE_MAX + 1]; /* the last one in buf */
};

int wd_collect_open(struct wd_collector *c, const char *dir, uint64_t segment_bytes, bool print,
		    struct wd_err *err);

/* The job's audit budget (policy audit.max_records, audit.max_bytes);
 * wd_collect_open() sets the defaults. */
void wd_collect_budget(struct wd_collector *c, uint64_t max_records, uint64_t max_bytes);

/* HELLO: the log's key and origin, pinned; the files made. */
int wd_collect_hello(struct wd_collector *c, const struct wd_hello *h, struct wd_err *err);

/* One AUDIT payload: whole lines, each checked and stored. */
int wd_collect_frame(struct wd_collector *c, const uint8_t *p, size_t n, struct wd_err *err);

/* Sync when enough is pending, or when `idle` (every frame that arrived is
 * taken) and the oldest unsynced record has waited WD_COLLECT_SYNC_MS; *ack
 * is the sequence to acknowledge now, 0 for none. */
int wd_collect_sync(struct wd_collector *c, bool idle, uint64_t *ack, struct wd_err *err);

/* Milliseconds until an idle sync is due (for a poll timeout), -1: none. */
int wd_collect_sync_due_ms(const struct wd_collector *c);

/* The end: sync, the final checkpoint beside the log; its note into
 * note[size] ("" when there is none). */
int wd_collect_close(struct wd_collector *c, char *note, size_t size, struct wd_err *err);

void wd_collect_free(struct wd_collector *c);

#endif
