/*
 * vsock/msg.c - see msg.h; the JSON field names are in docs/protocol.md.
 *
 * Decoding a JSON payload is common/json.h's three strict steps (raw
 * bytes, one object, field lists), then each value's type and bound, then
 * the message's own rules (job_check() and friends, which the encoders run
 * too, so nothing is sent that the peer would refuse).
 *
 * cJSON allocates with malloc; every path frees its tree before returning.
 * Integers travel as JSON numbers, read through cJSON's double, so they
 * are bounded by 2^53 (exact in a double); the two wall-clock-sized values
 * (clock_realtime_ns, boot.t0_ns) travel as decimal strings instead.
 */
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json.h"

#define WD_PID_MAX 4194304U /* the kernel's PID_MAX_LIMIT on 64-bit */

static bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

/* ---- checks shared by encoders and decoders ------------------------------- */

static bool is_sha256_hex(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!is_digit((uint8_t)s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
			return false;
	return s[i] == '\0';
}

static bool is_base64(const char *s)
{
	for (; *s != '\0'; s++)
		if (!(*s >= 'A' && *s <= 'Z') && !(*s >= 'a' && *s <= 'z') &&
		    !is_digit((uint8_t)*s) && *s != '+' && *s != '/' && *s != '=')
			return false;
	return true;
}

static int check_text(const char *s, size_t max, const char *what, struct wd_err *err)
{
	size_t n;

	if (s == NULL)
		return wd_err_set(err, EINVAL, "%s: missing", what);
	n = strnlen(s, max + 1);
	if (n > max)
		return wd_err_set(err, E2BIG, "%s: over %zu bytes", what, max);
	if (!wd_utf8_valid(s, n))
		return wd_err_set(err, EINVAL, "%s: not UTF-8", what);
	return 0;
}

/* One path component: created in the agent's directory under this name. */
static int check_file_name(const char *name, const char *what, struct wd_err *err)
{
	if (check_text(name, WD_JOB_MAX_NAME, what, err) < 0)
		return -err->code;
	if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strchr(name, '/') != NULL)
		return wd_err_set(err, EINVAL, "%s: not one path component", what);
	return 0;
}

/* Relative, and never climbing out of the working directory. */
static int check_cwd(const char *cwd, struct wd_err *err)
{
	if (check_text(cwd, WD_JOB_MAX_CWD, "job.cwd", err) < 0)
		return -err->code;
	if (cwd[0] == '/')
		return wd_err_set(err, EINVAL, "job.cwd: absolute");
	for (const char *c = cwd; *c != '\0';) {
		size_t n = strcspn(c, "/");

		if (n == 2 && c[0] == '.' && c[1] == '.')
			return wd_err_set(err, EINVAL, "job.cwd: a '..' component");
		c += n;
		if (*c == '/')
			c++;
	}
	return 0;
}

static int check_env(const char *e, size_t i, struct wd_err *err)
{
	char what[32];

	(void)snprintf(what, sizeof(what), "job.env[%zu]", i);
	if (check_text(e, WD_JOB_MAX_STRING, what, err) < 0)
		return -err->code;
	if (e[0] == '=' || strchr(e, '=') == NULL)
		return wd_err_set(err, EINVAL, "%s: not KEY=VALUE with a non-empty KEY", what);
	return 0;
}

static int check_file(const struct wd_job_file *f, size_t i, struct wd_err *err)
{
	char what[40];

	(void)snprintf(what, sizeof(what), "job.files[%zu].name", i);
	if (check_file_name(f->name, what, err) < 0)
		return -err->code;
	if (f->mode > 0777)
		return wd_err_set(err, ERANGE, "job.files[%zu].mode: %#o, over 0777", i, f->mode);
	if (f->size > WD_JOB_MAX_FILE_BYTES)
		return wd_err_set(err, ERANGE, "job.files[%zu].size: over %llu bytes", i,
				  (unsigned long long)WD_JOB_MAX_FILE_BYTES);
	if (!is_sha256_hex(f->sha256))
		return wd_err_set(err, EINVAL, "job.files[%zu].sha256: not 64 lowercase hex digits",
				  i);
	return 0;
}

