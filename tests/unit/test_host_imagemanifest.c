/*
 * tests/unit/test_host_imagemanifest.c - manifest.json (host/
 * imagemanifest.c), the texts in the initramfs (host/imagetext.c) and
 * wd_image_open() (host/imageopen.c).
 *
 * manifest.json written and read back is the same manifest and the same
 * bytes; the reader refuses an unknown format or version, a missing,
 * unknown or repeated member, bad hex, a file name other than the fixed
 * one, sizes out of range or inconsistent with the verity parameters,
 * unsorted entries, a policy that the entries do not hold, and input over
 * its bound. The image pin covers everything but "initramfs". The
 * manifest text is the one image/mkinitramfs.sh writes. wd_image_open
 * accepts an intact directory and refuses a changed kernel or initramfs,
 * a file of the wrong size and a symlink in place of a file, leaving
 * nothing open; what it hands on for the VMM is what it checked: the
 * kernel and the initramfs as sealed copies that a later write to, or
 * swap of, the files does not change (read as QEMU reads them, through
 * /proc/self/fd/N), the drives as the files it opened; wd_image_policy
 * gives the baked policy of that copy, only with the recorded digests.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../common/fileio.h"
#include "../../host/cpio.h"
#include "../../host/image.h"
#include "../../host/imageio.h"
#include "../../host/imagemanifest.h"
#include "../../host/imagetext.h"
#include "../../host/toolrun.h"
#include "../../host/verity.h"

static struct wd_err err;

static const char hex_a[] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
static const char hex_b[] = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

static struct wd_imgentry entry(const char *path, char type, uint32_t mode, const char *extra)
{
	struct wd_imgentry e;

	memset(&e, 0, sizeof(e));
	e.path = strdup(path);
	e.type = type;
	e.mode = mode;
	if (type == 'f') {
		e.size = 12;
		memcpy(e.sha256, extra != NULL ? extra : hex_a, WD_IMAGE_HEX);
	} else if (type == 'l') {
		e.target = strdup(extra);
		e.size = strlen(extra);
	} else if (type == 'c') {
		e.major = 5;
		e.minor = 1;
	}
	return e;
}

/* A consistent manifest for an image of `blocks` rootfs blocks. */
static void sample(struct wd_imgman *m, uint64_t blocks, bool policy)
{
	memset(m, 0, sizeof(*m));
	(void)snprintf(m->name, sizeof(m->name), "demo");
	m->epoch = 1700000000;
	m->kernel.size = 1000;
	memcpy(m->kernel.sha256, hex_a, WD_IMAGE_HEX);
	(void)snprintf(m->kernel.kver, sizeof(m->kernel.kver), "6.1.0-56-cloud-amd64");
	m->initramfs.size = 2000;
	memcpy(m->initramfs.sha256, hex_b, WD_IMAGE_HEX);
	memcpy(m->initramfs.manifest_sha256, hex_b, WD_IMAGE_HEX);
	m->initramfs.entries = calloc(8, sizeof(struct wd_imgentry));
	m->initramfs.entries[m->initramfs.n_entries++] = entry("/bin", 'd', 0755, NULL);
	m->initramfs.entries[m->initramfs.n_entries++] =
		entry("/bin/sh", 'l', 0777, "/bin/busybox");
	m->initramfs.entries[m->initramfs.n_entries++] = entry("/dev/console", 'c', 0600, NULL);
	m->initramfs.entries[m->initramfs.n_entries++] =
		entry("/etc/warden/manifest", 'f', 0644, hex_b);
	if (policy)
		m->initramfs.entries[m->initramfs.n_entries++] =
			entry("/etc/warden/policy.json", 'f', 0644, hex_a);
	m->initramfs.entries[m->initramfs.n_entries++] =
		entry("/etc/warden/rootfs", 'f', 0644, NULL);
	m->initramfs.entries[m->initramfs.n_entries++] = entry("/init", 'f', 0755, NULL);
	m->rootfs.size = blocks * 4096;
	memcpy(m->rootfs.sha256, hex_a, WD_IMAGE_HEX);
	m->rootfs.entries = 42;
	m->rootfs.stripped = calloc(1, sizeof(struct wd_imgstrip));
	m->rootfs.stripped[0].path = strdup("/usr/bin/su");
	m->rootfs.stripped[0].what = strdup("setuid");
	m->rootfs.n_stripped = 1;
	m->rootfs.verity.data_blocks = blocks;
	m->rootfs.verity.size = wd_verity_tree_bytes(blocks);
	memcpy(m->rootfs.verity.sha256, hex_b, WD_IMAGE_HEX);
	memcpy(m->rootfs.verity.salt, hex_a, WD_IMAGE_HEX);
	memcpy(m->rootfs.verity.root_hash, hex_b, WD_IMAGE_HEX);
	m->has_policy = policy;
	if (policy)
		memcpy(m->policy_sha256, hex_a, WD_IMAGE_HEX);
	m->sources = calloc(2, sizeof(struct wd_imgsource));
	m->sources[0].what = strdup("kernel");
	m->sources[0].name = strdup("linux-image-6.1.0-56-cloud-amd64");
	m->sources[0].version = strdup("6.1.192-2");
	memcpy(m->sources[0].sha256, hex_a, WD_IMAGE_HEX);
	m->sources[1].what = strdup("rootfs");
	m->sources[1].name = strdup("debian-python.tar");
	m->n_sources = 2;
}

