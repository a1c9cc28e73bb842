#!/usr/bin/env bash
# The real half of the unit-norm experiment: short CMA-ES searches on MNIST
# (context-lateral, 2 epochs per trial, 24 trials, 2 workers), with and
# without --unit-norm, two study seeds each; prints each study's status.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/goalsearch ./cmd/goalsearch
db=${1:-$(mktemp -d)/unitnorm_real.db}
for seed in 1 2; do
	for un in false true; do
		bin/goalsearch search --study "cl-unitnorm-$un-$seed" --store "$db" --setup context-lateral --sampler cmaes \
			--trials 24 --epochs 2 --workers 2 --seed "$seed" --unit-norm="$un" >/dev/null 2>&1
	done
done
bin/goalsearch status --store "$db"
bin/goalsearch status --store "$db" --json | grep -E '"name"|"best_value"'
