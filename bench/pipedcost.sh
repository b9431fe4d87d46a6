#!/bin/bash
# bench/pipedcost.sh - what the technique sensor's exec program (cw_tq_umh)
# costs per exec of a shell reading a script from a pipe in a container: the
# exec that arms the stdin capture (its caller record, and the walk of the
# shell's path). Read from the kernel (kernel.bpf_stats_enabled: run time and
# run count), for K iterations of `echo : | sh` in a runc container; the same
# loop with `sh -c :` (no pipe: the program's early exit) is the baseline.
#   bench/pipedcost.sh [--iterations K]     (as root; CAGEWATCH=PATH for another build)
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
K=2000
[ "${1:-}" = --iterations ] && K=$2
[ -n "${CAGEWATCH:-}" ] || { make -s all >/dev/null || exit 1; }
# shellcheck source=../tests/live/lib.sh
source "$ROOT/tests/live/lib.sh"
live_init
start_container cwb-piped || exit 1
# shellcheck source=progstats.sh
source "$ROOT/bench/progstats.sh"
progstats_on
# loop CMD: K iterations of CMD in the container; prints ns per run of cw_tq_umh
loop() {
	prog_cost cw_tq_umh cexec cwb-piped "$LIVE_DIR/x.pid" \
		sh -c "i=0; while [ \$i -lt $K ]; do $1; i=\$((i + 1)); done"
}
start_agent "$LIVE_DIR/o" --no-store || exit 1
loop 'echo : | sh' >/dev/null # warm
piped=$(loop 'echo : | sh')
plain=$(loop 'sh -c :')
stop_agent
progstats_off
echo "| exec in a container | cw_tq_umh ns/exec |"
echo "|---|---|"
echo "| \`sh -c :\` (not armed) | $plain |"
echo "| \`echo : \\| sh\` (stdin capture armed) | $piped |"
echo
echo "$K iterations each, $(nproc) CPUs, $(uname -r); agent: $CAGEWATCH"
live_done
