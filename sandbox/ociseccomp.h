/*
 * sandbox/ociseccomp.h - a Docker/OCI seccomp profile, read into plain C.
 *
 * The sandbox may replace its built-in syscall allowlist with a profile in
 * the format Docker and runc use (defaultAction, defaultErrnoRet,
 * architectures, archMap, syscalls[] with names, action, errnoRet, args,
 * includes, excludes, comment). This module only reads and checks the
 * profile; it makes no libseccomp call. The sandbox compiles the result,
 * and its hard denials still apply on top.
 *
 * Input comes from the policy, so from whoever submits the job: it is
 * bounded (SUP_SC_MAX_TEXT_BYTES and the counts below) and read strictly.
 * Unknown or duplicate fields, non-integer or negative numbers, unknown
 * actions, operators and architecture names are errors naming the JSON path
 * ("syscalls[12].args[0].op: unknown operator 'SCMP_CMP_FOO'").
 *
 * Conditions are evaluated here, for this target only: the native x86_64
 * ABI (Docker's arch name "amd64"), an empty capability set (the agent has
 * none), and the kernel release the caller passes. A group whose includes
 * do not all hold, or one of whose excludes holds, is dropped and counted
 * in `dropped`; the profile keeps only the groups that apply.
 *
 * SCMP_ACT_TRACE and SCMP_ACT_NOTIFY are refused: no tracer runs in the
 * sandbox, and the user-notification listener belongs to the supervisor,
 * which never lets a profile allow a syscall through it.
 *
 * "architectures" is kept (validated names). "archMap" is validated for
 * shape and names, then ignored: the sandbox filters the native ABI only
 * and refuses x32 and i386, so sub-architectures never apply.
 *
 * The parsed profile owns heap memory; release it with sup_sc_free().
 */
#ifndef WARDEN_SANDBOX_OCISECCOMP_H
#define WARDEN_SANDBOX_OCISECCOMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define SUP_SC_MAX_TEXT_BYTES 262144U /* profile JSON text: 256 KiB */
#define SUP_SC_MAX_GROUPS 1024U       /* entries of syscalls[] */
#define SUP_SC_MAX_NAMES 512U         /* names[] per group */
#define SUP_SC_MAX_ARGS 6U            /* args[] per group (syscall args 0..5) */
#define SUP_SC_MAX_ARCHES 32U         /* architectures[] and archMap[] */
#define SUP_SC_NAME_MAX 64U           /* syscall name, bytes, [a-z0-9_] */
#define SUP_SC_ARCH_BYTES 24U         /* longest SCMP_ARCH_* name, NUL included */
#define SUP_SC_ERRNO_MAX 4095U        /* the kernel's MAX_ERRNO */

enum sup_sc_action {
	SUP_SC_ACT_ERRNO,
	SUP_SC_ACT_ALLOW,
	SUP_SC_ACT_KILL, /* kill the thread, as libseccomp's SCMP_ACT_KILL */
	SUP_SC_ACT_KILL_PROCESS,
	SUP_SC_ACT_KILL_THREAD,
	SUP_SC_ACT_TRAP,
	SUP_SC_ACT_LOG,
};

enum sup_sc_op {
	SUP_SC_CMP_NE,
	SUP_SC_CMP_LT,
	SUP_SC_CMP_LE,
	SUP_SC_CMP_EQ,
	SUP_SC_CMP_GE,
	SUP_SC_CMP_GT,
	SUP_SC_CMP_MASKED_EQ, /* (arg & value) == valueTwo */
};

struct sup_sc_arg {
	unsigned index; /* 0..5 */
	uint64_t value;
	uint64_t value_two; /* 0 when absent */
	enum sup_sc_op op;
};

struct sup_sc_group {
	char (*names)[SUP_SC_NAME_MAX + 1]; /* n_names entries, NUL-terminated */
	size_t n_names;
	enum sup_sc_action action;
	bool has_errno_ret;
	uint32_t errno_ret; /* 0..SUP_SC_ERRNO_MAX, when has_errno_ret */
	struct sup_sc_arg args[SUP_SC_MAX_ARGS];
	size_t n_args;
	size_t source_index; /* position in the profile's syscalls[] */
};

struct sup_sc_profile {
	enum sup_sc_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char arches[SUP_SC_MAX_ARCHES][SUP_SC_ARCH_BYTES]; /* "SCMP_ARCH_X86_64", ... */
	size_t n_arches;
	struct sup_sc_group *groups; /* the groups that apply to this target */
	size_t n_groups;
	size_t dropped; /* groups whose conditions excluded them */
};

/*
 * Read the profile text `p` (`len` bytes, no NUL needed) into `out`, keeping
 * the groups whose conditions hold on x86_64 with no capabilities and the
 * kernel `kernel_release` (uname's release, "6.1.0-18-amd64"; only its
 * leading numbers count). On success `out` owns memory (sup_sc_free()).
 * On failure returns -errno with `err` naming the JSON path, and `out` owns
 * nothing.
 */
int sup_sc_parse(const uint8_t *p, size_t len, const char *kernel_release,
		 struct sup_sc_profile *out, struct wd_err *err);

/* An action's name as a profile spells it ("SCMP_ACT_LOG"). */
const char *sup_sc_action_name(enum sup_sc_action a);

/* Release what sup_sc_parse() allocated; `prof` may be zeroed or NULL. */
void sup_sc_free(struct sup_sc_profile *prof);

#endif
