/*
 * host/uidpool.h - a host uid and gid of its own for each job that runs on
 * this kernel: `warden run --vmm local` and `warden sandbox`.
 *
 * There the agent's ids are real ids of the host, and what the kernel
 * counts per uid (RLIMIT_NPROC above all) is shared by every process of
 * that uid on the machine: with one fixed uid for every job, one job
 * that used up its processes kept every other job, and the host's own
 * services of that uid, from forking. So each job leases one id from a
 * range, used as both its uid and its gid, held for the job's life and
 * given to no other job meanwhile. (The microVM keeps the policy's ids:
 * it has a kernel of its own.)
 *
 * The lease is a lock file per id, WD_UID_LOCK_DIR/ID, locked with
 * flock(2) (exclusive, never waited for): taking it is atomic between
 * concurrent launchers, and the kernel drops it with the last descriptor
 * of the file, so the id of a launcher that crashed is free at once and
 * nothing is ever cleaned up by hand. An id that /etc/passwd or /etc/group
 * names is skipped: something else owns it. The scan starts at a random
 * id of the range, so an id just given back is not the next one taken.
 *
 * The range is the operator's: WD_UID_RANGE_ENV ("FIRST-LAST", decimal),
 * else WD_UID_RANGE_FIRST to WD_UID_RANGE_LAST. A policy names no host
 * ids (sandbox.h: sup_sandbox_host_id). docs/cli.md.
 *
 * Failure: -EINVAL or -ERANGE for a malformed range, -EAGAIN when every id of the
 * range is leased or owned, or the errno of the lock directory; `err`
 * says which. Nothing is held after a failure.
 */
#ifndef WARDEN_HOST_UIDPOOL_H
#define WARDEN_HOST_UIDPOOL_H

#include <stdint.h>

#include "../common/err.h"

#define WD_UID_RANGE_ENV "WARDEN_UID_RANGE"
/* systemd leaves 60578-61183 unassigned, between the host users it maps
 * into containers (60514-60577) and its dynamic service users
 * (61184-65519); regular users end at 60000. */
#define WD_UID_RANGE_FIRST 60578U
#define WD_UID_RANGE_LAST 61183U
#define WD_UID_RANGE_MAX_IDS 65536U /* ids in one range: the most a lease tries */
#define WD_UID_LOCK_DIR "/run/warden/uids"
#define WD_UID_TEXT_BYTES 24 /* "FIRST-LAST" at most */

struct wd_uid_lease {
	uint32_t id; /* the uid and the gid */
	int fd;      /* the locked file; -1 when nothing is held */
};

/*
 * Parse "FIRST-LAST" (NULL: the default range). 1 <= FIRST <= LAST, at
 * most WD_UID_RANGE_MAX_IDS ids, none of 65534 (nobody), 65535 and
 * 4294967295 (both "-1" to some interfaces).
 */
int wd_uid_range(const char *text, uint32_t *first, uint32_t *last, struct wd_err *err);

/* Lease an id from WD_UID_RANGE_ENV's range (or the default), in WD_UID_LOCK_DIR. */
int wd_uid_lease(struct wd_uid_lease *l, struct wd_err *err);

/*
 * The same in the directory `dir` (made 0700 if missing; it must be ours
 * and writable by nobody else), for [first, last].
 */
int wd_uid_lease_in(const char *dir, uint32_t first, uint32_t last, struct wd_uid_lease *l,
		    struct wd_err *err);

/* Give the id back (close the lock); nothing if none is held. Idempotent. */
void wd_uid_release(struct wd_uid_lease *l);

#endif