/* Everything a job must satisfy, whether it is about to be sent or arrived. */
static int job_check(const struct wd_job *job, struct wd_err *err)
{
	char what[32];

	if (job->argc == 0 || job->argv == NULL)
		return wd_err_set(err, EINVAL, "job.argv: empty");
	if (job->argc > WD_JOB_MAX_ARGS)
		return wd_err_set(err, E2BIG, "job.argv: over %d entries", WD_JOB_MAX_ARGS);
	for (size_t i = 0; i < job->argc; i++) {
		(void)snprintf(what, sizeof(what), "job.argv[%zu]", i);
		if (check_text(job->argv[i], WD_JOB_MAX_STRING, what, err) < 0)
			return -err->code;
	}
	if (job->argv[0][0] == '\0')
		return wd_err_set(err, EINVAL, "job.argv[0]: empty");
	if (job->envc > WD_JOB_MAX_ENV)
		return wd_err_set(err, E2BIG, "job.env: over %d entries", WD_JOB_MAX_ENV);
	if (job->envc > 0 && job->env == NULL)
		return wd_err_set(err, EINVAL, "job.env: missing");
	for (size_t i = 0; i < job->envc; i++)
		if (check_env(job->env[i], i, err) < 0)
			return -err->code;
	if (job->cwd != NULL && check_cwd(job->cwd, err) < 0)
		return -err->code;
	if (job->timeout_ms > WD_JOB_MAX_TIMEOUT_MS)
		return wd_err_set(err, ERANGE, "job.timeout_ms: over %llu",
				  (unsigned long long)WD_JOB_MAX_TIMEOUT_MS);
	if (job->mem_mib > WD_JOB_MAX_MEM_MIB)
		return wd_err_set(err, ERANGE, "job.mem_mib: over %llu",
				  (unsigned long long)WD_JOB_MAX_MEM_MIB);
	if (job->nfiles > WD_JOB_MAX_FILES)
		return wd_err_set(err, E2BIG, "job.files: over %d entries", WD_JOB_MAX_FILES);
	for (size_t i = 0; i < job->nfiles; i++) {
		if (check_file(&job->files[i], i, err) < 0)
			return -err->code;
		for (size_t j = 0; j < i; j++)
			if (strcmp(job->files[i].name, job->files[j].name) == 0)
				return wd_err_set(err, EINVAL,
						  "job.files[%zu].name: the same as files[%zu]'s",
						  i, j);
	}
	if (job->policy != NULL &&
	    check_text(job->policy, WD_JOB_MAX_POLICY, "job.policy", err) < 0)
		return -err->code;
	return 0;
}

/* The audit log's key (an ECDSA P-256 SubjectPublicKeyInfo), its C2SP key
 * id and the log's origin: printable ASCII without spaces or '+'. */
static int hello_audit_check(const struct wd_hello *h, struct wd_err *err)
{
	struct wd_pubkey k;
	char id[2 * WD_KEY_ID_BYTES + 1];
	size_t n = strnlen(h->audit_origin, sizeof(h->audit_origin));

	if (strnlen(h->audit_pubkey, sizeof(h->audit_pubkey)) == sizeof(h->audit_pubkey) ||
	    !is_base64(h->audit_pubkey) || wd_pubkey_from_b64(h->audit_pubkey, &k, err) < 0)
		return wd_err_set(err, EINVAL,
				  "hello.audit.pubkey: not an ECDSA P-256 public key in base64");
	wd_hex(k.id, sizeof(k.id), id);
	if (strcmp(id, h->audit_key_id) != 0)
		return wd_err_set(err, EINVAL, "hello.audit.key_id: not the key's id (%s)", id);
	if (n == 0 || n == sizeof(h->audit_origin) || strstr(h->audit_origin, "/audit/") == NULL)
		return wd_err_set(err, EINVAL, "hello.audit.origin: not '<vm>/audit/<boot>'");
	for (size_t i = 0; i < n; i++)
		if (h->audit_origin[i] <= 0x20 || h->audit_origin[i] > 0x7e ||
		    h->audit_origin[i] == '+')
			return wd_err_set(err, EINVAL,
					  "hello.audit.origin: a space, '+' or a byte that is not "
					  "printable ASCII");
	return 0;
}

static int hello_check(const struct wd_hello *h, struct wd_err *err)
{
	if (h->version != WD_PROTO_VERSION)
		return wd_err_set(err, EPROTO, "hello.version: %u, this side speaks %d", h->version,
				  WD_PROTO_VERSION);
	if (strcmp(h->mode, "vm") != 0 && strcmp(h->mode, "ns") != 0)
		return wd_err_set(err, EINVAL, "hello.mode: neither \"vm\" nor \"ns\"");
	if (!is_sha256_hex(h->init_sha256))
		return wd_err_set(err, EINVAL, "hello.measurements.init: not a SHA-256 in hex");
	if (!is_sha256_hex(h->supervisor_sha256))
		return wd_err_set(err, EINVAL,
				  "hello.measurements.supervisor: not a SHA-256 in hex");
	if (h->manifest_sha256[0] != '\0' && !is_sha256_hex(h->manifest_sha256))
		return wd_err_set(err, EINVAL,
				  "hello.measurements.manifest: not a SHA-256 in hex nor \"\"");
	if (h->rootfs_root_hash[0] != '\0' && !is_sha256_hex(h->rootfs_root_hash))
		return wd_err_set(err, EINVAL,
				  "hello.rootfs_root_hash: not a SHA-256 in hex nor \"\"");
	return hello_audit_check(h, err);
}

