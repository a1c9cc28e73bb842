#!/usr/bin/env bash
# The discovery campaign of docs/discovery.md, resumable on any machine.
#
#   scripts/discovery.sh search     # run or resume the search (Ctrl-C stops it cleanly)
#   scripts/discovery.sh export     # write the study to docs/campaigns/ (commit it)
#   scripts/discovery.sh evaluate   # the best found goals beside the paper's and backprop, on the same fresh seeds
#   scripts/discovery.sh report     # docs/discovery/report.md (and its SVG plots) from the store
#
# The study lives in $STORE (default discovery.db). A machine that has only a
# clone gets it back from the committed export: 'search' imports
# docs/campaigns/$STUDY.json.gz when the store lacks the study, and resumes
# exactly where the export was taken (the sampler's state is in it).
set -euo pipefail
cd "$(dirname "$0")/.."

GS=${GS:-bin/goalsearch}
STORE=${STORE:-discovery.db}
STUDY=${STUDY:-discovery-1}
TRIALS=${TRIALS:-200}
SEEDS=${SEEDS:-10}
EXPORT=docs/campaigns/$STUDY.json.gz
# The evaluation studies (goalsearch evaluate names them by setup and hidden size).
EVALS=("$STUDY/evaluate/context-lateral/h100" presets/evaluate/backprop/h100)
PRESETS=(opt_1_100_cmaes opt_1_100_tpe opt_3_100_tpe opt_1_100_modified opt_2_100_tpe opt_2_100_cmaes opt_3_100_cmaes naive)

[[ -x $GS ]] || make build >/dev/null

# shellcheck source=scripts/campaign.bash
source scripts/campaign.bash

# restore imports, from docs/campaigns/, the studies the store lacks, so a
# fresh clone resumes the campaign and its evaluations where they were exported.
restore() {
	local e f
	for e in "$STUDY" "${EVALS[@]}"; do
		f=docs/campaigns/${e//\//_}.json.gz
		[[ $e == "$STUDY" ]] && f=$EXPORT
		import_missing "$e" "$f"
	done
}

case "${1:-}" in
search)
	restore
	enqueue=()
	for p in "${PRESETS[@]}"; do enqueue+=(--enqueue "context-lateral/$p"); done
	# TPE warm-started with the paper's goals; 100-epoch trials; ASHA with
	# its default rungs for networks (10, 30, 90 epochs: docs/fidelity.md);
	# 2 trials at a time on one thread each.
	exec nice -n 19 "$GS" search --store "$STORE" --study "$STUDY" --setup context-lateral \
		--sampler tpe --epochs 100 --pruner asha --seed 1 --workers 2 --threads 1 \
		--trials "$TRIALS" "${enqueue[@]}"
	;;
export)
	mkdir -p docs/campaigns
	"$GS" export "$STUDY" --store "$STORE" | gzip -9n >"$EXPORT.tmp"
	mv "$EXPORT.tmp" "$EXPORT"
	"$GS" export "$STUDY" --store "$STORE" --format csv >"docs/campaigns/$STUDY.csv"
	ls -l "$EXPORT" "docs/campaigns/$STUDY.csv"
	for e in "${EVALS[@]}"; do
		"$GS" status "$e" --store "$STORE" >/dev/null 2>&1 || continue
		f=docs/campaigns/${e//\//_}.json.gz
		"$GS" export "$e" --store "$STORE" | gzip -9n >"$f.tmp"
		mv "$f.tmp" "$f"
		ls -l "$f"
	done
	;;
evaluate)
	# The three best goals the sampler proposed (not the enqueued presets),
	# beside the paper's presets, on the same $SEEDS fresh seeds (an
	# evaluation's seeds depend on the seed index only, so the comparison
	# is paired), then backprop of the same size on the same seeds.
	restore
	mapfile -t found < <("$GS" trials "$STUDY" --store "$STORE" --json | /usr/bin/python3 -c '
import json, sys
ts = json.load(sys.stdin)
ts = ts.get("trials", ts) if isinstance(ts, dict) else ts
# trials --json leaves out fields that are zero, generation 0 included.
# Ranked as the sampler ranks them: by the epoch reached (ASHA lets few
# trials finish; one stopped at rung 90 is nearly a finished one), then by
# validation accuracy.
done = [t for t in ts if t.get("state") in ("complete", "pruned") and (t.get("generation") or 0) != 0
        and t.get("value") is not None]
done.sort(key=lambda t: (-len(t.get("epochs") or []), -t["value"]))
print(",".join(str(t["number"]) for t in done[:3]))
')
	goals=()
	for p in opt_1_100_tpe opt_1_100_modified opt_1_100_cmaes naive; do goals+=(--goal "context-lateral/$p"); done
	nice -n 19 "$GS" evaluate "$STUDY" --store "$STORE" --top 0 --trial "${found[0]}" "${goals[@]}" \
		--seeds "$SEEDS" --epochs 100 --workers 2 --threads 1
	exec nice -n 19 "$GS" evaluate --store "$STORE" --setup backprop \
		--seeds "$SEEDS" --epochs 100 --workers 2 --threads 1
	;;
report)
	restore
	"$GS" report "$STUDY" presets --store "$STORE" --against context-lateral/opt_1_100_modified --format md -o docs/discovery/report.md \
		--title "goalsearch: discovery campaign $STUDY and its evaluation"
	;;
*)
	echo "usage: scripts/discovery.sh search|export|evaluate|report" >&2
	exit 2
	;;
esac
