/*
 * common/egress.c - see egress.h: the `egress` section's reader and the
 * decisions. Text and address work is in egaddr.c.
 */
#include "egress.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "egaddr.h"
#include "json.h"

#define PATH_BYTES 96     /* "policy: egress.hosts[\"<64 bytes>\"]" and a member */
#define SHOWN_BYTES 64    /* of the operator's text quoted in an error */
#define CIDR_TEXT_MAX 49  /* the longest address text (45) and "/128" */
#define PORTS_TEXT_MAX 11 /* "65535-65535" */

static const struct wd_json_field egress_fields[] = {
	{"allow", false}, {"deny", false}, {"hosts", false}, {"limits", false}, {NULL, false},
};
/* ports are required in allow rules, optional in deny rules */
static const struct wd_json_field allow_fields[] = {
	{"host", false},
	{"cidr", false},
	{"ports", true},
	{NULL, false},
};
static const struct wd_json_field deny_fields[] = {
	{"host", false},
	{"cidr", false},
	{"ports", false},
	{NULL, false},
};
static const struct wd_json_field limits_fields[] = {
	{"connections", false},
	{"connect_timeout_s", false},
	{"idle_timeout_s", false},
	{NULL, false},
};

void wd_egress_defaults(struct wd_egress *e)
{
	memset(e, 0, sizeof(*e));
	e->connections = WD_EGRESS_CONNECTIONS;
	e->connect_timeout_s = WD_EGRESS_CONNECT_TIMEOUT_S;
	e->idle_timeout_s = WD_EGRESS_IDLE_TIMEOUT_S;
}

void wd_egress_free(struct wd_egress *e)
{
	free(e->allow);
	free(e->deny);
	free(e->hosts);
	wd_egress_defaults(e);
}

/* ---- reading -------------------------------------------------------------- */

/* The operator's text in an error: printable ASCII only, cut short. */
static const char *shown(const char *s, char buf[SHOWN_BYTES + 4])
{
	size_t i;

	for (i = 0; i < SHOWN_BYTES && s[i] != '\0'; i++)
		buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (s[i] != '\0')
		buf[i++] = '.', buf[i++] = '.', buf[i++] = '.';
	buf[i] = '\0';
	return buf;
}

/* A decimal 1..65535 with no leading zero, s[0..n). 0 when not. */
static unsigned port_text(const char *s, size_t n)
{
	unsigned v = 0;

	if (n == 0 || n > 5 || s[0] == '0')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	return v <= 65535 ? v : 0;
}

static int read_port(const cJSON *it, const char *w, size_t i, struct wd_egress_ports *p,
		     struct wd_err *err)
{
	if (cJSON_IsNumber(it)) {
		double d = it->valuedouble;

		if (!(d >= 1 && d <= 65535) || (double)(unsigned)d != d)
			return wd_err_set(err, ERANGE, "%s.ports[%zu]: not a port 1..65535", w, i);
		p->lo = p->hi = (uint16_t)d;
		return 0;
	}
	if (cJSON_IsString(it)) {
		const char *s = it->valuestring, *dash = strchr(s, '-');
		unsigned lo, hi;

		if (dash == NULL)
			return wd_err_set(
				err, EINVAL,
				"%s.ports[%zu]: a string is a range \"a-b\"; a single port "
				"is a number",
				w, i);
		lo = port_text(s, (size_t)(dash - s));
		hi = port_text(dash + 1, strlen(dash + 1));
		if (lo == 0 || hi == 0)
			return wd_err_set(err, EINVAL,
					  "%s.ports[%zu]: not a range \"a-b\" of ports 1..65535", w,
					  i);
		if (lo > hi)
			return wd_err_set(err, EINVAL, "%s.ports[%zu]: range %u-%u is backwards", w,
					  i, lo, hi);
		p->lo = (uint16_t)lo;
		p->hi = (uint16_t)hi;
		return 0;
	}
	return wd_err_set(err, EINVAL, "%s.ports[%zu]: expected a port number or a range \"a-b\"",
			  w, i);
}