const char wd_budget_records[] = "max_records";
const char wd_budget_bytes[] = "max_bytes";

/* The budget's name as the constant itself, NULL when it names none. */
static const char *budget_name(const char *s)
{
	if (strcmp(s, wd_budget_records) == 0)
		return wd_budget_records;
	if (strcmp(s, wd_budget_bytes) == 0)
		return wd_budget_bytes;
	return NULL;
}

static int exit_check(const struct wd_exit *e, struct wd_err *err)
{
	if (e->status < 0 || e->status > 255)
		return wd_err_set(err, ERANGE, "exit.status: %d, not 0..255", e->status);
	if (e->signal < 0 || e->signal > (int)WD_SIGNAL_MAX)
		return wd_err_set(err, ERANGE, "exit.signal: %d, not 0..%u", e->signal,
				  WD_SIGNAL_MAX);
	if (e->audit_budget != NULL && budget_name(e->audit_budget) == NULL)
		return wd_err_set(err, EINVAL, "exit.audit_budget: '%.16s', not %s or %s",
				  e->audit_budget, wd_budget_records, wd_budget_bytes);
	return 0;
}

static bool error_code_valid(const char *code)
{
	size_t n = strnlen(code, WD_ERROR_MAX_CODE + 1);

	if (n == 0 || n > WD_ERROR_MAX_CODE)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(code[i] >= 'a' && code[i] <= 'z') && !is_digit((uint8_t)code[i]) &&
		    code[i] != '_')
			return false;
	return true;
}

/* ---- HELLO ---------------------------------------------------------------- */

static const struct wd_json_field hello_fields[] = {
	{"version", true},          {"mode", true},         {"boot", true},
	{"ready_ns", true},         {"measurements", true}, {"audit", true},
	{"rootfs_root_hash", true}, {NULL, false},
};
static const struct wd_json_field audit_fields[] = {
	{"pubkey", true},
	{"key_id", true},
	{"origin", true},
	{NULL, false},
};
static const struct wd_json_field boot_fields[] = {
	{"t0_ns", true},     {"mounts_ns", true}, {"modules_ns", true}, {"sysctls_ns", true},
	{"system_ns", true}, {"spawn_ns", true},  {NULL, false},
};
static const struct wd_json_field measurement_fields[] = {
	{"init", true},
	{"supervisor", true},
	{"manifest", true},
	{NULL, false},
};

int wd_hello_encode(const struct wd_hello *h, char *out, size_t size, struct wd_err *err)
{
	struct wd_json_build b = {0};
	cJSON *root, *boot, *m, *a;

	if (hello_check(h, err) < 0)
		return -err->code;
	root = cJSON_CreateObject();
	if (root == NULL)
		return wd_err_set(err, ENOMEM, "hello: building the JSON");
	wd_jb_uint(&b, root, "version", h->version);
	wd_jb_string(&b, root, "mode", h->mode);
	boot = wd_jb_object(&b, root, "boot");
	wd_jb_u64_text(&b, boot, "t0_ns", h->boot.t0_ns);
	wd_jb_uint(&b, boot, "mounts_ns", h->boot.mounts_ns);
	wd_jb_uint(&b, boot, "modules_ns", h->boot.modules_ns);
	wd_jb_uint(&b, boot, "sysctls_ns", h->boot.sysctls_ns);
	wd_jb_uint(&b, boot, "system_ns", h->boot.system_ns);
	wd_jb_uint(&b, boot, "spawn_ns", h->boot.spawn_ns);
	wd_jb_uint(&b, root, "ready_ns", h->ready_ns);
	m = wd_jb_object(&b, root, "measurements");
	wd_jb_string(&b, m, "init", h->init_sha256);
	wd_jb_string(&b, m, "supervisor", h->supervisor_sha256);
	wd_jb_string(&b, m, "manifest", h->manifest_sha256);
	a = wd_jb_object(&b, root, "audit");
	wd_jb_string(&b, a, "pubkey", h->audit_pubkey);
	wd_jb_string(&b, a, "key_id", h->audit_key_id);
	wd_jb_string(&b, a, "origin", h->audit_origin);
	wd_jb_string(&b, root, "rootfs_root_hash", h->rootfs_root_hash);
	return wd_jb_finish(root, &b, out, size, WD_FRAME_MAX_PAYLOAD, "hello", err);
}

