/*
 * tests/unit/test_sandbox.c - sandbox/sandbox.c (the policy's
 * sandbox section) and sandbox/sbfilter.c (the seccomp filter): every
 * field read and bounded, errors naming the field, weakened layers listed,
 * the build-time filter identical to libseccomp's, and a filtered child
 * whose denials reach the listener and come back as errors, never success.
 *
 * Under a profile, whatever its default: the compiled program is run in
 * user space (bpf_run(), the instructions libseccomp emits) over the
 * argument filters' edges and thousands of other values, and a child
 * under each of an ALLOW, a LOG and Docker's ERRNO default makes the
 * calls the sandbox refuses.
 *
 * Docker's profile is read as in test_sandbox_ociseccomp.c.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../common/fdpass.h"
#include "../../policy/policy.h"
#include "../../sandbox/sandbox.h"
#include "../lib/bpfrun.h"

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
	static const char path[] = "tests/data/docker-default-seccomp.json";
	static char text[65536];
	char prof[32768];
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (the tests run from the repository's root)", path);
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

enum {
	R_NETLINK = 1,
	R_UNKNOWN = 2,
	R_TIOCSTI = 4,
	R_X32 = 8,
	R_CLONE3 = 16,
	R_GETPID = 32,
	R_MINUS_ONE = 64
};

/* In a forked child: no_new_privs, the filter, and its listener sent back
 * on `sock`. */
static void load_in_child(const struct sup_sb_filter *f, int sock)
{
	int listener;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		_exit(100);
	listener = sup_sb_filter_load(f);
	if (listener < 0 || wd_send_fd(sock, listener) < 0)
		_exit(101);
	(void)close(listener);
}

/* Fork `child`, which loads `f` (load_in_child) on one end of a socket
 * pair; the listener it sends back. */
static int start_filtered(const struct sup_sb_filter *f,
			  void (*child)(const struct sup_sb_filter *f, int sock), pid_t *pid)
{
	int sv[2], listener;

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		child(f, sv[1]);
		_exit(102);
	}
	(void)close(sv[1]);
	listener = wd_recv_fd(sv[0], 0);
	(void)close(sv[0]);
	assert_true(listener >= 0);
	return listener;
}

/* In the child: each call's result as a bit when it is what the sandbox
 * must give. Raw syscalls only: nothing else between the filter and _exit. */
static void __attribute__((noreturn)) filtered_child(const struct sup_sb_filter *f, int sock)
{
	unsigned long args[11] = {0};
	char c = 'x';
	int bits = 0;

	load_in_child(f, sock);
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
	if (syscall(-1) < 0 && errno == ENOSYS)
		bits |= R_MINUS_ONE;
	syscall(SYS_exit_group, bits);
	_exit(bits);
}

static void test_denials_reach_the_listener_and_fail(void **state)
{
	struct sup_sb_filter f;
	struct sup_sb_denial d;
	int listener, ws = 0, denials = 0;
	bool netlink = false, unknown = false, ioctl_seen = false, x32 = false, clone3 = false,
	     minus_one = false;
	char json[512];
	pid_t pid;

	(void)state;
	assert_int_equal(policy(""), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &f, &err), 0);
	listener = start_filtered(&f, filtered_child, &pid);
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
			/* syscall(-1): an x86_64 call (bit 30 of -1 is no x32), recorded as
			 * seccomp_data's number read unsigned */
			if (d.nr == -1) {
				assert_string_equal(d.abi, "x86_64");
				assert_int_equal(d.err, ENOSYS);
				assert_true(sup_sb_denial_json(&d, NULL, json, sizeof(json)) > 0);
				assert_non_null(strstr(json, "\"abi\":\"x86_64\""));
				assert_non_null(strstr(json, "\"nr\":4294967295,"));
				minus_one = true;
			}
		}
		if (denials == 5)
			break;
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), R_NETLINK | R_UNKNOWN | R_TIOCSTI | R_X32 | R_CLONE3 |
						  R_GETPID | R_MINUS_ONE);
	assert_true(netlink && unknown && ioctl_seen && x32 && minus_one);
	assert_false(clone3); /* answered by the filter itself, unrecorded */
	(void)close(listener);
	sup_sb_filter_free(&f);
}

