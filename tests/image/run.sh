#!/usr/bin/env bash
# tests/image/run.sh BINDIR KERNEL_DIR IMAGE ROOTFS_TAR - a golden image with
# a real root filesystem, end to end, in the microVM.
#
# `warden image build` makes an image from the Debian bookworm minbase tar
# with python3 (image/debian-rootfs.sh, cached under build/rootfs), and
# `warden run --image OUTDIR` boots it: Python runs from the verified erofs
# root (python3 -c, the sample agent examples/agent.py), the agent can write
# nowhere in that root, the boot record names the root hash the manifest
# pins. Then copies of the image are tampered with after the build: a data
# block of one file (the read fails in the guest, the job fails closed with
# exit 125 and an image/verity-corruption record naming the device), and a
# byte of the hash tree (refused at setup: the VM ends with one line). The
# escape battery's filesystem and privilege programs run against the image
# from tests/escape/run.sh (ESCAPE_IMAGE_DIR); see there.
#
# No timing assertions; limits only keep anything from hanging.
set -euo pipefail

if [[ $# -ne 4 ]]; then
	echo "usage: tests/image/run.sh BINDIR KERNEL_DIR IMAGE ROOTFS_TAR" >&2
	exit 2
fi
BIN=$(cd -- "$1" && pwd)
KERNEL_DIR=$(cd -- "$2" && pwd)
BASE=$(cd -- "$(dirname -- "$3")" && pwd)/$(basename -- "$3")
TAR=$4
HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd -- "$HERE/../.." && pwd)
WARDEN=$BIN/warden
readonly JOB_LIMIT=300 # seconds; a TCG boot with Python takes some

# shellcheck source=tests/lib/report.sh
. "$ROOT/tests/lib/report.sh"

WORK=$(mktemp -d /tmp/warden-image-run.XXXXXX)
trap 'rm -rf -- "$WORK"' EXIT
IMG=$WORK/debian-python

report_detail() {
	local f
	for f in "$WORK/$1.err" "$WORK/$1.console"; do
		[[ -s $f ]] && sed 's/^/    | /' "$f" | grep -v '^    | warden: info:   ' | tail -15
	done
	return 0
}

if [[ ! -s $TAR ]]; then
	echo "image-run: no Debian root filesystem tar at $TAR (image/debian-rootfs.sh makes it;" \
		"it needs deb.debian.org)" >&2
	exit 1
fi

# run_job NAME IMAGE_DIR [warden run options] -- COMMAND...: status in `rc`,
# output in $WORK/NAME.{out,err,console}, the audit log in $WORK/NAME.audit.
run_job() {
	local t=$1 img=$2
	shift 2
	rc=0
	"$WARDEN" run --image "$img" --timeout "$JOB_LIMIT" --console "$WORK/$t.console" \
		--audit-dir "$WORK/$t.audit" "$@" >"$WORK/$t.out" 2>"$WORK/$t.err" || rc=$?
}

# The records of a job's audit log, as JSON lines.
records() { "$WARDEN" audit show "$WORK/$1.audit" --json 2>/dev/null; }

# tamper FILE OFFSET: flip the bits of one byte.
tamper() {
	python3 - "$1" "$2" <<'EOF'
import sys
path, off = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0xFF]))
EOF
}

# copy_image NAME: a copy of the built image to tamper with (reflinks where
# the filesystem has them; a plain copy otherwise).
copy_image() {
	cp -r --reflink=auto -- "$IMG" "$WORK/$1"
}

test_image_is_built_and_verifies() {
	local t=${FUNCNAME[0]} rc=0
	"$WARDEN" image build --rootfs "$TAR" --name debian-python --kernel "$KERNEL_DIR" \
		--base "$BASE" --output "$IMG" >"$WORK/$t.out" 2>"$WORK/$t.err" || rc=$?
	[[ $rc -eq 0 ]] || { fail "$t" "warden image build exited $rc"; return 1; }
	"$WARDEN" image verify "$IMG" >"$WORK/$t.out" 2>&1 || { fail "$t" "verify: $(tail -1 "$WORK/$t.out")"; return 1; }
	grep -q 'setuid bit stripped' "$WORK/$t.err" || { fail "$t" "no line for the stripped setuid bits of su, mount, passwd"; return 1; }
	ok "$t"
}

