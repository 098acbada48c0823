/* escape fill_tmp: fill /tmp (and /dev/shm) past their size caps, to eat
 * the guest's memory. */
#include <signal.h>

#include "escape.h"

#define LIMIT_MIB 4096L /* far beyond any cap: reaching it is the escape */

int main(int argc, char **argv)
{
	long tmp, shm;

	(void)argc;
	escape_start(argv[0]);
	(void)signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: EFBIG, not death */
	tmp = fill_until_full("/tmp/escape-fill", LIMIT_MIB);
	shm = fill_until_full("/dev/shm/escape-fill", LIMIT_MIB);
	blocked("/tmp full at %ld MiB, /dev/shm at %ld MiB (ENOSPC)", tmp, shm);
}
