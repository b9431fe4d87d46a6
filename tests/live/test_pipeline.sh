#!/bin/bash
# test_pipeline.sh - issue 2 end to end: real BPF sensor, real runc containers,
# look-alike tools (a harmless binary under a tool's name with its usual
# arguments) -> "Execution: Container Escape" findings with the right fields;
# no finding for the same look-alike on the host or for ordinary commands.
. "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl

# A container started BEFORE the agent must still be attributed.
check "runc container started before the agent" start_container cw-early
check "agent starts, writes its pid file once attached" start_agent "$OUT"
check "pid file holds the agent's pid" test -n "$AGENT_PID" -a "$(cat "$LIVE_DIR/agent.pid" 2>/dev/null)" = "$AGENT_PID"
check "runc container started after the agent" start_container cw-late

# 1. BOtB look-alike in the late container.
cexec cw-late "$LIVE_DIR/botb.pid" sh -c 'cp /opt/harmless /tmp/botb-linux-amd64 && exec /tmp/botb-linux-amd64 -autopwn' >/dev/null
BOTB_PID=$(cat "$LIVE_DIR/botb.pid" 2>/dev/null)
F=$(wait_finding "$OUT" '.processes[0].binary.path == "/tmp/botb-linux-amd64"')
check "finding for botb-linux-amd64 -autopwn in a container" test -n "$F"
jqf() { jq -r "$1" <<<"$F"; }
check "category is Execution: Container Escape" test "$(jqf .category)" = "Execution: Container Escape"
check "findingClass THREAT, state ACTIVE" test "$(jqf '.findingClass + " " + .state')" = "THREAT ACTIVE"
check "severity HIGH" test "$(jqf .severity)" = HIGH
check "mitreAttack PRIVILEGE_ESCALATION / ESCAPE_TO_HOST" \
	test "$(jqf '.mitreAttack.primaryTactic + " " + (.mitreAttack.primaryTechniques | join(","))')" = "PRIVILEGE_ESCALATION ESCAPE_TO_HOST"
check "args are the tool's argv" test "$(jqf '.processes[0].args | join(" ")')" = "/tmp/botb-linux-amd64 -autopwn"
check "pid is the host pid runc reported ($BOTB_PID)" test "$(jqf .processes[0].pid)" = "$BOTB_PID"
check "pid is a JSON string (int64 mapping)" test "$(jqf '.processes[0].pid | type')" = string
check "binary sha256 of the look-alike" test "$(jqf .processes[0].binary.sha256)" = "$(sha256sum "$LIVE_DIR/harmless" | cut -d' ' -f1)"
check "container id is the runc id" test "$(jqf .sourceProperties.Container_Id)" = cw-late
check "container name from the bundle annotations" test "$(jqf '.containers[0].name')" = cw-late
check "container image from the bundle annotations" test "$(jqf '.containers[0].uri')" = "example.local/busybox:live"
check "resource names host and container" bash -c "[[ '$(jqf .resourceName)' == *cw-late* ]]"
check "resource.gcpMetadata.projectDisplayName set" test -n "$(jqf '.resource.gcpMetadata.projectDisplayName // empty')"
check "eventTime is RFC 3339 UTC" bash -c "[[ '$(jqf .eventTime)' =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$ ]]"
check "one line per finding on stdout" test "$(grep -c . "$OUT")" = "$(jq -c . "$OUT" | grep -c .)"

# 2. CDK look-alike in the early container (started before the agent).
cexec cw-early "$LIVE_DIR/cdk.pid" sh -c 'mkdir -p /tmp/x && cp /opt/harmless /tmp/x/cdk && exec /tmp/x/cdk eva --full' >/dev/null
F=$(wait_finding "$OUT" '.processes[0].binary.path == "/tmp/x/cdk"')
check "finding for cdk eva --full in the container started before the agent" test -n "$F"
check "pre-existing container attributed" test "$(jq -r .sourceProperties.Container_Id <<<"$F")" = cw-early

# 2b. A Kubernetes pod's container (CRI annotations in the OCI bundle, kubepods cgroup).
POD_UID=0b6e5a4c-1d2e-4f3a-9b8c-7d6e5f4a3b2c
CID=$(printf 'cw%.0s' $(seq 32))
check "kubepods container starts" start_container "$CID" "/kubepods/besteffort/pod$POD_UID/$CID" \
	'{"io.kubernetes.cri.container-name":"app","io.kubernetes.cri.sandbox-name":"web-7d9f","io.kubernetes.cri.sandbox-namespace":"shop","io.kubernetes.cri.sandbox-uid":"'"$POD_UID"'"}'
