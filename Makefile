# KernelCheck: the two commands a fresh machine needs.
#   make verify   install what is missing, then verify every golden fixture (release build)
#   make test     install what is missing, then run the test suite (swift test)
.PHONY: deps verify test bench check nightly format

deps:
	@bash tools/install-deps.sh

verify: deps
	swift run -c release kernelcheck verify

test: deps
	swift test

bench: deps
	swift run -c release kernelcheck bench

check: deps
	swift run -c release kernelcheck check --cases 2000

nightly: deps
	swift run -c release kernelcheck nightly --out nightly-out --budget 15m

format:
	swift format format --in-place --recursive --parallel Sources Tests Package.swift
