/* host/cli.c - see cli.h. */
#include "cli.h"

#include <errno.h>
#include <string.h>

#include "../common/parse.h"

const char wd_cli_run_usage[] =
	"usage: warden run [OPTIONS] -- COMMAND [ARG]...\n"
	"\n"
	"Run COMMAND in a fresh microVM and return its exit status.\n"
	"\n"
	"  --vmm qemu|local         qemu: a QEMU microvm (default); local: namespaces on\n"
	"                           this kernel, no VM (weaker isolation)\n"
	"  --kernel PATH            guest kernel (default: the one the build made)\n"
	"  --image PATH             guest initramfs (default: the one the build made), or\n"
	"                           an image directory (warden image build): its kernel,\n"
	"                           initramfs, verified root filesystem, baked policy\n"
	"  --policy FILE            policy bundle, a JSON object of at most 64 KiB\n"
	"  --file HOST_PATH:NAME    copy a file (mode kept) to NAME in the agent's\n"
	"                           working directory; repeatable\n"
	"  --env KEY=VALUE          set a variable for the agent; repeatable\n"
	"  --timeout DURATION       kill the job after DURATION (N seconds, or Nms, Ns, Nm)\n"
	"  --tty                    run on a terminal (the host's, in raw mode)\n"
	"  --sanitize-output        show control characters and escape sequences in\n"
	"                           COMMAND's output as visible escapes (\\u001b, \\u009b)\n"
	"  --audit-dir DIR          keep the guest's signed audit log here (created, mode 0700)\n"
	"  --audit-segment-mib N    start a new log segment after N MiB (default 64)\n"
	"  --mem MiB                memory of the VM, and the cap of the agent's directory "
	"(default 256)\n"
	"  --cpus N                 virtual CPUs of the VM (default 1)\n"
	"  --console FILE           keep the guest's console log in FILE (qemu)\n"
	"  --kernel-arg warden.K=V  add a warden-init key to the guest's command line (qemu)\n"
	"  --channel auto|virtio-serial|vsock\n"
	"                           host-guest channel (qemu; auto: vhost-vsock when the\n"
	"                           host has /dev/vhost-vsock, else virtio-serial)\n"
	"  -v, --verbose            boot timings and progress on stderr\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit status: COMMAND's own (128+N if signal N killed it); 124 the timeout\n"
	"killed it; 125 warden failed; 126 COMMAND could not be run; 127 COMMAND was\n"
	"not found; 130 or 143 warden got SIGINT or SIGTERM. See docs/cli.md.\n";

enum opt_id {
	OPT_VMM,
	OPT_KERNEL,
	OPT_IMAGE,
	OPT_POLICY,
	OPT_FILE,
	OPT_ENV,
	OPT_TIMEOUT,
	OPT_TTY,
	OPT_SANITIZE_OUTPUT,
	OPT_AUDIT_DIR,
	OPT_AUDIT_SEGMENT,
	OPT_MEM,
	OPT_CPUS,
	OPT_CONSOLE,
	OPT_KERNEL_ARG,
	OPT_CHANNEL,
	OPT_VERBOSE,
	OPT_HELP,
};

struct opt {
	const char *name; /* "--name" */
	const char *alias;
	bool has_value;
	enum opt_id id;
};

static const struct opt opts[] = {
	{"--vmm", NULL, true, OPT_VMM},
	{"--kernel", NULL, true, OPT_KERNEL},
	{"--image", NULL, true, OPT_IMAGE},
	{"--policy", NULL, true, OPT_POLICY},
	{"--file", NULL, true, OPT_FILE},
	{"--env", NULL, true, OPT_ENV},
	{"--timeout", NULL, true, OPT_TIMEOUT},
	{"--tty", NULL, false, OPT_TTY},
	{"--sanitize-output", NULL, false, OPT_SANITIZE_OUTPUT},
	{"--audit-dir", NULL, true, OPT_AUDIT_DIR},
	{"--audit-segment-mib", NULL, true, OPT_AUDIT_SEGMENT},
	{"--mem", NULL, true, OPT_MEM},
	{"--cpus", NULL, true, OPT_CPUS},
	{"--console", NULL, true, OPT_CONSOLE},
	{"--kernel-arg", NULL, true, OPT_KERNEL_ARG},
	{"--channel", NULL, true, OPT_CHANNEL},
	{"--verbose", "-v", false, OPT_VERBOSE},
	{"--help", "-h", false, OPT_HELP},
};

