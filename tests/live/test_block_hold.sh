#!/bin/bash
# test_block_hold.sh - `--block` without gaps: what fanotify's mount marks
# cannot refuse is held before its first instruction and judged. Checked on
# real runtimes (runc, crun, Docker): a look-alike tool as a new container's
# entrypoint never runs; scripts with deepce-like content started as `sh x.sh`,
# `sh < x.sh`, `cat x.sh | sh` and `#!` never run their first line (a marker
# it would write stays absent); a memfd look-alike is killed; benign work
# (new containers, shells, scripts, a compiler, python, dpkg building and
# unpacking a package) runs unchanged; an agent that cannot answer lets holds
# and fanotify's questions go after --block-timeout (a stopped agent, a
# verdict slower than the limit); kill -9 of the agent while execs are held leaves
# no stopped process; the host is never held.
source "$(dirname "$0")/lib.sh"
live_init
for c in crun dockerd docker gcc python3 dpkg-deb; do
	command -v "$c" >/dev/null || { not_ok "$c missing (tests/deps.sh installs it)"; live_done; }
done
OUT=$LIVE_DIR/findings.jsonl
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
B=$LIVE_DIR/bin
D=$LIVE_DIR/docker
IMG=local/cw-hold:1
DOCKER_PID=
mkdir -p "$B" "$D"
jqt() { jq -e "$@" >/dev/null 2>&1; }
hold_cleanup() {
	docker_stop
	for n in hold-runc hold-crun hold-ok; do crun delete -f "$n" >/dev/null 2>&1; runc delete -f "$n" >/dev/null 2>&1; done
	live_cleanup
}
trap hold_cleanup EXIT
# crun needs a hugetlb v1 hierarchy in this hybrid cgroup layout
if [ ! -d /sys/fs/cgroup/hugetlb ] || ! mountpoint -q /sys/fs/cgroup/hugetlb; then
	mkdir -p /sys/fs/cgroup/hugetlb && mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
fi
for t in botb cdk; do
	cc -O2 -static -o "$B/${t}_like" "$FIX/${t}_like.c" || not_ok "build the $t look-alike"
done
cc -O2 -static -o "$B/memfd_exec" "$LIVE_ROOT/tests/live/memfd_exec.c" || not_ok "build memfd_exec"

# stopped_in NS: processes of mount namespace NS that are stopped (state T)
stopped_in() {
	local p
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$1" ] || continue
		awk '{sub(/.*\) /, ""); if ($1 == "T") print FILENAME}' "$p/stat" 2>/dev/null
	done
}

check "a container for scripts and memfd" start_container hold-ok
R=$LIVE_DIR/bundles/hold-ok/rootfs
# the script's first line writes a marker: absent means not one line ran
mkscript() { { echo '#!/bin/sh'; echo "echo ran > /tmp/marker-$1"; sed 1d "$FIX/deepce_like.sh"; } >"$R/tmp/$1.sh"; chmod +x "$R/tmp/$1.sh"; }
for s in arg stdin pipe shebang; do mkscript "$s"; done
printf '#!/bin/sh\necho ran > /tmp/marker-ok\necho fine-script\n' >"$R/tmp/ok.sh"
chmod +x "$R/tmp/ok.sh"
cp "$B/botb_like" "$R/opt/svc"
cp "$B/memfd_exec" "$R/opt/memfd_exec"
in_ctr() { cexec hold-ok "$LIVE_DIR/x.pid" sh -c "$1" 2>&1; }

check "agent starts with --block" start_agent "$OUT" --block --stats-file "$LIVE_DIR/stats.json" \
	--runtime-roots "$D/exec/runtime-runc/moby"

