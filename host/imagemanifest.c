/* host/imagemanifest.c - see imagemanifest.h. */
#include "imagemanifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/jcanon.h"
#include "../common/json.h"
#include "imageio.h"
#include "verity.h"

#define WRITE_START_BYTES 65536 /* the writer's first buffer; it doubles up to the bound */

bool wd_imgman_is_hex64(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

void wd_imgman_free(struct wd_imgman *m)
{
	for (size_t i = 0; i < m->initramfs.n_entries; i++) {
		free(m->initramfs.entries[i].path);
		free(m->initramfs.entries[i].target);
	}
	free(m->initramfs.entries);
	for (size_t i = 0; i < m->rootfs.n_stripped; i++) {
		free(m->rootfs.stripped[i].path);
		free(m->rootfs.stripped[i].what);
	}
	free(m->rootfs.stripped);
	for (size_t i = 0; i < m->n_sources; i++) {
		free(m->sources[i].what);
		free(m->sources[i].name);
		free(m->sources[i].version);
		free(m->sources[i].file);
	}
	free(m->sources);
	memset(m, 0, sizeof(*m));
}

/* ---- reading -------------------------------------------------------------- */

/* A required string member, at most `max` bytes, copied (malloc). */
static int dup_string(const cJSON *obj, const char *name, size_t max, char **out, const char *what,
		      struct wd_err *err)
{
	const char *s = NULL;
	size_t n = 0;

	if (wd_json_get_string(obj, name, max, &s, &n, what, err) < 0)
		return wd_err_ret(err);
	if (s == NULL)
		return wd_err_set(err, EINVAL, "%s: missing field '%s'", what, name);
	*out = strdup(s);
	if (*out == NULL)
		return wd_err_set(err, ENOMEM, "%s.%s: out of memory", what, name);
	return 0;
}

static int get_hex(const cJSON *obj, const char *name, char out[WD_IMAGE_HEX], const char *what,
		   struct wd_err *err)
{
	char buf[WD_IMAGE_HEX] = "";

	if (wd_json_get_string_into(obj, name, buf, sizeof(buf), what, err) < 0)
		return wd_err_set(err, EINVAL, "%s.%s: expected 64 lower-case hex digits", what,
				  name);
	if (!wd_imgman_is_hex64(buf))
		return wd_err_set(err, EINVAL, "%s.%s: expected 64 lower-case hex digits", what,
				  name);
	memcpy(out, buf, WD_IMAGE_HEX);
	return 0;
}

/* A required integer member in [min, max]. */
static int get_uint(const cJSON *obj, const char *name, uint64_t min, uint64_t max, uint64_t *out,
		    const char *what, struct wd_err *err)
{
	uint64_t v = 0;

	if (cJSON_GetObjectItemCaseSensitive(obj, name) == NULL)
		return wd_err_set(err, EINVAL, "%s: missing field '%s'", what, name);
	if (wd_json_get_uint(obj, name, max, &v, what, err) < 0)
		return wd_err_ret(err);
	if (v < min)
		return wd_err_set(err, ERANGE, "%s.%s: under the bound %llu", what, name,
				  (unsigned long long)min);
	*out = v;
	return 0;
}

/* A required string member that must be exactly `want`. */
static int want_string(const cJSON *obj, const char *name, const char *want, const char *what,
		       struct wd_err *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!cJSON_IsString(it) || strcmp(it->valuestring, want) != 0)
		return wd_err_set(err, EINVAL, "%s.%s: expected \"%s\"", what, name, want);
	return 0;
}

static bool token_ok(const char *s, size_t max, const char *extra)
{
	size_t n = strlen(s);

	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || strchr(extra, s[i]) != NULL))
			return false;
	return true;
}

/* The characters an initramfs path may hold (those /etc/warden/manifest can). */
static bool initramfs_path_ok(const char *s)
{
	if (s[0] != '/' || s[1] == '\0' || strstr(s, "//") != NULL || strstr(s, "/./") != NULL ||
	    strstr(s, "/../") != NULL || s[strlen(s) - 1] == '/')
		return false;
	if (strlen(s) > WD_IMGMAN_PATH_MAX || !token_ok(s + 1, WD_IMGMAN_PATH_MAX, "._+@[]/-"))
		return false;
	const char *last = strrchr(s, '/');
	return strcmp(last, "/.") != 0 && strcmp(last, "/..") != 0 && strncmp(s, "/./", 3) != 0 &&
	       strncmp(s, "/../", 4) != 0;
}

