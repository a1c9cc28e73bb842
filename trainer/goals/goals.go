// Package goals holds the goal vectors a neuron can be given: the paper's
// published vectors, embedded in the binary as presets, and the parsing of a
// user's --goal argument (a preset name, a comma-separated vector, or a YAML
// file) for a given setup.
//
// A goal vector has one weight per PID atom of the setup's hidden layer, in
// the lattice's goal order (package pid), then one for H_res: 5 numbers for
// the bivariate setups, 19 for the trivariate ones.
package goals

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"goalsearch/pid"
	"goalsearch/setups"
)

// goals.yaml holds the vectors published with the reference implementation
// (Priesemann-Group/Infomorphic_Networks, its conf/goals files), in goal
// order, as the project's notes on the reference collected them, and the
// goals goalsearch's own campaigns discovered, each with its provenance.
//
//go:embed goals.yaml
var presetYAML []byte

// A Preset is a published goal vector for one setup.
type Preset struct {
	Setup string    `yaml:"setup"`
	Name  string    `yaml:"name"`
	Gamma []float64 `yaml:"gamma"`
	// Discovered is set for a goal a goalsearch campaign found, rather than
	// one the paper published.
	Discovered *Discovery `yaml:"discovered,omitempty"`
}

// A Discovery records where a discovered preset came from and what it
// measured, so that a user can check the published number by re-running it.
type Discovery struct {
	Study string `yaml:"study" json:"study"`
	Trial int    `yaml:"trial" json:"trial"`
	Date  string `yaml:"date" json:"date"` // YYYY-MM-DD
	// Seed, Epochs, ValAcc and TestAcc: one run of goalsearch train with
	// this seed and epoch count ends at these accuracies (per-batch means,
	// as train reports them); runs are bit-reproducible.
	Seed    uint64  `yaml:"seed" json:"seed"`
	Epochs  int     `yaml:"epochs" json:"epochs"`
	ValAcc  float64 `yaml:"val_acc" json:"val_acc"`
	TestAcc float64 `yaml:"test_acc" json:"test_acc"`
	// Evaluation summarises the multi-seed evaluation and names its document.
	Evaluation string `yaml:"evaluation" json:"evaluation"`
}

// Describe is a discovered preset's provenance in one sentence.
func (d *Discovery) Describe() string {
	return fmt.Sprintf("found by goalsearch study %s, trial %d, %s; seed %d, %d epochs: validation %.4f, test %.4f; %s",
		d.Study, d.Trial, d.Date, d.Seed, d.Epochs, d.ValAcc, d.TestAcc, d.Evaluation)
}

// FullName is how presets are named on the command line: setup/name.
func (p Preset) FullName() string { return p.Setup + "/" + p.Name }

// ErrNoGoal is returned for a setup whose hidden layer has no PID goal.
var ErrNoGoal = errors.New("goals: setup has no hidden-layer goal")

// Sources returns the names of the hidden layer's source classes of a setup
// that takes a goal (package setups: F feedforward, the image; C context,
// the label or the output layer's feedback; L lateral), or ErrNoGoal.
func Sources(setup string) ([]string, error) {
	s, ok := setups.Lookup(setup)
	if !ok || !s.TakesGoal() {
		return nil, fmt.Errorf("%w: %q (setups with goals: %s)", ErrNoGoal, setup, strings.Join(Setups(), ", "))
	}
	names := make([]string, len(s.Sources))
	for i, src := range s.Sources {
		names[i] = src.Name
	}
	return names, nil
}

// Setups lists the setups that take a goal, sorted.
func Setups() []string {
	return slices.Sorted(slices.Values(setups.Names(setups.Infomorphic)))
}

// Labels returns the labels of a setup's goal vector with source names, such
// as {F}{CL}, then H_res.
func Labels(setup string) ([]string, error) {
	names, err := Sources(setup)
	if err != nil {
		return nil, err
	}
	return pid.MustLattice(len(names)).Labels(names), nil
}

