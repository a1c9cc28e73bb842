package goals

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"goalsearch/pid"
)

// The reference implementation configures runs with Hydra; a goal is a
// file of its conf/goals/<model>/ directory, merged into the global
// config:
//
//	# @package _global_
//	exp_params:
//	  goal_type: naive
//	layer_params:
//	  hidden_layer1:
//	    gamma:
//	      - 0.0 # {1}
//	      ...
//
// The hidden layer's gamma is the goal, in the lattice's goal order with
// H_res last (the reference's and goalsearch's order are the same); the
// reference numbers the sources ({1}{2}), goalsearch names them ({F}{C}).

// Hydra returns the goal g of setup as the reference's Hydra goal config,
// goal_type name, each weight commented with its atom in both spellings.
func Hydra(name, setup string, g []float64) ([]byte, error) {
	if err := Check(g, setup); err != nil {
		return nil, err
	}
	labels, _ := Labels(setup)
	names, _ := Sources(setup)
	numbered := pid.MustLattice(len(names)).Labels(nil)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# @package _global_\n# goal %s of goalsearch's setup %s\nexp_params:\n  goal_type: %s\n\nlayer_params:\n  hidden_layer1:\n    gamma:\n", name, setup, yamlScalar(name))
	for i, v := range g {
		num := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(num, ".eEn") {
			num += ".0" // a float, as the reference writes them
		}
		ref := numbered[i]
		if labels[i] == "H_res" {
			ref = "h_res"
		}
		fmt.Fprintf(&b, "      - %-22s # %s %s\n", num, labels[i], ref)
	}
	return b.Bytes(), nil
}

func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	if err != nil {
		return strconv.Quote(s)
	}
	return strings.TrimSpace(string(out))
}

// isHydra reports whether a YAML document is a Hydra config: a mapping
// with layer_params or exp_params at its top.
func isHydra(doc *yaml.Node) bool {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		if k := doc.Content[i].Value; k == "layer_params" || k == "exp_params" {
			return true
		}
	}
	return false
}

// parseHydra reads the hidden layer's gamma (layer_params.hidden_layer1.
// gamma) of a Hydra config, a goal file or a whole composed config; other
// keys are the reference's and are ignored.
func parseHydra(path string, doc *yaml.Node, setup string) ([]float64, error) {
	var cfg struct {
		LayerParams struct {
			Hidden struct {
				Gamma []yaml.Node `yaml:"gamma"`
			} `yaml:"hidden_layer1"`
		} `yaml:"layer_params"`
	}
	if err := doc.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("--goal %s: a Hydra config, but %v", path, err)
	}
	nodes := cfg.LayerParams.Hidden.Gamma
	if nodes == nil {
		return nil, fmt.Errorf("--goal %s: a Hydra config without layer_params.hidden_layer1.gamma", path)
	}
	g := make([]float64, len(nodes))
	for i, n := range nodes {
		v, err := strconv.ParseFloat(n.Value, 64)
		if n.Kind != yaml.ScalarNode || err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("--goal %s: layer_params.hidden_layer1.gamma.%d is %q, not a number (a sweep config's ${...} is filled in by Hydra, not a goal)", path, i, n.Value)
		}
		g[i] = v
	}
	if err := Check(g, setup); err != nil {
		return nil, fmt.Errorf("--goal %s: layer_params.hidden_layer1.gamma: %w", path, err)
	}
	return g, nil
}
