#!/bin/bash
# test_techniques_agent.sh - issue 6 through the agent: escape steps done for
# real in privileged runc containers (harmless final step) become findings of
# `cagewatch run` with container attribution, stored and printed; configured
# exceptions (by container name or image) silence one container only; a normal
# workload gives none.
. "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
ALL_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID","CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK","CAP_SYS_MODULE","CAP_SYS_RAWIO","CAP_SYS_CHROOT","CAP_SYS_PTRACE","CAP_SYS_ADMIN","CAP_MKNOD","CAP_AUDIT_WRITE","CAP_SETFCAP"]'

# priv_container NAME IMAGE: a privileged runc container (all the capabilities an
# escape needs, no seccomp, no masked or read-only paths).
priv_container() {
	local name=$1 image=$2 b="$LIVE_DIR/bundles/$1"
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	for a in mount umount; do ln -sf busybox "$b/rootfs/bin/$a"; done
	(cd "$b" && runc spec) || return 1
	jq --arg name "$name" --arg image "$image" --argjson caps "$ALL_CAPS" '.process.terminal=false
		| .process.args=["sleep","3600"] | .root.readonly=false
		| .linux.cgroupsPath=("/cagewatch-tqa/" + $name)
		| .annotations={"io.kubernetes.cri.container-name": $name, "io.kubernetes.cri.image-name": $image}
		| .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
		| del(.linux.seccomp) | .linux.maskedPaths=[] | .linux.readonlyPaths=[]' \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json" || return 1
	runc run -d --bundle "$b" "$name" </dev/null >"$b/runc.log" 2>&1 || { cat "$b/runc.log"; return 1; }
	LIVE_CONTAINERS+=("$name")
}
cx() { runc exec "$1" sh -c "$2; sleep 0.2" </dev/null >>"$LIVE_DIR/steps.log" 2>&1; }

cat >"$LIVE_DIR/exceptions.json" <<'JSON'
{"exceptions": [{"rules": ["technique.kernel.core_pattern"], "names": ["cw-tqa-ok"],
  "comment": "test: this container may touch core_pattern"}]}
JSON
check "privileged container starts" priv_container cw-tqa-priv example.local/busybox:tqa
check "excepted privileged container starts" priv_container cw-tqa-ok example.local/busybox:tqa
check "agent starts with the technique sensor and exceptions" \
	start_agent "$OUT" --technique-exceptions "$LIVE_DIR/exceptions.json" --stats-file "$LIVE_DIR/stats.json"

# Normal workload first; the cgroup step below is the marker.
cx cw-tqa-priv 'echo data > /tmp/log; ls /proc >/dev/null; cat /proc/self/status >/dev/null'
# release_agent technique, harmless: mount a v1 hierarchy, open notify_on_release.
cx cw-tqa-priv 'mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg && true >> /tmp/cg/notify_on_release; umount /tmp/cg'
F=$(wait_finding "$OUT" '.sourceProperties.Rule_Id == "technique.cgroup.notify_on_release"')
check "notify_on_release write-open in a container is a finding" test -n "$F"
check "attributed to the container" test "$(jq -r .sourceProperties.Container_Id <<<"$F")" = cw-tqa-priv
check "category is the release_agent technique, MITRE ESCAPE_TO_HOST" \
	test "$(jq -r '(.category | contains("release_agent")) and (.mitreAttack.primaryTechniques | index("ESCAPE_TO_HOST") != null)' <<<"$F")" = true
check "the written file is the finding's top-level files[] (no executed-file fields)" \
	test "$(jq -r '(.files[0].path | endswith("notify_on_release")) and (.sourceProperties | has("Executable_Inode") | not)' <<<"$F")" = true
check "cgroup v1 mount is a finding too" test -n "$(wait_finding "$OUT" '.sourceProperties.Rule_Id == "technique.cgroup.v1_mount"')"
check "normal workload gave no technique finding" \
	test -z "$(jq -c 'select(.sourceProperties.Rule_Id | startswith("technique.")) | select(.sourceProperties.Rule_Id | startswith("technique.cgroup") | not)' "$OUT")"

