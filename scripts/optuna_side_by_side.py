#!/usr/bin/python3
"""Optuna's samplers beside goalsearch's, on the same synthetic functions, in one run.

Runs Optuna's TPE (its default, univariate, and multivariate=True), CMA-ES and
random sampling on the four functions of goalsearch's quality tables (sphere,
Rastrigin and Rosenbrock with their optimum at o_i = 0.6 cos(1.7 i + 0.3), and
direction, 1 - cos of the angle to o), in [-1, 1]^d for d = 5 and 19, one
trial at a time (Optuna's optimize loop), and records the best value after 20,
40, 100 and 200 trials. Then it runs goalsearch's own table
(go test ./search -run TestSamplerSmallBudgets -sampler.quality -sampler.json)
and prints one Markdown table per budget: medians over the study seeds, the
best of each column in bold.

A benchmark, not a CI dependency: it needs Debian's python3-optuna (3.1) and
takes about ten minutes on two cores. From the repository's root:

    /usr/bin/python3 scripts/optuna_side_by_side.py [--seeds 5] [--out table.md]
"""

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

import optuna

BUDGETS = [20, 40, 100, 200]
DIMS = [5, 19]


def offset(i):
    return 0.6 * math.cos(1.7 * i + 0.3)


def sphere(x):
    return sum((v - offset(i)) ** 2 for i, v in enumerate(x))


def rastrigin(x):
    s = 10.0 * len(x)
    for i, v in enumerate(x):
        z = 2.5 * (v - offset(i))
        s += z * z - 10 * math.cos(2 * math.pi * z)
    return s


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        a = 2 * (x[i] - offset(i)) + 1
        b = 2 * (x[i + 1] - offset(i + 1)) + 1
        s += 100 * (b - a * a) ** 2 + (1 - a) ** 2
    return s


def direction(x):
    dot = nx = nd = 0.0
    for i, v in enumerate(x):
        d = offset(i)
        dot, nx, nd = dot + v * d, nx + v * v, nd + d * d
    if nx == 0:
        return 1.0
    return 1 - dot / math.sqrt(nx * nd)


FUNCTIONS = {"sphere": sphere, "rastrigin": rastrigin, "rosenbrock": rosenbrock, "direction": direction}

SAMPLERS = {
    "optuna tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "optuna tpe multivariate": lambda seed: optuna.samplers.TPESampler(seed=seed, multivariate=True),
    "optuna cmaes": lambda seed: optuna.samplers.CmaEsSampler(seed=seed),
    "optuna random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}

# goalsearch's rows, as TestSamplerSmallBudgets names them (sampler, points per Ask).
GOALSEARCH = [("tpe", 1), ("tpe", 8), ("cmaes", 1), ("ga", 1), ("de", 1), ("pso", 1), ("random", 1), ("sobol", 1)]


def optuna_bests(make, f, d, seed):
    """Best value after each budget of one study of max(BUDGETS) trials."""
    best = math.inf
    bests = {}

    def objective(trial):
        nonlocal best
        v = f([trial.suggest_float("x%d" % i, -1, 1) for i in range(d)])
        best = min(best, v)
        n = trial.number + 1
        if n in BUDGETS:
            bests[n] = best
        return v

    study = optuna.create_study(sampler=make(seed))
    study.optimize(objective, n_trials=max(BUDGETS))
    return bests


def run_optuna(seeds):
    medians = {}
    for name, make in SAMPLERS.items():
        for fname, f in FUNCTIONS.items():
            for d in DIMS:
                t0 = time.time()
                runs = [optuna_bests(make, f, d, seed) for seed in range(seeds)]
                for b in BUDGETS:
                    medians[(name, fname, d, b)] = statistics.median(r[b] for r in runs)
                print("%-24s %-10s %2d-D: %.1f s" % (name, fname, d, time.time() - t0), file=sys.stderr)
    return medians


def run_goalsearch(root):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "quality.json")
        subprocess.run(["go", "test", "./search", "-count=1", "-run", "TestSamplerSmallBudgets",
                        "-sampler.quality", "-sampler.json", out], cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        with open(out) as fh:
            entries = json.load(fh)
    medians, seeds = {}, 0
    for e in entries:
        if e.get("config"):
            continue
        name = "goalsearch " + e["sampler"] + ("" if e["per_ask"] == 1 else " (%d at a time)" % e["per_ask"])
        medians[(name, e["function"], e["dim"], e["budget"])] = e["median"]
        seeds = e["seeds"]
    return medians, seeds


def table(medians, rows, budget):
    cols = [(f, d) for f in FUNCTIONS for d in DIMS]
    best = {c: min(medians[(r, c[0], c[1], budget)] for r in rows) for c in cols}
    lines = ["| sampler | " + " | ".join("%s %d-D" % c for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for r in rows:
        cells = []
        for c in cols:
            v = medians[(r, c[0], c[1], budget)]
            s = "%.3g" % v
            cells.append("**%s**" % s if v == best[c] else s)
        lines.append("| %s | %s |" % (r, " | ".join(cells)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="study seeds per Optuna sampler (goalsearch's table uses 10)")
    ap.add_argument("--out", help="also write the tables to this Markdown file")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    import warnings
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

    medians = run_optuna(args.seeds)
    gs, gs_seeds = run_goalsearch(root)
    medians.update(gs)
    rows = list(SAMPLERS) + ["goalsearch " + s + ("" if n == 1 else " (%d at a time)" % n) for s, n in GOALSEARCH]
    parts = ["Median best value over %d study seeds (Optuna %s) and %d (goalsearch), one trial at a time "
             "unless stated; lower is better, the best of each column in bold.\n" % (args.seeds, optuna.__version__, gs_seeds)]
    for b in BUDGETS:
        parts.append("%d trials:\n\n%s\n" % (b, table(medians, rows, b)))
    text = "\n".join(parts)
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
