#!/usr/bin/env bash
# The discovery campaign of docs/discovery.md, resumable on any machine.
#
#   scripts/discovery.sh search     # run or resume the search (Ctrl-C stops it cleanly)
#   scripts/discovery.sh export     # write the study to docs/campaigns/ (commit it)
#   scripts/discovery.sh evaluate   # the best found goals beside the paper's, on the same fresh seeds
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
PRESETS=(opt_1_100_cmaes opt_1_100_tpe opt_3_100_tpe opt_1_100_modified opt_2_100_tpe opt_2_100_cmaes opt_3_100_cmaes naive)

[[ -x $GS ]] || make build >/dev/null

has_study() { "$GS" status "$STUDY" --store "$STORE" >/dev/null 2>&1; }

case "${1:-}" in
search)
	if ! has_study && [[ -f $EXPORT ]]; then
		tmp=$(mktemp)
		gunzip -c "$EXPORT" >"$tmp"
		"$GS" import "$tmp" --store "$STORE"
		rm -f "$tmp"
	fi
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
	;;
evaluate)
	# The three best goals the sampler proposed (not the enqueued presets),
	# beside the paper's best presets, on the same $SEEDS fresh seeds (an
	# evaluation's seeds depend on the seed index only, so the comparison
	# is paired).
	mapfile -t found < <("$GS" trials "$STUDY" --store "$STORE" --json | /usr/bin/python3 -c '
import json, sys
ts = json.load(sys.stdin)
ts = ts.get("trials", ts) if isinstance(ts, dict) else ts
get = lambda t, *ks: next((t[k] for k in ks if k in t), None)
# trials --json leaves out fields that are zero, generation 0 included.
# Ranked as the sampler ranks them: by the epoch reached (ASHA lets few
# trials finish; one stopped at rung 90 is nearly a finished one), then by
# validation accuracy.
done = [t for t in ts if get(t, "state", "State") in ("complete", "pruned") and (get(t, "generation", "Generation") or 0) != 0
        and get(t, "value", "Value") is not None]
done.sort(key=lambda t: (-len(get(t, "epochs", "Epochs") or []), -get(t, "value", "Value")))
for t in done[:3]:
    print(",".join(repr(g) for g in get(t, "gamma", "Gamma")))
')
	goals=()
	for g in "${found[@]}"; do goals+=(--goal "$g"); done
	for p in opt_1_100_tpe opt_1_100_modified; do goals+=(--goal "context-lateral/$p"); done
	exec nice -n 19 "$GS" evaluate --store "$STORE" --setup context-lateral "${goals[@]}" \
		--seeds "$SEEDS" --epochs 100 --workers 2 --threads 1
	;;
*)
	echo "usage: scripts/discovery.sh search|export|evaluate" >&2
	exit 2
	;;
esac
