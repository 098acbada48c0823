/*
 * init/dm.c - one read-only device-mapper device, through the kernel's
 * ioctls (linux/dm-ioctl.h) on /dev/mapper/control (rootfs.h).
 *
 * No libdevmapper and no udev: init needs one device with one target, so
 * it speaks the four ioctls that takes (as dmsetup would:
 * `dmsetup create --readonly NAME --table "0 SECTORS verity PARAMS"`).
 * bench/rdbench uses the same calls for a plain `linear` mapping.
 * Interface version: init asks for major 4, minor 0, the oldest minor
 * these calls exist in; the kernel refuses another major and answers
 * with its own version. Buffers are fixed and small (DM_BUFFER_BYTES);
 * parameters that do not fit are an error, never truncated.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <stdalign.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/log.h"
#include "rootfs.h"

#define DM_CONTROL_PATH "/dev/" DM_DIR "/" DM_CONTROL_NODE
#define DM_BUFFER_BYTES 2048 /* struct dm_ioctl, one target spec, its parameters */
#define DM_MISC_MAJOR 10     /* the control node is a misc device */

struct dm_call {
	alignas(8) unsigned char buf[DM_BUFFER_BYTES];
};

static struct dm_ioctl *dm_init(struct dm_call *c, const char *name)
{
	struct dm_ioctl *io = (struct dm_ioctl *)c->buf;

	memset(c, 0, sizeof(*c));
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = sizeof(*io);
	io->data_start = sizeof(*io);
	if (name != NULL)
		(void)snprintf(io->name, sizeof(io->name), "%s", name);
	return io;
}

static int dm_call(int fd, unsigned long req, const char *what, struct dm_call *c,
		   struct wd_err *err)
{
	if (ioctl(fd, req, c->buf) < 0)
		return wd_err_sys(err, errno, "device-mapper: %s", what);
	return 0;
}

static int open_control(struct wd_err *err)
{
	struct stat st;
	int fd = open(DM_CONTROL_PATH, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return wd_err_sys(err, errno, "device-mapper: open %s", DM_CONTROL_PATH);
	if (fstat(fd, &st) < 0 || !S_ISCHR(st.st_mode) || major(st.st_rdev) != DM_MISC_MAJOR) {
		(void)close(fd);
		return wd_err_set(err, ENODEV, "device-mapper: %s is not the control device",
				  DM_CONTROL_PATH);
	}
	return fd;
}

static int check_version(int fd, struct wd_err *err)
{
	static struct dm_call c;
	struct dm_ioctl *io = dm_init(&c, NULL);

	if (dm_call(fd, DM_VERSION, "version", &c, err) < 0)
		return wd_err_ret(err);
	if (io->version[0] != DM_VERSION_MAJOR)
		return wd_err_set(err, EPROTO, "device-mapper: interface %u, not %d",
				  io->version[0], DM_VERSION_MAJOR);
	wd_debug("device-mapper: interface %u.%u.%u", io->version[0], io->version[1],
		 io->version[2]);
	return 0;
}

static int load_table(int fd, const char *name, const char *target, uint64_t sectors,
		      const char *params, struct wd_err *err)
{
	static struct dm_call c;
	struct dm_ioctl *io = dm_init(&c, name);
	struct dm_target_spec *spec = (struct dm_target_spec *)(c.buf + sizeof(*io));
	size_t plen = strlen(params) + 1;
	size_t end = sizeof(*io) + sizeof(*spec) + plen;

	end = (end + 7) & ~(size_t)7; /* the kernel reads specs 8-byte aligned */
	if (end > sizeof(c.buf))
		return wd_err_set(err, E2BIG, "device-mapper: table parameters over %zu bytes",
				  sizeof(c.buf) - sizeof(*io) - sizeof(*spec) - 1);
	io->data_size = (uint32_t)end;
	io->target_count = 1;
	io->flags = DM_READONLY_FLAG;
	spec->sector_start = 0;
	spec->length = sectors;
	spec->next = (uint32_t)(end - sizeof(*io));
	(void)snprintf(spec->target_type, sizeof(spec->target_type), "%s", target);
	memcpy(c.buf + sizeof(*io) + sizeof(*spec), params, plen);
	return dm_call(fd, DM_TABLE_LOAD, "load the table", &c, err);
}

static void remove_device(int fd, const char *name)
{
	static struct dm_call c;
	struct wd_err err;

	(void)dm_init(&c, name);
	if (dm_call(fd, DM_DEV_REMOVE, "remove", &c, &err) < 0)
		wd_warn("%s", err.msg);
}

int init_dm_create(const char *name, const char *target, uint64_t sectors, const char *params,
		   uint64_t *dev, struct wd_err *err)
{
	static struct dm_call c;
	struct dm_ioctl *io;
	int fd, rc;

	if (strlen(target) >= DM_MAX_TYPE_NAME)
		return wd_err_set(err, ENAMETOOLONG, "device-mapper: target type over %d bytes",
				  DM_MAX_TYPE_NAME - 1);
	if (strlen(name) >= DM_NAME_LEN)
		return wd_err_set(err, ENAMETOOLONG, "device-mapper: name over %d bytes",
				  DM_NAME_LEN - 1);
	fd = open_control(err);
	if (fd < 0)
		return fd;
	rc = check_version(fd, err);
	if (rc < 0)
		goto out;
	io = dm_init(&c, name);
	io->flags = DM_READONLY_FLAG;
	rc = dm_call(fd, DM_DEV_CREATE, "create", &c, err);
	if (rc < 0)
		goto out;
	*dev = io->dev;
	rc = load_table(fd, name, target, sectors, params, err);
	if (rc == 0) {
		/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the loaded table goes live. */
		(void)dm_init(&c, name);
		rc = dm_call(fd, DM_DEV_SUSPEND, "resume", &c, err);
	}
	if (rc < 0)
		remove_device(fd, name);
out:
	(void)close(fd);
	return rc;
}
