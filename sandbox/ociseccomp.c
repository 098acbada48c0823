/*
 * sandbox/ociseccomp.c - see ociseccomp.h.
 *
 * Decoding follows vsock/msg.c: a scan of the raw bytes first (UTF-8 only
 * inside strings, no control character or escaped NUL, numbers in RFC 8259
 * grammar, since cJSON takes "01" and "+1"), then cJSON, then each object's
 * members against a field table (unknown and duplicate fields are errors).
 * Numbers are read through cJSON's double, so integers are exact up to 2^53;
 * Docker's profiles use far smaller values.
 *
 * Condition semantics are moby's: includes hold when every listed cap is
 * held, the arch is listed and the kernel is at least minKernel; excludes
 * hold when any listed cap is held, the arch is listed, or the kernel is at
 * least minKernel.
 */
#include "ociseccomp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../common/json.h"

#define PATH_BYTES 96       /* "syscalls[1023].excludes.minKernel" */
#define GROUP_PATH_BYTES 32 /* "syscalls[1023]" */
#define TARGET_ARCH "amd64" /* Docker's name for the native x86_64 ABI */

/* ---- fields --------------------------------------------------------------- */

/* The array member `name` (NULL if absent or null, as Go writes an empty
 * list), at most `max` items, all strings. */
static int get_strings(const cJSON *obj, const char *name, size_t max, const cJSON **out,
		       const char *path, struct wd_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name), *it;
	size_t n = 0;

	*out = NULL;
	if (arr == NULL || cJSON_IsNull(arr))
		return 0;
	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "%s.%s: expected an array", path, name);
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it))
			return wd_err_set(err, EINVAL, "%s.%s[%zu]: expected a string", path, name,
					  n);
		if (++n > max)
			return wd_err_set(err, E2BIG, "%s.%s: more than %zu entries", path, name,
					  max);
	}
	*out = arr;
	return 0;
}

/* ---- names ---------------------------------------------------------------- */

struct name_value {
	const char *name;
	int value;
};

static const struct name_value actions[] = {
	{"SCMP_ACT_ERRNO", SUP_SC_ACT_ERRNO},
	{"SCMP_ACT_ALLOW", SUP_SC_ACT_ALLOW},
	{"SCMP_ACT_KILL", SUP_SC_ACT_KILL},
	{"SCMP_ACT_KILL_PROCESS", SUP_SC_ACT_KILL_PROCESS},
	{"SCMP_ACT_KILL_THREAD", SUP_SC_ACT_KILL_THREAD},
	{"SCMP_ACT_TRAP", SUP_SC_ACT_TRAP},
	{"SCMP_ACT_LOG", SUP_SC_ACT_LOG},
	{NULL, 0},
};

static const struct name_value ops[] = {
	{"SCMP_CMP_NE", SUP_SC_CMP_NE},
	{"SCMP_CMP_LT", SUP_SC_CMP_LT},
	{"SCMP_CMP_LE", SUP_SC_CMP_LE},
	{"SCMP_CMP_EQ", SUP_SC_CMP_EQ},
	{"SCMP_CMP_GE", SUP_SC_CMP_GE},
	{"SCMP_CMP_GT", SUP_SC_CMP_GT},
	{"SCMP_CMP_MASKED_EQ", SUP_SC_CMP_MASKED_EQ},
	{NULL, 0},
};

/* libseccomp's architecture tokens, as the OCI runtime spec lists them. */
static const char *const scmp_arches[] = {
	"SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",   "SCMP_ARCH_X32",         "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",     "SCMP_ARCH_MIPS64",      "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",  "SCMP_ARCH_S390",        "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64",     "SCMP_ARCH_LOONGARCH64",
	"SCMP_ARCH_M68K",    "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",        NULL,
};

/* Go's architecture names, which Docker's includes/excludes use. */
static const char *const go_arches[] = {
	"386",     "amd64",    "x86",       "x32",     "arm",      "arm64",       "mips", "mipsle",
	"mips64",  "mips64le", "mips64n32", "mipsel",  "mipsel64", "mipsel64n32", "ppc",  "ppc64",
	"ppc64le", "s390",     "s390x",     "riscv64", "loong64",  NULL,
};

const char *sup_sc_action_name(enum sup_sc_action a)
{
	for (size_t i = 0; actions[i].name != NULL; i++)
		if (actions[i].value == (int)a)
			return actions[i].name;
	return "?";
}

