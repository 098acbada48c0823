/*
 * sandbox/sbcred.c - who the agent is and what it may do: rlimits,
 * securebits, capabilities (libcap), uid/gid, no_new_privs, Landlock, and
 * the sandbox's network (loopback, the proxies' listeners) and host name.
 *
 * Order matters and is checked: securebits and the bounding set need
 * CAP_SETPCAP, the id change needs CAP_SETUID/CAP_SETGID, so the
 * capability sets are emptied last; with SECBIT_NO_SETUID_FIXUP set first,
 * the id change itself does not touch them, and every set is read back.
 */
#include "sandbox_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <linux/securebits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MIB (1024ULL * 1024ULL)

/* Locked: root is not special, the id change keeps no capability, none can
 * be raised into the ambient set, and none of it can be undone. */
#define SECUREBITS                                                                                 \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |                           \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |   \
	 SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

int sup_sb_net_uts(struct wd_err *err)
{
	struct ifreq ifr;
	int fd;

	if (sethostname(SUP_SB_HOSTNAME, strlen(SUP_SB_HOSTNAME)) < 0)
		return wd_err_sys(err, errno, "uts: sethostname");
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return wd_err_sys(err, errno, "network: socket");
	memset(&ifr, 0, sizeof(ifr));
	(void)snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "network: loopback flags");
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "network: loopback up");
	}
	(void)close(fd);
	return 0;
}

int sup_sb_proxy_listener(uint16_t port, struct wd_err *err)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return wd_err_sys(err, errno, "network: the proxy's socket on port %u", port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (const struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(fd, SUP_SB_PROXY_BACKLOG) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "network: the proxy's listener on 127.0.0.1:%u", port);
	}
	return fd;
}

static int set_limit(int res, const char *name, rlim_t v, struct wd_err *err)
{
	struct rlimit rl = {.rlim_cur = v, .rlim_max = v};

	if (setrlimit(res, &rl) < 0)
		return wd_err_sys(err, errno, "rlimit %s", name);
	return 0;
}

static int rlimits(const struct sup_sandbox *sb, struct wd_err *err)
{
	if (set_limit(RLIMIT_CORE, "CORE", 0, err) < 0)
		return wd_err_ret(err);
	if (sb->nofile != 0 && set_limit(RLIMIT_NOFILE, "NOFILE", sb->nofile, err) < 0)
		return wd_err_ret(err);
	if (sb->nproc != 0 && set_limit(RLIMIT_NPROC, "NPROC", sb->nproc, err) < 0)
		return wd_err_ret(err);
	if (sb->fsize_mib != 0 && set_limit(RLIMIT_FSIZE, "FSIZE", sb->fsize_mib * MIB, err) < 0)
		return wd_err_ret(err);
	if (sb->as_mib != 0 && set_limit(RLIMIT_AS, "AS", sb->as_mib * MIB, err) < 0)
		return wd_err_ret(err);
	if (sb->data_mib != 0 && set_limit(RLIMIT_DATA, "DATA", sb->data_mib * MIB, err) < 0)
		return wd_err_ret(err);
	return 0;
}

/* Bounding and ambient sets emptied, securebits locked (needs CAP_SETPCAP). */
static int drop_bounding(struct wd_err *err)
{
	cap_value_t max = cap_max_bits();

	if (prctl(PR_SET_SECUREBITS, (unsigned long)SECUREBITS, 0UL, 0UL, 0UL) < 0)
		return wd_err_sys(err, errno, "capabilities: securebits");
	if (cap_reset_ambient() < 0)
		return wd_err_sys(err, errno, "capabilities: ambient set");
	for (cap_value_t c = 0; c < max; c++)
		if (cap_drop_bound(c) < 0)
			return wd_err_sys(err, errno, "capabilities: bounding set (%d)", (int)c);
	return 0;
}

/*
 * Effective, permitted and inheritable set to `keep` (none, or CAP_KILL
 * for the sandbox's init), then every set read back: the three sets, an
 * empty bounding and ambient set, the securebits.
 */
static int set_caps(const cap_value_t *keep, int nkeep, struct wd_err *err)
{
	cap_t want = cap_init(), now;
	cap_value_t max = cap_max_bits();
	int cmp, rc;

	if (want == NULL)
		return wd_err_sys(err, errno, "capabilities: cap_init");
	if (nkeep > 0 && (cap_set_flag(want, CAP_EFFECTIVE, nkeep, keep, CAP_SET) < 0 ||
			  cap_set_flag(want, CAP_PERMITTED, nkeep, keep, CAP_SET) < 0)) {
		(void)cap_free(want);
		return wd_err_sys(err, errno, "capabilities: cap_set_flag");
	}
	rc = cap_set_proc(want);
	if (rc < 0) {
		int e = errno;

		(void)cap_free(want);
		return wd_err_sys(err, e, "capabilities: cap_set_proc");
	}
	now = cap_get_proc();
	cmp = now != NULL ? cap_compare(now, want) : -1;
	(void)cap_free(now);
	(void)cap_free(want);
	if (cmp != 0)
		return wd_err_set(err, EPERM, "capabilities: the sets are not as set");
	for (cap_value_t c = 0; c < max; c++)
		if (cap_get_bound(c) != 0 || cap_get_ambient(c) > 0)
			return wd_err_set(err, EPERM, "capabilities: %d still bounded", (int)c);
	if ((unsigned long)prctl(PR_GET_SECUREBITS, 0UL, 0UL, 0UL, 0UL) != SECUREBITS)
		return wd_err_set(err, EPERM, "capabilities: securebits not as set");
	return 0;
}

