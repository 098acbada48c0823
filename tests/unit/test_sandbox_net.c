/*
 * tests/unit/test_sandbox_net.c - sandbox/sbnet.c and the filter with
 * egress on: which addresses go on and which are refused (and how they
 * are recorded), the agent's environment with the proxies, the filter's
 * marks (built-in, build-time and profile), and a filtered child whose
 * direct attempts out fail with their records while its loopback calls
 * work. Off, the filter is the one without egress.
 *
 * The child runs in this test's own network namespace (no root needed):
 * every attempt out is non-blocking or a datagram to a documentation or
 * private address, so a handler that let one through would not hang.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../policy/policy.h"
#include "../../sandbox/coalesce.h"
#include "../../sandbox/sandbox.h"

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

static struct sup_sb_bypass b;

static int v4(bool connect, const char *addr, uint16_t port, uint16_t family)
{
	struct sockaddr_in in = {.sin_family = family, .sin_port = htons(port)};

	assert_int_equal(inet_pton(AF_INET, addr, &in.sin_addr), 1);
	return sup_sb_net_classify(connect, &in, sizeof(in), &b);
}

static int v6(const char *addr, uint16_t port, uint32_t scope)
{
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6, .sin6_port = htons(port)};

	in6.sin6_scope_id = scope;
	assert_int_equal(inet_pton(AF_INET6, addr, &in6.sin6_addr), 1);
	return sup_sb_net_classify(true, &in6, sizeof(in6), &b);
}

static void test_loopback_and_local_families_go_on(void **state)
{
	struct sockaddr_un {
		uint16_t family;
		char path[108];
	} un = {AF_UNIX, "/tmp/x"};
	uint16_t nl[6] = {AF_NETLINK}, unspec = AF_UNSPEC;

	(void)state;
	assert_int_equal(v4(true, "127.0.0.1", 3128, AF_INET), 0);
	assert_int_equal(v4(false, "127.254.3.9", 53, AF_INET), 0);
	assert_int_equal(v4(true, "0.0.0.0", 80, AF_INET), 0); /* Linux: the loopback */
	assert_int_equal(v6("::1", 1080, 0), 0);
	assert_int_equal(v6("::", 1080, 0), 0);
	assert_int_equal(v6("::ffff:127.0.0.2", 1080, 0), 0);
	assert_int_equal(sup_sb_net_classify(true, &un, sizeof(un), &b), 0);
	assert_int_equal(sup_sb_net_classify(false, nl, sizeof(nl), &b), 0);
	/* connect(AF_UNSPEC) dissolves an association: nothing is reached */
	assert_int_equal(sup_sb_net_classify(true, &unspec, sizeof(unspec), &b), 0);
	/* a send without an address */
	assert_int_equal(sup_sb_net_classify(false, NULL, 0, &b), 0);
}

static void test_other_addresses_are_refused_and_described(void **state)
{
	uint8_t vm[16] = {AF_VSOCK, 0, 0, 0, 0x00, 0x04, 0, 0, 2, 0, 0, 0};
	uint16_t packet[10] = {AF_PACKET}, odd[8] = {45};

	(void)state;
	assert_int_equal(v4(true, "192.0.2.1", 80, AF_INET), ENETUNREACH);
	assert_string_equal(b.family, "inet");
	assert_string_equal(b.address, "192.0.2.1");
	assert_true(b.has_port);
	assert_int_equal(b.port, 80);
	assert_int_equal(v4(false, "10.0.0.1", 53, AF_INET), ENETUNREACH);
	assert_string_equal(b.address, "10.0.0.1");
	/* a UDP send reads AF_UNSPEC as AF_INET: checked as one */
	assert_int_equal(v4(false, "8.8.8.8", 53, AF_UNSPEC), ENETUNREACH);
	assert_string_equal(b.family, "unspec");
	assert_string_equal(b.address, "8.8.8.8");
	assert_int_equal(v6("fe80::1", 80, 1), ENETUNREACH);
	assert_string_equal(b.family, "inet6");
	assert_string_equal(b.address, "fe80::1%1");
	assert_int_equal(v6("::ffff:10.1.2.3", 443, 0), ENETUNREACH);
	assert_string_equal(b.address, "::ffff:10.1.2.3");
	assert_int_equal(v6("2001:db8::1", 443, 0), ENETUNREACH);
	assert_int_equal(sup_sb_net_classify(true, vm, sizeof(vm), &b), EAFNOSUPPORT);
	assert_string_equal(b.family, "vsock");
	assert_string_equal(b.address, "2");
	assert_int_equal(b.port, 1024);
	assert_int_equal(sup_sb_net_classify(false, packet, sizeof(packet), &b), EAFNOSUPPORT);
	assert_string_equal(b.family, "packet");
	assert_false(b.has_port);
	assert_int_equal(sup_sb_net_classify(true, odd, sizeof(odd), &b), EAFNOSUPPORT);
	assert_string_equal(b.family, "45");
}

