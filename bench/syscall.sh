#!/bin/bash
# bench/syscall.sh - what the escape-technique sensor costs syscalls on the host:
# a getppid loop (a syscall the sensor does not watch), an open+close loop
# (openat is watched; host tasks are out of scope, so it is filtered in the
# kernel), a 1-byte write loop (the Stratum rule's first-send hook) and an
# mmap(PROT_EXEC)+munmap loop (the library rules' hook), with no sensor, with
# the raw sys_enter/sys_exit variant, with the per-syscall tracepoint variant,
# and with it forced to see first sends at the send syscalls
# (CAGEWATCH_SEND_HOOK=syscalls: kernels without tcp_sendmsg_locked). Rounds
# alternate the four in a rotated order;
# each figure is the median of the rounds (ns per loop iteration).
# Needs root. Usage: bench/syscall.sh [ROUNDS] (default 5).
set -eu
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
N_PPID=${N_PPID:-2000000}
N_OPEN=${N_OPEN:-300000}
N_WRITE=${N_WRITE:-1000000}
N_MMAP=${N_MMAP:-200000}
[ "$(id -u)" = 0 ] || { echo "bench/syscall.sh: needs root (BPF)" >&2; exit 1; }

make build/libcw.a >/dev/null
PKGS="libbpf jansson sqlite3 yara libcrypto"
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(make -s --no-print-directory print-includes) -Ibuild $(pkg-config --cflags $PKGS) \
	-o build/syscall_bench bench/syscall_bench.c build/libcw.a \
	$(pkg-config --libs $PKGS) -lelf -lz -lm -lpthread
B=./build/syscall_bench
TMP=$(mktemp -d)
SENSOR=
cleanup() {
	[ -n "$SENSOR" ] && kill -TERM "$SENSOR" 2>/dev/null && wait "$SENSOR" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

start_sensor() { # raw|tp|tpsys
	local mode=$1 hook=
	rm -f "$TMP/ready"
	[ "$mode" = tpsys ] && mode=tp hook=syscalls
	CAGEWATCH_SEND_HOOK=$hook "$B" sensor "$mode" "$TMP/ready" 2>"$TMP/sensor.err" &
	SENSOR=$!
	for _ in $(seq 1 200); do
		[ -s "$TMP/ready" ] && return 0
		kill -0 "$SENSOR" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TMP/sensor.err" >&2
	echo "bench/syscall.sh: the $1 sensor did not start" >&2
	exit 1
}
stop_sensor() {
	kill -TERM "$SENSOR" && wait "$SENSOR" || true
	SENSOR=
}

MODES=(none raw tp tpsys)
for r in $(seq 0 $((ROUNDS - 1))); do
	for k in 0 1 2 3; do
		m=${MODES[$(((k + r) % 4))]}
		[ "$m" = none ] || start_sensor "$m"
		"$B" loop getppid "$N_PPID" >>"$TMP/getppid.$m"
		"$B" loop openclose "$N_OPEN" >>"$TMP/openclose.$m"
		"$B" loop write "$N_WRITE" >>"$TMP/write.$m"
		"$B" loop mmapx "$N_MMAP" >>"$TMP/mmapx.$m"
		[ "$m" = none ] || stop_sensor
	done
done

median() { sort -n "$1" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
echo "Technique sensor cost on the host ($(uname -r), $(nproc) CPUs, median of $ROUNDS alternating rounds)"
echo
echo "| loop | no sensor | raw tp_btf sys_enter/exit | per-syscall tracepoints | per-syscall, sends at the syscalls |"
echo "|---|---|---|---|---|"
for l in getppid openclose write mmapx; do
	name=$l
	[ "$l" = openclose ] && name="open+close"
	[ "$l" = write ] && name="write (1 byte, /dev/null)"
	[ "$l" = mmapx ] && name="mmap(PROT_EXEC)+munmap"
	printf '| %s | %s ns | %s ns | %s ns | %s ns |\n' "$name" "$(median "$TMP/$l.none")" \
		"$(median "$TMP/$l.raw")" "$(median "$TMP/$l.tp")" "$(median "$TMP/$l.tpsys")"
done
