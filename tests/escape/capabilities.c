/* escape capabilities: any capability left in any set, or a way to get one
 * back (capset, ambient raise, securebits, setuid to root). */
#include <linux/capability.h>
#include <linux/securebits.h>
#include <sys/prctl.h>

#include "escape.h"

int main(int argc, char **argv)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	char buf[4096], *p;
	ssize_t n;
	int fd;

	(void)argc;
	escape_start(argv[0]);
	fd = open("/proc/self/status", O_RDONLY);
	n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (n <= 0)
		escaped("cannot read /proc/self/status (cannot test)");
	buf[n] = '\0';
	for (p = strstr(buf, "\nCap"); p != NULL; p = strstr(p + 1, "\nCap"))
		if (strncmp(strchr(p, ':') + 2, "0000000000000000", 16) != 0)
			escaped("a capability set is not empty: %.30s", p + 1);
	memset(d, 0, sizeof(d));
	d[0].effective = d[0].permitted = 1U << CAP_SYS_ADMIN;
	must_fail(syscall(SYS_capset, &h, d), EPERM, "capset(CAP_SYS_ADMIN)");
	must_fail(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_RAW, 0, 0), 0,
		  "ambient raise");
	must_fail(prctl(PR_SET_SECUREBITS, 0UL, 0UL, 0UL, 0UL), EPERM, "clear securebits");
	must_fail(setuid(0), EPERM, "setuid(0)");
	must_fail(setgid(0), EPERM, "setgid(0)");
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		escaped("no_new_privs is not set");
	blocked("every capability set empty; capset, ambient, securebits, setuid(0): refused");
}
