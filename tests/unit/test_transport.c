/*
 * tests/unit/test_transport.c - vsock/transport.c: naming and opening the
 * channel to the host.
 *
 * The virtio-serial lookup runs against a directory tree made here in the
 * shape of /sys/class/virtio-ports (vportNpM/name files); the Unix
 * transport against a real listening socket. No test touches AF_VSOCK: a
 * connect to CID 2 could reach a real host service.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/fileio.h"
#include "../../vsock/transport.h"

#define SUN_PATH_BYTES sizeof(((struct sockaddr_un *)NULL)->sun_path)

struct tree {
	char root[64];
};

static void make_dir(const char *root, const char *name)
{
	char path[512];

	(void)snprintf(path, sizeof(path), "%s/%s", root, name);
	assert_int_equal(mkdir(path, 0755), 0);
}

/* root/PORT/name holding `text` exactly (no newline added). */
static void make_port(const char *root, const char *port, const char *text)
{
	char path[512];
	int fd;

	make_dir(root, port);
	(void)snprintf(path, sizeof(path), "%s/%s/name", root, port);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(wd_write_all(fd, text, strlen(text)), 0);
	assert_int_equal(close(fd), 0);
}

/* Remove root/PORT/name, root/PORT and root: the shape tree_setup() made. */
static void remove_tree(const char *root)
{
	DIR *dir = opendir(root);
	struct dirent *de;
	char path[512];

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		(void)snprintf(path, sizeof(path), "%s/%s/name", root, de->d_name);
		(void)unlink(path);
		(void)snprintf(path, sizeof(path), "%s/%s", root, de->d_name);
		assert_int_equal(rmdir(path), 0);
	}
	(void)closedir(dir);
	assert_int_equal(rmdir(root), 0);
}

static int tree_setup(void **state)
{
	struct tree *t = calloc(1, sizeof(*t));
	char long_name[WD_CHANNEL_NAME_MAX_BYTES + 8];

	if (t == NULL)
		return -1;
	(void)snprintf(t->root, sizeof(t->root), "/tmp/warden-ports.XXXXXX");
	if (mkdtemp(t->root) == NULL) {
		free(t);
		return -1;
	}
	make_port(t->root, "vport0p1", "org.qemu.guest_agent.0\n");
	make_port(t->root, "vport0p2", "warden\n");
	make_port(t->root, "vport0p3", "no-newline");
	make_dir(t->root, "vport0p4"); /* a port without a name file */
	/* 64 characters + newline: the longest name read. */
	memset(long_name, 'L', WD_CHANNEL_NAME_MAX_BYTES);
	memcpy(long_name + WD_CHANNEL_NAME_MAX_BYTES, "\n", 2);
	make_port(t->root, "vport1p1", long_name);
	/* 65 characters + newline: over the bound, never matched. */
	memset(long_name, 'X', WD_CHANNEL_NAME_MAX_BYTES + 1);
	memcpy(long_name + WD_CHANNEL_NAME_MAX_BYTES + 1, "\n", 2);
	make_port(t->root, "vport1p2", long_name);
	*state = t;
	return 0;
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;

	remove_tree(t->root);
	free(t);
	return 0;
}

static int find(void **state, const char *name, char *dev, size_t size, struct wd_err *err)
{
	const struct tree *t = *state;
	int rc;

	wd_err_clear(err);
	dev[0] = '\0';
	rc = wd_virtio_port_find(t->root, name, dev, size, err);
	if (rc < 0)
		assert_int_equal(err->code, -rc);
	return rc;
}

static void test_port_is_found_by_name(void **state)
{
	char dev[300];
	struct wd_err err;

	assert_int_equal(find(state, "warden", dev, sizeof(dev), &err), 0);
	assert_string_equal(dev, "/dev/vport0p2");
	assert_int_equal(find(state, "org.qemu.guest_agent.0", dev, sizeof(dev), &err), 0);
	assert_string_equal(dev, "/dev/vport0p1");
}

static void test_name_file_without_newline_matches(void **state)
{
	char dev[300];
	struct wd_err err;

	assert_int_equal(find(state, "no-newline", dev, sizeof(dev), &err), 0);
	assert_string_equal(dev, "/dev/vport0p3");
}

