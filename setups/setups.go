package setups

import "slices"

// A Kind says what the trials of a setup compute.
type Kind int

const (
	// Infomorphic setups are networks whose hidden neurons learn a PID goal:
	// the setups a goal search searches.
	Infomorphic Kind = iota + 1
	// Baseline setups are the networks the paper compares with; they take
	// no goal.
	Baseline
	// Synthetic setups are test functions of the goal vector, without a
	// network, to test and show the search machinery in milliseconds.
	Synthetic
)

// A SourceKind is what feeds one source class of the hidden neurons.
type SourceKind int

const (
	Image    SourceKind = iota // the standardised image
	Label                      // the label's one-hot (zeros when withheld)
	Lateral                    // the hidden layer's own previous output
	Feedback                   // the output layer's previous sampled output
)

// A Source is one source class of the hidden neurons.
type Source struct {
	// Name is the letter the goal's atom labels use for the source: F
	// (feedforward), C (context) or L (lateral), as in {F}{CL}.
	Name string
	Kind SourceKind
}

// A Setup describes one setup. Everything that differs between setups and
// is not network code is here: what the hidden layer's sources are (and so
// its lattice and the goal's length), whose goal presets it uses, what the
// paper's comparison trains it with and what the paper measured.
type Setup struct {
	Name string
	Kind Kind
	// Summary says in a line of help text what the setup is.
	Summary string
	// Sources are the hidden layer's source classes, in order; their
	// number (2 or 3) fixes the PID lattice and the goal's length (5 or 19
	// weights, H_res last). Nil for a synthetic setup.
	Sources []Source
	// Steps is the number of recurrent steps the hidden layer runs.
	Steps int
	// PresetsOf names the setup whose goal presets this one uses, if not
	// its own: the paper published no goal for the feedback variant and
	// trained it with context-lateral's.
	PresetsOf string
	// Reproduce are the presets (full names, package goals) that
	// goalsearch reproduce trains the setup with: the goals the paper's
	// MNIST figure compares. A baseline is trained without a goal.
	Reproduce []string
	// Paper are the paper's test accuracies for the setup, a row per kind
	// of goal; nil if it gives none.
	Paper []PaperResult
	// Sensitivity is the paper's goal sensitivity for the setup; nil if
	// it gives none.
	Sensitivity *PaperSensitivity
}

// TakesGoal reports whether the setup's hidden neurons learn a PID goal.
func (s Setup) TakesGoal() bool { return s.Kind == Infomorphic }

// Network reports whether the setup's trials train a network (package
// trainer), rather than compute a synthetic function.
func (s Setup) Network() bool { return s.Kind == Infomorphic || s.Kind == Baseline }

// PresetSetup is the setup whose goal presets this one uses: PresetsOf, or
// the setup itself.
func (s Setup) PresetSetup() string {
	if s.PresetsOf != "" {
		return s.PresetsOf
	}
	return s.Name
}

