/*
 * tests/fuzz/fuzz_egress.c - the egress rules (common/egress.c, egaddr.c) on
 * arbitrary bytes: the section's reader, the destination parser and both
 * decisions.
 *
 * Input: the `egress` section's JSON text, a NUL, then destinations, each
 * `flags` (bit 0: brackets allowed), port (2 bytes, big-endian), host
 * length (1 byte), the host's bytes, and 16 bytes of an address the host
 * would dial (bit 1 of flags: IPv6, else the first 4 as IPv4).
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refused section has
 * a code and a "policy: egress" message and holds the defaults; an accepted
 * one keeps every bound and stores only normalised names, zero host bits
 * and ordered port ranges, and every rule's text fits
 * WD_EGRESS_RULE_TEXT_BYTES; a parsed destination reads back the same from
 * its own text; a verdict is consistent (an allowing rule has the port, a
 * special address passes only by a cidr rule, no deny rule naming the
 * destination directly lets it through); and an IPv4 address classifies
 * the same as its IPv4-mapped form.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/egress.h"
#include "../../common/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SECTION_MAX 65536 /* the policy document's bound */
#define MAX_TARGETS 64

static bool has_port(const struct wd_egress_rule *r, uint16_t port)
{
	if (r->nports == 0)
		return true;
	for (size_t i = 0; i < r->nports; i++)
		if (r->ports[i].lo <= port && port <= r->ports[i].hi)
			return true;
	return false;
}

static bool normalised(const char *name)
{
	char out[WD_EGRESS_NAME_MAX + 1];

	return wd_egress_name_check(name, strlen(name), out) == NULL && strcmp(out, name) == 0;
}

static bool is_defaults(const struct wd_egress *e)
{
	return !e->present && e->allow == NULL && e->nallow == 0 && e->deny == NULL &&
	       e->ndeny == 0 && e->hosts == NULL && e->nhosts == 0 &&
	       e->connections == WD_EGRESS_CONNECTIONS &&
	       e->connect_timeout_s == WD_EGRESS_CONNECT_TIMEOUT_S &&
	       e->idle_timeout_s == WD_EGRESS_IDLE_TIMEOUT_S;
}

static void check_rule(const struct wd_egress *e, bool deny, size_t i)
{
	const struct wd_egress_rule *r = deny ? &e->deny[i] : &e->allow[i];
	char text[WD_EGRESS_RULE_TEXT_BYTES];

	switch (r->kind) {
	case WD_EGRESS_NAME:
		if (!normalised(r->host))
			abort();
		break;
	case WD_EGRESS_SUFFIX:
		if (r->host[0] != '.' || !normalised(r->host + 1) ||
		    strlen(r->host) > WD_EGRESS_NAME_MAX - 1)
			abort();
		break;
	case WD_EGRESS_CIDR: {
		unsigned max = r->net.family == AF_INET ? 32 : 128;

		if ((r->net.family != AF_INET && r->net.family != AF_INET6) || r->prefix > max)
			abort();
		for (unsigned b = r->prefix; b < max; b++)
			if ((r->net.a[b / 8] >> (7 - b % 8)) & 1)
				abort();
		break;
	}
	default:
		abort();
	}
	if (r->nports > WD_EGRESS_MAX_PORTS || (!deny && r->nports == 0))
		abort();
	for (size_t p = 0; p < r->nports; p++)
		if (r->ports[p].lo == 0 || r->ports[p].lo > r->ports[p].hi)
			abort();
	if (wd_egress_rule_text(e, deny, (int)i, text, sizeof(text)) != 0)
		abort();
}

static void check_section(const struct wd_egress *e)
{
	if (!e->present || e->nallow + e->ndeny > WD_EGRESS_MAX_RULES ||
	    e->nhosts > WD_EGRESS_MAX_HOSTS)
		abort();
	if (e->connections < 1 || e->connections > WD_EGRESS_CONNECTIONS_MAX ||
	    e->connect_timeout_s < 1 || e->connect_timeout_s > WD_EGRESS_CONNECT_TIMEOUT_MAX ||
	    e->idle_timeout_s < 1 || e->idle_timeout_s > WD_EGRESS_IDLE_TIMEOUT_MAX)
		abort();
	for (size_t i = 0; i < e->nallow; i++)
		check_rule(e, false, i);
	for (size_t i = 0; i < e->ndeny; i++)
		check_rule(e, true, i);
	for (size_t i = 0; i < e->nhosts; i++) {
		if (!normalised(e->hosts[i].name) ||
		    wd_egress_pinned(e, e->hosts[i].name) != &e->hosts[i].addr)
			abort();
		if (e->hosts[i].addr.family != AF_INET && e->hosts[i].addr.family != AF_INET6)
			abort();
	}
}

