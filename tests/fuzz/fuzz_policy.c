/*
 * tests/fuzz/fuzz_policy.c - the policy's sandbox section
 * (sandbox/sandbox.c, with the Docker/OCI profile it may carry) on
 * arbitrary bytes.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message and owns nothing; an accepted policy respects every bound
 * the sandbox relies on (absolute plain bind paths, non-root ids, non-zero
 * counts).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../policy/policy.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_policy pol;
	const struct sup_sandbox *sb = &pol.sandbox;
	struct wd_err err;
	char buf[128];
	size_t i = 0;

	wd_err_clear(&err);
	if (wd_policy_read((const char *)data, size, &pol, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || sb->has_profile)
			abort();
		return 0;
	}
	if (pol.audit.checkpoint_every == 0 || pol.audit.checkpoint_ms == 0 ||
	    pol.audit.memory_bytes < WD_POLICY_MEMORY_BYTES_MIN ||
	    pol.audit.spill_bytes > WD_POLICY_SPILL_BYTES_MAX ||
	    sb->exec_audit_off == pol.audit.exec)
		abort();
	if (sb->uid == 0 || sb->gid == 0 || sb->nofile == 0 || sb->nproc == 0 || sb->tmp_mib == 0 ||
	    sb->pids_max == 0 || sb->n_ro_binds > SUP_SB_MAX_BINDS)
		abort();
	for (size_t b = 0; b < sb->n_ro_binds; b++)
		if (!plain_path(sb->ro_binds[b]))
			abort();
	while (sup_sandbox_weakened(sb, &i, buf, sizeof(buf)) != NULL)
		if (i > 4 + SUP_SB_HARD_MAX)
			abort();
	wd_policy_free(&pol);
	return 0;
}