test_python_runs_from_the_verified_root() {
	local t=${FUNCNAME[0]} hash
	run_job "$t" "$IMG" -- /usr/bin/python3 -c \
		'import ssl, json, sqlite3, sys; print("ok", sys.version_info[0], ssl.OPENSSL_VERSION.split()[0], sqlite3.sqlite_version, json.dumps([1]))'
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc"; return; }
	grep -Eq '^ok 3 OpenSSL 3\.[0-9.]+ \[1\]$' "$WORK/$t.out" || { fail "$t" "unexpected output: $(head -c 200 "$WORK/$t.out")"; return; }
	hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["rootfs"]["verity"]["root_hash"])' "$IMG/manifest.json")
	records "$t" | grep '"activity":"boot"' | grep -q "\"root_hash\":\"$hash\"" ||
		{ fail "$t" "the boot record does not name the manifest's root hash $hash"; return; }
	records "$t" | grep '"activity":"boot"' | grep -q '"module_sig_enforce":true' ||
		{ fail "$t" "the boot record does not say module signatures are enforced"; return; }
	ok "$t"
}

test_sample_python_agent_does_its_task() {
	local t=${FUNCNAME[0]}
	run_job "$t" "$IMG" --file "$ROOT/examples/agent.py:agent.py" \
		--file "$ROOT/examples/task.txt:task.txt" -- /usr/bin/python3 agent.py
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc"; return; }
	python3 - "$WORK/$t.out" <<'EOF' || { fail "$t" "the report is not what the agent should see"; return; }
import json, sys
r = json.load(open(sys.argv[1]))
assert r["executable"] == "/usr/bin/python3", r["executable"]
assert r["uid"] != 0 and r["task_words"] == 9, r
assert r["ca_certificates"] > 100, r["ca_certificates"]
assert r["writable"] == {"/usr": False, "/etc": False, "/": False, "/tmp": True, "/work": True}, r["writable"]
EOF
	ok "$t"
}

# Every directory of the root filesystem the agent sees (but the writable
# tmpfs ones), and files in each: no create, no rename, no chmod, no open
# for writing, no hard link or symlink placed, no utime works; and no file
# of the image is set-user-ID, set-group-ID or a device node (the build
# stripped su, mount, passwd... and the tar's /dev nodes).
test_agent_cannot_write_in_the_root_filesystem() {
	local t=${FUNCNAME[0]}
	cat >"$WORK/writer.py" <<'EOF'
import os, stat, sys
skip = ("/proc", "/dev", "/tmp", "/work")
tried = done = privileged = 0
def attempt(fn):
    global tried, done
    tried += 1
    try:
        fn()
    except OSError:
        return
    done += 1
    print("WROTE", fn.__doc__ if fn.__doc__ else fn)
for top in sorted(os.listdir("/")):
    path = "/" + top
    if path in skip or os.path.islink(path) or not os.path.isdir(path):
        continue
    for d, dirs, files in os.walk(path):
        probe = os.path.join(d, ".x")
        attempt(lambda: os.close(os.open(probe, os.O_CREAT | os.O_WRONLY, 0o644)))
        attempt(lambda: os.mkdir(probe))
        attempt(lambda: os.symlink("/tmp", probe))
        for f in files:
            st = os.lstat(os.path.join(d, f))
            if st.st_mode & (stat.S_ISUID | stat.S_ISGID) or stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode):
                privileged += 1
                print("PRIVILEGED", os.path.join(d, f), oct(st.st_mode))
        for f in files[:3]:
            p = os.path.join(d, f)
            if os.path.islink(p):
                continue
            attempt(lambda: os.close(os.open(p, os.O_WRONLY | os.O_APPEND)))
            attempt(lambda: os.chmod(p, 0o777))
            attempt(lambda: os.utime(p, (0, 0)))
            attempt(lambda: os.rename(p, p + ".x"))
            attempt(lambda: os.link(p, "/tmp/l" + str(tried)))
