/* host/outfilter.c - see outfilter.h. */
#include "outfilter.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/fileio.h"
#include "../common/safetext.h"

/* The filter: its pipe on fd 0, its output on `out`, nothing else open. */
static _Noreturn void filter(int out)
{
	static uint8_t in[WD_OUTFILTER_READ_BYTES];
	static char safe[WD_SAFE_STREAM_OUT(WD_OUTFILTER_READ_BYTES)];
	struct wd_safe_stream st = {{0}, 0};
	ssize_t n;

	for (;;) {
		n = read(STDIN_FILENO, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (wd_write_all(out, safe, wd_safe_stream(&st, in, (size_t)n, safe)) < 0)
			_exit(1);
	}
	_exit(wd_write_all(out, safe, wd_safe_stream_end(&st, safe)) < 0 || n < 0);
}

int wd_outfilter_start(struct wd_outfilter *f, struct wd_err *err)
{
	int wr[2] = {-1, -1};

	f->pid[0] = f->pid[1] = -1;
	f->saved[0] = f->saved[1] = -1;
	for (int i = 0; i < 2; i++) {
		int p[2];

		if (pipe2(p, O_CLOEXEC) < 0) {
			(void)wd_err_sys(err, errno, "--sanitize-output: pipe");
			goto fail;
		}
		f->pid[i] = fork();
		if (f->pid[i] == 0) {
			/* Without the other filter's pipe: each sees its own end. */
			if (dup2(p[0], STDIN_FILENO) < 0 ||
			    syscall(SYS_close_range, 3U, ~0U, 0U) < 0)
				_exit(1);
			filter(i + 1);
		}
		(void)close(p[0]);
		wr[i] = p[1];
		if (f->pid[i] < 0) {
			(void)wd_err_sys(err, errno, "--sanitize-output: fork");
			goto fail;
		}
	}
	for (int i = 0; i < 2; i++) {
		f->saved[i] = fcntl(i + 1, F_DUPFD_CLOEXEC, 3);
		if (f->saved[i] < 0 || dup2(wr[i], i + 1) < 0) {
			(void)wd_err_sys(err, errno, "--sanitize-output: fd %d", i + 1);
			goto fail;
		}
	}
	(void)close(wr[0]);
	(void)close(wr[1]);
	return 0;
fail:
	for (int i = 0; i < 2; i++)
		if (wr[i] >= 0)
			(void)close(wr[i]);
	return -err->code;
}

void wd_outfilter_detach(struct wd_outfilter *f)
{
	for (int i = 0; i < 2; i++) {
		if (f->saved[i] < 0)
			continue;
		(void)dup2(f->saved[i], i + 1);
		(void)close(f->saved[i]);
		f->saved[i] = -1;
	}
}

void wd_outfilter_finish(struct wd_outfilter *f)
{
	wd_outfilter_detach(f);
	for (int i = 0; i < 2; i++) {
		/* ECHILD: the command's reaper (waitpid(-1)) took it already. */
		while (f->pid[i] > 0 && waitpid(f->pid[i], NULL, 0) < 0 && errno == EINTR)
			;
		f->pid[i] = -1;
	}
}
