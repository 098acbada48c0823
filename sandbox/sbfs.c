/*
 * sandbox/sbfs.c - the sandbox's filesystem: a fresh root built from
 * fd-based mounts, entered with pivot_root.
 *
 * Runs in the sandbox's init (root, its own mount and pid namespaces)
 * before anything untrusted exists. Every source is cloned first
 * (open_tree), then a tmpfs for the new root is mounted on /tmp of this
 * private namespace and filled: the read-only binds, the working
 * directory, /tmp, /proc, /dev (and, over binds from the host's own
 * filesystem, an empty /usr/local; with egress on, an empty
 * /etc/resolv.conf). Targets are created here, in a tmpfs no
 * other process can reach, one path component at a time with openat2(2)
 * beneath that root and no symlink followed (the binds copy symlinks into
 * it, whose targets would resolve against this process's root); mounts
 * are attached with move_mount(2) on the directory so opened: no mount
 * lands anywhere but where this file put a directory. A bind below a bind
 * that is a symlink is refused.
 *
 * pivot_root then makes the new root this namespace's root and the old one
 * is detached. An initramfs root (rootfs) cannot be pivoted away from
 * (it has no parent mount): there the new root is moved over / and entered
 * with chroot, and rootfs stays underneath, unreachable without the mount,
 * chroot and handle syscalls and capabilities the agent does not have.
 */
#include "sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE /* musl's sys/mount.h predates the new mount API */
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#define FSOPEN_CLOEXEC 0x00000001
#define FSMOUNT_CLOEXEC 0x00000001
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_CMD_CREATE 6
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
struct mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

#define STAGE "/tmp"        /* where the new root is built, in this namespace only */
#define ROOT_SIZE "size=1m" /* the root itself holds only mount points */
#define DEV_SIZE "size=64k"
#define MASK_SIZE "size=4k"

/* /proc files and directories hidden from the agent (covered by /dev/null
 * or an empty read-only tmpfs), and those it may read but not write. What
 * the kernel lacks is skipped. Masked: the kernel's command line, memory,
 * symbols, keys, timers and scheduler internals, its hardware and
 * interrupts, its log (kmsg), its debug switches and the source lines
 * behind them (dynamic_debug), a crashed kernel's memory (vmcore), and the
 * machine's disks and swap files by name (partitions, diskstats, swaps:
 * the host's, in local mode). docs/sandbox.md. */
static const char *const proc_masked[] = {
	"cmdline",    "kcore",       "keys",          "key-users",    "kallsyms",
	"modules",    "timer_list",  "timer_stats",   "sched_debug",  "latency_stats",
	"config.gz",  "vmallocinfo", "slabinfo",      "pagetypeinfo", "iomem",
	"ioports",    "kpagecount",  "kpageflags",    "kpagecgroup",  "acpi",
	"asound",     "scsi",        "driver",        "tty/driver",   "mtrr",
	"dma",        "interrupts",  "softirqs",      "buddyinfo",    "zoneinfo",
	"bootconfig", "kmsg",        "dynamic_debug", "vmcore",       "partitions",
	"diskstats",  "swaps",
};
static const char *const proc_readonly[] = {"sys", "bus", "fs", "irq", "sysrq-trigger"};

