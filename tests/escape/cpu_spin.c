/* escape cpu_spin: spin on the CPU past the job's deadline.
 * escape-job: own
 * escape-timeout: 3s
 * escape-expect: timeout */
#include "escape.h"

int main(int argc, char **argv)
{
	volatile unsigned long n = 0;

	(void)argc;
	escape_start(argv[0]);
	for (;;)
		n++;
}
