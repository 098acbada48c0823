/*
 * host/imageverify.c - `warden image inspect` and `warden image verify`
 * (host/imagecmd.h).
 *
 * verify recomputes everything manifest.json claims and stops at the first
 * claim that is false, naming the file ("rootfs.verity: hash tree level 0
 * block 3 ... does not match its data"). In order:
 *
 *   1. manifest.json reads (host/imagemanifest.h) and is in canonical form
 *      (the bytes warden writes for what it says);
 *   2. initramfs.cpio.gz has its size and SHA-256; decompressed (bounded)
 *      and read by the bounded cpio reader;
 *   3. /etc/warden/image in it pins manifest.json's members outside
 *      "initramfs": a changed byte anywhere there is caught here;
 *   4. the archive's entries are exactly manifest.json's initramfs.entries
 *      (type, mode, size, digest, target, device), all 0:0 with the
 *      epoch's mtime; /etc/warden/manifest is the text for the archive
 *      (its digest manifest_sha256); /etc/warden/rootfs is the pin for
 *      manifest.json's verity members; /etc/warden/modules names the
 *      kernel's release; a baked policy parses;
 *   5. vmlinuz has its size and SHA-256 and the release kernel.kver;
 *   6. rootfs.erofs has its size and SHA-256 and an erofs superblock; the
 *      salt is the one made from its digest;
 *   7. rootfs.verity has its size and SHA-256, and its hash tree is the one
 *      computed here from rootfs.erofs, block for block, up to root_hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/safetext.h"
#include "../common/sha256.h"
#include "../common/tlog.h"
#include "../policy/policy.h"
#include "cpio.h"
#include "imagecmd.h"
#include "imageio.h"
#include "imagemanifest.h"
#include "imagetext.h"
#include "paths.h"
#include "verity.h"

#define EROFS_SB_OFFSET 1024
#define EROFS_MAGIC 0xE0F5E1E2u
#define SALT_LABEL "warden-verity-salt-v1"
#define INSPECT_STRIPPED_SHOWN 20 /* stripped entries listed by inspect */

struct paths {
	char kernel[WD_PATH_BYTES], initramfs[WD_PATH_BYTES], rootfs[WD_PATH_BYTES],
		verity[WD_PATH_BYTES], manifest[WD_PATH_BYTES];
};

static int make_paths(const char *dir, struct paths *p, struct wd_err *err)
{
	const char *names[] = {WD_IMAGE_KERNEL, WD_IMAGE_INITRAMFS, WD_IMAGE_ROOTFS,
			       WD_IMAGE_VERITY, WD_IMAGE_MANIFEST};
	char *out[] = {p->kernel, p->initramfs, p->rootfs, p->verity, p->manifest};

	for (size_t i = 0; i < 5; i++) {
		int n = snprintf(out[i], WD_PATH_BYTES, "%s/%s", dir, names[i]);

		if (n < 0 || n >= WD_PATH_BYTES)
			return wd_err_set(err, ENAMETOOLONG, "%s: path too long", dir);
	}
	return 0;
}

/* ---- verify ---------------------------------------------------------------- */

static int check_canonical(const struct paths *p, const struct wd_imgman *m, struct wd_err *err)
{
	char *want, *have = NULL;
	size_t wlen, hlen = 0;
	uint64_t size;
	int fd, rc = 0;

	if (wd_imgman_write(m, &want, &wlen, err) < 0)
		return wd_err_wrap(err, "manifest.json");
	fd = wd_img_open_regular(p->manifest, &size, err);
	if (fd >= 0 && size == wlen && (have = malloc(wlen)) != NULL) {
		ssize_t r = pread(fd, have, wlen, 0);

		hlen = r > 0 ? (size_t)r : 0;
	}
	if (fd < 0) {
		rc = wd_err_ret(err);
	} else if (have == NULL || hlen != wlen || memcmp(have, want, wlen) != 0) {
		size_t at = 0;

		while (have != NULL && at < hlen && at < wlen && have[at] == want[at])
			at++;
		rc = wd_err_set(err, EBADMSG,
				"manifest.json: not in the canonical form warden writes (from "
				"byte %zu)",
				at);
	}
	if (fd >= 0)
		(void)close(fd);
	free(want);
	free(have);
	return rc;
}

