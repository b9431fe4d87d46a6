# cagewatch build. `make` builds ./cagewatch; `make check` runs every test;
# `make check-sanitize` runs them against an ASan/UBSan build; `make bench`.
# Needs: clang (BPF), bpftool (vmlinux.h, skeleton), libbpf, jansson, sqlite3,
# yara, openssl (see `make deps`).

CC      ?= gcc
CLANG   ?= clang
BPFTOOL ?= $(shell command -v bpftool 2>/dev/null || echo /usr/sbin/bpftool)
ARCH    := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

SANITIZE ?= 0
FUZZ    ?= 0
ifeq ($(FUZZ),1)
# libFuzzer harnesses (tests/fuzz): the library built by clang with ASan/UBSan
OUT     := build-fuzz
CC      := clang
SANFLAGS := -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
else ifeq ($(SANITIZE),1)
OUT     := build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OUT     := build
SANFLAGS :=
endif

PKGS    := libbpf jansson sqlite3 yara libcrypto libseccomp libcap libmicrohttpd libsystemd libcurl libnats libpq
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wno-missing-field-initializers \
	   -I$(OUT) $(INCLUDES) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -ljansson -lsqlite3 -lyara -lcrypto -lseccomp -lcap -lmicrohttpd -lsystemd -lcurl -lnats -lpq) -lelf -lz -lm -lpthread
LDFLAGS += $(SANFLAGS)

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
BPF_OBJS := $(patsubst src/bpf/%.bpf.c,$(OUT)/%.bpf.o,$(BPF_SRCS))
SKELS    := $(patsubst src/bpf/%.bpf.c,$(OUT)/%.skel.h,$(BPF_SRCS))