static int read_mode(const cJSON *obj, uint32_t *mode, const char *what, struct wd_err *err)
{
	char buf[8] = "";

	if (wd_json_get_string_into(obj, "mode", buf, sizeof(buf), what, err) < 0 ||
	    strlen(buf) != 4 || strspn(buf, "01234567") != 4)
		return wd_err_set(err, EINVAL, "%s.mode: expected four octal digits", what);
	*mode = (uint32_t)strtoul(buf, NULL, 8);
	return 0;
}

static int read_rdev(const cJSON *obj, struct wd_imgentry *e, const char *what, struct wd_err *err)
{
	char buf[24] = "";
	unsigned long ma, mi;
	char *end;

	if (wd_json_get_string_into(obj, "rdev", buf, sizeof(buf), what, err) < 0 || buf[0] < '0' ||
	    buf[0] > '9')
		return wd_err_set(err, EINVAL, "%s.rdev: expected MAJOR:MINOR", what);
	errno = 0;
	ma = strtoul(buf, &end, 10);
	if (*end != ':' || end[1] < '0' || end[1] > '9')
		return wd_err_set(err, EINVAL, "%s.rdev: expected MAJOR:MINOR", what);
	mi = strtoul(end + 1, &end, 10);
	if (*end != '\0' || errno != 0 || ma > 0xfff || mi > 0xfffff)
		return wd_err_set(err, EINVAL, "%s.rdev: expected MAJOR:MINOR", what);
	e->major = (uint32_t)ma;
	e->minor = (uint32_t)mi;
	return 0;
}

static const struct wd_json_field entry_f[] = {{"path", true}, {"type", true},   {"mode", true},
					       {"size", true}, {"sha256", true}, {NULL, false}};
static const struct wd_json_field entry_l[] = {
	{"path", true}, {"type", true}, {"mode", true}, {"target", true}, {NULL, false}};
static const struct wd_json_field entry_d[] = {
	{"path", true}, {"type", true}, {"mode", true}, {NULL, false}};
static const struct wd_json_field entry_c[] = {
	{"path", true}, {"type", true}, {"mode", true}, {"rdev", true}, {NULL, false}};

static int read_entry(const cJSON *obj, struct wd_imgentry *e, const char *what, struct wd_err *err)
{
	char type[4] = "";

	if (!cJSON_IsObject(obj))
		return wd_err_set(err, EINVAL, "%s: expected an object", what);
	if (wd_json_get_string_into(obj, "type", type, sizeof(type), what, err) < 0 ||
	    strlen(type) != 1 || strchr("fldc", type[0]) == NULL)
		return wd_err_set(err, EINVAL, "%s.type: expected \"f\", \"l\", \"d\" or \"c\"",
				  what);
	e->type = type[0];
	if (wd_json_check_fields(obj,
				 e->type == 'f'   ? entry_f
				 : e->type == 'l' ? entry_l
				 : e->type == 'd' ? entry_d
						  : entry_c,
				 what, err) < 0)
		return wd_err_ret(err);
	if (dup_string(obj, "path", WD_IMGMAN_PATH_MAX, &e->path, what, err) < 0)
		return wd_err_ret(err);
	if (!initramfs_path_ok(e->path))
		return wd_err_set(err, EINVAL,
				  "%s.path: not a clean absolute path of A-Z a-z 0-9 "
				  "._+@[]/-",
				  what);
	if (read_mode(obj, &e->mode, what, err) < 0)
		return wd_err_ret(err);
	switch (e->type) {
	case 'f':
		if (get_uint(obj, "size", 0, WD_IMGMAN_FILE_MAX_BYTES, &e->size, what, err) < 0 ||
		    get_hex(obj, "sha256", e->sha256, what, err) < 0)
			return wd_err_ret(err);
		break;
	case 'l':
		if (dup_string(obj, "target", WD_IMGMAN_TARGET_MAX, &e->target, what, err) < 0)
			return wd_err_ret(err);
		if (e->target[0] == '\0')
			return wd_err_set(err, EINVAL, "%s.target: empty", what);
		e->size = strlen(e->target);
		break;
	case 'c':
		if (read_rdev(obj, e, what, err) < 0)
			return wd_err_ret(err);
		break;
	default:
		break;
	}
	return 0;
}

