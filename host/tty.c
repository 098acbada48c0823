/* host/tty.c - see tty.h. */
#include "tty.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define DEFAULT_ROWS 24
#define DEFAULT_COLS 80

/* One terminal per process: the state lives here so that atexit can reach it. */
static struct termios saved;
static int saved_fd = -1;
static bool handler_installed;

void wd_tty_restore(void)
{
	if (saved_fd < 0)
		return;
	while (tcsetattr(saved_fd, TCSADRAIN, &saved) < 0 && errno == EINTR)
		;
	saved_fd = -1;
}

int wd_tty_raw(int fd, struct wd_err *err)
{
	struct termios raw;

	if (!isatty(fd))
		return wd_err_set(err, ENOTTY, "--tty: standard input is not a terminal");
	if (tcgetattr(fd, &saved) < 0)
		return wd_err_sys(err, errno, "--tty: tcgetattr");
	if (!handler_installed && atexit(wd_tty_restore) == 0)
		handler_installed = true;
	raw = saved;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	saved_fd = fd;
	if (tcsetattr(fd, TCSADRAIN, &raw) < 0) {
		saved_fd = -1;
		return wd_err_sys(err, errno, "--tty: tcsetattr");
	}
	return 0;
}

void wd_tty_size(int fd, uint16_t *rows, uint16_t *cols)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
		return;
	}
	*rows = DEFAULT_ROWS;
	*cols = DEFAULT_COLS;
}