/* ---- under a profile, whatever its default -------------------------------------- */

static char *profile_policy(const char *dflt, const char *groups)
{
	static char text[4096];

	(void)snprintf(text, sizeof(text),
		       "{\"sandbox\": {\"seccomp\": {\"profile\": {\"defaultAction\": \"%s\", "
		       "\"syscalls\": [%s]}}}}",
		       dflt, groups);
	return text;
}

/* What `prog` answers an x86_64 call of `nr` with `args` (run in user space). */
static uint32_t bpf_run(const void *prog, size_t len, int nr, const uint64_t args[6])
{
	uint32_t action = 0;

	if (wd_bpf_run(prog, len, nr, args, &action) < 0)
		fail_msg("a program bpf_run cannot run");
	return action;
}

static uint32_t run(const struct sup_sb_filter *f, const char *name, uint64_t a0, uint64_t a1)
{
	const uint64_t args[6] = {a0, a1, 0, 0, 0, 0};

	return bpf_run(f->prog, f->len, seccomp_syscall_resolve_name(name), args);
}

#define NS_FLAGS                                                                                   \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |  \
		    CLONE_NEWPID | CLONE_NEWNET))

/* The argument filters said again in plain C: true when the sandbox refuses. */
static bool refused(const char *name, uint64_t a0, uint64_t a1)
{
	if (strcmp(name, "socket") == 0)
		return a0 != AF_UNIX && a0 != AF_INET && a0 != AF_INET6;
	if (strcmp(name, "socketpair") == 0)
		return a0 != AF_UNIX;
	if (strcmp(name, "clone") == 0)
		return (a0 & NS_FLAGS) != 0;
	if (strcmp(name, "ioctl") == 0)
		return (uint32_t)a1 == TIOCSTI || (uint32_t)a1 == TIOCLINUX;
	return a0 != PER_LINUX && a0 != PER_LINUX32 && a0 != 0xffffffffU; /* personality */
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The n-th value tried: the filters' edges first, then random ones of
 * every shape (small, one bit, a denied low half under random high bits). */
static uint64_t probe_value(size_t n, uint64_t *seed)
{
	static const uint64_t edges[] = {0,
					 1,
					 2,
					 3,
					 7,
					 8,
					 9,
					 10,
					 11,
					 15,
					 16,
					 38,
					 40,
					 0x5412,
					 0x541C,
					 0x5413,
					 0x5401,
					 0x20000,
					 0x20008,
					 0x400000,
					 0x40000,
					 0x7E020000,
					 0x10000000 | 0x40000000,
					 0x7ffffffe,
					 0x80000000,
					 0xfffffffe,
					 0xffffffff,
					 1ULL << 32,
					 (1ULL << 32) | 1,
					 (1ULL << 32) | 0x5412,
					 0xffffffff00005412ULL,
					 0xffffffff0000541cULL,
					 (1ULL << 32) | 16,
					 1ULL << 40,
					 UINT64_MAX - 1,
					 UINT64_MAX};
	uint64_t r = xorshift(seed);

	if (n < sizeof(edges) / sizeof(edges[0]))
		return edges[n];
	switch (n % 5) {
	case 0:
		return r;
	case 1:
		return r % 64;
	case 2:
		return 1ULL << (r % 64);
	case 3:
		return (r & ~0xffffffffULL) | (r % 2 ? 0x5412 : 0x541C);
	default:
		return (r & ~0xffffffffULL) | (r % 11);
	}
}

/* SCMP_ACT_ERRNO in a profile goes to the listener. */
static uint32_t kernel_action(const char *profile_action)
{
	if (strcmp(profile_action, "SCMP_ACT_ALLOW") == 0)
		return SECCOMP_RET_ALLOW;
	if (strcmp(profile_action, "SCMP_ACT_LOG") == 0)
		return SECCOMP_RET_LOG;
	if (strcmp(profile_action, "SCMP_ACT_KILL_PROCESS") == 0)
		return SECCOMP_RET_KILL_PROCESS;
	if (strcmp(profile_action, "SCMP_ACT_TRAP") == 0)
		return SECCOMP_RET_TRAP;
	return SECCOMP_RET_USER_NOTIF;
}

static const char *const filtered[] = {"socket", "socketpair", "clone", "ioctl", "personality"};

static void test_argument_filters_hold_under_any_default(void **state)
{
	static const char *const defaults[] = {"SCMP_ACT_ALLOW", "SCMP_ACT_LOG", "SCMP_ACT_ERRNO",
					       "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_TRAP"};
	/* With no group, and with a group allowing each name outright. */
	static const char *const groups[] = {
		"",
		"{\"names\": [\"socket\", \"socketpair\", \"clone\", \"ioctl\", \"personality\", "
		"\"execve\", \"ptrace\", \"clone3\", \"read\"], \"action\": \"SCMP_ACT_ALLOW\"}"};
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	for (size_t di = 0; di < sizeof(defaults) / sizeof(defaults[0]); di++)
		for (size_t gi = 0; gi < 2; gi++) {
			uint32_t dflt = kernel_action(defaults[di]);
			uint32_t allowed = gi == 1 ? SECCOMP_RET_ALLOW : dflt;
			struct sup_sb_filter f = {0};

			if (policy(profile_policy(defaults[di], groups[gi])) < 0 ||
			    sup_sb_filter_compile(&sb, &f, &err) < 0)
				fail_msg("%s, group %zu: %s", defaults[di], gi, err.msg);
			for (size_t fi = 0; fi < 5; fi++) {
				const char *name = filtered[fi];

				assert_int_equal(f.errnos.by_nr[seccomp_syscall_resolve_name(name)],
						 EPERM);
				for (size_t n = 0; n < 3000; n++) {
					uint64_t v = probe_value(n, &seed), a0 = v, a1 = 0;
					uint32_t want, got;

					if (strcmp(name, "ioctl") == 0) {
						a0 = 0;
						a1 = v;
					}
					want = refused(name, a0, a1) ? SECCOMP_RET_USER_NOTIF
								     : allowed;
					got = run(&f, name, a0, a1) & SECCOMP_RET_ACTION_FULL;
					if (got != want)
						fail_msg("%s, group %zu: %s(0x%llx, 0x%llx) gave "
							 "0x%x, "
							 "want 0x%x",
							 defaults[di], gi, name,
							 (unsigned long long)a0,
							 (unsigned long long)a1, got, want);
				}
			}
			/* The hard denials, clone3, and the exec audit. */
			assert_int_equal(run(&f, "ptrace", 0, 0), SECCOMP_RET_USER_NOTIF);
			assert_int_equal(run(&f, "clone3", 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
			if (allowed == SECCOMP_RET_ALLOW || allowed == SECCOMP_RET_LOG) {
				assert_int_equal(run(&f, "execve", 0, 0), SECCOMP_RET_USER_NOTIF);
				assert_int_equal(
					f.errnos.by_nr[seccomp_syscall_resolve_name("execve")],
					SUP_SB_EXEC);
				assert_int_equal(
					run(&f, "execveat", 0, 0) & SECCOMP_RET_ACTION_FULL,
					dflt == SECCOMP_RET_ALLOW || dflt == SECCOMP_RET_LOG
						? SECCOMP_RET_USER_NOTIF
						: dflt);
			} else {
				assert_int_equal(run(&f, "execve", 0, 0) & SECCOMP_RET_ACTION_FULL,
						 dflt);
			}
			assert_int_equal(run(&f, "read", 0, 0) & SECCOMP_RET_ACTION_FULL, allowed);
			sup_sb_filter_free(&f);
			sup_sandbox_free(&sb);
		}
}

/* On the values the sandbox allows, a stricter profile still decides. */
static void test_a_stricter_profile_decides_the_allowed_values(void **state)
{
	static const struct {
		const char *name;
		uint64_t a0, a1;
		uint32_t want;
	} cases[] = {
		{"socket", AF_INET, 0, SECCOMP_RET_ALLOW},
		{"socket", AF_UNIX, 0, SECCOMP_RET_LOG},         /* the profile's default */
		{"socket", AF_INET6, 0, SECCOMP_RET_USER_NOTIF}, /* the profile's ERRNO */
		{"socket", AF_NETLINK, 0, SECCOMP_RET_USER_NOTIF},
		{"ioctl", 0, TCGETS, SECCOMP_RET_ALLOW},
		{"ioctl", 1, TCGETS, SECCOMP_RET_LOG},
		{"ioctl", 0, TIOCSTI, SECCOMP_RET_USER_NOTIF},
		{"ioctl", 1, (1ULL << 32) | TIOCSTI, SECCOMP_RET_USER_NOTIF},
		{"personality", PER_LINUX32, 0, SECCOMP_RET_KILL_PROCESS},
		{"personality", PER_LINUX, 0, SECCOMP_RET_LOG},
		{"personality", READ_IMPLIES_EXEC, 0, SECCOMP_RET_USER_NOTIF},
		{"clone", SIGCHLD, 0, SECCOMP_RET_ALLOW},
		{"clone", SIGCHLD | CLONE_NEWUSER, 0, SECCOMP_RET_USER_NOTIF},
		/* valueTwo 257 under the mask 255 is 1, as libseccomp compiles it */
		{"socketpair", AF_UNIX, 0, SECCOMP_RET_ALLOW},
		{"socketpair", AF_INET, 0, SECCOMP_RET_USER_NOTIF},
	};
	struct sup_sb_filter f = {0};

	(void)state;
	assert_int_equal(
		policy(profile_policy(
			"SCMP_ACT_LOG",
			"{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
			"[{\"index\": 0, \"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}, "
			"{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": "
			"[{\"index\": 0, \"value\": 10, \"op\": \"SCMP_CMP_EQ\"}]}, "
			"{\"names\": [\"ioctl\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
			"[{\"index\": 0, \"value\": 0, \"op\": \"SCMP_CMP_EQ\"}]}, "
			"{\"names\": [\"personality\"], \"action\": \"SCMP_ACT_KILL_PROCESS\", "
			"\"args\": [{\"index\": 0, \"value\": 8, \"op\": \"SCMP_CMP_EQ\"}]}, "
			"{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
			"[{\"index\": 0, \"value\": 2114060288, \"op\": "
			"\"SCMP_CMP_MASKED_EQ\"}]}, "
			"{\"names\": [\"socketpair\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
			"[{\"index\": 0, \"value\": 255, \"valueTwo\": 257, \"op\": "
			"\"SCMP_CMP_MASKED_EQ\"}]}")),
		0);
	if (sup_sb_filter_compile(&sb, &f, &err) < 0)
		fail_msg("%s", err.msg);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t got =
			run(&f, cases[i].name, cases[i].a0, cases[i].a1) & SECCOMP_RET_ACTION_FULL;

		if (got != cases[i].want)
			fail_msg("%s(0x%llx, 0x%llx) gave 0x%x, want 0x%x", cases[i].name,
				 (unsigned long long)cases[i].a0, (unsigned long long)cases[i].a1,
				 got, cases[i].want);
	}
	sup_sb_filter_free(&f);
	sup_sandbox_free(&sb);
}

/* What a profile asks that the sandbox cannot give is refused, naming the group. */
static void test_what_cannot_be_honoured_is_refused(void **state)
{
	static const struct {
		const char *dflt, *groups, *says;
	} cases[] = {
		{"SCMP_ACT_ALLOW",
		 "{\"names\": [\"ptrace\"], \"action\": \"SCMP_ACT_KILL_PROCESS\"}",
		 "syscalls[0] (ptrace): SCMP_ACT_KILL_PROCESS cannot be honoured"},
		{"SCMP_ACT_ALLOW",
		 "{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ALLOW\"}, {\"names\": [\"bpf\"], "
		 "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 38}",
		 "syscalls[1] (bpf): errnoRet 38 cannot be honoured"},
		{"SCMP_ACT_ALLOW", "{\"names\": [\"clone3\"], \"action\": \"SCMP_ACT_ERRNO\"}",
		 "(clone3): errnoRet 1 cannot be honoured"},
		{"SCMP_ACT_ALLOW", "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_TRAP\"}",
		 "(socket): SCMP_ACT_TRAP cannot be honoured"},
		{"SCMP_ACT_ALLOW",
		 "{\"names\": [\"socket\"], \"action\": \"SCMP_ACT_KILL\", \"args\": [{\"index\": "
		 "0, "
		 "\"value\": 5, \"op\": \"SCMP_CMP_LT\"}]}",
		 "(socket): SCMP_ACT_KILL cannot be honoured"},
		{"SCMP_ACT_ERRNO",
		 "{\"names\": [\"clone\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": "
		 "0, "
		 "\"value\": 5, \"op\": \"SCMP_CMP_GT\"}]}",
		 "(clone): its condition on argument 0 meets the values the sandbox allows only in "
		 "part"},
		{"SCMP_ACT_LOG",
		 "{\"names\": [\"execve\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": [{\"index\": "
		 "2, "
		 "\"value\": 0, \"op\": \"SCMP_CMP_NE\"}]}",
		 "(execve): argument conditions cannot be compiled with the exec audit on"},
	};
	struct sup_sb_filter f = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(policy(profile_policy(cases[i].dflt, cases[i].groups)), 0);
		if (sup_sb_filter_compile(&sb, &f, &err) >= 0)
			fail_msg("compiled: %s", cases[i].groups);
		if (strstr(err.msg, cases[i].says) == NULL)
			fail_msg("'%s' does not say '%s'", err.msg, cases[i].says);
		assert_null(f.prog);
		sup_sandbox_free(&sb);
	}
	/* A kill within what the sandbox allows is the profile's to give; a
	 * waived name is the profile's entirely. */
	assert_int_equal(
		policy(profile_policy("SCMP_ACT_ALLOW",
				      "{\"names\": [\"socket\"], \"action\": "
				      "\"SCMP_ACT_KILL_PROCESS\", \"args\": [{\"index\": 0, "
				      "\"value\": 2, \"op\": \"SCMP_CMP_EQ\"}]}")),
		0);
	assert_int_equal(sup_sb_filter_compile(&sb, &f, &err), 0);
	assert_int_equal(run(&f, "socket", AF_INET, 0), SECCOMP_RET_KILL_PROCESS);
	assert_int_equal(run(&f, "socket", AF_UNIX, 0), SECCOMP_RET_ALLOW);
	assert_int_equal(run(&f, "socket", AF_NETLINK, 0), SECCOMP_RET_USER_NOTIF);
	sup_sb_filter_free(&f);
	sup_sandbox_free(&sb);
}

/* Before this sandbox's own rules: what libseccomp does with two rules for
 * one syscall whose actions differ. Not "the stricter wins": an
 * unconditional rule replaces the conditional ones (added before or after),
 * and overlapping conditions are tried in libseccomp's order of comparison
 * kinds. So the filter never lets its rules overlap a profile's. */
static void test_libseccomp_does_not_settle_conflicts_by_strictness(void **state)
{
	const struct scmp_arg_cmp netlink = SCMP_A0_64(SCMP_CMP_EQ, AF_NETLINK),
				  below = SCMP_A0_64(SCMP_CMP_LT, 38);
	const uint64_t args[6] = {AF_NETLINK, SOCK_RAW, 0, 0, 0, 0};

	(void)state;
	for (int c = 0; c < 4; c++) {
		scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
		int fd = memfd_create("test", MFD_CLOEXEC), nr = SCMP_SYS(socket);
		struct sock_filter prog[256];
		ssize_t n;
		uint32_t action;

		assert_non_null(ctx);
		assert_true(fd >= 0);
		if (c < 2) { /* a conditional NOTIFY beside an unconditional ALLOW */
			if (c == 1)
				assert_int_equal(seccomp_rule_add_exact_array(ctx, SCMP_ACT_NOTIFY,
									      nr, 1, &netlink),
						 0);
			assert_int_equal(seccomp_rule_add_exact(ctx, SCMP_ACT_ALLOW, nr, 0), 0);
			if (c == 0)
				assert_int_equal(seccomp_rule_add_exact_array(ctx, SCMP_ACT_NOTIFY,
									      nr, 1, &netlink),
						 0);
		} else { /* an ALLOW on a == 16 beside a NOTIFY on a < 38 */
			const struct scmp_arg_cmp *first = c == 2 ? &netlink : &below;

			assert_int_equal(
				seccomp_rule_add_exact_array(
					ctx, first == &netlink ? SCMP_ACT_ALLOW : SCMP_ACT_NOTIFY,
					nr, 1, first),
				0);
			assert_int_equal(
				seccomp_rule_add_exact_array(
					ctx, first == &netlink ? SCMP_ACT_NOTIFY : SCMP_ACT_ALLOW,
					nr, 1, first == &netlink ? &below : &netlink),
				0);
		}
		assert_int_equal(seccomp_export_bpf(ctx, fd), 0);
		n = pread(fd, prog, sizeof(prog), 0);
		assert_true(n > 0);
		action = bpf_run(prog, (size_t)n / sizeof(prog[0]), nr, args);
		if (action != SECCOMP_RET_ALLOW)
			fail_msg("case %d: socket(AF_NETLINK) gave 0x%x, not ALLOW", c, action);
		(void)close(fd);
		seccomp_release(ctx);
	}
}

static void test_an_allowing_default_is_recorded(void **state)
{
	char buf[128];
	size_t i = 0;
	const char *w;
	bool seen = false;

	(void)state;
	assert_int_equal(policy(profile_policy("SCMP_ACT_LOG", "")), 0);
	while ((w = sup_sandbox_weakened(&sb, &i, buf, sizeof(buf))) != NULL)
		seen |= strcmp(w, "seccomp: the profile's defaultAction SCMP_ACT_LOG allows every "
				  "syscall it does not name") == 0;
	assert_true(seen);
	sup_sandbox_free(&sb);
	i = 0;
	seen = false;
	assert_int_equal(policy(docker_policy("")), 0);
	while ((w = sup_sandbox_weakened(&sb, &i, buf, sizeof(buf))) != NULL)
		seen |= strstr(w, "defaultAction") != NULL;
	assert_false(seen); /* Docker's default refuses */
	sup_sandbox_free(&sb);
}

/* ---- a child under a profile -------------------------------------------------- */

enum { C_CLONE = 1, C_NETLINK = 2, C_PERSONALITY = 4, C_TIOCSTI = 8, C_EXEC = 16, C_GETPID = 32 };

/* In the child: each refused call must fail with EPERM, and the exec must
 * reach the kernel (which finds no such file) once it is recorded. Raw
 * syscalls only. */
static void __attribute__((noreturn)) profiled_child(const struct sup_sb_filter *f, int sock)
{
	static char path[] = "/nonexistent/warden-test";
	char *const argv[] = {path, NULL};
	char c = 'x';
	int bits = 0;
	long rc;

	load_in_child(f, sock);
	rc = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | CLONE_NEWNET | SIGCHLD), 0UL, 0UL,
		     0UL, 0UL);
	if (rc == 0) /* the new process: the filter let the namespaces through */
		syscall(SYS_exit_group, 0);
	if (rc < 0 && errno == EPERM)
		bits |= C_CLONE;
	if (syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0) < 0 && errno == EPERM)
		bits |= C_NETLINK;
	if (syscall(SYS_personality, (unsigned long)READ_IMPLIES_EXEC) < 0 && errno == EPERM)
		bits |= C_PERSONALITY;
	if (syscall(SYS_ioctl, sock, (unsigned long)TIOCSTI, &c) < 0 && errno == EPERM)
		bits |= C_TIOCSTI;
	if (syscall(SYS_execve, path, argv, NULL) < 0 && errno == ENOENT)
		bits |= C_EXEC;
	if (syscall(SYS_getpid) > 0)
		bits |= C_GETPID;
	syscall(SYS_exit_group, bits);
	_exit(bits);
}

