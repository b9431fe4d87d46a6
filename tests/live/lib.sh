# tests/live/lib.sh - shared helpers for the live tests: a tiny TAP-ish harness,
# the agent under test, and real runc containers built from busybox-static.
# Source it; call `live_init` first and `live_done` last.
set -u

LIVE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CAGEWATCH=${CAGEWATCH:-$LIVE_ROOT/build/cagewatch}
T_PASSED=0
T_FAILED=0
LIVE_DIR=
LIVE_CONTAINERS=()
AGENT_PID=
LIVE_PINS=${LIVE_PINS:-/sys/fs/bpf/cagewatch-live}

ok() { T_PASSED=$((T_PASSED + 1)); echo "ok - $*"; }
not_ok() { T_FAILED=$((T_FAILED + 1)); echo "not ok - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() {
	local d=$1
	shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}

# Live tests need root and BPF. Off CI they may skip; under CI=true never.
live_require_root() {
	if [ "$(id -u)" != 0 ]; then
		if [ "${CI:-}" = true ]; then
			not_ok "live tests need root (CI=true: refusing to skip)"
			live_done
		fi
		echo "skipping live tests: not root"
		echo "0 passed, 0 failed"
		exit 0
	fi
}

live_init() {
	live_require_root
	LIVE_DIR=$(mktemp -d /tmp/cagewatch-live.XXXXXX)
	trap live_cleanup EXIT
	[ -x "$CAGEWATCH" ] || { not_ok "agent binary $CAGEWATCH missing"; live_done; }
	command -v runc >/dev/null || { not_ok "runc missing"; live_done; }
	cc -O2 -static -o "$LIVE_DIR/harmless" "$LIVE_ROOT/tests/live/harmless.c" 2>/dev/null ||
		cc -O2 -o "$LIVE_DIR/harmless" "$LIVE_ROOT/tests/live/harmless.c" ||
		{ not_ok "cannot build the look-alike"; live_done; }
}

live_cleanup() {
	local c
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	for c in "${LIVE_CONTAINERS[@]}"; do
		runc delete -f "$c" >/dev/null 2>&1
	done
	rm -rf "$LIVE_PINS"
	[ -n "$LIVE_DIR" ] && [ -z "${KEEP_LIVE:-}" ] && rm -rf "$LIVE_DIR"
}

live_done() {
	echo "$T_PASSED passed, $T_FAILED failed"
	[ "$T_FAILED" -eq 0 ] && exit 0
	exit 1
}

# make_rootfs DIR: a busybox-static root with the look-alike at /opt/harmless.
make_rootfs() {
	local r=$1 a
	mkdir -p "$r"/{bin,tmp,proc,sys,dev,etc,opt,root}
	cp /bin/busybox "$r/bin/busybox"
	for a in sh ls cat echo sleep cp mv chmod id ps true mkdir rm; do
		ln -sf busybox "$r/bin/$a"
	done
	cp "$LIVE_DIR/harmless" "$r/opt/harmless"
	echo "root:x:0:0:root:/root:/bin/sh" >"$r/etc/passwd"
}

# dyn_rootfs ROOTFS LIBDIR: ROOTFS gets the host's dynamic loader and libc
# and /opt/libuser (dlopen()s its arguments: tests/live/libuser.c); LIBDIR
# gets libplain.so (clean) and libtool.so (CDK's identifying string).
dyn_rootfs() {
	local r=$1 l=$2 n
	mkdir -p "$r/lib64" "$r/lib/x86_64-linux-gnu" "$r/usr/lib" "$r/opt" "$l"
	cp -L /lib64/ld-linux-x86-64.so.2 "$r/lib64/" &&
		cp -L /lib/x86_64-linux-gnu/libc.so.6 "$r/lib/x86_64-linux-gnu/" &&
		cc -O2 -o "$r/opt/libuser" "$LIVE_ROOT/tests/live/libuser.c" || return 1
	echo 'int cw_lib(void) { return 1; }' >"$l/plain.c"
	printf '%s\n' 'const char *cw_id = "github.com/cdk-team/CDK/pkg/exploit/escaping.EscapeCgroup";' \
		'int cw_lib(void) { return cw_id[0]; }' >"$l/tool.c"
	for n in plain tool; do
		cc -O2 -shared -fPIC -o "$l/lib$n.so" "$l/$n.c" || return 1
	done
}

