package setups

import (
	"fmt"
	"math"
	"slices"
)

// What the paper did and found: Schneider, Neuhaus, Ehrlich, Makkeh, Ecker,
// Priesemann, Wibral, "What should a neuron aim for? Designing local
// objective functions based on information theory", ICLR 2025, compiled in
// from the project's notes on the paper (paper_results.md), so that reports
// show it beside our numbers without a network or the notes. The values of
// a setup are in its registry entry.

// PaperCitation names the paper.
const PaperCitation = "Schneider et al., What should a neuron aim for? Designing local objective functions based on information theory, ICLR 2025 (arXiv 2412.02482)"

// PaperEpochs is the paper's training budget per run, and so the epochs of
// a searched or evaluated trial unless a study says otherwise.
const PaperEpochs = 100

// PaperSeeds is the number of seeds the paper's values are medians over.
const PaperSeeds = 10

// PaperProtocol says under which conditions the published values hold.
var PaperProtocol = fmt.Sprintf("MNIST, one hidden layer, %d epochs, batch 1024, medians over %d seeds. ", PaperEpochs, PaperSeeds) +
	"\"read off\" values were read from the MNIST figure shipped with the authors' code (log axis, about ±10 % relative in the error); " +
	"\"exact\" values were printed by the authors' notebooks."

// PaperSearch describes the paper's own search, for a reader comparing
// budgets.
var PaperSearch = "Optuna TPE (multivariate, 100 start-up trials, 500 trials) and CMA-ES (1000 trials), each weight in [-1, 1], " +
	fmt.Sprintf("H_res fixed to 0 for the trivariate goal (18 free weights), objective = final validation accuracy after %d epochs with 100 hidden neurons; ", PaperEpochs) +
	"run on A100 GPUs."

// PaperHiddenSizes are the hidden sizes of the paper's sweep.
var PaperHiddenSizes = []int{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000}

// A PaperResult is one row of the paper's test accuracies by setup.
type PaperResult struct {
	// Row is the row's place in the paper's summary table, from 1.
	Row int
	// Label is the row as the paper's summary names it.
	Label string
	// Goal is the kind of goal the row is for: "heuristic", "optimised",
	// "sparse" (sparse lateral connections) or "modified" (the 4-term
	// goal); "" for every goal of the setup (a baseline's row, or the
	// feedback variant's, whose goals the paper does not tell apart).
	Goal string
	// H100 and H2000 are the test accuracies (fractions) with 100 and 2000
	// hidden neurons; NaN where the paper gives none.
	H100, H2000 float64
	// Text100 and Text2000 are the values as published, with their
	// qualifiers.
	Text100, Text2000 string
	// Exact is true for values printed by the authors' notebooks, false
	// for values read off a figure.
	Exact bool
}

// At returns the row's value and published text for a hidden size; ok is
// false where the paper gives no value.
func (r PaperResult) At(hidden int) (value float64, text string, ok bool) {
	value = math.NaN()
	switch hidden {
	case 100:
		value, text = r.H100, r.Text100
	case 2000:
		value, text = r.H2000, r.Text2000
	}
	return value, text, !math.IsNaN(value)
}

// PaperSensitivity is the paper's goal sensitivity (its optimised goal,
// 100 neurons, validation accuracy, exact): the baseline and the accuracy
// with one weight set to 0, for the weights it names.
type PaperSensitivity struct {
	Baseline float64
	Zeroed   map[string]float64
	Summary  string
}

var nan = math.NaN()

// paperReadout is the paper's row for the network without a hidden layer,
// which goalsearch does not train.
var paperReadout = PaperResult{Row: 1, Label: "readout only (no hidden layer)", H100: 0.92, H2000: 0.92, Text100: "≈ 92 %", Text2000: "≈ 92 %"}

// PaperResults returns the paper's summary table: every setup's rows and
// the readout-only network's, in the paper's order.
func PaperResults() []PaperResult {
	out := []PaperResult{paperReadout}
	for _, s := range registry {
		out = append(out, s.Paper...)
	}
	slices.SortStableFunc(out, func(a, b PaperResult) int { return a.Row - b.Row })
	return out
}

// PaperSensitivitySetup returns the setup whose goal sensitivity the paper
// measured.
func PaperSensitivitySetup() (Setup, bool) {
	for _, s := range registry {
		if s.Sensitivity != nil {
			return s.clone(), true
		}
	}
	return Setup{}, false
}
