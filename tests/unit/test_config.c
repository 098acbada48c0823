/*
 * tests/unit/test_config.c - init/config.c: the `warden.*` keys of PID 1.
 *
 * The keys come from the kernel command line (a VM) or init's argv (a
 * namespace). What is proved here: the defaults, every key's valid values
 * and its boundaries, that a bad value is refused with the key named and
 * the old value kept, that unknown `warden.` keys reach the callback and
 * kernel keys are ignored, the tokenizer (quotes, blanks, "--", bounds) and
 * the cross-key checks of warden.port per channel.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/config.h"

#define UNKNOWN_MAX 8

struct unknown_keys {
	unsigned count;
	char names[UNKNOWN_MAX][INIT_TOKEN_MAX_BYTES];
};

static void collect_unknown(const char *key, void *ctx)
{
	struct unknown_keys *u = ctx;

	if (u->count < UNKNOWN_MAX)
		(void)snprintf(u->names[u->count], sizeof(u->names[0]), "%s", key);
	u->count++;
}

static int apply(struct init_config *cfg, const char *token, struct wd_err *err)
{
	wd_err_clear(err);
	return init_config_apply(cfg, token, NULL, NULL, err);
}

/* Parse a NUL-terminated command line, from a heap copy of exactly its length
 * so that ASan sees any read past the end. */
static int parse(struct init_config *cfg, const char *cmdline, struct wd_err *err)
{
	size_t len = strlen(cmdline);
	char *copy = malloc(len > 0 ? len : 1);
	int rc;

	assert_non_null(copy);
	memcpy(copy, cmdline, len);
	init_config_defaults(cfg);
	wd_err_clear(err);
	rc = init_config_parse_cmdline(cfg, copy, len, NULL, NULL, err);
	free(copy);
	return rc;
}

/* Expect `token` to be refused with the key named first in the message. */
static void assert_refused(const char *token, int code)
{
	struct init_config cfg, before;
	struct wd_err err;
	const char *eq = strchr(token, '=');
	char key[64];

	assert_non_null(eq);
	(void)snprintf(key, sizeof(key), "%.*s: ", (int)(eq - token), token);
	init_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(before));
	assert_int_equal(apply(&cfg, token, &err), -code);
	assert_int_equal(err.code, code);
	if (strncmp(err.msg, key, strlen(key)) != 0)
		fail_msg("'%s': message '%s' does not start with '%s'", token, err.msg, key);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

/* ---- defaults ---------------------------------------------------------- */

static void test_defaults_are_the_documented_values(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(cfg.log_level, WD_LOG_INFO);
	assert_int_equal(cfg.channel, INIT_CHANNEL_VIRTIO_SERIAL);
	assert_int_equal(cfg.shutdown, INIT_SHUTDOWN_POWEROFF);
	assert_int_equal(cfg.grace_ms, 5000);
	assert_int_equal(cfg.restarts, 0);
	assert_int_equal(cfg.restart_backoff_ms, 500);
	assert_int_equal(cfg.lockdown, INIT_LOCKDOWN_CONFIDENTIALITY);
	assert_int_equal(cfg.module_sig, INIT_MODULE_SIG_ENFORCE);
	assert_string_equal(cfg.hostname, "warden");
	assert_string_equal(cfg.supervisor, "/sbin/warden-supervisor");
	assert_true(cfg.tmp_bytes == 64ULL << 20);
	assert_true(cfg.run_bytes == 16ULL << 20);
	assert_false(cfg.port_set);
	assert_int_equal(init_config_check(&cfg, &err), 0);
	assert_string_equal(cfg.port, "warden");
}

static void test_empty_cmdline_gives_the_defaults(void **state)
{
	struct init_config cfg, defaults;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	init_config_defaults(&defaults);
	assert_int_equal(init_config_check(&defaults, &err), 0);
	assert_memory_equal(&cfg, &defaults, sizeof(cfg));
}

/* ---- each key ------------------------------------------------------------ */

