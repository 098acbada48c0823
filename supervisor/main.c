/*
 * supervisor/main.c - warden-supervisor, started by warden-init.
 *
 * This first part opens the channel to the host named by WARDEN_CHANNEL,
 * announces that the guest is ready (with init's boot timings), and serves
 * the boot handshake described in docs/init.md ("Boot handshake"):
 *
 *   guest -> host   "WARDEN-READY 0 <timings>\n", repeated every
 *                   HELLO_INTERVAL_MS until the host says anything, since
 *                   bytes written before the host side is connected may be
 *                   lost on virtio-serial
 *   host -> guest   "ping\n"      answered "pong\n"
 *                   "shutdown\n"  answered "bye\n"; PID 1 is asked to end
 *                                 the VM (SIGUSR2)
 *
 * The supervisor runs as root in the guest, beyond the agent's reach. If
 * the host goes away, or says something it does not understand, it exits
 * non-zero and PID 1 ends the VM: nothing runs unwatched.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/boottimes.h"
#include "../common/clock.h"
#include "../common/fileio.h"
#include "../common/log.h"
#include "../vsock/transport.h"

#define PROGRAM "warden-supervisor"
#define HELLO_INTERVAL_MS 250
#define HELLO_TIMEOUT_MS 120000 /* the host connects at once; TCG boots are slow */
#define CHANNEL_RETRY_MS 100    /* the port may appear after us */
#define CHANNEL_WAIT_MS 10000
#define LINE_MAX_BYTES 256
#define EXIT_CHANNEL 3  /* no channel, or the host went away */
#define EXIT_PROTOCOL 4 /* the host said something not understood */

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int open_channel(const char *spec)
{
	uint64_t start = wd_mono_ns();
	struct wd_err err;

	for (;;) {
		int fd = wd_channel_open(spec, &err);

		if (fd >= 0)
			return fd;
		if (err.code != ENOENT ||
		    wd_mono_ns() - start > (uint64_t)CHANNEL_WAIT_MS * WD_NS_PER_MS) {
			wd_error("channel %s: %s", spec, err.msg);
			return -1;
		}
		sleep_ms(CHANNEL_RETRY_MS);
	}
}

/* Read one line (without '\n') with a timeout; 1 = line, 0 = timeout, -1 = gone. */
static int read_line(int fd, char *line, size_t size, size_t *used, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN, .revents = 0};
	char *nl;
	ssize_t n;

	for (;;) {
		nl = memchr(line, '\n', *used);
		if (nl != NULL) {
			*nl = '\0';
			return 1;
		}
		if (*used + 1 >= size)
			return -2;
		if (poll(&pfd, 1, timeout_ms) <= 0)
			return 0;
		if ((pfd.revents & POLLIN) == 0)
			return pfd.revents & POLLHUP ? 0 : -1; /* no host connected yet */
		n = read(fd, line + *used, size - *used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : -1;
		*used += (size_t)n;
	}
}

static void consume_line(char *line, size_t *used)
{
	size_t len = strlen(line) + 1;

	memmove(line, line + len, *used - len);
	*used -= len;
}

static int send_text(int fd, const char *text)
{
	return wd_write_all(fd, text, strlen(text));
}

int main(void)
{
	char hello[WD_BOOT_TIMES_BYTES + 64], line[LINE_MAX_BYTES];
	const char *spec = getenv("WARDEN_CHANNEL"), *level = getenv("WARDEN_LOG");
	const char *times_text = getenv(WD_BOOT_TIMES_ENV);
	struct wd_boot_times times;
	enum wd_log_level lvl = WD_LOG_INFO;
	uint64_t ready_ns, start;
	struct wd_err err;
	size_t used = 0;
	int fd, rc;
	bool greeted = false;

	if (level != NULL && wd_log_level_parse(level, &lvl) < 0)
		lvl = WD_LOG_INFO;
	wd_log_init(PROGRAM, lvl);
	memset(&times, 0, sizeof(times));
	if (times_text != NULL && wd_boot_times_parse(times_text, &times, &err) < 0)
		wd_warn("%s", err.msg);
	if (spec == NULL) {
		wd_error("WARDEN_CHANNEL is not set (warden-supervisor is started by warden-init)");
		return EXIT_CHANNEL;
	}
	fd = open_channel(spec);
	if (fd < 0)
		return EXIT_CHANNEL;
	ready_ns = wd_mono_ns() - times.t0_ns;
	wd_info("ready on %s, %.2f ms after init started", spec, (double)ready_ns / 1e6);
	(void)snprintf(hello, sizeof(hello), "WARDEN-READY 0 ready=%" PRIu64 ",%s\n", ready_ns,
		       times_text != NULL ? times_text : "");

	start = wd_mono_ns();
	for (;;) {
		/* Until the host answers, a failed write only means nobody listens yet. */
		if (!greeted)
			(void)send_text(fd, hello);
		rc = read_line(fd, line, sizeof(line), &used, greeted ? -1 : HELLO_INTERVAL_MS);
		if (rc == 0 && !greeted) {
			if (wd_mono_ns() - start > (uint64_t)HELLO_TIMEOUT_MS * WD_NS_PER_MS) {
				wd_error("channel: no answer from the host in %d ms",
					 HELLO_TIMEOUT_MS);
				return EXIT_CHANNEL;
			}
			sleep_ms(HELLO_INTERVAL_MS / 5);
			continue;
		}
		if (rc <= 0) {
			wd_error("channel: %s", rc == -2 ? "line too long" : "the host went away");
			return rc == -2 ? EXIT_PROTOCOL : EXIT_CHANNEL;
		}
		greeted = true;
		if (strcmp(line, "ping") == 0) {
			(void)send_text(fd, "pong\n");
		} else if (strcmp(line, "shutdown") == 0) {
			wd_info("host asked for shutdown");
			(void)send_text(fd, "bye\n");
			if (kill(1, SIGUSR2) < 0)
				wd_error("asking PID 1 to shut down: %s", strerror(errno));
			/* PID 1 sends TERM next; keep the channel open until then. */
		} else {
			wd_error("channel: unknown request '%.64s'", line);
			return EXIT_PROTOCOL;
		}
		consume_line(line, &used);
	}
}
