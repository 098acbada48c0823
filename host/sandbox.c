/*
 * host/sandbox.c - `warden sandbox [OPTIONS] -- COMMAND`: one command in
 * the agent's sandbox (sandbox/sandbox.h) on this kernel, without a VM.
 *
 * Runs as root on the host (namespaces and mounts are made without a user
 * namespace). The command gets this process's stdio (pipes copied by this
 * process when one of them is a terminal: sbstdio.h), a fresh tmpfs as its
 * working directory (/work), a clean environment (PATH, HOME, TERM and
 * --env) and every layer the policy does not turn off; a layer this kernel
 * lacks is refused unless the policy turns it off, as in the guest. This
 * process plays the supervisor's part: it answers and prints each seccomp
 * denial, records each exec through the exec watcher (--records; one it
 * refuses is always said), forwards HUP, INT, QUIT, TERM, USR1 and USR2 to
 * the command, kills the sandbox at --timeout (124) and returns the
 * command's status (128+N for signal N). Its own failures exit 125; no
 * record of the command's can be one. The command's uid and gid are a host
 * id leased for it alone (uidpool.h), which a policy cannot choose: another
 * command's processes never count against its limits.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"
#include "../common/parse.h"
#include "../sandbox/coalesce.h"
#include "../sandbox/sandbox.h"
#include "../sandbox/spawn.h"
#include "../vsock/msg.h"
#include "exitcodes.h"
#include "job.h"
#include "outfilter.h"
#include "sbegress.h"
#include "sbstdio.h"
#include "uidpool.h"

#define SB_MAX_ENV 64
#define SB_ENV_ROOM (SB_MAX_ENV + 3 + SUP_SB_PROXY_ENV_N + 1) /* --env, PATH HOME TERM, proxies */
#define SB_RECORD_BYTES 2048 /* a denial's data; an exec's is SUP_SB_EXEC_RECORD_MAX */

const char wd_sandbox_usage[] =
	"usage: warden sandbox [OPTIONS] -- COMMAND [ARG]...\n"
	"\n"
	"Run COMMAND in the agent's sandbox on this kernel (root; no VM).\n"
	"\n"
	"  --policy FILE        policy bundle; its \"sandbox\" section applies\n"
	"  --env KEY=VALUE      set a variable for COMMAND; repeatable\n"
	"  --timeout DURATION   kill COMMAND and all it started after DURATION (124)\n"
	"  --records FILE       append the sandbox's records (JSON lines) to FILE\n"
	"                       instead of printing them on stderr\n"
	"  --sanitize-output    show control characters and escape sequences in\n"
	"                       COMMAND's output as visible escapes (\\u001b, \\u009b)\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: COMMAND's own (128+N if signal N killed it); 124 the timeout\n"
	"killed it; 125 warden failed; 126 COMMAND could not be run; 127 COMMAND was\n"
	"not found. See docs/cli.md and docs/sandbox.md.\n";

struct sb_opts {
	const char *policy, *records;
	const char *env[SB_MAX_ENV + 4];
	const char *agent_env[SB_ENV_ROOM]; /* env with the proxies' */
	size_t nenv;
	uint64_t timeout_ms;
	char *const *argv;
	bool help, sanitize_output;
};

