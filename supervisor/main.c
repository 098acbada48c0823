/*
 * supervisor/main.c - warden-supervisor, started by warden-init: one job,
 * from the handshake to the shutdown.
 *
 *   1. channel   open WARDEN_CHANNEL; READY until KEY; HELLO with the boot
 *                timings, the SHA-256 of PID 1's program, this program
 *                and the image manifest (channel.c, measure.c), and the
 *                root hash of the image's root filesystem as the kernel's
 *                dm-verity table has it, checked (rootfs.c)
 *   2. job       JOB; its policy checked against the image's own (baked.c);
 *                the wall clock set from the host's (wallclock.c); a
 *                fresh tmpfs on WARDEN_WORKDIR; the job's files, verified
 *                (job.c, workdir.c, upload.c)
 *   3. agent     the image's root filesystem checked (dm-verity, rootfs.c);
 *                spawned unprivileged (spawn.c); STARTED; streams, stdin,
 *                signals, timeout, reaping (agent.c); the root filesystem
 *                checked again, on every way out from the spawn on, its
 *                failure taking precedence (end_rootfs); EXIT
 *   4. the end   wait for SHUTDOWN, ask PID 1 for the orderly shutdown
 *                (SIGUSR2), exit 0 when its SIGTERM comes; or exit 0 when
 *                the host closes the channel after EXIT
 *
 * Fail closed: any failure is logged in one line, told to the host in an
 * ERROR frame when the channel still works, and ends the supervisor with a
 * non-zero status (fail.h); PID 1 then kills every process and ends the VM.
 * The supervisor runs as root, not dumpable, beyond the agent's reach; it
 * is single-threaded and every wait is in poll(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bearssl.h>

#include "../common/boottimes.h"
#include "../common/clock.h"
#include "../common/log.h"
#include "../common/jcanon.h"
#include "../common/parse.h"
#include "agent.h"
#include "audit.h"
#include "baked.h"
#include "channel.h"
#include "fail.h"
#include "job.h"
#include "measure.h"
#include "rootfs.h"
#include "../sandbox/sandbox.h"
#include "../sandbox/spawn.h"
#include "wallclock.h"
#include "../sandbox/workdir.h"

#define PROGRAM "warden-supervisor"
#define INIT_EXE "/proc/1/exe"
#define SELF_EXE "/proc/self/exe"
#define MANIFEST "/etc/warden/manifest"
#define TERM_WAIT_MS 60000            /* PID 1 sends TERM at once when asked to shut down */
#define PROC_PID_INIT_INO 0xEFFFFFFCU /* inode of the initial PID namespace */
#define AUDIT_ACK_IDLE_MS 30000       /* the longest the host may acknowledge nothing */

struct settings {
	const char *channel;     /* WARDEN_CHANNEL */
	const char *workdir;     /* WARDEN_WORKDIR */
	const char *init_record; /* WARDEN_INIT_RECORD: PID 1's own, canonical JSON; NULL none */
	bool vm;                 /* WARDEN_MODE: "vm", or "ns" */
	uint32_t agent_uid; /* WARDEN_AGENT_UID (ns only): the host's id for the agent; 0 none */
	struct wd_boot_times times;
	struct sup_rootfs rootfs; /* WARDEN_ROOTFS*: the image's verified root filesystem */
};

struct supervisor {
	struct settings set;
	struct sup_channel ch;
	int sigfd;
	bool agent_started;
	bool rootfs_end_due;       /* the agent was spawned: the end check is owed (end_rootfs) */
	struct wd_policy policy;   /* the job's, read once */
	struct sup_sb_ready ready; /* the filter and the job's cgroup */
};

/* Every string of the job points in here. */
static alignas(max_align_t) unsigned char job_arena[WD_JOB_ARENA_BYTES];

/* WARDEN_AGENT_UID: only in namespace mode, where the host's ids are
 * shared; a VM has a kernel of its own and keeps the policy's ids. */
static int read_agent_uid(struct settings *s)
{
	const char *v = getenv("WARDEN_AGENT_UID");
	struct wd_err err;
	uint64_t id;

	if (v == NULL)
		return 0;
	if (s->vm) {
		wd_error("WARDEN_AGENT_UID (warden.agent_uid) is for namespace mode only: "
			 "in a VM the agent's ids are the policy's");
		return -EINVAL;
	}
	if (wd_parse_u64(v, 1, 0xfffffffeULL, &id, &err) < 0) {
		wd_error("WARDEN_AGENT_UID: %s", err.msg);
		return -EINVAL;
	}
	s->agent_uid = (uint32_t)id;
	return 0;
}

