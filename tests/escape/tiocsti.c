/* escape tiocsti: push input into the terminal, to be run by whoever reads
 * it next (the supervisor's side of a PTY); the high 32 bits of the request
 * must not hide it. */
#include <sys/ioctl.h>

#include "escape.h"

int main(int argc, char **argv)
{
	char c = 'x';
	long rc;

	(void)argc;
	escape_start(argv[0]);
	expect_record("ioctl");
	rc = syscall(SYS_ioctl, 0, (unsigned long)TIOCSTI, &c);
	errno = rc < 0 ? errno : 0;
	must_fail(rc, EPERM, "ioctl(TIOCSTI)");
	rc = syscall(SYS_ioctl, 0, (1UL << 32) | (unsigned long)TIOCSTI, &c);
	must_fail(rc, EPERM, "ioctl(TIOCSTI | 1 << 32)");
	rc = syscall(SYS_ioctl, 0, (unsigned long)TIOCLINUX, &c);
	must_fail(rc, EPERM, "ioctl(TIOCLINUX)");
	blocked("TIOCSTI and TIOCLINUX: EPERM, whatever the high bits");
}