# start_container NAME [cgroups-path [extra-annotations-json [jq-filter]]]:
# runc container running `sleep 3600`; jq-filter edits its config.json. Its
# bundle goes under $LIVE_BUNDLES (default $LIVE_DIR/bundles).
start_container() {
	local name=$1 cg=${2:-/cagewatch-test/$1} extra=${3:-'{}'} edit=${4:-.}
	local b="${LIVE_BUNDLES:-$LIVE_DIR/bundles}/$1"
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	(cd "$b" && runc spec) || return 1
	jq --arg cg "$cg" --arg name "$name" --argjson extra "$extra" '.process.terminal=false | .process.args=["sleep","3600"]
		| .root.readonly=false | .linux.cgroupsPath=$cg
		| .annotations={"io.kubernetes.cri.container-name": $name, "io.kubernetes.cri.image-name": "example.local/busybox:live"} + $extra
		| '"$edit" \
		"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
	runc run -d --bundle "$b" "$name" </dev/null >"$b/runc.log" 2>&1 || { cat "$b/runc.log"; return 1; }
	LIVE_CONTAINERS+=("$name")
}

# cexec NAME PIDFILE CMD...: run CMD inside the container; host pid into PIDFILE.
cexec() {
	local name=$1 pf=$2
	shift 2
	runc exec --pid-file "$pf" "$name" "$@" </dev/null
}

# start_agent OUTFILE [args...]: agent in the background; waits for its pid file.
start_agent() {
	local out=$1 i
	shift
	rm -f "$LIVE_DIR/agent.pid"
	# self-protection pins of the tests' own (a later --pin-dir wins), removed at exit
	"$CAGEWATCH" run --pidfile "$LIVE_DIR/agent.pid" --store "$LIVE_DIR/store.db" \
		--pin-dir "$LIVE_PINS" "$@" \
		>"$out" 2>"$out.err" &
	AGENT_PID=$!
	for i in $(seq 1 300); do
		[ -s "$LIVE_DIR/agent.pid" ] && return 0
		kill -0 "$AGENT_PID" 2>/dev/null || { cat "$out.err"; AGENT_PID=; return 1; }
		sleep 0.1
	done
	cat "$out.err"
	return 1
}

stop_agent() {
	[ -n "$AGENT_PID" ] || return 1
	kill -TERM "$AGENT_PID"
	wait "$AGENT_PID"
	local rc=$?
	AGENT_PID=
	return $rc
}

# wait_finding OUTFILE JQ-FILTER: waits (up to 10 s) for a finding line matching
# the filter; prints the first match.
wait_finding() {
	local out=$1 f=$2 i m
	for i in $(seq 1 100); do
		m=$(jq -c "select($f)" "$out" 2>/dev/null | head -1)
		[ -n "$m" ] && { echo "$m"; return 0; }
		sleep 0.1
	done
	return 1
}

