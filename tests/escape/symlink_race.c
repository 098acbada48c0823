/* escape symlink_race: swap the working directory, or something in it, for
 * a symlink so that a path the sandbox trusts leads outside. */
#include <limits.h>
#include <sys/stat.h>

#include "escape.h"

int main(int argc, char **argv)
{
	char cwd[PATH_MAX], buf[64];
	int fd;

	(void)argc;
	escape_start(argv[0]);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		escaped("getcwd: %s (cannot test)", strerror(errno));
	if (rename(cwd, "/tmp/moved") == 0 || rmdir(cwd) == 0)
		escaped("the working directory %s was moved away", cwd);
	if (symlink("/proc/1/root", "escape-link") < 0 || symlink("/", "escape-root") < 0)
		escaped("symlink: %s (cannot test)", strerror(errno));
	fd = open("escape-link/proc/1/environ", O_RDONLY);
	if (fd >= 0 && read(fd, buf, sizeof(buf)) > 0)
		escaped("read PID 1's environment through a symlink");
	fd = open("escape-root/etc/shadow", O_RDONLY);
	if (fd >= 0)
		escaped("opened /etc/shadow through a symlink");
	(void)unlink("escape-link");
	(void)unlink("escape-root");
	blocked("%s cannot be moved; symlinks lead only inside the sandbox", cwd);
}