static void refused_calls_reach_the_listener(const char *what, const char *text)
{
	struct sup_sb_filter f = {0};
	struct sup_sb_denial d;
	int listener, ws = 0, seen = 0;
	pid_t pid;

	if (policy(text) < 0 || sup_sb_filter_compile(&sb, &f, &err) < 0)
		fail_msg("%s: %s", what, err.msg);
	listener = start_filtered(&f, profiled_child, &pid);
	for (;;) {
		struct pollfd p = {.fd = listener, .events = POLLIN, .revents = 0};
		int rc;

		if (poll(&p, 1, 5000) <= 0 || (p.revents & POLLIN) == 0)
			break; /* every filtered process is gone */
		rc = sup_sb_filter_answer(listener, &f.errnos, &d);
		assert_true(rc >= 0);
		if (rc == 0)
			continue;
		if (d.exec)
			seen |= strcmp(d.name, "execve") == 0 ? C_EXEC : 0;
		else if (d.err == EPERM && strcmp(d.name, "clone") == 0)
			seen |= C_CLONE;
		else if (d.err == EPERM && strcmp(d.name, "socket") == 0)
			seen |= C_NETLINK;
		else if (d.err == EPERM && strcmp(d.name, "personality") == 0)
			seen |= C_PERSONALITY;
		else if (d.err == EPERM && strcmp(d.name, "ioctl") == 0)
			seen |= C_TIOCSTI;
		else
			fail_msg("%s: an unexpected notification: %s, errno %d", what, d.name,
				 d.err);
	}
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 63)
		fail_msg("%s: the child's calls gave 0x%x, want 0x3f (wait status 0x%x)", what,
			 WIFEXITED(ws) ? WEXITSTATUS(ws) : 0, ws);
	if (seen != (C_CLONE | C_NETLINK | C_PERSONALITY | C_TIOCSTI | C_EXEC))
		fail_msg("%s: the listener saw 0x%x, want 0x1f", what, seen);
	(void)close(listener);
	sup_sb_filter_free(&f);
	sup_sandbox_free(&sb);
}

