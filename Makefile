# linesec: the two entry points work on a fresh Debian machine.
#   make demo   install what is missing, build, run the main job
#   make test   install what is missing, build, run every test (plain, ASan+UBSan, fuzz)
.PHONY: all bootstrap build demo test bench clean

JOBS ?= $(shell nproc)

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j$(JOBS) >/dev/null

demo: build
	@scripts/demo build/linesec

test: bootstrap
	@scripts/test

bench: build
	@scripts/bench build

clean:
	rm -rf build build-asan build-fuzz
