/* init/config.c - see config.h. The key table is the reference for docs/init.md. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/parse.h"

#define KEY_PREFIX "warden."
#define DEFAULT_SERIAL_PORT "warden"
#define DEFAULT_VSOCK_PORT "1024"

const char *const init_shutdown_names[] = {"poweroff", "reboot", "halt", NULL};
const char *const init_lockdown_names[] = {"none", "integrity", "confidentiality", NULL};
const char *const init_channel_names[] = {"virtio-serial", "vsock", "unix", NULL};
const char *const init_module_sig_names[] = {"enforce", "optional", NULL};
static const char *const log_names[] = {"error", "warn", "info", "debug", NULL};

void init_config_defaults(struct init_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = WD_LOG_INFO;
	cfg->channel = INIT_CHANNEL_VIRTIO_SERIAL;
	cfg->shutdown = INIT_SHUTDOWN_POWEROFF;
	cfg->grace_ms = 5000;
	cfg->restarts = 0;
	cfg->restart_backoff_ms = 500;
	cfg->lockdown = INIT_LOCKDOWN_CONFIDENTIALITY;
	cfg->module_sig = INIT_MODULE_SIG_ENFORCE;
	(void)snprintf(cfg->hostname, sizeof(cfg->hostname), "warden");
	(void)snprintf(cfg->supervisor, sizeof(cfg->supervisor), "/sbin/warden-supervisor");
	cfg->tmp_bytes = 64ULL << 20;
	cfg->run_bytes = 16ULL << 20;
	(void)snprintf(cfg->workdir, sizeof(cfg->workdir), "/work");
}

typedef int (*key_fn)(struct init_config *cfg, const char *value, struct wd_err *err);

static int set_enum(const char *value, const char *const *names, unsigned *out, struct wd_err *err)
{
	return wd_parse_enum(value, names, out, err);
}

static int key_log(struct init_config *cfg, const char *v, struct wd_err *err)
{
	unsigned i;
	int rc = set_enum(v, log_names, &i, err);

	if (rc == 0)
		cfg->log_level = (enum wd_log_level)i;
	return rc;
}

static int key_channel(struct init_config *cfg, const char *v, struct wd_err *err)
{
	unsigned i;
	int rc = set_enum(v, init_channel_names, &i, err);

	if (rc == 0)
		cfg->channel = (enum init_channel)i;
	return rc;
}

static int key_port(struct init_config *cfg, const char *v, struct wd_err *err)
{
	size_t n = strlen(v);

	if (n == 0 || n >= sizeof(cfg->port))
		return wd_err_set(err, EINVAL, "must be 1 to %zu characters",
				  sizeof(cfg->port) - 1);
	memcpy(cfg->port, v, n + 1);
	cfg->port_set = true;
	return 0;
}

static int key_shutdown(struct init_config *cfg, const char *v, struct wd_err *err)
{
	unsigned i;
	int rc = set_enum(v, init_shutdown_names, &i, err);

	if (rc == 0)
		cfg->shutdown = (enum init_shutdown)i;
	return rc;
}

static int key_grace(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return wd_parse_duration_ms(v, 0, INIT_GRACE_MAX_MS, &cfg->grace_ms, err);
}

static int key_restarts(struct init_config *cfg, const char *v, struct wd_err *err)
{
	uint64_t n;
	int rc = wd_parse_u64(v, 0, INIT_RESTARTS_MAX, &n, err);

	if (rc == 0)
		cfg->restarts = (unsigned)n;
	return rc;
}

static int key_backoff(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return wd_parse_duration_ms(v, 10, 60000, &cfg->restart_backoff_ms, err);
}

static int key_lockdown(struct init_config *cfg, const char *v, struct wd_err *err)
{
	unsigned i;
	int rc = set_enum(v, init_lockdown_names, &i, err);

	if (rc == 0)
		cfg->lockdown = (enum init_lockdown)i;
	return rc;
}

static int key_module_sig(struct init_config *cfg, const char *v, struct wd_err *err)
{
	unsigned i;
	int rc = set_enum(v, init_module_sig_names, &i, err);

	if (rc == 0)
		cfg->module_sig = (enum init_module_sig)i;
	return rc;
}

static int key_hostname(struct init_config *cfg, const char *v, struct wd_err *err)
{
	int rc = wd_parse_hostname(v, err);

	if (rc == 0)
		(void)snprintf(cfg->hostname, sizeof(cfg->hostname), "%s", v);
	return rc;
}

static int key_absolute_path(const char *v, char *out, size_t size, struct wd_err *err)
{
	size_t n = strlen(v);

	if (v[0] != '/')
		return wd_err_set(err, EINVAL, "'%s' is not an absolute path", v);
	if (n >= size)
		return wd_err_set(err, EINVAL, "path longer than %zu characters", size - 1);
	memcpy(out, v, n + 1);
	return 0;
}

static int key_supervisor(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return key_absolute_path(v, cfg->supervisor, sizeof(cfg->supervisor), err);
}

static int key_workdir(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return key_absolute_path(v, cfg->workdir, sizeof(cfg->workdir), err);
}

static int key_tmp_size(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return wd_parse_size(v, 1ULL << 20, 64ULL << 30, &cfg->tmp_bytes, err);
}

static int key_run_size(struct init_config *cfg, const char *v, struct wd_err *err)
{
	return wd_parse_size(v, 1ULL << 20, 1ULL << 30, &cfg->run_bytes, err);
}

/* The host's id for the agent in namespace mode (host/uidpool.h); the
 * supervisor refuses it in a VM. Never 0, never (uid_t)-1. */
