/*
 * host/sandbox.h - the `warden sandbox` command (host/sandbox.c): one
 * command in the agent's sandbox on this kernel. docs/cli.md.
 */
#ifndef WARDEN_HOST_SANDBOX_H
#define WARDEN_HOST_SANDBOX_H

extern const char wd_sandbox_usage[];

/* The arguments after `sandbox`; returns the exit status. */
int wd_sandbox_main(int argc, char **argv);

#endif
