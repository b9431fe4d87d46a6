#!/bin/bash
# tests/live/test_fleet.sh - many nodes into one store, with real servers on
# loopback: a 3-server NATS JetStream cluster (an R3 stream), PostgreSQL, two
# collectors sharing one durable consumer, two agents (node-a, node-b) seeing
# real runc containers. Mid-stream one NATS server is killed and restarted,
# a collector is killed -9 and restarted, PostgreSQL is restarted, and node-b
# starts while every NATS server is down and connects later. Afterwards
# PostgreSQL holds exactly the findings both nodes' SQLite stores hold (names
# and occurrence counts equal, no duplicates) and `findings list --store
# postgres://...` agrees with them, filter for filter. The filter language's
# own cases (test_filter) run on PostgreSQL too; a message that is not a
# finding is kept as rejected, counted, and blocks nothing.
source "$(dirname "$0")/lib.sh"
live_init
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
BIN=$(dirname "$CAGEWATCH")
command -v nats-server >/dev/null || { not_ok "nats-server missing (tests/deps.sh installs it)"; live_done; }
COL_PIDS=() AG_PIDS=()
cleanup_fleet() {
	local p
	for p in "${AG_PIDS[@]}" "${COL_PIDS[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	nats_cleanup
	pg_cleanup
	rm -rf "$LIVE_PINS"-node-* # each agent's own pins: left, they keep its guard attached
	live_cleanup
}
trap cleanup_fleet EXIT

# agent NAME: node NAME's agent, its own store, pins, stats and pid file
agent() {
	local n=$1 i
	"$CAGEWATCH" run --pidfile "$LIVE_DIR/$n.pid" --store "$LIVE_DIR/$n.db" --pin-dir "$LIVE_PINS-$n" \
		--stats-file "$LIVE_DIR/$n.stats" --node-name "$n" --sink "$NURL" \
		>"$LIVE_DIR/$n.out" 2>"$LIVE_DIR/$n.err" &
	AG_PIDS+=($!)
	for i in $(seq 1 300); do [ -s "$LIVE_DIR/$n.pid" ] && return 0; sleep 0.1; done
	cat "$LIVE_DIR/$n.err"
	return 1
}
# collector I: collector I on the shared durable
collector() {
	"$CAGEWATCH" collect --nats "$NURL" --store "$PG_URL" --batch 32 --ack-wait 3 \
		--stats-file "$LIVE_DIR/col$1.stats" >>"$LIVE_DIR/col$1.log" 2>&1 &
	COL_PIDS[$1]=$!
}
# run_tools CONTAINER ROUNDS: every look-alike ROUNDS times (repeats are occurrences)
run_tools() {
	local r t
	for r in $(seq 1 "$2"); do
		for t in cdk_like botb_like peirates_like amicontained_like; do
			cexec "$1" "$LIVE_DIR/x.pid" /opt/$t >/dev/null 2>&1
		done
	done
}
# node_view NODE: "name occurrence_count" of every finding in NODE's store
node_view() { [ -e "$LIVE_DIR/$1.db" ] || return 0; "$CAGEWATCH" findings list --store "$LIVE_DIR/$1.db" --format json | jq -r '.[] | "\(.name) \(.sourceProperties.Occurrence_Count)"'; }
pg_view() { "$CAGEWATCH" findings list --store "$PG_URL" --format json 2>>"$LIVE_DIR/pgview.err" | jq -r '.[] | "\(.name) \(.sourceProperties.Occurrence_Count)"' | sort; }
# settled: PostgreSQL holds what both nodes hold (waits up to 90 s)
settled() {
	local i
	for i in $(seq 1 180); do
		(node_view node-a; node_view node-b) | sort >"$LIVE_DIR/nodes.view"
		pg_view >"$LIVE_DIR/pg.view"
		[ -s "$LIVE_DIR/nodes.view" ] && cmp -s "$LIVE_DIR/nodes.view" "$LIVE_DIR/pg.view" && return 0
		sleep 0.5
	done
	diff "$LIVE_DIR/nodes.view" "$LIVE_DIR/pg.view" | head -20
	return 1
}

