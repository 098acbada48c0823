/*
 * host/imageinitrd.c - the initramfs of `warden image build`: the base
 * read and checked, then the image's own written (host/imagebuild.h).
 *
 * The base (--base FILE, else the initramfs `warden run` boots) is read
 * through a sealed copy, `gzip -dc` under a size limit and the bounded
 * cpio reader; its /etc/warden/manifest must describe it exactly (the
 * same text this file would write for it), which catches a base that was
 * changed after image/mkinitramfs.sh built it.
 *
 * The image's initramfs is the base without its /etc/warden/manifest (and
 * without the pins of an earlier image, if the base was one), plus
 * /etc/warden/rootfs (the verity pin warden-init reads), /etc/warden/image
 * (the pin of manifest.json's other members), /etc/warden/policy.json from
 * --policy, each --extra, and a new /etc/warden/manifest: sorted, every
 * mtime the epoch, owner 0:0, through `gzip -n -9`.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/log.h"
#include "../common/tlog.h"
#include "../policy/policy.h"
#include "imagebuild.h"
#include "imageio.h"
#include "imagetext.h"
#include "toolrun.h"

#define NAME_SUFFIX ".tar" /* left out of a name made from --rootfs */

/* ---- the base ------------------------------------------------------------- */

static int base_path(const struct wd_imgb *b, char *out, struct wd_err *err)
{
	char exe[WD_PATH_BYTES];

	if (b->o->base != NULL) {
		if (strlen(b->o->base) >= WD_PATH_BYTES)
			return wd_err_set(err, ENAMETOOLONG, "--base: path too long");
		memcpy(out, b->o->base, strlen(b->o->base) + 1);
		return 0;
	}
	if (wd_exe_dir(exe, sizeof(exe), err) < 0 ||
	    wd_find_asset(exe, WD_ASSET_IMAGE, out, WD_PATH_BYTES, err) < 0)
		return wd_err_wrap(err, "no --base FILE given");
	return 0;
}

/* A regular file of the archive, or an error naming it. */
static int need_file(const struct wd_cpio *c, const char *name, const struct wd_cpio_entry **e,
		     struct wd_err *err)
{
	*e = wd_cpio_find(c, name);
	if (*e == NULL || ((*e)->mode & S_IFMT) != S_IFREG)
		return wd_err_set(err, ENOENT, "no /%s in it", name);
	return 0;
}

static int check_base(struct wd_imgb *b, struct wd_err *err)
{
	const struct wd_cpio_entry *e;
	char *text;
	size_t len;
	int rc;

	wd_cpio_sort(&b->base);
	if (need_file(&b->base, WD_IMGTEXT_MANIFEST_PATH, &e, err) < 0 ||
	    wd_imgtext_manifest(&b->base, &text, &len, err) < 0)
		return wd_err_ret(err);
	rc = len == e->size && memcmp(text, e->data, len) == 0
		     ? 0
		     : wd_err_set(err, EBADMSG,
				  "its /etc/warden/manifest does not describe its entries (changed "
				  "after it was built?)");
	free(text);
	if (rc < 0)
		return rc;
	if (need_file(&b->base, WD_IMGTEXT_MODULES_PATH, &e, err) < 0 ||
	    wd_imgtext_modules_kver((const char *)e->data, e->size, b->base_kver,
				    sizeof(b->base_kver), err) < 0)
		return wd_err_ret(err);
	e = wd_cpio_find(&b->base, WD_IMGTEXT_SOURCES_PATH);
	if (e != NULL && (e->mode & S_IFMT) == S_IFREG &&
	    wd_imgtext_sources((const char *)e->data, e->size, &b->m.sources, &b->m.n_sources,
			       err) < 0)
		return wd_err_ret(err);
	return 0;
}

