/*
 * host/imagebuild.c - `warden image build`: a root filesystem, a kernel
 * and a base initramfs into an image directory (docs/image.md, "warden
 * image build").
 *
 * Order: the base initramfs is read first (it gives the epoch when
 * SOURCE_DATE_EPOCH is unset, and the modules' kernel release), then the
 * kernel, the staged rootfs (host/rootfs.h), rootfs.erofs (mkfs.erofs),
 * rootfs.verity (veritysetup, checked against host/verity.c), the new
 * initramfs (host/imageinitrd.c), manifest.json last. Everything is
 * written into OUTDIR.tmp-XXXXXX beside OUTDIR and renamed into place at
 * the end (never over an existing OUTDIR), so a failed build leaves no
 * half image; the temporary directory is removed on every failure.
 *
 * Reproducible: the same inputs give the same five files, byte for byte.
 * The erofs UUID is made from the staged tree's listing digest, every
 * time is the epoch, the verity salt is made from rootfs.erofs's digest,
 * the archive and the JSON are written in one canonical order.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/sha256.h"
#include "../common/tlog.h"
#include "imagebuild.h"
#include "imageio.h"
#include "paths.h"
#include "rootfs.h"
#include "toolrun.h"
#include "verity.h"

#define KERNEL_LOCK_MAX_BYTES 65536 /* kernel.lock */
#define VERITY_OUT_MAX 8192         /* veritysetup's standard output */
#define SALT_LABEL "warden-verity-salt-v1"
#define UUID_LABEL "warden-erofs-uuid-v1"
/*
 * rootfs.erofs may exceed the rootfs's --max-size bound (host/rootfs.h:
 * what staging charged, at most the bound) by a quarter of the bound plus
 * 16 MiB: the superblock, and the block padding erofs adds where an
 * inode and its inline tail do not fit the block left. Staging charges
 * every path more than erofs spends on it (Debian bookworm minbase:
 * 272 MB charged, a 265 MB rootfs.erofs), so only a tree laid out to
 * waste blocks meets this; past it the build fails naming both sizes.
 */
#define EROFS_SLACK_DIV 4               /* a quarter of the bound */
#define EROFS_SLACK_BYTES (16ULL << 20) /* and 16 MiB */

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0) /* linux/fs.h; musl has no renameat2() wrapper */
#endif

/* ---- the temporary directory ---------------------------------------------- */

int wd_imgb_path(const struct wd_imgb *b, const char *name, char *out, struct wd_err *err)
{
	int n = snprintf(out, WD_PATH_BYTES, "%s/%s", b->tmp, name);

	if (n < 0 || n >= WD_PATH_BYTES)
		return wd_err_set(err, ENAMETOOLONG, "%s/%s: path too long", b->tmp, name);
	return 0;
}

int wd_imgb_create(const struct wd_imgb *b, const char *name, struct wd_err *err)
{
	int fd = openat(b->tmp_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

	if (fd < 0)
		return wd_err_sys(err, errno, "create %s in %s", name, b->tmp);
	if (fchmod(fd, 0644) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "chmod %s", name);
	}
	return fd;
}

