/*
 * host/imagecmd.h - the three steps of `warden image` behind its command
 * line (host/image.c): build (host/imagebuild.c), inspect and verify
 * (host/imageverify.c). docs/image.md is the reference.
 */
#ifndef WARDEN_HOST_IMAGECMD_H
#define WARDEN_HOST_IMAGECMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define WD_IMAGE_MAX_EXTRAS 64 /* --extra options */

struct wd_imgbuild_opts {
	const char *rootfs;     /* --rootfs DIR|TAR */
	const char *name;       /* --name, NULL: from --rootfs */
	const char *kernel_dir; /* --kernel DIR, NULL: the one `warden run` uses */
	const char *base;       /* --base FILE, NULL: the initramfs `warden run` uses */
	const char *policy;     /* --policy FILE, NULL: none */
	const char *output;     /* --output OUTDIR */
	const char *extras[WD_IMAGE_MAX_EXTRAS]; /* --extra SRC:DST[:MODE] */
	size_t n_extras;
	uint64_t max_size;     /* --max-size, 0: host/rootfs.h's default */
	uint64_t max_entries;  /* --max-entries, 0: the default */
	const char *epoch_env; /* $SOURCE_DATE_EPOCH, NULL when unset */
};

/* Build the image; 0, or -errno with `err` saying what failed. */
int wd_image_build(const struct wd_imgbuild_opts *o, struct wd_err *err);

/* Print the manifest of OUTDIR (a table, or its canonical JSON). */
int wd_image_inspect(const char *outdir, bool json, struct wd_err *err);

/*
 * Recompute every digest of OUTDIR against manifest.json. 0 when intact;
 * -EBADMSG with `err` naming the first mismatch ("rootfs.erofs: ...");
 * other -errno when a file cannot be read at all (also a failure).
 */
int wd_image_verify(const char *outdir, struct wd_err *err);

#endif
