/* supervisor/rootfs.c - see rootfs.h. */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdalign.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DM_CONTROL "/dev/mapper/control"
#define VERITY_TARGET "verity"

static bool is_hex64(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

static bool dm_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > SUP_ROOTFS_DM_NAME_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

int sup_rootfs_settings(const char *mount, const char *hash, const char *dm, struct sup_rootfs *r,
			struct wd_err *err)
{
	memset(r, 0, sizeof(*r));
	if (mount == NULL && hash == NULL && dm == NULL)
		return 0;
	if (mount == NULL || hash == NULL || dm == NULL)
		return wd_err_set(
			err, EINVAL,
			"WARDEN_ROOTFS, WARDEN_ROOTFS_HASH and WARDEN_ROOTFS_DM: all three "
			"or none (%s is missing)",
			mount == NULL  ? "WARDEN_ROOTFS"
			: hash == NULL ? "WARDEN_ROOTFS_HASH"
				       : "WARDEN_ROOTFS_DM");
	if (mount[0] != '/' || strlen(mount) >= sizeof(r->mount))
		return wd_err_set(
			err, EINVAL,
			"WARDEN_ROOTFS: '%.64s' is not an absolute path of under %zu bytes", mount,
			sizeof(r->mount));
	if (!is_hex64(hash))
		return wd_err_set(err, EINVAL, "WARDEN_ROOTFS_HASH: not 64 lowercase hex digits");
	if (!dm_name_ok(dm))
		return wd_err_set(err, EINVAL,
				  "WARDEN_ROOTFS_DM: not a device-mapper name of [A-Za-z0-9._-]");
	memcpy(r->mount, mount, strlen(mount) + 1);
	memcpy(r->root_hash, hash, 65);
	memcpy(r->dm, dm, strlen(dm) + 1);
	r->on = true;
	return 0;
}

/* ---- the kernel's answer ------------------------------------------------- */

int sup_verity_parse(const void *buf, size_t len, char *text, size_t size, struct wd_err *err)
{
	const unsigned char *b = buf;
	struct dm_ioctl io;
	struct dm_target_spec spec;
	size_t start, end, str, n;

	if (len < sizeof(io))
		return wd_err_set(err, EINVAL, "dm status: %zu bytes, shorter than its header",
				  len);
	memcpy(&io, b, sizeof(io));
	if (io.flags & DM_BUFFER_FULL_FLAG)
		return wd_err_set(err, E2BIG, "dm status: the answer did not fit %zu bytes", len);
	start = io.data_start;
	end = io.data_size;
	if (start < sizeof(io) || end > len || start > end)
		return wd_err_set(err, EINVAL,
				  "dm status: data %zu..%zu outside the %zu bytes returned", start,
				  end, len);
	if (io.target_count != 1)
		return wd_err_set(err, EINVAL, "dm status: %u targets, not the one verity target",
				  (unsigned)io.target_count);
	if (end - start < sizeof(spec))
		return wd_err_set(err, EINVAL, "dm status: no room for the target");
	memcpy(&spec, b + start, sizeof(spec));
	if (memchr(spec.target_type, '\0', sizeof(spec.target_type)) == NULL ||
	    strcmp(spec.target_type, VERITY_TARGET) != 0)
		return wd_err_set(err, EINVAL, "dm status: the target is '%.*s', not %s",
				  (int)strnlen(spec.target_type, sizeof(spec.target_type)),
				  spec.target_type, VERITY_TARGET);
	str = start + sizeof(spec);
	n = strnlen((const char *)b + str, end - str);
	if (n == end - str)
		return wd_err_set(err, EINVAL, "dm status: the target's string has no end");
	if (n >= size)
		return wd_err_set(err, E2BIG, "dm status: the target's string is over %zu bytes",
				  size - 1);
	memcpy(text, b + str, n + 1);
	return 0;
}

int sup_verity_parse_status(const char *text, char *state, struct wd_err *err)
{
	if ((text[0] != 'V' && text[0] != 'C') || (text[1] != '\0' && text[1] != ' '))
		return wd_err_set(err, EINVAL, "dm-verity status '%.16s': neither V nor C", text);
	*state = text[0];
	return 0;
}

/* The next space-separated word of *p into w[size]; false at the end or
 * when it does not fit. */
static bool word(const char **p, char *w, size_t size)
{
	const char *s = *p;
	size_t n;

	while (*s == ' ')
		s++;
	n = strcspn(s, " ");
	if (n == 0 || n >= size)
		return false;
	memcpy(w, s, n);
	w[n] = '\0';
	*p = s + n;
	return true;
}

static bool is_maj_min(const char *s)
{
	size_t colon = strspn(s, "0123456789");

	return colon > 0 && s[colon] == ':' && s[colon + 1] != '\0' &&
	       strspn(s + colon + 1, "0123456789") == strlen(s + colon + 1);
}

int sup_verity_parse_table(const char *text, char data[SUP_ROOTFS_DEV_BYTES],
			   char root_hash[WD_SHA256_HEX], struct wd_err *err)
{
	/* version dev hash_dev data_block_size hash_block_size blocks hash_start alg digest salt */
	char w[10][WD_SHA256_HEX + 64];
	const char *p = text;

	for (size_t i = 0; i < 10; i++)
		if (!word(&p, w[i], sizeof(w[i])))
			return wd_err_set(err, EINVAL,
					  "dm-verity table: word %zu missing or too long", i + 1);
	if (strcmp(w[0], "1") != 0)
		return wd_err_set(err, EINVAL, "dm-verity table: format %.8s, not 1", w[0]);
	if (!is_maj_min(w[1]) || strlen(w[1]) >= SUP_ROOTFS_DEV_BYTES)
		return wd_err_set(err, EINVAL,
				  "dm-verity table: data device '%.24s' is not MAJ:MIN", w[1]);
	if (strcmp(w[7], "sha256") != 0 || !is_hex64(w[8]))
		return wd_err_set(err, EINVAL,
				  "dm-verity table: not a sha256 root digest of 64 hex digits");
	memcpy(data, w[1], strlen(w[1]) + 1);
	memcpy(root_hash, w[8], 65);
	return 0;
}

/* ---- the query ----------------------------------------------------------- */

static int dm_status(int ctl, const char *dm, uint32_t flags, char *text, size_t size,
		     struct wd_err *err)
{
	static alignas(8) unsigned char buf[SUP_VERITY_IOCTL_BYTES];
	struct dm_ioctl io;

	memset(buf, 0, sizeof(buf));
	memset(&io, 0, sizeof(io));
	io.version[0] = DM_VERSION_MAJOR;
	io.data_size = sizeof(buf);
	io.data_start = sizeof(io);
	io.flags = flags;
	(void)snprintf(io.name, sizeof(io.name), "%s", dm);
	memcpy(buf, &io, sizeof(io));
	if (ioctl(ctl, DM_TABLE_STATUS, buf) < 0)
		return wd_err_sys(err, errno, "dm %s: DM_TABLE_STATUS", dm);
	if (sup_verity_parse(buf, sizeof(buf), text, size, err) < 0)
		return wd_err_wrap(err, "dm %s", dm);
	return 0;
}

/* /sys/dev/block/MAJ:MIN -> ../../devices/.../block/vda: its last part. */
static void dev_name(const char *maj_min, char out[SUP_ROOTFS_DEV_BYTES])
{
	char path[64], link[256];
	ssize_t n;
	const char *base;

	(void)snprintf(out, SUP_ROOTFS_DEV_BYTES, "%s", maj_min);
	(void)snprintf(path, sizeof(path), "/sys/dev/block/%s", maj_min);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base != NULL ? base + 1 : link;
	if (base[0] != '\0' && strlen(base) < SUP_ROOTFS_DEV_BYTES &&
	    strspn(base, "abcdefghijklmnopqrstuvwxyz0123456789") == strlen(base))
		memcpy(out, base, strlen(base) + 1);
}

int sup_verity_query(const char *dm, struct sup_verity *v, struct wd_err *err)
{
	char text[512], maj_min[SUP_ROOTFS_DEV_BYTES];
	int ctl, rc;

	memset(v, 0, sizeof(*v));
	ctl = open(DM_CONTROL, O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return wd_err_sys(err, errno, "dm %s: open %s", dm, DM_CONTROL);
	rc = dm_status(ctl, dm, DM_STATUS_TABLE_FLAG, text, sizeof(text), err);
	if (rc == 0)
		rc = sup_verity_parse_table(text, maj_min, v->root_hash, err);
	if (rc == 0) {
		dev_name(maj_min, v->data);
		rc = dm_status(ctl, dm, 0, text, sizeof(text), err);
	}
	if (rc == 0)
		rc = sup_verity_parse_status(text, &v->state, err);
	(void)close(ctl);
	return rc < 0 ? wd_err_ret(err) : 0;
}

int sup_rootfs_check(const struct sup_rootfs *r, struct sup_verity *v, struct wd_err *err)
{
	if (sup_verity_query(r->dm, v, err) < 0)
		return wd_err_wrap(err, "rootfs");
	if (strcmp(v->root_hash, r->root_hash) != 0)
		return wd_err_set(err, EINVAL,
				  "rootfs: dm %s verifies against root hash %s, not the pinned %s",
				  r->dm, v->root_hash, r->root_hash);
	if (v->state == 'C')
		return wd_err_set(err, EIO,
				  "rootfs: dm-verity device %s (data %s) has seen corruption: a "
				  "block of the image did not match its hash",
				  r->dm, v->data);
	return 0;
}