static int read_settings(struct settings *s)
{
	const char *level = getenv("WARDEN_LOG"), *mode = getenv("WARDEN_MODE");
	const char *times = getenv(WD_BOOT_TIMES_ENV);
	enum wd_log_level lvl;
	struct wd_err err;

	if (level != NULL && wd_log_level_parse(level, &lvl) == 0)
		wd_log_set_level(lvl);
	memset(s, 0, sizeof(*s));
	s->channel = getenv("WARDEN_CHANNEL");
	s->workdir = getenv("WARDEN_WORKDIR");
	s->init_record = getenv("WARDEN_INIT_RECORD");
	if (s->channel == NULL || s->workdir == NULL || mode == NULL) {
		wd_error("WARDEN_CHANNEL, WARDEN_MODE and WARDEN_WORKDIR must be set "
			 "(warden-supervisor is started by warden-init)");
		return -EINVAL;
	}
	if (strcmp(mode, "vm") != 0 && strcmp(mode, "ns") != 0) {
		wd_error("WARDEN_MODE: '%.16s', neither vm nor ns", mode);
		return -EINVAL;
	}
	s->vm = strcmp(mode, "vm") == 0;
	if (s->workdir[0] != '/') {
		wd_error("WARDEN_WORKDIR: '%.64s' is not an absolute path", s->workdir);
		return -EINVAL;
	}
	if (read_agent_uid(s) < 0)
		return -EINVAL;
	if (sup_rootfs_settings(getenv("WARDEN_ROOTFS"), getenv("WARDEN_ROOTFS_HASH"),
				getenv("WARDEN_ROOTFS_DM"), &s->rootfs, &err) < 0) {
		wd_error("%s", err.msg);
		return -EINVAL;
	}
	if (times == NULL)
		wd_warn("%s is not set: boot timings reported as 0", WD_BOOT_TIMES_ENV);
	else if (wd_boot_times_parse(times, &s->times, &err) < 0)
		wd_warn("%s: %s; reported as 0", WD_BOOT_TIMES_ENV, err.msg);
	return 0;
}

/*
 * kill(-1) ends the job: it must only ever reach the guest's processes.
 * The supervisor is PID 1's child, and in namespace mode never in the
 * initial PID namespace (where it would reach the host's processes).
 */
static int check_place(const struct settings *s)
{
	struct stat st;

	if (getppid() != 1) {
		wd_error("must be started by warden-init, as a child of PID 1");
		return -EPERM;
	}
	if (!s->vm && (stat("/proc/self/ns/pid", &st) < 0 || st.st_ino == PROC_PID_INIT_INO)) {
		wd_error("namespace mode outside a PID namespace of its own: refusing");
		return -EPERM;
	}
	return 0;
}

/* fds 0-2 always open, so that no pipe or channel can land on them. */
static void stdio_open(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			wd_warn("fd %d: cannot open /dev/null", fd);
}

static int process_setup(int *sigfd)
{
	sigset_t chld;

	umask(022);
	/* A vanished host or agent shows up as EPIPE, not as death. */
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		return -errno;
	(void)sigemptyset(&chld);
	(void)sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0)
		return -errno;
	*sigfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sigfd < 0)
		return -errno;
	/* Orphans of the agent become ours to reap and to count. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL) < 0)
		return -errno;
	/* The job key lives here: no core dump, no ptrace by anyone but root. */
	if (prctl(PR_SET_DUMPABLE, 0UL, 0UL, 0UL, 0UL) < 0)
		return -errno;
	return 0;
}

/*
 * HELLO's measurements. The root hash it reports is the one in the table
 * the kernel has for WARDEN_ROOTFS_DM, read here (sup_rootfs_check: one
 * verity target, status 'V', its root digest WARDEN_ROOTFS_HASH), not
 * the environment's word for it: a device that is not that, or has seen
 * corruption, fails before the handshake (SUP_FAIL_INTEGRITY): no job,
 * no secret comes to a guest whose root is not what it claims. Without a
 * handshake no record reaches the host: the failure record (code
 * "integrity", the device named) and PID 1's log of the exit status say
 * it, no verity-corruption record.
 */