// NetworkLabels returns the labels of the goal vector of a network
// configuration: the setup's (Labels) for a goal shared by every hidden
// layer, or, with a goal per layer (setups.NetworkConfig.GoalLayers), each
// layer's labels prefixed by the layer, h1:{F}{C} ... h2:{F}{C} ..., layer 1
// first.
func NetworkLabels(cfg setups.NetworkConfig) ([]string, error) {
	l, err := Labels(cfg.Setup)
	if err != nil || cfg.GoalLayers() == 1 {
		return l, err
	}
	var out []string
	for k := 1; k <= cfg.GoalLayers(); k++ {
		for _, x := range l {
			out = append(out, setups.LayerLabel(k, x))
		}
	}
	return out, nil
}

// ParseNetwork is Parse for a network configuration: with a goal per layer
// (K layers), spec is either K goals' weights comma-separated (layer 1
// first), or anything Parse takes, which every layer is then given.
func ParseNetwork(spec string, cfg setups.NetworkConfig) ([]float64, error) {
	k := cfg.GoalLayers()
	if k == 1 {
		return Parse(spec, cfg.Setup)
	}
	labels, err := Labels(cfg.Setup)
	if err != nil {
		return nil, err
	}
	if parts := strings.Split(spec, ","); len(parts) == k*len(labels) {
		g := make([]float64, len(parts))
		for i, s := range parts {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("--goal: weight %d %q (%s) is not a finite number", i+1, s, setups.LayerLabel(i/len(labels)+1, labels[i%len(labels)]))
			}
			g[i] = v
		}
		return g, nil
	}
	one, err := Parse(spec, cfg.Setup)
	if err != nil {
		return nil, fmt.Errorf("%w; or, for a goal per layer of %d layers, %d weights (layer 1's first)", err, k, k*len(labels))
	}
	return slices.Repeat(one, k), nil
}

