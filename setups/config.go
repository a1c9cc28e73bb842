package setups

import "time"

// NetworkConfig is the stored configuration (store.Setup.Config) of a study
// whose trials train a network of package trainer.
type NetworkConfig struct {
	Setup      string `json:"setup"`                   // the network setup's name, e.g. context-lateral
	Hidden     int    `json:"hidden"`                  // hidden neurons
	Epochs     int    `json:"epochs"`                  // epochs per trial
	Data       string `json:"data,omitempty"`          // IDX data directory; empty: MNIST from the module cache
	TrainLimit int    `json:"train_limit,omitempty"`   // use only the first N training images; 0 all
	FanIn      int    `json:"lateral_fanin,omitempty"` // lateral partners per hidden neuron; 0 all
}

// SyntheticConfig is the stored configuration of a study of a synthetic
// setup.
type SyntheticConfig struct {
	Dim    int           `json:"dim"`             // number of coordinates
	Epochs int           `json:"epochs"`          // 0 means 1
	Noise  float64       `json:"noise,omitempty"` // std of Gaussian noise added to the value, seeded by the trial's seed
	Sleep  time.Duration `json:"sleep,omitempty"` // wall time per trial, spread over its epochs, to imitate training
	Fail   float64       `json:"fail,omitempty"`  // value of f above which the trial fails (diverges); 0 never
}
