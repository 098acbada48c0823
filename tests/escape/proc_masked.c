/* escape proc_masked: the kernel command line, kernel memory, keys, timers
 * and the sysrq trigger through /proc. */
#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const empty[] = {
		"/proc/cmdline",     "/proc/kcore",    "/proc/keys",    "/proc/timer_list",
		"/proc/sched_debug", "/proc/kallsyms", "/proc/modules", "/proc/iomem"};
	char buf[256];
	int fd;

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		fd = open(empty[i], O_RDONLY);
		if (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
			escaped("%s has content", empty[i]);
		if (fd >= 0)
			(void)close(fd);
	}
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd >= 0 && write(fd, "h", 1) == 1)
		escaped("wrote /proc/sysrq-trigger");
	blocked("masked /proc files read empty; sysrq-trigger is not writable");
}
