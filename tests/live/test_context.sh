#!/bin/bash
# tests/live/test_context.sh - the responder's context in the finding, on real
# containers of every runtime: runc, crun, Docker (dockerd started here, no
# networking), containerd (ctr, plain and with Kubernetes-style CRI labels) and
# podman, each plain, privileged and with host path mounts plus hostPID
# (containerd: hostNetwork, ctr has no host pid mode). Docker's --privileged
# cannot start on a host whose root lacks CAP_SYS_RESOURCE (this VM): its
# privileged variant is every other capability, no seccomp, no masked paths.
# Checked: name, image, image id, labels, Container_Settings and
# Risky_Settings, the shell that launched the tool in the ancestry, the log
# path, `findings logs` with the container's own lines (Docker json-file and
# podman's CRI-format file), the Risky_Settings filter, the SCC shapes.
source "$(dirname "$0")/lib.sh"
live_init

for c in dockerd docker containerd ctr podman crun; do
	command -v "$c" >/dev/null || { not_ok "$c missing (tests/deps.sh installs it)"; live_done; }
done
jqt() { jq -e "$@" >/dev/null 2>&1; }

D=$LIVE_DIR/docker
CD=$LIVE_DIR/cd
OUT=$LIVE_DIR/ctx.json
IMG=local/cw-ctx:1
TOOL='echo cw-before-tool; cp /opt/harmless /tmp/botb-linux-amd64; /tmp/botb-linux-amd64 -autopwn; echo cw-after-tool >&2; sleep 600; echo cw-done'
PODMAN=(podman run -d --network=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
DOCKER_PID=
CD_PID=

ctx_cleanup() {
	docker -H "unix://$D/docker.sock" rm -f $(docker -H "unix://$D/docker.sock" ps -aq 2>/dev/null) >/dev/null 2>&1
	[ -n "$DOCKER_PID" ] && kill "$DOCKER_PID" 2>/dev/null && wait "$DOCKER_PID" 2>/dev/null
	for n in ctx-ctr ctx-ctr-cri ctx-ctr-priv ctx-ctr-host; do
		ctr -a "$CD/sock" task kill -a -s SIGKILL "$n" >>"$CD/cleanup.log" 2>&1
	done
	for i in $(seq 1 50); do
		ctr -a "$CD/sock" task ls 2>/dev/null | grep -q RUNNING || break
		sleep 0.1
	done
	for n in ctx-ctr ctx-ctr-cri ctx-ctr-priv ctx-ctr-host; do
		ctr -a "$CD/sock" task rm -f "$n" >>"$CD/cleanup.log" 2>&1
		ctr -a "$CD/sock" container rm "$n" >>"$CD/cleanup.log" 2>&1
	done
	[ -n "$CD_PID" ] && kill "$CD_PID" 2>/dev/null && wait "$CD_PID" 2>/dev/null
	# whatever containerd left behind (shims, rootfs mounts) goes too
	pkill -9 -f "containerd-shim-runc-v2 .*-address $CD/sock" 2>/dev/null
	sleep 0.2
	awk -v d="$LIVE_DIR" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null; done
	podman rm -f ctx-podman ctx-podman-priv ctx-podman-host >/dev/null 2>&1
	podman rmi -f "$IMG" >/dev/null 2>&1
	for n in ctx-runc ctx-runc-priv ctx-runc-host ctx-crun ctx-crun-priv ctx-crun-host; do
		runc delete -f "$n" >/dev/null 2>&1
		crun delete -f "$n" >/dev/null 2>&1
	done
	live_cleanup
}
trap ctx_cleanup EXIT

# --- the runtimes' daemons and one image -------------------------------------
if [ ! -d /sys/fs/cgroup/hugetlb ] || ! mountpoint -q /sys/fs/cgroup/hugetlb; then
	mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
mkdir -p "$D" "$CD"
dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
	--data-root "$D/data" --exec-root "$D/exec" -H "unix://$D/docker.sock" --pidfile "$D/pid" \
	>"$D/log" 2>&1 &
DOCKER_PID=$!
containerd --root "$CD/root" --state "$CD/state" --address "$CD/sock" >"$CD/log" 2>&1 &
CD_PID=$!
for i in $(seq 1 150); do [ -S "$D/docker.sock" ] && [ -S "$CD/sock" ] && break; sleep 0.1; done
export DOCKER_HOST=unix://$D/docker.sock
docker version >/dev/null 2>&1 || { not_ok "dockerd did not start"; sed 's/^/# /' "$D/log" | tail -5; live_done; }
make_rootfs "$LIVE_DIR/img"
tar -C "$LIVE_DIR/img" -c . >"$LIVE_DIR/img.tar"
docker import "$LIVE_DIR/img.tar" "$IMG" >/dev/null || { not_ok "docker import"; live_done; }
docker save "$IMG" -o "$LIVE_DIR/img-docker.tar"
ctr -a "$CD/sock" image import --base-name local/cw-ctx "$LIVE_DIR/img-docker.tar" >/dev/null ||
	{ not_ok "ctr image import"; live_done; }
podman import "$LIVE_DIR/img.tar" "$IMG" >"$LIVE_DIR/podman-import.log" 2>&1 ||
	{ not_ok "podman import"; sed 's/^/# /' "$LIVE_DIR/podman-import.log"; live_done; }
CTR_IMG=docker.io/local/cw-ctx:1

start_agent "$OUT" --runtime-roots "$D/exec/runtime-runc/moby" --containerd-roots "$CD/root" ||
	{ not_ok "agent did not start"; live_done; }

# --- runc and crun: OCI bundles ----------------------------------------------
CAPS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_FOWNER CAP_FSETID CAP_KILL CAP_SETGID
	CAP_SETUID CAP_SETPCAP CAP_LINUX_IMMUTABLE CAP_NET_BIND_SERVICE CAP_NET_BROADCAST CAP_NET_ADMIN
	CAP_NET_RAW CAP_IPC_LOCK CAP_IPC_OWNER CAP_SYS_MODULE CAP_SYS_RAWIO CAP_SYS_CHROOT CAP_SYS_PTRACE
	CAP_SYS_PACCT CAP_SYS_ADMIN CAP_SYS_BOOT CAP_SYS_NICE CAP_SYS_RESOURCE CAP_SYS_TIME
	CAP_SYS_TTY_CONFIG CAP_MKNOD CAP_LEASE CAP_AUDIT_WRITE CAP_AUDIT_CONTROL CAP_SETFCAP
	CAP_MAC_OVERRIDE CAP_MAC_ADMIN CAP_SYSLOG CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_AUDIT_READ
	CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE)
bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
have=()
for i in "${!CAPS[@]}"; do (((bnd >> i) & 1)) && have+=("${CAPS[$i]}"); done
ALLCAPS=$(printf '%s\n' "${have[@]}" | jq -R . | jq -sc .)

# oci_bundle NAME VARIANT: a bundle whose process runs $TOOL.
oci_bundle() {
	local name=$1 variant=$2 b="$LIVE_DIR/bundles/$1"
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	(cd "$b" && runc spec) || return 1
	jq --arg cg "/cagewatch-test/$name" --arg tool "$TOOL" --arg v "$variant" \
		--argjson caps "$ALLCAPS" --arg sock "$D/docker.sock" '
		.process.terminal=false | .process.args=["/bin/sh","-c",$tool] | .root.readonly=false
		| .linux.cgroupsPath=$cg
		| .annotations={"org.opencontainers.image.ref.name": "example.local/ctx:oci", "app": "ctx"}
		| if $v == "priv" then .process.capabilities={bounding:$caps, effective:$caps, permitted:$caps}
		    | .linux.maskedPaths=[] | .linux.readonlyPaths=[]
		    | .linux.resources.devices=[{"allow":true,"access":"rwm"}] | del(.linux.seccomp)
		  elif $v == "host" then .linux.namespaces |= map(select(.type != "pid"))
		    | .mounts += [{"destination":"/var/run/docker.sock","type":"bind","source":$sock,"options":["rbind","rw"]},
		                  {"destination":"/host/etc","type":"bind","source":"/etc","options":["rbind","ro"]}]
		  else . end' "$b/config.json" >"$b/c.new" && mv "$b/c.new" "$b/config.json"
	echo "$b"
}
for rt in runc crun; do
	for v in plain priv host; do
		n=ctx-$rt
		[ "$v" = plain ] || n=ctx-$rt-$v
		b=$(oci_bundle "$n" "$v") || not_ok "bundle $n"
		"$rt" run -d --bundle "$b" "$n" </dev/null >"$b/run.log" 2>&1 || {
			not_ok "$rt run $n"
			sed 's/^/# /' "$b/run.log"
		}
	done
done

# --- Docker ---------------------------------------------------------------------
DPRIV=(--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined
	--security-opt systempaths=unconfined --device-cgroup-rule 'a *:* rwm')
