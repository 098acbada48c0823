/*
 * tests/fuzz/fuzz_policy.c - the policy's sandbox section
 * (supervisor/sandbox.c, with the Docker/OCI profile it may carry) and its
 * audit section (supervisor/auditpolicy.c) on arbitrary bytes.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message and owns nothing; an accepted policy respects every bound
 * the sandbox relies on (absolute plain bind paths, non-root ids, non-zero
 * counts) and the audit log does (a budget that holds its reserve, queues
 * and checkpoints within their bounds); a refused audit section leaves the
 * defaults.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../supervisor/audit.h"
#include "../../supervisor/sandbox.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Absolute, no empty, "." or ".." component, shorter than the bound. */
static int plain_path(const char *p)
{
	size_t len = strlen(p);

	if (p[0] != '/' || len < 2 || len >= SUP_SB_PATH_MAX)
		return 0;
	for (const char *c = p; *c != '\0';) {
		size_t n;

		c++; /* the '/' */
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
	}
	return 1;
}

static int same_limits(const struct sup_audit_limits *a, const struct sup_audit_limits *b)
{
	return a->checkpoint_every == b->checkpoint_every && a->checkpoint_ms == b->checkpoint_ms &&
	       a->memory_bytes == b->memory_bytes && a->spill_bytes == b->spill_bytes &&
	       a->max_records == b->max_records && a->max_bytes == b->max_bytes &&
	       a->exec == b->exec;
}

static void audit_section(const uint8_t *data, size_t size)
{
	struct sup_audit_limits l, d;
	struct wd_err err;

	sup_audit_defaults(&d);
	if (sup_audit_policy((const char *)data, size, &l, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || !same_limits(&l, &d))
			abort();
		return;
	}
	if (l.max_records < SUP_AUDIT_MIN_MAX_RECORDS ||
	    l.max_records > SUP_AUDIT_MAX_MAX_RECORDS ||
	    l.max_records <= SUP_AUDIT_BUDGET_RESERVE_RECORDS ||
	    l.max_bytes < SUP_AUDIT_MIN_MAX_BYTES || l.max_bytes > SUP_AUDIT_MAX_MAX_BYTES ||
	    l.max_bytes <= SUP_AUDIT_BUDGET_RESERVE_BYTES || l.checkpoint_every == 0 ||
	    l.checkpoint_ms == 0 || l.memory_bytes < 65536)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_sandbox sb;
	struct wd_err err;
	char buf[128];
	size_t i = 0;

	audit_section(data, size);
	sup_sandbox_defaults(&sb);
	if (sup_sandbox_policy((const char *)data, size, &sb, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || sb.has_profile)
			abort();
		return 0;
	}
	if (sb.uid == 0 || sb.gid == 0 || sb.nofile == 0 || sb.nproc == 0 || sb.tmp_mib == 0 ||
	    sb.pids_max == 0 || sb.n_ro_binds > SUP_SB_MAX_BINDS)
		abort();
	for (size_t b = 0; b < sb.n_ro_binds; b++)
		if (!plain_path(sb.ro_binds[b]))
			abort();
	while (sup_sandbox_weakened(&sb, &i, buf, sizeof(buf)) != NULL)
		if (i > 4 + SUP_SB_HARD_MAX)
			abort();
	sup_sandbox_free(&sb);
	return 0;
}
