package pid

import "math/bits"

// groupTable assigns dense ids 0, 1, 2, ... to uint64 keys in the order they
// are first seen. It is an open-addressing hash table that is reset in O(1)
// by bumping a stamp, so grouping a minibatch costs time proportional to the
// samples, whatever the range of the bin indices.
type groupTable struct {
	slots []groupSlot
	cur   uint32
	shift uint   // 64 - log2(size): the hash's top bits index the table
	mask  uint64 // size - 1
	n     int32
}

// A groupSlot keeps a key, its id and its stamp on one cache line: a probe
// reads one line.
type groupSlot struct {
	key   uint64
	id    int32
	stamp uint32 // the slot is in use if stamp == cur
}

// reset empties the table and makes room for up to capacity distinct keys.
func (g *groupTable) reset(capacity int) {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	if len(g.slots) < size {
		g.slots = make([]groupSlot, size)
		g.cur = 0
	}
	// Use only the first size slots, so a table grown once for a large input
	// does not slow down later small ones.
	g.shift = uint(64 - bits.TrailingZeros(uint(size)))
	g.mask = uint64(size - 1)
	g.cur++
	if g.cur == 0 { // the stamp wrapped: clear for real once every 2^32 resets
		clear(g.slots)
		g.cur = 1
	}
	g.n = 0
}

// id returns the dense id of key, adding it if new. A hot loop calls it on
// a local copy of the table, whose fields then stay in registers, and
// stores the copy's n back.
func (g *groupTable) id(key uint64) int32 {
	// shift < 64: the & spares the compiler's check for larger shifts.
	i := (key * 0x9E3779B97F4A7C15) >> (g.shift & 63)
	for {
		s := &g.slots[i&g.mask]
		if s.stamp != g.cur {
			*s = groupSlot{key: key, id: g.n, stamp: g.cur}
			g.n++
			return s.id
		}
		if s.key == key {
			return s.id
		}
		i++
	}
}
