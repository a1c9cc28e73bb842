package pid

import "math/bits"

// groupTable assigns dense ids 0, 1, 2, ... to uint64 keys in the order they
// are first seen. It is an open-addressing hash table that is reset in O(1)
// by bumping a stamp, so grouping a minibatch costs time proportional to the
// samples, whatever the range of the bin indices.
type groupTable struct {
	keys  []uint64
	ids   []int32
	stamp []uint32
	cur   uint32
	shift uint
	n     int32
}

// reset empties the table and makes room for up to capacity distinct keys.
func (g *groupTable) reset(capacity int) {
	size := 16
	for size < 2*capacity {
		size <<= 1
	}
	if len(g.keys) < size {
		g.keys = make([]uint64, size)
		g.ids = make([]int32, size)
		g.stamp = make([]uint32, size)
		g.cur = 0
	}
	// Use only the first size slots, so a table grown once for a large input
	// does not slow down later small ones.
	g.shift = uint(64 - bits.TrailingZeros(uint(size)))
	g.cur++
	if g.cur == 0 { // the stamp wrapped: clear for real once every 2^32 resets
		clear(g.stamp)
		g.cur = 1
	}
	g.n = 0
}

// id returns the dense id of key, adding it if new.
func (g *groupTable) id(key uint64) int32 {
	mask := uint64(1)<<(64-g.shift) - 1
	i := (key * 0x9E3779B97F4A7C15) >> g.shift
	for {
		if g.stamp[i] != g.cur {
			g.stamp[i] = g.cur
			g.keys[i] = key
			g.ids[i] = g.n
			g.n++
			return g.ids[i]
		}
		if g.keys[i] == key {
			return g.ids[i]
		}
		i = (i + 1) & mask
	}
}
