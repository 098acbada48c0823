/* escape memory_bomb: take all the guest's memory. The cgroup's memory.max
 * makes the kernel OOM-kill it (reported by warden); where cgroups are off,
 * RLIMIT_AS refuses the allocation.
 * escape-job: own
 * escape-expect: verdict-or-oom
 * escape-local-policy: "rlimits": {"as_mib": 512} */
#include <sys/mman.h>

#include "escape.h"

#define CHUNK (16 << 20)
#define LIMIT_MIB 65536L

int main(int argc, char **argv)
{
	long mib = 0;

	(void)argc;
	escape_start(argv[0]);
	for (; mib < LIMIT_MIB; mib += CHUNK >> 20) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1,
			       0);

		if (p == MAP_FAILED) {
			if (errno != ENOMEM)
				escaped("mmap: %s", strerror(errno));
			blocked("allocation refused at %ld MiB (ENOMEM)", mib);
		}
		memset(p, 0x5a, CHUNK);
	}
	escaped("%ld MiB allocated and touched", LIMIT_MIB);
}
