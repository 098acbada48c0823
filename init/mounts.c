/*
 * init/mounts.c - the guest's early file systems, as a table.
 *
 * Read it top to bottom: each row is mounted in order, its target created
 * first when missing. Every row but the optional ones is required: if it
 * fails, init powers off. Flags follow one rule: nothing that holds data
 * the agent could write is executable or honours set-uid bits or device
 * nodes, and sizes are capped so no tmpfs can eat the VM's memory.
 * /dev itself is mounted by console.c if the kernel gave init no console,
 * and /proc by main.c to read the command line: a row whose target is
 * already a mount point is reported and skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "../common/log.h"
#include "init.h"

#define NOSUID_NODEV_NOEXEC (MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define SHM_BYTES (16ULL << 20)

struct mount_row {
	const char *source, *target, *fstype;
	unsigned long flags;
	const char *data; /* "%llu" is replaced by the row's size cap */
	int size_key;     /* 0: none, 1: warden.tmp_size, 2: warden.run_size, 3: SHM_BYTES */
	bool optional;    /* a kernel may lack it */
	bool unmount;     /* unmounted at shutdown (others are kernel views) */
};

/* clang-format off */
static const struct mount_row rows[] = {
	{ "devtmpfs",   "/dev",                 "devtmpfs",   MS_NOSUID | MS_NOEXEC, "mode=0755",                  0, false, false },
	{ "devpts",     "/dev/pts",             "devpts",     MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620", 0, false, false },
	{ "shm",        "/dev/shm",             "tmpfs",      NOSUID_NODEV_NOEXEC,   "mode=1777,size=%llu",        3, false, true  },
	{ "proc",       "/proc",                "proc",       NOSUID_NODEV_NOEXEC,   NULL,                         0, false, false },
	{ "sysfs",      "/sys",                 "sysfs",      NOSUID_NODEV_NOEXEC | MS_RDONLY, NULL,               0, false, false },
	{ "securityfs", "/sys/kernel/security", "securityfs", NOSUID_NODEV_NOEXEC,   NULL,                         0, true,  false },
	{ "cgroup2",    "/sys/fs/cgroup",       "cgroup2",    NOSUID_NODEV_NOEXEC,   "nsdelegate",                 0, false, false },
	{ "tmpfs",      "/run",                 "tmpfs",      NOSUID_NODEV_NOEXEC,   "mode=0755,size=%llu",        2, false, true  },
	{ "tmpfs",      "/tmp",                 "tmpfs",      NOSUID_NODEV_NOEXEC,   "mode=1777,size=%llu",        1, false, true  },
};
/* clang-format on */
#define ROW_COUNT (sizeof(rows) / sizeof(rows[0]))

static unsigned long long row_size(const struct mount_row *r, const struct init_config *cfg)
{
	switch (r->size_key) {
	case 1:
		return (unsigned long long)cfg->tmp_bytes;
	case 2:
		return (unsigned long long)cfg->run_bytes;
	case 3:
		return SHM_BYTES;
	default:
		return 0;
	}
}

/* A mount point sits on another device than its parent directory. */
static bool already_mounted(const char *target, const struct stat *st)
{
	char parent[64];
	const char *slash = strrchr(target, '/');
	struct stat pst;

	if (slash == NULL || (size_t)(slash - target) >= sizeof(parent))
		return false;
	if (slash == target)
		memcpy(parent, "/", 2);
	else {
		memcpy(parent, target, (size_t)(slash - target));
		parent[slash - target] = '\0';
	}
	return stat(parent, &pst) == 0 && pst.st_dev != st->st_dev;
}

static int mount_row(const struct mount_row *r, const struct init_config *cfg, struct wd_err *err)
{
	char data[128];
	const char *opts = NULL;
	struct stat st;

	if (r->data != NULL) {
		/* The format string comes from the table above, never from input. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		(void)snprintf(data, sizeof(data), r->data, row_size(r, cfg));
#pragma GCC diagnostic pop
		opts = data;
	}
	if (lstat(r->target, &st) < 0 &&
	    (errno != ENOENT || mkdir(r->target, 0755) < 0 || lstat(r->target, &st) < 0))
		return wd_err_sys(err, errno, "mount %s: create the mount point", r->target);
	if (!S_ISDIR(st.st_mode)) {
		/* A symlink or file here is not ours: never mount through it. */
		return wd_err_set(err, ENOTDIR, "mount %s: not a directory", r->target);
	}
	if (already_mounted(r->target, &st)) {
		wd_info("mount %s: already mounted", r->target);
		return 0;
	}
	if (mount(r->source, r->target, r->fstype, r->flags, opts) < 0) {
		if (r->optional && (errno == ENODEV || errno == ENOENT)) {
			wd_info("mount %s (%s): not offered by this kernel", r->target, r->fstype);
			return 0;
		}
		return wd_err_sys(err, errno, "mount %s (%s)", r->target, r->fstype);
	}
	wd_info("mount %s (%s%s%s): ok", r->target, r->fstype, opts != NULL ? ", " : "",
		opts != NULL ? opts : "");
	return 0;
}

int init_mounts_early(const struct init_config *cfg, struct wd_err *err)
{
	for (size_t i = 0; i < ROW_COUNT; i++) {
		if (mount_row(&rows[i], cfg, err) < 0)
			return wd_err_wrap(err, "early mounts");
	}
	return 0;
}

/*
 * At shutdown: unmount the image's root filesystem, then what holds data,
 * in reverse order; a busy one is remounted read-only instead. Then the root
 * (the initramfs) read-only, so nothing can write while the VM goes down.
 */
void init_mounts_shutdown(void)
{
	/* The image's root filesystem (rootfs.c) sits on /run: off first, so that
	 * /run is not busy. Not mounted (no image, a failed boot) is fine. */
	if (umount2(INIT_ROOTFS_MOUNT, 0) < 0 && errno != EINVAL && errno != ENOENT)
		wd_warn_sys(errno, "shutdown: unmount %s", INIT_ROOTFS_MOUNT);
	for (size_t i = ROW_COUNT; i-- > 0;) {
		const struct mount_row *r = &rows[i];

		if (!r->unmount)
			continue;
		if (umount2(r->target, 0) == 0)
			continue;
		if (mount(NULL, r->target, NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
			wd_warn_sys(errno, "shutdown: %s: neither unmounted nor read-only",
				    r->target);
	}
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0)
		wd_debug_sys(errno, "shutdown: remount / read-only");
}
