#!/bin/sh
# bench/store.sh - build bench/store_bench.c against build/libcw.a and run it.
# Arguments go to the benchmark: -n COUNT (default 1000000), -d DIR (temp dir),
# -k PATH (keep the store there, e.g. for bench/console.sh).
# Example: bench/store.sh -n 100000
set -eu
cd "$(dirname "$0")/.."
make build/libcw.a >/dev/null
PKGS="libbpf jansson sqlite3 yara libcrypto"
# shellcheck disable=SC2046
cc -O2 -g -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(make -s --no-print-directory print-includes) $(pkg-config --cflags $PKGS) \
	-o build/store_bench bench/store_bench.c build/libcw.a \
	$(pkg-config --libs $PKGS) -lelf -lz -lm -lpthread
exec ./build/store_bench "$@"