static int parse(int argc, char **argv, struct sb_opts *o, struct wd_err *err)
{
	int i;

	memset(o, 0, sizeof(*o));
	for (i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--") == 0) {
			i++;
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			o->help = true;
			return 0;
		}
		if (a[0] != '-')
			break;
		if (strcmp(a, "--sanitize-output") == 0) {
			o->sanitize_output = true;
			continue;
		}
		if (v == NULL)
			return wd_err_set(err, EINVAL, "%s: needs a value", a);
		if (strcmp(a, "--policy") == 0) {
			o->policy = v;
		} else if (strcmp(a, "--records") == 0) {
			o->records = v;
		} else if (strcmp(a, "--env") == 0) {
			if (o->nenv >= SB_MAX_ENV)
				return wd_err_set(err, E2BIG, "--env: more than %d", SB_MAX_ENV);
			if (strchr(v, '=') == NULL || v[0] == '=')
				return wd_err_set(err, EINVAL, "--env %s: not KEY=VALUE", v);
			o->env[o->nenv++] = v;
		} else if (strcmp(a, "--timeout") == 0) {
			if (wd_parse_duration_ms(v, 1, WD_JOB_MAX_TIMEOUT_MS, &o->timeout_ms, err) <
			    0)
				return wd_err_wrap(err, "--timeout");
		} else {
			return wd_err_set(err, EINVAL, "unknown option '%s' (--help lists them)",
					  a);
		}
		i++;
	}
	if (i >= argc)
		return wd_err_set(err, EINVAL, "no command (warden sandbox [OPTIONS] -- COMMAND)");
	o->argv = argv + i;
	return 0;
}

/* The command's environment: PATH, HOME, TERM unless --env sets them;
 * with egress, the proxies' (sandbox.h: sup_sb_agent_env). */
static void environment(struct sb_opts *o, const struct sup_sandbox *sb)
{
	const char *workdir = sb->workdir;
	static char home[SUP_SB_PATH_MAX + 8], term[128];
	bool path = false, has_home = false, has_term = false;
	const char *t = getenv("TERM");

	for (size_t i = 0; i < o->nenv; i++) {
		path |= strncmp(o->env[i], "PATH=", 5) == 0;
		has_home |= strncmp(o->env[i], "HOME=", 5) == 0;
		has_term |= strncmp(o->env[i], "TERM=", 5) == 0;
	}
	if (!path)
		o->env[o->nenv++] = "PATH=" SUP_DEFAULT_PATH;
	if (!has_home) {
		(void)snprintf(home, sizeof(home), "HOME=%s", workdir);
		o->env[o->nenv++] = home;
	}
	if (!has_term && t != NULL && strlen(t) < sizeof(term) - 6) {
		(void)snprintf(term, sizeof(term), "TERM=%s", t);
		o->env[o->nenv++] = term;
	}
	o->env[o->nenv] = NULL;
	/* Room for them was kept (SB_ENV_ROOM): this cannot be too long. */
	o->nenv = (size_t)sup_sb_agent_env(sb, o->env, o->nenv, o->agent_env,
					   sizeof(o->agent_env) / sizeof(o->agent_env[0]));
}

/* A record of this one command: class, activity and the data the
 * supervisor's log would carry (docs/audit.md), unsigned: nothing here
 * leaves a machine boundary. */
static void record(int fd, const char *cls, const char *activity, const char *data)
{
	if (fd < 0) {
		wd_warn("record: %s/%s %s", cls, activity, data);
		return;
	}
	(void)dprintf(fd, "{\"activity\":\"%s\",\"class\":\"%s\",\"data\":%s}\n", activity, cls,
		      data);
}

static int signals(sigset_t *set)
{
	static const int forwarded[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2};

	(void)sigemptyset(set);
	(void)sigaddset(set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		(void)sigaddset(set, forwarded[i]);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -1;
	return signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
}

struct sb_run {
	struct sup_agent a;
	struct sup_sb_ready ready;
	int sigfd, records;
	bool relay;            /* a terminal here: the command has pipes (sbstdio.h) */
	struct wd_sb_stdio io; /* when relay */
	bool exited, timed_out;
	int wstatus;
	struct sup_coalesce denied; /* repeated denials, one record a second */
	struct wd_sb_egress eg;     /* the policy's egress: both halves here (sbegress.h) */
};

static void on_signals(struct sb_run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo != SIGCHLD) {
			(void)kill(-r->a.pid, (int)si.ssi_signo);
			continue;
		}
		for (;;) {
			int ws;
			pid_t pid = waitpid(-1, &ws, WNOHANG);

			if (pid <= 0)
				break;
			if (pid == r->a.pid) {
				r->exited = true;
				r->wstatus = sup_agent_status(&r->a, ws);
			}
		}
	}
}