static int read_ports(const cJSON *arr, const char *w, struct wd_egress_rule *r, struct wd_err *err)
{
	const cJSON *it;
	size_t i = 0;
	int rc;

	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "%s.ports: expected an array", w);
	if (cJSON_GetArraySize(arr) == 0)
		return wd_err_set(err, EINVAL,
				  "%s.ports: empty (leave it out of a deny rule "
				  "for every port)",
				  w);
	if ((size_t)cJSON_GetArraySize(arr) > WD_EGRESS_MAX_PORTS)
		return wd_err_set(err, E2BIG, "%s.ports: more than %d entries", w,
				  WD_EGRESS_MAX_PORTS);
	cJSON_ArrayForEach(it, arr)
	{
		if ((rc = read_port(it, w, i, &r->ports[i], err)) < 0)
			return rc;
		i++;
	}
	r->nports = i;
	return 0;
}

static int read_host(const cJSON *it, const char *w, struct wd_egress_rule *r, struct wd_err *err)
{
	char buf[SHOWN_BYTES + 4];
	struct wd_egress_addr a;
	const char *s = it->valuestring, *why;
	bool wild;
	size_t n;

	if (!cJSON_IsString(it))
		return wd_err_set(err, EINVAL, "%s.host: expected a string", w);
	n = strlen(s);
	if (wd_egress_parse_addr(s, n, &a))
		return wd_err_set(err, EINVAL,
				  "%s.host: '%s' is an address, not a host name (a cidr rule names "
				  "addresses)",
				  w, shown(s, buf));
	wild = n >= 2 && s[0] == '*' && s[1] == '.';
	why = wd_egress_name_check(wild ? s + 2 : s, wild ? n - 2 : n, r->host);
	if (why == NULL && wild && strlen(r->host) > WD_EGRESS_NAME_MAX - 2)
		why = "no deeper name fits in 253 bytes";
	if (why != NULL)
		return wd_err_set(
			err, EINVAL, "%s.host: '%s' is not a host name: %s%s", w, shown(s, buf),
			why, strchr(s, '*') != NULL ? " (a wildcard is one leading '*.')" : "");
	if (wild) {
		memmove(r->host + 1, r->host, strlen(r->host) + 1);
		r->host[0] = '.';
		r->kind = WD_EGRESS_SUFFIX;
	} else {
		r->kind = WD_EGRESS_NAME;
	}
	return 0;
}

static int read_cidr(const cJSON *it, const char *w, struct wd_egress_rule *r, struct wd_err *err)
{
	char buf[SHOWN_BYTES + 4];
	const char *s = it->valuestring, *slash;
	size_t n, alen;
	unsigned max, prefix = 0;

	if (!cJSON_IsString(it))
		return wd_err_set(err, EINVAL, "%s.cidr: expected a string", w);
	n = strlen(s);
	slash = strchr(s, '/');
	alen = slash != NULL ? (size_t)(slash - s) : n;
	if (n > CIDR_TEXT_MAX || !wd_egress_parse_addr(s, alen, &r->net))
		return wd_err_set(err, EINVAL,
				  "%s.cidr: '%s' is not an IPv4 or IPv6 address with an optional "
				  "/prefix",
				  w, shown(s, buf));
	max = r->net.family == AF_INET ? 32 : 128;
	if (slash == NULL) {
		prefix = max;
	} else {
		const char *p = slash + 1;
		size_t pn = strlen(p);

		if (pn == 0 || pn > 3 || (pn > 1 && p[0] == '0'))
			prefix = max + 1;
		for (size_t i = 0; i < pn && prefix <= max; i++)
			prefix = (p[i] >= '0' && p[i] <= '9') ? prefix * 10 + (unsigned)(p[i] - '0')
							      : max + 1;
		if (prefix > max)
			return wd_err_set(err, EINVAL, "%s.cidr: '%s': the prefix length is 0..%u",
					  w, shown(s, buf), max);
	}
	r->prefix = prefix;
	/* host bits set: the operator meant another network than he wrote */
	for (unsigned b = prefix; b < max; b++)
		if ((r->net.a[b / 8] >> (7 - b % 8)) & 1)
			return wd_err_set(err, EINVAL,
					  "%s.cidr: '%s' has bits set past the /%u prefix", w,
					  shown(s, buf), prefix);
	r->kind = WD_EGRESS_CIDR;
	return 0;
}