static void test_log_accepts_each_level(void **state)
{
	static const char *const levels[] = {"error", "warn", "info", "debug"};
	struct init_config cfg;
	struct wd_err err;
	char token[64];

	(void)state;
	for (unsigned i = 0; i < 4; i++) {
		init_config_defaults(&cfg);
		(void)snprintf(token, sizeof(token), "warden.log=%s", levels[i]);
		assert_int_equal(apply(&cfg, token, &err), 0);
		assert_int_equal(cfg.log_level, (enum wd_log_level)i);
	}
}

static void test_log_rejects_unknown_levels(void **state)
{
	(void)state;
	assert_refused("warden.log=verbose", EINVAL);
	assert_refused("warden.log=INFO", EINVAL);
	assert_refused("warden.log=", EINVAL);
}

static void test_channel_accepts_each_transport(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.channel=vsock", &err), 0);
	assert_int_equal(cfg.channel, INIT_CHANNEL_VSOCK);
	assert_int_equal(apply(&cfg, "warden.channel=unix", &err), 0);
	assert_int_equal(cfg.channel, INIT_CHANNEL_UNIX);
	assert_int_equal(apply(&cfg, "warden.channel=virtio-serial", &err), 0);
	assert_int_equal(cfg.channel, INIT_CHANNEL_VIRTIO_SERIAL);
}

static void test_channel_rejects_unknown_transports(void **state)
{
	(void)state;
	assert_refused("warden.channel=tcp", EINVAL);
	assert_refused("warden.channel=virtio_serial", EINVAL);
	assert_refused("warden.channel=", EINVAL);
}

static void test_port_accepts_up_to_107_characters(void **state)
{
	char token[200];
	struct init_config cfg;
	struct wd_err err;
	size_t prefix = strlen("warden.port=");

	(void)state;
	init_config_defaults(&cfg);
	memcpy(token, "warden.port=", prefix);
	memset(token + prefix, 'p', INIT_PORT_MAX_BYTES - 1);
	token[prefix + INIT_PORT_MAX_BYTES - 1] = '\0';
	assert_int_equal(apply(&cfg, token, &err), 0);
	assert_int_equal(strlen(cfg.port), INIT_PORT_MAX_BYTES - 1);
	assert_true(cfg.port_set);
	token[prefix + INIT_PORT_MAX_BYTES - 1] = 'p';
	token[prefix + INIT_PORT_MAX_BYTES] = '\0';
	assert_refused(token, EINVAL);
}

static void test_port_rejects_empty_value(void **state)
{
	(void)state;
	assert_refused("warden.port=", EINVAL);
}

static void test_shutdown_accepts_each_method(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.shutdown=reboot", &err), 0);
	assert_int_equal(cfg.shutdown, INIT_SHUTDOWN_REBOOT);
	assert_int_equal(apply(&cfg, "warden.shutdown=halt", &err), 0);
	assert_int_equal(cfg.shutdown, INIT_SHUTDOWN_HALT);
	assert_int_equal(apply(&cfg, "warden.shutdown=poweroff", &err), 0);
	assert_int_equal(cfg.shutdown, INIT_SHUTDOWN_POWEROFF);
}

static void test_shutdown_rejects_unknown_methods(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_refused("warden.shutdown=sideways", EINVAL);
	init_config_defaults(&cfg);
	(void)apply(&cfg, "warden.shutdown=sideways", &err);
	assert_string_equal(err.msg,
			    "warden.shutdown: 'sideways' is not one of poweroff|reboot|halt");
}

static void test_grace_accepts_zero_up_to_ten_minutes(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.grace=0", &err), 0);
	assert_int_equal(cfg.grace_ms, 0);
	assert_int_equal(apply(&cfg, "warden.grace=250ms", &err), 0);
	assert_int_equal(cfg.grace_ms, 250);
	assert_int_equal(apply(&cfg, "warden.grace=2", &err), 0);
	assert_int_equal(cfg.grace_ms, 2000);
	assert_int_equal(apply(&cfg, "warden.grace=10m", &err), 0);
	assert_int_equal(cfg.grace_ms, INIT_GRACE_MAX_MS);
	assert_int_equal(apply(&cfg, "warden.grace=600000ms", &err), 0);
}