static int lookup(const struct name_value *t, const char *s)
{
	for (size_t i = 0; t[i].name != NULL; i++)
		if (strcmp(t[i].name, s) == 0)
			return t[i].value;
	return -1;
}

static bool in_list(const char *const *list, const char *s)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

static int get_action(const cJSON *obj, const char *name, enum sup_sc_action *out, const char *path,
		      struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
	int v;

	if (!cJSON_IsString(it))
		return wd_err_set(err, EINVAL, "%s%s%s: expected a string", path,
				  path[0] != '\0' ? "." : "", name);
	if (strcmp(it->valuestring, "SCMP_ACT_TRACE") == 0 ||
	    strcmp(it->valuestring, "SCMP_ACT_NOTIFY") == 0)
		return wd_err_set(err, EPERM, "%s%s%s: action '%s' is never allowed here", path,
				  path[0] != '\0' ? "." : "", name, it->valuestring);
	v = lookup(actions, it->valuestring);
	if (v < 0)
		return wd_err_set(err, EINVAL, "%s%s%s: unknown action '%.32s'", path,
				  path[0] != '\0' ? "." : "", name, it->valuestring);
	*out = (enum sup_sc_action)v;
	return 0;
}

/* ---- kernel versions ------------------------------------------------------ */

/* Up to three leading dot-separated numbers of `s` ("6.1.0-18" gives 6,1,0).
 * With `strict`, s must be exactly "N.N" or "N.N.N". */
static bool kernel_version(const char *s, unsigned v[3], bool strict)
{
	size_t i = 0;
	int k;

	v[0] = v[1] = v[2] = 0;
	for (k = 0; k < 3; k++) {
		unsigned long n = 0;
		size_t start = i;

		while (s[i] >= '0' && s[i] <= '9' && n <= 100000)
			n = n * 10 + (unsigned)(s[i++] - '0');
		if (i == start || n > 100000)
			return false;
		v[k] = (unsigned)n;
		if (s[i] != '.')
			break;
		i++;
	}
	if (strict)
		return k >= 1 && k < 3 && s[i] == '\0';
	return true;
}

static bool kernel_at_least(const unsigned have[3], const unsigned want[3])
{
	for (int k = 0; k < 3; k++)
		if (have[k] != want[k])
			return have[k] > want[k];
	return true;
}

/* ---- groups --------------------------------------------------------------- */

static const struct wd_json_field filter_fields[] = {
	{"caps", false},
	{"arches", false},
	{"minKernel", false},
	{NULL, false},
};

/*
 * Read an includes/excludes object at `path`. *caps_any: a cap is listed
 * (none is held, so an include of any cap fails and an exclude never holds);
 * *arch_hit: the target arch is listed; *kernel_hit: the kernel is at least
 * minKernel. Each *_set says whether the condition was given.
 */
struct filter {
	bool caps_any;
	bool arches_set, arch_hit;
	bool kernel_set, kernel_hit;
};

static int read_filter(const cJSON *obj, const unsigned kernel[3], struct filter *f,
		       const char *path, struct wd_err *err)
{
	const cJSON *caps, *arches, *it, *mk;
	char sub[PATH_BYTES + 16];
	size_t i = 0;
	unsigned want[3];
	int rc;

	memset(f, 0, sizeof(*f));
	if (obj == NULL)
		return 0;
	if ((rc = wd_json_check_fields(obj, filter_fields, path, err)) < 0)
		return rc;
	if ((rc = get_strings(obj, "caps", 64, &caps, path, err)) < 0 ||
	    (rc = get_strings(obj, "arches", SUP_SC_MAX_ARCHES, &arches, path, err)) < 0)
		return rc;
	cJSON_ArrayForEach(it, caps)
	{
		if (strncmp(it->valuestring, "CAP_", 4) != 0 || strlen(it->valuestring) > 40)
			return wd_err_set(err, EINVAL, "%s.caps[%zu]: not a capability name", path,
					  i);
		f->caps_any = true;
		i++;
	}
	i = 0;
	cJSON_ArrayForEach(it, arches)
	{
		if (!in_list(go_arches, it->valuestring))
			return wd_err_set(err, EINVAL,
					  "%s.arches[%zu]: unknown architecture '%.32s'", path, i,
					  it->valuestring);
		f->arches_set = true;
		f->arch_hit |= strcmp(it->valuestring, TARGET_ARCH) == 0;
		i++;
	}
	mk = cJSON_GetObjectItemCaseSensitive(obj, "minKernel");
	if (mk != NULL) {
		(void)snprintf(sub, sizeof(sub), "%s.minKernel", path);
		if (!cJSON_IsString(mk) || !kernel_version(mk->valuestring, want, true))
			return wd_err_set(err, EINVAL, "%s: expected a version like \"4.8\"", sub);
		f->kernel_set = true;
		f->kernel_hit = kernel_at_least(kernel, want);
	}
	return 0;
}

