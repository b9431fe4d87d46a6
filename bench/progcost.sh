#!/bin/bash
# bench/progcost.sh - the exec program's own cost per exec, read from the
# kernel (kernel.bpf_stats_enabled: run time and run count of cw_exec), for a
# storm of N fork+exec+wait on the host and in a runc container, with
# `cagewatch run`, with `cagewatch run --block` (what --block's hold check
# adds on the exec path) and with every detector on (the rules off by default
# enabled: the in-kernel environment scan of the proxy rule). Writes
# bench/results/progcost.md.
#   bench/progcost.sh [--execs N]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
N=20000
[ "${1:-}" = --execs ] && N=$2
make -s all >/dev/null || exit 1
# shellcheck source=../tests/live/lib.sh
source "$ROOT/tests/live/lib.sh"
live_init
cc -static -O2 -std=c11 -D_GNU_SOURCE -o "$LIVE_DIR/storm" bench/storm.c || exit 1
cc -static -O2 -nostdlib -o "$LIVE_DIR/tiny" bench/tiny.c || exit 1
start_container cwb-prog || exit 1
R=$LIVE_DIR/bundles/cwb-prog/rootfs
cp "$LIVE_DIR/storm" "$LIVE_DIR/tiny" "$R/opt/"
# shellcheck source=progstats.sh
source "$ROOT/bench/progstats.sh"
progstats_on

# storm_in WHERE: one storm of N execs
storm_in() {
	if [ "$1" = host ]; then
		"$LIVE_DIR/storm" -n "$N" -w 1 "$LIVE_DIR/tiny"
	elif [ "$1" = container-env ]; then # a Kubernetes-sized environment: 4 KiB
		cexec cwb-prog "$LIVE_DIR/x.pid" busybox env "PAD=$(head -c 4000 /dev/zero | tr '\0' x)" \
			/opt/storm -e -n "$N" -w 1 /opt/tiny
	else
		cexec cwb-prog "$LIVE_DIR/x.pid" /opt/storm -n "$N" -w 1 /opt/tiny
	fi
}
# storm WHERE: one storm; prints ns per exec of the exec program
storm() { prog_cost cw_exec storm_in "$1"; }
declare -A NS
ALL=technique.provenance.added,technique.library.added,technique.proxy_env.disallowed
for mode in cagewatch block all; do
	case $mode in
	block) start_agent "$LIVE_DIR/o.$mode" --block || exit 1 ;;
	all) start_agent "$LIVE_DIR/o.$mode" --enable-rules "$ALL" || exit 1 ;;
	*) start_agent "$LIVE_DIR/o.$mode" || exit 1 ;;
	esac
	for where in host container container-env; do
		storm "$where" >/dev/null # warm: known-clean marks, ignore marks
		NS[$mode.$where]=$(storm "$where")
	done
	stop_agent
done
progstats_off
res=bench/results/progcost.md
{
	echo "# The exec program's cost per exec ($(date -u '+%Y-%m-%d'), $(nproc) CPUs, $(uname -r))"
	echo
	echo "| where | cagewatch ns/exec | cagewatch --block ns/exec | every detector on ns/exec |"
	echo "|---|---|---|---|"
	echo "| host | ${NS[cagewatch.host]} | ${NS[block.host]} | ${NS[all.host]} |"
	echo "| container | ${NS[cagewatch.container]} | ${NS[block.container]} | ${NS[all.container]} |"
	echo "| container, 4 KiB environment | ${NS[cagewatch.container-env]} | ${NS[block.container-env]} | ${NS[all.container-env]} |"
	echo
	echo "cw_exec's run time / run count (kernel.bpf_stats_enabled) over a storm of $N"
	echo "fork+exec+wait of bench/tiny.c (known clean after a first storm), one worker;"
	echo "every detector on: --enable-rules $ALL."
	echo "Rerun: \`bench/progcost.sh\` (as root)."
} >"$res"
cat "$res"
live_done
