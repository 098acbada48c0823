/*
 * tests/init/probe.c - the stand-in supervisor of the PID 1 tests.
 *
 * tests/init/run.sh starts warden-init as PID 1 of a fresh PID namespace
 * with this program in the supervisor's place. Each mode plays one
 * situation PID 1 must handle and reports through its exit status, files
 * in a directory run.sh gives it, and a "probe: error: ..." line on stderr
 * when something is not as it should be (exit PROBE_FAILED):
 *
 *   probe exit N            exit with status N
 *   probe signal N          die of signal N (never dumping core)
 *   probe orphans COUNT     fork COUNT children that each fork a grandchild
 *                           and exit, so the grandchildren become PID 1's;
 *                           check that they are, release them to exit at
 *                           the same moment, and exit 0 once all are reaped
 *                           and no zombie is left in the namespace
 *   probe term DIR          with a child that records TERM and one that
 *                           ignores it; records its own TERM in DIR, then
 *                           dies of it
 *   probe linger DIR exit N | probe linger DIR signal N
 *                           leave processes that would live forever (one
 *                           plain, one in its own session ignoring every
 *                           signal it can, one orphaned grandchild), wait
 *                           for DIR/go, then exit N or die of signal N
 *   probe restart FILE N    append "run" to FILE, check that no process of
 *                           an earlier run is left ("empty" or "leftover"),
 *                           leave one child behind and exit N
 *   probe clean-state       exit 0 if no fd above 2 is open, no signal is
 *                           blocked, ignored or caught
 *   probe dirty PROGRAM [ARG]...
 *                           (run outside the namespace) exec PROGRAM with
 *                           every signal blocked, several ignored (musl's
 *                           reserved 32-34 among them) and fds 3 and 7
 *                           open: the state init must not pass on
 *   probe mark FILE         create FILE and exit 0
 *
 * Readiness is a file DIR/ready made by rename(), so run.sh never sees a
 * half-written state. Every wait has a deadline: nothing here can hang a
 * test run. Runs as root in a throwaway namespace; never part of an image.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../common/fileio.h"
#include "../../common/log.h"
#include "../../common/parse.h"

#define PROGRAM "probe"
#define PROBE_FAILED 99
#define ORPHANS_MAX 4096
#define SETTLE_MS 20000        /* how long to wait for PID 1 to reap, or for run.sh */
#define RESTART_SETTLE_MS 5000 /* per run: three of them fit run.sh's 30 s bound */
#define POLL_MS 10
#define PATH_BYTES 512
#define STAT_BYTES 1024

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		wd_error(__VA_ARGS__);                                                             \
		_exit(PROBE_FAILED);                                                               \
	} while (0)

static volatile sig_atomic_t got_term;

static void on_term(int sig)
{
	(void)sig;
	got_term = 1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static uint64_t number(const char *s, uint64_t min, uint64_t max)
{
	struct wd_err err;
	uint64_t v;

	if (wd_parse_u64(s, min, max, &v, &err) < 0)
		FAIL("%s", err.msg);
	return v;
}

static void path_in(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_BYTES, "%s/%s", dir, name);

	if (n < 0 || n >= PATH_BYTES)
		FAIL("path %s/%s too long", dir, name);
}

static void append_line(const char *path, const char *line)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		FAIL("open %s: %s", path, strerror(errno));
	if (wd_write_all(fd, line, strlen(line)) < 0 || close(fd) < 0)
		FAIL("write %s: %s", path, strerror(errno));
}

static void create_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || close(fd) < 0)
		FAIL("create %s: %s", path, strerror(errno));
}

/* DIR/NAME appears whole: made under another name, then renamed. */
static void publish(const char *dir, const char *name)
{
	char tmp[PATH_BYTES], path[PATH_BYTES];

	path_in(tmp, dir, ".publish.tmp");
	path_in(path, dir, name);
	create_file(tmp);
	if (rename(tmp, path) < 0)
		FAIL("rename %s: %s", path, strerror(errno));
}

static void wait_for_file(const char *path)
{
	uint64_t deadline = wd_mono_ns() + (uint64_t)SETTLE_MS * WD_NS_PER_MS;

	while (access(path, F_OK) < 0) {
		if (wd_mono_ns() > deadline)
			FAIL("%s did not appear in %d ms", path, SETTLE_MS);
		sleep_ms(POLL_MS);
	}
}

