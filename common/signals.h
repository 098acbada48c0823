/*
 * common/signals.h - signal dispositions handed to a program about to exec.
 *
 * Used by warden-init (before the supervisor runs) and by the supervisor
 * (before the agent runs): an ignored signal survives execve(), so a
 * disposition left behind by whoever started us would be inherited by the
 * next program. No failure is reported: the only errors the kernel can give
 * (EINVAL for SIGKILL and SIGSTOP) are skipped by construction.
 */
#ifndef WARDEN_COMMON_SIGNALS_H
#define WARDEN_COMMON_SIGNALS_H

/*
 * Every signal's disposition back to SIG_DFL, SIG_IGN included, also the
 * signals libc reserves for itself (musl's sigaction() refuses 32-34), by
 * the raw rt_sigaction system call for all 64 signals. The signal mask is
 * not touched.
 */
void wd_signals_default(void);

#endif