static const struct wd_json_field arg_fields[] = {
	{"index", true}, {"value", true}, {"valueTwo", false}, {"op", true}, {NULL, false},
};

static int read_arg(const cJSON *obj, struct sup_sc_arg *a, const char *path, struct wd_err *err)
{
	const cJSON *op;
	uint64_t index = 0;
	int rc, v;

	if ((rc = wd_json_check_fields(obj, arg_fields, path, err)) < 0 ||
	    (rc = wd_json_get_uint(obj, "index", SUP_SC_MAX_ARGS - 1, &index, path, err)) < 0 ||
	    (rc = wd_json_get_uint(obj, "value", UINT64_MAX, &a->value, path, err)) < 0 ||
	    (rc = wd_json_get_uint(obj, "valueTwo", UINT64_MAX, &a->value_two, path, err)) < 0)
		return rc;
	a->index = (unsigned)index;
	op = cJSON_GetObjectItemCaseSensitive(obj, "op");
	if (!cJSON_IsString(op))
		return wd_err_set(err, EINVAL, "%s.op: expected a string", path);
	if ((v = lookup(ops, op->valuestring)) < 0)
		return wd_err_set(err, EINVAL, "%s.op: unknown operator '%.32s'", path,
				  op->valuestring);
	a->op = (enum sup_sc_op)v;
	return 0;
}

static int check_syscall_name(const char *s, const char *path, size_t i, struct wd_err *err)
{
	size_t n = strlen(s);

	if (n == 0 || n > SUP_SC_NAME_MAX)
		return wd_err_set(err, EINVAL, "%s.names[%zu]: length %zu, not 1..%u", path, i, n,
				  SUP_SC_NAME_MAX);
	if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") != n)
		return wd_err_set(err, EINVAL, "%s.names[%zu]: '%.64s' is not [a-z0-9_]", path, i,
				  s);
	return 0;
}

static const struct wd_json_field group_fields[] = {
	{"names", true},    {"action", true},    {"errnoRet", false}, {"args", false},
	{"comment", false}, {"includes", false}, {"excludes", false}, {NULL, false},
};

/*
 * Read syscalls[idx] into `g`. *keep says whether its conditions hold for
 * this target. On success with *keep, g->names is allocated.
 */
static int read_group(const cJSON *obj, size_t idx, const unsigned kernel[3],
		      struct sup_sc_group *g, bool *keep, struct wd_err *err)
{
	char path[GROUP_PATH_BYTES], sub[PATH_BYTES];
	const cJSON *names, *args, *it, *c;
	struct filter inc, exc;
	uint64_t eno = 0;
	size_t i;
	int rc;

