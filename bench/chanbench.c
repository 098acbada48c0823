/*
 * bench/chanbench.c - throughput and round trip of the host<->guest channel,
 * with the protocol's framing and MAC, and as raw bytes for comparison.
 *
 *   chanbench unix MIB ROUNDS            both ends in this process pair (socketpair)
 *   chanbench serve SPEC                 the guest end: open SPEC (e.g.
 *                                        virtio-serial:warden), answer, exit;
 *                                        without arguments, WARDEN_CHANNEL (as
 *                                        warden-init's supervisor)
 *   chanbench client SOCKET MIB ROUNDS   the host end, against `serve` through a
 *                                        QEMU chardev Unix socket
 *
 * The client drives four phases in lockstep with the server:
 *   1. raw throughput: an 8-byte count, then that many bytes; a 1-byte ack
 *      (done twice: a 1 MiB warm-up, then the measured run)
 *   2. raw round trip: ROUNDS times 1 byte there and back
 *   3. framed throughput: DATA frames of WD_CONN_DATA_CHUNK bytes, keyed
 *      channel (the GMAC on every frame), queued and flushed as the
 *      product's producers do (below WD_CONN_HIGH_WATER, flushed per round
 *      without blocking), an empty DATA ends; the server answers with the
 *      byte count
 *   4. framed round trip: ROUNDS times a 1-byte DATA frame there and back
 * and prints one line per figure. The key is a fixed test value: this is a
 * benchmark, never a product path. The server never writes first, because
 * virtio-serial loses what is written before the host connects.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/fileio.h"
#include "../vsock/conn.h"
#include "../vsock/transport.h"

static const uint8_t bench_key[WD_KEY_BYTES] = "warden chanbench fixed test key";

static void die(const char *what, const struct wd_err *err)
{
	(void)fprintf(stderr, "chanbench: %s%s%s\n", what, err != NULL ? ": " : "",
		      err != NULL ? err->msg : "");
	exit(1);
}

static void read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("read: the peer went away", NULL);
		p += n;
		len -= (size_t)n;
	}
}

static void write_exact(int fd, const void *buf, size_t len)
{
	if (wd_write_all(fd, buf, len) < 0)
		die("write: the peer went away", NULL);
}

/* The framed phases use a blocking wrapper around the non-blocking conn. */
static void send_frame(struct wd_conn *c, uint32_t stream, const void *p, size_t len)
{
	struct wd_err err;

	if (wd_conn_send(c, WD_MSG_DATA, stream, p, len, &err) == -ENOBUFS) {
		if (wd_conn_flush_wait(c, -1, &err) < 0)
			die("flush", &err);
		if (wd_conn_send(c, WD_MSG_DATA, stream, p, len, &err) < 0)
			die("send", &err);
	}
}

/*
 * Stream `total` bytes as DATA frames the way the product's producers do
 * (host/relay.c uploads, supervisor/agent.c output): queue frames while the
 * queue is below WD_CONN_HIGH_WATER, write what the peer takes without
 * blocking, and wait for POLLOUT only when nothing more may be queued. So
 * the sender MACs the next frames while the receiver verifies the last
 * ones, as in a real job.
 */
static void stream_frames(struct wd_conn *c, const uint8_t *buf, size_t chunk, uint64_t total)
{
	struct wd_err err;

	for (uint64_t sent = 0; sent < total;) {
		struct pollfd pfd = {.fd = c->fd, .events = POLLOUT, .revents = 0};
		int rc;

		while (sent < total && wd_conn_queued(c) < WD_CONN_HIGH_WATER) {
			size_t len = total - sent < chunk ? (size_t)(total - sent) : chunk;

			if (wd_conn_send(c, WD_MSG_DATA, WD_STREAM_STDIN, buf, len, &err) < 0)
				die("send", &err);
			sent += len;
		}
		rc = wd_conn_flush(c, &err);
		if (rc < 0)
			die("flush", &err);
		if (rc > 0 && wd_conn_queued(c) >= WD_CONN_HIGH_WATER && poll(&pfd, 1, -1) < 0 &&
		    errno != EINTR)
			die("poll", NULL);
	}
}