static char *text_of(const struct wd_imgman *m, size_t *len)
{
	char *t = NULL;

	assert_int_equal(wd_imgman_write(m, &t, len, &err), 0);
	if (t == NULL)
		abort(); /* not reached (the assertion); says so to the static analyser */
	return t;
}

static void test_written_manifest_reads_back_the_same(void **state)
{
	struct wd_imgman m, r;
	char *a, *b;
	size_t alen, blen;

	(void)state;
	for (int policy = 0; policy < 2; policy++) {
		sample(&m, 129, policy == 1);
		a = text_of(&m, &alen);
		assert_int_equal(a[alen - 1], '\n');
		assert_int_equal(wd_imgman_read(a, alen, &r, &err), 0);
		assert_string_equal(r.name, "demo");
		assert_int_equal(r.rootfs.verity.data_blocks, 129);
		assert_int_equal(r.has_policy, policy == 1);
		assert_int_equal(r.initramfs.n_entries, m.initramfs.n_entries);
		assert_string_equal(r.initramfs.entries[1].target, "/bin/busybox");
		assert_int_equal(r.initramfs.entries[2].major, 5);
		assert_string_equal(r.sources[0].version, "6.1.192-2");
		assert_null(r.sources[1].version);
		b = text_of(&r, &blen);
		assert_int_equal(alen, blen);
		assert_memory_equal(a, b, alen);
		if (policy == 0)
			assert_non_null(strstr(a, "\"policy\":null"));
		wd_imgman_free(&r);
		wd_imgman_free(&m);
		free(a);
		free(b);
	}
}

/* `from` replaced by `to` (once) in the sample's text must be refused,
 * the message holding `words`. */
static void refused_edit(const char *from, const char *to, const char *words)
{
	struct wd_imgman m, r;
	size_t len, flen = strlen(from), tlen = strlen(to);
	char *t, *e, *at;
	int rc;

	sample(&m, 129, true);
	t = text_of(&m, &len);
	wd_imgman_free(&m);
	at = strstr(t, from);
	if (at == NULL) {
		fail_msg("'%s' is not in the sample", from);
		abort(); /* not reached: fail_msg does not return */
	}
	e = malloc(len - flen + tlen + 1);
	assert_non_null(e);
	memcpy(e, t, (size_t)(at - t));
	memcpy(e + (at - t), to, tlen);
	memcpy(e + (at - t) + tlen, at + flen, len - (size_t)(at - t) - flen + 1);
	rc = wd_imgman_read(e, len - flen + tlen, &r, &err);
	if (rc >= 0 || strstr(err.msg, words) == NULL)
		fail_msg("'%s' -> '%s': expected a refusal with '%s', got %d: %s", from, to, words,
			 rc, err.msg);
	assert_null(r.initramfs.entries);
	free(e);
	free(t);
}

static void test_unknown_format_or_version(void **state)
{
	(void)state;
	refused_edit("\"format\":\"warden-image\"", "\"format\":\"other\"", "not a warden image");
	refused_edit("\"version\":1", "\"version\":2", "version 2 is not supported");
	refused_edit("\"version\":1", "\"version\":\"1\"", "version");
}

