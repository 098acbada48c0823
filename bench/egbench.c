/*
 * bench/egbench.c - egress figures: bulk throughput, connection set-up and
 * many held tunnels, through an HTTP CONNECT proxy or directly.
 *
 *   egbench serve PORTFILE               the far end, on 127.0.0.1 (a port the
 *                                        kernel picks, written to PORTFILE)
 *   egbench bulk VIA HOST PORT MIB up|down
 *                                        MIB MiB one way; prints MiB/s
 *   egbench setup VIA HOST PORT N        N connections one after another, each
 *                                        timed from connect() to the first byte
 *                                        back; prints p50 and p99 in us
 *   egbench hold VIA HOST PORT N SECONDS N tunnels open at once for SECONDS
 *                                        (prints "holding N" when all are up)
 *
 * VIA is "direct" or "proxy:ADDR:PORT" (an HTTP proxy taking CONNECT
 * HOST:PORT: warden's 127.0.0.1:3128 inside the sandbox, or tinyproxy).
 * The far end takes one command byte per connection: 'U' then a count (8
 * bytes, big-endian) reads that many bytes and answers the count it got
 * (a proxy need not pass a half-close on); 'D' then a count sends that
 * many bytes; 'E' echoes one byte; 'H'
 * holds the connection until its end. A benchmark, never a product path;
 * libc only, and threads for the server.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_BYTES (256UL * 1024UL)
#define MAX_HOLD 4096
#define MAX_SETUP 100000
#define THREAD_STACK (128UL * 1024UL)

/* A port number, or exit 2. */
static uint16_t port_arg(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*s == '\0' || *end != '\0' || v == 0 || v > 65535) {
		(void)fprintf(stderr, "egbench: bad port %s\n", s);
		exit(2);
	}
	return (uint16_t)v;
}

static void die(const char *what)
{
	(void)fprintf(stderr, "egbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int read_full(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n > 0) {
		ssize_t r = read(fd, b, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n > 0) {
		ssize_t w = write(fd, b, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* ---- the far end ------------------------------------------------------------ */

static void *serve_one(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t zeros[BUF_BYTES];
	uint8_t *buf = malloc(BUF_BYTES), cmd, n8[8];
	uint64_t n = 0;
	ssize_t r;

	free(arg);
	if (buf == NULL || read_full(fd, &cmd, 1) < 0)
		goto out;
	if (cmd == 'U' && read_full(fd, n8, 8) == 0) {
		uint64_t want = get64(n8);
		while (n < want &&
		       ((r = read(fd, buf, BUF_BYTES)) > 0 || (r < 0 && errno == EINTR)))
			n += r > 0 ? (uint64_t)r : 0;
		put64(n8, n);
		(void)write_full(fd, n8, 8);
	} else if (cmd == 'D' && read_full(fd, n8, 8) == 0) {
		for (n = get64(n8); n > 0;) {
			size_t k = n < BUF_BYTES ? (size_t)n : BUF_BYTES;
			if (write_full(fd, zeros, k) < 0)
				break;
			n -= k;
		}
	} else if (cmd == 'E') {
		while (read_full(fd, n8, 1) == 0 && write_full(fd, n8, 1) == 0)
			;
	} else if (cmd == 'H') {
		while (read(fd, buf, BUF_BYTES) > 0)
			;
	}
out:
	free(buf);
	(void)close(fd);
	return NULL;
}

_Noreturn static void serve(const char *portfile)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	pthread_attr_t attr;
	FILE *f;
	int one = 1, lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(lfd, 4096) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&a, &len) < 0)
		die("listen");
	f = fopen(portfile, "w");
	if (f == NULL || fprintf(f, "%u\n", ntohs(a.sin_port)) < 0 || fclose(f) != 0)
		die(portfile);
	(void)pthread_attr_init(&attr);
	(void)pthread_attr_setstacksize(&attr, THREAD_STACK);
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		pthread_t t;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC), *arg;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE)
				continue;
			die("accept");
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		arg = malloc(sizeof(*arg));
		if (arg == NULL) {
			(void)close(fd);
			continue;
		}
		*arg = fd;
		if (pthread_create(&t, &attr, serve_one, arg) != 0) {
			free(arg);
			(void)close(fd);
		}
	}
}

