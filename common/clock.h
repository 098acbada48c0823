/* common/clock.h - monotonic time in nanoseconds, for timings and deadlines;
 * the wall clock in milliseconds, for records. */
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

/* CLOCK_REALTIME in ms since the epoch (0 before it): what records carry. */
static inline uint64_t wd_wall_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

#endif