static int read_rule(const cJSON *it, bool deny, size_t i, struct wd_egress_rule *r,
		     struct wd_err *err)
{
	char w[PATH_BYTES];
	const cJSON *host, *cidr, *ports;
	int rc;

	(void)snprintf(w, sizeof(w), "policy: egress.%s[%zu]", deny ? "deny" : "allow", i);
	if ((rc = wd_json_check_fields(it, deny ? deny_fields : allow_fields, w, err)) < 0)
		return rc;
	host = cJSON_GetObjectItemCaseSensitive(it, "host");
	cidr = cJSON_GetObjectItemCaseSensitive(it, "cidr");
	ports = cJSON_GetObjectItemCaseSensitive(it, "ports");
	if ((host == NULL) == (cidr == NULL))
		return wd_err_set(err, EINVAL, "%s: needs exactly one of 'host' and 'cidr'", w);
	rc = host != NULL ? read_host(host, w, r, err) : read_cidr(cidr, w, r, err);
	if (rc < 0)
		return rc;
	return ports != NULL ? read_ports(ports, w, r, err) : 0;
}

static int read_rules(const cJSON *sec, bool deny, struct wd_egress *e, struct wd_err *err)
{
	const char *list = deny ? "deny" : "allow";
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(sec, list), *it;
	struct wd_egress_rule **rules = deny ? &e->deny : &e->allow;
	size_t *nrules = deny ? &e->ndeny : &e->nallow, n, i = 0;
	int rc;

	if (arr == NULL)
		return 0;
	if (!cJSON_IsArray(arr))
		return wd_err_set(err, EINVAL, "policy: egress.%s: expected an array", list);
	n = (size_t)cJSON_GetArraySize(arr);
	if (n + e->nallow + e->ndeny > WD_EGRESS_MAX_RULES)
		return wd_err_set(
			err, E2BIG,
			"policy: egress.%s: more than %d rules in allow and deny together", list,
			WD_EGRESS_MAX_RULES);
	if (n == 0)
		return 0;
	if ((*rules = calloc(n, sizeof(**rules))) == NULL)
		return wd_err_set(err, ENOMEM, "policy: egress.%s: out of memory", list);
	cJSON_ArrayForEach(it, arr)
	{
		if ((rc = read_rule(it, deny, i, &(*rules)[i], err)) < 0)
			return rc;
		*nrules = ++i;
	}
	return 0;
}

static int read_hosts(const cJSON *sec, struct wd_egress *e, struct wd_err *err)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(sec, "hosts"), *it;
	char buf[SHOWN_BYTES + 4], w[PATH_BYTES];
	size_t n;

	if (obj == NULL)
		return 0;
	if (!cJSON_IsObject(obj))
		return wd_err_set(err, EINVAL, "policy: egress.hosts: expected an object");
	n = (size_t)cJSON_GetArraySize(obj);
	if (n > WD_EGRESS_MAX_HOSTS)
		return wd_err_set(err, E2BIG, "policy: egress.hosts: more than %d names",
				  WD_EGRESS_MAX_HOSTS);
	if (n == 0)
		return 0;
	if ((e->hosts = calloc(n, sizeof(*e->hosts))) == NULL)
		return wd_err_set(err, ENOMEM, "policy: egress.hosts: out of memory");
	cJSON_ArrayForEach(it, obj)
	{
		struct wd_egress_pin *p = &e->hosts[e->nhosts];
		const char *why;

		(void)snprintf(w, sizeof(w), "policy: egress.hosts[\"%s\"]",
			       shown(it->string, buf));
		why = wd_egress_name_check(it->string, strlen(it->string), p->name);
		if (why != NULL)
			return wd_err_set(err, EINVAL, "%s: not a host name: %s", w, why);
		if (!cJSON_IsString(it) ||
		    !wd_egress_parse_addr(it->valuestring, strlen(it->valuestring), &p->addr))
			return wd_err_set(err, EINVAL, "%s: expected an IPv4 or IPv6 address", w);
		for (size_t k = 0; k < e->nhosts; k++)
			if (strcmp(e->hosts[k].name, p->name) == 0)
				return wd_err_set(err, EINVAL, "%s: the name is given twice", w);
		e->nhosts++;
	}
	return 0;
}