static void test_missing_unknown_and_repeated_members(void **state)
{
	(void)state;
	refused_edit("\"name\":\"demo\",", "", "missing field 'name'");
	refused_edit("\"epoch\":1700000000,", "", "missing field 'epoch'");
	refused_edit("\"policy\":{", "\"policx\":{", "unknown field 'policx'");
	refused_edit("\"name\":\"demo\",", "\"name\":\"demo\",\"name\":\"demo\",", "twice");
	refused_edit("\"kver\":\"6.1.0-56-cloud-amd64\",", "", "missing field 'kver'");
	refused_edit("\"root_hash\":", "\"root_hash_\":", "unknown field");
	refused_edit("\"target\":\"/bin/busybox\",", "", "missing field 'target'");
	refused_edit("\"rdev\":\"5:1\",", "", "missing field 'rdev'");
	refused_edit("{\"mode\":\"0755\",\"path\":\"/bin\",",
		     "{\"mode\":\"0755\",\"path\":\"/bin\",\"size\":1,", "unknown field 'size'");
}

static void test_bad_values(void **state)
{
	(void)state;
	refused_edit("\"salt\":\"aaaa", "\"salt\":\"Aaaa", "hex");
	refused_edit("\"salt\":\"aaaa", "\"salt\":\"aaa", "hex");
	refused_edit("\"root_hash\":\"bbbb", "\"root_hash\":\"bbbbb", "hex");
	refused_edit("\"file\":\"vmlinuz\"", "\"file\":\"../vmlinuz\"", "expected \"vmlinuz\"");
	refused_edit("\"file\":\"rootfs.verity\"", "\"file\":\"/etc/shadow\"", "rootfs.verity");
	refused_edit("\"fs\":\"erofs\"", "\"fs\":\"ext4\"", "erofs");
	refused_edit("\"algorithm\":\"sha256\"", "\"algorithm\":\"sha1\"", "sha256");
	refused_edit("\"format\":1", "\"format\":0", "format");
	refused_edit("\"hash_offset\":0", "\"hash_offset\":4096", "hash_offset");
	refused_edit("\"data_block_size\":4096", "\"data_block_size\":512", "data_block_size");
	refused_edit("\"mode\":\"0755\",\"path\":\"/bin\"", "\"mode\":\"755\",\"path\":\"/bin\"",
		     "octal");
	refused_edit("\"path\":\"/bin\"", "\"path\":\"bin\"", "clean absolute path");
	refused_edit("\"path\":\"/bin/sh\"", "\"path\":\"/bin/../sh\"", "clean absolute path");
	refused_edit("\"path\":\"/bin/sh\"", "\"path\":\"/bin//sh\"", "clean absolute path");
	refused_edit("\"path\":\"/bin/sh\"", "\"path\":\"/bin/s h\"", "clean absolute path");
	refused_edit("\"rdev\":\"5:1\"", "\"rdev\":\"5\"", "MAJOR:MINOR");
	refused_edit("\"type\":\"d\"", "\"type\":\"p\"", "type");
	refused_edit("\"name\":\"demo\"", "\"name\":\"de/mo\"", "name");
	refused_edit("\"name\":\"demo\"", "\"name\":\"\"", "name");
	refused_edit("\"what\":\"setuid\"", "\"what\":\"Setuid\"", "lower-case");
	refused_edit("\"epoch\":1700000000", "\"epoch\":-1", "negative");
	refused_edit("\"epoch\":1700000000", "\"epoch\":1.5", "not an integer");
}

static void test_sizes_out_of_range_or_inconsistent(void **state)
{
	char from[64], to[64];

	(void)state;
	/* rootfs.size must be data_blocks * 4096 */
	(void)snprintf(from, sizeof(from), "\"size\":%d,\"stripped\"", 129 * 4096);
	(void)snprintf(to, sizeof(to), "\"size\":%d,\"stripped\"", 130 * 4096);
	refused_edit(from, to, "data_blocks");
	(void)snprintf(to, sizeof(to), "\"size\":%d,\"stripped\"", 129 * 4096 + 1);
	refused_edit(from, to, "multiple of 4096");
	/* the tree's size for the data blocks */
	(void)snprintf(from, sizeof(from), "\"size\":%d}", 3 * 4096);
	(void)snprintf(to, sizeof(to), "\"size\":%d}", 2 * 4096);
	refused_edit(from, to, "need a tree");
	refused_edit("\"size\":1000}", "\"size\":0}", "under the bound");
	refused_edit("\"size\":1000}", "\"size\":9999999999999}", "over the bound");
	refused_edit("\"entries\":42", "\"entries\":0", "under the bound");
}

