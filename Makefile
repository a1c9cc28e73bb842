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

# The speed targets, printed as a table (raw output kept in bench.out): the
# PID engine on a 100-neuron trivariate layer (20 and 100 bins, 1 and 2
# threads); a full MNIST epoch (training, then validation and test) of
# context, context-lateral and the backprop baseline on 1 and 2 cores, with
# the reference's training time over ours (ref_x); and an epoch of the
# paper's large network (2000 neurons, lateral fan-in 100) on 2 cores with
# its peak memory (peak_MB). About 2 minutes on an idle 2-core machine.
bench:
	{ $(GO) test -run '^$$' -bench 'BenchmarkLayer$$' -benchtime 20x ./pid/ && \
	  $(GO) test -run '^$$' -bench 'BenchmarkMNISTEpoch$$' -benchtime 3x -timeout 30m ./trainer/; } | tee bench.out | awk -f scripts/benchtable.awk