# src/<stage>/ folders (see src/README.md); every folder is on the include
# path, objects land flat in $(OUT) (file names are unique across folders).
SRC_DIRS := $(patsubst %/,%,$(filter-out src/bpf/,$(wildcard src/*/)))
INCLUDES := $(addprefix -I,$(SRC_DIRS) src/bpf)
SRCS     := $(wildcard $(addsuffix /*.c,$(SRC_DIRS)))
OBJS     := $(addprefix $(OUT)/,$(notdir $(SRCS:.c=.o))) $(OUT)/embed.o
vpath %.c $(SRC_DIRS)
LIB_OBJS := $(filter-out $(OUT)/main.o,$(OBJS))
TESTS    := $(patsubst tests/unit/%.c,$(OUT)/%,$(wildcard tests/unit/test_*.c))
RULES    := $(wildcard rules/*)

# Generated headers and BPF objects are kept once made (not intermediates).
.PRECIOUS: $(OUT)/%.bpf.o $(OUT)/%.skel.h $(OUT)/vmlinux.h
.PHONY: man install deb check-valgrind run all clean check check-sanitize unit format format-check deps bench \
	fuzz fuzzers lint print-includes print-libs
all: cagewatch

ifeq ($(SANITIZE),1)
all: $(OUT)/cagewatch
endif

cagewatch: $(OUT)/cagewatch
	@if [ "$(OUT)" = build ]; then cp $< $@.tmp && mv $@.tmp $@; fi

$(OUT)/cagewatch: $(OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(OUT):
	mkdir -p $(OUT)

$(OUT)/vmlinux.h: | $(OUT)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

# Header dependencies come from the compilers (-MMD -MP: each object's .d).
DEPFLAGS = -MMD -MP -MF $(@:.o=.d)

$(OUT)/%.bpf.o: src/bpf/%.bpf.c $(OUT)/vmlinux.h | $(OUT)
	$(CLANG) -g -O2 -Wall -Werror -target bpf -D__BPF__ -D__TARGET_ARCH_$(ARCH) \
		-I$(OUT) $(INCLUDES) $(DEPFLAGS) -c $< -o $@

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@.tmp && mv $@.tmp $@

# Every skeleton exists before the first compile; after that the .d files say
# which object needs which.
$(OUT)/%.o: %.c | $(OUT) $(SKELS)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c $< -o $@

# embed.S holds every embedded data file (rules/)
$(OUT)/embed.o: src/lib/embed.S $(RULES) $(wildcard rules/yara/*) | $(OUT)
	$(CC) -c $< -o $@ -Wa,-I.

$(OUT)/libcw.a: $(LIB_OBJS)
	rm -f $@ && ar rcs $@ $^

# Fixtures shared by unit tests (tests/unit/fixture_*.c), an archive: each
# test links only the ones it uses.
FIXTURE_OBJS := $(patsubst tests/unit/%.c,$(OUT)/%.o,$(wildcard tests/unit/fixture_*.c))
$(OUT)/fixture_%.o: tests/unit/fixture_%.c | $(OUT)
	$(CC) $(CFLAGS) -MMD -MP -Itests/unit -c $< -o $@

$(OUT)/libfixture.a: $(FIXTURE_OBJS)
	rm -f $@ && ar rcs $@ $^

$(OUT)/test_%: tests/unit/test_%.c $(OUT)/libfixture.a $(OUT)/libcw.a
	$(CC) $(CFLAGS) -MMD -MP -MF $@.d -Itests/unit -o $@ $< $(OUT)/libfixture.a $(OUT)/libcw.a \
		$(LDFLAGS) $(LDLIBS)

unit: $(TESTS)

# Fuzzing: `make fuzz` builds every tests/fuzz/fuzz_*.c harness and runs each for
# FUZZ_SECONDS (default 60) from its seed corpus tests/fuzz/corpus/<name>/.
FUZZERS  := $(patsubst tests/fuzz/fuzz_%.c,$(OUT)/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_SECONDS ?= 60

$(OUT)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(OUT)/libcw.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer -Itests/fuzz -o $@ $< $(OUT)/libcw.a $(LDFLAGS) $(LDLIBS)

fuzzers: $(FUZZERS)

fuzz:
	@$(MAKE) -s --no-print-directory FUZZ=1 fuzzers
	./tests/fuzz/run $(FUZZ_SECONDS)

# The test command README.md names: installs what the tests need, builds, runs all.
check:
	./tests/run

check-sanitize:
	SANITIZE=1 ./tests/run

deps:
	./tests/deps.sh

bench: cagewatch
	./bench/run

FORMAT_FILES = $(wildcard src/*/*.c src/*/*.h tests/unit/*.c tests/unit/*.h \
	tests/fuzz/*.c tests/fuzz/*.h tests/live/*.c tests/fixtures/lookalikes/*.c \
	tests/fixtures/lookalikes/*.h bench/*.c)

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run -Werror $(FORMAT_FILES)

# Static analysis: cppcheck and clang-tidy (.clang-tidy: bug-finding checks and
# the 80-line function limit) over the C sources, clang-tidy's function-size
# check over the BPF programs too. Generated skeletons are system headers here.
# The generated skeletons are read through copies wrapped in NOLINTBEGIN/END:
# bpftool's code is not ours to fix (the analyzer cannot follow its frees).
LINT_INC = $(OUT)/lint-include
LINT_CFLAGS = -std=c11 -D_GNU_SOURCE $(INCLUDES) -I$(LINT_INC) -isystem $(OUT) $(shell pkg-config --cflags-only-I libpq 2>/dev/null)
BPF_LINT_CFLAGS = --target=bpf -D__BPF__ -D__TARGET_ARCH_$(ARCH) $(INCLUDES) -isystem $(OUT)

$(LINT_INC)/%.skel.h: $(OUT)/%.skel.h
	@mkdir -p $(LINT_INC)
	{ echo '// NOLINTBEGIN'; cat $<; echo '// NOLINTEND'; } >$@

lint: $(patsubst $(OUT)/%,$(LINT_INC)/%,$(SKELS))
	cppcheck -q --std=c11 --enable=warning,performance,portability --error-exitcode=1 \
		--inline-suppr -D_GNU_SOURCE $(INCLUDES) --suppress=missingIncludeSystem $(SRCS)
	printf '%s\n' $(SRCS) | xargs -P "$$(nproc)" -n 4 \
		sh -c 'clang-tidy -quiet "$$@" -- $(LINT_CFLAGS)' clang-tidy
	printf '%s\n' $(BPF_SRCS) | xargs -P "$$(nproc)" -n 1 \
		sh -c 'clang-tidy -quiet --checks="-*,readability-function-size" "$$@" -- \
			$(BPF_LINT_CFLAGS)' clang-tidy

# The include flags for code built outside this Makefile (tests, bench).
print-includes:
	@echo $(addprefix -I$(CURDIR)/,$(SRC_DIRS) src/bpf) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# The libraries libcw.a needs, for the same.
print-libs:
	@echo $(LDLIBS)

clean:
	rm -rf build build-san build-fuzz cagewatch

# Quick start: install dependencies, build, run the agent on embedded defaults.
# stdout carries only findings (one JSON line each); everything else goes to stderr.
# Man pages from the --help texts (help2man): build/man/.
man: $(OUT)/cagewatch
	./tools/mkman.sh $(OUT)/cagewatch $(OUT)/man

# `make install DESTDIR=...`: the layout of the Debian package (Debian policy):
# the agent in /usr/sbin, the shipped rules (the text the binary embeds, to
# copy and adapt) in /usr/share/cagewatch, config in /etc/cagewatch, the unit,
# man pages and bash completion. State (/var/lib/cagewatch) and runtime
# (/run/cagewatch) directories are made by the package and the unit.
PREFIX ?= /usr
install: $(OUT)/cagewatch man
	install -D -m 0755 $(OUT)/cagewatch $(DESTDIR)$(PREFIX)/sbin/cagewatch
	install -d $(DESTDIR)$(PREFIX)/share/cagewatch/yara $(DESTDIR)/etc/cagewatch/rules.d
	install -m 0644 rules/catalogue.json rules/techniques.json $(DESTDIR)$(PREFIX)/share/cagewatch/
	install -m 0644 rules/yara/*.yar $(DESTDIR)$(PREFIX)/share/cagewatch/yara/
	install -D -m 0644 deploy/config/config.json $(DESTDIR)/etc/cagewatch/config.json
	install -D -m 0644 deploy/systemd/cagewatch.service $(DESTDIR)/lib/systemd/system/cagewatch.service
	install -D -m 0644 contrib/bash-completion/cagewatch \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/cagewatch
	for p in $(OUT)/man/*.[158]; do \
		s=$${p##*.}; install -D -m 0644 $$p $(DESTDIR)$(PREFIX)/share/man/man$$s/$${p##*/}; \
	done

# `make deb`: the Debian package in $(OUT)/ (tools/mkdeb.sh: built from a
# copy of the tracked sources with dpkg-buildpackage; debhelper, lintian).
deb:
	./tools/mkdeb.sh $(OUT)

# The agent, with the web console beside it (127.0.0.1:7611) while it runs.
run:
	@./tests/deps.sh >&2
	@$(MAKE) -s --no-print-directory cagewatch >&2
	@./cagewatch serve $(SERVE_ARGS) & sp=$$!; ./cagewatch run $(ARGS); rc=$$?; \
		kill $$sp 2>/dev/null; wait $$sp 2>/dev/null; exit $$rc

-include $(wildcard $(OUT)/*.d)

# Unit tests under valgrind (memcheck, leaks are errors).
check-valgrind: unit
	@set -e; for t in $(TESTS); do echo "== valgrind $$t"; \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
			--suppressions=tests/valgrind.supp \
			$$t >$$t.valgrind.log 2>&1 || { cat $$t.valgrind.log; exit 1; }; \
		tail -1 $$t.valgrind.log; done