# --- entrypoints: the tool is PID 1 of a new container ------------------------
for rt in runc crun; do
	b=$(pid1_bundle "hold-$rt" "$B/cdk_like")
	o=$(cd "$b" && timeout 30 "$rt" run "hold-$rt" </dev/null 2>&1)
	rc=$?
	"$rt" delete -f "hold-$rt" >/dev/null 2>&1
	check "$rt: a look-alike CDK as the entrypoint never runs (no output, killed: rc $rc)" \
		test "$(grep -c lookalike <<<"$o")" = 0 -a "$rc" -ne 0
	check "$rt: ... reported Blocked, killed before its first instruction" \
		test -n "$(wait_finding "$OUT" ".processes[0].binary.path == \"/tmp/prog-hold-$rt\" and .sourceProperties.Blocked == true and (.sourceProperties.Block_Method | test(\"held\"))")"
	b=$(pid1_bundle "hold-$rt" "$LIVE_DIR/harmless")
	o=$(cd "$b" && timeout 30 "$rt" run "hold-$rt" </dev/null 2>&1)
	rc=$?
	"$rt" delete -f "hold-$rt" >/dev/null 2>&1
	check "$rt: a harmless entrypoint runs unchanged (rc $rc)" test "$rc" = 0
done

# --- Docker ------------------------------------------------------------------
if docker_start "$D"; then
	make_rootfs "$LIVE_DIR/img"
	cp "$B/botb_like" "$LIVE_DIR/img/opt/svc"
	tar -C "$LIVE_DIR/img" -c . | docker import - "$IMG" >/dev/null
	o=$(timeout 60 docker run --rm --network none --entrypoint /opt/svc "$IMG" 2>&1)
	rc=$?
	check "docker: a look-alike BOtB as the entrypoint never runs (rc $rc)" \
		test "$(grep -c lookalike <<<"$o")" = 0 -a "$rc" -ne 0
	o=$(timeout 60 docker run --rm --network none "$IMG" sh -c 'echo docker-fine' 2>&1)
	check "docker: a benign container starts and runs ($o)" grep -qx docker-fine <<<"$o"
else
	not_ok "dockerd did not start"
fi

# --- scripts: refused before their first line --------------------------------
in_ctr 'sh /tmp/arg.sh' >/dev/null
in_ctr 'sh < /tmp/stdin.sh' >/dev/null
in_ctr 'cat /tmp/pipe.sh | sh' >/dev/null
o=$(in_ctr '/tmp/shebang.sh; echo "rc=$?"')
for s in arg stdin pipe shebang; do
	check "script ($s): not one line ran" test ! -e "$R/tmp/marker-$s"
done
check "#! script refused at its exec (EPERM, rc 126)" grep -q 'rc=126' <<<"$o"
check "sh x.sh reported Blocked (held, killed)" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Blocked == true and (.sourceProperties.Block_Method | test("script operand"))')"
check "cat x.sh | sh reported Blocked, the script's source is the pipe" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Blocked == true and .sourceProperties.Script_Source == "stdin (pipe)"')"
check "sh < x.sh reported Blocked, the script's source is the file" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Blocked == true and .sourceProperties.Script_Source == "stdin (file)"')"

# --- memfd ---------------------------------------------------------------------
o=$(in_ctr '/opt/memfd_exec /opt/svc; echo "rc=$?"')
check "a memfd look-alike is killed before it runs ($(tr '\n' ' ' <<<"$o"))" \
	test "$(grep -c lookalike <<<"$o")" = 0 -a "$(grep -c 'rc=0' <<<"$o")" = 0

# --- a deleted file, run through the descriptor that still holds it ----------
o=$(in_ctr 'cp /opt/svc /tmp/gone && exec 3</tmp/gone && rm /tmp/gone && /proc/self/fd/3; echo "rc=$?"')
check "a deleted look-alike run from its descriptor is refused ($(tr '\n' ' ' <<<"$o"))" \
	test "$(grep -c lookalike <<<"$o")" = 0 -a "$(grep -c 'rc=0' <<<"$o")" = 0

# --- benign work runs unchanged ------------------------------------------------
o=$(in_ctr 'sh /tmp/ok.sh; cat /tmp/ok.sh | sh; sh < /tmp/ok.sh; /tmp/ok.sh; for i in 1 2 3; do ls / >/dev/null; done; echo done')
check "benign scripts (operand, pipe, file, #!) and shells run ($(tr "\n" " " <<<"$o"))" \
	test "$(grep -c fine-script <<<"$o")" = 4 -a -e "$R/tmp/marker-ok"
