#!/bin/bash
# test_recognition.sh - issue 3 live: known tools recognised when renamed, moved,
# run through an interpreter, a "#!" line, ld.so or a memfd, by content (YARA)
# and hash, in real runc containers and unshare sandboxes; a benign set stays
# silent; `cagewatch scan` over a tree. The look-alikes (tests/fixtures/lookalikes)
# only carry the tools' identifying strings and print a line.
. "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
B=$LIVE_DIR/bin
mkdir -p "$B"
for f in botb_like cdk_like peirates_like amicontained_like; do
	cc -O2 -static -o "$B/$f" "$FIX/$f.c" || cc -O2 -o "$B/$f" "$FIX/$f.c" || not_ok "build $f"
done
cc -O2 -o "$B/botb_dyn" "$FIX/botb_like.c" || not_ok "build dynamic botb look-alike"
cc -O2 -static -o "$B/memfd_exec" "$LIVE_ROOT/tests/live/memfd_exec.c" || not_ok "build memfd_exec"

check "agent starts" start_agent "$OUT" --stats-file "$LIVE_DIR/stats.json"
check "container starts" start_container cw-rec
R=$LIVE_DIR/bundles/cw-rec/rootfs
cp "$B"/{botb_like,cdk_like,peirates_like,amicontained_like,memfd_exec} "$R/opt/"
cp "$FIX/deepce_like.sh" "$R/opt/enum.sh"
cp "$FIX/linpeas_like.sh" "$R/opt/lp.sh"
cp "$FIX/benign/notes.sh" "$R/opt/notes.sh"

