/*
 * host/imagebuild.h - the state of one `warden image build`, shared by
 * its two files: host/imagebuild.c (the output directory, the kernel, the
 * root filesystem, verity, manifest.json) and host/imageinitrd.c (the base
 * initramfs read, the image's initramfs written). Not used elsewhere.
 */
#ifndef WARDEN_HOST_IMAGEBUILD_H
#define WARDEN_HOST_IMAGEBUILD_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "cpio.h"
#include "imagecmd.h"
#include "imagemanifest.h"
#include "paths.h"
#include "rootfs.h"

struct wd_imgb {
	const struct wd_imgbuild_opts *o;
	char outdir[WD_PATH_BYTES]; /* --output without a trailing '/' */
	char tmp[WD_PATH_BYTES];    /* OUTDIR.tmp-XXXXXX; "" once renamed */
	int tmp_fd;
	char stage[WD_PATH_BYTES]; /* tmp/rootfs, the staged tree */
	uint64_t epoch;
	const char *epoch_from;
	/* the base initramfs: its bytes, decompressed, and its entries,
	 * which point into them */
	uint8_t *base_raw;
	struct wd_cpio base;
	char base_kver[WD_IMAGE_KVER_MAX + 1];
	/* kernel.lock of --kernel DIR, when there is one */
	char klock_name[WD_IMGMAN_TEXT_MAX + 1];
	char klock_version[WD_IMGMAN_TEXT_MAX + 1];
	char klock_sha256[WD_IMAGE_HEX];
	/* the staged tree */
	struct wd_rootfs_report rep;
	uint8_t tree_sha256[32];
	char *policy_text; /* --policy's text */
	size_t policy_len;
	struct wd_imgman m; /* manifest.json, filled step by step */
};

/* A file name in the temporary directory, as a path. */
int wd_imgb_path(const struct wd_imgb *b, const char *name, char *out, struct wd_err *err);

/* Create `name` (0644, O_EXCL) in the temporary directory; the fd or -errno. */
int wd_imgb_create(const struct wd_imgb *b, const char *name, struct wd_err *err);

/* Read and check the base initramfs (--base or the default): b->base,
 * b->base_kver, the sources it pins into b->m.sources. */
int wd_imgb_read_base(struct wd_imgb *b, struct wd_err *err);

/* The image's initramfs from the base, the pins, --policy and --extra;
 * fills b->m.initramfs and b->m's policy and name. */
int wd_imgb_initramfs(struct wd_imgb *b, struct wd_err *err);

#endif