static int measure(const struct settings *s, struct wd_hello *h, struct sup_fail *f)
{
	struct sup_verity v;
	int rc;

	memset(h, 0, sizeof(*h));
	h->version = WD_PROTO_VERSION;
	(void)snprintf(h->mode, sizeof(h->mode), "%s", s->vm ? "vm" : "ns");
	h->boot = s->times;
	if (sup_sha256_file(INIT_EXE, h->init_sha256, &f->err) < 0 ||
	    sup_sha256_file(SELF_EXE, h->supervisor_sha256, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "hello");
	rc = sup_sha256_file(MANIFEST, h->manifest_sha256, &f->err);
	if (rc == -ENOENT)
		h->manifest_sha256[0] = '\0';
	else if (rc < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "hello");
	(void)wd_b64_encode(sup_audit_pubkey()->spki, WD_SPKI_BYTES, h->audit_pubkey,
			    sizeof(h->audit_pubkey));
	wd_hex(sup_audit_pubkey()->id, WD_KEY_ID_BYTES, h->audit_key_id);
	(void)snprintf(h->audit_origin, sizeof(h->audit_origin), "%s", sup_audit_origin());
	if (s->rootfs.on) {
		if (sup_rootfs_check(&s->rootfs, &v, &f->err) < 0)
			return sup_fail_wrap(f, SUP_FAIL_INTEGRITY, "hello");
		memcpy(h->rootfs_root_hash, v.root_hash, sizeof(h->rootfs_root_hash));
	}
	wd_debug("measured: init %s, supervisor %s, manifest %s, rootfs %s", h->init_sha256,
		 h->supervisor_sha256, h->manifest_sha256[0] != '\0' ? h->manifest_sha256 : "none",
		 h->rootfs_root_hash[0] != '\0' ? h->rootfs_root_hash : "none");
	return 0;
}

/* ---- records (docs/audit.md lists them) ---------------------------------- */

/* The first record: what runs, and the key that signs the log. */
static int record_start(const struct wd_hello *h, struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "init_sha256", h->init_sha256);
	wd_jw_str(&w, "key_id", h->audit_key_id);
	wd_jw_str(&w, "manifest_sha256", h->manifest_sha256);
	wd_jw_str(&w, "mode", h->mode);
	wd_jw_str(&w, "origin", h->audit_origin);
	wd_jw_str(&w, "pubkey", h->audit_pubkey);
	wd_jw_str(&w, "rootfs_root_hash", h->rootfs_root_hash);
	wd_jw_str(&w, "supervisor_sha256", h->supervisor_sha256);
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the start record");
	return sup_record("lifecycle", "start", "success", "informational", data, f);
}

/* PID 1's record: what it set up before this process ran, as it wrote it;
 * checked (canonical JSON, bounded) before it goes into the log. */
