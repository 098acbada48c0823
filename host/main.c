/*
 * host/main.c - the `warden` command: dispatch to its subcommands.
 *
 * Runs on the host as the user who launches jobs (root for --vmm local).
 * `run` (host/run.h), `audit` (host/audit.h), `image` (host/image.h) and
 * `sandbox` (host/sandbox.h); docs/cli.md is the reference.
 * Messages go to stderr as "warden: LEVEL: ..." (common/log.h); usage
 * errors exit WD_EXIT_LAUNCHER like every other failure of the launcher
 * itself, so that they cannot be mistaken for the agent's own status.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/log.h"
#include "audit.h"
#include "cli.h"
#include "exitcodes.h"
#include "image.h"
#include "run.h"
#include "sandbox.h"

static const char usage[] =
	"usage: warden COMMAND [OPTIONS]\n"
	"\n"
	"  run       run one command in a fresh microVM (warden run --help)\n"
	"  audit     verify, show or prune audit logs (warden audit --help)\n"
	"  image     build, inspect or verify a golden image (warden image --help)\n"
	"  sandbox   run one command in the agent's sandbox on this kernel\n"
	"            (warden sandbox --help)\n"
	"\n"
	"See docs/cli.md.\n";

/* Closed fds 0-2 would be reused by the first files opened. */
static void open_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			_exit(WD_EXIT_LAUNCHER);
}

static int cmd_run(int argc, char **argv)
{
	static struct wd_run_opts o;
	struct wd_err err;

	if (wd_cli_parse_run(argc, argv, &o, &err) < 0) {
		wd_error("%s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	if (o.help) {
		fputs(wd_cli_run_usage, stdout);
		return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
	}
	if (o.verbose > 0)
		wd_log_set_level(WD_LOG_DEBUG);
	return wd_run(&o);
}

int main(int argc, char **argv)
{
	open_std_fds();
	wd_log_init("warden", WD_LOG_INFO);
	if (argc < 2) {
		fputs(usage, stderr);
		return WD_EXIT_LAUNCHER;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, stdout);
		return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
	}
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 2, argv + 2);
	if (strcmp(argv[1], "audit") == 0)
		return wd_audit_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "image") == 0)
		return wd_image_main(argc - 2, argv + 2);
	if (strcmp(argv[1], "sandbox") == 0)
		return wd_sandbox_main(argc - 2, argv + 2);
	wd_error("unknown command '%s' (warden --help lists them)", argv[1]);
	return WD_EXIT_LAUNCHER;
}