check "... and nothing benign is reported" \
	test -z "$(jq -c 'select(.processes[0].binary.path == "/tmp/ok.sh" or (.processes[0].args | tostring | test("ok.sh")))' "$OUT")"
# a container with the host's toolchain, read-only: compiler, python, dpkg
b="$LIVE_DIR/bundles/hold-tools"
mkdir -p "$b/rootfs/tmp" "$b/rootfs/work"
printf '#include <stdio.h>\nint main(void){puts("built-ok");return 0;}\n' >"$b/rootfs/work/h.c"
printf 'print("py-" + "ok")\n' >"$b/rootfs/work/s.py"
mkdir -p "$b/rootfs/work/pkg/DEBIAN" "$b/rootfs/work/pkg/usr/share/cw"
printf 'Package: cw-hold-test\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\nDescription: t\n' >"$b/rootfs/work/pkg/DEBIAN/control"
printf '#!/bin/sh\necho postinst\n' >"$b/rootfs/work/pkg/DEBIAN/postinst"
chmod 755 "$b/rootfs/work/pkg/DEBIAN/postinst"
echo data >"$b/rootfs/work/pkg/usr/share/cw/f"
(cd "$b" && runc spec) >/dev/null
jq '.process.terminal=false | .root.readonly=false | .process.cwd="/work"
	| .process.args=["/bin/bash","-c","gcc -O2 -o /tmp/h h.c && /tmp/h && python3 s.py && python3 -c \"print(2)\" && dpkg-deb --build pkg /tmp/p.deb >/dev/null && mkdir -p /tmp/adm/info /tmp/adm/updates /tmp/adm/triggers /tmp/r && touch /tmp/adm/status && dpkg --admindir=/tmp/adm --instdir=/tmp/r --force-not-root --force-bad-path --force-script-chrootless -i /tmp/p.deb >/tmp/dpkg.log 2>&1 && grep -h postinst /tmp/dpkg.log; cat /tmp/r/usr/share/cw/f"]
	| .mounts += ([ "/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc" ] | map({destination: ., type: "bind", source: ., options: ["rbind", "ro"]}))
	| .mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs", options: ["nosuid"]}]' \
	"$b/config.json" >"$b/c.json" && mv "$b/c.json" "$b/config.json"
mkdir -p "$b/rootfs"/{usr,lib,lib64,bin,sbin,etc}
o=$(cd "$b" && timeout 120 runc run hold-tools </dev/null 2>&1)
rc=$?
runc delete -f hold-tools >/dev/null 2>&1
check "a build container runs unchanged: gcc, python3, dpkg installing a package (its postinst script ran) (rc $rc)" \
	test "$rc" = 0 -a "$(grep -cE '^(built-ok|py-ok|2|data|postinst)$' <<<"$o")" = 5
[ "$rc" = 0 ] || sed 's/^/# /' <<<"$o" | tail -5
# bash (the host's, in the same container) reading a deepce-like script on stdin
{ echo '#!/bin/bash'; echo 'echo ran > /work/marker-bash'; sed 1d "$FIX/deepce_like.sh"; } >"$b/rootfs/work/m.sh"
jq '.process.args=["/bin/bash","-c","bash < /work/m.sh; echo rc=$?"]' "$b/config.json" >"$b/c.json" &&
	mv "$b/c.json" "$b/config.json"
o=$(cd "$b" && timeout 60 runc run hold-tools </dev/null 2>&1)
runc delete -f hold-tools >/dev/null 2>&1
check "bash < x.sh (deepce-like) is killed before its first line ($(tr '\n' ' ' <<<"$o"))" \
	test ! -e "$b/rootfs/work/marker-bash" -a "$(grep -c 'rc=0' <<<"$o")" = 0

# --- safety: a stalled agent lets holds go; a dead one leaves none -----------
in_ctr 'sh /tmp/ok.sh' >/dev/null # the interpreter judged clean once
rm -f "$R/tmp/marker-ok"
kill -STOP "$AGENT_PID"
t0=$(date +%s%N)
in_ctr 'sh /tmp/ok.sh' >/dev/null
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$AGENT_PID"
check "agent stopped: the held script ran once the limit passed (${ms} ms)" \
	test -e "$R/tmp/marker-ok" -a "$ms" -ge 1500 -a "$ms" -lt 10000
