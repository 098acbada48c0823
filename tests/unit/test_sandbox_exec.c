/*
 * tests/unit/test_sandbox_exec.c - the exec records (sandbox/sbexec.c,
 * sandbox/sbnotify.c's "requested" object, common/jbound.c): a string
 * from the agent is written as it is or cut into {len, prefix, sha256}
 * within its bound; the requested object and the whole record stay within
 * theirs at their widest; and, in a sandbox's own filesystem (a mount
 * namespace, as root), the watcher records the file the kernel opened
 * with its digest, refuses an exec nobody asked for and a file open for
 * writing, lets go of a rewritten file at once and records its new digest,
 * and sees an exec of a memfd it watches.
 *
 * The watcher's cases need root and fanotify permission events (this
 * project's test machines and its microVM kernel have both); without them
 * they fail saying so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/jcanon.h"
#include "../../common/tlog.h"
#include "../../sandbox/sandbox_priv.h"

#define SCRIPT "#!/bin/sh\nexit 7\n"
#define SCRIPT_TOO "#!/bin/sh\nexit 8\n"
#define MAX_RECORDS 16

/* ---- strings within a bound --------------------------------------------- */

static int bounded(const char *s, size_t n, size_t shown, char *out, size_t size)
{
	struct wd_jw w;

	wd_jw_init(&w, out, size);
	wd_jw_str_bounded(&w, "v", s, n, shown);
	return wd_jw_end(&w);
}

static void sha256_hex(const void *p, size_t n, char out[2 * WD_HASH_BYTES + 1])
{
	uint8_t h[WD_HASH_BYTES];

	wd_sha256(p, n, h);
	wd_hex(h, sizeof(h), out);
}

