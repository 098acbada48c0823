/*
 * tests/unit/test_sandbox.c - sandbox/sandbox.c (the policy's
 * sandbox section) and sandbox/sbfilter.c (the seccomp filter): every
 * field read and bounded, errors naming the field, weakened layers listed,
 * the build-time filter identical to libseccomp's, and a filtered child
 * whose denials reach the listener and come back as errors, never success.
 *
 * Docker's profile is read as in test_sandbox_ociseccomp.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/fdpass.h"
#include "../../policy/policy.h"
#include "../../sandbox/sandbox.h"

static struct sup_sandbox sb;
static struct wd_err err;

/* The policy read as every caller reads it (policy/policy.h); its sandbox
 * section, and what that owns, handed to `sb`. */
static int policy(const char *text)
{
	struct wd_policy pol;
	int rc;

	wd_err_clear(&err);
	rc = wd_policy_read(text, strlen(text), &pol, &err);
	sb = pol.sandbox;
	return rc;
}

static void test_defaults_turn_every_layer_on(void **state)
{
	(void)state;
	assert_int_equal(policy(""), 0);
	assert_false(sb.seccomp_off);
	assert_false(sb.landlock_off);
	assert_false(sb.cgroup_off);
	assert_false(sb.has_profile);
	assert_int_equal(sb.uid, 65534);
	assert_int_equal(sb.gid, 65534);
	assert_int_equal(sb.nofile, SUP_SB_NOFILE);
	assert_int_equal(sb.pids_max, SUP_SB_PIDS_MAX);
	assert_true(sb.n_ro_binds > 0);
	assert_int_equal(policy("{}"), 0);
	assert_false(sb.seccomp_off);
}

/* On a shared kernel the host's leased id replaces the default; a policy
 * that names its own ids is refused, whichever of the two it names. */
static void test_host_id_replaces_the_default_and_refuses_a_policy_id(void **state)
{
	(void)state;
	assert_int_equal(policy("{\"sandbox\": {\"tmp_mib\": 8}}"), 0);
	assert_int_equal(sup_sandbox_host_id(&sb, 60600, &err), 0);
	assert_int_equal(sb.uid, 60600);
	assert_int_equal(sb.gid, 60600);
	assert_int_equal(sup_sandbox_host_id(&sb, 0, &err), -EINVAL);
	assert_int_equal(policy("{\"sandbox\": {\"uid\": 1000}}"), 0);
	assert_int_equal(sup_sandbox_host_id(&sb, 60600, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "sandbox.uid"));
	assert_int_equal(sb.uid, 1000);
	assert_int_equal(policy("{\"sandbox\": {\"gid\": 1000}}"), 0);
	assert_int_equal(sup_sandbox_host_id(&sb, 60600, &err), -EINVAL);
}

static void test_policy_sets_every_field(void **state)
{
	(void)state;
	assert_int_equal(
		policy("{\"sandbox\": {\"uid\": 1000, \"gid\": 1001, "
		       "\"ro_binds\": [\"/usr\", \"/opt/tools\"], \"tmp_mib\": 8, "
		       "\"rlimits\": {\"nofile\": 64, \"nproc\": 32, \"fsize_mib\": 2, "
		       "\"as_mib\": 512, \"data_mib\": 256}, "
		       "\"cgroup\": {\"memory_mib\": 300, \"pids\": 50, \"cpu_percent\": 150}, "
		       "\"landlock\": true, \"seccomp\": true}}"),
		0);
	assert_int_equal(sb.uid, 1000);
	assert_int_equal(sb.gid, 1001);
	assert_int_equal(sb.n_ro_binds, 2);
	assert_string_equal(sb.ro_binds[1], "/opt/tools");
	assert_int_equal(sb.tmp_mib, 8);
	assert_int_equal(sb.nofile, 64);
	assert_int_equal(sb.nproc, 32);
	assert_int_equal(sb.fsize_mib, 2);
	assert_int_equal(sb.as_mib, 512);
	assert_int_equal(sb.data_mib, 256);
	assert_int_equal(sb.memory_mib, 300);
	assert_int_equal(sb.pids_max, 50);
	assert_int_equal(sb.cpu_quota_us, 150000);
	assert_false(sb.landlock_off);
	assert_false(sb.seccomp_off);
}