/* A denial's record: this one (c NULL) or a count (coalesce.h). */
static int print_count(void *ctx, const struct sup_sb_denial *d,
		       const struct sup_sb_denial_count *c)
{
	const struct sb_run *r = ctx;
	char json[SB_RECORD_BYTES];
	struct sup_sb_record_kind k;

	sup_sb_denial_kind(d, &k); /* a seccomp denial, or a network bypass */
	if (sup_sb_denial_json(d, c, json, sizeof(json)) > 0)
		record(r->records, k.cls, k.activity, json);
	return 0;
}

static int print_denial(void *ctx, const struct sup_sb_denial *d)
{
	struct sb_run *r = ctx;

	return sup_coalesce_add(&r->denied, d, wd_mono_ns(), wd_wall_ms(), print_count, r);
}

/* Execs that ran are records only for --records: on stderr they would
 * drown the command's own output. A refused one is always said. */
static int print_exec(void *ctx, const struct sup_sb_exec_record *x)
{
	const struct sb_run *r = ctx;

	if (r->records >= 0 || !x->allowed)
		record(r->records, "process", "exec", x->data);
	return 0;
}

/* The egress proxy's records (network/..., limit/...). */
static int print_proxy_record(void *ctx, const char *cls, const char *activity, const char *outcome,
			      const char *severity, const char *data, struct wd_err *err)
{
	const struct sb_run *r = ctx;

	(void)outcome;
	(void)severity;
	(void)err;
	record(r->records, cls, activity, data);
	return 0;
}

/* The host half's records (egress/refused, egress/limit). */
static void print_dial_record(void *ctx, const char *cls, const char *activity, const char *outcome,
			      const char *severity, const char *data)
{
	(void)print_proxy_record(ctx, cls, activity, outcome, severity, data, NULL);
}

/* The poll timeout `ms` (-1: none), shortened to reach `when` (ns, 0: none). */
static int sooner_ms(int ms, uint64_t when)
{
	uint64_t now = wd_mono_ns();
	int until = when == 0 ? -1 : when <= now ? 0 : (int)((when - now) / WD_NS_PER_MS + 1);

	return ms < 0 || (until >= 0 && until < ms) ? until : ms;
}

