/*
 * bench/sbbench.c - in-process spawn latency of the sandbox: from the
 * request (sup_spawn) to the agent's exec reported by the sandbox's init,
 * for N spawns of one command, with the filter compiled once (as the
 * supervisor does per job). Prints one value per line, microseconds.
 *
 *   sbbench POLICY_FILE RUNS -- COMMAND [ARG]...   (root)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../policy/policy.h"
#include "../sandbox/spawn.h"

#define POLICY_MAX 65536

int main(int argc, char **argv)
{
	static char policy[POLICY_MAX];
	static const char *const env[] = {"PATH=" SUP_DEFAULT_PATH, NULL};
	struct wd_policy pol;
	struct sup_sandbox *sb = &pol.sandbox;
	struct sup_sb_filter filter;
	struct wd_job job;
	struct wd_err err;
	size_t len = 0;
	long runs;

	if (argc < 5 || strcmp(argv[3], "--") != 0) {
		fprintf(stderr, "usage: sbbench POLICY_FILE RUNS -- COMMAND [ARG]...\n");
		return 2;
	}
	runs = strtol(argv[2], NULL, 10);
	wd_policy_defaults(&pol);
	if (wd_read_file(argv[1], policy, sizeof(policy), &len, &err) < 0 ||
	    wd_policy_read(policy, len, &pol, &err) < 0 ||
	    (!sb->seccomp_off && sup_sb_filter_build(sb, &filter, &err) < 0)) {
		fprintf(stderr, "sbbench: %s\n", err.msg);
		return 1;
	}
	memset(&job, 0, sizeof(job));
	{
		union {
			char **in;
			const char **out;
		} args = {.in = argv + 4};
		union {
			const char *const *in;
			const char **out;
		} envs = {.in = env};

		job.argv = args.out;
		job.env = envs.out;
	}
	job.cwd = "";
	for (long i = 0; i < runs; i++) {
		struct sup_spawn sp;
		struct sup_agent a;
		uint64_t t0;
		int ws;

		memset(&sp, 0, sizeof(sp));
		sp.job = &job;
		sp.sb = sb;
		sp.filter = sb->seccomp_off ? NULL : &filter;
		sp.cgroup_fd = -1;
		sp.workdir_fd = -1;
		sp.inherit_stdio = true;
		t0 = wd_mono_ns();
		if (sup_spawn(&sp, &a, &err) < 0) {
			fprintf(stderr, "sbbench: %s\n", err.msg);
			return 1;
		}
		printf("%llu\n", (unsigned long long)((wd_mono_ns() - t0) / 1000));
		(void)waitpid(a.pid, &ws, 0);
		if (a.listener >= 0)
			(void)close(a.listener);
		(void)close(a.status_fd);
	}
	return 0;
}