/* ---- the near end ------------------------------------------------------------ */

struct via {
	bool proxy;
	struct sockaddr_in addr; /* the proxy, or the far end itself */
};

static void parse_via(const char *s, const char *host, const char *port, struct via *v)
{
	const char *colon;
	char ip[64];

	memset(v, 0, sizeof(*v));
	v->addr.sin_family = AF_INET;
	if (strcmp(s, "direct") == 0) {
		v->addr.sin_port = htons(port_arg(port));
		if (inet_pton(AF_INET, host, &v->addr.sin_addr) != 1) {
			(void)fprintf(stderr, "egbench: direct needs an IPv4 address, not %s\n",
				      host);
			exit(2);
		}
		return;
	}
	if (strncmp(s, "proxy:", 6) != 0 || (colon = strrchr(s + 6, ':')) == NULL ||
	    (size_t)(colon - (s + 6)) >= sizeof(ip)) {
		(void)fprintf(stderr, "egbench: VIA is direct or proxy:ADDR:PORT\n");
		exit(2);
	}
	memcpy(ip, s + 6, (size_t)(colon - (s + 6)));
	ip[colon - (s + 6)] = '\0';
	v->proxy = true;
	v->addr.sin_port = htons(port_arg(colon + 1));
	if (inet_pton(AF_INET, ip, &v->addr.sin_addr) != 1) {
		(void)fprintf(stderr, "egbench: bad proxy address %s\n", ip);
		exit(2);
	}
}

/* A connection to HOST:PORT, through the proxy's CONNECT when there is one. */
static int open_to(const struct via *v, const char *host, const char *port)
{
	char req[600], head[2048];
	size_t got = 0;
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)&v->addr, sizeof(v->addr)) < 0)
		die("connect");
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!v->proxy)
		return fd;
	int n = snprintf(req, sizeof(req), "CONNECT %s:%s HTTP/1.1\r\nHost: %s:%s\r\n\r\n", host,
			 port, host, port);
	if (n < 0 || (size_t)n >= sizeof(req) || write_full(fd, req, (size_t)n) < 0)
		die("CONNECT");
	/* The answer's head, a byte at a time: nothing of the tunnel is taken. */
	while (got < sizeof(head) - 1) {
		if (read_full(fd, head + got, 1) < 0)
			die("the proxy's answer");
		got++;
		if (got >= 4 && memcmp(head + got - 4, "\r\n\r\n", 4) == 0)
			break;
	}
	head[got] = '\0';
	if (strncmp(head, "HTTP/1.1 200", 12) != 0 && strncmp(head, "HTTP/1.0 200", 12) != 0) {
		head[strcspn(head, "\r\n")] = '\0';
		(void)fprintf(stderr, "egbench: CONNECT refused: %s\n", head);
		exit(1);
	}
	return fd;
}

