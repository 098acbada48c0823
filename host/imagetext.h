/*
 * host/imagetext.h - the small text files the image tool writes into the
 * initramfs, and the one it reads back from the base (docs/image.md):
 *
 *   /etc/warden/manifest  "warden-manifest 1": one line per entry of the
 *                         archive but itself, byte for byte what
 *                         image/mkinitramfs.sh writes for the same tree;
 *   /etc/warden/rootfs    the rootfs pin warden-init reads (format 1:
 *                         devices, verity parameters, root hash);
 *   /etc/warden/image     the image pin: the SHA-256 of manifest.json's
 *                         canonical text without its "initramfs" member,
 *                         so that every byte of manifest.json is bound to
 *                         something `warden image verify` can check;
 *   /etc/warden/sources   written by image/mkinitramfs.sh: the pinned
 *                         sources the base was built from; read here
 *                         (bounded: WD_IMGTEXT_SOURCES_MAX_BYTES, lines of
 *                         at most WD_IMGTEXT_LINE_MAX bytes, at most
 *                         WD_IMGTEXT_SOURCES_MAX entries; anything else is
 *                         an error naming the line).
 */
#ifndef WARDEN_HOST_IMAGETEXT_H
#define WARDEN_HOST_IMAGETEXT_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "cpio.h"
#include "imagemanifest.h"

#define WD_IMGTEXT_SOURCES_MAX_BYTES 65536 /* /etc/warden/sources */
#define WD_IMGTEXT_LINE_MAX 1024           /* one line of it, bytes */
#define WD_IMGTEXT_SOURCES_MAX 48          /* entries in it */
#define WD_IMGTEXT_PIN_MAX 4096            /* /etc/warden/rootfs and /etc/warden/image */

#define WD_IMGTEXT_MANIFEST_PATH "etc/warden/manifest"
#define WD_IMGTEXT_ROOTFS_PATH "etc/warden/rootfs"
#define WD_IMGTEXT_IMAGE_PATH "etc/warden/image"
#define WD_IMGTEXT_SOURCES_PATH "etc/warden/sources"
#define WD_IMGTEXT_MODULES_PATH "etc/warden/modules"

/* The data and hash devices' serial numbers (virtio-blk serial=). */
#define WD_IMGTEXT_DATA_SERIAL "warden-rootfs"
#define WD_IMGTEXT_HASH_SERIAL "warden-verity"

/*
 * /etc/warden/manifest for the archive `c` (sorted; its own entry, if
 * any, left out), malloc'd into *out. -EINVAL naming the entry whose path
 * or symlink target has characters the format cannot carry.
 */
int wd_imgtext_manifest(const struct wd_cpio *c, char **out, size_t *len, struct wd_err *err);

/* /etc/warden/rootfs for the verity parameters `v`, into buf. */
int wd_imgtext_rootfs_pin(const struct wd_imgverity *v, char *buf, size_t size);

/* /etc/warden/image for the digest `hex`, into buf. */
int wd_imgtext_image_pin(const char *hex, char *buf, size_t size);

/*
 * Parse /etc/warden/sources: `format 1`, then lines "KIND NAME VERSION
 * FILE SHA256". Appended to *src (realloc'd, *n updated; the caller frees
 * each with wd_imgman_free's rules).
 */
int wd_imgtext_sources(const char *text, size_t len, struct wd_imgsource **src, size_t *n,
		       struct wd_err *err);

/* The archive's entries as manifest.json lists them (every entry). */
int wd_imgtext_entries(const struct wd_cpio *c, struct wd_imgentry **out, size_t *n,
		       struct wd_err *err);

/* The "kver RELEASE" line of /etc/warden/modules, into kver. */
int wd_imgtext_modules_kver(const char *text, size_t len, char *kver, size_t size,
			    struct wd_err *err);

#endif
