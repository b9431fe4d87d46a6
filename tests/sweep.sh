#!/bin/bash
# tests/sweep.sh - removes what an interrupted test run left on this machine,
# so the next run starts clean instead of failing on names that already exist.
# A run killed with SIGKILL (a CI timeout, a closed session) never reaches its
# cleanup traps: its runc/crun containers keep their fixed names, podman keeps
# the context test's containers, its agents, daemons and BPF pins stay.
#
# Usage: tests/sweep.sh [KEEP_DIR]
# Everything that belongs to a /tmp/cagewatch-live.* directory other than
# KEEP_DIR (the caller's own run) is an earlier run's and goes. tests/run calls
# it under its lock (one test run per machine at a time), before any suite.
# Prints one "# swept ..." line per thing removed and "swept N" at the end.
set -u
keep=${1:-}
n=0
swept() { echo "# swept $*"; n=$((n + 1)); }

# stale: true when PATH lies in a test run's directory other than KEEP_DIR
stale() {
	case $1 in
	/tmp/cagewatch-live.*) ;;
	*) return 1 ;;
	esac
	[ -z "$keep" ] && return 0
	case $1 in
	"$keep" | "$keep"/*) return 1 ;;
	esac
	return 0
}

# processes first (agents, dockerd, containerd and its shims), so nothing
# recreates what goes next; never this script or its callers
self_tree=" $$ $PPID "
for p in $(pgrep -f '/tmp/cagewatch-live\.' 2>/dev/null); do
	case $self_tree in *" $p "*) continue ;; esac
	args=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
	d=$(grep -oE '/tmp/cagewatch-live\.[A-Za-z0-9]+' <<<"$args" | head -1)
	[ -n "$d" ] && stale "$d" || continue
	kill -9 "$p" 2>/dev/null && swept "process $p (${args:0:80})"
done

for rt in runc crun; do
	command -v "$rt" >/dev/null || continue
	while IFS=$'\t' read -r id bundle; do
		stale "$bundle" || continue
		"$rt" delete -f "$id" >/dev/null 2>&1 && swept "$rt container $id ($bundle)"
	done < <("$rt" list -f json 2>/dev/null | jq -r '.[]? | [.id, .bundle] | @tsv' 2>/dev/null)
done

# podman's containers and the pins carry no run directory: without KEEP_DIR
# only (a suite asking to keep its own may be using them)
if [ -z "$keep" ] && command -v podman >/dev/null; then
	for c in $(podman ps -a --format '{{.Names}}' 2>/dev/null | grep -E '^ctx-podman'); do
		podman rm -f "$c" >/dev/null 2>&1 && swept "podman container $c"
	done
fi

# mounts an earlier containerd or dockerd left under its run directory
while read -r m; do
	stale "$m" || continue
	umount -l "$m" 2>/dev/null && swept "mount $m"
done < <(awk '{print $5}' /proc/self/mountinfo | sort -r)

for pin in /sys/fs/bpf/cagewatch-live* /sys/fs/bpf/cagewatch-test-*; do
	[ -z "$keep" ] && [ -e "$pin" ] || continue
	rm -rf "$pin" && swept "pins $pin"
done
echo "swept $n"