static void test_entries_policy_and_pins_agree(void **state)
{
	(void)state;
	/* sorted, each path once */
	refused_edit("\"path\":\"/bin/sh\"", "\"path\":\"/a\"", "sorted");
	refused_edit("\"path\":\"/bin/sh\"", "\"path\":\"/bin\"", "sorted");
	/* /etc/warden/manifest's digest is manifest_sha256 */
	refused_edit("\"manifest_sha256\":\"bbbb", "\"manifest_sha256\":\"abbb", "manifest_sha256");
	/* the policy is in the entries, with its digest */
	refused_edit("\"policy\":{\"path\":\"/etc/warden/policy.json\",\"sha256\":\"aaaa",
		     "\"policy\":{\"path\":\"/etc/warden/policy.json\",\"sha256\":\"baaa",
		     "no /etc/warden/policy.json of that digest");
	refused_edit("\"policy\":{\"path\":\"/etc/warden/policy.json\",\"sha256\":\""
		     "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
		     "\"policy\":null", "but the initramfs has");
	refused_edit("\"path\":\"/etc/warden/rootfs\"", "\"path\":\"/etc/warden/rootfz\"",
		     "no /etc/warden/rootfs");
}

static void test_bounds_and_shape(void **state)
{
	struct wd_imgman r;
	size_t big = (size_t)WD_IMAGE_MANIFEST_MAX_BYTES + 1;
	char *t = malloc(big);

	(void)state;
	assert_non_null(t);
	memset(t, ' ', big);
	t[0] = '{';
	t[big - 1] = '}';
	assert_int_equal(wd_imgman_read(t, big, &r, &err), -E2BIG);
	free(t);
	assert_true(wd_imgman_read("[]", 2, &r, &err) < 0);
	assert_true(wd_imgman_read("{}", 2, &r, &err) < 0);
	assert_true(wd_imgman_read("", 0, &r, &err) < 0);
	assert_true(wd_imgman_read("{\"format\":\"warden-image\"} x", 27, &r, &err) < 0);
}

static void test_pin_covers_all_but_initramfs(void **state)
{
	struct wd_imgman m;
	char a[WD_IMAGE_HEX], b[WD_IMAGE_HEX];

	(void)state;
	sample(&m, 129, false);
	assert_int_equal(wd_imgman_pin(&m, a, &err), 0);
	m.initramfs.size = 1;
	m.initramfs.sha256[0] = 'c';
	m.initramfs.entries[0].mode = 0700;
	assert_int_equal(wd_imgman_pin(&m, b, &err), 0);
	assert_string_equal(a, b);
	m.name[0] = 'D';
	assert_int_equal(wd_imgman_pin(&m, b, &err), 0);
	assert_string_not_equal(a, b);
	m.name[0] = 'd';
	m.rootfs.stripped[0].what[0] = 'x';
	assert_int_equal(wd_imgman_pin(&m, b, &err), 0);
	assert_string_not_equal(a, b);
	wd_imgman_free(&m);
}

/* ---- the texts ------------------------------------------------------------- */

