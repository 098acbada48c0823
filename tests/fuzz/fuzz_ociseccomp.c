/*
 * tests/fuzz/fuzz_ociseccomp.c - sandbox/ociseccomp.c on arbitrary bytes.
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message; an accepted profile respects every bound of the header.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../sandbox/ociseccomp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sup_sc_profile p;
	struct wd_err err;

	if (sup_sc_parse(data, size, "6.1.0", &p, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || p.groups != NULL)
			abort();
		return 0;
	}
	if (p.n_groups + p.dropped > SUP_SC_MAX_GROUPS || p.n_arches > SUP_SC_MAX_ARCHES)
		abort();
	for (size_t i = 0; i < p.n_groups; i++) {
		const struct sup_sc_group *g = &p.groups[i];

		if (g->n_names == 0 || g->n_names > SUP_SC_MAX_NAMES || g->n_args > SUP_SC_MAX_ARGS)
			abort();
		for (size_t j = 0; j < g->n_names; j++)
			if (strlen(g->names[j]) == 0 || strlen(g->names[j]) > SUP_SC_NAME_MAX)
				abort();
		for (size_t j = 0; j < g->n_args; j++)
			if (g->args[j].index >= SUP_SC_MAX_ARGS)
				abort();
	}
	sup_sc_free(&p);
	return 0;
}
