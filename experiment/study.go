package experiment

import (
	"encoding/json"
	"fmt"

	"goalsearch/search"
	"goalsearch/setups"
	"goalsearch/store"
)

// OfStudy returns the experiment that recreates study: the one stored with
// it, or, for a study made before experiments were stored, one rebuilt from
// its definition (with one worker, which the store did not record). The
// budget is raised to the study's finished trials, so that the file's run
// ends where the study stands.
func OfStudy(study store.Study, finished int) (Experiment, error) {
	var e Experiment
	if len(study.Experiment) > 0 {
		var err error
		if e, err = FromJSON(study.Experiment); err != nil {
			return e, fmt.Errorf("study %s: its experiment: %v", study.Name, err)
		}
	} else {
		var err error
		if e, err = rebuild(study); err != nil {
			return e, err
		}
	}
	e.Study = study.Name
	e.Budget.Trials = max(e.Budget.Trials, finished)
	return e, nil
}

func rebuild(study store.Study) (Experiment, error) {
	e := Experiment{
		Objective: Objective{Metric: study.Objective.Metric, Direction: string(study.Objective.Direction)},
		Sampler:   Method{Name: study.Sampler.Name},
		Pruner:    Method{Name: study.Pruner.Name},
		// Studies stored without their experiment predate the experiment
		// file and ran one worker, the default then.
		Workers: 1, Seed: study.Seed, Budget: Budget{Trials: DefaultTrials},
	}
	if len(study.Objectives) > 0 {
		e.Objective.Complexity, e.Objective.Grid = study.Objectives[0].Metric, study.Objectives[0].Grid
	}
	if err := settingsOf(study.Sampler.Config, &e.Sampler.Settings); err != nil {
		return e, fmt.Errorf("study %s: sampler config: %v", study.Name, err)
	}
	if err := settingsOf(study.Pruner.Config, &e.Pruner.Settings); err != nil {
		return e, fmt.Errorf("study %s: pruner config: %v", study.Name, err)
	}
	if setups.IsSynthetic(study.Setup.Name) {
		var cfg setups.SyntheticConfig
		if err := json.Unmarshal(study.Setup.Config, &cfg); err != nil {
			return e, fmt.Errorf("study %s: setup config: %v", study.Name, err)
		}
		e.Network = setups.NetworkConfig{Setup: study.Setup.Name, Epochs: max(cfg.Epochs, 1)}
		e.Synthetic = Synthetic{Dim: cfg.Dim, Noise: cfg.Noise}
		if cfg.Sleep > 0 {
			e.Synthetic.Sleep = cfg.Sleep.String()
		}
	} else if err := json.Unmarshal(study.Setup.Config, &e.Network); err != nil {
		return e, fmt.Errorf("study %s: setup config: %v", study.Name, err)
	}
	sp := study.Space
	e.Space.UnitNorm = sp.UnitNorm
	if len(sp.Lower) > 0 {
		e.Space.Bounds = []float64{sp.Lower[0], sp.Upper[0]}
	}
	for i, l := range sp.Labels {
		en := Entry{Goal: l}
		if v, ok := sp.Fixed[l]; ok {
			en.Fixed = &v
		}
		if sp.Lower[i] != e.Space.Bounds[0] || sp.Upper[i] != e.Space.Bounds[1] {
			lo, hi := sp.Lower[i], sp.Upper[i]
			en.Lower, en.Upper = &lo, &hi
		}
		if en.Fixed != nil || en.Lower != nil {
			e.Space.Entries = append(e.Space.Entries, en)
		}
	}
	for _, p := range sp.Params {
		en := Entry{Param: p.Key, Type: string(p.Type)}
		if p.Type == store.Categorical {
			for _, c := range p.Choices {
				var v any
				_ = json.Unmarshal(c, &v)
				en.Choices = append(en.Choices, v)
			}
		} else {
			lo, hi := p.Lower, p.Upper
			en.Lower, en.Upper = &lo, &hi
		}
		e.Space.Entries = append(e.Space.Entries, en)
	}
	return e, nil
}

func settingsOf(raw json.RawMessage, dst *map[string]any) error {
	if len(raw) == 0 {
		return nil
	}
	return json.Unmarshal(raw, dst)
}

// KnownTrial returns the trial that enqueues the goal spec (a preset, a
// comma-separated vector or a goal file, the reference's Hydra configs
// included) as the index-th known goal of study: its hyperparameters take
// the values of the study's network.
func KnownTrial(study store.Study, spec string, index int) (store.NewTrial, error) {
	e, err := OfStudy(study, 0)
	if err != nil {
		return store.NewTrial{}, err
	}
	var base setups.NetworkConfig
	if !setups.IsSynthetic(study.Setup.Name) {
		if base, err = search.FullNetworkConfig(e.Network); err != nil {
			return store.NewTrial{}, err
		}
	}
	nt, err := e.known(spec, study, base)
	if err != nil {
		return nt, err
	}
	nt.Seed = search.TrialSeed(study.Seed, 0, index)
	return nt, nil
}
