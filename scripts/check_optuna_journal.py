#!/usr/bin/env python3
"""Checks that Optuna reads a goalsearch study exported as an Optuna journal.

    goalsearch export STUDY -o study.json
    goalsearch export STUDY --format optuna-journal -o study.log
    /usr/bin/python3 scripts/check_optuna_journal.py study.log study.json

Loads the journal with Optuna's own JournalFileStorage (Debian's
python3-optuna, 3.1 or later) and asserts, against goalsearch's lossless JSON
export of the same study: the same number of trials in the same order, the
same states (queued -> WAITING, running and paused -> RUNNING, complete,
pruned, failed -> COMPLETE, PRUNED, FAIL), the same params (every searched
goal weight, bit for bit), the same values and per-epoch validation
accuracies, and the same best value and best trial. Exits non-zero naming the
first difference.
"""

import json
import math
import sys
import warnings

import optuna
from optuna.storages import JournalStorage

try:  # Optuna 4 renamed the file backend; the log format is the same
    from optuna.storages.journal import JournalFileBackend as JournalFile
except ImportError:
    from optuna.storages import JournalFileStorage as JournalFile
from optuna.trial import TrialState

STATES = {
    "queued": TrialState.WAITING,
    "running": TrialState.RUNNING,
    "paused": TrialState.RUNNING,
    "complete": TrialState.COMPLETE,
    "pruned": TrialState.PRUNED,
    "failed": TrialState.FAIL,
}


def fail(msg):
    print("check_optuna_journal: " + msg, file=sys.stderr)
    sys.exit(1)


def main():
    if len(sys.argv) != 3:
        fail("usage: check_optuna_journal.py JOURNAL.log EXPORT.json")
    journal, export = sys.argv[1], sys.argv[2]
    with open(export) as f:
        dump = json.load(f)
    name = dump["study"]["name"]
    space = dump["study"]["space"]
    fixed = space.get("fixed") or {}
    searched = [l for l in space["labels"] if l not in fixed]

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    storage = JournalStorage(JournalFile(journal))
    study = optuna.load_study(study_name=name, storage=storage)
    want_dir = dump["study"]["direction"]
    if study.direction.name.lower() != want_dir:
        fail(f"direction {study.direction.name}, want {want_dir}")

    trials, src = study.trials, dump["trials"]
    if len(trials) != len(src):
        fail(f"{len(trials)} trials in the journal, {len(src)} in the export")
    for ot, gt in zip(trials, src):
        n = gt["number"]
        if ot.number != n:
            fail(f"trial {n} is Optuna's number {ot.number}")
        if ot.state != STATES[gt["state"]]:
            fail(f"trial {n}: state {ot.state.name}, want {STATES[gt['state']].name} ({gt['state']})")
        want = {l: gt["gamma"][i] for i, l in enumerate(space["labels"]) if l in searched}
        if ot.params != want:
            fail(f"trial {n}: params {ot.params}, want {want}")
        for l in searched:
            d = ot.distributions[l]
            i = space["labels"].index(l)
            if (d.low, d.high) != (space["lower"][i], space["upper"][i]):
                fail(f"trial {n}: distribution of {l} is [{d.low}, {d.high}]")
        value = gt.get("value")
        if gt["state"] in ("complete", "pruned"):
            if (ot.value is None) != (value is None) or (value is not None and ot.value != value):
                fail(f"trial {n}: value {ot.value}, want {value}")
        want_iv = {e["epoch"]: e["val_acc"] for e in gt.get("epochs") or []
                   if isinstance(e["val_acc"], float) and math.isfinite(e["val_acc"])}
        if ot.intermediate_values != want_iv:
            fail(f"trial {n}: intermediate values {ot.intermediate_values}, want {want_iv}")

    done = [t for t in src if t["state"] == "complete"]
    if done:
        pick = max if want_dir == "maximize" else min
        best = pick(done, key=lambda t: t["value"])
        if study.best_value != best["value"]:
            fail(f"best value {study.best_value}, want {best['value']}")
        if study.best_trial.value != best["value"]:
            fail(f"best trial {study.best_trial.number} has value {study.best_trial.value}")
    counts = {}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    best = f"best value {study.best_value} (trial {study.best_trial.number})" if done else "no complete trial"
    print(f"ok: Optuna {optuna.__version__} reads study {name!r}: {len(trials)} trials {counts}, {best}")


if __name__ == "__main__":
    main()
