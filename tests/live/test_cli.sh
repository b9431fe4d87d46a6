#!/bin/bash
# tests/live/test_cli.sh - the command line's manners: every subcommand has
# --help (exit 0); bad usage exits 2 with one line that says what is wrong and
# where the options are; the man pages are built from the --help texts and
# name every option; bash completion offers the subcommands and a command's
# options from the binary itself.
source "$(dirname "$0")/lib.sh"
live_init

CMDS=(run stats trace findings scan serve doctor)
for c in "${CMDS[@]}"; do
	"$CAGEWATCH" "$c" --help >"$LIVE_DIR/help-$c.txt" 2>&1
	rc=$?
	check "$c --help exits 0 ($rc) and prints a usage" bash -c "[ $rc = 0 ] && grep -q '^usage: cagewatch $c' '$LIVE_DIR/help-$c.txt'"
	"$CAGEWATCH" "$c" --no-such-option >/dev/null 2>"$LIVE_DIR/bad-$c.txt"
	rc=$?
	check "$c with a bad option exits 2 ($rc) with a one-line hint: $(head -1 "$LIVE_DIR/bad-$c.txt")" \
		bash -c "[ $rc = 2 ] && [ \$(wc -l <'$LIVE_DIR/bad-$c.txt') = 1 ] && grep -q -- 'see \`cagewatch $c --help\`' '$LIVE_DIR/bad-$c.txt'"
done
"$CAGEWATCH" no-such-command >/dev/null 2>"$LIVE_DIR/bad.txt"
rc=$?
check "an unknown command exits 2 ($rc) with one line" bash -c "[ $rc = 2 ] && [ \$(wc -l <'$LIVE_DIR/bad.txt') = 1 ]"
"$CAGEWATCH" run --help-config >"$LIVE_DIR/conf.txt"
check "run --help-config lists every configuration key" \
	bash -c "for k in organization project project_number source location resource_template host report_args store_path notification_config; do grep -q \"^  \$k \" '$LIVE_DIR/conf.txt' || exit 1; done"

# doctor: on this node (root, BTF, tp_btf) the agent can run; every check reported
"$CAGEWATCH" doctor --format json >"$LIVE_DIR/doctor.json" 2>&1
rc=$?
want=$(jq 'if any(.[]; .status == "FAIL") then 1 elif any(.[]; .status == "missing") then 3 else 0 end' "$LIVE_DIR/doctor.json")
check "doctor: the exit status ($rc) says full (0), degraded (3) or cannot run (1) as the checks do ($want)" \
	[ "$rc" = "$want" ]
check "doctor: the exec sensor really attached, every check reported with its detail" \
	bash -c "jq -e 'length >= 14 and (map(select(.check == \"exec sensor\"))[0].status == \"ok\") and all(.[]; .detail | length > 0)' '$LIVE_DIR/doctor.json' >/dev/null"
got=$(jq -r '.[] | select(.check == "BPF program types") | .detail' "$LIVE_DIR/doctor.json")
check "doctor: each BPF program type loaded and attached for real ($got)" \
	bash -c "grep -q 'tp_btf ok' <<<'$got' && grep -q 'raw_tp ok' <<<'$got' && grep -q 'fentry ' <<<'$got' && grep -q 'lsm ' <<<'$got' && grep -q 'kprobe ' <<<'$got'"
check "doctor: capabilities, fanotify permission events and the clock are checked" \
	bash -c "jq -e '[.[].check] | index(\"capabilities\") and index(\"fanotify permission\") and index(\"clock\")' '$LIVE_DIR/doctor.json' >/dev/null"
timeout -s INT 3 "$CAGEWATCH" run --no-store --pin-dir "" --stats-file "$LIVE_DIR/st0.json" >/dev/null 2>"$LIVE_DIR/start.err"
check "the agent logs doctor's summary at start: $(grep -m1 'doctor:' "$LIVE_DIR/start.err" | cut -c1-100)" \
	grep -q 'doctor: ' "$LIVE_DIR/start.err"

# --log-format json: every log line a JSON object a log shipper can parse
timeout -s INT 3 "$CAGEWATCH" run --log-format json --no-store --pin-dir "" \
	--stats-file "$LIVE_DIR/st.json" >/dev/null 2>"$LIVE_DIR/log.json"
check "run --log-format json: every stderr line is {time, level, pid, msg} ($(wc -l <"$LIVE_DIR/log.json") lines)" \
	bash -c "[ -s '$LIVE_DIR/log.json' ] && jq -e -s 'all(.[]; .time and .level and .pid and (.msg | type == \"string\")) and any(.[]; .msg | startswith(\"sensor attached\"))' '$LIVE_DIR/log.json' >/dev/null"

# man pages from the same texts
"$LIVE_ROOT/tools/mkman.sh" "$CAGEWATCH" "$LIVE_DIR/man" >/dev/null 2>"$LIVE_DIR/man.err" ||
	{ not_ok "tools/mkman.sh failed"; sed 's/^/# /' "$LIVE_DIR/man.err"; }
for p in cagewatch.8 cagewatch-run.8 cagewatch-serve.8 cagewatch-stats.8 cagewatch-trace.8 cagewatch-doctor.8 \
	cagewatch-findings.1 cagewatch-scan.1 cagewatch.conf.5; do
	check "man page $p renders" bash -c "MANWIDTH=100 man -l '$LIVE_DIR/man/$p' 2>/dev/null | grep -q 'NAME'"
done
missing=
for c in run serve stats scan; do
	for o in $(grep -oE -- '--[a-z][a-z-]*' "$LIVE_DIR/help-$c.txt" | sort -u); do
		MANWIDTH=200 man -l "$LIVE_DIR/man/cagewatch-$c."* 2>/dev/null | grep -q -- "$o" || missing="$missing $c:$o"
	done
done
check "the man pages name every option of --help${missing:+ (missing:$missing)}" [ -z "$missing" ]

# bash completion, driven by the binary's own --help
comp() { # WORDS...: what the completion offers for the last word
	bash -c "source '$LIVE_ROOT/contrib/bash-completion/cagewatch'; COMP_WORDS=($*); COMP_CWORD=\$((\${#COMP_WORDS[@]} - 1)); _cagewatch; echo \"\${COMPREPLY[*]}\""
}
got=$(comp "'$CAGEWATCH'" se)
check "completion: 'se' -> serve ($got)" [ "$got" = serve ]
got=$(comp "'$CAGEWATCH'" serve --tl)
check "completion: serve --tl -> --tls-cert --tls-key ($got)" [ "$got" = "--tls-cert --tls-key" ]
got=$(comp "'$CAGEWATCH'" findings l)
check "completion: findings l -> list logs ($got)" [ "$got" = "list logs" ]
live_done
