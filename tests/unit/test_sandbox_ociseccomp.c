/*
 * tests/unit/test_sandbox_ociseccomp.c - sandbox/ociseccomp.c: Docker's
 * default profile reads, its conditions are evaluated for x86_64 with no
 * capabilities, and every malformed profile is refused with its JSON path.
 *
 * Docker's profile is read from tests/data/docker-default-seccomp.json (the
 * tests run from the repository root; tests/data/README.md says where the
 * file comes from).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../sandbox/ociseccomp.h"

#define PROFILE_NAME "docker-default-seccomp.json"

static size_t read_docker_profile(uint8_t *buf, size_t size)
{
	static const char path[] = "tests/data/" PROFILE_NAME;
	size_t n;
	FILE *f;

	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s (the tests run from the repository's root)", path);
	n = fread(buf, 1, size, f);
	(void)fclose(f);
	assert_true(n > 0 && n < size);
	return n;
}

static uint8_t text[SUP_SC_MAX_TEXT_BYTES + 1];

static bool group_has(const struct sup_sc_group *g, const char *name)
{
	for (size_t i = 0; i < g->n_names; i++)
		if (strcmp(g->names[i], name) == 0)
			return true;
	return false;
}

static const struct sup_sc_group *find(const struct sup_sc_profile *p, const char *name)
{
	for (size_t i = 0; i < p->n_groups; i++)
		if (group_has(&p->groups[i], name))
			return &p->groups[i];
	return NULL;
}

static void test_docker_default_profile_filters_for_x86_64_without_caps(void **state)
{
	struct sup_sc_profile p;
	const struct sup_sc_group *g;
	struct wd_err err;
	size_t n = read_docker_profile(text, sizeof(text));
	size_t clones = 0;

	(void)state;
	assert_int_equal(sup_sc_parse(text, n, "6.1.0-18-amd64", &p, &err), 0);
	assert_int_equal(p.default_action, SUP_SC_ACT_ERRNO);
	assert_true(p.has_default_errno_ret);
	assert_int_equal(p.default_errno_ret, 1);
	assert_int_equal(p.n_arches, 0);
	/* 33 groups: the main allowlist, ptrace & co (minKernel 4.8), 3 socket
	 * and 5 personality rules, arch_prctl and modify_ldt (amd64), clone
	 * with flags (excluded only for CAP_SYS_ADMIN or s390) and clone3's
	 * ENOSYS; every group needing a capability or another arch is dropped. */
	assert_int_equal(p.n_groups, 14);
	assert_int_equal(p.dropped, 19);
	assert_int_equal(p.groups[0].n_names, 361);
	assert_non_null(find(&p, "ptrace"));
	assert_non_null(find(&p, "arch_prctl"));
	assert_null(find(&p, "mount")); /* CAP_SYS_ADMIN */
	assert_null(find(&p, "bpf"));
	assert_null(find(&p, "perf_event_open"));
	assert_null(find(&p, "s390_runtime_instr"));
	for (size_t i = 0; i < p.n_groups; i++) {
		g = &p.groups[i];
		if (!group_has(g, "clone"))
			continue;
		clones++;
		assert_int_equal(g->source_index, 18);
		assert_int_equal(g->n_args, 1);
		assert_int_equal(g->args[0].index, 0);
		assert_int_equal(g->args[0].op, SUP_SC_CMP_MASKED_EQ);
		assert_int_equal(g->args[0].value, 2114060288);
		assert_int_equal(g->args[0].value_two, 0);
	}
	assert_int_equal(clones, 1);
	g = find(&p, "clone3");
	assert_non_null(g);
	assert_int_equal(g->action, SUP_SC_ACT_ERRNO);
	assert_true(g->has_errno_ret);
	assert_int_equal(g->errno_ret, 38);
	sup_sc_free(&p);
}

static void test_min_kernel_drops_groups_on_older_kernels(void **state)
{
	struct sup_sc_profile p;
	struct wd_err err;
	size_t n = read_docker_profile(text, sizeof(text));

	(void)state;
	assert_int_equal(sup_sc_parse(text, n, "4.4.0", &p, &err), 0);
	assert_int_equal(p.n_groups, 13);
	assert_null(find(&p, "ptrace"));
	sup_sc_free(&p);
	assert_int_equal(sup_sc_parse(text, n, "4.8", &p, &err), 0);
	assert_non_null(find(&p, "ptrace"));
	sup_sc_free(&p);
}

/* Parse `json`, expect failure, and the message to contain `want`. */
static void refused(const char *json, const char *want)
{
	struct sup_sc_profile p;
	struct wd_err err;

	wd_err_clear(&err);
	assert_true(sup_sc_parse((const uint8_t *)json, strlen(json), "6.1.0", &p, &err) < 0);
	if (strstr(err.msg, want) == NULL)
		fail_msg("'%s' does not contain '%s'", err.msg, want);
	assert_null(p.groups);
}

#define GROUP(body) "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[" body "]}"

