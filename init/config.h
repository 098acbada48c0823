/*
 * init/config.h - warden-init's configuration: the `warden.*` keys.
 *
 * In a microVM the keys come from the kernel command line (/proc/cmdline,
 * written by the host, which is trusted); in namespace mode they come from
 * init's own argv with the same syntax. Every key is documented in
 * docs/init.md. Parsing is strict: a bad value is an error naming the key,
 * which init turns into one console line and a power-off. Keys outside the
 * `warden.` prefix belong to the kernel and are ignored; unknown `warden.`
 * keys are reported through a callback and otherwise ignored, so that an
 * older init still boots a newer host's command line.
 *
 * Pure code: no system calls, unit-tested and fuzzed.
 */
#ifndef WARDEN_INIT_CONFIG_H
#define WARDEN_INIT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/log.h"

#define INIT_CMDLINE_MAX_BYTES 4096 /* longest command line read; the kernel's is 2048 on x86 */
#define INIT_TOKEN_MAX_BYTES 512    /* longest single key=value token */
#define INIT_PATH_MAX_BYTES 256     /* supervisor path, unix socket path */
#define INIT_PORT_MAX_BYTES 108     /* virtio-serial port name or unix socket path */
#define INIT_GRACE_MAX_MS 600000    /* 10 minutes */
#define INIT_RESTARTS_MAX 10

enum init_shutdown {
	INIT_SHUTDOWN_POWEROFF = 0, /* QEMU, Cloud Hypervisor: the VMM exits */
	INIT_SHUTDOWN_REBOOT = 1,   /* Firecracker on x86: a reset ends the VMM */
	INIT_SHUTDOWN_HALT = 2,
};

enum init_lockdown {
	INIT_LOCKDOWN_NONE = 0,
	INIT_LOCKDOWN_INTEGRITY = 1,
	INIT_LOCKDOWN_CONFIDENTIALITY = 2,
};

/* Module signatures: the kernel must enforce them, unless the operator says otherwise. */
enum init_module_sig {
	INIT_MODULE_SIG_ENFORCE = 0,
	INIT_MODULE_SIG_OPTIONAL = 1,
};

enum init_channel {
	INIT_CHANNEL_VIRTIO_SERIAL = 0,
	INIT_CHANNEL_VSOCK = 1,
	INIT_CHANNEL_UNIX = 2,
};

struct init_config {
	enum wd_log_level log_level;
	enum init_channel channel;
	char port[INIT_PORT_MAX_BYTES]; /* serial port name, vsock port, or socket path */
	enum init_shutdown shutdown;
	uint64_t grace_ms;
	unsigned restarts;
	uint64_t restart_backoff_ms;
	enum init_lockdown lockdown;
	enum init_module_sig module_sig;
	char hostname[65];
	char supervisor[INIT_PATH_MAX_BYTES];
	uint64_t tmp_bytes;
	uint64_t run_bytes;
	char workdir[INIT_PATH_MAX_BYTES]; /* where the supervisor mounts the agent's tmpfs */
	bool port_set;                     /* warden.port given: otherwise the channel's default */
	uint32_t agent_uid; /* namespace mode: the agent's host uid and gid; 0: the policy's */
};

extern const char *const init_shutdown_names[];
extern const char *const init_lockdown_names[];
extern const char *const init_channel_names[];
extern const char *const init_module_sig_names[];

/* Called for each `warden.` key that is not known. */
typedef void (*init_unknown_key_fn)(const char *key, void *ctx);

void init_config_defaults(struct init_config *cfg);

/*
 * Apply one "key=value" token. Tokens without the "warden." prefix are
 * ignored. Returns 0, or -EINVAL/-ERANGE with `err` naming the key.
 */
int init_config_apply(struct init_config *cfg, const char *token, init_unknown_key_fn unknown,
		      void *ctx, struct wd_err *err);

/*
 * Apply every token of a kernel command line of `len` bytes (need not be
 * NUL-terminated; at most INIT_CMDLINE_MAX_BYTES). Tokens are separated by
 * blanks; double quotes group blanks into a token as the kernel does
 * (`warden.hostname="a"` yields `warden.hostname=a`). Parsing stops at a
 * lone "--" (what follows belongs to init's argv). Checks the result with
 * init_config_check().
 */
int init_config_parse_cmdline(struct init_config *cfg, const char *cmdline, size_t len,
			      init_unknown_key_fn unknown, void *ctx, struct wd_err *err);

/* Cross-key checks (e.g. a port that suits the chosen channel); fills defaults. */
int init_config_check(struct init_config *cfg, struct wd_err *err);

/* "virtio-serial:warden", "vsock:1024" or "unix:/path", for the supervisor. */
int init_config_channel_string(const struct init_config *cfg, char *buf, size_t size);

#endif
