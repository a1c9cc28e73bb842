package main

import (
	"fmt"
	"math"

	"goalsearch/trainer"
)

// checkSearchFlags refuses the values of search's flags that no study can
// use, naming the flag and what it wants, before anything is stored.
func checkSearchFlags(o *searchOptions) error {
	switch {
	case o.Epochs < 0:
		return usagef("--epochs %d: want 0 (the setup's default) or more", o.Epochs)
	case o.Threads < 0:
		return usagef("--threads %d: want 0 (the cores divided among the workers) or more", o.Threads)
	case math.IsNaN(o.Noise) || math.IsInf(o.Noise, 0) || o.Noise < 0:
		return usagef("--noise %v: want a finite standard deviation, 0 or more", o.Noise)
	case o.Sleep < 0:
		return usagef("--sleep %v: want 0 or more", o.Sleep)
	case o.Time < 0:
		return usagef("--time %v: want 0 (no limit) or more", o.Time)
	case o.Lease < 0:
		return usagef("--lease %v: want 0 (the default) or more", o.Lease)
	case o.TrainLimit < 0:
		return usagef("--train-limit %d: want 0 (all) or a positive number of images", o.TrainLimit)
	case o.FanIn < 0:
		return usagef("--lateral-fanin %d: want 0 (all) or more", o.FanIn)
	case o.Hidden < 1:
		return usagef("--hidden %d: want at least 1", o.Hidden)
	case o.Layers < 1 || o.Layers > trainer.MaxLayers:
		return usagef("--layers %d: want 1 to %d hidden layers", o.Layers, trainer.MaxLayers)
	case o.Pruner == "none" && o.PrunerConfig != "":
		return usagef("--pruner-config %s: the none pruner takes no settings (give --pruner asha or median)", o.PrunerConfig)
	}
	return nil
}

// configErr names the flag of a sampler's or pruner's settings in err, if
// the flag was given (else the settings came from the stored study).
func configErr(flag, value string, err error) error {
	if value == "" {
		return err
	}
	return fmt.Errorf("%s %s: %w", flag, value, err)
}

// checkWorkerFlags is checkSearchFlags for worker's own flags.
func checkWorkerFlags(o *workerOptions) error {
	switch {
	case o.Threads < 0:
		return usagef("--threads %d: want 0 (the cores divided among the slots) or more", o.Threads)
	case o.Time < 0:
		return usagef("--time %v: want 0 (no limit) or more", o.Time)
	case o.Lease < 0:
		return usagef("--lease %v: want 0 (the default) or more", o.Lease)
	case o.Poll <= 0:
		return usagef("--poll %v: want a positive interval", o.Poll)
	case o.Retry < 0:
		return usagef("--retry %v: want 0 (give up at once) or more", o.Retry)
	}
	return nil
}
