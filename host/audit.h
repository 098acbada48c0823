/*
 * host/audit.h - `warden audit`: the audit logs that `warden run
 * --audit-dir` keeps (host/collect.h), read back.
 *
 *   verify DIR|FILE [--pubkey PEM] [--checkpoint FILE]
 *       every line checked as host/auditverify.h says, segment after
 *       segment, then against the final checkpoint (--checkpoint, else the
 *       log's .checkpoint file beside it in DIR). Exit 0: intact and every
 *       record covered by a verified checkpoint; 1: not intact (the first
 *       bad record is named, by file, line and sequence, with the reason);
 *       2: intact as far as it goes, but its last records are not covered
 *       by any checkpoint (the job ended before its final one).
 *   show DIR|FILE [--class C] [--outcome O] [--since T] [--until T] [--json]
 *       one line per record, filtered; does not verify.
 *   prune DIR --older-than AGE [--apply]
 *       segments older than AGE that verified up to a checkpoint at their
 *       end, never a log's last segment; only printed without --apply.
 *
 * Files are read with every line bounded (WD_AUDIT_LINE_MAX); usage and
 * I/O errors exit WD_EXIT_LAUNCHER (125). docs/audit.md is the reference.
 */
#ifndef WARDEN_HOST_AUDIT_H
#define WARDEN_HOST_AUDIT_H

#define WD_AUDIT_EXIT_INTACT 0
#define WD_AUDIT_EXIT_BAD 1
#define WD_AUDIT_EXIT_UNSIGNED 2
#define WD_AUDIT_MAX_LOGS 256      /* logs in one directory */
#define WD_AUDIT_MAX_SEGMENTS 4096 /* segments of one log */

int wd_audit_main(int argc, char **argv);

#endif
