/*
 * sandbox/sandbox_priv.h - the sandbox's steps, shared between its files
 * (sandbox.h is the contract for callers). Every function here runs in a
 * sandbox process before exec and fails closed with `err` set.
 */
#ifndef WARDEN_SANDBOX_SANDBOX_PRIV_H
#define WARDEN_SANDBOX_SANDBOX_PRIV_H

#include <sched.h>
#include <stdint.h>

#include "sandbox.h"

/* sbfs.c: build the new root and enter it (the sandbox's init, as root).
 * `work_mnt` is a detached clone of the supervisor's working directory
 * (sup_sb_clone_workdir(), taken over), or -1 for a fresh tmpfs. */
int sup_sb_fs_enter(const struct sup_sandbox *sb, int work_mnt, struct wd_err *err);
/* In the supervisor: a detached clone of the mount at `workdir_fd`, or -errno. */
int sup_sb_clone_workdir(int workdir_fd);
/*
 * A bind's source inside an image root `rootfd` (sandbox.h image_root):
 * `path` (absolute, as the policy has it) resolved with RESOLVE_IN_ROOT,
 * so that ".." and every symlink on the way, absolute or relative, stay
 * inside the image, and RESOLVE_NO_XDEV, so that no other filesystem is
 * reached. The final component is not followed: a directory gives *fd (an
 * O_PATH fd, the caller closes it), a symlink gives its target in `link`
 * (copied into the sandbox as a symlink; *fd -1). Anything else, or a
 * path that does not resolve inside the image, is an error naming it.
 */
int sup_sb_bind_source(int rootfd, const char *path, int *fd, char link[SUP_SB_PATH_MAX],
		       struct wd_err *err);

/* sbcred.c */
/* Loopback up and the host name (the sandbox's init). */
int sup_sb_net_uts(struct wd_err *err);
/* In the sandbox's init, loopback up, egress on: a TCP socket listening on
 * 127.0.0.1:port (non-blocking, close-on-exec, SUP_SB_PROXY_BACKLOG), or
 * -errno. */
int sup_sb_proxy_listener(uint16_t port, struct wd_err *err);
/* rlimits, securebits, bounding and ambient sets, uid/gid, empty
 * capability sets, no_new_privs, each checked after it is set. */
int sup_sb_drop(const struct sup_sandbox *sb, struct wd_err *err);
/* The sandbox's init keeps uid 0 and only CAP_KILL (it forwards signals to
 * the agent, another uid), no way to gain more (empty bounding set, locked
 * securebits, no_new_privs) and no core or /proc/PID/mem access for the
 * agent (not dumpable). */
int sup_sb_drop_init(struct wd_err *err);
/* Landlock: file access only beneath the sandbox's own paths. Returns 0,
 * or -EOPNOTSUPP when the kernel has no Landlock. */
int sup_sb_landlock(const struct sup_sandbox *sb, struct wd_err *err);

/* sbexec.c: an fd (a memfd made for the agent) watched like the sandbox's
 * mounts: an exec of it is seen and recorded. 0 or -errno. */
int sup_sb_exec_watch(const struct sup_sb_exec *x, int fd);

/* sbtables.c: the built-in filter's data, compiled by sbfilter.c. */
extern const char *const sup_sb_allowed[]; /* allowed unconditionally */
extern const size_t sup_sb_n_allowed;
#define SUP_SB_N_SOCKET_FAMILIES 3
#define SUP_SB_N_PERSONALITIES 3
#define SUP_SB_N_DENIED_IOCTLS 2
/* Both ascending (sbfilter.c refuses the gaps between them, and checks). */
extern const int sup_sb_socket_families[SUP_SB_N_SOCKET_FAMILIES]; /* socket's allowed domains */
extern const unsigned long sup_sb_personalities[SUP_SB_N_PERSONALITIES]; /* allowed personas */
extern const uint32_t sup_sb_denied_ioctls[SUP_SB_N_DENIED_IOCTLS];      /* low 32 bits refused */
/* clone flags that make a namespace: refused by the filter */
#define CLONE_NS_FLAGS                                                                             \
	((uint64_t)(CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |  \
		    CLONE_NEWPID | CLONE_NEWNET))

#endif
