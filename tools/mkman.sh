#!/bin/bash
# tools/mkman.sh BINARY OUTDIR - the man pages, generated with help2man from the
# --help texts themselves (one source: a page can never disagree with --help):
# cagewatch(8), cagewatch-run(8), -serve(8), -stats(8), -trace(8), -doctor(8),
# cagewatch-findings(1), cagewatch-scan(1), cagewatch.conf(5) (from
# `cagewatch run --help-config`).
set -eu
bin=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
out=$2
ver=$("$bin" version | awk '{print $2}')
mkdir -p "$out" "$out/.bin"
# page NAME SECTION DESCRIPTION COMMAND...: a wrapper answering --help and --version
page() {
	local name=$1 sec=$2 desc=$3 w="$out/.bin/$1"
	shift 3
	printf '#!/bin/sh\n[ "$1" = --version ] && { echo "%s %s"; exit 0; }\nexec %s\n' \
		"$name" "$ver" "$*" >"$w"
	chmod +x "$w"
	help2man --no-info --no-discard-stderr --section="$sec" --name="$desc" \
		--source="cagewatch $ver" --manual="cagewatch" "$w" >"$out/$name.$sec"
}
page cagewatch 8 "runtime threat detector for Linux containers" "'$bin' --help"
page cagewatch-run 8 "run the agent: report and block known escape tools in containers" "'$bin' run --help"
page cagewatch-serve 8 "web console and SCC-shaped API over the findings" "'$bin' serve --help"
page cagewatch-stats 8 "the running agent's counters" "'$bin' stats --help"
page cagewatch-trace 8 "print every exec the sensor sees" "'$bin' trace --help"
page cagewatch-doctor 8 "whether this node can run the agent" "'$bin' doctor --help"
page cagewatch-findings 1 "review stored findings" "'$bin' findings --help"
page cagewatch-scan 1 "check files, directories or image roots for known tools" "'$bin' scan --help"
page cagewatch.conf 5 "cagewatch configuration file" "'$bin' run --help-config"
rm -rf "$out/.bin"
ls "$out"
