/*
 * host/auditverify.h - checking an audit log (docs/audit.md), one line at
 * a time: the collector runs it on every record as it arrives (host/
 * collect.c), `warden audit verify` on the files afterwards.
 *
 * Input is untrusted (the guest's records, or files anyone may have
 * edited); every line is bounded (WD_AUDIT_LINE_MAX) and checked strictly:
 *
 *   - canonical JSON (common/jcanon.h) with the record fields of
 *     docs/audit.md, of the right types;
 *   - metadata.sequence one more than the last, metadata.boot the log's,
 *     metadata.uid "<boot>/<sequence>", metadata.prev the previous
 *     record's leaf hash (the chain);
 *   - the first record (sequence 1) is lifecycle/start and names the key;
 *     with a pinned key (HELLO, --pubkey) it must be that key;
 *   - each audit/checkpoint record's note verifies with the key, names the
 *     log's origin, and its tree size and root are those of every record
 *     before it (RFC 6962, recomputed here).
 *
 * Segment headers ({"segment":{...}}, written by the collector at the top
 * of each file) carry the Merkle state where the file starts, so a log
 * whose older segments were pruned still verifies: the state is taken from
 * the header and proved by the next checkpoint's signed root.
 *
 * The first failure stops the check: `err` names the record by sequence
 * (and the caller adds the file and line) and says why.
 */
#ifndef WARDEN_HOST_AUDITVERIFY_H
#define WARDEN_HOST_AUDITVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/tlog.h"

#define WD_AUDIT_LINE_MAX 8192 /* one line of a log, bytes, newline excluded */
#define WD_AUDIT_BOOT_HEX 33

struct wd_verify {
	bool pinned;  /* key given by the caller: the log must use it */
	bool repeats; /* a record already taken is dropped (1), not an error */
	bool have_key;
	struct wd_pubkey key;
	char origin[WD_ORIGIN_MAX];
	char boot[WD_AUDIT_BOOT_HEX];
	uint64_t seq; /* the last record's sequence */
	uint8_t prev[WD_HASH_BYTES];
	struct wd_merkle tree;
	uint64_t start;       /* the first sequence seen (1 unless pruned) */
	uint64_t checkpoints; /* verified */
	uint64_t covered;     /* records covered by the last checkpoint (its tree size) */
	uint64_t last_cp_seq; /* the checkpoint record's own sequence */
	char last_note[WD_NOTE_MAX];
	size_t last_note_len;
	uint64_t segment; /* index of the last segment header, 0 none */
	bool last_was_checkpoint;
	struct wd_verify_cp { /* every checkpoint verified: for wd_verify_final */
		uint64_t size;
		uint8_t root[WD_HASH_BYTES];
	} * cps;
	size_t ncps, cps_cap;
};

/* Start; `key` pins the key (NULL: the log's own start record names it). */
void wd_verify_init(struct wd_verify *v, const struct wd_pubkey *key);

void wd_verify_free(struct wd_verify *v);

/* One line (no newline). Returns 0, 1 for a repeated record when
 * v->repeats (dropped, nothing changes), or -errno with `err` naming the
 * record. */
int wd_verify_line(struct wd_verify *v, const char *line, size_t len, struct wd_err *err);

/* Is this a segment header? */
bool wd_verify_is_header(const char *line, size_t len);

/*
 * The end of the log: against `final` (a signed checkpoint kept apart,
 * e.g. the .checkpoint file or --checkpoint; NULL none): its signature,
 * origin, and that the log holds every record it covers with that root.
 * Returns 0 or -errno (EBADMSG: truncated or rolled back).
 */
int wd_verify_final(struct wd_verify *v, const char *final, size_t n, struct wd_err *err);

/* The segment header for a file that starts after record v->seq. */
int wd_verify_header(const struct wd_verify *v, uint64_t index, char *out, size_t size);

#endif
