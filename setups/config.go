package setups

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// NetworkConfig is the stored configuration (store.Setup.Config) of a study
// whose trials train a network of package trainer, and the network section
// of an experiment file: its JSON and YAML names are the same, so that an
// experiment's key path (network.hidden_layer.adam.lr) names a field of it.
// A zero field means the paper's setting for the setup (package trainer
// states each), so the configurations stored before the per-layer settings
// existed still mean what they meant.
type NetworkConfig struct {
	Setup       string    `json:"setup" yaml:"setup"`                                       // the network setup's name, e.g. context-lateral
	Hidden      int       `json:"hidden" yaml:"hidden,omitempty"`                           // hidden neurons (of each hidden layer)
	Layers      int       `json:"layers,omitempty" yaml:"layers,omitempty"`                 // hidden layers; 0: 1 (docs/layers.md)
	PerLayer    bool      `json:"goal_per_layer,omitempty" yaml:"goal_per_layer,omitempty"` // a goal per hidden layer (Layers × the setup's weights) instead of one shared by all
	Epochs      int       `json:"epochs" yaml:"epochs"`                                     // epochs per trial
	Data        string    `json:"data,omitempty" yaml:"data,omitempty"`                     // IDX data directory; empty: MNIST from the module cache
	TrainLimit  int       `json:"train_limit,omitempty" yaml:"train_limit,omitempty"`       // use only the first N training images; 0 all
	FanIn       int       `json:"lateral_fanin,omitempty" yaml:"lateral_fanin,omitempty"`   // lateral partners per hidden neuron; 0 all
	Batch       int       `json:"batch,omitempty" yaml:"batch,omitempty"`                   // minibatch size; 0: 1024
	ValFraction float64   `json:"val_fraction,omitempty" yaml:"val_fraction,omitempty"`     // fraction of the training images held out; 0: 0.2
	OutputGoal  []float64 `json:"output_goal,omitempty" yaml:"output_goal,omitempty,flow"`  // the output layer's goal; nil: the paper's
	HiddenLayer Layer     `json:"hidden_layer,omitzero" yaml:"hidden_layer,omitempty"`      // the hidden layer's binning, activation and optimiser
	OutputLayer Layer     `json:"output_layer,omitzero" yaml:"output_layer,omitempty"`      // the output layer's binning and optimiser
}

// NumLayers is the number of hidden layers, at least 1.
func (c NetworkConfig) NumLayers() int { return max(1, c.Layers) }

// GoalLayers is the number of goals the network's goal vector holds, one
// after the other in layer order: NumLayers with PerLayer, else 1 (one
// goal, shared by every hidden layer). The goal's length, and a study's
// search space, is GoalLayers times the setup's weights: this is the one
// place that decides it (package goals' NetworkLabels follows it).
func (c NetworkConfig) GoalLayers() int {
	if c.PerLayer {
		return c.NumLayers()
	}
	return 1
}

// LayerLabel is the label of a goal weight of hidden layer l (1-based) in a
// goal per layer: h1:{F}{C}.
func LayerLabel(l int, label string) string { return "h" + strconv.Itoa(l) + ":" + label }

// Layer holds one layer's settings; nil means the paper's.
type Layer struct {
	Binning    *Binning    `json:"binning,omitempty" yaml:"binning,omitempty"`
	Adam       *Adam       `json:"adam,omitempty" yaml:"adam,omitempty"`
	Activation *Activation `json:"activation,omitempty" yaml:"activation,omitempty"`
}

// IsZero reports whether l sets nothing.
func (l Layer) IsZero() bool { return l.Binning == nil && l.Adam == nil && l.Activation == nil }

// Binning is how a layer bins its sources for the PID estimate: Kind
// "fixed" divides [Lower, Upper] (both 0: [-20, 20]) into Bins equal bins, "adaptive" divides
// each source by its largest magnitude in the minibatch first and then
// [-1, 1] (Lower and Upper are then ignored).
type Binning struct {
	Kind  string  `json:"kind" yaml:"kind"`
	Bins  int     `json:"bins" yaml:"bins"`
	Lower float64 `json:"lower,omitempty" yaml:"lower"`
	Upper float64 `json:"upper,omitempty" yaml:"upper"`
}

// Adam is a layer's optimiser (torch.optim.Adam's semantics).
type Adam struct {
	LR          float64    `json:"lr" yaml:"lr"`
	WeightDecay float64    `json:"weight_decay" yaml:"weight_decay"`
	Betas       [2]float64 `json:"betas" yaml:"betas,flow"`
	Eps         float64    `json:"eps" yaml:"eps"`
}

// Activation holds the constants of the hidden layer's activation: K1, K2
// for the Graetz activation of a bivariate layer, C1, C2, W1, W2 for the
// Schneider activation of a trivariate one (the other set must be 0).
type Activation struct {
	K1 float64 `json:"k1,omitempty" yaml:"k1,omitempty"`
	K2 float64 `json:"k2,omitempty" yaml:"k2,omitempty"`
	C1 float64 `json:"c1,omitempty" yaml:"c1,omitempty"`
	C2 float64 `json:"c2,omitempty" yaml:"c2,omitempty"`
	W1 float64 `json:"w1,omitempty" yaml:"w1,omitempty"`
	W2 float64 `json:"w2,omitempty" yaml:"w2,omitempty"`
}

// With returns c with the setting at path (dot-separated JSON names below
// the network, e.g. "hidden_layer.adam.lr") set to the JSON value v. The
// path must name a setting of a configuration in which every layer setting
// is given (as an experiment resolves them); an unknown path or a value of
// the wrong type is an error naming the path.
func (c NetworkConfig) With(path string, v json.RawMessage) (NetworkConfig, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return c, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return c, err
	}
	var val any
	if err := json.Unmarshal(v, &val); err != nil {
		return c, fmt.Errorf("network.%s: value %s is not JSON", path, v)
	}
	parts := strings.Split(path, ".")
	cur := doc
	for i, p := range parts {
		last := i == len(parts)-1
		switch node := cur.(type) {
		case map[string]any:
			// A setting left out (omitempty) is created; the strict
			// decoding below refuses names that are not settings.
			next, ok := node[p]
			if !ok && !last {
				next = map[string]any{}
				node[p] = next
			}
			if last {
				node[p] = val
			}
			cur = next
		case []any:
			k, err := strconv.Atoi(p)
			if err != nil || k < 0 || k >= len(node) {
				return c, fmt.Errorf("network.%s: %q is not an index of a list of %d", path, p, len(node))
			}
			if last {
				node[k] = val
			}
			cur = node[k]
		default:
			return c, fmt.Errorf("network.%s: no such setting", path)
		}
	}
	raw, _ = json.Marshal(doc)
	var out NetworkConfig
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&out); err != nil {
		return c, fmt.Errorf("network.%s = %s: %v", path, v, err)
	}
	return out, nil
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