static void test_manifest_text_is_mkinitramfs_format(void **state)
{
	static const char want[] =
		"# warden-manifest 1: path type mode size sha256|target|major:minor "
		"(docs/image.md)\n"
		"/bin d 0755 - -\n"
		"/bin/sh l 0777 12 /bin/busybox\n"
		"/dev d 0755 - -\n"
		"/dev/console c 0600 - 5:1\n"
		"/etc d 0755 - -\n"
		"/etc/warden d 0755 - -\n"
		"/init f 0755 3 ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n";
	struct wd_cpio c;
	char *t;
	size_t len;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(wd_cpio_add(&c, "init", S_IFREG | 0755, "abc", 3, &err), 0);
	assert_int_equal(wd_cpio_add(&c, "bin", S_IFDIR | 0755, NULL, 0, &err), 0);
	assert_int_equal(wd_cpio_add(&c, "bin/sh", S_IFLNK | 0777, "/bin/busybox", 12, &err), 0);
	assert_int_equal(wd_cpio_add(&c, "dev", S_IFDIR | 0755, NULL, 0, &err), 0);
	assert_int_equal(wd_cpio_add(&c, "dev/console", S_IFCHR | 0600, NULL, 0, &err), 0);
	c.e[c.n - 1].rmajor = 5;
	c.e[c.n - 1].rminor = 1;
	assert_int_equal(wd_cpio_add_dirs(&c, "etc/warden/manifest", &err), 0);
	assert_int_equal(wd_cpio_add(&c, "etc/warden/manifest", S_IFREG | 0644, "old", 3, &err), 0);
	wd_cpio_sort(&c);
	assert_int_equal(wd_imgtext_manifest(&c, &t, &len, &err), 0);
	assert_int_equal(len, strlen(want));
	assert_string_equal(t, want);
	free(t);
	/* A path the format cannot carry. */
	assert_int_equal(wd_cpio_add(&c, "bin/a b", S_IFREG | 0644, "x", 1, &err), 0);
	wd_cpio_sort(&c);
	assert_int_equal(wd_imgtext_manifest(&c, &t, &len, &err), -EINVAL);
	wd_cpio_free(&c);
}

static void test_rootfs_pin_text(void **state)
{
	struct wd_imgverity v;
	char buf[WD_IMGTEXT_PIN_MAX];

	(void)state;
	memset(&v, 0, sizeof(v));
	v.data_blocks = 485;
	memcpy(v.salt, hex_a, WD_IMAGE_HEX);
	memcpy(v.root_hash, hex_b, WD_IMAGE_HEX);
	assert_true(wd_imgtext_rootfs_pin(&v, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\nformat 1\nfs erofs\ndata-serial warden-rootfs\n"
				    "hash-serial warden-verity\ndata-blocks 485\n"
				    "data-block-size 4096\nhash-block-size 4096\nhash-offset 0\n"
				    "algorithm sha256\n"));
	assert_non_null(strstr(buf, "\nroot-hash bbbb"));
	assert_true(strlen(buf) < 4096);
}

static void test_sources_reader(void **state)
{
	static const char good[] =
		"# comment\n\nformat 1\n"
		"kernel-modules linux-image-x 6.1-2 linux.deb "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n"
		"guest-library libcap2 1:2.66-4 - "
		"bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\n";
	static const char *const bad[] = {
		"kernel x y z aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		"format 2\n",
		"format 1\nkernel x y z\n",
		"format 1\nkernel x y z aaaa\n",
		"format 1\nKernel x y z "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		"format 1\nkernel x y z "
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa "
		"extra\n",
		"format 1",
		"",
	};
	struct wd_imgman m;

	(void)state;
	memset(&m, 0, sizeof(m));
	assert_int_equal(wd_imgtext_sources(good, strlen(good), &m.sources, &m.n_sources, &err), 0);
	assert_int_equal(m.n_sources, 2);
	assert_string_equal(m.sources[0].what, "kernel-modules");
	assert_string_equal(m.sources[0].file, "linux.deb");
	assert_string_equal(m.sources[1].version, "1:2.66-4");
	assert_null(m.sources[1].file);
	wd_imgman_free(&m);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&m, 0, sizeof(m));
		assert_true(wd_imgtext_sources(bad[i], strlen(bad[i]), &m.sources, &m.n_sources,
					       &err) < 0);
		wd_imgman_free(&m);
	}
}

static void test_modules_kver(void **state)
{
	static const char text[] = "# header\n\n  kver 6.1.0-56-cloud-amd64  \nkernel/x.ko\n";
	char kver[64];

	(void)state;
	assert_int_equal(wd_imgtext_modules_kver(text, strlen(text), kver, sizeof(kver), &err), 0);
	assert_string_equal(kver, "6.1.0-56-cloud-amd64");
	assert_true(wd_imgtext_modules_kver("kernel/x.ko\nkver 1\n", 19, kver, sizeof(kver), &err) <
		    0);
	assert_true(wd_imgtext_modules_kver("kver a/b\n", 9, kver, sizeof(kver), &err) < 0);
}

/* ---- wd_image_open ----------------------------------------------------------- */

static char dir[] = "/tmp/warden-test-image.XXXXXX";

