/*
 * host/exitcodes.h - the exit statuses of `warden run` (docs/cli.md).
 *
 * The agent's own status passes through unchanged: 0-255, and 128+N when
 * signal N killed it, as a shell reports it. The launcher's own outcomes
 * take the codes that `docker run` and timeout(1) made familiar, so that a
 * caller can tell "the job failed" from "warden failed":
 *
 *   123  the job's audit log reached its budget (policy audit.max_records
 *        or audit.max_bytes) and the job was killed
 *   124  the job reached --timeout and was killed (timeout(1))
 *   125  warden itself failed: usage, VM boot, protocol, guest error
 *   126  the command was found but could not be run (sh(1), POSIX 2.8.2)
 *   127  the command was not found (sh(1))
 *   130, 143  warden got SIGINT or SIGTERM and stopped the job (128+N)
 *
 * 126 and 127 are what the guest reports for the agent, like any other
 * status; they are named here because docs/cli.md promises their meaning.
 */
#ifndef WARDEN_HOST_EXITCODES_H
#define WARDEN_HOST_EXITCODES_H

#define WD_EXIT_AUDIT_BUDGET 123
#define WD_EXIT_TIMEOUT 124
#define WD_EXIT_LAUNCHER 125
#define WD_EXIT_CANNOT_INVOKE 126
#define WD_EXIT_NOT_FOUND 127
#define WD_EXIT_SIGNAL_BASE 128

#endif