DHOST=(--pid=host -v "$D/docker.sock:/var/run/docker.sock" -v /etc:/host/etc:ro)
docker run -d --name ctx-docker --label app=ctx --network none "$IMG" sh -c "$TOOL" >/dev/null
docker run -d --name ctx-docker-priv --label app=ctx --network none "${DPRIV[@]}" "$IMG" sh -c "$TOOL" >/dev/null
docker run -d --name ctx-docker-host --label app=ctx --network none "${DHOST[@]}" "$IMG" sh -c "$TOOL" >/dev/null

# --- containerd -------------------------------------------------------------------
CRI=(--label io.kubernetes.pod.name=shop-web-7f9c --label io.kubernetes.pod.namespace=shop
	--label io.kubernetes.pod.uid=0d3e6c4e-5a57-4a8e-9d1c-6c2f3b1a9e01
	--annotation io.kubernetes.cri.container-name=web --annotation io.kubernetes.cri.image-name=shop/web:2.1)
CHOST=(--net-host --mount "type=bind,src=/etc,dst=/host/etc,options=rbind:ro"
	--mount "type=bind,src=$D/docker.sock,dst=/var/run/docker.sock,options=rbind:rw")
ctr -a "$CD/sock" run -d --label app=ctx "$CTR_IMG" ctx-ctr sh -c "$TOOL" >>"$CD/run.log" 2>&1
ctr -a "$CD/sock" run -d --label app=ctx "${CRI[@]}" "$CTR_IMG" ctx-ctr-cri sh -c "$TOOL" >>"$CD/run.log" 2>&1
ctr -a "$CD/sock" run -d --label app=ctx --privileged "$CTR_IMG" ctx-ctr-priv sh -c "$TOOL" >>"$CD/run.log" 2>&1
ctr -a "$CD/sock" run -d --label app=ctx "${CHOST[@]}" "$CTR_IMG" ctx-ctr-host sh -c "$TOOL" >>"$CD/run.log" 2>&1

# --- podman -------------------------------------------------------------------------
"${PODMAN[@]}" --name ctx-podman --label app=ctx "$IMG" sh -c "$TOOL" >/dev/null
"${PODMAN[@]}" --name ctx-podman-priv --label app=ctx --privileged --cap-drop SYS_RESOURCE "$IMG" sh -c "$TOOL" >/dev/null
"${PODMAN[@]}" --name ctx-podman-host --label app=ctx --pid=host -v "$D/docker.sock:/var/run/docker.sock" \
	-v /etc:/host/etc:ro "$IMG" sh -c "$TOOL" >/dev/null

# --- what each finding says -----------------------------------------------------------
# finding NAME: the container's tool finding (by its name as the finding gives it).
finding() {
	wait_finding "$OUT" ".processes[0].binary.path == \"/tmp/botb-linux-amd64\" and .sourceProperties.Container_Name == \"$1\""
}
DOCKER_IMAGE_ID=$(docker image inspect -f '{{.Id}}' "$IMG")
PODMAN_IMAGE_ID=sha256:$(podman image inspect -f '{{.Id}}' "$IMG")
CTR_IMAGE_ID=$(ctr -a "$CD/sock" image ls | awk -v i="$CTR_IMG" '$1 == i {print $3}')
expect_meta() { # NAME IMAGE IMAGE_ID
	local f
	f=$(finding "$1") || { not_ok "$1: no finding"; return; }
	echo "$f" >"$LIVE_DIR/f-$1.json"
	check "$1: name, image, image id, labels ($(jq -c '.containers[0] | del(.createTime)' <<<"$f"))" \
		jqt --arg n "$1" --arg i "$2" --arg d "$3" '.containers[0].name == $n and .containers[0].uri == $i
			and .containers[0].imageId == $d and .containers[0].labels == [{"name":"app","value":"ctx"}]' <<<"$f"
	check "$1: the shell that launched the tool is its parent ($(jq -c '[.processes[] | .name]' <<<"$f"))" \
		jqt '.processes[1].name == "sh" and .processes[1].args == ["sh","-c"] + [.processes[1].args[2]]
			and .processes[0].parentPid == .processes[1].pid' <<<"$f"
}
for rt in runc crun; do
	for n in ctx-$rt ctx-$rt-priv ctx-$rt-host; do
		f=$(finding "$n") || { not_ok "$n: no finding"; continue; }
		echo "$f" >"$LIVE_DIR/f-$n.json"
		check "$n: name, image and labels from the OCI config" \
			jqt --arg n "$n" '.containers[0].name == $n and .containers[0].uri == "example.local/ctx:oci"
				and .containers[0].labels == [{"name":"app","value":"ctx"}]' <<<"$f"
		check "$n: the launching shell in the ancestry" jqt '.processes[1].name == "sh"' <<<"$f"
		check "$n: no log on the node" jqt '.sourceProperties.Container_Log_Path == null' <<<"$f"
	done
