#!/bin/sh
# scan.sh - builds bench/scan_bench.c against build/libcw.a and runs it: scan
# throughput (cold cache) and verdict cache hit rate on an exec-like storm.
# Usage: bench/scan.sh [FILE|DIR...]   (default: /usr/bin). Run from anywhere.
set -eu
cd "$(dirname "$0")/.."
make -s build/libcw.a
PKGS="libbpf jansson sqlite3 yara libcrypto"
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror $(make -s --no-print-directory print-includes) -Ibuild \
	$(pkg-config --cflags $PKGS 2>/dev/null) \
	-o build/scan_bench bench/scan_bench.c build/libcw.a \
	$(pkg-config --libs $PKGS 2>/dev/null || echo -lbpf -ljansson -lsqlite3 -lyara -lcrypto) \
	-lelf -lz -lm -lpthread
exec ./build/scan_bench "$@"
