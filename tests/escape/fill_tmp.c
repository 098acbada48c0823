/* escape fill_tmp: fill /tmp (and /dev/shm) past their size caps, to eat
 * the guest's memory. */
#include <signal.h>

#include "escape.h"

#define CHUNK (1 << 20)
#define LIMIT_MIB 4096 /* far beyond any cap: reaching it is the escape */

static long fill(const char *path)
{
	static char chunk[CHUNK];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long mib = 0;

	if (fd < 0)
		escaped("open %s: %s (cannot test)", path, strerror(errno));
	memset(chunk, 'x', sizeof(chunk));
	for (; mib < LIMIT_MIB; mib++) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n > 0 && n < (ssize_t)sizeof(chunk))
			continue; /* the last bytes that fit; the next write says why */
		if (n < (ssize_t)sizeof(chunk)) {
			if (n >= 0 || (errno != ENOSPC && errno != EFBIG))
				escaped("%s: stopped by %s, not the cap", path,
					n >= 0 ? "a short write" : strerror(errno));
			break;
		}
	}
	(void)close(fd);
	(void)unlink(path);
	if (mib >= LIMIT_MIB)
		escaped("%s took %d MiB", path, LIMIT_MIB);
	return mib;
}

int main(int argc, char **argv)
{
	long tmp, shm;

	(void)argc;
	escape_start(argv[0]);
	(void)signal(SIGXFSZ, SIG_IGN); /* RLIMIT_FSIZE: EFBIG, not death */
	tmp = fill("/tmp/escape-fill");
	shm = fill("/dev/shm/escape-fill");
	blocked("/tmp full at %ld MiB, /dev/shm at %ld MiB (ENOSPC)", tmp, shm);
}