static void test_refused_calls_reach_the_listener_under_an_allow_default(void **state)
{
	(void)state;
	refused_calls_reach_the_listener("SCMP_ACT_ALLOW", profile_policy("SCMP_ACT_ALLOW", ""));
}

static void test_refused_calls_reach_the_listener_under_a_log_default(void **state)
{
	(void)state;
	refused_calls_reach_the_listener("SCMP_ACT_LOG", profile_policy("SCMP_ACT_LOG", ""));
}

static void test_refused_calls_reach_the_listener_under_dockers_profile(void **state)
{
	(void)state;
	refused_calls_reach_the_listener("Docker's", docker_policy(""));
}

/* An exec with 5000 arguments, 904 more than the digest covers. */
static void __attribute__((noreturn)) many_args_child(const struct sup_sb_filter *f, int sock)
{
	static char path[] = "/nonexistent/warden-test", a[] = "a";
	static char *argv[SUP_SB_EXEC_ARGS + 905];

	argv[0] = path;
	for (size_t i = 1; i < SUP_SB_EXEC_ARGS + 904; i++)
		argv[i] = a;
	load_in_child(f, sock);
	syscall(SYS_execve, path, argv, NULL);
	syscall(SYS_exit_group, errno == ENOENT ? 0 : 1);
	_exit(1);
}