static int bulk(const struct via *v, const char *host, const char *port, uint64_t mib, bool up)
{
	uint8_t *buf = calloc(1, BUF_BYTES), n8[9];
	uint64_t total = mib << 20, moved = 0, t0;
	int fd = open_to(v, host, port);

	if (buf == NULL)
		die("calloc");
	t0 = now_ns();
	if (up) {
		n8[0] = 'U';
		put64(n8 + 1, total);
		if (write_full(fd, n8, 9) < 0)
			die("write");
		for (; moved < total; moved += BUF_BYTES)
			if (write_full(fd, buf,
				       total - moved < BUF_BYTES ? total - moved : BUF_BYTES) < 0)
				die("upload");
		if (read_full(fd, n8, 8) < 0 || get64(n8) != total) {
			(void)fprintf(stderr, "egbench: the far end did not get every byte\n");
			free(buf);
			return 1;
		}
	} else {
		n8[0] = 'D';
		put64(n8 + 1, total);
		if (write_full(fd, n8, 9) < 0)
			die("write");
		while (moved < total) {
			ssize_t r = read(fd, buf, BUF_BYTES);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				(void)fprintf(stderr, "egbench: the download ended early\n");
				free(buf);
				return 1;
			}
			moved += (uint64_t)r;
		}
	}
	double s = (double)(now_ns() - t0) / 1e9;
	(void)printf("%s %llu MiB in %.3f s: %.1f MiB/s\n", up ? "upload" : "download",
		     (unsigned long long)mib, s, (double)mib / s);
	(void)close(fd);
	free(buf);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int setup(const struct via *v, const char *host, const char *port, unsigned n)
{
	uint64_t *t = calloc(n, sizeof(*t));

	if (t == NULL)
		die("calloc");
	for (unsigned i = 0; i < n; i++) {
		uint64_t t0 = now_ns();
		uint8_t b[2] = {'E', 'x'};
		int fd = open_to(v, host, port);

		if (write_full(fd, b, 2) < 0 || read_full(fd, b, 1) < 0 || b[0] != 'x')
			die("first byte");
		t[i] = now_ns() - t0;
		(void)close(fd);
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	size_t p50 = n / 2, p99 = (size_t)n * 99 / 100;
	uint64_t v50 = t[p50], v99 = t[p99 < n ? p99 : n - 1];

	(void)printf("setup %u connections: p50 %.1f us, p99 %.1f us\n", n, (double)v50 / 1e3,
		     (double)v99 / 1e3);
	free(t);
	return 0;
}

static int hold(const struct via *v, const char *host, const char *port, unsigned n, unsigned secs)
{
	static int fds[MAX_HOLD];

	for (unsigned i = 0; i < n; i++) {
		fds[i] = open_to(v, host, port);
		if (write_full(fds[i], "H", 1) < 0)
			die("hold");
	}
	(void)printf("holding %u\n", n);
	(void)fflush(stdout);
	(void)sleep(secs);
	for (unsigned i = 0; i < n; i++)
		(void)close(fds[i]);
	return 0;
}

int main(int argc, char **argv)
{
	struct via v;

	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		serve(argv[2]);
	if (argc < 6)
		goto usage;
	parse_via(argv[2], argv[3], argv[4], &v);
	if (argc == 7 && strcmp(argv[1], "bulk") == 0 &&
	    (strcmp(argv[6], "up") == 0 || strcmp(argv[6], "down") == 0))
		return bulk(&v, argv[3], argv[4], strtoull(argv[5], NULL, 10),
			    strcmp(argv[6], "up") == 0);
	if (argc == 6 && strcmp(argv[1], "setup") == 0) {
		unsigned long n = strtoul(argv[5], NULL, 10);
		if (n == 0 || n > MAX_SETUP)
			goto usage;
		return setup(&v, argv[3], argv[4], (unsigned)n);
	}
	if (argc == 7 && strcmp(argv[1], "hold") == 0) {
		unsigned long n = strtoul(argv[5], NULL, 10);
		if (n == 0 || n > MAX_HOLD)
			goto usage;
		return hold(&v, argv[3], argv[4], (unsigned)n,
			    (unsigned)strtoul(argv[6], NULL, 10));
	}
usage:
	(void)fprintf(stderr, "usage: egbench serve PORTFILE\n"
			      "       egbench bulk VIA HOST PORT MIB up|down\n"
			      "       egbench setup VIA HOST PORT N\n"
			      "       egbench hold VIA HOST PORT N SECONDS\n"
			      "VIA: direct | proxy:ADDR:PORT\n");
	return 2;
}
