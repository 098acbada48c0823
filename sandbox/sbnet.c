/*
 * sandbox/sbnet.c - the agent's network calls when egress is on: the
 * address each connect, sendto, sendmsg and sendmmsg names, read from the
 * agent and checked (sandbox.h: sup_sb_net_check), and the agent's
 * environment that names the proxies (sup_sb_agent_env).
 *
 * Runs in the supervisor (and in `warden sandbox` on the host), as root,
 * on memory the agent controls: every read is bounded
 * (SUP_SB_NET_SOCKADDR_MAX bytes per address, SUP_SB_NET_MMSG_MAX
 * messages) and a short or failed read is a refusal, never a pass.
 *
 * What this is for: the agent's network namespace has only the loopback,
 * so a direct connection out fails anyway (ENETUNREACH). This makes the
 * attempt a record ("network"/"bypass", severity high): a hostile agent
 * trying to route around the proxies is seen, with the address it tried.
 * A call to this host goes on untouched (SECCOMP_USER_NOTIF_FLAG_CONTINUE):
 * the proxies themselves are reached that way. The check is not the wall
 * (sandbox.h says why); the namespace is.
 */
#include "sandbox_priv.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* The kernel's layouts on x86_64, read from the agent (not libc's, which
 * may pad differently): struct user_msghdr's first members, and the size
 * of struct mmsghdr (a user_msghdr and an unsigned, padded). */
#define MSGHDR_HEAD 16 /* msg_name (8), msg_namelen (int, 4), padding */
#define MMSGHDR_BYTES 64
#define MMSG_CHUNK 64 /* messages read at once */

/* ---- one address ---------------------------------------------------------- */

static const char *family_name(unsigned f, char *buf, size_t size)
{
	switch (f) {
	case AF_UNSPEC:
		return "unspec";
	case AF_UNIX:
		return "unix";
	case AF_INET:
		return "inet";
	case AF_INET6:
		return "inet6";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	case AF_VSOCK:
		return "vsock";
	default:
		(void)snprintf(buf, size, "%u", f);
		return buf;
	}
}

static void set_family(struct sup_sb_bypass *b, unsigned f)
{
	char num[SUP_SB_NET_FAMILY_MAX];

	(void)snprintf(b->family, sizeof(b->family), "%s", family_name(f, num, sizeof(num)));
}

/* 127.0.0.0/8 and 0.0.0.0 (which Linux connects to the loopback), in
 * network order. */
static bool local4(const uint8_t a[4])
{
	return a[0] == 127 || (a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0);
}

/* ::1, :: (the loopback for connect, as 0.0.0.0) and ::ffff:a.b.c.d with a
 * local a.b.c.d. */
static bool local6(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t zero[15];

	if (memcmp(a, zero, 15) == 0)
		return a[15] == 0 || a[15] == 1;
	return memcmp(a, mapped, 12) == 0 && local4(a + 12);
}

static int inet4(const uint8_t *sa, size_t len, unsigned family, struct sup_sb_bypass *b)
{
	struct sockaddr_in in;

	if (len < sizeof(in))
		return EINVAL; /* as the kernel answers */
	memcpy(&in, sa, sizeof(in));
	if (local4((const uint8_t *)&in.sin_addr))
		return 0;
	set_family(b, family);
	(void)inet_ntop(AF_INET, &in.sin_addr, b->address, sizeof(b->address));
	b->port = ntohs(in.sin_port);
	b->has_port = true;
	return ENETUNREACH;
}

static int inet6(const uint8_t *sa, size_t len, struct sup_sb_bypass *b)
{
	struct sockaddr_in6 in6;
	size_t n;

	/* The kernel takes the RFC 2133 size, without sin6_scope_id. */
	if (len < offsetof(struct sockaddr_in6, sin6_scope_id))
		return EINVAL;
	memset(&in6, 0, sizeof(in6));
	memcpy(&in6, sa, len < sizeof(in6) ? len : sizeof(in6));
	if (local6(in6.sin6_addr.s6_addr))
		return 0;
	set_family(b, AF_INET6);
	(void)inet_ntop(AF_INET6, &in6.sin6_addr, b->address, sizeof(b->address));
	n = strlen(b->address);
	if (len >= sizeof(in6) && in6.sin6_scope_id != 0)
		(void)snprintf(b->address + n, sizeof(b->address) - n, "%%%u",
			       (unsigned)in6.sin6_scope_id);
	b->port = ntohs(in6.sin6_port);
	b->has_port = true;
	return ENETUNREACH;
}

