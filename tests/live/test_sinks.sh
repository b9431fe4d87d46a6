#!/bin/bash
# tests/live/test_sinks.sh - the remote sinks against real peers on loopback
# (tests/live/sink_peers.py): a webhook that refuses its first requests still
# gets every finding, in the store's order, once; the Falco-shaped webhook;
# RFC 5424 syslog over UDP and TCP; an outage across an agent restart: what
# was stored while the peer was down is delivered after the restart, from the
# sink's position (the config file's "sinks" key names it then), nothing
# twice; per-sink counters in `cagewatch stats`; bad sink URLs and --sink
# without a store are refused.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
ST=$LIVE_DIR/stats.json
P=$LIVE_DIR/peers
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
mkdir -p "$P"
base=$((20000 + RANDOM % 20000))
HP=$base UP=$((base + 1)) TP=$((base + 2))
/usr/bin/python3 "$LIVE_ROOT/tests/live/sink_peers.py" "$P" $HP $UP $TP 3 2>"$P/err" &
PEERS=$!
trap 'kill $PEERS 2>/dev/null; live_cleanup' EXIT
for i in $(seq 1 50); do [ -e "$P/peers.ready" ] && break; sleep 0.1; done
check "the peers listen on 127.0.0.1" test -e "$P/peers.ready"

"$CAGEWATCH" run --no-store --sink http://127.0.0.1:1/x >/dev/null 2>"$LIVE_DIR/e1"
check "--sink without a store is refused (exit $?)" grep -q 'needs the findings store' "$LIVE_DIR/e1"
"$CAGEWATCH" run --store "$LIVE_DIR/x.db" --sink ftp://example/x >/dev/null 2>"$LIVE_DIR/e2"
check "a URL no sink takes is refused with the forms that work" grep -q 'not a sink URL' "$LIVE_DIR/e2"

HOOK="http://127.0.0.1:$HP/hook#header=Authorization:%20Bearer%20t0k3n-s3cret"
SINKS=(--sink "falco+http://127.0.0.1:$HP/falco" --sink "syslog+udp://127.0.0.1:$UP"
	--sink "syslog+tcp://127.0.0.1:$TP")
check "agent starts with four sinks" start_agent "$OUT" --sink "$HOOK" \
	"${SINKS[@]}" --stats-file "$ST"
# the tools are in the image (the root before the start): one finding each, no
# Added Malicious Binary Executed beside it
R=$LIVE_DIR/bundles/cw-sinks/rootfs
mkdir -p "$R/opt"
for t in cdk_like botb_like amicontained_like peirates_like; do
	cc -O2 -static -o "$R/opt/$t" "$FIX/$t.c" || not_ok "build $t"
done
check "container starts" start_container cw-sinks
for t in cdk_like botb_like amicontained_like; do
	cexec cw-sinks "$LIVE_DIR/x.pid" "/opt/$t" >/dev/null 2>&1
	sleep 0.2