static int hello_from_json(const cJSON *root, struct wd_hello *h, struct wd_err *err)
{
	const cJSON *boot = cJSON_GetObjectItemCaseSensitive(root, "boot");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "measurements");
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, "audit");
	uint64_t version = 0;

	if (wd_json_check_fields(root, hello_fields, "hello", err) < 0 ||
	    wd_json_check_fields(boot, boot_fields, "hello.boot", err) < 0 ||
	    wd_json_check_fields(m, measurement_fields, "hello.measurements", err) < 0 ||
	    wd_json_check_fields(a, audit_fields, "hello.audit", err) < 0 ||
	    wd_json_get_uint(root, "version", 255, &version, "hello", err) < 0 ||
	    wd_json_get_string_into(root, "mode", h->mode, sizeof(h->mode), "hello", err) < 0 ||
	    wd_json_get_u64_text(boot, "t0_ns", &h->boot.t0_ns, "hello.boot", err) < 0 ||
	    wd_json_get_uint(boot, "mounts_ns", WD_JSON_MAX_INT, &h->boot.mounts_ns, "hello.boot",
			     err) < 0 ||
	    wd_json_get_uint(boot, "modules_ns", WD_JSON_MAX_INT, &h->boot.modules_ns, "hello.boot",
			     err) < 0 ||
	    wd_json_get_uint(boot, "sysctls_ns", WD_JSON_MAX_INT, &h->boot.sysctls_ns, "hello.boot",
			     err) < 0 ||
	    wd_json_get_uint(boot, "system_ns", WD_JSON_MAX_INT, &h->boot.system_ns, "hello.boot",
			     err) < 0 ||
	    wd_json_get_uint(boot, "spawn_ns", WD_JSON_MAX_INT, &h->boot.spawn_ns, "hello.boot",
			     err) < 0 ||
	    wd_json_get_uint(root, "ready_ns", WD_JSON_MAX_INT, &h->ready_ns, "hello", err) < 0 ||
	    wd_json_get_string_into(m, "init", h->init_sha256, sizeof(h->init_sha256),
				    "hello.measurements", err) < 0 ||
	    wd_json_get_string_into(m, "supervisor", h->supervisor_sha256,
				    sizeof(h->supervisor_sha256), "hello.measurements", err) < 0 ||
	    wd_json_get_string_into(m, "manifest", h->manifest_sha256, sizeof(h->manifest_sha256),
				    "hello.measurements", err) < 0 ||
	    wd_json_get_string_into(a, "pubkey", h->audit_pubkey, sizeof(h->audit_pubkey),
				    "hello.audit", err) < 0 ||
	    wd_json_get_string_into(a, "key_id", h->audit_key_id, sizeof(h->audit_key_id),
				    "hello.audit", err) < 0 ||
	    wd_json_get_string_into(a, "origin", h->audit_origin, sizeof(h->audit_origin),
				    "hello.audit", err) < 0 ||
	    wd_json_get_string_into(root, "rootfs_root_hash", h->rootfs_root_hash,
				    sizeof(h->rootfs_root_hash), "hello", err) < 0)
		return -err->code;
	h->version = (unsigned)version;
	return hello_check(h, err);
}

int wd_hello_decode(const uint8_t *p, size_t len, struct wd_hello *h, struct wd_err *err)
{
	cJSON *root = wd_json_parse_object(p, len, WD_FRAME_MAX_PAYLOAD, "hello", err);
	int rc;

	memset(h, 0, sizeof(*h));
	if (root == NULL)
		return -err->code;
	rc = hello_from_json(root, h, err);
	cJSON_Delete(root);
	if (rc < 0)
		memset(h, 0, sizeof(*h));
	return rc;
}

/* ---- JOB ------------------------------------------------------------------ */

static const struct wd_json_field job_fields[] = {
	{"argv", true},   {"env", false},    {"cwd", false},     {"timeout_ms", false},
	{"tty", false},   {"rows", false},   {"cols", false},    {"clock_realtime_ns", false},
	{"files", false}, {"policy", false}, {"mem_mib", false}, {NULL, false},
};
static const struct wd_json_field file_fields[] = {
	{"name", true}, {"mode", true}, {"size", true}, {"sha256", true}, {NULL, false},
};