/* struct sockaddr_vm: family, reserved, port (u32), cid (u32). */
static int vsock(const uint8_t *sa, size_t len, struct sup_sb_bypass *b)
{
	uint32_t port, cid;

	set_family(b, AF_VSOCK);
	if (len >= 12) {
		memcpy(&port, sa + 4, 4);
		memcpy(&cid, sa + 8, 4);
		(void)snprintf(b->address, sizeof(b->address), "%u", (unsigned)cid);
		b->port = port;
		b->has_port = true;
	}
	return EAFNOSUPPORT;
}

int sup_sb_net_classify(bool connect, const void *sa, size_t len, struct sup_sb_bypass *b)
{
	const uint8_t *p = sa;
	uint16_t family;

	memset(b, 0, sizeof(*b));
	if (len == 0)
		return connect ? EINVAL : 0; /* a send without an address */
	if (len < sizeof(family))
		return EINVAL;
	if (len > SUP_SB_NET_SOCKADDR_MAX)
		len = SUP_SB_NET_SOCKADDR_MAX;
	memcpy(&family, p, sizeof(family));
	switch (family) {
	case AF_UNIX:
	case AF_NETLINK:
		return 0;
	case AF_UNSPEC:
		/* connect: dissolve the association. A UDP send reads it as
		 * AF_INET (udp_sendmsg), so it is checked as one. */
		return connect ? 0 : inet4(p, len, AF_UNSPEC, b);
	case AF_INET:
		return inet4(p, len, AF_INET, b);
	case AF_INET6:
		return inet6(p, len, b);
	case AF_VSOCK:
		return vsock(p, len, b);
	default:
		set_family(b, family);
		return EAFNOSUPPORT;
	}
}

/* ---- reading the agent's call --------------------------------------------- */

/* All `n` bytes at `addr` of process `pid`, or false. */
static bool peek(pid_t pid, uint64_t addr, void *buf, size_t n)
{
	struct iovec local = {.iov_base = buf, .iov_len = n};
	struct iovec remote = {.iov_base = NULL, .iov_len = n};

	_Static_assert(sizeof(remote.iov_base) == sizeof(addr), "x86_64: 64-bit addresses");
	if (pid <= 0 || addr == 0)
		return false;
	/* An address in the agent, for the kernel to read there: its bits,
	 * never a pointer this process follows. */
	memcpy(&remote.iov_base, &addr, sizeof(addr));
	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)n;
}

static int unreadable(struct sup_sb_bypass *b)
{
	memset(b, 0, sizeof(*b));
	(void)snprintf(b->family, sizeof(b->family), "unreadable");
	return EFAULT;
}

/* One address of `len` bytes at `addr` (a send: `addr` 0 or `len` 0 is
 * none). The errno to answer, 0 to go on; *bypass when recorded. */
static int one_address(pid_t pid, bool connect, uint64_t addr, int64_t len, struct sup_sb_bypass *b,
		       bool *bypass)
{
	uint8_t sa[SUP_SB_NET_SOCKADDR_MAX];
	int rc;

	*bypass = false;
	if (len < 0 || len > SUP_SB_NET_SOCKADDR_MAX)
		return EINVAL; /* move_addr_to_kernel() */
	if (!connect && (addr == 0 || len == 0))
		return 0;
	if (len == 0)
		return EINVAL;
	if (!peek(pid, addr, sa, (size_t)len)) {
		*bypass = true;
		return unreadable(b);
	}
	rc = sup_sb_net_classify(connect, sa, (size_t)len, b);
	*bypass = rc != 0 && rc != EINVAL;
	return rc;
}

/* A user_msghdr's address: its pointer and length (the kernel takes a
 * NULL name as none and clamps a longer length to the storage's). */
static int msg_address(pid_t pid, const uint8_t head[MSGHDR_HEAD], struct sup_sb_bypass *b,
		       bool *bypass)
{
	uint64_t name;
	int32_t len;

	memcpy(&name, head, sizeof(name));
	memcpy(&len, head + 8, sizeof(len));
	*bypass = false;
	if (name == 0)
		return 0;
	if (len < 0)
		return EINVAL;
	if (len > SUP_SB_NET_SOCKADDR_MAX)
		len = SUP_SB_NET_SOCKADDR_MAX;
	return one_address(pid, false, name, len, b, bypass);
}

