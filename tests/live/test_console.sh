#!/bin/bash
# tests/live/test_console.sh - `cagewatch serve` on a store the real agent
# filled from real runc containers (one named <img src=x onerror=alert(2)>,
# one tool run with the argument <script>alert(1)</script>): headless Chromium
# through the list, the filter box, a finding's Summary, JSON and Related tabs
# and a state change (console_ui.py); the same pages and the API over HTTP:
# escaping, CSRF, the token, TLS, /healthz following the agent's liveness,
# /metrics. The Summary tab's screenshot is kept in build/test-artifacts/.
source "$(dirname "$0")/lib.sh"
live_init

for c in chromium chromedriver openssl curl; do
	command -v "$c" >/dev/null || { not_ok "$c missing (tests/deps.sh installs it)"; live_done; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { not_ok "python3-selenium missing"; live_done; }
jqt() { jq -e "$@" >/dev/null 2>&1; }
PORT=$((17000 + RANDOM % 2000))
BASE=http://127.0.0.1:$PORT
SERVE_PIDS=()
console_cleanup() {
	local p
	for p in "${SERVE_PIDS[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	live_cleanup
}
trap console_cleanup EXIT

# serve ARGS...: a console in the background; waits until it answers.
serve() {
	"$CAGEWATCH" serve --store "$LIVE_DIR/store.db" --stats-file "$LIVE_DIR/stats.json" "$@" \
		>>"$LIVE_DIR/serve.log" 2>&1 &
	SERVE_PIDS+=($!)
}
wait_http() {
	local i
	for i in $(seq 1 50); do curl -sk -o /dev/null "$1" && return 0; sleep 0.1; done
	return 1
}

# --- a store filled by the agent from real containers ---------------------------
start_agent "$LIVE_DIR/out.json" --stats-file "$LIVE_DIR/stats.json" || { not_ok "agent"; live_done; }
start_container cw-ui-a /cagewatch-test/cw-ui-a '{"io.kubernetes.cri.container-name": "<img src=x onerror=alert(2)>"}' ||
	not_ok "container cw-ui-a"
start_container cw-ui-b || not_ok "container cw-ui-b"
cexec cw-ui-a "$LIVE_DIR/p1" sh -c "cp /opt/harmless /tmp/botb-linux-amd64 && /tmp/botb-linux-amd64 -autopwn '<script>alert(1)</script>'"
cexec cw-ui-a "$LIVE_DIR/p2" sh -c 'cp /opt/harmless /tmp/amicontained && /tmp/amicontained' >/dev/null
cexec cw-ui-b "$LIVE_DIR/p3" sh -c 'cp /opt/harmless /tmp/botb-linux-amd64 && /tmp/botb-linux-amd64 -autopwn' >/dev/null
wait_finding "$LIVE_DIR/out.json" '.processes[0].args[2] == "<script>alert(1)</script>"' >/dev/null ||
	not_ok "the agent reported the tool with the script argument"
wait_finding "$LIVE_DIR/out.json" '.processes[0].binary.path == "/tmp/amicontained"' >/dev/null ||
	not_ok "the agent reported amicontained"
wait_finding "$LIVE_DIR/out.json" '.sourceProperties.Container_Id == "cw-ui-b"' >/dev/null ||
	not_ok "the agent reported the second container's tool"
sleep 0.3
S=(--store "$LIVE_DIR/store.db")
"$CAGEWATCH" findings list "${S[@]}" --format json >"$LIVE_DIR/all.json"
XSS=$(jq -r '[.[] | select(.processes[0].args[2] == "<script>alert(1)</script>")][0].name' "$LIVE_DIR/all.json")
XID=${XSS##*/}
"$CAGEWATCH" findings related "$XID" "${S[@]}" --format json >"$LIVE_DIR/rel.json"
jq -n --slurpfile a "$LIVE_DIR/all.json" --slurpfile r "$LIVE_DIR/rel.json" --arg x "$XID" \
	'{total: ($a[0] | length), escapes: ([$a[0][] | select(.category == "Execution: Container Escape")] | length),
	  related: ($r[0] | length), xss_id: $x}' >"$LIVE_DIR/expect.json"
check "store: three tool findings, one related to the first ($(jq -c . "$LIVE_DIR/expect.json"))" \
	jqt '.total >= 3 and .related >= 1' "$LIVE_DIR/expect.json"

serve --listen "127.0.0.1:$PORT"
wait_http "$BASE/findings" || { not_ok "serve did not answer"; cat "$LIVE_DIR/serve.log"; live_done; }

# --- headless Chromium ---------------------------------------------------------------
mkdir -p "$LIVE_ROOT/build/test-artifacts"
/usr/bin/python3 "$LIVE_ROOT/tests/live/console_ui.py" "$BASE" "$LIVE_DIR/expect.json" "$LIVE_DIR" \
	>"$LIVE_DIR/ui.txt" 2>&1
grep -E '^(not )?ok - ' "$LIVE_DIR/ui.txt" | while read -r l; do echo "$l"; done
T_PASSED=$((T_PASSED + $(grep -c '^ok - ' "$LIVE_DIR/ui.txt")))
T_FAILED=$((T_FAILED + $(grep -c '^not ok - ' "$LIVE_DIR/ui.txt")))
grep -q ' passed, ' "$LIVE_DIR/ui.txt" || { not_ok "the browser test did not finish"; sed 's/^/# /' "$LIVE_DIR/ui.txt" | tail -20; }
cp "$LIVE_DIR/summary.png" "$LIVE_ROOT/build/test-artifacts/console-summary.png" 2>/dev/null
check "a screenshot of the Summary tab is kept" test -s "$LIVE_ROOT/build/test-artifacts/console-summary.png"
check "the browser's state change is in the store" \
	bash -c "'$CAGEWATCH' findings show '$XID' --store '$LIVE_DIR/store.db' --json | jq -e '.state == \"INACTIVE\"' >/dev/null"

# --- the same over plain HTTP -------------------------------------------------------------
curl -s "$BASE/findings/$XID" >"$LIVE_DIR/page.html"
check "escaped in the HTML: &lt;script&gt;alert(1)&lt;/script&gt;, no live tag" \
	bash -c "grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' '$LIVE_DIR/page.html' && ! grep -q '<script>alert' '$LIVE_DIR/page.html' && ! grep -q '<img src=x' '$LIVE_DIR/page.html'"
check "strict Content-Security-Policy on every page" \
	bash -c "curl -sI '$BASE/findings' | grep -qi \"^content-security-policy: default-src 'none'\""
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/findings?filter=state%3D")
check "a bad filter is a 400 ($code)" [ "$code" = 400 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/findings/zzzz")
check "a bad id is a 400 ($code)" [ "$code" = 400 ]
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/findings/00000000")
check "an unknown id is a 404 ($code)" [ "$code" = 404 ]
# CSRF: a cross-site form post carries no cookie of ours; a forged one no matching token
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d state=ACTIVE "$BASE/findings/$XID/state")
check "CSRF: a POST without this client's token is refused ($code)" [ "$code" = 403 ]
curl -s -c "$LIVE_DIR/jar" -o /dev/null "$BASE/findings"
CS=$(awk '$6 == "cw_csrf" {print $7}' "$LIVE_DIR/jar")
code=$(curl -s -b "$LIVE_DIR/jar" -H 'Origin: http://evil.example' -o /dev/null -w '%{http_code}' \
	-X POST -d "state=ACTIVE&csrf=$CS" "$BASE/findings/$XID/state")
check "CSRF: a POST from another origin is refused ($code)" [ "$code" = 403 ]
code=$(curl -s -b "$LIVE_DIR/jar" -o /dev/null -w '%{http_code}' -X POST -d "state=ACTIVE&csrf=0000$CS" \
	"$BASE/findings/$XID/state")
check "CSRF: a wrong token is refused ($code)" [ "$code" = 403 ]
check "... and the finding is still INACTIVE" \
	bash -c "'$CAGEWATCH' findings show '$XID' --store '$LIVE_DIR/store.db' --json | jq -e '.state == \"INACTIVE\"' >/dev/null"

# --- the API --------------------------------------------------------------------------------
API=$BASE/v2/organizations/0/sources/-/locations/global/findings
curl -s "$API?pageSize=1&orderBy=event_time%20desc" >"$LIVE_DIR/api1.json"
check "API list: a ListFindingsResponse page with totalSize and nextPageToken" \
	jqt --slurpfile e "$LIVE_DIR/expect.json" '(.listFindingsResults | length) == 1 and .totalSize == $e[0].total
		and (.nextPageToken | type == "string") and .listFindingsResults[0].resource.name
		and (.listFindingsResults[0].finding.resource == null)' "$LIVE_DIR/api1.json"
tok=$(jq -r .nextPageToken "$LIVE_DIR/api1.json")
curl -s "$API?pageSize=1&orderBy=event_time%20desc&pageToken=$tok" >"$LIVE_DIR/api2.json"
check "API list: the next page is another finding" \
	jqt --slurpfile a "$LIVE_DIR/api1.json" '.listFindingsResults[0].finding.name != $a[0].listFindingsResults[0].finding.name' \
	"$LIVE_DIR/api2.json"
curl -s -G "$API" --data-urlencode 'filter=category="Execution: Container Escape" AND state="ACTIVE"' >"$LIVE_DIR/api3.json"
check "API list: SCC's filter language" \
	jqt '[.listFindingsResults[].finding | select(.category != "Execution: Container Escape" or .state != "ACTIVE")] == [] and .totalSize >= 1' \
	"$LIVE_DIR/api3.json"
code=$(curl -s -o "$LIVE_DIR/api4.json" -w '%{http_code}' -G "$API" --data-urlencode 'filter=state=')
check "API list: a bad filter is a 400 INVALID_ARGUMENT ($code)" \
	bash -c "[ $code = 400 ] && jq -e '.error.status == \"INVALID_ARGUMENT\"' '$LIVE_DIR/api4.json' >/dev/null"
curl -s "$BASE/v2/$XSS" >"$LIVE_DIR/get.json"
check "API get: /v2/{finding name}" jqt --arg n "$XSS" '.name == $n and .resource == null' "$LIVE_DIR/get.json"

# --- operations --------------------------------------------------------------------------
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")
check "healthz: 200 while the agent runs ($code)" [ "$code" = 200 ]
curl -s "$BASE/metrics" >"$LIVE_DIR/metrics.txt"
check "metrics: agent counters, findings by category, requests" \
	bash -c "grep -q '^cagewatch_up 1$' '$LIVE_DIR/metrics.txt' && grep -q '^cagewatch_kernel_execs_seen_total ' '$LIVE_DIR/metrics.txt' &&
		grep -q '^cagewatch_findings{category=\"Execution: Container Escape\",severity=\"HIGH\"} ' '$LIVE_DIR/metrics.txt' &&
		grep -q '^cagewatch_console_requests_total{code=\"2xx\"} ' '$LIVE_DIR/metrics.txt'"
kill -STOP "$AGENT_PID"
sleep 3.5
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/healthz")
check "healthz: 503 once a stopped agent's counters go stale ($code)" [ "$code" = 503 ]
"$CAGEWATCH" stats --stats-file "$LIVE_DIR/stats.json" >/dev/null 2>"$LIVE_DIR/stats.err"
rc=$?
check "stats: exits non-zero ($rc) and says the counters are stale" \
	bash -c "[ $rc -ne 0 ] && grep -q 'stopped or stuck' '$LIVE_DIR/stats.err'"
kill -CONT "$AGENT_PID"

# --- the token, other addresses, TLS --------------------------------------------------------
head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$LIVE_DIR/token"
"$CAGEWATCH" serve --store "$LIVE_DIR/store.db" --listen 0.0.0.0:$((PORT + 1)) >/dev/null 2>&1
rc=$?
check "any address but loopback needs a token (exit $rc)" [ $rc -eq 2 ]
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$LIVE_DIR/key.pem" -out "$LIVE_DIR/cert.pem" \
	-days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1
serve --listen "127.0.0.1:$((PORT + 2))" --token-file "$LIVE_DIR/token" --tls-cert "$LIVE_DIR/cert.pem" \
	--tls-key "$LIVE_DIR/key.pem"
TB=https://127.0.0.1:$((PORT + 2))
wait_http "$TB/findings" || not_ok "TLS console did not answer"
code=$(curl -sk -o /dev/null -w '%{http_code}' "$TB/findings/$XID")
check "with a token: reading needs none ($code, over TLS)" [ "$code" = 200 ]
curl -sk -c "$LIVE_DIR/jar2" -o /dev/null "$TB/findings"
CS2=$(awk '$6 == "cw_csrf" {print $7}' "$LIVE_DIR/jar2")
code=$(curl -sk -b "$LIVE_DIR/jar2" -o /dev/null -w '%{http_code}' -X POST -d "state=ACTIVE&csrf=$CS2" "$TB/findings/$XID/state")
check "with a token: a change without it is refused ($code)" [ "$code" = 401 ]
code=$(curl -sk -H "Authorization: Bearer $(cat "$LIVE_DIR/token")" -o /dev/null -w '%{http_code}' \
	-X POST -d state=ACTIVE "$TB/findings/$XID/state")
check "with a token: a change with Authorization: Bearer is made ($code)" [ "$code" = 303 ]
check "cookies are Secure over TLS" bash -c "curl -skI '$TB/findings' | grep -qi 'set-cookie: cw_csrf=.*Secure'"
live_done
