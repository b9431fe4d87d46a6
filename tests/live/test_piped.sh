#!/bin/bash
# tests/live/test_piped.sh - scripts that never touch a file are judged too:
# what a shell in a container reads from a pipe, a redirected file or a socket
# when it has no script operand (`cat deepce.sh | sh`, `curl URL | sh`,
# `sh < x.sh`, `busybox sh -s`), and the program text of `sh -c "$(cat x)"`.
# Each is a finding on its container with processes[0].script (path
# /dev/stdin or "(argv -c)", contents) and sourceProperties.Script_Source.
source "$(dirname "$0")/lib.sh"
live_init
jqt() { jq -e "$@" >/dev/null; }

FIX=$LIVE_ROOT/tests/fixtures/lookalikes
OUT=$LIVE_DIR/piped.json
start_container cw-piped || { not_ok "container starts"; live_done; }
R=$LIVE_DIR/bundles/cw-piped/rootfs
cp "$FIX/deepce_like.sh" "$R/opt/d.txt"
cp "$FIX/linpeas_like.sh" "$R/opt/l.txt"
printf 'echo hello from a pipe\n' >"$R/opt/benign.txt"
start_agent "$OUT" --stats-file "$LIVE_DIR/stats.json" || { not_ok "agent starts"; live_done; }

# piped NAME SHELL-COMMAND RULE SOURCE: run it, expect one finding
piped() {
	local name=$1 cmd=$2 rule=$3 src=$4 f
	runc exec cw-piped sh -c "$cmd" >/dev/null 2>&1 </dev/null
	f=$(wait_finding "$OUT" ".sourceProperties.Script_Source == \"$src\" and .sourceProperties.Rule_Id == \"$rule\"")
	check "$name: a finding on its container" jqt '.sourceProperties.Container_Id == "cw-piped"' <<<"${f:-null}"
	check "$name: the script and its contents are in the finding" \
		jqt --arg r "$rule" '.processes[0].script.path as $p | ($p == "/dev/stdin" or $p == "(argv -c)")
			and (.processes[0].script.contents | length > 20) and .processes[0].script.sha256 != null' <<<"${f:-null}"
	check "$name: the shell named by its path ($(jq -r '.processes[0].binary.path' <<<"${f:-null}"))" \
		jqt '.processes[0].binary.path == "/bin/busybox"' <<<"${f:-null}"
}

piped "cat deepce.sh | sh" 'cat /opt/d.txt | sh' yara.deepce "stdin (pipe)"
piped "sh < deepce.sh" 'sh < /opt/d.txt' yara.deepce "stdin (file)"
piped "busybox sh -s (linPEAS)" 'cat /opt/l.txt | busybox sh -s' yara.linpeas "stdin (pipe)"
piped "sh -c \"\$(cat x)\"" 'sh -c "$(cat /opt/l.txt)"' yara.linpeas "command line (-c)"

n=$(jq -c 'select(.processes[0].script.path == "/dev/stdin")' "$OUT" | wc -l)
runc exec cw-piped sh -c 'cat /opt/benign.txt | sh; sh < /dev/null; echo "echo x" | sh -c "read l; echo \$l"' >/dev/null 2>&1 </dev/null
sleep 1
m=$(jq -c 'select(.processes[0].script.path == "/dev/stdin")' "$OUT" | wc -l)
check "benign piped input, /dev/null and a non-shell give no finding ($n -> $m)" [ "$n" -eq "$m" ]

# --no-stdin-capture: no read() hook, no stdin findings; -c scripts still judged
stop_agent
OUT2=$LIVE_DIR/piped2.json
start_agent "$OUT2" --no-stdin-capture || not_ok "agent starts with --no-stdin-capture"
runc exec cw-piped sh -c 'cat /opt/d.txt | sh; sh -c "$(cat /opt/l.txt)"' >/dev/null 2>&1 </dev/null
f=$(wait_finding "$OUT2" '.sourceProperties.Script_Source == "command line (-c)"')
check "--no-stdin-capture: a -c script is still a finding" [ -n "$f" ]
check "--no-stdin-capture: no stdin capture" \
	bash -c "! jq -e 'select(.processes[0].script.path == \"/dev/stdin\")' '$OUT2' >/dev/null"
check "--no-stdin-capture: no read() hook attached" bash -c "! bpftool prog show | grep -q tqx_read"
live_done
