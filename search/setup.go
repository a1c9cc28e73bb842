package search

import (
	"encoding/json"
	"fmt"

	"goalsearch/store"
)

// TrainerSetup is the stored configuration of a study whose trials train a
// network of package trainer.
type TrainerSetup struct {
	Setup      string `json:"setup"`                   // context, lateral, context-lateral, context-lateral-feedback
	Hidden     int    `json:"hidden"`                  // hidden neurons
	Epochs     int    `json:"epochs"`                  // epochs per trial
	Data       string `json:"data,omitempty"`          // IDX data directory; empty: MNIST from the module cache
	TrainLimit int    `json:"train_limit,omitempty"`   // use only the first N training images; 0 all
	FanIn      int    `json:"lateral_fanin,omitempty"` // lateral partners per hidden neuron; 0 all
}

// NewObjective returns the objective of a study's setup; threads is the
// number of threads one trial may use.
func NewObjective(setup store.Setup, threads int) (Objective, error) {
	if IsSynthetic(setup.Name) {
		var cfg SyntheticConfig
		if err := json.Unmarshal(setup.Config, &cfg); err != nil {
			return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
		}
		return NewSynthetic(setup.Name, cfg)
	}
	var cfg TrainerSetup
	if err := json.Unmarshal(setup.Config, &cfg); err != nil {
		return nil, fmt.Errorf("setup %s: %w", setup.Name, err)
	}
	return newTrainerObjective(cfg, threads)
}
