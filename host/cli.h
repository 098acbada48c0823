/*
 * host/cli.h - the arguments of `warden run`, parsed and checked.
 *
 * Runs on the host, as whoever invokes the launcher; its input is the
 * command line. Pure: no file is opened, no environment variable read,
 * nothing printed, so every rule here is unit-tested
 * (tests/unit/test_host_cli.c). Files, the policy and the kernel are
 * checked later, when they are opened.
 *
 * The result points into argv; nothing is allocated. A rejected command
 * line fills `err` with one line naming the option at fault, and the
 * caller exits with WD_EXIT_LAUNCHER (host/exitcodes.h). docs/cli.md is
 * the user's reference for every option below.
 */
#ifndef WARDEN_HOST_CLI_H
#define WARDEN_HOST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../vsock/msg.h"

#define WD_RUN_DEFAULT_MEM_MIB 256
#define WD_RUN_MIN_MEM_MIB 64 /* below this the guest kernel does not boot */
#define WD_RUN_MAX_MEM_MIB WD_JOB_MAX_MEM_MIB
#define WD_RUN_DEFAULT_CPUS 1
#define WD_RUN_MAX_CPUS 64
#define WD_RUN_MAX_FILES WD_JOB_MAX_FILES
#define WD_RUN_MAX_ENV (WD_JOB_MAX_ENV - 1) /* one entry stays free for TERM */
#define WD_RUN_MAX_KERNEL_ARGS 16           /* --kernel-arg */
#define WD_RUN_MAX_KERNEL_ARG 256           /* bytes of one --kernel-arg */
#define WD_RUN_MAX_SEGMENT_MIB 65536        /* --audit-segment-mib */

enum wd_vmm_kind {
	WD_VMM_QEMU = 0,  /* a QEMU microvm: the isolation warden is built for */
	WD_VMM_LOCAL = 1, /* namespaces on this kernel: weaker, for development */
};

/* --file HOST_PATH:NAME, split at the last ':' (NAME cannot hold one). */
struct wd_file_arg {
	const char *spec; /* the whole argument */
	size_t path_len;  /* HOST_PATH is spec[0 .. path_len) */
	const char *name; /* NAME, inside spec, NUL-terminated */
};

struct wd_run_opts {
	enum wd_vmm_kind vmm;
	const char *kernel;           /* NULL: the default (host/paths.h) */
	const char *image;            /* NULL: the default */
	const char *policy;           /* NULL: none */
	const char *audit_dir;        /* NULL: none */
	uint64_t audit_segment_bytes; /* 0: the collector's default (collect.h) */
	const char *console;          /* NULL: none; else the guest console is kept here */
	unsigned channel;             /* enum wd_channel_choice (vmm.h) */
	const char *kernel_args[WD_RUN_MAX_KERNEL_ARGS]; /* "warden.KEY=VALUE" */
	size_t nkernel_args;
	struct wd_file_arg files[WD_RUN_MAX_FILES];
	size_t nfiles;
	const char *env[WD_RUN_MAX_ENV]; /* "KEY=VALUE", as given */
	size_t nenv;
	uint64_t timeout_ms; /* 0: none */
	bool tty;
	/* --sanitize-output: the agent's output through common/safetext.h */
	bool sanitize_output;
	bool help;        /* -h/--help: print the usage, nothing else is checked */
	unsigned verbose; /* number of -v */
	uint64_t mem_mib;
	unsigned cpus;
	char *const *argv; /* the agent's command, argc entries */
	size_t argc;
};

/* Usage text of `warden run`, for --help and for a hint after an error. */
extern const char wd_cli_run_usage[];

/*
 * Parse the arguments that follow `run` (argv[0] is the first option).
 * Options end at `--` or at the first argument that does not start with
 * '-'; the rest is the agent's command. Both `--opt VALUE` and
 * `--opt=VALUE` are accepted; a repeated single-valued option keeps its
 * last value. Returns 0, or -EINVAL / -ERANGE / -E2BIG with `err` set.
 */
int wd_cli_parse_run(int argc, char *const argv[], struct wd_run_opts *o, struct wd_err *err);

/* HOST_PATH of a --file argument into buf. Returns 0 or -ENAMETOOLONG. */
int wd_file_arg_path(const struct wd_file_arg *f, char *buf, size_t size, struct wd_err *err);

#endif
