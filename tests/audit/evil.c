/*
 * tests/audit/evil.c - the program a racing caller swaps in: it appends
 * "evil" to ./evil.log, so that every run leaves a mark, and exits 42.
 */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int fd = open("evil.log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, "evil\n", 5) != 5)
		return 1;
	(void)close(fd);
	return 42;
}
