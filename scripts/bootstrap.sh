#!/usr/bin/env bash
# scripts/bootstrap.sh - install the Debian packages the build, the tests and
# the demo need, if any is missing. Says what it installs; silent otherwise.
# The only set-up step warden has: `make` runs it before anything else.
set -euo pipefail

# One package per need, so that each line can be checked against its use.
packages=(
	make gcc libc6-dev            # the glibc + sanitizer flavour, host tools
	musl-tools                    # musl-gcc: every guest binary
	gperf patch xz-utils          # building libseccomp from its Debian source
	dpkg-dev                      # apt-get source (dpkg-source) and dpkg-deb
	libcmocka-dev                 # unit tests, glibc flavour
	cpio gzip                     # the initramfs
	busybox-static                # /bin/sh in the image
	bubblewrap                    # make bench: the sandbox baseline
	tinyproxy-bin                 # make bench: the egress baseline (the binary only, no service)
	curl git python3              # the egress tests' clients (tests/egress)
	qemu-system-x86               # the microVM
	util-linux                    # unshare(1) for the PID 1 tests
	openssl                       # a second verifier of the audit log's signatures
	tini catatonit                # size and boot comparisons in make bench
	cppcheck clang-tidy clang-format shellcheck   # make lint
	clang libclang-rt-14-dev      # libFuzzer targets
	erofs-utils                   # mkfs.erofs: the image's root filesystem
	cryptsetup-bin                # veritysetup: the root filesystem's hash tree
	mmdebstrap                    # the Debian root filesystems of the tests and the demo
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
		missing+=("$p")
	fi
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or install them)" >&2
	exit 1
fi
echo "bootstrap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
	echo "bootstrap: refreshing the package lists (apt-get update)" >&2
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
