/*
 * tests/unit/test_hybrid.c - vsock/transport.c: the host's side of the
 * Firecracker / Cloud Hypervisor hybrid vsock socket.
 *
 * A thread plays the VMM on a Unix socket in a fresh directory: it reads
 * the "CONNECT <port>\n" line of each connection, then either closes it
 * (what the VMM does while nothing listens on that port in the guest) or
 * answers with a scripted reply and a few bytes of "guest" stream, which
 * the client must find untouched after the reply line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../../common/clock.h"
#include "../../vsock/transport.h"

#define PORT 52U
#define TRAILER "guest bytes"

struct vmm {
	char dir[64];
	char path[108];
	int lfd;
	int refuse;          /* connections closed without a reply first */
	const char *reply;   /* then this reply, or NULL to refuse forever */
	int create_after_ms; /* the socket appears this late */
	atomic_bool stop;
	atomic_int connections;
	char request[64]; /* the first request line seen */
	pthread_t thread;
};

static int make_listener(const char *path)
{
	struct sockaddr_un addr;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	(void)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	(void)nanosleep(&ts, NULL);
}

/* Read one line (up to and including '\n') into buf; the bytes read. */
static size_t read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;

	while (n + 1 < size && read(fd, buf + n, 1) == 1 && buf[n++] != '\n')
		;
	buf[n] = '\0';
	return n;
}

static void serve(struct vmm *v, int fd, int index)
{
	char line[64], drain[64];

	(void)read_line(fd, line, sizeof(line));
	if (index == 0)
		memcpy(v->request, line, sizeof(line));
	if (v->reply == NULL || index < v->refuse)
		return;
	(void)send(fd, v->reply, strlen(v->reply), MSG_NOSIGNAL);
	if (v->reply[strlen(v->reply) - 1] != '\n')
		return; /* a reply cut short by the close */
	(void)send(fd, TRAILER, strlen(TRAILER), MSG_NOSIGNAL);
	while (read(fd, drain, sizeof(drain)) > 0) /* until the client closes */
		;
}