int wd_imgb_read_base(struct wd_imgb *b, struct wd_err *err)
{
	char path[WD_PATH_BYTES], hex[WD_IMAGE_HEX];
	size_t len = 0;
	int fd, rc;

	if (base_path(b, path, err) < 0)
		return wd_err_wrap(err, "base initramfs");
	fd = wd_img_snapshot(path, WD_IMGMAN_INITRAMFS_MAX_BYTES, NULL, hex, err);
	if (fd < 0)
		return wd_err_wrap(err, "base initramfs");
	rc = wd_img_gunzip(fd, WD_CPIO_MAX_BYTES, &b->base_raw, &len, err);
	(void)close(fd);
	if (rc == 0)
		rc = wd_cpio_parse(b->base_raw, len, &b->base, err);
	if (rc == 0)
		rc = check_base(b, err);
	if (rc < 0)
		return wd_err_wrap(err, "base initramfs %s", path);
	wd_info("base initramfs: %s (%zu entries, modules for %s, sha256 %s)", path, b->base.n,
		b->base_kver, hex);
	return 0;
}

/* ---- what goes in --------------------------------------------------------- */

static int add_policy(struct wd_imgb *b, struct wd_err *err)
{
	const char *name = WD_IMAGE_POLICY_PATH + 1;
	const struct wd_cpio_entry *e;
	struct wd_policy p;
	int rc;

	if (b->o->policy != NULL) {
		if (wd_img_read_file(b->o->policy, WD_POLICY_MAX_BYTES, true, &b->policy_text,
				     &b->policy_len, err) < 0)
			return wd_err_wrap(err, "--policy");
		rc = wd_policy_read(b->policy_text, b->policy_len, &p, err);
		wd_policy_free(&p);
		if (rc < 0)
			return wd_err_wrap(err, "--policy %s", b->o->policy);
		if (wd_cpio_remove(&b->base, name))
			wd_info("--policy %s replaces the base's %s", b->o->policy,
				WD_IMAGE_POLICY_PATH);
		if (wd_cpio_add_dirs(&b->base, name, err) < 0 ||
		    wd_cpio_add(&b->base, name, S_IFREG | 0644, b->policy_text, b->policy_len,
				err) < 0)
			return wd_err_wrap(err, "--policy");
	}
	e = wd_cpio_find(&b->base, name);
	if (e != NULL && (e->mode & S_IFMT) == S_IFREG) {
		b->m.has_policy = true;
		wd_img_digest_buf(e->data, e->size, b->m.policy_sha256);
		wd_info("policy: %s (sha256 %s)%s", WD_IMAGE_POLICY_PATH, b->m.policy_sha256,
			b->o->policy == NULL ? ", from the base" : "");
	} else if (e != NULL) {
		return wd_err_set(err, EINVAL, "the base's %s is not a regular file",
				  WD_IMAGE_POLICY_PATH);
	}
	return 0;
}

/* An --extra's destination: clean, absolute, in the manifest's alphabet,
 * and none of the files this tool writes. */
static bool extra_dst_ok(const char *d)
{
	static const char *const reserved[] = {
		"/" WD_IMGTEXT_MANIFEST_PATH, "/" WD_IMGTEXT_ROOTFS_PATH, "/" WD_IMGTEXT_IMAGE_PATH,
		WD_IMAGE_POLICY_PATH, NULL};
	size_t n = strlen(d);

	if (d[0] != '/' || n < 2 || d[n - 1] == '/' || strstr(d, "//") != NULL ||
	    strstr(d, "/./") != NULL || strstr(d, "/../") != NULL || strcmp(d + n - 2, "/.") == 0 ||
	    (n >= 3 && strcmp(d + n - 3, "/..") == 0))
		return false;
	for (const char *p = d; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("][._+@/-", *p) != NULL))
			return false;
	for (size_t i = 0; reserved[i] != NULL; i++)
		if (strcmp(d, reserved[i]) == 0)
			return false;
	return true;
}

