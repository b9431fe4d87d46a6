#!/bin/bash
# tests/live/test_hostile.sh - a hostile container cannot stall, blind or fool
# the agent (issue: safe file access, privileges, paths and text):
#  - a tool that, as it exits, swaps its directory for a symlink to a host
#    directory holding a FIFO under its name (the agent runs --no-capture so it
#    must open the path after the fact): no open blocks, the next tool is
#    reported at once and the counters stay fresh;
#  - a script operand that is a symlink to a host file: the host file's hash
#    never reaches the finding;
#  - a path deeper than the kernel walk: binary.path looks truncated;
#  - C1 controls and bidi overrides in argv never reach the terminal raw;
#  - pid, stats and store files keep their modes under umask 000;
#  - every thread of the running agent has dropped to its 5 capabilities,
#    no_new_privs and a seccomp filter (read from /proc);
#  - a FIFO given as --config is refused at once.
source "$(dirname "$0")/lib.sh"
live_init
jqt() { jq -e "$@" >/dev/null; }

OUT=$LIVE_DIR/hostile.json
STATS=$LIVE_DIR/stats.json
HOST=$LIVE_DIR/hostdir
mkdir -p "$HOST"
mkfifo "$HOST/deepce"
head -c 4096 /dev/urandom >"$HOST/secret"
SECRET_SHA=$(sha256sum "$HOST/secret" | cut -d' ' -f1)
cc -O2 -static -o "$LIVE_DIR/hostile_tool" "$LIVE_ROOT/tests/live/hostile_tool.c" ||
	{ not_ok "build hostile_tool"; live_done; }
start_container cw-hostile || { not_ok "container starts"; live_done; }
R=$LIVE_DIR/bundles/cw-hostile/rootfs
mkdir -p "$R/tmp/d"
cp "$LIVE_DIR/hostile_tool" "$R/tmp/d/deepce"
cp "$LIVE_DIR/harmless" "$R/opt/botb-linux-amd64"

old_umask=$(umask)
umask 000
start_agent "$OUT" --no-capture --stats-file "$STATS" || { not_ok "agent starts"; live_done; }
umask "$old_umask"

