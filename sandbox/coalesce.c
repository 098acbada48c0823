/* sandbox/coalesce.c - see coalesce.h. */
#include "coalesce.h"

#include <stdio.h>
#include <string.h>

#include "../common/clock.h"

void sup_coalesce_init(struct sup_coalesce *c, uint64_t interval_ms)
{
	memset(c, 0, sizeof(*c));
	c->interval_ns = interval_ms * WD_NS_PER_MS;
}

/* Identical: what the record says is the same (the notification's id and
 * the name, which follows from ABI and number, aside); for a network
 * bypass also the address it named, which the arguments only point at. */
static bool same(const struct sup_sb_denial *a, const struct sup_sb_denial *b)
{
	const struct sup_sb_bypass *x = &a->bypass, *y = &b->bypass;

	if (a->net_bypass != b->net_bypass ||
	    (a->net_bypass &&
	     (strcmp(x->family, y->family) != 0 || strcmp(x->address, y->address) != 0 ||
	      x->port != y->port || x->has_port != y->has_port)))
		return false;
	return a->pid == b->pid && a->nr == b->nr && a->err == b->err &&
	       strcmp(a->abi, b->abi) == 0 && memcmp(a->args, b->args, sizeof(a->args)) == 0;
}

static struct sup_coalesce_slot *find(struct sup_coalesce *c, const struct sup_sb_denial *d)
{
	for (size_t i = 0; i < SUP_COALESCE_SLOTS; i++)
		if (c->slot[i].used && same(&c->slot[i].key, d))
			return &c->slot[i];
	return NULL;
}

/* The slot's count as one record; the count is kept if that fails. */
static int emit_count(struct sup_coalesce *c, struct sup_coalesce_slot *s, sup_coalesce_emit emit,
		      void *ctx)
{
	int rc;

	if (s->n.count == 0)
		return 0;
	rc = emit(ctx, &s->key, &s->n);
	if (rc < 0)
		return rc;
	c->recorded += s->n.count;
	memset(&s->n, 0, sizeof(s->n));
	return 0;
}

/* A free slot, or the one whose interval ends first, flushed and freed. */
static int take_slot(struct sup_coalesce *c, sup_coalesce_emit emit, void *ctx,
		     struct sup_coalesce_slot **out)
{
	struct sup_coalesce_slot *oldest = &c->slot[0];
	int rc;

	for (size_t i = 0; i < SUP_COALESCE_SLOTS; i++) {
		if (!c->slot[i].used) {
			*out = &c->slot[i];
			return 0;
		}
		if (c->slot[i].due_ns < oldest->due_ns)
			oldest = &c->slot[i];
	}
	rc = emit_count(c, oldest, emit, ctx);
	if (rc < 0)
		return rc;
	oldest->used = false;
	*out = oldest;
	return 0;
}

int sup_coalesce_add(struct sup_coalesce *c, const struct sup_sb_denial *d, uint64_t now_ns,
		     uint64_t now_ms, sup_coalesce_emit emit, void *ctx)
{
	struct sup_coalesce_slot *s = find(c, d);
	int rc;

	if (s != NULL) {
		if (s->n.count == 0)
			s->n.first_ms = now_ms;
		s->n.count++;
		s->n.last_ms = now_ms;
		c->given++;
		return 0;
	}
	rc = take_slot(c, emit, ctx, &s);
	if (rc == 0)
		rc = emit(ctx, d, NULL);
	if (rc < 0)
		return rc;
	c->given++;
	c->recorded++;
	memset(s, 0, sizeof(*s));
	s->key = *d;
	(void)snprintf(s->name, sizeof(s->name), "%s", d->name != NULL ? d->name : "?");
	s->key.name = s->name;
	s->due_ns = now_ns + c->interval_ns;
	s->used = true;
	return 0;
}

int sup_coalesce_flush(struct sup_coalesce *c, uint64_t now_ns, bool all, sup_coalesce_emit emit,
		       void *ctx)
{
	for (size_t i = 0; i < SUP_COALESCE_SLOTS; i++) {
		struct sup_coalesce_slot *s = &c->slot[i];
		bool due = s->used && now_ns >= s->due_ns;
		int rc;

		if (!s->used || !(all || due))
			continue;
		if (due && s->n.count == 0) {
			s->used = false; /* a quiet interval: forgotten */
			continue;
		}
		rc = emit_count(c, s, emit, ctx);
		if (rc < 0)
			return rc;
		if (due)
			s->due_ns = now_ns + c->interval_ns;
	}
	return 0;
}

uint64_t sup_coalesce_next_ns(const struct sup_coalesce *c)
{
	uint64_t next = 0;

	for (size_t i = 0; i < SUP_COALESCE_SLOTS; i++)
		if (c->slot[i].used && (next == 0 || c->slot[i].due_ns < next))
			next = c->slot[i].due_ns;
	return next;
}

uint64_t sup_coalesce_pending(const struct sup_coalesce *c)
{
	uint64_t n = 0;

	for (size_t i = 0; i < SUP_COALESCE_SLOTS; i++)
		if (c->slot[i].used)
			n += c->slot[i].n.count;
	return n;
}
