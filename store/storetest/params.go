package storetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"goalsearch/store"
)

// mixedStudy is Study(name) with hyperparameters of every type and a
// stored experiment.
func mixedStudy(name string) store.Study {
	s := Study(name)
	s.Space.Params = []store.Param{
		{Key: "network.hidden_layer.adam.lr", Type: store.LogFloat, Lower: 1e-4, Upper: 1e-2},
		{Key: "network.hidden_layer.binning.bins", Type: store.Int, Lower: 4, Upper: 40},
		{Key: "network.hidden_layer.binning.kind", Type: store.Categorical, Choices: []json.RawMessage{json.RawMessage(`"fixed"`), json.RawMessage(`"adaptive"`)}},
	}
	s.Experiment = json.RawMessage(`{"study": "` + name + `", "workers": 2}`)
	return s
}

// testParams: hyperparameters and the experiment survive every path a
// study takes (create, enqueue, sampler states, export and import), values
// bit for bit; a trial whose values do not fit the space is refused; the
// experiment is not part of the definition.
func testParams(t *testing.T, s store.Store) {
	def := mixedStudy("m")
	st, err := s.CreateStudy(ctx, def)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(st.Experiment, []byte(`{"study":"m","workers":2}`)) || len(st.Space.Params) != 3 {
		t.Fatalf("created study: experiment %s, params %+v", st.Experiment, st.Space.Params)
	}
	other := def
	other.Experiment = json.RawMessage(`{"workers":5}`)
	if again, err := s.CreateStudy(ctx, other); err != nil || !bytes.Equal(again.Experiment, st.Experiment) {
		t.Fatalf("same definition, other experiment: %v, experiment %s", err, again.Experiment)
	}
	wider := mixedStudy("m")
	wider.Space.Params[1].Upper = 41
	if _, err := s.CreateStudy(ctx, wider); !errors.Is(err, store.ErrStudyExists) {
		t.Fatalf("other hyperparameter range: %v, want ErrStudyExists", err)
	}
	lr := math.Nextafter(0.003, 1)
	nt := store.NewTrial{Gamma: gamma(1), Params: []float64{lr, 17, 1}, Seed: 3}
	tr, err := s.EnqueueTrial(ctx, "m", nt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tr.Params, nt.Params) {
		t.Fatalf("enqueued params %v, want %v", tr.Params, nt.Params)
	}
	bad := map[string][]float64{
		"too few":      {lr, 17},
		"non-integer":  {lr, 17.5, 1},
		"choice out":   {lr, 17, 2},
		"NaN":          {math.NaN(), 17, 1},
		"none at all:": nil,
	}
	for what, ps := range bad {
		if _, err := s.EnqueueTrial(ctx, "m", store.NewTrial{Gamma: gamma(2), Params: ps}); !errors.Is(err, store.ErrInvalidTrial) {
			t.Errorf("params %s: %v, want ErrInvalidTrial", what, err)
		}
	}
	// Proposed with a sampler state.
	if _, err := s.PutSamplerState(ctx, "m", store.SamplerState{Generation: 1, Version: 1, Data: json.RawMessage(`{}`)},
		[]store.NewTrial{{Gamma: gamma(3), Params: []float64{1e-4, 4, 0}, Seed: 4, Generation: 1}}); err != nil {
		t.Fatal(err)
	}
	d, err := s.Export(ctx, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Trials) != 2 || math.Float64bits(d.Trials[0].Params[0]) != math.Float64bits(lr) || !slices.Equal(d.Trials[1].Params, []float64{1e-4, 4, 0}) {
		t.Fatalf("exported trials %+v", d.Trials)
	}
	var buf bytes.Buffer
	if err := store.WriteJSON(&buf, d); err != nil {
		t.Fatal(err)
	}
	back, err := store.ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	back.Study.Name = "m2"
	for i := range back.Trials {
		back.Trials[i].Study = "m2"
	}
	if err := s.Import(ctx, back, false); err != nil {
		t.Fatal(err)
	}
	got, err := s.Export(ctx, "m2")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Study.Experiment, st.Experiment) || len(got.Study.Space.Params) != 3 ||
		string(got.Study.Space.Params[2].Choices[1]) != `"adaptive"` || !slices.Equal(got.Trials[0].Params, d.Trials[0].Params) {
		t.Fatalf("imported study %+v, trials %+v", got.Study, got.Trials)
	}
	var csv bytes.Buffer
	if err := store.WriteCSV(&csv, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(csv.Bytes(), []byte(",network.hidden_layer.binning.kind,")) || !bytes.Contains(csv.Bytes(), []byte(",17,adaptive,")) {
		t.Fatalf("csv:\n%s", csv.Bytes())
	}
}
