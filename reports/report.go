// Package reports turns studies in a store into a report that a researcher
// can read and forward: one self-contained HTML file (tables and inline SVG
// plots, nothing fetched from anywhere), or Markdown with the same tables and
// the plots as SVG files beside it.
//
// Reports are made in two steps, so that what a report says is decided in
// one place and each format only draws it:
//
//  1. Collect reads the studies (it only reads the store) into a Report:
//     plain structs, every list in a fixed order, numbers already
//     summarised (means, standard deviations, tests).
//  2. WriteHTML and WriteMarkdown lay the Report out as the same sequence
//     of headings, paragraphs, tables and figures, and format it.
//
// A report of a study covers the search (summary, optimisation history,
// leaderboard of goals, learning curves, sign agreement across the best
// goals, the hidden neurons' atom profile) and the evaluation studies that
// belong to it (package search's contract, evalstudy.go): re-trainings on
// fresh seeds with test accuracy, the sensitivity of the best goal to each
// weight, and its sparsification. A comparison of every evaluated goal,
// preset and baseline follows, with mean ± standard deviation over seeds, a
// test of the difference to the setup's heuristic goal, and the paper's
// published values beside ours.
package reports

import (
	"time"

	"goalsearch/store"
	"goalsearch/summary"
)

// A Report is everything a report shows, collected from a store. Renderers
// only format it.
type Report struct {
	// Title heads the report.
	Title string
	// Sections are the studies and groups asked for, in the order asked.
	Sections []Section
	// Comparison holds every evaluated goal, preset and baseline of the
	// report's evaluation studies, grouped by hidden neurons and epochs.
	Comparison []ComparisonGroup
	// Agreement compares the best goals of searched studies of the same
	// setup and search space: which atoms independent searches agree on.
	// Empty unless the report has at least two such studies.
	Agreement []StudyAgreement
}

// StudyAgreement is the sign agreement of the best goals of several
// searched studies of one setup (each study's best complete trial).
type StudyAgreement struct {
	Setup   string
	Studies []string    // in report order; Signs.Trials holds their best trials
	Gammas  [][]float64 // each study's best goal
	Free    []int       // the searched coordinates: Signs.Rows[k] is Free[k]
	Signs   *SignAgreement
}

// A Section is one study asked for, with its evaluation studies, or a group
// of evaluation studies without a search (such as "presets").
type Section struct {
	// Name is the study or group name.
	Name string
	// Search summarises the searched study; nil for a group.
	Search *SearchSummary
	// Evals are the evaluation studies named Name + "/...", by name.
	Evals []EvalSummary
	// Notes say in words what is missing (no evaluations, ...).
	Notes []string
}

// Counts splits a study's trials by state.
type Counts struct {
	Total, Complete, Pruned, Failed int
	// Unfinished counts queued, running and paused trials.
	Unfinished int
}

// SearchSummary is what a report shows of a searched study.
type SearchSummary struct {
	Study   string
	Setup   string
	Sampler string
	Pruner  string // empty: none
	Seed    uint64
	Created time.Time
	// Hidden and Epochs are the trainer setup's; 0 when the setup is not a
	// trainer's (Epochs is set for synthetic setups too).
	Hidden, Epochs int
	// Synthetic is true for a synthetic test function: values are not
	// accuracies.
	Synthetic bool
	// Metric and Maximize are the objective.
	Metric   string
	Maximize bool
	// Labels name the goal's coordinates; Fixed lists the fixed ones with
	// their values, as "label = value".
	Labels []string
	Fixed  []string
	// Free are the indices of the coordinates that were searched.
	Free []int

	Counts   Counts
	WallTime time.Duration // summed over trials

	// Best is the best complete trial; nil if none completed.
	Best *Entry
	// History has one point per finished trial, in trial order.
	History []HistoryPoint
	// Leaderboard holds the best complete trials, best first.
	Leaderboard []Entry
	// Curves are the per-epoch metrics of the leaderboard's first trials.
	Curves []Curve
	// Failures counts the reasons of failed trials, most frequent first.
	Failures []Failure
	// Signs is the sign agreement of the weights across the leaderboard;
	// nil with fewer than three complete trials.
	Signs *SignAgreement
	// Profile compares the hidden neurons' mean atoms of the best goal
	// and the heuristic goal; nil for setups without atoms.
	Profile *AtomProfile
}

// An Entry is one complete trial on the leaderboard.
type Entry struct {
	Rank     int // 1 for the best
	Trial    int
	Value    float64
	Gamma    []float64
	Epochs   int
	WallTime time.Duration
	// Eval is the re-training of this goal on fresh seeds, if any
	// evaluation study holds one.
	Eval *EvalRef
}

// EvalRef points at the evaluation of a goal: in which study, and its
// result.
type EvalRef struct {
	Study string
	Val   summary.Sample
	Test  summary.Sample
}

// A HistoryPoint is one finished trial of a search.
type HistoryPoint struct {
	Trial int
	State store.TrialState
	// Value is the trial's value (NaN for a failed trial or a pruned one
	// without a value); BestSoFar the best complete value up to and
	// including this trial, NaN before the first.
	Value, BestSoFar float64
}

// A Curve is a goal's learning curve: metrics by epoch. For an evaluated
// goal the values are means over seeds.
type Curve struct {
	Name   string
	Epochs []int
	Val    []float64
	Train  []float64 // training accuracy (label given as context)
	Test   []float64 // nil when the test set was not evaluated
}

// A Failure is one reason trials failed, and how many did.
type Failure struct {
	Reason string
	Count  int
}

// SignAgreement says how consistently the best goals weight each atom.
type SignAgreement struct {
	// Trials are the trials compared (the leaderboard).
	Trials []int
	Rows   []SignRow
}

