/* escape clock_settime: clock_settime(2): move the clock every log relies on. */
#include <time.h>

#include "escape.h"

int main(int argc, char **argv)
{
	struct timespec ts = {0, 0};
	(void)argc;
	escape_start(argv[0]);
	DENIED("clock_settime", EPERM, SYS_clock_settime, 0 /* CLOCK_REALTIME */, &ts);
}
