/*
 * init/rootfs.c - the rootfs phase: the image's root filesystem found,
 * verified, mapped through dm-verity and mounted (rootfs.h).
 *
 * Runs in a VM only, after the modules (virtio_blk, dm_mod, dm_verity,
 * erofs) are loaded and module loading is locked: nothing here may need
 * the kernel to load anything. The devices are the ones whose virtio
 * serial the pin names; the host attaches them read-only, and init also
 * marks them read-only in the guest (BLKROSET) before reading them.
 *
 * Trust: the pin is part of the measured initramfs; the two devices are
 * not trusted at all. Their sizes are checked, the whole hash tree is
 * checked against the pinned root hash before the device-mapper table is
 * loaded, and every data block read later is checked by dm-verity (EIO on
 * a mismatch). The table names the devices by number (major:minor), the
 * very devices whose tree was checked, not by a path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../common/parse.h"
#include "rootfs.h"

#define SYS_BLOCK "/sys/block"
#define MAX_BLOCK_DEVICES 256 /* entries of /sys/block looked at */
#define SYSFS_VALUE_BYTES 64  /* a serial, a "MAJ:MIN" */
#define EROFS_SUPER_OFFSET 1024
#define EROFS_SUPER_MAGIC_V1 0xE0F5E1E2U
#define SECTOR_BYTES 512
#define DM_PARAMS_BYTES 512

struct blockdev {
	char name[INIT_ROOTFS_DEV_NAME_MAX];
	int fd;
	uint64_t bytes;
};

/* A sysfs attribute, trailing newline and blanks removed. */
static int read_attr(const char *dev, const char *attr, char *out, size_t size, struct wd_err *err)
{
	char path[128];
	size_t len;

	(void)snprintf(path, sizeof(path), SYS_BLOCK "/%s/%s", dev, attr);
	if (wd_read_file(path, out, size, &len, err) < 0)
		return wd_err_ret(err);
	while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == ' '))
		out[--len] = '\0';
	return 0;
}

static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= INIT_ROOTFS_DEV_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	}
	return true;
}

/* The one block device whose serial is `serial`; `role` names it in errors. */
static int find_by_serial(const char *serial, const char *role, char *name, struct wd_err *err)
{
	unsigned scanned = 0, found = 0;
	struct dirent *e;
	DIR *d = opendir(SYS_BLOCK);

	if (d == NULL)
		return wd_err_sys(err, errno, "rootfs: open %s", SYS_BLOCK);
	while ((e = readdir(d)) != NULL) {
		char got[SYSFS_VALUE_BYTES];
		struct wd_err ignored;

		if (e->d_name[0] == '.')
			continue;
		if (++scanned > MAX_BLOCK_DEVICES) {
			(void)closedir(d);
			return wd_err_set(err, E2BIG, "rootfs: over %d block devices",
					  MAX_BLOCK_DEVICES);
		}
		/* Devices without a serial (not virtio-blk) are simply not it. */
		if (!plain_name(e->d_name) ||
		    read_attr(e->d_name, "serial", got, sizeof(got), &ignored) < 0 ||
		    strcmp(got, serial) != 0)
			continue;
		if (found++ > 0) {
			(void)closedir(d);
			return wd_err_set(err, EEXIST,
					  "rootfs: two block devices with serial '%s' (%s, %s)",
					  serial, name, e->d_name);
		}
		memcpy(name, e->d_name, strlen(e->d_name) + 1); /* plain_name: it fits */
	}
	(void)closedir(d);
	if (found == 0)
		return wd_err_set(err, ENODEV, "rootfs: no block device with serial '%s' (%s)",
				  serial, role);
	return 0;
}