/* The device nodes of the sandbox's /dev: name, major, minor. */
static const struct {
	const char *name;
	unsigned major, minor;
} dev_nodes[] = {
	{"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
	{"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};
static const struct {
	const char *name, *target;
} dev_links[] = {
	{"ptmx", "pts/ptmx"},          {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"},
	{"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
};

/*
 * When the binds come from the host's own filesystem (sandbox.h:
 * binds_from_host), what the host keeps below them for itself, covered by
 * an empty read-only tmpfs: locally built programs, their configuration
 * and whatever else an administrator put there. Each is a direct child of
 * a bind; the policy may still bind it (or below it) explicitly.
 */
static const char *const host_hidden[] = {"/usr/local"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Mount sources taken before the staging directory is covered. */
struct sup_sb_fs {
	int bind_mnt[SUP_SB_MAX_BINDS];                    /* detached clones, or -1 */
	char bind_link[SUP_SB_MAX_BINDS][SUP_SB_PATH_MAX]; /* a symlink's target, or "" */
	int work_mnt;
};

static long tree_clone(int dfd, const char *path, unsigned flags)
{
	return syscall(SYS_open_tree, dfd, path, flags);
}

static int attach(int mnt, int dirfd, const char *rel)
{
	return (int)syscall(SYS_move_mount, mnt, "", dirfd, rel, MOVE_MOUNT_F_EMPTY_PATH);
}

static int set_attr(int mnt, uint64_t set, bool recursive)
{
	struct mount_attr a = {.attr_set = set};

	return (int)syscall(SYS_mount_setattr, mnt, "",
			    AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), &a, sizeof(a));
}

/* A new filesystem instance, detached, with string options "k=v,k2=v2". */
static int new_fs(const char *type, const char *opts, uint64_t attrs, struct wd_err *err)
{
	char buf[128], *save = NULL;
	int fs, mnt;

	fs = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
	if (fs < 0)
		return wd_err_sys(err, errno, "filesystem: fsopen %s", type);
	(void)snprintf(buf, sizeof(buf), "%s", opts != NULL ? opts : "");
	for (char *kv = strtok_r(buf, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq != NULL)
			*eq = '\0';
		if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, kv, eq != NULL ? eq + 1 : NULL,
			    0) < 0) {
			int e = errno;

			(void)close(fs);
			return wd_err_sys(err, e, "filesystem: %s option %s", type, kv);
		}
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int e = errno;

		(void)close(fs);
		return wd_err_sys(err, e, "filesystem: create %s", type);
	}
	mnt = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, (unsigned)attrs);
	(void)close(fs);
	if (mnt < 0)
		return wd_err_sys(err, errno, "filesystem: fsmount %s", type);
	return mnt;
}

/*
 * mkdir -p of `rel` below `root` (our own tmpfs), mode 0755, one component
 * at a time, each opened beneath the one before without following any
 * symlink: the new root holds symlinks copied from binds (sup_sb_fs.bind_link,
 * such as an image's /lib -> /usr/lib), and a path through one would be
 * resolved against this process's root, not the new one. Returns an O_PATH
 * fd of the directory `rel` names (or of its parent with `parent`, the
 * last component then left to the caller), or -errno: -ELOOP when a
 * component is a symlink.
 */
static int open_dirs(int root, const char *rel, bool parent, struct wd_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	char path[SUP_SB_PATH_MAX];
	char *c = path, *slash;
	int dir = openat(root, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dir < 0)
		return wd_err_sys(err, errno, "filesystem: open the new root");
	(void)snprintf(path, sizeof(path), "%s", rel);
	for (;; c = slash + 1) {
		int next;

		slash = strchr(c, '/');
		if (slash != NULL)
			*slash = '\0';
		else if (parent)
			return dir;
		if (mkdirat(dir, c, 0755) < 0 && errno != EEXIST) {
			int e = errno;

			(void)close(dir);
			return wd_err_sys(err, e, "filesystem: mkdir %s", path);
		}
		next = (int)syscall(SYS_openat2, dir, c, &how, sizeof(how));
		if (next < 0) {
			int e = errno;

			(void)close(dir);
			return e == ELOOP ? wd_err_set(err, ELOOP,
						       "filesystem: %s is a symlink in the new "
						       "root: nothing is mounted through it",
						       path)
					  : wd_err_sys(err, e, "filesystem: open %s", path);
		}
		(void)close(dir);
		dir = next;
		if (slash == NULL)
			return dir;
		*slash = '/';
	}
}

/* Mount the detached `mnt` on `rel` (relative to the new root), then close
 * it: on the directory open_dirs() opened, never through a symlink. */
static int place(int root, int mnt, const char *rel, struct wd_err *err)
{
	int dir = open_dirs(root, rel, false, err), rc = 0;

	if (dir < 0)
		rc = wd_err_ret(err);
	else if (syscall(SYS_move_mount, mnt, "", dir, "",
			 MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rc = wd_err_sys(err, errno, "filesystem: mount on %s", rel);
	if (dir >= 0)
		(void)close(dir);
	(void)close(mnt);
	return rc;
}

/* Clone of a read-only bind source: the tree at `path` (dfd AT_FDCWD), or
 * at the directory `dfd` itself (an O_PATH fd; `path` then only names it),
 * read-only, nosuid and nodev all the way down. */
static int clone_ro_at(int dfd, const char *path, struct wd_err *err)
{
	int mnt = (int)tree_clone(dfd, dfd == AT_FDCWD ? path : "",
				  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
					  AT_SYMLINK_NOFOLLOW |
					  (dfd == AT_FDCWD ? 0 : AT_EMPTY_PATH));

	if (mnt < 0)
		return wd_err_sys(err, errno, "filesystem: bind %s", path);
	if (set_attr(mnt, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true) < 0) {
		int e = errno;

		(void)close(mnt);
		return wd_err_sys(err, e, "filesystem: make %s read-only", path);
	}
	return mnt;
}

int sup_sb_bind_source(int rootfd, const char *path, int *fd, char link[SUP_SB_PATH_MAX],
		       struct wd_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	struct stat st;
	int f;

	*fd = -1;
	link[0] = '\0';
	/* "/usr/lib" is "usr/lib" below the image's root; a leading "/" would
	 * be taken there too, but says nothing more. */
	f = (int)syscall(SYS_openat2, rootfd, path[0] == '/' ? path + 1 : path, &how, sizeof(how));
	if (f < 0)
		return wd_err_sys(err, errno, "filesystem: bind %s (in the image)", path);
	if (fstat(f, &st) < 0) {
		int e = errno;

		(void)close(f);
		return wd_err_sys(err, e, "filesystem: bind %s (in the image)", path);
	}
	if (S_ISLNK(st.st_mode)) {
		ssize_t n = readlinkat(f, "", link, SUP_SB_PATH_MAX - 1);
		int e = errno;

		(void)close(f);
		if (n <= 0 || n >= SUP_SB_PATH_MAX - 1) {
			link[0] = '\0';
			return n < 0 ? wd_err_sys(err, e, "filesystem: readlink %s (in the image)",
						  path)
				     : wd_err_set(err, ENAMETOOLONG,
						  "filesystem: bind %s: its symlink's target is "
						  "empty or too long",
						  path);
		}
		link[n] = '\0';
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		(void)close(f);
		return wd_err_set(err, ENOTDIR,
				  "filesystem: bind %s (in the image): not a directory", path);
	}
	*fd = f;
	return 0;
}

/* A bind's clone from the image root `rootfd` (sup_sb_bind_source()). */
static int take_image_source(int rootfd, const char *path, int *mnt, char link[SUP_SB_PATH_MAX],
			     struct wd_err *err)
{
	int dir;

	if (sup_sb_bind_source(rootfd, path, &dir, link, err) < 0)
		return wd_err_ret(err);
	if (dir < 0)
		return 0; /* a symlink, copied */
	*mnt = clone_ro_at(dir, path, err);
	(void)close(dir);
	return *mnt < 0 ? wd_err_ret(err) : 0;
}

/*
 * The sources, taken before /tmp is covered: each read-only bind (a
 * symlink, such as /lib on a merged-/usr system, is copied as a symlink),
 * from this process's root or, with sb->image_root, from inside the image
 * (sup_sb_bind_source()); and the working directory (a detached clone
 * made by the supervisor, in its own namespace: a clone is only possible
 * there).
 */
static int take_sources(const struct sup_sandbox *sb, int work_mnt, struct sup_sb_fs *fs,
			struct wd_err *err)
{
	int rootfd = -1;

	for (size_t i = 0; i < sb->n_ro_binds; i++) {
		fs->bind_mnt[i] = -1;
		fs->bind_link[i][0] = '\0';
	}
	fs->work_mnt = work_mnt;
	if (sb->image_root[0] != '\0') {
		rootfd = open(sb->image_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			return wd_err_sys(err, errno, "filesystem: the image root %s",
					  sb->image_root);
	}
	for (size_t i = 0; i < sb->n_ro_binds; i++) {
		struct stat st;

		if (rootfd >= 0) {
			if (take_image_source(rootfd, sb->ro_binds[i], &fs->bind_mnt[i],
					      fs->bind_link[i], err) < 0) {
				(void)close(rootfd);
				return wd_err_ret(err);
			}
			continue;
		}
		if (lstat(sb->ro_binds[i], &st) < 0)
			return wd_err_sys(err, errno, "filesystem: bind %s", sb->ro_binds[i]);
		if (S_ISLNK(st.st_mode)) {
			ssize_t n = readlink(sb->ro_binds[i], fs->bind_link[i],
					     sizeof(fs->bind_link[i]) - 1);

			if (n <= 0)
				return wd_err_sys(err, errno, "filesystem: readlink %s",
						  sb->ro_binds[i]);
			fs->bind_link[i][n] = '\0';
			continue;
		}
		if (!S_ISDIR(st.st_mode))
			return wd_err_set(err, ENOTDIR, "filesystem: bind %s: not a directory",
					  sb->ro_binds[i]);
		fs->bind_mnt[i] = clone_ro_at(AT_FDCWD, sb->ro_binds[i], err);
		if (fs->bind_mnt[i] < 0)
			return wd_err_ret(err);
	}
	if (rootfd >= 0)
		(void)close(rootfd);
	if (work_mnt >= 0 && set_attr(work_mnt, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, true) < 0)
		return wd_err_sys(err, errno, "filesystem: working directory nosuid");
	return 0;
}

int sup_sb_clone_workdir(int workdir_fd)
{
	int m = (int)tree_clone(workdir_fd, "",
				OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);

	return m < 0 ? -errno : m;
}

/* An empty read-only directory, detached: covers what the agent must not see. */
static int empty_dir(struct wd_err *err)
{
	return new_fs("tmpfs", MASK_SIZE ",mode=0555",
		      MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		      err);
}

static int build_proc(int root, struct wd_err *err)
{
	int proc =
		new_fs("proc", NULL, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
	int procdir, null;

	if (proc < 0 || place(root, proc, "proc", err) < 0)
		return wd_err_ret(err);
	procdir = openat(root, "proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	null = openat(root, "dev/null", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (procdir < 0 || null < 0) {
		int e = errno;

		if (procdir >= 0)
			(void)close(procdir);
		return wd_err_sys(err, e, "filesystem: open /proc");
	}
	for (size_t i = 0; i < N(proc_readonly); i++) {
		int m = (int)tree_clone(procdir, proc_readonly[i],
					OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE |
						AT_SYMLINK_NOFOLLOW);

		if (m < 0 && errno == ENOENT)
			continue;
		if (m < 0 || set_attr(m, MOUNT_ATTR_RDONLY, true) < 0 ||
		    attach(m, procdir, proc_readonly[i]) < 0) {
			int e = errno;

			(void)close(procdir);
			(void)close(null);
			return wd_err_sys(err, e, "filesystem: /proc/%s read-only",
					  proc_readonly[i]);
		}
		(void)close(m);
	}
	for (size_t i = 0; i < N(proc_masked); i++) {
		struct stat st;
		int m;

		if (fstatat(procdir, proc_masked[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* this kernel has no such file */
		if (S_ISDIR(st.st_mode))
			m = empty_dir(err);
		else
			m = (int)tree_clone(null, "",
					    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
		if (m < 0 || attach(m, procdir, proc_masked[i]) < 0) {
			int e = errno;

			if (m >= 0)
				(void)close(m);
			(void)close(procdir);
			(void)close(null);
			return wd_err_sys(err, e, "filesystem: mask /proc/%s", proc_masked[i]);
		}
		(void)close(m);
	}
	(void)close(procdir);
	(void)close(null);
	return 0;
}

static int build_dev(int root, const struct sup_sandbox *sb, struct wd_err *err)
{
	char opts[64];
	int dev =
		new_fs("tmpfs", DEV_SIZE ",mode=0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, err);
	int pts, shm;

	if (dev < 0 || place(root, dev, "dev", err) < 0)
		return wd_err_ret(err);
	for (size_t i = 0; i < N(dev_nodes); i++) {
		char rel[32];

		(void)snprintf(rel, sizeof(rel), "dev/%s", dev_nodes[i].name);
		if (mknodat(root, rel, S_IFCHR | 0666,
			    makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0 ||
		    fchmodat(root, rel, 0666, 0) < 0)
			return wd_err_sys(err, errno, "filesystem: mknod /%s", rel);
	}
	for (size_t i = 0; i < N(dev_links); i++) {
		char rel[32];

		(void)snprintf(rel, sizeof(rel), "dev/%s", dev_links[i].name);
		if (symlinkat(dev_links[i].target, root, rel) < 0)
			return wd_err_sys(err, errno, "filesystem: symlink /%s", rel);
	}
	/* A devpts of its own: the agent's ptys are not the guest's. */
	pts = new_fs("devpts", "ptmxmode=0666,mode=0620", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC,
		     err);
	if (pts < 0 || place(root, pts, "dev/pts", err) < 0)
		return wd_err_ret(err);
	(void)snprintf(opts, sizeof(opts), "size=%llum,mode=1777", (unsigned long long)sb->tmp_mib);
	shm = new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, err);
	if (shm < 0 || place(root, shm, "dev/shm", err) < 0)
		return wd_err_ret(err);
	/* Nothing may be created in /dev itself now. */
	dev = (int)tree_clone(root, "dev", OPEN_TREE_CLOEXEC);
	if (dev < 0 || set_attr(dev, MOUNT_ATTR_RDONLY, false) < 0) {
		int e = errno;

		if (dev >= 0)
			(void)close(dev);
		return wd_err_sys(err, e, "filesystem: /dev read-only");
	}
	(void)close(dev);
	return 0;
}

/* `path` (from host_hidden) is to be covered: its parent is bound as a
 * directory, and neither it nor anything below it is bound itself. */
static bool hidden_here(const struct sup_sandbox *sb, const struct sup_sb_fs *fs, const char *path)
{
	size_t len = strlen(path), parent = (size_t)(strrchr(path, '/') - path);
	bool below_bind = false;

	for (size_t i = 0; i < sb->n_ro_binds; i++) {
		const char *b = sb->ro_binds[i];

		if (strncmp(b, path, len) == 0 && (b[len] == '\0' || b[len] == '/'))
			return false;
		if (fs->bind_link[i][0] == '\0' && strlen(b) == parent &&
		    strncmp(b, path, parent) == 0)
			below_bind = true;
	}
	return below_bind;
}

/* After the binds: cover host_hidden where it is a directory (a symlink
 * leads only where a bind of its own would; none is followed here). */
static int hide_host_own(int root, const struct sup_sandbox *sb, const struct sup_sb_fs *fs,
			 struct wd_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};

	for (size_t i = 0; i < N(host_hidden); i++) {
		const char *rel = host_hidden[i] + 1;
		int dir, m, e;

		if (!hidden_here(sb, fs, host_hidden[i]))
			continue;
		dir = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
		if (dir < 0) {
			if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
				continue;
			return wd_err_sys(err, errno, "filesystem: hide %s", host_hidden[i]);
		}
		m = empty_dir(err);
		if (m < 0) {
			(void)close(dir);
			return wd_err_ret(err);
		}
		e = syscall(SYS_move_mount, m, "", dir, "",
			    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0
			    ? errno
			    : 0;
		(void)close(dir);
		(void)close(m);
		if (e != 0)
			return wd_err_sys(err, e, "filesystem: hide %s", host_hidden[i]);
	}
	return 0;
}

/*
 * Bind `i` may not lie below an earlier bind that was copied as a symlink
 * (["/lib", "/lib/x"] where the image's /lib is a symlink to /usr/lib):
 * its mount point would be reached through the symlink, which before
 * pivot_root leads out of the new root. open_dirs() refuses it anyway;
 * this says why, naming both. Bind what the symlink leads to instead.
 */
static int below_link(const struct sup_sandbox *sb, const struct sup_sb_fs *fs, size_t i,
		      struct wd_err *err)
{
	const char *b = sb->ro_binds[i];

	for (size_t j = 0; j < i; j++) {
		size_t n = strlen(sb->ro_binds[j]);

		if (fs->bind_link[j][0] != '\0' && strncmp(b, sb->ro_binds[j], n) == 0 &&
		    b[n] == '/')
			return wd_err_set(err, ELOOP,
					  "filesystem: bind %s lies below bind %s, a symlink (to "
					  "%.64s) in the sandbox: bind what it leads to instead",
					  b, sb->ro_binds[j], fs->bind_link[j]);
	}
	return 0;
}

/*
 * Egress on: no resolver. The image's /etc/resolv.conf, where the new root
 * has one (resolved inside it, as the agent would resolve it: a symlink to
 * a file elsewhere in the image is followed there), is covered by an empty
 * read-only file. A C library then asks 127.0.0.1:53, where nothing
 * listens, and a name lookup fails at once instead of sending queries to a
 * server the sandbox cannot reach (each one a bypass record): names go to
 * the proxies instead. The empty file is made on a tmpfs of its own,
 * mounted for the moment on RESOLVER_TMP and gone from there before the
 * root is entered. Anything but a regular file there is refused.
 */
#define RESOLVER_PATH "etc/resolv.conf"
#define RESOLVER_TMP ".resolver"

static int cover_resolver(int root, struct wd_err *err)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	int target, m, f, rc = 0;

	target = (int)syscall(SYS_openat2, root, RESOLVER_PATH, &how, sizeof(how));
	if (target < 0)
		return errno == ENOENT || errno == ENOTDIR
			       ? 0
			       : wd_err_sys(err, errno, "filesystem: /" RESOLVER_PATH);
	if (fstat(target, &st) < 0) {
		int e = errno;

		(void)close(target);
		return wd_err_sys(err, e, "filesystem: /" RESOLVER_PATH);
	}
	if (!S_ISREG(st.st_mode)) {
		(void)close(target);
		return wd_err_set(err, EINVAL,
				  "filesystem: /" RESOLVER_PATH ": not a regular file, which the "
				  "sandbox cannot cover with an empty one");
	}
	m = new_fs("tmpfs", MASK_SIZE ",mode=0755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (m < 0 || place(root, m, RESOLVER_TMP, err) < 0) {
		(void)close(target);
		return wd_err_ret(err);
	}
	f = openat(root, RESOLVER_TMP "/empty",
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
	m = f < 0 ? -1
		  : (int)tree_clone(root, RESOLVER_TMP "/empty",
				    OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_SYMLINK_NOFOLLOW);
	if (f < 0 || m < 0 ||
	    set_attr(m,
		     MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
		     false) < 0 ||
	    syscall(SYS_move_mount, m, "", target, "",
		    MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		rc = wd_err_sys(err, errno, "filesystem: cover /" RESOLVER_PATH);
	if (f >= 0)
		(void)close(f);
	if (m >= 0)
		(void)close(m);
	(void)close(target);
	/* The staging tmpfs goes; the bind keeps its file. */
	if (umount2(STAGE "/" RESOLVER_TMP, MNT_DETACH) < 0 ||
	    unlinkat(root, RESOLVER_TMP, AT_REMOVEDIR) < 0) {
		if (rc == 0)
			rc = wd_err_sys(err, errno, "filesystem: remove /" RESOLVER_TMP);
	}
	return rc;
}

static int fill_root(int root, const struct sup_sandbox *sb, struct sup_sb_fs *fs,
		     struct wd_err *err)
{
	char opts[96];
	int m;

	for (size_t i = 0; i < sb->n_ro_binds; i++) {
		const char *rel = sb->ro_binds[i] + 1; /* absolute, checked by the policy */

		const char *leaf = strrchr(rel, '/');
		int dir;

		if (below_link(sb, fs, i, err) < 0)
			return wd_err_ret(err);
		if (fs->bind_link[i][0] != '\0') {
			dir = open_dirs(root, rel, true, err);
			if (dir < 0)
				return wd_err_ret(err);
			leaf = leaf != NULL ? leaf + 1 : rel;
			if (symlinkat(fs->bind_link[i], dir, leaf) < 0) {
				int e = errno;

				(void)close(dir);
				return wd_err_sys(err, e, "filesystem: symlink %s",
						  sb->ro_binds[i]);
			}
			(void)close(dir);
			continue;
		}
		m = fs->bind_mnt[i];
		fs->bind_mnt[i] = -1;
		if (place(root, m, rel, err) < 0)
			return wd_err_ret(err);
	}
	if (sb->binds_from_host && hide_host_own(root, sb, fs, err) < 0)
		return wd_err_ret(err);
	/* /tmp first: the working directory may lie below it (WARDEN_WORKDIR
	 * is an image's choice). */
	(void)snprintf(opts, sizeof(opts), "size=%llum,mode=1777", (unsigned long long)sb->tmp_mib);
	m = new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (m < 0 || place(root, m, "tmp", err) < 0)
		return wd_err_ret(err);
	if (fs->work_mnt >= 0) {
		m = fs->work_mnt;
		fs->work_mnt = -1;
	} else {
		(void)snprintf(opts, sizeof(opts), "size=%llum,mode=0755,uid=%u,gid=%u",
			       (unsigned long long)sb->work_mib, (unsigned)sb->uid,
			       (unsigned)sb->gid);
		m = new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
		if (m < 0)
			return wd_err_ret(err);
	}
	if (place(root, m, sb->workdir + 1, err) < 0)
		return wd_err_ret(err);
	if (build_dev(root, sb, err) < 0 || build_proc(root, err) < 0)
		return wd_err_ret(err);
	if (sb->egress && cover_resolver(root, err) < 0)
		return wd_err_ret(err);
	return 0;
}

/* Make the new root, mounted on STAGE, this process's root. */
static int enter_root(struct wd_err *err)
{
	if (chdir(STAGE) < 0)
		return wd_err_sys(err, errno, "filesystem: chdir to the new root");
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		/* The old root is now stacked on "."; detach it and all below. */
		if (umount2(".", MNT_DETACH) < 0)
			return wd_err_sys(err, errno, "filesystem: detach the old root");
	} else if (errno == EINVAL) {
		/* rootfs: move over / and enter (see the top of this file). */
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			return wd_err_sys(err, errno, "filesystem: move the new root over /");
		if (chroot(".") < 0)
			return wd_err_sys(err, errno, "filesystem: chroot");
	} else {
		return wd_err_sys(err, errno, "filesystem: pivot_root");
	}
	if (chdir("/") < 0)
		return wd_err_sys(err, errno, "filesystem: chdir /");
	/* The root itself: mount points only, read-only. */
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) <
	    0)
		return wd_err_sys(err, errno, "filesystem: root read-only");
	return 0;
}

static void fs_close(struct sup_sb_fs *fs)
{
	for (size_t i = 0; i < SUP_SB_MAX_BINDS; i++)
		if (fs->bind_mnt[i] >= 0) {
			(void)close(fs->bind_mnt[i]);
			fs->bind_mnt[i] = -1;
		}
	if (fs->work_mnt >= 0)
		(void)close(fs->work_mnt);
	fs->work_mnt = -1;
}

int sup_sb_fs_enter(const struct sup_sandbox *sb, int work_mnt, struct wd_err *err)
{
	struct sup_sb_fs fs;
	char opts[32];
	int root, rc = -1;

	for (size_t i = 0; i < SUP_SB_MAX_BINDS; i++)
		fs.bind_mnt[i] = -1;
	fs.work_mnt = -1;
	/* Nothing done here may propagate back to the guest's mounts. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return wd_err_sys(err, errno, "filesystem: make mounts private");
	if (take_sources(sb, work_mnt, &fs, err) < 0) {
		rc = wd_err_ret(err);
		goto out;
	}
	(void)snprintf(opts, sizeof(opts), "%s,mode=0755", ROOT_SIZE);
	root = new_fs("tmpfs", opts, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, err);
	if (root < 0) {
		rc = wd_err_ret(err);
		goto out;
	}
	if (syscall(SYS_move_mount, root, "", AT_FDCWD, STAGE, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		rc = wd_err_sys(err, errno, "filesystem: mount the new root on %s", STAGE);
		(void)close(root);
		goto out;
	}
	(void)close(root);
	root = open(STAGE, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0) {
		rc = wd_err_sys(err, errno, "filesystem: open the new root");
		goto out;
	}
	rc = fill_root(root, sb, &fs, err);
	(void)close(root);
	if (rc == 0)
		rc = enter_root(err);
out:
	fs_close(&fs);
	return rc;
}
