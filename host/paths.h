/*
 * host/paths.h - where the launcher finds what it starts: the guest kernel
 * and image, and (for --vmm local) warden-init and warden-supervisor.
 *
 * Everything is looked up relative to the directory of the running warden
 * binary (/proc/self/exe), never through $PATH or the current directory, so
 * that the launcher uses the guest that was built or installed with it:
 *
 *   kernel      <bin>/../kernel/vmlinuz, then <bin>/../share/warden/vmlinuz
 *   image       <bin>/../image/initramfs.cpio.gz,
 *               then <bin>/../share/warden/initramfs.cpio.gz
 *   init, supervisor
 *               <bin>/warden-init, then <bin>/../lib/warden/warden-init
 *               (the same for warden-supervisor)
 *
 * The first two entries are the build tree (`make` puts warden in
 * build/bin/), the second the layout of `make install`. A candidate counts
 * only if it is a regular file the launcher can read (or execute, for the
 * programs). Nothing found: -ENOENT with a message listing where it looked.
 */
#ifndef WARDEN_HOST_PATHS_H
#define WARDEN_HOST_PATHS_H

#include <stddef.h>

#include "../common/err.h"

#define WD_PATH_BYTES 4096

enum wd_asset {
	WD_ASSET_KERNEL,
	WD_ASSET_IMAGE,
	WD_ASSET_INIT,
	WD_ASSET_SUPERVISOR,
};

/* The directory holding the running binary, without a trailing '/'. */
int wd_exe_dir(char *out, size_t size, struct wd_err *err);

/* The default path of `asset`, searched from `exe_dir` as above. */
int wd_find_asset(const char *exe_dir, enum wd_asset asset, char *out, size_t size,
		  struct wd_err *err);

/* A path given on the command line: it must be a readable regular file. */
int wd_check_input_file(const char *what, const char *path, struct wd_err *err);

#endif
