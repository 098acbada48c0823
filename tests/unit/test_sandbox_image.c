/*
 * tests/unit/test_sandbox_image.c - the sandbox's read-only binds from an
 * image's root filesystem (sandbox.h sup_sandbox_image, sbfs.c).
 *
 * A fake image root is made in /tmp: usr/bin with a program, usr/lib,
 * etc with a marker, bin -> usr/bin and lib -> usr/lib (relative), lib64
 * -> /usr/lib and sbin -> /usr/bin (absolute), escape -> a directory
 * outside the image that exists on this machine, up -> ../../../.. (a
 * climb), and the directories never bound by default. Proved:
 *   - the default binds are the image's top-level directories and
 *     symlinks, less the skipped ones, sorted; a policy's own list stays;
 *   - every source resolves inside the image: an absolute symlink is the
 *     image's path, not this machine's (/usr/lib here has python3 too, a
 *     different inode), a climb stops at the image's root, a symlink to a
 *     directory outside is not followed out (ENOENT, though it exists),
 *     another filesystem mounted inside the image is not crossed (EXDEV);
 *   - a sandbox built from it (namespaces, mounts: root) shows the image's
 *     files, its symlinks as symlinks, read-only, and nothing of this
 *     machine's /etc;
 *   - no mount point is made through a symlink the binds copied into the
 *     new root (it would resolve against this machine's root): a bind
 *     below a symlinked bind, or a working directory there, is refused
 *     and nothing is created outside.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../policy/policy.h"
#include "../../sandbox/sandbox_priv.h"

static char root[64], outside[64];

static void mk(const char *rel)
{
	char p[256];

	(void)snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void ln(const char *target, const char *rel)
{
	char p[256];

	(void)snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static void put(const char *dir, const char *rel, const char *text)
{
	char p[256];
	FILE *f;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, rel);
	f = fopen(p, "w");
	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	static const char *const skipped[] = {"dev",  "proc", "sys", "run",   "tmp", "boot",
					      "home", "root", "mnt", "media", "srv", "lost+found"};

	(void)state;
	(void)snprintf(root, sizeof(root), "/tmp/warden-image-XXXXXX");
	(void)snprintf(outside, sizeof(outside), "/tmp/warden-outside-XXXXXX");
	if (mkdtemp(root) == NULL || mkdtemp(outside) == NULL)
		return -1;
	mk("usr");
	mk("usr/bin");
	mk("usr/lib");
	mk("usr/lib/python3");
	mk("etc");
	mk("var");
	mk("opt");
	mk("bad name");
	for (size_t i = 0; i < sizeof(skipped) / sizeof(skipped[0]); i++)
		mk(skipped[i]);
	put(root, "usr/bin/tool", "image tool\n");
	put(root, "etc/marker", "image\n");
	put(root, "vmlinuz", "not a directory\n");
	ln("usr/bin", "bin");
	ln("usr/lib", "lib");
	ln("/usr/lib", "lib64");
	ln("/usr/bin", "sbin");
	ln(outside, "escape");
	ln("../../../../../..", "up");
	assert_int_equal(mkdir(strcat(strcpy((char[96]){0}, outside), "/sub"), 0755), 0);
	put(outside, "secret", "this machine's\n");
	return 0;
}

static int teardown(void **state)
{
	char cmd[192];

	(void)state;
	/* Only what setup made, by its full name. */
	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s' '%s'", root, outside);
	return system(cmd) == 0 ? 0 : -1;
}

static void policy_sandbox(const char *text, struct sup_sandbox *sb)
{
	struct wd_policy p;
	struct wd_err err;

	assert_int_equal(wd_policy_read(text, strlen(text), &p, &err), 0);
	*sb = p.sandbox;
}

/* ---- the default binds ------------------------------------------------- */

