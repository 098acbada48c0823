/*
 * init/supervise.c - start the supervisor, reap everything, end the VM.
 *
 * PID 1 adopts every orphan, so it reaps in a loop (waitpid(-1, WNOHANG))
 * on every SIGCHLD read from a signalfd; signals are blocked, never handled
 * asynchronously. The supervisor is the only child init starts. When it
 * ends, nothing may go on unwatched: every other process is killed at once
 * and the VM powers off (or, if warden.restarts allows, the supervisor is
 * started again after a doubling backoff, on an empty machine).
 *
 * A shutdown request (SIGTERM, SIGINT from Ctrl-Alt-Del, SIGUSR2, SIGPWR)
 * runs the orderly sequence: TERM to all, up to warden.grace for them to
 * go, KILL to the rest, then init_final(). A supervisor failure skips the
 * grace: nothing is watching the agent any more.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/jcanon.h"
#include "../common/log.h"
#include "../common/signals.h"
#include "init.h"

#define ENV_MAX 12
#define ENV_ENTRY_BYTES 1024 /* the longest, init's record, is about 400 bytes */

enum phase {
	PHASE_RUNNING,     /* the supervisor runs */
	PHASE_RESTARTING,  /* waiting out the backoff on an emptied machine */
	PHASE_TERMINATING, /* TERM sent, grace running */
	PHASE_KILLING,     /* KILL sent, waiting for the last exits */
};

struct supervise {
	struct init_run *run;
	int sfd;
	pid_t sup_pid;
	enum phase phase;
	uint64_t deadline_ns; /* end of grace, of kill wait, or of backoff */
	unsigned restarts_used;
	int status; /* what the supervisor's end maps to: 0-255, 128+N */
	bool children_left;
	bool restart_waited; /* the backoff was extended once for stragglers */
};

/* The signals PID 1 acts on; every other one keeps its default, which the
 * kernel does not deliver to init. */
static const int handled_signals[] = {SIGCHLD, SIGTERM, SIGINT, SIGUSR1,
				      SIGUSR2, SIGPWR,  SIGHUP, SIGQUIT};

static void handled_set(sigset_t *set)
{
	(void)sigemptyset(set);
	for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
		(void)sigaddset(set, handled_signals[i]);
}

static int status_code(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 255;
}

static void describe_status(int wstatus, char *buf, size_t size)
{
	if (WIFSIGNALED(wstatus))
		(void)snprintf(buf, size, "killed by signal %d (%s)%s", WTERMSIG(wstatus),
			       strsignal(WTERMSIG(wstatus)),
			       WCOREDUMP(wstatus) ? ", core dumped" : "");
	else
		(void)snprintf(buf, size, "exited with status %d", WEXITSTATUS(wstatus));
}

/* In the child, between fork and exec: leave nothing of PID 1 behind. */
static void __attribute__((noreturn)) child_exec(struct init_run *run, char *const envp[])
{
	sigset_t empty;
	int e;

	(void)sigemptyset(&empty);
	wd_signals_default();
	(void)sigprocmask(SIG_SETMASK, &empty, NULL);
	(void)setsid();
	if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
		for (int fd = 3; fd < 65536; fd++)
			(void)close(fd);
	}
	execve(run->argv[0], run->argv, envp);
	e = errno;
	wd_error_sys(e, "exec %s", run->argv[0]);
	_exit(e == ENOENT || e == ENOTDIR ? INIT_EXIT_NOT_FOUND : INIT_EXIT_NOT_EXEC);
}

/*
 * PID 1's own audit record, for the supervisor to put in the log
 * (docs/audit.md, lifecycle/boot): what it set up before the supervisor
 * ran. Canonical JSON (common/jcanon.h) in WARDEN_INIT_RECORD.
 */
static int init_record(const struct init_run *run, char *out, size_t size)
{
	static const char name[] = "WARDEN_INIT_RECORD=";
	struct wd_jw w;

	if (size <= sizeof(name))
		return -ENOSPC;
	memcpy(out, name, sizeof(name) - 1);
	wd_jw_init(&w, out + sizeof(name) - 1, size - (sizeof(name) - 1));
	wd_jw_str(&w, "hostname", run->cfg->hostname);
	/* In namespace mode the host's kernel is as it is: nothing was set. */
	wd_jw_str(&w, "lockdown", run->ns_mode ? "host" : init_lockdown_names[run->cfg->lockdown]);
	wd_jw_str(&w, "mode", run->ns_mode ? "ns" : "vm");
	wd_jw_bool(&w, "module_sig_enforce", run->module_sig_enforce);
	wd_jw_bool(&w, "modules_locked", !run->ns_mode);
	/* Canonical JSON has no null: an image without a root filesystem says false. */
	if (run->rootfs.present) {
		wd_jw_object(&w, "rootfs");
		wd_jw_str(&w, "data", run->rootfs.data_dev);
		wd_jw_str(&w, "dm", INIT_ROOTFS_DM_NAME);
		wd_jw_str(&w, "hash", run->rootfs.hash_dev);
		wd_jw_str(&w, "mount", INIT_ROOTFS_MOUNT);
		wd_jw_str(&w, "root_hash", run->rootfs.root_hash_hex);
		wd_jw_close(&w);
	} else {
		wd_jw_bool(&w, "rootfs", false);
	}
	wd_jw_bool(&w, "sysctls_hardened", !run->ns_mode);
	return wd_jw_end(&w) < 0 ? -ENOSPC : 0;
}

