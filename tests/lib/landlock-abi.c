/*
 * tests/lib/landlock-abi.c - print the Landlock ABI version this kernel
 * offers (0 when it has none), asked the way the sandbox asks
 * (sandbox_landlock_abi(): landlock_create_ruleset with
 * LANDLOCK_CREATE_RULESET_VERSION). /sys/kernel/security/lsm is no answer:
 * it reads empty whenever securityfs is not mounted.
 */
#include <linux/landlock.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);

	printf("%ld\n", v > 0 ? v : 0L);
	return 0;
}
