/*
 * policy/policy.h - the policy: one JSON document (docs/policy.md) read
 * once, strictly, into one typed structure that every layer consults.
 *
 * Who reads it: the host (`warden run` checks the file before a VM boots,
 * `warden sandbox` runs by it) and the supervisor in the guest (the JOB's
 * policy). Both run this same code, so a policy the host accepts is one
 * the guest accepts. The text comes from the operator's file, or in the
 * guest from the authenticated JOB; it is bounded (WD_POLICY_MAX_BYTES),
 * parsed with common/json.h's strict steps (no unknown or repeated member,
 * UTF-8 only, numbers in range), and every error names its JSON path
 * ("policy: sandbox.rlimits.nofile: ...").
 *
 * Sections: `sandbox` (the agent's sandbox: read by sandbox/sandbox.c into
 * struct sup_sandbox), `audit` (the audit log's bounds, below) and `egress`
 * (the network allowlist: common/egress.h, read by the same code on both
 * sides of the channel). A section left out takes its defaults; a policy
 * without `egress` has no egress at all. The bounds are the constants named
 * here and in sandbox/sandbox.h; docs/policy.md quotes them.
 */
#ifndef WARDEN_POLICY_POLICY_H
#define WARDEN_POLICY_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/egress.h"
#include "../common/err.h"
#include "../sandbox/sandbox.h"
#include "../vsock/msg.h"

#define WD_POLICY_MAX_BYTES WD_JOB_MAX_POLICY /* the document, JSON text */

/* audit: defaults and bounds (docs/policy.md, "audit") */
#define WD_POLICY_CHECKPOINT_EVERY 1000          /* records between checkpoints */
#define WD_POLICY_CHECKPOINT_EVERY_MAX 1000000   /* ... at most */
#define WD_POLICY_CHECKPOINT_MS 1000             /* or this long after a record */
#define WD_POLICY_CHECKPOINT_MS_MAX 3600000      /* ... at most */
#define WD_POLICY_MEMORY_BYTES (4ULL << 20)      /* unacknowledged records in memory */
#define WD_POLICY_MEMORY_BYTES_MIN (64ULL << 10) /* ... at least */
#define WD_POLICY_MEMORY_BYTES_MAX (1ULL << 30)  /* ... at most */
#define WD_POLICY_SPILL_BYTES (32ULL << 20)      /* then in the spill file (0: none) */
#define WD_POLICY_SPILL_BYTES_MAX (4ULL << 30)   /* ... at most */
/* the job's budget: a normal job never reaches it, one agent cannot fill a
 * disk with it (docs/policy.md, "audit", says why these numbers) */
#define WD_POLICY_BUDGET_RECORDS 500000ULL         /* default audit.max_records */
#define WD_POLICY_BUDGET_RECORDS_MIN 256ULL        /* twice the log's closing reserve */
#define WD_POLICY_BUDGET_RECORDS_MAX 1000000000ULL /* ... at most */
#define WD_POLICY_BUDGET_BYTES (256ULL << 20)      /* default audit.max_bytes */
#define WD_POLICY_BUDGET_BYTES_MIN (1ULL << 20)    /* about twice the closing reserve */
#define WD_POLICY_BUDGET_BYTES_MAX (1ULL << 40)    /* ... at most */

/* The policy's "audit" section. */
struct wd_policy_audit {
	uint64_t checkpoint_every; /* records; 1 .. WD_POLICY_CHECKPOINT_EVERY_MAX */
	uint64_t checkpoint_ms;    /* 1 .. WD_POLICY_CHECKPOINT_MS_MAX */
	uint64_t memory_bytes;     /* WD_POLICY_MEMORY_BYTES_MIN .. _MAX */
	uint64_t spill_bytes;      /* 0 .. WD_POLICY_SPILL_BYTES_MAX */
	uint64_t max_records; /* the job's budget: records, WD_POLICY_BUDGET_RECORDS_MIN .. _MAX */
	uint64_t max_bytes;   /* ... and bytes (lines and newlines), _BYTES_MIN .. _MAX */
	bool exec;            /* record the agent's execs (execve, execveat) */
};

struct wd_policy {
	struct sup_sandbox sandbox; /* owns a parsed seccomp profile, if any */
	struct wd_policy_audit audit;
	struct wd_egress egress; /* owns its rules (heap); present only when given */
	uint8_t sha256[32];      /* of the text as read ("" for no policy) */
	size_t bytes;            /* its length */
};

/* Every section's defaults (what an empty policy means). */
void wd_policy_defaults(struct wd_policy *p);
void wd_policy_audit_defaults(struct wd_policy_audit *a);

/*
 * Read `len` bytes of policy text into `p` (which needs no set-up; release
 * it with wd_policy_free() whatever the result). `len` 0 is the empty
 * policy: the defaults. Returns 0, or -errno with `err` naming the field.
 * Derived settings are filled in too: sandbox.exec_audit_off is !audit.exec.
 */
int wd_policy_read(const char *text, size_t len, struct wd_policy *p, struct wd_err *err);

/* Release what `p` owns; `p` holds the defaults again. */
void wd_policy_free(struct wd_policy *p);

#endif
