/*
 * supervisor/sbtables.c - the names the seccomp filter decides whatever a
 * profile says: the hard denials and the argument filters. Plain data and
 * lookups, no libseccomp: the policy reader (sandbox.c) checks waivers
 * against them, and sbfilter.c compiles them.
 */
#include <string.h>

#include "sandbox.h"

/*
 * Denied with EPERM whatever a profile says, unless the policy waives one
 * by name: the ways out of a sandbox and into the kernel's rarest code.
 */
const char *const sup_sb_hard_denied[] = {
	"io_uring_setup",
	"io_uring_enter",
	"io_uring_register",
	"ptrace",
	"process_vm_readv",
	"process_vm_writev",
	"process_madvise",
	"pidfd_getfd",
	"kcmp",
	"bpf",
	"perf_event_open",
	"userfaultfd",
	"keyctl",
	"add_key",
	"request_key",
	"mount",
	"umount2",
	"fsopen",
	"fsmount",
	"fsconfig",
	"fspick",
	"open_tree",
	"move_mount",
	"mount_setattr",
	"pivot_root",
	"chroot",
	"setns",
	"unshare",
	"kexec_load",
	"kexec_file_load",
	"init_module",
	"finit_module",
	"delete_module",
	"create_module",
	"reboot",
	"swapon",
	"swapoff",
	"acct",
	"quotactl",
	"quotactl_fd",
	"open_by_handle_at",
	"name_to_handle_at",
	"iopl",
	"ioperm",
	"modify_ldt",
	"syslog",
	"settimeofday",
	"clock_settime",
	"clock_adjtime",
	"adjtimex",
	"sethostname",
	"setdomainname",
	"vhangup",
	"lookup_dcookie",
	"fanotify_init",
	"uselib",
	"ustat",
	"sysfs",
	"_sysctl",
	"get_kernel_syms",
	"query_module",
	"nfsservctl",
	"mbind",
	"set_mempolicy",
	"get_mempolicy",
	"migrate_pages",
	"move_pages",
	"memfd_secret",
	"set_mempolicy_home_node",
};

const size_t sup_sb_n_hard_denied = sizeof(sup_sb_hard_denied) / sizeof(sup_sb_hard_denied[0]);

/* Allowed only for some arguments (sbfilter.c); clone3 not at all. */
const char *const sup_sb_arg_filtered[] = {"socket", "socketpair",  "clone",
					   "ioctl",  "personality", "clone3"};
const size_t sup_sb_n_arg_filtered = sizeof(sup_sb_arg_filtered) / sizeof(sup_sb_arg_filtered[0]);

int sup_sb_hard_index(const char *name)
{
	for (size_t i = 0; i < sup_sb_n_hard_denied; i++)
		if (strcmp(sup_sb_hard_denied[i], name) == 0)
			return (int)i;
	for (size_t i = 0; i < sup_sb_n_arg_filtered; i++)
		if (strcmp(sup_sb_arg_filtered[i], name) == 0)
			return (int)(sup_sb_n_hard_denied + i);
	return -1;
}

bool sup_sb_is_hard(const char *name)
{
	return sup_sb_hard_index(name) >= 0;
}

const char *sup_sb_hard_name(size_t index)
{
	if (index < sup_sb_n_hard_denied)
		return sup_sb_hard_denied[index];
	if (index < sup_sb_n_hard_denied + sup_sb_n_arg_filtered)
		return sup_sb_arg_filtered[index - sup_sb_n_hard_denied];
	return NULL;
}

bool sup_sb_waived(const struct sup_sandbox *sb, const char *name)
{
	int i = sup_sb_hard_index(name);

	return i >= 0 && ((sb->waived[i / 64] >> (i % 64)) & 1U);
}

_Static_assert(sizeof(sup_sb_hard_denied) / sizeof(sup_sb_hard_denied[0]) +
			       sizeof(sup_sb_arg_filtered) / sizeof(sup_sb_arg_filtered[0]) <=
		       SUP_SB_HARD_MAX,
	       "more hard names than the waiver bitmap holds");