static void test_malformed_lengths_are_the_kernels_einval(void **state)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	(void)state;
	assert_int_equal(sup_sb_net_classify(true, &in, sizeof(in) - 1, &b), EINVAL);
	assert_int_equal(sup_sb_net_classify(true, &in6, 23, &b), EINVAL);
	assert_int_equal(sup_sb_net_classify(true, &in, 1, &b), EINVAL);
	assert_int_equal(sup_sb_net_classify(true, &in, 0, &b), EINVAL);
}

/* ---- the environment -------------------------------------------------------- */

static void test_environment_names_the_proxies_only_with_egress(void **state)
{
	const char *env[] = {"PATH=/bin",  "HTTP_PROXY=http://evil:1", "https_proxy=x",
			     "no_proxy=*", "HTTP_PROXYX=kept",         "NODE_USE_ENV_PROXY=0",
			     NULL};
	const char *out[16], *small[8];
	struct sup_sandbox sb;
	int n;

	(void)state;
	sup_sandbox_defaults(&sb);
	n = sup_sb_agent_env(&sb, env, 6, out, 16);
	assert_int_equal(n, 6);
	for (int i = 0; i < 6; i++)
		assert_ptr_equal(out[i], env[i]);
	assert_null(out[6]);
	sb.egress = true;
	n = sup_sb_agent_env(&sb, env, 6, out, 16);
	assert_int_equal(n, 2 + SUP_SB_PROXY_ENV_N);
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "HTTP_PROXYX=kept");
	assert_string_equal(out[2], "HTTP_PROXY=http://127.0.0.1:3128");
	assert_string_equal(out[3], "http_proxy=http://127.0.0.1:3128");
	assert_string_equal(out[4], "HTTPS_PROXY=http://127.0.0.1:3128");
	assert_string_equal(out[5], "https_proxy=http://127.0.0.1:3128");
	assert_string_equal(out[6], "ALL_PROXY=socks5h://127.0.0.1:1080");
	assert_string_equal(out[7], "all_proxy=socks5h://127.0.0.1:1080");
	assert_string_equal(out[8], "NO_PROXY=localhost,127.0.0.1,::1");
	assert_string_equal(out[9], "no_proxy=localhost,127.0.0.1,::1");
	assert_string_equal(out[10], "NODE_USE_ENV_PROXY=1");
	assert_null(out[11]);
	assert_int_equal(sup_sb_agent_env(&sb, env, 6, small, 8), -E2BIG);
}

/* ---- the filter --------------------------------------------------------------- */

static struct wd_err err;

static int policy(const char *text, struct sup_sandbox *sb)
{
	struct wd_policy pol;
	int rc;

	wd_err_clear(&err);
	rc = wd_policy_read(text, strlen(text), &pol, &err);
	*sb = pol.sandbox;
	return rc;
}

static const int net_nrs[] = {SYS_connect, SYS_sendto, SYS_sendmsg, SYS_sendmmsg};

static void test_builtin_filter_marks_network_calls_only_with_egress(void **state)
{
	struct sup_sb_filter off, on, compiled;
	struct sup_sandbox sb;

	(void)state;
	assert_int_equal(policy("{}", &sb), 0);
	assert_int_equal(sup_sb_filter_build(&sb, &off, &err), 0);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(off.errnos.by_nr[net_nrs[i]], 0);
	sb.egress = true;
	assert_true(sup_sb_filter_prebuilt());
	assert_int_equal(sup_sb_filter_build(&sb, &on, &err), 0);
	assert_int_equal(sup_sb_filter_compile(&sb, &compiled, &err), 0);
	/* the build-time copy is what libseccomp compiles now */
	assert_int_equal(on.len, compiled.len);
	assert_memory_equal(on.prog, compiled.prog, (size_t)on.len * 8);
	assert_memory_equal(&on.errnos, &compiled.errnos, sizeof(on.errnos));
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(on.errnos.by_nr[net_nrs[i]], SUP_SB_NET);
	/* only these differ from the filter without egress */
	for (int nr = 0; nr < SUP_SB_SYSCALL_TABLE; nr++)
		if (nr != SYS_connect && nr != SYS_sendto && nr != SYS_sendmsg &&
		    nr != SYS_sendmmsg)
			assert_int_equal(on.errnos.by_nr[nr], off.errnos.by_nr[nr]);
	assert_true(on.len != off.len || memcmp(on.prog, off.prog, (size_t)on.len * 8) != 0);
	sup_sb_filter_free(&off);
	sup_sb_filter_free(&on);
	sup_sb_filter_free(&compiled);
}

