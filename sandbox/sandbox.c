/*
 * sandbox/sandbox.c - the sandbox's configuration: defaults, the
 * policy's "sandbox" section, and the record of what a policy weakened.
 * The policy comes with the job, so from outside the trusted side: it is
 * bounded (WD_JOB_MAX_POLICY) and read strictly, and an error names the
 * field (docs/policy.md is the reference).
 */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "../common/jcanon.h"
#include "../common/json.h"
#include "../vsock/msg.h"

#define MAX_MIB (1ULL << 30)   /* 1 PiB: any larger size is a mistake */
#define MAX_COUNT (1ULL << 22) /* nofile, nproc, pids */
#define MAX_ID 0xfffffffeULL   /* (uid_t)-1 means "unchanged" to the kernel */

static const char *const default_binds[] = {"/bin", "/sbin", "/lib", "/lib64", "/usr"};

void sup_sandbox_defaults(struct sup_sandbox *sb)
{
	struct stat st;

	memset(sb, 0, sizeof(*sb));
	sb->uid = 65534;
	sb->gid = 65534;
	for (size_t i = 0; i < sizeof(default_binds) / sizeof(default_binds[0]); i++)
		if (lstat(default_binds[i], &st) == 0)
			(void)snprintf(sb->ro_binds[sb->n_ro_binds++], SUP_SB_PATH_MAX, "%s",
				       default_binds[i]);
	(void)snprintf(sb->workdir, sizeof(sb->workdir), "/work");
	sb->work_mib = SUP_SB_WORK_MIB;
	sb->tmp_mib = SUP_SB_TMP_MIB;
	sb->nofile = SUP_SB_NOFILE;
	sb->nproc = SUP_SB_NPROC;
	sb->fsize_mib = SUP_SB_FSIZE_MIB;
	sb->pids_max = SUP_SB_PIDS_MAX;
}

void sup_sandbox_free(struct sup_sandbox *sb)
{
	if (sb->has_profile)
		sup_sc_free(&sb->profile);
	sb->has_profile = false;
}

/* ---- reading the policy ---------------------------------------------------- */

static const struct wd_json_field sandbox_fields[] = {
	{"uid", false},      {"gid", false},     {"ro_binds", false},
	{"tmp_mib", false},  {"rlimits", false}, {"cgroup", false},
	{"landlock", false}, {"seccomp", false}, {NULL, false},
};
static const struct wd_json_field rlimit_fields[] = {
	{"nofile", false}, {"nproc", false},    {"fsize_mib", false},
	{"as_mib", false}, {"data_mib", false}, {NULL, false},
};
static const struct wd_json_field cgroup_fields[] = {
	{"memory_mib", false},
	{"pids", false},
	{"cpu_percent", false},
	{NULL, false},
};
static const struct wd_json_field seccomp_fields[] = {
	{"profile", false},
	{"waive", false},
	{NULL, false},
};

/* A member that is `false` (the layer off), an object (its settings) or absent. */
static int layer(const cJSON *obj, const char *name, const char *path, bool *off,
		 const cJSON **settings, bool objects_ok, struct wd_err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	*settings = NULL;
	if (v == NULL || cJSON_IsTrue(v))
		return 0;
	if (cJSON_IsFalse(v)) {
		*off = true;
		return 0;
	}
	if (objects_ok && cJSON_IsObject(v)) {
		*settings = v;
		return 0;
	}
	return wd_err_set(err, EINVAL, "policy: %s.%s: must be %s", path, name,
			  objects_ok ? "false, true or an object" : "true or false");
}

/* Absolute, and every component plain: not empty, not "." or "..". */
static bool plain_components(const char *p)
{
	for (const char *c = p; *c != '\0';) {
		size_t n;

		c++; /* the '/' */
		n = strcspn(c, "/");
		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		c += n;
	}
	return true;
}

