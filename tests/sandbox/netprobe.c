/*
 * tests/sandbox/netprobe.c - what the agent's network looks like with
 * egress on, and the ways around the proxies it might try. One line per
 * probe, "NAME: RESULT" (RESULT "ok", an errno's name, or what was read);
 * tests/sandbox/run.sh asserts each.
 *
 *   netprobe all          every probe below
 *   netprobe connects N   N connect()s to a loopback listener of its own;
 *                         prints "connect_ns: <mean nanoseconds>" (bench)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static const char *ename(int e)
{
	switch (e) {
	case 0:
		return "ok";
	case ENETUNREACH:
		return "ENETUNREACH";
	case EAFNOSUPPORT:
		return "EAFNOSUPPORT";
	case EPERM:
		return "EPERM";
	case ECONNREFUSED:
		return "ECONNREFUSED";
	case EADDRINUSE:
		return "EADDRINUSE";
	case EROFS:
		return "EROFS";
	case EACCES:
		return "EACCES";
	case EINVAL:
		return "EINVAL";
	default:
		return strerror(e);
	}
}

static struct sockaddr_in v4(const char *a, uint16_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};

	(void)inet_pton(AF_INET, a, &in.sin_addr);
	return in;
}

static int try_connect(int type, const char *a, uint16_t port)
{
	struct sockaddr_in in = v4(a, port);
	int fd = socket(AF_INET, type, 0), e;

	if (fd < 0)
		return errno;
	e = connect(fd, (struct sockaddr *)&in, sizeof(in)) == 0 ? 0 : errno;
	(void)close(fd);
	return e;
}

/* The proxies' listeners answer: the caller greets ("warden PORT"). */
static void proxy(const char *name, uint16_t port)
{
	struct sockaddr_in in = v4("127.0.0.1", port);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char buf[32] = "";
	ssize_t n = -1;

	if (fd >= 0 && connect(fd, (struct sockaddr *)&in, sizeof(in)) == 0)
		n = read(fd, buf, sizeof(buf) - 1);
	printf("%s: %s\n", name, n > 0 ? strtok(buf, "\n") : ename(errno));
	if (fd >= 0)
		(void)close(fd);
}

static void squat(void)
{
	struct sockaddr_in in = v4("127.0.0.1", 3128);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	printf("bind_3128: %s\n",
	       ename(bind(fd, (struct sockaddr *)&in, sizeof(in)) == 0 ? 0 : errno));
	(void)close(fd);
}

static void sockets_held(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		char path[300], link[64];
		ssize_t len;

		(void)snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len > 0 && strncmp(link, "socket:", 7) == 0)
			n++;
	}
	if (d != NULL)
		(void)closedir(d);
	printf("sockets_held: %d\n", n);
}

static void resolver(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	struct stat st;
	int rc = getaddrinfo("example.com", "443", &hints, &res);
	FILE *f;

	printf("getaddrinfo: %s\n", rc == 0 ? "resolved" : "failed");
	if (res != NULL)
		freeaddrinfo(res);
	printf("port53_tcp: %s\n", ename(try_connect(SOCK_STREAM, "127.0.0.1", 53)));
	if (stat("/etc/resolv.conf", &st) == 0)
		printf("resolv_conf: size %lld\n", (long long)st.st_size);
	else
		printf("resolv_conf: %s\n", ename(errno));
	f = fopen("/etc/resolv.conf", "w");
	printf("resolv_conf_write: %s\n", f != NULL ? "ok" : ename(errno));
	if (f != NULL)
		(void)fclose(f);
}

static void direct(void)
{
	struct sockaddr_in in = v4("10.0.0.1", 53);
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
	struct {
		unsigned short family, reserved;
		unsigned port, cid;
		unsigned char flags, zero[3];
	} vm = {AF_VSOCK, 0, 1024, 2, 0, {0}};
	int fd, e;

	printf("tcp_192.0.2.1: %s\n", ename(try_connect(SOCK_STREAM, "192.0.2.1", 80)));
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	e = sendto(fd, "q", 1, 0, (struct sockaddr *)&in, sizeof(in)) == 1 ? 0 : errno;
	printf("udp_10.0.0.1: %s\n", ename(e));
	(void)close(fd);
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	(void)inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	in6.sin6_scope_id = if_nametoindex("lo");
	e = connect(fd, (struct sockaddr *)&in6, sizeof(in6)) == 0 ? 0 : errno;
	printf("tcp_fe80::1: %s\n", ename(e));
	(void)close(fd);
	fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	printf("vsock_socket: %s\n", ename(fd >= 0 ? 0 : errno));
	/* on any socket: the address is what is checked */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	e = connect(fd, (struct sockaddr *)&vm, sizeof(vm)) == 0 ? 0 : errno;
	printf("vsock_connect: %s\n", ename(e));
	(void)close(fd);
	fd = socket(AF_INET, SOCK_RAW, 1);
	printf("raw_socket: %s\n", ename(fd >= 0 ? 0 : errno));
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	printf("packet_socket: %s\n", ename(fd >= 0 ? 0 : errno));
}

static void environment(void)
{
	static const char *const names[] = {"HTTP_PROXY",  "http_proxy", "HTTPS_PROXY",
					    "https_proxy", "ALL_PROXY",  "all_proxy",
					    "NO_PROXY",    "no_proxy",   "NODE_USE_ENV_PROXY"};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *v = getenv(names[i]);

		printf("env %s: %s\n", names[i], v != NULL ? v : "(unset)");
	}
}

static int connects(long n)
{
	struct sockaddr_in in = v4("127.0.0.1", 0);
	socklen_t len = sizeof(in);
	struct timespec a, b;
	int l = socket(AF_INET, SOCK_STREAM, 0);

	if (l < 0 || bind(l, (struct sockaddr *)&in, sizeof(in)) < 0 || listen(l, 1024) < 0 ||
	    getsockname(l, (struct sockaddr *)&in, &len) < 0)
		return 1;
	(void)clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		int c = socket(AF_INET, SOCK_STREAM, 0), s;

		if (c < 0 || connect(c, (struct sockaddr *)&in, sizeof(in)) < 0)
			return 1;
		s = accept(l, NULL, NULL);
		(void)close(c);
		if (s >= 0)
			(void)close(s);
	}
	(void)clock_gettime(CLOCK_MONOTONIC, &b);
	printf("connect_ns: %lld\n",
	       ((long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "connects") == 0)
		return connects(strtol(argv[2], NULL, 10) > 0 ? strtol(argv[2], NULL, 10) : 1);
	if (argc != 2 || strcmp(argv[1], "all") != 0) {
		fprintf(stderr, "usage: netprobe all | netprobe connects N\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	proxy("proxy_http", 3128);
	proxy("proxy_socks", 1080);
	squat();
	sockets_held();
	printf("tcp_loopback: %s\n", ename(try_connect(SOCK_STREAM, "127.0.0.1", 9)));
	resolver();
	direct();
	environment();
	return 0;
}