// A SignRow is one searched coordinate of the goal.
type SignRow struct {
	Atom                     string
	Positive, Negative, Zero int
	Mean                     float64
	// Agreement is the share of the compared trials whose weight has the
	// majority sign: 1 when all agree, 0.5 for an even split.
	Agreement float64
	// Majority is +1, -1 or 0 (a tie, or all zero).
	Majority int
}

// AtomProfile is the mean PID atom profile of the hidden neurons (mean over
// neurons of each neuron's mean atoms in the last epoch, then over runs).
type AtomProfile struct {
	Labels []string
	// Best is the best goal's profile and BestFrom where it comes from;
	// Heuristic and HeuristicFrom the same for the setup's heuristic
	// goal, nil if no run of it is in the store.
	Best, Heuristic         []float64
	BestFrom, HeuristicFrom string
}

// EvalSummary is an evaluation study (package search's contract).
type EvalSummary struct {
	Study   string
	Kind    string
	Group   string
	Setup   string
	Hidden  int
	Epochs  int
	Seeds   []uint64
	Labels  []string
	Note    string
	Extra   []string
	Created time.Time
	// Synthetic is true for a synthetic test function.
	Synthetic bool
	Counts    Counts
	// Goals are the evaluated goals in the study's order.
	Goals []GoalResult
	// Failures counts the reasons of failed runs, most frequent first.
	Failures []Failure
	// Sensitivity and Sparsify are the analyses of the kinds of those
	// names; nil otherwise.
	Sensitivity *Sensitivity
	Sparsify    *Sparsification
	// Err says why the study could not be read as an evaluation; the
	// other fields are then empty.
	Err string
}

// A GoalResult is one goal of an evaluation study over its seeds.
type GoalResult struct {
	Index int
	Name  string
	Gamma []float64 // nil for a baseline
	Trial int       // source trial, -1 if none
	Atom  string
	Delta float64
	// Heuristic is true when the goal is its setup's heuristic goal.
	Heuristic bool
	// Runs split the goal's trials by state.
	Runs Counts
	// Val and Test are the final validation and test accuracies of the
	// complete runs, in seed order; ValBySeed and TestBySeed the same by
	// seed, for paired comparisons.
	Val, Test             summary.Sample
	ValBySeed, TestBySeed map[uint64]float64
	// Curve is the mean learning curve over the complete runs.
	Curve Curve
	// Atoms is the hidden neurons' mean atom profile, mean over runs; nil
	// when no run has atoms.
	Atoms []float64
}

// Sensitivity ranks the weights of a goal by how much validation accuracy
// is lost when each is set to 0.
type Sensitivity struct {
	// Baseline is the unchanged goal: its name, weights and results.
	Baseline  string
	Gamma     []float64
	Val, Test summary.Sample
	Rows      []SensitivityRow
	// PaperBaseline is the paper's validation accuracy of its own
	// optimised goal when the setup is the paper's sensitivity setup, NaN
	// otherwise.
	PaperBaseline float64
}

// A SensitivityRow is one weight: the goal with it set to 0, and with it
// moved by ±delta, where evaluated. Rows are ranked by DeltaVal of the
// zeroed goal, the most harmful first.
type SensitivityRow struct {
	Rank   int
	Atom   string
	Weight float64 // the baseline's weight
	// Zero, Plus and Minus are the variants; nil if not evaluated.
	Zero, Plus, Minus *Variant
	// Paper is the paper's validation accuracy with this weight set to 0;
	// NaN if it gives none.
	Paper float64
}

// A Variant is one changed goal of a sensitivity study.
type Variant struct {
	Goal  string
	Delta float64 // the change of the weight
	Val   summary.Sample
	Test  summary.Sample
	// DeltaVal is mean validation accuracy minus the baseline's.
	DeltaVal float64
	// Test compares the variant's validation accuracies with the
	// baseline's: paired by seed when every run has its partner (the
	// evaluation's design), else Welch's t-test.
	Compare summary.TestResult
}

// Sparsification is the greedy path from the dense goal to sparser ones.
type Sparsification struct {
	Steps []SparseStep
	// Chosen indexes the sparse goal in Steps, -1 if none; Rule says how
	// it was chosen.
	Chosen int
	Rule   string
}

// A SparseStep is one goal on the sparsification path.
type SparseStep struct {
	Goal  string
	Gamma []float64
	// Terms counts the non-zero weights; Zeroed names the weights that
	// are zero here but not in the previous step's goal.
	Terms  int
	Zeroed []string
	Val    summary.Sample
	Test   summary.Sample
}

// A ComparisonGroup compares goals trained with the same hidden size and
// epochs: only those runs are comparable.
type ComparisonGroup struct {
	Hidden, Epochs int
	Rows           []ComparisonRow
	// Best indexes the row with the highest mean test accuracy, -1 if no
	// row has one.
	Best int
}

// A ComparisonRow is one evaluated goal, preset or baseline.
type ComparisonRow struct {
	Study string
	Setup string
	Goal  string
	// Kind is "heuristic", "optimised", "modified" or "baseline".
	Kind string
	Val  summary.Sample
	Test summary.Sample
	// VsHeuristic compares the test accuracies with the setup's heuristic
	// goal in the same group; nil for the heuristic itself, baselines, or
	// when the group has no heuristic for the setup.
	VsHeuristic *Difference
	// Paper is the paper's test accuracy for this setup, goal kind and
	// hidden size; PaperText is "" when it has none.
	Paper     float64
	PaperText string
	PaperRow  string
}

// A Difference is row minus reference, with tests of whether it is real.
type Difference struct {
	Reference   string // the reference row's study and goal
	Delta       float64
	Welch       summary.TestResult
	MannWhitney summary.TestResult
}
