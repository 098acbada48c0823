/* escape host_paths: learn where the sandbox runs through /proc: the mount
 * table's roots and mount points, PID 1's name and command line (the
 * supervisor's path on the host in local mode, `warden sandbox`'s
 * arguments), the cgroup paths, the kernel's debug switches, and what the
 * host keeps in /usr/local.
 * escape-input: host-paths (host_paths.list in the working directory, one
 * per line: "path TEXT", a host path no file here may contain; "empty DIR",
 * a directory that must be empty or absent) */
#include <dirent.h>

#include "escape.h"

#define FILE_MAX (256 << 10) /* the largest /proc file read here */
#define INIT_NAME "sandbox-init"

static char text[FILE_MAX];
static int leaks;

/* One thing the agent learnt; every check runs, the verdict counts them. */
static void __attribute__((format(printf, 1, 2))) leak(const char *fmt, ...)
{
	va_list ap;

	printf("escape %s: leak: ", escape_name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	leaks++;
}

/* The whole of `path` in `text`; its length, or -1 when it cannot be read. */
static long slurp(const char *path)
{
	long len = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	while (len < FILE_MAX - 1 && (n = read(fd, text + len, (size_t)(FILE_MAX - 1 - len))) > 0)
		len += n;
	(void)close(fd);
	text[len] = '\0';
	return len;
}

/* No host path in any file the agent can read about its surroundings. */
static void no_path_in(const char *path, const char *needle)
{
	long len = slurp(path);

	if (len < 0)
		escaped("%s: %s (cannot test)", path, strerror(errno));
	for (long i = 0; i < len; i++)
		if (text[i] == '\0')
			text[i] = ' '; /* cmdline's separators */
	if (strstr(text, needle) != NULL)
		leak("%s shows the host's %s", path, needle);
}

static void empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;

	if (d == NULL)
		return; /* absent: nothing of the host's */
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			leak("%s shows the host's %s", path, e->d_name);
	(void)closedir(d);
}

/* PID 1 is the sandbox's init, by name, and says nothing else. */
static void init_named(void)
{
	long len = slurp("/proc/1/comm");
	const char *comm = len < 0 ? "?" : text;

	if (strcmp(comm, INIT_NAME "\n") != 0)
		leak("/proc/1/comm is '%.*s', not " INIT_NAME, (int)strcspn(comm, "\n"), comm);
	len = slurp("/proc/1/cmdline");
	if (len != (long)sizeof(INIT_NAME) || memcmp(text, INIT_NAME, sizeof(INIT_NAME)) != 0)
		leak("/proc/1/cmdline is '%.60s' (%ld bytes), not " INIT_NAME, text, len);
}

/* Every hierarchy's path is the namespace's root. */
static void cgroups_at_root(void)
{
	if (slurp("/proc/self/cgroup") < 0)
		escaped("/proc/self/cgroup: %s (cannot test)", strerror(errno));
	for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		const char *path = strchr(line, ':');

		path = path != NULL ? strchr(path + 1, ':') : NULL;
		if (path == NULL || strcmp(path, ":/") != 0)
			leak("/proc/self/cgroup: '%.80s'", line);
	}
}

static void dynamic_debug_masked(void)
{
	long len = slurp("/proc/dynamic_debug/control");

	if (len > 0)
		leak("/proc/dynamic_debug/control lists the kernel's debug sites: '%.*s'",
		     (int)strcspn(text, "\n"), text);
}

int main(int argc, char **argv)
{
	static const char *const files[] = {"/proc/self/mountinfo", "/proc/self/mounts",
					    "/proc/1/cmdline", "/proc/self/cgroup"};
	char line[4096];
	FILE *list;
	int n = 0;

	(void)argc;
	escape_start(argv[0]);
	init_named();
	cgroups_at_root();
	dynamic_debug_masked();
	list = fopen("host_paths.list", "r");
	if (list == NULL)
		escaped("host_paths.list: %s (cannot test)", strerror(errno));
	while (fgets(line, sizeof(line), list) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "path ", 5) == 0 && line[5] != '\0') {
			for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
				no_path_in(files[i], line + 5);
			n++;
		} else if (strncmp(line, "empty ", 6) == 0) {
			empty_dir(line + 6);
			n++;
		}
	}
	(void)fclose(list);
	if (n == 0)
		escaped("host_paths.list names nothing (cannot test)");
	if (leaks > 0)
		escaped("%d things about where it runs (above)", leaks);
	blocked("PID 1 is " INIT_NAME ", cgroups at /, dynamic_debug masked, none of %d host "
		"paths visible",
		n);
}
