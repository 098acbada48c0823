/*
 * common/fdpass.h - one file descriptor over an AF_UNIX socket (SCM_RIGHTS),
 * with a one-byte message. Used between the sandbox's processes and the
 * supervisor (sandbox/spawn.c): the agent's seccomp listener, the
 * sandbox's PTY master and the proxies' listening sockets.
 */
#ifndef WARDEN_COMMON_FDPASS_H
#define WARDEN_COMMON_FDPASS_H

/* Send `fd`. Returns 0 or -errno. */
int wd_send_fd(int sock, int fd);

/* Receive one fd (close-on-exec), with recvmsg `flags` (MSG_DONTWAIT...).
 * Returns it, or -errno (-EPROTO when the message carries no fd). */
int wd_recv_fd(int sock, int flags);

/* The same with the message's byte as a tag saying which fd this is
 * (several kinds over one socket, in any order). */
int wd_send_fd_tag(int sock, int fd, char tag);
int wd_recv_fd_tag(int sock, int flags, char *tag);

#endif
