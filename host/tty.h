/*
 * host/tty.h - the host terminal of a --tty job.
 *
 * In raw mode every key (^C, ^Z, ^D included) goes to the agent's PTY in
 * the guest as bytes instead of becoming a signal or an end-of-file here;
 * output processing is off too, since the guest's PTY already did it. The
 * saved settings are put back on every way out of the launcher: the normal
 * end, every error, SIGINT and SIGTERM (read from the signalfd, so they go
 * through the same path), and exit() from anywhere (an atexit handler).
 * Only SIGKILL leaves the terminal raw (`stty sane` repairs it).
 */
#ifndef WARDEN_HOST_TTY_H
#define WARDEN_HOST_TTY_H

#include <stdint.h>

#include "../common/err.h"

/* Put the terminal on `fd` in raw mode, remembering its settings. */
int wd_tty_raw(int fd, struct wd_err *err);

/* Restore the settings saved by wd_tty_raw(); nothing if it was not called. */
void wd_tty_restore(void);

/* The window size of the terminal on `fd`; 24x80 when it has none. */
void wd_tty_size(int fd, uint16_t *rows, uint16_t *cols);

#endif
