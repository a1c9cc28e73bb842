#!/usr/bin/env bash
# Reproduces docs/layers.md: MNIST accuracy and time per epoch of networks of
# 1, 2 and 3 hidden layers of 100 neurons (context-lateral with the
# opt_1_100_tpe goal shared by every layer, the backprop baseline of the same
# shape, and the feedback setup at 1 and 2 layers), 20 epochs, seeds 30 and
# 31. Each run's `goalsearch train --json` goes to docs/layers/; a run whose
# file exists is skipped, so the script can be stopped and rerun. Runs are
# nice'd, one thread each, two at a time (the machine is shared).
#
#   scripts/layers.sh [infomorphic|backprop|feedback|all]   (default all)
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
out=docs/layers
mkdir -p "$out"
bin=$(mktemp -d)/goalsearch
go build -o "$bin" ./cmd/goalsearch

jobs=()
add() { # name, then train's arguments
	local name=$1
	shift
	for seed in 30 31; do
		jobs+=("$out/$name-seed$seed.json --seed $seed $*")
	done
}
for n in 1 2 3; do
	case $part in infomorphic | all) add "context-lateral-L$n" --setup context-lateral --goal context-lateral/opt_1_100_tpe --layers "$n" ;; esac
done
for n in 1 2 3; do
	case $part in backprop | all) add "backprop-L$n" --setup backprop --layers "$n" ;; esac
done
for n in 1 2; do
	case $part in feedback | all) add "context-lateral-feedback-L$n" --setup context-lateral-feedback --goal context-lateral/opt_1_100_tpe --layers "$n" ;; esac
done

run() {
	local file=$1
	shift
	[ -s "$file" ] && return 0
	nice -n 5 "$bin" train "$@" --hidden 100 --epochs 20 --threads 1 --json >"$file.tmp" 2>"${file%.json}.log"
	mv "$file.tmp" "$file"
}
export -f run
export bin
printf '%s\n' "${jobs[@]}" | xargs -P 2 -I{} bash -c 'run {}'