static int read_entries(const cJSON *arr, struct wd_imgman *m, struct wd_err *err)
{
	int n = cJSON_GetArraySize(arr);
	const cJSON *it;
	char what[48];
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "initramfs.entries: expected an array");
	if (n < 1 || (size_t)n > WD_IMGMAN_MAX_ENTRIES)
		return wd_err_set(err, ERANGE, "initramfs.entries: %d entries, expected 1 to %d", n,
				  WD_IMGMAN_MAX_ENTRIES);
	m->initramfs.entries = calloc((size_t)n, sizeof(*m->initramfs.entries));
	if (m->initramfs.entries == NULL)
		return wd_err_set(err, ENOMEM, "initramfs.entries: out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		struct wd_imgentry *e = &m->initramfs.entries[i];

		(void)snprintf(what, sizeof(what), "initramfs.entries[%zu]", i);
		m->initramfs.n_entries = i + 1;
		if (read_entry(it, e, what, err) < 0)
			return wd_err_ret(err);
		if (i > 0 && strcmp(m->initramfs.entries[i - 1].path, e->path) >= 0)
			return wd_err_set(err, EINVAL,
					  "%s.path: not after the entry before it "
					  "(sorted, each path once)",
					  what);
		i++;
	}
	return 0;
}

static const struct wd_imgentry *find_entry(const struct wd_imgman *m, const char *path)
{
	for (size_t i = 0; i < m->initramfs.n_entries; i++)
		if (m->initramfs.entries[i].path != NULL &&
		    strcmp(m->initramfs.entries[i].path, path) == 0)
			return &m->initramfs.entries[i];
	return NULL;
}

static const struct wd_json_field top_fields[] = {
	{"format", true},  {"version", true},   {"name", true},   {"epoch", true},
	{"kernel", true},  {"initramfs", true}, {"rootfs", true}, {"policy", true},
	{"sources", true}, {NULL, false}};
static const struct wd_json_field kernel_fields[] = {
	{"file", true}, {"size", true}, {"sha256", true}, {"kver", true}, {NULL, false}};
static const struct wd_json_field initramfs_fields[] = {
	{"file", true},    {"size", true}, {"sha256", true}, {"manifest_sha256", true},
	{"entries", true}, {NULL, false}};
static const struct wd_json_field rootfs_fields[] = {
	{"file", true},    {"fs", true},       {"size", true},   {"sha256", true},
	{"entries", true}, {"stripped", true}, {"verity", true}, {NULL, false}};
static const struct wd_json_field verity_fields[] = {{"file", true},
						     {"size", true},
						     {"sha256", true},
						     {"format", true},
						     {"algorithm", true},
						     {"data_block_size", true},
						     {"hash_block_size", true},
						     {"data_blocks", true},
						     {"hash_offset", true},
						     {"salt", true},
						     {"root_hash", true},
						     {NULL, false}};
static const struct wd_json_field policy_fields[] = {
	{"path", true}, {"sha256", true}, {NULL, false}};
static const struct wd_json_field strip_fields[] = {{"path", true}, {"what", true}, {NULL, false}};
static const struct wd_json_field source_fields[] = {{"what", true},     {"name", true},
						     {"version", false}, {"file", false},
						     {"sha256", false},  {NULL, false}};

static int read_kernel(const cJSON *k, struct wd_imgman *m, struct wd_err *err)
{
	if (wd_json_check_fields(k, kernel_fields, "kernel", err) < 0 ||
	    want_string(k, "file", WD_IMAGE_KERNEL, "kernel", err) < 0 ||
	    get_uint(k, "size", 1, WD_IMGMAN_KERNEL_MAX_BYTES, &m->kernel.size, "kernel", err) <
		    0 ||
	    get_hex(k, "sha256", m->kernel.sha256, "kernel", err) < 0)
		return wd_err_ret(err);
	if (wd_json_get_string_into(k, "kver", m->kernel.kver, sizeof(m->kernel.kver), "kernel",
				    err) < 0 ||
	    !token_ok(m->kernel.kver, WD_IMAGE_KVER_MAX, "._+-"))
		return wd_err_set(err, EINVAL,
				  "kernel.kver: expected a kernel release "
				  "(A-Z a-z 0-9 ._+-, at most %d bytes)",
				  WD_IMAGE_KVER_MAX);
	return 0;
}