// The registry, in the order every list of setups follows: the
// infomorphic networks and the baselines as the paper orders them, then
// the synthetic functions. Adding a setup is an entry here plus its code
// (a network in package trainer, or a function in package search).
var registry = []Setup{
	{
		Name: "context", Kind: Infomorphic, Steps: 1,
		Summary:   "bivariate hidden neurons: image (F) and label (C), one step",
		Sources:   []Source{{"F", Image}, {"C", Label}},
		Reproduce: []string{"context/naive", "context/opt_1_100"},
		Paper: []PaperResult{
			{Row: 3, Label: "context, heuristic (naive)", Goal: "heuristic", H100: 0.93, H2000: 0.94, Text100: "≈ 93 %", Text2000: "≈ 94 %"},
			{Row: 4, Label: "context, optimised", Goal: "optimised", H100: 0.93, H2000: 0.94, Text100: "≈ 93 %", Text2000: "≈ 94 %"},
		},
	},
	{
		Name: "lateral", Kind: Infomorphic, Steps: 2,
		Summary:   "bivariate hidden neurons: image (F) and the hidden layer's own output (L), two steps; the label reaches only the output layer",
		Sources:   []Source{{"F", Image}, {"L", Lateral}},
		Reproduce: []string{"lateral/naive", "lateral/opt_1_100"},
		Paper: []PaperResult{
			{Row: 5, Label: "lateral, heuristic", Goal: "heuristic", H100: 0.83, H2000: 0.95, Text100: "≈ 83 %", Text2000: "≈ 95 %"},
			{Row: 6, Label: "lateral, optimised", Goal: "optimised", H100: 0.89, H2000: 0.95, Text100: "≈ 89 %", Text2000: "≈ 95 %"},
		},
	},
	{
		Name: "context-lateral", Kind: Infomorphic, Steps: 2,
		Summary: "trivariate hidden neurons: image (F), label (C) and lateral (L), two steps",
		Sources: []Source{{"F", Image}, {"C", Label}, {"L", Lateral}},
		// The paper's optimised curve most likely used opt_1_100_tpe
		// (goals.yaml), and its 4-term rounding opt_1_100_modified has
		// exact published numbers, so both are trained.
		Reproduce: []string{"context-lateral/naive", "context-lateral/opt_1_100_tpe", "context-lateral/opt_1_100_modified"},
		Paper: []PaperResult{
			{Row: 7, Label: "context-lateral, heuristic", Goal: "heuristic", H100: 0.94, H2000: 0.94, Text100: "≈ 94 %", Text2000: "≈ 94 %"},
			{Row: 8, Label: "context-lateral, optimised (dense lateral)", Goal: "optimised", H100: 0.95, H2000: 0.955, Text100: "≈ 95 %", Text2000: "≈ 95.5 % (best ≈ 96.5 % near 500)"},
			{Row: 9, Label: "context-lateral, optimised, sparse lateral (100 partners)", Goal: "sparse", H100: nan, H2000: 0.975, Text100: "as dense up to 100", Text2000: "≈ 97.5 %"},
			{Row: 12, Label: "context-lateral, 4-term goal (opt_1_100_modified)", Goal: "modified", H100: 0.9513, H2000: nan, Text100: "95.13 % test, 94.95 % validation", Text2000: "—", Exact: true},
		},
		Sensitivity: &PaperSensitivity{
			Baseline: 0.948,
			Zeroed: map[string]float64{
				"{FC}{FL}": 0.9372, "{F}{L}": 0.9402, "{F}{C}{L}": 0.9417, "{F}{C}": 0.9459, "{F}": 0.9463,
				"{F}{CL}": 0.9508, "{CL}": 0.9506,
			},
			Summary: "Removing the four weights {F}{C}, {F}{C}{L}, {F}{L}, {FC}{FL} last, accuracy holds until {F}{C} goes, then collapses.",
		},
	},
	{
		Name: "context-lateral-feedback", Kind: Infomorphic, Steps: 2,
		Summary:   "as context-lateral, but the context (C) is the output layer's output of the first step instead of the label",
		Sources:   []Source{{"F", Image}, {"C", Feedback}, {"L", Lateral}},
		PresetsOf: "context-lateral",
		Reproduce: []string{"context-lateral/naive", "context-lateral/opt_1_100_tpe"},
		Paper: []PaperResult{
			{Row: 10, Label: "context-lateral with feedback", H100: 0.90, H2000: 0.97, Text100: "≈ 90 %", Text2000: "≈ 97 %"},
		},
	},
	{
		Name: "random-projection", Kind: Baseline, Steps: 1,
		Summary: "hidden neurons (image, label) that keep their initial weights and fire deterministically; only the output layer learns",
		Sources: []Source{{"F", Image}, {"C", Label}},
		Paper: []PaperResult{
			{Row: 2, Label: "random projection (hidden untrained)", H100: 0.81, H2000: 0.945, Text100: "≈ 81 %", Text2000: "≈ 94.5 %"},
		},
	},
	{
		Name: "backprop", Kind: Baseline, Steps: 2,
		Summary: "context-lateral's architecture trained end to end by gradient descent on a cross-entropy",
		Sources: []Source{{"F", Image}, {"C", Label}, {"L", Lateral}},
		Paper: []PaperResult{
			{Row: 11, Label: "backprop, same architecture", H100: 0.955, H2000: 0.98, Text100: "≈ 95.5 %", Text2000: "≈ 98 %"},
		},
	},
	{Name: "sphere", Kind: Synthetic, Summary: "a sphere with its optimum at 0.3 in every coordinate"},
	{Name: "rastrigin", Kind: Synthetic, Summary: "Rastrigin's function, many local optima, its optimum moved to 0.3"},
	{Name: "rosenbrock", Kind: Synthetic, Summary: "Rosenbrock's curved valley"},
	{Name: "direction", Kind: Synthetic, Summary: "1 - cos(angle to a fixed direction): only the direction of the goal matters, as when training with Adam"},
}

// All returns every setup in the registry's order. The result is the
// caller's to change.
func All() []Setup {
	out := make([]Setup, len(registry))
	for i, s := range registry {
		out[i] = s.clone()
	}
	return out
}

// Of returns the setups of the given kinds, in the registry's order.
func Of(kinds ...Kind) []Setup {
	var out []Setup
	for _, s := range registry {
		if slices.Contains(kinds, s.Kind) {
			out = append(out, s.clone())
		}
	}
	return out
}

// Networks returns the setups that train a network: the infomorphic ones,
// then the baselines.
func Networks() []Setup { return Of(Infomorphic, Baseline) }

// Names returns the names of the setups of the given kinds, in the
// registry's order.
func Names(kinds ...Kind) []string {
	var out []string
	for _, s := range Of(kinds...) {
		out = append(out, s.Name)
	}
	return out
}

// Lookup returns the setup named name.
func Lookup(name string) (Setup, bool) {
	for _, s := range registry {
		if s.Name == name {
			return s.clone(), true
		}
	}
	return Setup{}, false
}

// IsSynthetic reports whether name is a synthetic setup.
func IsSynthetic(name string) bool {
	s, ok := Lookup(name)
	return ok && s.Kind == Synthetic
}

func (s Setup) clone() Setup {
	s.Sources = slices.Clone(s.Sources)
	s.Reproduce = slices.Clone(s.Reproduce)
	s.Paper = slices.Clone(s.Paper)
	if s.Sensitivity != nil {
		c := *s.Sensitivity
		c.Zeroed = make(map[string]float64, len(s.Sensitivity.Zeroed))
		for k, v := range s.Sensitivity.Zeroed {
			c.Zeroed[k] = v
		}
		s.Sensitivity = &c
	}
	return s
}
