#!/bin/bash
# test_runtime_more.sh - the runtime detectors that look past the command
# line (docs/detectors.md), each with a positive and a negative case in real
# runc containers: the environment a program was started with (Polkit
# CVE-2021-4034, Program Run with Disallowed HTTP Proxy Env, off by default),
# the first bytes a program sends on a new connection (Stratum mining), the
# libraries a program maps (Added Library Loaded, Added Malicious Library
# Loaded); a shell under CUPS' print filter and openssl given a shared object;
# and a cron job in the benign corpus. The programs are harmless stand-ins
# under the tools' names.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
jqt() { jq -e "$@" >/dev/null 2>&1; }
# cron (benign): busybox crond runs a job every minute in a container of its
# own, started first; it is looked at last, after its first run
# (with Docker's default CAP_SETUID and CAP_SETGID: crond changes to the
# crontab's user before each job)
CAPS='.process.capabilities |= with_entries(.value += ["CAP_SETUID", "CAP_SETGID"])'
check "a cron container" start_container cw-more-cron "" '{}' "$CAPS"
C=$LIVE_DIR/bundles/cw-more-cron/rootfs
mkdir -p "$C/etc/crontabs"
echo '* * * * * ls / >/dev/null; id >>/tmp/cron.log; date >>/tmp/cron.log' >"$C/etc/crontabs/root"
check "a container" start_container cw-more
R=$LIVE_DIR/bundles/cw-more/rootfs
cc -O2 -static -o "$R/opt/noargs" "$LIVE_ROOT/tests/live/noargs.c" || not_ok "build noargs"
cp "$LIVE_DIR/harmless" "$R/opt/pkexec"
cp "$LIVE_DIR/harmless" "$R/opt/fetcher"
cc -O2 -static -o "$R/opt/foomatic-rip" "$LIVE_ROOT/tests/live/spawn.c" || not_ok "build spawn"
cp "$LIVE_DIR/harmless" "$R/opt/openssl"
check "agent starts (proxy rule on)" start_agent "$OUT" --enable-rules technique.proxy_env.disallowed
run() { cexec "${2:-cw-more}" "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }
cexec cw-more-cron "$LIVE_DIR/cron.pid" busybox crond -b -l 0 -L /tmp/crond.log -c /etc/crontabs </dev/null >/dev/null 2>&1

# ---- the environment at exec ----
# benign: pkexec with arguments and a plain environment; a program with an
# allowed-looking variable that is no proxy; no_proxy alone
run '/opt/pkexec /bin/true; LANG=C GCONV=x /opt/pkexec --version; no_proxy=localhost /opt/fetcher a; PROXY_MODE=off /opt/fetcher b'
sleep 1
check "pkexec with arguments, no_proxy, a variable named PROXY_MODE: no finding ($(jq -r .category "$OUT" 2>/dev/null | sort -u | tr '\n' ','))" \
	test "$(jq -s length "$OUT")" = 0
run '/opt/noargs /opt/pkexec "PATH=GCONV_PATH=." CHARSET=PWNKIT SHELL=pwnkit'
f=$(wait_finding "$OUT" '.category | startswith("Privilege Escalation: Polkit")')
check "Polkit CVE-2021-4034 (CRITICAL): pkexec with no arguments and PATH=GCONV_PATH=." \
	jqt '.severity == "CRITICAL" and .moduleName == "POLKIT_LOCAL_PRIVILEGE_ESCALATION_VULNERABILITY" and .sourceProperties.Environment_Variables == ["PATH=GCONV_PATH=."] and .sourceProperties.Rule_Id == "technique.polkit.cve_2021_4034" and .mitreAttack.primaryTechniques == ["EXPLOITATION_FOR_PRIVILEGE_ESCALATION"]' <<<"${f:-null}"
check "... and no other variable of its environment is in the finding" \
	test -z "$(grep -c PWNKIT "$OUT" | grep -v '^0$')"
run 'GCONV_PATH=/tmp/x /opt/pkexec /bin/id'
f=$(wait_finding "$OUT" '(.category | startswith("Privilege Escalation: Polkit")) and (.processes[0].args | index("/bin/id"))')
check "Polkit CVE-2021-4034: pkexec with GCONV_PATH set" \
	jqt '.sourceProperties.Environment_Variables == ["GCONV_PATH=/tmp/x"]' <<<"${f:-null}"
# ---- other programs and their parents ----
run '/opt/openssl version; /opt/openssl req -new -key k.pem; /opt/foomatic-rip /opt/harmless x'
sleep 1
check "openssl without a shared object, foomatic-rip running a program: no finding" \
	test -z "$(jq -c 'select(.category | test("OpenSSL|CUPS"))' "$OUT")"
run '/opt/openssl engine -t -c /tmp/evil.so; /opt/foomatic-rip /bin/sh -c "echo printed"'
f=$(wait_finding "$OUT" '.category == "Execution: Suspicious OpenSSL Shared Object Loaded"')
check "Suspicious OpenSSL Shared Object Loaded (CRITICAL): openssl engine /tmp/evil.so" \
	jqt '.severity == "CRITICAL" and .sourceProperties.Argument_Pattern == "*.so" and (.processes[0].args | index("/tmp/evil.so"))' <<<"${f:-null}"
f=$(wait_finding "$OUT" '.category | startswith("Execution: Possible Arbitrary Command Execution through CUPS")')
check "CUPS CVE-2024-47076 (CRITICAL): a shell under foomatic-rip" \
	jqt '.severity == "CRITICAL" and .moduleName == "POSSIBLE_ARBITRARY_COMMAND_EXECUTION_THROUGH_CUPS" and (.processes[0].args | index("echo printed"))' <<<"${f:-null}"
# a proxy variable far into a large environment, with a password in the URL
BIG=$(head -c 6000 /dev/zero | tr '\0' 'x')
run "PAD1=$BIG PAD2=$BIG HTTPS_PROXY=http://alice:s3cret@198.51.100.7:3128 /opt/fetcher https://example.com/"
f=$(wait_finding "$OUT" '.category == "Execution: Program Run with Disallowed HTTP Proxy Env"')
check "Disallowed HTTP Proxy Env (LOW): HTTPS_PROXY after 12 KB of environment, password hidden" \
	jqt '.severity == "LOW" and .moduleName == "PROGRAM_RUN_WITH_DISALLOWED_HTTP_PROXY_ENV" and .sourceProperties.Environment_Variables == ["HTTPS_PROXY=http://***@198.51.100.7:3128"] and .processes[0].binary.path == "/opt/fetcher"' <<<"${f:-null}"
check "... the password is nowhere in the output" test -z "$(grep -l s3cret "$OUT")"
# the '=' ending the proxy name at every place the in-kernel scan treats
# apart: each byte of an 8-byte word, a name across two words, and across the
# 4 KiB chunk boundary (chunks overlap by 8 bytes: without the overlap 4096
# and 4097 are missed). env -i: the block is exactly PAD=<n bytes> then
# HTTPS_PROXY=..., so the '=' is at offset n + 16.
POS="16 17 18 19 20 21 22 23 24 63 64 65 71 72 127 4087 4088 4089 4094 4095 4096 4097 4103 4150"
cmd=
for p in $POS; do
	cmd+="env -i PAD=$(head -c $((p - 16)) /dev/zero | tr '\0' y) HTTPS_PROXY=http://198.51.100.9:3128 /opt/fetcher pos$p; "
done
run "$cmd"
missed=
for p in $POS; do
	wait_finding "$OUT" ".category == \"Execution: Program Run with Disallowed HTTP Proxy Env\" and (.processes[0].args | index(\"pos$p\"))" >/dev/null || missed+=" $p"
done
check "a proxy variable whose '=' is at any of $(wc -w <<<"$POS") offsets (word and chunk edges) is seen (missed:${missed:- none})" \
	test -z "$missed"

# ---- the first message on a new connection: Stratum ----
# a container on the host's network talks to a listener on 127.0.0.1 that
# reads whatever comes (a pool, a web server, a JSON service)
check "a container on the host's network" start_container cw-more-net "" '{}' \
	'.linux.namespaces |= map(select(.type != "network"))'
PORT=$((20000 + RANDOM % 20000))
timeout 60 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
while True:
    c, _ = s.accept(); c.recv(4096); c.close()' "$PORT" &
LPID=$!
sleep 0.3
send() { run "printf '%s\\n' '$1' | busybox nc -w 1 127.0.0.1 $PORT" cw-more-net; }
send 'GET / HTTP/1.0'
send '{"id":1,"method":"getblocktemplate","params":[]}'
send '{"jsonrpc":"2.0","method":"login","params":{"user":"a"}}'
sleep 1
check "an HTTP request, a JSON-RPC call and a login without a miner's agent: no Stratum finding" \
	test -z "$(jq -c 'select(.category | test("Stratum"))' "$OUT")"
send '{"id":1,"method":"mining.subscribe","params":["cpuminer-opt/3.8"]}'
f=$(wait_finding "$OUT" '.category | test("Stratum")')
check "Stratum mining (HIGH): mining.subscribe as the first message, pool 127.0.0.1:$PORT" \
	jqt --arg s "127.0.0.1:$PORT" '.severity == "HIGH" and .moduleName == "SUSPICIOUS_CRYPTO_MINING_ACTIVITY_USING_STRATUM_PROTOCOL" and .sourceProperties.Socket == $s and (.sourceProperties.Payload | contains("mining.subscribe")) and .mitreAttack.primaryTechniques == ["RESOURCE_HIJACKING"] and .sourceProperties.Container_Id == "cw-more-net"' <<<"${f:-null}"
send '{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4Abc","pass":"x","agent":"XMRig/6.21.0"}}'
f=$(wait_finding "$OUT" '(.category | test("Stratum")) and (.sourceProperties.Payload | contains("XMRig"))')
check "Stratum mining: an XMRig login" test -n "$f"
stop_agent
check "... seen at tcp_sendmsg_locked on this kernel" grep -q "seen at tcp_sendmsg_locked" "$OUT.err"
check "... and the send syscalls it does not hook are not called missing" \
	test -z "$(grep "no syscall tracepoint for" "$OUT.err" | grep -E "write|sendto|sendmsg|mmap")"
# the fallback for kernels without that tracepoint: the send syscalls
cp "$OUT" "$OUT.3"
: >"$OUT"
CAGEWATCH_SEND_HOOK=syscalls start_agent "$OUT"
check "agent starts (first sends seen at the syscalls)" grep -q "at the write, sendto" "$OUT.err"
send '{"id":2,"method":"mining.authorize","params":["wallet.worker","x"]}'
f=$(wait_finding "$OUT" '.category | test("Stratum")')
check "Stratum mining through the syscall hooks: mining.authorize" \
	jqt '.sourceProperties.Syscall == "write" and (.sourceProperties.Payload | contains("mining.authorize"))' <<<"${f:-null}"
send 'GET / HTTP/1.0'
sleep 1
check "... and one finding only (the HTTP request gives none)" \
	test "$(jq -s length "$OUT")" = 1
kill "$LPID" 2>/dev/null
stop_agent

# ---- code mapped from files not in the image ----
# a container whose image has a dynamic loader, libc, a program that
# dlopen()s what it is told and a library of its own; libraries copied in
# after the start are added (a plain directory root: changed after the
# container's init started)
L=$LIVE_DIR/bundles/cw-more-lib/rootfs
dyn_rootfs "$L" "$LIVE_DIR/libs" || not_ok "build the loader's root and the libraries"
cp "$LIVE_DIR/libs/libplain.so" "$L/usr/lib/libimage.so"
check "a container with a dynamic loader" start_container cw-more-lib
sleep 1.1 # coarse timestamps: what is copied now is clearly after the start
: >"$OUT"
check "agent starts (defaults)" start_agent "$OUT"
cp "$LIVE_DIR/libs/libplain.so" "$L/tmp/libplain.so"
cp "$LIVE_DIR/libs/libtool.so" "$L/tmp/libtool.so"
run '/opt/libuser /usr/lib/libimage.so; /opt/libuser /tmp/libplain.so' cw-more-lib
sleep 1
check "the image's libraries and an added clean one: no finding by default ($(jq -r .category "$OUT" 2>/dev/null | sort -u | tr '\n' ','))" \
	test "$(jq -s length "$OUT")" = 0
run '/opt/libuser /tmp/libtool.so' cw-more-lib
f=$(wait_finding "$OUT" '.category == "Execution: Added Malicious Library Loaded"')
check "Added Malicious Library Loaded (CRITICAL): /tmp/libtool.so, recognised as CDK by content" \
	jqt '.severity == "CRITICAL" and .moduleName == "ADDED_MALICIOUS_LIBRARY_LOADED" and .sourceProperties.Library_Path == "/tmp/libtool.so" and .sourceProperties.Content_Rule_Id == "yara.cdk" and (.sourceProperties.Library_Sha256 | length == 64) and (.processes[0].binary.path | endswith("libuser")) and .sourceProperties.Container_Id == "cw-more-lib"' <<<"${f:-null}"
# the same program loading a second one: a finding of its own (one per file)
cp "$LIVE_DIR/libs/libtool.so" "$L/tmp/libtool2.so"
run '/opt/libuser /tmp/libtool2.so' cw-more-lib
check "... and another added tool library loaded by the same program is a finding of its own" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Library_Path == "/tmp/libtool2.so"')"
# drop, load, delete: the file is gone before the agent opens it; the
# mapping is read through /proc/PID/map_files while the program lives
cp "$LIVE_DIR/libs/libtool.so" "$L/tmp/libgone.so"
run '/opt/libuser -u /tmp/libgone.so -s' cw-more-lib
f=$(wait_finding "$OUT" '.sourceProperties.Library_Path == "/tmp/libgone.so"')
check "a tool library deleted right after it was loaded: still Added Malicious Library Loaded, by content" \
	jqt '.category == "Execution: Added Malicious Library Loaded" and .sourceProperties.Content_Rule_Id == "yara.cdk"' <<<"${f:-null}"
check "... and the file was really gone" test ! -e "$L/tmp/libgone.so"
stop_agent
cp "$OUT" "$OUT.2"
: >"$OUT"
check "agent starts (Added Library Loaded on)" start_agent "$OUT" --enable-rules technique.library.added
cp "$LIVE_DIR/libs/libplain.so" "$L/tmp/libnew.so"
run '/opt/libuser /tmp/libnew.so; /opt/libuser /tmp/libnew.so; /opt/libuser /tmp/libnew.so /usr/lib/libimage.so' cw-more-lib
f=$(wait_finding "$OUT" '.category == "Added Library Loaded"')
check "Added Library Loaded (LOW): /tmp/libnew.so" \
	jqt '.severity == "LOW" and .moduleName == "ADDED_LIBRARY_LOADED" and .sourceProperties.Library_Path == "/tmp/libnew.so" and .sourceProperties.Binary_Provenance == "added or modified"' <<<"${f:-null}"
sleep 1
check "... once for three loads, and none for the image's library" \
	test "$(jq -s '[.[] | select(.category == "Added Library Loaded")] | length' "$OUT")" = 1
stop_agent

# cron ran its job (up to a minute after it started) under every agent
# above: none of them reported anything in its container
for i in $(seq 1 70); do
	[ -s "$C/tmp/cron.log" ] && break
	sleep 1
done
check "cron ran its job in a container" test -s "$C/tmp/cron.log"
check "... and gave no finding" \
	jqt -s '[.[] | select(.sourceProperties.Container_Id == "cw-more-cron")] == []' "$OUT" "$OUT".[0-9]

# off by default: the same proxy exec gives nothing without --enable-rules
cp "$OUT" "$OUT.1"; : >"$OUT"
check "agent starts (defaults)" start_agent "$OUT"
run 'http_proxy=http://198.51.100.7:3128 /opt/fetcher x'
sleep 1
check "Disallowed HTTP Proxy Env is off by default" \
	test -z "$(jq -c 'select(.category | test("Proxy"))' "$OUT")"
stop_agent
live_done