done
expect_meta ctx-docker "$IMG" "$DOCKER_IMAGE_ID"
expect_meta ctx-docker-priv "$IMG" "$DOCKER_IMAGE_ID"
expect_meta ctx-docker-host "$IMG" "$DOCKER_IMAGE_ID"
expect_meta ctx-ctr "$CTR_IMG" "$CTR_IMAGE_ID"
expect_meta ctx-ctr-priv "$CTR_IMG" "$CTR_IMAGE_ID"
expect_meta ctx-ctr-host "$CTR_IMG" "$CTR_IMAGE_ID"
expect_meta ctx-podman "localhost/$IMG" "$PODMAN_IMAGE_ID"
expect_meta ctx-podman-priv "localhost/$IMG" "$PODMAN_IMAGE_ID"
expect_meta ctx-podman-host "localhost/$IMG" "$PODMAN_IMAGE_ID"
f=$(finding web) || not_ok "CRI-labelled containerd container: no finding under its CRI name"
check "containerd with CRI labels: container name, pod, image from the CRI annotations" \
	jqt '.containers[0].name == "web" and .containers[0].uri == "shop/web:2.1"
		and .kubernetes.pods[0].ns == "shop" and .kubernetes.pods[0].name == "shop-web-7f9c"
		and .sourceProperties.Container_Id == "ctx-ctr-cri"' <<<"${f:-null}"

# risky SETTINGS NAME JQ-CONDITION-ON-RISKY
risky() {
	local f="$LIVE_DIR/f-$1.json"
	check "$1: $2 ($(jq -c '.sourceProperties.Risky_Settings' "$f" 2>/dev/null))" \
		jqt ".sourceProperties.Risky_Settings as \$r | .sourceProperties.Container_Settings as \$s | $3" "$f"
}
for rt in runc crun docker ctr podman; do
	risky "ctx-$rt" "plain: neither privileged nor host namespaces" \
		'($r | index("privileged") | not) and ($r | index("hostPID") | not) and ($s.privileged == false)
		 and ($s.capabilities.effective | index("CAP_SYS_ADMIN") | not)'
	risky "ctx-$rt-priv" "privileged, with CAP_SYS_ADMIN effective" \
		'($r | index("privileged")) and $s.privileged and ($s.capabilities.effective | index("CAP_SYS_ADMIN"))'
done
for rt in runc crun docker podman; do
	risky "ctx-$rt-host" "hostPID, docker.sock rw, /etc ro" \
		'($r | index("hostPID")) and ($r | index("docker.sock mounted rw")) and ($r | index("/etc mounted ro"))
		 and ($s.hostNamespaces | index("pid")) and ($r | index("privileged") | not)
		 and ([$s.mounts[] | select(.destination == "/host/etc" and .readOnly and .sensitive)] | length == 1)'
done
risky ctx-ctr-host "hostNetwork, docker.sock rw, /etc ro" \
	'($r | index("hostNetwork")) and ($r | index("docker.sock mounted rw")) and ($r | index("/etc mounted ro"))'
risky ctx-docker "seccomp filter, docker's privileged flag off" \
	'$s.seccomp == "filter" and $s.privilegedFrom == "docker" and $s.seccompProfile.defaultAction == "SCMP_ACT_ERRNO"'
risky ctx-podman-priv "podman's own privileged flag" '$s.privilegedFrom == "podman"'
risky ctx-runc "runc's default spec: no seccomp" '($r | index("seccomp unconfined")) and $s.seccomp == "disabled"'

