/*
 * sandbox/cgroup.c - the job's cgroup v2: memory.max with no swap,
 * pids.max, cpu.max, then cgroup.kill at the end and the OOM count.
 *
 * The job's cgroup is a child of the supervisor's own (in the guest, the
 * root of the hierarchy). The sandbox's init is cloned straight into it
 * (CLONE_INTO_CGROUP), so nothing of the agent ever runs outside it, and
 * enters a cgroup namespace there, so the agent sees it as its root.
 * Where cgroup2 offers no memory, pids and cpu controllers the job is
 * refused: the policy has to turn cgroup limits off, and that is recorded.
 */
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#include "../common/log.h"

#define CGROUP_ROOT "/sys/fs/cgroup"
#define SELF_CGROUP_BYTES 4096
#define CONTROLLERS_BYTES 512
#define EVENTS_BYTES 1024
#define MEM_RESERVE_MIB 64ULL /* left to the supervisor when the job names no memory */
#define EMPTY_WAIT_MS 2000    /* after cgroup.kill, for the cgroup to empty */

static const char *const needed[] = {"memory", "pids", "cpu"};

static int read_small(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	(void)close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

static int write_small(int dirfd, const char *name, const char *value)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
	size_t len = strlen(value);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	(void)close(fd);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* This process's cgroup v2 path ("/" in the guest), from /proc/self/cgroup. */
static int own_cgroup(char *path, size_t size, struct wd_err *err)
{
	char buf[SELF_CGROUP_BYTES];
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC);
	ssize_t n;
	char *line, *save = NULL;

	if (fd < 0)
		return wd_err_sys(err, errno, "cgroup: /proc/self/cgroup");
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return wd_err_set(err, EIO, "cgroup: /proc/self/cgroup is empty");
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save))
		if (strncmp(line, "0::", 3) == 0) {
			if ((size_t)snprintf(path, size, "%s", line + 3) >= size)
				return wd_err_set(err, ENAMETOOLONG, "cgroup: own path too long");
			return 0;
		}
	return wd_err_set(err, ENOENT, "cgroup: this process is in no cgroup v2 hierarchy");
}

static bool listed(const char *list, const char *word)
{
	size_t len = strlen(word);

	for (const char *p = list; (p = strstr(p, word)) != NULL; p += len)
		if ((p == list || p[-1] == ' ') &&
		    (p[len] == ' ' || p[len] == '\n' || p[len] == '\0'))
			return true;
	return false;
}

/* What the machine has, less room for the supervisor and the kernel (in
 * the guest the job's --mem is the whole VM, so it cannot be the limit). */
static uint64_t default_memory_mib(void)
{
	struct sysinfo si;
	uint64_t total;

	if (sysinfo(&si) < 0)
		return 0;
	total = (uint64_t)si.totalram * si.mem_unit / (1024ULL * 1024ULL);
	return total > 2 * MEM_RESERVE_MIB ? total - MEM_RESERVE_MIB : total / 2;
}

static int limits(const struct sup_sandbox *sb, struct sup_cgroup *cg, struct wd_err *err)
{
	char v[64];
	uint64_t mem = sb->memory_mib != 0 ? sb->memory_mib : default_memory_mib();
	int rc;

	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)mem * 1024ULL * 1024ULL);
	if (mem != 0 && (rc = write_small(cg->dirfd, "memory.max", v)) < 0)
		return wd_err_sys(err, -rc, "cgroup: memory.max");
	rc = write_small(cg->dirfd, "memory.swap.max", "0");
	if (rc < 0 && rc != -ENOENT) /* no swap accounting: no swap to use */
		return wd_err_sys(err, -rc, "cgroup: memory.swap.max");
	(void)snprintf(v, sizeof(v), "%llu", (unsigned long long)sb->pids_max);
	if (sb->pids_max != 0 && (rc = write_small(cg->dirfd, "pids.max", v)) < 0)
		return wd_err_sys(err, -rc, "cgroup: pids.max");
	if (sb->cpu_quota_us != 0) {
		(void)snprintf(v, sizeof(v), "%llu %u", (unsigned long long)sb->cpu_quota_us,
			       SUP_SB_CPU_PERIOD_US);
		if ((rc = write_small(cg->dirfd, "cpu.max", v)) < 0)
			return wd_err_sys(err, -rc, "cgroup: cpu.max");
	}
	return 0;
}

