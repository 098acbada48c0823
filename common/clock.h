/* common/clock.h - monotonic time in nanoseconds, for timings and deadlines. */
#ifndef WARDEN_COMMON_CLOCK_H
#define WARDEN_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

#define WD_NS_PER_MS 1000000ULL
#define WD_NS_PER_SEC 1000000000ULL

/* CLOCK_MONOTONIC in ns: time since boot, excluding suspend (a VM does not suspend). */
static inline uint64_t wd_mono_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * WD_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

#endif