# wait_jq FILE FILTER: waits (up to 10 s) until jq -e FILTER holds on FILE
# (a stats file rewritten every 0.5 s, a findings file being appended to).
wait_jq() {
	local i
	for i in $(seq 1 100); do
		jq -e "$2" "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# docker_start DIR: a private dockerd without networking (lab.md), its state
# under DIR; exports DOCKER_HOST. Fails (its log's tail printed) if it does not
# answer. docker_stop removes its containers and stops it.
docker_start() {
	local d=$1 i
	mkdir -p "$d"
	dockerd --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--data-root "$d/data" --exec-root "$d/exec" -H "unix://$d/docker.sock" --pidfile "$d/pid" \
		>"$d/log" 2>&1 &
	DOCKER_PID=$!
	DOCKER_DIR=$d
	for i in $(seq 1 150); do [ -S "$d/docker.sock" ] && break; sleep 0.1; done
	export DOCKER_HOST=unix://$d/docker.sock
	docker version >/dev/null 2>&1 && return 0
	sed 's/^/# /' "$d/log" | tail -5
	return 1
}

docker_stop() {
	[ -n "$DOCKER_PID" ] || return 0
	docker -H "unix://$DOCKER_DIR/docker.sock" rm -f $(docker -H "unix://$DOCKER_DIR/docker.sock" ps -aq 2>/dev/null) >/dev/null 2>&1
	kill "$DOCKER_PID" 2>/dev/null && wait "$DOCKER_PID" 2>/dev/null
	DOCKER_PID=
}

# pid1_bundle NAME PROGRAM [cgroups-path]: an OCI bundle ($LIVE_DIR/bundles/NAME)
# whose PID 1 is PROGRAM, copied into the rootfs as /tmp/prog-NAME (a renamed
# tool: nothing in its name says what it is). Prints the bundle directory.
pid1_bundle() {
	local name=$1 prog=$2 cg=${3:-/cagewatch-test/$1} b="$LIVE_DIR/bundles/$1"
	rm -rf "$b"
	mkdir -p "$b/rootfs"/{bin,tmp,proc,sys,dev,etc}
	cp /bin/busybox "$b/rootfs/bin/busybox"
	ln -sf busybox "$b/rootfs/bin/sh"
	cp "$prog" "$b/rootfs/tmp/prog-$name"
	(cd "$b" && runc spec) || return 1
	jq --arg cg "$cg" --arg p "/tmp/prog-$name" '.process.terminal=false | .process.args=[$p]
		| .root.readonly=false | .linux.cgroupsPath=$cg' "$b/config.json" >"$b/config.json.new" &&
		mv "$b/config.json.new" "$b/config.json"
	echo "$b"
}

# build_quick_lookalikes DIR: 20 distinct static look-alikes that exit at once
# (5 tools x 4 salts), DIR/q_<tool>_<n>; prints nothing, fails if one does not build.
build_quick_lookalikes() {
	local d=$1 k n
	mkdir -p "$d"
	for k in botb cdk peirates amicontained runc_overwrite; do
		for n in 1 2 3 4; do
			cc -O2 -static -DLINGER_US=0 -DSALT="\"$k$n\"" -o "$d/q_${k}_$n" \
				"$LIVE_ROOT/tests/fixtures/lookalikes/${k}_like.c" || return 1
		done
	done
}

# expected_rule FILE: the content rule a quick look-alike should match.
expected_rule() {
	case $(basename "$1") in
	q_botb_*) echo yara.botb ;;
	q_cdk_*) echo yara.cdk ;;
	q_peirates_*) echo yara.peirates ;;
	q_amicontained_*) echo yara.amicontained ;;
	q_runc_overwrite_*) echo yara.cve_2019_5736_poc ;;
	esac
}

# start_storm NAME: a runc container running a 2-worker exec storm until deleted.
start_storm() {
	local name=$1 b="$LIVE_DIR/bundles/$1"
	cc -O2 -static -o "$LIVE_DIR/storm" "$LIVE_ROOT/bench/storm.c" || return 1
	cc -O2 -static -nostdlib -o "$LIVE_DIR/tiny" "$LIVE_ROOT/bench/tiny.c" || return 1
	mkdir -p "$b"
	make_rootfs "$b/rootfs"
	cp "$LIVE_DIR/storm" "$LIVE_DIR/tiny" "$b/rootfs/opt/"
	(cd "$b" && runc spec) || return 1
	jq --arg cg "/cagewatch-test/$name" '.process.terminal=false
		| .process.args=["/bin/sh","-c","while :; do /opt/storm -n 200000 -w 2 /opt/tiny; done"]
		| .root.readonly=false | .linux.cgroupsPath=$cg' "$b/config.json" >"$b/config.json.new" &&
		mv "$b/config.json.new" "$b/config.json"
	runc run -d --bundle "$b" "$name" </dev/null >"$b/runc.log" 2>&1 || { cat "$b/runc.log"; return 1; }
	LIVE_CONTAINERS+=("$name")
}