static void *vmm_main(void *arg)
{
	struct vmm *v = arg;

	if (v->create_after_ms > 0) {
		sleep_ms(v->create_after_ms);
		v->lfd = make_listener(v->path);
	}
	while (!atomic_load(&v->stop)) {
		struct pollfd pfd = {.fd = v->lfd, .events = POLLIN};
		int fd;

		if (poll(&pfd, 1, 20) <= 0)
			continue;
		fd = accept4(v->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		serve(v, fd, atomic_fetch_add(&v->connections, 1));
		(void)close(fd);
	}
	return NULL;
}

static void vmm_start(struct vmm *v, int refuse, const char *reply, int create_after_ms)
{
	memset(v, 0, sizeof(*v));
	(void)snprintf(v->dir, sizeof(v->dir), "/tmp/wd-hybrid-XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	(void)snprintf(v->path, sizeof(v->path), "%s/v.sock", v->dir);
	v->refuse = refuse;
	v->reply = reply;
	v->create_after_ms = create_after_ms;
	v->lfd = create_after_ms > 0 ? -1 : make_listener(v->path);
	atomic_init(&v->stop, false);
	atomic_init(&v->connections, 0);
	assert_int_equal(pthread_create(&v->thread, NULL, vmm_main, v), 0);
}

static void vmm_stop(struct vmm *v)
{
	char path[160];

	atomic_store(&v->stop, true);
	assert_int_equal(pthread_join(v->thread, NULL), 0);
	if (v->lfd >= 0)
		(void)close(v->lfd);
	(void)unlink(v->path);
	(void)snprintf(path, sizeof(path), "%s_%u", v->path, PORT);
	(void)unlink(path);
	assert_int_equal(rmdir(v->dir), 0);
}

/* The client got the stream right after the reply line. */
static void assert_stream_follows(int fd)
{
	char buf[sizeof(TRAILER)];

	assert_int_equal(recv(fd, buf, strlen(TRAILER), MSG_WAITALL), (ssize_t)strlen(TRAILER));
	assert_memory_equal(buf, TRAILER, strlen(TRAILER));
}

static void test_connect_sends_connect_line_and_returns_the_stream(void **state)
{
	struct vmm v;
	struct wd_err err;
	int fd;

	(void)state;
	vmm_start(&v, 0, "OK 1073741824\n", 0);
	fd = wd_hybrid_connect(v.path, PORT, 2000, &err);
	assert_true(fd >= 0);
	assert_stream_follows(fd);
	(void)close(fd);
	vmm_stop(&v);
	assert_string_equal(v.request, "CONNECT 52\n");
	assert_int_equal(atomic_load(&v.connections), 1);
}

static void test_retries_while_the_guest_is_not_listening(void **state)
{
	struct vmm v;
	struct wd_err err;
	int fd;

	(void)state;
	vmm_start(&v, 3, "OK 7\n", 0);
	fd = wd_hybrid_connect(v.path, PORT, 5000, &err);
	assert_true(fd >= 0);
	assert_stream_follows(fd);
	(void)close(fd);
	vmm_stop(&v);
	assert_int_equal(atomic_load(&v.connections), 4);
}

static void test_retries_while_the_socket_does_not_exist_yet(void **state)
{
	struct vmm v;
	struct wd_err err;
	int fd;

	(void)state;
	vmm_start(&v, 0, "OK 9\n", 150);
	fd = wd_hybrid_connect(v.path, PORT, 5000, &err);
	assert_true(fd >= 0);
	assert_stream_follows(fd);
	(void)close(fd);
	vmm_stop(&v);
}

static void test_times_out_when_the_guest_never_listens(void **state)
{
	struct vmm v;
	struct wd_err err;
	uint64_t start = wd_mono_ns(), took_ms;

	(void)state;
	vmm_start(&v, 0, NULL, 0);
	assert_int_equal(wd_hybrid_connect(v.path, PORT, 300, &err), -ETIMEDOUT);
	took_ms = (wd_mono_ns() - start) / WD_NS_PER_MS;
	vmm_stop(&v);
	assert_true(took_ms >= 300);
	assert_true(took_ms < 2000);
	assert_true(atomic_load(&v.connections) >= 3); /* 10, 20, 40... ms apart */
	assert_non_null(strstr(err.msg, "port 52 not reachable"));
}

/* A reply is final: an error, not a reason to retry. */
static void expect_rejected_reply(const char *reply)
{
	struct vmm v;
	struct wd_err err;

	vmm_start(&v, 0, reply, 0);
	assert_int_equal(wd_hybrid_connect(v.path, PORT, 2000, &err), -EPROTO);
	vmm_stop(&v);
	assert_int_equal(atomic_load(&v.connections), 1);
	assert_non_null(strstr(err.msg, "hybrid vsock"));
}

static void test_malformed_reply_is_rejected(void **state)
{
	(void)state;
	expect_rejected_reply("ERR no such port\n");
	expect_rejected_reply("ok 5\n");
	expect_rejected_reply("OK\n");
	expect_rejected_reply("OK \n");
	expect_rejected_reply("OK 5 \n");
	expect_rejected_reply("OK -5\n");
	expect_rejected_reply("OK 5\r\n");
}

static void test_reply_port_over_32_bits_is_rejected(void **state)
{
	(void)state;
	expect_rejected_reply("OK 4294967296\n");
	expect_rejected_reply("OK 00000000001\n");
}

static void test_overlong_reply_is_rejected(void **state)
{
	char reply[200];

	(void)state;
	memset(reply, 'O', sizeof(reply) - 1);
	reply[sizeof(reply) - 1] = '\0';
	expect_rejected_reply(reply);
}

static void test_close_in_the_middle_of_the_reply_is_rejected(void **state)
{
	struct vmm v;
	struct wd_err err;

	(void)state;
	/* "OK 5" with no newline, then a close. */
	vmm_start(&v, 0, "OK 5", 0);
	assert_int_equal(wd_hybrid_connect(v.path, PORT, 2000, &err), -EPROTO);
	vmm_stop(&v);
}

static void test_relative_socket_path_is_rejected(void **state)
{
	struct wd_err err;

	(void)state;
	assert_int_equal(wd_hybrid_connect("v.sock", PORT, 100, &err), -EINVAL);
	assert_int_equal(wd_hybrid_connect("/tmp/v.sock", PORT, -1, &err), -EINVAL);
}

static void test_listen_uses_the_uds_port_path(void **state)
{
	struct vmm v;
	struct wd_err err;
	struct sockaddr_un addr;
	char byte;
	int lfd, cfd, afd;

	(void)state;
	vmm_start(&v, 0, NULL, 0);
	lfd = wd_hybrid_listen(v.path, PORT, &err);
	assert_true(lfd >= 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	assert_true(strlen(v.dir) + sizeof("/v.sock_52") <= sizeof(addr.sun_path));
	(void)snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/v.sock_%u", v.dir, PORT);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(connect(cfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	afd = wd_accept_one(lfd, 1000, &err);
	assert_true(afd >= 0);
	assert_int_equal(write(cfd, "x", 1), 1);
	assert_int_equal(read(afd, &byte, 1), 1);
	assert_int_equal(byte, 'x');
	(void)close(afd);
	(void)close(cfd);
	(void)close(lfd);
	vmm_stop(&v);
}

static void test_listen_refuses_an_existing_path(void **state)
{
	struct vmm v;
	struct wd_err err;
	int lfd;

	(void)state;
	vmm_start(&v, 0, NULL, 0);
	lfd = wd_hybrid_listen(v.path, PORT, &err);
	assert_true(lfd >= 0);
	assert_int_equal(wd_hybrid_listen(v.path, PORT, &err), -EADDRINUSE);
	(void)close(lfd);
	vmm_stop(&v);
}

static void test_accept_one_times_out(void **state)
{
	struct vmm v;
	struct wd_err err;
	int lfd;

	(void)state;
	vmm_start(&v, 0, NULL, 0);
	lfd = wd_hybrid_listen(v.path, PORT, &err);
	assert_true(lfd >= 0);
	assert_int_equal(wd_accept_one(lfd, 50, &err), -ETIMEDOUT);
	(void)close(lfd);
	vmm_stop(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_sends_connect_line_and_returns_the_stream),
		cmocka_unit_test(test_retries_while_the_guest_is_not_listening),
		cmocka_unit_test(test_retries_while_the_socket_does_not_exist_yet),
		cmocka_unit_test(test_times_out_when_the_guest_never_listens),
		cmocka_unit_test(test_malformed_reply_is_rejected),
		cmocka_unit_test(test_reply_port_over_32_bits_is_rejected),
		cmocka_unit_test(test_overlong_reply_is_rejected),
		cmocka_unit_test(test_close_in_the_middle_of_the_reply_is_rejected),
		cmocka_unit_test(test_relative_socket_path_is_rejected),
		cmocka_unit_test(test_listen_uses_the_uds_port_path),
		cmocka_unit_test(test_listen_refuses_an_existing_path),
		cmocka_unit_test(test_accept_one_times_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
