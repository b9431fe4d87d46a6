#!/bin/bash
# test_block.sh - `cagewatch run --block` live: a known tool (recognised by
# content, renamed) is refused before it starts inside real runc containers,
# including one started after the agent; ordinary
# programs in the same containers and the same tool on the host still run; the
# refusal is a finding marked Blocked, stored, and counted in stats.
. "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
B=$LIVE_DIR/bin
mkdir -p "$B"
cc -O2 -static -o "$B/botb_like" "$FIX/botb_like.c" || cc -O2 -o "$B/botb_like" "$FIX/botb_like.c" ||
	not_ok "build the BOtB look-alike"

check "container started before the agent" start_container cw-blk1
R1=$LIVE_DIR/bundles/cw-blk1/rootfs
cp "$B/botb_like" "$R1/opt/backup-helper" # renamed: only its content tells
check "agent starts with --block" start_agent "$OUT" --block --stats-file "$LIVE_DIR/stats.json"

# in_ctr NAME CMD: run CMD with busybox sh in the container; prints its output.
in_ctr() { cexec "$1" "$LIVE_DIR/x.pid" sh -c "$2" 2>&1; }

o=$(in_ctr cw-blk1 '/opt/backup-helper -autopwn; echo "rc=$?"')
check "renamed tool refused in the container (execve EPERM, shell rc 126)" \
	grep -q 'rc=126' <<<"$o"
check "the tool printed nothing: it never started" test "$(grep -c lookalike <<<"$o")" = 0
F=$(wait_finding "$OUT" '.sourceProperties.Blocked == true and .processes[0].binary.path == "/opt/backup-helper"')
check "refusal reported as a finding marked Blocked" test -n "$F"
check "finding: container, content rule, tool, category, sha256" \
	test "$(jq -r '.sourceProperties.Container_Id == "cw-blk1" and (.sourceProperties.Rule_Id | startswith("yara.") or startswith("hash.")) and .sourceProperties.Tool_Id == "botb" and .category == "Execution: Container Escape" and (.processes[0].binary.sha256 | length == 64)' <<<"$F")" = true

o=$(in_ctr cw-blk1 'ls /opt >/dev/null && cat /etc/passwd >/dev/null && echo fine')
check "ordinary programs in the same container still run" grep -qx fine <<<"$o"
o=$(in_ctr cw-blk1 'cp /opt/backup-helper /tmp/x2 && /tmp/x2; echo "rc=$?"')
check "a fresh copy under another name and path is refused too" grep -q 'rc=126' <<<"$o"

# A clean file is let through without asking again (an ignore mark) until it
# is written to: rewritten with a tool's content, it is judged again.
o=$(in_ctr cw-blk1 'cp /opt/harmless /tmp/w && /tmp/w a && /tmp/w b; echo "rc=$?"')
check "a clean program runs, twice" grep -q 'rc=0' <<<"$o"
o=$(in_ctr cw-blk1 'cat /opt/backup-helper > /tmp/w && /tmp/w; echo "rc=$?"')
check "the same file rewritten in place with tool content is refused" grep -q 'rc=126' <<<"$o"

# The same file on the host is not the agent's to refuse (containers only).
check "the tool still runs on the host" sh -c '"$0" >/dev/null' "$R1/opt/backup-helper"

# A container started after the agent, and a tmpfs mounted in it later.
check "container started after the agent" start_container cw-blk2
R2=$LIVE_DIR/bundles/cw-blk2/rootfs
cp "$B/botb_like" "$R2/opt/svc"
in_ctr cw-blk2 'true' >/dev/null # its first exec: the agent marks its mounts
sleep 1.5                         # or the once-a-second rescan does
o=$(in_ctr cw-blk2 '/opt/svc; echo "rc=$?"')
check "tool refused in a container that started after the agent" grep -q 'rc=126' <<<"$o"

stop_agent
check "refusals counted in the stats file" test "$(jq '.block.denied' "$LIVE_DIR/stats.json")" -ge 4
check "clean files marked so the kernel stops asking" test "$(jq '.block.clean_marks' "$LIVE_DIR/stats.json")" -ge 1
check "refusals are stored" \
	test "$("$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --filter 'source_properties.Blocked = true' --format json | jq length)" -ge 2

# Without --block the agent only reports: the tool runs.
check "agent starts without --block" start_agent "$OUT.2"
o=$(in_ctr cw-blk1 '/opt/backup-helper; echo "rc=$?"')
check "without --block the tool runs (and is detected)" grep -q 'rc=0' <<<"$o"
check "... and its finding is not marked Blocked" \
	test -n "$(wait_finding "$OUT.2" '.processes[0].binary.path == "/opt/backup-helper" and (.sourceProperties.Blocked | not)')"
stop_agent
live_done
