package search

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"goalsearch/setups"
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
	st := openStore(t, filepath.Join(t.TempDir(), "e.db"))
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
	if _, err := ReadEvalConfig(sphereStudy("x", 2, "")); err == nil {
		t.Error("a search study read as an evaluation")
	}
}

// ForStudy runs an evaluation study with the evaluation objective and a
// sampler that proposes nothing, and a search with its own sampler.
func TestForStudy(t *testing.T) {
	cfg, _ := json.Marshal(setups.SyntheticConfig{Dim: 2, Epochs: 1})
	ev, _ := EvalStudy(EvalConfig{Kind: KindEvaluate, Group: "s", Setup: "sphere", Hidden: 1, Epochs: 1}, []string{"x1", "x2"})
	ev.Setup.Config = cfg
	obj, smp, err := ForStudy(ev, 1)
	if err != nil || smp.Name() != EvalSampler {
		t.Fatalf("evaluation study: %v, %v", smp, err)
	}
	if _, ok := obj.(*syntheticEval); !ok {
		t.Errorf("evaluation objective is %T", obj)
	}
	if _, err := smp.Ask(1); err != ErrDone {
		t.Errorf("the evaluation sampler proposed: %v", err)
	}
	s := sphereStudy("x", 2, "")
	s.Setup.Config = cfg
	s.Sampler.Name = "random"
	if _, smp, err := ForStudy(s, 1); err != nil || smp.Name() != "random" {
		t.Fatalf("search study: %v, %v", smp, err)
	}
}