int sup_cgroup_create(const struct sup_sandbox *sb, struct sup_cgroup *cg, struct wd_err *err)
{
	char own[SUP_SB_PATH_MAX - 32], base[SUP_SB_PATH_MAX + 32], list[CONTROLLERS_BYTES];
	int basefd, rc;

	cg->dirfd = -1;
	cg->path[0] = '\0';
	if (sb->cgroup_off)
		return 0;
	if (own_cgroup(own, sizeof(own), err) < 0)
		return wd_err_ret(err);
	(void)snprintf(base, sizeof(base), "%s%s", CGROUP_ROOT, strcmp(own, "/") == 0 ? "" : own);
	basefd = open(base, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (basefd < 0)
		return wd_err_sys(err, errno, "cgroup: %s", base);
	rc = read_small(basefd, "cgroup.controllers", list, sizeof(list));
	for (size_t i = 0; rc >= 0 && i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!listed(list, needed[i])) {
			char *nl = strchr(list, '\n');

			if (nl != NULL)
				*nl = '\0';
			(void)close(basefd);
			return wd_err_set(err, EOPNOTSUPP,
					  "cgroup: %s offers no '%s' controller (it lists '%s'); "
					  "the policy can turn cgroup limits off "
					  "(\"sandbox\": {\"cgroup\": false})",
					  base, needed[i], list);
		}
	if (rc < 0) {
		(void)close(basefd);
		return wd_err_set(
			err, EOPNOTSUPP,
			"cgroup: no cgroup v2 at %s; the policy can turn cgroup limits off "
			"(\"sandbox\": {\"cgroup\": false})",
			base);
	}
	rc = write_small(basefd, "cgroup.subtree_control", "+memory +pids +cpu");
	if (rc < 0) {
		(void)close(basefd);
		return wd_err_sys(err, -rc, "cgroup: enable controllers below %s", base);
	}
	(void)snprintf(cg->path, sizeof(cg->path), "warden-job-%d", (int)getpid());
	if (mkdirat(basefd, cg->path, 0755) < 0 && errno != EEXIST) {
		rc = wd_err_sys(err, errno, "cgroup: mkdir %s/%s", base, cg->path);
		(void)close(basefd);
		return rc;
	}
	cg->dirfd = openat(basefd, cg->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	(void)close(basefd);
	if (cg->dirfd < 0)
		return wd_err_sys(err, errno, "cgroup: open %s", cg->path);
	(void)snprintf(cg->path, sizeof(cg->path), "%s/warden-job-%d",
		       strcmp(own, "/") == 0 ? "" : own, (int)getpid());
	if (limits(sb, cg, err) < 0) {
		sup_cgroup_destroy(cg);
		return wd_err_ret(err);
	}
	return 0;
}

void sup_cgroup_kill(const struct sup_cgroup *cg)
{
	int rc;

	if (cg->dirfd < 0)
		return;
	rc = write_small(cg->dirfd, "cgroup.kill", "1");
	if (rc < 0)
		wd_warn_sys(-rc, "cgroup: cgroup.kill");
}

bool sup_cgroup_oom(const struct sup_cgroup *cg)
{
	char buf[EVENTS_BYTES];
	const char *p;

	if (cg->dirfd < 0 || read_small(cg->dirfd, "memory.events", buf, sizeof(buf)) < 0)
		return false;
	p = strstr(buf, "oom_kill ");
	return p != NULL && strtoull(p + 9, NULL, 10) > 0;
}

static bool populated(const struct sup_cgroup *cg)
{
	char buf[EVENTS_BYTES];
	const char *p;

	if (read_small(cg->dirfd, "cgroup.events", buf, sizeof(buf)) < 0)
		return false;
	p = strstr(buf, "populated ");
	return p != NULL && p[10] == '1';
}

void sup_cgroup_destroy(struct sup_cgroup *cg)
{
	char name[SUP_SB_PATH_MAX + 32];
	int parent;

	if (cg->dirfd < 0)
		return;
	sup_cgroup_kill(cg);
	for (int i = 0; i < EMPTY_WAIT_MS / 10 && populated(cg); i++)
		(void)poll(NULL, 0, 10);
	(void)snprintf(name, sizeof(name), "%s%s", CGROUP_ROOT, cg->path);
	parent = openat(cg->dirfd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
	(void)close(cg->dirfd);
	cg->dirfd = -1;
	if (parent >= 0) {
		const char *leaf = strrchr(name, '/');

		if (unlinkat(parent, leaf + 1, AT_REMOVEDIR) < 0)
			wd_warn_sys(errno, "cgroup: rmdir %s", name);
		(void)close(parent);
	}
}