static void check_verdict(const struct wd_egress *e, const struct wd_egress_target *t,
			  const struct wd_egress_addr *a, const struct wd_egress_verdict *v)
{
	if (v->reason != WD_EGRESS_DENY_RULE && v->deny_rule != -1)
		abort();
	if (v->reason != WD_EGRESS_ALLOWED && v->allow_rule != -1)
		abort();
	if ((v->reason == WD_EGRESS_SPECIAL) != (v->special != NULL))
		abort();
	if (v->reason == WD_EGRESS_DENY_RULE &&
	    (v->deny_rule < 0 || (size_t)v->deny_rule >= e->ndeny ||
	     !has_port(&e->deny[v->deny_rule], t->port)))
		abort();
	if (!e->present && v->reason != WD_EGRESS_NO_SECTION)
		abort();
	if (v->reason != WD_EGRESS_ALLOWED)
		return;
	if (v->allow_rule >= 0 &&
	    ((size_t)v->allow_rule >= e->nallow || !has_port(&e->allow[v->allow_rule], t->port)))
		abort();
	if (a == NULL)
		return;
	/* the final decision names its rule; a special address only by cidr */
	if (v->allow_rule < 0)
		abort();
	if (wd_egress_special(a) != NULL && e->allow[v->allow_rule].kind != WD_EGRESS_CIDR)
		abort();
	/* deny wins: no deny rule naming the destination directly let it by */
	for (size_t i = 0; i < e->ndeny; i++) {
		const struct wd_egress_rule *r = &e->deny[i];

		if (!has_port(r, t->port))
			continue;
		if (r->kind == WD_EGRESS_CIDR && wd_egress_in_net(a, &r->net, r->prefix))
			abort();
		if (r->kind == WD_EGRESS_NAME && !t->literal && strcmp(r->host, t->name) == 0)
			abort();
	}
}

static void check_special(const struct wd_egress_addr *a)
{
	struct wd_egress_addr m;
	const char *s = wd_egress_special(a), *sm;

	if (a->family != AF_INET)
		return;
	memset(&m, 0, sizeof(m));
	m.family = AF_INET6;
	m.a[10] = m.a[11] = 0xff;
	memcpy(m.a + 12, a->a, 4);
	sm = wd_egress_special(&m);
	if ((s == NULL) != (sm == NULL) || (s != NULL && strcmp(s, sm) != 0))
		abort();
}

static void check_target(const struct wd_egress *e, const uint8_t *host, size_t len, uint8_t flags,
			 uint16_t port, const uint8_t addr[16])
{
	struct wd_egress_target t, again;
	struct wd_egress_verdict v;
	struct wd_egress_addr a;
	const struct wd_egress_addr *pin;
	struct wd_err err;

	wd_err_clear(&err);
	memset(&a, 0, sizeof(a));
	a.family = (flags & 2) ? AF_INET6 : AF_INET;
	memcpy(a.a, addr, (flags & 2) ? 16 : 4);
	check_special(&a);
	if (wd_egress_target_parse((const char *)host, len, flags & 1, port, &t, &err) < 0) {
		if (err.code != EINVAL || strncmp(err.msg, "not a host name", 15) != 0)
			abort();
		return;
	}
	if (wd_egress_target_parse(t.name, strlen(t.name), false, port, &again, &err) < 0 ||
	    again.literal != t.literal || strcmp(again.name, t.name) != 0)
		abort();
	if (t.literal && memcmp(&again.addr, &t.addr, sizeof(t.addr)) != 0)
		abort();
	if (!t.literal && !normalised(t.name))
		abort();
	wd_egress_check_request(e, &t, &v);
	check_verdict(e, &t, NULL, &v);
	if (t.literal) {
		struct wd_egress_verdict v2;

		wd_egress_check_addr(e, &t, &t.addr, &v2);
		check_verdict(e, &t, &t.addr, &v2);
		if (v.reason != v2.reason || v.allow_rule != v2.allow_rule ||
		    v.deny_rule != v2.deny_rule || v.special != v2.special)
			abort();
		return;
	}
	wd_egress_check_addr(e, &t, &a, &v);
	check_verdict(e, &t, &a, &v);
	if ((pin = wd_egress_pinned(e, t.name)) != NULL) {
		wd_egress_check_addr(e, &t, pin, &v);
		check_verdict(e, &t, pin, &v);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t jlen = nul != NULL ? (size_t)(nul - data) : size, at;
	struct wd_egress e;
	struct wd_err err;
	cJSON *root;
	int rc;

	wd_err_clear(&err);
	root = wd_json_parse_object(data, jlen, SECTION_MAX, "egress", &err);
	if (root == NULL) {
		wd_egress_defaults(&e); /* no section: every check says so */
	} else {
		rc = wd_egress_read(root, &e, &err);
		cJSON_Delete(root);
		if (rc < 0) {
			if (err.code <= 0 || -rc != err.code ||
			    strncmp(err.msg, "policy: egress", 14) != 0 || !is_defaults(&e))
				abort();
		} else {
			check_section(&e);
		}
	}
	at = nul != NULL ? jlen + 1 : size;
	for (int n = 0; n < MAX_TARGETS && at + 4 <= size; n++) {
		uint8_t flags = data[at];
		uint16_t port = (uint16_t)(data[at + 1] << 8 | data[at + 2]);
		size_t len = data[at + 3];
		uint8_t addr[16] = {0};

		at += 4;
		if (len > size - at)
			len = size - at;
		const uint8_t *host = data + at;
		at += len;
		memcpy(addr, data + at, size - at < 16 ? size - at : 16);
		at += size - at < 16 ? size - at : 16;
		check_target(&e, host, len, flags, port, addr);
	}
	wd_egress_free(&e);
	return 0;
}
