/*
 * supervisor/auditpolicy.c - the policy's "audit" section (audit.h,
 * docs/policy.md), read strictly: by the supervisor from JOB, and by the
 * host before anything starts (`warden run`, `warden sandbox`) and for its
 * own enforcement of the budget (host/collect.c). Apart from the log so
 * that the parser links alone (tests/fuzz/fuzz_policy.c).
 */
#include "audit.h"

#include <errno.h>

#include "../common/json.h"
#include "../vsock/msg.h"

void sup_audit_defaults(struct sup_audit_limits *l)
{
	l->checkpoint_every = SUP_AUDIT_CHECKPOINT_EVERY;
	l->checkpoint_ms = SUP_AUDIT_CHECKPOINT_MS;
	l->memory_bytes = SUP_AUDIT_MEMORY_BYTES;
	l->spill_bytes = SUP_AUDIT_SPILL_BYTES;
	l->max_records = SUP_AUDIT_MAX_RECORDS;
	l->max_bytes = SUP_AUDIT_MAX_BYTES;
	l->exec = true;
}

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

static int read_section(const cJSON *a, struct sup_audit_limits *l, struct wd_err *err)
{
	/* The integer members and their bounds. */
	const struct {
		const char *name;
		uint64_t min, max;
		uint64_t *v;
	} m[] = {
		{"checkpoint_every", 1, 1000000, &l->checkpoint_every},
		{"checkpoint_ms", 1, 3600000, &l->checkpoint_ms},
		{"memory_bytes", 65536, 1ULL << 30, &l->memory_bytes},
		{"spill_bytes", 0, 4ULL << 30, &l->spill_bytes},
		{"max_records", SUP_AUDIT_MIN_MAX_RECORDS, SUP_AUDIT_MAX_MAX_RECORDS,
		 &l->max_records},
		{"max_bytes", SUP_AUDIT_MIN_MAX_BYTES, SUP_AUDIT_MAX_MAX_BYTES, &l->max_bytes},
	};
	const cJSON *exec = cJSON_GetObjectItemCaseSensitive(a, "exec");

	if (wd_json_check_fields(a, audit_fields, "policy.audit", err) < 0)
		return -err->code;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		if (wd_json_get_uint(a, m[i].name, m[i].max, m[i].v, "policy.audit", err) < 0)
			return -err->code;
		if (*m[i].v < m[i].min)
			return wd_err_set(err, ERANGE, "policy.audit.%s: at least %llu", m[i].name,
					  (unsigned long long)m[i].min);
	}
	if (exec != NULL && !cJSON_IsBool(exec))
		return wd_err_set(err, EINVAL, "policy.audit.exec: not a boolean");
	if (cJSON_IsFalse(exec))
		l->exec = false;
	return 0;
}

int sup_audit_policy(const char *text, size_t len, struct sup_audit_limits *l, struct wd_err *err)
{
	const cJSON *a;
	cJSON *root;
	int rc = 0;

	sup_audit_defaults(l);
	if (len == 0)
		return 0;
	root = wd_json_parse_object((const uint8_t *)text, len, WD_JOB_MAX_POLICY, "policy", err);
	if (root == NULL)
		return -err->code;
	a = cJSON_GetObjectItemCaseSensitive(root, "audit");
	if (a != NULL)
		rc = read_section(a, l, err);
	cJSON_Delete(root);
	if (rc < 0)
		sup_audit_defaults(l); /* nothing half-read */
	return rc;
}