/* Block until every byte of a fixed-size message arrives (or the writers go). */
static size_t read_full(int fd, void *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, (char *)buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* State letter and parent of a process of this namespace; 0 if it is gone. */
static char proc_state(pid_t pid, pid_t *ppid)
{
	char path[64], text[STAT_BYTES];
	const char *close_paren;
	struct wd_err err;
	size_t len;
	int parent;

	(void)snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (wd_read_file(path, text, sizeof(text), &len, &err) < 0)
		return 0;
	/* "PID (COMM) S PPID ...": COMM may hold anything, even ") ". */
	close_paren = strrchr(text, ')');
	if (close_paren == NULL || sscanf(close_paren + 1, " %*c %d", &parent) != 1)
		return 0;
	if (ppid != NULL)
		*ppid = (pid_t)parent;
	return close_paren[2];
}

/* Pids of this namespace's /proc other than 1 and `self`; counts zombies. */
static unsigned others_in_namespace(pid_t self, unsigned *zombies, pid_t *example)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	unsigned count = 0;

	if (dir == NULL)
		FAIL("open /proc: %s", strerror(errno));
	*zombies = 0;
	while ((de = readdir(dir)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		char state;

		if (*end != '\0' || pid <= 1 || (pid_t)pid == self)
			continue;
		state = proc_state((pid_t)pid, NULL);
		if (state == 0)
			continue;
		count++;
		if (state == 'Z')
			(*zombies)++;
		*example = (pid_t)pid;
	}
	(void)closedir(dir);
	return count;
}

static void no_core_dump(void)
{
	struct rlimit none = {0, 0};

	(void)setrlimit(RLIMIT_CORE, &none);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

static void __attribute__((noreturn)) die_of(int sig)
{
	sigset_t set;

	no_core_dump();
	(void)signal(sig, SIG_DFL);
	(void)sigemptyset(&set);
	(void)sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
	(void)kill(getpid(), sig);
	FAIL("still alive after signal %d", sig);
}

/* Sleep until a signal ends the process. */
static void __attribute__((noreturn)) live_forever(void)
{
	for (;;)
		(void)pause();
}

static void ready_byte(int fd)
{
	if (wd_write_all(fd, "r", 1) < 0)
		_exit(PROBE_FAILED);
	(void)close(fd);
}

static void wait_ready(int fd, size_t count)
{
	char buf[16];

	if (count > sizeof(buf) || read_full(fd, buf, count) != count)
		FAIL("a child died before it was ready");
	(void)close(fd);
}

static pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	return pid;
}

/* ---- modes ------------------------------------------------------------------ */

static int mode_orphans(unsigned count)
{
	static pid_t orphans[ORPHANS_MAX];
	int release[2], report[2];
	uint64_t deadline;
	pid_t self = getpid();

	if (pipe(release) < 0 || pipe(report) < 0)
		FAIL("pipe: %s", strerror(errno));
	for (unsigned i = 0; i < count; i++) {
		int wstatus;
		pid_t child = spawn();

		if (child == 0) {
			if (spawn() == 0) {
				pid_t me = getpid();
				char c;

				(void)close(release[1]);
				(void)close(report[0]);
				if (wd_write_all(report[1], &me, sizeof(me)) < 0)
					_exit(PROBE_FAILED);
				(void)close(report[1]);
				/* EOF: the probe closed its end; every orphan exits now. */
				while (read(release[0], &c, 1) < 0 && errno == EINTR)
					;
				_exit(0);
			}
			_exit(0);
		}
		if (waitpid(child, &wstatus, 0) != child || !WIFEXITED(wstatus) ||
		    WEXITSTATUS(wstatus) != 0)
			FAIL("child %u did not leave its grandchild behind", i);
	}
	(void)close(report[1]);
	(void)close(release[0]);
	if (read_full(report[0], orphans, count * sizeof(pid_t)) != count * sizeof(pid_t))
		FAIL("not every grandchild reported");
	for (unsigned i = 0; i < count; i++) {
		pid_t ppid = 0;

		if (proc_state(orphans[i], &ppid) == 0 || ppid != 1)
			FAIL("orphan %d has parent %d, not PID 1", (int)orphans[i], (int)ppid);
	}
	wd_info("%u orphans belong to PID 1; releasing them at once", count);
	(void)close(release[1]);

	deadline = wd_mono_ns() + (uint64_t)SETTLE_MS * WD_NS_PER_MS;
	for (;;) {
		unsigned left = 0, zombies;
		pid_t example = 0;

		for (unsigned i = 0; i < count; i++)
			left += proc_state(orphans[i], NULL) != 0;
		(void)others_in_namespace(self, &zombies, &example);
		if (left == 0 && zombies == 0)
			break;
		if (wd_mono_ns() > deadline)
			FAIL("after %d ms: %u orphans not reaped, %u zombies (e.g. pid %d)",
			     SETTLE_MS, left, zombies, (int)example);
		sleep_ms(POLL_MS);
	}
	wd_info("all %u orphans reaped, no zombie left", count);
	return 0;
}

static int mode_term(const char *dir)
{
	char path[PATH_BYTES];
	struct sigaction sa;
	sigset_t term, old;
	int ready[2];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	(void)sigemptyset(&term);
	(void)sigaddset(&term, SIGTERM);
	/* TERM stays blocked except inside sigsuspend(): no lost wake-up. */
	(void)sigprocmask(SIG_BLOCK, &term, &old);
	if (pipe(ready) < 0)
		FAIL("pipe: %s", strerror(errno));

	if (spawn() == 0) {
		/* Records that TERM reached a process PID 1 never started itself. */
		(void)sigaction(SIGTERM, &sa, NULL);
		ready_byte(ready[1]);
		while (!got_term)
			(void)sigsuspend(&old);
		path_in(path, dir, "term.child");
		create_file(path);
		_exit(0);
	}
	if (spawn() == 0) {
		(void)signal(SIGTERM, SIG_IGN);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		ready_byte(ready[1]);
		live_forever();
	}
	(void)close(ready[1]);
	wait_ready(ready[0], 2);
	(void)sigaction(SIGTERM, &sa, NULL);
	publish(dir, "ready");
	while (!got_term)
		(void)sigsuspend(&old);
	path_in(path, dir, "term.supervisor");
	create_file(path);
	die_of(SIGTERM);
}

static void ignore_every_signal(void)
{
	for (int sig = 1; sig < NSIG; sig++)
		(void)signal(sig, SIG_IGN);
}

static int mode_linger(const char *dir, const char *how, const char *value)
{
	bool by_signal = strcmp(how, "signal") == 0;
	int code = (int)number(value, by_signal ? 1 : 0, by_signal ? 64 : 255);
	char go[PATH_BYTES];
	int ready[2];
	pid_t middle;

	if (!by_signal && strcmp(how, "exit") != 0)
		FAIL("linger: expected 'exit N' or 'signal N'");
	if (pipe(ready) < 0)
		FAIL("pipe: %s", strerror(errno));
	if (spawn() == 0) {
		ready_byte(ready[1]);
		live_forever();
	}
	if (spawn() == 0) {
		(void)setsid();
		ignore_every_signal();
		ready_byte(ready[1]);
		live_forever();
	}
	middle = spawn();
	if (middle == 0) {
		if (spawn() == 0) {
			ready_byte(ready[1]);
			live_forever();
		}
		_exit(0);
	}
	(void)close(ready[1]);
	wait_ready(ready[0], 3);
	(void)waitpid(middle, NULL, 0);
	publish(dir, "ready");
	path_in(go, dir, "go");
	wait_for_file(go);
	if (by_signal)
		die_of(code);
	return code;
}

static int mode_restart(const char *file, const char *value)
{
	int code = (int)number(value, 0, 255);
	uint64_t deadline = wd_mono_ns() + (uint64_t)RESTART_SETTLE_MS * WD_NS_PER_MS;
	pid_t self = getpid(), example = 0;
	unsigned zombies;
	char line[64];

	append_line(file, "run\n");
	/* What an earlier run left is killed before this one starts; allow
	 * for the last exits still being reaped. */
	while (others_in_namespace(self, &zombies, &example) != 0) {
		if (wd_mono_ns() > deadline) {
			(void)snprintf(line, sizeof(line), "leftover %d\n", (int)example);
			append_line(file, line);
			return PROBE_FAILED;
		}
		sleep_ms(POLL_MS);
	}
	append_line(file, "empty\n");
	if (spawn() == 0)
		live_forever();
	return code;
}

static bool status_field_zero(const char *status, const char *field)
{
	const char *p = strstr(status, field);

	if (p == NULL)
		FAIL("no %s in /proc/self/status", field);
	p += strlen(field);
	while (*p == '\t' || *p == ' ')
		p++;
	for (; *p != '\n' && *p != '\0'; p++) {
		if (*p != '0')
			return false;
	}
	return true;
}

static int mode_clean_state(void)
{
	static const char *const fields[] = {"\nSigBlk:", "\nSigIgn:", "\nSigCgt:"};
	char status[4096];
	struct wd_err err;
	struct dirent *de;
	bool clean = true;
	size_t len;
	DIR *dir;

	if (wd_read_file("/proc/self/status", status, sizeof(status), &len, &err) < 0)
		FAIL("%s", err.msg);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (!status_field_zero(status, fields[i])) {
			const char *line = strstr(status, fields[i]) + 1;

			wd_error("not clean: %.*s", (int)strcspn(line, "\n"), line);
			clean = false;
		}
	}
	dir = opendir("/proc/self/fd");
	if (dir == NULL)
		FAIL("open /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(dir)) != NULL) {
		char target[PATH_BYTES], link[64];
		int fd = atoi(de->d_name);
		ssize_t n;

		if (de->d_name[0] == '.' || fd <= 2 || fd == dirfd(dir))
			continue;
		(void)snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		wd_error("not clean: fd %d is open (%s)", fd, target);
		clean = false;
	}
	(void)closedir(dir);
	return clean ? 0 : PROBE_FAILED;
}