static void put_file(const char *name, const void *data, size_t len)
{
	char path[256];
	int fd;

	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(wd_write_all(fd, data, len), 0);
	(void)close(fd);
}

/* An image directory whose manifest matches its (made-up) files. */
static void make_image(void)
{
	static uint8_t kernel[1000], initramfs[2000], rootfs[129 * 4096], tree[3 * 4096];
	struct wd_imgman m;
	char *t;
	size_t len;

	memset(kernel, 'k', sizeof(kernel));
	memset(initramfs, 'i', sizeof(initramfs));
	memset(rootfs, 'r', sizeof(rootfs));
	memset(tree, 't', sizeof(tree));
	sample(&m, 129, false);
	wd_img_digest_buf(kernel, sizeof(kernel), m.kernel.sha256);
	wd_img_digest_buf(initramfs, sizeof(initramfs), m.initramfs.sha256);
	put_file(WD_IMAGE_KERNEL, kernel, sizeof(kernel));
	put_file(WD_IMAGE_INITRAMFS, initramfs, sizeof(initramfs));
	put_file(WD_IMAGE_ROOTFS, rootfs, sizeof(rootfs));
	put_file(WD_IMAGE_VERITY, tree, sizeof(tree));
	t = text_of(&m, &len);
	put_file(WD_IMAGE_MANIFEST, t, len);
	free(t);
	wd_imgman_free(&m);
}

/* An image whose initramfs (a real gzip'd newc archive) bakes `policy`;
 * manifest.json claims the digest `claimed` for it (NULL: the true one). */
static void make_policy_image(const char *policy, const char *claimed)
{
	char path[256], hex[WD_IMAGE_HEX];
	struct wd_tool t = {.in_fd = -1};
	struct wd_imgman m;
	struct wd_cpio c;
	struct wd_argv a;
	size_t len;
	char *text;
	int raw = memfd_create("raw", MFD_CLOEXEC), gz;

	make_image();
	memset(&c, 0, sizeof(c));
	assert_int_equal(wd_cpio_add_dirs(&c, "etc/warden/policy.json", &err), 0);
	assert_int_equal(wd_cpio_add(&c, "etc/warden/policy.json", S_IFREG | 0644, policy,
				     strlen(policy), &err),
			 0);
	wd_cpio_sort(&c);
	assert_true(raw >= 0);
	assert_int_equal(wd_cpio_write(&c, 1, raw, &err), 0);
	wd_cpio_free(&c);
	(void)snprintf(path, sizeof(path), "%s/%s", dir, WD_IMAGE_INITRAMFS);
	gz = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(gz >= 0);
	t.in_fd = raw;
	t.out_fd = gz;
	wd_argv_init(&a);
	wd_argv_add(&a, "gzip");
	wd_argv_add(&a, "-n");
	wd_argv_add(&a, "-c");
	assert_int_equal(wd_tool_run(&t, &a, &err), 0);
	(void)close(raw);
	(void)close(gz);
	sample(&m, 129, true);
	{
		static uint8_t kernel[1000];

		memset(kernel, 'k', sizeof(kernel));
		wd_img_digest_buf(kernel, sizeof(kernel), m.kernel.sha256);
	}
	assert_int_equal(
		wd_img_digest_file(path, 1 << 20, &m.initramfs.size, m.initramfs.sha256, &err), 0);
	wd_img_digest_buf(policy, strlen(policy), hex);
	memcpy(m.policy_sha256, claimed != NULL ? claimed : hex, WD_IMAGE_HEX);
	for (size_t i = 0; i < m.initramfs.n_entries; i++)
		if (strcmp(m.initramfs.entries[i].path, WD_IMAGE_POLICY_PATH) == 0)
			memcpy(m.initramfs.entries[i].sha256, m.policy_sha256, WD_IMAGE_HEX);
	text = text_of(&m, &len);
	put_file(WD_IMAGE_MANIFEST, text, len);
	free(text);
	wd_imgman_free(&m);
}