static int read_limits(const cJSON *sec, struct wd_egress *e, struct wd_err *err)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(sec, "limits");
	const struct {
		const char *name;
		uint64_t max;
		unsigned *v;
	} m[] = {
		{"connections", WD_EGRESS_CONNECTIONS_MAX, &e->connections},
		{"connect_timeout_s", WD_EGRESS_CONNECT_TIMEOUT_MAX, &e->connect_timeout_s},
		{"idle_timeout_s", WD_EGRESS_IDLE_TIMEOUT_MAX, &e->idle_timeout_s},
	};
	const char *w = "policy: egress.limits";
	int rc;

	if (l == NULL)
		return 0;
	if ((rc = wd_json_check_fields(l, limits_fields, w, err)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		uint64_t v = *m[i].v;

		if ((rc = wd_json_get_uint(l, m[i].name, m[i].max, &v, w, err)) < 0)
			return rc;
		if (v < 1)
			return wd_err_set(err, ERANGE, "%s.%s: at least 1", w, m[i].name);
		*m[i].v = (unsigned)v;
	}
	return 0;
}

int wd_egress_read(const cJSON *section, struct wd_egress *e, struct wd_err *err)
{
	int rc;

	wd_egress_defaults(e);
	if ((rc = wd_json_check_fields(section, egress_fields, "policy: egress", err)) < 0 ||
	    (rc = read_rules(section, false, e, err)) < 0 ||
	    (rc = read_rules(section, true, e, err)) < 0 ||
	    (rc = read_hosts(section, e, err)) < 0 || (rc = read_limits(section, e, err)) < 0) {
		wd_egress_free(e);
		return rc;
	}
	e->present = true;
	return 0;
}

/* ---- the destination ------------------------------------------------------ */

int wd_egress_target_parse(const char *host, size_t len, bool bracketed_ok, uint16_t port,
			   struct wd_egress_target *t, struct wd_err *err)
{
	const char *why;

	memset(t, 0, sizeof(*t));
	t->port = port;
	if (len == 0 || len > WD_EGRESS_TARGET_MAX)
		return wd_err_set(err, EINVAL, "not a host name: %s",
				  len == 0 ? "empty" : "too long");
	if (host[0] == '[') {
		if (!bracketed_ok || len < 2 || host[len - 1] != ']' ||
		    !wd_egress_parse_v6(host + 1, len - 2, t->addr.a))
			return wd_err_set(err, EINVAL,
					  "not a host name: a bracket that is not "
					  "around an IPv6 address");
		t->addr.family = AF_INET6;
		t->literal = true;
	} else if (wd_egress_parse_addr(host, len, &t->addr)) {
		t->literal = true;
	}
	if (t->literal)
		return wd_egress_addr_text(&t->addr, t->name, sizeof(t->name)) < 0
			       ? wd_err_set(err, EINVAL, "not a host name: an address")
			       : 0;
	why = wd_egress_name_check(host, len, t->name);
	if (why != NULL) {
		memset(t, 0, sizeof(*t));
		return wd_err_set(err, EINVAL, "not a host name: %s", why);
	}
	return 0;
}

/* ---- decisions ------------------------------------------------------------ */

static void verdict(struct wd_egress_verdict *v, enum wd_egress_reason r)
{
	v->reason = r;
	v->allow_rule = -1;
	v->deny_rule = -1;
	v->special = NULL;
}

