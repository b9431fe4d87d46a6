#!/bin/bash
# bench/console.sh [-n COUNT] - requests/s and latency of `cagewatch serve`'s
# list API on a store of COUNT findings (default 100,000, made by
# bench/store_bench.c): a filtered page of 50 (category and state, newest
# first), one client for latency percentiles, four for throughput; plus the
# Findings page (HTML) the same way. Prints a markdown table.
set -eu
cd "$(dirname "$0")/.."
N=100000
[ "${1:-}" = -n ] && N=$2
make -s build/cagewatch >/dev/null
work=$(mktemp -d /tmp/cagewatch-console-bench.XXXXXX)
trap 'kill $SP 2>/dev/null; rm -rf "$work"' EXIT
bench/store.sh -n "$N" -k "$work/findings.db" >/dev/null
PORT=$((19000 + RANDOM % 1000))
./build/cagewatch serve --store "$work/findings.db" --listen "127.0.0.1:$PORT" \
	--stats-file "$work/none.json" --rate-limit 0 2>"$work/serve.log" &
SP=$!
for i in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$PORT/healthz" && break; sleep 0.1; done
/usr/bin/python3 - "$PORT" "$N" <<'PY'
import http.client, statistics, sys, threading, time, urllib.parse
port, n = int(sys.argv[1]), int(sys.argv[2])
q = urllib.parse.urlencode({"filter": 'category="Execution: Container Escape" AND state="ACTIVE"',
                            "orderBy": "event_time desc", "pageSize": "50"})
paths = {"API list, filtered page of 50": "/v2/organizations/0/sources/-/locations/global/findings?" + q,
         "Findings page (HTML), filtered page of 50": "/findings?" + q}
def run(path, count, lat):
    c = http.client.HTTPConnection("127.0.0.1", port)
    for _ in range(count):
        t = time.perf_counter()
        c.request("GET", path)
        r = c.getresponse()
        r.read()
        assert r.status == 200, r.status
        lat.append((time.perf_counter() - t) * 1000)
print("| request (%d findings in the store) | clients | requests/s | p50 ms | p99 ms |" % n)
print("|---|---|---|---|---|")
for label, path in paths.items():
    lat = []
    run(path, 20, [])
    t = time.perf_counter(); run(path, 500, lat); el = time.perf_counter() - t
    lat.sort()
    print("| %s | 1 | %.0f | %.2f | %.2f |" % (label, 500 / el, statistics.median(lat), lat[int(len(lat) * 0.99) - 1]))
    lats = [[] for _ in range(4)]
    th = [threading.Thread(target=run, args=(path, 250, lats[i])) for i in range(4)]
    t = time.perf_counter(); [x.start() for x in th]; [x.join() for x in th]; el = time.perf_counter() - t
    allat = sorted(sum(lats, []))
    print("| %s | 4 | %.0f | %.2f | %.2f |" % (label, 1000 / el, statistics.median(allat), allat[int(len(allat) * 0.99) - 1]))
PY