#define ALLOW_PROFILE                                                                              \
	"{\"sandbox\": {\"seccomp\": {\"profile\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", "       \
	"\"syscalls\": [%s]}}}}"

static void test_profile_filter_marks_what_it_allows(void **state)
{
	char text[512];
	struct sup_sb_filter f;
	struct sup_sandbox sb;

	(void)state;
	(void)snprintf(
		text, sizeof(text), ALLOW_PROFILE,
		"{\"names\": [\"sendmsg\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 13}");
	assert_int_equal(policy(text, &sb), 0);
	sb.egress = true;
	assert_int_equal(sup_sb_filter_build(&sb, &f, &err), 0);
	assert_int_equal(f.errnos.by_nr[SYS_connect], SUP_SB_NET);
	assert_int_equal(f.errnos.by_nr[SYS_sendto], SUP_SB_NET);
	assert_int_equal(f.errnos.by_nr[SYS_sendmmsg], SUP_SB_NET);
	assert_int_equal(f.errnos.by_nr[SYS_sendmsg], 13); /* the profile's denial stands */
	sup_sb_filter_free(&f);
	sup_sandbox_free(&sb);
	/* argument conditions on a watched call cannot be compiled */
	(void)snprintf(text, sizeof(text), ALLOW_PROFILE,
		       "{\"names\": [\"connect\"], \"action\": \"SCMP_ACT_ALLOW\", \"args\": "
		       "[{\"index\": 0, \"value\": 3, \"op\": \"SCMP_CMP_EQ\"}]}");
	assert_int_equal(policy(text, &sb), 0);
	sb.egress = true;
	assert_true(sup_sb_filter_build(&sb, &f, &err) < 0);
	assert_non_null(strstr(err.msg, "egress"));
	sup_sandbox_free(&sb);
}

/* ---- a filtered child ------------------------------------------------------------ */

enum {
	C_LOOPBACK = 1 << 0,  /* TCP connect to its own loopback listener */
	C_SEND = 1 << 1,      /* send() and a UDP sendto to the loopback work */
	C_TCP_OUT = 1 << 2,   /* connect 192.0.2.1:80: ENETUNREACH */
	C_UDP_OUT = 1 << 3,   /* sendto 10.0.0.1:53: ENETUNREACH */
	C_V6_OUT = 1 << 4,    /* connect [fe80::1%1]:80: ENETUNREACH */
	C_SENDMSG = 1 << 5,   /* sendmsg to 192.0.2.7:9: ENETUNREACH */
	C_SENDMMSG = 1 << 6,  /* sendmmsg, loopback then 198.51.100.1:7: ENETUNREACH */
	C_BAD_ADDR = 1 << 7,  /* sendto with an unreadable address: EFAULT */
	C_ALL = (1 << 8) - 1, /* every one */
};

static struct sockaddr_in addr4(const char *a, uint16_t port)
{
	struct sockaddr_in in = {.sin_family = AF_INET, .sin_port = htons(port)};

	(void)inet_pton(AF_INET, a, &in.sin_addr);
	return in;
}

static int loopback_checks(int *udp_port)
{
	struct sockaddr_in lo = addr4("127.0.0.1", 0);
	socklen_t len = sizeof(lo);
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0);
	int u = socket(AF_INET, SOCK_DGRAM, 0), bits = 0;

	if (bind(l, (struct sockaddr *)&lo, sizeof(lo)) == 0 && listen(l, 4) == 0 &&
	    getsockname(l, (struct sockaddr *)&lo, &len) == 0 &&
	    connect(c, (struct sockaddr *)&lo, sizeof(lo)) == 0)
		bits |= C_LOOPBACK;
	lo = addr4("127.0.0.1", 0);
	len = sizeof(lo);
	if (send(c, "x", 1, 0) == 1 && bind(u, (struct sockaddr *)&lo, sizeof(lo)) == 0 &&
	    getsockname(u, (struct sockaddr *)&lo, &len) == 0 &&
	    sendto(u, "y", 1, 0, (struct sockaddr *)&lo, sizeof(lo)) == 1)
		bits |= C_SEND;
	*udp_port = ntohs(lo.sin_port);
	return bits;
}