cexec "$CID" "$LIVE_DIR/k.pid" sh -c 'cp /opt/harmless /tmp/peirates && exec /tmp/peirates' >/dev/null
F=$(wait_finding "$OUT" '.processes[0].binary.path == "/tmp/peirates"')
check "finding for peirates in a pod" test -n "$F"
check "kubernetes.pods[0] names the pod and namespace" \
	test "$(jq -r '.kubernetes.pods[0].ns + "/" + .kubernetes.pods[0].name' <<<"$F")" = "shop/web-7d9f"
check "container name from the CRI annotation" test "$(jq -r '.containers[0].name' <<<"$F")" = app
check "peirates is a Kubernetes Attack Tool (CRITICAL)" \
	test "$(jq -r '.category + "/" + .severity' <<<"$F")" = "Execution: Kubernetes Attack Tool Execution/CRITICAL"

# 3. Negatives: the same look-alike on the host; ordinary commands in a container;
#    AWS-CDK-like `cdk deploy` in a container.
mkdir -p "$LIVE_DIR/hostbin"
cp "$LIVE_DIR/harmless" "$LIVE_DIR/hostbin/botb-linux-amd64"
"$LIVE_DIR/hostbin/botb-linux-amd64" -autopwn >/dev/null
cexec cw-late "$LIVE_DIR/x.pid" sh -c 'ls / >/dev/null; cat /etc/passwd >/dev/null; id >/dev/null; echo hi >/dev/null'
cexec cw-late "$LIVE_DIR/x.pid" sh -c 'cp /opt/harmless /tmp/cdk && /tmp/cdk deploy MyStack' >/dev/null
# A marker finding after the negatives: once it arrives, everything before it was processed.
cexec cw-late "$LIVE_DIR/m.pid" sh -c 'cp /opt/harmless /tmp/amicontained && exec /tmp/amicontained' >/dev/null
if wait_finding "$OUT" '.processes[0].binary.path == "/tmp/amicontained"' >/dev/null; then
	ok "marker finding (amicontained) arrives"
	check "no finding for the look-alike run on the host" test -z "$(jq -c 'select(.processes[0].binary.path | contains("hostbin"))' "$OUT")"
	check "no finding for ordinary commands in the container" \
		test -z "$(jq -c 'select(.processes[0].binary.path | test("/bin/(ls|cat|id|echo|sh|busybox)$"))' "$OUT")"
	check "no finding for 'cdk deploy' (AWS CDK vocabulary)" test -z "$(jq -c 'select(.processes[0].args[1]? == "deploy")' "$OUT")"
else
	not_ok "marker finding (amicontained) arrives: negatives cannot be judged"
fi

# 4. Clean stop on SIGTERM removes the pid file.
check "SIGTERM stops the agent with status 0" stop_agent
check "pid file removed on exit" test ! -e "$LIVE_DIR/agent.pid"
check "stderr reports the kernel counters on exit" grep -q "execs seen by the kernel" "$OUT.err"

# 5. --no-args leaves arguments out (REPORT_CLI_ARGUMENTS off).
start_agent "$OUT.noargs" --no-args --store "$LIVE_DIR/noargs.db"
cexec cw-late "$LIVE_DIR/b2.pid" sh -c 'exec /tmp/botb-linux-amd64 -autopwn' >/dev/null
F=$(wait_finding "$OUT.noargs" '.processes[0].binary.path == "/tmp/botb-linux-amd64"')
check "--no-args: finding still emitted" test -n "$F"
check "--no-args: no args in the finding" test "$(jq -r '.processes[0].args // "absent"' <<<"$F")" = absent
stop_agent

# 6. Without root: clear message, exit status 2.
setpriv --reuid=65534 --regid=65534 --clear-groups "$CAGEWATCH" run --no-store >"$LIVE_DIR/nonroot.out" 2>&1
rc=$?
check "non-root run exits with status 2 (got $rc)" test $rc -eq 2
check "non-root run says root is needed" grep -qi "root" "$LIVE_DIR/nonroot.out"

live_done
