/* escape syslog: syslog(2): read the kernel log (addresses, other jobs' traces). */
#include "escape.h"

int main(int argc, char **argv)
{
	static char buf[512];
	(void)argc;
	escape_start(argv[0]);
	DENIED("syslog", EPERM, SYS_syslog, 3 /* SYSLOG_ACTION_READ_ALL */, buf, 512);
}