static int read_initramfs(const cJSON *r, struct wd_imgman *m, struct wd_err *err)
{
	const struct wd_imgentry *e;

	if (wd_json_check_fields(r, initramfs_fields, "initramfs", err) < 0 ||
	    want_string(r, "file", WD_IMAGE_INITRAMFS, "initramfs", err) < 0 ||
	    get_uint(r, "size", 1, WD_IMGMAN_INITRAMFS_MAX_BYTES, &m->initramfs.size, "initramfs",
		     err) < 0 ||
	    get_hex(r, "sha256", m->initramfs.sha256, "initramfs", err) < 0 ||
	    get_hex(r, "manifest_sha256", m->initramfs.manifest_sha256, "initramfs", err) < 0 ||
	    read_entries(cJSON_GetObjectItemCaseSensitive(r, "entries"), m, err) < 0)
		return wd_err_ret(err);
	e = find_entry(m, "/etc/warden/manifest");
	if (e == NULL || e->type != 'f' || strcmp(e->sha256, m->initramfs.manifest_sha256) != 0)
		return wd_err_set(err, EINVAL,
				  "initramfs.entries: no /etc/warden/manifest with "
				  "the digest manifest_sha256");
	e = find_entry(m, "/etc/warden/rootfs");
	if (e == NULL || e->type != 'f')
		return wd_err_set(err, EINVAL, "initramfs.entries: no /etc/warden/rootfs");
	return 0;
}

static int read_stripped(const cJSON *arr, struct wd_imgman *m, struct wd_err *err)
{
	int n = cJSON_GetArraySize(arr);
	const cJSON *it;
	char what[48];
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "rootfs.stripped: expected an array");
	if ((size_t)n > WD_IMGMAN_MAX_STRIPPED)
		return wd_err_set(err, ERANGE, "rootfs.stripped: over %d items",
				  WD_IMGMAN_MAX_STRIPPED);
	if (n == 0)
		return 0;
	m->rootfs.stripped = calloc((size_t)n, sizeof(*m->rootfs.stripped));
	if (m->rootfs.stripped == NULL)
		return wd_err_set(err, ENOMEM, "rootfs.stripped: out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		struct wd_imgstrip *s = &m->rootfs.stripped[i];

		(void)snprintf(what, sizeof(what), "rootfs.stripped[%zu]", i);
		m->rootfs.n_stripped = i + 1;
		if (wd_json_check_fields(it, strip_fields, what, err) < 0 ||
		    dup_string(it, "path", WD_IMGMAN_PATH_MAX, &s->path, what, err) < 0 ||
		    dup_string(it, "what", 32, &s->what, what, err) < 0)
			return wd_err_ret(err);
		if (s->path[0] != '/' || s->what[0] == '\0' ||
		    strspn(s->what, "abcdefghijklmnopqrstuvwxyz+-") != strlen(s->what))
			return wd_err_set(err, EINVAL,
					  "%s: expected an absolute path and a lower-case word",
					  what);
		i++;
	}
	return 0;
}

