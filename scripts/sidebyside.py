#!/usr/bin/env python3
"""goalsearch's samplers beside Optuna's, in one run, on the same work.

Runs Optuna's TPE (multivariate), CMA-ES and random samplers and goalsearch's
samplers on the repo's synthetic functions (the same formulas as
search/objective.go) and on the real objective: context-lateral, 100 hidden
neurons, validation accuracy after --epochs epochs, with H_res fixed to 0 and
the other 18 weights in [-1, 1] as in the paper. Optuna's objective calls
`goalsearch train --json`; goalsearch runs `goalsearch search`. Every study
runs one trial at a time (one thread per trial on the real objective), and
--parallel studies run at once, so both sides get the same work and the same
machine.

Writes a JSON file of every study's trial values and prints a Markdown table:
for each problem and budget, the median over study seeds of the best value
found within the first `budget` trials (synthetic: f, lower is better; real:
validation accuracy, higher is better).

A benchmark, not a test: it needs Debian's python3-optuna
(apt-get install python3-optuna) and a built goalsearch (make build).

    python3 scripts/sidebyside.py --problems synthetic --seeds 1,2,3,4,5
    nice -n 19 python3 scripts/sidebyside.py --problems real --epochs 5 --seeds 1,2,3 --out docs/sidebyside/real.json

Two runs can share the work: one writes real.json, another (say, --optuna ''
--ours gp) real-gp.json, and `--also docs/sidebyside/real-gp.json` joins them
in the first one's table.
"""

import argparse
import concurrent.futures as cf
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time

# Trivariate goal labels in goal order (spec §3), H_res last.
LABELS19 = ["{F}{C}{L}", "{F}{C}", "{F}{L}", "{C}{L}", "{F}{CL}", "{C}{FL}", "{L}{FC}", "{F}", "{C}", "{L}",
            "{FC}{FL}{CL}", "{FC}{FL}", "{FC}{CL}", "{FL}{CL}", "{FC}", "{FL}", "{CL}", "{FCL}", "H_res"]


# The synthetic functions of search/objective.go, minimised on [-1, 1]^d.
def sphere(x):
    return sum((v - 0.3) ** 2 for v in x)


def rastrigin(x):
    s = 10 * len(x)
    for v in x:
        z = 5.12 * (v - 0.3)
        s += z * z - 10 * math.cos(2 * math.pi * z)
    return s


def direction(x):
    dot = nx = nd = 0.0
    for i, v in enumerate(x):
        d = 0.6 * math.cos(1.7 * i + 0.3)
        dot, nx, nd = dot + v * d, nx + v * v, nd + d * d
    if nx == 0:
        return 1.0
    return 1 - dot / math.sqrt(nx * nd)


def rosenbrock(x):
    s = 0.0
    for i in range(len(x) - 1):
        a, b = 2 * x[i], 2 * x[i + 1]
        s += 100 * (b - a * a) ** 2 + (1 - a) ** 2
    return s


SYNTHETIC = {"sphere": sphere, "rastrigin": rastrigin, "rosenbrock": rosenbrock, "direction": direction}


def optuna_sampler(name, seed):
    import optuna
    if name == "tpe":
        # Multivariate, as the paper's search; Optuna's other defaults.
        return optuna.samplers.TPESampler(seed=seed, multivariate=True)
    if name == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed)
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown Optuna sampler {name!r}")


def train_val_acc(binary, goal, epochs, seed, hidden):
    """The real objective as Optuna's users would write it: one goalsearch train run."""
    cmd = [binary, "train", "--setup", "context-lateral", "--goal", ",".join(repr(float(g)) for g in goal),
           "--epochs", str(epochs), "--seed", str(seed), "--threads", "1", "--hidden", str(hidden), "--json"]
    if train_has_no_test(binary):
        cmd.append("--no-test")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    run = json.loads(out)
    last = run["metrics"][-1]
    return last["val_acc"]["batch_mean"]


_no_test = {}


def train_has_no_test(binary):
    if binary not in _no_test:
        h = subprocess.run([binary, "train", "--help"], capture_output=True, text=True).stdout
        _no_test[binary] = "--no-test" in h
    return _no_test[binary]