/* A file's size and digest against the manifest's. */
static int check_digest(const char *name, int fd, uint64_t max, uint64_t size, const char *sha,
			struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	uint64_t got;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return wd_err_sys(err, errno, "%s: lseek", name);
	if (wd_img_digest_fd(fd, max, &got, hex, name, err) < 0)
		return wd_err_ret(err);
	if (got != size)
		return wd_err_set(err, EBADMSG, "%s: %llu bytes, manifest.json says %llu", name,
				  (unsigned long long)got, (unsigned long long)size);
	if (strcmp(hex, sha) != 0)
		return wd_err_set(err, EBADMSG, "%s: sha256 %s, manifest.json says %s", name, hex,
				  sha);
	return 0;
}

static int open_checked(const char *path, const char *name, uint64_t max, uint64_t size,
			const char *sha, struct wd_err *err)
{
	int fd = wd_img_open_regular(path, NULL, err);

	if (fd < 0)
		return wd_err_wrap(err, "%s", name);
	if (check_digest(name, fd, max, size, sha, err) < 0) {
		(void)close(fd);
		return wd_err_ret(err);
	}
	return fd;
}

/* A text file of the archive must be exactly `want`. */
static int same_text(const struct wd_cpio *c, const char *name, const char *want, size_t len,
		     const char *why, struct wd_err *err)
{
	const struct wd_cpio_entry *e = wd_cpio_find(c, name);

	if (e == NULL || (e->mode & S_IFMT) != S_IFREG)
		return wd_err_set(err, EBADMSG, "initramfs.cpio.gz: no /%s", name);
	if (e->size != len || memcmp(e->data, want, len) != 0)
		return wd_err_set(err, EBADMSG, "%s", why);
	return 0;
}

/* What differs between the archive's entry `a` and the manifest's `b`
 * ("" when nothing does). */
static const char *entry_diff(const struct wd_imgentry *a, const struct wd_imgentry *b)
{
	if (strcmp(a->path, b->path) != 0)
		return "path";
	if (a->type != b->type)
		return "type";
	if (a->mode != b->mode)
		return "mode";
	switch (a->type) {
	case 'f':
		return a->size != b->size                  ? "size"
		       : strcmp(a->sha256, b->sha256) != 0 ? "sha256"
							   : "";
	case 'l':
		return strcmp(a->target, b->target) != 0 ? "target" : "";
	case 'c':
		return a->major != b->major || a->minor != b->minor ? "rdev" : "";
	default:
		return "";
	}
}

static int check_entries(const struct wd_cpio *c, const struct wd_imgman *m, struct wd_err *err)
{
	struct wd_imgentry *have;
	size_t n;
	int rc = 0;

	if (wd_imgtext_entries(c, &have, &n, err) < 0)
		return wd_err_wrap(err, "initramfs.cpio.gz");
	for (size_t i = 0; i < n && i < m->initramfs.n_entries && rc == 0; i++) {
		const char *what = entry_diff(&have[i], &m->initramfs.entries[i]);

		if (what[0] != '\0')
			rc = wd_err_set(
				err, EBADMSG,
				"initramfs.cpio.gz: entry %zu (%.200s): its %s is not the one "
				"manifest.json's initramfs.entries[%zu] gives",
				i, have[i].path, what, i);
	}
	if (rc == 0 && n != m->initramfs.n_entries)
		rc = wd_err_set(err, EBADMSG,
				"initramfs.cpio.gz: %zu entries, manifest.json's initramfs.entries "
				"lists %zu",
				n, m->initramfs.n_entries);
	for (size_t i = 0; i < c->n && rc == 0; i++)
		if (c->e[i].uid != 0 || c->e[i].gid != 0 || c->e[i].mtime != m->epoch)
			rc = wd_err_set(err, EBADMSG,
					"initramfs.cpio.gz: /%.200s is not 0:0 with mtime %llu "
					"(the epoch)",
					c->e[i].name, (unsigned long long)m->epoch);
	for (size_t i = 0; i < n; i++) {
		free(have[i].path);
		free(have[i].target);
	}
	free(have);
	return rc;
}

