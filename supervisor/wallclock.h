/*
 * supervisor/wallclock.h - the guest's wall clock, set from the host's.
 *
 * A microVM starts with whatever time its virtual RTC gave the kernel; the
 * job carries the host's CLOCK_REALTIME at the moment it was sent, and the
 * host's clock is the one worth trusting (TLS certificates, audit
 * timestamps). In namespace mode the clock is the host's own and is never
 * touched.
 */
#ifndef WARDEN_SUPERVISOR_WALLCLOCK_H
#define WARDEN_SUPERVISOR_WALLCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "../common/err.h"

#define SUP_CLOCK_MAX_SKEW_NS 1000000000ULL /* 1 s: closer than this is left alone */

/* Whether the two readings differ by more than max_skew_ns, either way. */
bool sup_clock_off(uint64_t host_ns, uint64_t guest_ns, uint64_t max_skew_ns);

/*
 * Compare CLOCK_REALTIME with the host's reading; when it is off by more
 * than SUP_CLOCK_MAX_SKEW_NS and `may_set` (a VM), set it and log the step;
 * otherwise log that it was left alone. A host reading of 0 means none was
 * sent. Returns 0, or -errno if clock_settime failed.
 */
int sup_clock_sync(uint64_t host_ns, bool may_set, struct wd_err *err);

#endif
