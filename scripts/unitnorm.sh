#!/usr/bin/env bash
# The unit-norm experiment of issue 4: CMA-ES with and without --unit-norm on
# the scale-invariant synthetic setup 'direction' (19 weights, like the
# trivariate goal) and on sphere, over 10 study seeds, 300 trials each.
# Prints the mean best value (-f, higher is better) per variant.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/goalsearch ./cmd/goalsearch
db=$(mktemp -d)/unitnorm.db
for setup in direction sphere; do
	for un in false true; do
		sum=0
		for seed in $(seq 1 10); do
			v=$(bin/goalsearch search --study "$setup-$un-$seed" --store "$db" --setup "$setup" --dim 19 \
				--sampler cmaes --trials 300 --workers 4 --seed "$seed" --unit-norm="$un" --json 2>/dev/null |
				sed -n 's/.*"best_value": \(.*\),/\1/p')
			sum=$(awk -v a="$sum" -v b="$v" 'BEGIN{print a+b}')
		done
		echo "$setup unit-norm=$un mean best value over 10 seeds: $(awk -v a="$sum" 'BEGIN{printf "%.5f", a/10}')"
	done
done