/*
 * Ignore and block the signals musl keeps for itself (32-34) as another
 * launcher can (GNU make's recipes start with 32 and 33 ignored): musl's
 * own sigaction() and sigprocmask() refuse them, the system calls do not.
 * The kernel sigaction here is {handler, flags, restorer, mask}, x86_64's.
 */
static void ignore_and_block_reserved(void)
{
	unsigned long ign[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
	uint64_t all = ~0ULL;

	for (int sig = 32; sig <= 34; sig++)
		(void)syscall(SYS_rt_sigaction, sig, ign, NULL, sizeof(all));
	(void)syscall(SYS_rt_sigprocmask, SIG_BLOCK, &all, NULL, sizeof(all));
}

static int mode_dirty(char **argv)
{
	static const int ignored[] = {SIGINT, SIGQUIT, SIGPIPE, SIGHUP, SIGUSR1, SIGTSTP, SIGTTOU};
	sigset_t all;
	int fd;

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		(void)signal(ignored[i], SIG_IGN);
	(void)sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, NULL);
	ignore_and_block_reserved();
	/* Deliberately inheritable: these are the fds init must not pass on. */
	fd = open("/dev/null", O_RDONLY);
	if (fd < 0 || dup2(fd, 3) < 0 || dup2(fd, 7) < 0)
		FAIL("open fds 3 and 7: %s", strerror(errno));
	if (fd != 3 && fd != 7)
		(void)close(fd);
	execvp(argv[0], argv);
	FAIL("exec %s: %s", argv[0], strerror(errno));
}

