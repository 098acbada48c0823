/* common/signals.c - see signals.h. */
#include "signals.h"

#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KERNEL_SIGSET_BYTES 8 /* the kernel's sigset_t: 64 signals */

/*
 * The raw system call, for all 64 signals: musl's sigaction() refuses the
 * signals it reserves (32-34), and a launcher may have left them ignored
 * (GNU make's recipes start with 32 and 33 ignored). An all-zero kernel
 * sigaction is SIG_DFL with no flags and an empty mask, whatever the
 * architecture's field order.
 */
void wd_signals_default(void)
{
	unsigned long dfl[8];

	memset(dfl, 0, sizeof(dfl));
	for (int sig = 1; sig <= 64; sig++) {
		if (sig != SIGKILL && sig != SIGSTOP)
			(void)syscall(SYS_rt_sigaction, sig, dfl, NULL,
				      (size_t)KERNEL_SIGSET_BYTES);
	}
}
