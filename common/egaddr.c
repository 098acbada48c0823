/*
 * common/egaddr.c - see egaddr.h. The special-purpose ranges follow the
 * IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and
 * their later entries); docs/policy.md has the table and says why each
 * deviation (a globally reachable entry refused anyway, the catch-all for
 * IPv6 outside 2000::/3) fails closed.
 */
#include "egaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"

/* ---- text ----------------------------------------------------------------- */

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool wd_egress_parse_v4(const char *s, size_t n, uint8_t out[4])
{
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0;
		size_t start = i;

		if (part > 0) {
			if (i >= n || s[i] != '.')
				return false;
			start = ++i;
		}
		while (i < n && is_digit(s[i]) && i - start < 3)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (i == start || v > 255 || (i - start > 1 && s[start] == '0'))
			return false;
		out[part] = (uint8_t)v;
	}
	return i == n;
}

bool wd_egress_parse_v6(const char *s, size_t n, uint8_t out[16])
{
	uint16_t head[8] = {0}, tail[8] = {0};
	size_t nh = 0, nt = 0, i = 0;
	bool gap = false; /* "::" seen */

	if (n < 2)
		return false;
	if (s[0] == ':') {
		if (s[1] != ':')
			return false;
		gap = true;
		i = 2;
	}
	while (i < n) {
		uint16_t *g = gap ? tail : head;
		size_t *ng = gap ? &nt : &nh;
		size_t j = i;
		unsigned v = 0;

		while (j < n && wd_hex_digit(s[j]) >= 0 && j - i < 5)
			v = v * 16 + (unsigned)wd_hex_digit(s[j++]);
		if (j < n && s[j] == '.') { /* the last 32 bits as a dotted quad */
			uint8_t q[4];

			if (*ng > 6 || !wd_egress_parse_v4(s + i, n - i, q))
				return false;
			g[(*ng)++] = (uint16_t)(q[0] << 8 | q[1]);
			g[(*ng)++] = (uint16_t)(q[2] << 8 | q[3]);
			break; /* it ran to the end */
		}
		if (j == i || j - i > 4 || *ng >= 8)
			return false;
		g[(*ng)++] = (uint16_t)v;
		i = j;
		if (i == n)
			break;
		if (s[i] != ':')
			return false;
		if (++i == n)
			return false; /* a trailing single ':' */
		if (s[i] == ':') {
			if (gap)
				return false; /* a second "::" */
			gap = true;
			i++;
		}
	}
	if (gap ? nh + nt > 7 : nh != 8)
		return false;
	memset(out, 0, 16);
	for (size_t k = 0; k < nh; k++) {
		out[2 * k] = (uint8_t)(head[k] >> 8);
		out[2 * k + 1] = (uint8_t)head[k];
	}
	for (size_t k = 0; k < nt; k++) {
		size_t at = 8 - nt + k;

		out[2 * at] = (uint8_t)(tail[k] >> 8);
		out[2 * at + 1] = (uint8_t)tail[k];
	}
	return true;
}

bool wd_egress_parse_addr(const char *s, size_t n, struct wd_egress_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (wd_egress_parse_v4(s, n, a->a)) {
		a->family = AF_INET;
		return true;
	}
	if (wd_egress_parse_v6(s, n, a->a)) {
		a->family = AF_INET6;
		return true;
	}
	memset(a, 0, sizeof(*a));
	return false;
}

static bool ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-' ||
	       c == '_';
}

/* A label inet_aton would read as a number: decimal, octal, or "0x" and hex
 * digits (none at all included: glibc reads "0x" as 0). */
static bool numeric_label(const char *l, size_t n)
{
	size_t i = 0;

	if (n >= 2 && l[0] == '0' && (l[1] == 'x' || l[1] == 'X')) {
		for (i = 2; i < n; i++)
			if (wd_hex_digit(l[i]) < 0)
				return false;
		return true;
	}
	while (i < n && is_digit(l[i]))
		i++;
	return i == n;
}

const char *wd_egress_name_check(const char *s, size_t n, char out[WD_EGRESS_NAME_MAX + 1])
{
	size_t start = 0;

	out[0] = '\0';
	if (n > 0 && s[n - 1] == '.')
		n--;
	if (n == 0)
		return "empty";
	if (n > WD_EGRESS_NAME_MAX)
		return "longer than 253 bytes";
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.') {
			if (!ldh(s[i]))
				return "only letters, digits, '-' and '_' in a label";
			continue;
		}
		if (i == start)
			return "an empty label";
		if (i - start > WD_EGRESS_LABEL_MAX)
			return "a label longer than 63 bytes";
		if (s[start] == '-' || s[i - 1] == '-')
			return "a label starts or ends with '-'";
		start = i + 1;
	}
	for (start = n; start > 0 && s[start - 1] != '.'; start--)
		;
	if (numeric_label(s + start, n - start))
		return "the last label is a number: an address, not a name";
	for (size_t i = 0; i < n; i++)
		out[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	out[n] = '\0';
	return NULL;
}