/* One bad input each, and the field its error must name. */
static void test_each_error_names_its_field(void **state)
{
	static const struct {
		const char *policy, *names;
	} cases[] = {
		{"{\"sandbox\": {\"uid\": 1000, \"colour\": 1}}", "colour"},
		{"{\"sandbox\": {\"uid\": -1}}", "uid"},
		{"{\"sandbox\": {\"uid\": 0}}", "uid"},
		{"{\"sandbox\": {\"gid\": 4294967295}}", "gid"},
		{"{\"sandbox\": {\"ro_binds\": [\"usr\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/usr/../etc\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/.\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/a/..\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/a//b\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/a/\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/tmp/x\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/usr\", \"/proc\"]}}", "ro_binds[1]"},
		{"{\"sandbox\": {\"ro_binds\": [\"/dev/sda\"]}}", "ro_binds[0]"},
		{"{\"sandbox\": {\"ro_binds\": \"/usr\"}}", "ro_binds"},
		{"{\"sandbox\": {\"tmp_mib\": 0}}", "tmp_mib"},
		{"{\"sandbox\": {\"rlimits\": {\"nofile\": 0}}}", "rlimits"},
		{"{\"sandbox\": {\"rlimits\": {\"stack\": 1}}}", "stack"},
		{"{\"sandbox\": {\"cgroup\": {\"pids\": 0}}}", "cgroup.pids"},
		{"{\"sandbox\": {\"cgroup\": \"off\"}}", "cgroup"},
		{"{\"sandbox\": {\"landlock\": {}}}", "landlock"},
		{"{\"sandbox\": {\"seccomp\": {\"waive\": [\"ptrace\"]}}}", "waive"},
		{"{\"sandbox\": {\"seccomp\": {\"profile\": {\"defaultAction\": "
		 "\"SCMP_ACT_NOPE\"}}}}",
		 "profile"},
		{"{\"tools\": {}}", "tools"},
		{"{\"sandbox\": 1}", "sandbox"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (policy(cases[i].policy) >= 0)
			fail_msg("accepted: %s", cases[i].policy);
		if (strstr(err.msg, cases[i].names) == NULL)
			fail_msg("'%s' does not name %s", err.msg, cases[i].names);
		sup_sandbox_free(&sb);
	}
}

/* Short paths and names that merely start with dots are plain paths. */
static void test_plain_bind_paths_are_accepted(void **state)
{
	(void)state;
	assert_int_equal(policy("{\"sandbox\": {\"ro_binds\": [\"/r\", \"/a/..b\", \"/.c\", "
				"\"/procfs\", \"/devices/x\"]}}"),
			 0);
	assert_int_equal(sb.n_ro_binds, 5);
	assert_string_equal(sb.ro_binds[0], "/r");
	assert_string_equal(sb.ro_binds[3], "/procfs");
}

static void test_layers_turned_off_are_listed(void **state)
{
	char buf[128];
	size_t i = 0, n = 0;
	const char *w;
	bool seccomp = false, landlock = false, cgroup = false;

	(void)state;
	assert_int_equal(policy("{\"sandbox\": {\"seccomp\": false, \"landlock\": false, "
				"\"cgroup\": false}}"),
			 0);
	assert_true(sb.seccomp_off && sb.landlock_off && sb.cgroup_off);

	while ((w = sup_sandbox_weakened(&sb, &i, buf, sizeof(buf))) != NULL) {
		seccomp |= strstr(w, "seccomp: off") != NULL;
		landlock |= strstr(w, "landlock: off") != NULL;
		/* What is lost, said: rlimits are no memory bound (memfd). */
		cgroup |= strstr(w, "cgroup: off") != NULL &&
			  strstr(w, "memory bound not enforced") != NULL &&
			  strstr(w, "memfd") != NULL && strstr(w, "no cpu bound") != NULL;
		n++;
	}
	assert_int_equal(n, 3);
	assert_true(seccomp && landlock && cgroup);
	/* Each fits a record's data. */
	i = 0;
	for (n = 0; n < 3; n++) {
		char json[SUP_SB_WEAKENED_BYTES];

		assert_non_null(sup_sandbox_weakened_record(&sb, &i, json, sizeof(json)));
	}
	i = 0;
	assert_int_equal(policy("{}"), 0);
	assert_null(sup_sandbox_weakened(&sb, &i, buf, sizeof(buf)));
}

static char *docker_policy(const char *extra)
{
	const char *dir = getenv("WARDEN_TESTDATA");
	static char text[65536];
	char path[4096], prof[32768];
	size_t n;
	FILE *f;

	(void)snprintf(path, sizeof(path), "%s/docker-default-seccomp.json",
		       dir != NULL && dir[0] != '\0' ? dir : "tests/data");
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s: set WARDEN_TESTDATA", path);
	n = fread(prof, 1, sizeof(prof) - 1, f);
	(void)fclose(f);
	prof[n] = '\0';
	(void)snprintf(text, sizeof(text), "{\"sandbox\": {\"seccomp\": {\"profile\": %s%s}}}",
		       prof, extra);
	return text;
}

static void test_waivers_need_a_profile_and_a_hard_name_and_are_listed(void **state)
{
	char buf[128];
	size_t i = 0;
	const char *w;
	bool seen = false;

	(void)state;
	assert_int_equal(policy(docker_policy(", \"waive\": [\"ptrace\"]")), 0);
	assert_true(sb.has_profile);
	while ((w = sup_sandbox_weakened(&sb, &i, buf, sizeof(buf))) != NULL)
		seen |= strstr(w, "ptrace") != NULL;
	assert_true(seen);
	sup_sandbox_free(&sb);
	assert_true(policy(docker_policy(", \"waive\": [\"read\"]")) < 0);
	assert_non_null(strstr(err.msg, "waive[0]"));
	sup_sandbox_free(&sb);
}

static void test_prebuilt_filter_equals_libseccomp_compile(void **state)
{
	struct sup_sb_filter a, b;

	(void)state;
	assert_true(sup_sb_filter_prebuilt());
	assert_int_equal(policy(""), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &a, &err), 0);
	assert_int_equal(sup_sb_filter_compile(&sb, &b, &err), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.prog, b.prog, (size_t)a.len * 8);
	assert_memory_equal(&a.errnos, &b.errnos, sizeof(a.errnos));
	assert_int_equal(a.errnos.dflt, ENOSYS);
	sup_sb_filter_free(&a);
	sup_sb_filter_free(&b);
}

