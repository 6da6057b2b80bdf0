# cpsd: `make test` and `make quickstart` work on a fresh Debian 12 machine.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=Release

.PHONY: all deps configure build test test-asan fuzz quickstart demo demo-backbone install clean format format-check lint

all: build

deps:
	scripts/install-deps.sh

configure: deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS)

# The suite built with AddressSanitizer and UndefinedBehaviorSanitizer (its own build tree);
# ASAN_TESTS, a ctest regular expression, runs only the tests it matches.
# Test discovery runs the binaries at build time, so the build sees the same options.
ASAN_DIR ?= $(BUILD_DIR)-asan
SANITIZER_ENV = ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:check_initialization_order=1 \
  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
test-asan: deps
	cmake -S . -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Release -DCPSD_SANITIZE=address,undefined
	$(SANITIZER_ENV) cmake --build $(ASAN_DIR) -j $(JOBS)
	$(SANITIZER_ENV) ctest --test-dir $(ASAN_DIR) --output-on-failure -j $(JOBS) $(if $(ASAN_TESTS),-R '$(ASAN_TESTS)')

# libFuzzer on every file parser, FUZZ_SECONDS each (clang; build-fuzz/); see bench/fuzz.sh.
FUZZ_SECONDS ?= 600
fuzz: deps
	bench/fuzz.sh $(FUZZ_SECONDS)

CPSD = $(BUILD_DIR)/bin/cpsd
DEMO_CONFIG = configs/demo/fashion_scenes.toml
PRETRAIN_CONFIG = configs/demo/pretrain_fashion_items.toml
RUN_DIR ?= runs/quickstart

# The demo: make fashion-scenes once, check it, then the baseline and CPSD from the demo
# backbone shipped in configs/demo/weights/ (pretrained on fashion-items; `make demo-backbone`).
# `make demo` runs the same on a build made elsewhere (scripts/bundle/build.sh):
# FASHION_MNIST is where Fashion-MNIST lies, DEMO_SET more `--set key=value` overrides.
quickstart: build
	@$(MAKE) --no-print-directory demo

FASHION_MNIST ?=
DEMO_SET ?=
demo:
	$(CPSD) plugins
	@test -f data/fashion-scenes/design.json || $(CPSD) data make-fashion-scenes --out data/fashion-scenes \
	  $(if $(FASHION_MNIST),--fashion-mnist $(FASHION_MNIST))
	@mkdir -p $(RUN_DIR)
	$(CPSD) data check --config $(DEMO_CONFIG) --check-split both > $(RUN_DIR)/data-check.txt || \
	  { cat $(RUN_DIR)/data-check.txt; exit 1; }
	$(CPSD) run $(DEMO_CONFIG) $(DEMO_SET)

# Makes the shipped demo backbone again: fashion-items, then single-label pretraining.
demo-backbone: build
	@test -f data/fashion-items/items.json || $(CPSD) data make-fashion-items --out data/fashion-items
	$(CPSD) pretrain --config $(PRETRAIN_CONFIG) --force --fresh

# Code style: the tree follows .clang-format (Debian's clang-format 14); CI runs format-check.
SOURCES = $(shell git ls-files '*.cpp' '*.h')
format: deps
	clang-format-14 -i $(SOURCES)
format-check: deps
	@clang-format-14 --dry-run --Werror $(SOURCES) && echo "format-check: $(words $(SOURCES)) files follow .clang-format"

# The bug-prone checks of .clang-tidy over the project's sources (LINT_FILES narrows it).
LINT_DIR = $(BUILD_DIR)-lint
LINT_FILES ?= $(shell git ls-files 'core/*.cpp' 'plugins/*.cpp' 'apps/*.cpp' 'sdk/*.cpp' | grep -v '^sdk/examples')
lint: deps
	cmake -S . -B $(LINT_DIR) -DCMAKE_BUILD_TYPE=Release -DCPSD_USE_PCH=OFF -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
	run-clang-tidy-14 -quiet -p $(LINT_DIR) -j $(JOBS) $(LINT_FILES)

install: build
	cmake --install $(BUILD_DIR) $(if $(PREFIX),--prefix $(PREFIX),)

clean:
	rm -rf $(BUILD_DIR)