static int add_extra(struct wd_imgb *b, const char *spec, struct wd_err *err)
{
	char buf[WD_PATH_BYTES * 2], *src, *dst, *mode_s, *data = NULL;
	unsigned mode;
	size_t len = 0;
	int rc;

	if (strlen(spec) >= sizeof(buf))
		return wd_err_set(err, ENAMETOOLONG, "--extra: too long");
	memcpy(buf, spec, strlen(spec) + 1);
	src = buf;
	dst = strchr(src, ':');
	if (dst == NULL || dst == src)
		return wd_err_set(err, EINVAL, "--extra %s: expected SRC:DST[:MODE]", spec);
	*dst++ = '\0';
	mode_s = strchr(dst, ':');
	if (mode_s != NULL)
		*mode_s++ = '\0';
	if (!extra_dst_ok(dst))
		return wd_err_set(err, EINVAL,
				  "--extra %s: %s is not a clean absolute path of A-Z a-z 0-9 "
				  "._+@[]/- (or is a file warden image writes)",
				  spec, dst);
	if (mode_s != NULL) {
		size_t ml = strlen(mode_s);

		if (!((ml == 3 || (ml == 4 && mode_s[0] == '0')) &&
		      strspn(mode_s, "01234567") == ml))
			return wd_err_set(err, EINVAL,
					  "--extra %s: mode %s is not octal 000-0777 (no setuid, "
					  "setgid or sticky bits)",
					  spec, mode_s);
		mode = (unsigned)strtoul(mode_s, NULL, 8);
	} else {
		mode = access(src, X_OK) == 0 ? 0755 : 0644;
	}
	if (wd_cpio_find(&b->base, dst + 1) != NULL)
		return wd_err_set(err, EEXIST, "--extra %s: %s is already in the image", spec, dst);
	if (wd_img_read_file(src, WD_CPIO_FILE_MAX, true, &data, &len, err) < 0)
		return wd_err_wrap(err, "--extra");
	rc = wd_cpio_add_dirs(&b->base, dst + 1, err);
	if (rc == 0)
		rc = wd_cpio_add(&b->base, dst + 1, S_IFREG | mode, data, len, err);
	free(data);
	if (rc < 0)
		return wd_err_wrap(err, "--extra %s", spec);
	wd_info("added %s (%04o) from %s", dst, mode, src);
	return 0;
}

/* ---- manifest.json's other members ---------------------------------------- */

/* The last component of `path`, trailing slashes left out. */
static void base_name(const char *path, char *out, size_t size)
{
	size_t n = strlen(path), start;

	while (n > 1 && path[n - 1] == '/')
		n--;
	start = n;
	while (start > 0 && path[start - 1] != '/')
		start--;
	if (n - start >= size)
		n = start + size - 1;
	memcpy(out, path + start, n - start);
	out[n - start] = '\0';
}

