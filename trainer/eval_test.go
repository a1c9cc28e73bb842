package trainer

import (
	"errors"
	"math"
	"strings"
	"testing"
)

// CountCorrect on hand-made output probabilities. Three classes; each case
// says which neurons the batch means invert (mean >= 0.5) and why the
// argmax falls where it does.
func TestCountCorrect(t *testing.T) {
	cases := []struct {
		name   string
		pred   []float64 // batch × 3
		labels []int
		want   int
		means  []float64
	}{
		{
			// No mean reaches 0.5: a plain argmax.
			name:   "plain",
			pred:   []float64{0.9, 0.1, 0.0, 0.1, 0.8, 0.2, 0.2, 0.1, 0.7},
			labels: []int{0, 1, 1},
			want:   2,
			means:  []float64{0.4, 1.0 / 3, 0.3},
		},
		{
			// Neuron 0 fires for everything but class 0 (mean 0.8 >= 0.5):
			// inverted, its 0.1 on the class-0 sample becomes 0.9 and wins;
			// on the others it becomes 0.1 and loses to 0.3 / 0.4.
			name:   "inverted neuron",
			pred:   []float64{0.1, 0.2, 0.3, 0.9, 0.3, 0.2, 0.9, 0.1, 0.4, 0.9, 0.2, 0.2, 0.9, 0.3, 0.1},
			labels: []int{0, 1, 2, 1, 1},
			want:   5,
			means:  []float64{0.74, 0.22, 0.24},
		},
		{
			// A mean of exactly 0.5 inverts (the reference's
			// correct_inverse_neurons flips mean >= 0.5): neuron 1's 0.5
			// and 0.5 stay 0.5, its 1.0 / 0.0 swap. Sample 0: (0.4, 0.0,
			// 0.1) -> class 0; sample 1: (0.3, 1.0, 0.2) -> class 1.
			name:   "exactly one half",
			pred:   []float64{0.4, 1.0, 0.1, 0.3, 0.0, 0.2},
			labels: []int{0, 1},
			want:   2,
			means:  []float64{0.35, 0.5, 0.15},
		},
		{
			// Equal maxima: the first wins, as in torch.argmax.
			name:   "tie",
			pred:   []float64{0.3, 0.3, 0.3, 0.2, 0.4, 0.4},
			labels: []int{0, 2},
			want:   1,
			means:  []float64{0.25, 0.35, 0.35},
		},
		{
			// Every neuron inverted: the least active wins.
			name:   "all inverted",
			pred:   []float64{0.6, 0.9, 0.9, 0.9, 0.6, 0.9},
			labels: []int{0, 1},
			want:   2,
			means:  []float64{0.75, 0.75, 0.9},
		},
	}
	for _, c := range cases {
		means := make([]float64, 3)
		got, err := CountCorrect(c.pred, c.labels, 3, means)
		if err != nil || got != c.want {
			t.Errorf("%s: %d correct (%v), want %d", c.name, got, err, c.want)
		}
		for k := range means {
			if math.Abs(means[k]-c.means[k]) > 1e-12 {
				t.Errorf("%s: means %v, want %v", c.name, means, c.means)
				break
			}
		}
	}
	if _, err := CountCorrect([]float64{0.1, math.NaN()}, []int{0}, 2, make([]float64, 2)); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN: %v", err)
	}
}

func TestCountCorrectPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"shape": func() { CountCorrect(make([]float64, 5), []int{0, 1}, 3, make([]float64, 3)) },
		"label": func() { CountCorrect(make([]float64, 3), []int{3}, 3, make([]float64, 3)) },
		"means": func() { CountCorrect(make([]float64, 3), []int{0}, 3, make([]float64, 2)) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.HasPrefix(r.(string), "trainer: ") {
					t.Errorf("%s: recovered %v", name, r)
				}
			}()
			f()
		}()
	}
}

// The reference's accuracy is the mean of per-batch accuracies, so a small
// last batch weighs as much as a full one; the plain fraction does not.
func TestAccuracyBatchMeanVsFraction(t *testing.T) {
	var a accCounter
	a.add(4, 4) // 1.0
	a.add(2, 4) // 0.5
	a.add(0, 1) // 0.0: the small last batch
	got := a.result()
	want := Accuracy{BatchMean: 0.5, Fraction: 6.0 / 9, Correct: 6, Total: 9}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if (&accCounter{}).result() != (Accuracy{}) {
		t.Error("empty counter")
	}
}

func TestHardGraetz(t *testing.T) {
	a := HardGraetz(HiddenGraetz)
	r := []float64{-2, -1e-300, 0, 1e-300, 3, math.NaN()}
	c := []float64{5, -5, 7, -7, -100, 0}
	theta := make([]float64, len(r))
	grad := [][]float64{make([]float64, len(r)), make([]float64, len(r))}
	a.Apply(theta, grad, [][]float64{r, c})
	want := []float64{0, 0, 0, 1, 1}
	for j, w := range want {
		if theta[j] != w {
			t.Errorf("r %v, c %v: theta %v, want %v", r[j], c[j], theta[j], w)
		}
	}
	if !math.IsNaN(theta[5]) {
		t.Errorf("NaN source gives theta %v", theta[5])
	}
	// The surrogate gradient at r = 0, c arbitrary: sigmoid'(0) * K1... =
	// 1/4 * (K1 + (1-K1)*2*sigmoid(0)) = 1/4 for dr, 0 for dc.
	if math.Abs(grad[0][2]-0.25) > 1e-15 || grad[1][2] != 0 {
		t.Errorf("surrogate at 0: %v, %v", grad[0][2], grad[1][2])
	}
}
