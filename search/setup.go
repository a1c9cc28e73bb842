package search

import (
	"encoding/json"
	"fmt"
	"strings"

	"goalsearch/setups"
	"goalsearch/store"
	"goalsearch/summary"
)

// NewObjective returns the objective of a study's setup whose trials set
// the hyperparameters params (the search space's Params); threads is the
// number of threads one trial may use.
func NewObjective(setup store.Setup, params []store.Param, threads int) (Objective, error) {
	if setups.IsSynthetic(setup.Name) {
		var cfg setups.SyntheticConfig
		if err := json.Unmarshal(setup.Config, &cfg); err != nil {
			return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
		}
		for _, p := range params {
			if !strings.HasPrefix(p.Key, "synthetic.") {
				return nil, fmt.Errorf("hyperparameter %s: a synthetic setup's hyperparameters are further coordinates named synthetic.NAME", p.Key)
			}
		}
		return NewSynthetic(setup.Name, cfg)
	}
	var cfg setups.NetworkConfig
	if err := json.Unmarshal(setup.Config, &cfg); err != nil {
		return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
	}
	return newTrainerObjective(cfg, params, threads)
}

// ForStudy returns the objective and sampler that run a stored study: a
// search's from its setup and sampler configuration, an evaluation study's
// (summary.IsEvalStudy) from its setup, evaluating the test set too, with a sampler
// that proposes nothing, since its trials are enqueued when it is made.
// threads is the number of threads one trial may use.
func ForStudy(study store.Study, threads int) (Objective, Sampler, error) {
	if summary.IsEvalStudy(study) {
		obj, err := NewEvalObjective(study.Setup, study.Space.Params, threads, nil)
		if err != nil {
			return nil, nil, err
		}
		return obj, NewEvalSampler(), nil
	}
	obj, err := NewObjective(study.Setup, study.Space.Params, threads)
	if err != nil {
		return nil, nil, err
	}
	space, err := NewSpace(study.Space)
	if err != nil {
		return nil, nil, err
	}
	smp, err := NewSampler(study.Sampler.Name, space.Box(), study.Sampler.Config, study.Seed)
	if err != nil {
		return nil, nil, err
	}
	return obj, smp, nil
}
