/*
 * tests/unit/test_host_cli.c - host/cli.c: the arguments of `warden run`.
 *
 * What the parser promises (cli.h): defaults when an option is absent,
 * both `--opt VALUE` and `--opt=VALUE`, the command starting at `--` or at
 * the first non-option, strict values (the common/parse.c rules), --file
 * split at its last ':' with NAME one plain path component, --env as
 * KEY=VALUE with a shell-style KEY, VM-only options refused with --vmm
 * local, and one error line naming the option at fault for everything
 * else. No file is touched: these run without a VM or a kernel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../host/cli.h"

#define MAX_TEST_ARGS 200
#define END ((const char *)NULL) /* ends parse()'s list, typed for varargs */

static struct wd_run_opts opts;
static struct wd_err err;
static char opt_file[] = "--file", cmd_x[] = "x";

/* Parse a NULL-terminated list of arguments (those after `run`). */
static int parse_list(const char *first, va_list ap)
{
	static char store[MAX_TEST_ARGS][128];
	static char *argv[MAX_TEST_ARGS + 1];
	int argc = 0;

	for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
		assert_true(argc < MAX_TEST_ARGS);
		assert_true(strlen(a) < sizeof(store[0]));
		(void)snprintf(store[argc], sizeof(store[0]), "%s", a);
		argv[argc] = store[argc];
		argc++;
	}
	argv[argc] = NULL;
	wd_err_clear(&err);
	return wd_cli_parse_run(argc, argv, &opts, &err);
}

static int parse(const char *first, ...)
{
	va_list ap;
	int rc;

	va_start(ap, first);
	rc = parse_list(first, ap);
	va_end(ap);
	return rc;
}

/* The parse must fail with `code` and a message containing `text`. */
static void assert_rejected(int rc, int code, const char *text)
{
	assert_int_equal(rc, -code);
	assert_int_equal(err.code, code);
	if (strstr(err.msg, text) == NULL)
		fail_msg("error '%s' does not mention '%s'", err.msg, text);
}

static void test_defaults_when_only_a_command_is_given(void **state)
{
	(void)state;
	assert_int_equal(parse("--", "/bin/true", END), 0);
	assert_int_equal(opts.vmm, WD_VMM_QEMU);
	assert_null(opts.kernel);
	assert_null(opts.image);
	assert_null(opts.policy);
	assert_null(opts.audit_dir);
	assert_int_equal(opts.nfiles, 0);
	assert_int_equal(opts.nenv, 0);
	assert_int_equal(opts.timeout_ms, 0);
	assert_false(opts.tty);
	assert_false(opts.help);
	assert_int_equal(opts.verbose, 0);
	assert_int_equal(opts.mem_mib, WD_RUN_DEFAULT_MEM_MIB);
	assert_int_equal(opts.cpus, WD_RUN_DEFAULT_CPUS);
	assert_int_equal(opts.argc, 1);
	assert_string_equal(opts.argv[0], "/bin/true");
}

static void test_command_after_double_dash_keeps_its_own_options(void **state)
{
	(void)state;
	assert_int_equal(parse("--tty", "--", "sh", "-c", "--timeout", "--", END), 0);
	assert_true(opts.tty);
	assert_int_equal(opts.timeout_ms, 0);
	assert_int_equal(opts.argc, 4);
	assert_string_equal(opts.argv[0], "sh");
	assert_string_equal(opts.argv[2], "--timeout");
	assert_string_equal(opts.argv[3], "--");
}

static void test_command_starts_at_the_first_non_option(void **state)
{
	(void)state;
	assert_int_equal(parse("--mem", "512", "cat", "--mem", "1", END), 0);
	assert_int_equal(opts.mem_mib, 512);
	assert_int_equal(opts.argc, 3);
	assert_string_equal(opts.argv[0], "cat");
	assert_string_equal(opts.argv[1], "--mem");
}

static void test_inline_and_separate_values_are_the_same(void **state)
{
	(void)state;
	assert_int_equal(parse("--vmm=local", "--mem=300", "--", "x", END), 0);
	assert_int_equal(opts.vmm, WD_VMM_LOCAL);
	assert_int_equal(opts.mem_mib, 300);
	assert_int_equal(parse("--vmm", "local", "--mem", "300", "--", "x", END), 0);
	assert_int_equal(opts.vmm, WD_VMM_LOCAL);
	assert_int_equal(opts.mem_mib, 300);
}