def run_optuna(problem, sampler, seed, trials, args):
    import optuna
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if problem["kind"] == "real":
        direction_ = "maximize"
        free = LABELS19[:-1]

        def objective(trial):
            goal = [trial.suggest_float(label, -1.0, 1.0) for label in free] + [0.0]
            # Trial seeds differ from goalsearch's; both are fresh seeds per trial.
            return train_val_acc(args.goalsearch, goal, args.epochs, seed * 100003 + trial.number, args.hidden)
    else:
        direction_ = "minimize"
        f = SYNTHETIC[problem["func"]]
        dim = problem["dim"]

        def objective(trial):
            return f([trial.suggest_float(f"x{i}", -1.0, 1.0) for i in range(dim)])
    study = optuna.create_study(direction=direction_, sampler=optuna_sampler(sampler, seed))
    t0 = time.time()
    study.optimize(objective, n_trials=trials)
    vals = [t.value for t in sorted(study.trials, key=lambda t: t.number)]
    return {"values": vals, "seconds": time.time() - t0}


def field(obj, *names):
    for n in names:
        if n in obj:
            return obj[n]
    raise KeyError(names)


def run_goalsearch(problem, sampler, seed, trials, args):
    with tempfile.TemporaryDirectory() as d:
        db = os.path.join(d, "s.db")
        cmd = [args.goalsearch, "search", "--store", db, "--study", "s", "--sampler", sampler,
               "--trials", str(trials), "--seed", str(seed), "--workers", "1"]
        if problem["kind"] == "real":
            cmd += ["--setup", "context-lateral", "--epochs", str(args.epochs), "--threads", "1",
                    "--hidden", str(args.hidden)]
        else:
            cmd += ["--setup", problem["func"], "--dim", str(problem["dim"])]
        t0 = time.time()
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        secs = time.time() - t0
        out = subprocess.run([args.goalsearch, "trials", "s", "--store", db, "--json"], check=True,
                             capture_output=True, text=True).stdout
    ts = json.loads(out)
    if isinstance(ts, dict):
        ts = field(ts, "trials", "Trials")
    ts.sort(key=lambda t: field(t, "number", "Number"))
    vals = []
    for t in ts:
        v = t.get("value", t.get("Value"))
        if isinstance(v, str):
            v = float(v)  # trial records write "NaN", "+Inf", "-Inf" as strings
        if v is None:
            vals.append(None)
        elif problem["kind"] == "real":
            vals.append(v)
        else:
            vals.append(-v)  # goalsearch maximises -f
    if len(vals) < trials:
        # A search stopped by a signal exits cleanly with what it finished;
        # such a study is not done and must not be recorded as if it were.
        raise RuntimeError(f"goalsearch {sampler} seed {seed}: stopped after {len(vals)} of {trials} trials")
    return {"values": vals, "seconds": secs}


def best_within(values, budget, maximize):
    vals = [v for v in values[:budget] if v is not None and not math.isnan(v)]
    if not vals:
        return float("nan")
    return max(vals) if maximize else min(vals)


def problems_of(spec):
    out = []
    for p in spec.split(","):
        if p == "synthetic":
            for dim in (5, 19):
                for f in ("sphere", "rastrigin", "rosenbrock", "direction"):
                    out.append({"name": f"{f}-{dim}", "kind": "synthetic", "func": f, "dim": dim})
        elif p == "real":
            out.append({"name": "context-lateral", "kind": "real"})
        elif "-" in p and p.split("-")[0] in SYNTHETIC:
            f, dim = p.split("-")
            out.append({"name": p, "kind": "synthetic", "func": f, "dim": int(dim)})
        else:
            sys.exit(f"sidebyside: unknown problem {p!r} (synthetic, real, or FUNC-DIM such as sphere-5)")
    return out


def median_best(results, problem, side, sampler, budget, maximize):
    vals = [best_within(r["values"], budget, maximize)
            for k, r in results.items() if k.startswith(f"{problem['name']}|{side}|{sampler}|")]
    vals = [v for v in vals if not math.isnan(v)]
    return statistics.median(vals) if vals else float("nan")