static bool under(const char *p, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

static int path_ok(const char *p, const char *what, struct wd_err *err)
{
	size_t len = strlen(p);

	if (p[0] != '/' || len < 2 || len >= SUP_SB_PATH_MAX)
		return wd_err_set(err, EINVAL,
				  "policy: %s: '%.64s' is not an absolute path below /", what, p);
	if (!plain_components(p))
		return wd_err_set(err, EINVAL, "policy: %s: '%.64s' is not a plain path", what, p);
	for (const char *c = p; *c != '\0'; c++)
		if (*c < 0x21 || *c > 0x7e)
			return wd_err_set(err, EINVAL, "policy: %s: only printable ASCII", what);
	/* The sandbox's own mounts cannot be replaced by a bind. */
	if (under(p, "/proc") || under(p, "/dev") || under(p, "/tmp") || under(p, "/sys"))
		return wd_err_set(err, EINVAL,
				  "policy: %s: '%s' is the sandbox's own or never bound", what, p);
	return 0;
}

static int read_binds(const cJSON *sbx, struct sup_sandbox *sb, struct wd_err *err)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sbx, "ro_binds"), *it;
	size_t i = 0;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "policy: sandbox.ro_binds: must be an array");
	if ((size_t)cJSON_GetArraySize(arr) > SUP_SB_MAX_BINDS)
		return wd_err_set(err, E2BIG, "policy: sandbox.ro_binds: more than %d entries",
				  SUP_SB_MAX_BINDS);
	cJSON_ArrayForEach(it, arr)
	{
		char what[48];

		(void)snprintf(what, sizeof(what), "sandbox.ro_binds[%zu]", i);
		if (!cJSON_IsString(it))
			return wd_err_set(err, EINVAL, "policy: %s: must be a string", what);
		if (path_ok(it->valuestring, what, err) < 0)
			return wd_err_ret(err);
		(void)snprintf(sb->ro_binds[i++], SUP_SB_PATH_MAX, "%s", it->valuestring);
	}
	sb->n_ro_binds = i;
	sb->binds_from_policy = true;
	return 0;
}

/* ---- binds from an image --------------------------------------------------- */

const char *const sup_sb_image_skipped[] = {
	"dev",  "proc", "sys",   "run", "tmp",        "boot", "home",
	"root", "mnt",  "media", "srv", "lost+found", NULL,
};

static bool image_skipped(const char *name)
{
	for (size_t i = 0; sup_sb_image_skipped[i] != NULL; i++)
		if (strcmp(name, sup_sb_image_skipped[i]) == 0)
			return true;
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* The image's top-level directories and symlinks, as the default binds. */
static int image_defaults(struct sup_sandbox *sb, const char *root, struct wd_err *err)
{
	char found[SUP_SB_MAX_BINDS][SUP_SB_PATH_MAX];
	size_t n = 0;
	struct dirent *e;
	DIR *d;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || (d = fdopendir(fd)) == NULL) {
		int code = errno;

		if (fd >= 0)
			(void)close(fd);
		return wd_err_sys(err, code, "image %s: list its top-level directories", root);
	}
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		char path[SUP_SB_PATH_MAX];
		struct wd_err ignored;
		struct stat st;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
		    image_skipped(e->d_name))
			continue;
		if ((size_t)snprintf(path, sizeof(path), "/%s", e->d_name) >= sizeof(path) ||
		    path_ok(path, "image", &ignored) < 0)
			continue; /* no bind can name it */
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			int code = errno;

			(void)closedir(d);
			return wd_err_sys(err, code, "image %s: %s", root, e->d_name);
		}
		if (!S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode))
			continue;
		if (n == SUP_SB_MAX_BINDS) {
			(void)closedir(d);
			return wd_err_set(err, E2BIG,
					  "image %s: more than %d top-level directories to bind; "
					  "list them in the policy's sandbox.ro_binds",
					  root, SUP_SB_MAX_BINDS);
		}
		memcpy(found[n++], path, strlen(path) + 1);
	}
	if (errno != 0) {
		int code = errno;

		(void)closedir(d);
		return wd_err_sys(err, code, "image %s: readdir", root);
	}
	(void)closedir(d);
	qsort(found, n, sizeof(found[0]), by_name);
	memcpy(sb->ro_binds, found, n * sizeof(found[0]));
	sb->n_ro_binds = n;
	return 0;
}

int sup_sandbox_image(struct sup_sandbox *sb, const char *root, struct wd_err *err)
{
	if (root[0] != '/' || strlen(root) >= sizeof(sb->image_root))
		return wd_err_set(err, EINVAL, "image root '%.64s': not an absolute path", root);
	if (!sb->binds_from_policy && image_defaults(sb, root, err) < 0)
		return wd_err_ret(err);
	(void)snprintf(sb->image_root, sizeof(sb->image_root), "%s", root);
	return 0;
}

static int read_rlimits(const cJSON *sbx, struct sup_sandbox *sb, struct wd_err *err)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(sbx, "rlimits");
	const char *w = "policy: sandbox.rlimits";

	if (r == NULL)
		return 0;
	if (!cJSON_IsObject(r))
		return wd_err_set(err, EINVAL, "%s: must be an object", w);
	if (wd_json_check_fields(r, rlimit_fields, w, err) < 0 ||
	    wd_json_get_uint(r, "nofile", MAX_COUNT, &sb->nofile, w, err) < 0 ||
	    wd_json_get_uint(r, "nproc", MAX_COUNT, &sb->nproc, w, err) < 0 ||
	    wd_json_get_uint(r, "fsize_mib", MAX_MIB, &sb->fsize_mib, w, err) < 0 ||
	    wd_json_get_uint(r, "as_mib", MAX_MIB, &sb->as_mib, w, err) < 0 ||
	    wd_json_get_uint(r, "data_mib", MAX_MIB, &sb->data_mib, w, err) < 0)
		return wd_err_ret(err);
	if (sb->nofile == 0 || sb->nproc == 0)
		return wd_err_set(err, EINVAL, "%s: nofile and nproc cannot be 0", w);
	return 0;
}

