/*
 * common/egaddr.h - the text and address work under common/egress.c: strict
 * parsers for IPv4/IPv6 literals and DNS names, prefix matching, and the IPv4
 * address an IPv6 form carries. The special-purpose classifier
 * (wd_egress_special) and wd_egress_addr_text live in egaddr.c too.
 *
 * egress.h includes this header: the address type and the classifier are
 * part of its interface.
 *
 * The parsers are this file's own, not inet_pton/inet_aton: the guest
 * (musl) and the host (glibc) must read every text the same way, and the
 * C library's readers differ at the edges. They take exact lengths (no NUL
 * needed) and never read past them.
 */
#ifndef WARDEN_COMMON_EGADDR_H
#define WARDEN_COMMON_EGADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#define WD_EGRESS_NAME_MAX 253 /* a DNS name's text, bytes, no trailing dot */
#define WD_EGRESS_LABEL_MAX 63 /* one label, bytes */
/* Room for wd_egress_addr_text(), NUL included (INET6_ADDRSTRLEN). */
#define WD_EGRESS_ADDR_TEXT_BYTES 46

struct wd_egress_addr {
	int family;    /* AF_INET, AF_INET6 */
	uint8_t a[16]; /* network order; v4 in a[0..3] */
};

/* Which special-purpose range holds addr ("loopback", "unspecified",
 * "private", "cgnat", "link-local", "metadata", "multicast", "broadcast",
 * "reserved", "documentation", "benchmarking", "ula", "nat64", "6to4",
 * "teredo", "discard", ...; docs/policy.md has the table), or NULL for a
 * public address. IPv4-mapped/-compatible, NAT64 (64:ff9b::/96,
 * 64:ff9b:1::/48) and 6to4 forms are classified by the IPv4 address they
 * carry (any special -> its name). 169.254.169.254 and fd00:ec2::254 are
 * "metadata". An address of another family is "reserved". */
const char *wd_egress_special(const struct wd_egress_addr *a);
/* inet_ntop's text; 0, -EAFNOSUPPORT, -ENOSPC. (Only shown: every side
 * reads addresses with the parsers below.) */
int wd_egress_addr_text(const struct wd_egress_addr *a, char *out, size_t size);

/* Dotted-quad only: four decimal parts 0..255, no leading zero ("010"
 * would be octal to inet_aton), nothing else. */
bool wd_egress_parse_v4(const char *s, size_t n, uint8_t out[4]);
/* RFC 4291 section 2.2 text: eight groups of 1..4 hex digits, one "::" at
 * most, an optional dotted quad as the last 32 bits; no zone ("%eth0"), no
 * brackets. */
bool wd_egress_parse_v6(const char *s, size_t n, uint8_t out[16]);
/* Either of the two; the family says which. */
bool wd_egress_parse_addr(const char *s, size_t n, struct wd_egress_addr *a);

/*
 * A DNS name: labels of 1..WD_EGRESS_LABEL_MAX letters, digits, '-' and
 * '_' (no '-' at either end of a label), at most WD_EGRESS_NAME_MAX bytes
 * after one trailing dot is dropped, and not something a resolver reads as
 * an IPv4 number (inet_aton takes "2130706433", "127.1", "0x7f.1",
 * "0177.0.0.1": the last label of each is all digits or 0x-hex). Writes the
 * lower-case name to `out` and returns NULL, or returns why not.
 */
const char *wd_egress_name_check(const char *s, size_t n, char out[WD_EGRESS_NAME_MAX + 1]);

/* Does net/prefix (same family) contain a? */
bool wd_egress_in_net(const struct wd_egress_addr *a, const struct wd_egress_addr *net,
		      unsigned prefix);
/* The same destination in the other family: an IPv4 address's
 * IPv4-mapped form (::ffff:a.b.c.d), or the IPv4 address inside an
 * IPv4-mapped one. False when there is none. */
bool wd_egress_same_dest(const struct wd_egress_addr *a, struct wd_egress_addr *out);
/* The IPv4 address carried by an IPv4-mapped (::ffff:0:0/96), -compatible
 * (::/96), NAT64 (64:ff9b::/96, 64:ff9b:1::/48, RFC 6052 layouts) or 6to4
 * (2002::/16) address. False for anything else (teredo's is obfuscated and
 * the whole range is special anyway). */
bool wd_egress_embedded_v4(const struct wd_egress_addr *a, struct wd_egress_addr *out);

#endif