static int out_checks(int udp_port)
{
	struct sockaddr_in a = addr4("192.0.2.1", 80);
	struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons(80)};
	struct sockaddr_in lo = addr4("127.0.0.1", (uint16_t)udp_port), far = addr4("192.0.2.7", 9);
	struct sockaddr_in far2 = addr4("198.51.100.1", 7);
	char z = 'z';
	struct iovec iov = {.iov_base = &z, .iov_len = 1};
	struct mmsghdr mm[2];
	struct msghdr mh;
	int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), u = socket(AF_INET, SOCK_DGRAM, 0);
	int t6 = socket(AF_INET6, SOCK_DGRAM, 0), bits = 0;

	if (connect(t, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == ENETUNREACH)
		bits |= C_TCP_OUT;
	a = addr4("10.0.0.1", 53);
	if (sendto(u, "q", 1, 0, (struct sockaddr *)&a, sizeof(a)) < 0 && errno == ENETUNREACH)
		bits |= C_UDP_OUT;
	(void)inet_pton(AF_INET6, "fe80::1", &a6.sin6_addr);
	a6.sin6_scope_id = 1;
	if (connect(t6, (struct sockaddr *)&a6, sizeof(a6)) < 0 && errno == ENETUNREACH)
		bits |= C_V6_OUT;
	memset(&mh, 0, sizeof(mh));
	mh.msg_name = &far;
	mh.msg_namelen = sizeof(far);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (sendmsg(u, &mh, 0) < 0 && errno == ENETUNREACH)
		bits |= C_SENDMSG;
	memset(mm, 0, sizeof(mm));
	mm[0].msg_hdr = mh;
	mm[0].msg_hdr.msg_name = &lo;
	mm[1].msg_hdr = mh;
	mm[1].msg_hdr.msg_name = &far2;
	/* The system call itself: musl's sendmmsg() is sendmsg() in a loop. */
	if (syscall(SYS_sendmmsg, u, mm, 2, 0) < 0 && errno == ENETUNREACH)
		bits |= C_SENDMMSG;
	if (syscall(SYS_sendto, u, "r", 1, 0, (void *)8, sizeof(a)) < 0 && errno == EFAULT)
		bits |= C_BAD_ADDR;
	return bits;
}

static void __attribute__((noreturn)) net_child(const struct sup_sb_filter *f, int sock)
{
	int listener, port = 0, bits;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1UL, 0UL, 0UL, 0UL) < 0)
		_exit(100);
	char ack;

	listener = sup_sb_filter_load(f);
	/* Taken by the parent (pidfd_getfd), as spawn.c does: a sendmsg of it
	 * would wait for a listener nobody holds yet. */
	if (listener < 0 || write(sock, &listener, sizeof(listener)) != sizeof(listener) ||
	    read(sock, &ack, 1) != 1)
		_exit(101);
	(void)close(listener);
	bits = loopback_checks(&port);
	bits |= out_checks(port);
	(void)!write(sock, &bits, sizeof(bits));
	_exit(0);
}

struct seen {
	struct sup_sb_denial d[16];
	char json[16][512];
	size_t n;
};

static int keep(void *ctx, const struct sup_sb_denial *d)
{
	struct seen *s = ctx;

	if (s->n < 16) {
		s->d[s->n] = *d;
		assert_true(sup_sb_denial_json(d, NULL, s->json[s->n], sizeof(s->json[0])) > 0);
		s->n++;
	}
	return 0;
}

/* The record of `syscall` naming `address`, or NULL. */
static const char *record_of(const struct seen *s, const char *syscall, const char *address)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->d[i].net_bypass && strcmp(s->d[i].name, syscall) == 0 &&
		    strcmp(s->d[i].bypass.address, address) == 0)
			return s->json[i];
	return NULL;
}

