/* common/boottimes.c - see boottimes.h. */
#include "boottimes.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

static const char *const field_names[] = {"t0", "mounts", "modules", "sysctls", "system", "spawn"};
#define FIELD_COUNT (sizeof(field_names) / sizeof(field_names[0]))

static uint64_t *field_ptr(struct wd_boot_times *t, size_t i)
{
	uint64_t *fields[FIELD_COUNT] = {&t->t0_ns,      &t->mounts_ns, &t->modules_ns,
					 &t->sysctls_ns, &t->system_ns, &t->spawn_ns};

	return fields[i];
}

int wd_boot_times_format(const struct wd_boot_times *t, char *buf, size_t size)
{
	int n = snprintf(buf, size,
			 "t0=%" PRIu64 ",mounts=%" PRIu64 ",modules=%" PRIu64 ",sysctls=%" PRIu64
			 ",system=%" PRIu64 ",spawn=%" PRIu64,
			 t->t0_ns, t->mounts_ns, t->modules_ns, t->sysctls_ns, t->system_ns,
			 t->spawn_ns);

	return (n < 0 || (size_t)n >= size) ? -ENOSPC : 0;
}

int wd_boot_times_parse(const char *s, struct wd_boot_times *t, struct wd_err *err)
{
	char copy[WD_BOOT_TIMES_BYTES];
	char *cursor = copy, *item;
	size_t i = 0, len = strlen(s);

	if (len >= sizeof(copy))
		return wd_err_set(err, E2BIG, "%s over %d bytes", WD_BOOT_TIMES_ENV,
				  WD_BOOT_TIMES_BYTES - 1);
	memcpy(copy, s, len + 1);
	while ((item = strsep(&cursor, ",")) != NULL) {
		size_t name_len;

		if (i >= FIELD_COUNT)
			return wd_err_set(err, EINVAL, "%s: unexpected field '%s'",
					  WD_BOOT_TIMES_ENV, item);
		name_len = strlen(field_names[i]);
		if (strncmp(item, field_names[i], name_len) != 0 || item[name_len] != '=')
			return wd_err_set(err, EINVAL, "%s: expected field '%s'", WD_BOOT_TIMES_ENV,
					  field_names[i]);
		if (wd_parse_u64(item + name_len + 1, 0, UINT64_MAX, field_ptr(t, i), err) < 0)
			return wd_err_wrap(err, "%s: %s", WD_BOOT_TIMES_ENV, field_names[i]);
		i++;
	}
	if (i != FIELD_COUNT)
		return wd_err_set(err, EINVAL, "%s: missing field '%s'", WD_BOOT_TIMES_ENV,
				  field_names[i]);
	return 0;
}
