#!/bin/bash
# tests/live/test_reload.sh - SIGHUP reload under a running agent: a YARA rule
# added to the --rules directory turns a file judged clean (and dropped in the
# kernel as known-clean since) into a finding at its next exec; a broken rule
# file or config is refused with a message naming the file, and the running
# rules stay (a known tool is still reported); the configuration's naming
# applies to findings after the reload; stats count generations and refusals.
source "$(dirname "$0")/lib.sh"
live_init
OUT=$LIVE_DIR/findings.jsonl
ST=$LIVE_DIR/stats.json
D=$LIVE_DIR/rules.d
FIX=$LIVE_ROOT/tests/fixtures/lookalikes
mkdir -p "$D"

# the file under judgement: harmless, with a marker no shipped rule knows
cat >"$LIVE_DIR/rl.c" <<'EOF'
#include <stdio.h>
static const char mark[] = "cw-reload-test-marker-5b1e09";
int main(void) { return puts(mark) < 0; }
EOF
cc -O2 -static -o "$LIVE_DIR/rl_tool" "$LIVE_DIR/rl.c" || not_ok "build the reload look-alike"
cc -O2 -static -o "$LIVE_DIR/cdk_like" "$FIX/cdk_like.c" || not_ok "build cdk look-alike"
cat >"$D/site.yar" <<'EOF'
rule site_placeholder
{
	meta:
		tool = "placeholder"
		category = "container_escape"
	strings:
		$a = "cw-no-such-string-3f2c"
	condition:
		$a
}
EOF
echo '{"project": "before-reload"}' >"$LIVE_DIR/conf.json"

stat_of() { jq -r "$1" "$ST" 2>/dev/null; }
# wait_stat JQ N: the stats file shows the number N for JQ within 10 s
wait_stat() { wait_jq "$ST" "$1 == $2"; }
hup() { kill -HUP "$AGENT_PID"; }

check "agent starts with --rules and --config" start_agent "$OUT" --rules "$D" \
	--config "$LIVE_DIR/conf.json" --stats-file "$ST"
check "container starts" start_container cw-reload
R=$LIVE_DIR/bundles/cw-reload/rootfs
cp "$LIVE_DIR/rl_tool" "$LIVE_DIR/cdk_like" "$R/opt/"
run_in() { cexec cw-reload "$LIVE_DIR/x.pid" sh -c "$1" >/dev/null 2>&1; }

check "stats: rules generation 0 at start" wait_stat .rules.generation 0
for i in 1 2 3 4; do run_in /opt/rl_tool; sleep 0.3; done
sleep 1
clean=$(stat_of .kernel.known_clean)
check "the unknown file was judged clean and its later execs dropped in the kernel (known_clean=$clean)" \
	[ "${clean:-0}" -ge 1 ]
check "no finding for it before the reload" \
	[ -z "$(jq -c 'select(.processes[0].binary.path == "/opt/rl_tool")' "$OUT")" ]

# a broken rule file: refused, the running rules stay
echo 'rule broken { condition: $nope }' >"$D/broken.yar"
hup
check "a broken rule file is refused (reload_failures=1)" wait_stat .rules.reload_failures 1
check "the refusal names the file and says the running rules stay" \
	bash -c "grep -q 'broken.yar' '$OUT.err' && grep -q 'reload refused' '$OUT.err'"
check "generation unchanged after the refusal" [ "$(stat_of .rules.generation)" = 0 ]
run_in /opt/cdk_like
f=$(wait_finding "$OUT" '.processes[0].binary.path == "/opt/cdk_like"')
check "a known tool is still reported by the running rules" [ -n "$f" ]
rm -f "$D/broken.yar"

# a broken config: refused too
echo '{"project": ' >"$LIVE_DIR/conf.json"
hup
check "a broken config is refused (reload_failures=2)" wait_stat .rules.reload_failures 2
check "the refusal names the config file" grep -q 'conf.json' "$OUT.err"

