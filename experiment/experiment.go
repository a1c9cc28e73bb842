// Package experiment reads, overrides and resolves experiment files: one
// YAML document that describes a goal search (or one training run) in full,
// so that it can be versioned beside a paper and changed from the command
// line, the way the reference's users describe runs with Hydra.
//
// Everything that defines a search goes through one path: a file (or none)
// is decoded strictly, key=value overrides (including the command line's
// flags) are applied to it with the same checks, and Resolve fills in
// every default and returns the store.Study it defines. The resolved
// experiment is stored with the study (store.Study.Experiment), and
// printing it gives a file that recreates the study exactly.
//
// docs/experiments.md is the schema.
package experiment

import (
	"encoding/json"
	"time"

	"goalsearch/setups"
)

// Experiment is the document of an experiment file. Its YAML and JSON
// names are the same; a key path such as network.hidden_layer.adam.lr
// names a field through them. Zero values mean the stated defaults, which
// Resolve fills in.
type Experiment struct {
	// Study names the study (command line: --study).
	Study string `yaml:"study,omitempty" json:"study,omitempty"`
	// Network is what each trial trains. Network.Setup may also name a
	// synthetic test function; its other fields then stay zero.
	Network setups.NetworkConfig `yaml:"network" json:"network"`
	// Synthetic holds a synthetic setup's settings.
	Synthetic Synthetic `yaml:"synthetic,omitempty" json:"synthetic,omitzero"`
	// Objective is what the search maximises: val_acc, the validation
	// accuracy after the last epoch (the only one so far).
	Objective Objective `yaml:"objective" json:"objective"`
	// Space is what the sampler searches.
	Space Space `yaml:"space" json:"space"`
	// Sampler names the sampler and holds its settings (default cmaes).
	Sampler Method `yaml:"sampler" json:"sampler"`
	// Pruner names the pruner and holds its settings (default none).
	Pruner Method `yaml:"pruner" json:"pruner"`
	// Budget is how much the search may spend.
	Budget Budget `yaml:"budget" json:"budget"`
	// Workers is the number of trials in flight (default 1); it is also
	// the generation size of tpe, random and sobol, so it shapes the
	// proposals.
	Workers int `yaml:"workers" json:"workers"`
	// Seed is the study's seed (default 1).
	Seed uint64 `yaml:"seed" json:"seed"`
	// Enqueue are known goals (preset names or comma-separated vectors)
	// evaluated first, with the network's own hyperparameter values.
	Enqueue []string `yaml:"enqueue,omitempty,flow" json:"enqueue,omitempty"`
}

// Synthetic holds the settings of a synthetic setup.
type Synthetic struct {
	Dim   int     `yaml:"dim" json:"dim,omitempty"`
	Noise float64 `yaml:"noise,omitempty" json:"noise,omitempty"`
	// Sleep is the wall time of each trial, e.g. 200ms.
	Sleep string `yaml:"sleep,omitempty" json:"sleep,omitempty"`
}

// IsZero reports whether s sets nothing.
func (s Synthetic) IsZero() bool { return s == Synthetic{} }

// Objective names the metric and its direction.
type Objective struct {
	Metric    string `yaml:"metric" json:"metric"`
	Direction string `yaml:"direction" json:"direction"`
	// Complexity, if set, is a second objective, minimised: the goal's
	// nonzero weights or its L1 norm after rounding to Grid (default
	// 0.1); goals are trained rounded (docs/pareto.md).
	Complexity string  `yaml:"complexity,omitempty" json:"complexity,omitempty"`
	Grid       float64 `yaml:"grid,omitempty" json:"grid,omitempty"`
}

// Space is the search space: every goal weight, within Bounds unless an
// entry says otherwise, and the hyperparameters the entries name.
type Space struct {
	// UnitNorm scales the goal part of every proposal to norm 1.
	UnitNorm bool `yaml:"unit_norm" json:"unit_norm,omitempty"`
	// Bounds are the lower and upper bound of every goal weight that no
	// entry bounds (default [-1, 1]).
	Bounds []float64 `yaml:"bounds,flow" json:"bounds"`
	// Entries bound or fix goal weights and add hyperparameters, in the
	// order the sampler's box lists them.
	Entries []Entry `yaml:"entries" json:"entries,omitempty"`
}

// An Entry is one goal weight (Goal, an atom label) or one hyperparameter
// (Param, a key path below network., or synthetic. for a synthetic setup).
type Entry struct {
	Goal  string `yaml:"goal,omitempty" json:"goal,omitempty"`
	Param string `yaml:"param,omitempty" json:"param,omitempty"`
	// Type is float (the default, and the only type of a goal weight),
	// log-float, int or categorical.
	Type  string   `yaml:"type,omitempty" json:"type,omitempty"`
	Lower *float64 `yaml:"lower,omitempty" json:"lower,omitempty"`
	Upper *float64 `yaml:"upper,omitempty" json:"upper,omitempty"`
	// Choices are a categorical hyperparameter's values.
	Choices []any `yaml:"choices,omitempty,flow" json:"choices,omitempty"`
	// Fixed fixes a goal weight (a number) instead of searching it.
	Fixed *float64 `yaml:"fixed,omitempty" json:"fixed,omitempty"`
}

// Method is a sampler or pruner: its name and settings (the JSON fields of
// its Config, e.g. n_startup_trials for tpe).
type Method struct {
	Name     string         `yaml:"name" json:"name"`
	Settings map[string]any `yaml:"settings,omitempty" json:"settings,omitempty"`
}

// Budget bounds a search.
type Budget struct {
	// Trials is the number of finished trials the study should have
	// (default 20).
	Trials int `yaml:"trials" json:"trials"`
	// Time stops a run after this long (e.g. 8h); empty or 0: no limit.
	Time string `yaml:"time,omitempty" json:"time,omitempty"`
}

// Duration returns Budget.Time parsed.
func (b Budget) Duration() (time.Duration, error) {
	if b.Time == "" || b.Time == "0" {
		return 0, nil
	}
	return time.ParseDuration(b.Time)
}

// FromJSON decodes an experiment as stored with a study.
func FromJSON(b []byte) (Experiment, error) {
	var e Experiment
	err := json.Unmarshal(b, &e)
	return e, err
}
