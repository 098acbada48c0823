/* escape write_outside: write anywhere but the working directory and /tmp
 * (the root, the read-only binds, /dev, /proc/sys, /sys, /etc). */
#include <sys/stat.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const paths[] = {
		"/escape",
		"/usr/escape",
		"/bin/escape",
		"/lib/escape",
		"/dev/escape",
		"/proc/escape",
		"/sys/escape",
		"/etc/escape",
		"/proc/sys/kernel/hostname",
		"/proc/sys/kernel/core_pattern",
		"/proc/sys/vm/drop_caches",
		"/dev/pts/escape",
	};

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		int fd = open(paths[i], O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd >= 0 && write(fd, "x", 1) == 1)
			escaped("wrote %s", paths[i]);
		if (fd >= 0)
			(void)close(fd);
		if (mkdir(paths[i], 0755) == 0)
			escaped("made directory %s", paths[i]);
	}
	blocked("%zu places outside the working directory and /tmp: not writable",
		sizeof(paths) / sizeof(paths[0]));
}
