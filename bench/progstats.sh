# bench/progstats.sh - sourced by the benches that read a BPF program's own
# cost from the kernel (progcost.sh, pipedcost.sh): run time and run count
# under kernel.bpf_stats_enabled.
#   progstats_on / progstats_off   turn the statistics on; restore the setting
#   prog_cost NAME CMD...          run CMD; print ns per run of program NAME
#                                  over it (0 when it did not run)

progstats_on() {
	PROGSTATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -qw kernel.bpf_stats_enabled=1
}

progstats_off() {
	sysctl -qw kernel.bpf_stats_enabled="${PROGSTATS_OLD:-0}"
}

# prog_ns NAME: "run_time_ns run_cnt" of the first loaded program NAME
prog_ns() {
	bpftool prog show -j | jq -r --arg n "$1" \
		'[.[] | select(.name == $n)][0] | "\(.run_time_ns // 0) \(.run_cnt // 0)"'
}

prog_cost() {
	local name=$1 t0 c0 t1 c1
	shift
	read -r t0 c0 < <(prog_ns "$name")
	"$@" >/dev/null
	read -r t1 c1 < <(prog_ns "$name")
	awk -v t=$((t1 - t0)) -v c=$((c1 - c0)) 'BEGIN { printf "%.0f", c ? t / c : 0 }'
}
