/* escape proc_init: PID 1's /proc entries (memory, environment, root, exe,
 * fds): the sandbox's init is root and not dumpable. */
#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const paths[] = {"/proc/1/mem", "/proc/1/environ", "/proc/1/fd/3",
					    "/proc/1/root/proc/1/root", "/proc/1/maps"};
	char buf[64];

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int fd = open(paths[i], O_RDONLY);

		if (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			escaped("read %s", paths[i]);
		if (fd >= 0)
			(void)close(fd);
	}
	if (readlink("/proc/1/exe", buf, sizeof(buf)) >= 0)
		escaped("readlink /proc/1/exe");
	if (open("/proc/1/mem", O_RDWR) >= 0)
		escaped("opened /proc/1/mem for writing");
	blocked("PID 1's memory, environment, fds, root and exe are out of reach");
}
