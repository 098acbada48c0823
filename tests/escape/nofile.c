/* escape nofile: open 100,000 files, to exhaust the kernel's file table. */
#include "escape.h"

#define WANT 100000

int main(int argc, char **argv)
{
	int n = 0;

	(void)argc;
	escape_start(argv[0]);
	for (; n < WANT; n++)
		if (open("/dev/null", O_RDONLY) < 0)
			break;
	if (n >= WANT)
		escaped("%d files open", n);
	if (errno != EMFILE)
		escaped("stopped by %s, not RLIMIT_NOFILE", strerror(errno));
	blocked("EMFILE after %d files", n);
}