# ---- PostgreSQL and a NATS JetStream cluster, started by the fleet tests ----
PG_DIR= PG_PORT= PG_URL=
# pg_start: a fresh PostgreSQL cluster on 127.0.0.1 (trust auth for the
# loopback test), database "cagewatch"; PG_URL is its URL.
pg_start() {
	local bin
	bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
	[ -x "$bin/initdb" ] || { echo "PostgreSQL server missing (tests/deps.sh installs postgresql)"; return 1; }
	PG_BIN=$bin
	PG_DIR=$(mktemp -d /tmp/cagewatch-pg.XXXXXX)
	PG_PORT=$((40000 + RANDOM % 20000))
	chown postgres "$PG_DIR"
	runuser -u postgres -- "$bin/initdb" -D "$PG_DIR/data" -A trust -U postgres >"$PG_DIR/initdb.log" 2>&1 ||
		{ cat "$PG_DIR/initdb.log"; return 1; }
	pg_up || return 1
	PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/cagewatch"
	psql -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "CREATE DATABASE cagewatch" postgres
}
pg_up() {
	runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 60 \
		-o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1" start >/dev/null
}
# pg_down [MODE]: fast (default) or immediate (a crash: recovery at the next start)
pg_down() {
	[ -n "$PG_DIR" ] && runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m "${1:-fast}" -w stop >/dev/null 2>&1
}
pg_cleanup() { pg_down immediate; [ -n "$PG_DIR" ] && rm -rf "$PG_DIR"; PG_DIR=; }
# pg_sql SQL: one value
pg_sql() { psql -Atq -h 127.0.0.1 -p "$PG_PORT" -U postgres -c "$1" cagewatch; }

NATS_PIDS=() NATS_PORTS=() NATS_MPORTS=()
# nats_cluster_start N: N nats-servers with JetStream, clustered on loopback
nats_cluster_start() {
	local n=$1 base=$((20000 + RANDOM % 15000)) i routes=
	for i in $(seq 0 $((n - 1))); do
		NATS_PORTS[$i]=$((base + i * 3)) NATS_MPORTS[$i]=$((base + i * 3 + 1))
		routes+="${routes:+,}nats-route://127.0.0.1:$((base + i * 3 + 2))"
	done
	NATS_ROUTES=$routes
	for i in $(seq 0 $((n - 1))); do nats_up "$i" || return 1; done
}
nats_up() { # I
	local i=$1 k
	nats-server -n "cw-$i" -a 127.0.0.1 -p "${NATS_PORTS[$i]}" -m "${NATS_MPORTS[$i]}" -js \
		-sd "$LIVE_DIR/nats-$i" --cluster_name cwfleet --cluster "nats://127.0.0.1:$((NATS_PORTS[$i] + 2))" \
		--routes "$NATS_ROUTES" >>"$LIVE_DIR/nats-$i.log" 2>&1 &
	NATS_PIDS[$i]=$!
	for k in $(seq 1 100); do curl -sf "http://127.0.0.1:${NATS_MPORTS[$i]}/varz" >/dev/null && return 0; sleep 0.1; done
	return 1
}
nats_kill() { kill -"${2:-TERM}" "${NATS_PIDS[$1]}" 2>/dev/null; wait "${NATS_PIDS[$1]}" 2>/dev/null; NATS_PIDS[$1]=; }
nats_cleanup() { local i; for i in "${!NATS_PIDS[@]}"; do [ -n "${NATS_PIDS[$i]}" ] && nats_kill "$i" KILL; done; return 0; }
# nats_urls: "127.0.0.1:P1,127.0.0.1:P2,..." for a nats:// URL
nats_urls() { local i s=; for i in "${!NATS_PORTS[@]}"; do s+="${s:+,}127.0.0.1:${NATS_PORTS[$i]}"; done; echo "$s"; }
