/*
 * common/egress.h - the policy's `egress` section and the one rule engine
 * both enforcement points run: the supervisor's proxies in the guest (before
 * a stream is opened) and the host launcher (again, before it resolves a
 * name and for every address it would dial). Same code, same answers: a
 * literal, a name and an address are parsed here by this file's own parsers,
 * never by the C library's (musl and glibc read some forms differently).
 *
 * What it owns: reading the section (strict, common/json.h steps; every
 * error names its JSON path, "policy: egress.allow[2].ports[0]: ..."),
 * parsing a destination as the agent named it, the decisions, and the
 * special-purpose address classifier (IANA IPv4/IPv6 registries, with the
 * IPv4 address inside mapped, compatible, NAT64 and 6to4 forms classified
 * too; the address type, its text and the classifier are declared in
 * egaddr.h, which this header includes). Semantics, bounds and the table of
 * ranges: docs/policy.md, "egress".
 *
 * Decisions, in short: default deny; deny rules win over allow rules; a
 * `host` rule matches names only, never an IP literal; `*.suffix` matches
 * deeper names, never the apex; a special-purpose address passes only when
 * an allow `cidr` rule contains it and has the port. A name that any
 * resolver could read as an IPv4 number (last label all digits, `0x..`) is
 * not a host name.
 *
 * Failure: readers return 0 or -errno with `err` filled and leave the
 * section as wd_egress_defaults() made it (nothing half-read). The checks
 * cannot fail: they fill a verdict. No global state; the rules are on the
 * heap (at most WD_EGRESS_MAX_RULES of about 560 bytes each).
 */
#ifndef WARDEN_COMMON_EGRESS_H
#define WARDEN_COMMON_EGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

#include "egaddr.h" /* struct wd_egress_addr, wd_egress_special, wd_egress_addr_text */
#include "err.h"

#define WD_EGRESS_MAX_RULES 256 /* allow and deny rules together */
#define WD_EGRESS_MAX_PORTS 64  /* port entries in one rule */
#define WD_EGRESS_MAX_HOSTS 256 /* pinned names */
/* The longest host text wd_egress_target_parse takes: a name with its
 * trailing dot, or "[v6]" (bytes). */
#define WD_EGRESS_TARGET_MAX (WD_EGRESS_NAME_MAX + 2)

/* limits: defaults and bounds */
#define WD_EGRESS_CONNECTIONS 256      /* concurrent streams */
#define WD_EGRESS_CONNECTIONS_MAX 4096 /* ... at most */
#define WD_EGRESS_CONNECT_TIMEOUT_S 10 /* resolve + connect, seconds */
#define WD_EGRESS_CONNECT_TIMEOUT_MAX 300
#define WD_EGRESS_IDLE_TIMEOUT_S 300 /* a stream with no byte either way, seconds */
#define WD_EGRESS_IDLE_TIMEOUT_MAX 86400

/* Room for wd_egress_rule_text() of any rule, NUL included. */
#define WD_EGRESS_RULE_TEXT_BYTES 1100

struct wd_egress_ports {
	uint16_t lo, hi; /* 1 <= lo <= hi */
};
enum wd_egress_kind { WD_EGRESS_NAME, WD_EGRESS_SUFFIX, WD_EGRESS_CIDR };
struct wd_egress_rule {
	enum wd_egress_kind kind;
	char host[WD_EGRESS_NAME_MAX + 1]; /* NAME: the name; SUFFIX: ".suffix" (lower case) */
	struct wd_egress_addr net;         /* CIDR: host bits zero */
	unsigned prefix;                   /* CIDR: 0..32 or 0..128 */
	struct wd_egress_ports ports[WD_EGRESS_MAX_PORTS];
	size_t nports; /* 0: every port (deny rules only) */
};
struct wd_egress_pin {
	char name[WD_EGRESS_NAME_MAX + 1]; /* lower case */
	struct wd_egress_addr addr;
};
struct wd_egress {
	bool present;                 /* the section was given: the proxies are on */
	struct wd_egress_rule *allow; /* heap; wd_egress_free */
	size_t nallow;
	struct wd_egress_rule *deny;
	size_t ndeny;
	struct wd_egress_pin *hosts;
	size_t nhosts;
	unsigned connections, connect_timeout_s, idle_timeout_s;
};

