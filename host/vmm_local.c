/*
 * host/vmm_local.c - the guest as namespaces on this kernel (vmm.h),
 * `--vmm local`.
 *
 * No VM: warden-init and warden-supervisor run on the host's kernel, as
 * the launcher's user (root, for the namespaces), so a kernel bug is a way
 * out for the agent. For development and for hosts without virtualisation;
 * never chosen silently, and announced on stderr each time.
 *
 *   launcher ── fork ──> outer process: unshare(PID|mount|UTS|IPC), fork,
 *                        wait for PID 1 and exit with its status
 *                          └─ PID 1 of the new PID namespace: mounts made
 *                             private, a fresh /proc, host name "warden",
 *                             exec warden-init --ns warden.channel=unix
 *                               warden.port=TMP/chan.sock
 *                               warden.workdir=TMP/work -- warden-supervisor
 *
 * The launcher listens on TMP/chan.sock before the fork and accepts
 * connections from its own uid only (SO_PEERCRED): the first, and after a
 * broken channel the one that resumes it (host/resume.c); the listener is
 * closed when the guest is stopped, the socket goes with TMP. The outer process leads its own
 * process group and PID 1 stays in it, so the stop (SIGKILL to the group)
 * kills PID 1, and with it the kernel kills everything in the namespace:
 * no process the agent started survives the job. Both carry
 * PR_SET_PDEATHSIG, so a launcher killed outright takes them along too.
 * stdin is /dev/null; stdout and stderr go to TMP/console.log.
 *
 * The agent runs as a host uid and gid of its own (uidpool.h), passed as
 * warden.agent_uid: the launcher leases it before the fork and gives it
 * back when the stop has reaped the outer process, which the kernel's
 * teardown of the namespace follows at once; a launcher killed outright
 * loses the lease with its last fd, and its namespace with PDEATHSIG.
 */
#include "vmm.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/log.h"

#define NS_FLAGS (CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC)
#define NS_HOSTNAME "warden"
#define ACCEPT_SLICE_MS 200

static int listen_on(struct wd_vmm *v, struct wd_err *err)
{
	struct sockaddr_un addr;
	int fd;

	if (wd_vmm_sockaddr(v, &addr, err) < 0)
		return -err->code;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return wd_err_sys(err, errno, "channel: socket");
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 1) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "channel: listen on %s", v->sock_path);
	}
	v->listen_fd = fd;
	return 0;
}

/* Only the report pipe stays open in the outer process, which never execs. */
static void close_other_fds(int keep)
{
	if (keep > 3)
		(void)syscall(SYS_close_range, 3U, (unsigned)keep - 1, 0U);
	(void)syscall(SYS_close_range, (unsigned)keep + 1, ~0U, 0U);
}

/*
 * PID 1 of the namespace: never returns. Its parent is outside the
 * namespace, so getppid() says 0 whatever happened; `alive` (the read end
 * of a pipe whose write end only the outer process holds) tells instead
 * whether the outer process died before PR_SET_PDEATHSIG was in place.
 */