	memset(g, 0, sizeof(*g));
	g->source_index = idx;
	(void)snprintf(path, sizeof(path), "syscalls[%zu]", idx);
	if ((rc = wd_json_check_fields(obj, group_fields, path, err)) < 0 ||
	    (rc = get_strings(obj, "names", SUP_SC_MAX_NAMES, &names, path, err)) < 0 ||
	    (rc = get_action(obj, "action", &g->action, path, err)) < 0)
		return rc;
	if (cJSON_GetArraySize(names) == 0)
		return wd_err_set(err, EINVAL, "%s.names: empty", path);
	i = 0;
	cJSON_ArrayForEach(it, names)
	{
		if ((rc = check_syscall_name(it->valuestring, path, i++, err)) < 0)
			return rc;
	}
	if (cJSON_GetObjectItemCaseSensitive(obj, "errnoRet") != NULL) {
		if ((rc = wd_json_get_uint(obj, "errnoRet", SUP_SC_ERRNO_MAX, &eno, path, err)) < 0)
			return rc;
		g->has_errno_ret = true;
		g->errno_ret = (uint32_t)eno;
	}
	c = cJSON_GetObjectItemCaseSensitive(obj, "comment");
	if (c != NULL && !cJSON_IsString(c))
		return wd_err_set(err, EINVAL, "%s.comment: expected a string", path);
	args = cJSON_GetObjectItemCaseSensitive(obj, "args");
	if (args != NULL && !cJSON_IsNull(args)) {
		if (!cJSON_IsArray(args))
			return wd_err_set(err, EINVAL, "%s.args: expected an array", path);
		cJSON_ArrayForEach(it, args)
		{
			if (g->n_args == SUP_SC_MAX_ARGS)
				return wd_err_set(err, E2BIG, "%s.args: more than %u entries", path,
						  SUP_SC_MAX_ARGS);
			(void)snprintf(sub, sizeof(sub), "%s.args[%zu]", path, g->n_args);
			if ((rc = read_arg(it, &g->args[g->n_args], sub, err)) < 0)
				return rc;
			g->n_args++;
		}
	}
	(void)snprintf(sub, sizeof(sub), "%s.includes", path);
	if ((rc = read_filter(cJSON_GetObjectItemCaseSensitive(obj, "includes"), kernel, &inc, sub,
			      err)) < 0)
		return rc;
	(void)snprintf(sub, sizeof(sub), "%s.excludes", path);
	if ((rc = read_filter(cJSON_GetObjectItemCaseSensitive(obj, "excludes"), kernel, &exc, sub,
			      err)) < 0)
		return rc;
	*keep = !inc.caps_any && (!inc.arches_set || inc.arch_hit) &&
		(!inc.kernel_set || inc.kernel_hit) && !exc.arch_hit &&
		!(exc.kernel_set && exc.kernel_hit);
	if (!*keep)
		return 0;
	g->n_names = (size_t)cJSON_GetArraySize(names);
	g->names = calloc(g->n_names, sizeof(*g->names));
	if (g->names == NULL)
		return wd_err_set(err, ENOMEM, "%s.names: out of memory", path);
	i = 0;
	cJSON_ArrayForEach(it, names)
	{
		memcpy(g->names[i++], it->valuestring, strlen(it->valuestring) + 1);
	}
	return 0;
}

/* ---- the profile ---------------------------------------------------------- */

static const struct wd_json_field map_fields[] = {
	{"architecture", true},
	{"subArchitectures", false},
	{NULL, false},
};

/* archMap: checked for shape and names, then ignored (see the header). */
static int check_arch_map(const cJSON *map, struct wd_err *err)
{
	const cJSON *it, *arch, *subs, *s;
	char path[PATH_BYTES];
	size_t i = 0, j;
	int rc;

	if (map == NULL || cJSON_IsNull(map))
		return 0;
	if (!cJSON_IsArray(map))
		return wd_err_set(err, EINVAL, "archMap: expected an array");
	if (cJSON_GetArraySize(map) > (int)SUP_SC_MAX_ARCHES)
		return wd_err_set(err, E2BIG, "archMap: more than %u entries", SUP_SC_MAX_ARCHES);
	cJSON_ArrayForEach(it, map)
	{
		(void)snprintf(path, sizeof(path), "archMap[%zu]", i++);
		if ((rc = wd_json_check_fields(it, map_fields, path, err)) < 0 ||
		    (rc = get_strings(it, "subArchitectures", SUP_SC_MAX_ARCHES, &subs, path,
				      err)) < 0)
			return rc;
		arch = cJSON_GetObjectItemCaseSensitive(it, "architecture");
		if (!cJSON_IsString(arch) || !in_list(scmp_arches, arch->valuestring))
			return wd_err_set(err, EINVAL, "%s.architecture: unknown architecture",
					  path);
		j = 0;
		cJSON_ArrayForEach(s, subs)
		{
			if (!in_list(scmp_arches, s->valuestring))
				return wd_err_set(err, EINVAL,
						  "%s.subArchitectures[%zu]: unknown "
						  "architecture '%.32s'",
						  path, j, s->valuestring);
			j++;
		}
	}
	return 0;
}

static int read_arches(const cJSON *root, struct sup_sc_profile *prof, struct wd_err *err)
{
	const cJSON *arches, *it;
	int rc;

	if ((rc = get_strings(root, "architectures", SUP_SC_MAX_ARCHES, &arches, "profile", err)) <
	    0)
		return rc;
	cJSON_ArrayForEach(it, arches)
	{
		if (!in_list(scmp_arches, it->valuestring))
			return wd_err_set(err, EINVAL,
					  "architectures[%zu]: unknown architecture '%.32s'",
					  prof->n_arches, it->valuestring);
		memcpy(prof->arches[prof->n_arches++], it->valuestring,
		       strlen(it->valuestring) + 1);
	}
	return 0;
}