static int sendmmsg_addresses(pid_t pid, uint64_t vec, uint64_t vlen, struct sup_sb_bypass *b,
			      bool *bypass)
{
	uint8_t chunk[MMSG_CHUNK * MMSGHDR_BYTES];

	*bypass = false;
	if (vlen > SUP_SB_NET_MMSG_MAX)
		vlen = SUP_SB_NET_MMSG_MAX; /* the kernel sends no more */
	for (uint64_t i = 0; i < vlen; i += MMSG_CHUNK) {
		uint64_t n = vlen - i < MMSG_CHUNK ? vlen - i : MMSG_CHUNK;

		if (!peek(pid, vec + i * MMSGHDR_BYTES, chunk, (size_t)(n * MMSGHDR_BYTES))) {
			*bypass = true;
			return unreadable(b);
		}
		for (uint64_t k = 0; k < n; k++) {
			int rc = msg_address(pid, chunk + k * MMSGHDR_BYTES, b, bypass);

			if (rc != 0)
				return rc;
		}
	}
	return 0;
}

int sup_sb_net_check(int listener, struct sup_sb_denial *d)
{
	uint8_t head[MSGHDR_HEAD];
	bool bypass = false;
	int rc;

	switch (d->nr) {
	case SYS_connect:
		rc = one_address(d->pid, true, d->args[1], (int32_t)d->args[2], &d->bypass,
				 &bypass);
		break;
	case SYS_sendto:
		rc = one_address(d->pid, false, d->args[4], (int32_t)d->args[5], &d->bypass,
				 &bypass);
		break;
	case SYS_sendmsg:
		if (peek(d->pid, d->args[1], head, sizeof(head)))
			rc = msg_address(d->pid, head, &d->bypass, &bypass);
		else {
			rc = unreadable(&d->bypass);
			bypass = true;
		}
		break;
	case SYS_sendmmsg:
		rc = sendmmsg_addresses(d->pid, d->args[1], (uint32_t)d->args[2], &d->bypass,
					&bypass);
		break;
	default: /* no other call carries the mark */
		rc = unreadable(&d->bypass);
		bypass = true;
	}
	/* Still pending: the pid read was this caller's, and so is the memory. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &d->id) < 0)
		return -ENOENT;
	d->net_local = rc == 0;
	d->net_bypass = rc != 0 && bypass;
	d->err = rc;
	return 0;
}

void sup_sb_denial_kind(const struct sup_sb_denial *d, struct sup_sb_record_kind *k)
{
	if (d->net && d->net_bypass) {
		k->cls = "network";
		k->activity = "bypass";
		k->severity = "high";
		return;
	}
	k->cls = "seccomp";
	k->activity = "deny";
	k->severity = "medium";
}

/* ---- the agent's environment ---------------------------------------------- */

#define PROXY_HTTP "http://127.0.0.1:3128"
#define PROXY_SOCKS "socks5h://127.0.0.1:1080"

/* The names replaced, and what they become (spec: docs/sandbox.md). */
static const char *const proxy_env[SUP_SB_PROXY_ENV_N] = {
	"HTTP_PROXY=" PROXY_HTTP,
	"http_proxy=" PROXY_HTTP,
	"HTTPS_PROXY=" PROXY_HTTP,
	"https_proxy=" PROXY_HTTP,
	"ALL_PROXY=" PROXY_SOCKS,
	"all_proxy=" PROXY_SOCKS,
	"NO_PROXY=localhost,127.0.0.1,::1",
	"no_proxy=localhost,127.0.0.1,::1",
	"NODE_USE_ENV_PROXY=1",
};
_Static_assert(SUP_SB_PROXY_HTTP_PORT == 3128 && SUP_SB_PROXY_SOCKS_PORT == 1080,
	       "the proxies' environment names their ports");

/* `entry` ("KEY=..." or "KEY") sets a name proxy_env sets. */
static bool replaced(const char *entry)
{
	size_t n = strcspn(entry, "=");

	for (size_t i = 0; i < SUP_SB_PROXY_ENV_N; i++)
		if (strncmp(entry, proxy_env[i], n) == 0 && proxy_env[i][n] == '=')
			return true;
	return false;
}

int sup_sb_agent_env(const struct sup_sandbox *sb, const char *const *env, size_t envc,
		     const char **out, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < envc; i++) {
		if (sb->egress && replaced(env[i]))
			continue;
		if (n + 1 >= size)
			return -E2BIG;
		out[n++] = env[i];
	}
	for (size_t i = 0; sb->egress && i < SUP_SB_PROXY_ENV_N; i++) {
		if (n + 1 >= size)
			return -E2BIG;
		out[n++] = proxy_env[i];
	}
	if (n >= size)
		return -E2BIG;
	out[n] = NULL;
	return (int)n;
}