static const char *const vmm_names[] = {"qemu", "local", NULL};

/* The option `arg` names (with or without "=VALUE"), and where its inline value starts. */
static const struct opt *find_opt(const char *arg, const char **inline_value)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		size_t n = strlen(opts[i].name);

		if (opts[i].alias != NULL && strcmp(arg, opts[i].alias) == 0) {
			*inline_value = NULL;
			return &opts[i];
		}
		if (strncmp(arg, opts[i].name, n) != 0)
			continue;
		if (arg[n] == '\0') {
			*inline_value = NULL;
			return &opts[i];
		}
		if (arg[n] == '=') {
			*inline_value = arg + n + 1;
			return &opts[i];
		}
	}
	return NULL;
}

static int parse_file(const char *spec, struct wd_run_opts *o, struct wd_err *err)
{
	const char *colon = strrchr(spec, ':');
	struct wd_file_arg *f;
	const char *name;

	if (o->nfiles == WD_RUN_MAX_FILES)
		return wd_err_set(err, E2BIG, "--file: more than %d files", WD_RUN_MAX_FILES);
	if (colon == NULL)
		return wd_err_set(err, EINVAL, "--file '%s': expected HOST_PATH:NAME", spec);
	name = colon + 1;
	if (colon == spec)
		return wd_err_set(err, EINVAL, "--file '%s': HOST_PATH is empty", spec);
	if (name[0] == '\0')
		return wd_err_set(err, EINVAL, "--file '%s': NAME is empty", spec);
	if (strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return wd_err_set(
			err, EINVAL,
			"--file '%s': NAME must be a plain file name (no '/', not . or ..)", spec);
	if (strlen(name) > WD_JOB_MAX_NAME)
		return wd_err_set(err, EINVAL, "--file '%s': NAME is longer than %d bytes", spec,
				  WD_JOB_MAX_NAME);
	for (size_t i = 0; i < o->nfiles; i++)
		if (strcmp(o->files[i].name, name) == 0)
			return wd_err_set(err, EINVAL, "--file '%s': NAME '%s' is given twice",
					  spec, name);
	f = &o->files[o->nfiles++];
	f->spec = spec;
	f->path_len = (size_t)(colon - spec);
	f->name = name;
	return 0;
}

static bool env_key_char(char c, bool first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return true;
	return !first && c >= '0' && c <= '9';
}

static int parse_env(const char *kv, struct wd_run_opts *o, struct wd_err *err)
{
	const char *eq = strchr(kv, '=');

	if (o->nenv == WD_RUN_MAX_ENV)
		return wd_err_set(err, E2BIG, "--env: more than %d variables", WD_RUN_MAX_ENV);
	if (eq == NULL || eq == kv)
		return wd_err_set(err, EINVAL, "--env '%s': expected KEY=VALUE", kv);
	for (const char *c = kv; c < eq; c++)
		if (!env_key_char(*c, c == kv))
			return wd_err_set(err, EINVAL,
					  "--env '%s': KEY must be letters, digits and '_', "
					  "not starting with a digit",
					  kv);
	if (strlen(kv) > WD_JOB_MAX_STRING)
		return wd_err_set(err, E2BIG, "--env: a variable longer than %d bytes",
				  WD_JOB_MAX_STRING);
	o->env[o->nenv++] = kv;
	return 0;
}

static int parse_path(const char *name, const char *v, const char **out, struct wd_err *err)
{
	if (v[0] == '\0')
		return wd_err_set(err, EINVAL, "%s: empty path", name);
	*out = v;
	return 0;
}

/* An option without a value. */
static void apply_flag(const struct opt *opt, struct wd_run_opts *o)
{
	if (opt->id == OPT_TTY)
		o->tty = true;
	else if (opt->id == OPT_SANITIZE_OUTPUT)
		o->sanitize_output = true;
	else if (opt->id == OPT_VERBOSE)
		o->verbose++;
	else if (opt->id == OPT_HELP)
		o->help = true;
}

/* An option with its value. */
/*
 * Only warden-init's own keys: the launcher owns the rest of the kernel
 * command line (console, panic, init=), and a key with a blank or a quote
 * would change how the line splits.
 */
static int parse_kernel_arg(const char *v, struct wd_run_opts *o, struct wd_err *err)
{
	const char *eq = strchr(v, '=');
	size_t n = strlen(v);

	if (o->nkernel_args >= WD_RUN_MAX_KERNEL_ARGS)
		return wd_err_set(err, E2BIG, "--kernel-arg: more than %d", WD_RUN_MAX_KERNEL_ARGS);
	if (strncmp(v, "warden.", 7) != 0 || eq == NULL || eq == v + 7)
		return wd_err_set(err, EINVAL, "--kernel-arg '%s': expected warden.KEY=VALUE", v);
	if (n > WD_RUN_MAX_KERNEL_ARG)
		return wd_err_set(err, E2BIG, "--kernel-arg: longer than %d bytes",
				  WD_RUN_MAX_KERNEL_ARG);
	for (const char *p = v; *p != '\0'; p++) {
		if (*p <= ' ' || *p > '~' || *p == '"' || *p == '\'' || *p == '\\')
			return wd_err_set(err, EINVAL,
					  "--kernel-arg '%s': blanks, quotes and control "
					  "characters are not allowed",
					  v);
	}
	o->kernel_args[o->nkernel_args++] = v;
	return 0;
}

/* In the order of enum wd_channel_choice (vmm.h). */
static const char *const channel_names[] = {"auto", "virtio-serial", "vsock", NULL};

static int apply_value(const struct opt *opt, const char *v, struct wd_run_opts *o,
		       struct wd_err *err)
{
	uint64_t n;
	unsigned idx;

	switch (opt->id) {
	case OPT_VMM:
		if (wd_parse_enum(v, vmm_names, &idx, err) < 0)
			return wd_err_wrap(err, "--vmm");
		o->vmm = (enum wd_vmm_kind)idx;
		return 0;
	case OPT_KERNEL:
		return parse_path(opt->name, v, &o->kernel, err);
	case OPT_IMAGE:
		return parse_path(opt->name, v, &o->image, err);
	case OPT_POLICY:
		return parse_path(opt->name, v, &o->policy, err);
	case OPT_AUDIT_DIR:
		return parse_path(opt->name, v, &o->audit_dir, err);
	case OPT_AUDIT_SEGMENT:
		if (wd_parse_u64(v, 1, WD_RUN_MAX_SEGMENT_MIB, &n, err) < 0)
			return wd_err_wrap(err, "--audit-segment-mib");
		o->audit_segment_bytes = n << 20;
		return 0;
	case OPT_FILE:
		return parse_file(v, o, err);
	case OPT_ENV:
		return parse_env(v, o, err);
	case OPT_TIMEOUT:
		if (wd_parse_duration_ms(v, 1, WD_JOB_MAX_TIMEOUT_MS, &o->timeout_ms, err) < 0)
			return wd_err_wrap(err, "--timeout");
		return 0;
	case OPT_MEM:
		if (wd_parse_u64(v, WD_RUN_MIN_MEM_MIB, WD_RUN_MAX_MEM_MIB, &o->mem_mib, err) < 0)
			return wd_err_wrap(err, "--mem (MiB)");
		return 0;
	case OPT_CPUS:
		if (wd_parse_u64(v, 1, WD_RUN_MAX_CPUS, &n, err) < 0)
			return wd_err_wrap(err, "--cpus");
		o->cpus = (unsigned)n;
		return 0;
	case OPT_CONSOLE:
		return parse_path(opt->name, v, &o->console, err);
	case OPT_KERNEL_ARG:
		return parse_kernel_arg(v, o, err);
	case OPT_CHANNEL:
		if (wd_parse_enum(v, channel_names, &o->channel, err) < 0)
			return wd_err_wrap(err, "--channel");
		return 0;
	case OPT_TTY:
	case OPT_SANITIZE_OUTPUT:
	case OPT_VERBOSE:
	case OPT_HELP:
		break;
	}
	return wd_err_set(err, EINVAL, "%s takes no value", opt->name);
}

/* Options that only a VM has: refused in local mode rather than ignored. */
static int check_mode(const struct wd_run_opts *o, bool cpus_given, struct wd_err *err)
{
	const char *vm_only = NULL;

	if (o->vmm != WD_VMM_LOCAL)
		return 0;
	if (o->kernel != NULL)
		vm_only = "--kernel";
	else if (o->image != NULL)
		vm_only = "--image";
	else if (cpus_given)
		vm_only = "--cpus";
	else if (o->nkernel_args > 0)
		vm_only = "--kernel-arg";
	else if (o->channel != 0)
		vm_only = "--channel";
	if (vm_only != NULL)
		return wd_err_set(err, EINVAL, "%s applies to --vmm qemu only", vm_only);
	return 0;
}

static int check_command(char *const argv[], size_t argc, struct wd_err *err)
{
	if (argc == 0)
		return wd_err_set(err, EINVAL,
				  "no command given (warden run [OPTIONS] -- COMMAND)");
	if (argc > WD_JOB_MAX_ARGS)
		return wd_err_set(err, E2BIG, "the command has more than %d arguments",
				  WD_JOB_MAX_ARGS);
	if (argv[0][0] == '\0')
		return wd_err_set(err, EINVAL, "the command is an empty string");
	for (size_t i = 0; i < argc; i++)
		if (strlen(argv[i]) > WD_JOB_MAX_STRING)
			return wd_err_set(err, E2BIG,
					  "argument %zu of the command is over %d bytes", i,
					  WD_JOB_MAX_STRING);
	return 0;
}

int wd_cli_parse_run(int argc, char *const argv[], struct wd_run_opts *o, struct wd_err *err)
{
	bool cpus_given = false;
	int i;

	memset(o, 0, sizeof(*o));
	o->vmm = WD_VMM_QEMU;
	o->mem_mib = WD_RUN_DEFAULT_MEM_MIB;
	o->cpus = WD_RUN_DEFAULT_CPUS;
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *value;
		const struct opt *opt;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		opt = find_opt(arg, &value);
		if (opt == NULL)
			return wd_err_set(err, EINVAL,
					  "unknown option '%s' (see warden run --help)", arg);
		if (!opt->has_value) {
			if (value != NULL)
				return wd_err_set(err, EINVAL, "%s takes no value", opt->name);
			apply_flag(opt, o);
			if (o->help)
				return 0;
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return wd_err_set(err, EINVAL, "%s needs a value", opt->name);
			value = argv[++i];
		}
		if (apply_value(opt, value, o, err) < 0)
			return -err->code;
		cpus_given |= opt->id == OPT_CPUS;
	}
	o->argv = argv + i;
	o->argc = (size_t)(argc - i);
	if (check_mode(o, cpus_given, err) < 0)
		return -err->code;
	return check_command(o->argv, o->argc, err);
}

int wd_file_arg_path(const struct wd_file_arg *f, char *buf, size_t size, struct wd_err *err)
{
	if (f->path_len >= size)
		return wd_err_set(err, ENAMETOOLONG, "--file '%s': HOST_PATH too long", f->spec);
	memcpy(buf, f->spec, f->path_len);
	buf[f->path_len] = '\0';
	return 0;
}