static int read_cgroup(const cJSON *sbx, struct sup_sandbox *sb, struct wd_err *err)
{
	const char *w = "policy: sandbox.cgroup";
	const cJSON *c;
	uint64_t pct = 0;

	if (layer(sbx, "cgroup", "sandbox", &sb->cgroup_off, &c, true, err) < 0)
		return wd_err_ret(err);
	if (c == NULL)
		return 0;
	if (wd_json_check_fields(c, cgroup_fields, w, err) < 0 ||
	    wd_json_get_uint(c, "memory_mib", MAX_MIB, &sb->memory_mib, w, err) < 0 ||
	    wd_json_get_uint(c, "pids", MAX_COUNT, &sb->pids_max, w, err) < 0 ||
	    wd_json_get_uint(c, "cpu_percent", 100000, &pct, w, err) < 0)
		return wd_err_ret(err);
	if (sb->pids_max == 0)
		return wd_err_set(err, EINVAL, "%s.pids: cannot be 0", w);
	sb->cpu_quota_us = pct * SUP_SB_CPU_PERIOD_US / 100;
	return 0;
}

static int read_profile(const cJSON *prof, struct sup_sandbox *sb, struct wd_err *err)
{
	struct utsname u;
	char *text;
	int rc;

	if (!cJSON_IsObject(prof))
		return wd_err_set(err, EINVAL,
				  "policy: sandbox.seccomp.profile: must be an object");
	if (uname(&u) < 0)
		return wd_err_sys(err, errno, "uname");
	text = cJSON_PrintUnformatted(prof);
	if (text == NULL)
		return wd_err_set(err, ENOMEM, "policy: sandbox.seccomp.profile: buffer");
	rc = sup_sc_parse((const uint8_t *)text, strlen(text), u.release, &sb->profile, err);
	free(text);
	if (rc < 0)
		return wd_err_wrap(err, "policy: sandbox.seccomp.profile");
	sb->has_profile = true;
	return 0;
}

static int read_waivers(const cJSON *arr, struct sup_sandbox *sb, struct wd_err *err)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "policy: sandbox.seccomp.waive: must be an array");
	if (!sb->has_profile)
		return wd_err_set(
			err, EINVAL,
			"policy: sandbox.seccomp.waive: only with a profile (the built-in "
			"allowlist has no waivers)");
	cJSON_ArrayForEach(it, arr)
	{
		int h;

		if (!cJSON_IsString(it) || (h = sup_sb_hard_index(it->valuestring)) < 0)
			return wd_err_set(
				err, EINVAL,
				"policy: sandbox.seccomp.waive[%zu]: not the name of a hard "
				"denial",
				i);
		sb->waived[h / 64] |= 1ULL << (h % 64);
		i++;
	}
	return 0;
}

static int read_seccomp(const cJSON *sbx, struct sup_sandbox *sb, struct wd_err *err)
{
	const char *w = "policy: sandbox.seccomp";
	const cJSON *s, *v;

	if (layer(sbx, "seccomp", "sandbox", &sb->seccomp_off, &s, true, err) < 0)
		return wd_err_ret(err);
	if (s == NULL)
		return 0;
	if (wd_json_check_fields(s, seccomp_fields, w, err) < 0)
		return wd_err_ret(err);
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "profile")) != NULL &&
	    read_profile(v, sb, err) < 0)
		return wd_err_ret(err);
	if ((v = cJSON_GetObjectItemCaseSensitive(s, "waive")) != NULL &&
	    read_waivers(v, sb, err) < 0)
		return wd_err_ret(err);
	return 0;
}