static void test_trailing_newline_is_not_part_of_the_name(void **state)
{
	char dev[300];
	struct wd_err err;

	assert_int_equal(find(state, "warden\n", dev, sizeof(dev), &err), -ENOENT);
	assert_int_equal(find(state, "warde", dev, sizeof(dev), &err), -ENOENT);
	assert_int_equal(find(state, "wardenx", dev, sizeof(dev), &err), -ENOENT);
}

static void test_missing_port_is_enoent(void **state)
{
	char dev[300];
	struct wd_err err;

	assert_int_equal(find(state, "absent", dev, sizeof(dev), &err), -ENOENT);
	assert_string_equal(err.msg, "virtio-serial: no port named 'absent'");
	assert_string_equal(dev, "");
}

static void test_name_of_64_characters_is_found(void **state)
{
	char name[WD_CHANNEL_NAME_MAX_BYTES + 1], dev[300];
	struct wd_err err;

	memset(name, 'L', WD_CHANNEL_NAME_MAX_BYTES);
	name[WD_CHANNEL_NAME_MAX_BYTES] = '\0';
	assert_int_equal(find(state, name, dev, sizeof(dev), &err), 0);
	assert_string_equal(dev, "/dev/vport1p1");
}

static void test_over_long_name_file_never_matches(void **state)
{
	char name[WD_CHANNEL_NAME_MAX_BYTES + 2], dev[300];
	struct wd_err err;

	memset(name, 'X', WD_CHANNEL_NAME_MAX_BYTES + 1);
	name[WD_CHANNEL_NAME_MAX_BYTES + 1] = '\0';
	assert_int_equal(find(state, name, dev, sizeof(dev), &err), -ENOENT);
	/* Nor does its 64-character prefix. */
	name[WD_CHANNEL_NAME_MAX_BYTES] = '\0';
	assert_int_equal(find(state, name, dev, sizeof(dev), &err), -ENOENT);
}

static void test_missing_ports_directory_is_reported(void **state)
{
	char dev[300];
	struct wd_err err;

	(void)state;
	wd_err_clear(&err);
	assert_int_equal(
		wd_virtio_port_find("/nonexistent/virtio-ports", "warden", dev, sizeof(dev), &err),
		-ENOENT);
	assert_non_null(strstr(err.msg, "virtio-serial: open /nonexistent/virtio-ports"));
}

/* ---- wd_channel_open ------------------------------------------------------ */

static int open_spec(const char *spec, struct wd_err *err)
{
	int rc;

	wd_err_clear(err);
	rc = wd_channel_open(spec, err);
	if (rc < 0) {
		assert_int_equal(err->code, -rc);
		assert_true(err->msg[0] != '\0');
	} else {
		(void)close(rc);
	}
	return rc;
}

static void test_spec_without_transport_is_rejected(void **state)
{
	struct wd_err err;

	(void)state;
	assert_int_equal(open_spec("", &err), -EINVAL);
	assert_int_equal(open_spec("warden", &err), -EINVAL);
	assert_string_equal(err.msg, "channel 'warden': expected TRANSPORT:ADDRESS");
	assert_int_equal(open_spec("virtio-serial", &err), -EINVAL);
}

static void test_unknown_transport_is_rejected(void **state)
{
	struct wd_err err;

	(void)state;
	assert_int_equal(open_spec("tcp:10.0.0.1:80", &err), -EINVAL);
	assert_string_equal(err.msg, "channel 'tcp:10.0.0.1:80': unknown transport");
	assert_int_equal(open_spec("VSOCK:1024", &err), -EINVAL);
	assert_int_equal(open_spec(":1024", &err), -EINVAL);
	assert_int_equal(open_spec("unixx:/tmp/s", &err), -EINVAL);
}

