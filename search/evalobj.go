package search

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/trainer"
	"goalsearch/trainer/dataset"
)

// Evaluation objectives. An evaluation study's trials must record the test
// accuracy next to the validation accuracy, and its objective value is the
// test accuracy (the study's Objective.Metric is "test_acc"): nothing
// chooses by it, the value only says what the trial measured. Decisions
// (which goal is better, which weight matters) read Final["val_acc"].

// NewEvalObjective returns the objective of an evaluation study's setup:
// a training run that evaluates the test set too (a baseline setup, which
// takes no goal, ignores the trial's one-number gamma), or for a synthetic
// setup the function with a fake test accuracy. data, if not nil, is used
// instead of loading the setup's data set (tests inject small ones); a
// trainer setup's data is loaded here, before any trial starts, so that a
// missing data set is an error of the command rather than a failed trial.
//
// params are the study's hyperparameters, which each trial sets (a joint
// search's goals are evaluated with their trials' values).
func NewEvalObjective(setup store.Setup, params []store.Param, threads int, data *dataset.Dataset) (Objective, error) {
	if setups.IsSynthetic(setup.Name) {
		var cfg setups.SyntheticConfig
		if err := json.Unmarshal(setup.Config, &cfg); err != nil {
			return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
		}
		s, err := NewSynthetic(setup.Name, cfg)
		if err != nil {
			return nil, err
		}
		return &syntheticEval{s}, nil
	}
	var cfg setups.NetworkConfig
	if err := json.Unmarshal(setup.Config, &cfg); err != nil {
		return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
	}
	s, err := trainer.ParseSetup(cfg.Setup)
	if err != nil {
		return nil, err
	}
	if cfg.Epochs < 1 || cfg.Hidden < 1 {
		return nil, fmt.Errorf("setup %s: %d epochs and %d hidden neurons; want at least 1 of each", cfg.Setup, cfg.Epochs, cfg.Hidden)
	}
	if data == nil {
		if data, err = dataset.Load(cfg.Data, nil); err != nil {
			return nil, err
		}
	}
	return &trainerEval{cfg: cfg, setup: s, threads: max(threads, 1), data: data, params: params}, nil
}

// syntheticEval adds a fake test accuracy to a synthetic objective, so that
// the evaluation machinery can be tested in milliseconds: the value plus
// noise of its own (seeded by the trial's seed, independent of the value's
// noise), so that test and validation differ as they do for networks.
type syntheticEval struct{ s *Synthetic }

func (e *syntheticEval) Epochs() int { return e.s.Epochs() }

func (e *syntheticEval) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	sd := e.s.Cfg.Noise
	if sd == 0 {
		sd = 1e-3
	}
	shift := sd * rand.New(rand.NewPCG(spec.Seed, 0x7e57)).NormFloat64()
	out, err := e.s.Run(ctx, spec, func(r EpochReport) error {
		t := r.Metrics.ValAcc + shift
		r.Metrics.TestAcc = &t
		return report(r)
	})
	if err != nil {
		return out, err
	}
	test := out.Value + shift
	out.Final["test_acc"] = test
	out.Final["val_acc_fraction"] = out.Value
	out.Final["test_acc_fraction"] = test
	out.Final["train_loss"] = out.Final["f"]
	out.Value = test
	return out, nil
}

// trainerEval trains a network of package trainer per trial and evaluates
// the validation and the test set after every epoch.
type trainerEval struct {
	cfg     setups.NetworkConfig
	setup   trainer.Setup
	threads int
	data    *dataset.Dataset
	params  []store.Param
}

func (o *trainerEval) Epochs() int { return o.cfg.Epochs }

func (o *trainerEval) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	cfg := o.cfg
	if len(o.params) > 0 {
		full, err := FullNetworkConfig(cfg)
		if err != nil {
			return Outcome{}, err
		}
		if cfg, err = ApplyParams(full, o.params, spec.Params); err != nil {
			return Outcome{}, err
		}
	}
	tc, err := TrainerConfig(cfg)
	if err != nil {
		return Outcome{}, err
	}
	tc.Seed, tc.Epochs, tc.Threads = spec.Seed, spec.Epochs, o.threads
	if o.setup.TakesGoal() {
		tc.Goal = spec.Gamma
	}
	last, err := trainTrial(ctx, tc, o.data, spec, report)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{
		Value: last.Test.BatchMean,
		Final: map[string]float64{
			"val_acc": last.Val.BatchMean, "val_acc_fraction": last.Val.Fraction,
			"test_acc": last.Test.BatchMean, "test_acc_fraction": last.Test.Fraction,
			"train_loss": last.TrainLoss, "train_acc_with_label": last.TrainAccWithLabel.BatchMean,
		},
		Atoms: last.HiddenNeuronAtoms,
	}, nil
}
