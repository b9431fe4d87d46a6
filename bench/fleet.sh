#!/bin/bash
# bench/fleet.sh - findings from a node to the fleet's PostgreSQL: the agent's
# report path (bench/fleet_bench.c: store, outbox, NATS sink) publishing to a
# 3-server NATS JetStream cluster (an R3 stream, as docs/fleet.md deploys it),
# two collectors merging into PostgreSQL. Reports, per run, findings/s end to
# end and the latency from a finding's eventTime to its row in PostgreSQL
# (p50/p99/max, from the store's stored_ms column), first at a fixed rate
# (default 1,000/s for 10 s: the issue's target is p99 under 1 s), then as fast
# as the node stores them. Writes bench/results/fleet.md. Needs root (the
# PostgreSQL server runs as user postgres).
# With --nodes N, N node processes (each its own store and NATS sink, like N
# agents) share the rate and the burst: the fleet's rate, not one node's.
#   bench/fleet.sh [--rate N] [--seconds S] [--burst N] [--nodes N]
set -u
cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
RATE=1000 SECS=10 BURST=20000 NODES=1
while [ $# -gt 0 ]; do
	case $1 in
	--rate) RATE=$2; shift 2 ;;
	--seconds) SECS=$2; shift 2 ;;
	--burst) BURST=$2; shift 2 ;;
	--nodes) NODES=$2; shift 2 ;;
	*) echo "usage: bench/fleet.sh [--rate N] [--seconds S] [--burst N] [--nodes N]" >&2; exit 2 ;;
	esac
done
make -s all build/libcw.a >/dev/null || exit 1
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(make -s --no-print-directory print-includes) \
	-o build/fleet_bench bench/fleet_bench.c build/libcw.a \
	$(make -s --no-print-directory print-libs) || exit 1
# the servers' helpers of the live tests
# shellcheck source=../tests/live/lib.sh
source "$ROOT/tests/live/lib.sh"
LIVE_DIR=$(mktemp -d /tmp/cagewatch-fleetbench.XXXXXX)
COLS=()
finish() {
	local p
	for p in "${COLS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	nats_cleanup
	pg_cleanup
	rm -rf "$LIVE_DIR"
}
trap finish EXIT
pg_start >/dev/null || { echo "bench/fleet.sh: PostgreSQL does not start" >&2; exit 1; }
nats_cluster_start 3 || { echo "bench/fleet.sh: NATS does not start" >&2; exit 1; }
URL="nats://$(nats_urls)?stream=CWBENCH&replicas=3"
for i in 1 2; do
	build/cagewatch collect --nats "$URL" --store "$PG_URL" --stats-file "$LIVE_DIR/col$i.json" \
		>"$LIVE_DIR/col$i.log" 2>&1 &
	COLS+=($!)
done
for i in $(seq 1 100); do grep -q consuming "$LIVE_DIR/col1.log" && grep -q consuming "$LIVE_DIR/col2.log" && break; sleep 0.2; done

# run NAME RATE COUNT: one run into an empty table, NODES node processes
# sharing RATE and COUNT; prints a table row
run() {
	local name=$1 rate=$2 count=$3 n i k emitted per=$(($3 / NODES)) pids=()
	pg_sql "TRUNCATE findings" >/dev/null
	count=$((per * NODES))
	for k in $(seq 1 "$NODES"); do
		build/fleet_bench "$LIVE_DIR/$name-$k.db" "$URL" "$(awk -v r="$rate" -v n="$NODES" 'BEGIN {print r / n}')" \
			"$per" "bench-$name-$k" >"$LIVE_DIR/$name-$k.out" &
		pids+=($!)
	done
	wait "${pids[@]}"
	emitted=$(awk '{gsub(/[(\/s)]/, "", $7); t += $7} END {printf "%d/s", t}' "$LIVE_DIR/$name"-*.out)
	for i in $(seq 1 1200); do
		n=$(pg_sql "SELECT count(*) FROM findings")
		[ "$n" -ge "$count" ] && break
		sleep 0.1
	done
	pg_sql "SELECT '| $name | $NODES | ' || $count || ' | $emitted | ' ||
		round(count(*) * 1000.0 / greatest(max(stored_ms) - min(event_time_ms), 1)) || '/s | ' ||
		percentile_disc(0.5) WITHIN GROUP (ORDER BY stored_ms - event_time_ms) || ' | ' ||
		percentile_disc(0.99) WITHIN GROUP (ORDER BY stored_ms - event_time_ms) || ' | ' ||
		max(stored_ms - event_time_ms) || ' | ' || count(*) || ' |' FROM findings"
}
{
	echo "# Fleet: node to PostgreSQL ($(date -u +%Y-%m-%d), $(nproc) CPUs, 3 NATS servers R3, 2 collectors)"
	echo
	echo "| run | nodes | findings | emitted | end to end | p50 ms | p99 ms | max ms | in PostgreSQL |"
	echo "|---|---|---|---|---|---|---|---|---|"
	run "rate-$RATE" "$RATE" $((RATE * SECS))
	run "burst" 0 "$BURST"
	echo
	echo "Latency: a finding's eventTime (stamped as the agent hands it to its sinks) to the"
	echo "collector writing its row (stored_ms, just before the batch commits); both clocks"
	echo "are this machine's. End to end: rows / (last row written - first finding)."
	echo "Emitted: the sum of the nodes' rates (each node's store takes every finding in its"
	echo "own transaction before its sink sends it)."
} | tee bench/results/fleet.md