static void test_profile_filter_compiles_and_waiver_changes_it(void **state)
{
	struct sup_sb_filter a, b;

	(void)state;
	assert_int_equal(policy(docker_policy("")), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &a, &err), 0);
	assert_int_equal(a.errnos.dflt, EPERM); /* Docker's defaultErrnoRet */
	sup_sandbox_free(&sb);
	assert_int_equal(policy(docker_policy(", \"waive\": [\"personality\"]")), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &b, &err), 0);
	assert_true(a.len != b.len || memcmp(a.prog, b.prog, (size_t)a.len * 8) != 0);
	sup_sandbox_free(&sb);
	sup_sb_filter_free(&a);
	sup_sb_filter_free(&b);
}

/* ---- a filtered child -------------------------------------------------------- */

enum { R_NETLINK = 1, R_UNKNOWN = 2, R_TIOCSTI = 4, R_X32 = 8, R_CLONE3 = 16, R_GETPID = 32 };

/* In the child: each call's result as a bit when it is what the sandbox
 * must give. Raw syscalls only: nothing else between the filter and _exit. */
static void __attribute__((noreturn)) filtered_child(const struct sup_sb_filter *f, int sock)
{
	unsigned long args[11] = {0};
	char c = 'x';
	int bits = 0, listener;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		_exit(100);
	listener = sup_sb_filter_load(f);
	if (listener < 0 || wd_send_fd(sock, listener) < 0)
		_exit(101);
	(void)close(listener);
	if (syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0) < 0 && errno == EPERM)
		bits |= R_NETLINK;
	if (syscall(1000) < 0 && errno == ENOSYS)
		bits |= R_UNKNOWN;
	if (syscall(SYS_ioctl, 0, (1UL << 32) | (unsigned long)TIOCSTI, &c) < 0 && errno == EPERM)
		bits |= R_TIOCSTI;
	if (syscall(0x40000000L | 39) < 0 && errno == ENOSYS)
		bits |= R_X32;
	if (syscall(SYS_clone3, args, sizeof(args)) < 0 && errno == ENOSYS)
		bits |= R_CLONE3;
	if (syscall(SYS_getpid) > 0)
		bits |= R_GETPID;
	syscall(SYS_exit_group, bits);
	_exit(bits);
}

static void test_denials_reach_the_listener_and_fail(void **state)
{
	struct sup_sb_filter f;
	struct sup_sb_denial d;
	int sv[2], listener, ws = 0, denials = 0;
	bool netlink = false, unknown = false, ioctl_seen = false, x32 = false, clone3 = false;
	pid_t pid;

	(void)state;
	assert_int_equal(policy(""), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &f, &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		filtered_child(&f, sv[1]);
	(void)close(sv[1]);
	listener = wd_recv_fd(sv[0], 0);
	assert_true(listener >= 0);
	for (;;) {
		int rc = sup_sb_filter_answer(listener, &f.errnos, &d);

		assert_true(rc >= 0);
		if (rc == 1) {
			denials++;
			netlink |= strcmp(d.name, "socket") == 0 && d.err == EPERM;
			unknown |= d.nr == 1000 && d.err == ENOSYS;
			ioctl_seen |= strcmp(d.name, "ioctl") == 0 && d.err == EPERM;
			x32 |= strcmp(d.abi, "x32") == 0 && d.err == ENOSYS;
			clone3 |= strcmp(d.name, "clone3") == 0;
		}
		if (denials == 4)
			break;
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws),
			 R_NETLINK | R_UNKNOWN | R_TIOCSTI | R_X32 | R_CLONE3 | R_GETPID);
	assert_true(netlink && unknown && ioctl_seen && x32);
	assert_false(clone3); /* answered by the filter itself, unrecorded */
	(void)close(listener);
	(void)close(sv[0]);
	sup_sb_filter_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_turn_every_layer_on),
		cmocka_unit_test(test_policy_sets_every_field),
		cmocka_unit_test(test_host_id_replaces_the_default_and_refuses_a_policy_id),
		cmocka_unit_test(test_each_error_names_its_field),
		cmocka_unit_test(test_plain_bind_paths_are_accepted),
		cmocka_unit_test(test_layers_turned_off_are_listed),
		cmocka_unit_test(test_waivers_need_a_profile_and_a_hard_name_and_are_listed),
		cmocka_unit_test(test_prebuilt_filter_equals_libseccomp_compile),
		cmocka_unit_test(test_profile_filter_compiles_and_waiver_changes_it),
		cmocka_unit_test(test_denials_reach_the_listener_and_fail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