static void test_baked_policy_is_read_and_checked(void **state)
{
	static const char policy[] = "{\"audit\":{}}\n";
	static struct wd_image img;
	char *text = NULL;
	size_t len = 0;

	(void)state;
	make_policy_image(policy, NULL);
	assert_int_equal(wd_image_open(dir, &img, &err), 0);
	assert_true(img.has_policy);
	assert_int_equal(wd_image_policy(&img, &text, &len, &err), 0);
	assert_non_null(text);
	assert_int_equal(len, strlen(policy));
	assert_string_equal(text, policy);
	free(text);
	wd_image_close(&img);

	/* manifest.json claims another digest: refused, naming both. */
	make_policy_image(policy, hex_b);
	assert_int_equal(wd_image_open(dir, &img, &err), 0);
	assert_int_equal(wd_image_policy(&img, &text, &len, &err), -EBADMSG);
	assert_null(text);
	assert_non_null(strstr(err.msg, hex_b));

	wd_image_close(&img);

	/* The initramfs changed after wd_image_open checked it: the policy
	 * is still the one of the checked copy, which is what boots. */
	make_policy_image(policy, NULL);
	assert_int_equal(wd_image_open(dir, &img, &err), 0);
	make_policy_image("{}\n", NULL);
	assert_int_equal(wd_image_policy(&img, &text, &len, &err), 0);
	assert_non_null(text);
	assert_string_equal(text, policy);
	free(text);
	wd_image_close(&img);
}