# Exceptions: core_pattern in both containers; only the non-excepted one reports.
cx cw-tqa-ok 'true >> /proc/sys/kernel/core_pattern'
cx cw-tqa-priv 'true >> /proc/sys/kernel/core_pattern'
F=$(wait_finding "$OUT" '.sourceProperties.Rule_Id == "technique.kernel.core_pattern"')
check "core_pattern write-open reported for the other container" \
	test "$(jq -r .sourceProperties.Container_Id <<<"$F")" = cw-tqa-priv
check "core_pattern write-open excepted for cw-tqa-ok" \
	test -z "$(jq -c 'select(.sourceProperties.Rule_Id == "technique.kernel.core_pattern" and .sourceProperties.Container_Id == "cw-tqa-ok")' "$OUT")"
check "technique findings are stored" \
	test "$("$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --filter 'source_properties.Rule_Id:"technique."' --format json | jq length)" -ge 2

# A flood cannot blind the sensor: one process repeats the attempt 20,000 times
# (each a finding, and a store commit, before: the ring overflowed, ~70% of the
# records were lost, and with them the next attempt), then 1,000 new processes
# repeat it once each, then a different attempt comes at once. Repeats within
# a second are folded in the kernel: a few findings, nothing lost, and the next
# attempt is still reported.
n_before=$(jq -c 'select(.sourceProperties.Rule_Id == "technique.kernel.core_pattern")' "$OUT" | grep -c .)
t0=$(date +%s)
runc exec cw-tqa-priv sh -c 'i=0; while [ $i -lt 20000 ]; do true >> /proc/sys/kernel/core_pattern; i=$((i + 1)); done
	i=0; while [ $i -lt 1000 ]; do sh -c "true >> /proc/sys/kernel/core_pattern"; i=$((i + 1)); done
	true >> /proc/sys/kernel/modprobe' </dev/null >>"$LIVE_DIR/steps.log" 2>&1
secs=$(($(date +%s) - t0 + 1))
check "after a flood of one attempt, the next different attempt is a finding" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Rule_Id == "technique.kernel.modprobe"')"
n_after=$(jq -c 'select(.sourceProperties.Rule_Id == "technique.kernel.core_pattern")' "$OUT" | grep -c .)
check "  the flood's repeats folded in the kernel: $((n_after - n_before)) findings, none lost" \
	wait_jq "$LIVE_DIR/stats.json" '.techniques.folded >= 15000 and .techniques.lost == 0'
# (one record a second for the loop and one for the processes; 7-10 seen in 4-6 s,
# the bound leaves room for a loaded machine: without folding there are thousands)
check "  (a few records a second, not one per attempt: at most $((3 * secs)) in $secs s)" \
	[ $((n_after - n_before)) -le $((3 * secs)) ]

# The program's path does not depend on how late the agent reads: with the
# agent stopped, a short-lived process makes an attempt and exits; the finding
# still names its program by path (before: "busybox", the kernel's dentry name,
# once /proc/PID/exe was gone).
kill -STOP "$AGENT_PID"
runc exec cw-tqa-priv sh -c 'sh -c "true >> /proc/sysrq-trigger"' </dev/null >>"$LIVE_DIR/steps.log" 2>&1
kill -CONT "$AGENT_PID"
F=$(wait_finding "$OUT" '.sourceProperties.Rule_Id == "technique.device.sysrq_trigger"')
check "an attempt read after its process exited names the program by path ($(jq -r '.processes[0].binary.path' <<<"${F:-null}"))" \
	test "$(jq -r '.processes[0].binary.path' <<<"${F:-null}")" = /bin/busybox
stop_agent

# A catch-all exception is refused: there is no global off switch.
echo '{"exceptions": [{"rules": ["technique.kernel.core_pattern"], "names": ["*"]}]}' >"$LIVE_DIR/bad.json"
"$CAGEWATCH" run --no-store --technique-exceptions "$LIVE_DIR/bad.json" >/dev/null 2>"$LIVE_DIR/bad.err"
check "catch-all exception refused with exit 2" test $? -eq 2
live_done
