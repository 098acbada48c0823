/*
 * host/run.h - `warden run`: one job from the parsed options to the exit
 * status (host/exitcodes.h, docs/cli.md).
 *
 * Order: signals, then everything the user named is checked (kernel,
 * image, or an image directory against its manifest.json (host/image.h)
 * and its baked policy, files, policy, terminal) before anything starts, so that a
 * mistake costs no boot; then the private directory, the VMM, the session
 * (host/session.h). Whatever happens after that, one path tears down: the
 * terminal restored, the guest killed and reaped, the channel closed, the
 * private directory removed. Then exactly one line says why warden itself
 * failed, if it did (followed by the guest's console when the guest is the
 * reason).
 */
#ifndef WARDEN_HOST_RUN_H
#define WARDEN_HOST_RUN_H

#include "cli.h"

/* Run the job; returns the process's exit status. */
int wd_run(const struct wd_run_opts *o);

#endif