static int read_verity(const cJSON *v, struct wd_imgman *m, struct wd_err *err)
{
	struct wd_imgverity *vy = &m->rootfs.verity;
	uint64_t one = 0;

	if (wd_json_check_fields(v, verity_fields, "rootfs.verity", err) < 0 ||
	    want_string(v, "file", WD_IMAGE_VERITY, "rootfs.verity", err) < 0 ||
	    want_string(v, "algorithm", "sha256", "rootfs.verity", err) < 0 ||
	    get_uint(v, "format", 1, 1, &one, "rootfs.verity", err) < 0 ||
	    get_uint(v, "data_block_size", WD_VERITY_BLOCK, WD_VERITY_BLOCK, &one, "rootfs.verity",
		     err) < 0 ||
	    get_uint(v, "hash_block_size", WD_VERITY_BLOCK, WD_VERITY_BLOCK, &one, "rootfs.verity",
		     err) < 0 ||
	    get_uint(v, "hash_offset", 0, 0, &one, "rootfs.verity", err) < 0 ||
	    get_uint(v, "data_blocks", 1, WD_IMGMAN_ROOTFS_MAX_BYTES / WD_VERITY_BLOCK,
		     &vy->data_blocks, "rootfs.verity", err) < 0 ||
	    get_uint(v, "size", 0, WD_IMGMAN_ROOTFS_MAX_BYTES, &vy->size, "rootfs.verity", err) <
		    0 ||
	    get_hex(v, "sha256", vy->sha256, "rootfs.verity", err) < 0 ||
	    get_hex(v, "salt", vy->salt, "rootfs.verity", err) < 0 ||
	    get_hex(v, "root_hash", vy->root_hash, "rootfs.verity", err) < 0)
		return wd_err_ret(err);
	if (vy->data_blocks * WD_VERITY_BLOCK != m->rootfs.size)
		return wd_err_set(err, EINVAL,
				  "rootfs.verity.data_blocks: %llu blocks of 4096 bytes, but "
				  "rootfs.size is %llu",
				  (unsigned long long)vy->data_blocks,
				  (unsigned long long)m->rootfs.size);
	if (vy->size != wd_verity_tree_bytes(vy->data_blocks))
		return wd_err_set(err, EINVAL,
				  "rootfs.verity.size: %llu bytes, but %llu data blocks need a "
				  "tree of %llu",
				  (unsigned long long)vy->size, (unsigned long long)vy->data_blocks,
				  (unsigned long long)wd_verity_tree_bytes(vy->data_blocks));
	return 0;
}

static int read_rootfs(const cJSON *r, struct wd_imgman *m, struct wd_err *err)
{
	if (wd_json_check_fields(r, rootfs_fields, "rootfs", err) < 0 ||
	    want_string(r, "file", WD_IMAGE_ROOTFS, "rootfs", err) < 0 ||
	    want_string(r, "fs", "erofs", "rootfs", err) < 0 ||
	    get_uint(r, "size", WD_VERITY_BLOCK, WD_IMGMAN_ROOTFS_MAX_BYTES, &m->rootfs.size,
		     "rootfs", err) < 0 ||
	    get_hex(r, "sha256", m->rootfs.sha256, "rootfs", err) < 0 ||
	    get_uint(r, "entries", 1, WD_IMGMAN_ROOTFS_MAX_ENTRIES, &m->rootfs.entries, "rootfs",
		     err) < 0 ||
	    read_stripped(cJSON_GetObjectItemCaseSensitive(r, "stripped"), m, err) < 0)
		return wd_err_ret(err);
	if (m->rootfs.size % WD_VERITY_BLOCK != 0)
		return wd_err_set(err, EINVAL, "rootfs.size: not a multiple of %d",
				  WD_VERITY_BLOCK);
	return read_verity(cJSON_GetObjectItemCaseSensitive(r, "verity"), m, err);
}

static int read_policy(const cJSON *p, struct wd_imgman *m, struct wd_err *err)
{
	const struct wd_imgentry *e;

	if (cJSON_IsNull(p)) {
		if (find_entry(m, WD_IMAGE_POLICY_PATH) != NULL)
			return wd_err_set(err, EINVAL, "policy: null, but the initramfs has %s",
					  WD_IMAGE_POLICY_PATH);
		return 0;
	}
	if (wd_json_check_fields(p, policy_fields, "policy", err) < 0 ||
	    want_string(p, "path", WD_IMAGE_POLICY_PATH, "policy", err) < 0 ||
	    get_hex(p, "sha256", m->policy_sha256, "policy", err) < 0)
		return wd_err_ret(err);
	e = find_entry(m, WD_IMAGE_POLICY_PATH);
	if (e == NULL || e->type != 'f' || strcmp(e->sha256, m->policy_sha256) != 0)
		return wd_err_set(err, EINVAL, "policy: the initramfs has no %s of that digest",
				  WD_IMAGE_POLICY_PATH);
	m->has_policy = true;
	return 0;
}