static void __attribute__((noreturn)) usage(void)
{
	static const char text[] =
		"usage: probe exit N | signal N | orphans COUNT | term DIR |\n"
		"             linger DIR exit|signal N | restart FILE N | clean-state |\n"
		"             dirty PROGRAM [ARG]... | mark FILE\n";

	(void)wd_write_all(STDERR_FILENO, text, sizeof(text) - 1);
	_exit(2);
}

int main(int argc, char **argv)
{
	const char *mode = argc >= 2 ? argv[1] : "";

	wd_log_init(PROGRAM, WD_LOG_INFO);
	if (strcmp(mode, "exit") == 0 && argc == 3)
		return (int)number(argv[2], 0, 255);
	if (strcmp(mode, "signal") == 0 && argc == 3)
		die_of((int)number(argv[2], 1, 64));
	if (strcmp(mode, "orphans") == 0 && argc == 3)
		return mode_orphans((unsigned)number(argv[2], 1, ORPHANS_MAX));
	if (strcmp(mode, "term") == 0 && argc == 3)
		return mode_term(argv[2]);
	if (strcmp(mode, "linger") == 0 && argc == 5)
		return mode_linger(argv[2], argv[3], argv[4]);
	if (strcmp(mode, "restart") == 0 && argc == 4)
		return mode_restart(argv[2], argv[3]);
	if (strcmp(mode, "clean-state") == 0 && argc == 2)
		return mode_clean_state();
	if (strcmp(mode, "dirty") == 0 && argc >= 3)
		return mode_dirty(&argv[2]);
	if (strcmp(mode, "mark") == 0 && argc == 3) {
		create_file(argv[2]);
		return 0;
	}
	usage();
}
