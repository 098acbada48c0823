/*
 * supervisor/audit.h - the guest's audit log: every security-relevant
 * event becomes one record, chained, checkpointed, signed and delivered to
 * the host without loss (docs/audit.md).
 *
 * One log per boot, owned by this module (the supervisor is
 * single-threaded): PID 1's record (WARDEN_INIT_RECORD, checked by
 * main.c) and the supervisor's own go through sup_audit_record(). Each record is one canonical JSON line
 * (common/jcanon.h) with metadata.sequence (1, 2, ...), metadata.prev (the
 * previous record's leaf hash, hex) and metadata.uid ("<boot>/<sequence>").
 * Every WD_POLICY_CHECKPOINT_EVERY records or WD_POLICY_CHECKPOINT_MS,
 * at the job's end and at shutdown, a checkpoint record follows: a C2SP
 * signed note over the RFC 6962 root of every record before it
 * (common/tlog.h), signed with the boot's ECDSA P-256 key.
 *
 * The key. Made at sup_audit_open() from the kernel CRNG (getrandom),
 * kept in one page that is locked (mlock), left out of core dumps
 * (MADV_DONTDUMP) and zeroed in any child (MADV_WIPEONFORK: the sandbox's
 * processes are forks of the supervisor), and wiped by sup_audit_close().
 * Its public key and id go to the host in HELLO.
 *
 * Delivery. Records wait in a queue until the host acknowledges them
 * (AUDIT_ACK, the highest sequence it has stored): first a memory buffer
 * (memory_bytes), then a spill file on the kernel's tmpfs (a memfd, at
 * most spill_bytes). sup_audit_pump() sends what the host has not seen, as
 * AUDIT frames of whole lines, while the channel's queue has room. When the
 * queue is full, sup_audit_room() says no: the supervisor then stops
 * answering the agent's audited actions (its seccomp notifications), so
 * the agent blocks instead of a record being dropped; the stall becomes a
 * record when it ends. The last SUP_AUDIT_RESERVE_BYTES of the spill are
 * kept for the supervisor's own records (the end of the job); a record
 * that does not fit even there fails the job (-ENOBUFS).
 *
 * The budget. A job's log holds at most max_records records and max_bytes
 * bytes (each line with its newline; policy audit.max_records and
 * audit.max_bytes), so that one job cannot fill the host's disk. A record
 * the agent caused and that must exist before its call is answered (a
 * denial recorded at once, an exec) goes through sup_audit_record_agent(),
 * which keeps SUP_AUDIT_BUDGET_RESERVE_RECORDS and _BYTES back: when it
 * does not fit in the rest, it is not made (-EDQUOT, the call is never
 * answered) and the budget is spent (sup_audit_spent()); the caller then
 * ends the job. Every other record (the supervisor's own, coalesced
 * counts of denials already answered, checkpoints) may use the reserve,
 * which holds what closes the log: the last counts (at most
 * SUP_COALESCE_SLOTS), the limit, job-end, end or failure records and
 * their checkpoints. Past the whole budget nothing is made (-EDQUOT).
 *
 * Before each checkpoint the function set with sup_audit_before_checkpoint()
 * runs (the coalesced denials' counts are flushed, coalesce.h), so that a
 * signed checkpoint covers every denial answered before it.
 *
 * Errors are 0 / -errno with `err` set (common/err.h).
 */
#ifndef WARDEN_SUPERVISOR_AUDIT_H
#define WARDEN_SUPERVISOR_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/tlog.h"
#include "../policy/policy.h"
#include "../vsock/frame.h"
#include "channel.h"
#include "fail.h"

#define SUP_AUDIT_RESERVE_BYTES (256UL << 10) /* of the spill: the supervisor's own */
#define SUP_AUDIT_RECORD_MAX 4096             /* one record, its line, bytes */
#define SUP_AUDIT_DATA_MAX 2048               /* a record's "data" object */
#define SUP_AUDIT_BOOT_HEX 33                 /* 128-bit boot id, hex, NUL */

/*
 * The budget's reserve (policy/policy.h has the budget itself, docs/policy.md
 * says why its numbers): what may follow a spent budget: the last coalesced
 * counts (sandbox/coalesce.h's SUP_COALESCE_SLOTS), the
 * SUP_AUDIT_CLOSING_RECORDS (limit, stall, job-end, end or shutdown,
 * failure, a few resumptions), and a checkpoint after each at worst
 * (checkpoint_every 1); agent.c checks the sum.
 */
