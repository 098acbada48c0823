/*
 * tests/egress/tunnels.c - many tunnels through the agent's proxies at once,
 * and a slow client beside a quick one. Runs as the agent, inside the
 * sandbox; libc only, one poll(2) loop, no threads.
 *
 *   tunnels connect N HOST PORT BYTES   N tunnels through the HTTP proxy
 *                                       (CONNECT HOST:PORT), all open at once
 *   tunnels socks N HOST PORT BYTES     the same through SOCKS5 (domain name)
 *   tunnels slowloris HOST PORT K       one client sends a CONNECT head one
 *                                       byte at a time while K tunnels, one
 *                                       after another, each echo 4 KiB
 *
 * HOST:PORT is an echo server. Each tunnel sends BYTES of its own pattern
 * (a function of the tunnel's number and the offset) and reads them back,
 * comparing every byte, so a byte lost, doubled, reordered or crossed
 * between tunnels is found. All tunnels are open before the first one is
 * closed. Prints "tunnels: N MiB back" each time PROGRESS_BYTES more came
 * back, then one line "tunnels: ... intact" and exits 0 when every byte
 * came back; otherwise says which tunnel failed and why, and exits 1.
 *
 * slowloris: the slow client's head is SLOW_BYTES long and it sends one
 * byte each SLOW_STEP_MS, never completing the head before the K quick
 * tunnels are done: the test fails if the slow client finished first, or
 * if any quick tunnel failed. It asserts an order (the quick ones were not
 * held up behind the slow one), not a time.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HTTP_PROXY_PORT 3128
#define SOCKS_PROXY_PORT 1080
#define MAX_TUNNELS 4096
#define HEAD_MAX 1024
#define SLOW_STEP_MS 200
#define SLOW_BYTES 400 /* 80 s at SLOW_STEP_MS: far more than K tunnels take */
#define QUICK_BYTES 4096
#define WAIT_MS 600000               /* a hung proxy ends the test, not the suite */
#define PROGRESS_BYTES (16ULL << 20) /* a progress line each time this much more came back */

enum kind { HTTP, SOCKS };
enum phase { HANDSHAKE, PIPE, DONE };

struct tunnel {
	int fd;
	enum phase phase;
	unsigned socks_step; /* SOCKS: 0 greeting reply, 1 connect reply */
	char head[HEAD_MAX];
	size_t head_len;
	char req[HEAD_MAX];
	size_t req_len, req_off;
	uint64_t sent, got;
};

static uint8_t pattern(unsigned t, uint64_t off)
{
	uint64_t x = (off + 1) * 0x9e3779b97f4a7c15ULL ^ ((uint64_t)t << 32);

	return (uint8_t)(x >> 29);
}

static int fail(unsigned t, const char *why)
{
	(void)printf("tunnels: tunnel %u: %s\n", t, why);
	return 1;
}

static int proxy_socket(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 && errno != EINPROGRESS) {
		(void)close(fd);
		return -1;
	}
	return fd;
}

static void make_request(struct tunnel *t, enum kind k, const char *host, uint16_t port)
{
	if (k == HTTP) {
		int n = snprintf(t->req, sizeof(t->req),
				 "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n\r\n", host, port, host,
				 port);
		t->req_len = (size_t)n;
		return;
	}
	/* greeting, then the request: sent together (a pipelining client) */
	size_t hl = strlen(host);
	uint8_t *p = (uint8_t *)t->req;

	p[0] = 5, p[1] = 1, p[2] = 0;
	p[3] = 5, p[4] = 1, p[5] = 0, p[6] = 3, p[7] = (uint8_t)hl;
	memcpy(p + 8, host, hl);
	p[8 + hl] = (uint8_t)(port >> 8);
	p[9 + hl] = (uint8_t)port;
	t->req_len = 10 + hl;
}

/* Bytes of the proxy's answer: 1 when the tunnel is open, 0 more needed, -1 refused. */
static int handshake_in(struct tunnel *t, enum kind k)
{
	if (k == HTTP) {
		char *end;

		t->head[t->head_len] = '\0';
		end = strstr(t->head, "\r\n\r\n");
		if (end == NULL)
			return t->head_len >= HEAD_MAX - 1 ? -1 : 0;
		if (strncmp(t->head, "HTTP/1.1 200", 12) != 0)
			return -1;
		/* an echo server says nothing first: nothing may follow the head */
		return (size_t)(end + 4 - t->head) == t->head_len ? 1 : -1;
	}
	if (t->head_len < 2)
		return 0;
	if ((uint8_t)t->head[0] != 5 || t->head[1] != 0)
		return -1;
	if (t->head_len < 2 + 10)
		return 0;
	if ((uint8_t)t->head[2] != 5 || t->head[3] != 0 || t->head[5] != 1)
		return -1;
	return t->head_len == 12 ? 1 : -1;
}

