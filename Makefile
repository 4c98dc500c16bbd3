# spoofex: `make run` and `make test` are the two commands a newcomer needs.
BUILD      ?= build
BUILD_SAN  ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_OPTS ?=
DB         ?= sqlite:spoofex.db

.PHONY: all setup build build-asan run demo test format format-check bench model clean

all: build

setup:
	@scripts/setup

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_OPTS)

build: setup $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_SAN)/Makefile:
	cmake -S . -B $(BUILD_SAN) -DCMAKE_BUILD_TYPE=Debug -DSPOOFEX_SANITIZE=ON -DSPOOFEX_BENCH=OFF $(CMAKE_OPTS)

build-asan: setup $(BUILD_SAN)/Makefile
	cmake --build $(BUILD_SAN) -j $(JOBS)

# The main job: the live server on SQLite, with sample calls to place against it.
run: build model
	@DB=$(DB) scripts/run $(BUILD)/spoofex

# The offline demonstration: screening sample callers and analysing recorded calls.
demo: build model
	@DB=$(DB) scripts/demo $(BUILD)/spoofex

# Everything CI checks: formatting, then the release build's and the sanitizer build's
# tests, against SQLite and a throwaway PostgreSQL cluster.
test: setup format-check build build-asan
	scripts/with-postgres sh -c '\
	  cd $(BUILD) && ctest --output-on-failure -j $(JOBS) && cd $(CURDIR)/$(BUILD_SAN) && \
	  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)'

# The telephone-adapted speech model and the domain LM (about a minute; see scripts/adapt-model).
model: build
	@[ -f $(BUILD)/model/mllr_matrix ] && [ -f $(BUILD)/model/spoofex.dict ] || \
	  scripts/adapt-model $(BUILD)/spoofex $(BUILD)/model

bench: build
	$(BUILD)/screen_bench
	$(BUILD)/audio_bench
	$(BUILD)/triage_bench
	$(BUILD)/speech_bench
	scripts/with-postgres $(BUILD)/store_bench
	scripts/bench-serve $(BUILD)

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

format-check:
	@git ls-files '*.cc' '*.h' | xargs clang-format --dry-run -Werror

clean:
	rm -rf $(BUILD) $(BUILD_SAN)