static int make_tmp(struct wd_imgb *b, struct wd_err *err)
{
	const char *out = b->o->output;
	size_t n = strlen(out);
	struct stat st;
	int k;

	while (n > 1 && out[n - 1] == '/')
		n--;
	if (n == 0 || n + 16 >= sizeof(b->outdir))
		return wd_err_set(err, ENAMETOOLONG, "--output: path empty or too long");
	memcpy(b->outdir, out, n);
	b->outdir[n] = '\0';
	if (lstat(b->outdir, &st) == 0)
		return wd_err_set(err, EEXIST, "--output %s exists already; remove it first",
				  b->outdir);
	if (errno != ENOENT)
		return wd_err_sys(err, errno, "--output %s", b->outdir);
	k = snprintf(b->tmp, sizeof(b->tmp), "%s.tmp-XXXXXX", b->outdir);
	if (k < 0 || (size_t)k >= sizeof(b->tmp))
		return wd_err_set(err, ENAMETOOLONG, "--output: path too long");
	if (mkdtemp(b->tmp) == NULL) {
		int e = errno;

		b->tmp[0] = '\0';
		return wd_err_sys(err, e, "create a directory beside %s", b->outdir);
	}
	b->tmp_fd = open(b->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (b->tmp_fd < 0)
		return wd_err_sys(err, errno, "open %s", b->tmp);
	return 0;
}

/* ---- the epoch ------------------------------------------------------------ */

static int choose_epoch(struct wd_imgb *b, struct wd_err *err)
{
	const char *env = b->o->epoch_env;

	if (env != NULL) {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(env, &end, 10);
		if (env[0] < '0' || env[0] > '9' || *end != '\0' || errno != 0 || v > UINT32_MAX)
			return wd_err_set(err, EINVAL,
					  "SOURCE_DATE_EPOCH '%.32s' is not a number of seconds "
					  "from 0 to %u",
					  env, UINT32_MAX);
		b->epoch = v;
		b->epoch_from = "SOURCE_DATE_EPOCH";
		return 0;
	}
	/* The base's entries all carry the epoch image/mkinitramfs.sh chose
	 * (the commit time of its tree): the image inherits it. */
	b->epoch = 0;
	for (size_t i = 0; i < b->base.n; i++)
		if (b->base.e[i].mtime > b->epoch)
			b->epoch = b->base.e[i].mtime;
	b->epoch_from = "the base initramfs's entries";
	return 0;
}

/* ---- the kernel ----------------------------------------------------------- */

/* One "key value" of kernel.lock into out (empty when absent). */
static void lock_value(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	out[0] = '\0';
	for (const char *p = text; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t l = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (l > klen + 1 && memcmp(p, key, klen) == 0 && p[klen] == ' ' &&
		    l - klen - 1 < size) {
			memcpy(out, p + klen + 1, l - klen - 1);
			out[l - klen - 1] = '\0';
			return;
		}
		p += l + (nl != NULL ? 1 : 0);
	}
}

static int copy_fd(int from, int to, struct wd_err *err)
{
	char buf[65536];

	if (lseek(from, 0, SEEK_SET) < 0)
		return wd_err_sys(err, errno, "lseek");
	for (;;) {
		ssize_t r = read(from, buf, sizeof(buf));
		int rc;

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return wd_err_sys(err, errno, "read");
		if (r == 0)
			return 0;
		rc = wd_write_all(to, buf, (size_t)r);
		if (rc < 0)
			return wd_err_sys(err, -rc, "write");
	}
}

static int kernel_dir(const struct wd_imgb *b, char *dir, struct wd_err *err)
{
	char exe[WD_PATH_BYTES], *slash;

	if (b->o->kernel_dir != NULL) {
		if (strlen(b->o->kernel_dir) >= WD_PATH_BYTES)
			return wd_err_set(err, ENAMETOOLONG, "--kernel: path too long");
		memcpy(dir, b->o->kernel_dir, strlen(b->o->kernel_dir) + 1);
		return 0;
	}
	if (wd_exe_dir(exe, sizeof(exe), err) < 0 ||
	    wd_find_asset(exe, WD_ASSET_KERNEL, dir, WD_PATH_BYTES, err) < 0)
		return wd_err_wrap(err, "no --kernel DIR given");
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	return 0;
}

/* kernel.lock, when the kernel directory has one: what it says must be
 * true of vmlinuz, and it names the package for the manifest's sources. */
static int read_kernel_lock(struct wd_imgb *b, const char *dir, const char *kver,
			    struct wd_err *err)
{
	char path[WD_PATH_BYTES], text[KERNEL_LOCK_MAX_BYTES], v[WD_IMAGE_HEX + 64];
	size_t len;
	int n = snprintf(path, sizeof(path), "%s/kernel.lock", dir);

	if (n < 0 || n >= (int)sizeof(path))
		return wd_err_set(err, ENAMETOOLONG, "--kernel: path too long");
	if (access(path, F_OK) != 0)
		return 0;
	if (wd_read_file(path, text, sizeof(text), &len, err) < 0)
		return wd_err_ret(err);
	lock_value(text, "kver", v, sizeof(v));
	if (v[0] != '\0' && strcmp(v, kver) != 0)
		return wd_err_set(err, EINVAL, "%s says kver %s, but vmlinuz is %s", path, v, kver);
	lock_value(text, "vmlinuz-sha256", v, sizeof(v));
	if (v[0] != '\0' && strcmp(v, b->m.kernel.sha256) != 0)
		return wd_err_set(err, EINVAL, "%s says vmlinuz-sha256 %s, but vmlinuz has %s",
				  path, v, b->m.kernel.sha256);
	lock_value(text, "name", b->klock_name, sizeof(b->klock_name));
	lock_value(text, "version", b->klock_version, sizeof(b->klock_version));
	lock_value(text, "sha256", b->klock_sha256, sizeof(b->klock_sha256));
	if (!wd_imgman_is_hex64(b->klock_sha256) || b->klock_name[0] == '\0' ||
	    b->klock_version[0] == '\0')
		return wd_err_set(err, EINVAL, "%s: no usable name, version and sha256 lines",
				  path);
	return 0;
}

static int take_kernel(struct wd_imgb *b, struct wd_err *err)
{
	char dir[WD_PATH_BYTES], path[WD_PATH_BYTES], kver[WD_IMAGE_KVER_MAX + 1];
	int fd, out, rc, n;

	if (kernel_dir(b, dir, err) < 0)
		return wd_err_ret(err);
	n = snprintf(path, sizeof(path), "%s/vmlinuz", dir);
	if (n < 0 || n >= (int)sizeof(path))
		return wd_err_set(err, ENAMETOOLONG, "--kernel: path too long");
	fd = wd_img_snapshot(path, WD_IMGMAN_KERNEL_MAX_BYTES, &b->m.kernel.size,
			     b->m.kernel.sha256, err);
	if (fd < 0)
		return wd_err_wrap(err, "kernel");
	rc = wd_img_bzimage_kver(fd, kver, sizeof(kver), err);
	if (rc == 0 && strcmp(kver, b->base_kver) != 0)
		rc = wd_err_set(err, EINVAL,
				"the kernel %s is %s, but the base initramfs's modules are for %s",
				path, kver, b->base_kver);
	if (rc == 0)
		rc = read_kernel_lock(b, dir, kver, err);
	if (rc == 0 && (out = wd_imgb_create(b, WD_IMAGE_KERNEL, err)) >= 0) {
		rc = copy_fd(fd, out, err);
		if (rc == 0 && fsync(out) < 0)
			rc = wd_err_sys(err, errno, "fsync vmlinuz");
		(void)close(out);
	} else if (rc == 0) {
		rc = wd_err_ret(err);
	}
	(void)close(fd);
	if (rc < 0)
		return wd_err_wrap(err, "kernel");
	memcpy(b->m.kernel.kver, kver, sizeof(kver));
	wd_info("kernel: %s (%s, %llu bytes)", path, kver, (unsigned long long)b->m.kernel.size);
	return 0;
}

/* ---- the root filesystem -------------------------------------------------- */

static int stage_rootfs(struct wd_imgb *b, struct wd_err *err)
{
	struct wd_rootfs_opts opts = {.max_entries = b->o->max_entries,
				      .max_bytes = b->o->max_size};
	int fd, rc;

	if (mkdirat(b->tmp_fd, "rootfs", 0755) < 0)
		return wd_err_sys(err, errno, "create the staging directory in %s", b->tmp);
	if (wd_imgb_path(b, "rootfs", b->stage, err) < 0)
		return wd_err_ret(err);
	fd = openat(b->tmp_fd, "rootfs", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return wd_err_sys(err, errno, "open %s", b->stage);
	rc = wd_rootfs_stage(b->o->rootfs, fd, b->epoch, &opts, &b->rep, err);
	if (rc == 0)
		rc = wd_rootfs_tree(fd, b->rep.all_root, b->o->max_entries, -1, b->tree_sha256,
				    err);
	(void)close(fd);
	if (rc < 0)
		return wd_err_ret(err); /* host/rootfs.c names the source */
	wd_info("rootfs: %s staged: %llu entries, %llu file bytes, %llu bytes of --max-size %llu",
		b->o->rootfs, (unsigned long long)b->rep.entries, (unsigned long long)b->rep.bytes,
		(unsigned long long)b->rep.charged,
		(unsigned long long)(b->o->max_size != 0 ? b->o->max_size : WD_ROOTFS_MAX_BYTES));
	return 0;
}

/* A UUID made from the tree (RFC 9562 version 8: custom), so that the same
 * tree always gives the same file system. */
static void tree_uuid(const uint8_t tree[32], char out[37])
{
	struct wd_sha256 c;
	uint8_t d[32];
	char hex[33];

	wd_sha256_init(&c);
	wd_sha256_update(&c, UUID_LABEL, strlen(UUID_LABEL));
	wd_sha256_update(&c, tree, 32);
	wd_sha256_final(&c, d);
	d[6] = (uint8_t)((d[6] & 0x0f) | 0x80);
	d[8] = (uint8_t)((d[8] & 0x3f) | 0x80);
	wd_hex(d, 16, hex);
	(void)snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
		       hex + 20);
}

/* The most bytes rootfs.erofs may hold for the bound `max_bytes` (0: the
 * default), saturating at UINT64_MAX. */
static uint64_t erofs_max_bytes(uint64_t max_bytes)
{
	uint64_t bound = max_bytes != 0 ? max_bytes : WD_ROOTFS_MAX_BYTES;
	uint64_t slack = bound / EROFS_SLACK_DIV + EROFS_SLACK_BYTES;

	return slack > UINT64_MAX - bound ? UINT64_MAX : bound + slack;
}

static int make_erofs(struct wd_imgb *b, struct wd_err *err)
{
	char out[WD_PATH_BYTES], uuid[37];
	struct wd_tool t = {.in_fd = -1, .out_fd = -1};
	struct wd_argv a;
	struct stat st;
	int fd, rc;

	if (wd_imgb_path(b, WD_IMAGE_ROOTFS, out, err) < 0)
		return wd_err_ret(err);
	tree_uuid(b->tree_sha256, uuid);
	wd_argv_init(&a);
	wd_argv_add(&a, "mkfs.erofs");
	wd_argv_add(&a, "-x-1"); /* no extended attribute at all */
	wd_argv_add(&a, "-T%llu", (unsigned long long)b->epoch);
	wd_argv_add(&a, "-U%s", uuid);
	if (b->rep.all_root)
		wd_argv_add(&a, "--all-root");
	wd_argv_add(&a, "--quiet");
	wd_argv_add(&a, "%s", out);
	wd_argv_add(&a, "%s", b->stage);
	if (wd_tool_run(&t, &a, err) < 0)
		return wd_err_wrap(err, "rootfs.erofs");
	fd = wd_img_open_regular(out, NULL, err);
	if (fd < 0)
		return wd_err_wrap(err, "rootfs.erofs");
	/* dm-verity hashes whole 4096-byte blocks; the mode is not the umask's. */
	rc = fchmod(fd, 0644) < 0 ? -1 : fstat(fd, &st);
	if (rc == 0 && st.st_size % WD_VERITY_BLOCK != 0)
		rc = ftruncate(fd, st.st_size + WD_VERITY_BLOCK - st.st_size % WD_VERITY_BLOCK);
	if (rc < 0)
		rc = wd_err_sys(err, errno, "rootfs.erofs: chmod and pad to 4096-byte blocks");
	else if (fstat(fd, &st) < 0)
		rc = wd_err_sys(err, errno, "rootfs.erofs: stat");
	else if ((uint64_t)st.st_size > erofs_max_bytes(b->o->max_size))
		rc = wd_err_set(err, EFBIG,
				"rootfs.erofs: %llu bytes, more than the %llu allowed for "
				"--max-size %llu (a quarter more and 16 MiB)",
				(unsigned long long)st.st_size,
				(unsigned long long)erofs_max_bytes(b->o->max_size),
				(unsigned long long)(b->o->max_size != 0 ? b->o->max_size
									 : WD_ROOTFS_MAX_BYTES));
	if (rc == 0)
		rc = wd_img_digest_fd(fd, WD_IMGMAN_ROOTFS_MAX_BYTES, &b->m.rootfs.size,
				      b->m.rootfs.sha256, "rootfs.erofs", err);
	if (rc == 0 && b->m.rootfs.size < WD_VERITY_BLOCK)
		rc = wd_err_set(err, EINVAL, "rootfs.erofs: empty");
	if (rc == 0 && fsync(fd) < 0)
		rc = wd_err_sys(err, errno, "fsync rootfs.erofs");
	(void)close(fd);
	if (rc < 0)
		return rc;
	b->m.rootfs.verity.data_blocks = b->m.rootfs.size / WD_VERITY_BLOCK;
	b->m.rootfs.entries = b->rep.entries;
	wd_info("rootfs.erofs: %llu bytes, uuid %s", (unsigned long long)b->m.rootfs.size, uuid);
	return 0;
}

/* "Root hash:   <hex>" in veritysetup's report. */
static int parse_root_hash(const char *out, char hex[WD_IMAGE_HEX], struct wd_err *err)
{
	const char *p = strstr(out, "Root hash:");

	if (p == NULL)
		return wd_err_set(err, EIO, "veritysetup printed no root hash");
	p += strlen("Root hash:");
	p += strspn(p, " \t");
	if (strspn(p, "0123456789abcdef") != 64)
		return wd_err_set(err, EIO, "veritysetup printed an unreadable root hash");
	memcpy(hex, p, 64);
	hex[64] = '\0';
	return 0;
}

static int make_verity(struct wd_imgb *b, struct wd_err *err)
{
	struct wd_imgverity *v = &b->m.rootfs.verity;
	char data[WD_PATH_BYTES], hash[WD_PATH_BYTES], out[VERITY_OUT_MAX];
	struct wd_tool t = {.in_fd = -1, .out_fd = -1, .out = out, .out_size = sizeof(out)};
	uint8_t erofs_sha[32], salt[32], root[32];
	struct wd_sha256 c;
	struct wd_argv a;
	int dfd, hfd, rc;

	if (wd_imgb_path(b, WD_IMAGE_ROOTFS, data, err) < 0 ||
	    wd_imgb_path(b, WD_IMAGE_VERITY, hash, err) < 0)
		return wd_err_ret(err);
	/* The salt is made from the data, so the same data gives the same tree. */
	(void)wd_img_unhex32(b->m.rootfs.sha256, erofs_sha);
	wd_sha256_init(&c);
	wd_sha256_update(&c, SALT_LABEL, strlen(SALT_LABEL));
	wd_sha256_update(&c, erofs_sha, sizeof(erofs_sha));
	wd_sha256_final(&c, salt);
	wd_hex(salt, sizeof(salt), v->salt);
	wd_argv_init(&a);
	wd_argv_add(&a, "veritysetup");
	wd_argv_add(&a, "format");
	wd_argv_add(&a, "--no-superblock");
	wd_argv_add(&a, "--format=1");
	wd_argv_add(&a, "--hash=sha256");
	wd_argv_add(&a, "--data-block-size=%d", WD_VERITY_BLOCK);
	wd_argv_add(&a, "--hash-block-size=%d", WD_VERITY_BLOCK);
	wd_argv_add(&a, "--salt=%s", v->salt);
	wd_argv_add(&a, "%s", data);
	wd_argv_add(&a, "%s", hash);
	if (wd_tool_run(&t, &a, err) < 0 || parse_root_hash(out, v->root_hash, err) < 0)
		return wd_err_wrap(err, "rootfs.verity");
	(void)wd_img_unhex32(v->root_hash, root);
	dfd = wd_img_open_regular(data, NULL, err);
	if (dfd < 0)
		return wd_err_wrap(err, "rootfs.verity");
	hfd = wd_img_open_regular(hash, NULL, err);
	if (hfd < 0) {
		(void)close(dfd);
		return wd_err_wrap(err, "rootfs.verity");
	}
	/* warden's own tree, block for block, and the same root hash. */
	rc = wd_verity_check(dfd, v->data_blocks, salt, sizeof(salt), hfd, root, err);
	if (rc < 0)
		(void)wd_err_wrap(err, "veritysetup's tree and warden's differ");
	if (rc == 0 && lseek(hfd, 0, SEEK_SET) < 0)
		rc = wd_err_sys(err, errno, "lseek");
	if (rc == 0)
		rc = wd_img_digest_fd(hfd, WD_IMGMAN_ROOTFS_MAX_BYTES, &v->size, v->sha256,
				      "rootfs.verity", err);
	if (rc == 0 && (fchmod(hfd, 0644) < 0 || fsync(hfd) < 0))
		rc = wd_err_sys(err, errno, "chmod and fsync rootfs.verity");
	(void)close(dfd);
	(void)close(hfd);
	if (rc < 0)
		return wd_err_wrap(err, "rootfs.verity");
	wd_info("rootfs.verity: %llu bytes, root hash %s", (unsigned long long)v->size,
		v->root_hash);
	return 0;
}

/* ---- the manifest and the end --------------------------------------------- */

static int write_manifest(struct wd_imgb *b, struct wd_err *err)
{
	struct wd_imgman check;
	char *text;
	size_t len;
	int fd, rc;

	if (wd_imgman_write(&b->m, &text, &len, err) < 0)
		return wd_err_ret(err);
	/* What is written must read back. */
	rc = wd_imgman_read(text, len, &check, err);
	if (rc == 0)
		wd_imgman_free(&check);
	else
		(void)wd_err_wrap(err, "the manifest written does not read back");
	fd = rc == 0 ? wd_imgb_create(b, WD_IMAGE_MANIFEST, err) : -1;
	if (rc == 0 && fd < 0)
		rc = fd;
	if (rc == 0 && (rc = wd_write_all(fd, text, len)) < 0)
		rc = wd_err_sys(err, -rc, "write manifest.json");
	if (rc == 0 && fsync(fd) < 0)
		rc = wd_err_sys(err, errno, "fsync manifest.json");
	if (fd >= 0)
		(void)close(fd);
	free(text);
	return rc;
}

static int finish(struct wd_imgb *b, struct wd_err *err)
{
	char parent[WD_PATH_BYTES], *slash;
	int pfd;

	if (fchmod(b->tmp_fd, 0755) < 0 || fsync(b->tmp_fd) < 0)
		return wd_err_sys(err, errno, "%s", b->tmp);
	if (syscall(SYS_renameat2, AT_FDCWD, b->tmp, AT_FDCWD, b->outdir, RENAME_NOREPLACE) < 0)
		return wd_err_sys(err, errno, "rename %s to %s", b->tmp, b->outdir);
	b->tmp[0] = '\0'; /* nothing to clean up any more */
	memcpy(parent, b->outdir, sizeof(parent));
	slash = strrchr(parent, '/');
	if (slash == NULL)
		(void)snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	pfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd >= 0) {
		(void)fsync(pfd);
		(void)close(pfd);
	}
	return 0;
}

