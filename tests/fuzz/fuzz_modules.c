/*
 * tests/fuzz/fuzz_modules.c - init_modules_parse() on arbitrary bytes.
 *
 * The module list comes from the image; PID 1 turns each line into a path
 * under /lib/modules/VERSION and hands it to finit_module(). Beyond "no
 * crash, no undefined behaviour, no read past `size`", every path handed
 * on must keep the promise of init.h: relative, printable, no ".."
 * component, a one-component version given once before any module, at
 * most INIT_MODULES_MAX modules. A path named "fail.ko" makes the callback
 * fail, to check that its error comes back unchanged.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../init/init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
	const char *c = p;

	if (p[0] == '/' || p[0] == '\0')
		abort();
	for (const char *s = p; *s != '\0'; s++) {
		if (*s < 0x21 || *s > 0x7e)
			abort();
	}
	/* Every component, split on '/': none is "..". */
	while (c != NULL) {
		const char *slash = strchr(c, '/');
		size_t n = slash != NULL ? (size_t)(slash - c) : strlen(c);

		if (n == 2 && c[0] == '.' && c[1] == '.')
			abort();
		c = slash != NULL ? slash + 1 : NULL;
	}
}

struct seen {
	unsigned versions, modules;
};

static int check_kver(const char *kver, void *ctx, struct wd_err *err)
{
	struct seen *s = ctx;

	(void)err;
	check_path(kver);
	if (strchr(kver, '/') != NULL || s->versions++ != 0 || s->modules != 0)
		abort();
	return 0;
}

static int check_module(const char *kver, const char *relpath, void *ctx, struct wd_err *err)
{
	struct seen *s = ctx;

	if (s->versions != 1)
		abort();
	check_path(kver);
	check_path(relpath);
	if (++s->modules > INIT_MODULES_MAX)
		abort();
	if (strcmp(relpath, "fail.ko") == 0)
		return wd_err_set(err, ENOEXEC, "refused");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen seen = {0, 0};
	struct wd_err err;
	int rc;

	wd_err_clear(&err);
	rc = init_modules_parse((const char *)data, size, check_kver, check_module, &seen, &err);
	if (rc < 0 && (err.code != -rc || err.msg[0] == '\0'))
		abort();
	if (rc == -ENOEXEC && strcmp(err.msg, "refused") != 0)
		abort();
	return 0;
}