# a new file's exec on a marked mount: fanotify's question, answered by the
# guardian when the agent does not read it
sleep 1
cp "$R/bin/busybox" "$R/tmp/busybox-new"
kill -STOP "$AGENT_PID"
t0=$(date +%s%N)
o=$(in_ctr '/tmp/busybox-new echo new-file-ran')
ms=$((($(date +%s%N) - t0) / 1000000))
kill -CONT "$AGENT_PID"
check "agent stopped: a new file's exec is allowed once the limit passed (${ms} ms: $o)" \
	test "$o" = new-file-ran -a "$ms" -ge 1500 -a "$ms" -lt 10000
t0=$(date +%s%N)
sh -c 'sh "$0"' "$R/tmp/ok.sh" >/dev/null
check "the host is never held" test $((($(date +%s%N) - t0) / 1000000)) -lt 1500
stop_agent
check "stats: holds, kills and the expired one" \
	jqt '.hold.held >= 8 and .hold.killed >= 6 and .hold.expired >= 1' "$LIVE_DIR/stats.json"
check "stats: the question the stalled agent did not read was allowed by the guardian" \
	jqt '.block.stalled >= 1' "$LIVE_DIR/stats.json"

# a verdict slower than the limit (64 MB hashed and scanned, 10 ms allowed)
check "agent restarts with --block and a 10 ms limit" start_agent "$OUT.3" --block --block-timeout 10 \
	--stats-file "$LIVE_DIR/stats3.json"
{ cat "$R/bin/busybox"; head -c 64M /dev/urandom; } >"$R/tmp/busybox-big"
chmod +x "$R/tmp/busybox-big"
o=$(in_ctr '/tmp/busybox-big echo big-file-ran')
check "a verdict later than the limit: the exec was allowed ($o)" test "$o" = big-file-ran
stop_agent
check "stats: ... and counted as answered late" jqt '.block.late >= 1' "$LIVE_DIR/stats3.json"
rm -f "$R/tmp/busybox-big"

check "agent restarts with --block and a long limit" start_agent "$OUT.2" --block --block-timeout 60000
in_ctr 'sh /tmp/ok.sh' >/dev/null
rm -f "$R/tmp/marker-ok"
kill -STOP "$AGENT_PID"
(in_ctr 'sh /tmp/ok.sh' >/dev/null) &
bg=$!
ns=$(readlink "/proc/$(cat "$LIVE_DIR/bundles/hold-ok/pid" 2>/dev/null || runc state hold-ok | jq .pid)/ns/mnt")
for i in $(seq 1 50); do [ -n "$(stopped_in "$ns")" ] && break; sleep 0.1; done
check "an exec is held while the agent cannot answer" test -n "$(stopped_in "$ns")"
# then, not alongside: a question fanotify asks the stopped agent
cp "$R/bin/busybox" "$R/tmp/busybox-new2"
(in_ctr '/tmp/busybox-new2 echo new-file-ran' >"$LIVE_DIR/new2.out") &
bg2=$!
sleep 0.5
kill -9 "$AGENT_PID"
wait "$AGENT_PID" 2>/dev/null
AGENT_PID=
for i in $(seq 1 30); do [ -z "$(stopped_in "$ns")" ] && break; sleep 0.1; done
check "agent killed -9: no process is left stopped" test -z "$(stopped_in "$ns")"
wait "$bg"
check "... and the held script ran" test -e "$R/tmp/marker-ok"
for i in $(seq 1 50); do kill -0 "$bg2" 2>/dev/null || break; sleep 0.1; done
kill "$bg2" 2>/dev/null
wait "$bg2"
check "... and the exec fanotify had asked about ran ($(cat "$LIVE_DIR/new2.out"))" \
	test "$(cat "$LIVE_DIR/new2.out")" = new-file-ran
for i in $(seq 1 30); do [ -z "$(pgrep -x cagewatch-hold)" ] && break; sleep 0.1; done
check "no guardian is left behind" test -z "$(pgrep -x cagewatch-hold)"
live_done
