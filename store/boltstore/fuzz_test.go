package boltstore

import (
	"bytes"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"goalsearch/store"
	"goalsearch/store/storetest"
)

// richDump returns the export of a study with trials in every state, a
// checkpoint and a sampler state, as the seed of FuzzImportJSON.
func richDump(t testing.TB, s *Store) []byte {
	def := storetest.Study("seed")
	if _, err := s.CreateStudy(ctx, def); err != nil {
		t.Fatal(err)
	}
	g := []float64{0.5, -0.25, 1, 0, 0}
	if _, err := s.PutSamplerState(ctx, "seed", store.SamplerState{Generation: 1, Version: 1, Data: []byte(`{"mean":[0.5]}`)},
		[]store.NewTrial{{Gamma: g, Seed: 1}, {Gamma: g, Seed: 2}, {Gamma: g, Seed: 3}, {Gamma: g, Seed: 4}}); err != nil {
		t.Fatal(err)
	}
	test := 0.91
	for n, end := range []store.TrialState{store.Complete, store.Pruned, store.Failed, store.Running} {
		tr, err := s.StartTrial(ctx, "seed", n, "w")
		if err != nil {
			t.Fatal(err)
		}
		m := store.EpochMetrics{Epoch: 1, TrainLoss: math.NaN(), ValAcc: 0.8, TestAcc: &test, Seconds: 1, Extra: map[string]float64{"goal": -1}}
		if err := s.ReportEpoch(ctx, tr.Claim(), m, []byte("weights")); err != nil {
			t.Fatal(err)
		}
		v := 0.8
		r := store.Result{State: end, Value: &v, Atoms: [][]float64{{0.1, 0.2, 0.3, 0.4}}}
		switch end {
		case store.Running:
			continue
		case store.Failed:
			r.Value, r.Reason = nil, "diverged"
		}
		if _, err := s.FinishTrial(ctx, tr.Claim(), r); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	if err := store.ExportJSON(ctx, s, "seed", &b); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteStudy(ctx, "seed"); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// FuzzImportJSON: no export file panics an import (decoding and the dump's
// consistency rules, store.Import); a refused one changes nothing, and an
// accepted one exports again as what was read.
func FuzzImportJSON(f *testing.F) {
	s, err := Open(filepath.Join(f.TempDir(), "fuzz.db"), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	seed := richDump(f, s)
	f.Add(seed)
	for _, edit := range [][2]string{
		{`"gamma": [` + "\n" + `        0.5`, `"gamma": [` + "\n" + `        "NaN"`},
		{`"gamma": [` + "\n" + `        0.5`, `"gamma": [` + "\n" + `        "-Inf"`},
		{`"lower": [` + "\n" + `        -1`, `"lower": [` + "\n" + `        2`},
		{`"number": 1,`, `"number": 0,`},
		{`"number": 3,`, `"number": -3,`},
		{`"state": "complete"`, `"state": "done"`},
		{`"trial": 3`, `"trial": 2`},
		{`"epoch": 1`, `"epoch": 0`},
		{`"name": "seed"`, `"name": ""`},
		{`"format": "goalsearch-study"`, `"format": "other"`},
		{`"val_acc": 0.8`, `"val_acc": "NaN"`},
		{`"value": 0.8`, `"value": "NaN"`},
	} {
		if !bytes.Contains(seed, []byte(edit[0])) {
			f.Fatalf("seed has no %s", edit[0])
		}
		f.Add(bytes.Replace(seed, []byte(edit[0]), []byte(edit[1]), 1))
	}
	f.Add(seed[:len(seed)/2])
	f.Add([]byte(`{"format":"goalsearch-study","v":1}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := store.ReadJSON(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNewerSchema) {
				t.Fatalf("reading: error %v is neither ErrCorrupt nor ErrNewerSchema", err)
			}
			return
		}
		before, _ := s.Studies(ctx)
		if err := s.Import(ctx, d, true); err != nil {
			if after, _ := s.Studies(ctx); len(after) != len(before) {
				t.Fatalf("a refused import (%v) changed the studies", err)
			}
			if strings.Contains(err.Error(), "goroutine ") {
				t.Fatalf("error with a stack: %v", err)
			}
			return
		}
		var want, got bytes.Buffer
		if err := store.WriteJSON(&want, d); err != nil {
			t.Fatal(err)
		}
		if err := store.ExportJSON(ctx, s, d.Study.Name, &got); err != nil {
			t.Fatalf("exporting what was imported: %v", err)
		}
		if !bytes.Equal(want.Bytes(), got.Bytes()) {
			t.Fatalf("imported study exports differently:\n got %s\nwant %s", got.Bytes(), want.Bytes())
		}
		if err := s.Check(ctx); err != nil {
			t.Fatalf("store inconsistent after an import: %v", err)
		}
		if err := s.DeleteStudy(ctx, d.Study.Name); err != nil {
			t.Fatal(err)
		}
	})
}