static void test_malformed_profiles_are_refused_naming_the_path(void **state)
{
	(void)state;
	refused("[]", "not a JSON object");
	refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"bogus\":1}", "unknown field 'bogus'");
	refused("{}", "missing field 'defaultAction'");
	refused("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "never allowed");
	refused("{\"defaultAction\":\"SCMP_ACT_TRACE\"}", "never allowed");
	refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"defaultAction\":\"SCMP_ACT_ALLOW\"}",
		"given twice");
	refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":-1}", "negative");
	refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":1.5}", "not an integer");
	refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":01}",
		"malformed number");
	refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_VAX\"]}",
		"architectures[0]: unknown architecture");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"x\":1}"),
		"syscalls[0]: unknown field 'x'");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
		      "{\"names\":[\"write\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,"
		      "\"value\":1,\"op\":\"SCMP_CMP_FOO\"}]}"),
		"syscalls[1].args[0].op: unknown operator 'SCMP_CMP_FOO'");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":6,"
		      "\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}"),
		"syscalls[0].args[0].index: over the bound 5");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_NOTIFY\"}"),
		"syscalls[0].action: action 'SCMP_ACT_NOTIFY' is never allowed");
	refused(GROUP("{\"names\":["
		      "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"],"
		      "\"action\":\"SCMP_ACT_ALLOW\"}"),
		"syscalls[0].names[0]: length 65");
	refused(GROUP("{\"names\":[\"Read\"],\"action\":\"SCMP_ACT_ALLOW\"}"), "not [a-z0-9_]");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{"
		      "\"arches\":"
		      "[\"vax\"]}}"),
		"syscalls[0].includes.arches[0]: unknown architecture 'vax'");
	refused(GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{"
		      "\"minKernel\":\"four\"}}"),
		"syscalls[0].excludes.minKernel");
	refused(GROUP("1"), "syscalls[0]: expected an object");
	refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"archMap\":[{\"architecture\":"
		"\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_Z\"]}]}",
		"archMap[0].subArchitectures[0]");
	refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/run/x\"}",
		"never allowed");
}

static void test_too_many_names_or_args_are_refused(void **state)
{
	static char big[SUP_SC_MAX_TEXT_BYTES + 2];
	size_t n;

	(void)state;
	n = (size_t)snprintf(big, sizeof(big), "%s",
			     "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[");
	for (unsigned i = 0; i <= SUP_SC_MAX_NAMES; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s\"n%u\"", i ? "," : "", i);
	(void)snprintf(big + n, sizeof(big) - n, "],\"action\":\"SCMP_ACT_ALLOW\"}]}");
	refused(big, "syscalls[0].names: more than 512 entries");

	n = (size_t)snprintf(
		big, sizeof(big), "%s",
		GROUP("{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\",\"args\":["));
	n -= 2; /* reopen the args array */
	for (unsigned i = 0; i <= SUP_SC_MAX_ARGS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n,
				      "%s{\"index\":0,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}",
				      i ? "," : "");
	(void)snprintf(big + n, sizeof(big) - n, "]}]}");
	refused(big, "syscalls[0].args: more than 6 entries");

	memset(big, ' ', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	refused(big, "over");
}

static void test_small_profile_round_facts(void **state)
{
	static const char json[] =
		"{\"defaultAction\":\"SCMP_ACT_KILL_PROCESS\",\"architectures\":"
		"[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"read\",\"write\"],"
		"\"action\":\"SCMP_ACT_ALLOW\",\"comment\":\"io\"},{\"names\":[\"ioctl\"],"
		"\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1,\"args\":[{\"index\":1,"
		"\"value\":4294967295,\"valueTwo\":21522,\"op\":\"SCMP_CMP_MASKED_EQ\"}]},"
		"{\"names\":[\"reboot\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
		"[\"CAP_SYS_BOOT\"]}},{\"names\":[\"arch_prctl\"],\"action\":\"SCMP_ACT_LOG\","
		"\"excludes\":{\"arches\":[\"amd64\"]}}]}";
	struct sup_sc_profile p;
	struct wd_err err;

	(void)state;
	assert_int_equal(sup_sc_parse((const uint8_t *)json, strlen(json), "6.1", &p, &err), 0);
	assert_int_equal(p.default_action, SUP_SC_ACT_KILL_PROCESS);
	assert_false(p.has_default_errno_ret);
	assert_int_equal(p.n_arches, 1);
	assert_string_equal(p.arches[0], "SCMP_ARCH_X86_64");
	assert_int_equal(p.n_groups, 2);
	assert_int_equal(p.dropped, 2);
	assert_string_equal(p.groups[0].names[1], "write");
	assert_false(p.groups[0].has_errno_ret);
	assert_int_equal(p.groups[1].args[0].index, 1);
	assert_int_equal(p.groups[1].args[0].value, 4294967295ULL);
	assert_int_equal(p.groups[1].args[0].value_two, 21522);
	sup_sc_free(&p);
	sup_sc_free(&p); /* a freed profile is zeroed: freeing again is harmless */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker_default_profile_filters_for_x86_64_without_caps),
		cmocka_unit_test(test_min_kernel_drops_groups_on_older_kernels),
		cmocka_unit_test(test_malformed_profiles_are_refused_naming_the_path),
		cmocka_unit_test(test_too_many_names_or_args_are_refused),
		cmocka_unit_test(test_small_profile_round_facts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