static void test_defaults_are_the_images_top_level(void **state)
{
	static const char *const want[] = {"/bin", "/escape", "/etc", "/lib", "/lib64",
					   "/opt", "/sbin",   "/up",  "/usr", "/var"};
	struct sup_sandbox sb;
	struct wd_err err;

	(void)state;
	policy_sandbox("{}", &sb);
	assert_int_equal(sup_sandbox_image(&sb, root, &err), 0);
	assert_string_equal(sb.image_root, root);
	assert_int_equal(sb.n_ro_binds, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sb.n_ro_binds; i++)
		assert_string_equal(sb.ro_binds[i], want[i]);
}

static void test_policy_binds_stay(void **state)
{
	struct sup_sandbox sb;
	struct wd_err err;

	(void)state;
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[\"/usr\",\"/lib/python3\"]}}", &sb);
	assert_int_equal(sup_sandbox_image(&sb, root, &err), 0);
	assert_int_equal(sb.n_ro_binds, 2);
	assert_string_equal(sb.ro_binds[1], "/lib/python3");
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[]}}", &sb);
	assert_int_equal(sup_sandbox_image(&sb, root, &err), 0);
	assert_int_equal(sb.n_ro_binds, 0);
}

static void test_more_top_level_directories_than_binds_is_refused(void **state)
{
	char big[64], p[128];
	struct sup_sandbox sb;
	struct wd_err err;

	(void)state;
	(void)snprintf(big, sizeof(big), "/tmp/warden-image-big-XXXXXX");
	assert_non_null(mkdtemp(big));
	for (int i = 0; i <= SUP_SB_MAX_BINDS; i++) {
		(void)snprintf(p, sizeof(p), "%s/d%02d", big, i);
		assert_int_equal(mkdir(p, 0755), 0);
	}
	policy_sandbox("{}", &sb);
	assert_int_equal(sup_sandbox_image(&sb, big, &err), -E2BIG);
	assert_non_null(strstr(err.msg, "sandbox.ro_binds"));
	for (int i = 0; i <= SUP_SB_MAX_BINDS; i++) {
		(void)snprintf(p, sizeof(p), "%s/d%02d", big, i);
		(void)rmdir(p);
	}
	assert_int_equal(rmdir(big), 0);
	assert_int_equal(sup_sandbox_image(&sb, "relative", &err), -EINVAL);
}

/* ---- sources resolved inside the image ----------------------------------- */