/* Until the command is gone, and what it wrote is copied out. */
static int wait_command(struct sb_run *r, uint64_t timeout_ms)
{
	struct wd_err err;
	uint64_t deadline = timeout_ms != 0 ? wd_mono_ns() + timeout_ms * WD_NS_PER_MS : 0;

	while (!r->exited || (r->relay && wd_sb_stdio_open(&r->io))) {
		struct pollfd p[3 + WD_SB_STDIO_POLLS + WD_SB_EGRESS_POLLS] = {
			{.fd = r->sigfd, .events = POLLIN},
			{.fd = r->a.listener, .events = POLLIN},
			{.fd = r->ready.exec != NULL ? sup_sb_exec_fd(r->ready.exec) : -1,
			 .events = POLLIN}};
		size_t n = 3 + (r->relay ? wd_sb_stdio_poll(&r->io, p + 3) : 0);
		int wait_ms = -1;

		n += wd_sb_egress_poll(&r->eg, p + n);

		if (deadline != 0 && !r->exited) {
			uint64_t now = wd_mono_ns();

			if (now >= deadline && !r->timed_out) {
				r->timed_out = true;
				sup_cgroup_kill(&r->ready.cg);
				(void)kill(r->a.pid, SIGKILL); /* its namespace dies with it */
			}
			wait_ms =
				now >= deadline ? 100 : (int)((deadline - now) / WD_NS_PER_MS + 1);
		}
		wait_ms = sooner_ms(wait_ms, sup_coalesce_next_ns(&r->denied));
		{
			int eg = wd_sb_egress_timeout_ms(&r->eg);

			if (eg >= 0 && (wait_ms < 0 || eg < wait_ms))
				wait_ms = eg;
		}
		if (poll(p, (nfds_t)n, wait_ms) < 0 && errno != EINTR)
			return -errno;
		(void)sup_coalesce_flush(&r->denied, wd_mono_ns(), false, print_count, r);
		/* Bounded: a flood of denials must not hold off the deadline
		 * and the signals, checked again each round. */
		if (p[1].revents != 0)
			(void)sup_sb_filter_drain(&r->a.listener, p[1].revents,
						  &r->ready.filter.errnos, r->ready.exec,
						  SUP_SB_DENIALS_PER_ROUND, print_denial, r);
		if (p[2].revents != 0) {
			int rc = sup_sb_exec_serve(r->ready.exec, SUP_SB_DENIALS_PER_ROUND,
						   print_exec, r);

			if (rc < 0)
				return rc;
		}
		if (p[0].revents != 0)
			on_signals(r);
		if (r->relay)
			wd_sb_stdio_run(&r->io, r->exited);
		if (wd_sb_egress_run(&r->eg, &err) < 0) {
			/* Both halves are this process: a failure is ours, fail closed. */
			wd_error("egress: %s", err.msg);
			sup_cgroup_kill(&r->ready.cg);
			(void)kill(r->a.pid, SIGKILL);
			return -err.code;
		}
	}
	return 0;
}

static int status_of(const struct sb_run *r)
{
	if (r->timed_out)
		return WD_EXIT_TIMEOUT;
	if (WIFSIGNALED(r->wstatus))
		return 128 + WTERMSIG(r->wstatus);
	return WEXITSTATUS(r->wstatus);
}

static int run(struct sb_opts *o, struct sup_sandbox *sb, const struct wd_egress *egress,
	       struct wd_err *err)
{
	struct wd_job job;
	struct sup_spawn sp;
	struct sb_run r;
	struct wd_outfilter filters = {{-1, -1}, {-1, -1}};
	sigset_t set;
	char json[SUP_SB_WEAKENED_BYTES];
	size_t i = 0;
	int rc;

