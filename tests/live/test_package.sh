#!/bin/bash
# tests/live/test_package.sh - the Debian package on this machine: `make deb`
# builds it (debhelper), lintian finds no error or warning; it installs (group,
# setgid state directory, unit, man pages that render without groff warnings,
# completion); the unit passes `systemd-analyze verify`; the agent started with
# the unit's own ExecStart line reports a tool into /var/lib/cagewatch, which a
# member of the cagewatch group can read and others cannot; live suites pass
# against the installed binary; an upgrade keeps the store and the admin's
# config; purge removes binary, config and state.
source "$(dirname "$0")/lib.sh"
live_init
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
READER=cwreader$$
pkg_cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
	dpkg --purge cagewatch >/dev/null 2>&1
	userdel "$READER" >/dev/null 2>&1
	live_cleanup
}
trap pkg_cleanup EXIT
if dpkg -s cagewatch >/dev/null 2>&1; then
	not_ok "a cagewatch package is installed already: refusing to replace it"
	live_done
fi

"$LIVE_ROOT/tools/mkdeb.sh" "$LIVE_DIR/out" >"$LIVE_DIR/deb.log" 2>&1
DEB=$(ls "$LIVE_DIR"/out/cagewatch_*_*.deb 2>/dev/null | head -1)
check "make deb builds a package ($(basename "${DEB:-none}"))" [ -n "$DEB" ]
[ -n "$DEB" ] || { sed 's/^/# /' "$LIVE_DIR/deb.log" | tail -20; live_done; }
lintian --fail-on error,warning "$DEB" >"$LIVE_DIR/lintian.txt" 2>&1
rc=$?
check "lintian: no error or warning (rc $rc, $(grep -c '^[EW]:' "$LIVE_DIR/lintian.txt") E/W lines)" [ $rc = 0 ]
grep '^[EW]:' "$LIVE_DIR/lintian.txt" | sed 's/^/# /'

check "the package installs" bash -c "dpkg -i '$DEB' >'$LIVE_DIR/install.log' 2>&1"
check "Debian layout: /usr/sbin, /usr/share/cagewatch, /etc/cagewatch, the unit" \
	test -x /usr/sbin/cagewatch -a -f /usr/share/cagewatch/catalogue.json -a -f /usr/share/cagewatch/yara/tools.yar \
	-a -f /etc/cagewatch/config.json -a -d /etc/cagewatch/rules.d -a -f /lib/systemd/system/cagewatch.service
check "the config is a conffile" bash -c "dpkg-query -W -f='\${Conffiles}' cagewatch | grep -q /etc/cagewatch/config.json"
check "a cagewatch system group; /var/lib/cagewatch root:cagewatch 2750 ($(stat -c '%U:%G %a' /var/lib/cagewatch 2>/dev/null))" \
	bash -c "getent group cagewatch >/dev/null && [ \"\$(stat -c '%U:%G %a' /var/lib/cagewatch)\" = 'root:cagewatch 2750' ]"
warn=
for m in /usr/share/man/man*/cagewatch*; do
	w=$(zcat "$m" | groff -ww -man -Tutf8 2>&1 >/dev/null)
	[ -n "$w" ] && warn="$warn $(basename "$m"): $w"
done
check "every installed man page renders without groff -ww warnings${warn:+ ($warn)}" [ -z "$warn" ]
check "man cagewatch finds the installed page" bash -c "MANWIDTH=80 man cagewatch 2>/dev/null | grep -q 'cagewatch'"
check "bash completion installed" test -f /usr/share/bash-completion/completions/cagewatch
check "the unit passes systemd-analyze verify" bash -c "systemd-analyze verify /lib/systemd/system/cagewatch.service >'$LIVE_DIR/verify.txt' 2>&1"
sed 's/^/# /' "$LIVE_DIR/verify.txt"
score=$(systemd-analyze security --offline=yes /lib/systemd/system/cagewatch.service 2>/dev/null | sed -n 's/.*exposure level for cagewatch.service: \([0-9.]*\).*/\1/p')
check "systemd-analyze security: exposure $score (want <= 4.0)" awk -v s="${score:-99}" 'BEGIN { exit !(s <= 4.0) }'
/usr/sbin/cagewatch doctor >/dev/null 2>&1
rc=$?
check "the installed binary's doctor says the agent can run here (exit $rc: 0 fully, 3 degraded)" \
	bash -c "[ $rc = 0 ] || [ $rc = 3 ]"