static int choose_name(struct wd_imgb *b, struct wd_err *err)
{
	char from[WD_IMAGE_NAME_MAX + 8];
	const char *name = b->o->name;
	size_t n;

	if (name == NULL) {
		base_name(b->o->rootfs, from, sizeof(from));
		n = strlen(from);
		if (n > strlen(NAME_SUFFIX) &&
		    strcmp(from + n - strlen(NAME_SUFFIX), NAME_SUFFIX) == 0)
			from[n - strlen(NAME_SUFFIX)] = '\0';
		name = from;
	}
	n = strlen(name);
	if (n == 0 || n > WD_IMAGE_NAME_MAX ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") != n)
		return wd_err_set(err, EINVAL,
				  "image name '%.64s': 1 to %d bytes of A-Z a-z 0-9 ._+- (give "
				  "--name)",
				  name, WD_IMAGE_NAME_MAX);
	memcpy(b->m.name, name, n + 1);
	b->m.epoch = b->epoch;
	return 0;
}

static int copy_stripped(struct wd_imgb *b, struct wd_err *err)
{
	size_t n = b->rep.nstripped;

	if (n == 0)
		return 0;
	b->m.rootfs.stripped = calloc(n, sizeof(*b->m.rootfs.stripped));
	if (b->m.rootfs.stripped == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		b->m.rootfs.stripped[i].path = strdup(b->rep.stripped[i].path);
		b->m.rootfs.stripped[i].what = strdup(b->rep.stripped[i].what);
		b->m.rootfs.n_stripped = i + 1;
		if (b->m.rootfs.stripped[i].path == NULL || b->m.rootfs.stripped[i].what == NULL)
			return wd_err_set(err, ENOMEM, "out of memory");
	}
	if (b->rep.stripped_more > 0)
		wd_warn("rootfs: %llu more stripped entries are not listed in manifest.json (it "
			"lists the first %zu)",
			(unsigned long long)b->rep.stripped_more, n);
	return 0;
}

/* The kernel (kernel.lock) and the rootfs first, then what the base pins. */
static int add_sources(struct wd_imgb *b, struct wd_err *err)
{
	char rname[WD_IMGMAN_TEXT_MAX + 1];
	struct wd_imgsource *v, *k = NULL;
	size_t n = b->m.n_sources, at = 0;

	for (size_t i = 0; i < n; i++)
		if (strcmp(b->m.sources[i].what, "kernel-modules") == 0)
			k = &b->m.sources[i];
	if (k != NULL && b->klock_sha256[0] != '\0' && strcmp(k->sha256, b->klock_sha256) != 0)
		return wd_err_set(err, EINVAL,
				  "the kernel is from %s %s (sha256 %.16s...), the base's modules "
				  "from %s %s (sha256 %.16s...)",
				  b->klock_name, b->klock_version, b->klock_sha256, k->name,
				  k->version != NULL ? k->version : "-", k->sha256);
	base_name(b->o->rootfs, rname, sizeof(rname));
	v = calloc(n + 2, sizeof(*v));
	if (v == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	if (b->klock_sha256[0] != '\0') {
		v[at].what = strdup("kernel");
		v[at].name = strdup(b->klock_name);
		v[at].version = strdup(b->klock_version);
		memcpy(v[at].sha256, b->klock_sha256, WD_IMAGE_HEX);
		at++;
	}
	v[at].what = strdup("rootfs");
	v[at].name = strdup(rname);
	wd_hex(b->rep.source_sha256, 32, v[at].sha256);
	at++;
	memcpy(v + at, b->m.sources, n * sizeof(*v));
	free(b->m.sources);
	b->m.sources = v;
	b->m.n_sources = n + at;
	for (size_t i = 0; i < at; i++)
		if (v[i].what == NULL || v[i].name == NULL ||
		    (i == 0 && at == 2 && v[i].version == NULL))
			return wd_err_set(err, ENOMEM, "out of memory");
	return 0;
}

/* ---- the archive ---------------------------------------------------------- */

static int add_text(struct wd_cpio *c, const char *name, const char *text, size_t len,
		    struct wd_err *err)
{
	if (wd_cpio_add_dirs(c, name, err) < 0 ||
	    wd_cpio_add(c, name, S_IFREG | 0644, text, len, err) < 0)
		return wd_err_wrap(err, "/%s", name);
	return 0;
}

static int add_pins(struct wd_imgb *b, struct wd_err *err)
{
	char text[WD_IMGTEXT_PIN_MAX], hex[WD_IMAGE_HEX];
	int n;

	if (wd_imgman_pin(&b->m, hex, err) < 0)
		return wd_err_ret(err);
	n = wd_imgtext_image_pin(hex, text, sizeof(text));
	if (n < 0 || add_text(&b->base, WD_IMGTEXT_IMAGE_PATH, text, (size_t)n, err) < 0)
		return n < 0 ? wd_err_set(err, ENOSPC, "/etc/warden/image") : wd_err_ret(err);
	n = wd_imgtext_rootfs_pin(&b->m.rootfs.verity, text, sizeof(text));
	if (n < 0 || add_text(&b->base, WD_IMGTEXT_ROOTFS_PATH, text, (size_t)n, err) < 0)
		return n < 0 ? wd_err_set(err, ENOSPC, "/etc/warden/rootfs") : wd_err_ret(err);
	return 0;
}

static int add_manifest(struct wd_imgb *b, struct wd_err *err)
{
	char *text;
	size_t len;
	int rc;

	wd_cpio_sort(&b->base);
	if (wd_imgtext_manifest(&b->base, &text, &len, err) < 0)
		return wd_err_wrap(err, "/etc/warden/manifest");
	wd_img_digest_buf(text, len, b->m.initramfs.manifest_sha256);
	rc = add_text(&b->base, WD_IMGTEXT_MANIFEST_PATH, text, len, err);
	free(text);
	wd_cpio_sort(&b->base);
	return rc;
}

static int write_archive(struct wd_imgb *b, struct wd_err *err)
{
	int mfd = memfd_create("warden-initramfs", MFD_CLOEXEC), out;
	struct wd_tool t = {.in_fd = mfd, .out_fd = -1, .fsize_max = WD_IMGMAN_INITRAMFS_MAX_BYTES};
	struct wd_argv a;
	int rc;

	if (mfd < 0)
		return wd_err_sys(err, errno, "memfd_create");
	rc = wd_cpio_write(&b->base, b->epoch, mfd, err);
	out = rc == 0 ? wd_imgb_create(b, WD_IMAGE_INITRAMFS, err) : -1;
	if (rc == 0 && out < 0)
		rc = out;
	if (rc == 0) {
		t.out_fd = out;
		wd_argv_init(&a);
		wd_argv_add(&a, "gzip");
		wd_argv_add(&a, "-n"); /* no name, no timestamp */
		wd_argv_add(&a, "-9");
		wd_argv_add(&a, "-c");
		rc = wd_tool_run(&t, &a, err);
	}
	if (rc == 0 && lseek(out, 0, SEEK_SET) < 0)
		rc = wd_err_sys(err, errno, "lseek");
	if (rc == 0)
		rc = wd_img_digest_fd(out, WD_IMGMAN_INITRAMFS_MAX_BYTES, &b->m.initramfs.size,
				      b->m.initramfs.sha256, WD_IMAGE_INITRAMFS, err);
	if (rc == 0 && fsync(out) < 0)
		rc = wd_err_sys(err, errno, "fsync");
	if (out >= 0)
		(void)close(out);
	(void)close(mfd);
	return rc < 0 ? wd_err_wrap(err, "initramfs.cpio.gz") : 0;
}

int wd_imgb_initramfs(struct wd_imgb *b, struct wd_err *err)
{
	static const char *const earlier[] = {WD_IMGTEXT_ROOTFS_PATH, WD_IMGTEXT_IMAGE_PATH};

	(void)wd_cpio_remove(&b->base, WD_IMGTEXT_MANIFEST_PATH);
	for (size_t i = 0; i < sizeof(earlier) / sizeof(earlier[0]); i++)
		if (wd_cpio_remove(&b->base, earlier[i]))
			wd_info("the base's /%s (from an earlier image) is replaced", earlier[i]);
	if (add_policy(b, err) < 0)
		return wd_err_ret(err);
	for (size_t i = 0; i < b->o->n_extras; i++)
		if (add_extra(b, b->o->extras[i], err) < 0)
			return wd_err_ret(err);
	if (choose_name(b, err) < 0 || copy_stripped(b, err) < 0 || add_sources(b, err) < 0 ||
	    add_pins(b, err) < 0 || add_manifest(b, err) < 0)
		return wd_err_ret(err);
	if (wd_imgtext_entries(&b->base, &b->m.initramfs.entries, &b->m.initramfs.n_entries, err) <
		    0 ||
	    write_archive(b, err) < 0)
		return wd_err_ret(err);
	wd_info("initramfs.cpio.gz: %zu entries, %llu bytes", b->base.n,
		(unsigned long long)b->m.initramfs.size);
	return 0;
}