__attribute__((noreturn)) static void exec_init(struct wd_launch *l, const int alive[2],
						const struct wd_argv *a)
{
	struct pollfd pfd = {.fd = alive[0], .events = POLLIN, .revents = 0};

	(void)close(alive[1]);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || poll(&pfd, 1, 0) != 0)
		_exit(127);
	/* Nothing mounted here may reach the host's mount tree. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		wd_launch_fail(l, errno, "make the mounts private");
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		wd_launch_fail(l, errno, "mount /proc");
	if (sethostname(NS_HOSTNAME, sizeof(NS_HOSTNAME) - 1) < 0)
		wd_launch_fail(l, errno, "sethostname");
	execv(a->v[0], a->v);
	wd_launch_fail(l, errno, "exec %s", a->v[0]);
}

/* The outer process: never returns. */
__attribute__((noreturn)) static void run_outer(struct wd_launch *l, const struct wd_vmm *v,
						const struct wd_argv *a)
{
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int log = open(v->console_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int status, alive[2];
	pid_t init;

	if (null < 0 || log < 0)
		wd_launch_fail(l, errno, "open %s", log < 0 ? v->console_path : "/dev/null");
	if (dup2(null, STDIN_FILENO) < 0 || dup2(log, STDOUT_FILENO) < 0 ||
	    dup2(log, STDERR_FILENO) < 0)
		wd_launch_fail(l, errno, "dup2");
	close_other_fds(l->wfd);
	if (pipe2(alive, O_CLOEXEC) < 0)
		wd_launch_fail(l, errno, "pipe");
	if (unshare(NS_FLAGS) < 0)
		wd_launch_fail(l, errno, "unshare (namespaces need root)");
	init = fork();
	if (init < 0)
		wd_launch_fail(l, errno, "fork");
	if (init == 0)
		exec_init(l, alive, a);
	(void)close(alive[0]);
	(void)close(l->wfd);
	while (waitpid(init, &status, 0) < 0)
		if (errno != EINTR)
			_exit(127);
	if (WIFSIGNALED(status))
		_exit(128 + WTERMSIG(status));
	_exit(WEXITSTATUS(status));
}

static int local_start(struct wd_vmm *v, const struct wd_vmm_config *c, struct wd_err *err)
{
	static struct wd_argv a;
	char workdir[WD_VMM_PATH_BYTES];
	struct wd_launch l;
	pid_t pid;

	wd_warn("--vmm local: no VM; the agent shares this host's kernel (weaker isolation)");
	(void)snprintf(workdir, sizeof(workdir), "%s/work", c->tmpdir);
	if (mkdir(workdir, 0700) < 0)
		return wd_err_sys(err, errno, "mkdir %s", workdir);
	if (wd_uid_lease(&v->agent_id, err) < 0)
		return wd_err_wrap(err, "--vmm local");
	wd_debug("vmm: the agent's host uid and gid: %u", (unsigned)v->agent_id.id);
	wd_argv_init(&a);
	wd_argv_add(&a, "%s", c->init);
	wd_argv_add(&a, "--ns");
	wd_argv_add(&a, "warden.channel=unix");
	wd_argv_add(&a, "warden.port=%s", v->sock_path);
	wd_argv_add(&a, "warden.workdir=%s", workdir);
	wd_argv_add(&a, "warden.agent_uid=%u", (unsigned)v->agent_id.id);
	if (c->verbose >= 2)
		wd_argv_add(&a, "warden.log=debug");
	wd_argv_add(&a, "--");
	wd_argv_add(&a, "%s", c->supervisor);
	if (a.overflow)
		return wd_err_set(err, E2BIG, "warden-init's command line is too long");
	if (listen_on(v, err) < 0)
		return -err->code;
	if (wd_launch_open(&l, err) < 0)
		return -err->code;
	v->started_ns = wd_mono_ns();
	pid = wd_child_fork(&v->child, err);
	if (pid < 0) {
		wd_launch_close(&l);
		return (int)pid;
	}
	if (pid == 0)
		run_outer(&l, v, &a);
	if (wd_launch_result(&l, err) < 0) {
		wd_child_kill(&v->child);
		return wd_err_wrap(err, "--vmm local");
	}
	wd_debug("vmm: local namespaces, outer process %d", (int)pid);
	return 0;
}

/* Accept the supervisor's connection: one, from our own uid. */
static int local_connect(struct wd_vmm *v, uint64_t deadline_ns, const struct wd_intr *intr,
			 struct wd_err *err)
{
	for (;;) {
		int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		struct ucred cred;
		socklen_t len = sizeof(cred);

		if (fd >= 0) {
			if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 ||
			    cred.uid != geteuid()) {
				(void)close(fd);
				wd_warn("channel: a connection from another user refused");
				continue;
			}
			/* The listener stays: the supervisor comes back to it
			 * after a broken channel (host/resume.c). */
			return fd;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			return wd_err_sys(err, errno, "channel: accept");
		if (wd_vmm_ended(v))
			return wd_err_set(err, EPIPE,
					  "warden-init ended before the supervisor "
					  "connected");
		if (wd_mono_ns() >= deadline_ns)
			return wd_err_set(err, ETIMEDOUT, "the supervisor did not connect in time");
		if (wd_vmm_pause(v, v->listen_fd, ACCEPT_SLICE_MS, intr) == -EINTR)
			return wd_err_set(err, EINTR, "interrupted");
	}
}

static void local_stop(struct wd_vmm *v)
{
	wd_child_kill(&v->child);
	wd_uid_release(&v->agent_id); /* the namespace is gone with its outer process */
	if (v->listen_fd >= 0) {
		(void)close(v->listen_fd);
		v->listen_fd = -1;
	}
}

const struct wd_vmm_ops wd_vmm_local_ops = {
	.name = "local",
	.hello_mode = "ns",
	.start = local_start,
	.connect = local_connect,
	.stop = local_stop,
};