static void test_vsock_port_must_be_a_number_in_range(void **state)
{
	struct wd_err err;

	(void)state;
	assert_int_equal(open_spec("vsock:", &err), -EINVAL);
	assert_int_equal(open_spec("vsock:port", &err), -EINVAL);
	assert_int_equal(open_spec("vsock:12x", &err), -EINVAL);
	assert_int_equal(open_spec("vsock:-1", &err), -EINVAL);
	assert_int_equal(open_spec("vsock:0", &err), -ERANGE);
	assert_non_null(strstr(err.msg, "vsock port: "));
	assert_int_equal(open_spec("vsock:4294967295", &err), -ERANGE);
	assert_int_equal(open_spec("vsock:99999999999999999999", &err), -ERANGE);
}

static void test_unix_path_must_be_absolute_and_fit(void **state)
{
	char spec[200];
	struct wd_err err;

	(void)state;
	assert_int_equal(open_spec("unix:", &err), -EINVAL);
	assert_int_equal(open_spec("unix:run/s.sock", &err), -EINVAL);
	/* sun_path holds 108 bytes: a 108-character path has no room for its NUL. */
	memcpy(spec, "unix:/", 6);
	memset(spec + 6, 'p', SUN_PATH_BYTES - 1);
	spec[5 + SUN_PATH_BYTES] = '\0';
	assert_int_equal(strlen(spec + 5), SUN_PATH_BYTES);
	assert_int_equal(open_spec(spec, &err), -EINVAL);
}

static void test_unix_without_listener_is_refused(void **state)
{
	char path[64], spec[80];
	struct sockaddr_un addr;
	struct wd_err err;
	int fd;

	(void)state;
	assert_int_equal(open_spec("unix:/nonexistent/warden.sock", &err), -ENOENT);
	assert_non_null(strstr(err.msg, "unix: connect /nonexistent/warden.sock"));
	/* A socket file whose listener is gone. */
	(void)snprintf(path, sizeof(path), "/tmp/warden-dead.%d.sock", (int)getpid());
	(void)unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(close(fd), 0);
	(void)snprintf(spec, sizeof(spec), "unix:%s", path);
	assert_int_equal(open_spec(spec, &err), -ECONNREFUSED);
	assert_int_equal(unlink(path), 0);
}

static void test_unix_connects_to_a_listening_socket(void **state)
{
	char path[64], spec[80], byte = 0;
	struct sockaddr_un addr;
	struct wd_err err;
	int lfd, cfd, afd;

	(void)state;
	(void)snprintf(path, sizeof(path), "/tmp/warden-listen.%d.sock", (int)getpid());
	(void)unlink(path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, strlen(path) + 1);
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	(void)snprintf(spec, sizeof(spec), "unix:%s", path);

	wd_err_clear(&err);
	cfd = wd_channel_open(spec, &err);
	if (cfd < 0)
		fail_msg("wd_channel_open(%s): %s", spec, err.msg);
	/* One blocking, close-on-exec fd, as transport.h promises. */
	assert_true((fcntl(cfd, F_GETFD) & FD_CLOEXEC) != 0);
	assert_int_equal(fcntl(cfd, F_GETFL) & O_NONBLOCK, 0);
	afd = accept(lfd, NULL, NULL);
	assert_true(afd >= 0);
	assert_int_equal(wd_write_all(cfd, "w", 1), 0);
	assert_int_equal(read(afd, &byte, 1), 1);
	assert_int_equal(byte, 'w');

	(void)close(afd);
	(void)close(cfd);
	(void)close(lfd);
	assert_int_equal(unlink(path), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_port_is_found_by_name, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_name_file_without_newline_matches, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_trailing_newline_is_not_part_of_the_name,
						tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_missing_port_is_enoent, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_name_of_64_characters_is_found, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_over_long_name_file_never_matches, tree_setup,
						tree_teardown),
		cmocka_unit_test(test_missing_ports_directory_is_reported),
		cmocka_unit_test(test_spec_without_transport_is_rejected),
		cmocka_unit_test(test_unknown_transport_is_rejected),
		cmocka_unit_test(test_vsock_port_must_be_a_number_in_range),
		cmocka_unit_test(test_unix_path_must_be_absolute_and_fit),
		cmocka_unit_test(test_unix_without_listener_is_refused),
		cmocka_unit_test(test_unix_connects_to_a_listening_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