/* No section: nothing present, nothing allowed, the default limits. */
void wd_egress_defaults(struct wd_egress *e);
/* Read the `egress` member's value into `e` (present = true). `e` needs no
 * set-up (what it held is not freed). Errors are "policy: egress...: ...";
 * on error `e` holds the defaults again. */
int wd_egress_read(const cJSON *section, struct wd_egress *e, struct wd_err *err);
/* Release what `e` owns; `e` holds the defaults again. */
void wd_egress_free(struct wd_egress *e);

/* A requested destination as the agent named it (CONNECT authority, SOCKS
 * domain/IPv4/IPv6, http:// URL host). */
struct wd_egress_target {
	bool literal;                      /* an IP literal */
	char name[WD_EGRESS_NAME_MAX + 1]; /* normalised name, or the literal's text */
	struct wd_egress_addr addr;        /* when literal */
	uint16_t port;
};
/* Parse a host as the agent sent it (len bytes, no NUL needed; "[v6]" in
 * brackets accepted when `bracketed_ok`); -EINVAL with err "not a host name".
 * A literal is strict dotted-quad IPv4 or RFC 4291 IPv6 text (no zone); its
 * `name` is the canonical text (wd_egress_addr_text). A name is lower-cased
 * and loses one trailing dot. Port 0 is taken (no rule has it). */
int wd_egress_target_parse(const char *host, size_t len, bool bracketed_ok, uint16_t port,
			   struct wd_egress_target *t, struct wd_err *err);

enum wd_egress_reason {
	WD_EGRESS_ALLOWED = 0,
	WD_EGRESS_NO_SECTION, /* no egress section: no egress at all */
	WD_EGRESS_NO_RULE,    /* no allow rule matches the name (or literal) */
	WD_EGRESS_PORT,       /* a rule matches the host but not the port */
	WD_EGRESS_DENY_RULE,  /* a deny rule matches */
	WD_EGRESS_LITERAL,    /* an IP literal without a cidr rule naming it */
	WD_EGRESS_SPECIAL,    /* a special-purpose address without a cidr rule */
	WD_EGRESS_BAD_NAME,
};
struct wd_egress_verdict {
	enum wd_egress_reason reason;
	int allow_rule;      /* index in allow[] that allowed, -1 */
	int deny_rule;       /* index in deny[] that denied, -1 */
	const char *special; /* WD_EGRESS_SPECIAL: the range's name, e.g. "loopback" */
};
/* Before resolution (both sides): may this name/literal and port go on?
 * For a literal this is the whole decision (wd_egress_check_addr on its
 * address). For a name: denied by a deny host rule; allowed to proceed when
 * an allow host rule matches name+port (allow_rule is its index; the
 * addresses it resolves to are checked later); a name no host rule allows
 * is decided by its pin in `hosts` (wd_egress_check_addr on the pinned
 * address: a cidr rule), and without a pin it is refused unresolved
 * (NO_RULE), so that no rule lets a lookup of an arbitrary name happen. */
void wd_egress_check_request(const struct wd_egress *e, const struct wd_egress_target *t,
			     struct wd_egress_verdict *v);
/* The final decision for one address the host would dial for target t:
 * deny cidr rules (which also match the IPv4 address inside a mapped,
 * compatible, NAT64 or 6to4 form), deny host rules, the special-address
 * rule (a special address passes only when an allow cidr rule contains it
 * and has the port), then allow (host rule for t's name+port, or a cidr
 * rule containing addr with the port). An IPv4-mapped address is the same
 * destination as its IPv4 address for cidr rules. */
void wd_egress_check_addr(const struct wd_egress *e, const struct wd_egress_target *t,
			  const struct wd_egress_addr *addr, struct wd_egress_verdict *v);
/* "allow[1] *.pythonhosted.org ports 443" / "deny[0] uploads.example.com"
 * (for records). 0, -EINVAL for no such rule, -ENOSPC when cut short (the
 * text is still terminated). */
int wd_egress_rule_text(const struct wd_egress *e, bool deny, int index, char *out, size_t size);
/* "allowed", "no-section", "no-rule", "port", "deny-rule", "ip-literal",
 * "special-address", "bad-name". */
const char *wd_egress_reason_name(enum wd_egress_reason r);
/* The pin for a name (normalised as wd_egress_target_parse does), or NULL. */
const struct wd_egress_addr *wd_egress_pinned(const struct wd_egress *e, const char *name);

#endif