# --- the running agent's privileges, from /proc --------------------------------------
bad=0
for t in /proc/"$AGENT_PID"/task/*; do
	st=$(cat "$t/status")
	grep -q '^CapEff:[[:space:]]*0000000000a8000c$' <<<"$st" || bad=$((bad + 1))
	grep -q '^CapBnd:[[:space:]]*0000000000a8000c$' <<<"$st" || bad=$((bad + 1))
	grep -q '^NoNewPrivs:[[:space:]]*1$' <<<"$st" || bad=$((bad + 1))
	grep -q '^Seccomp:[[:space:]]*2$' <<<"$st" || bad=$((bad + 1))
done
check "every agent thread: 5 capabilities (effective and bounding), no_new_privs, seccomp filter" \
	[ "$bad" -eq 0 ]

# --- FIFO behind a swapped directory ---------------------------------------
runc exec cw-hostile /tmp/d/deepce "$HOST" </dev/null
check "the hostile tool swapped its directory for a symlink to the host" test -L "$R/tmp/d"
sleep 0.5
t0=$(date +%s%N)
runc exec cw-hostile /opt/botb-linux-amd64 -autopwn </dev/null >/dev/null
f=$(wait_finding "$OUT" '.processes[0].binary.path == "/opt/botb-linux-amd64"')
t1=$(date +%s%N)
check "a tool run right after is reported ($(((t1 - t0) / 1000000)) ms)" [ -n "$f" ]
check "...within 3 s" [ $(((t1 - t0) / 1000000)) -lt 3000 ]
f=$(wait_finding "$OUT" '.processes[0].binary.path == "/tmp/d/deepce"')
check "the hostile tool itself is reported by name" jqt '.sourceProperties.Rule_Id == "tool.deepce.name"' <<<"${f:-null}"
# Read while it ran (its own hash) or not at all (counted): never the host FIFO.
TOOL_SHA=$(sha256sum "$LIVE_DIR/hostile_tool" | cut -d' ' -f1)
check "...with its own file's hash or none, never the host's" \
	jqt --arg t "$TOOL_SHA" '.processes[0].binary.sha256 == null or .processes[0].binary.sha256 == $t' <<<"${f:-null}"
sleep 0.6
age=$(($(date +%s%3N) - $(jq .time_ms "$STATS")))
check "the stats file is fresh (${age} ms old)" [ "$age" -lt 1500 ]
if jqt '.processes[0].binary.sha256 == null' <<<"${f:-null}"; then
	check "the unreadable file is counted ($(jq -c .scans.unreadable_by_reason "$STATS"))" \
		jqt '.scans.unreadable >= 1' "$STATS"
fi

# --- a script operand that points at a host file -----------------------------
runc exec cw-hostile sh -c "ln -sf '$HOST/secret' /tmp/deepce.sh; sh /tmp/deepce.sh" </dev/null >/dev/null 2>&1
f=$(wait_finding "$OUT" '.processes[0].script.path == "/tmp/deepce.sh"')
check "a script symlinked to a host file is reported" [ -n "$f" ]
check "...and the host file's hash is not in the finding" \
	jqt --arg s "$SECRET_SHA" '[.. | strings | select(. == $s)] | length == 0' <<<"${f:-null}"

# --- a path deeper than the kernel walk ----------------------------------------
deep=$(printf 'a/%.0s' $(seq 1 60))
runc exec cw-hostile sh -c "mkdir -p /tmp/$deep && cp /opt/botb-linux-amd64 /tmp/${deep}botb-linux-amd64 && /tmp/${deep}botb-linux-amd64" </dev/null >/dev/null
f=$(wait_finding "$OUT" '.processes[0].binary.path | endswith("a/a/botb-linux-amd64")')
check "a deep path looks truncated in binary.path ($(jq -r '.processes[0].binary.path[0:12]' <<<"${f:-null}"))" \
	jqt '(.processes[0].binary.path | startswith("\u2026/")) and .sourceProperties.Executable_Path_Truncated' <<<"${f:-null}"

# --- terminal escapes in argv ------------------------------------------------------
mkdir -p "$R/opt/esc" && cp "$LIVE_DIR/harmless" "$R/opt/esc/botb-linux-amd64"
runc exec cw-hostile /opt/esc/botb-linux-amd64 "$(printf 'x\xc2\x9b31mRED')" "$(printf 'txt\xe2\x80\xaeexe')" "$(printf '\xff\\xff')" </dev/null >/dev/null
f=$(wait_finding "$OUT" '.processes[0].args | length == 4')
id=$(jq -r .name <<<"${f:-null}")
"$CAGEWATCH" findings show "$id" --store "$LIVE_DIR/store.db" >"$LIVE_DIR/show.txt" 2>&1
"$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" >"$LIVE_DIR/list.txt" 2>&1
for t in show list; do
	check "findings $t: no raw C1 control, bidi override or invalid UTF-8" \
		bash -c "! LC_ALL=C grep -q \$'\\xc2\\x9b\\|\\xe2\\x80\\xae\\|\\xff' '$LIVE_DIR/$t.txt'"
done
# JSON carries an invalid byte as U+FFFD; the terminal view doubles a typed backslash.
check "findings show: C1 and bidi shown as \\u{...}, a typed \\xff as \\\\xff" \
	bash -c "grep -qF '\\u{009b}' '$LIVE_DIR/show.txt' && grep -qF '\\u{202e}' '$LIVE_DIR/show.txt' && grep -qF '\\\\xff' '$LIVE_DIR/show.txt'"

# --- file modes under umask 000 ------------------------------------------------------
check "pid file is 644 under umask 000 ($(stat -c %a "$LIVE_DIR/agent.pid"))" [ "$(stat -c %a "$LIVE_DIR/agent.pid")" = 644 ]
check "stats file is 644 under umask 000 ($(stat -c %a "$STATS"))" [ "$(stat -c %a "$STATS")" = 644 ]
check "store is 640 under umask 000 ($(stat -c %a "$LIVE_DIR/store.db"))" [ "$(stat -c %a "$LIVE_DIR/store.db")" = 640 ]
stop_agent

# --- a FIFO as a configuration file ------------------------------------------------------
mkfifo "$LIVE_DIR/config.fifo"
t0=$(date +%s%N)
timeout 5 "$CAGEWATCH" run --config "$LIVE_DIR/config.fifo" --no-store >/dev/null 2>"$LIVE_DIR/fifo.err"
rc=$?
t1=$(date +%s%N)
check "--config FIFO is refused at once (exit $rc, $(((t1 - t0) / 1000000)) ms)" [ "$rc" -eq 2 ]
check "...saying it is not a regular file" grep -q 'not a regular file' "$LIVE_DIR/fifo.err"
live_done