def print_summary(problems, budgets, results, args):
    """One line per problem: at each budget, each side's best sampler (by its median over seeds)."""
    print("\n### Best sampler of each side, median over seeds " + args.seeds + "\n")
    print("| problem | " + " | ".join(f"{b} trials: Optuna / goalsearch" for b in budgets) + " |")
    print("|---|" + "---|" * len(budgets))
    for p in problems:
        maximize = p["kind"] == "real"
        cells = []
        for b in budgets:
            best = {}
            for side, names in (("optuna", args.optuna), ("goalsearch", args.ours)):
                meds = [(median_best(results, p, side, s, b, maximize), s) for s in names.split(",") if s]
                meds = [m for m in meds if not math.isnan(m[0])]
                best[side] = (max if maximize else min)(meds) if meds else (float("nan"), "—")
            (o, os_), (g, gs) = best["optuna"], best["goalsearch"]
            wins = (g >= o) if maximize else (g <= o)
            cells.append(f"{o:.4g} ({os_}) / {'**' if wins else ''}{g:.4g}{'**' if wins else ''} ({gs})")
        print(f"| {p['name']} | " + " | ".join(cells) + " |")
    print("\nBold: goalsearch's best sampler at or better than Optuna's best.")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--goalsearch", default="bin/goalsearch", help="the goalsearch binary (make build)")
    ap.add_argument("--problems", default="synthetic", help="synthetic, real, or FUNC-DIM, comma-separated")
    ap.add_argument("--budgets", default="20,40,100,200")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--optuna", default="tpe,cmaes,random", help="Optuna samplers")
    ap.add_argument("--ours", default="tpe,cmaes,random,gp", help="goalsearch samplers")
    ap.add_argument("--epochs", type=int, default=5, help="real objective: epochs per trial")
    ap.add_argument("--hidden", type=int, default=100, help="real objective: hidden neurons")
    ap.add_argument("--parallel", type=int, default=2, help="studies run at once")
    ap.add_argument("--out", default="", help="write every study's values here as JSON; an existing file is resumed")
    ap.add_argument("--also", action="append", default=[],
                    help="another run's JSON file (repeatable): its studies count as done and join the table, and are not copied into --out")
    args = ap.parse_args()
    budgets = [int(b) for b in args.budgets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    trials = max(budgets)
    problems = problems_of(args.problems)

    results = {}
    if args.out and os.path.exists(args.out):
        with open(args.out) as f:
            results = json.load(f)["studies"]
    others = {}
    for path in args.also:
        with open(path) as f:
            others.update(json.load(f)["studies"])
    jobs = []
    for p in problems:
        for side, names in (("optuna", args.optuna), ("goalsearch", args.ours)):
            for s in names.split(","):
                if not s:
                    continue
                for seed in seeds:
                    key = f"{p['name']}|{side}|{s}|{seed}|{trials}"
                    if key not in results and key not in others:
                        jobs.append((key, p, side, s, seed))

    # Seed-major order: a run stopped part way still has every sampler at
    # the same seeds, so its partial table compares like with like.
    jobs.sort(key=lambda j: j[4])

    def run(job):
        key, p, side, s, seed = job
        fn = run_optuna if side == "optuna" else run_goalsearch
        return key, fn(p, s, seed, trials, args)

    def save():
        if args.out:
            tmp = args.out + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"budgets": budgets, "epochs": args.epochs, "studies": results}, f, indent=1)
            os.replace(tmp, args.out)

    with cf.ThreadPoolExecutor(max_workers=args.parallel) as ex:
        for n, fut in enumerate(cf.as_completed([ex.submit(run, j) for j in jobs]), 1):
            try:
                key, r = fut.result()
            except Exception as e:  # noqa: BLE001 - one study's failure must not lose the others
                print(f"[{n}/{len(jobs)}] failed, not recorded: {e}", file=sys.stderr)
                continue
            results[key] = r
            save()
            print(f"[{n}/{len(jobs)}] {key}: {r['seconds']:.0f} s", file=sys.stderr)

    results = {**others, **results}
    print_summary(problems, budgets, results, args)
    for p in problems:
        maximize = p["kind"] == "real"
        what = "best validation accuracy" if maximize else "best f (lower is better)"
        print(f"\n### {p['name']} — {what}, median over seeds {args.seeds}\n")
        print("| sampler | " + " | ".join(f"{b} trials" for b in budgets) + " |")
        print("|---|" + "---:|" * len(budgets))
        for side, names in (("Optuna", args.optuna), ("goalsearch", args.ours)):
            for s in names.split(","):
                if not s:
                    continue
                row = []
                for b in budgets:
                    vals = [best_within(results[k]["values"], b, maximize)
                            for k in results if k.startswith(f"{p['name']}|{side.lower()}|{s}|")]
                    vals = [v for v in vals if not math.isnan(v)]
                    row.append(f"{statistics.median(vals):.4g}" if vals else "—")
                print(f"| {side} {s} | " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
