/*
 * host/image.h - golden images: `warden image` (build, inspect, verify)
 * and what `warden run --image OUTDIR` needs from an image directory.
 *
 * An image directory holds exactly five files (docs/image.md):
 *
 *   vmlinuz            the kernel
 *   initramfs.cpio.gz  warden-init, the supervisor, the modules, and the
 *                      rootfs pin /etc/warden/rootfs (its root hash)
 *   rootfs.erofs       the agent's root filesystem, read-only
 *   rootfs.verity      its dm-verity hash tree (format 1, no superblock)
 *   manifest.json      what the four are: sizes, digests, the verity
 *                      parameters, the sources (format 1, host/imagemanifest.h)
 *
 * wd_image_open() is the launcher's entry: it reads manifest.json (at most
 * WD_IMAGE_MANIFEST_MAX_BYTES, every member checked), opens each of the
 * four files once (O_NOFOLLOW, a regular file of the size it records), and
 * keeps them open for the VMM, which gets file descriptors, never paths:
 *
 *   kernel_fd, initramfs_fd  sealed memfd copies (F_SEAL_WRITE, _SHRINK,
 *                            _GROW, _SEAL) made while hashing, of the
 *                            manifest's SHA-256 digests: what boots is
 *                            what was hashed, whoever writes to or swaps
 *                            the files afterwards
 *   rootfs_fd, verity_fd     the files opened read-only; not hashed here:
 *                            the guest verifies the whole hash tree
 *                            against the root hash pinned in the (checked)
 *                            initramfs before it mounts anything
 *
 * The guest's hello reports that root hash and the digest of its
 * /etc/warden/manifest, which the host compares with img->root_hash and
 * img->manifest_sha256 (host/session.c). `warden image verify` recomputes
 * everything.
 *
 * Failure: -errno with `err` naming the file and what did not match;
 * nothing stays open and no partial result is to be used. After success
 * the caller closes the four with wd_image_close().
 */
#ifndef WARDEN_HOST_IMAGE_H
#define WARDEN_HOST_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "paths.h"

#define WD_IMAGE_MANIFEST_MAX_BYTES ((size_t)16 << 20) /* manifest.json */
#define WD_IMAGE_NAME_MAX 128                          /* --name, bytes */
#define WD_IMAGE_KVER_MAX 64                           /* a kernel release, bytes */
#define WD_IMAGE_HEX 65                                /* 64 hex digits and a NUL */

/* The five file names, fixed: a manifest never names a path. */
#define WD_IMAGE_KERNEL "vmlinuz"
#define WD_IMAGE_INITRAMFS "initramfs.cpio.gz"
#define WD_IMAGE_ROOTFS "rootfs.erofs"
#define WD_IMAGE_VERITY "rootfs.verity"
#define WD_IMAGE_MANIFEST "manifest.json"

/* Where the baked policy lives in the initramfs (read by the supervisor). */
#define WD_IMAGE_POLICY_PATH "/etc/warden/policy.json"

struct wd_image {
	char dir[WD_PATH_BYTES];       /* OUTDIR as given, without a trailing '/' */
	char kernel[WD_PATH_BYTES];    /* OUTDIR/vmlinuz */
	char initramfs[WD_PATH_BYTES]; /* OUTDIR/initramfs.cpio.gz */
	char rootfs[WD_PATH_BYTES];    /* OUTDIR/rootfs.erofs */
	char verity[WD_PATH_BYTES];    /* OUTDIR/rootfs.verity */
	char name[WD_IMAGE_NAME_MAX + 1];
	char kver[WD_IMAGE_KVER_MAX + 1]; /* the kernel release the modules are for */
	char root_hash[WD_IMAGE_HEX];     /* verity root hash, lower-case hex */
	char salt[WD_IMAGE_HEX];          /* verity salt, lower-case hex */
	uint64_t data_blocks;             /* rootfs.erofs in 4096-byte blocks */
	uint64_t rootfs_size, verity_size;
	char initramfs_sha256[WD_IMAGE_HEX];
	char manifest_sha256[WD_IMAGE_HEX]; /* of /etc/warden/manifest in the initramfs */
	/* Open from wd_image_open() to wd_image_close(), close-on-exec; -1 when closed. */
	int kernel_fd, initramfs_fd;      /* sealed memfd copies, as hashed */
	int rootfs_fd, verity_fd;         /* read-only, the files whose size was checked */
	bool has_policy;                  /* the image bakes /etc/warden/policy.json */
	char policy_sha256[WD_IMAGE_HEX]; /* its digest; "" when none */
};

/* Read and check OUTDIR (above). */
int wd_image_open(const char *outdir, struct wd_image *img, struct wd_err *err);

/* Close the four files; idempotent. */
void wd_image_close(struct wd_image *img);

/*
 * The baked policy's text, read from the sealed copy of the initramfs
 * that wd_image_open() checked (gzip -dc and the bounded cpio reader,
 * host/cpio.h), its SHA-256 checked against the manifest. *text is malloc'd, NUL-terminated (*len excludes the NUL); the
 * caller frees it. An image without a baked policy: 0 with *text NULL and
 * *len 0.
 */
int wd_image_policy(const struct wd_image *img, char **text, size_t *len, struct wd_err *err);

/* `warden image ...` (argv after "image"); returns the exit status. */
int wd_image_main(int argc, char **argv);

#endif
