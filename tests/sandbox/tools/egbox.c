/*
 * tests/sandbox/tools/egbox.c - `warden sandbox`'s part for one command
 * with egress on, set directly (sandbox.h: sup_sandbox.egress) until the
 * policy's egress section sets it: the sandbox made ready, the command's
 * environment with the proxies (sup_sb_agent_env), its notifications
 * answered and each record written as a JSON line to --records, and every
 * connection to the proxies' listeners accepted, recorded
 * ({"class":"egbox","activity":"accept","data":{"port":N}}) and greeted
 * with "warden N\n", so that the command can tell the caller holds them.
 * Without --egress the same, egress off (the bench's baseline).
 *
 *   egbox [--egress] --policy FILE --records FILE -- COMMAND [ARG]...   (root)
 *
 * Exits with the command's status (128+N for signal N), 125 on its own
 * failure. Test and bench tool only: no timeout, no signal forwarding.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../../common/fileio.h"
#include "../../../policy/policy.h"
#include "../../../sandbox/spawn.h"

#define POLICY_MAX 65536
#define RECORD_BYTES 2048

static int records = -1;

static int print_denial(void *ctx, const struct sup_sb_denial *d)
{
	struct sup_sb_record_kind k;
	char json[RECORD_BYTES];

	(void)ctx;
	sup_sb_denial_kind(d, &k);
	if (sup_sb_denial_json(d, NULL, json, sizeof(json)) > 0)
		(void)dprintf(records, "{\"activity\":\"%s\",\"class\":\"%s\",\"data\":%s}\n",
			      k.activity, k.cls, json);
	return 0;
}

static int no_exec_record(void *ctx, const struct sup_sb_exec_record *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void accept_all(int listener, unsigned port)
{
	int fd;

	while ((fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		(void)dprintf(records,
			      "{\"activity\":\"accept\",\"class\":\"egbox\",\"data\":"
			      "{\"port\":%u}}\n",
			      port);
		(void)dprintf(fd, "warden %u\n", port);
		(void)close(fd);
	}
}

static int serve(struct sup_agent *a, struct sup_sb_ready *r)
{
	for (;;) {
		struct pollfd p[4] = {
			{.fd = a->listener, .events = POLLIN},
			{.fd = r->exec != NULL ? sup_sb_exec_fd(r->exec) : -1, .events = POLLIN},
			{.fd = a->proxy_http, .events = POLLIN},
			{.fd = a->proxy_socks, .events = POLLIN}};
		int ws;

		if (waitpid(a->pid, &ws, WNOHANG) == a->pid) {
			ws = sup_agent_status(a, ws);
			return WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
		}
		if (poll(p, 4, 50) < 0 && errno != EINTR)
			return 125;
		if (p[0].revents != 0)
			(void)sup_sb_filter_drain(&a->listener, p[0].revents, &r->filter.errnos,
						  r->exec, SUP_SB_DENIALS_PER_ROUND, print_denial,
						  NULL);
		if (p[1].revents != 0)
			(void)sup_sb_exec_serve(r->exec, SUP_SB_DENIALS_PER_ROUND, no_exec_record,
						NULL);
		if (p[2].revents != 0)
			accept_all(a->proxy_http, SUP_SB_PROXY_HTTP_PORT);
		if (p[3].revents != 0)
			accept_all(a->proxy_socks, SUP_SB_PROXY_SOCKS_PORT);
	}
}

int main(int argc, char **argv)
{
	static char text[POLICY_MAX];
	static const char *const base[] = {"PATH=" SUP_DEFAULT_PATH, "HTTP_PROXY=http://job:1"};
	static const char *env[2 + SUP_SB_PROXY_ENV_N + 1];
	struct wd_policy pol;
	struct sup_sb_ready ready;
	struct sup_agent a;
	struct sup_spawn sp;
	struct wd_job job;
	struct wd_err err;
	const char *policy = NULL, *rec = NULL;
	bool egress = false;
	size_t len = 0;
	int i, n, rc;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "--egress") == 0)
			egress = true;
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc)
			policy = argv[++i];
		else if (strcmp(argv[i], "--records") == 0 && i + 1 < argc)
			rec = argv[++i];
		else
			break;
	}
	if (policy == NULL || rec == NULL || i + 1 >= argc || strcmp(argv[i], "--") != 0) {
		fprintf(stderr,
			"usage: egbox [--egress] --policy FILE --records FILE -- COMMAND\n");
		return 125;
	}
	records = open(rec, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	wd_policy_defaults(&pol);
	if (records < 0 || wd_read_file(policy, text, sizeof(text), &len, &err) < 0 ||
	    wd_policy_read(text, len, &pol, &err) < 0) {
		fprintf(stderr, "egbox: %s\n", records < 0 ? "--records" : err.msg);
		return 125;
	}
	pol.sandbox.binds_from_host = true;
	pol.sandbox.egress = egress;
	if (sup_sandbox_prepare(&pol.sandbox, &ready, &err) < 0) {
		fprintf(stderr, "egbox: %s\n", err.msg);
		return 125;
	}
	n = sup_sb_agent_env(&pol.sandbox, base, 2, env, sizeof(env) / sizeof(env[0]));
	memset(&job, 0, sizeof(job));
	{
		union {
			char **in;
			const char **out;
		} args = {.in = argv + i + 1};

		job.argv = args.out;
	}
	job.env = env;
	job.envc = (size_t)n;
	job.cwd = "";
	memset(&sp, 0, sizeof(sp));
	sp.job = &job;
	sp.sb = &pol.sandbox;
	sp.filter = pol.sandbox.seccomp_off ? NULL : &ready.filter;
	sp.cgroup_fd = ready.cg.dirfd;
	sp.workdir_fd = -1;
	sp.inherit_stdio = true;
	sp.record = print_denial;
	sp.exec = ready.exec;
	sp.record_exec = no_exec_record;
	if (sup_spawn(&sp, &a, &err) < 0) {
		fprintf(stderr, "egbox: %s\n", err.msg);
		sup_sandbox_release(&ready);
		return 125;
	}
	rc = serve(&a, &ready);
	sup_sandbox_release(&ready);
	return rc;
}