static void test_grace_rejects_over_ten_minutes(void **state)
{
	(void)state;
	assert_refused("warden.grace=600001ms", ERANGE);
	assert_refused("warden.grace=601s", ERANGE);
	assert_refused("warden.grace=11m", ERANGE);
	assert_refused("warden.grace=99999999999999999999", ERANGE);
}

static void test_grace_rejects_junk(void **state)
{
	(void)state;
	assert_refused("warden.grace=banana", EINVAL);
	assert_refused("warden.grace=", EINVAL);
	assert_refused("warden.grace=-1", EINVAL);
	assert_refused("warden.grace=+5", EINVAL);
	assert_refused("warden.grace=5h", EINVAL);
	assert_refused("warden.grace=5 s", EINVAL);
}

static void test_restarts_accepts_zero_to_ten(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.restarts=10", &err), 0);
	assert_int_equal(cfg.restarts, INIT_RESTARTS_MAX);
	assert_int_equal(apply(&cfg, "warden.restarts=0", &err), 0);
	assert_int_equal(cfg.restarts, 0);
}

static void test_restarts_rejects_out_of_range_and_junk(void **state)
{
	(void)state;
	assert_refused("warden.restarts=11", ERANGE);
	assert_refused("warden.restarts=99", ERANGE);
	assert_refused("warden.restarts=4294967297", ERANGE);
	assert_refused("warden.restarts=-1", EINVAL);
	assert_refused("warden.restarts=1.5", EINVAL);
	assert_refused("warden.restarts=two", EINVAL);
}

static void test_agent_uid_is_unset_by_default_and_bounded(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(cfg.agent_uid, 0);
	assert_int_equal(apply(&cfg, "warden.agent_uid=60578", &err), 0);
	assert_int_equal(cfg.agent_uid, 60578);
	assert_int_equal(apply(&cfg, "warden.agent_uid=4294967294", &err), 0);
	assert_int_equal(cfg.agent_uid, 4294967294U);
	assert_refused("warden.agent_uid=0", ERANGE);
	assert_refused("warden.agent_uid=4294967295", ERANGE);
	assert_refused("warden.agent_uid=-1", EINVAL);
	assert_refused("warden.agent_uid=root", EINVAL);
}

static void test_restart_backoff_accepts_10ms_to_60s(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.restart_backoff=10ms", &err), 0);
	assert_int_equal(cfg.restart_backoff_ms, 10);
	assert_int_equal(apply(&cfg, "warden.restart_backoff=1m", &err), 0);
	assert_int_equal(cfg.restart_backoff_ms, 60000);
}

static void test_restart_backoff_rejects_out_of_range(void **state)
{
	(void)state;
	assert_refused("warden.restart_backoff=9ms", ERANGE);
	assert_refused("warden.restart_backoff=0", ERANGE);
	assert_refused("warden.restart_backoff=60001ms", ERANGE);
	assert_refused("warden.restart_backoff=soon", EINVAL);
}

static void test_lockdown_accepts_each_level(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.lockdown=none", &err), 0);
	assert_int_equal(cfg.lockdown, INIT_LOCKDOWN_NONE);
	assert_int_equal(apply(&cfg, "warden.lockdown=integrity", &err), 0);
	assert_int_equal(cfg.lockdown, INIT_LOCKDOWN_INTEGRITY);
	assert_int_equal(apply(&cfg, "warden.lockdown=confidentiality", &err), 0);
	assert_int_equal(cfg.lockdown, INIT_LOCKDOWN_CONFIDENTIALITY);
}

static void test_lockdown_rejects_unknown_levels(void **state)
{
	(void)state;
	assert_refused("warden.lockdown=full", EINVAL);
	assert_refused("warden.lockdown=0", EINVAL);
}