#define SUP_AUDIT_CLOSING_RECORDS 16
#define SUP_AUDIT_BUDGET_RESERVE_RECORDS 128ULL
#define SUP_AUDIT_BUDGET_RESERVE_BYTES                                                             \
	(SUP_AUDIT_BUDGET_RESERVE_RECORDS * (SUP_AUDIT_RECORD_MAX + 1)) /* a line and its newline */
_Static_assert(WD_POLICY_BUDGET_RECORDS_MIN >= 2 * SUP_AUDIT_BUDGET_RESERVE_RECORDS,
	       "the smallest record budget holds twice the reserve");
_Static_assert(WD_POLICY_BUDGET_BYTES_MIN >= 3 * SUP_AUDIT_BUDGET_RESERVE_BYTES / 2,
	       "the smallest byte budget holds the reserve and half as much again");

/* One event. Strings are the caller's; data is a canonical JSON object
 * (struct wd_jw) or NULL for {}. */
struct sup_audit_event {
	const char *cls; /* "lifecycle", "auth", "process", "seccomp", "limit", "policy", "audit" */
	const char *activity; /* per class, docs/audit.md */
	const char *outcome;  /* "success", "failure", "denied" */
	const char *severity; /* "informational", "low", "medium", "high", "critical" */
	const char *actor;    /* "warden-init", "warden-supervisor", "agent" */
	int pid;              /* the actor's pid, 0: none */
	long uid;             /* the actor's uid, -1: none */
	const char *data;
};

/* The log for this boot: key pair, boot id, origin "<vm_id>/audit/<boot>". */
int sup_audit_open(const char *vm_id, struct wd_err *err);

/* The policy's limits (policy/policy.h, "audit"), before the job starts. */
int sup_audit_set_limits(const struct wd_policy_audit *l, struct wd_err *err);
const struct wd_pubkey *sup_audit_pubkey(void);
const char *sup_audit_origin(void);
const char *sup_audit_boot_id(void);

/* Append a record. -ENOBUFS: no room even in the queue's reserve;
 * -EDQUOT: past the whole budget. */
int sup_audit_record(const struct sup_audit_event *ev, struct wd_err *err);

/* Append a record the agent caused, within the budget less its reserve.
 * -EDQUOT: it does not fit, the budget is spent, nothing was made. */
int sup_audit_record_agent(const struct sup_audit_event *ev, struct wd_err *err);

/* The budget that is spent (wd_budget_records or wd_budget_bytes, the
 * constants themselves), NULL while neither is; what the log holds. */
const char *sup_audit_spent(void);
void sup_audit_usage(uint64_t *records, uint64_t *bytes);

/* The limit/audit-budget record naming the spent budget (none when
 * nothing is spent), from the reserve. */
int sup_audit_record_spent(struct wd_err *err);

/* Run `fn` before every checkpoint (NULL: nothing); its records go in. */
void sup_audit_before_checkpoint(int (*fn)(struct wd_err *err));

/* A checkpoint now (if any record is not covered yet). */
int sup_audit_checkpoint(struct wd_err *err);

/* A checkpoint if one is due; *next_ns: when the next one will be (0 none). */
int sup_audit_tick(uint64_t *next_ns, struct wd_err *err);

/* May the agent's next audited action go ahead? False while the queue is
 * full; the stall is recorded when it ends. */
bool sup_audit_room(void);

/* Send the records the host has not seen while the channel has room. */
int sup_audit_pump(struct sup_channel *ch, struct sup_fail *f);

/* Let every wait of the channel pump records and take AUDIT_ACK
 * (channel.h's hooks: sup_audit_pump and sup_audit_ack). */
void sup_audit_attach(struct sup_channel *ch);

/* AUDIT_ACK from the host: drop what it stored. A sequence never sent, or
 * lower than an earlier acknowledgement, is a protocol error. */
int sup_audit_ack(const struct wd_frame *fr, struct sup_fail *f);

/* Everything is acknowledged. The last sequence given. */
bool sup_audit_all_acked(void);
uint64_t sup_audit_last_seq(void);

/* Wipe the key and free the queue. */
void sup_audit_close(void);

/* A record's common fields, for unit tests and the benchmark. */
const char *sup_audit_last_line(size_t *len);

#endif
