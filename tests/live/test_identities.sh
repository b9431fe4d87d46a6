#!/bin/bash
# tests/live/test_identities.sh - no known tool in the catalogue is name-only: every
# tool's content identity (tests/fixtures/lookalikes/identities.tsv) is found
# in a look-alike with a meaningless name, by `cagewatch scan` and when it is
# run as the quick-exit PID 1 of its own runc container (shell scripts run as
# `sh /tmp/prog-...`). The most specific tool wins: linPEAS embedding
# amicontained's module path is linPEAS.
source "$(dirname "$0")/lib.sh"
live_init

FIX=$LIVE_ROOT/tests/fixtures/lookalikes
D=$LIVE_DIR/ids
OUT=$LIVE_DIR/ids.json
mkdir -p "$D"
tools=()
kinds=()
n=0
while IFS=$'\t' read -r tool kind text; do
	[ -z "$tool" ] || [ "${tool:0:1}" = "#" ] && continue
	n=$((n + 1))
	f=$(printf '%s/item-%02d' "$D" "$n")
	if [ "$kind" = elf ]; then
		lit=$(jq -Rn --arg t "$text" '$t')
		cc -O2 -static "-DIDENT=$lit" -o "$f" "$FIX/ident_like.c" || not_ok "build the $tool look-alike"
	else
		printf '#!/bin/sh\n# %s\nexit 0\n' "$text" >"$f"
		chmod +x "$f"
	fi
	tools+=("$tool")
	kinds+=("$kind")
done <"$FIX/identities.tsv"
# the known tools (the three tool categories); the command-line detectors
# (compilers, sudo CVE arguments, ...: docs/detectors.md) are names and
# arguments by definition
catalogue=$(jq -r '.tools[] | select(.category | IN("container_escape", "kubernetes_attack_tool", "local_recon")) | .id' "$LIVE_ROOT/rules/catalogue.json" | sort)
check "identities.tsv lists every catalogue tool" \
	[ "$(printf '%s\n' "${tools[@]}" | sort)" = "$catalogue" ]

"$CAGEWATCH" scan "$D" --format json >"$LIVE_DIR/scan.json" 2>"$LIVE_DIR/scan.err"
bad=0
for i in $(seq 1 "$n"); do
	f=$(printf '%s/item-%02d' "$D" "$i")
	got=$(jq -r --arg p "$f" 'select(.path == $p and .matchedOn == "content") | .tool' "$LIVE_DIR/scan.json" | head -1)
	[ "$got" = "${tools[$((i - 1))]}" ] || { bad=$((bad + 1)); echo "# scan: $f (${tools[$((i - 1))]}) gave '${got}'"; }
done
check "scan: every tool found by content under a meaningless name ($bad wrong)" [ "$bad" -eq 0 ]

start_agent "$OUT" || { not_ok "agent starts"; live_done; }
for i in $(seq 1 "$n"); do
	f=$(printf '%s/item-%02d' "$D" "$i")
	b=$(pid1_bundle "cw-id$i" "$f")
	if [ "${kinds[$((i - 1))]}" = sh ]; then
		jq --arg p "/tmp/prog-cw-id$i" '.process.args=["/bin/sh", $p]' "$b/config.json" >"$b/c.new" &&
			mv "$b/c.new" "$b/config.json"
	fi
	runc run --bundle "$b" "cw-id$i" </dev/null >/dev/null 2>&1 || echo "# runc run cw-id$i: $?"
done
bad=0
for i in $(seq 1 "$n"); do
	want=${tools[$((i - 1))]}
	got=$(wait_finding "$OUT" ".sourceProperties.Container_Id == \"cw-id$i\"" | jq -r '.sourceProperties.Tool_Id')
	[ "$got" = "$want" ] || { bad=$((bad + 1)); echo "# run: cw-id$i ($want) gave '${got}'"; }
done
check "run as quick-exit PID 1: every tool named by its content ($bad wrong)" [ "$bad" -eq 0 ]
live_done