static void release(struct wd_imgb *b)
{
	struct wd_err ignored;

	if (b->tmp_fd >= 0)
		(void)close(b->tmp_fd);
	if (b->tmp[0] != '\0' && wd_rootfs_remove(b->tmp, &ignored) < 0)
		wd_warn("%s", ignored.msg);
	wd_cpio_free(&b->base);
	free(b->base_raw);
	wd_rootfs_report_free(&b->rep);
	wd_imgman_free(&b->m);
	free(b->policy_text);
}

int wd_image_build(const struct wd_imgbuild_opts *o, struct wd_err *err)
{
	struct wd_imgb *b = calloc(1, sizeof(*b));
	int rc;

	if (b == NULL)
		return wd_err_set(err, ENOMEM, "out of memory");
	b->o = o;
	b->tmp_fd = -1;
	rc = make_tmp(b, err);
	if (rc == 0)
		rc = wd_imgb_read_base(b, err);
	if (rc == 0)
		rc = choose_epoch(b, err);
	if (rc == 0) {
		wd_info("timestamps: %llu (from %s)", (unsigned long long)b->epoch, b->epoch_from);
		rc = take_kernel(b, err);
	}
	if (rc == 0)
		rc = stage_rootfs(b, err);
	if (rc == 0)
		rc = make_erofs(b, err);
	if (rc == 0)
		rc = wd_rootfs_remove(b->stage, err);
	if (rc == 0)
		rc = make_verity(b, err);
	if (rc == 0)
		rc = wd_imgb_initramfs(b, err);
	if (rc == 0)
		rc = write_manifest(b, err);
	if (rc == 0)
		rc = finish(b, err);
	release(b);
	free(b);
	return rc;
}
