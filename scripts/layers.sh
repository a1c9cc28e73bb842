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
#   scripts/layers.sh table      # docs/layers.md's table, from the files
#   scripts/layers.sh cpu        # CPU seconds per epoch of each network (docs/layers/cpu.tsv)
set -euo pipefail
cd "$(dirname "$0")/.."
part=${1:-all}
out=docs/layers
mkdir -p "$out"
if [ "$part" = table ]; then
	# Per network: the last epoch's validation and test accuracy (per-batch
	# means, as train reports them), the median over the seeds (of two
	# seeds, their mean), and the median over epochs 1..20 of the training
	# and the evaluation (validation + test) seconds.
	python3 - "$out" <<'PY'
import glob, json, os, statistics, sys
runs = {}
for f in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
    r = json.load(open(f))
    name = os.path.basename(f).rsplit("-seed", 1)[0]
    setup, layers = name.rsplit("-L", 1)
    runs.setdefault((setup, int(layers)), []).append(r)
order = {"context-lateral": 0, "context-lateral-feedback": 1, "backprop": 2}
print("| network | hidden layers | val (median) | val, seeds 30 / 31 | test (median) | training s / epoch | evaluation s / epoch |")
print("|---|---:|---:|---|---:|---:|---:|")
for (setup, n), rs in sorted(runs.items(), key=lambda kv: (order.get(kv[0][0], 9), kv[0][1])):
    rs.sort(key=lambda r: r["seed"])
    val = [r["metrics"][-1]["val_acc"]["batch_mean"] for r in rs]
    test = [r["metrics"][-1]["test_acc"]["batch_mean"] for r in rs]
    tr = statistics.median(m["train_s"] for r in rs for m in r["metrics"][1:])
    ev = statistics.median(m["val_s"] + m["test_s"] for r in rs for m in r["metrics"][1:])
    label = setup + (", opt_1_100_tpe" if setup != "backprop" else "")
    print(f"| {label} | {n} | {statistics.median(val):.4f} | {' / '.join(f'{v:.4f}' for v in val)} | {statistics.median(test):.4f} | {tr:.1f} | {ev:.2f} |")
PY
	exit 0
fi
bin=$(mktemp -d)/goalsearch
go build -o "$bin" ./cmd/goalsearch

if [ "$part" = cpu ]; then
	# CPU seconds per trained epoch (training and evaluation), which the
	# load of a shared machine disturbs far less than wall time: the user +
	# system CPU time of a run of 3 epochs minus that of a run of 1, halved
	# (loading MNIST and epoch 0 cancel). Seed 30, one thread, one run at a
	# time, into docs/layers/cpu.tsv.
	bin=$(mktemp -d)/goalsearch
	go build -o "$bin" ./cmd/goalsearch
	printf 'network\tlayers\tcpu_s_per_epoch\n' >"$out/cpu.tsv"
	cpu() { # epochs, then train's arguments; prints user+system seconds
		local e=$1
		shift
		/usr/bin/time -f '%U %S' -o "$out/cpu.tmp" nice -n 5 "$bin" train "$@" --hidden 100 --epochs "$e" --threads 1 --seed 30 >/dev/null 2>&1
		awk '{print $1 + $2}' "$out/cpu.tmp"
	}
	for spec in "context-lateral --goal context-lateral/opt_1_100_tpe:1 2 3" "backprop:1 2 3" "context-lateral-feedback --goal context-lateral/opt_1_100_tpe:1 2"; do
		args=${spec%%:*}
		for n in ${spec#*:}; do
			# shellcheck disable=SC2086
			one=$(cpu 1 --setup $args --layers "$n")
			# shellcheck disable=SC2086
			three=$(cpu 3 --setup $args --layers "$n")
			printf '%s\t%d\t%.2f\n' "${args%% *}" "$n" "$(echo "($three - $one) / 2" | bc -l)" >>"$out/cpu.tsv"
		done
	done
	rm -f "$out/cpu.tmp"
	cat "$out/cpu.tsv"
	exit 0
fi

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
