#!/bin/bash
# tests/live/test_integrity.sh - detection integrity whatever the timing: 20
# containers started one after another (the kernel hands each the previous
# one's namespace inodes), each running a different renamed look-alike as its
# PID 1 that exits at once, while another container runs a 2-worker exec storm.
# Each must give exactly one finding naming its own container, with its own
# tool, none merged, `findings related` never mixing them, no scan dropped.
# Then the same with crun and containerd (ctr), and a hostPID container and a
# host-network one running a tool.
source "$(dirname "$0")/lib.sh"
live_init
jqt() { jq -e "$@" >/dev/null; }

Q=$LIVE_DIR/quick
OUT=$LIVE_DIR/integrity.json
STATS=$LIVE_DIR/stats.json
build_quick_lookalikes "$Q" || { not_ok "build the quick look-alikes"; live_done; }
PROGS=("$Q"/q_*)
start_agent "$OUT" --stats-file "$STATS" || { not_ok "agent starts"; live_done; }
start_storm cw-int-storm || not_ok "exec-storm container starts"

# check_sequence PREFIX RUNTIME: PREFIX1..PREFIX20 each ran PROGS[i-1].
check_sequence() {
	local p=$1 rt=$2 i name want f n ids=() wrong=0 missing=0 merged=0 mixed=0 id rel
	for i in $(seq 1 20); do
		wait_finding "$OUT" ".sourceProperties.Container_Id == \"$p$i\"" >/dev/null || true
	done
	sleep 0.3
	for i in $(seq 1 20); do
		name=$p$i
		want=$(expected_rule "${PROGS[$((i - 1))]}")
		n=$(jq -c "select(.processes[0].binary.path == \"/tmp/prog-$name\")" "$OUT" | wc -l)
		f=$(jq -c "select(.processes[0].binary.path == \"/tmp/prog-$name\")" "$OUT" | head -1)
		if [ "$n" -eq 0 ]; then
			missing=$((missing + 1)); echo "# $rt: no finding for $name"; continue
		fi
		[ "$n" -gt 1 ] && { wrong=$((wrong + 1)); echo "# $rt: $n findings for $name"; }
		if ! jq -e --arg n "$name" --arg r "$want" '.containers[0].name == $n
			and (.resourceName | endswith("/containers/" + $n))
			and .sourceProperties.Container_Id == $n
			and .sourceProperties.Rule_Id == $r
			and (.sourceProperties.Occurrence_Count // 1) == 1' <<<"$f" >/dev/null; then
			wrong=$((wrong + 1))
			echo "# $rt: $name got $(jq -c '[.containers[0].name, .resourceName, .sourceProperties.Container_Id, .sourceProperties.Rule_Id, .sourceProperties.Occurrence_Count]' <<<"$f") want $want"
		fi
		ids+=("$(jq -r '.name' <<<"$f")")
	done
	check "$rt: 20 quick-exit PID 1 tools gave a finding each ($missing missing)" [ "$missing" -eq 0 ]
	check "$rt: every finding names its own container and tool ($wrong wrong)" [ "$wrong" -eq 0 ]
	merged=$(printf '%s\n' "${ids[@]}" | sort | uniq -d | wc -l)
	check "$rt: no finding merged across containers" [ "$merged" -eq 0 ]
	for id in "${ids[@]}"; do
		rel=$("$CAGEWATCH" findings related "$id" --store "$LIVE_DIR/store.db" --format json |
			jq -r --arg p "$p" '.[] | .sourceProperties.Container_Id // "" | select(startswith($p))' | sort -u | wc -l)
		[ "$rel" -le 1 ] || mixed=$((mixed + 1))
	done
	check "$rt: findings related never mixes two containers ($mixed mixed)" [ "$mixed" -eq 0 ]
}

# --- runc -----------------------------------------------------------------
for i in $(seq 1 20); do
	b=$(pid1_bundle "cw-seqr$i" "${PROGS[$((i - 1))]}") || not_ok "bundle cw-seqr$i"
	runc run --bundle "$b" "cw-seqr$i" </dev/null >/dev/null 2>&1 || echo "# runc run cw-seqr$i: $?"
done
check_sequence cw-seqr runc
f=$(jq -r 'select(.sourceProperties.Container_Id == "cw-seqr1") | .name' "$OUT" | head -1)
"$CAGEWATCH" findings show "$f" --store "$LIVE_DIR/store.db" >"$LIVE_DIR/show.txt" 2>&1
check "findings show: next steps are lines of text, not \\x0a" \
	bash -c "! grep -q 'x0a' '$LIVE_DIR/show.txt' && grep -q '^  2\. ' '$LIVE_DIR/show.txt'"

# --- crun (needs a hugetlb v1 hierarchy in this hybrid layout) ---------------
if ! command -v crun >/dev/null; then
	not_ok "crun missing (tests/deps.sh installs it)"
else
	if [ ! -d /sys/fs/cgroup/hugetlb ] || ! mountpoint -q /sys/fs/cgroup/hugetlb; then
		mkdir -p /sys/fs/cgroup/hugetlb 2>/dev/null
		mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb 2>/dev/null
	fi
	for i in $(seq 1 20); do
		b=$(pid1_bundle "cw-seqc$i" "${PROGS[$((i - 1))]}") || not_ok "bundle cw-seqc$i"
		crun run --bundle "$b" "cw-seqc$i" </dev/null >"$b/crun.log" 2>&1 ||
			{ echo "# crun run cw-seqc$i failed:"; sed 's/^/# /' "$b/crun.log"; }
	done
	check_sequence cw-seqc crun
fi

# --- containerd (ctr run --rootfs) --------------------------------------------
if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
	not_ok "containerd/ctr missing (tests/deps.sh installs them)"
else
	CD=$LIVE_DIR/containerd
	mkdir -p "$CD"
	containerd --root "$CD/root" --state "$CD/state" --address "$CD/sock" >"$CD/log" 2>&1 &
	CD_PID=$!
	for i in $(seq 1 100); do [ -S "$CD/sock" ] && break; sleep 0.1; done
	for i in $(seq 1 20); do
		b=$(pid1_bundle "cw-seqd$i" "${PROGS[$((i - 1))]}") || not_ok "bundle cw-seqd$i"
		ctr --address "$CD/sock" run --rm --rootfs "$b/rootfs" "cw-seqd$i" "/tmp/prog-cw-seqd$i" \
			</dev/null >"$b/ctr.log" 2>&1 || { echo "# ctr run cw-seqd$i failed:"; sed 's/^/# /' "$b/ctr.log"; }
	done
	check_sequence cw-seqd containerd
	kill "$CD_PID" 2>/dev/null
	wait "$CD_PID" 2>/dev/null
fi

# --- a hostPID container and a host-network one -------------------------------
for mode in pid network; do
	name=cw-host$mode
	b=$(pid1_bundle "$name" "$LIVE_DIR/harmless")
	mkdir -p "$b/rootfs/opt" && cp "$LIVE_DIR/harmless" "$b/rootfs/opt/harmless"
	jq --arg m "$mode" '.linux.namespaces |= map(select(.type != $m))
		| .process.args=["/bin/sh","-c","cp /opt/harmless /tmp/botb-linux-amd64 && /tmp/botb-linux-amd64 -autopwn"]' \
		"$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
	runc run --bundle "$b" "$name" </dev/null >"$b/runc.log" 2>&1 || sed 's/^/# /' "$b/runc.log"
	f=$(wait_finding "$OUT" ".processes[0].binary.path == \"/tmp/botb-linux-amd64\" and .sourceProperties.Container_Id == \"$name\"")
	check "host$mode container: the tool's finding names that container" \
		jqt --arg n "$name" '.containers[0].name == $n and (.resourceName | endswith($n))' <<<"${f:-null}"
done

# --- nothing dropped or unjudged ------------------------------------------------
sleep 0.6
check "stats: no scan dropped ($(jq -c .agent.jobs_dropped "$STATS"))" jqt '.agent.jobs_dropped == 0' "$STATS"
check "stats: every queued scan done, none unreadable ($(jq -c .scans "$STATS"))" \
	jqt '.scans.queued == .scans.done and .scans.unreadable == 0' "$STATS"
check "stats: the storm ran alongside ($(jq -c .kernel.seen "$STATS") execs seen)" \
	jqt '.kernel.seen > 20000' "$STATS"
check "stats: the capture claimed the executed files ($(jq -c .capture "$STATS"))" \
	jqt '.capture.claimed >= 60' "$STATS"
"$CAGEWATCH" stats --stats-file "$STATS" --format prometheus >"$LIVE_DIR/prom.txt" 2>&1
check "prometheus: scan and capture counters exported" \
	grep -q '^cagewatch_scans_unreadable_total 0$' "$LIVE_DIR/prom.txt"
live_done
