#!/bin/bash
# tests/deps.sh - installs the Debian 12 packages cagewatch needs to build, run
# and test, skipping what is already there. Safe to run repeatedly.
set -eu
pkgs=(make gcc libc6-dev pkg-config clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev
      libjansson-dev libsqlite3-dev libyara-dev libssl-dev libseccomp-dev libcap-dev libclang-rt-14-dev
      runc crun containerd docker.io podman busybox-static jq sqlite3 util-linux procps valgrind
      libmicrohttpd-dev libsystemd-dev libcurl4-openssl-dev libnats-dev nats-server postgresql libpq-dev chromium chromium-driver python3-selenium openssl curl help2man man-db bash-completion debhelper dpkg-dev lintian python3-kubernetes python3-yaml
      cppcheck clang-tidy clang-format)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "tests/deps.sh: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 2
	fi
	echo "tests/deps.sh: installing ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >&2 || true
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