/* Steps 3 and 4 on the decompressed archive. */
static int check_archive(struct wd_cpio *c, const struct wd_imgman *m, struct wd_err *err)
{
	char text[WD_IMGTEXT_PIN_MAX], hex[WD_IMAGE_HEX], kver[WD_IMAGE_KVER_MAX + 1];
	const struct wd_cpio_entry *e;
	struct wd_policy pol;
	char *mtext;
	size_t mlen;
	int n, rc;

	if (wd_imgman_pin(m, hex, err) < 0 ||
	    (n = wd_imgtext_image_pin(hex, text, sizeof(text))) < 0)
		return wd_err_set(err, ENOSPC, "manifest.json: cannot make its pin");
	if (same_text(c, WD_IMGTEXT_IMAGE_PATH, text, (size_t)n,
		      "manifest.json: its members outside \"initramfs\" are not the ones the "
		      "initramfs pins (/etc/warden/image)",
		      err) < 0)
		return wd_err_ret(err);
	if (check_entries(c, m, err) < 0)
		return wd_err_ret(err);
	if (wd_imgtext_manifest(c, &mtext, &mlen, err) < 0)
		return wd_err_wrap(err, "initramfs.cpio.gz");
	rc = same_text(c, WD_IMGTEXT_MANIFEST_PATH, mtext, mlen,
		       "initramfs.cpio.gz: /etc/warden/manifest does not describe the archive",
		       err);
	free(mtext);
	if (rc < 0)
		return rc;
	n = wd_imgtext_rootfs_pin(&m->rootfs.verity, text, sizeof(text));
	if (n < 0 || same_text(c, WD_IMGTEXT_ROOTFS_PATH, text, (size_t)n,
			       "initramfs.cpio.gz: /etc/warden/rootfs does not pin manifest.json's "
			       "rootfs.verity",
			       err) < 0)
		return n < 0 ? wd_err_set(err, ENOSPC, "rootfs pin") : wd_err_ret(err);
	e = wd_cpio_find(c, WD_IMGTEXT_MODULES_PATH);
	if (e == NULL ||
	    wd_imgtext_modules_kver((const char *)e->data, e->size, kver, sizeof(kver), err) < 0 ||
	    strcmp(kver, m->kernel.kver) != 0)
		return wd_err_set(err, EBADMSG,
				  "initramfs.cpio.gz: /etc/warden/modules is not for the kernel "
				  "release %s",
				  m->kernel.kver);
	e = wd_cpio_find(c, WD_IMAGE_POLICY_PATH + 1);
	if (e != NULL) {
		rc = wd_policy_read((const char *)e->data, e->size, &pol, err);
		wd_policy_free(&pol);
		if (rc < 0)
			return wd_err_wrap(err, "initramfs.cpio.gz: %s", WD_IMAGE_POLICY_PATH);
	}
	return 0;
}

static int check_initramfs(const struct paths *p, const struct wd_imgman *m, struct wd_err *err)
{
	char hex[WD_IMAGE_HEX];
	struct wd_cpio c;
	uint8_t *raw = NULL;
	uint64_t size = 0;
	size_t len = 0;
	int fd, rc;

	fd = wd_img_snapshot(p->initramfs, WD_IMGMAN_INITRAMFS_MAX_BYTES, &size, hex, err);
	if (fd < 0)
		return wd_err_wrap(err, "initramfs.cpio.gz");
	if (size != m->initramfs.size || strcmp(hex, m->initramfs.sha256) != 0) {
		(void)close(fd);
		if (size != m->initramfs.size)
			return wd_err_set(err, EBADMSG,
					  "initramfs.cpio.gz: %llu bytes, manifest.json says %llu",
					  (unsigned long long)size,
					  (unsigned long long)m->initramfs.size);
		return wd_err_set(err, EBADMSG,
				  "initramfs.cpio.gz: sha256 %s, manifest.json says %s", hex,
				  m->initramfs.sha256);
	}
	rc = wd_img_gunzip(fd, WD_CPIO_MAX_BYTES, &raw, &len, err);
	(void)close(fd);
	if (rc == 0)
		rc = wd_cpio_parse(raw, len, &c, err);
	if (rc < 0) {
		free(raw);
		return wd_err_wrap(err, "initramfs.cpio.gz");
	}
	rc = check_archive(&c, m, err);
	wd_cpio_free(&c);
	free(raw);
	return rc;
}