static int build_env(struct init_run *run, char store[ENV_MAX][ENV_ENTRY_BYTES],
		     char *envp[ENV_MAX + 1])
{
	char channel[INIT_PORT_MAX_BYTES + 32], times[WD_BOOT_TIMES_BYTES];
	size_t n = 0;

	if (init_config_channel_string(run->cfg, channel, sizeof(channel)) < 0 ||
	    wd_boot_times_format(&run->times, times, sizeof(times)) < 0)
		return -ENAMETOOLONG;
	(void)snprintf(store[n++], sizeof(store[0]),
		       "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	(void)snprintf(store[n++], sizeof(store[0]), "HOME=/");
	(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_MODE=%s", run->ns_mode ? "ns" : "vm");
	(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_CHANNEL=%s", channel);
	(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_LOG=%s",
		       wd_log_level_name(run->cfg->log_level));
	(void)snprintf(store[n++], sizeof(store[0]), "%s=%s", WD_BOOT_TIMES_ENV, times);
	(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_WORKDIR=%s", run->cfg->workdir);
	if (run->cfg->agent_uid != 0)
		(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_AGENT_UID=%u",
			       (unsigned)run->cfg->agent_uid);
	if (run->rootfs.present) {
		(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_ROOTFS=%s", INIT_ROOTFS_MOUNT);
		(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_ROOTFS_HASH=%s",
			       run->rootfs.root_hash_hex);
		(void)snprintf(store[n++], sizeof(store[0]), "WARDEN_ROOTFS_DM=%s",
			       INIT_ROOTFS_DM_NAME);
	}
	if (init_record(run, store[n], sizeof(store[0])) < 0)
		return -ENAMETOOLONG;
	n++;
	for (size_t i = 0; i < n; i++)
		envp[i] = store[i];
	envp[n] = NULL;
	return 0;
}

static int spawn_supervisor(struct supervise *s)
{
	static char store[ENV_MAX][ENV_ENTRY_BYTES];
	char *envp[ENV_MAX + 1];
	uint64_t t = wd_mono_ns();
	pid_t pid;

	if (build_env(s->run, store, envp) < 0) {
		wd_error("supervisor: environment too long");
		return -ENAMETOOLONG;
	}
	pid = fork();
	if (pid < 0) {
		wd_error_sys(errno, "supervisor: fork");
		return -errno;
	}
	if (pid == 0) {
		s->run->times.spawn_ns = wd_mono_ns() - t;
		/* Refresh the spawn figure the child hands on. */
		if (build_env(s->run, store, envp) < 0)
			_exit(INIT_EXIT_FAILED);
		child_exec(s->run, envp);
	}
	s->sup_pid = pid;
	s->phase = PHASE_RUNNING;
	wd_info("supervisor: started %s (pid %d)", s->run->argv[0], (int)pid);
	return 0;
}

static void signal_all(int sig)
{
	/* kill(-1) reaches every process but init itself (and kernel threads). */
	if (kill(-1, sig) < 0 && errno != ESRCH)
		wd_warn_sys(errno, "kill all with %s", strsignal(sig));
}

static void begin_shutdown(struct supervise *s, bool graceful, const char *why)
{
	uint64_t now = wd_mono_ns();

	if (s->phase == PHASE_TERMINATING || s->phase == PHASE_KILLING)
		return;
	if (graceful) {
		wd_info("shutdown: %s; TERM to all, grace %llu ms", why,
			(unsigned long long)s->run->cfg->grace_ms);
		signal_all(SIGTERM);
		signal_all(SIGCONT); /* a stopped process cannot act on TERM */
		s->phase = PHASE_TERMINATING;
		s->deadline_ns = now + s->run->cfg->grace_ms * WD_NS_PER_MS;
	} else {
		/* A supervisor that finished with 0 ended the VM on purpose. */
		wd_log(s->sup_pid == 0 && s->status == 0 ? WD_LOG_INFO : WD_LOG_ERROR,
		       "shutdown: %s; KILL to all", why);
		signal_all(SIGKILL);
		s->phase = PHASE_KILLING;
		s->deadline_ns = now + INIT_KILL_WAIT_MS * WD_NS_PER_MS;
	}
}

static void supervisor_ended(struct supervise *s, int wstatus)
{
	char what[96];

	describe_status(wstatus, what, sizeof(what));
	s->sup_pid = 0;
	s->status = status_code(wstatus);
	if (s->phase == PHASE_TERMINATING || s->phase == PHASE_KILLING) {
		wd_info("supervisor: %s during shutdown", what);
		return;
	}
	if (s->status != 0 && s->restarts_used < s->run->cfg->restarts) {
		uint64_t backoff = s->run->cfg->restart_backoff_ms << s->restarts_used;

		if (backoff > INIT_RESTART_BACKOFF_MAX_MS)
			backoff = INIT_RESTART_BACKOFF_MAX_MS;
		s->restarts_used++;
		wd_error("supervisor: %s; killing everything, restart %u of %u in %llu ms", what,
			 s->restarts_used, s->run->cfg->restarts, (unsigned long long)backoff);
		signal_all(SIGKILL);
		s->phase = PHASE_RESTARTING;
		s->deadline_ns = wd_mono_ns() + backoff * WD_NS_PER_MS;
		return;
	}
	{
		char why[128];

		(void)snprintf(why, sizeof(why), "supervisor %s", what);
		begin_shutdown(s, false, why);
	}
}

/* Reap every exited child; notes whether any child is left. */
static void reap(struct supervise *s)
{
	for (;;) {
		int wstatus;
		pid_t pid = waitpid(-1, &wstatus, WNOHANG);

		if (pid > 0) {
			if (pid == s->sup_pid)
				supervisor_ended(s, wstatus);
			else
				wd_debug("reaped pid %d", (int)pid);
			continue;
		}
		if (pid == 0) {
			s->children_left = true;
			return;
		}
		if (errno == EINTR)
			continue;
		s->children_left = false; /* ECHILD */
		return;
	}
}

static void on_signal(struct supervise *s, const struct signalfd_siginfo *si)
{
	char why[96];

	switch (si->ssi_signo) {
	case SIGCHLD:
		return; /* reaped after every read */
	case SIGTERM:
	case SIGINT:
	case SIGUSR2:
	case SIGPWR:
		(void)snprintf(why, sizeof(why), "%s from pid %u", strsignal((int)si->ssi_signo),
			       si->ssi_pid);
		begin_shutdown(s, true, why);
		return;
	default:
		wd_info("ignoring %s from pid %u", strsignal((int)si->ssi_signo), si->ssi_pid);
		return;
	}
}

static int poll_timeout_ms(const struct supervise *s)
{
	uint64_t now;

	if (s->phase == PHASE_RUNNING)
		return -1;
	now = wd_mono_ns();
	if (now >= s->deadline_ns)
		return 0;
	return (int)((s->deadline_ns - now + WD_NS_PER_MS - 1) / WD_NS_PER_MS);
}

/* Act on deadlines and on "nothing left"; returns true when init should end. */
static bool advance(struct supervise *s)
{
	bool expired = s->phase != PHASE_RUNNING && wd_mono_ns() >= s->deadline_ns;

	switch (s->phase) {
	case PHASE_RUNNING:
		return false;
	case PHASE_RESTARTING:
		if (!expired)
			return false;
		if (s->children_left && !s->restart_waited) {
			/* Only on an empty machine: give stragglers the KILL wait once. */
			s->restart_waited = true;
			s->deadline_ns = wd_mono_ns() + INIT_KILL_WAIT_MS * WD_NS_PER_MS;
			return false;
		}
		if (s->children_left) {
			begin_shutdown(s, false,
				       "processes survive SIGKILL; no supervisor restart");
			return false;
		}
		s->restart_waited = false;
		if (spawn_supervisor(s) < 0)
			begin_shutdown(s, false, "supervisor could not be restarted");
		return false;
	case PHASE_TERMINATING:
		if (!s->children_left)
			return true;
		if (!expired)
			return false;
		wd_warn("shutdown: grace over; KILL to the rest");
		signal_all(SIGKILL);
		s->phase = PHASE_KILLING;
		s->deadline_ns = wd_mono_ns() + INIT_KILL_WAIT_MS * WD_NS_PER_MS;
		return false;
	case PHASE_KILLING:
		if (!s->children_left)
			return true;
		if (expired) {
			wd_error("shutdown: processes survive SIGKILL; going down anyway");
			return true;
		}
		return false;
	}
	return true;
}

int init_supervise(struct init_run *run)
{
	struct supervise s;
	sigset_t set;

	memset(&s, 0, sizeof(s));
	s.run = run;
	handled_set(&set);
	s.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (s.sfd < 0) {
		wd_error_sys(errno, "signalfd");
		return INIT_EXIT_FAILED;
	}
	if (spawn_supervisor(&s) < 0) {
		s.status = INIT_EXIT_FAILED;
		begin_shutdown(&s, false, "supervisor could not be started");
	}
	for (;;) {
		struct pollfd pfd = {.fd = s.sfd, .events = POLLIN, .revents = 0};
		struct signalfd_siginfo si;
		int rc = poll(&pfd, 1, poll_timeout_ms(&s));

		if (rc < 0 && errno != EINTR)
			wd_warn_sys(errno, "poll");
		while (read(s.sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			on_signal(&s, &si);
		reap(&s);
		if (advance(&s))
			break;
	}
	(void)close(s.sfd);
	/* After "survive SIGKILL" the loop ends with processes left: say only what is true. */
	if (!s.children_left)
		wd_info("all processes gone");
	return s.status;
}