static int record_boot(const struct settings *set, struct sup_fail *f)
{
	static struct wd_jscan scan;
	struct sup_audit_event ev = {"lifecycle",   "boot", "success", "informational",
				     "warden-init", 1,      0,         set->init_record};
	const char *r = set->init_record;

	if (r == NULL || wd_jcanon_scan(r, strlen(r), SUP_AUDIT_DATA_MAX, &scan, &f->err) < 0) {
		wd_warn("WARDEN_INIT_RECORD: %s", r == NULL ? "not set" : f->err.msg);
		ev.outcome = "failure";
		ev.data = "{\"error\":\"no valid record from warden-init\"}";
	}
	if (sup_audit_record(&ev, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

static int record_channel(const struct supervisor *sv, struct sup_fail *f)
{
	char data[256];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "channel", sv->set.channel);
	wd_jw_str(&w, "mac", "gmac-aes-256");
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the channel record");
	return sup_record("auth", "channel", "success", "informational", data, f);
}

/* The job as asked (counts and digests only: arguments and environment
 * may hold secrets) and the policy it brought, `baked` when it is the
 * image's own (baked.h). */
static int record_job(const struct wd_job *job, bool baked, struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX], digest[WD_SHA256_HEX];
	uint8_t h[WD_HASH_BYTES];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_uint(&w, "argc", job->argc);
	wd_jw_uint(&w, "envc", job->envc);
	wd_jw_uint(&w, "files", job->nfiles);
	wd_jw_uint(&w, "mem_mib", job->mem_mib);
	wd_jw_uint(&w, "timeout_ms", job->timeout_ms);
	wd_jw_bool(&w, "tty", job->tty);
	if (wd_jw_end(&w) < 0 ||
	    sup_record("lifecycle", "job", "success", "informational", data, f) < 0)
		return f->err.code != 0 ? -f->err.code : -ENOSPC;
	wd_sha256(job->policy, strlen(job->policy), h);
	wd_hex(h, sizeof(h), digest);
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_bool(&w, "baked", baked);
	wd_jw_uint(&w, "bytes", strlen(job->policy));
	wd_jw_str(&w, "sha256", digest);
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the policy record");
	return sup_record("policy", "load", "success", "informational", data, f);
}

/* The agent's start: its argv as a digest (SHA-256 over each argument and
 * its NUL), who it runs as and its limits. Its exec, and its children's,
 * are process/exec records of their own (agent.c). */
static int record_exec(const struct supervisor *sv, const struct wd_job *job, pid_t pid,
		       struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX], digest[WD_SHA256_HEX];
	const struct sup_sandbox *sb = &sv->policy.sandbox;
	struct sup_audit_event ev = {"process", "start",  "success",     "informational",
				     "agent",   (int)pid, (long)sb->uid, data};
	br_sha256_context c;
	uint8_t h[WD_HASH_BYTES];
	struct wd_jw w;

	br_sha256_init(&c);
	for (size_t i = 0; i < job->argc; i++)
		br_sha256_update(&c, job->argv[i], strlen(job->argv[i]) + 1);
	br_sha256_out(&c, h);
	wd_hex(h, sizeof(h), digest);
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_uint(&w, "argc", job->argc);
	wd_jw_str(&w, "argv_sha256", digest);
	wd_jw_uint(&w, "gid", (uint64_t)sb->gid);
	wd_jw_object(&w, "limits");
	wd_jw_uint(&w, "nofile", sb->nofile);
	wd_jw_uint(&w, "nproc", sb->nproc);
	wd_jw_uint(&w, "timeout_ms", job->timeout_ms);
	wd_jw_close(&w);
	wd_jw_str(&w, "path", job->argv[0]);
	wd_jw_uint(&w, "uid", (uint64_t)sb->uid);
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the exec record");
	if (sup_audit_record(&ev, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

/* Limits the job hit, and its end; then a checkpoint covers it all. */
static int record_end(const struct wd_exit *e, struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX];
	struct wd_jw w;

	if (e->timed_out && sup_record("limit", "deadline", "failure", "medium", "{}", f) < 0)
		return -f->err.code;
	if (e->oom_killed && sup_record("limit", "memory", "failure", "medium", "{}", f) < 0)
		return -f->err.code;
	if (e->audit_budget != NULL && sup_audit_record_spent(&f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_bool(&w, "core_dumped", e->core_dumped);
	wd_jw_uint(&w, "maxrss_kib", e->maxrss_kib);
	wd_jw_bool(&w, "oom_killed", e->oom_killed);
	wd_jw_uint(&w, "signal", (uint64_t)e->signal);
	wd_jw_uint(&w, "status", (uint64_t)e->status);
	wd_jw_uint(&w, "stime_us", e->stime_us);
	wd_jw_bool(&w, "timed_out", e->timed_out);
	wd_jw_uint(&w, "utime_us", e->utime_us);
	if (wd_jw_end(&w) < 0)
		return sup_fail_set(f, SUP_FAIL_INTERNAL, ENOSPC, "audit: the end record");
	if (sup_record("lifecycle", "job-end", e->status == 0 ? "success" : "failure",
		       "informational", data, f) < 0)
		return -f->err.code;
	if (sup_audit_checkpoint(&f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

/*
 * The image's root filesystem as dm-verity sees it (rootfs.h), `when`
 * "start" (before the agent) or "end" (after it): corruption seen, or a
 * kernel that cannot say, fails the job closed, with its record.
 */
static int check_rootfs(const struct supervisor *sv, const char *when, struct sup_fail *f)
{
	const struct sup_rootfs *r = &sv->set.rootfs;
	char data[SUP_AUDIT_DATA_MAX];
	struct sup_fail rec;
	struct sup_verity v;
	struct wd_jw w;

	if (!r->on)
		return 0;
	if (sup_rootfs_check(r, &v, &f->err) == 0) {
		wd_debug("rootfs: dm %s (data %s) verified so far (%s)", r->dm, v.data, when);
		return 0;
	}
	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "data", v.data);
	wd_jw_str(&w, "dm", r->dm);
	if (v.state != 'C')
		wd_jw_str(&w, "error", f->err.msg);
	wd_jw_str(&w, "when", when);
	sup_fail_clear(&rec);
	if (wd_jw_end(&w) < 0 ||
	    sup_record("image", "verity-corruption", "failure", "critical", data, &rec) < 0)
		wd_warn("audit: the rootfs record: %s",
			rec.err.msg[0] != '\0' ? rec.err.msg : "too long");
	return sup_fail_wrap(f, SUP_FAIL_INTEGRITY, "%s the agent",
			     strcmp(when, "start") == 0 ? "before" : "after");
}

/*
 * What the job came to, `rc` (0, or -code with `f` filled), weighed
 * against the root filesystem's check `when`: a job that failed reading
 * the image (its top-level directories, a bind of the sandbox), or whose
 * channel, protocol or audit failed while the agent ran, may have failed
 * because a block did not match its hash. A failed check is then the
 * failure, with its record, whatever else failed (that is logged): the
 * audit trail must say what happened. Returns -code of what stands, or 0.
 */
static int blame_rootfs(const struct supervisor *sv, const char *when, int rc, struct sup_fail *f)
{
	struct sup_fail g;

	sup_fail_clear(&g);
	if (check_rootfs(sv, when, &g) == 0)
		return rc;
	if (rc < 0)
		wd_warn("%s (the root filesystem's failure stands instead)", f->err.msg);
	*f = g;
	return -f->err.code;
}

/*
 * The end check, owed from the agent's spawn on and made exactly once, on
 * every way out after it: serve() makes it as soon as the agent's run is
 * over, whatever its outcome; main() makes it on any other way out (a
 * record or STARTED that failed after the spawn), after the agent is
 * killed and before the final records. `rc` as for blame_rootfs().
 */
static int end_rootfs(struct supervisor *sv, int rc, struct sup_fail *f)
{
	if (!sv->rootfs_end_due)
		return rc;
	sv->rootfs_end_due = false;
	return blame_rootfs(sv, "end", rc, f);
}

/*
 * The image's own policy, if it has one (baked.h): another policy, or
 * none, is refused with its record. *baked: the job runs the image's.
 * Only in the microVM: in namespace mode the root is the host's, not an
 * image's.
 */
static int check_baked(const struct supervisor *sv, const struct wd_job *job, bool *baked,
		       struct sup_fail *f)
{
	char data[SUP_AUDIT_DATA_MAX];
	struct sup_baked b;
	struct sup_fail rec;
	struct wd_jw w;
	int rc;

	*baked = false;
	if (!sv->set.vm)
		return 0;
	rc = sup_baked_policy(SUP_BAKED_POLICY, job->policy, &b, &f->err);
	*baked = rc == 0 && b.pinned;
	if (rc == 0)
		return 0;
	if (rc == -EPERM) {
		wd_jw_init(&w, data, sizeof(data));
		wd_jw_str(&w, "baked_sha256", b.sha256);
		wd_jw_str(&w, "file_sha256", b.file);
		wd_jw_str(&w, "path", SUP_BAKED_POLICY);
		wd_jw_str(&w, "sha256", b.job);
		sup_fail_clear(&rec);
		if (wd_jw_end(&w) < 0 ||
		    sup_record("policy", "baked-mismatch", "denied", "high", data, &rec) < 0)
			wd_warn("audit: the policy record: %s",
				rec.err.msg[0] != '\0' ? rec.err.msg : "too long");
	}
	return sup_fail_wrap(f, SUP_FAIL_JOB, "job");
}

static int handshake(struct supervisor *sv, struct sup_fail *f)
{
	struct wd_hello hello;
	uint64_t t0 = sv->set.times.t0_ns;

	uint64_t ready_ns;

	/* Ready means the channel is open; measuring follows, before the HELLO. */
	if (sup_channel_open(&sv->ch, sv->set.channel, f) < 0)
		return -f->err.code;
	sup_audit_attach(&sv->ch);
	ready_ns = t0 != 0 ? wd_mono_ns() - t0 : 0;
	wd_info("ready on %s, %.2f ms after init started", sv->set.channel, (double)ready_ns / 1e6);
	if (measure(&sv->set, &hello, f) < 0 || record_start(&hello, f) < 0 ||
	    record_boot(&sv->set, f) < 0)
		return -f->err.code;
	hello.ready_ns = ready_ns;
	if (sup_channel_handshake(&sv->ch, &hello, f) < 0)
		return -f->err.code;
	wd_info("handshake done: the channel is authenticated");
	return record_channel(sv, f);
}

/* The job's sandbox: its policy, the record of what it weakened, the
 * layers checked and compiled before anything runs. */
static int prepare_sandbox(struct supervisor *sv, const struct wd_job *job, struct sup_fail *f)
{
	struct sup_sandbox *sb = &sv->policy.sandbox;
	char json[SUP_SB_WEAKENED_BYTES];
	size_t i = 0;

	if (wd_policy_read(job->policy, strlen(job->policy), &sv->policy, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "job");
	if (sv->set.agent_uid != 0 && sup_sandbox_host_id(sb, sv->set.agent_uid, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "job");
	/* In the microVM the binds and WARDEN_WORKDIR are the image's: its
	 * verified root filesystem's when it has one (WARDEN_ROOTFS), else
	 * the initramfs's; in namespace mode they are the host's, and the
	 * agent sees neither the host's path of its working directory (it is
	 * /work, the default) nor what the host keeps below /usr
	 * (docs/sandbox.md). */
	sb->binds_from_host = !sv->set.vm;
	/* The policy's egress section turns the proxies on: their listeners
	 * in the agent's namespace, no resolver, bypass records (sandbox.h). */
	sb->egress = sv->policy.egress.present;
	if (sv->set.rootfs.on && sup_sandbox_image(sb, sv->set.rootfs.mount, &f->err) < 0) {
		return blame_rootfs(
			sv, "start",
			sup_fail_wrap(f, SUP_FAIL_JOB, "job: the image's root filesystem"), f);
	}
	if (sv->set.vm && (size_t)snprintf(sb->workdir, sizeof(sb->workdir), "%s",
					   sv->set.workdir) >= sizeof(sb->workdir))
		return sup_fail_set(f, SUP_FAIL_JOB, ENAMETOOLONG, "WARDEN_WORKDIR too long");
	if (sup_audit_set_limits(&sv->policy.audit, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "job");
	while (sup_sandbox_weakened_record(sb, &i, json, sizeof(json)) != NULL)
		if (sup_record("policy", "layer-off", "success", "high", json, f) < 0)
			return -f->err.code;
	if (sup_sandbox_prepare(sb, &sv->ready, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "job");
	return 0;
}

/* Clock, sandbox, working directory, files, cwd, then the agent and STARTED. */
static int start_job(struct supervisor *sv, const struct wd_job *job, struct sup_agent *a,
		     struct sup_fail *f)
{
	static const char *agent_env[WD_JOB_MAX_ENV + SUP_SB_PROXY_ENV_N + 1];
	uint64_t size_mib = job->mem_mib != 0 ? job->mem_mib : SUP_WORKDIR_DEFAULT_MIB;
	struct wd_job agent_job;
	struct sup_spawn sp;
	struct sup_notify notify = {0};
	char started[64];
	int dirfd = -1, cwdfd = -1, rc, n;

	if (sup_clock_sync(job->clock_realtime_ns, sv->set.vm, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "job");
	if (prepare_sandbox(sv, job, f) < 0)
		return -f->err.code;
	if (sup_workdir_mount(sv->set.workdir, size_mib, sv->policy.sandbox.uid,
			      sv->policy.sandbox.gid, &dirfd, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_JOB, "working directory");
	rc = sup_job_files(&sv->ch, job, dirfd, sv->policy.sandbox.uid, sv->policy.sandbox.gid, f);
	/* The cwd is checked here, with a clear error, and entered again
	 * inside the sandbox. */
	if (rc == 0 &&
	    sup_workdir_open_dir(dirfd, job->cwd != NULL ? job->cwd : "", &cwdfd, &f->err) < 0)
		rc = sup_fail_wrap(f, SUP_FAIL_JOB, "working directory");
	if (cwdfd >= 0)
		(void)close(cwdfd);
	/* The last look before the agent reads anything of the image. */
	if (rc == 0 && check_rootfs(sv, "start", f) < 0)
		rc = -f->err.code;
	if (rc < 0) {
		(void)close(dirfd);
		return rc;
	}
	/* The job as asked, but for its environment: with egress, the
	 * proxies' (sandbox.h: sup_sb_agent_env). */
	agent_job = *job;
	n = sup_sb_agent_env(&sv->policy.sandbox, job->env, job->env != NULL ? job->envc : 0,
			     agent_env, sizeof(agent_env) / sizeof(agent_env[0]));
	if (n < 0) {
		(void)close(dirfd);
		return sup_fail_set(f, SUP_FAIL_JOB, E2BIG, "job: the agent's environment");
	}
	agent_job.env = agent_env;
	agent_job.envc = (size_t)n;
	memset(&sp, 0, sizeof(sp));
	sp.job = &agent_job;
	sp.sb = &sv->policy.sandbox;
	sp.filter = sv->policy.sandbox.seccomp_off ? NULL : &sv->ready.filter;
	sp.cgroup_fd = sv->ready.cg.dirfd;
	sp.workdir_fd = dirfd;
	sp.secrets = &sv->ch.conn.chan;
	notify.uid = (long)sv->policy.sandbox.uid;
	notify.fail = f;
	sup_denials_open(notify.uid);
	sp.record = sup_record_notification;
	sp.exec = sv->ready.exec;
	sp.record_exec = sup_record_exec;
	sp.record_ctx = &notify;
	rc = sup_spawn(&sp, a, &f->err);
	(void)close(dirfd);
	if (rc < 0)
		return blame_rootfs(sv, "start", sup_fail_wrap(f, SUP_FAIL_JOB, "agent"), f);
	a->cg = sv->ready.cg.dirfd >= 0 ? &sv->ready.cg : NULL;
	a->errnos = &sv->ready.filter.errnos;
	a->exec = sv->ready.exec;
	a->uid = (long)sv->policy.sandbox.uid;
	sv->agent_started = true;
	sv->rootfs_end_due = true;
	if (record_exec(sv, job, a->pid, f) < 0)
		return -f->err.code;
	wd_info("agent: started in its sandbox, pid %d, uid %d%s", (int)a->pid,
		(int)sv->policy.sandbox.uid, a->tty ? ", on a terminal" : "");
	n = wd_started_encode((int)a->pid, started, sizeof(started), &f->err);
	if (n < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "STARTED");
	return sup_channel_send(&sv->ch, WD_MSG_STARTED, WD_STREAM_CONTROL, started, (size_t)n, f);
}

/*
 * Until the host has acknowledged every record: as long as it keeps
 * acknowledging, and at most AUDIT_ACK_IDLE_MS without progress. What the
 * host sends meanwhile that has nobody to go to (stdin, signals, window
 * sizes after the agent's end; the rest of an upload that failed) is
 * dropped; SHUTDOWN and ERROR end the wait.
 */
static int await_acks(struct supervisor *sv, struct sup_fail *f)
{
	while (!sup_audit_all_acked()) {
		struct wd_frame fr;
		int rc;

		if (sup_audit_pump(&sv->ch, f) < 0 ||
		    sup_channel_flush(&sv->ch, AUDIT_ACK_IDLE_MS, f) < 0)
			return -f->err.code;
		rc = wd_conn_recv_wait(&sv->ch.conn, &fr, AUDIT_ACK_IDLE_MS, &f->err);
		if (rc < 0)
			return sup_fail_wrap(f, sup_channel_read_fail_kind(rc),
					     "waiting for the host's AUDIT_ACK");
		if (fr.type == WD_MSG_AUDIT_ACK) {
			if (sup_audit_ack(&fr, f) < 0)
				return -f->err.code;
			continue;
		}
		if (sup_channel_end_frame(&fr, f) < 0)
			return -f->err.code;
		/* Egress frames in flight when the streams were closed: dropped. */
		if (!(fr.type == WD_MSG_DATA || fr.type == WD_MSG_SIGNAL ||
		      fr.type == WD_MSG_WINSIZE || wd_frame_is_egress(fr.type, fr.stream)))
			return sup_channel_unexpected(&fr, "the wait for AUDIT_ACK", f);
	}
	return 0;
}

static int send_exit(struct supervisor *sv, const struct wd_exit *e, struct sup_fail *f)
{
	char json[256];
	int n = wd_exit_encode(e, json, sizeof(json), &f->err);

	if (n < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "EXIT");
	if (e->signal != 0)
		wd_info("agent: killed by signal %d%s%s, status %d", e->signal,
			e->core_dumped ? ", core dumped" : "", e->timed_out ? ", timed out" : "",
			e->status);
	else
		wd_info("agent: exited with status %d%s", e->status,
			e->timed_out ? ", timed out" : "");
	if (e->audit_budget != NULL)
		wd_info("agent: killed: the audit budget audit.%s is spent", e->audit_budget);
	/* After EXIT a broken channel is the end: the host stops resuming it too. */
	sv->ch.final = true;
	return sup_channel_send(&sv->ch, WD_MSG_EXIT, WD_STREAM_CONTROL, json, (size_t)n, f);
}

/* After EXIT: SHUTDOWN (a "failure" of kind SUP_FAIL_SHUTDOWN), or the
 * host closing the channel (0). */
static int await_shutdown(struct supervisor *sv, struct sup_fail *f)
{
	for (;;) {
		struct wd_frame fr;

		if (sup_channel_recv(&sv->ch, &fr, SUP_HOST_WAIT_MS, f) < 0) {
			if (f->kind == SUP_FAIL_CHANNEL && f->err.code == EPIPE) {
				wd_info("the host closed the channel");
				return 0;
			}
			return -f->err.code;
		}
		/* Sent before the host saw EXIT: nobody to give them to. */
		if ((fr.type == WD_MSG_DATA && fr.stream == WD_STREAM_STDIN) ||
		    fr.type == WD_MSG_SIGNAL || fr.type == WD_MSG_WINSIZE ||
		    wd_frame_is_egress(fr.type, fr.stream))
			continue;
		return sup_channel_unexpected(&fr, "the wait for SHUTDOWN", f);
	}
}

static int serve(struct supervisor *sv, struct sup_fail *f)
{
	struct sup_agent agent;
	struct wd_exit result;
	struct wd_job job;
	bool baked = false;
	int rc;

	if (handshake(sv, f) < 0 ||
	    sup_job_receive(&sv->ch, &job, job_arena, sizeof(job_arena), f) < 0 ||
	    check_baked(sv, &job, &baked, f) < 0 || record_job(&job, baked, f) < 0 ||
	    start_job(sv, &job, &agent, f) < 0)
		return -f->err.code;
	rc = sup_agent_run(&sv->ch, &job, &agent, sv->sigfd, &sv->policy.egress, &result, f);
	sv->agent_started = false; /* whatever the outcome, the run killed and reaped it all */
	sup_sandbox_release(&sv->ready);
	wd_policy_free(&sv->policy);
	/* The job is over when its records are on the host's disk: only then
	 * EXIT, so that the host never ends a VM that still holds records. A
	 * root filesystem that turned out corrupt fails the job whatever the
	 * agent's status or the run's own failure: there is no EXIT, the host
	 * gets ERROR (end_rootfs). */
	if (end_rootfs(sv, rc, f) < 0 || record_end(&result, f) < 0 || await_acks(sv, f) < 0 ||
	    send_exit(sv, &result, f) < 0)
		return -f->err.code;
	return await_shutdown(sv, f);
}

/*
 * The log's last records: what ends the supervisor, a checkpoint over
 * everything, and the wait for the host to acknowledge it all (the host
 * keeps reading and acknowledging after EXIT). Best effort: the channel
 * may be what failed.
 */
static void audit_final(struct supervisor *sv, const char *activity, const char *outcome,
			const char *data)
{
	struct sup_fail f;

	sup_fail_clear(&f);
	if (sup_record("lifecycle", activity, outcome, "informational", data, &f) < 0 ||
	    sup_audit_checkpoint(&f.err) < 0) {
		wd_warn("audit: %s", f.err.msg);
		return;
	}
	if (sv->ch.open && sv->ch.conn.chan.keyed && await_acks(sv, &f) < 0)
		wd_warn("audit: records up to %llu not acknowledged: %s",
			(unsigned long long)sup_audit_last_seq(), f.err.msg);
}

/* The supervisor gives up: why, as a record before the ERROR frame. */
static void audit_failure(struct supervisor *sv, const struct sup_fail *fail)
{
	char data[SUP_AUDIT_DATA_MAX];
	struct wd_jw w;

	wd_jw_init(&w, data, sizeof(data));
	wd_jw_str(&w, "code", sup_fail_code(fail->kind));
	wd_jw_str(&w, "message", fail->err.msg);
	if (wd_jw_end(&w) < 0)
		(void)snprintf(data, sizeof(data), "{}");
	if (fail->kind == SUP_FAIL_PROTOCOL)
		(void)sup_record("auth", "reject", "denied", "high", data, &(struct sup_fail){0});
	audit_final(sv, "failure", "failure", data);
}

/* SHUTDOWN from the host: PID 1 runs the orderly sequence and sends TERM. */
static int shut_down(struct supervisor *sv)
{
	struct timespec wait = {.tv_sec = TERM_WAIT_MS / 1000, .tv_nsec = 0};
	struct wd_err err;
	sigset_t term;

	audit_final(sv, "shutdown", "success", NULL);
	(void)wd_conn_flush_wait(&sv->ch.conn, SUP_ERROR_FLUSH_MS, &err);
	sup_channel_close(&sv->ch);
	sup_audit_close();
	(void)sigemptyset(&term);
	(void)sigaddset(&term, SIGTERM);
	(void)sigprocmask(SIG_BLOCK, &term, NULL);
	wd_info("shutdown: asking PID 1 to end the %s", sv->set.vm ? "VM" : "namespace");
	if (kill(1, SIGUSR2) < 0) {
		wd_error_sys(errno, "shutdown: kill(1, SIGUSR2)");
		return SUP_EXIT_INTERNAL;
	}
	while (sigtimedwait(&term, NULL, &wait) < 0) {
		if (errno != EINTR) {
			wd_warn("shutdown: no TERM from PID 1 in %d ms", TERM_WAIT_MS);
			break;
		}
	}
	return SUP_EXIT_OK;
}

/* The log, named after the VM (its host name, warden.hostname). */
static int open_audit(struct sup_fail *f)
{
	struct utsname u;

	if (uname(&u) < 0)
		return sup_fail_sys(f, SUP_FAIL_INTERNAL, errno, "uname");
	if (sup_audit_open(u.nodename, &f->err) < 0)
		return sup_fail_wrap(f, SUP_FAIL_INTERNAL, "audit");
	return 0;
}

int main(void)
{
	struct supervisor sv;
	struct sup_fail f;
	int rc;

	wd_log_init(PROGRAM, WD_LOG_INFO);
	memset(&sv, 0, sizeof(sv));
	sv.ch.conn.fd = -1;
	sv.ready.cg.dirfd = -1;
	sup_fail_clear(&f);
	stdio_open();
	if (read_settings(&sv.set) < 0 || check_place(&sv.set) < 0)
		return SUP_EXIT_ENV;
	rc = process_setup(&sv.sigfd);
	if (rc < 0) {
		wd_error_sys(-rc, "process setup");
		return SUP_EXIT_INTERNAL;
	}
	if (open_audit(&f) < 0) {
		wd_error("%s", f.err.msg);
		return SUP_EXIT_INTERNAL;
	}
	rc = serve(&sv, &f);
	if (rc < 0 && f.kind != SUP_FAIL_SHUTDOWN && (sv.agent_started || sv.ready.cg.dirfd >= 0)) {
		sup_cgroup_kill(&sv.ready.cg);
		sup_kill_all("the supervisor gives up");
	}
	/* Every way out passes here before its last records. */
	rc = end_rootfs(&sv, rc, &f);
	if (rc == 0) {
		audit_final(&sv, "end", "success", NULL);
		sup_channel_close(&sv.ch);
		sup_audit_close();
		return SUP_EXIT_OK;
	}
	if (f.kind == SUP_FAIL_SHUTDOWN)
		return shut_down(&sv);
	wd_error("%s", f.err.msg);
	audit_failure(&sv, &f);
	sup_channel_report(&sv.ch, &f);
	sup_channel_close(&sv.ch);
	sup_audit_close();
	return sup_fail_exit_status(f.kind);
}
