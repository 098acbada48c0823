/*
 * tests/fuzz/fuzz_job.c - wd_job_decode() on arbitrary bytes: the JOB
 * payload, the largest structure the guest takes from the host.
 *
 * Beyond "no crash, no undefined behaviour, no leak": an error has a code
 * and a message and leaves the job empty; a job that decodes lies within
 * the arena, encodes again (it satisfies the encoder's rules too), and
 * that encoding decodes to the same job.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vsock/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define OUT_BYTES (WD_FRAME_MAX_PAYLOAD + 64)

static uint8_t *arena1, *arena2;
static char *out;

static bool in_arena(const void *p, const uint8_t *arena)
{
	return (const uint8_t *)p >= arena && (const uint8_t *)p < arena + WD_JOB_ARENA_BYTES;
}

static bool strings_equal(const char *const *a, const char *const *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return a[n] == NULL && b[n] == NULL;
}

static void check_in_arena(const struct wd_job *j)
{
	if (!in_arena(j->argv, arena1) || !in_arena(j->env, arena1) || !in_arena(j->cwd, arena1) ||
	    !in_arena(j->policy, arena1))
		abort();
	for (size_t i = 0; i < j->argc; i++)
		if (!in_arena(j->argv[i], arena1))
			abort();
	for (size_t i = 0; i < j->nfiles; i++)
		if (!in_arena(j->files[i].name, arena1))
			abort();
}

static bool same_job(const struct wd_job *a, const struct wd_job *b)
{
	if (a->argc != b->argc || a->envc != b->envc || a->nfiles != b->nfiles ||
	    !strings_equal(a->argv, b->argv, a->argc) || !strings_equal(a->env, b->env, a->envc) ||
	    strcmp(a->cwd, b->cwd) != 0 || strcmp(a->policy, b->policy) != 0 ||
	    a->timeout_ms != b->timeout_ms || a->tty != b->tty || a->rows != b->rows ||
	    a->cols != b->cols || a->clock_realtime_ns != b->clock_realtime_ns ||
	    a->mem_mib != b->mem_mib)
		return false;
	for (size_t i = 0; i < a->nfiles; i++)
		if (strcmp(a->files[i].name, b->files[i].name) != 0 ||
		    a->files[i].mode != b->files[i].mode || a->files[i].size != b->files[i].size ||
		    strcmp(a->files[i].sha256, b->files[i].sha256) != 0)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_job job, again;
	struct wd_err err;
	int n;

	if (arena1 == NULL) {
		arena1 = malloc(WD_JOB_ARENA_BYTES);
		arena2 = malloc(WD_JOB_ARENA_BYTES);
		out = malloc(OUT_BYTES);
		if (arena1 == NULL || arena2 == NULL || out == NULL)
			abort();
	}
	if (wd_job_decode(data, size, &job, arena1, WD_JOB_ARENA_BYTES, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || job.argv != NULL || job.argc != 0)
			abort();
		return 0;
	}
	check_in_arena(&job);
	n = wd_job_encode(&job, out, OUT_BYTES, &err);
	if (n < 0)
		abort();
	if (wd_job_decode((const uint8_t *)out, (size_t)n, &again, arena2, WD_JOB_ARENA_BYTES,
			  &err) < 0 ||
	    !same_job(&job, &again))
		abort();
	return 0;
}