int sup_sb_drop(const struct sup_sandbox *sb, struct wd_err *err)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;

	if (rlimits(sb, err) < 0 || drop_bounding(err) < 0)
		return wd_err_ret(err);
	if (setgroups(0, NULL) < 0)
		return wd_err_sys(err, errno, "identity: setgroups");
	if (setresgid(sb->gid, sb->gid, sb->gid) < 0)
		return wd_err_sys(err, errno, "identity: setresgid");
	if (setresuid(sb->uid, sb->uid, sb->uid) < 0)
		return wd_err_sys(err, errno, "identity: setresuid");
	if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0 || ru != sb->uid ||
	    eu != sb->uid || su != sb->uid || rg != sb->gid || eg != sb->gid || sg != sb->gid ||
	    getgroups(0, NULL) != 0)
		return wd_err_set(err, EPERM, "identity: ids not as set");
	if (set_caps(NULL, 0, err) < 0)
		return wd_err_ret(err);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0 ||
	    prctl(PR_GET_NO_NEW_PRIVS, 0UL, 0UL, 0UL, 0UL) != 1)
		return wd_err_sys(err, errno, "no_new_privs");
	return 0;
}

int sup_sb_drop_init(struct wd_err *err)
{
	/* Only the right to signal the agent (another uid) remains. */
	static const cap_value_t kill_only[] = {CAP_KILL};

	if (drop_bounding(err) < 0 || set_caps(kill_only, 1, err) < 0)
		return wd_err_ret(err);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		return wd_err_sys(err, errno, "init: no_new_privs");
	if (prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) < 0)
		return wd_err_sys(err, errno, "init: not dumpable");
	return 0;
}

/* ---- Landlock ------------------------------------------------------------ */

#define LL_READ (LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
#define LL_RO (LL_READ | LANDLOCK_ACCESS_FS_EXECUTE)
#define LL_ABI1_ALL ((LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1) /* the 13 rights of ABI 1 */
#define LL_REFER (1ULL << 13)                                /* ABI 2 */
#define LL_TRUNCATE (1ULL << 14)                             /* ABI 3 */
#define LL_IOCTL_DEV (1ULL << 15)                            /* ABI 5 */

int sup_sb_landlock_abi(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	return v > 0 ? (int)v : 0;
}

static int ll_rule(int ruleset, const char *path, uint64_t access, uint64_t handled,
		   struct wd_err *err)
{
	struct landlock_path_beneath_attr pb;
	struct stat st;
	int fd = open(path, O_PATH | O_CLOEXEC | O_NOFOLLOW);
	long rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return wd_err_sys(err, errno, "landlock: open %s", path);
	}
	if (fstat(fd, &st) == 0 && S_ISLNK(st.st_mode)) {
		(void)close(fd); /* /lib -> usr/lib: its target has its own rule */
		return 0;
	}
	pb.allowed_access = access & handled;
	pb.parent_fd = fd;
	rc = syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	(void)close(fd);
	if (rc < 0)
		return wd_err_sys(err, errno, "landlock: rule for %s", path);
	return 0;
}

int sup_sb_landlock(const struct sup_sandbox *sb, struct wd_err *err)
{
	struct landlock_ruleset_attr attr;
	uint64_t handled = LL_ABI1_ALL, rw;
	int abi = sup_sb_landlock_abi(), rs, rc = 0;

	if (abi <= 0)
		return -EOPNOTSUPP;
	if (abi >= 2)
		handled |= LL_REFER;
	if (abi >= 3)
		handled |= LL_TRUNCATE;
	if (abi >= 5)
		handled |= LL_IOCTL_DEV;
	rw = handled & ~(uint64_t)(LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_BLOCK);
	memset(&attr, 0, sizeof(attr));
	attr.handled_access_fs = handled;
	rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rs < 0)
		return wd_err_sys(err, errno, "landlock: ruleset");
	/* Directories may be listed anywhere in the sandbox's own small tree
	 * (its mounts are the real wall); everything else needs a rule. */
	rc = ll_rule(rs, "/", LANDLOCK_ACCESS_FS_READ_DIR, handled, err);
	for (size_t i = 0; i < sb->n_ro_binds && rc == 0; i++)
		rc = ll_rule(rs, sb->ro_binds[i], LL_RO, handled, err);
	if (rc == 0)
		rc = ll_rule(rs, sb->workdir, rw, handled, err);
	if (rc == 0)
		rc = ll_rule(rs, "/tmp", rw, handled, err);
	if (rc == 0)
		rc = ll_rule(rs, "/dev/shm", rw, handled, err);
	if (rc == 0)
		rc = ll_rule(rs, "/dev",
			     LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE | LL_TRUNCATE | LL_IOCTL_DEV,
			     handled, err);
	if (rc == 0)
		rc = ll_rule(rs, "/proc", LL_READ | LANDLOCK_ACCESS_FS_WRITE_FILE, handled, err);
	if (rc == 0 && syscall(SYS_landlock_restrict_self, rs, 0) < 0)
		rc = wd_err_sys(err, errno, "landlock: restrict_self");
	(void)close(rs);
	return rc;
}