// Presets returns every embedded preset, in file order.
func Presets() []Preset {
	var f struct {
		Goals []Preset `yaml:"goals"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(presetYAML))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		panic("goals: embedded goals.yaml: " + err.Error()) // checked by the tests
	}
	return f.Goals
}

// Lookup finds a preset by its full name (context-lateral/opt_1_100_tpe), or
// by its short name (opt_1_100_tpe) among the presets setup uses: its own,
// or those of the setup whose presets it takes (setups.Setup.PresetsOf).
func Lookup(name, setup string) (Preset, bool) {
	from := presetSetup(setup)
	for _, p := range Presets() {
		if p.FullName() == name || (p.Setup == from && p.Name == name) {
			return p, true
		}
	}
	return Preset{}, false
}

// HeuristicName is the name of every setup's heuristic goal, the paper's
// hand-designed one: context/naive, lateral/naive, context-lateral/naive.
const HeuristicName = "naive"

// Heuristic returns the heuristic goal of a setup (for the feedback
// variant, context-lateral's); false if it has none.
func Heuristic(setup string) (Preset, bool) { return Lookup(HeuristicName, setup) }

// presetSetup is the setup whose presets setup uses.
func presetSetup(setup string) string {
	if s, ok := setups.Lookup(setup); ok {
		return s.PresetSetup()
	}
	return setup
}

// Parse turns a --goal argument into a goal vector for setup:
//
//   - a preset name, full (context/naive) or short (naive);
//   - comma-separated numbers, one per atom in goal order, then H_res;
//   - a YAML file (ending .yaml or .yml) holding either `gamma: [...]`
//     or `atoms: {"{F}{C}": 1, ...}` keyed by labels, with source names or
//     numbers, unlisted atoms 0; an optional `setup:` must match;
//   - or one of the reference's Hydra configs (a goal file of its
//     conf/goals/, see Hydra): the hidden layer's gamma.
//
// Errors name the setup's expected atoms.
func Parse(spec, setup string) ([]float64, error) {
	labels, err := Labels(setup)
	if err != nil {
		return nil, err
	}
	expect := func() string {
		return fmt.Sprintf("setup %s wants %d weights in this order: %s", setup, len(labels), strings.Join(labels, " "))
	}
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("--goal is empty; %s", expect())
	}
	if p, ok := Lookup(spec, setup); ok {
		if pl, _ := Labels(p.Setup); strings.Join(pl, " ") != strings.Join(labels, " ") {
			return nil, fmt.Errorf("--goal %s is a preset for setup %s, not %s", spec, p.Setup, setup)
		}
		return append([]float64(nil), p.Gamma...), nil
	}
	if strings.HasSuffix(spec, ".yaml") || strings.HasSuffix(spec, ".yml") {
		return parseFile(spec, setup, labels, expect)
	}
	if _, err := strconv.ParseFloat(spec, 64); err != nil && !strings.Contains(spec, ",") {
		return nil, fmt.Errorf("--goal %q: no such preset for %s (presets: %s)", spec, setup, strings.Join(presetNames(setup), ", "))
	}
	parts := strings.Split(spec, ",")
	g := make([]float64, 0, len(parts))
	for i, s := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, fmt.Errorf("--goal: weight %d %q is not a number; %s", i+1, s, expect())
		}
		g = append(g, v)
	}
	return g, Check(g, setup)
}

// Check reports whether g is a valid goal for setup: the right length and
// finite weights.
func Check(g []float64, setup string) error {
	labels, err := Labels(setup)
	if err != nil {
		return err
	}
	if len(g) != len(labels) {
		return fmt.Errorf("goal has %d weights; setup %s wants %d in this order: %s", len(g), setup, len(labels), strings.Join(labels, " "))
	}
	for i, v := range g {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("goal weight %d (%s) is %v; weights must be finite", i+1, labels[i], v)
		}
	}
	return nil
}

func parseFile(path, setup string, labels []string, expect func() string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--goal: %w", err)
	}
	return parseYAML(b, path, setup, labels, expect)
}

// parseYAML reads a goal file's contents b; path names it in errors.
func parseYAML(b []byte, path, setup string, labels []string, expect func() string) ([]float64, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err == nil && isHydra(&doc) {
		return parseHydra(path, &doc, setup)
	}
	var f struct {
		Setup string             `yaml:"setup"`
		Gamma []float64          `yaml:"gamma"`
		Atoms map[string]float64 `yaml:"atoms"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("--goal %s: %v (want `gamma: [...]` or `atoms: {label: weight}`)", path, err)
	}
	if f.Setup != "" && f.Setup != setup {
		return nil, fmt.Errorf("--goal %s is for setup %s, not %s", path, f.Setup, setup)
	}
	switch {
	case f.Gamma != nil && f.Atoms != nil:
		return nil, fmt.Errorf("--goal %s: give gamma or atoms, not both", path)
	case f.Gamma != nil:
		if err := Check(f.Gamma, setup); err != nil {
			return nil, fmt.Errorf("--goal %s: %w", path, err)
		}
		return f.Gamma, nil
	case f.Atoms != nil:
		names, _ := Sources(setup)
		numbered := pid.MustLattice(len(names)).Labels(nil)
		g := make([]float64, len(labels))
		for key, v := range f.Atoms {
			i := indexOf(labels, key)
			if i < 0 {
				i = indexOf(numbered, key)
			}
			if i < 0 {
				return nil, fmt.Errorf("--goal %s: unknown atom %q; %s", path, key, expect())
			}
			g[i] = v
		}
		if err := Check(g, setup); err != nil {
			return nil, fmt.Errorf("--goal %s: %w", path, err)
		}
		return g, nil
	}
	return nil, fmt.Errorf("--goal %s: no gamma or atoms; %s", path, expect())
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

func presetNames(setup string) []string {
	var n []string
	from := presetSetup(setup)
	for _, p := range Presets() {
		if p.Setup == from {
			n = append(n, p.FullName())
		}
	}
	return n
}