# the agent as the unit starts it: its ExecStart line, UMask=0027
cmd=$(sed -n '/^ExecStart=/,/[^\\]$/p' /lib/systemd/system/cagewatch.service | sed 's/^ExecStart=//; s/\\$//' | tr '\n\t' '  ')
mkdir -p /run/cagewatch
(umask 0027; exec $cmd >"$LIVE_DIR/agent.out" 2>"$LIVE_DIR/agent.err") &
AGENT_PID=$!
for i in $(seq 1 300); do [ -s /run/cagewatch/cagewatch.pid ] && break; sleep 0.1; done
check "the unit's ExecStart runs the agent ($cmd)" test -s /run/cagewatch/cagewatch.pid
check "container starts" start_container cw-pkg
cc -O2 -static -o "$LIVE_DIR/cdk" "$FIX/cdk_like.c" && cp "$LIVE_DIR/cdk" "$LIVE_DIR/bundles/cw-pkg/rootfs/opt/cdk"
cexec cw-pkg "$LIVE_DIR/x.pid" /opt/cdk >/dev/null 2>&1
for i in $(seq 1 100); do
	n=$(/usr/sbin/cagewatch findings list --store /var/lib/cagewatch/findings.db --format json 2>/dev/null | jq length 2>/dev/null)
	[ "${n:-0}" -ge 1 ] && break
	sleep 0.1
done
check "a tool in a container is stored in /var/lib/cagewatch/findings.db ($n)" [ "${n:-0}" -ge 1 ]
useradd --system --no-create-home --groups cagewatch "$READER"
check "a member of the cagewatch group reads the findings" \
	bash -c "runuser -u '$READER' -- /usr/sbin/cagewatch findings list --store /var/lib/cagewatch/findings.db --format json | jq -e 'length >= 1' >/dev/null"
check "a user outside the group cannot" \
	bash -c "! runuser -u nobody -- /usr/sbin/cagewatch findings list --store /var/lib/cagewatch/findings.db >/dev/null 2>&1"
kill -HUP "$AGENT_PID"
for i in $(seq 1 50); do grep -q 'rules generation 1 in force' "$LIVE_DIR/agent.err" && break; sleep 0.1; done
check "reload with the packaged config and rules.d" grep -q 'rules generation 1 in force' "$LIVE_DIR/agent.err"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
check "the agent stops cleanly ($?)" [ $? = 0 ]
AGENT_PID=

# the DaemonSet: valid against the Kubernetes API's types, and its pod, run by
# runc as a kubelet would on this node (with this machine's Debian and the
# package as the image), detects a tool in another container under the node
# name, and answers its probes
K8S=$LIVE_ROOT/deploy/kubernetes/cagewatch.yaml
/usr/bin/python3 "$LIVE_ROOT/tests/live/k8s_schema.py" "$K8S" >"$LIVE_DIR/schema.txt" 2>&1
check "the manifest is valid against the Kubernetes API types ($(grep -c '^ok' "$LIVE_DIR/schema.txt") documents)" [ $? = 0 ]
grep -v '^ok' "$LIVE_DIR/schema.txt" | sed 's/^/# /'
check "the DaemonSet runs the agent with hostPID, capabilities (not privileged), probes and limits" \
	bash -c "/usr/bin/python3 -c 'import yaml,sys; d=[x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x[\"kind\"]==\"DaemonSet\"][0][\"spec\"][\"template\"][\"spec\"]; c=d[\"containers\"][0]; s=c[\"securityContext\"]; sys.exit(not (d[\"hostPID\"] and not s[\"privileged\"] and \"SYS_ADMIN\" in s[\"capabilities\"][\"add\"] and s[\"capabilities\"][\"drop\"]==[\"ALL\"] and c[\"resources\"][\"limits\"][\"memory\"] and all(k in c for k in (\"livenessProbe\",\"readinessProbe\")) and \"--node-name=\$(NODE_NAME)\" in c[\"args\"]))' '$K8S'"