static ino_t ino_of(const char *dir, const char *rel)
{
	char p[256];
	struct stat st;

	(void)snprintf(p, sizeof(p), "%s/%s", dir, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

/* The directory `path` resolves to, by inode; -errno when none. */
static long source(const char *path, char link[SUP_SB_PATH_MAX])
{
	struct wd_err err;
	struct stat st;
	int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC), fd, rc;

	assert_true(rootfd >= 0);
	rc = sup_sb_bind_source(rootfd, path, &fd, link, &err);
	(void)close(rootfd);
	if (rc < 0) {
		assert_non_null(strstr(err.msg, path));
		return rc;
	}
	if (fd < 0)
		return 0;
	assert_int_equal(fstat(fd, &st), 0);
	(void)close(fd);
	return (long)st.st_ino;
}

static void test_sources_resolve_inside_the_image(void **state)
{
	char link[SUP_SB_PATH_MAX];

	(void)state;
	assert_int_equal(source("/usr/bin", link), (long)ino_of(root, "usr/bin"));
	assert_int_equal(source("/lib/python3", link), (long)ino_of(root, "usr/lib/python3"));
	/* /usr/lib of this machine is another directory: the image's is taken. */
	assert_int_equal(source("/lib64/python3", link), (long)ino_of(root, "usr/lib/python3"));
	assert_int_not_equal(ino_of(root, "usr/lib"), ino_of("/", "usr/lib"));
	assert_int_equal(source("/up/etc", link), (long)ino_of(root, "etc"));
	assert_int_not_equal(ino_of(root, "etc"), ino_of("/", "etc"));
}

static void test_final_symlink_stays_a_symlink(void **state)
{
	char link[SUP_SB_PATH_MAX];

	(void)state;
	assert_int_equal(source("/bin", link), 0);
	assert_string_equal(link, "usr/bin");
	assert_int_equal(source("/lib64", link), 0);
	assert_string_equal(link, "/usr/lib");
	assert_int_equal(source("/escape", link), 0);
	assert_string_equal(link, outside);
}

/* The attack: a symlink in the image to a directory of this machine. It
 * exists here, yet the bind does not reach it. */
static void test_symlink_out_of_the_image_is_not_followed(void **state)
{
	char link[SUP_SB_PATH_MAX];
	struct stat st;

	(void)state;
	assert_int_equal(stat(strcat(strcpy((char[96]){0}, outside), "/sub"), &st), 0);
	assert_int_equal(source("/escape/sub", link), -ENOENT);
	assert_int_equal(source("/up/tmp/../../escape/sub", link), -ENOENT);
	assert_int_equal(source("/etc/marker", link), -ENOTDIR);
	assert_int_equal(source("/nonexistent", link), -ENOENT);
}

/* ---- a sandbox built from the image (root: namespaces, mounts) ------------ */

static bool file_is(const char *path, const char *want)
{
	char buf[64] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		(void)close(fd);
	return n >= 0 && strcmp(buf, want) == 0;
}

/* In a child: the sandbox's filesystem from the image; each check its bit. */
static int inside(void)
{
	struct sup_sandbox sb;
	struct wd_err err;
	char link[64] = {0};
	struct stat st;
	int bad = 0;

	policy_sandbox("{}", &sb);
	if (unshare(CLONE_NEWNS) < 0 || sup_sandbox_image(&sb, root, &err) < 0 ||
	    sup_sb_fs_enter(&sb, -1, &err) < 0) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 255;
	}
	if (readlink("/bin", link, sizeof(link) - 1) != 7 || strcmp(link, "usr/bin") != 0)
		bad |= 1;
	if (!file_is("/usr/bin/tool", "image tool\n") || !file_is("/bin/tool", "image tool\n"))
		bad |= 2;
	if (!file_is("/etc/marker", "image\n"))
		bad |= 4;
	if (stat("/etc/passwd", &st) == 0 || errno != ENOENT) /* this machine's /etc */
		bad |= 8;
	if (stat("/lib64/python3", &st) < 0 || !S_ISDIR(st.st_mode))
		bad |= 16;
	if (stat("/escape/secret", &st) == 0) /* outside the image */
		bad |= 32;
	if (open("/usr/bin/new", O_WRONLY | O_CREAT | O_CLOEXEC, 0644) >= 0 || errno != EROFS)
		bad |= 64;
	if (stat("/home", &st) == 0 || stat("/boot", &st) == 0) /* skipped: not bound */
		bad |= 128;
	return bad;
}

/* In a child: binds that would leave the image stop the sandbox. */
static int refused(void)
{
	struct sup_sandbox sb;
	struct wd_err err;
	char opt[96];
	int bad = 0;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 255;
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[\"/usr\",\"/escape/sub\"]}}", &sb);
	if (sup_sandbox_image(&sb, root, &err) < 0 || sup_sb_fs_enter(&sb, -1, &err) != -ENOENT)
		bad |= 1;
	/* Another filesystem mounted inside the image is not crossed. */
	(void)snprintf(opt, sizeof(opt), "%s/opt", root);
	if (mount("tmpfs", opt, "tmpfs", 0, "size=64k") < 0 || mkdir(strcat(opt, "/x"), 0755) < 0)
		return 254;
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[\"/opt/x\"]}}", &sb);
	if (sup_sandbox_image(&sb, root, &err) < 0 || sup_sb_fs_enter(&sb, -1, &err) != -EXDEV)
		bad |= 2;
	return bad;
}

/*
 * The attack: an image whose /far is an absolute symlink to a directory
 * of this machine outside /tmp (where the new root is staged), and mount
 * points below it: a bind below the symlinked bind, and a working
 * directory below it. Resolved from the staging root, "far/fresh" would
 * follow the symlink to this machine's directory and create (and mount
 * on) a directory there. Both are refused, and nothing appears there.
 */