static int image_setup(void **state)
{
	(void)state;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int image_teardown(void **state)
{
	char cmd[128];

	(void)state;
	(void)snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_open_an_intact_image(void **state)
{
	static struct wd_image img;
	char with_slash[128];
	char *text;
	size_t len;

	(void)state;
	make_image();
	(void)snprintf(with_slash, sizeof(with_slash), "%s//", dir);
	assert_int_equal(wd_image_open(with_slash, &img, &err), 0);
	assert_string_equal(img.dir, dir);
	assert_string_equal(img.kver, "6.1.0-56-cloud-amd64");
	assert_string_equal(img.root_hash, hex_b);
	assert_string_equal(img.salt, hex_a);
	assert_int_equal(img.data_blocks, 129);
	assert_non_null(strstr(img.rootfs, "/rootfs.erofs"));
	assert_non_null(strstr(img.verity, "/rootfs.verity"));
	assert_false(img.has_policy);
	assert_int_equal(wd_image_policy(&img, &text, &len, &err), 0);
	assert_null(text);
	wd_image_close(&img);
	assert_int_equal(img.kernel_fd, -1);
	assert_int_equal(img.verity_fd, -1);
	wd_image_close(&img);
}

/* The first `n` bytes of `fd`'s file, opened anew as QEMU opens it: by
 * /proc/self/fd/N (another open file, its own offset). */
static void read_as_qemu(int fd, void *buf, size_t n)
{
	char path[32];
	int f;

	(void)snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	f = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(f >= 0);
	assert_int_equal(read(f, buf, n), (ssize_t)n);
	(void)close(f);
}

static void assert_all(const uint8_t *p, size_t n, uint8_t c)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(p[i], c);
}

/* Rewrite `name` in place (the same inode) with `n` bytes of `c`. */
static void overwrite(const char *name, size_t n, uint8_t c)
{
	static uint8_t buf[4096];
	char path[256];
	int fd;

	memset(buf, c, sizeof(buf));
	(void)snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(wd_write_all(fd, buf, n < sizeof(buf) ? n : sizeof(buf)), 0);
	(void)close(fd);
}

static void test_vmm_gets_the_checked_files(void **state)
{
	static const int all = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	static struct wd_image img;
	uint8_t buf[1000];

	(void)state;
	make_image();
	assert_int_equal(wd_image_open(dir, &img, &err), 0);
	assert_true(img.kernel_fd >= 0 && img.initramfs_fd >= 0);
	assert_true(img.rootfs_fd >= 0 && img.verity_fd >= 0);
	/* Close-on-exec: only QEMU's child makes them inheritable. */
	assert_int_equal(fcntl(img.kernel_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	assert_int_equal(fcntl(img.rootfs_fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);

	/* The kernel and the initramfs are sealed copies: nobody, the
	 * launcher included, can change them, nor lift the seals. */
	assert_int_equal(fcntl(img.kernel_fd, F_GET_SEALS) & all, all);
	assert_int_equal(fcntl(img.initramfs_fd, F_GET_SEALS) & all, all);
	assert_int_equal(pwrite(img.kernel_fd, "x", 1, 0), -1);
	assert_true(fcntl(img.kernel_fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0);

	/* The files rewritten in place, and swapped, after the check... */
	overwrite(WD_IMAGE_KERNEL, 1000, 'X');
	overwrite(WD_IMAGE_INITRAMFS, 2000, 'X');
	overwrite(WD_IMAGE_VERITY, 4096, 'X');
	put_file(WD_IMAGE_ROOTFS, "swapped", 7);
	/* ...and what QEMU reads is still what was checked. */
	read_as_qemu(img.kernel_fd, buf, 1000);
	assert_all(buf, 1000, 'k');
	read_as_qemu(img.initramfs_fd, buf, 1000);
	assert_all(buf, 1000, 'i');
	read_as_qemu(img.rootfs_fd, buf, 1000);
	assert_all(buf, 1000, 'r');
	/* The drives are the files opened (the guest checks their content
	 * against the pinned root hash): a rewrite in place shows there. */
	read_as_qemu(img.verity_fd, buf, 1000);
	assert_all(buf, 1000, 'X');
	wd_image_close(&img);
}

/* How many fds this process has open (the directory's own included). */
static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d) != NULL)
		n++;
	(void)closedir(d);
	return n;
}

static void test_open_refuses_changed_files(void **state)
{
	static struct wd_image img;
	char path[256], target[256];

	int before;

	(void)state;
	make_image();
	put_file(WD_IMAGE_KERNEL, "changed", 7);
	assert_int_equal(wd_image_open(dir, &img, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "vmlinuz"));

	make_image();
	{
		static uint8_t other[2000];

		memset(other, 'j', sizeof(other));
		put_file(WD_IMAGE_INITRAMFS, other, sizeof(other));
	}
	assert_int_equal(wd_image_open(dir, &img, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "initramfs.cpio.gz: sha256"));

	make_image();
	put_file(WD_IMAGE_ROOTFS, "short", 5);
	assert_int_equal(wd_image_open(dir, &img, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "rootfs.erofs: 5 bytes"));

	make_image();
	put_file(WD_IMAGE_VERITY, "", 0);
	before = open_fds();
	assert_int_equal(wd_image_open(dir, &img, &err), -EBADMSG);
	assert_non_null(strstr(err.msg, "rootfs.verity"));
	/* Refused with three files open already: none stays open. */
	assert_int_equal(open_fds(), before);
	assert_int_equal(img.kernel_fd, -1);
	assert_int_equal(img.rootfs_fd, -1);

	/* A symlink to an intact copy is still refused: the image is the
	 * directory's own files. */
	make_image();
	(void)snprintf(path, sizeof(path), "%s/%s", dir, WD_IMAGE_KERNEL);
	(void)snprintf(target, sizeof(target), "%s/kernel.copy", dir);
	assert_int_equal(rename(path, target), 0);
	assert_int_equal(symlink(target, path), 0);
	assert_true(wd_image_open(dir, &img, &err) < 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(unlink(target), 0);

	make_image();
	put_file(WD_IMAGE_MANIFEST, "{}", 2);
	assert_true(wd_image_open(dir, &img, &err) < 0);
	assert_non_null(strstr(err.msg, "manifest.json"));
	assert_true(wd_image_open("/nonexistent-warden-image", &img, &err) < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_manifest_reads_back_the_same),
		cmocka_unit_test(test_unknown_format_or_version),
		cmocka_unit_test(test_missing_unknown_and_repeated_members),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_sizes_out_of_range_or_inconsistent),
		cmocka_unit_test(test_entries_policy_and_pins_agree),
		cmocka_unit_test(test_bounds_and_shape),
		cmocka_unit_test(test_pin_covers_all_but_initramfs),
		cmocka_unit_test(test_manifest_text_is_mkinitramfs_format),
		cmocka_unit_test(test_rootfs_pin_text),
		cmocka_unit_test(test_sources_reader),
		cmocka_unit_test(test_modules_kver),
		cmocka_unit_test(test_open_an_intact_image),
		cmocka_unit_test(test_open_refuses_changed_files),
		cmocka_unit_test(test_vmm_gets_the_checked_files),
		cmocka_unit_test(test_baked_policy_is_read_and_checked),
	};

	return cmocka_run_group_tests(tests, image_setup, image_teardown);
}
