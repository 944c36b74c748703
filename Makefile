# DongLpt — top-level entry points (wraps CMake). Every target installs the Debian
# packages it needs when they are missing, so a fresh Debian 12 machine needs nothing else.
#
#   make            build the checked (debug, DBG=1, verifier on) Linux home
#   make free       build the free (release) Linux home
#   make run        the main job: dongctl on the default simulated machine
#   make check      every test: checked build, Windows artifacts + PE checks, ASan+UBSan, TSan
#   make check-fast only the checked build's tests
#   make check-sanitize  ASan+UBSan and TSan test builds
#   make windows    donglpt.sys, dongctl.exe, donginst.exe, INF, .reg (mingw-w64)
#   make bench      benchmarks (figures against the protocol floor)
#   make fuzz       every libFuzzer target for FUZZ_TIME s (default 300), new finds merged into tests/fuzz/corpus

JOBS    ?= 2
BUILD   ?= build
CTEST   := ctest --output-on-failure -j$(JOBS)

BASE_PKGS    := cmake make gcc pkg-config libcmocka-dev libinih-dev libssl-dev
WINDOWS_PKGS := gcc-mingw-w64-x86-64 binutils-mingw-w64-x86-64
FUZZ_PKGS    := clang libclang-rt-14-dev

# install-if-missing: dpkg says "install ok installed" for each present package.
define need
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi
endef

.PHONY: all deps deps-windows deps-fuzz free run check check-fast check-sanitize check-asan check-tsan windows bench fuzz clean

all: deps
	cmake -S . -B $(BUILD)/checked -DCMAKE_BUILD_TYPE=Debug -DDONG_WINDOWS_DIR=$(CURDIR)/$(BUILD)/windows >/dev/null
	cmake --build $(BUILD)/checked -j$(JOBS)

deps:
	$(call need,$(BASE_PKGS))

deps-windows:
	$(call need,$(WINDOWS_PKGS))

deps-fuzz:
	$(call need,$(FUZZ_PKGS))

free: deps
	cmake -S . -B $(BUILD)/free -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD)/free -j$(JOBS)

run: all
	@echo '$$ dongctl ports'
	@$(BUILD)/checked/tools/dongctl ports
	@echo
	@echo '$$ dongctl info'
	@$(BUILD)/checked/tools/dongctl info

check-fast: deps-fuzz all
	cd $(BUILD)/checked && $(CTEST)

check: windows check-fast check-sanitize

check-asan: deps
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DDONG_SANITIZE=address,undefined >/dev/null
	cmake --build $(BUILD)/asan -j$(JOBS)
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $(CTEST) -LE no-sanitize

check-tsan: deps
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=Debug -DDONG_SANITIZE=thread >/dev/null
	cmake --build $(BUILD)/tsan -j$(JOBS)
	cd $(BUILD)/tsan && TSAN_OPTIONS="halt_on_error=1 die_after_fork=0" $(CTEST) -LE no-sanitize

check-sanitize: check-asan check-tsan

windows: deps deps-windows
	@if [ -f windows/CMakeLists.txt ]; then \
	  cmake -S windows -B $(BUILD)/windows -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/windows/toolchain-x86_64-w64-mingw32.cmake >/dev/null && \
	  cmake --build $(BUILD)/windows -j$(JOBS); \
	else echo "windows/: not built yet"; fi

bench: free
	@if [ -x $(BUILD)/free/bench/run-benchmarks ]; then $(BUILD)/free/bench/run-benchmarks; \
	else for b in $(BUILD)/free/bench/*; do [ -x "$$b" ] && [ -f "$$b" ] && "$$b"; done; fi

FUZZ_TIME ?= 300
fuzz: deps-fuzz all
	cd $(BUILD)/checked && FUZZ_SECONDS=$(FUZZ_TIME) FUZZ_MERGE=1 ctest --output-on-failure -L fuzz

clean:
	rm -rf $(BUILD)
