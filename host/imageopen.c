/*
 * host/imageopen.c - wd_image_open() and wd_image_policy() (image.h): an
 * image directory as `warden run --image OUTDIR` takes it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpio.h"
#include "image.h"
#include "imageio.h"
#include "imagemanifest.h"

static int join(char *out, const char *dir, const char *name, struct wd_err *err)
{
	int n = snprintf(out, WD_PATH_BYTES, "%s/%s", dir, name);

	if (n < 0 || n >= WD_PATH_BYTES)
		return wd_err_set(err, ENAMETOOLONG, "%s/%s: path too long", dir, name);
	return 0;
}

/* A file of the image: regular, of the recorded size, and (when `sha256`
 * is given) of the recorded digest. */
static int check_file(const char *path, uint64_t size, const char *sha256, struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	uint64_t got = 0;
	int fd = wd_img_open_regular(path, &got, err);
	int rc = 0;

	if (fd < 0)
		return fd;
	if (got != size)
		rc = wd_err_set(err, EBADMSG, "%s: %llu bytes, manifest.json says %llu", path,
				(unsigned long long)got, (unsigned long long)size);
	else if (sha256 != NULL && wd_img_digest_fd(fd, size, NULL, hex, path, err) < 0)
		rc = wd_err_ret(err);
	else if (sha256 != NULL && strcmp(hex, sha256) != 0)
		rc = wd_err_set(err, EBADMSG, "%s: sha256 %s, manifest.json says %s", path, hex,
				sha256);
	(void)close(fd);
	return rc;
}

int wd_image_open(const char *outdir, struct wd_image *img, struct wd_err *err)
{
	char manifest[WD_PATH_BYTES];
	struct wd_imgman m;
	size_t n = strlen(outdir);
	int rc;

	memset(img, 0, sizeof(*img));
	while (n > 1 && outdir[n - 1] == '/')
		n--;
	if (n == 0 || n >= sizeof(img->dir))
		return wd_err_set(err, ENAMETOOLONG, "image directory: path empty or too long");
	memcpy(img->dir, outdir, n);
	img->dir[n] = '\0';
	if (join(img->kernel, img->dir, WD_IMAGE_KERNEL, err) < 0 ||
	    join(img->initramfs, img->dir, WD_IMAGE_INITRAMFS, err) < 0 ||
	    join(img->rootfs, img->dir, WD_IMAGE_ROOTFS, err) < 0 ||
	    join(img->verity, img->dir, WD_IMAGE_VERITY, err) < 0 ||
	    join(manifest, img->dir, WD_IMAGE_MANIFEST, err) < 0)
		return wd_err_ret(err);
	if (wd_imgman_load(manifest, &m, err) < 0)
		return wd_err_wrap(err, "image %s", img->dir);
	rc = check_file(img->kernel, m.kernel.size, m.kernel.sha256, err);
	if (rc == 0)
		rc = check_file(img->initramfs, m.initramfs.size, m.initramfs.sha256, err);
	if (rc == 0)
		rc = check_file(img->rootfs, m.rootfs.size, NULL, err);
	if (rc == 0)
		rc = check_file(img->verity, m.rootfs.verity.size, NULL, err);
	if (rc == 0) {
		memcpy(img->name, m.name, sizeof(img->name));
		memcpy(img->kver, m.kernel.kver, sizeof(img->kver));
		memcpy(img->root_hash, m.rootfs.verity.root_hash, WD_IMAGE_HEX);
		memcpy(img->salt, m.rootfs.verity.salt, WD_IMAGE_HEX);
		memcpy(img->initramfs_sha256, m.initramfs.sha256, WD_IMAGE_HEX);
		memcpy(img->policy_sha256, m.policy_sha256, WD_IMAGE_HEX);
		img->data_blocks = m.rootfs.verity.data_blocks;
		img->rootfs_size = m.rootfs.size;
		img->verity_size = m.rootfs.verity.size;
		img->has_policy = m.has_policy;
	}
	wd_imgman_free(&m);
	if (rc < 0)
		return wd_err_wrap(err, "image %s", img->dir);
	return 0;
}

/* The policy entry `e` (may be NULL), checked, as a malloc'd string. */
static int policy_text(const struct wd_cpio_entry *e, const struct wd_image *img, char **text,
		       size_t *len, struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	char *t;

	if (e == NULL || (e->mode & S_IFMT) != S_IFREG)
		return wd_err_set(err, ENOENT, "baked policy: %s has no %s", img->initramfs,
				  WD_IMAGE_POLICY_PATH);
	wd_img_digest_buf(e->data, e->size, hex);
	if (strcmp(hex, img->policy_sha256) != 0)
		return wd_err_set(err, EBADMSG,
				  "baked policy: %s has sha256 %s, manifest.json says %s",
				  WD_IMAGE_POLICY_PATH, hex, img->policy_sha256);
	t = malloc(e->size + 1);
	if (t == NULL)
		return wd_err_set(err, ENOMEM, "baked policy: out of memory");
	if (e->size > 0)
		memcpy(t, e->data, e->size);
	t[e->size] = '\0';
	*text = t;
	*len = e->size;
	return 0;
}

int wd_image_policy(const struct wd_image *img, char **text, size_t *len, struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	const struct wd_cpio_entry *e;
	struct wd_cpio c;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int fd, rc;

	*text = NULL;
	*len = 0;
	if (!img->has_policy)
		return 0;
	fd = wd_img_snapshot(img->initramfs, WD_IMGMAN_INITRAMFS_MAX_BYTES, NULL, hex, err);
	if (fd < 0)
		return wd_err_wrap(err, "baked policy");
	if (strcmp(hex, img->initramfs_sha256) != 0) {
		(void)close(fd);
		return wd_err_set(err, EBADMSG,
				  "baked policy: %s: sha256 %s, manifest.json says %s",
				  img->initramfs, hex, img->initramfs_sha256);
	}
	rc = wd_img_gunzip(fd, WD_CPIO_MAX_BYTES, &raw, &raw_len, err);
	(void)close(fd);
	if (rc < 0)
		return wd_err_wrap(err, "baked policy: %s", img->initramfs);
	if (wd_cpio_parse(raw, raw_len, &c, err) < 0) {
		free(raw);
		return wd_err_wrap(err, "baked policy: %s", img->initramfs);
	}
	e = wd_cpio_find(&c, WD_IMAGE_POLICY_PATH + 1);
	rc = policy_text(e, img, text, len, err);
	wd_cpio_free(&c);
	free(raw);
	return rc;
}