static void run_child(struct sup_sandbox *sb)
{
	struct sup_sb_filter f;
	struct sup_sb_record_kind k;
	struct seen s = {0};
	int sv[2], listener, bits = 0, ws = 0, num = -1, pidfd;
	pid_t pid;

	assert_int_equal(sup_sb_filter_build(sb, &f, &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		net_child(&f, sv[1]);
	(void)close(sv[1]);
	assert_int_equal(read(sv[0], &num, sizeof(num)), (ssize_t)sizeof(num));
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0U);
	assert_true(pidfd >= 0);
	listener = (int)syscall(SYS_pidfd_getfd, pidfd, num, 0U);
	assert_true(listener >= 0);
	(void)close(pidfd);
	assert_int_equal(write(sv[0], "k", 1), 1);
	while (listener >= 0) {
		struct pollfd p = {.fd = listener, .events = POLLIN};

		if (poll(&p, 1, 1000) > 0)
			assert_int_equal(sup_sb_filter_drain(&listener, p.revents, &f.errnos, NULL,
							     64, keep, &s),
					 0);
	}
	assert_int_equal(read(sv[0], &bits, sizeof(bits)), (ssize_t)sizeof(bits));
	(void)close(sv[0]);
	assert_int_equal(waitpid(pid, &ws, 0), pid);
	assert_int_equal(bits, C_ALL);
	assert_non_null(strstr(record_of(&s, "connect", "192.0.2.1"),
			       "\"errno\":\"ENETUNREACH\",\"family\":\"inet\",\"port\":80,"));
	assert_non_null(strstr(record_of(&s, "sendto", "10.0.0.1"), "\"port\":53,"));
	assert_non_null(strstr(record_of(&s, "connect", "fe80::1%1"), "\"family\":\"inet6\""));
	assert_non_null(strstr(record_of(&s, "sendmsg", "192.0.2.7"), "\"port\":9,"));
	assert_non_null(record_of(&s, "sendmmsg", "198.51.100.1"));
	assert_non_null(strstr(record_of(&s, "sendto", ""),
			       "{\"address\":null,\"count\":1,\"errno\":\"EFAULT\",\"family\":"
			       "\"unreadable\",\"port\":null,\"syscall\":\"sendto\"}"));
	/* Nothing else: the loopback calls went on unrecorded. */
	for (size_t i = 0; i < s.n; i++) {
		if (!s.d[i].net)
			continue;
		assert_true(s.d[i].net_bypass);
		sup_sb_denial_kind(&s.d[i], &k);
		assert_string_equal(k.cls, "network");
		assert_string_equal(k.activity, "bypass");
		assert_string_equal(k.severity, "high");
	}
	sup_sb_filter_free(&f);
}

static void test_child_attempts_out_fail_with_records_and_loopback_works(void **state)
{
	struct sup_sandbox sb;

	(void)state;
	assert_int_equal(policy("{}", &sb), 0);
	sb.egress = true;
	run_child(&sb);
}

static void test_same_under_a_profile(void **state)
{
	char text[256];
	struct sup_sandbox sb;

	(void)state;
	(void)snprintf(text, sizeof(text), ALLOW_PROFILE, "");
	assert_int_equal(policy(text, &sb), 0);
	sb.egress = true;
	run_child(&sb);
	sup_sandbox_free(&sb);
}

/* Repeats of one attempt are one record and a count; another address is
 * another record (the arguments alone, a pointer, are the same). */
static int emitted;
static int count_emit(void *ctx, const struct sup_sb_denial *d, const struct sup_sb_denial_count *c)
{
	(void)ctx;
	(void)d;
	(void)c;
	emitted++;
	return 0;
}

static void test_bypasses_coalesce_by_address(void **state)
{
	static struct sup_coalesce co;
	struct sup_sb_denial d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.nr = SYS_connect;
	d.name = "connect";
	d.abi = "x86_64";
	d.err = ENETUNREACH;
	d.net = d.net_bypass = true;
	(void)v4(true, "192.0.2.1", 80, AF_INET);
	d.bypass = b;
	sup_coalesce_init(&co, SUP_COALESCE_MS);
	for (int i = 0; i < 100; i++)
		assert_int_equal(sup_coalesce_add(&co, &d, 1, 1, count_emit, NULL), 0);
	assert_int_equal(emitted, 1);
	(void)v4(true, "192.0.2.2", 80, AF_INET);
	d.bypass = b;
	assert_int_equal(sup_coalesce_add(&co, &d, 1, 1, count_emit, NULL), 0);
	assert_int_equal(emitted, 2);
	assert_int_equal(sup_coalesce_pending(&co), 99);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback_and_local_families_go_on),
		cmocka_unit_test(test_other_addresses_are_refused_and_described),
		cmocka_unit_test(test_malformed_lengths_are_the_kernels_einval),
		cmocka_unit_test(test_environment_names_the_proxies_only_with_egress),
		cmocka_unit_test(test_builtin_filter_marks_network_calls_only_with_egress),
		cmocka_unit_test(test_profile_filter_marks_what_it_allows),
		cmocka_unit_test(test_child_attempts_out_fail_with_records_and_loopback_works),
		cmocka_unit_test(test_same_under_a_profile),
		cmocka_unit_test(test_bypasses_coalesce_by_address),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