static void test_module_sig_is_enforce_or_optional(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.module_sig=optional", &err), 0);
	assert_int_equal(cfg.module_sig, INIT_MODULE_SIG_OPTIONAL);
	assert_int_equal(apply(&cfg, "warden.module_sig=enforce", &err), 0);
	assert_int_equal(cfg.module_sig, INIT_MODULE_SIG_ENFORCE);
}

static void test_module_sig_rejects_anything_else(void **state)
{
	(void)state;
	assert_refused("warden.module_sig=off", EINVAL);
	assert_refused("warden.module_sig=", EINVAL);
	assert_refused("warden.module_sig=Optional", EINVAL);
}

static void test_hostname_accepts_a_valid_name(void **state)
{
	struct init_config cfg;
	struct wd_err err;
	char token[128];

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.hostname=job-42.agents", &err), 0);
	assert_string_equal(cfg.hostname, "job-42.agents");
	/* The longest name the kernel takes (64) fits the field. */
	(void)snprintf(token, sizeof(token), "warden.hostname=%.32s.%.31s",
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_int_equal(apply(&cfg, token, &err), 0);
	assert_int_equal(strlen(cfg.hostname), 64);
}

static void test_hostname_rejects_invalid_names(void **state)
{
	(void)state;
	assert_refused("warden.hostname=", EINVAL);
	assert_refused("warden.hostname=-x", EINVAL);
	assert_refused("warden.hostname=a_b", EINVAL);
	assert_refused("warden.hostname=a..b", EINVAL);
	/* One label of 64 characters. */
	assert_refused("warden.hostname="
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		       EINVAL);
}

static void test_supervisor_accepts_absolute_paths_up_to_255(void **state)
{
	char token[300];
	struct init_config cfg;
	struct wd_err err;
	size_t prefix = strlen("warden.supervisor=");

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.supervisor=/usr/lib/warden/sup", &err), 0);
	assert_string_equal(cfg.supervisor, "/usr/lib/warden/sup");
	memcpy(token, "warden.supervisor=", prefix);
	token[prefix] = '/';
	memset(token + prefix + 1, 's', INIT_PATH_MAX_BYTES - 2);
	token[prefix + INIT_PATH_MAX_BYTES - 1] = '\0';
	assert_int_equal(apply(&cfg, token, &err), 0);
	assert_int_equal(strlen(cfg.supervisor), INIT_PATH_MAX_BYTES - 1);
	token[prefix + INIT_PATH_MAX_BYTES - 1] = 's';
	token[prefix + INIT_PATH_MAX_BYTES] = '\0';
	assert_refused(token, EINVAL);
}

static void test_supervisor_rejects_relative_and_empty_paths(void **state)
{
	(void)state;
	assert_refused("warden.supervisor=sbin/warden-supervisor", EINVAL);
	assert_refused("warden.supervisor=./sup", EINVAL);
	assert_refused("warden.supervisor=", EINVAL);
}

static void test_tmp_size_accepts_1m_to_64g(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.tmp_size=1M", &err), 0);
	assert_true(cfg.tmp_bytes == 1ULL << 20);
	assert_int_equal(apply(&cfg, "warden.tmp_size=64G", &err), 0);
	assert_true(cfg.tmp_bytes == 64ULL << 30);
	assert_int_equal(apply(&cfg, "warden.tmp_size=1048576", &err), 0);
}

static void test_tmp_size_rejects_out_of_range_and_junk(void **state)
{
	(void)state;
	assert_refused("warden.tmp_size=1048575", ERANGE);
	assert_refused("warden.tmp_size=65G", ERANGE);
	assert_refused("warden.tmp_size=68719476737", ERANGE);
	assert_refused("warden.tmp_size=1T", EINVAL);
	assert_refused("warden.tmp_size=big", EINVAL);
}

static void test_run_size_accepts_1m_to_1g(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.run_size=1MiB", &err), 0);
	assert_true(cfg.run_bytes == 1ULL << 20);
	assert_int_equal(apply(&cfg, "warden.run_size=1G", &err), 0);
	assert_true(cfg.run_bytes == 1ULL << 30);
}

static void test_run_size_rejects_out_of_range(void **state)
{
	(void)state;
	assert_refused("warden.run_size=1025M", ERANGE);
	assert_refused("warden.run_size=512K", ERANGE);
	assert_refused("warden.run_size=2G", ERANGE);
}

/* ---- token shapes ----------------------------------------------------------- */

static void test_token_without_value_is_rejected(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(apply(&cfg, "warden.grace", &err), -EINVAL);
	assert_string_equal(err.msg, "warden.grace: missing '=value'");
}

static void test_kernel_tokens_are_ignored(void **state)
{
	static const char *const kernel[] = {"console=ttyS0",
					     "quiet",
					     "panic=-1",
					     "wardenx.grace=1",
					     "Warden.grace=banana",
					     "warden",
					     "init=/sbin/warden-init",
					     "rdinit=/init"};
	struct init_config cfg, before;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(before));
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++)
		assert_int_equal(apply(&cfg, kernel[i], &err), 0);
	assert_memory_equal(&cfg, &before, sizeof(cfg));
}

