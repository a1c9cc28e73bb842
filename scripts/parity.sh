#!/usr/bin/env bash
# Reproduces docs/parity.md: the accuracy-parity runs of issue 3 on real MNIST
# (100 hidden neurons, batch 1024, seeds 30-32), each saved as the JSON of
# `goalsearch train`, then the table against the reference's runs.
#   bash scripts/parity.sh [REFBENCH_DIR]   (default ../shared/refbench)
# About 15 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
ref=${1:-../shared/refbench}
go build -o bin/goalsearch ./cmd/goalsearch
out=docs/parity/raw
mkdir -p "$out"
run() { # name setup goal epochs seed
	local f="$out/$1_s$5.json"
	[ -s "$f" ] && return 0
	echo "== $1 seed $5 ($4 epochs)" >&2
	local goal=()
	[ -n "$3" ] && goal=(--goal "$3")
	bin/goalsearch train --setup "$2" "${goal[@]}" --epochs "$4" --seed "$5" --threads 2 --json >"$f.tmp"
	mv "$f.tmp" "$f"
}
for seed in 30 31 32; do
	run ctx_naive context naive 50 "$seed"
	run ctx_opt_1_100 context opt_1_100 50 "$seed"
	run lat_naive context-lateral naive 10 "$seed"
	run lat_opt_1_100_tpe context-lateral opt_1_100_tpe 10 "$seed"
	run backprop backprop "" 10 "$seed"
done
go run ./scripts/paritytable -ref "$ref" "$out"/*.json >docs/parity.md
cat docs/parity.md