static void test_every_option_is_taken(void **state)
{
	(void)state;
	assert_int_equal(parse("--vmm", "qemu", "--kernel", "/k", "--image", "/i", "--policy",
			       "/p.json", "--file", "/a:a", "--env", "A=1", "--timeout", "90",
			       "--tty", "--audit-dir", "/audit", "--mem", "1024", "--cpus", "2",
			       "-v", "--verbose", "--", "agent", END),
			 0);
	assert_string_equal(opts.kernel, "/k");
	assert_string_equal(opts.image, "/i");
	assert_string_equal(opts.policy, "/p.json");
	assert_string_equal(opts.audit_dir, "/audit");
	assert_int_equal(opts.nfiles, 1);
	assert_int_equal(opts.nenv, 1);
	assert_int_equal(opts.timeout_ms, 90000);
	assert_true(opts.tty);
	assert_int_equal(opts.mem_mib, 1024);
	assert_int_equal(opts.cpus, 2);
	assert_int_equal(opts.verbose, 2);
}

static void test_a_repeated_option_keeps_its_last_value(void **state)
{
	(void)state;
	assert_int_equal(parse("--mem", "128", "--mem", "512", "--", "x", END), 0);
	assert_int_equal(opts.mem_mib, 512);
}

static void test_unknown_option_is_rejected_by_name(void **state)
{
	(void)state;
	assert_rejected(parse("--bogus", "--", "x", END), EINVAL, "'--bogus'");
	assert_rejected(parse("-x", "--", "x", END), EINVAL, "'-x'");
	/* A prefix of a known option is not that option. */
	assert_rejected(parse("--tim", "5", "--", "x", END), EINVAL, "'--tim'");
	assert_rejected(parse("--ttyx", "--", "x", END), EINVAL, "'--ttyx'");
}

static void test_option_without_its_value_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--kernel", END), EINVAL, "--kernel needs a value");
}

static void test_flag_given_a_value_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--tty=yes", "--", "x", END), EINVAL, "--tty takes no value");
}

static void test_missing_command_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--tty", END), EINVAL, "no command");
	assert_rejected(parse("--", END), EINVAL, "no command");
	assert_rejected(parse("--", "", END), EINVAL, "empty");
}

static void test_help_stops_parsing(void **state)
{
	(void)state;
	assert_int_equal(parse("--help", "--bogus", END), 0);
	assert_true(opts.help);
	assert_int_equal(parse("-h", END), 0);
	assert_true(opts.help);
}

static void test_file_is_split_at_the_last_colon(void **state)
{
	char path[64];

	(void)state;
	assert_int_equal(parse("--file", "/a:b/c.sh:run.sh", "--", "x", END), 0);
	assert_int_equal(opts.nfiles, 1);
	assert_string_equal(opts.files[0].name, "run.sh");
	assert_int_equal(wd_file_arg_path(&opts.files[0], path, sizeof(path), &err), 0);
	assert_string_equal(path, "/a:b/c.sh");
}

static void test_file_without_colon_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--file", "script.sh", "--", "x", END), EINVAL,
			"expected HOST_PATH:NAME");
}

static void test_file_with_empty_parts_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--file", ":name", "--", "x", END), EINVAL, "HOST_PATH is empty");
	assert_rejected(parse("--file", "/a:", "--", "x", END), EINVAL, "NAME is empty");
}

static void test_file_name_must_be_one_plain_component(void **state)
{
	(void)state;
	assert_rejected(parse("--file", "/a:dir/name", "--", "x", END), EINVAL, "plain file name");
	assert_rejected(parse("--file", "/a:.", "--", "x", END), EINVAL, "plain file name");
	assert_rejected(parse("--file", "/a:..", "--", "x", END), EINVAL, "plain file name");
	assert_int_equal(parse("--file", "/a:...", "--", "x", END), 0);
}

static void test_file_name_over_255_bytes_is_rejected(void **state)
{
	static char spec[300], *argv[4];
	int n = snprintf(spec, sizeof(spec), "/a:");

	(void)state;
	memset(spec + n, 'n', WD_JOB_MAX_NAME + 1);
	spec[n + WD_JOB_MAX_NAME + 1] = '\0';
	argv[0] = opt_file;
	argv[1] = spec;
	argv[2] = cmd_x;
	argv[3] = NULL;
	assert_int_equal(wd_cli_parse_run(3, argv, &opts, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "longer than 255"));
	spec[n + WD_JOB_MAX_NAME] = '\0';
	assert_int_equal(wd_cli_parse_run(3, argv, &opts, &err), 0);
}

static void test_file_name_given_twice_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--file", "/a:f", "--file", "/b:f", "--", "x", END), EINVAL,
			"given twice");
}