/* sysfs's "MAJ:MIN" of a block device. */
static int sysfs_devno(const char *name, unsigned *maj, unsigned *min, struct wd_err *err)
{
	char devno[SYSFS_VALUE_BYTES];
	uint64_t a, b;
	char *colon;

	if (read_attr(name, "dev", devno, sizeof(devno), err) < 0 ||
	    (colon = strchr(devno, ':')) == NULL)
		return wd_err_set(err, EINVAL, "rootfs: %s: no device number in sysfs", name);
	*colon = '\0';
	if (wd_parse_u64(devno, 0, 0xfff, &a, err) < 0 ||
	    wd_parse_u64(colon + 1, 0, 0xfffff, &b, err) < 0)
		return wd_err_wrap(err, "rootfs: %s: device number", name);
	*maj = (unsigned)a;
	*min = (unsigned)b;
	return 0;
}

/* Open /dev/NAME, make sure it is the device sysfs describes, mark it read-only. */
static int open_device(struct blockdev *b, struct wd_err *err)
{
	char path[64];
	unsigned maj = 0, min = 0;
	struct stat st;
	int one = 1;

	if (sysfs_devno(b->name, &maj, &min, err) < 0)
		return wd_err_ret(err);
	(void)snprintf(path, sizeof(path), "/dev/%s", b->name);
	b->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (b->fd < 0)
		return wd_err_sys(err, errno, "rootfs: open %s", path);
	if (fstat(b->fd, &st) < 0)
		return wd_err_sys(err, errno, "rootfs: stat %s", path);
	if (!S_ISBLK(st.st_mode) || major(st.st_rdev) != maj || minor(st.st_rdev) != min)
		return wd_err_set(err, ENODEV, "rootfs: %s is not block device %u:%u", path, maj,
				  min);
	if (ioctl(b->fd, BLKROSET, &one) < 0)
		return wd_err_sys(err, errno, "rootfs: %s: set read-only", path);
	if (ioctl(b->fd, BLKGETSIZE64, &b->bytes) < 0)
		return wd_err_sys(err, errno, "rootfs: %s: size", path);
	return 0;
}

struct reader {
	struct blockdev *data, *hash;
	uint64_t reads;
};

static int read_block(enum init_verity_dev which, uint64_t block, uint8_t *buf, void *ctx,
		      struct wd_err *err)
{
	struct reader *r = ctx;
	struct blockdev *b = which == INIT_VERITY_DATA ? r->data : r->hash;
	off_t off = (off_t)(block * INIT_ROOTFS_BLOCK_BYTES);
	size_t got = 0;

