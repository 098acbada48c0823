/*
 * tests/audit/execlong.c - an exec whose record must be cut, not lost.
 * It makes, below the working directory, a path of about 4000 control
 * bytes (directories of 255 bytes 0x01..0x1f each, then a file of 150),
 * copies itself there, and execs that copy by the whole path with
 * arguments of 3 x 96 KiB of control bytes and "child". The copy prints
 * "execlong: child ran, argc N" and exits 7: the job's status is then the
 * exec's own. Any setup failure exits 1.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEVELS 15
#define DIR_NAME 255
#define FILE_NAME 150
#define ARG_BYTES ((size_t)96 * 1024)

static char path[LEVELS * (DIR_NAME + 1) + FILE_NAME + 8];
static char args[3][ARG_BYTES + 1];

static void name(char *out, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (char)(1 + (seed + i) % 31); /* 0x01..0x1f: no '/', no NUL */
	out[n] = '\0';
}

static int copy_self(const char *to)
{
	static char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			return -1;
	(void)close(in);
	return close(out) == 0 && n == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	static char arg0[] = "execlong", marker[] = "child";
	char *child_argv[] = {arg0, args[0], args[1], args[2], marker, NULL};
	char *env[] = {NULL};
	char part[DIR_NAME + 1];
	size_t at = 0;
	int top;

	if (argc == 5 && strcmp(argv[4], "child") == 0) {
		printf("execlong: child ran, argc %d\n", argc);
		return 7;
	}
	top = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	for (unsigned l = 0; l < LEVELS; l++) {
		name(part, DIR_NAME, l);
		if ((mkdir(part, 0755) < 0) || chdir(part) < 0) {
			perror("execlong: mkdir");
			return 1;
		}
		memcpy(path + at, part, DIR_NAME);
		at += DIR_NAME;
		path[at++] = '/';
	}
	name(part, FILE_NAME, 99);
	memcpy(path + at, part, FILE_NAME + 1);
	if (copy_self(part) < 0 || top < 0 || fchdir(top) < 0) {
		perror("execlong: copy");
		return 1;
	}
	for (int i = 0; i < 3; i++)
		name(args[i], ARG_BYTES, (unsigned)i);
	execve(path, child_argv, env);
	perror("execlong: execve");
	return 1;
}
