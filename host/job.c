/* host/job.c - see job.h. */
#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/tlog.h"
#include "../policy/policy.h"
#include "paths.h"

#define HASH_CHUNK (64UL * 1024UL)

static void hex_digest(br_sha256_context *hc, char out[WD_SHA256_HEX])
{
	uint8_t d[32];

	br_sha256_out(hc, d);
	wd_hex(d, sizeof(d), out);
}

/* pread(2) all of [off, off+len), or fewer bytes at the end of the file. */
static ssize_t pread_full(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static int open_upload(struct wd_upload *u, const struct wd_file_arg *arg, struct wd_err *err)
{
	char path[WD_PATH_BYTES];
	uint8_t *buf;
	br_sha256_context hc;
	struct stat st;
	uint64_t off = 0;

	u->fd = -1;
	u->arg = arg;
	if (wd_file_arg_path(arg, path, sizeof(path), err) < 0)
		return -err->code;
	u->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (u->fd < 0)
		return wd_err_sys(err, errno, "--file %s", path);
	if (fstat(u->fd, &st) < 0)
		return wd_err_sys(err, errno, "--file %s: fstat", path);
	if (!S_ISREG(st.st_mode))
		return wd_err_set(err, EINVAL, "--file %s: not a regular file", path);
	if ((uint64_t)st.st_size > WD_JOB_MAX_FILE_BYTES)
		return wd_err_set(err, EFBIG, "--file %s: %llu bytes, over the limit of %llu", path,
				  (unsigned long long)st.st_size,
				  (unsigned long long)WD_JOB_MAX_FILE_BYTES);
	u->mode = (uint32_t)(st.st_mode & 0777);
	u->size = (uint64_t)st.st_size;
	buf = malloc(HASH_CHUNK);
	if (buf == NULL)
		return wd_err_set(err, ENOMEM, "--file %s: buffer", path);
	br_sha256_init(&hc);
	while (off < u->size) {
		uint64_t left = u->size - off;
		ssize_t n =
			pread_full(u->fd, buf, left < HASH_CHUNK ? (size_t)left : HASH_CHUNK, off);

		if (n <= 0) {
			int e = n < 0 ? errno : EIO;

			free(buf);
			return n < 0 ? wd_err_sys(err, e, "--file %s: read", path)
				     : wd_err_set(err, e, "--file %s: shorter than its size", path);
		}
		br_sha256_update(&hc, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	hex_digest(&hc, u->sha256);
	br_sha256_init(&u->resend);
	return 0;
}

/* A profile compiled as the guest will compile it, so one the filter cannot
 * honour stops the job here. */
static int profile_check(const struct sup_sandbox *sb, struct wd_err *err)
{
	struct sup_sb_filter f;
	int rc;

	if (!sb->has_profile || sb->seccomp_off)
		return 0;
	rc = sup_sb_filter_compile(sb, &f, err);
	if (rc == 0)
		sup_sb_filter_free(&f);
	return rc;
}

/*
 * The whole policy read here as the guest will read it, and a profile
 * compiled as the guest will compile it: an invalid one, or a profile the
 * filter cannot honour, stops the job before a VM starts. On success
 * `policy` holds it (the caller frees it); on failure nothing is held.
 */
static int check_policy_text(const char *text, size_t n, struct wd_policy *policy,
			     struct wd_err *err)
{
	if (n == 0)
		return wd_err_set(err, EINVAL, "empty");
	if (memchr(text, '\0', n) != NULL)
		return wd_err_set(err, EINVAL, "contains a NUL byte");
	if (wd_policy_read(text, n, policy, err) < 0 || profile_check(&policy->sandbox, err) < 0) {
		wd_policy_free(policy);
		return wd_err_ret(err);
	}
	return 0;
}

int wd_read_policy(const char *path, char **out, struct wd_policy *parsed, struct wd_err *err)
{
	static struct wd_policy own; /* when the caller keeps nothing */
	struct wd_policy *policy = parsed != NULL ? parsed : &own;
	struct stat st;
	char *text;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return wd_err_sys(err, errno, "--policy %s", path);
	if (fstat(fd, &st) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "--policy %s: fstat", path);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > WD_JOB_MAX_POLICY) {
		(void)close(fd);
		if (!S_ISREG(st.st_mode))
			return wd_err_set(err, EINVAL, "--policy %s: not a regular file", path);
		return wd_err_set(err, E2BIG, "--policy %s: larger than %d bytes", path,
				  WD_JOB_MAX_POLICY);
	}
	text = malloc((size_t)st.st_size + 2);
	if (text == NULL) {
		(void)close(fd);
		return wd_err_set(err, ENOMEM, "--policy %s: buffer", path);
	}
	/* One byte more than the size: a file that grew since fstat is caught. */
	n = pread_full(fd, (uint8_t *)text, (size_t)st.st_size + 1, 0);
	(void)close(fd);
	if (n < 0 || n > st.st_size) {
		free(text);
		return n < 0 ? wd_err_sys(err, EIO, "--policy %s: read", path)
			     : wd_err_set(err, E2BIG, "--policy %s: changed while read", path);
	}
	text[n] = '\0';
	if (check_policy_text(text, (size_t)n, policy, err) < 0) {
		free(text);
		return wd_err_wrap(err, "--policy %s", path);
	}
	if (parsed == NULL)
		wd_policy_free(policy);
	*out = text;
	return 0;
}

/* The sections the host enforces itself, taken out of `parsed`, which is
 * then released. */
static void keep_sections(struct wd_job_plan *p, struct wd_policy *parsed)
{
	p->audit = parsed->audit;
	wd_egress_free(&p->egress);
	p->egress = parsed->egress;
	wd_egress_defaults(&parsed->egress); /* now the plan's */
	wd_policy_free(parsed);
}

int wd_job_plan_set_policy(struct wd_job_plan *p, char *text, size_t len, const char *what,
			   struct wd_err *err)
{
	struct wd_policy parsed;

	if (check_policy_text(text, len, &parsed, err) < 0) {
		free(text);
		return wd_err_wrap(err, "%s", what);
	}
	free(p->policy);
	p->policy = text;
	keep_sections(p, &parsed);
	return 0;
}

static bool env_sets(const struct wd_run_opts *o, const char *key)
{
	size_t n = strlen(key);

	for (size_t i = 0; i < o->nenv; i++)
		if (strncmp(o->env[i], key, n) == 0 && o->env[i][n] == '=')
			return true;
	return false;
}

static int build_env(struct wd_job_plan *p, const struct wd_run_opts *o, const char *host_term,
		     struct wd_err *err)
{
	bool add_term = o->tty && host_term != NULL && host_term[0] != '\0' &&
			strlen(host_term) < 256 && !env_sets(o, "TERM");

	p->env = calloc(o->nenv + 2, sizeof(*p->env));
	if (p->env == NULL)
		return wd_err_set(err, ENOMEM, "environment");
	for (size_t i = 0; i < o->nenv; i++)
		p->env[p->envc++] = o->env[i];
	if (add_term) {
		size_t n = strlen(host_term) + sizeof("TERM=");

		p->term = malloc(n);
		if (p->term == NULL)
			return wd_err_set(err, ENOMEM, "environment");
		(void)snprintf(p->term, n, "TERM=%s", host_term);
		p->env[p->envc++] = p->term;
	}
	return 0;
}

int wd_job_plan_prepare(struct wd_job_plan *p, const struct wd_run_opts *o, const char *host_term,
			struct wd_err *err)
{
	memset(p, 0, sizeof(*p));
	wd_egress_defaults(&p->egress);
	for (size_t i = 0; i < WD_JOB_MAX_FILES; i++)
		p->files[i].fd = -1;
	p->argv = calloc(o->argc + 1, sizeof(*p->argv));
	if (p->argv == NULL)
		return wd_err_set(err, ENOMEM, "command");
	for (size_t i = 0; i < o->argc; i++)
		p->argv[i] = o->argv[i];
	if (build_env(p, o, host_term, err) < 0)
		return -err->code;
	for (size_t i = 0; i < o->nfiles; i++) {
		p->nfiles = i + 1;
		if (open_upload(&p->files[i], &o->files[i], err) < 0)
			return -err->code;
	}
	wd_policy_audit_defaults(&p->audit);
	if (o->policy != NULL) {
		struct wd_policy parsed;

		if (wd_read_policy(o->policy, &p->policy, &parsed, err) < 0)
			return -err->code;
		keep_sections(p, &parsed);
	}
	return 0;
}

int wd_job_plan_encode(const struct wd_job_plan *p, const struct wd_run_opts *o, uint16_t rows,
		       uint16_t cols, char *out, size_t size, struct wd_err *err)
{
	struct wd_job job;
	struct timespec now;
	int n;

	memset(&job, 0, sizeof(job));
	job.argv = p->argv;
	job.argc = o->argc;
	job.env = p->env;
	job.envc = p->envc;
	job.cwd = "";
	job.timeout_ms = o->timeout_ms;
	job.tty = o->tty;
	job.rows = o->tty ? rows : 0;
	job.cols = o->tty ? cols : 0;
	job.policy = p->policy != NULL ? p->policy : "";
	job.mem_mib = o->mem_mib;
	for (size_t i = 0; i < p->nfiles; i++) {
		job.files[i].name = p->files[i].arg->name;
		job.files[i].mode = p->files[i].mode;
		job.files[i].size = p->files[i].size;
		memcpy(job.files[i].sha256, p->files[i].sha256, WD_SHA256_HEX);
	}
	job.nfiles = p->nfiles;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	job.clock_realtime_ns = (uint64_t)now.tv_sec * WD_NS_PER_SEC + (uint64_t)now.tv_nsec;
	n = wd_job_encode(&job, out, size, err);
	if (n < 0)
		return wd_err_wrap(err, "job");
	return n;
}

/* The end of a file: check that what was sent is what was hashed. */
static int finish_upload(struct wd_upload *u, struct wd_err *err)
{
	char again[WD_SHA256_HEX];

	hex_digest(&u->resend, again);
	if (strcmp(again, u->sha256) != 0)
		return wd_err_set(err, EIO, "--file %.*s: changed while it was being sent",
				  (int)u->arg->path_len, u->arg->spec);
	u->done = true;
	return 0;
}

int wd_job_plan_next_chunk(struct wd_job_plan *p, uint8_t *buf, size_t size, uint32_t *stream,
			   size_t *len, struct wd_err *err)
{
	struct wd_upload *u;
	uint64_t left;
	ssize_t n;

	while (p->next_file < p->nfiles && p->files[p->next_file].done)
		p->next_file++;
	if (p->next_file == p->nfiles)
		return 0;
	u = &p->files[p->next_file];
	*stream = WD_STREAM_FILE_BASE + (uint32_t)p->next_file;
	left = u->size - u->sent;
	if (left == 0) {
		*len = 0;
		return finish_upload(u, err) < 0 ? -err->code : 1;
	}
	n = pread_full(u->fd, buf, left < size ? (size_t)left : size, u->sent);
	if (n < 0)
		return wd_err_sys(err, errno, "--file %.*s: read", (int)u->arg->path_len,
				  u->arg->spec);
	if (n == 0)
		return wd_err_set(err, EIO, "--file %.*s: shrank while it was being sent",
				  (int)u->arg->path_len, u->arg->spec);
	br_sha256_update(&u->resend, buf, (size_t)n);
	u->sent += (uint64_t)n;
	*len = (size_t)n;
	return 1;
}

bool wd_job_plan_uploads_done(const struct wd_job_plan *p)
{
	for (size_t i = p->next_file; i < p->nfiles; i++)
		if (!p->files[i].done)
			return false;
	return true;
}

void wd_job_plan_free(struct wd_job_plan *p)
{
	for (size_t i = 0; i < p->nfiles; i++)
		if (p->files[i].fd >= 0)
			(void)close(p->files[i].fd);
	p->nfiles = 0;
	free(p->policy);
	wd_egress_free(&p->egress);
	free(p->term);
	free(p->argv);
	free(p->env);
	p->policy = p->term = NULL;
	p->argv = p->env = NULL;
}