run_in() { cexec cw-rec "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }
expect() { # DESCRIPTION JQ-SELECT [JQ-ASSERT]
	local f
	f=$(wait_finding "$OUT" "$2")
	if [ -z "$f" ]; then
		not_ok "$1 (no finding)"
		return 1
	fi
	if [ -n "${3:-}" ] && [ "$(jq -r "$3" <<<"$f")" != true ]; then
		not_ok "$1 (assertion $3 failed on $(jq -c '{p: .processes, s: .sourceProperties}' <<<"$f"))"
		return 1
	fi
	ok "$1"
}

# Renamed and moved: only content can tell.
run_in 'mkdir -p /tmp/.cache && cp /opt/botb_like /tmp/.cache/kworker && /tmp/.cache/kworker'
expect "renamed BOtB (/tmp/.cache/kworker) recognised by content" \
	'.processes[0].binary.path == "/tmp/.cache/kworker"' \
	'.sourceProperties.Tool_Id == "botb" and .category == "Execution: Container Escape" and (.indicator.signatures | length > 0)'
run_in 'cp /opt/cdk_like /tmp/x && /tmp/x eva'
expect "renamed CDK (/tmp/x eva) recognised" '.processes[0].binary.path == "/tmp/x"' \
	'.sourceProperties.Tool_Id == "cdk"'
run_in 'cp /opt/peirates_like /tmp/pe && /tmp/pe'
expect "renamed Peirates -> Kubernetes Attack Tool Execution, CRITICAL" '.processes[0].binary.path == "/tmp/pe"' \
	'.category == "Execution: Kubernetes Attack Tool Execution" and .severity == "CRITICAL"'
run_in 'cp /opt/amicontained_like /tmp/ac && /tmp/ac'
expect "renamed amicontained -> Local Reconnaissance Tool Execution, MEDIUM" '.processes[0].binary.path == "/tmp/ac"' \
	'.category == "Execution: Local Reconnaissance Tool Execution" and .severity == "MEDIUM"'

# Scripts: `sh x.sh` and a "#!" script: binary = interpreter, script = the file.
run_in 'cp /opt/enum.sh /tmp/enum.sh && sh /tmp/enum.sh'
expect "sh /tmp/enum.sh (deepce look-alike) recognised, script reported" \
	'.processes[0].script.path? == "/tmp/enum.sh"' \
	'.sourceProperties.Tool_Id == "deepce" and (.processes[0].binary.path | endswith("busybox")) and (.processes[0].script.sha256 | length == 64)'
run_in 'cp /opt/lp.sh /tmp/check && chmod +x /tmp/check && cd /tmp && ./check'
expect '"#!" script ./check (linPEAS look-alike) recognised' \
	'.processes[0].script.path? == "./check" or .processes[0].script.path? == "/tmp/check"' \
	'.sourceProperties.Tool_Id == "linpeas"'

# Fileless: executed from a memfd.
run_in '/opt/memfd_exec /opt/botb_like'
expect "look-alike executed from a memfd recognised" \
	'(.processes[0].binary.path | contains("memfd:")) and .sourceProperties.Tool_Id == "botb"'

# Through ld.so and interpreters in an unshare sandbox (host tools, own pid ns).
cp "$B/botb_dyn" "$LIVE_DIR/renamed-dyn"
unshare --fork --pid --mount-proc /lib64/ld-linux-x86-64.so.2 "$LIVE_DIR/renamed-dyn" >/dev/null 2>&1
expect "ld.so ./renamed-dyn recognised" '.processes[0].script.path? == "'"$LIVE_DIR/renamed-dyn"'"' \
	'.sourceProperties.Tool_Id == "botb"'
if [ -x /usr/bin/python3 ]; then
	printf '# Do you like PEASS?\nprint("lookalike")\n' >"$LIVE_DIR/report.py"
	unshare --fork --pid --mount-proc /usr/bin/python3 "$LIVE_DIR/report.py" >/dev/null 2>&1
	expect "python3 report.py with linPEAS content recognised" \
		'.processes[0].script.path? == "'"$LIVE_DIR/report.py"'"' '.sourceProperties.Tool_Id == "linpeas"'
else
	not_ok "python3 report.py: /usr/bin/python3 missing"
fi
printf '# Do you like PEASS?\nprint "lookalike\\n";\n' >"$LIVE_DIR/report.pl"
unshare --fork --pid --mount-proc perl "$LIVE_DIR/report.pl" >/dev/null 2>&1
expect "perl report.pl with linPEAS content recognised" \
	'.processes[0].script.path? == "'"$LIVE_DIR/report.pl"'"' '.sourceProperties.Tool_Id == "linpeas"'

# Benign set, then a marker: nothing before the marker may be a finding.
run_in 'ls /; cat /etc/passwd; id; sh /opt/notes.sh; echo ok'
unshare --fork --pid --mount-proc sh -c "gcc --version; ls /usr/bin >/dev/null; /usr/bin/python3 -c 'print(1)'; perl -e 1; bash -c true; dpkg -l dpkg; node $FIX/benign/cdk deploy MyStack" >/dev/null 2>&1
run_in 'cp /opt/botb_like /tmp/marker && /tmp/marker'
if wait_finding "$OUT" '.processes[0].binary.path == "/tmp/marker"' >/dev/null; then
	# the one finding the reference says fires on this set: a compiler in a
	# container is "Launch Code Compiler Tool In Container", LOW by design
	bad=$(jq -r 'select(.processes[0].binary.path | test("/(ls|cat|id|gcc|bash|dpkg|node|python3[.0-9]*|perl|busybox|sh)$")) | select(.processes[0].script.path? != null | not) | select(.category == "Defense Evasion: Launch Code Compiler Tool In Container" and .severity == "LOW" | not) | .processes[0].binary.path' "$OUT")
	check "benign set silent but for the compiler's LOW finding (shells, coreutils, python, perl, node cdk)" test -z "$bad"
	check "... and gcc gives that LOW compiler finding" \
		test -n "$(jq -c 'select(.processes[0].args[0] == "gcc" and .category == "Defense Evasion: Launch Code Compiler Tool In Container" and .severity == "LOW")' "$OUT")"
	check "no finding for notes.sh" test -z "$(jq -c 'select(.processes[0].script.path? == "/opt/notes.sh")' "$OUT")"
else
	not_ok "marker finding did not arrive"
fi

# Cache: the same file again is a cache hit, not a second read.
run_in '/tmp/marker; /tmp/marker'
check "cache hits counted in stats" wait_jq "$LIVE_DIR/stats.json" '.cache.hits > 0'
check "cagewatch stats reads the running agent" "$CAGEWATCH" stats --stats-file "$LIVE_DIR/stats.json"
"$CAGEWATCH" stats --stats-file "$LIVE_DIR/stats.json" --format prometheus >"$LIVE_DIR/metrics.txt"
check "stats in Prometheus text format: every sample line well formed" \
	test "$(grep -v '^#' "$LIVE_DIR/metrics.txt" | grep -cvE '^cagewatch_[a-z_]+(\{cpu="[0-9]+"\})? [0-9.]+$')" = 0
check "Prometheus: execs seen and cache hits are counted" \
	awk '$1 == "cagewatch_kernel_execs_seen_total" && $2 > 0 {a = 1} $1 == "cagewatch_content_cache_hits_total" && $2 > 0 {b = 1} END {exit !(a && b)}' "$LIVE_DIR/metrics.txt"
check "stats --format with an unknown name is refused (exit 2)" \
	sh -c '"$0" stats --stats-file "$1" --format xml; test $? -eq 2' "$CAGEWATCH" "$LIVE_DIR/stats.json"

# Kernel filter: a known-clean executable is dropped in the kernel after its
# first exec, but a hard link or symlink to it under a tool's name still
# reaches user space, and so does the file once rewritten.
run_in 'i=0; while [ $i -lt 30 ]; do /opt/harmless; i=$((i+1)); done'
check "known-clean execs skipped in the kernel" wait_jq "$LIVE_DIR/stats.json" '.kernel.known_clean > 0'
run_in 'busybox ln /opt/harmless /tmp/botb-linux-amd64 && /tmp/botb-linux-amd64 -autopwn'
expect "hard link of a known-clean binary under a tool name still detected" \
	'.processes[0].binary.path == "/tmp/botb-linux-amd64"' '.sourceProperties.Matched_On | startswith("name")'
run_in 'busybox ln -s /opt/harmless /tmp/kubeletctl && /tmp/kubeletctl scan rce'
expect "symlink to a known-clean binary under a tool name still detected" \
	'.sourceProperties.Tool_Id == "kubeletctl"'
cp "$B/botb_like" "$R/opt/harmless.new"
run_in 'cat /opt/harmless.new > /opt/harmless && /opt/harmless'
expect "a known-clean file rewritten with tool content is scanned again" \
	'.processes[0].binary.path == "/opt/harmless" and .sourceProperties.Matched_On != "name+argv"' \
	'.sourceProperties.Tool_Id == "botb"'

# cagewatch scan over a tree with hits and non-hits.
mkdir -p "$LIVE_DIR/tree/usr/bin" "$LIVE_DIR/clean"
cp "$B/cdk_like" "$LIVE_DIR/tree/usr/bin/helper"
cp "$FIX/deepce_like.sh" "$LIVE_DIR/tree/usr/bin/x.sh"
cp /bin/ls "$LIVE_DIR/tree/usr/bin/ls"
cp /bin/ls "$LIVE_DIR/clean/ls"
"$CAGEWATCH" scan "$LIVE_DIR/tree" >"$LIVE_DIR/scan.out"
rc=$?
check "scan: exit 1 when something is found (got $rc)" test $rc -eq 1
check "scan: both hits listed" test "$(grep -c . "$LIVE_DIR/scan.out")" -eq 2
"$CAGEWATCH" scan "$LIVE_DIR/clean" >/dev/null
check "scan: exit 0 on a clean tree" test $? -eq 0

stop_agent
live_done
