#!/bin/bash
# test_provenance.sh - where an executed file came from (docs/detectors.md):
# Execution: Added Malicious Binary Executed, Modified Malicious Binary
# Executed and Added Binary Executed, in real containers: runc on a plain
# directory root (the file's birth and change times against the start of the
# container's init) and Docker on overlayfs (the upper and lower layers, read
# by the exec program). Look-alike tools that exit at once, copied in after the
# container started, overwritten in place, or shipped in the image; clean
# programs added (Added Binary Executed: off by default, once per file when
# on); the image's own programs give nothing. In Docker also libraries: an
# image library overwritten with a tool's (Modified Malicious Library Loaded)
# and a tool's library copied in (Added Malicious Library Loaded), while the
# image's libraries give nothing.
source "$(dirname "$0")/lib.sh"
live_init
for c in dockerd docker; do
	command -v "$c" >/dev/null || { not_ok "$c missing (tests/deps.sh installs it)"; live_done; }
done
OUT=$LIVE_DIR/findings.jsonl
B=$LIVE_DIR/bin
D=$LIVE_DIR/docker
IMG=local/cw-prov:1
DOCKER_PID=
mkdir -p "$B" "$D"
jqt() { jq -e "$@" >/dev/null 2>&1; }
prov_cleanup() {
	docker_stop
	live_cleanup
}
trap prov_cleanup EXIT
cc -O2 -static -DLINGER_US=0 -DSALT='"prov"' -o "$B/cdk" "$LIVE_ROOT/tests/fixtures/lookalikes/cdk_like.c" ||
	not_ok "build the CDK look-alike"
# count CATEGORY PATH: findings of that category about that program
count() { jq -s --arg c "$1" --arg p "$2" '[.[] | select(.category == $c and .processes[0].binary.path == $p)] | length' "$OUT"; }
by() { wait_finding "$OUT" ".category == \"$1\" and .processes[0].binary.path == \"$2\""; }
ADDED_MAL="Execution: Added Malicious Binary Executed"
MOD_MAL="Execution: Modified Malicious Binary Executed"
ADDED="Added Binary Executed"
ESCAPE="Execution: Container Escape"