int wd_job_encode(const struct wd_job *job, char *out, size_t size, struct wd_err *err)
{
	struct wd_json_build b = {0};
	cJSON *root, *files;

	if (job_check(job, err) < 0)
		return -err->code;
	root = cJSON_CreateObject();
	if (root == NULL)
		return wd_err_set(err, ENOMEM, "job: building the JSON");
	wd_jb_string_array(&b, root, "argv", job->argv, job->argc);
	wd_jb_string_array(&b, root, "env", job->env, job->envc);
	wd_jb_string(&b, root, "cwd", job->cwd != NULL ? job->cwd : "");
	wd_jb_uint(&b, root, "timeout_ms", job->timeout_ms);
	wd_jb_bool(&b, root, "tty", job->tty);
	wd_jb_uint(&b, root, "rows", job->rows);
	wd_jb_uint(&b, root, "cols", job->cols);
	wd_jb_u64_text(&b, root, "clock_realtime_ns", job->clock_realtime_ns);
	files = cJSON_AddArrayToObject(root, "files");
	b.oom |= files == NULL;
	for (size_t i = 0; files != NULL && i < job->nfiles; i++) {
		const struct wd_job_file *f = &job->files[i];
		cJSON *o = cJSON_CreateObject();

		if (o == NULL || !cJSON_AddItemToArray(files, o)) {
			cJSON_Delete(o);
			b.oom = true;
			break;
		}
		wd_jb_string(&b, o, "name", f->name);
		wd_jb_uint(&b, o, "mode", f->mode);
		wd_jb_uint(&b, o, "size", f->size);
		wd_jb_string(&b, o, "sha256", f->sha256);
	}
	if (job->policy != NULL && job->policy[0] != '\0') {
		size_t n = strlen(job->policy);
		cJSON *policy = wd_json_parse_object((const uint8_t *)job->policy, n,
						     WD_FRAME_MAX_PAYLOAD, "job.policy", err);

		if (policy == NULL) {
			cJSON_Delete(root);
			return -err->code;
		}
		if (!cJSON_AddItemToObject(root, "policy", policy)) {
			cJSON_Delete(policy);
			b.oom = true;
		}
	}
	wd_jb_uint(&b, root, "mem_mib", job->mem_mib);
	return wd_jb_finish(root, &b, out, size, WD_FRAME_MAX_PAYLOAD, "job", err);
}

/* A bump allocator over the caller's arena. */
struct arena {
	uint8_t *base;
	size_t size;
	size_t used;
};

static void *arena_alloc(struct arena *a, size_t n, size_t align, struct wd_err *err)
{
	uintptr_t at = (uintptr_t)(a->base + a->used);
	size_t pad = (size_t)(-at & (align - 1));

	if (pad > a->size - a->used || n > a->size - a->used - pad) {
		(void)wd_err_set(err, ENOSPC, "job: decoding arena of %zu bytes exhausted",
				 a->size);
		return NULL;
	}
	a->used += pad + n;
	return a->base + a->used - n;
}

static const char *arena_strdup(struct arena *a, const char *s, size_t n, struct wd_err *err)
{
	char *d = arena_alloc(a, n + 1, 1, err);

	if (d != NULL)
		memcpy(d, s, n + 1);
	return d;
}

/* An array of strings into a NULL-terminated pointer array in the arena. */
static int get_string_array(const cJSON *root, const char *name, size_t max_items,
			    const char ***out, size_t *count, struct arena *a, struct wd_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, name);
	const cJSON *it;
	const char **v;
	size_t n, i = 0;

	if (arr == NULL)
		n = 0;
	else if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "job.%s: expected an array of strings", name);
	else if ((n = (size_t)cJSON_GetArraySize(arr)) > max_items)
		return wd_err_set(err, E2BIG, "job.%s: over %zu entries", name, max_items);
	v = arena_alloc(a, (n + 1) * sizeof(*v), _Alignof(const char *), err);
	if (v == NULL)
		return -err->code;
	cJSON_ArrayForEach(it, arr)
	{
		size_t len;

		if (!cJSON_IsString(it))
			return wd_err_set(err, EINVAL, "job.%s[%zu]: expected a string", name, i);
		len = strlen(it->valuestring);
		if (len > WD_JOB_MAX_STRING)
			return wd_err_set(err, E2BIG, "job.%s[%zu]: %zu bytes, over %d", name, i,
					  len, WD_JOB_MAX_STRING);
		v[i] = arena_strdup(a, it->valuestring, len, err);
		if (v[i] == NULL)
			return -err->code;
		i++;
	}
	v[n] = NULL;
	*out = v;
	*count = n;
	return 0;
}

static int file_from_json(const cJSON *o, struct wd_job_file *f, size_t i, struct arena *a,
			  struct wd_err *err)
{
	char what[32];
	const char *name = ""; /* required: wd_json_check_fields() saw it */
	size_t len = 0;
	uint64_t mode = 0;

	(void)snprintf(what, sizeof(what), "job.files[%zu]", i);
	if (wd_json_check_fields(o, file_fields, what, err) < 0 ||
	    wd_json_get_string(o, "name", WD_JOB_MAX_NAME, &name, &len, what, err) < 0 ||
	    wd_json_get_uint(o, "mode", 0777, &mode, what, err) < 0 ||
	    wd_json_get_uint(o, "size", WD_JOB_MAX_FILE_BYTES, &f->size, what, err) < 0 ||
	    wd_json_get_string_into(o, "sha256", f->sha256, sizeof(f->sha256), what, err) < 0)
		return -err->code;
	f->mode = (uint32_t)mode;
	f->name = arena_strdup(a, name, len, err);
	return f->name != NULL ? 0 : -err->code;
}

