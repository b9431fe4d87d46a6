#!/bin/bash
# tests/trigger.sh - safely trigger a test "Execution: Container Escape" finding:
# starts a throwaway runc container (busybox-static rootfs), copies a harmless
# binary to a known escape tool's name (botb-linux-amd64) and runs it with the
# tool's usual argument, as Google's detector test does. Nothing escapes.
# Run it as root while `cagewatch run` is running in another terminal.
set -eu
[ "$(id -u)" = 0 ] || { echo "trigger.sh: run as root (runc needs it)" >&2; exit 2; }
command -v runc >/dev/null && [ -x /bin/busybox ] || {
	echo "trigger.sh: needs runc and busybox-static: apt-get install runc busybox-static" >&2
	exit 2
}
dir=$(mktemp -d /tmp/cagewatch-trigger.XXXXXX)
id=cagewatch-trigger-$$
trap 'runc delete -f "$id" >/dev/null 2>&1; rm -rf "$dir"' EXIT
mkdir -p "$dir/rootfs/bin" "$dir/rootfs/tmp" "$dir/rootfs/proc" "$dir/rootfs/dev"
cp /bin/busybox "$dir/rootfs/bin/busybox"
ln -s busybox "$dir/rootfs/bin/sh"
ln -s busybox "$dir/rootfs/bin/cp"
cd "$dir"
runc spec
sed -i 's/"terminal": true/"terminal": false/; s/"readonly": true/"readonly": false/' config.json
sed -i 's|"sh"$|"sh", "-c", "cp /bin/busybox /tmp/botb-linux-amd64 \&\& /tmp/botb-linux-amd64 -autopwn 2>/dev/null; true"|' config.json
runc run --bundle "$dir" "$id" </dev/null || true
echo "trigger.sh: ran /tmp/botb-linux-amd64 -autopwn in runc container $id" >&2