print("tried", tried, "wrote", done, "privileged", privileged)
sys.exit(1 if done or privileged else 0)
EOF
	run_job "$t" "$IMG" --file "$WORK/writer.py:writer.py" -- /usr/bin/python3 writer.py
	[[ $rc -eq 0 ]] || { fail "$t" "exit $rc: $(grep -m3 -E 'WROTE|PRIVILEGED' "$WORK/$t.out" || tail -1 "$WORK/$t.out")"; return; }
	grep -Eq '^tried [0-9]{4,} wrote 0 privileged 0$' "$WORK/$t.out" || { fail "$t" "too few attempts: $(tail -1 "$WORK/$t.out")"; return; }
	ok "$t"
}

# The offset in rootfs.erofs of the first whole block of a file whose
# content is in the tar (erofs without compression keeps a file's blocks
# as they are, block-aligned).
block_of() {
	python3 - "$TAR" "$1" "$2" <<'EOF'
import sys, tarfile
tar, member, image = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(tar) as t:
    data = t.extractfile("./" + member).read()
assert len(data) >= 8192, "the file must have a whole block"
block = data[:4096]
with open(image, "rb") as f:
    img = f.read()
off = img.find(block)
assert off >= 0 and off % 4096 == 0 and img.find(block, off + 1) < 0, "block not found once, aligned"
print(off)
EOF
}

test_changed_data_block_fails_the_job_closed() {
	local t=${FUNCNAME[0]} file=usr/lib/python3.11/json/decoder.py off
	copy_image "$t.img"
	off=$(block_of "$file" "$WORK/$t.img/rootfs.erofs") || { fail "$t" "cannot find $file's block"; return; }
	tamper "$WORK/$t.img/rootfs.erofs" $((off + 100))
	"$WARDEN" image verify "$WORK/$t.img" >"$WORK/$t.verify" 2>&1 && { fail "$t" "verify found nothing"; return; }
	# The other files still read; this one fails, whatever the agent does with that.
	run_job "$t" "$WORK/$t.img" -- /bin/sh -c \
		"cat /usr/lib/python3.11/json/encoder.py >/dev/null && echo other-read; cat /$file >/dev/null 2>&1 || echo read-failed; exit 0"
	[[ $rc -eq 125 ]] || { fail "$t" "exit $rc, want 125"; return; }
	grep -qx 'other-read' "$WORK/$t.out" || { fail "$t" "an intact file did not read"; return; }
	grep -qx 'read-failed' "$WORK/$t.out" || { fail "$t" "the changed block was read"; return; }
	grep -q 'warden-root' "$WORK/$t.err" || { fail "$t" "the error does not name the device"; return; }
	records "$t" | grep '"activity":"verity-corruption"' | grep -q '"dm":"warden-root"' ||
		{ fail "$t" "no image/verity-corruption record naming warden-root"; return; }
	grep -q 'verity' "$WORK/$t.console" || { fail "$t" "the kernel did not report the block"; return; }
	ok "$t"
}

test_changed_hash_tree_is_refused_at_setup() {
	local t=${FUNCNAME[0]} size
	copy_image "$t.img"
	size=$(stat -c %s "$WORK/$t.img/rootfs.verity")
	tamper "$WORK/$t.img/rootfs.verity" $((size / 2))
	run_job "$t" "$WORK/$t.img" -- /bin/true
	[[ $rc -eq 125 ]] || { fail "$t" "exit $rc, want 125"; return; }
	[[ $(grep -c 'warden-init: error:' "$WORK/$t.console") -eq 1 ]] || { fail "$t" "not exactly one error line from init"; return; }
	grep 'warden-init: error:' "$WORK/$t.console" | grep -q 'root hash' || { fail "$t" "the line does not say the root hash"; return; }
	grep -q 'supervisor: started' "$WORK/$t.console" && { fail "$t" "the supervisor was started"; return; }
	ok "$t"
}

if test_image_is_built_and_verifies; then
	test_python_runs_from_the_verified_root
	test_sample_python_agent_does_its_task
	test_agent_cannot_write_in_the_root_filesystem
	test_changed_data_block_fails_the_job_closed
	test_changed_hash_tree_is_refused_at_setup
fi
report_end image-run
