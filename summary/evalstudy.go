package summary

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"goalsearch/setups"
	"goalsearch/store"
)

// Evaluations (re-training chosen goals on fresh seeds, with the test set)
// and goal analyses are kept in the store as studies of their own, so that
// every backend stores them without a schema of its own and they resume like
// searches. Such an evaluation study:
//
//   - is named Group/Kind/Setup/hHidden (EvalStudyName), where Group is the
//     searched study the goals come from, or "presets";
//   - has Sampler.Name "evaluate" and an EvalConfig as Sampler.Config;
//   - has the setup's goal labels as its search space (a baseline setup,
//     which takes no goal, has the one label "none" and gamma [0]);
//   - has one trial per goal and seed (NewEvalTrial): GoalIndex gives its
//     goal's index in EvalConfig.Goals (the store's Generation), Seed is
//     the seed, Gamma the goal, Final holds "val_acc", "test_acc",
//     "val_acc_fraction", "test_acc_fraction" and "train_loss", Epochs the
//     per-epoch metrics with TestAcc set, Atoms the hidden neurons' mean
//     atoms of the last epoch.
//
// The test set appears only in these studies, never in a search.

// PresetsGroup is the group of the evaluation studies whose goals come from
// no search: presets and baselines (goalsearch evaluate without a study,
// goalsearch reproduce).
const PresetsGroup = "presets"

// EvalSampler is the Sampler.Name of an evaluation study.
const EvalSampler = "evaluate"

// The kinds of evaluation studies.
const (
	KindEvaluate    = "evaluate"    // top goals of a study, or presets, on fresh seeds
	KindSensitivity = "sensitivity" // the best goal with one weight set to 0 (and ±0.1) at a time
	KindSparsify    = "sparsify"    // greedy zeroing of the least important weights
	KindReproduce   = "reproduce"   // the paper's comparison: every setup's goals and the baselines
)

// EvalConfig describes an evaluation study's goals; GoalIndex of a trial
// indexes Goals.
type EvalConfig struct {
	Kind   string     `json:"kind"`
	Group  string     `json:"group"`           // the source study, or "presets"
	Setup  string     `json:"setup"`           // the trainer setup every goal is trained with
	Hidden int        `json:"hidden"`          // hidden neurons
	Epochs int        `json:"epochs"`          // training epochs per run
	Seeds  []uint64   `json:"seeds"`           // the fresh seeds every goal is trained with
	Goals  []EvalGoal `json:"goals"`           // what is evaluated
	Note   string     `json:"note,omitempty"`  // e.g. the tolerance of a sparsification
	Extra  []string   `json:"extra,omitempty"` // free-form key=value notes
}

// EvalGoal is one evaluated goal.
type EvalGoal struct {
	// Name says what the goal is: "trial 12", "context-lateral/naive",
	// "best", "best, {F}{C} = 0", "best, {F}{C} + 0.1", "sparse, 4 terms",
	// or the setup's name for a baseline.
	Name string `json:"name"`
	// Gamma is the goal vector in the setup's goal order; nil for a
	// baseline.
	Gamma []float64 `json:"gamma,omitempty"`
	// Params are a joint search's trial's hyperparameter values
	// (store.Trial.Params), with which the goal is evaluated; nil
	// otherwise.
	Params []float64 `json:"params,omitempty"`
	// Trial is the source trial's number, -1 if the goal did not come from
	// a trial.
	Trial int `json:"trial"`
	// Atom and Delta describe a sensitivity variant: the label of the
	// changed weight and its new value minus the original; Atom is empty
	// otherwise.
	Atom  string  `json:"atom,omitempty"`
	Delta float64 `json:"delta,omitempty"`
}

// GoalIndex is the index in EvalConfig.Goals of the goal an evaluation
// study's trial trains. The store keeps it in the trial's Generation, which
// in a search counts the sampler's generations; in an evaluation study it
// names a goal, and only this function and NewEvalTrial know that.
func GoalIndex(t store.Trial) int { return t.Generation }

// NewEvalTrial is the trial of an evaluation study that trains goal (its
// index in EvalConfig.Goals) with gamma on seed.
func NewEvalTrial(goal int, gamma []float64, seed uint64) store.NewTrial {
	return store.NewTrial{Gamma: gamma, Seed: seed, Generation: goal}
}

// EvalStudyName names the evaluation study of a group, kind, setup and
// hidden size.
func EvalStudyName(group, kind, setup string, hidden int) string {
	return group + "/" + kind + "/" + setup + "/h" + strconv.Itoa(hidden)
}

// IsEvalStudy reports whether a study holds evaluations rather than a search.
func IsEvalStudy(s store.Study) bool { return s.Sampler.Name == EvalSampler }

// ReadEvalConfig decodes an evaluation study's configuration.
func ReadEvalConfig(s store.Study) (EvalConfig, error) {
	var c EvalConfig
	if !IsEvalStudy(s) {
		return c, fmt.Errorf("study %s is not an evaluation study (sampler %q)", s.Name, s.Sampler.Name)
	}
	dec := json.NewDecoder(strings.NewReader(string(s.Sampler.Config)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return c, fmt.Errorf("study %s: evaluation config: %w", s.Name, err)
	}
	return c, nil
}

// EvalStudy builds the definition of an evaluation study for cfg, whose
// goals have the given labels (nil for a baseline setup).
func EvalStudy(cfg EvalConfig, labels []string) (store.Study, error) {
	b, err := json.Marshal(cfg)
	if err != nil {
		return store.Study{}, err
	}
	setup, err := json.Marshal(setups.NetworkConfig{Setup: cfg.Setup, Hidden: cfg.Hidden, Epochs: cfg.Epochs})
	if err != nil {
		return store.Study{}, err
	}
	if labels == nil {
		labels = []string{"none"}
	}
	sp := store.SearchSpace{Labels: labels}
	for range labels {
		sp.Lower = append(sp.Lower, -1e9)
		sp.Upper = append(sp.Upper, 1e9)
	}
	return store.Study{
		Name:      EvalStudyName(cfg.Group, cfg.Kind, cfg.Setup, cfg.Hidden),
		Setup:     store.Setup{Name: cfg.Setup, Config: setup},
		Space:     sp,
		Objective: store.Objective{Metric: "test_acc", Direction: store.Maximize},
		Sampler:   store.SamplerConfig{Name: EvalSampler, Config: b},
	}, nil
}
