/* escape setuid_binary: gain root through a set-user-ID program. Every
 * mount the agent sees is nosuid, and no_new_privs holds; where the image
 * has a setuid-root program, it is run and must stay unprivileged. */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include "escape.h"

int main(int argc, char **argv)
{
	static const char *const mounts[] = {"/", "/usr", "/bin", "/tmp", "/dev", "."};
	static const char *const suid[] = {"/usr/bin/mount", "/bin/mount", "/usr/bin/su"};
	const char *ran = "none in this image";

	(void)argc;
	escape_start(argv[0]);
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		struct statvfs sv;

		if (statvfs(mounts[i], &sv) == 0 && !(sv.f_flag & ST_NOSUID))
			escaped("%s is mounted without nosuid", mounts[i]);
	}
	for (size_t i = 0; i < sizeof(suid) / sizeof(suid[0]); i++) {
		struct stat st;
		pid_t pid;
		int ws;

		if (stat(suid[i], &st) < 0 || !(st.st_mode & S_ISUID) || st.st_uid != 0)
			continue;
		pid = fork();
		if (pid == 0) {
			int null = open("/dev/null", O_WRONLY);

			(void)dup2(null, 2);
			execl(suid[i], suid[i], "-t", "tmpfs", "none", "/tmp", (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, &ws, 0) != pid || (WIFEXITED(ws) && WEXITSTATUS(ws) == 0))
			escaped("%s (setuid root) succeeded", suid[i]);
		ran = suid[i];
		break;
	}
	blocked("every mount nosuid; setuid-root program run unprivileged: %s", ran);
}