static int key_agent_uid(struct init_config *cfg, const char *v, struct wd_err *err)
{
	uint64_t id;
	int rc = wd_parse_u64(v, 1, 0xfffffffeULL, &id, err);

	if (rc == 0)
		cfg->agent_uid = (uint32_t)id;
	return rc;
}

/* Every key init understands; docs/init.md describes each one. */
static const struct {
	const char *name;
	key_fn apply;
} keys[] = {
	{"log", key_log},
	{"channel", key_channel},
	{"port", key_port},
	{"shutdown", key_shutdown},
	{"grace", key_grace},
	{"restarts", key_restarts},
	{"restart_backoff", key_backoff},
	{"lockdown", key_lockdown},
	{"module_sig", key_module_sig},
	{"hostname", key_hostname},
	{"supervisor", key_supervisor},
	{"tmp_size", key_tmp_size},
	{"run_size", key_run_size},
	{"workdir", key_workdir},
	{"agent_uid", key_agent_uid},
};

int init_config_apply(struct init_config *cfg, const char *token, init_unknown_key_fn unknown,
		      void *ctx, struct wd_err *err)
{
	const char *eq, *key;
	size_t key_len;

	if (strncmp(token, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
		return 0;
	key = token + strlen(KEY_PREFIX);
	eq = strchr(key, '=');
	if (eq == NULL)
		return wd_err_set(err, EINVAL, "%s: missing '=value'", token);
	key_len = (size_t)(eq - key);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strlen(keys[i].name) != key_len || strncmp(keys[i].name, key, key_len) != 0)
			continue;
		if (keys[i].apply(cfg, eq + 1, err) < 0)
			return wd_err_wrap(err, KEY_PREFIX "%s", keys[i].name);
		return 0;
	}
	if (unknown != NULL) {
		char name[INIT_TOKEN_MAX_BYTES];

		(void)snprintf(name, sizeof(name), "%.*s", (int)(strlen(KEY_PREFIX) + key_len),
			       token);
		unknown(name, ctx);
	}
	return 0;
}

/*
 * Copy the next blank-separated token of cmdline[*pos, len) into `tok`,
 * dropping double quotes (they only group blanks). Returns the token length,
 * 0 at the end, or -E2BIG for a token over the bound.
 */
static int next_token(const char *s, size_t len, size_t *pos, char *tok, size_t size)
{
	size_t i = *pos, n = 0;
	int quoted = 0;

	while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\0'))
		i++;
	while (i < len && s[i] != '\0' &&
	       (quoted || (s[i] != ' ' && s[i] != '\t' && s[i] != '\n'))) {
		if (s[i] == '"') {
			quoted = !quoted;
			i++;
			continue;
		}
		if (n + 1 >= size)
			return -E2BIG;
		tok[n++] = s[i++];
	}
	tok[n] = '\0';
	*pos = i;
	return (int)n;
}

int init_config_parse_cmdline(struct init_config *cfg, const char *cmdline, size_t len,
			      init_unknown_key_fn unknown, void *ctx, struct wd_err *err)
{
	char tok[INIT_TOKEN_MAX_BYTES];
	size_t pos = 0;
	int n;

	if (len > INIT_CMDLINE_MAX_BYTES)
		return wd_err_set(err, E2BIG, "kernel command line over %d bytes",
				  INIT_CMDLINE_MAX_BYTES);
	while ((n = next_token(cmdline, len, &pos, tok, sizeof(tok))) != 0) {
		if (n < 0)
			return wd_err_set(err, E2BIG, "a command-line token is over %d bytes",
					  INIT_TOKEN_MAX_BYTES - 1);
		if (strcmp(tok, "--") == 0)
			break;
		if (init_config_apply(cfg, tok, unknown, ctx, err) < 0)
			return -err->code;
	}
	return init_config_check(cfg, err);
}

static int check_port(const struct init_config *cfg, struct wd_err *err)
{
	uint64_t n;
	size_t len = strlen(cfg->port);

	switch (cfg->channel) {
	case INIT_CHANNEL_VIRTIO_SERIAL:
		for (size_t i = 0; i < len; i++) {
			char c = cfg->port[i];

			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
				return wd_err_set(
					err, EINVAL,
					"warden.port: '%s' is not a virtio-serial port name "
					"([A-Za-z0-9._-])",
					cfg->port);
		}
		return len <= 64 ? 0
				 : wd_err_set(err, EINVAL,
					      "warden.port: port name over 64 characters");
	case INIT_CHANNEL_VSOCK:
		/* 0xffffffff is VMADDR_PORT_ANY, not a port. */
		if (wd_parse_u64(cfg->port, 1, 0xfffffffeULL, &n, err) < 0)
			return wd_err_wrap(err, "warden.port");
		return 0;
	case INIT_CHANNEL_UNIX:
		if (cfg->port[0] != '/')
			return wd_err_set(err, EINVAL, "warden.port: '%s' is not an absolute path",
					  cfg->port);
		return 0;
	}
	return wd_err_set(err, EINVAL, "warden.channel: unknown transport");
}

int init_config_check(struct init_config *cfg, struct wd_err *err)
{
	if (!cfg->port_set) {
		if (cfg->channel == INIT_CHANNEL_UNIX)
			return wd_err_set(err, EINVAL,
					  "warden.channel=unix needs warden.port=/path/to/socket");
		(void)snprintf(cfg->port, sizeof(cfg->port), "%s",
			       cfg->channel == INIT_CHANNEL_VSOCK ? DEFAULT_VSOCK_PORT
								  : DEFAULT_SERIAL_PORT);
	}
	return check_port(cfg, err);
}

int init_config_channel_string(const struct init_config *cfg, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s:%s", init_channel_names[cfg->channel], cfg->port);

	return (n < 0 || (size_t)n >= size) ? -ENAMETOOLONG : 0;
}
