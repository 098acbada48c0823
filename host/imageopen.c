/*
 * host/imageopen.c - wd_image_open(), wd_image_close() and
 * wd_image_policy() (image.h): an image directory as `warden run --image
 * OUTDIR` takes it.
 *
 * Each of the four files is opened once, without following a symlink, and
 * what was checked is what the VMM gets: the kernel and the initramfs as
 * sealed private copies made while hashing (wd_img_snapshot), the two
 * drives as the open files whose type and size were checked. A file
 * swapped or rewritten in the directory after this is not what boots.
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

/* The sealed private copy (imageio.h) of a file of the image that the VMM
 * boots as it is: of the recorded size and digest. Returns the memfd. */
static int sealed_copy(const char *path, uint64_t max, uint64_t size, const char *sha256,
		       struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	uint64_t got = 0;
	int fd = wd_img_snapshot(path, max, &got, hex, err);
	int rc = 0;

	if (fd < 0)
		return fd;
	if (got != size)
		rc = wd_err_set(err, EBADMSG, "%s: %llu bytes, manifest.json says %llu", path,
				(unsigned long long)got, (unsigned long long)size);
	else if (strcmp(hex, sha256) != 0)
		rc = wd_err_set(err, EBADMSG, "%s: sha256 %s, manifest.json says %s", path, hex,
				sha256);
	if (rc < 0) {
		(void)close(fd);
		return rc;
	}
	return fd;
}

/* A drive of the image, opened once: regular, of the recorded size.
 * Returns the fd (read-only). */
static int drive(const char *path, uint64_t size, struct wd_err *err)
{
	uint64_t got = 0;
	int fd = wd_img_open_regular(path, &got, err);

	if (fd < 0)
		return fd;
	if (got != size) {
		(void)close(fd);
		return wd_err_set(err, EBADMSG, "%s: %llu bytes, manifest.json says %llu", path,
				  (unsigned long long)got, (unsigned long long)size);
	}
	return fd;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		(void)close(*fd);
	*fd = -1;
}

void wd_image_close(struct wd_image *img)
{
	close_fd(&img->kernel_fd);
	close_fd(&img->initramfs_fd);
	close_fd(&img->rootfs_fd);
	close_fd(&img->verity_fd);
}

/* The four files, each opened once; 0 or -errno (the caller closes). */
static int open_files(struct wd_image *img, const struct wd_imgman *m, struct wd_err *err)
{
	img->kernel_fd = sealed_copy(img->kernel, WD_IMGMAN_KERNEL_MAX_BYTES, m->kernel.size,
				     m->kernel.sha256, err);
	if (img->kernel_fd < 0)
		return img->kernel_fd;
	img->initramfs_fd = sealed_copy(img->initramfs, WD_IMGMAN_INITRAMFS_MAX_BYTES,
					m->initramfs.size, m->initramfs.sha256, err);
	if (img->initramfs_fd < 0)
		return img->initramfs_fd;
	img->rootfs_fd = drive(img->rootfs, m->rootfs.size, err);
	if (img->rootfs_fd < 0)
		return img->rootfs_fd;
	img->verity_fd = drive(img->verity, m->rootfs.verity.size, err);
	if (img->verity_fd < 0)
		return img->verity_fd;
	return 0;
}

int wd_image_open(const char *outdir, struct wd_image *img, struct wd_err *err)
{
	char manifest[WD_PATH_BYTES];
	struct wd_imgman m;
	size_t n = strlen(outdir);
	int rc;

	memset(img, 0, sizeof(*img));
	img->kernel_fd = img->initramfs_fd = img->rootfs_fd = img->verity_fd = -1;
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
	rc = open_files(img, &m, err);
	if (rc == 0) {
		memcpy(img->name, m.name, sizeof(img->name));
		memcpy(img->kver, m.kernel.kver, sizeof(img->kver));
		memcpy(img->root_hash, m.rootfs.verity.root_hash, WD_IMAGE_HEX);
		memcpy(img->salt, m.rootfs.verity.salt, WD_IMAGE_HEX);
		memcpy(img->initramfs_sha256, m.initramfs.sha256, WD_IMAGE_HEX);
		memcpy(img->manifest_sha256, m.initramfs.manifest_sha256, WD_IMAGE_HEX);
		memcpy(img->policy_sha256, m.policy_sha256, WD_IMAGE_HEX);
		img->data_blocks = m.rootfs.verity.data_blocks;
		img->rootfs_size = m.rootfs.size;
		img->verity_size = m.rootfs.verity.size;
		img->has_policy = m.has_policy;
	}
	wd_imgman_free(&m);
	if (rc < 0) {
		wd_image_close(img);
		return wd_err_wrap(err, "image %s", img->dir);
	}
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
	const struct wd_cpio_entry *e;
	struct wd_cpio c;
	uint8_t *raw = NULL;
	size_t raw_len = 0;
	int rc;

	*text = NULL;
	*len = 0;
	if (!img->has_policy)
		return 0;
	/* The sealed copy wd_image_open() checked: what the guest boots. */
	if (img->initramfs_fd < 0)
		return wd_err_set(err, EBADF, "baked policy: %s is not open", img->initramfs);
	if (lseek(img->initramfs_fd, 0, SEEK_SET) < 0)
		return wd_err_sys(err, errno, "baked policy: %s: seek", img->initramfs);
	rc = wd_img_gunzip(img->initramfs_fd, WD_CPIO_MAX_BYTES, &raw, &raw_len, err);
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