# the good new rule and config
echo '{"project": "after-reload"}' >"$LIVE_DIR/conf.json"
cat >"$D/site.yar" <<'EOF'
rule site_reload_tool
{
	meta:
		tool = "reload_test_tool"
		tool_name = "Reload Test Tool"
		category = "container_escape"
		confidence = 90
	strings:
		$m = "cw-reload-test-marker-5b1e09"
	condition:
		$m
}
EOF
hup
check "the good rules take effect (generation 1, reloads 1)" \
	bash -c "$(declare -f stat_of wait_stat wait_jq); ST='$ST'; wait_stat .rules.generation 1 && [ \"\$(stat_of .rules.reloads)\" = 1 ]"
run_in /opt/rl_tool
f=$(wait_finding "$OUT" '.processes[0].binary.path == "/opt/rl_tool"')
check "the file judged clean before is a finding now (the kernel's known-clean mark went)" [ -n "$f" ]
got=$(jq -r '"\(.sourceProperties.Rule_Id) \(.resource.gcpMetadata.projectDisplayName)"' <<<"${f:-null}")
check "the finding names the new rule and carries the new config's project ($got)" \
	[ "$got" = "yara.site_reload_tool after-reload" ]
got=$(jq -r 'select(.processes[0].binary.path == "/opt/cdk_like" and .category == "Execution: Container Escape") | .resource.gcpMetadata.projectDisplayName' "$OUT")
check "the finding before the reload kept the old project ($got)" [ "$got" = before-reload ]
check "stats counters did not go backwards across the reload" \
	bash -c "[ \$(jq .cache.misses '$ST') -ge 1 ]"
check "the agent is still running" kill -0 "$AGENT_PID"
check "the agent stops cleanly" stop_agent

# --block: a file allowed under the old rules (and let through by the kernel
# since: an ignore mark) is refused after a reload whose rules know it
cp "$LIVE_DIR/rl_tool" "$R/opt/rl_block"
sed -i 's/cw-reload-test-marker-5b1e09/cw-reload-block-marker-77aa/' "$D/site.yar"
: >"$OUT.2"
check "agent starts with --block --rules" start_agent "$OUT.2" --block --rules "$D" --stats-file "$ST"
o=$(cexec cw-reload "$LIVE_DIR/x.pid" sh -c '/opt/rl_block; /opt/rl_block; echo "rc=$?"' 2>&1)
check "--block: the file is allowed under the first rules ($(tail -1 <<<"$o"))" grep -q 'rc=0' <<<"$o"
for i in $(seq 1 30); do [ "$(stat_of .block.clean_marks)" -ge 1 ] 2>/dev/null && break; sleep 0.1; done
check "--block: and marked clean for the kernel (clean_marks $(stat_of .block.clean_marks))" \
	[ "$(stat_of .block.clean_marks)" -ge 1 ]
sed -i 's/cw-reload-block-marker-77aa/cw-reload-test-marker-5b1e09/' "$D/site.yar"
hup
check "--block: reload takes effect" wait_stat .rules.generation 1
sleep 0.3 # the --block thread takes the new rules within one 200 ms wait
o=$(cexec cw-reload "$LIVE_DIR/x.pid" sh -c '/opt/rl_block; echo "rc=$?"' 2>&1)
check "--block: the same file is refused after the reload ($(tail -1 <<<"$o"))" grep -q 'rc=126' <<<"$o"
f=$(wait_finding "$OUT.2" '.sourceProperties.Blocked == true and .processes[0].binary.path == "/opt/rl_block"')
check "--block: the refusal is a finding of the new rule" \
	[ "$(jq -r .sourceProperties.Rule_Id <<<"${f:-null}")" = yara.site_reload_tool ]
[ -n "$f" ] || { # what there was instead
	jq -c 'select(.processes[0].binary.path == "/opt/rl_block") | [.category, .sourceProperties.Rule_Id, .sourceProperties.Blocked]' "$OUT.2" | sed 's/^/# /'
	grep -i "block\|rl_block" "$OUT.2.err" | tail -8 | sed 's/^/# /'
}
check "the --block agent stops cleanly" stop_agent
live_done
