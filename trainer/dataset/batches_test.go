package dataset

import (
	"slices"
	"strings"
	"testing"
)

// epoch collects the batches of one epoch.
func epoch(b *Batches) [][]int {
	var out [][]int
	for batch := b.Next(); batch != nil; batch = b.Next() {
		out = append(out, slices.Clone(batch))
	}
	return out
}

func TestBatchesCoverEachIndexOncePerEpoch(t *testing.T) {
	idx, _ := Split(1000, 0.2, 3) // 800 scattered indices
	for _, size := range []int{1, 7, 100, 800, 1024} {
		b := NewBatches(idx, size, 5)
		var prev []int
		for e := range 3 {
			batches := epoch(b)
			if len(batches) != b.Len() {
				t.Errorf("size %d, epoch %d: %d batches, want %d", size, e, len(batches), b.Len())
			}
			for i, batch := range batches {
				want := size
				if i == len(batches)-1 {
					want = len(idx) - size*(len(batches)-1)
				}
				if len(batch) != want {
					t.Errorf("size %d, epoch %d: batch %d has %d indices, want %d", size, e, i, len(batch), want)
				}
			}
			order := slices.Concat(batches...)
			sorted := slices.Sorted(slices.Values(order))
			if !slices.Equal(sorted, idx) {
				t.Fatalf("size %d, epoch %d: batches are not a permutation of the index set", size, e)
			}
			if size < len(idx) && slices.Equal(order, prev) {
				t.Errorf("size %d, epoch %d: same order as the previous epoch", size, e)
			}
			prev = order
			if b.Epoch() != e+1 {
				t.Errorf("Epoch() = %d after %d epochs", b.Epoch(), e+1)
			}
		}
	}
}

func TestBatchesDeterministic(t *testing.T) {
	idx, _ := Split(500, 0.2, 1)
	a, b, c := NewBatches(idx, 64, 9), NewBatches(idx, 64, 9), NewBatches(idx, 64, 10)
	for range 2 {
		ea, eb, ec := epoch(a), epoch(b), epoch(c)
		if !slices.EqualFunc(ea, eb, slices.Equal) {
			t.Error("same seed, different batches")
		}
		if slices.EqualFunc(ea, ec, slices.Equal) {
			t.Error("different seeds, same batches")
		}
	}
}

func TestBatchesCopiesIndices(t *testing.T) {
	idx := []int{0, 1, 2, 3}
	b := NewBatches(idx, 4, 1)
	idx[0] = 99
	if got := slices.Sorted(slices.Values(b.Next())); !slices.Equal(got, []int{0, 1, 2, 3}) {
		t.Errorf("batch %v after the caller modified its slice", got)
	}
}

// Restoring a state saved at any point (before the first epoch, mid-epoch,
// between epochs, just before the end-of-epoch nil) continues exactly as an
// uninterrupted iterator, even in an iterator built with another seed.
func TestBatchesRestore(t *testing.T) {
	idx, _ := Split(300, 0.2, 2) // 240 indices
	const size = 50              // 5 batches per epoch, the last of 40
	for stop := 0; stop < 20; stop++ {
		orig := NewBatches(idx, size, 11)
		for range stop {
			orig.Next()
		}
		state, err := orig.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		restored := NewBatches(idx, size, 999)
		if err := restored.UnmarshalBinary(state); err != nil {
			t.Fatalf("after %d calls: %v", stop, err)
		}
		if restored.Epoch() != orig.Epoch() {
			t.Errorf("after %d calls: Epoch %d, want %d", stop, restored.Epoch(), orig.Epoch())
		}
		for call := range 15 {
			want, got := orig.Next(), restored.Next()
			if !slices.Equal(got, want) || (got == nil) != (want == nil) {
				t.Fatalf("saved after %d calls, call %d after restoring: %v, want %v", stop, call, got, want)
			}
		}
	}
}

func TestBatchesUnmarshalErrors(t *testing.T) {
	idx := []int{1, 2, 3, 4, 5}
	b := NewBatches(idx, 2, 1)
	b.Next()
	state, err := b.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(state)
	corrupt[len(corrupt)-1] ^= 1
	badPos := slices.Clone(state)
	badPos[40] = 9 // position 9 in an epoch of 5
	badVersion := slices.Clone(state)
	badVersion[0] = 2
	for _, tc := range []struct {
		name  string
		into  *Batches
		state []byte
		want  string
	}{
		{"other batch size", NewBatches(idx, 3, 1), state, "for 5 indices in batches of 2, expected 5 in batches of 3"},
		{"other count", NewBatches(idx[:4], 2, 1), state, "expected 4 in batches of 2"},
		{"other indices", NewBatches([]int{1, 2, 3, 4, 6}, 2, 1), state, "different set of 5 indices"},
		{"short", NewBatches(idx, 2, 1), state[:10], "got 10 bytes"},
		{"version", NewBatches(idx, 2, 1), badVersion, "starting with version 1"},
		{"position", NewBatches(idx, 2, 1), badPos, "position 9"},
		{"truncated PCG", NewBatches(idx, 2, 1), state[:len(state)-1], "PCG"},
	} {
		before, _ := tc.into.MarshalBinary()
		err := tc.into.UnmarshalBinary(tc.state)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.name, err, tc.want)
		}
		if after, _ := tc.into.MarshalBinary(); !slices.Equal(before, after) {
			t.Errorf("%s: a failed UnmarshalBinary changed the iterator", tc.name)
		}
	}
	// A flipped bit in the PCG state is a valid state: not detectable, but
	// it must not break anything.
	if err := NewBatches(idx, 2, 1).UnmarshalBinary(corrupt); err != nil {
		t.Errorf("flipped PCG bit: %v", err)
	}
}

func TestBatchesDoNotAllocate(t *testing.T) {
	idx, _ := Split(10000, 0.2, 4)
	b := NewBatches(idx, 1024, 1)
	// Runs across several epoch boundaries, reshuffles included.
	if n := testing.AllocsPerRun(100, func() { b.Next() }); n != 0 {
		t.Errorf("Next allocates %v times per call", n)
	}
}

func TestBatchesEmpty(t *testing.T) {
	b := NewBatches(nil, 3, 1)
	if b.Next() != nil || b.Epoch() != 1 || b.Len() != 0 {
		t.Error("an empty index set should give empty epochs")
	}
}

func BenchmarkEpoch(b *testing.B) {
	idx, _ := Split(60000, 0.2, 1)
	it := NewBatches(idx, 1024, 1)
	b.ReportAllocs()
	for b.Loop() {
		for batch := it.Next(); batch != nil; batch = it.Next() {
		}
	}
}
