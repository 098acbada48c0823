/*
 * sandbox/coalesce.h - repeated identical seccomp denials: one record
 * per key and interval, carrying an exact count (docs/audit.md,
 * "Coalescing").
 *
 * An agent looping on a denied system call would otherwise make a record
 * per call, some 80 000 a second from 16 threads: enough to fill the disk
 * of the host's --audit-dir. Two denials are identical when their records
 * would say the same thing: the same caller (the pid the kernel reports,
 * a thread's own id), ABI, system call number, errno and all six argument
 * values (and, for a network bypass, the family, address and port it
 * named). An agent that varies any of them makes distinct records; the
 * policy's budget (audit.max_records, audit.max_bytes) bounds those.
 *
 * The first denial of a key is recorded at once, as every denial was
 * before (count 1). Its repeats in the next SUP_COALESCE_MS are counted and
 * answered; when the interval ends, one record carries their count and the
 * first and last one's time, and the next interval starts. A key with
 * nothing counted at its interval's end is forgotten (its next denial is
 * recorded at once again). Counts are also flushed before every checkpoint
 * (so a signed checkpoint covers every denial answered before it) and at
 * the job's end. When all SUP_COALESCE_SLOTS keys are in use, the one whose
 * interval ends first is flushed and forgotten to make room. Nothing is
 * dropped: the counts of the records made add up to the denials given.
 *
 * The table decides when; the caller's `emit` makes the record (c NULL:
 * this one denial, now; else a count). Used by the supervisor (agent.c)
 * and by `warden sandbox` (host/sandbox.c). The caller owns the table; no
 * allocation; single-threaded. Functions return 0 or emit's negative
 * return, which stops them with nothing lost: a denial whose record could
 * not be made is not counted, a count that could not be recorded is kept.
 */
#ifndef WARDEN_SANDBOX_COALESCE_H
#define WARDEN_SANDBOX_COALESCE_H

#include <stdbool.h>
#include <stdint.h>

#include "sandbox.h"

#define SUP_COALESCE_SLOTS 32 /* keys counted at once */
#define SUP_COALESCE_MS 1000  /* a key's interval */

typedef int (*sup_coalesce_emit)(void *ctx, const struct sup_sb_denial *d,
				 const struct sup_sb_denial_count *c);

struct sup_coalesce_slot {
	struct sup_sb_denial key; /* key.name points at name */
	char name[SUP_SC_NAME_MAX + 1];
	struct sup_sb_denial_count n; /* repeats counted, not recorded yet */
	uint64_t due_ns;              /* the interval's end, CLOCK_MONOTONIC */
	bool used;
};

struct sup_coalesce {
	struct sup_coalesce_slot slot[SUP_COALESCE_SLOTS];
	uint64_t interval_ns;
	uint64_t given;    /* denials given to sup_coalesce_add() and taken */
	uint64_t recorded; /* the counts of the records emitted */
};

void sup_coalesce_init(struct sup_coalesce *c, uint64_t interval_ms);

/* One denial (not an exec), at now_ns (CLOCK_MONOTONIC) and now_ms (the
 * wall clock, for the record): recorded at once or counted. */
int sup_coalesce_add(struct sup_coalesce *c, const struct sup_sb_denial *d, uint64_t now_ns,
		     uint64_t now_ms, sup_coalesce_emit emit, void *ctx);

/* The counts whose interval ended by now_ns (`all`: every count, whatever
 * its interval; the keys stay). */
int sup_coalesce_flush(struct sup_coalesce *c, uint64_t now_ns, bool all, sup_coalesce_emit emit,
		       void *ctx);

/* When the next interval ends (CLOCK_MONOTONIC ns), 0: none. */
uint64_t sup_coalesce_next_ns(const struct sup_coalesce *c);

/* Denials counted and not recorded yet. */
uint64_t sup_coalesce_pending(const struct sup_coalesce *c);

#endif
