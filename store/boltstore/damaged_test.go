package boltstore

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"goalsearch/store"
	"goalsearch/store/storetest"
)

// TestDamagedFile opens truncated and overwritten copies of a store: each
// open, and every read of what opens, returns an error naming the file
// (ErrCorrupt or ErrNotStore) or a result, never a panic, and no damaged
// file is written to. (bbolt itself panics on most of these files.)
func TestDamagedFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := Open(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStudy(ctx, storetest.Study("s")); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		if _, err := s.EnqueueTrial(ctx, "s", store.NewTrial{Gamma: []float64{float64(i) / 40, 0, 0, 0, 0}, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	orig, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	var cases [][]byte
	for _, n := range []int{4096, 8192, len(orig) / 2, len(orig) - 4096, len(orig) - 1} {
		cases = append(cases, orig[:n])
	}
	for range 60 {
		b := bytes.Clone(orig)
		at := 2*4096 + rng.IntN(len(b)-2*4096)
		for j := range 1 + rng.IntN(64) {
			if at+j < len(b) {
				b[at+j] = byte(rng.Uint32())
			}
		}
		cases = append(cases, b)
	}
	corrupt := 0
	for i, b := range cases {
		for _, ro := range []bool{false, true} {
			path := filepath.Join(dir, "bad.db")
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			st, err := Open(path, &Options{ReadOnly: ro, Timeout: -1})
			if err == nil {
				_, err = st.Studies(ctx)
				if err == nil {
					_, err = st.Export(ctx, "s")
				}
				if err == nil {
					err = st.Check(ctx)
				}
				st.Close()
			}
			if err != nil {
				corrupt++
				if !errors.Is(err, store.ErrCorrupt) && !errors.Is(err, store.ErrNotStore) && !errors.Is(err, store.ErrStudyNotFound) && !errors.Is(err, store.ErrTrialNotFound) {
					t.Errorf("case %d (read-only %v): %v, want ErrCorrupt or ErrNotStore", i, ro, err)
				}
			}
			if after, _ := os.ReadFile(path); err != nil && !bytes.Equal(after, b) {
				t.Errorf("case %d (read-only %v): a damaged file was written to (%v)", i, ro, err)
			}
		}
	}
	// The truncated files at least; most overwritten pages are unused.
	if corrupt < 10 {
		t.Errorf("%d of %d opens of damaged files found the damage", corrupt, 2*len(cases))
	}
}
