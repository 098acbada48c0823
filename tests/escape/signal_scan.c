/* escape signal_scan: signal every pid number, to reach the supervisor or
 * anything outside the sandbox. */
#include <signal.h>
#include <sys/stat.h>

#include "escape.h"

int main(int argc, char **argv)
{
	int reachable = 0;

	(void)argc;
	escape_start(argv[0]);
	for (pid_t pid = 1; pid < 65536; pid++) {
		char path[32];
		struct stat st;

		if (kill(pid, 0) < 0 && errno == ESRCH)
			continue;
		(void)snprintf(path, sizeof(path), "/proc/%d", (int)pid);
		if (stat(path, &st) < 0)
			escaped("pid %d answers but is not in the sandbox's /proc", (int)pid);
		reachable++;
	}
	if (kill(-1, 0) < 0 && errno != ESRCH)
		escaped("kill(-1, 0): %s", strerror(errno));
	blocked("%d pids exist, all inside the sandbox's pid namespace", reachable);
}
