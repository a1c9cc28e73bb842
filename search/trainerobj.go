package search

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/trainer"
	"goalsearch/trainer/dataset"
)

// trainerObjective trains a network of package trainer per trial; its value
// is the validation accuracy after the last epoch (the reference's mean of
// per-batch accuracies, the paper's objective). The test set is never
// evaluated: a search must not choose by it.
type trainerObjective struct {
	cfg     setups.NetworkConfig
	setup   trainer.Setup
	threads int
	params  []store.Param // the study's hyperparameters, set per trial

	once sync.Once
	data *dataset.Dataset
	err  error
}

func newTrainerObjective(cfg setups.NetworkConfig, params []store.Param, threads int) (Objective, error) {
	s, err := trainer.ParseSetup(cfg.Setup)
	if err != nil {
		return nil, err
	}
	if !s.TakesGoal() {
		return nil, fmt.Errorf("setup %s has no goal to search", cfg.Setup)
	}
	if cfg.Epochs < 1 || cfg.Hidden < 1 {
		return nil, fmt.Errorf("setup %s: %d epochs and %d hidden neurons; want at least 1 of each", cfg.Setup, cfg.Epochs, cfg.Hidden)
	}
	if _, err := TrainerConfig(cfg); err != nil {
		return nil, err
	}
	return &trainerObjective{cfg: cfg, setup: s, threads: max(threads, 1), params: params}, nil
}

// withParams returns the network configuration with a trial's
// hyperparameters set.
func (o *trainerObjective) withParams(vals []float64) (setups.NetworkConfig, error) {
	if len(o.params) == 0 {
		return o.cfg, nil
	}
	// A parameter sets one field of a layer's settings; the others keep
	// the paper's values, which the stored configuration leaves out.
	full, err := FullNetworkConfig(o.cfg)
	if err != nil {
		return o.cfg, err
	}
	return ApplyParams(full, o.params, vals)
}

// ApplyParams sets each hyperparameter's value (a categorical one's choice)
// at its key path below "network.".
func ApplyParams(cfg setups.NetworkConfig, ps []store.Param, vals []float64) (setups.NetworkConfig, error) {
	if len(vals) != len(ps) {
		return cfg, fmt.Errorf("%d hyperparameter values for %d hyperparameters", len(vals), len(ps))
	}
	for i, p := range ps {
		path, ok := strings.CutPrefix(p.Key, "network.")
		if !ok {
			return cfg, fmt.Errorf("hyperparameter %s: a network setup's hyperparameters are under network.", p.Key)
		}
		v, err := ParamJSON(p, vals[i])
		if err != nil {
			return cfg, err
		}
		if cfg, err = cfg.With(path, v); err != nil {
			return cfg, err
		}
	}
	return cfg, nil
}

// ParamJSON returns a parameter's value as the JSON value it sets: the
// number, an integer for an int parameter, the choice of a categorical one.
func ParamJSON(p store.Param, v float64) (json.RawMessage, error) {
	switch p.Type {
	case store.Categorical:
		k := int(v)
		if k < 0 || k >= len(p.Choices) || float64(k) != v {
			return nil, fmt.Errorf("hyperparameter %s: choice %v of %d", p.Key, v, len(p.Choices))
		}
		return p.Choices[k], nil
	case store.Int:
		return json.RawMessage(strconv.FormatInt(int64(v), 10)), nil
	}
	return json.Marshal(v)
}

func (o *trainerObjective) Epochs() int { return o.cfg.Epochs }

// dataset loads the data once for all trials; it is only read afterwards.
func (o *trainerObjective) dataset() (*dataset.Dataset, error) {
	o.once.Do(func() { o.data, o.err = dataset.Load(o.cfg.Data, nil) })
	return o.data, o.err
}

func (o *trainerObjective) Run(ctx context.Context, spec TrialSpec, report func(EpochReport) error) (Outcome, error) {
	data, err := o.dataset()
	if err != nil {
		return Outcome{}, err
	}
	cfg, err := o.withParams(spec.Params)
	if err != nil {
		return Outcome{}, err
	}
	tc, err := TrainerConfig(cfg)
	if err != nil {
		return Outcome{}, err
	}
	tc.Goal, tc.Seed, tc.Epochs, tc.Threads, tc.NoTest = spec.Gamma, spec.Seed, spec.Epochs, o.threads, true
	last, err := trainTrial(ctx, tc, data, spec, report)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{
		Value: last.Val.BatchMean,
		Final: map[string]float64{
			"val_acc": last.Val.BatchMean, "val_acc_fraction": last.Val.Fraction,
			"train_loss": last.TrainLoss, "train_acc_with_label": last.TrainAccWithLabel.BatchMean,
		},
		Atoms: last.HiddenNeuronAtoms,
	}, nil
}

// trainTrial trains one trial with tc (continuing after spec.Checkpoint if
// set), reports every trained epoch with its checkpoint, and returns the
// last epoch's metrics. The test accuracy is reported only if tc evaluates
// the test set (evaluations do; searches never do).
func trainTrial(ctx context.Context, tc trainer.Config, data *dataset.Dataset, spec TrialSpec, report func(EpochReport) error) (trainer.EpochMetrics, error) {
	var last trainer.EpochMetrics
	tr, err := trainer.New(tc, data)
	if err != nil {
		return last, err
	}
	defer tr.Close()
	if spec.Checkpoint != nil {
		var st trainer.State
		if err := st.UnmarshalBinary(spec.Checkpoint); err != nil {
			return last, err
		}
		if err := tr.Restore(&st); err != nil {
			return last, err
		}
	}
	for !tr.Done() {
		m, err := tr.RunEpoch(ctx)
		if err != nil {
			if errors.Is(err, trainer.ErrNonFinite) {
				return last, fmt.Errorf("training diverged: %w", err)
			}
			return last, err
		}
		last = m
		if m.Epoch == 0 {
			continue // evaluation only; the store counts trained epochs
		}
		st, err := tr.State()
		if err != nil {
			return last, err
		}
		ckpt, err := st.MarshalBinary()
		if err != nil {
			return last, err
		}
		em := store.EpochMetrics{
			Epoch: m.Epoch, TrainLoss: m.TrainLoss, TrainAcc: m.TrainAccWithLabel.BatchMean, ValAcc: m.Val.BatchMean,
			Seconds: m.TrainSeconds + m.ValSeconds,
			Extra:   map[string]float64{"val_acc_fraction": m.Val.Fraction, "hidden_loss": m.HiddenLoss, "output_loss": m.OutputLoss},
		}
		if !tc.NoTest {
			test := m.Test.BatchMean
			em.TestAcc = &test
			em.Seconds += m.TestSeconds
			em.Extra["test_acc_fraction"] = m.Test.Fraction
		}
		if err := report(EpochReport{Metrics: em, Checkpoint: ckpt}); err != nil {
			return last, err
		}
	}
	if last.Epoch == 0 && spec.Checkpoint != nil {
		// Restored at the end: the metrics come from the checkpoint.
		ms := tr.Metrics()
		last = ms[len(ms)-1]
	}
	return last, nil
}
