package summary

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"goalsearch/store"
	"goalsearch/store/boltstore"
)

func TestEvalStudyRoundTrip(t *testing.T) {
	cfg := EvalConfig{Kind: KindEvaluate, Group: "ctxlat", Setup: "context", Hidden: 100, Epochs: 100, Seeds: []uint64{1, 2},
		Goals: []EvalGoal{{Name: "trial 3", Gamma: []float64{0, 0, 1, 0, 0}, Trial: 3}, {Name: "context/naive", Gamma: []float64{0, 0, 1, 0, 0}, Trial: -1}}}
	s, err := EvalStudy(cfg, []string{"{F}", "{C}", "{F}{C}", "{FC}", "H_res"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "ctxlat/evaluate/context/h100" || !IsEvalStudy(s) {
		t.Fatalf("study %s, sampler %s", s.Name, s.Sampler.Name)
	}
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "e.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored, err := st.CreateStudy(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadEvalConfig(stored)
	if err != nil || !reflect.DeepEqual(got, cfg) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	// A baseline has a one-label space.
	b, _ := EvalStudy(EvalConfig{Kind: KindReproduce, Group: "presets", Setup: "backprop", Hidden: 100, Epochs: 10}, nil)
	if _, err := st.CreateStudy(context.Background(), b); err != nil || b.Space.Dim() != 1 {
		t.Fatalf("baseline study: %v", err)
	}
	if _, err := ReadEvalConfig(store.Study{Name: "x", Sampler: store.SamplerConfig{Name: "random"}}); err == nil {
		t.Error("a search study read as an evaluation")
	}
}