check "the image build file uses Debian and the package only" \
	bash -c "grep -q '^FROM debian:' '$LIVE_ROOT/deploy/container/Containerfile' && ! grep -Eiq 'curl|wget|pip |npm |git clone' '$LIVE_ROOT/deploy/container/Containerfile'"
PB=$LIVE_DIR/bundles/k8s-agent
mkdir -p "$PB/rootfs" && (cd "$PB" && runc spec) &&
	/usr/bin/python3 "$LIVE_ROOT/tests/live/k8s_pod.py" "$K8S" "$PB" test-node-1
check "the pod's OCI bundle is generated from the manifest" test -s "$PB/probes.json"
runc run -d --bundle "$PB" k8s-agent </dev/null >"$PB/out" 2>"$PB/err" && LIVE_CONTAINERS+=(k8s-agent)
probe() { # startupProbe|readinessProbe|livenessProbe: its exec command in the pod
	local -a c
	mapfile -t c < <(jq -r --arg k "$1" '.[$k][]' "$PB/probes.json")
	runc exec k8s-agent "${c[@]}" >/dev/null 2>&1
}
for i in $(seq 1 150); do probe startupProbe && break; sleep 0.2; done
check "the pod starts: its startup probe passes (capabilities, mounts and seccomp suffice)" probe startupProbe
sed 's/^/# pod: /' "$PB/err" | grep -E 'error|warning' | head -5
check "readiness probe passes" probe readinessProbe
check "liveness probe passes" probe livenessProbe
cexec cw-pkg "$LIVE_DIR/x.pid" sh -c 'cp /opt/cdk /tmp/k8s-tool && /tmp/k8s-tool' >/dev/null 2>&1
for i in $(seq 1 100); do
	h=$(/usr/sbin/cagewatch findings list --store /var/lib/cagewatch/findings.db --format json 2>/dev/null |
		jq -r '.[] | .finding // . | select(.processes[0].binary.path == "/tmp/k8s-tool") | .sourceProperties.Host' 2>/dev/null | head -1)
	[ -n "$h" ] && break
	sleep 0.1
done
check "the pod reports a tool in another container, under the node name ($h)" [ "$h" = test-node-1 ]
runc kill k8s-agent TERM
for i in $(seq 1 100); do [ "$(runc state k8s-agent 2>/dev/null | jq -r .status)" = stopped ] && break; sleep 0.1; done
check "the pod's agent stops on SIGTERM" [ "$(runc state k8s-agent 2>/dev/null | jq -r .status)" = stopped ]

# the live suites against the installed binary
for t in test_reload.sh test_recognition.sh; do
	CAGEWATCH=/usr/sbin/cagewatch bash "$LIVE_ROOT/tests/live/$t" >"$LIVE_DIR/$t.log" 2>&1
	check "$t against /usr/sbin/cagewatch: $(tail -1 "$LIVE_DIR/$t.log")" [ $? = 0 ]
	grep '^not ok' "$LIVE_DIR/$t.log" | sed 's/^/# /'
done

# upgrade: a newer version of the same package; the admin's config edit and
# the store survive
echo '{"project": "edited-by-admin"}' >/etc/cagewatch/config.json
dpkg-deb -R "$DEB" "$LIVE_DIR/up"
sed -i 's/^Version: .*/&+up1/' "$LIVE_DIR/up/DEBIAN/control"
dpkg-deb -b "$LIVE_DIR/up" "$LIVE_DIR/up.deb" >/dev/null
check "an upgrade installs" bash -c "dpkg -i '$LIVE_DIR/up.deb' >'$LIVE_DIR/upgrade.log' 2>&1 && dpkg-query -W -f='\${Version}' cagewatch | grep -q '+up1'"
check "the upgrade kept the admin's config" grep -q edited-by-admin /etc/cagewatch/config.json
check "the upgrade kept the store" \
	bash -c "/usr/sbin/cagewatch findings list --store /var/lib/cagewatch/findings.db --format json | jq -e 'length >= 1' >/dev/null"

check "purge succeeds" bash -c "dpkg --purge cagewatch >'$LIVE_DIR/purge.log' 2>&1"
check "purge removed binary, config and state" \
	bash -c "[ ! -e /usr/sbin/cagewatch ] && [ ! -e /etc/cagewatch ] && [ ! -e /var/lib/cagewatch ] && ! dpkg -s cagewatch >/dev/null 2>&1"
live_done