# --- logs: the container's own lines around the tool's run ---------------------------
for n in ctx-docker ctx-podman; do
	id=$(jq -r .name "$LIVE_DIR/f-$n.json" 2>/dev/null)
	check "$n: the finding says where the log is" \
		jqt '.sourceProperties.Container_Log_Path | type == "string"' "$LIVE_DIR/f-$n.json"
	"$CAGEWATCH" findings logs "$id" --store "$LIVE_DIR/store.db" >"$LIVE_DIR/logs-$n.txt" 2>&1
	check "$n: findings logs prints the lines written before and after the tool, and the finding" \
		bash -c "grep -q 'stdout *cw-before-tool' '$LIVE_DIR/logs-$n.txt' && grep -q 'stderr *cw-after-tool' '$LIVE_DIR/logs-$n.txt' &&
			grep -q 'cagewatch  finding' '$LIVE_DIR/logs-$n.txt'"
	"$CAGEWATCH" findings logs "$id" --store "$LIVE_DIR/store.db" --format json >"$LIVE_DIR/logs-$n.json" 2>&1
	# the engine stamps a line when it reads it from the pipe: stdout and
	# stderr, and the exec's own time, need not keep their order
	check "$n: findings logs --format json, both lines and the finding, sorted by time" \
		jqt '(map(.text) | index("cw-before-tool")) and (map(.text) | index("cw-after-tool"))
			and (map(select(.stream == "cagewatch")) | length) >= 1 and (map(.time) == (map(.time) | sort))' \
		"$LIVE_DIR/logs-$n.json"
done
id=$(jq -r .name "$LIVE_DIR/f-ctx-runc.json" 2>/dev/null)
"$CAGEWATCH" findings logs "$id" --store "$LIVE_DIR/store.db" >"$LIVE_DIR/logs-runc.txt" 2>&1
check "runc: findings logs says the runtime keeps none, and lists cagewatch's own record" \
	bash -c "grep -q 'keeps no log' '$LIVE_DIR/logs-runc.txt' && grep -q 'cagewatch  finding' '$LIVE_DIR/logs-runc.txt'"
"$CAGEWATCH" findings show "$id" --store "$LIVE_DIR/store.db" >"$LIVE_DIR/show.txt" 2>&1
check "findings show: Container settings and ancestry sections" \
	bash -c "grep -q '^Container settings' '$LIVE_DIR/show.txt' && grep -q '^Process ancestry' '$LIVE_DIR/show.txt' &&
		grep -q 'Risky settings  *seccomp unconfined' '$LIVE_DIR/show.txt'"

# --- the filter and the SCC shapes ------------------------------------------------------
"$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --format json \
	--filter 'source_properties.Risky_Settings="privileged"' >"$LIVE_DIR/priv.json" 2>&1
check "filter Risky_Settings=\"privileged\": exactly the privileged variants ($(jq -c '[.[].sourceProperties.Container_Id] | length' "$LIVE_DIR/priv.json"))" \
	jqt '[.[].sourceProperties.Container_Name | select(test("priv") | not)] == [] and
		([.[].sourceProperties.Container_Name] | unique | length) == 5' "$LIVE_DIR/priv.json"
"$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --format json \
	--filter 'source_properties.Risky_Settings:"docker.sock"' >"$LIVE_DIR/sock.json" 2>&1
check "filter Risky_Settings:\"docker.sock\": the host-mount variants" \
	jqt '([.[].sourceProperties.Container_Name] | unique | length) == 5' "$LIVE_DIR/sock.json"
"$CAGEWATCH" findings show "$id" --store "$LIVE_DIR/store.db" --format scc >"$LIVE_DIR/scc.json" 2>&1
check "show --format scc: a ListFindingsResult" \
	jqt '.finding.name and (.finding.resource == null) and .resource.name and .stateChange == "UNUSED"
		and .resource.cloudProvider and .resource.resourcePathString' "$LIVE_DIR/scc.json"
"$CAGEWATCH" findings list --store "$LIVE_DIR/store.db" --format scc --limit 2 >"$LIVE_DIR/list-scc.json" 2>&1
check "list --format scc: a ListFindingsResponse whose totalSize counts past the page" \
	jqt '(.listFindingsResults | length) == 2 and .totalSize > 2 and .readTime' "$LIVE_DIR/list-scc.json"
"$CAGEWATCH" findings show "$id" --store "$LIVE_DIR/store.db" --format scc-console >"$LIVE_DIR/console.json" 2>&1
check "show --format scc-console: resource.project_display_name beside finding.processes[].binary.path" \
	jqt '.resource.project_display_name == "cagewatch-local" and .finding.processes[0].binary.path' "$LIVE_DIR/console.json"

# --- the agent holds no host mount busy (found by this test: a held rootfs
# descriptor made containerd's task deletion fail with EBUSY) ------------------
ctr -a "$CD/sock" task kill -s SIGKILL ctx-ctr >/dev/null 2>&1
for i in $(seq 1 50); do
	ctr -a "$CD/sock" task ls 2>/dev/null | grep -q "^ctx-ctr .*RUNNING" || break
	sleep 0.1
done
check "containerd deletes a task (unmounts its overlay rootfs) while the agent runs" \
	ctr -a "$CD/sock" task rm ctx-ctr
live_done