static int files_from_json(const cJSON *root, struct wd_job *job, struct arena *a,
			   struct wd_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "files");
	const cJSON *it;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "job.files: expected an array");
	if (cJSON_GetArraySize(arr) > WD_JOB_MAX_FILES)
		return wd_err_set(err, E2BIG, "job.files: over %d entries", WD_JOB_MAX_FILES);
	cJSON_ArrayForEach(it, arr)
	{
		if (file_from_json(it, &job->files[job->nfiles], job->nfiles, a, err) < 0)
			return -err->code;
		job->nfiles++;
	}
	return 0;
}

/* The policy object as the job hands it on: compact JSON text (cJSON_free). */
static char *policy_text(const cJSON *obj)
{
	return cJSON_PrintUnformatted(obj);
}

int wd_job_policy_sha256(const char *text, size_t len, char out[WD_SHA256_HEX], struct wd_err *err)
{
	cJSON *obj =
		wd_json_parse_object((const uint8_t *)text, len, WD_JOB_MAX_POLICY, "policy", err);
	uint8_t h[WD_HASH_BYTES];
	char *compact;

	if (obj == NULL)
		return -err->code;
	compact = policy_text(obj);
	cJSON_Delete(obj);
	if (compact == NULL)
		return wd_err_set(err, ENOMEM, "policy: printing");
	if (strlen(compact) > WD_JOB_MAX_POLICY) {
		cJSON_free(compact);
		return wd_err_set(err, E2BIG, "policy: over %d bytes as compact JSON",
				  WD_JOB_MAX_POLICY);
	}
	wd_sha256(compact, strlen(compact), h);
	cJSON_free(compact);
	wd_hex(h, sizeof(h), out);
	return 0;
}

/* The policy object, kept as compact JSON text. */
static int policy_from_json(const cJSON *root, struct wd_job *job, struct arena *a,
			    struct wd_err *err)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(root, "policy");
	char *text;
	size_t n;

	if (obj == NULL) {
		job->policy = arena_strdup(a, "", 0, err);
		return job->policy != NULL ? 0 : -err->code;
	}
	if (!cJSON_IsObject(obj))
		return wd_err_set(err, EINVAL, "job.policy: expected an object");
	text = policy_text(obj);
	if (text == NULL)
		return wd_err_set(err, ENOMEM, "job.policy: printing");
	n = strlen(text);
	if (n > WD_JOB_MAX_POLICY)
		(void)wd_err_set(err, E2BIG, "job.policy: %zu bytes, over %d", n,
				 WD_JOB_MAX_POLICY);
	else
		job->policy = arena_strdup(a, text, n, err);
	cJSON_free(text);
	return job->policy != NULL ? 0 : -err->code;
}

static int job_from_json(const cJSON *root, struct wd_job *job, struct arena *a, struct wd_err *err)
{
	const char *cwd = "";
	size_t cwd_len = 0;
	uint64_t rows = 0, cols = 0;

	if (wd_json_check_fields(root, job_fields, "job", err) < 0 ||
	    get_string_array(root, "argv", WD_JOB_MAX_ARGS, &job->argv, &job->argc, a, err) < 0 ||
	    get_string_array(root, "env", WD_JOB_MAX_ENV, &job->env, &job->envc, a, err) < 0 ||
	    wd_json_get_string(root, "cwd", WD_JOB_MAX_CWD, &cwd, &cwd_len, "job", err) < 0 ||
	    wd_json_get_uint(root, "timeout_ms", WD_JOB_MAX_TIMEOUT_MS, &job->timeout_ms, "job",
			     err) < 0 ||
	    wd_json_get_bool(root, "tty", &job->tty, "job", err) < 0 ||
	    wd_json_get_uint(root, "rows", UINT16_MAX, &rows, "job", err) < 0 ||
	    wd_json_get_uint(root, "cols", UINT16_MAX, &cols, "job", err) < 0 ||
	    wd_json_get_u64_text(root, "clock_realtime_ns", &job->clock_realtime_ns, "job", err) <
		    0 ||
	    wd_json_get_uint(root, "mem_mib", WD_JOB_MAX_MEM_MIB, &job->mem_mib, "job", err) < 0 ||
	    files_from_json(root, job, a, err) < 0 || policy_from_json(root, job, a, err) < 0)
		return -err->code;
	job->rows = (uint16_t)rows;
	job->cols = (uint16_t)cols;
	job->cwd = arena_strdup(a, cwd, cwd_len, err);
	if (job->cwd == NULL)
		return -err->code;
	return job_check(job, err);
}

