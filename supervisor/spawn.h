/*
 * supervisor/spawn.h - starting the agent: its stdio (pipes or a PTY), its
 * credentials and process state, and exec with a PATH search.
 *
 * Between fork and exec the child, in this order: wipes the channel keys
 * from its copy of memory, calls setsid() (the agent leads its own process
 * group, so a signal for "the agent" goes to -pid),
 * takes the PTY as controlling terminal when there is one, puts its stdio
 * in place, drops every group and becomes SUP_AGENT_UID:SUP_AGENT_GID in all
 * three ids, sets no_new_privs and a parent-death SIGKILL, enters the cwd,
 * marks every fd above 2 close-on-exec, resets every signal disposition
 * and unblocks every signal, and calls execve with exactly the job's
 * environment. A step that fails is reported to the parent through a
 * close-on-exec pipe and the child exits before exec (fail closed): the
 * parent then reports a setup failure, not an exit of the agent.
 *
 * If the command cannot be executed, the child says why on the agent's
 * stderr and exits as sh(1) and tini do: SUP_EXIT_NOT_FOUND (127) when no
 * such file exists on the search path, SUP_EXIT_NOT_EXEC (126) when one
 * exists but cannot be executed. A name without '/' is searched in the
 * job's PATH, or SUP_DEFAULT_PATH if the job sets none; empty PATH entries
 * are skipped (never "the current directory"); a script without "#!" is
 * not run by a shell.
 *
 * This is not yet the sandbox (namespaces, seccomp, capabilities, cgroups):
 * the agent runs unprivileged with no_new_privs, nothing more.
 */
#ifndef WARDEN_SUPERVISOR_SPAWN_H
#define WARDEN_SUPERVISOR_SPAWN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"
#include "../vsock/frame.h"
#include "../vsock/msg.h"

#define SUP_AGENT_UID 65534 /* nobody */
#define SUP_AGENT_GID 65534 /* nogroup */
#define SUP_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define SUP_EXIT_NOT_EXEC 126  /* sh(1), tini: exists but cannot be executed */
#define SUP_EXIT_NOT_FOUND 127 /* sh(1), tini: not found */
#define SUP_PTY_DEFAULT_ROWS 24
#define SUP_PTY_DEFAULT_COLS 80

struct sup_spawn {
	const struct wd_job *job;
	int cwd_fd; /* the agent's cwd (workdir.h), for fchdir */
	uid_t uid;
	gid_t gid;
	struct wd_chan *secrets; /* erased in the child before anything else; may be NULL */
};

/* The running agent, as the parent sees it. Every fd is non-blocking and
 * close-on-exec. */
struct sup_agent {
	pid_t pid;
	bool tty;
	int in;  /* stdin: a pipe's write end, or the PTY master */
	int out; /* stdout: a pipe's read end, or the PTY master (stdout and stderr) */
	int err; /* stderr: a pipe's read end; -1 with a PTY */
};

/* Start the agent. On failure nothing is left running and every fd is closed. */
int sup_spawn(const struct sup_spawn *sp, struct sup_agent *a, struct wd_err *err);

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