static int read_sandbox(const cJSON *sbx, struct sup_sandbox *sb, struct wd_err *err)
{
	const char *w = "policy: sandbox";
	const cJSON *unused;
	uint64_t id;

	if (!cJSON_IsObject(sbx))
		return wd_err_set(err, EINVAL, "%s: must be an object", w);
	if (wd_json_check_fields(sbx, sandbox_fields, w, err) < 0)
		return wd_err_ret(err);
	id = sb->uid;
	if (wd_json_get_uint(sbx, "uid", MAX_ID, &id, w, err) < 0)
		return wd_err_ret(err);
	sb->uid = (uid_t)id;
	id = sb->gid;
	if (wd_json_get_uint(sbx, "gid", MAX_ID, &id, w, err) < 0)
		return wd_err_ret(err);
	sb->gid = (gid_t)id;
	if (sb->uid == 0 || sb->gid == 0)
		return wd_err_set(err, EINVAL, "%s: uid and gid cannot be 0 (root)", w);
	sb->ids_from_policy = cJSON_GetObjectItemCaseSensitive(sbx, "uid") != NULL ||
			      cJSON_GetObjectItemCaseSensitive(sbx, "gid") != NULL;
	if (wd_json_get_uint(sbx, "tmp_mib", MAX_MIB, &sb->tmp_mib, w, err) < 0)
		return wd_err_ret(err);
	if (sb->tmp_mib == 0)
		return wd_err_set(err, EINVAL, "%s.tmp_mib: cannot be 0", w);
	if (read_binds(sbx, sb, err) < 0 || read_rlimits(sbx, sb, err) < 0 ||
	    read_cgroup(sbx, sb, err) < 0 ||
	    layer(sbx, "landlock", "sandbox", &sb->landlock_off, &unused, false, err) < 0 ||
	    read_seccomp(sbx, sb, err) < 0)
		return wd_err_ret(err);
	return 0;
}

int sup_sandbox_policy(const cJSON *section, struct sup_sandbox *sb, struct wd_err *err)
{
	int rc = read_sandbox(section, sb, err);

	if (rc < 0) {
		sup_sandbox_free(sb);
		return err->code != 0 ? -err->code : -EINVAL;
	}
	return 0;
}

int sup_sandbox_host_id(struct sup_sandbox *sb, uint32_t id, struct wd_err *err)
{
	if (sb->ids_from_policy)
		return wd_err_set(
			err, EINVAL,
			"policy: sandbox.uid, sandbox.gid: refused on a kernel shared with "
			"the host, where each job runs as a host uid of its own "
			"(WARDEN_UID_RANGE, docs/cli.md)");
	if (id == 0)
		return wd_err_set(err, EINVAL, "the agent's uid cannot be 0 (root)");
	sb->uid = (uid_t)id;
	sb->gid = (gid_t)id;
	return 0;
}

/*
 * What is lost without the cgroup, said in full: rlimits are no memory
 * bound (RLIMIT_AS counts mappings, not a memfd's or SysV segment's pages
 * held without one, pipe buffers or the page cache: 512 MiB fit in a memfd
 * under as_mib 64), processes are bounded per uid only, CPU not at all.
 */
static const char cgroup_off_line[] =
	"cgroup: off (policy sandbox.cgroup = false): memory bound not enforced "
	"(rlimits.as_mib does not count memfd, SysV shm, pipe buffers or page cache), "
	"pids only by RLIMIT_NPROC (per uid), no cpu bound";

const char *sup_sandbox_weakened(const struct sup_sandbox *sb, size_t *i, char *buf, size_t size)
{
	for (;;) {
		size_t k = (*i)++;

		if (k == 0 && sb->seccomp_off)
			return "seccomp: off (policy sandbox.seccomp = false)";
		if (k == 1 && sb->landlock_off)
			return "landlock: off (policy sandbox.landlock = false)";
		if (k == 2 && sb->cgroup_off)
			return cgroup_off_line;
		if (k == 3 && sb->has_profile && !sb->seccomp_off)
			return "seccomp: a Docker/OCI profile replaces the built-in allowlist";
		if (k == 4 && sb->has_profile && !sb->seccomp_off &&
		    (sb->profile.default_action == SUP_SC_ACT_ALLOW ||
		     sb->profile.default_action == SUP_SC_ACT_LOG)) {
			(void)snprintf(
				buf, size,
				"seccomp: the profile's defaultAction %s allows every syscall "
				"it does not name",
				sup_sc_action_name(sb->profile.default_action));
			return buf;
		}
		if (k == 5 && sb->exec_audit_off && !sb->seccomp_off)
			return "audit: the agent's execs are not recorded (policy audit.exec = "
			       "false)";
		if (k >= 6 && k < 6 + SUP_SB_HARD_MAX) {
			const char *name = sup_sb_hard_name(k - 6);

			if (name != NULL && sup_sb_waived(sb, name)) {
				(void)snprintf(buf, size, "seccomp: hard denial of %s waived",
					       name);
				return buf;
			}
			continue;
		}
		if (k >= 6 + SUP_SB_HARD_MAX)
			return NULL;
	}
}

const char *sup_sandbox_weakened_record(const struct sup_sandbox *sb, size_t *i, char *buf,
					size_t size)
{
	char line[128];
	const char *w = sup_sandbox_weakened(sb, i, line, sizeof(line));

	if (w == NULL)
		return NULL;
	struct wd_jw jw;

	wd_jw_init(&jw, buf, size);
	wd_jw_str(&jw, "weakened", w);
	return wd_jw_end(&jw) < 0 ? NULL : buf;
}