check "PostgreSQL starts on 127.0.0.1" pg_start
psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c 'CREATE DATABASE filtercases' postgres
if CW_TEST_STORE="postgresql://postgres@127.0.0.1:$PG_PORT/filtercases" "$BIN/test_filter" >"$LIVE_DIR/filter.log" 2>&1; then
	ok "the filter language's cases pass on PostgreSQL too ($(tail -1 "$LIVE_DIR/filter.log"))"
else
	cat "$LIVE_DIR/filter.log"
	not_ok "the filter language's cases pass on PostgreSQL too"
fi
check "a 3-server NATS JetStream cluster starts" nats_cluster_start 3
NURL="nats://$(nats_urls)?stream=CWFLEET&replicas=3"
collector 1
collector 2
check "two collectors wait for the cluster and bind the shared durable" \
	bash -c "for i in \$(seq 1 150); do grep -q 'consuming' '$LIVE_DIR/col1.log' && grep -q 'consuming' '$LIVE_DIR/col2.log' && exit 0; sleep 0.2; done; cat '$LIVE_DIR'/col*.log; exit 1"
check "the stream is replicated on 3 servers" \
	bash -c "curl -sf 'http://127.0.0.1:${NATS_MPORTS[0]}/jsz?streams=true' | jq -e '[.account_details[]?.stream_detail[]? | select(.name == \"CWFLEET\") | .cluster.replicas | length] | .[0] == 2' >/dev/null"

check "node-a's agent starts with the NATS sink" agent node-a
check "container cw-fleet1 starts" start_container cw-fleet1
check "container cw-fleet2 starts" start_container cw-fleet2
for c in cw-fleet1 cw-fleet2; do
	for t in cdk_like botb_like peirates_like amicontained_like; do
		cc -O2 -static -o "$LIVE_DIR/bundles/$c/rootfs/opt/$t" "$FIX/$t.c" 2>/dev/null || not_ok "build $t"
	done
done
run_tools cw-fleet1 2
check "findings reach PostgreSQL" settled

# one NATS server killed mid-stream, then back
nats_kill 0 KILL
run_tools cw-fleet1 2
run_tools cw-fleet2 1
check "with one of three NATS servers killed, everything still arrives" settled
check "the killed NATS server restarts" nats_up 0

# a collector killed -9 mid-stream (its unacknowledged batch is redelivered)
run_tools cw-fleet2 3 &
RUN=$!
sleep 0.3
kill -KILL "${COL_PIDS[1]}"
wait "${COL_PIDS[1]}" 2>/dev/null
wait $RUN
collector 1
check "after collector 1 is killed -9 and restarted, everything arrives once" settled

# PostgreSQL restarted mid-stream
run_tools cw-fleet1 2 &
RUN=$!
check "PostgreSQL stops mid-stream" pg_down immediate
wait $RUN
sleep 1
check "PostgreSQL restarts (crash recovery)" pg_up
check "after the PostgreSQL restart, everything arrives once" settled
check "the collectors counted the store outage" \
	bash -c "jq -s -e 'map(.collector.store_errors) | add > 0' '$LIVE_DIR/col1.stats' '$LIVE_DIR/col2.stats' >/dev/null"

# node-b starts while every NATS server is down
for i in 0 1 2; do nats_kill $i; done
check "node-b's agent starts while NATS is down" agent node-b
run_tools cw-fleet2 1
sleep 1
check "node-b stored its findings while NATS was down" \
	bash -c "[ \$('$CAGEWATCH' findings list --store '$LIVE_DIR/node-b.db' --format json | jq length) -gt 0 ]"
for i in 0 1 2; do nats_up $i || not_ok "NATS server $i restarts"; done
check "once NATS is back, node-b's findings arrive and nothing is missing or doubled" settled