	while (got < INIT_ROOTFS_BLOCK_BYTES) {
		ssize_t n =
			pread(b->fd, buf + got, INIT_ROOTFS_BLOCK_BYTES - got, off + (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wd_err_sys(err, errno, "rootfs: read %s block %llu", b->name,
					  (unsigned long long)block);
		if (n == 0)
			return wd_err_set(err, EIO, "rootfs: read %s block %llu: end of device",
					  b->name, (unsigned long long)block);
		got += (size_t)n;
	}
	r->reads++;
	return 0;
}

static int check_sizes(const struct init_rootfs_pin *pin, const struct init_verity_geom *g,
		       const struct blockdev *data, const struct blockdev *hash, struct wd_err *err)
{
	uint64_t want = pin->data_blocks * INIT_ROOTFS_BLOCK_BYTES;
	uint64_t tree = g->hash_blocks * INIT_ROOTFS_BLOCK_BYTES;

	if (data->bytes != want)
		return wd_err_set(err, EINVAL,
				  "rootfs: data device %s holds %llu bytes, the pin says %llu "
				  "(%llu blocks of %d)",
				  data->name, (unsigned long long)data->bytes,
				  (unsigned long long)want, (unsigned long long)pin->data_blocks,
				  INIT_ROOTFS_BLOCK_BYTES);
	if (hash->bytes < tree)
		return wd_err_set(
			err, EINVAL, "rootfs: hash device %s holds %llu bytes, the tree needs %llu",
			hash->name, (unsigned long long)hash->bytes, (unsigned long long)tree);
	return 0;
}

/* The first block through dm-verity: checked against the tree, and an erofs superblock. */
static int check_superblock(const char *node, struct wd_err *err)
{
	static uint8_t block[INIT_ROOTFS_BLOCK_BYTES];
	const uint8_t *m = block + EROFS_SUPER_OFFSET;
	uint32_t magic;
	ssize_t n;
	int fd = open(node, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return wd_err_sys(err, errno, "rootfs: open %s", node);
	n = pread(fd, block, sizeof(block), 0);
	if (n < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "rootfs: read the superblock through %s", node);
	}
	(void)close(fd);
	if (n != (ssize_t)sizeof(block))
		return wd_err_set(err, EIO, "rootfs: short read of the superblock through %s",
				  node);
	magic = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
	if (magic != EROFS_SUPER_MAGIC_V1)
		return wd_err_set(err, EINVAL,
				  "rootfs: %s holds no erofs file system (magic 0x%08x)", node,
				  magic);
	return 0;
}

/* The device node devtmpfs made for the new dm device, checked against its number. */
static int dm_node(uint64_t dev, char *node, size_t size, struct wd_err *err)
{
	struct stat st;

	(void)snprintf(node, size, "/dev/dm-%u", minor((dev_t)dev));
	if (lstat(node, &st) < 0)
		return wd_err_sys(err, errno, "rootfs: %s", node);
	if (!S_ISBLK(st.st_mode) || st.st_rdev != (dev_t)dev)
		return wd_err_set(err, ENODEV, "rootfs: %s is not device %u:%u", node,
				  major((dev_t)dev), minor((dev_t)dev));
	return 0;
}

static int make_dir(const char *path, struct wd_err *err)
{
	struct stat st;

	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return wd_err_sys(err, errno, "rootfs: mkdir %s", path);
	if (lstat(path, &st) < 0)
		return wd_err_sys(err, errno, "rootfs: stat %s", path);
	if (!S_ISDIR(st.st_mode))
		return wd_err_set(err, ENOTDIR, "rootfs: %s is not a directory", path);
	return 0;
}

static int verify_tree(const struct init_rootfs_pin *pin, const struct init_verity_geom *g,
		       struct blockdev *data, struct blockdev *hash, struct wd_err *err)
{
	struct reader r = {data, hash, 0};
	uint64_t t = wd_mono_ns();
	int rc = init_verity_check(g, pin->salt, pin->root_hash, read_block, &r, err);

	if (rc == -EBADMSG)
		return wd_err_wrap(err,
				   "rootfs: hash tree does not match the pinned root hash "
				   "(device %s)",
				   g->levels == 0 ? data->name : hash->name);
	if (rc < 0)
		return rc;
	wd_info("rootfs: hash tree of %s verified: %llu blocks, %u levels, root hash %s "
		"(%.1f ms)",
		hash->name, (unsigned long long)r.reads, g->levels, pin->root_hash_hex,
		(double)(wd_mono_ns() - t) / (double)WD_NS_PER_MS);
	return 0;
}

static int map_and_mount(const struct init_rootfs_pin *pin, const struct blockdev *data,
			 const struct blockdev *hash, struct wd_err *err)
{
	char params[DM_PARAMS_BYTES], node[64];
	struct stat ds, hs;
	uint64_t dev = 0;
	int n;

	if (fstat(data->fd, &ds) < 0 || fstat(hash->fd, &hs) < 0)
		return wd_err_sys(err, errno, "rootfs: stat the devices");
	/* version dev hash_dev data_block hash_block data_blocks hash_start alg root salt */
	n = snprintf(params, sizeof(params), "1 %u:%u %u:%u %d %d %llu 0 sha256 %s %s",
		     major(ds.st_rdev), minor(ds.st_rdev), major(hs.st_rdev), minor(hs.st_rdev),
		     INIT_ROOTFS_BLOCK_BYTES, INIT_ROOTFS_BLOCK_BYTES,
		     (unsigned long long)pin->data_blocks, pin->root_hash_hex, pin->salt_hex);
	if (n < 0 || (size_t)n >= sizeof(params))
		return wd_err_set(err, E2BIG, "rootfs: verity parameters too long");
	if (init_dm_create(INIT_ROOTFS_DM_NAME, "verity",
			   pin->data_blocks * (INIT_ROOTFS_BLOCK_BYTES / SECTOR_BYTES), params,
			   &dev, err) < 0)
		return wd_err_wrap(err, "rootfs: %s", INIT_ROOTFS_DM_NAME);
	if (dm_node(dev, node, sizeof(node), err) < 0 || check_superblock(node, err) < 0)
		return wd_err_ret(err);
	if (make_dir("/run/warden", err) < 0 || make_dir(INIT_ROOTFS_MOUNT, err) < 0)
		return wd_err_ret(err);
	if (mount(node, INIT_ROOTFS_MOUNT, "erofs", MS_RDONLY | MS_NODEV | MS_NOSUID, NULL) < 0)
		return wd_err_sys(err, errno, "rootfs: mount %s (erofs) at %s", node,
				  INIT_ROOTFS_MOUNT);
	wd_info("rootfs: %s (%s, verity over %s and %s) mounted read-only, nodev, nosuid at %s",
		node, INIT_ROOTFS_DM_NAME, data->name, hash->name, INIT_ROOTFS_MOUNT);
	return 0;
}

static int setup(const struct init_rootfs_pin *pin, struct blockdev *data, struct blockdev *hash,
		 struct wd_err *err)
{
	struct init_verity_geom g;

	if (find_by_serial(pin->data_serial, "the root filesystem", data->name, err) < 0 ||
	    find_by_serial(pin->hash_serial, "its hash tree", hash->name, err) < 0 ||
	    open_device(data, err) < 0 || open_device(hash, err) < 0)
		return wd_err_ret(err);
	if (init_verity_geometry(pin->data_blocks, &g, err) < 0)
		return wd_err_wrap(err, "rootfs");
	if (check_sizes(pin, &g, data, hash, err) < 0)
		return wd_err_ret(err);
	wd_info("rootfs: data %s (serial %s, %llu blocks), hash tree %s (serial %s)", data->name,
		pin->data_serial, (unsigned long long)pin->data_blocks, hash->name,
		pin->hash_serial);
	if (verify_tree(pin, &g, data, hash, err) < 0)
		return wd_err_ret(err);
	return map_and_mount(pin, data, hash, err);
}

int init_rootfs_setup(struct init_rootfs *out, struct wd_err *err)
{
	static char text[INIT_ROOTFS_PIN_MAX_BYTES + 1];
	struct blockdev data = {"", -1, 0}, hash = {"", -1, 0};
	struct init_rootfs_pin pin;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (access(INIT_ROOTFS_PIN_FILE, F_OK) < 0) {
		if (errno != ENOENT)
			return wd_err_sys(err, errno, "rootfs: %s", INIT_ROOTFS_PIN_FILE);
		wd_info("rootfs: none (the image has no %s)", INIT_ROOTFS_PIN_FILE);
		return 0;
	}
	if (wd_read_file(INIT_ROOTFS_PIN_FILE, text, sizeof(text), &len, err) < 0 ||
	    init_rootfs_pin_parse(text, len, &pin, err) < 0)
		return wd_err_wrap(err, "rootfs: %s", INIT_ROOTFS_PIN_FILE);
	rc = setup(&pin, &data, &hash, err);
	if (data.fd >= 0)
		(void)close(data.fd);
	if (hash.fd >= 0)
		(void)close(hash.fd);
	if (rc < 0)
		return rc;
	out->present = true;
	memcpy(out->root_hash_hex, pin.root_hash_hex, sizeof(out->root_hash_hex));
	memcpy(out->data_dev, data.name, sizeof(out->data_dev));
	memcpy(out->hash_dev, hash.name, sizeof(out->hash_dev));
	return 0;
}