static char far[64];

static int below_a_symlink(void)
{
	struct sup_sandbox sb;
	struct wd_err err;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 255;
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[\"/far\",\"/far/fresh\"]}}", &sb);
	if (sup_sandbox_image(&sb, root, &err) < 0 || sup_sb_fs_enter(&sb, -1, &err) != -ELOOP ||
	    strstr(err.msg, "bind /far/fresh lies below bind /far") == NULL) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 1;
	}
	return 0;
}

/* Not a bind: the working directory, placed through the same walk (a new
 * child: a failed build leaves its new root on /tmp). */
static int work_below_a_symlink(void)
{
	struct sup_sandbox sb;
	struct wd_err err;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 255;
	policy_sandbox("{\"sandbox\":{\"ro_binds\":[\"/far\"]}}", &sb);
	if (sup_sandbox_image(&sb, root, &err) < 0)
		return 254;
	(void)snprintf(sb.workdir, sizeof(sb.workdir), "/far/work");
	if (sup_sb_fs_enter(&sb, -1, &err) != -ELOOP ||
	    strstr(err.msg, "far is a symlink in the new root") == NULL) {
		fprintf(stderr, "child: %s\n", err.msg);
		return 1;
	}
	return 0;
}

static int in_child(int (*body)(void))
{
	int ws = 0;
	pid_t pid;

	if (geteuid() != 0)
		fail_msg("needs root (namespaces, mounts)");
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(body());
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_true(WIFEXITED(ws));
	return WEXITSTATUS(ws);
}

static void test_sandbox_sees_the_image_read_only(void **state)
{
	(void)state;
	assert_int_equal(in_child(inside), 0);
}

static void test_sandbox_refuses_binds_leaving_the_image(void **state)
{
	(void)state;
	assert_int_equal(in_child(refused), 0);
}

static void test_mount_points_below_a_symlink_are_refused(void **state)
{
	char p[160], fresh[96], work[96];
	struct stat st;
	int bind_rc, work_rc, fresh_rc, made_rc;

	(void)state;
	(void)snprintf(far, sizeof(far), "/var/tmp/warden-far-XXXXXX");
	assert_non_null(mkdtemp(far));
	/* In the image: far -> FAR, and FAR/fresh (the bind's source). */
	(void)snprintf(p, sizeof(p), "mkdir -p -- '%s%s/fresh'", root, far);
	assert_int_equal(system(p), 0);
	ln(far, "far");
	bind_rc = in_child(below_a_symlink);
	work_rc = in_child(work_below_a_symlink);
	/* Nothing made in this machine's FAR, by either. */
	(void)snprintf(fresh, sizeof(fresh), "%s/fresh", far);
	(void)snprintf(work, sizeof(work), "%s/work", far);
	fresh_rc = stat(fresh, &st) == 0 ? 0 : errno;
	made_rc = stat(work, &st) == 0 ? 0 : errno;
	(void)snprintf(p, sizeof(p), "%s/far", root);
	(void)unlink(p);
	(void)snprintf(p, sizeof(p), "rm -rf -- '%s'", far);
	assert_int_equal(system(p), 0);
	assert_int_equal(bind_rc, 0);
	assert_int_equal(work_rc, 0);
	assert_int_equal(fresh_rc, ENOENT);
	assert_int_equal(made_rc, ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_images_top_level),
		cmocka_unit_test(test_policy_binds_stay),
		cmocka_unit_test(test_more_top_level_directories_than_binds_is_refused),
		cmocka_unit_test(test_sources_resolve_inside_the_image),
		cmocka_unit_test(test_final_symlink_stays_a_symlink),
		cmocka_unit_test(test_symlink_out_of_the_image_is_not_followed),
		cmocka_unit_test(test_sandbox_sees_the_image_read_only),
		cmocka_unit_test(test_sandbox_refuses_binds_leaving_the_image),
		cmocka_unit_test(test_mount_points_below_a_symlink_are_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
