/* escape fill_workdir: fill the working directory past its cap.
 * escape-job: own (in the microVM the memory limit may stop it first: an
 * OOM kill of the writer is a failed escape too)
 * escape-expect: verdict-or-oom */
#include <signal.h>

#include "escape.h"

#define LIMIT_MIB 4096L /* far beyond any cap: reaching it is the escape */

int main(int argc, char **argv)
{
	long mib;

	(void)argc;
	escape_start(argv[0]);
	(void)signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: EFBIG, not death */
	mib = fill_until_full("escape-fill", LIMIT_MIB);
	blocked("working directory full at %ld MiB (%s)", mib, "ENOSPC or EFBIG");
}
