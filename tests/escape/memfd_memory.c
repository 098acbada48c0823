/* escape memfd_memory: hold memory no rlimit counts: 512 MiB written into
 * a memfd and never mapped (RLIMIT_AS counts mappings; a memfd's pages,
 * like SysV shm, pipe buffers and the page cache, are not). The cgroup's
 * memory.max stops it (an OOM kill, or the write refused). Where the
 * policy turned the cgroup off (local mode on a host without cgroup2
 * controllers) nothing does: that is a documented limit, and the job's
 * layer-off record must say so.
 * escape-job: own
 * escape-expect: verdict-or-oom
 * escape-local-policy: "rlimits": {"as_mib": 64}
 * escape-local-cgroup: "memory_mib": 256
 * escape-weakened: memory bound not enforced */
#include <sys/mman.h>

#include "escape.h"

#define CHUNK (1 << 20)
#define HOLD_MIB 512L

int main(int argc, char **argv)
{
	static char chunk[CHUNK];
	int fd;

	(void)argc;
	escape_start(argv[0]);
	fd = memfd_create("escape-hold", MFD_CLOEXEC);
	if (fd < 0)
		escaped("memfd_create: %s (cannot test)", strerror(errno));
	memset(chunk, 0x5a, sizeof(chunk));
	for (long held = 0; held < HOLD_MIB * CHUNK;) {
		ssize_t n = write(fd, chunk, sizeof(chunk));

		if (n < 0 && (errno == ENOMEM || errno == ENOSPC))
			blocked("the memfd refused at %ld MiB (%s)", held / CHUNK, strerror(errno));
		if (n <= 0)
			escaped("write at %ld MiB: %s", held / CHUNK,
				n < 0 ? strerror(errno) : "0");
		held += n; /* a short write: the next one says why */
	}
	escaped("%ld MiB held in a memfd", HOLD_MIB);
}