static int read_source(const cJSON *it, struct wd_imgsource *s, const char *what,
		       struct wd_err *err)
{
	if (wd_json_check_fields(it, source_fields, what, err) < 0 ||
	    dup_string(it, "what", 32, &s->what, what, err) < 0 ||
	    dup_string(it, "name", WD_IMGMAN_TEXT_MAX, &s->name, what, err) < 0)
		return wd_err_ret(err);
	if (strspn(s->what, "abcdefghijklmnopqrstuvwxyz-") != strlen(s->what) || s->what[0] == 0 ||
	    s->name[0] == '\0')
		return wd_err_set(err, EINVAL, "%s: expected a lower-case word and a name", what);
	if (cJSON_GetObjectItemCaseSensitive(it, "version") != NULL &&
	    dup_string(it, "version", WD_IMGMAN_TEXT_MAX, &s->version, what, err) < 0)
		return wd_err_ret(err);
	if (cJSON_GetObjectItemCaseSensitive(it, "file") != NULL &&
	    dup_string(it, "file", WD_IMGMAN_TEXT_MAX, &s->file, what, err) < 0)
		return wd_err_ret(err);
	if (cJSON_GetObjectItemCaseSensitive(it, "sha256") != NULL &&
	    get_hex(it, "sha256", s->sha256, what, err) < 0)
		return wd_err_ret(err);
	return 0;
}

static int read_sources(const cJSON *arr, struct wd_imgman *m, struct wd_err *err)
{
	int n = cJSON_GetArraySize(arr);
	const cJSON *it;
	char what[32];
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "sources: expected an array");
	if ((size_t)n > WD_IMGMAN_MAX_SOURCES)
		return wd_err_set(err, ERANGE, "sources: over %d items", WD_IMGMAN_MAX_SOURCES);
	if (n == 0)
		return 0;
	m->sources = calloc((size_t)n, sizeof(*m->sources));
	if (m->sources == NULL)
		return wd_err_set(err, ENOMEM, "sources: out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		(void)snprintf(what, sizeof(what), "sources[%zu]", i);
		m->n_sources = i + 1;
		if (read_source(it, &m->sources[i], what, err) < 0)
			return wd_err_ret(err);
		i++;
	}
	return 0;
}

static int read_top(const cJSON *root, struct wd_imgman *m, struct wd_err *err)
{
	uint64_t version = 0;

	if (wd_json_check_fields(root, top_fields, "manifest", err) < 0)
		return wd_err_ret(err);
	if (want_string(root, "format", WD_IMGMAN_FORMAT, "manifest", err) < 0)
		return wd_err_set(err, EINVAL, "not a warden image manifest (format is not \"%s\")",
				  WD_IMGMAN_FORMAT);
	if (get_uint(root, "version", 0, WD_JSON_MAX_INT, &version, "manifest", err) < 0)
		return wd_err_ret(err);
	if (version != WD_IMGMAN_VERSION)
		return wd_err_set(err, EINVAL,
				  "manifest version %llu is not supported (this "
				  "warden reads version %d)",
				  (unsigned long long)version, WD_IMGMAN_VERSION);
	if (wd_json_get_string_into(root, "name", m->name, sizeof(m->name), "manifest", err) < 0 ||
	    !token_ok(m->name, WD_IMAGE_NAME_MAX, "._+-"))
		return wd_err_set(err, EINVAL, "name: expected 1 to %d bytes of A-Z a-z 0-9 ._+-",
				  WD_IMAGE_NAME_MAX);
	if (get_uint(root, "epoch", 0, WD_JSON_MAX_INT, &m->epoch, "manifest", err) < 0 ||
	    read_kernel(cJSON_GetObjectItemCaseSensitive(root, "kernel"), m, err) < 0 ||
	    read_initramfs(cJSON_GetObjectItemCaseSensitive(root, "initramfs"), m, err) < 0 ||
	    read_rootfs(cJSON_GetObjectItemCaseSensitive(root, "rootfs"), m, err) < 0 ||
	    read_policy(cJSON_GetObjectItemCaseSensitive(root, "policy"), m, err) < 0 ||
	    read_sources(cJSON_GetObjectItemCaseSensitive(root, "sources"), m, err) < 0)
		return wd_err_ret(err);
	return 0;
}