static void test_more_files_than_the_limit_are_rejected(void **state)
{
	static char specs[WD_RUN_MAX_FILES + 1][16];
	static char *argv[2 * (WD_RUN_MAX_FILES + 1) + 2];
	int argc = 0;

	(void)state;
	for (int i = 0; i <= WD_RUN_MAX_FILES; i++) {
		(void)snprintf(specs[i], sizeof(specs[i]), "/f:n%d", i);
		argv[argc++] = opt_file;
		argv[argc++] = specs[i];
	}
	argv[argc++] = cmd_x;
	argv[argc] = NULL;
	assert_int_equal(wd_cli_parse_run(argc, argv, &opts, &err), -E2BIG);
	assert_int_equal(wd_cli_parse_run(argc - 2, argv + 2, &opts, &err), 0);
	assert_int_equal(opts.nfiles, WD_RUN_MAX_FILES);
}

static void test_env_takes_key_value_pairs(void **state)
{
	(void)state;
	assert_int_equal(
		parse("--env", "A=1", "--env", "_B2=x=y", "--env", "EMPTY=", "--", "x", END), 0);
	assert_int_equal(opts.nenv, 3);
	assert_string_equal(opts.env[0], "A=1");
	assert_string_equal(opts.env[1], "_B2=x=y");
	assert_string_equal(opts.env[2], "EMPTY=");
}

static void test_env_without_a_proper_key_is_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--env", "NOVALUE", "--", "x", END), EINVAL, "expected KEY=VALUE");
	assert_rejected(parse("--env", "=1", "--", "x", END), EINVAL, "expected KEY=VALUE");
	assert_rejected(parse("--env", "1A=1", "--", "x", END), EINVAL, "KEY must be");
	assert_rejected(parse("--env", "A-B=1", "--", "x", END), EINVAL, "KEY must be");
}

static void test_timeout_takes_the_duration_syntax(void **state)
{
	(void)state;
	assert_int_equal(parse("--timeout", "5", "--", "x", END), 0);
	assert_int_equal(opts.timeout_ms, 5000);
	assert_int_equal(parse("--timeout", "250ms", "--", "x", END), 0);
	assert_int_equal(opts.timeout_ms, 250);
	assert_int_equal(parse("--timeout", "2m", "--", "x", END), 0);
	assert_int_equal(opts.timeout_ms, 120000);
}

static void test_timeout_junk_zero_and_too_long_are_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--timeout", "junk", "--", "x", END), EINVAL, "--timeout");
	assert_rejected(parse("--timeout", "-5", "--", "x", END), EINVAL, "--timeout");
	assert_rejected(parse("--timeout", "5 ", "--", "x", END), EINVAL, "--timeout");
	assert_rejected(parse("--timeout", "0", "--", "x", END), ERANGE, "--timeout");
	assert_rejected(parse("--timeout", "604801", "--", "x", END), ERANGE, "--timeout");
	assert_int_equal(parse("--timeout", "604800", "--", "x", END), 0);
}

static void test_mem_and_cpus_bounds_are_inclusive(void **state)
{
	(void)state;
	assert_int_equal(parse("--mem", "64", "--cpus", "64", "--", "x", END), 0);
	assert_int_equal(opts.mem_mib, 64);
	assert_int_equal(opts.cpus, 64);
	assert_rejected(parse("--mem", "63", "--", "x", END), ERANGE, "--mem");
	assert_rejected(parse("--mem", "1G", "--", "x", END), EINVAL, "--mem");
	assert_rejected(parse("--cpus", "0", "--", "x", END), ERANGE, "--cpus");
	assert_rejected(parse("--cpus", "65", "--", "x", END), ERANGE, "--cpus");
}

static void test_vmm_must_be_qemu_or_local(void **state)
{
	(void)state;
	assert_rejected(parse("--vmm", "firecracker", "--", "x", END), EINVAL, "--vmm");
}

static void test_vm_only_options_are_refused_in_local_mode(void **state)
{
	(void)state;
	assert_rejected(parse("--vmm", "local", "--kernel", "/k", "--", "x", END), EINVAL,
			"--kernel applies to --vmm qemu only");
	assert_rejected(parse("--image", "/i", "--vmm", "local", "--", "x", END), EINVAL,
			"--image");
	assert_rejected(parse("--vmm", "local", "--cpus", "1", "--", "x", END), EINVAL, "--cpus");
	/* --mem is the agent's limit there too. */
	assert_int_equal(parse("--vmm", "local", "--mem", "512", "--", "x", END), 0);
}