static void test_unknown_key_is_reported_and_not_fatal(void **state)
{
	struct unknown_keys u;
	struct init_config cfg, before;
	struct wd_err err;

	(void)state;
	memset(&u, 0, sizeof(u));
	init_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(before));
	wd_err_clear(&err);
	assert_int_equal(init_config_apply(&cfg, "warden.nonsense=1", collect_unknown, &u, &err),
			 0);
	assert_int_equal(u.count, 1);
	assert_string_equal(u.names[0], "warden.nonsense");
	assert_int_equal(
		init_config_apply(&cfg, "warden.grace_x=banana", collect_unknown, &u, &err), 0);
	assert_string_equal(u.names[1], "warden.grace_x");
	assert_memory_equal(&cfg, &before, sizeof(cfg));
	/* Without a callback the key is still ignored. */
	assert_int_equal(apply(&cfg, "warden.nonsense=1", &err), 0);
}

static void test_unknown_keys_in_the_cmdline_reach_the_callback(void **state)
{
	static const char line[] = "console=ttyS0 warden.future=on warden.grace=1s warden.x=\n";
	struct unknown_keys u;
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	memset(&u, 0, sizeof(u));
	init_config_defaults(&cfg);
	assert_int_equal(
		init_config_parse_cmdline(&cfg, line, strlen(line), collect_unknown, &u, &err), 0);
	assert_int_equal(u.count, 2);
	assert_string_equal(u.names[0], "warden.future");
	assert_string_equal(u.names[1], "warden.x");
	assert_int_equal(cfg.grace_ms, 1000);
}

/* ---- command-line tokenizing ---------------------------------------------------- */

static void test_cmdline_applies_warden_keys_among_kernel_ones(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg,
			       "console=ttyS0 reboot=t panic=-1 warden.grace=2s quiet "
			       "warden.hostname=vm1 warden.shutdown=reboot\n",
			       &err),
			 0);
	assert_int_equal(cfg.grace_ms, 2000);
	assert_string_equal(cfg.hostname, "vm1");
	assert_int_equal(cfg.shutdown, INIT_SHUTDOWN_REBOOT);
}

static void test_cmdline_later_value_wins(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.grace=1s warden.grace=3s", &err), 0);
	assert_int_equal(cfg.grace_ms, 3000);
}

static void test_cmdline_quotes_group_blanks_and_are_dropped(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg,
			       "warden.hostname=\"box\" warden.channel=unix "
			       "warden.port=\"/run/a b.sock\"",
			       &err),
			 0);
	assert_string_equal(cfg.hostname, "box");
	assert_string_equal(cfg.port, "/run/a b.sock");
	/* Quotes around the whole token, as the kernel allows. */
	assert_int_equal(parse(&cfg, "\"warden.channel=unix\" \"warden.port=/x\ty\"", &err), 0);
	assert_string_equal(cfg.port, "/x\ty");
	/* An unterminated quote runs to the end of the line. */
	assert_int_equal(parse(&cfg, "warden.channel=unix warden.port=\"/a b c", &err), 0);
	assert_string_equal(cfg.port, "/a b c");
}

