/* escape proc_scan: find the supervisor, PID 1 of the guest or any process
 * outside the sandbox through /proc. */
#include <ctype.h>
#include <dirent.h>

#include "escape.h"

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *e;
	int n = 0;

	(void)argc;
	escape_start(argv[0]);
	d = opendir("/proc");
	if (d == NULL)
		escaped("no /proc to scan: %s (cannot test)", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[4096];
		const char *uid;
		ssize_t len;
		int fd;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		n++;
		(void)snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		(void)close(fd);
		buf[len > 0 ? len : 0] = '\0';
		uid = strstr(buf, "\nUid:\t");
		if (strcmp(e->d_name, "1") != 0 &&
		    (uid == NULL || strncmp(uid, "\nUid:\t65534", 11) != 0))
			escaped("process %s is not the sandbox's", e->d_name);
		if (strstr(buf, "Name:\twarden-init") != NULL)
			escaped("the guest's PID 1 is visible as %s", e->d_name);
	}
	closedir(d);
	if (n > 16)
		escaped("%d processes visible", n);
	blocked("%d processes visible, all the sandbox's own", n);
}