static bool has_port(const struct wd_egress_rule *r, uint16_t port)
{
	if (r->nports == 0)
		return true;
	for (size_t i = 0; i < r->nports; i++)
		if (port >= r->ports[i].lo && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool same_text(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char x = (a[i] >= 'A' && a[i] <= 'Z') ? (char)(a[i] - 'A' + 'a') : a[i];
		char y = (b[i] >= 'A' && b[i] <= 'Z') ? (char)(b[i] - 'A' + 'a') : b[i];

		if (x != y)
			return false;
	}
	return true;
}

/* A host rule and a (normalised) name; never a literal. */
static bool host_match(const struct wd_egress_rule *r, const struct wd_egress_target *t)
{
	size_t n, rn;

	if (t->literal || r->kind == WD_EGRESS_CIDR)
		return false;
	n = strnlen(t->name, sizeof(t->name));
	rn = strlen(r->host);
	if (r->kind == WD_EGRESS_NAME)
		return n == rn && same_text(t->name, r->host, n);
	/* ".suffix": a deeper name ends with it; the apex lacks the dot */
	return n > rn && same_text(t->name + n - rn, r->host, rn);
}

/* A cidr rule and an address: the address itself or the same destination
 * in the other family; for a deny rule also the IPv4 address any IPv6 form
 * carries (a deny of 10.0.0.0/8 holds against 64:ff9b::a00:1). */
static bool cidr_match(const struct wd_egress_rule *r, const struct wd_egress_addr *a, bool deny)
{
	struct wd_egress_addr alt;

	if (r->kind != WD_EGRESS_CIDR)
		return false;
	if (wd_egress_in_net(a, &r->net, r->prefix))
		return true;
	if (wd_egress_same_dest(a, &alt) && wd_egress_in_net(&alt, &r->net, r->prefix))
		return true;
	return deny && wd_egress_embedded_v4(a, &alt) && wd_egress_in_net(&alt, &r->net, r->prefix);
}

/* A name as wd_egress_target_parse leaves it (a target built by hand may
 * not be). */
static bool name_ok(const struct wd_egress_target *t)
{
	char norm[WD_EGRESS_NAME_MAX + 1];
	size_t n = strnlen(t->name, sizeof(t->name));

	return n < sizeof(t->name) && wd_egress_name_check(t->name, n, norm) == NULL &&
	       strcmp(norm, t->name) == 0;
}

/* The first deny host rule for t's name and port: true when one denies. */
static bool deny_host(const struct wd_egress *e, const struct wd_egress_target *t,
		      struct wd_egress_verdict *v)
{
	for (size_t i = 0; i < e->ndeny; i++)
		if (host_match(&e->deny[i], t) && has_port(&e->deny[i], t->port)) {
			verdict(v, WD_EGRESS_DENY_RULE);
			v->deny_rule = (int)i;
			return true;
		}
	return false;
}

static void allowed(struct wd_egress_verdict *v, int rule)
{
	verdict(v, WD_EGRESS_ALLOWED);
	v->allow_rule = rule;
}

void wd_egress_check_request(const struct wd_egress *e, const struct wd_egress_target *t,
			     struct wd_egress_verdict *v)
{
	const struct wd_egress_addr *pin;
	bool port_miss = false;

	verdict(v, WD_EGRESS_NO_RULE);
	if (!e->present)
		return verdict(v, WD_EGRESS_NO_SECTION);
	if (t->literal)
		return wd_egress_check_addr(e, t, &t->addr, v);
	if (!name_ok(t))
		return verdict(v, WD_EGRESS_BAD_NAME);
	if (deny_host(e, t, v))
		return;
	for (size_t i = 0; i < e->nallow; i++) {
		if (!host_match(&e->allow[i], t))
			continue;
		if (has_port(&e->allow[i], t->port))
			return allowed(v, (int)i);
		port_miss = true;
	}
	/* No host rule allows the name. It goes on only when `hosts` pins it:
	 * its address is known here and decides (a cidr rule). Any other name
	 * stops unresolved, so that a lookup can never carry data out: a cidr
	 * rule admits literals and pinned names, never a name to resolve. */
	pin = wd_egress_pinned(e, t->name);
	if (pin != NULL && !port_miss)
		return wd_egress_check_addr(e, t, pin, v);
	verdict(v, port_miss ? WD_EGRESS_PORT : WD_EGRESS_NO_RULE);
}

void wd_egress_check_addr(const struct wd_egress *e, const struct wd_egress_target *t,
			  const struct wd_egress_addr *addr, struct wd_egress_verdict *v)
{
	const char *special;
	bool port_miss = false;

	verdict(v, WD_EGRESS_NO_RULE);
	if (!e->present)
		return verdict(v, WD_EGRESS_NO_SECTION);
	if (!t->literal && !name_ok(t))
		return verdict(v, WD_EGRESS_BAD_NAME);
	for (size_t i = 0; i < e->ndeny; i++)
		if (cidr_match(&e->deny[i], addr, true) && has_port(&e->deny[i], t->port)) {
			verdict(v, WD_EGRESS_DENY_RULE);
			v->deny_rule = (int)i;
			return;
		}
	if (deny_host(e, t, v))
		return;
	special = wd_egress_special(addr);
	for (size_t i = 0; i < e->nallow && special == NULL; i++)
		if (host_match(&e->allow[i], t)) {
			if (has_port(&e->allow[i], t->port))
				return allowed(v, (int)i);
			port_miss = true;
		}
	/* a special address passes only by a cidr rule that names it */
	for (size_t i = 0; i < e->nallow; i++)
		if (cidr_match(&e->allow[i], addr, false)) {
			if (has_port(&e->allow[i], t->port))
				return allowed(v, (int)i);
			port_miss = true;
		}
	if (port_miss)
		return verdict(v, WD_EGRESS_PORT);
	if (special != NULL) {
		verdict(v, WD_EGRESS_SPECIAL);
		v->special = special;
		return;
	}
	verdict(v, t->literal ? WD_EGRESS_LITERAL : WD_EGRESS_NO_RULE);
}

/* ---- text ------------------------------------------------------------------ */

struct text {
	char *out;
	size_t size, len;
	bool cut;
};

static void put(struct text *x, const char *fmt, ...) WD_PRINTF(2, 3);
static void put(struct text *x, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (x->cut)
		return;
	va_start(ap, fmt);
	n = vsnprintf(x->out + x->len, x->size - x->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= x->size - x->len) {
		x->cut = true;
		return;
	}
	x->len += (size_t)n;
}

int wd_egress_rule_text(const struct wd_egress *e, bool deny, int index, char *out, size_t size)
{
	const struct wd_egress_rule *r;
	struct text x = {out, size, 0, false};
	char addr[WD_EGRESS_ADDR_TEXT_BYTES];

	if (size == 0)
		return -ENOSPC;
	out[0] = '\0';
	if (index < 0 || (size_t)index >= (deny ? e->ndeny : e->nallow))
		return -EINVAL;
	r = deny ? &e->deny[index] : &e->allow[index];
	put(&x, "%s[%d] ", deny ? "deny" : "allow", index);
	if (r->kind == WD_EGRESS_CIDR) {
		if (wd_egress_addr_text(&r->net, addr, sizeof(addr)) < 0)
			(void)snprintf(addr, sizeof(addr), "?");
		put(&x, "%s/%u", addr, r->prefix);
	} else {
		put(&x, "%s%s", r->kind == WD_EGRESS_SUFFIX ? "*" : "", r->host);
	}
	for (size_t i = 0; i < r->nports; i++) {
		put(&x, "%s%u", i == 0 ? " ports " : ",", r->ports[i].lo);
		if (r->ports[i].hi != r->ports[i].lo)
			put(&x, "-%u", r->ports[i].hi);
	}
	return x.cut ? -ENOSPC : 0;
}

const char *wd_egress_reason_name(enum wd_egress_reason r)
{
	switch (r) {
	case WD_EGRESS_ALLOWED:
		return "allowed";
	case WD_EGRESS_NO_SECTION:
		return "no-section";
	case WD_EGRESS_NO_RULE:
		return "no-rule";
	case WD_EGRESS_PORT:
		return "port";
	case WD_EGRESS_DENY_RULE:
		return "deny-rule";
	case WD_EGRESS_LITERAL:
		return "ip-literal";
	case WD_EGRESS_SPECIAL:
		return "special-address";
	case WD_EGRESS_BAD_NAME:
		return "bad-name";
	}
	return "unknown";
}

const struct wd_egress_addr *wd_egress_pinned(const struct wd_egress *e, const char *name)
{
	char norm[WD_EGRESS_NAME_MAX + 1];

	if (name == NULL || wd_egress_name_check(name, strlen(name), norm) != NULL)
		return NULL;
	for (size_t i = 0; i < e->nhosts; i++)
		if (strcmp(e->hosts[i].name, norm) == 0)
			return &e->hosts[i].addr;
	return NULL;
}
