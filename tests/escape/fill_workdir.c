/* escape fill_workdir: fill the working directory past its cap.
 * escape-job: own (in the microVM the memory limit may stop it first: an
 * OOM kill of the writer is a failed escape too)
 * escape-expect: verdict-or-oom */
#include <signal.h>

#include "escape.h"

#define CHUNK (1 << 20)
#define LIMIT_MIB 4096 /* far beyond any cap: reaching it is the escape */

int main(int argc, char **argv)
{
	static char chunk[CHUNK];
	int fd;
	long mib = 0;

	(void)argc;
	escape_start(argv[0]);
	(void)signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: EFBIG, not death */
	fd = open("escape-fill", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		escaped("open: %s (cannot test)", strerror(errno));
	memset(chunk, 'x', sizeof(chunk));
	for (; mib < LIMIT_MIB; mib++) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n > 0 && n < (ssize_t)sizeof(chunk))
			continue; /* the last bytes that fit; the next write says why */
		if (n < (ssize_t)sizeof(chunk)) {
			if (n >= 0 || (errno != ENOSPC && errno != EFBIG))
				escaped("stopped by %s, not the cap",
					n >= 0 ? "a short write" : strerror(errno));
			break;
		}
	}
	(void)close(fd);
	(void)unlink("escape-fill");
	if (mib >= LIMIT_MIB)
		escaped("the working directory took %d MiB", LIMIT_MIB);
	blocked("working directory full at %ld MiB (%s)", mib, "ENOSPC or EFBIG");
}