int wd_job_decode(const uint8_t *p, size_t len, struct wd_job *job, void *arena, size_t arena_size,
		  struct wd_err *err)
{
	struct arena a = {arena, arena_size, 0};
	cJSON *root;
	int rc;

	memset(job, 0, sizeof(*job));
	root = wd_json_parse_object(p, len, WD_FRAME_MAX_PAYLOAD, "job", err);
	if (root == NULL)
		return -err->code;
	rc = job_from_json(root, job, &a, err);
	cJSON_Delete(root);
	if (rc < 0)
		memset(job, 0, sizeof(*job));
	return rc;
}

/* ---- STARTED, EXIT, ERROR ------------------------------------------------- */

static const struct wd_json_field started_fields[] = {{"pid", true}, {NULL, false}};

int wd_started_encode(int pid, char *out, size_t size, struct wd_err *err)
{
	struct wd_json_build b = {0};
	cJSON *root;

	if (pid < 1 || (unsigned)pid > WD_PID_MAX)
		return wd_err_set(err, ERANGE, "started.pid: %d, not 1..%u", pid, WD_PID_MAX);
	root = cJSON_CreateObject();
	wd_jb_uint(&b, root, "pid", (uint64_t)pid);
	return wd_jb_finish(root, &b, out, size, WD_FRAME_MAX_PAYLOAD, "started", err);
}

int wd_started_decode(const uint8_t *p, size_t len, int *pid, struct wd_err *err)
{
	cJSON *root = wd_json_parse_object(p, len, WD_FRAME_MAX_PAYLOAD, "started", err);
	uint64_t v = 0;
	int rc;

	if (root == NULL)
		return -err->code;
	rc = wd_json_check_fields(root, started_fields, "started", err);
	if (rc == 0)
		rc = wd_json_get_uint(root, "pid", WD_PID_MAX, &v, "started", err);
	if (rc == 0 && v == 0)
		rc = wd_err_set(err, ERANGE, "started.pid: 0");
	cJSON_Delete(root);
	if (rc == 0)
		*pid = (int)v;
	return rc;
}

static const struct wd_json_field exit_fields[] = {
	{"status", true},    {"signal", true}, {"core_dumped", true},   {"oom_killed", true},
	{"timed_out", true}, {"usage", true},  {"audit_budget", false}, {NULL, false},
};
static const struct wd_json_field usage_fields[] = {
	{"utime_us", true},
	{"stime_us", true},
	{"maxrss_kib", true},
	{NULL, false},
};

int wd_exit_encode(const struct wd_exit *e, char *out, size_t size, struct wd_err *err)
{
	struct wd_json_build b = {0};
	cJSON *root, *usage;

	if (exit_check(e, err) < 0)
		return -err->code;
	root = cJSON_CreateObject();
	wd_jb_uint(&b, root, "status", (uint64_t)e->status);
	wd_jb_uint(&b, root, "signal", (uint64_t)e->signal);
	wd_jb_bool(&b, root, "core_dumped", e->core_dumped);
	wd_jb_bool(&b, root, "oom_killed", e->oom_killed);
	wd_jb_bool(&b, root, "timed_out", e->timed_out);
	if (e->audit_budget != NULL)
		wd_jb_string(&b, root, "audit_budget", e->audit_budget);
	usage = root != NULL ? wd_jb_object(&b, root, "usage") : NULL;
	wd_jb_uint(&b, usage, "utime_us", e->utime_us);
	wd_jb_uint(&b, usage, "stime_us", e->stime_us);
	wd_jb_uint(&b, usage, "maxrss_kib", e->maxrss_kib);
	return wd_jb_finish(root, &b, out, size, WD_FRAME_MAX_PAYLOAD, "exit", err);
}