static int step(struct tunnel *t, unsigned i, enum kind k, short rev, uint64_t bytes)
{
	uint8_t buf[16384];
	ssize_t n;

	if (rev & (POLLERR | POLLNVAL))
		return fail(i, "socket error");
	if (t->phase == HANDSHAKE) {
		if ((rev & POLLOUT) && t->req_off < t->req_len) {
			n = write(t->fd, t->req + t->req_off, t->req_len - t->req_off);
			if (n < 0 && errno != EAGAIN)
				return fail(i, "write of the request failed");
			if (n > 0)
				t->req_off += (size_t)n;
		}
		if (rev & (POLLIN | POLLHUP)) {
			/* one byte at a time: nothing beyond the answer is taken */
			n = read(t->fd, t->head + t->head_len, 1);
			if (n == 0)
				return fail(i, "the proxy closed during the handshake");
			if (n > 0) {
				t->head_len++;
				int r = handshake_in(t, k);
				if (r < 0) {
					t->head[strcspn(t->head, "\r\n")] = '\0';
					(void)printf("tunnels: tunnel %u: refused: %s\n", i,
						     t->head);
					return 1;
				}
				if (r > 0)
					t->phase = PIPE;
			}
		}
		return 0;
	}
	if (t->phase != PIPE)
		return 0;
	if ((rev & POLLOUT) && t->sent < bytes) {
		size_t len =
			bytes - t->sent < sizeof(buf) ? (size_t)(bytes - t->sent) : sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = pattern(i, t->sent + j);
		n = write(t->fd, buf, len);
		if (n < 0 && errno != EAGAIN)
			return fail(i, "write failed");
		if (n > 0)
			t->sent += (uint64_t)n;
	}
	if (rev & (POLLIN | POLLHUP)) {
		n = read(t->fd, buf, sizeof(buf));
		if (n == 0)
			return fail(i, "closed before every byte came back");
		if (n < 0 && errno != EAGAIN)
			return fail(i, "read failed");
		for (ssize_t j = 0; j < n; j++) {
			if (t->got + (uint64_t)j >= t->sent)
				return fail(i, "more bytes came back than were sent");
			if (buf[j] != pattern(i, t->got + (uint64_t)j))
				return fail(i, "a byte came back changed");
		}
		if (n > 0)
			t->got += (uint64_t)n;
		if (t->got == bytes)
			t->phase = DONE;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int many(enum kind k, unsigned n, const char *host, uint16_t port, uint64_t bytes)
{
	static struct tunnel t[MAX_TUNNELS];
	static struct pollfd p[MAX_TUNNELS];
	unsigned done = 0;
	uint64_t give_up = now_ms() + WAIT_MS, total = 0, shown = 0;

	for (unsigned i = 0; i < n; i++) {
		t[i].fd = proxy_socket(k == HTTP ? HTTP_PROXY_PORT : SOCKS_PROXY_PORT);
		if (t[i].fd < 0) {
			(void)printf("tunnels: tunnel %u: connect to the proxy: %s\n", i,
				     strerror(errno));
			return 1;
		}
		make_request(&t[i], k, host, port);
	}
	while (done < n) {
		for (unsigned i = 0; i < n; i++) {
			p[i].fd = t[i].phase == DONE ? -1 : t[i].fd;
			p[i].events = POLLIN;
			if ((t[i].phase == HANDSHAKE && t[i].req_off < t[i].req_len) ||
			    (t[i].phase == PIPE && t[i].sent < bytes))
				p[i].events |= POLLOUT;
		}
		if (now_ms() > give_up) {
			(void)printf("tunnels: %u of %u done after %d s\n", done, n,
				     WAIT_MS / 1000);
			return 1;
		}
		if (poll(p, n, 1000) < 0 && errno != EINTR)
			return fail(0, "poll failed");
		done = 0;
		for (unsigned i = 0; i < n; i++) {
			if (p[i].revents != 0 && step(&t[i], i, k, p[i].revents, bytes) != 0)
				return 1;
			done += t[i].phase == DONE;
			total += t[i].got;
		}
		/* Progress for a watcher (the channel-cut test waits for it). */
		if (total / PROGRESS_BYTES > shown) {
			shown = total / PROGRESS_BYTES;
			(void)printf("tunnels: %llu MiB back\n", (unsigned long long)(total >> 20));
			(void)fflush(stdout);
		}
		total = 0;
	}
	/* Every tunnel was open until here. */
	for (unsigned i = 0; i < n; i++)
		(void)close(t[i].fd);
	(void)printf("tunnels: %u %s tunnels, %llu bytes each, intact\n", n,
		     k == HTTP ? "CONNECT" : "SOCKS5", (unsigned long long)bytes);
	return 0;
}

static int slowloris(const char *host, uint16_t port, unsigned k)
{
	char slow[SLOW_BYTES + 1];
	int sfd = proxy_socket(HTTP_PROXY_PORT);
	size_t slow_off = 0;
	uint64_t next_byte = now_ms();

	if (sfd < 0)
		return fail(0, "connect to the proxy");
	/* a head that never ends: a header line padded out */
	(void)snprintf(slow, sizeof(slow), "CONNECT %s:%u HTTP/1.1\r\nX-Pad: ", host, port);
	for (size_t j = strlen(slow); j < SLOW_BYTES; j++)
		slow[j] = 'a';
	slow[SLOW_BYTES] = '\0';
	for (unsigned q = 0; q < k; q++) {
		struct tunnel t;
		uint64_t give_up = now_ms() + WAIT_MS;

		memset(&t, 0, sizeof(t));
		t.fd = proxy_socket(HTTP_PROXY_PORT);
		if (t.fd < 0)
			return fail(q, "connect to the proxy");
		make_request(&t, HTTP, host, port);
		while (t.phase != DONE) {
			struct pollfd p = {.fd = t.fd, .events = POLLIN};
			uint64_t now = now_ms();

			if (now >= next_byte) {
				if (slow_off == SLOW_BYTES) {
					(void)printf(
						"tunnels: the slow client finished its head before "
						"quick tunnel %u was done\n",
						q);
					return 1;
				}
				if (write(sfd, slow + slow_off, 1) == 1)
					slow_off++;
				next_byte = now + SLOW_STEP_MS;
			}
			if (now > give_up)
				return fail(q, "no answer");
			if ((t.phase == HANDSHAKE && t.req_off < t.req_len) ||
			    (t.phase == PIPE && t.sent < QUICK_BYTES))
				p.events |= POLLOUT;
			if (poll(&p, 1, SLOW_STEP_MS) < 0 && errno != EINTR)
				return fail(q, "poll failed");
			if (p.revents != 0 && step(&t, q, HTTP, p.revents, QUICK_BYTES) != 0)
				return 1;
		}
		(void)close(t.fd);
	}
	(void)printf("tunnels: %u quick tunnels done while a slow client had sent %zu of its "
		     "%d head bytes\n",
		     k, slow_off, SLOW_BYTES);
	(void)close(sfd);
	return 0;
}

int main(int argc, char **argv)
{
	char *end;
	unsigned long n, port;

	if (argc == 5 && strcmp(argv[1], "slowloris") == 0) {
		port = strtoul(argv[3], &end, 10);
		n = strtoul(argv[4], NULL, 10);
		if (*end != '\0' || port == 0 || port > 65535 || n == 0)
			goto usage;
		return slowloris(argv[2], (uint16_t)port, (unsigned)n);
	}
	if (argc != 6 || (strcmp(argv[1], "connect") != 0 && strcmp(argv[1], "socks") != 0))
		goto usage;
	n = strtoul(argv[2], NULL, 10);
	port = strtoul(argv[4], &end, 10);
	if (n == 0 || n > MAX_TUNNELS || *end != '\0' || port == 0 || port > 65535 ||
	    strlen(argv[3]) > 255)
		goto usage;
	return many(strcmp(argv[1], "connect") == 0 ? HTTP : SOCKS, (unsigned)n, argv[3],
		    (uint16_t)port, strtoull(argv[5], NULL, 10));
usage:
	(void)fprintf(stderr, "usage: tunnels connect|socks N HOST PORT BYTES\n"
			      "       tunnels slowloris HOST PORT K\n");
	return 2;
}