static void test_kernel_arg_takes_only_warden_keys_without_blanks(void **state)
{
	(void)state;
	assert_int_equal(parse("--kernel-arg", "warden.log=debug", "--kernel-arg",
			       "warden.supervisor=/test/x", "--", "x", END),
			 0);
	assert_int_equal((int)opts.nkernel_args, 2);
	assert_string_equal(opts.kernel_args[1], "warden.supervisor=/test/x");
	assert_rejected(parse("--kernel-arg", "init=/bin/sh", "--", "x", END), EINVAL,
			"expected warden.KEY=VALUE");
	assert_rejected(parse("--kernel-arg", "warden.log", "--", "x", END), EINVAL,
			"expected warden.KEY=VALUE");
	assert_rejected(parse("--kernel-arg", "warden.=x", "--", "x", END), EINVAL,
			"expected warden.KEY=VALUE");
	assert_rejected(parse("--kernel-arg", "warden.hostname=a init=/bin/sh", "--", "x", END),
			EINVAL, "blanks, quotes");
	assert_rejected(parse("--kernel-arg", "warden.hostname=\"a", "--", "x", END), EINVAL,
			"blanks, quotes");
	assert_rejected(parse("--vmm", "local", "--kernel-arg", "warden.log=debug", "--", "x", END),
			EINVAL, "--kernel-arg applies to --vmm qemu only");
}

static void test_channel_choice_is_parsed_and_qemu_only(void **state)
{
	(void)state;
	assert_int_equal(parse("--", "x", END), 0);
	assert_int_equal((int)opts.channel, 0);
	assert_int_equal(parse("--channel", "vsock", "--", "x", END), 0);
	assert_int_equal((int)opts.channel, 2);
	assert_int_equal(parse("--channel=virtio-serial", "--", "x", END), 0);
	assert_int_equal((int)opts.channel, 1);
	assert_rejected(parse("--channel", "pigeon", "--", "x", END), EINVAL, "--channel");
	assert_rejected(parse("--vmm", "local", "--channel", "vsock", "--", "x", END), EINVAL,
			"--channel applies to --vmm qemu only");
}

static void test_empty_paths_are_rejected(void **state)
{
	(void)state;
	assert_rejected(parse("--kernel", "", "--", "x", END), EINVAL, "--kernel: empty path");
	assert_rejected(parse("--policy=", "--", "x", END), EINVAL, "--policy: empty path");
}

static void test_file_path_too_long_for_the_buffer_is_reported(void **state)
{
	char small[4];

	(void)state;
	assert_int_equal(parse("--file", "/long/path:n", "--", "x", END), 0);
	assert_int_equal(wd_file_arg_path(&opts.files[0], small, sizeof(small), &err),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_when_only_a_command_is_given),
		cmocka_unit_test(test_command_after_double_dash_keeps_its_own_options),
		cmocka_unit_test(test_command_starts_at_the_first_non_option),
		cmocka_unit_test(test_inline_and_separate_values_are_the_same),
		cmocka_unit_test(test_every_option_is_taken),
		cmocka_unit_test(test_a_repeated_option_keeps_its_last_value),
		cmocka_unit_test(test_unknown_option_is_rejected_by_name),
		cmocka_unit_test(test_option_without_its_value_is_rejected),
		cmocka_unit_test(test_flag_given_a_value_is_rejected),
		cmocka_unit_test(test_missing_command_is_rejected),
		cmocka_unit_test(test_help_stops_parsing),
		cmocka_unit_test(test_file_is_split_at_the_last_colon),
		cmocka_unit_test(test_file_without_colon_is_rejected),
		cmocka_unit_test(test_file_with_empty_parts_is_rejected),
		cmocka_unit_test(test_file_name_must_be_one_plain_component),
		cmocka_unit_test(test_file_name_over_255_bytes_is_rejected),
		cmocka_unit_test(test_file_name_given_twice_is_rejected),
		cmocka_unit_test(test_more_files_than_the_limit_are_rejected),
		cmocka_unit_test(test_env_takes_key_value_pairs),
		cmocka_unit_test(test_env_without_a_proper_key_is_rejected),
		cmocka_unit_test(test_timeout_takes_the_duration_syntax),
		cmocka_unit_test(test_timeout_junk_zero_and_too_long_are_rejected),
		cmocka_unit_test(test_mem_and_cpus_bounds_are_inclusive),
		cmocka_unit_test(test_vmm_must_be_qemu_or_local),
		cmocka_unit_test(test_vm_only_options_are_refused_in_local_mode),
		cmocka_unit_test(test_kernel_arg_takes_only_warden_keys_without_blanks),
		cmocka_unit_test(test_channel_choice_is_parsed_and_qemu_only),
		cmocka_unit_test(test_empty_paths_are_rejected),
		cmocka_unit_test(test_file_path_too_long_for_the_buffer_is_reported),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
