/*
 * tests/fuzz/fuzz_cmdline.c - init_config_parse_cmdline() on arbitrary bytes.
 *
 * The kernel command line is the first input PID 1 reads, before anything
 * else is set up. Beyond "no crash, no undefined behaviour, no read past
 * `size`" (the buffer is not NUL-terminated), this checks the contract:
 * a refusal carries a code and a message; an accepted line leaves a
 * configuration whose every field is within the bounds the rest of init
 * relies on; the unknown-key callback only ever sees `warden.` keys.
 * The same bytes, NUL-terminated, go through init_module_params(), which
 * picks module parameters out of the command line: its output stays
 * within its buffer and holds only tokens of the module asked for.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/parse.h"
#include "../../init/config.h"
#include "../../init/init.h"

#define PARAMS_BYTES 256 /* small, so that the bound is reached */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_unknown(const char *key, void *ctx)
{
	size_t *count = ctx;

	if (strncmp(key, "warden.", 7) != 0 || strchr(key, '=') != NULL)
		abort();
	(*count)++;
}

static void check_accepted(struct init_config *cfg)
{
	char channel[INIT_PORT_MAX_BYTES + 32];
	struct wd_err err;

	if (memchr(cfg->port, '\0', sizeof(cfg->port)) == NULL || cfg->port[0] == '\0')
		abort();
	if (memchr(cfg->supervisor, '\0', sizeof(cfg->supervisor)) == NULL ||
	    cfg->supervisor[0] != '/')
		abort();
	if (wd_parse_hostname(cfg->hostname, &err) < 0)
		abort();
	if (cfg->grace_ms > INIT_GRACE_MAX_MS || cfg->restarts > INIT_RESTARTS_MAX ||
	    cfg->restart_backoff_ms < 10 || cfg->restart_backoff_ms > 60000)
		abort();
	if (cfg->tmp_bytes < (1ULL << 20) || cfg->run_bytes < (1ULL << 20))
		abort();
	if (cfg->channel == INIT_CHANNEL_UNIX && cfg->port[0] != '/')
		abort();
	if (init_config_channel_string(cfg, channel, sizeof(channel)) < 0)
		abort();
}

static void check_module_params(const uint8_t *data, size_t size)
{
	char out[PARAMS_BYTES], *text = malloc(size + 1);
	struct wd_err err;

	if (text == NULL)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(out, 'x', sizeof(out));
	if (init_module_params(text, "virtio_mmio", out, sizeof(out), &err) == 0) {
		if (memchr(out, '\0', sizeof(out)) == NULL)
			abort();
		/* Never another module's parameter, nor init's own keys. */
		if (strstr(text, "virtio") == NULL && out[0] != '\0')
			abort();
	} else if (err.code != E2BIG) {
		abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct init_config cfg;
	struct wd_err err;
	size_t unknown = 0;

	check_module_params(data, size);
	init_config_defaults(&cfg);
	wd_err_clear(&err);
	if (init_config_parse_cmdline(&cfg, (const char *)data, size, check_unknown, &unknown,
				      &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' ||
		    memchr(err.msg, '\0', sizeof(err.msg)) == NULL)
			abort();
		return 0;
	}
	check_accepted(&cfg);
	return 0;
}