/* Past SUP_SB_EXEC_ARGS arguments, the exec record counts them all and says
 * that its digest covers only the first ones. */
static void test_an_exec_past_the_argument_cap_says_so(void **state)
{
	struct sup_sb_filter f;
	struct sup_sb_denial d;
	char json[1024];
	int listener, ws = 0, rc;
	pid_t pid;

	(void)state;
	assert_int_equal(policy(""), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &f, &err), 0);
	listener = start_filtered(&f, many_args_child, &pid);
	do
		rc = sup_sb_filter_receive(listener, &f.errnos, &d);
	while (rc == 0);
	assert_int_equal(rc, 1);
	assert_true(d.exec);
	assert_true(sup_sb_exec_json(listener, &d, json, sizeof(json)) > 0);
	sup_sb_filter_respond(listener, &d);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	assert_non_null(strstr(json, "\"argc\":5000,"));
	assert_non_null(strstr(json, "\"argv_truncated\":true"));
	assert_null(strstr(json, "unreadable"));
	(void)close(listener);
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
		cmocka_unit_test(test_argument_filters_hold_under_any_default),
		cmocka_unit_test(test_a_stricter_profile_decides_the_allowed_values),
		cmocka_unit_test(test_what_cannot_be_honoured_is_refused),
		cmocka_unit_test(test_libseccomp_does_not_settle_conflicts_by_strictness),
		cmocka_unit_test(test_an_allowing_default_is_recorded),
		cmocka_unit_test(test_refused_calls_reach_the_listener_under_an_allow_default),
		cmocka_unit_test(test_refused_calls_reach_the_listener_under_a_log_default),
		cmocka_unit_test(test_refused_calls_reach_the_listener_under_dockers_profile),
		cmocka_unit_test(test_an_exec_past_the_argument_cap_says_so),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