static const struct wd_json_field root_fields[] = {
	{"defaultAction", true},     {"defaultErrnoRet", false}, {"architectures", false},
	{"archMap", false},          {"syscalls", false},        {"listenerPath", false},
	{"listenerMetadata", false}, {"flags", false},           {NULL, false},
};

static int read_profile(const cJSON *root, const unsigned kernel[3], struct sup_sc_profile *prof,
			struct wd_err *err)
{
	const cJSON *syscalls, *it;
	uint64_t eno = 0;
	size_t idx = 0;
	bool keep;
	int rc;

	if ((rc = wd_json_check_fields(root, root_fields, "profile", err)) < 0)
		return rc;
	/* Only a notify listener uses these two, and notify is refused. */
	it = cJSON_GetObjectItemCaseSensitive(root, "listenerPath");
	if (it != NULL && !(cJSON_IsString(it) && it->valuestring[0] == '\0'))
		return wd_err_set(err, EPERM,
				  "listenerPath: a notify listener is never allowed here");
	it = cJSON_GetObjectItemCaseSensitive(root, "listenerMetadata");
	if (it != NULL && !(cJSON_IsString(it) && it->valuestring[0] == '\0'))
		return wd_err_set(err, EPERM,
				  "listenerMetadata: a notify listener is never allowed here");
	it = cJSON_GetObjectItemCaseSensitive(root, "flags");
	if (it != NULL && !(cJSON_IsArray(it) && cJSON_GetArraySize(it) == 0))
		return wd_err_set(err, EINVAL, "flags: filter flags are not supported");
	if ((rc = get_action(root, "defaultAction", &prof->default_action, "", err)) < 0)
		return rc;
	if (cJSON_GetObjectItemCaseSensitive(root, "defaultErrnoRet") != NULL) {
		if ((rc = wd_json_get_uint(root, "defaultErrnoRet", SUP_SC_ERRNO_MAX, &eno,
					   "profile", err)) < 0)
			return rc;
		prof->has_default_errno_ret = true;
		prof->default_errno_ret = (uint32_t)eno;
	}
	if ((rc = read_arches(root, prof, err)) < 0 ||
	    (rc = check_arch_map(cJSON_GetObjectItemCaseSensitive(root, "archMap"), err)) < 0)
		return rc;
	syscalls = cJSON_GetObjectItemCaseSensitive(root, "syscalls");
	if (syscalls == NULL || cJSON_IsNull(syscalls))
		return 0;
	if (!cJSON_IsArray(syscalls))
		return wd_err_set(err, EINVAL, "syscalls: expected an array");
	if (cJSON_GetArraySize(syscalls) > (int)SUP_SC_MAX_GROUPS)
		return wd_err_set(err, E2BIG, "syscalls: more than %u groups", SUP_SC_MAX_GROUPS);
	prof->groups = calloc((size_t)cJSON_GetArraySize(syscalls) + 1, sizeof(*prof->groups));
	if (prof->groups == NULL)
		return wd_err_set(err, ENOMEM, "syscalls: out of memory");
	cJSON_ArrayForEach(it, syscalls)
	{
		keep = false;
		if ((rc = read_group(it, idx++, kernel, &prof->groups[prof->n_groups], &keep,
				     err)) < 0)
			return rc;
		if (keep)
			prof->n_groups++;
		else
			prof->dropped++;
	}
	return 0;
}

int sup_sc_parse(const uint8_t *p, size_t len, const char *kernel_release,
		 struct sup_sc_profile *out, struct wd_err *err)
{
	unsigned kernel[3];
	cJSON *root;
	int rc;

	memset(out, 0, sizeof(*out));
	if (kernel_release == NULL || !kernel_version(kernel_release, kernel, false))
		return wd_err_set(err, EINVAL,
				  "seccomp profile: kernel release '%.64s' has no version",
				  kernel_release != NULL ? kernel_release : "(null)");
	root = wd_json_parse_object(p, len, SUP_SC_MAX_TEXT_BYTES, "seccomp profile", err);
	if (root == NULL)
		return -err->code;
	rc = read_profile(root, kernel, out, err);
	cJSON_Delete(root);
	if (rc < 0) {
		sup_sc_free(out);
		return wd_err_wrap(err, "seccomp profile");
	}
	return 0;
}

void sup_sc_free(struct sup_sc_profile *prof)
{
	if (prof == NULL)
		return;
	for (size_t i = 0; prof->groups != NULL && i < prof->n_groups; i++)
		free(prof->groups[i].names);
	free(prof->groups);
	memset(prof, 0, sizeof(*prof));
}