int wd_egress_addr_text(const struct wd_egress_addr *a, char *out, size_t size)
{
	if (a->family != AF_INET && a->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (size > 0)
		out[0] = '\0';
	if (inet_ntop(a->family, a->a, out, (socklen_t)size) == NULL)
		return -ENOSPC;
	return 0;
}

/* ---- prefixes ------------------------------------------------------------- */

static bool prefix_eq(const uint8_t *a, const uint8_t *net, unsigned prefix)
{
	unsigned whole = prefix / 8, rest = prefix % 8;

	if (memcmp(a, net, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ net[whole]) & (uint8_t)(0xff << (8 - rest))) == 0;
}

bool wd_egress_in_net(const struct wd_egress_addr *a, const struct wd_egress_addr *net,
		      unsigned prefix)
{
	if (a->family != net->family)
		return false;
	if (a->family == AF_INET)
		return prefix <= 32 && prefix_eq(a->a, net->a, prefix);
	return a->family == AF_INET6 && prefix <= 128 && prefix_eq(a->a, net->a, prefix);
}

static const uint8_t mapped_pfx[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
static const uint8_t zero_pfx[12] = {0};
static const uint8_t nat64_pfx[12] = {0, 0x64, 0xff, 0x9b};            /* 64:ff9b::/96 */
static const uint8_t nat64_local_pfx[6] = {0, 0x64, 0xff, 0x9b, 0, 1}; /* 64:ff9b:1::/48 */

static void v4_of(const uint8_t *p, struct wd_egress_addr *out)
{
	memset(out, 0, sizeof(*out));
	out->family = AF_INET;
	memcpy(out->a, p, 4);
}

bool wd_egress_same_dest(const struct wd_egress_addr *a, struct wd_egress_addr *out)
{
	if (a->family == AF_INET) {
		memset(out, 0, sizeof(*out));
		out->family = AF_INET6;
		memcpy(out->a, mapped_pfx, 12);
		memcpy(out->a + 12, a->a, 4);
		return true;
	}
	if (a->family == AF_INET6 && memcmp(a->a, mapped_pfx, 12) == 0) {
		v4_of(a->a + 12, out);
		return true;
	}
	return false;
}

bool wd_egress_embedded_v4(const struct wd_egress_addr *a, struct wd_egress_addr *out)
{
	if (a->family != AF_INET6)
		return false;
	if (memcmp(a->a, mapped_pfx, 12) == 0 || memcmp(a->a, zero_pfx, 12) == 0 ||
	    memcmp(a->a, nat64_pfx, 12) == 0) {
		v4_of(a->a + 12, out);
		return true;
	}
	if (memcmp(a->a, nat64_local_pfx, 6) == 0) {
		/* RFC 6052 section 2.2, /48: v4 in bits 48..63 and 72..87 (64..71 is "u") */
		const uint8_t v4[4] = {a->a[6], a->a[7], a->a[9], a->a[10]};

		v4_of(v4, out);
		return true;
	}
	if (a->a[0] == 0x20 && a->a[1] == 0x02) { /* 2002:V4ADDR::/48 */
		v4_of(a->a + 2, out);
		return true;
	}
	return false;
}

/* ---- special-purpose ranges -------------------------------------------------- */

struct range4 {
	uint32_t net;
	unsigned prefix;
	const char *name;
};

/* Most specific first: the first match names the address. */
static const struct range4 special4[] = {
	{0x00000000, 32, "unspecified"},   /* 0.0.0.0/32 "this host" (RFC 1122) */
	{0x00000000, 8, "this-network"},   /* 0.0.0.0/8 (RFC 791) */
	{0x0a000000, 8, "private"},        /* 10.0.0.0/8 (RFC 1918) */
	{0x64400000, 10, "cgnat"},         /* 100.64.0.0/10 (RFC 6598) */
	{0x7f000000, 8, "loopback"},       /* 127.0.0.0/8 (RFC 1122) */
	{0xa9fea9fe, 32, "metadata"},      /* 169.254.169.254: cloud instance metadata */
	{0xa9fe0000, 16, "link-local"},    /* 169.254.0.0/16 (RFC 3927) */
	{0xac100000, 12, "private"},       /* 172.16.0.0/12 (RFC 1918) */
	{0xc0000000, 24, "ietf-protocol"}, /* 192.0.0.0/24 (RFC 6890) */
	{0xc0000200, 24, "documentation"}, /* 192.0.2.0/24 TEST-NET-1 (RFC 5737) */
	{0xc0586300, 24, "6to4-relay"},    /* 192.88.99.0/24 (RFC 7526, deprecated) */
	{0xc0a80000, 16, "private"},       /* 192.168.0.0/16 (RFC 1918) */
	{0xc6120000, 15, "benchmarking"},  /* 198.18.0.0/15 (RFC 2544) */
	{0xc6336400, 24, "documentation"}, /* 198.51.100.0/24 TEST-NET-2 (RFC 5737) */
	{0xcb007100, 24, "documentation"}, /* 203.0.113.0/24 TEST-NET-3 (RFC 5737) */
	{0xe0000000, 4, "multicast"},      /* 224.0.0.0/4 (RFC 5771) */
	{0xffffffff, 32, "broadcast"},     /* 255.255.255.255 (RFC 919) */
	{0xf0000000, 4, "reserved"},       /* 240.0.0.0/4 (RFC 1112) */
	/* Azure's WireServer: a public address only the hypervisor answers,
	 * the platform's control plane (not in the IANA registry). */
	{0xa83f8110, 32, "metadata"}, /* 168.63.129.16 */
};

static const char *special_v4(const uint8_t *p)
{
	uint32_t v = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];

	for (size_t i = 0; i < sizeof(special4) / sizeof(special4[0]); i++) {
		uint32_t mask = special4[i].prefix == 0 ? 0 : ~0U << (32 - special4[i].prefix);

		if ((v & mask) == special4[i].net)
			return special4[i].name;
	}
	return NULL;
}

struct range6 {
	uint8_t net[16];
	unsigned prefix;
	const char *name;
};

/* Most specific first. The forms carrying an IPv4 address are handled
 * before this table (wd_egress_special). */
static const struct range6 special6[] = {
	{{0}, 128, "unspecified"},                                           /* ::/128 */
	{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback"}, /* ::1/128 */
	{{0x01, 0x00}, 64, "discard"},                              /* 100::/64 (RFC 6666) */
	{{0x20, 0x01, 0x00, 0x00}, 32, "teredo"},                   /* 2001::/32 (RFC 4380) */
	{{0x20, 0x01, 0x00, 0x02, 0x00, 0x00}, 48, "benchmarking"}, /* 2001:2::/48 (RFC 5180) */
	{{0x20, 0x01, 0x00, 0x00}, 23, "ietf-protocol"},            /* 2001::/23 (RFC 2928) */
	{{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation"},            /* 2001:db8::/32 (RFC 3849) */
	{{0x3f, 0xff, 0x00}, 20, "documentation"},                  /* 3fff::/20 (RFC 9637) */
	{{0x5f, 0x00}, 16, "srv6"}, /* 5f00::/16 SRv6 SIDs (RFC 9602) */
	/* fd00:ec2::254: AWS instance metadata over IPv6 */
	{{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54}, 128, "metadata"},
	{{0xfc, 0x00}, 7, "ula"},         /* fc00::/7 (RFC 4193) */
	{{0xfe, 0x80}, 10, "link-local"}, /* fe80::/10 (RFC 4291) */
	{{0xfe, 0xc0}, 10, "site-local"}, /* fec0::/10 (RFC 3879, deprecated) */
	{{0xff, 0x00}, 8, "multicast"},   /* ff00::/8 (RFC 4291) */
};

const char *wd_egress_special(const struct wd_egress_addr *a)
{
	struct wd_egress_addr v4;
	const char *name;

	if (a->family == AF_INET)
		return special_v4(a->a);
	if (a->family != AF_INET6)
		return "reserved";
	for (size_t i = 0; i < 2; i++) /* :: and ::1 before the ::/96 form */
		if (prefix_eq(a->a, special6[i].net, special6[i].prefix))
			return special6[i].name;
	if (wd_egress_embedded_v4(a, &v4)) {
		name = special_v4(v4.a);
		if (name != NULL)
			return name;
		/* A public IPv4 address: the same destination when mapped, a
		 * translator's way to it for the well-known NAT64 prefix. The
		 * deprecated compatible form (RFC 4291 2.5.5.1), a site's own
		 * local-use NAT64 prefix (RFC 8215) and 6to4 relays (RFC 7526)
		 * are no way to a public host a policy meant. */
		if (memcmp(a->a, mapped_pfx, 12) == 0 || memcmp(a->a, nat64_pfx, 12) == 0)
			return NULL;
		if (memcmp(a->a, zero_pfx, 12) == 0)
			return "ipv4-compatible";
		return a->a[0] == 0x20 ? "6to4" : "nat64";
	}
	for (size_t i = 2; i < sizeof(special6) / sizeof(special6[0]); i++)
		if (prefix_eq(a->a, special6[i].net, special6[i].prefix))
			return special6[i].name;
	/* Only 2000::/3 is global unicast; the rest is unassigned. */
	if ((a->a[0] & 0xe0) != 0x20)
		return "reserved";
	return NULL;
}
