/*
 * host/image.c - the command line of `warden image` (image.h): build,
 * inspect, verify. The work is in host/imagebuild.c, host/imageinitrd.c
 * and host/imageverify.c; docs/image.md and docs/cli.md are the reference.
 *
 * Exit status: 0 success (verify: intact); 1 verify found the image not
 * intact (the first mismatch named); WD_EXIT_LAUNCHER (125) for a usage
 * error or a failed build or inspect.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/log.h"
#include "../common/parse.h"
#include "exitcodes.h"
#include "image.h"
#include "imagecmd.h"

#define EXIT_NOT_INTACT 1

static const char usage[] =
	"usage: warden image build --rootfs DIR|TAR --output OUTDIR [--name NAME]\n"
	"                          [--kernel DIR] [--base FILE] [--policy FILE]\n"
	"                          [--extra SRC:DST[:MODE]]... [--max-size SIZE]\n"
	"                          [--max-entries N]\n"
	"       warden image inspect OUTDIR [--json]\n"
	"       warden image verify OUTDIR\n"
	"\n"
	"  build    stage the root filesystem, make rootfs.erofs and its dm-verity\n"
	"           tree, pin its root hash in a copy of the base initramfs, and write\n"
	"           OUTDIR: vmlinuz, initramfs.cpio.gz, rootfs.erofs, rootfs.verity,\n"
	"           manifest.json. Reproducible (SOURCE_DATE_EPOCH, else the base's).\n"
	"  inspect  print manifest.json (a table, or its canonical JSON); checks its\n"
	"           form, not the files\n"
	"  verify   recompute every digest and the verity tree; exit 0 only when the\n"
	"           image is intact, 1 naming the first mismatch\n"
	"\n"
	"See docs/image.md.\n";

/* The value of option argv[*i], or NULL (with a message). */
static const char *value(int argc, char **argv, int *i)
{
	if (*i + 1 >= argc) {
		wd_error("image: %s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

static int parse_build(int argc, char **argv, struct wd_imgbuild_opts *o)
{
	struct wd_err err;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v;

		if ((v = value(argc, argv, &i)) == NULL)
			return -1;
		if (strcmp(a, "--rootfs") == 0) {
			o->rootfs = v;
		} else if (strcmp(a, "--output") == 0) {
			o->output = v;
		} else if (strcmp(a, "--name") == 0) {
			o->name = v;
		} else if (strcmp(a, "--kernel") == 0) {
			o->kernel_dir = v;
		} else if (strcmp(a, "--base") == 0) {
			o->base = v;
		} else if (strcmp(a, "--policy") == 0) {
			o->policy = v;
		} else if (strcmp(a, "--extra") == 0) {
			if (o->n_extras == WD_IMAGE_MAX_EXTRAS) {
				wd_error("image build: at most %d --extra", WD_IMAGE_MAX_EXTRAS);
				return -1;
			}
			o->extras[o->n_extras++] = v;
		} else if (strcmp(a, "--max-size") == 0) {
			if (wd_parse_size(v, 1, UINT64_MAX, &o->max_size, &err) < 0) {
				wd_error("image build: --max-size: %s", err.msg);
				return -1;
			}
		} else if (strcmp(a, "--max-entries") == 0) {
			if (wd_parse_u64(v, 1, UINT32_MAX, &o->max_entries, &err) < 0) {
				wd_error("image build: --max-entries: %s", err.msg);
				return -1;
			}
		} else {
			wd_error("image build: unknown option %s (warden image --help)", a);
			return -1;
		}
	}
	if (o->rootfs == NULL || o->output == NULL) {
		wd_error("image build: --rootfs and --output are needed (warden image --help)");
		return -1;
	}
	return 0;
}

static int cmd_build(int argc, char **argv)
{
	static struct wd_imgbuild_opts o;
	struct wd_err err;

	if (parse_build(argc, argv, &o) < 0)
		return WD_EXIT_LAUNCHER;
	o.epoch_env = getenv("SOURCE_DATE_EPOCH");
	if (wd_image_build(&o, &err) < 0) {
		wd_error("image build: %s", err.msg);
		return WD_EXIT_LAUNCHER;
	}
	printf("%s: built\n", o.output);
	return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
}

/* inspect and verify: OUTDIR and, for inspect, --json. */
static int cmd_read(const char *cmd, int argc, char **argv)
{
	const char *dir = NULL;
	bool json = false;
	struct wd_err err;

	for (int i = 1; i < argc; i++) {
		if (strcmp(cmd, "inspect") == 0 && strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (argv[i][0] == '-' || dir != NULL) {
			wd_error("image %s: unexpected %s (warden image --help)", cmd, argv[i]);
			return WD_EXIT_LAUNCHER;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		wd_error("image %s: OUTDIR missing (warden image --help)", cmd);
		return WD_EXIT_LAUNCHER;
	}
	if (strcmp(cmd, "inspect") == 0) {
		if (wd_image_inspect(dir, json, &err) < 0) {
			wd_error("image inspect: %s", err.msg);
			return WD_EXIT_LAUNCHER;
		}
		return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
	}
	if (wd_image_verify(dir, &err) < 0) {
		wd_error("image verify: %s: %s", dir, err.msg);
		return EXIT_NOT_INTACT;
	}
	printf("%s: OK\n", dir);
	return fflush(stdout) == 0 ? 0 : WD_EXIT_LAUNCHER;
}

int wd_image_main(int argc, char **argv)
{
	const char *cmd = argc > 0 ? argv[0] : NULL;

	if (cmd == NULL || strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
		fputs(usage, cmd == NULL ? stderr : stdout);
		return cmd == NULL ? WD_EXIT_LAUNCHER : 0;
	}
	if (strcmp(cmd, "build") == 0)
		return cmd_build(argc, argv);
	if (strcmp(cmd, "inspect") == 0 || strcmp(cmd, "verify") == 0)
		return cmd_read(cmd, argc, argv);
	wd_error("image: unknown command '%s' (build, inspect, verify)", cmd);
	return WD_EXIT_LAUNCHER;
}