static void flush(struct wd_conn *c)
{
	struct wd_err err;

	if (wd_conn_flush_wait(c, -1, &err) < 0)
		die("flush", &err);
}

static void recv_frame(struct wd_conn *c, struct wd_frame *f)
{
	struct wd_err err;

	if (wd_conn_recv_wait(c, f, -1, &err) != 1)
		die("receive", &err);
	if (f->type != WD_MSG_DATA)
		die("unexpected frame", NULL);
}

static void keyed_conn(struct wd_conn *c, int fd, enum wd_side side)
{
	struct wd_err err;

	if (wd_conn_init(c, fd, side, &err) < 0)
		die("conn", &err);
	wd_chan_set_key(&c->chan, bench_key);
}

static void serve(int fd)
{
	static uint8_t buf[WD_CONN_DATA_CHUNK];
	uint64_t total, rounds, got = 0;
	struct wd_frame f;
	struct wd_conn c;
	uint8_t one;

	/* Wait for the client's first byte; a port without a host says HUP. */
	for (int waited = 0;; waited++) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};

		if (poll(&pfd, 1, 100) > 0 && (pfd.revents & POLLIN) != 0)
			break;
		if (waited > 1200)
			die("no client in 120 s", NULL);
		if (pfd.revents != 0)
			(void)usleep(100000);
	}
	/* 1. raw throughput, twice: a warm-up, then the measured run */
	for (int pass = 0; pass < 2; pass++) {
		read_exact(fd, &total, sizeof(total));
		for (got = 0; got < total;) {
			size_t want =
				total - got < sizeof(buf) ? (size_t)(total - got) : sizeof(buf);
			ssize_t n = read(fd, buf, want);

			if (n <= 0 && !(n < 0 && errno == EINTR))
				die("raw read", NULL);
			got += n > 0 ? (uint64_t)n : 0;
		}
		write_exact(fd, "k", 1);
	}
	got = 0;
	/* 2. raw round trip */
	read_exact(fd, &rounds, sizeof(rounds));
	for (uint64_t i = 0; i < rounds; i++) {
		read_exact(fd, &one, 1);
		write_exact(fd, &one, 1);
	}
	/* 3. and 4. framed */
	keyed_conn(&c, fd, WD_SIDE_GUEST);
	got = 0;
	for (;;) {
		recv_frame(&c, &f);
		if (f.len == 0)
			break;
		got += f.len;
	}
	send_frame(&c, WD_STREAM_STDOUT, &got, sizeof(got));
	flush(&c);
	for (uint64_t i = 0; i < rounds; i++) {
		recv_frame(&c, &f);
		send_frame(&c, WD_STREAM_STDOUT, f.payload, f.len);
		flush(&c);
	}
	wd_conn_close(&c);
}

static double seconds_since(uint64_t t0)
{
	return (double)(wd_mono_ns() - t0) / 1e9;
}