int wd_imgman_read(const char *text, size_t len, struct wd_imgman *m, struct wd_err *err)
{
	cJSON *root;
	int rc;

	memset(m, 0, sizeof(*m));
	root = wd_json_parse_object((const uint8_t *)text, len, WD_IMAGE_MANIFEST_MAX_BYTES,
				    "manifest.json", err);
	if (root == NULL)
		return wd_err_ret(err);
	rc = read_top(root, m, err);
	cJSON_Delete(root);
	if (rc < 0) {
		wd_imgman_free(m);
		return wd_err_wrap(err, "manifest.json");
	}
	return 0;
}

int wd_imgman_load(const char *path, struct wd_imgman *m, struct wd_err *err)
{
	char *buf;
	size_t len;
	int rc;

	memset(m, 0, sizeof(*m));
	if (wd_img_read_file(path, WD_IMAGE_MANIFEST_MAX_BYTES, false, &buf, &len, err) < 0)
		return wd_err_ret(err);
	rc = wd_imgman_read(buf, len, m, err); /* its messages start "manifest.json: " */
	free(buf);
	return rc;
}

/* ---- writing -------------------------------------------------------------- */

static void write_entry(struct wd_jw *w, const struct wd_imgentry *e)
{
	char mode[8], rdev[24], type[2] = {e->type, '\0'};

	(void)snprintf(mode, sizeof(mode), "%04o", (unsigned)(e->mode & 07777));
	wd_jw_object(w, NULL);
	wd_jw_str(w, "mode", mode);
	wd_jw_str(w, "path", e->path);
	if (e->type == 'c') {
		(void)snprintf(rdev, sizeof(rdev), "%u:%u", e->major, e->minor);
		wd_jw_str(w, "rdev", rdev);
	}
	if (e->type == 'f') {
		wd_jw_str(w, "sha256", e->sha256);
		wd_jw_uint(w, "size", e->size);
	}
	if (e->type == 'l')
		wd_jw_str(w, "target", e->target);
	wd_jw_str(w, "type", type);
	wd_jw_close(w);
}

static void write_rootfs(struct wd_jw *w, const struct wd_imgman *m)
{
	const struct wd_imgverity *v = &m->rootfs.verity;

	wd_jw_object(w, "rootfs");
	wd_jw_uint(w, "entries", m->rootfs.entries);
	wd_jw_str(w, "file", WD_IMAGE_ROOTFS);
	wd_jw_str(w, "fs", "erofs");
	wd_jw_str(w, "sha256", m->rootfs.sha256);
	wd_jw_uint(w, "size", m->rootfs.size);
	wd_jw_array(w, "stripped");
	for (size_t i = 0; i < m->rootfs.n_stripped; i++) {
		wd_jw_object(w, NULL);
		wd_jw_str(w, "path", m->rootfs.stripped[i].path);
		wd_jw_str(w, "what", m->rootfs.stripped[i].what);
		wd_jw_close(w);
	}
	wd_jw_close(w);
	wd_jw_object(w, "verity");
	wd_jw_str(w, "algorithm", "sha256");
	wd_jw_uint(w, "data_block_size", WD_VERITY_BLOCK);
	wd_jw_uint(w, "data_blocks", v->data_blocks);
	wd_jw_str(w, "file", WD_IMAGE_VERITY);
	wd_jw_uint(w, "format", 1);
	wd_jw_uint(w, "hash_block_size", WD_VERITY_BLOCK);
	wd_jw_uint(w, "hash_offset", 0);
	wd_jw_str(w, "root_hash", v->root_hash);
	wd_jw_str(w, "salt", v->salt);
	wd_jw_str(w, "sha256", v->sha256);
	wd_jw_uint(w, "size", v->size);
	wd_jw_close(w);
	wd_jw_close(w);
}

