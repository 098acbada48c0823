/*
 * init/system.c - the last pieces of a working guest: loopback up, the host
 * name, and whether the kernel's random number generator is ready.
 *
 * The wall clock is not set here: the supervisor sets it from the job the
 * host sends (the host's clock is the only one worth trusting), with
 * clock_settime(CLOCK_REALTIME) when it is off by more than a second.
 */
#include <errno.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/log.h"
#include "init.h"

static int loopback_up(struct wd_err *err)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return wd_err_sys(err, errno, "loopback: socket");
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, "lo", 3);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "loopback: SIOCGIFFLAGS");
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0) {
		int e = errno;

		(void)close(fd);
		return wd_err_sys(err, e, "loopback: SIOCSIFFLAGS");
	}
	(void)close(fd);
	wd_info("loopback: up");
	return 0;
}

static void crng_report(void)
{
	unsigned char byte;
	ssize_t n = getrandom(&byte, sizeof(byte), GRND_NONBLOCK);

	if (n == (ssize_t)sizeof(byte))
		wd_info("crng: ready");
	else if (n < 0 && errno == EAGAIN)
		wd_warn("crng: not ready yet; key generation will wait for it");
	else if (n < 0)
		wd_warn_sys(errno, "crng: getrandom");
	else
		wd_warn("crng: getrandom: short read");
}

int init_system_setup(const struct init_config *cfg, struct wd_err *err)
{
	if (loopback_up(err) < 0)
		return -err->code;
	if (sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return wd_err_sys(err, errno, "sethostname %s", cfg->hostname);
	wd_info("hostname: %s", cfg->hostname);
	crng_report();
	return 0;
}