static void test_cmdline_tabs_and_newlines_separate_tokens(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(
		parse(&cfg, "\twarden.grace=1s\twarden.restarts=3\nwarden.log=debug\n\n", &err), 0);
	assert_int_equal(cfg.grace_ms, 1000);
	assert_int_equal(cfg.restarts, 3);
	assert_int_equal(cfg.log_level, WD_LOG_DEBUG);
}

static void test_cmdline_nul_bytes_separate_tokens(void **state)
{
	static const char line[] = "warden.grace=1s\0warden.restarts=2";
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(init_config_parse_cmdline(&cfg, line, sizeof(line) - 1, NULL, NULL, &err),
			 0);
	assert_int_equal(cfg.grace_ms, 1000);
	assert_int_equal(cfg.restarts, 2);
}

static void test_cmdline_stops_at_double_dash(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(
		parse(&cfg, "warden.grace=1s -- warden.grace=banana warden.grace=9s", &err), 0);
	assert_int_equal(cfg.grace_ms, 1000);
	/* "--x" is not the separator. */
	assert_int_equal(parse(&cfg, "--x warden.grace=banana", &err), -EINVAL);
}

static void test_cmdline_reads_only_len_bytes(void **state)
{
	static const char line[] = "warden.grace=1s warden.grace=banana";
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	init_config_defaults(&cfg);
	assert_int_equal(
		init_config_parse_cmdline(&cfg, line, strlen("warden.grace=1s"), NULL, NULL, &err),
		0);
	assert_int_equal(cfg.grace_ms, 1000);
}

static void test_cmdline_bad_value_names_the_key(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "quiet warden.restarts=99 warden.grace=1s", &err), -ERANGE);
	assert_int_equal(err.code, ERANGE);
	assert_string_equal(err.msg, "warden.restarts: '99' is out of range (0 to 10)");
}

static void test_cmdline_token_of_511_bytes_is_accepted(void **state)
{
	char *line = malloc(INIT_TOKEN_MAX_BYTES + 16);
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_non_null(line);
	memset(line, 'k', INIT_TOKEN_MAX_BYTES - 1);
	line[INIT_TOKEN_MAX_BYTES - 1] = '\0';
	assert_int_equal(parse(&cfg, line, &err), 0);
	free(line);
}

static void test_cmdline_token_of_512_bytes_is_rejected(void **state)
{
	char *line = malloc(INIT_TOKEN_MAX_BYTES + 16);
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_non_null(line);
	memset(line, 'k', INIT_TOKEN_MAX_BYTES);
	line[INIT_TOKEN_MAX_BYTES] = '\0';
	assert_int_equal(parse(&cfg, line, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "over 511 bytes"));
	/* Quotes do not count toward the bound, but what they hold does. */
	memset(line, 'k', INIT_TOKEN_MAX_BYTES);
	line[0] = '"';
	line[INIT_TOKEN_MAX_BYTES] = '"';
	line[INIT_TOKEN_MAX_BYTES + 1] = '\0';
	assert_int_equal(parse(&cfg, line, &err), 0);
	free(line);
}

static void test_cmdline_of_4096_bytes_is_accepted(void **state)
{
	char *line = malloc(INIT_CMDLINE_MAX_BYTES + 2);
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_non_null(line);
	/* Short kernel tokens, then a warden key right at the end. */
	memset(line, ' ', INIT_CMDLINE_MAX_BYTES);
	for (size_t i = 0; i + 8 < INIT_CMDLINE_MAX_BYTES - 32; i += 8)
		memcpy(line + i, "quiet=1", 7);
	memcpy(line + INIT_CMDLINE_MAX_BYTES - 16, "warden.grace=7s", 15);
	line[INIT_CMDLINE_MAX_BYTES] = '\0';
	assert_int_equal(parse(&cfg, line, &err), 0);
	assert_int_equal(cfg.grace_ms, 7000);
	free(line);
}

