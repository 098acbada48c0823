/*
 * tests/fuzz/fuzz_cpio.c - the newc reader (host/cpio.c) on arbitrary
 * bytes, as `warden image build --base` and wd_image_policy() take them
 * (decompressed).
 *
 * Beyond "no crash, no undefined behaviour, no leak": a refusal has a code
 * and a message; an accepted archive, written again by wd_cpio_write and
 * read back, has the same entries (names, types, modes, data), and
 * writing that one again gives the same bytes (the writer's form is a
 * fixed point). Seeds: tests/fuzz/corpus/fuzz_cpio (small archives made
 * by GNU cpio and by the writer).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../host/cpio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The archive `c` as written, malloc'd. */
static uint8_t *write_out(const struct wd_cpio *c, size_t *len)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	struct wd_err err;
	uint8_t *buf = NULL;
	off_t end;

	if (fd < 0)
		abort();
	if (wd_cpio_write(c, 1, fd, &err) < 0)
		abort();
	end = lseek(fd, 0, SEEK_END);
	if (end <= 0 || (buf = malloc((size_t)end)) == NULL ||
	    pread(fd, buf, (size_t)end, 0) != end)
		abort();
	(void)close(fd);
	*len = (size_t)end;
	return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wd_cpio c, r, r2;
	struct wd_err err;
	uint8_t *a, *b;
	size_t alen, blen;

	if (wd_cpio_parse(data, size, &c, &err) < 0) {
		if (err.code <= 0 || err.msg[0] == '\0' || c.n != 0)
			abort();
		return 0;
	}
	wd_cpio_sort(&c);
	a = write_out(&c, &alen);
	if (wd_cpio_parse(a, alen, &r, &err) < 0 || r.n != c.n)
		abort();
	for (size_t i = 0; i < c.n; i++)
		if (strcmp(r.e[i].name, c.e[i].name) != 0 || r.e[i].mode != c.e[i].mode ||
		    r.e[i].size != c.e[i].size || r.e[i].mtime != 1 ||
		    (c.e[i].size > 0 && memcmp(r.e[i].data, c.e[i].data, c.e[i].size) != 0))
			abort();
	b = write_out(&r, &blen);
	if (blen != alen || memcmp(a, b, alen) != 0 || wd_cpio_parse(b, blen, &r2, &err) < 0)
		abort();
	wd_cpio_free(&r2);
	wd_cpio_free(&r);
	wd_cpio_free(&c);
	free(a);
	free(b);
	return 0;
}
