/*
 * sandbox/spawn.h - starting the agent inside the sandbox: its stdio
 * (pipes, a PTY, or the caller's own), the sandbox's init and the agent's
 * exec with a PATH search.
 *
 * sup_spawn() clones the sandbox's init (sandbox.h: namespaces, cgroup,
 * filesystem) and waits until the agent has exec'd or the sandbox gave up.
 * In the init and the agent, before anything else, the channel keys are
 * wiped from their copy of memory. The agent then calls setsid() (it leads
 * its own process group, so a signal for "the agent" goes to -pid), takes
 * the PTY as controlling terminal when there is one, puts its stdio in
 * place, applies its layers (sandbox.h), enters the job's cwd below the
 * working directory, marks every fd above 2 close-on-exec, resets every
 * signal disposition and unblocks every signal, hands its seccomp listener
 * to the supervisor and calls execve with exactly the job's environment
 * (the caller builds it: sup_sb_agent_env() for the proxies). With egress
 * on (sandbox.h), the sandbox's init, once loopback is up, makes the
 * proxies' listeners and hands them to the supervisor before the agent is
 * forked (struct sup_agent: proxy_http, proxy_socks). Every fd comes over
 * one socket pair, tagged with what it is. A
 * step that fails is reported through the init and the child exits before
 * exec (fail closed): the caller gets a setup failure naming the layer,
 * not an exit of the agent.
 *
 * If the command cannot be executed, the child says why on the agent's
 * stderr and exits as sh(1) and tini do: SUP_EXIT_NOT_FOUND (127) when no
 * such file exists on the search path, SUP_EXIT_NOT_EXEC (126) when one
 * exists but cannot be executed. A name without '/' is searched in the
 * job's PATH, or SUP_DEFAULT_PATH if the job sets none; empty PATH entries
 * are skipped (never "the current directory"); a script without "#!" is
 * not run by a shell.
 */
#ifndef WARDEN_SANDBOX_SPAWN_H
#define WARDEN_SANDBOX_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"
#include "../vsock/frame.h"
#include "../vsock/msg.h"
#include "sandbox.h"

#define SUP_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define SUP_EXIT_NOT_EXEC 126  /* sh(1), tini: exists but cannot be executed */
#define SUP_EXIT_NOT_FOUND 127 /* sh(1), tini: not found */
#define SUP_PTY_DEFAULT_ROWS 24
#define SUP_PTY_DEFAULT_COLS 80

struct sup_spawn {
	const struct wd_job *job;           /* argv, env, cwd (below sb->workdir), tty */
	const struct sup_sandbox *sb;       /* the layers */
	const struct sup_sb_filter *filter; /* compiled from sb; NULL when seccomp is off */
	int cgroup_fd;                      /* the job's cgroup, or -1 when cgroup is off */
	int workdir_fd;                     /* mounted on sb->workdir; -1: a fresh tmpfs */
	bool inherit_stdio;                 /* the caller's fds 0-2 (warden sandbox) */
	struct wd_chan *secrets; /* erased in the children before anything else; may be NULL */
	/* The agent's seccomp notifications before its exec is done (its own
	 * execve is one when execs are audited): given to sup_sb_filter_drain
	 * with this record function; NULL: answered without a record. */
	int (*record)(void *ctx, const struct sup_sb_denial *d);
	/* The exec watcher when execs are audited (sandbox.h; NULL: not), its
	 * marks made by the sandbox's init; the agent's own exec is its first
	 * record, through this function (NULL: none), with record_ctx. */
	struct sup_sb_exec *exec;
	int (*record_exec)(void *ctx, const struct sup_sb_exec_record *r);
	void *record_ctx;
};

/* The running agent, as the parent sees it. Every fd is non-blocking and
 * close-on-exec; -1 where there is none (inherited stdio, no seccomp). */
struct sup_agent {
	pid_t pid; /* the sandbox's init: signals to -pid reach the agent through it */
	bool tty;
	int in;       /* stdin: a pipe's write end, or the PTY master */
	int out;      /* stdout: a pipe's read end, or the PTY master (stdout and stderr) */
	int err;      /* stderr: a pipe's read end; -1 with a PTY */
	int listener; /* seccomp notifications (sandbox.h: sup_sb_filter_answer) */
	/* With sb->egress: the proxies' listening sockets, made by the
	 * sandbox's init in the agent's network namespace (127.0.0.1:
	 * SUP_SB_PROXY_HTTP_PORT and SUP_SB_PROXY_SOCKS_PORT, backlog
	 * SUP_SB_PROXY_BACKLOG) before the agent exists, and never open in the
	 * agent: the caller accepts the agent's connections on them (and
	 * closes them). -1 without egress. */
	int proxy_http, proxy_socks;
	int status_fd; /* the init's last report: the agent's wait status */
	/* set by the caller after sup_spawn(), for the run (agent.h) */
	const struct sup_cgroup *cg;        /* killed at the deadline; NULL: none */
	const struct sup_sb_errnos *errnos; /* how denials are answered */
	struct sup_sb_exec *exec;           /* the exec watcher; NULL: execs not audited */
	long uid;                           /* the agent's, for its records */
};

/* Start the agent. On failure nothing is left running and every fd is closed. */
int sup_spawn(const struct sup_spawn *sp, struct sup_agent *a, struct wd_err *err);

/*
 * The agent's wait status once its init (a->pid) was reaped with
 * `init_wstatus`: what the init reported just before it exited, or the
 * init's own status when it was killed before it could.
 */
int sup_agent_status(struct sup_agent *a, int init_wstatus);

/* The search path: the value of the job's first PATH=, else SUP_DEFAULT_PATH. */
const char *sup_spawn_path(const struct wd_job *job);

/*
 * The next candidate for `file` along the search path at *cursor ("dir/file"
 * into buf), advancing *cursor. Returns 1, 0 when the path is exhausted, or
 * -ENAMETOOLONG for an entry too long for buf (the caller goes on with the
 * next one). Empty entries are skipped.
 */
int sup_path_next(const char **cursor, const char *file, char *buf, size_t size);

#endif