static void test_short_string_is_written_as_it_is(void **state)
{
	char out[256];

	(void)state;
	assert_true(bounded("/bin/true", 9, 64, out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"v\":\"/bin/true\"}");
	/* Exactly the bound, quotes included: still a string. */
	assert_true(bounded("12345678", 8, 10, out, sizeof(out)) > 0);
	assert_string_equal(out, "{\"v\":\"12345678\"}");
}

static void test_long_string_is_cut_with_its_length_and_digest(void **state)
{
	static char path[4000], out[2048], want[256];
	char hex[2 * WD_HASH_BYTES + 1];
	const char *prefix, *end;
	int n;

	(void)state;
	for (size_t i = 0; i < sizeof(path); i++)
		path[i] = (char)(1 + i % 31); /* control bytes: 6 JSON bytes each, most */
	n = bounded(path, sizeof(path), SUP_SB_EXEC_SHOWN, out, sizeof(out));
	assert_true(n > 0);
	assert_true((size_t)n <= SUP_SB_EXEC_SHOWN + WD_JW_BOUNDED_EXTRA + 8);
	assert_int_equal(wd_jcanon_check(out, (size_t)n, sizeof(out), NULL, &(struct wd_err){0}),
			 0);
	sha256_hex(path, sizeof(path), hex);
	(void)snprintf(want, sizeof(want), "\"len\":4000,\"prefix\":\"");
	assert_non_null(strstr(out, want));
	(void)snprintf(want, sizeof(want), "\",\"sha256\":\"%s\"}}", hex);
	assert_non_null(strstr(out, want));
	prefix = strstr(out, "\"prefix\":\"") + 10;
	end = strstr(prefix, "\",\"sha256\"");
	assert_true(end - prefix + 2 <= SUP_SB_EXEC_SHOWN);
	assert_true(end - prefix + 2 > SUP_SB_EXEC_SHOWN - 6); /* as much as fits */
}

static void test_invalid_utf8_is_never_written_as_the_value(void **state)
{
	char out[512];

	(void)state;
	/* Short, but U+FFFD in its place would not be the value: an object. */
	assert_true(bounded("a\xff"
			    "b",
			    3, 64, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "{\"v\":{\"len\":3,\"prefix\":\"a\xef\xbf\xbd"
				    "b\",\"sha256\":"));
}

static void test_prefix_ends_on_a_whole_character(void **state)
{
	char out[512];

	(void)state;
	/* "é" is two bytes: with room for "aé" less one byte (quotes and 2),
	 * only "a"; with room for it, "aé". */
	assert_true(bounded("a\xc3\xa9zzzzzzzz", 11, 4, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"prefix\":\"a\","));
	assert_true(bounded("a\xc3\xa9zzzzzzzz", 11, 5, out, sizeof(out)) > 0);
	assert_non_null(strstr(out, "\"prefix\":\"a\xc3\xa9\","));
}

/* DEL and C1 controls (two bytes, U+0080..U+009F) are written \u00xx, six
 * JSON bytes each: they are counted so, and the bound holds. */
static void test_del_and_c1_count_as_their_escapes(void **state)
{
	static char path[600], out[2048];
	int n;

	(void)state;
	for (size_t i = 0; i + 1 < sizeof(path); i += 2) {
		path[i] = (char)0xc2;
		path[i + 1] = (char)(0x80 + (i / 2) % 32);
	}
	n = bounded(path, sizeof(path), SUP_SB_EXEC_SHOWN, out, sizeof(out));
	assert_true(n > 0);
	assert_true((size_t)n <= SUP_SB_EXEC_SHOWN + WD_JW_BOUNDED_EXTRA + 8);
	assert_non_null(strstr(out, "\\u0080"));
	/* 20 DELs: 120 JSON bytes, more than a bound of 100. */
	memset(path, 0x7f, 20);
	n = bounded(path, 20, 100, out, sizeof(out));
	assert_true(n > 0);
	assert_non_null(strstr(out, "\"len\":20"));
}

/* ---- the requested object at its widest ---------------------------------- */

static char g_path[4096];
static char *g_argv[SUP_SB_EXEC_ARGS + 2];
static char g_arg[256];

static void test_requested_object_stays_within_its_bound(void **state)
{
	static char out[4 * SUP_SB_EXEC_REQUEST_MAX];
	struct sup_sb_denial d;
	int n;

	(void)state;
	memset(g_path, 0x01, sizeof(g_path) - 1);
	memset(g_arg, 0x02, sizeof(g_arg) - 1);
	for (size_t i = 0; i < SUP_SB_EXEC_ARGS + 1; i++)
		g_argv[i] = g_arg;
	memset(&d, 0, sizeof(d));
	d.nr = SYS_execveat;
	d.pid = getpid();
	d.args[1] = (uint64_t)(uintptr_t)g_path;
	d.args[2] = (uint64_t)(uintptr_t)g_argv;
	d.args[4] = 0xffffffffU;
	/* No listener: the notification cannot be checked, so "unreadable"
	 * too, every member there. */
	n = sup_sb_exec_json(-1, &d, out, sizeof(out));
	assert_true(n > 0);
	assert_true(n <= SUP_SB_EXEC_REQUEST_MAX);
	assert_int_equal(wd_jcanon_check(out, (size_t)n, sizeof(out), NULL, &(struct wd_err){0}),
			 0);
	assert_non_null(strstr(out, "\"path\":{\"len\":4095,"));
	assert_non_null(strstr(out, "\"unreadable\":true"));
	assert_non_null(strstr(out, "\"flags\":4294967295"));
}

/* ---- the watcher in a sandbox's filesystem ------------------------------- */

struct record {
	bool allowed;
	pid_t pid;
	char data[SUP_SB_EXEC_RECORD_MAX];
};

static struct {
	struct record r[MAX_RECORDS];
	size_t n;
} seen;

static int capture(void *ctx, const struct sup_sb_exec_record *r)
{
	(void)ctx;
	assert_true(strlen(r->data) < SUP_SB_EXEC_RECORD_MAX);
	assert_int_equal(wd_jcanon_check(r->data, strlen(r->data), SUP_SB_EXEC_RECORD_MAX, NULL,
					 &(struct wd_err){0}),
			 0);
	if (seen.n < MAX_RECORDS) {
		seen.r[seen.n].allowed = r->allowed;
		seen.r[seen.n].pid = r->pid;
		(void)snprintf(seen.r[seen.n].data, sizeof(seen.r[0].data), "%s", r->data);
		seen.n++;
	}
	return 0;
}

/* The child's side: each exec runs in a grandchild whose pid goes to the
 * parent (which keeps what it asks, as the listener would) before it may
 * go on. Returns the grandchild's exit status, 128 + errno when its exec
 * failed. */
static int report_fd = -1, go_fd = -1;

static int run_exec(const char *path)
{
	int ws;
	pid_t pid;

	(void)snprintf(g_path, sizeof(g_path), "%s", path);
	g_argv[0] = g_path;
	g_argv[1] = NULL;
	pid = fork();
	if (pid == 0) {
		char go;

		if (read(go_fd, &go, 1) != 1)
			_exit(100);
		execv(g_path, g_argv);
		_exit(128 + errno);
	}
	if (pid < 0 || write(report_fd, &pid, sizeof(pid)) != (ssize_t)sizeof(pid) ||
	    waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws))
		return -1;
	return WEXITSTATUS(ws);
}

