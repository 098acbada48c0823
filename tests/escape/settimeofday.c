/* escape settimeofday: settimeofday(2): move the clock. */
#include "escape.h"

int main(int argc, char **argv)
{
	struct {
		long s, us;
	} tv = {0, 0};
	(void)argc;
	escape_start(argv[0]);
	DENIED("settimeofday", EPERM, SYS_settimeofday, &tv, NULL);
}
