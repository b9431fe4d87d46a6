#!/bin/bash
# test_store_live.sh - issue 4 end to end against the live agent: a tool run in a
# container -> stored -> `findings list --filter` -> `show` -> `related`;
# lifecycle from the CLI; dedup of a burst; the NotificationMessage output;
# kill -9 of the agent leaves a sound store holding every printed finding.
. "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
ST=$LIVE_DIR/store.db
fl() { "$CAGEWATCH" findings "$@" --store "$ST"; }

check "agent starts" start_agent "$OUT"
check "container starts" start_container cw-store
run_in() { cexec cw-store "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }
run_in 'cp /opt/harmless /tmp/botb-linux-amd64 && /tmp/botb-linux-amd64 -autopwn'
run_in 'cp /opt/harmless /tmp/amicontained && /tmp/amicontained'
F=$(wait_finding "$OUT" '.processes[0].binary.path == "/tmp/botb-linux-amd64"')
check "escape finding printed" test -n "$F"
wait_finding "$OUT" '.processes[0].binary.path == "/tmp/amicontained"' >/dev/null
NAME=$(jq -r .name <<<"$F")
ID=${NAME##*/}

L=$(fl list --filter 'category="Execution: Container Escape" AND state="ACTIVE"' --format json)
check "list --filter finds the printed finding" test "$(jq -r --arg n "$NAME" 'map(select(.name == $n)) | length' <<<"$L")" = 1
check "list --format json is exactly what was printed" \
	test "$(jq -c --arg n "$NAME" '.[] | select(.name == $n) | del(.sourceProperties.Occurrence_Count, .eventTime)' <<<"$L")" = \
	"$(jq -c 'del(.sourceProperties.Occurrence_Count, .eventTime)' <<<"$F")"
check "list filter excludes other categories" \
	test "$(jq '[.[] | select(.category != "Execution: Container Escape")] | length' <<<"$L")" = 0
S=$(fl show "$ID")
check "show: Summary names the program binary" grep -q "/tmp/botb-linux-amd64" <<<"$S"
check "show: Summary names the arguments" grep -q -- "-autopwn" <<<"$S"
check "show: Summary names the container" grep -q "cw-store" <<<"$S"
check "show --json is the stored finding" test "$(fl show "$ID" --json | jq -r .name)" = "$NAME"
R=$(fl related "$ID" --window 15m --format json)
check "related lists the recon finding on the same container" \
	test "$(jq '[.[] | select(.processes[0].binary.path == "/tmp/amicontained")] | length' <<<"$R")" = 1
check "related excludes the finding itself" test "$(jq --arg n "$NAME" '[.[] | select(.name == $n)] | length' <<<"$R")" = 0

check "set-state INACTIVE" fl set-state "$ID" INACTIVE
check "state is INACTIVE in the store" test "$(fl show "$ID" --json | jq -r .state)" = INACTIVE
check "mute" fl mute "$ID"
check "listed as MUTED" test "$(fl list --filter 'mute="MUTED"' --format json | jq -r '.[0].name')" = "$NAME"
check "unmute" fl unmute "$ID"
check "unknown id: exit 1" bash -c "! '$CAGEWATCH' findings show ffffffffffffffff --store '$ST' 2>/dev/null; test \$? -ne 2"
fl list --filter 'state = ' >/dev/null 2>"$LIVE_DIR/bad.err"
check "bad filter: exit 2 with the column" bash -c "test $? -eq 2 && grep -q column '$LIVE_DIR/bad.err'"

# Dedup: a burst of identical execs is one finding with a count.
run_in 'i=0; while [ $i -lt 50 ]; do /tmp/botb-linux-amd64 -autopwn; i=$((i+1)); done'
run_in 'cp /opt/harmless /tmp/deepce && /tmp/deepce -e PRIVILEGED' # marker
wait_finding "$OUT" '.processes[0].binary.path == "/tmp/deepce"' >/dev/null
N=$(fl list --filter 'category="Execution: Container Escape"' --format json | jq '[.[] | select(.processes[0].binary.path == "/tmp/botb-linux-amd64")]')
check "burst of 51 identical execs is one stored finding" test "$(jq length <<<"$N")" = 1
check "occurrence count is 51" test "$(jq -r '.[0].sourceProperties.Occurrence_Count' <<<"$N")" = 51

# kill -9: the store opens, passes integrity_check and holds every printed finding.
run_in 'cp /opt/harmless /tmp/cdk && /tmp/cdk run mount-cgroup x'
wait_finding "$OUT" '.processes[0].binary.path == "/tmp/cdk"' >/dev/null
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
check "store passes integrity_check after kill -9" test "$(sqlite3 "$ST" 'PRAGMA integrity_check')" = ok
missing=0
for n in $(jq -r .name "$OUT" | sort -u); do
	fl show "${n##*/}" --json >/dev/null 2>&1 || missing=$((missing + 1))
done
check "every printed finding is in the store after kill -9 ($missing missing)" test $missing -eq 0

# Corrupt / foreign store: clear error, file untouched.
printf 'not a database at all' >"$LIVE_DIR/junk.db"
before=$(sha256sum "$LIVE_DIR/junk.db")
"$CAGEWATCH" run --store "$LIVE_DIR/junk.db" --pidfile "$LIVE_DIR/j.pid" >/dev/null 2>"$LIVE_DIR/junk.err"
check "agent refuses a non-cagewatch store (exit 2)" test $? -eq 2
check "the refused file is untouched" test "$(sha256sum "$LIVE_DIR/junk.db")" = "$before"

# Pub/Sub NotificationMessage envelope.
check "agent starts with --output notification" start_agent "$OUT.n" --output notification --store "$LIVE_DIR/n.db"
run_in '/tmp/cdk eva'
F=$(wait_finding "$OUT.n" '.finding.processes[0].binary.path == "/tmp/cdk"')
check "notification has notificationConfigName, finding, resource" \
	test "$(jq -r '[has("notificationConfigName"), has("finding"), has("resource")] | all' <<<"$F")" = true
stop_agent
live_done