	memset(&r, 0, sizeof(r));
	r.ready.cg.dirfd = -1;
	r.records = -1;
	r.a.listener = r.a.status_fd = -1; /* an early way out closes none, not fd 0 */
	r.a.proxy_http = r.a.proxy_socks = -1;
	sup_coalesce_init(&r.denied, SUP_COALESCE_MS);
	if (o->records != NULL) {
		r.records = open(o->records, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
				 0600);
		if (r.records < 0)
			return wd_err_sys(err, errno, "--records %s", o->records);
	}
	while (sup_sandbox_weakened_record(sb, &i, json, sizeof(json)) != NULL)
		record(r.records, "policy", "layer-off", json);
	if (sup_sandbox_prepare(sb, &r.ready, err) < 0) {
		if (r.records >= 0)
			(void)close(r.records);
		return wd_err_ret(err);
	}
	r.sigfd = signals(&set);
	if (r.sigfd < 0) {
		rc = wd_err_sys(err, errno, "signals");
		goto out;
	}
	/* After the signals are blocked: the filters inherit that. */
	if (o->sanitize_output && (rc = wd_outfilter_start(&filters, err)) < 0)
		goto out;
	memset(&job, 0, sizeof(job));
	environment(o, sb);
	{
		union {
			char *const *in;
			const char **out;
		} args = {.in = o->argv};

		job.argv = args.out; /* read only, as execve's own prototype */
	}
	job.env = o->agent_env;
	job.envc = o->nenv;
	job.cwd = "";
	memset(&sp, 0, sizeof(sp));
	sp.job = &job;
	sp.sb = sb;
	sp.filter = sb->seccomp_off ? NULL : &r.ready.filter;
	sp.cgroup_fd = r.ready.cg.dirfd;
	sp.workdir_fd = -1;
	sp.inherit_stdio = !wd_sb_stdio_wanted();
	sp.record = print_denial;
	sp.exec = r.ready.exec;
	sp.record_exec = print_exec;
	sp.record_ctx = &r;
	rc = sup_spawn(&sp, &r.a, err);
	wd_outfilter_detach(&filters);
	if (rc < 0)
		goto out;
	if (egress->present) {
		/* The listeners are the proxy engine's from here, even on failure. */
		rc = wd_sb_egress_start(&r.eg, egress, r.a.proxy_http, r.a.proxy_socks,
					print_proxy_record, print_dial_record, &r, err);
		r.a.proxy_http = r.a.proxy_socks = -1;
		if (rc < 0) {
			sup_cgroup_kill(&r.ready.cg);
			(void)kill(r.a.pid, SIGKILL);
			goto out;
		}
	}
	r.relay = !sp.inherit_stdio;
	if (r.relay)
		wd_sb_stdio_init(&r.io, &r.a);
	rc = wait_command(&r, o->timeout_ms);
	if (rc < 0)
		(void)wd_err_sys(err, -rc, "waiting for the command");
	else
		rc = status_of(&r);
	if (r.timed_out)
		wd_error("the command ran for %llu ms (--timeout); it was killed",
			 (unsigned long long)o->timeout_ms);
out:
	wd_sb_egress_end(&r.eg); /* every stream closed and recorded */
	(void)sup_coalesce_flush(&r.denied, wd_mono_ns(), true, print_count, &r);
	if (r.relay)
		wd_sb_stdio_close(&r.io);
	if (r.a.listener >= 0)
		(void)close(r.a.listener);
	if (r.a.proxy_http >= 0)
		(void)close(r.a.proxy_http);
	if (r.a.proxy_socks >= 0)
		(void)close(r.a.proxy_socks);
	if (r.a.status_fd >= 0)
		(void)close(r.a.status_fd);
	sup_sandbox_release(&r.ready);
	if (r.records >= 0)
		(void)close(r.records);
	wd_outfilter_finish(&filters); /* the command is gone: its output ends */
	return rc;
}

int wd_sandbox_main(int argc, char **argv)
{
	static struct sb_opts o;
	struct wd_policy policy;
	struct wd_uid_lease lease;
	struct wd_err err;
	char *text = NULL;
	int rc;

	wd_err_clear(&err);
	if (parse(argc, argv, &o, &err) < 0) {
		wd_error("sandbox: %s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	if (o.help) {
		fputs(wd_sandbox_usage, stdout);
		return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
	}
	if (geteuid() != 0) {
		wd_error("sandbox: needs root (namespaces and mounts without a user namespace)");
		return WD_EXIT_LAUNCHER;
	}
	wd_policy_defaults(&policy);
	if (o.policy != NULL && wd_read_policy(o.policy, &text, &policy, &err) < 0) {
		wd_error("sandbox: %s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	free(text);
	policy.sandbox.binds_from_host = true; /* /usr/local is the host's own */
	if (wd_uid_lease(&lease, &err) < 0 ||
	    sup_sandbox_host_id(&policy.sandbox, lease.id, &err) < 0) {
		wd_uid_release(&lease);
		wd_policy_free(&policy);
		wd_error("sandbox: %s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	/* The section present turns the proxies on: listeners, environment,
	 * the network calls checked by address (sandbox.h). */
	policy.sandbox.egress = policy.egress.present;
	rc = run(&o, &policy.sandbox, &policy.egress, &err);
	wd_uid_release(&lease); /* every process of the uid is gone */
	wd_policy_free(&policy);
	if (rc < 0) {
		wd_error("sandbox: %s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	return rc;
}