static int exit_from_json(const cJSON *root, struct wd_exit *e, struct wd_err *err)
{
	const cJSON *usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
	uint64_t status = 0, sig = 0;
	const char *budget = NULL;
	size_t budget_len = 0;

	if (wd_json_check_fields(root, exit_fields, "exit", err) < 0 ||
	    wd_json_check_fields(usage, usage_fields, "exit.usage", err) < 0 ||
	    wd_json_get_uint(root, "status", 255, &status, "exit", err) < 0 ||
	    wd_json_get_uint(root, "signal", WD_SIGNAL_MAX, &sig, "exit", err) < 0 ||
	    wd_json_get_bool(root, "core_dumped", &e->core_dumped, "exit", err) < 0 ||
	    wd_json_get_bool(root, "oom_killed", &e->oom_killed, "exit", err) < 0 ||
	    wd_json_get_bool(root, "timed_out", &e->timed_out, "exit", err) < 0 ||
	    wd_json_get_uint(usage, "utime_us", WD_JSON_MAX_INT, &e->utime_us, "exit.usage", err) <
		    0 ||
	    wd_json_get_uint(usage, "stime_us", WD_JSON_MAX_INT, &e->stime_us, "exit.usage", err) <
		    0 ||
	    wd_json_get_uint(usage, "maxrss_kib", WD_JSON_MAX_INT, &e->maxrss_kib, "exit.usage",
			     err) < 0 ||
	    wd_json_get_string(root, "audit_budget", 16, &budget, &budget_len, "exit", err) < 0)
		return -err->code;
	if (budget != NULL) {
		e->audit_budget = budget_name(budget);
		if (e->audit_budget == NULL)
			return wd_err_set(err, EINVAL, "exit.audit_budget: not %s or %s",
					  wd_budget_records, wd_budget_bytes);
	}
	e->status = (int)status;
	e->signal = (int)sig;
	return 0;
}

int wd_exit_decode(const uint8_t *p, size_t len, struct wd_exit *e, struct wd_err *err)
{
	cJSON *root = wd_json_parse_object(p, len, WD_FRAME_MAX_PAYLOAD, "exit", err);
	int rc;

	memset(e, 0, sizeof(*e));
	if (root == NULL)
		return -err->code;
	rc = exit_from_json(root, e, err);
	cJSON_Delete(root);
	if (rc < 0)
		memset(e, 0, sizeof(*e));
	return rc;
}

static const struct wd_json_field error_fields[] = {
	{"code", true}, {"message", true}, {NULL, false}};

/* Length of the character at p if it is a C0 or C1 control character or
 * DEL (what a terminal could act on), else 0. */
static size_t control_len(const uint8_t *p)
{
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

/* An error message is printed on the other side: UTF-8 without controls. */
static bool message_valid(const char *s)
{
	size_t len = strlen(s);

	for (size_t i = 0; i < len; i++)
		if (control_len((const uint8_t *)s + i) != 0)
			return false;
	return wd_utf8_valid(s, len);
}

/* The message as the peer will accept it: each invalid byte and control
 * character becomes '?', and it is cut at a character boundary to fit. */
static void error_message_clean(const char *in, char out[WD_ERROR_MAX_MESSAGE])
{
	const uint8_t *p = (const uint8_t *)in;
	size_t o = 0, n, len = strlen(in);

	for (size_t i = 0; i < len; i += n) {
		size_t bad = control_len(p + i);

		n = bad != 0 ? bad : wd_utf8_seq(p + i, len - i);
		if (o + (bad != 0 || n == 0 ? 1 : n) >= WD_ERROR_MAX_MESSAGE)
			break;
		if (bad != 0 || n == 0) {
			out[o++] = '?';
			n = n == 0 ? 1 : n;
		} else {
			memcpy(out + o, in + i, n);
			o += n;
		}
	}
	out[o] = '\0';
}

int wd_error_encode(const char *code, const char *message, char *out, size_t size,
		    struct wd_err *err)
{
	char clean[WD_ERROR_MAX_MESSAGE];
	struct wd_json_build b = {0};
	cJSON *root;

	if (!error_code_valid(code))
		return wd_err_set(err, EINVAL, "error.code: not 1..%d of [a-z0-9_]",
				  WD_ERROR_MAX_CODE);
	error_message_clean(message, clean);
	root = cJSON_CreateObject();
	wd_jb_string(&b, root, "code", code);
	wd_jb_string(&b, root, "message", clean);
	return wd_jb_finish(root, &b, out, size, WD_FRAME_MAX_PAYLOAD, "error", err);
}

int wd_error_decode(const uint8_t *p, size_t len, struct wd_error_msg *e, struct wd_err *err)
{
	cJSON *root = wd_json_parse_object(p, len, WD_FRAME_MAX_PAYLOAD, "error", err);
	int rc;

	memset(e, 0, sizeof(*e));
	if (root == NULL)
		return -err->code;
	if (wd_json_check_fields(root, error_fields, "error", err) < 0 ||
	    wd_json_get_string_into(root, "code", e->code, sizeof(e->code), "error", err) < 0 ||
	    wd_json_get_string_into(root, "message", e->message, sizeof(e->message), "error", err) <
		    0)
		rc = -err->code;
	else if (!error_code_valid(e->code))
		rc = wd_err_set(err, EINVAL, "error.code: not 1..%d of [a-z0-9_]",
				WD_ERROR_MAX_CODE);
	else if (!message_valid(e->message))
		rc = wd_err_set(err, EINVAL, "error.message: a control character");
	else
		rc = 0;
	cJSON_Delete(root);
	if (rc < 0)
		memset(e, 0, sizeof(*e));
	return rc;
}
