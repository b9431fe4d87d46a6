#!/bin/bash
# tests/live/test_service.sh - the agent under a service manager, with the
# manager played by this test: systemd's notify protocol on a real datagram
# socket (READY=1 only once the pid file says the sensor is attached, WATCHDOG=1
# at half the asked interval, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on
# SIGTERM), and journal priorities when JOURNAL_STREAM names stderr.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
SOCK=$LIVE_DIR/notify.sock
LOG=$LIVE_DIR/notify.log

# the "service manager": each datagram on one line, "|" for newlines, with
# whether the pid file existed when it arrived
python3 - "$SOCK" "$LOG" "$LIVE_DIR/agent.pid" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as log:
    while True:
        msg = s.recv(4096).decode(errors="replace").replace("\n", "|")
        log.write("%s pidfile=%s\n" % (msg, os.path.exists(sys.argv[3])))
PY
RECV=$!
trap 'kill $RECV 2>/dev/null; live_cleanup' EXIT
for i in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

NOTIFY_SOCKET=$SOCK WATCHDOG_USEC=400000 check "agent starts with NOTIFY_SOCKET and WATCHDOG_USEC" \
	start_agent "$OUT" --stats-file "$LIVE_DIR/st.json"
sleep 1.5
check "READY=1 sent, and only after the pid file (sensor attached): $(grep -m1 READY "$LOG")" \
	bash -c "grep -m1 '^READY=1' '$LOG' | grep -q 'pidfile=True' && grep -q 'STATUS=watching' '$LOG'"
n=$(grep -c '^WATCHDOG=1' "$LOG")
check "WATCHDOG=1 at half the interval from the event loop ($n in ~1.5 s, want 4-10)" \
	[ "$n" -ge 4 ] && [ "$n" -le 10 ]
kill -HUP "$AGENT_PID"
for i in $(seq 1 50); do grep -q '^RELOADING=1' "$LOG" && [ "$(grep -c '^READY=1' "$LOG")" -ge 2 ] && break; sleep 0.1; done
check "SIGHUP: RELOADING=1, then READY=1 again" \
	bash -c "grep -E '^(RELOADING|READY)=1' '$LOG' | cut -d' ' -f1 | cut -d'|' -f1 | tr '\n' ' ' | grep -q 'READY=1 RELOADING=1 READY=1'"
check "the agent stops cleanly" stop_agent
check "SIGTERM: STOPPING=1" grep -q '^STOPPING=1' "$LOG"

# without NOTIFY_SOCKET nothing is sent and nothing fails
before=$(wc -l <"$LOG")
check "without NOTIFY_SOCKET the agent runs as before" start_agent "$OUT"
check "... and stops cleanly" stop_agent
check "... having sent nothing" [ "$(wc -l <"$LOG")" = "$before" ]

# journal priorities: JOURNAL_STREAM names the stderr file -> "<N>" prefixes
E=$LIVE_DIR/journal.err
: >"$E"
js=$(stat -c '%d:%i' "$E")
JOURNAL_STREAM=$js timeout -s INT 3 "$CAGEWATCH" run --no-store --pin-dir "" \
	--stats-file "$LIVE_DIR/st2.json" >/dev/null 2>>"$E"
check "under the journal, info lines carry <6> and no 'cagewatch:' prefix" \
	bash -c "grep -q '^<6>info: sensor attached' '$E' && ! grep -q '^cagewatch:' '$E'"
JOURNAL_STREAM=1:1 "$CAGEWATCH" findings list --store /nonexistent/x.db >/dev/null 2>"$E"
check "a JOURNAL_STREAM that is not stderr changes nothing" grep -q '^cagewatch: error' "$E"
live_done
