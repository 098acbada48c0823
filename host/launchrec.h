/*
 * host/launchrec.h - records of the launcher's own: a refusal `warden run`
 * makes on its side of the channel, which the guest's log cannot carry
 * (the guest is what was refused, and only it can sign its log).
 *
 * One canonical JSON line (common/jcanon.h) appended to
 * DIR/launcher.jsonl in the --audit-dir (created mode 0600, written with
 * O_APPEND, synced), in the shape of a guest record without the chain:
 * `activity`, `actor` {"pid", "process":"warden-run"}, `class`, `data`,
 * `origin` (the guest log's, from its HELLO, which ties the refusal to
 * that log; "" before one), `outcome`, `severity`, `time` (ms since the
 * epoch, the host's clock). docs/audit.md lists them.
 *
 * Unsigned: its integrity is the directory's (0700, the launcher's user);
 * `warden audit verify` does not read it. Without --audit-dir nothing is
 * written, and the one error line on stderr is all there is, as for every
 * other failure of the launcher.
 */
#ifndef WARDEN_HOST_LAUNCHREC_H
#define WARDEN_HOST_LAUNCHREC_H

#include "../common/err.h"

#define WD_LAUNCHREC_FILE "launcher.jsonl"
#define WD_LAUNCHREC_MAX 4096 /* one record, bytes, newline included */

struct wd_launchrec {
	const char *cls, *activity, *outcome, *severity;
	const char *origin; /* "" when unknown */
	const char *data;   /* a canonical JSON object */
};

/* Append `r` to DIR/WD_LAUNCHREC_FILE. 0, or -errno naming the file. */
int wd_launchrec_write(const char *dir, const struct wd_launchrec *r, struct wd_err *err);

#endif
