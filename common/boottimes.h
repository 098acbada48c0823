/*
 * common/boottimes.h - init's boot timings, handed to the supervisor.
 *
 * warden-init measures each boot phase from its first instruction and
 * passes them in the environment variable WARDEN_BOOT_TIMES of the
 * supervisor; the supervisor adds the moment it is ready and reports the
 * whole in its hello to the host. All values are CLOCK_MONOTONIC
 * nanoseconds, which in a microVM count from the kernel's start, so `t0`
 * is also the kernel's own boot time.
 *
 * Format: "t0=<ns>,mounts=<ns>,modules=<ns>,sysctls=<ns>,system=<ns>,spawn=<ns>"
 * where t0 is an absolute timestamp and every other field a duration.
 * At most WD_BOOT_TIMES_BYTES long.
 */
#ifndef WARDEN_COMMON_BOOTTIMES_H
#define WARDEN_COMMON_BOOTTIMES_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WD_BOOT_TIMES_ENV "WARDEN_BOOT_TIMES"
#define WD_BOOT_TIMES_BYTES 256

struct wd_boot_times {
	uint64_t t0_ns;      /* init's first instruction, CLOCK_MONOTONIC */
	uint64_t mounts_ns;  /* console, early mounts */
	uint64_t modules_ns; /* kernel modules loaded and locked */
	uint64_t sysctls_ns; /* hardening sysctls and lockdown */
	uint64_t system_ns;  /* loopback, host name, CRNG check */
	uint64_t spawn_ns;   /* fork until the supervisor's exec */
};

/* Render into buf (size >= WD_BOOT_TIMES_BYTES). Returns 0 or -ENOSPC. */
int wd_boot_times_format(const struct wd_boot_times *t, char *buf, size_t size);

/* Parse the format above; every field is required, order as written. */
int wd_boot_times_parse(const char *s, struct wd_boot_times *t, struct wd_err *err);

#endif
