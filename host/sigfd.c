/* host/sigfd.c - see sigfd.h. */
#include "sigfd.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

static const int watched[] = {SIGINT,  SIGTERM, SIGHUP,   SIGQUIT,
			      SIGUSR1, SIGUSR2, SIGWINCH, SIGPIPE};

int wd_sigfd_open(struct wd_err *err)
{
	struct sigaction dfl, old;
	sigset_t set;
	int fd;

	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		sigaddset(&set, watched[i]);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return wd_err_sys(err, errno, "sigprocmask");
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	(void)sigaction(SIGINT, &dfl, NULL);
	(void)sigaction(SIGTERM, &dfl, NULL);
	/* SIGQUIT, SIGUSR1/2 and SIGWINCH: a signal ignored is never queued. */
	(void)sigaction(SIGQUIT, &dfl, NULL);
	(void)sigaction(SIGUSR1, &dfl, NULL);
	(void)sigaction(SIGUSR2, &dfl, NULL);
	(void)sigaction(SIGWINCH, &dfl, NULL);
	if (sigaction(SIGHUP, NULL, &old) == 0 && old.sa_handler == SIG_IGN)
		sigdelset(&set, SIGHUP);
	fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return wd_err_sys(err, errno, "signalfd");
	return fd;
}

int wd_sigfd_next(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(fd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(si))
		return 0;
	return (int)si.ssi_signo;
}

bool wd_sigfd_forwarded(int signo)
{
	return signo == SIGHUP || signo == SIGQUIT || signo == SIGUSR1 || signo == SIGUSR2;
}
