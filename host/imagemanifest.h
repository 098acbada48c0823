/*
 * host/imagemanifest.h - manifest.json of an image directory, format 1:
 * the one typed structure the image tool writes and `warden run` and
 * `warden image inspect|verify` read (docs/image.md, "manifest.json").
 *
 * Writing: wd_imgman_write() produces canonical JSON (common/jcanon.h:
 * sorted keys, no whitespace; the only addition is the literal `null` of
 * an image without a baked policy), so the same image always gives the
 * same bytes.
 *
 * Reading: wd_imgman_read() takes bytes from outside the trusted side
 * (the image directory is the operator's input): at most
 * WD_IMAGE_MANIFEST_MAX_BYTES, strict JSON (common/json.h), unknown
 * format or version, unknown, duplicate or missing members, bad hex,
 * file names other than the fixed ones, sizes and counts out of their
 * bounds, and verity parameters that do not agree with each other
 * (data_blocks * 4096 = rootfs size, the tree's size for data_blocks) are
 * errors naming the member. Fuzz target: tests/fuzz/fuzz_imgmanifest.c.
 *
 * The structure owns its arrays (wd_imgman_free); strings are copied.
 */
#ifndef WARDEN_HOST_IMAGEMANIFEST_H
#define WARDEN_HOST_IMAGEMANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "image.h"

#define WD_IMGMAN_FORMAT "warden-image"
#define WD_IMGMAN_VERSION 1

#define WD_IMGMAN_MAX_ENTRIES 65536                /* initramfs entries (= WD_CPIO_MAX_ENTRIES) */
#define WD_IMGMAN_MAX_STRIPPED 1000000             /* rootfs entries stripped or left out */
#define WD_IMGMAN_MAX_SOURCES 64                   /* "sources" items */
#define WD_IMGMAN_PATH_MAX 4095                    /* a path, bytes */
#define WD_IMGMAN_TARGET_MAX 4095                  /* a symlink target, bytes */
#define WD_IMGMAN_TEXT_MAX 255                     /* a source's name, version, file */
#define WD_IMGMAN_KERNEL_MAX_BYTES (256ull << 20)  /* vmlinuz */
#define WD_IMGMAN_INITRAMFS_MAX_BYTES (1ull << 30) /* initramfs.cpio.gz */
#define WD_IMGMAN_ROOTFS_MAX_BYTES (1ull << 40)    /* rootfs.erofs */
#define WD_IMGMAN_FILE_MAX_BYTES (256ull << 20)    /* one initramfs file */
#define WD_IMGMAN_ROOTFS_MAX_ENTRIES 100000000ull  /* rootfs "entries" */

/* One entry of the initramfs, as /etc/warden/manifest lists it. */
struct wd_imgentry {
	char *path;                /* absolute, "/init" */
	char type;                 /* 'f' file, 'l' symlink, 'd' directory, 'c' char device */
	uint32_t mode;             /* permission bits, 0..07777 */
	uint64_t size;             /* 'f' only */
	char sha256[WD_IMAGE_HEX]; /* 'f' only */
	char *target;              /* 'l' only */
	uint32_t major, minor;     /* 'c' only */
};

/* An entry of the rootfs that the build stripped or left out. */
struct wd_imgstrip {
	char *path;
	char *what; /* "setuid", "char-device", "socket", ... ([a-z+-]+, host/rootfs.h) */
};

/* Where a part of the image came from. */
struct wd_imgsource {
	char *what;                /* "kernel", "rootfs", "guest-library", ... ([a-z-]+) */
	char *name;                /* package or file name */
	char *version;             /* NULL when not known */
	char *file;                /* the pinned file, NULL when none */
	char sha256[WD_IMAGE_HEX]; /* "" when none */
};

struct wd_imgverity {
	uint64_t size; /* rootfs.verity, bytes */
	char sha256[WD_IMAGE_HEX];
	uint64_t data_blocks;
	char salt[WD_IMAGE_HEX];
	char root_hash[WD_IMAGE_HEX];
};

struct wd_imgman {
	char name[WD_IMAGE_NAME_MAX + 1];
	uint64_t epoch; /* SOURCE_DATE_EPOCH of the build */
	struct {
		uint64_t size;
		char sha256[WD_IMAGE_HEX];
		char kver[WD_IMAGE_KVER_MAX + 1];
	} kernel;
	struct {
		uint64_t size;
		char sha256[WD_IMAGE_HEX];
		char manifest_sha256[WD_IMAGE_HEX]; /* of /etc/warden/manifest inside */
		struct wd_imgentry *entries;
		size_t n_entries;
	} initramfs;
	struct {
		uint64_t size;
		char sha256[WD_IMAGE_HEX];
		uint64_t entries; /* entries of the staged tree */
		struct wd_imgstrip *stripped;
		size_t n_stripped;
		struct wd_imgverity verity;
	} rootfs;
	bool has_policy;
	char policy_sha256[WD_IMAGE_HEX];
	struct wd_imgsource *sources;
	size_t n_sources;
};

/* Parse `len` bytes into `m` (zeroed first; freed on failure). */
int wd_imgman_read(const char *text, size_t len, struct wd_imgman *m, struct wd_err *err);

/* Read the file `path` (bounded) and parse it. */
int wd_imgman_load(const char *path, struct wd_imgman *m, struct wd_err *err);

/*
 * Write `m` as canonical JSON into a malloc'd buffer (*out, *len; a
 * trailing newline included). -E2BIG over WD_IMAGE_MANIFEST_MAX_BYTES.
 */
int wd_imgman_write(const struct wd_imgman *m, char **out, size_t *len, struct wd_err *err);

/*
 * The image pin (/etc/warden/image, host/imagetext.h): the SHA-256 of the
 * canonical text of `m` without its "initramfs" member, which is
 * everything the initramfs cannot describe about itself.
 */
int wd_imgman_pin(const struct wd_imgman *m, char hex[WD_IMAGE_HEX], struct wd_err *err);

void wd_imgman_free(struct wd_imgman *m);

/* Is `s` exactly 64 lower-case hex digits? */
bool wd_imgman_is_hex64(const char *s);

#endif