# --- runc, a plain directory root ----------------------------------------------
R=$LIVE_DIR/bundles/cw-prov/rootfs
make_rootfs "$R"
cp "$B/cdk" "$R/opt/imgtool"         # shipped in the image
cp "$LIVE_DIR/harmless" "$R/opt/victim" # an image program, overwritten later
sleep 0.1 # the image's files are older than the container's init
check "a container" start_container cw-prov
check "agent starts (defaults)" start_agent "$OUT"
run() { cexec cw-prov "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }

run '/opt/imgtool; ls / >/dev/null; /opt/harmless'
f=$(by "$ESCAPE" /opt/imgtool)
check "a tool shipped in the image: Container Escape, Binary_Provenance image" \
	jqt '.sourceProperties.Binary_Provenance == "image"' <<<"${f:-null}"

cp "$B/cdk" "$R/tmp/fresh"
cp "$LIVE_DIR/harmless" "$R/tmp/newprog"
run '/tmp/fresh; /tmp/newprog'
f=$(by "$ADDED_MAL" /tmp/fresh)
check "a tool copied in after the start: $ADDED_MAL (CRITICAL, added, the content rule)" \
	jqt '.severity == "CRITICAL" and .moduleName == "ADDED_MALICIOUS_BINARY_EXECUTED"
		and .sourceProperties.Binary_Provenance == "added"
		and .sourceProperties.Content_Rule_Id == "yara.cdk"
		and (.sourceProperties.Provenance_Basis | test("birth time after"))
		and .sourceProperties.Container_Id == "cw-prov"' <<<"${f:-null}"
f=$(by "$ESCAPE" /tmp/fresh)
check "... beside its Container Escape finding, which says added" \
	jqt '.sourceProperties.Binary_Provenance == "added"' <<<"${f:-null}"

cat "$B/cdk" >"$R/opt/victim" # same inode, born before the start
run '/opt/victim'
f=$(by "$MOD_MAL" /opt/victim)
check "an image program overwritten with a tool: $MOD_MAL (CRITICAL, modified)" \
	jqt '.severity == "CRITICAL" and .moduleName == "MODIFIED_MALICIOUS_BINARY_EXECUTED"
		and .sourceProperties.Binary_Provenance == "modified"' <<<"${f:-null}"
sleep 1
check "the image's tool gives no provenance finding" \
	test "$(count "$ADDED_MAL" /opt/imgtool)$(count "$MOD_MAL" /opt/imgtool)" = 00
check "a clean program added gives nothing by default (Added Binary Executed is off)" \
	test -z "$(jq -c 'select(.processes[0].binary.path == "/tmp/newprog")' "$OUT")"
check "the image's own programs give nothing" \
	test -z "$(jq -c 'select(.processes[0].binary.path == "/bin/busybox" or .processes[0].binary.path == "/opt/harmless")' "$OUT")"
check "agent stops" stop_agent

# --- with Added Binary Executed on -----------------------------------------------
: >"$OUT"
check "agent starts (--enable-rules technique.provenance.added)" \
	start_agent "$OUT" --enable-rules technique.provenance.added
cp "$LIVE_DIR/harmless" "$R/tmp/newprog2"
run '/tmp/newprog2; /tmp/newprog2; /opt/harmless; ls / >/dev/null'
f=$(by "$ADDED" /tmp/newprog2)
check "a clean program added: $ADDED (LOW)" \
	jqt '.severity == "LOW" and .moduleName == "ADDED_BINARY_EXECUTED"
		and .sourceProperties.Binary_Provenance == "added"
		and .sourceProperties.Rule_Id == "technique.provenance.added"' <<<"${f:-null}"
run '/tmp/newprog2'
sleep 1
check "... once for the file, not once per exec ($(count "$ADDED" /tmp/newprog2))" \
	test "$(count "$ADDED" /tmp/newprog2)" = 1
check "the image's programs still give nothing" \
	test -z "$(jq -c 'select(.processes[0].binary.path != "/tmp/newprog2")' "$OUT")"

# --- Docker, overlayfs -------------------------------------------------------
if docker_start "$D"; then
	make_rootfs "$LIVE_DIR/img"
	cp "$B/cdk" "$LIVE_DIR/img/opt/payload" # never executed from the image
	cp "$LIVE_DIR/harmless" "$LIVE_DIR/img/opt/victim"
	# libraries: a loader, libc and a program that dlopen()s, a clean library
	# of the image and a tool's library never loaded from the image
	dyn_rootfs "$LIVE_DIR/img" "$LIVE_DIR/libs" || not_ok "build the libraries"
	cp "$LIVE_DIR/libs/libplain.so" "$LIVE_DIR/img/usr/lib/libimage.so"
	cp "$LIVE_DIR/libs/libtool.so" "$LIVE_DIR/img/opt/libtool.so"
	tar -C "$LIVE_DIR/img" -c . | docker import - "$IMG" >/dev/null
	docker run -d --name cw-prov-d --network none "$IMG" sleep 3600 >/dev/null
	dx() { timeout 30 docker exec cw-prov-d sh -c "$1" >/dev/null 2>&1; }
	dx 'ls /; /opt/harmless; cp /opt/harmless /tmp/dnew; /tmp/dnew'
	f=$(by "$ADDED" /tmp/dnew)
	check "docker: a program written after the start: $ADDED (overlayfs upper layer only)" \
		jqt '.sourceProperties.Binary_Provenance == "added"
			and (.sourceProperties.Provenance_Basis | test("overlayfs"))' <<<"${f:-null}"
	dx 'cat /opt/payload >/opt/victim; /opt/victim; cp /opt/payload /tmp/dtool; /tmp/dtool'
	f=$(by "$MOD_MAL" /opt/victim)
	check "docker: an image program overwritten with a tool: $MOD_MAL (copied up)" \
		jqt '.sourceProperties.Binary_Provenance == "modified"
			and (.sourceProperties.Provenance_Basis | test("overlayfs"))' <<<"${f:-null}"
	f=$(by "$ADDED_MAL" /tmp/dtool)
	check "docker: a tool copied inside the container: $ADDED_MAL" \
		jqt '.sourceProperties.Binary_Provenance == "added"' <<<"${f:-null}"
	dx '/opt/libuser /usr/lib/libimage.so /lib/x86_64-linux-gnu/libc.so.6'
	sleep 1
	check "docker: the image's libraries give nothing" \
		test -z "$(jq -c 'select(.sourceProperties.Library_Path)' "$OUT")"
	dx 'cat /opt/libtool.so >/usr/lib/libimage.so; /opt/libuser /usr/lib/libimage.so'
	f=$(wait_finding "$OUT" '.category == "Execution: Modified Malicious Library Loaded"')
	check "docker: an image library overwritten with a tool's: Modified Malicious Library Loaded (copied up)" \
		jqt '.severity == "CRITICAL" and .sourceProperties.Library_Path == "/usr/lib/libimage.so"
			and .sourceProperties.Binary_Provenance == "modified" and .sourceProperties.Content_Rule_Id == "yara.cdk"' <<<"${f:-null}"
	dx 'cp /opt/libtool.so /tmp/ltool.so; /opt/libuser /tmp/ltool.so'
	f=$(wait_finding "$OUT" '.category == "Execution: Added Malicious Library Loaded"')
	check "docker: a tool's library copied inside: Added Malicious Library Loaded (upper layer only)" \
		jqt '.sourceProperties.Library_Path == "/tmp/ltool.so" and .sourceProperties.Binary_Provenance == "added"
			and (.sourceProperties.Provenance_Basis | test("overlayfs"))' <<<"${f:-null}"
	check "docker: the image's programs give nothing" \
		test -z "$(jq -c 'select(.sourceProperties.Container_Name == "cw-prov-d" and (.processes[0].binary.path == "/bin/busybox" or .processes[0].binary.path == "/opt/harmless"))' "$OUT")"
else
	not_ok "dockerd did not start"
fi
check "agent stops" stop_agent
live_done
