/* escape proc_scan: find the supervisor, PID 1 of the guest or any process
 * outside the sandbox through /proc. Every process but the sandbox's init
 * must be the agent's uid (65534 in the microVM, a leased one in local mode). */
#include <ctype.h>
#include <dirent.h>

#include "escape.h"

int main(int argc, char **argv)
{
	DIR *d;
	struct dirent *e;
	char want[32];
	int n = 0;

	(void)argc;
	if (getuid() == 0)
		escaped("the agent is root");
	(void)snprintf(want, sizeof(want), "\nUid:\t%u\t", (unsigned)getuid());
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
		    (uid == NULL || strncmp(uid, want, strlen(want)) != 0))
			escaped("process %s is not the sandbox's", e->d_name);
		if (strstr(buf, "Name:\twarden-init") != NULL)
			escaped("the guest's PID 1 is visible as %s", e->d_name);
	}
	closedir(d);
	if (n > 16)
		escaped("%d processes visible", n);
	blocked("%d processes visible, all the sandbox's own", n);
}