static void test_cmdline_over_4096_bytes_is_rejected(void **state)
{
	char *line = malloc(INIT_CMDLINE_MAX_BYTES + 2);
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_non_null(line);
	memset(line, ' ', INIT_CMDLINE_MAX_BYTES + 1);
	line[INIT_CMDLINE_MAX_BYTES + 1] = '\0';
	assert_int_equal(parse(&cfg, line, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "over 4096 bytes"));
	free(line);
}

/* ---- warden.port per channel ------------------------------------------------------ */

static void test_virtio_serial_port_defaults_to_warden(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=virtio-serial", &err), 0);
	assert_string_equal(cfg.port, "warden");
}

static void test_virtio_serial_port_accepts_a_port_name(void **state)
{
	char line[128];
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.port=org.warden_0-1", &err), 0);
	assert_string_equal(cfg.port, "org.warden_0-1");
	(void)snprintf(line, sizeof(line), "warden.port=%.64s",
		       "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
	assert_int_equal(parse(&cfg, line, &err), 0);
}

static void test_virtio_serial_port_rejects_bad_names(void **state)
{
	char line[128];
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.port=a/b", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "warden.port: "));
	assert_int_equal(parse(&cfg, "warden.port=\"a b\"", &err), -EINVAL);
	assert_int_equal(parse(&cfg, "warden.port=/dev/vport0p1", &err), -EINVAL);
	(void)snprintf(line, sizeof(line), "warden.port=%.65s",
		       "pppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp");
	assert_int_equal(parse(&cfg, line, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "over 64"));
}

static void test_vsock_port_defaults_to_1024(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=vsock", &err), 0);
	assert_string_equal(cfg.port, "1024");
}

static void test_vsock_port_accepts_1_to_4294967294(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=1", &err), 0);
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=4294967294", &err), 0);
}

static void test_vsock_port_rejects_zero_any_and_names(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=0", &err), -ERANGE);
	assert_non_null(strstr(err.msg, "warden.port: "));
	/* VMADDR_PORT_ANY is not a port. */
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=4294967295", &err), -ERANGE);
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=warden", &err), -EINVAL);
	assert_int_equal(parse(&cfg, "warden.channel=vsock warden.port=-1", &err), -EINVAL);
}

static void test_unix_channel_without_port_is_rejected(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=unix", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "warden.port"));
}

static void test_unix_channel_needs_an_absolute_path(void **state)
{
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "warden.channel=unix warden.port=run/s.sock", &err), -EINVAL);
	assert_int_equal(parse(&cfg, "warden.port=/run/s.sock warden.channel=unix", &err), 0);
	assert_string_equal(cfg.port, "/run/s.sock");
}

