#!/bin/bash
# tools/mkdeb.sh OUTDIR - builds the Debian package (debian/, debhelper) from
# a copy of the tracked sources, so the working tree and its build/ stay as
# they are; the .deb and its .buildinfo/.changes land in OUTDIR.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mkdir -p "$1" && cd "$1" && pwd)
ver=$(sed -n '1s/^cagewatch (\([^)]*\)).*/\1/p' "$root/debian/changelog")
work=$(mktemp -d /tmp/cagewatch-deb.XXXXXX)
trap 'rm -rf "$work"' EXIT
src=$work/cagewatch-$ver
mkdir -p "$src"
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
	# tracked files and new ones not ignored: what a commit of this tree holds
	(cd "$root" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -I{} sh -c '[ -e "{}" ] && cp --parents -a "{}" "$0"' "$src")
else
	(cd "$root" && tar --exclude=./build --exclude=./build-san --exclude=./build-fuzz -cf - .) |
		(cd "$src" && tar -xf -)
fi
(cd "$src" && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u OUT -u SANITIZE dpkg-buildpackage -b -us -uc >"$work/build.log" 2>&1) ||
	{ tail -40 "$work/build.log" >&2; echo "mkdeb: dpkg-buildpackage failed" >&2; exit 1; }
cp "$work"/cagewatch_"$ver"_*.deb "$work"/cagewatch_"$ver"_*.buildinfo "$work"/cagewatch_"$ver"_*.changes "$out"/
ls "$out"/cagewatch_"$ver"_*.deb