static void client(int fd, uint64_t mib, uint64_t rounds, const char *transport)
{
	static uint8_t buf[WD_CONN_DATA_CHUNK];
	uint64_t total = mib << 20, sent = 0, t0, echoed = 0;
	double raw_tp, raw_rtt, mac_tp, mac_rtt;
	struct wd_frame f;
	struct wd_conn c;
	uint8_t one = 'x';

	memset(buf, 0xa5, sizeof(buf));
	for (int pass = 0; pass < 2; pass++) {
		/* The first pass warms the path up (page cache, the VM's queues). */
		uint64_t bytes = pass == 0 ? sizeof(buf) * 16 : total;

		t0 = wd_mono_ns();
		write_exact(fd, &bytes, sizeof(bytes));
		for (sent = 0; sent < bytes; sent += sizeof(buf))
			write_exact(fd, buf, sizeof(buf));
		read_exact(fd, &one, 1);
	}
	raw_tp = (double)mib / seconds_since(t0);

	write_exact(fd, &rounds, sizeof(rounds));
	t0 = wd_mono_ns();
	for (uint64_t i = 0; i < rounds; i++) {
		write_exact(fd, &one, 1);
		read_exact(fd, &one, 1);
	}
	raw_rtt = seconds_since(t0) * 1e6 / (double)rounds;

	keyed_conn(&c, fd, WD_SIDE_HOST);
	t0 = wd_mono_ns();
	stream_frames(&c, buf, sizeof(buf), total);
	send_frame(&c, WD_STREAM_STDIN, NULL, 0);
	flush(&c);
	recv_frame(&c, &f);
	if (f.len == sizeof(echoed))
		memcpy(&echoed, f.payload, sizeof(echoed));
	if (echoed != total)
		die("framed throughput: byte count differs", NULL);
	mac_tp = (double)mib / seconds_since(t0);

	t0 = wd_mono_ns();
	for (uint64_t i = 0; i < rounds; i++) {
		send_frame(&c, WD_STREAM_STDIN, &one, 1);
		flush(&c);
		recv_frame(&c, &f);
	}
	mac_rtt = seconds_since(t0) * 1e6 / (double)rounds;
	wd_conn_close(&c);

	printf("%s throughput: framed+MAC %.1f MiB/s, raw bytes %.1f MiB/s, ratio %.2f (%llu "
	       "MiB)\n",
	       transport, mac_tp, raw_tp, mac_tp / raw_tp, (unsigned long long)mib);
	printf("%s round trip: framed+MAC %.1f us, raw bytes %.1f us, ratio %.2f (%llu rounds)\n",
	       transport, mac_rtt, raw_rtt, mac_rtt / raw_rtt, (unsigned long long)rounds);
	printf("%s MAC on this end: GMAC, %s\n", transport,
	       wd_mac_hw() ? "AES-NI and PCLMULQDQ" : "BearSSL's portable AES and GHASH");
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr;
	uint64_t start = wd_mono_ns();

	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(addr.sun_path))
		die("socket path too long", NULL);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	while (wd_mono_ns() - start < 120 * WD_NS_PER_SEC) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			die("socket", NULL);
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return fd;
		(void)close(fd);
		(void)usleep(50000);
	}
	die("cannot connect to the chardev socket", NULL);
	return -1;
}

int main(int argc, char **argv)
{
	struct wd_err err;

	if (argc == 4 && strcmp(argv[1], "unix") == 0) {
		int sv[2], status;
		pid_t pid;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair", NULL);
		pid = fork();
		if (pid == 0) {
			(void)close(sv[0]);
			serve(sv[1]);
			_exit(0);
		}
		(void)close(sv[1]);
		client(sv[0], strtoull(argv[2], NULL, 10), strtoull(argv[3], NULL, 10), "AF_UNIX");
		(void)waitpid(pid, &status, 0);
		return 0;
	}
	/* Started by warden-init in place of the supervisor: serve its channel. */
	if (argc == 1 && getenv("WARDEN_CHANNEL") != NULL) {
		static char serve_arg[] = "serve";

		argv[1] = serve_arg;
		argv[2] = getenv("WARDEN_CHANNEL");
		argc = 3;
	}
	if (argc == 3 && strcmp(argv[1], "serve") == 0) {
		int fd = -1;

		for (int tries = 0; fd < 0 && tries < 100; tries++) {
			fd = wd_channel_open(argv[2], &err);
			if (fd < 0)
				(void)usleep(100000);
		}
		if (fd < 0)
			die("open the channel", &err);
		serve(fd);
		return 0;
	}
	if (argc == 5 && strcmp(argv[1], "client") == 0) {
		client(connect_unix(argv[2]), strtoull(argv[3], NULL, 10),
		       strtoull(argv[4], NULL, 10), "virtio-serial");
		return 0;
	}
	(void)fprintf(stderr,
		      "usage: chanbench unix MIB ROUNDS | serve SPEC | client SOCKET MIB ROUNDS\n");
	return 2;
}