static int check_kernel(const struct paths *p, const struct wd_imgman *m, struct wd_err *err)
{
	char kver[WD_IMAGE_KVER_MAX + 1];
	int fd = open_checked(p->kernel, WD_IMAGE_KERNEL, WD_IMGMAN_KERNEL_MAX_BYTES,
			      m->kernel.size, m->kernel.sha256, err);
	int rc;

	if (fd < 0)
		return fd;
	rc = wd_img_bzimage_kver(fd, kver, sizeof(kver), err);
	(void)close(fd);
	if (rc < 0) {
		err->code = EBADMSG; /* the message names vmlinuz already */
		return -EBADMSG;
	}
	if (strcmp(kver, m->kernel.kver) != 0)
		return wd_err_set(err, EBADMSG, "vmlinuz: kernel release %s, manifest.json says %s",
				  kver, m->kernel.kver);
	return 0;
}

static int check_rootfs(const struct paths *p, const struct wd_imgman *m, struct wd_err *err)
{
	const struct wd_imgverity *v = &m->rootfs.verity;
	uint8_t sha[32], salt[32], root[32], sb[4];
	char hex[WD_IMAGE_HEX];
	struct wd_sha256 c;
	int dfd, hfd, rc = 0;

	dfd = open_checked(p->rootfs, WD_IMAGE_ROOTFS, WD_IMGMAN_ROOTFS_MAX_BYTES, m->rootfs.size,
			   m->rootfs.sha256, err);
	if (dfd < 0)
		return dfd;
	if (pread(dfd, sb, sizeof(sb), EROFS_SB_OFFSET) != (ssize_t)sizeof(sb) ||
	    (uint32_t)(sb[0] | sb[1] << 8 | sb[2] << 16 | (uint32_t)sb[3] << 24) != EROFS_MAGIC)
		rc = wd_err_set(err, EBADMSG, "rootfs.erofs: no erofs superblock");
	(void)wd_img_unhex32(m->rootfs.sha256, sha);
	wd_sha256_init(&c);
	wd_sha256_update(&c, SALT_LABEL, strlen(SALT_LABEL));
	wd_sha256_update(&c, sha, sizeof(sha));
	wd_sha256_final(&c, salt);
	wd_hex(salt, sizeof(salt), hex);
	if (rc == 0 && strcmp(hex, v->salt) != 0)
		rc = wd_err_set(err, EBADMSG,
				"rootfs.verity: the salt is not the one made from rootfs.erofs");
	hfd = rc == 0 ? open_checked(p->verity, WD_IMAGE_VERITY, WD_IMGMAN_ROOTFS_MAX_BYTES,
				     v->size, v->sha256, err)
		      : -1;
	if (rc == 0 && hfd < 0)
		rc = hfd;
	if (rc == 0) {
		(void)wd_img_unhex32(v->root_hash, root);
		if (wd_verity_check(dfd, v->data_blocks, salt, sizeof(salt), hfd, root, err) < 0)
			rc = wd_err_wrap(err, "rootfs.verity");
	}
	if (hfd >= 0)
		(void)close(hfd);
	(void)close(dfd);
	return rc;
}

