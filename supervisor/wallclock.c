/* supervisor/wallclock.c - setting the guest's wall clock (see wallclock.h). */
#include "wallclock.h"

#include <errno.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/log.h"

bool sup_clock_off(uint64_t host_ns, uint64_t guest_ns, uint64_t max_skew_ns)
{
	uint64_t diff = host_ns > guest_ns ? host_ns - guest_ns : guest_ns - host_ns;

	return diff > max_skew_ns;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec < 0)
		return 0;
	return (uint64_t)ts.tv_sec * WD_NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

int sup_clock_sync(uint64_t host_ns, bool may_set, struct wd_err *err)
{
	uint64_t guest_ns = realtime_ns();
	double off_s = ((double)guest_ns - (double)host_ns) / 1e9;
	const char *how = off_s < 0 ? "behind" : "ahead of";
	struct timespec ts;

	if (host_ns == 0) {
		wd_warn("clock: the job carries no host time; left as it is");
		return 0;
	}
	if (!sup_clock_off(host_ns, guest_ns, SUP_CLOCK_MAX_SKEW_NS)) {
		wd_debug("clock: %.3f s %s the host's: within 1 s", off_s < 0 ? -off_s : off_s,
			 how);
		return 0;
	}
	if (!may_set) {
		wd_info("clock: %.3f s %s the host's; left alone (namespace mode: it is the "
			"host's own clock)",
			off_s < 0 ? -off_s : off_s, how);
		return 0;
	}
	ts.tv_sec = (time_t)(host_ns / WD_NS_PER_SEC);
	ts.tv_nsec = (long)(host_ns % WD_NS_PER_SEC);
	if (clock_settime(CLOCK_REALTIME, &ts) < 0)
		return wd_err_sys(err, errno, "clock: clock_settime");
	wd_info("clock: was %.3f s %s the host's; set to the host's time",
		off_s < 0 ? -off_s : off_s, how);
	return 0;
}