static void test_channel_string_names_transport_and_port(void **state)
{
	char buf[INIT_PORT_MAX_BYTES + 32];
	struct init_config cfg;
	struct wd_err err;

	(void)state;
	assert_int_equal(parse(&cfg, "", &err), 0);
	assert_int_equal(init_config_channel_string(&cfg, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "virtio-serial:warden");
	assert_int_equal(parse(&cfg, "warden.channel=vsock", &err), 0);
	assert_int_equal(init_config_channel_string(&cfg, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "vsock:1024");
	assert_int_equal(parse(&cfg, "warden.channel=unix warden.port=/run/w.sock", &err), 0);
	assert_int_equal(init_config_channel_string(&cfg, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "unix:/run/w.sock");
	assert_int_equal(init_config_channel_string(&cfg, buf, strlen("unix:/run/w.sock")),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_values),
		cmocka_unit_test(test_empty_cmdline_gives_the_defaults),
		cmocka_unit_test(test_log_accepts_each_level),
		cmocka_unit_test(test_log_rejects_unknown_levels),
		cmocka_unit_test(test_channel_accepts_each_transport),
		cmocka_unit_test(test_channel_rejects_unknown_transports),
		cmocka_unit_test(test_port_accepts_up_to_107_characters),
		cmocka_unit_test(test_port_rejects_empty_value),
		cmocka_unit_test(test_shutdown_accepts_each_method),
		cmocka_unit_test(test_shutdown_rejects_unknown_methods),
		cmocka_unit_test(test_grace_accepts_zero_up_to_ten_minutes),
		cmocka_unit_test(test_grace_rejects_over_ten_minutes),
		cmocka_unit_test(test_grace_rejects_junk),
		cmocka_unit_test(test_restarts_accepts_zero_to_ten),
		cmocka_unit_test(test_restarts_rejects_out_of_range_and_junk),
		cmocka_unit_test(test_agent_uid_is_unset_by_default_and_bounded),
		cmocka_unit_test(test_restart_backoff_accepts_10ms_to_60s),
		cmocka_unit_test(test_restart_backoff_rejects_out_of_range),
		cmocka_unit_test(test_lockdown_accepts_each_level),
		cmocka_unit_test(test_lockdown_rejects_unknown_levels),
		cmocka_unit_test(test_module_sig_is_enforce_or_optional),
		cmocka_unit_test(test_module_sig_rejects_anything_else),
		cmocka_unit_test(test_hostname_accepts_a_valid_name),
		cmocka_unit_test(test_hostname_rejects_invalid_names),
		cmocka_unit_test(test_supervisor_accepts_absolute_paths_up_to_255),
		cmocka_unit_test(test_supervisor_rejects_relative_and_empty_paths),
		cmocka_unit_test(test_tmp_size_accepts_1m_to_64g),
		cmocka_unit_test(test_tmp_size_rejects_out_of_range_and_junk),
		cmocka_unit_test(test_run_size_accepts_1m_to_1g),
		cmocka_unit_test(test_run_size_rejects_out_of_range),
		cmocka_unit_test(test_token_without_value_is_rejected),
		cmocka_unit_test(test_kernel_tokens_are_ignored),
		cmocka_unit_test(test_unknown_key_is_reported_and_not_fatal),
		cmocka_unit_test(test_unknown_keys_in_the_cmdline_reach_the_callback),
		cmocka_unit_test(test_cmdline_applies_warden_keys_among_kernel_ones),
		cmocka_unit_test(test_cmdline_later_value_wins),
		cmocka_unit_test(test_cmdline_quotes_group_blanks_and_are_dropped),
		cmocka_unit_test(test_cmdline_tabs_and_newlines_separate_tokens),
		cmocka_unit_test(test_cmdline_nul_bytes_separate_tokens),
		cmocka_unit_test(test_cmdline_stops_at_double_dash),
		cmocka_unit_test(test_cmdline_reads_only_len_bytes),
		cmocka_unit_test(test_cmdline_bad_value_names_the_key),
		cmocka_unit_test(test_cmdline_token_of_511_bytes_is_accepted),
		cmocka_unit_test(test_cmdline_token_of_512_bytes_is_rejected),
		cmocka_unit_test(test_cmdline_of_4096_bytes_is_accepted),
		cmocka_unit_test(test_cmdline_over_4096_bytes_is_rejected),
		cmocka_unit_test(test_virtio_serial_port_defaults_to_warden),
		cmocka_unit_test(test_virtio_serial_port_accepts_a_port_name),
		cmocka_unit_test(test_virtio_serial_port_rejects_bad_names),
		cmocka_unit_test(test_vsock_port_defaults_to_1024),
		cmocka_unit_test(test_vsock_port_accepts_1_to_4294967294),
		cmocka_unit_test(test_vsock_port_rejects_zero_any_and_names),
		cmocka_unit_test(test_unix_channel_without_port_is_rejected),
		cmocka_unit_test(test_unix_channel_needs_an_absolute_path),
		cmocka_unit_test(test_channel_string_names_transport_and_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
