#!/bin/bash
# tests/live/test_sweep.sh - what a killed test run leaves behind does not fail
# the next one: tests/sweep.sh removes an earlier run's runc containers and
# processes and keeps the current run's. The bug it pins down: a run killed
# mid-suite left its stopped containers under their fixed names, and the next
# run's `runc run` of the same names failed ("container with given ID already
# exists"), failing 21 checks that had nothing wrong.
. "$(dirname "$0")/lib.sh"
live_init

# an earlier run, killed: its directory, a container and an agent-like process
OLD=$(mktemp -d /tmp/cagewatch-live.XXXXXX)
keep_old() { rm -rf "$OLD"; live_cleanup; }
trap keep_old EXIT
LIVE_BUNDLES=$OLD/bundles start_container cw-sweep
check "an earlier run's container is there" bash -c "runc state cw-sweep >/dev/null"
(exec -a "cagewatch-run --pidfile $OLD/agent.pid" sleep 600) &
OLDP=$!
disown "$OLDP"
start_container cw-sweep-own || not_ok "this run's container starts"

out=$("$LIVE_ROOT/tests/sweep.sh" "$LIVE_DIR")
sed 's/^/# /' <<<"$out"
check "the earlier run's container is gone" bash -c '! runc state cw-sweep >/dev/null 2>&1'
sleep 0.2
check "the earlier run's process is gone" bash -c "! kill -0 $OLDP 2>/dev/null"
check "this run's container stays" bash -c "runc state cw-sweep-own | jq -e '.status == \"running\"' >/dev/null"
check "the sweep counts what it removed (2)" grep -qx 'swept 2' <<<"$out"
check "a container of the earlier run's name starts again" start_container cw-sweep
out=$("$LIVE_ROOT/tests/sweep.sh" "$LIVE_DIR")
check "a second sweep finds nothing of this run's" grep -qx 'swept 0' <<<"$out"
live_done