int wd_image_verify(const char *outdir, struct wd_err *err)
{
	struct paths *p = malloc(sizeof(*p));
	struct wd_imgman m;
	int rc;

	if (p == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	if (make_paths(outdir, p, err) < 0 || wd_imgman_load(p->manifest, &m, err) < 0) {
		free(p);
		return -EBADMSG;
	}
	rc = check_canonical(p, &m, err);
	if (rc == 0)
		rc = check_initramfs(p, &m, err);
	if (rc == 0)
		rc = check_kernel(p, &m, err);
	if (rc == 0)
		rc = check_rootfs(p, &m, err);
	wd_imgman_free(&m);
	free(p);
	return rc;
}

/* ---- inspect --------------------------------------------------------------- */

/* Text from the manifest, printed safely (it may hold any UTF-8). */
static void show(const char *label, const char *s)
{
	char buf[1024];
	size_t n = wd_safe_line(s, strlen(s), buf, sizeof(buf) - 1);

	buf[n] = '\0';
	printf("  %-18s %s\n", label, buf);
}

static void print_table(const struct wd_imgman *m)
{
	const struct wd_imgverity *v = &m->rootfs.verity;
	char when[32], line[512];
	time_t t = (time_t)m->epoch;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)snprintf(when, sizeof(when), "?");
	printf("image %s (manifest format %d)\n", m->name, WD_IMGMAN_VERSION);
	printf("  %-18s %llu (%s)\n", "epoch", (unsigned long long)m->epoch, when);
	printf("%-20s %12s  %s\n", "file", "bytes", "sha256");
	printf("%-20s %12llu  %s\n", WD_IMAGE_KERNEL, (unsigned long long)m->kernel.size,
	       m->kernel.sha256);
	printf("%-20s %12llu  %s\n", WD_IMAGE_INITRAMFS, (unsigned long long)m->initramfs.size,
	       m->initramfs.sha256);
	printf("%-20s %12llu  %s\n", WD_IMAGE_ROOTFS, (unsigned long long)m->rootfs.size,
	       m->rootfs.sha256);
	printf("%-20s %12llu  %s\n", WD_IMAGE_VERITY, (unsigned long long)v->size, v->sha256);
	printf("kernel\n");
	show("release", m->kernel.kver);
	printf("initramfs\n");
	printf("  %-18s %zu\n", "entries", m->initramfs.n_entries);
	show("manifest sha256", m->initramfs.manifest_sha256);
	show("policy", m->has_policy ? m->policy_sha256 : "none");
	printf("rootfs (erofs)\n");
	printf("  %-18s %llu\n", "entries", (unsigned long long)m->rootfs.entries);
	printf("  %-18s %zu\n", "stripped", m->rootfs.n_stripped);
	for (size_t i = 0; i < m->rootfs.n_stripped && i < INSPECT_STRIPPED_SHOWN; i++) {
		(void)snprintf(line, sizeof(line), "%s (%s)", m->rootfs.stripped[i].path,
			       m->rootfs.stripped[i].what);
		show("", line);
	}
	if (m->rootfs.n_stripped > INSPECT_STRIPPED_SHOWN)
		printf("  %-18s ... %zu more (--json lists them)\n", "",
		       m->rootfs.n_stripped - INSPECT_STRIPPED_SHOWN);
	printf("verity (format 1, sha256, 4096-byte blocks, hash offset 0)\n");
	printf("  %-18s %llu\n", "data blocks", (unsigned long long)v->data_blocks);
	show("salt", v->salt);
	show("root hash", v->root_hash);
	printf("sources\n");
	for (size_t i = 0; i < m->n_sources; i++) {
		const struct wd_imgsource *s = &m->sources[i];

		(void)snprintf(line, sizeof(line), "%s %s %s%s%s", s->name,
			       s->version != NULL ? s->version : "-",
			       s->file != NULL ? s->file : "", s->file != NULL ? " " : "",
			       s->sha256[0] != '\0' ? s->sha256 : "-");
		show(s->what, line);
	}
}

int wd_image_inspect(const char *outdir, bool json, struct wd_err *err)
{
	struct paths *p = malloc(sizeof(*p));
	struct wd_imgman m;
	char *text;
	size_t len;

	if (p == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	if (make_paths(outdir, p, err) < 0 || wd_imgman_load(p->manifest, &m, err) < 0) {
		free(p);
		return wd_err_ret(err);
	}
	free(p);
	if (json) {
		if (wd_imgman_write(&m, &text, &len, err) < 0) {
			wd_imgman_free(&m);
			return wd_err_ret(err);
		}
		(void)fwrite(text, 1, len, stdout);
		free(text);
	} else {
		print_table(&m);
	}
	wd_imgman_free(&m);
	return 0;
}
