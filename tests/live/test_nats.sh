#!/bin/bash
# tests/live/test_nats.sh - the NATS JetStream sink against a real nats-server
# (JetStream on, loopback, its own store): the stream is created, each finding
# is one acknowledged message (SCC NotificationMessage on
# cagewatch.findings.<host>, Nats-Msg-Id = finding name#occurrence); a server
# down while a finding is stored: delivered once it is back; an agent that
# resends everything (its position reset) adds nothing: JetStream drops the
# duplicates by message id.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
ST=$LIVE_DIR/stats.json
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
command -v nats-server >/dev/null || { not_ok "nats-server missing (tests/deps.sh installs it)"; live_done; }
NP=$((20000 + RANDOM % 20000)) MP=$((NP + 1))
NATS_PID=
start_nats() {
	nats-server -a 127.0.0.1 -p $NP -m $MP -js -sd "$LIVE_DIR/js" >>"$LIVE_DIR/nats.log" 2>&1 &
	NATS_PID=$!
	for i in $(seq 1 50); do curl -sf "http://127.0.0.1:$MP/healthz" >/dev/null && return 0; sleep 0.1; done
	return 1
}
stop_nats() { kill "$NATS_PID" 2>/dev/null; wait "$NATS_PID" 2>/dev/null; NATS_PID=; }
trap 'stop_nats; live_cleanup' EXIT
msgs() { curl -sf "http://127.0.0.1:$MP/jsz?streams=true" | jq '[.account_details[]?.stream_detail[]? | select(.name == "CAGEWATCH") | .state.messages] | add // 0'; }
wait_msgs() { # N
	local i
	for i in $(seq 1 150); do [ "$(msgs)" = "$1" ] && return 0; sleep 0.1; done
	return 1
}
names() { "$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --format json | jq -r '.[] | (.finding // .) | .name' | sort; }

check "nats-server with JetStream starts on 127.0.0.1" start_nats
URL="nats://127.0.0.1:$NP?stream=CAGEWATCH"
check "agent starts with a NATS sink" start_agent "$OUT" --sink "$URL" --node-name node-a --stats-file "$ST"
# the tools are in the image (the root before the start): one finding each, no
# Added Malicious Binary Executed beside it
R=$LIVE_DIR/bundles/cw-nats/rootfs
mkdir -p "$R/opt"
for t in cdk_like botb_like peirates_like; do cc -O2 -static -o "$R/opt/$t" "$FIX/$t.c" || not_ok "build $t"; done
check "container starts" start_container cw-nats
cexec cw-nats "$LIVE_DIR/x.pid" /opt/cdk_like >/dev/null 2>&1
cexec cw-nats "$LIVE_DIR/x.pid" /opt/botb_like >/dev/null 2>&1
check "the stream was created and holds both findings" wait_msgs 2
/usr/bin/python3 "$LIVE_ROOT/tests/live/nats_get.py" $NP CAGEWATCH 1 >"$LIVE_DIR/msg1.json" 2>&1
got=$(jq -r '[.subject, (.msg_id == (.data.finding.name + "#1")), (.data.notificationConfigName | length > 0)] | map(tostring) | join(" ")' "$LIVE_DIR/msg1.json" 2>&1)
check "message 1: on cagewatch.findings.node-a, a NotificationMessage, Nats-Msg-Id name#1 ($got)" \
	[ "$got" = "cagewatch.findings.node-a true true" ]
check "message 1 is a finding the store holds" grep -qx "$(jq -r .data.finding.name "$LIVE_DIR/msg1.json")" <(names)

stop_nats
cexec cw-nats "$LIVE_DIR/x.pid" /opt/peirates_like >/dev/null 2>&1
for i in $(seq 1 50); do [ "$(names | wc -l)" = 3 ] && break; sleep 0.1; done
sleep 1.5
check "with the server down the third finding is stored and waits (lag 1)" \
	bash -c "[ \$('$CAGEWATCH' findings list --store '$LIVE_DIR/store.db' --format json | jq length) = 3 ] && jq -e '[.sinks[] | select(.kind == \"remote\")][0].lag == 1' '$ST' >/dev/null"
check "nats-server restarts (same JetStream store)" start_nats
check "after the restart the waiting finding is delivered" wait_msgs 3
check "the agent stops cleanly" stop_agent

# resend everything: JetStream de-duplicates by message id
sqlite3 "$LIVE_DIR/store.db" "UPDATE sink_positions SET seq = 0"
check "agent restarts with its position reset to the start" start_agent "$OUT.2" --sink "$URL" --node-name node-a --stats-file "$ST"
for i in $(seq 1 100); do [ "$(jq '[.sinks[] | select(.kind == "remote")][0].delivered' "$ST" 2>/dev/null)" = 3 ] && break; sleep 0.1; done
check "it published all three again" [ "$(jq '[.sinks[] | select(.kind == "remote")][0].delivered' "$ST")" = 3 ]
check "the stream still holds exactly three messages (duplicates dropped by Nats-Msg-Id)" [ "$(msgs)" = 3 ]
check "the agent stops cleanly" stop_agent
live_done