static int put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	size_t n = strlen(text);

	if (fd < 0 || write(fd, text, n) != (ssize_t)n)
		return -1;
	return close(fd);
}

/* In the child: a sandbox's filesystem (the default binds, /work, /tmp,
 * /proc, /dev), its mounts marked, cwd /work. */
static int enter_sandbox_fs(const struct sup_sb_exec *x)
{
	struct sup_sandbox sb;
	struct wd_err err;

	sup_sandbox_defaults(&sb);
	if (unshare(CLONE_NEWNS) < 0 || sup_sb_fs_enter(&sb, -1, &err) < 0 ||
	    sup_sb_exec_mark_mounts(x, &err) < 0 || chdir("/work") < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return -1;
	}
	return 0;
}

typedef int (*scenario)(const struct sup_sb_exec *x);

/* Run `body` in a child (its result is its exit status) while this
 * process plays the supervisor: each grandchild's exec call kept (unless
 * `expect_none`), then let go, and the watcher served until the end. */
static int supervise(scenario body, bool expect_none)
{
	struct sup_sb_exec *x = NULL;
	struct wd_err err;
	int report[2], go[2], ws = 0;
	bool reports_open = true;
	pid_t child;

	memset(&seen, 0, sizeof(seen));
	if (geteuid() != 0)
		fail_msg("needs root (namespaces, mounts, fanotify)");
	if (sup_sb_exec_open(&x, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	assert_int_equal(pipe2(go, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		(void)close(report[0]);
		(void)close(go[1]);
		report_fd = report[1];
		go_fd = go[0];
		_exit(enter_sandbox_fs(x) < 0 ? 99 : body(x));
	}
	(void)close(report[1]);
	(void)close(go[0]);
	for (;;) {
		struct pollfd p[2] = {{.fd = reports_open ? report[0] : -1, .events = POLLIN},
				      {.fd = sup_sb_exec_fd(x), .events = POLLIN}};

		if (poll(p, 2, 100) < 0)
			break;
		if (p[1].revents != 0)
			assert_int_equal(sup_sb_exec_serve(x, 16, capture, NULL), 0);
		if (p[0].revents != 0) {
			pid_t pid;
			struct sup_sb_denial d;

			if (read(report[0], &pid, sizeof(pid)) != (ssize_t)sizeof(pid)) {
				reports_open = false;
				continue;
			}
			if (pid < 0) { /* the child's memfd -pid, to watch */
				char path[64];
				int fd;

				(void)snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)child,
					       (int)-pid);
				fd = open(path, O_RDONLY | O_CLOEXEC);
				assert_true(fd >= 0);
				assert_int_equal(sup_sb_exec_watch(x, fd), 0);
				(void)close(fd);
			} else {
				memset(&d, 0, sizeof(d));
				d.nr = SYS_execve;
				d.pid = pid;
				d.args[0] = (uint64_t)(uintptr_t)g_path;
				d.args[1] = (uint64_t)(uintptr_t)g_argv;
				if (!expect_none)
					sup_sb_exec_expect(x, -1, &d);
			}
			assert_int_equal(write(go[1], "g", 1), 1);
		}
		if (waitpid(child, &ws, WNOHANG) == child)
			break;
	}
	(void)close(report[0]);
	(void)close(go[1]);
	sup_sb_exec_close(x);
	assert_true(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

/* The digest as the record has it: "sha256":"<hex>","size". */
static bool names_digest(const struct record *r, const char *text)
{
	char hex[2 * WD_HASH_BYTES + 1], want[128];

	sha256_hex(text, strlen(text), hex);
	(void)snprintf(want, sizeof(want), "\"sha256\":\"%s\",\"size\":%zu}", hex, strlen(text));
	return strstr(r->data, want) != NULL;
}

static int one_script(const struct sup_sb_exec *x)
{
	(void)x;
	return put_file("s", SCRIPT) < 0 ? 98 : run_exec("/work/s");
}

static void test_record_names_the_opened_file_and_its_digest(void **state)
{
	(void)state;
	assert_int_equal(supervise(one_script, false), 7);
	/* The script, then its interpreter (and the interpreter's, if any). */
	assert_true(seen.n >= 2);
	assert_true(seen.r[0].allowed);
	assert_true(names_digest(&seen.r[0], SCRIPT));
	assert_non_null(strstr(seen.r[0].data, "{\"file\":{\"dev\":\""));
	assert_non_null(strstr(seen.r[0].data, "\"path\":\"/work/s\""));
	assert_non_null(strstr(seen.r[0].data, "\"requested\":{\"argc\":1,"));
	assert_non_null(strstr(seen.r[0].data, "\"syscall\":\"execve\""));
	for (size_t i = 1; i < seen.n; i++) {
		assert_true(seen.r[i].allowed);
		assert_non_null(strstr(seen.r[i].data, "\"interpreter\":true"));
		assert_null(strstr(seen.r[i].data, "\"requested\""));
	}
}

/* One exec, refused with EPERM, its one record saying `why`. */
static void assert_refused(scenario body, bool expect_none, const char *why)
{
	char want[128];

	assert_int_equal(supervise(body, expect_none), 128 + EPERM);
	assert_int_equal(seen.n, 1);
	assert_false(seen.r[0].allowed);
	(void)snprintf(want, sizeof(want), "\"refused\":\"%s", why);
	assert_non_null(strstr(seen.r[0].data, want));
}

static void test_exec_nobody_asked_for_is_refused(void **state)
{
	(void)state;
	assert_refused(one_script, true, "no exec call of this thread");
}

static int script_open_for_writing(const struct sup_sb_exec *x)
{
	int fd, rc;

	(void)x;
	if (put_file("s", SCRIPT) < 0)
		return 98;
	fd = open("s", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return 98;
	rc = run_exec("/work/s"); /* with fd still open for writing */
	(void)close(fd);
	return rc;
}

static void test_file_open_for_writing_is_refused(void **state)
{
	(void)state;
	assert_refused(script_open_for_writing, false, "open for writing\"");
}

static int rewritten_script(const struct sup_sb_exec *x)
{
	int first, second;

	(void)x;
	if (put_file("s", SCRIPT) < 0)
		return 98;
	first = run_exec("/work/s");
	/* In place (O_TRUNC): the digest's lease must be let go of at once. */
	if (put_file("s", SCRIPT_TOO) < 0)
		return 97;
	second = run_exec("/work/s");
	return first == 7 && second == 8 ? 0 : 96;
}

static void test_rewritten_file_is_let_go_and_gets_its_new_digest(void **state)
{
	struct timespec t0, t1;
	bool first = false, second = false;

	(void)state;
	(void)clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(supervise(rewritten_script, false), 0);
	(void)clock_gettime(CLOCK_MONOTONIC, &t1);
	/* A lease nobody let go of would hold the writer lease-break-time (45 s). */
	assert_true(t1.tv_sec - t0.tv_sec < 10);
	for (size_t i = 0; i < seen.n; i++) {
		first |= names_digest(&seen.r[i], SCRIPT);
		second |= names_digest(&seen.r[i], SCRIPT_TOO);
	}
	assert_true(first && second);
}

static int long_path_script(const struct sup_sb_exec *x)
{
	char name[256], path[4096];
	size_t at = 0;

	(void)x;
	memset(name, 0x01, 250);
	name[250] = '\0';
	for (int l = 0; l < 15; l++) {
		if (mkdir(name, 0755) < 0 || chdir(name) < 0)
			return 98;
		memcpy(path + at, name, 250);
		at += 250;
		path[at++] = '/';
	}
	memcpy(path + at, "s", 2);
	if (put_file("s", SCRIPT) < 0 || chdir("/work") < 0)
		return 97;
	return run_exec(path);
}

static void test_long_paths_are_cut_within_the_record(void **state)
{
	(void)state;
	assert_int_equal(supervise(long_path_script, false), 7);
	assert_true(seen.n >= 1);
	assert_true(names_digest(&seen.r[0], SCRIPT));
	assert_non_null(strstr(seen.r[0].data, "\"file\":{\"dev\":"));
	assert_non_null(
		strstr(seen.r[0].data, "\"path\":{\"len\":3772,\"prefix\":\"/work/\\u0001"));
	assert_non_null(strstr(seen.r[0].data, "\"path\":{\"len\":3766,\"prefix\":\"\\u0001"));
}

static int memfd_script(const struct sup_sb_exec *x)
{
	char path[64], go;
	int fd = memfd_create("script", 0);
	pid_t ask;

	(void)x;
	if (fd < 0 || write(fd, SCRIPT, strlen(SCRIPT)) != (ssize_t)strlen(SCRIPT))
		return 98;
	/* The listener watches the memfds it makes; here the parent is asked to. */
	ask = -fd;
	if (write(report_fd, &ask, sizeof(ask)) != (ssize_t)sizeof(ask) || read(go_fd, &go, 1) != 1)
		return 97;
	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return run_exec(path);
}

static void test_watched_memfd_exec_is_recorded(void **state)
{
	(void)state;
	assert_int_equal(supervise(memfd_script, false), 7);
	assert_true(seen.n >= 1);
	assert_true(seen.r[0].allowed);
	assert_true(names_digest(&seen.r[0], SCRIPT));
	assert_non_null(strstr(seen.r[0].data, "\"path\":\"/memfd:script (deleted)\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_short_string_is_written_as_it_is),
		cmocka_unit_test(test_long_string_is_cut_with_its_length_and_digest),
		cmocka_unit_test(test_invalid_utf8_is_never_written_as_the_value),
		cmocka_unit_test(test_prefix_ends_on_a_whole_character),
		cmocka_unit_test(test_del_and_c1_count_as_their_escapes),
		cmocka_unit_test(test_requested_object_stays_within_its_bound),
		cmocka_unit_test(test_record_names_the_opened_file_and_its_digest),
		cmocka_unit_test(test_exec_nobody_asked_for_is_refused),
		cmocka_unit_test(test_file_open_for_writing_is_refused),
		cmocka_unit_test(test_rewritten_file_is_let_go_and_gets_its_new_digest),
		cmocka_unit_test(test_long_paths_are_cut_within_the_record),
		cmocka_unit_test(test_watched_memfd_exec_is_recorded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