static void write_sources(struct wd_jw *w, const struct wd_imgman *m)
{
	wd_jw_array(w, "sources");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct wd_imgsource *s = &m->sources[i];

		wd_jw_object(w, NULL);
		if (s->file != NULL)
			wd_jw_str(w, "file", s->file);
		wd_jw_str(w, "name", s->name);
		if (s->sha256[0] != '\0')
			wd_jw_str(w, "sha256", s->sha256);
		if (s->version != NULL)
			wd_jw_str(w, "version", s->version);
		wd_jw_str(w, "what", s->what);
		wd_jw_close(w);
	}
	wd_jw_close(w);
}

/* The members into buf[size]; the length or wd_jw_end's error. */
static int write_members(const struct wd_imgman *m, bool with_initramfs, char *buf, size_t size)
{
	struct wd_jw w;

	wd_jw_init(&w, buf, size);
	wd_jw_uint(&w, "epoch", m->epoch);
	wd_jw_str(&w, "format", WD_IMGMAN_FORMAT);
	if (with_initramfs) {
		wd_jw_object(&w, "initramfs");
		wd_jw_array(&w, "entries");
		for (size_t i = 0; i < m->initramfs.n_entries; i++)
			write_entry(&w, &m->initramfs.entries[i]);
		wd_jw_close(&w);
		wd_jw_str(&w, "file", WD_IMAGE_INITRAMFS);
		wd_jw_str(&w, "manifest_sha256", m->initramfs.manifest_sha256);
		wd_jw_str(&w, "sha256", m->initramfs.sha256);
		wd_jw_uint(&w, "size", m->initramfs.size);
		wd_jw_close(&w);
	}
	wd_jw_object(&w, "kernel");
	wd_jw_str(&w, "file", WD_IMAGE_KERNEL);
	wd_jw_str(&w, "kver", m->kernel.kver);
	wd_jw_str(&w, "sha256", m->kernel.sha256);
	wd_jw_uint(&w, "size", m->kernel.size);
	wd_jw_close(&w);
	wd_jw_str(&w, "name", m->name);
	if (m->has_policy) {
		wd_jw_object(&w, "policy");
		wd_jw_str(&w, "path", WD_IMAGE_POLICY_PATH);
		wd_jw_str(&w, "sha256", m->policy_sha256);
		wd_jw_close(&w);
	} else {
		wd_jw_raw(&w, "policy", "null", 4);
	}
	write_rootfs(&w, m);
	write_sources(&w, m);
	wd_jw_uint(&w, "version", WD_IMGMAN_VERSION);
	return wd_jw_end(&w);
}

/*
 * The canonical text and a newline; without the "initramfs" member for
 * the image pin. The buffer starts small and doubles while the text does
 * not fit, up to the bound.
 */
static int write_json(const struct wd_imgman *m, bool with_initramfs, char **out, size_t *len,
		      struct wd_err *err)
{
	const size_t max = (size_t)WD_IMAGE_MANIFEST_MAX_BYTES; /* the newline included */
	size_t size = WRITE_START_BYTES;
	char *buf = NULL;
	int n;

	for (;;) {
		char *grown = realloc(buf, size + 1);

		if (grown == NULL) {
			free(buf);
			return wd_err_set(err, ENOMEM, "manifest.json: out of memory");
		}
		buf = grown;
		n = write_members(m, with_initramfs, buf, size); /* room for the newline */
		if (n != -ENOSPC || size >= max)
			break;
		size = size * 2 < max ? size * 2 : max;
	}
	if (n < 0) {
		free(buf);
		if (n == -ENOSPC)
			return wd_err_set(err, E2BIG, "manifest.json: over %zu bytes", max);
		return wd_err_set(err, -n, "manifest.json: cannot be written canonically");
	}
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*out = buf;
	*len = (size_t)n + 1;
	return 0;
}

int wd_imgman_write(const struct wd_imgman *m, char **out, size_t *len, struct wd_err *err)
{
	return write_json(m, true, out, len, err);
}

int wd_imgman_pin(const struct wd_imgman *m, char hex[WD_IMAGE_HEX], struct wd_err *err)
{
	char *text = NULL;
	size_t len = 0;

	if (write_json(m, false, &text, &len, err) < 0 || text == NULL)
		return wd_err_ret(err);
	wd_img_digest_buf(text, len, hex);
	free(text);
	return 0;
}
