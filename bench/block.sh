#!/bin/bash
# bench/block.sh - what `--block` costs where it is felt: the first exec of a
# file never seen before in a running container (fanotify asks, the file is
# hashed and scanned), a second exec of it (known clean: an ignore mark),
# `sh s.sh` (an interpreter with a script operand: held until judged), and
# a new container's entrypoint (`runc run` of a harmless PID 1, held until its
# mounts are marked and its file judged). Each with no agent, with cagewatch
# and with cagewatch --block; median and p99 in ms. Writes bench/results/block.md.
#   bench/block.sh [--execs N] [--containers N]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
EXECS=200 CTRS=40
while [ $# -gt 0 ]; do
	case $1 in
	--execs) EXECS=$2; shift 2 ;;
	--containers) CTRS=$2; shift 2 ;;
	*) echo "usage: bench/block.sh [--execs N] [--containers N]" >&2; exit 2 ;;
	esac
done
make -s all >/dev/null || exit 1
# shellcheck source=../tests/live/lib.sh
source "$ROOT/tests/live/lib.sh"
live_init
cc -O2 -static -o "$LIVE_DIR/firstexec" bench/firstexec.c || exit 1
start_container cwb-block || exit 1
R=$LIVE_DIR/bundles/cwb-block/rootfs
cp "$LIVE_DIR/firstexec" "$LIVE_DIR/harmless" "$R/opt/"
printf 'exit 0\n' >"$R/opt/s.sh"
B=$(pid1_bundle cwb-entry "$LIVE_DIR/harmless")

# stats FILE: "median p99" of the numbers in FILE (us -> ms)
stats() {
	sort -n "$1" | awk '{v[NR] = $1} END {
		if (!NR) { print "- -"; exit }
		m = v[int((NR + 1) / 2)]; p = v[int(NR * 0.99 + 0.999)]; if (p == "") p = v[NR]
		printf "%.2f %.2f\n", m / 1000, p / 1000 }'
}

# measure MODE: one row per probe
measure() {
	local mode=$1 i t0
	cexec cwb-block "$LIVE_DIR/x.pid" /opt/firstexec /opt/harmless "$EXECS" /tmp /opt/s.sh >"$LIVE_DIR/fe.$mode"
	awk '$1 == "new" {print $2}' "$LIVE_DIR/fe.$mode" >"$LIVE_DIR/new.$mode"
	awk '$1 == "again" {print $2}' "$LIVE_DIR/fe.$mode" >"$LIVE_DIR/again.$mode"
	awk '$1 == "script" {print $2}' "$LIVE_DIR/fe.$mode" >"$LIVE_DIR/script.$mode"
	: >"$LIVE_DIR/entry.$mode"
	for i in $(seq 1 "$CTRS"); do
		t0=$(date +%s%N)
		(cd "$B" && runc run cwb-entry </dev/null >/dev/null 2>&1)
		echo $((($(date +%s%N) - t0) / 1000)) >>"$LIVE_DIR/entry.$mode"
		runc delete -f cwb-entry >/dev/null 2>&1
	done
}

measure none
start_agent "$LIVE_DIR/o1" || exit 1
measure cagewatch
stop_agent
start_agent "$LIVE_DIR/o2" --block --stats-file "$LIVE_DIR/stats.json" || exit 1
measure block
stop_agent
held=$(jq '.hold.held' "$LIVE_DIR/stats.json")

res=bench/results/block.md
{
	echo "# --block: first exec of a new file, a known file, a new container ($(date -u '+%Y-%m-%d'), $(nproc) CPUs)"
	echo
	echo "| probe | no agent median / p99 ms | cagewatch | cagewatch --block |"
	echo "|---|---|---|---|"
	for p in new again script entry; do
		case $p in
		new) name="first exec of a new file in a running container ($EXECS)" ;;
		again) name="second exec of the same file ($EXECS)" ;;
		script) name="\`sh s.sh\`: an interpreter with a script operand ($EXECS)" ;;
		entry) name="new container: \`runc run\` of a harmless entrypoint ($CTRS)" ;;
		esac
		row="| $name"
		for m in none cagewatch block; do
			read -r med p99 < <(stats "$LIVE_DIR/$p.$m")
			row="$row | $med / $p99"
		done
		echo "$row |"
	done
	echo
	echo "One fork+execve+waitpid per exec (bench/firstexec.c, inside a runc container); a new"
	echo "container is the whole \`runc run\` until its PID 1 exits. With --block the kernel held"
	echo "$held execs (each new container's entrypoint among them) until the agent judged them."
	echo "Rerun: \`bench/block.sh\` (as root)."
} >"$res"
cat "$res"
live_done
