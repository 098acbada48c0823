/*
 * tests/sandbox/ttymess.c - what a command may do to the terminal it is
 * given: on each of fds 0-2, O_NONBLOCK on the open file, and on a
 * terminal raw mode without echo and a 5x7 window. Prints "ttymess: N
 * terminals"; with "hold", then waits until killed. tests/sandbox/run.sh
 * checks that the operator's terminal is as it was afterwards. Static,
 * libc only.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int terminals = 0;

	for (int fd = 0; fd <= 2; fd++) {
		struct winsize ws = {.ws_row = 5, .ws_col = 7};
		struct termios t;
		int fl = fcntl(fd, F_GETFL);

		if (fl >= 0)
			(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (tcgetattr(fd, &t) < 0)
			continue;
		cfmakeraw(&t);
		t.c_lflag &= ~(tcflag_t)ECHO;
		(void)tcsetattr(fd, TCSANOW, &t);
		(void)ioctl(fd, TIOCSWINSZ, &ws);
		terminals++;
	}
	/* stdout may be non-blocking now: one short write. */
	dprintf(STDOUT_FILENO, "ttymess: %d terminals\n", terminals);
	if (argc == 2 && strcmp(argv[1], "hold") == 0)
		for (;;)
			pause();
	return 0;
}
