#!/usr/bin/env bash
# The Pareto campaign of docs/pareto.md (issue 14 part 3), resumable on any machine.
#
#   scripts/pareto.sh search     # run or resume the NSGA-II search (Ctrl-C stops it cleanly)
#   scripts/pareto.sh export     # write the study to docs/campaigns/ (commit it)
#   scripts/pareto.sh evaluate   # the picked sparse goal beside opt_1_100_modified and naive, on the same fresh seeds
#   scripts/pareto.sh report     # docs/pareto/report.md (front table and plot) from the store
#
# The study lives in $STORE (default pareto.db). A machine that has only a
# clone gets it back from the committed export: 'search' imports
# docs/campaigns/$STUDY.json.gz when the store lacks the study, and resumes
# exactly where the export was taken (the sampler's state is in it).
set -euo pipefail
cd "$(dirname "$0")/.."

GS=${GS:-bin/goalsearch}
STORE=${STORE:-pareto.db}
STUDY=${STUDY:-pareto-1}
TRIALS=${TRIALS:-200}
SEEDS=${SEEDS:-3}
EPOCHS=${EPOCHS:-20}
TOLERANCE=${TOLERANCE:-0.005}
EXPORT=docs/campaigns/$STUDY.json.gz
# The evaluation studies: the campaign's goals, and the paper's presets on
# the same seeds (evaluation seeds depend on the seed index only), each
# exported as docs/campaigns/$STUDY_<name with / as _>.json.gz.
EVAL="$STUDY/evaluate/context-lateral/h100"
PRESETS=presets/evaluate/context-lateral/h100

[[ -x $GS ]] || make build >/dev/null

file_of() {
	case $1 in
	"$STUDY") echo "$EXPORT" ;;
	"$PRESETS") echo "docs/campaigns/${STUDY}_${1//\//_}.json.gz" ;;
	*) echo "docs/campaigns/${1//\//_}.json.gz" ;;
	esac
}

# shellcheck source=scripts/campaign.bash
source scripts/campaign.bash

restore() {
	local e f
	for e in "$STUDY" "$EVAL" "$PRESETS"; do
		f=$(file_of "$e")
		import_missing "$e" "$f"
	done
}

case "${1:-}" in
search)
	restore
	# NSGA-II with a population of 25 (8 generations in 200 trials rather
	# than Optuna's 50 and 4), accuracy against the goal's nonzero weights
	# on the default grid 0.1; 5-epoch trials, 2 at a time on one thread.
	exec nice -n 5 "$GS" search --store "$STORE" --study "$STUDY" --setup context-lateral --hidden 100 \
		--sampler nsga2 --sampler-config '{"population_size":25}' --objectives accuracy,nonzero \
		--epochs 5 --seed 1 --workers 2 --threads 1 --trials "$TRIALS"
	;;
export)
	mkdir -p docs/campaigns
	for e in "$STUDY" "$EVAL" "$PRESETS"; do
		has_study "$e" || continue
		f=$(file_of "$e")
		"$GS" export "$e" --store "$STORE" | gzip -9n >"$f.tmp"
		mv "$f.tmp" "$f"
		ls -l "$f"
	done
	"$GS" export "$STUDY" --store "$STORE" --format csv >"docs/campaigns/$STUDY.csv"
	;;
evaluate)
	# The goal analyze picks (the sparsest on the front within $TOLERANCE
	# of the best accuracy), the most accurate goal of the front with at
	# most 4 nonzero weights (the target's size) and the front's most
	# accurate goal; then the paper's 4-term goal and the naive one, on the
	# same $SEEDS fresh seeds (paired).
	restore
	picks=$("$GS" analyze "$STUDY" --store "$STORE" --front --tolerance "$TOLERANCE" --json | /usr/bin/python3 -c '
import json, sys
f = json.load(sys.stdin)["pareto"]
ts = [f["picked"]["trial"]]
small = [p for p in f["points"] if p["complexity"] <= 4]
if small:
    ts.append(max(small, key=lambda p: p["val_acc"])["trial"])
ts.append(max(f["points"], key=lambda p: p["val_acc"])["trial"])
print(",".join(str(t) for t in dict.fromkeys(ts)))')
	nice -n 5 "$GS" evaluate "$STUDY" --store "$STORE" --top 0 --trial "$picks" \
		--seeds "$SEEDS" --epochs "$EPOCHS" --workers 2 --threads 1
	exec nice -n 5 "$GS" evaluate --store "$STORE" --setup context-lateral --hidden 100 \
		--goal context-lateral/opt_1_100_modified --goal context-lateral/naive \
		--seeds "$SEEDS" --epochs "$EPOCHS" --workers 2 --threads 1
	;;
report)
	restore
	mkdir -p docs/pareto
	"$GS" report "$STUDY" presets --store "$STORE" --tolerance "$TOLERANCE" --against context-lateral/opt_1_100_modified \
		--format md -o docs/pareto/report.md \
		--title "goalsearch: Pareto campaign $STUDY"
	;;
*)
	echo "usage: scripts/pareto.sh search|export|evaluate|report" >&2
	exit 2
	;;
esac
