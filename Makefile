# goalsearch: the commands a developer and CI run.
GO ?= go
PKGS := ./...

.PHONY: build test lint bench

build:
	$(GO) build -o bin/goalsearch ./cmd/goalsearch

# The README's test command, run by .ci/run: formatting, vet, and every test
# under the race detector (the engines run goroutines).
test: lint
	$(GO) test -race -count=1 $(PKGS)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Benchmarks, printed as a table (raw output kept in bench.out).
BENCH ?= .
BENCHTIME ?= 20x
bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) ./pid/ | tee bench.out | awk -f scripts/benchtable.awk