done
names() { "$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --format json 2>/dev/null | jq -r '.[] | (.finding // .) | .name' | sort; }
hook_names() { jq -r .name "$P/hook.jsonl" 2>/dev/null | sort; }
wait_hook() { # N: the webhook holds N findings
	local i
	for i in $(seq 1 150); do [ "$(hook_names | sort -u | wc -l)" -ge "$1" ] && return 0; sleep 0.1; done
	return 1
}
check "the webhook refused its first 3 requests, and still got all 3 findings" \
	bash -c "$(declare -f wait_hook hook_names); P='$P'; wait_hook 3 && [ \$(cat '$P/http.refused') -ge 3 ]"
check "the webhook's findings are the stored ones, each once" \
	bash -c "[ \"\$(jq -r .name '$P/hook.jsonl' | sort)\" = \"\$('$CAGEWATCH' findings list --store '$LIVE_DIR/store.db' --format json | jq -r '.[] | (.finding // .) | .name' | sort)\" ]"
check "in the store's order (eventTime ascending)" \
	bash -c "jq -r .eventTime '$P/hook.jsonl' | sort -c"
check "each request carries Idempotency-Key name#occurrence" \
	bash -c "[ \$(grep -c '^organizations/.*/findings/[0-9a-f]*#1\$' '$P/hook.keys') = 3 ]"
check "the URL fragment's header reaches the peer on every request" \
	bash -c "[ \$(grep -cx 'Bearer t0k3n-s3cret' '$P/hook.auth') = 3 ] && ! grep -q . '$P/falco.auth'"
check "... and the secret is in no log line and no stats entry" \
	bash -c "! grep -q t0k3n '$OUT.err' '$ST' && jq -e '[.sinks[] | select(.url == \"http://127.0.0.1:$HP/hook#...\")] | length == 1' '$ST' >/dev/null"
for i in $(seq 1 50); do [ "$(wc -l <"$P/falco.jsonl" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
falco_ok=$(jq -s 'length == 3 and all(.[]; (keys == ["hostname","output","output_fields","priority","rule","source","tags","time"]) and .priority == {"Execution: Container Escape": "Error", "Execution: Local Reconnaissance Tool Execution": "Warning"}[.rule] and .output_fields["container.name"] == "cw-sinks" and any(.tags[]; . == "cagewatch") and (.time as $t | .output | contains($t)))' "$P/falco.jsonl" 2>&1)
check "falco+http: Falco's alert shape (output, priority, rule, time, output_fields, source, tags, hostname): $falco_ok" \
	[ "$falco_ok" = true ]
for i in $(seq 1 50); do [ "$(wc -l <"$P/tcp.log" 2>/dev/null)" -ge 3 ] && [ "$(wc -l <"$P/udp.log" 2>/dev/null)" -ge 3 ] && break; sleep 0.1; done
# two container-escape tools (HIGH: <35> auth.err), one recon tool (MEDIUM: <36> auth.warning)
RFC='^<3[56]>1 [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z [!-~]+ cagewatch [0-9]+ FINDING \[cagewatch@32473 category="Execution: [^"]+" severity="(HIGH|MEDIUM)" container="cw-sinks" rule="[^"]*" finding="organizations/[^"]*"\] '
for tr in udp tcp; do
	n=$(grep -cE "$RFC" "$P/$tr.log")
	check "syslog+$tr: 3 RFC 5424 messages with structured data ($n)" [ "$n" = 3 ]
	n=$(grep -cE '^<35>1 .* severity="HIGH" ' "$P/$tr.log")
	check "syslog+$tr: the priority is auth with the finding's severity (2 HIGH as <35>: $n)" [ "$n" = 2 ]
	got=$(sed 's/^[^]]*] \xef\xbb\xbf//' "$P/$tr.log" | jq -s 'length == 3 and all(.[]; .category | startswith("Execution: ")) and ([.[].name] | unique | length == 3)' 2>&1)
	check "syslog+$tr: the message is the finding's JSON after a BOM ($got)" [ "$got" = true ]
done
check "stats: per-sink delivered, retried, lag" \
	bash -c "sleep 0.6; jq -e '[.sinks[] | select(.kind == \"remote\")] | length == 4 and all(.[]; .delivered == 3 and .lag == 0) and (map(.retried) | add) >= 1' '$ST' >/dev/null"

# an outage across a restart
touch "$P/http.down"
cexec cw-sinks "$LIVE_DIR/x.pid" /opt/peirates_like >/dev/null 2>&1
for i in $(seq 1 50); do [ "$(names | wc -l)" -ge 4 ] && break; sleep 0.1; done
check "the fourth finding is stored while the webhook is down" [ "$(names | wc -l)" = 4 ]
sleep 1.5
check "stats: the webhook's lag is 1 and it is retrying" \
	bash -c "jq -e '[.sinks[] | select(.url == \"http://127.0.0.1:$HP/hook#...\")][0] | .lag == 1 and .retried >= 1' '$ST' >/dev/null"
"$CAGEWATCH" stats --stats-file "$ST" --format prometheus >"$LIVE_DIR/metrics.txt" 2>&1
check "/metrics: per remote sink delivered, retried, skipped counters and a lag gauge" \
	bash -c "[ \$(grep -cE '^cagewatch_sink_(webhook|syslog)_[0-9a-f]{8}_delivered_total [0-9]+\$' '$LIVE_DIR/metrics.txt') = 4 ] && grep -qE '^# TYPE cagewatch_sink_webhook_[0-9a-f]{8}_lag gauge' '$LIVE_DIR/metrics.txt' && grep -qE '^cagewatch_sink_webhook_[0-9a-f]{8}_lag 1\$' '$LIVE_DIR/metrics.txt' && grep -q '_skipped_total 0' '$LIVE_DIR/metrics.txt'"
check "the agent stops while the peer is down" stop_agent
rm -f "$P/http.down"
echo "{\"sinks\": [\"$HOOK\"]}" >"$LIVE_DIR/conf.json"
check "agent restarts, the webhook named by the config file's sinks" start_agent "$OUT.2" \
	--config "$LIVE_DIR/conf.json" "${SINKS[@]}" --stats-file "$ST"
check "after the restart the webhook gets the finding stored during the outage" wait_hook 4
sleep 1
check "the webhook holds exactly the store's findings, nothing twice" \
	bash -c "[ \"\$(jq -r .name '$P/hook.jsonl' | sort)\" = \"\$('$CAGEWATCH' findings list --store '$LIVE_DIR/store.db' --format json | jq -r '.[] | (.finding // .) | .name' | sort)\" ]"
check "the other sinks resumed too: 4 each, nothing twice" \
	bash -c "[ \$(wc -l <'$P/falco.jsonl') = 4 ] && [ \$(wc -l <'$P/tcp.log') = 4 ] && [ \$(wc -l <'$P/udp.log') = 4 ]"
check "the agent stops cleanly" stop_agent
live_done
