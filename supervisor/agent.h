/*
 * supervisor/agent.h - the agent's run, from STARTED to its exit: one
 * poll(2) loop over the channel, the agent's stdio and a signalfd.
 *
 * Streams. The agent's stdout and stderr are read in chunks of
 * WD_CONN_DATA_CHUNK and sent as DATA on streams 2 and 3, but only while
 * the channel's output queue is under WD_CONN_HIGH_WATER: above it the
 * pipes are not read, so a slow host makes the agent block on a full pipe
 * and nothing is dropped. Each stream's end is an empty DATA. With a PTY
 * everything the agent writes is stdout, and stderr's empty DATA follows
 * stdout's.
 *
 * From the host, while the agent runs:
 *   DATA on stream 1   stdin, buffered up to SUP_STDIN_BUFFER_BYTES not yet
 *                      read by the agent (more is a protocol error: the
 *                      channel is never stopped, as control frames must
 *                      pass); an empty DATA ends stdin: the pipe is closed,
 *                      or with a PTY the terminal's EOF character (VEOF) is
 *                      typed. Stdin the agent no longer reads is dropped.
 *   WINSIZE            the PTY's window size (ignored without a PTY)
 *   SIGNAL             kill(2) to the agent's process group (-pid: after
 *                      setsid() the agent leads its own group), so a shell
 *                      and its pipeline get it alike; after the agent's
 *                      exit it is ignored
 *   ERROR, SHUTDOWN    end the job (channel.h)
 * Anything else is a protocol error.
 *
 * Denials. Each seccomp notification is answered with its errno (never
 * success) and is counted in the audit log (audit.h): the first of its
 * kind as its own record before the answer, identical repeats as one
 * record per second with their count (coalesce.h). While the audit queue
 * is full the notifications wait unanswered: the agent blocks in its
 * system call rather than a record being lost. Audit records go out with
 * the output, audit first, and AUDIT_ACK is taken here too.
 *
 * The audit budget. Once it is spent (audit.h) the notifications are left
 * unanswered and the job is killed as at the timeout; the exit is reported
 * with audit_budget naming it.
 *
 * The end. At job.timeout_ms after the start the job's cgroup is killed
 * (cgroup.kill) and every process but PID 1 and the supervisor too
 * (kill(-1, SIGKILL)); the exit is reported with timed_out. The agent's
 * exit is its sandbox init's report (spawn.h); the init's own exit kills
 * whatever the agent left in its pid namespace, so a daemonised grandchild
 * does not outlive it. When the agent has exited, its output gets up to
 * SUP_DRAIN_GRACE_MS to reach EOF, then everything left is killed, what is
 * still in the pipes is sent, and every process is reaped. Only then does
 * the run end with the exit status, and oom_killed when the cgroup saw an
 * OOM kill.
 */
#ifndef WARDEN_SUPERVISOR_AGENT_H
#define WARDEN_SUPERVISOR_AGENT_H

#include <sys/resource.h>

#include "../common/egress.h"
#include "../vsock/msg.h"
#include "channel.h"
#include "fail.h"
#include "../sandbox/spawn.h"

#define SUP_STDIN_BUFFER_BYTES WD_STDIN_WINDOW /* stdin the agent has not read yet */
#define SUP_DRAIN_GRACE_MS 1000 /* after the agent's exit, until what it left is killed */
#define SUP_KILL_WAIT_MS 5000   /* after SIGKILL, for the pipes to close and exits to come */

/*
 * Run the agent `a` (spawned, STARTED sent) until its end; fill `result`.
 * `sigfd` is a signalfd for SIGCHLD. Closes the agent's fds. With
 * `egress` present, the proxies serve the agent on a->proxy_http and
 * a->proxy_socks (egress.h) and every connection is closed, recorded,
 * before the run returns.
 */
int sup_agent_run(struct sup_channel *ch, const struct wd_job *job, struct sup_agent *a, int sigfd,
		  const struct wd_egress *egress, struct wd_exit *result, struct sup_fail *f);

/* One audit record of the supervisor's own (audit.h); data: a canonical
 * JSON object or NULL. */
int sup_record(const char *cls, const char *activity, const char *outcome, const char *severity,
	       const char *data, struct sup_fail *f);

/* The agent's seccomp denials as seccomp/deny records (audit.h), for
 * sup_sb_filter_drain() and struct sup_spawn's record; its execs, as the
 * exec watcher saw them, as process/exec records (outcome denied when the
 * watcher refused one), for sup_sb_exec_serve() and record_exec. */
struct sup_notify {
	long uid;         /* the agent's */
	uint64_t denials; /* counted */
	struct sup_fail *fail;
};
int sup_record_notification(void *ctx, const struct sup_sb_denial *d);
int sup_record_exec(void *ctx, const struct sup_sb_exec_record *x);

/* Before the agent's spawn: its denials are coalesced from here on
 * (coalesce.h), their counts flushed before every checkpoint; `uid` is the
 * agent's, for their records. */
void sup_denials_open(long uid);

/* The status a shell reports for a wait status: 0-255, or 128+N for signal N. */
void sup_exit_from_wait(int wstatus, struct wd_exit *e);

/* Add one reaped process's resource usage to the job's. */
void sup_exit_add_usage(const struct rusage *ru, struct wd_exit *e);

/* kill(-1, SIGKILL): every process but PID 1 and this one. */
void sup_kill_all(const char *why);

#endif