# the fleet store answers as the nodes' stores do
tot() { "$CAGEWATCH" findings list --store "$1" --filter "$2" --format json | jq length; }
for f in 'category="Execution: Container Escape"' 'severity="CRITICAL" OR severity="HIGH"' \
	'-source_properties.Tool_Id="cdk"' 'occurrence_count>2' 'resource.display_name:"fleet1"'; do
	a=$(tot "$LIVE_DIR/node-a.db" "$f") b=$(tot "$LIVE_DIR/node-b.db" "$f") p=$(tot "$PG_URL" "$f")
	check "filter $f: PostgreSQL $p = node-a $a + node-b $b" [ "$p" = $((a + b)) ]
done
check "no finding is stored twice in PostgreSQL" [ "$(pg_sql 'SELECT count(*) - count(DISTINCT name) FROM findings')" = 0 ]
hosts=$("$CAGEWATCH" findings list --store "$PG_URL" --format json | jq '[.[].resourceName | capture("hosts/(?<h>[^/]+)").h] | unique | length')
check "PostgreSQL holds findings of both hosts ($hosts)" [ "$hosts" = 2 ]
ID=$(head -1 "$LIVE_DIR/pg.view" | cut -d' ' -f1)
check "set-state on the fleet store" "$CAGEWATCH" findings set-state "$ID" INACTIVE --store "$PG_URL"
check "mute on the fleet store" "$CAGEWATCH" findings mute "$ID" --store "$PG_URL"
check "show and related on the fleet store" \
	bash -c "'$CAGEWATCH' findings show '$ID' --store '$PG_URL' --format json | jq -e '.state == \"INACTIVE\" and .mute == \"MUTED\"' >/dev/null &&
		'$CAGEWATCH' findings related '$ID' --store '$PG_URL' --window 1h --format json | jq -e 'length > 0' >/dev/null"

# the console on the fleet store
for try in 1 2 3; do # a random port may be taken: another one
	CP=$((30000 + RANDOM % 20000))
	"$CAGEWATCH" serve --store "$PG_URL" --listen "127.0.0.1:$CP" >"$LIVE_DIR/serve.log" 2>&1 &
	SERVE=$!
	for i in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$CP/healthz" >/dev/null && break
		kill -0 $SERVE 2>/dev/null || break
		sleep 0.1
	done
	kill -0 $SERVE 2>/dev/null && break
	sed 's/^/# serve: /' "$LIVE_DIR/serve.log" | tail -5
done
check "the console lists the fleet store's findings and shows one" \
	bash -c "curl -sf 'http://127.0.0.1:$CP/findings' | grep -q 'href=\"/findings/${ID##*/}\"' &&
		curl -sf 'http://127.0.0.1:$CP/findings/${ID##*/}' | grep -q INACTIVE"
kill -0 $SERVE 2>/dev/null || { echo "# the console exited:"; sed 's/^/# serve: /' "$LIVE_DIR/serve.log" | tail -20; }
kill $SERVE 2>/dev/null; wait $SERVE 2>/dev/null

# a message that is not a finding: kept, counted, nothing else held up
python3 - "${NATS_PORTS[0]}" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.recv(4096)
body = b'{"not": "a finding"}'
s.sendall(b'CONNECT {"verbose":false}\r\nPUB cagewatch.findings.intruder %d\r\n%s\r\nPING\r\n' % (len(body), body))
s.recv(4096)
PY
run_tools cw-fleet1 1
rejected() { local i; for i in $(seq 1 60); do [ "$(pg_sql 'SELECT count(*) FROM rejected')" = 1 ] && return 0; sleep 0.5; done; return 1; }
check "the bad message is kept in the table \"rejected\"" rejected
check "and the findings after it still arrive" settled
check "cagewatch stats reads a collector's counters" \
	bash -c "'$CAGEWATCH' stats --stats-file '$LIVE_DIR/col2.stats' | grep -q '^collector:' || '$CAGEWATCH' stats --stats-file '$LIVE_DIR/col1.stats' | grep -q '^collector:'"
check "the rejected message is counted" \
	bash -c "jq -s -e 'map(.collector.rejected) | add == 1' '$LIVE_DIR/col1.stats' '$LIVE_DIR/col2.stats' >/dev/null"
check "the collectors' logs and stats carry no password" bash -c "! grep -rq 'password=' '$LIVE_DIR'/col*"
live_done
