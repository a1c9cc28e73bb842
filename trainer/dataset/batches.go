package dataset

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
)

// Batches hands out the minibatches of an index set, shuffled anew at the
// start of every epoch. The last batch of an epoch is smaller when the batch
// size does not divide the number of indices, as in the reference.
//
// Its state (the shuffling PCG and the position in the epoch) can be saved
// with MarshalBinary and restored with UnmarshalBinary, after which the
// batches continue exactly as they would have without the interruption.
//
// A Batches must not be used by several goroutines at once.
type Batches struct {
	idx  []int // caller's indices, copied: the start of every shuffle
	size int
	sum  uint64 // hash of idx, to refuse a state saved for other indices

	// State.
	src   rand.PCG
	start rand.PCG // src before the current epoch's shuffle
	perm  []int    // the current epoch's order
	pos   int      // next batch starts at perm[pos]; -1 between epochs
	epoch int      // completed epochs
}

// NewBatches returns minibatches of size indices (the last one of an epoch
// may be smaller) from idx, shuffled by rand.NewPCG(seed, batchStream).
// It copies idx. It panics if size < 1.
func NewBatches(idx []int, size int, seed uint64) *Batches {
	if size < 1 {
		panic(fmt.Sprintf("dataset: NewBatches: batch size %d, need >= 1", size))
	}
	b := &Batches{
		idx:  append([]int(nil), idx...),
		size: size,
		sum:  hashIndices(idx),
		src:  *rand.NewPCG(seed, batchStream),
		perm: make([]int, len(idx)),
		pos:  -1,
	}
	return b
}

// Next returns the next minibatch of the current epoch, or nil once the
// epoch is over; the call after that starts the next epoch with a new
// shuffle. Each index of the set is in exactly one batch per epoch:
//
//	for batch := b.Next(); batch != nil; batch = b.Next() { ... }
//
// The batch is a view of Batches' own memory, valid until Next starts the
// next epoch; the caller must not modify it. Next does not allocate.
func (b *Batches) Next() []int {
	if b.pos < 0 {
		b.start = b.src
		b.reshuffle()
		b.pos = 0
	}
	if b.pos == len(b.perm) {
		b.pos = -1
		b.epoch++
		return nil
	}
	end := min(b.pos+b.size, len(b.perm))
	batch := b.perm[b.pos:end:end]
	b.pos = end
	return batch
}

// reshuffle starts every epoch from the caller's order rather than from the
// previous permutation, so that the order of an epoch depends only on the
// PCG state at its start, which is all MarshalBinary has to save.
func (b *Batches) reshuffle() {
	copy(b.perm, b.idx)
	shuffle(&b.src, b.perm)
}

// Epoch returns the number of completed epochs: how many times Next has
// returned nil.
func (b *Batches) Epoch() int { return b.epoch }

// Len returns the number of batches per epoch.
func (b *Batches) Len() int { return (len(b.idx) + b.size - 1) / b.size }

// Size returns the batch size.
func (b *Batches) Size() int { return b.size }

// batchesVersion is the first byte of the marshalled state; bump it when
// the layout changes.
const batchesVersion = 1

// MarshalBinary encodes the state: format version, number of indices, batch
// size, hash of the indices, completed epochs, position in the epoch, and the
// PCG state before the current epoch's shuffle.
func (b *Batches) MarshalBinary() ([]byte, error) {
	buf := make([]byte, 0, 1+5*8+20)
	buf = append(buf, batchesVersion)
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(b.idx)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.size))
	buf = binary.BigEndian.AppendUint64(buf, b.sum)
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.epoch))
	buf = binary.BigEndian.AppendUint64(buf, uint64(int64(b.pos)))
	pcg := b.src
	if b.pos >= 0 {
		pcg = b.start
	}
	return pcg.AppendBinary(buf)
}

// UnmarshalBinary restores a state written by MarshalBinary into a Batches
// made by NewBatches with the same indices and batch size (the seed does not
// matter). It returns an error, and leaves b unchanged, if the state is
// malformed or was saved for other indices or another batch size.
func (b *Batches) UnmarshalBinary(data []byte) error {
	const fixed = 1 + 5*8
	if len(data) < fixed || data[0] != batchesVersion {
		return fmt.Errorf("dataset: batch iterator state: expected %d+ bytes starting with version %d, got %d bytes", fixed, batchesVersion, len(data))
	}
	n := binary.BigEndian.Uint64(data[1:])
	size := binary.BigEndian.Uint64(data[9:])
	sum := binary.BigEndian.Uint64(data[17:])
	epoch := binary.BigEndian.Uint64(data[25:])
	pos := int64(binary.BigEndian.Uint64(data[33:]))
	switch {
	case n != uint64(len(b.idx)) || size != uint64(b.size):
		return fmt.Errorf("dataset: batch iterator state is for %d indices in batches of %d, expected %d in batches of %d", n, size, len(b.idx), b.size)
	case sum != b.sum:
		return fmt.Errorf("dataset: batch iterator state is for a different set of %d indices", n)
	case pos < -1 || pos > int64(n) || epoch > 1<<62:
		return fmt.Errorf("dataset: batch iterator state: position %d in an epoch of %d indices, epoch %d: corrupt", pos, n, epoch)
	}
	var pcg rand.PCG
	if err := pcg.UnmarshalBinary(data[fixed:]); err != nil {
		return fmt.Errorf("dataset: batch iterator state: %w", err)
	}
	b.epoch, b.pos, b.src = int(epoch), int(pos), pcg
	if b.pos >= 0 {
		b.start = pcg
		b.reshuffle()
	}
	return nil
}

// hashIndices is FNV-1a over the indices as 8-byte words.
func hashIndices(idx []int) uint64 {
	h := fnv.New64a()
	var w [8]byte
	for _, i := range idx {
		binary.LittleEndian.PutUint64(w[:], uint64(i))
		h.Write(w[:])
	}
	return h.Sum64()
}
