/*
 * policy/policy.c - see policy.h. The document is parsed once; each
 * section's reader gets its own subtree.
 */
#include "policy.h"

#include <errno.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json.h"
#include "../common/tlog.h"

static const struct wd_json_field policy_fields[] = {
	{"sandbox", false},
	{"audit", false},
	{"egress", false},
	{NULL, false},
};

static const struct wd_json_field audit_fields[] = {
	{"checkpoint_every", false},
	{"checkpoint_ms", false},
	{"memory_bytes", false},
	{"spill_bytes", false},
	{"max_records", false},
	{"max_bytes", false},
	{"exec", false},
	{NULL, false},
};

void wd_policy_audit_defaults(struct wd_policy_audit *a)
{
	a->checkpoint_every = WD_POLICY_CHECKPOINT_EVERY;
	a->checkpoint_ms = WD_POLICY_CHECKPOINT_MS;
	a->memory_bytes = WD_POLICY_MEMORY_BYTES;
	a->spill_bytes = WD_POLICY_SPILL_BYTES;
	a->max_records = WD_POLICY_BUDGET_RECORDS;
	a->max_bytes = WD_POLICY_BUDGET_BYTES;
	a->exec = true;
}

void wd_policy_defaults(struct wd_policy *p)
{
	memset(p, 0, sizeof(*p));
	sup_sandbox_defaults(&p->sandbox);
	wd_policy_audit_defaults(&p->audit);
	wd_egress_defaults(&p->egress);
}

static int read_audit(const cJSON *a, struct wd_policy_audit *l, struct wd_err *err)
{
	/* The integer members and their bounds. */
	const struct {
		const char *name;
		uint64_t min, max;
		uint64_t *v;
	} m[] = {
		{"checkpoint_every", 1, WD_POLICY_CHECKPOINT_EVERY_MAX, &l->checkpoint_every},
		{"checkpoint_ms", 1, WD_POLICY_CHECKPOINT_MS_MAX, &l->checkpoint_ms},
		{"memory_bytes", WD_POLICY_MEMORY_BYTES_MIN, WD_POLICY_MEMORY_BYTES_MAX,
		 &l->memory_bytes},
		{"spill_bytes", 0, WD_POLICY_SPILL_BYTES_MAX, &l->spill_bytes},
		{"max_records", WD_POLICY_BUDGET_RECORDS_MIN, WD_POLICY_BUDGET_RECORDS_MAX,
		 &l->max_records},
		{"max_bytes", WD_POLICY_BUDGET_BYTES_MIN, WD_POLICY_BUDGET_BYTES_MAX,
		 &l->max_bytes},
	};
	const char *w = "policy: audit";
	int rc;

	if (!cJSON_IsObject(a))
		return wd_err_set(err, EINVAL, "%s: must be an object", w);
	if ((rc = wd_json_check_fields(a, audit_fields, w, err)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if ((rc = wd_json_get_uint(a, m[i].name, m[i].max, m[i].v, w, err)) < 0)
			return rc;
		if (*m[i].v < m[i].min)
			return wd_err_set(err, ERANGE, "%s.%s: at least %llu", w, m[i].name,
					  (unsigned long long)m[i].min);
	}
	return wd_json_get_bool(a, "exec", &l->exec, w, err);
}

static int read_document(const cJSON *root, struct wd_policy *p, struct wd_err *err)
{
	const cJSON *s;
	int rc;

	if ((rc = wd_json_check_fields(root, policy_fields, "policy", err)) < 0)
		return rc;
	if ((s = cJSON_GetObjectItemCaseSensitive(root, "sandbox")) != NULL &&
	    (rc = sup_sandbox_policy(s, &p->sandbox, err)) < 0)
		return rc;
	if ((s = cJSON_GetObjectItemCaseSensitive(root, "audit")) != NULL &&
	    (rc = read_audit(s, &p->audit, err)) < 0)
		return rc;
	if ((s = cJSON_GetObjectItemCaseSensitive(root, "egress")) != NULL &&
	    (rc = wd_egress_read(s, &p->egress, err)) < 0)
		return rc;
	p->sandbox.exec_audit_off = !p->audit.exec;
	return 0;
}

int wd_policy_read(const char *text, size_t len, struct wd_policy *p, struct wd_err *err)
{
	cJSON *root;
	int rc;

	wd_policy_defaults(p);
	wd_sha256(text, len, p->sha256);
	p->bytes = len;
	if (len == 0)
		return 0;
	root = wd_json_parse_object((const uint8_t *)text, len, WD_POLICY_MAX_BYTES, "policy", err);
	if (root == NULL)
		return -(err->code != 0 ? err->code : EINVAL);
	rc = read_document(root, p, err);
	cJSON_Delete(root);
	if (rc < 0)
		wd_policy_free(p);
	return rc;
}

void wd_policy_free(struct wd_policy *p)
{
	sup_sandbox_free(&p->sandbox);
	wd_egress_free(&p->egress);
	wd_policy_defaults(p);
}
