/*
 * host/tmpdir.h - the launcher's private directory for one job.
 *
 * It holds what must not be shared with other users of the host: the
 * channel's Unix socket (whoever connects to it first talks to the guest
 * before the key is set) and the guest's console log. Created with
 * mkdtemp(3) under $TMPDIR, or /tmp when that is unset or empty, mode 0700.
 *
 * Removal walks the tree without following symbolic links and without
 * crossing into another file system, so a link or a mount that appeared in
 * it cannot make the launcher delete anything outside.
 */
#ifndef WARDEN_HOST_TMPDIR_H
#define WARDEN_HOST_TMPDIR_H

#include <stddef.h>

#include "../common/err.h"

/* Longest directory accepted: "<dir>/chan.sock" must fit a sockaddr_un (108). */
#define WD_TMPDIR_MAX_BYTES 96

/* Create the directory; `tmpdir_env` is $TMPDIR (may be NULL). */
int wd_tmpdir_make(const char *tmpdir_env, char *out, size_t size, struct wd_err *err);

/* Remove it and everything in it. Safe on "" (does nothing). */
int wd_tmpdir_remove(const char *path, struct wd_err *err);

#endif
