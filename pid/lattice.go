package pid

import (
	"fmt"
	"math/bits"
	"sort"
	"strings"
	"sync"
)

// MinSources and MaxSources bound the number of sources a Lattice supports.
// Four sources already give 166 atoms; five would give 7579.
const (
	MinSources = 2
	MaxSources = 4
)

// An Antichain is a set of nonempty source subsets none of which contains
// another. Each member is a bit mask over the sources: bit k set means source
// k+1 belongs to the member. Members are kept sorted by size, then by their
// source indices, so {1}{23} is []uint8{0b001, 0b110}.
type Antichain []uint8

// Union is the bit mask of all sources that occur in some member.
func (a Antichain) Union() uint8 {
	var u uint8
	for _, m := range a {
		u |= m
	}
	return u
}

// Label writes the antichain as in the paper, {1}{23}, or with names, {F}{CL}.
// Names longer than one character are separated by commas: {a,b}{c}. A nil
// names uses the source numbers 1..n.
func (a Antichain) Label(names []string) string {
	var b strings.Builder
	sep := ""
	for _, n := range names {
		if len(n) != 1 {
			sep = ","
			break
		}
	}
	for _, m := range a {
		b.WriteByte('{')
		first := true
		for k := 0; k < 8; k++ {
			if m&(1<<k) == 0 {
				continue
			}
			if !first {
				b.WriteString(sep)
			}
			first = false
			if names == nil {
				fmt.Fprintf(&b, "%d", k+1)
			} else {
				b.WriteString(names[k])
			}
		}
		b.WriteByte('}')
	}
	return b.String()
}

// below reports whether a <= b in the redundancy lattice: every member of b
// contains some member of a.
func below(a, b Antichain) bool {
	for _, mb := range b {
		found := false
		for _, ma := range a {
			if ma&mb == ma {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// A Lattice is the redundancy lattice of n sources: its antichains in goal
// order, their partial order and the Möbius inversion that turns I^sx values
// into atoms. A Lattice is immutable and safe for concurrent use.
//
// Goal order. For n = 2 it is {1}, {2}, {1}{2}, {12} (unique F, unique C,
// redundancy, synergy). For n >= 3 antichains are grouped by the sizes of
// their members, compared as sequences from the smallest member up, where a
// sequence that extends another comes first; ties are broken by the members'
// source indices. For n = 3 this is exactly the order of the paper's goal
// vectors, {1}{2}{3}, {1}{2}, {1}{3}, {2}{3}, {1}{23}, {2}{13}, {3}{12}, {1},
// {2}, {3}, {12}{13}{23}, {12}{13}, {12}{23}, {13}{23}, {12}, {13}, {23},
// {123}; for n = 4 it starts {1}{2}{3}{4}, {1}{2}{3}, ... and ends {1234}.
// A goal vector has one weight per antichain in this order, then one for H_res.
type Lattice struct {
	n          int
	antichains []Antichain
	top        int     // index of the antichain {1..n}
	moebius    [][]int // atoms = moebius · I_cap
	// unionCoef[a][u] is the inclusion-exclusion coefficient of the marginal
	// on source subset u in antichain a's union probability: the sum of
	// (-1)^(|B|-1) over the nonempty subsets B of the antichain whose members'
	// union is u. Grouping by u turns 2^|alpha| terms into at most 2^n - 1.
	unionCoef [][]int
	// terms[a] lists the subsets u with a nonzero coefficient, for the hot loop.
	terms [][]term
	// unions groups the antichains by the union of their members: they are
	// evaluated together on that union's groups, each marginal read once.
	unions []unionGroup
}

// A unionGroup is every antichain whose members' union is one mask.
type unionGroup struct {
	union   uint8
	subsets []uint8 // the subsets the antichains' terms read, in mask order
	chains  []fusedChain
	// bySlot[j] lists the antichains whose terms read subset j, in chain
	// order, with their coefficients: the gradient gathers along it.
	bySlot [][]slotTerm
	// trivariateFull: this is the union of all three sources of the
	// trivariate lattice, whose terms are those tri7Fracs and tri7Gather
	// spell out.
	trivariateFull bool
}

type slotTerm struct {
	chain int
	coef  float64
}

// A fusedChain is one antichain of a unionGroup, its terms indexing the
// group's subsets.
type fusedChain struct {
	index int
	terms []fusedTerm
}

type fusedTerm struct {
	slot int
	coef float64
}

type term struct {
	subset uint8
	coef   float64
}

var (
	latticeOnce [MaxSources + 1]sync.Once
	lattices    [MaxSources + 1]*Lattice
)

// NewLattice returns the lattice of n sources, 2 <= n <= 4. Lattices are built
// once per n and shared.
func NewLattice(n int) (*Lattice, error) {
	if n < MinSources || n > MaxSources {
		return nil, fmt.Errorf("pid: %d sources: want %d to %d", n, MinSources, MaxSources)
	}
	latticeOnce[n].Do(func() { lattices[n] = buildLattice(n) })
	return lattices[n], nil
}

// MustLattice is NewLattice for a number of sources fixed by the program; it
// panics if n is outside 2..4.
func MustLattice(n int) *Lattice {
	l, err := NewLattice(n)
	if err != nil {
		panic(err)
	}
	return l
}

func buildLattice(n int) *Lattice {
	full := uint8(1<<n - 1)
	var masks []uint8
	for m := uint8(1); m <= full; m++ {
		masks = append(masks, m)
	}
	var chains []Antichain
	for pick := 1; pick < 1<<len(masks); pick++ {
		var a Antichain
		ok := true
		for i := 0; i < len(masks) && ok; i++ {
			if pick&(1<<i) == 0 {
				continue
			}
			for _, m := range a {
				if m&masks[i] == m || m&masks[i] == masks[i] {
					ok = false
					break
				}
			}
			a = append(a, masks[i])
		}
		if ok {
			sortMembers(a)
			chains = append(chains, a)
		}
	}
	sort.SliceStable(chains, func(i, j int) bool { return goalLess(chains[i], chains[j]) })
	if n == 2 {
		// The paper's bivariate goal lists the unique atoms before redundancy.
		chains = []Antichain{chains[1], chains[2], chains[0], chains[3]}
	}

	l := &Lattice{n: n, antichains: chains}
	for i, a := range chains {
		if len(a) == 1 && a[0] == full {
			l.top = i
		}
	}
	l.moebius = moebius(chains)
	l.unionCoef = make([][]int, len(chains))
	l.terms = make([][]term, len(chains))
	for i, a := range chains {
		coef := make([]int, full+1)
		for pick := 1; pick < 1<<len(a); pick++ {
			var u uint8
			for j, m := range a {
				if pick&(1<<j) != 0 {
					u |= m
				}
			}
			if bits.OnesCount(uint(pick))%2 == 1 {
				coef[u]++
			} else {
				coef[u]--
			}
		}
		l.unionCoef[i] = coef
		for u, c := range coef {
			if c != 0 {
				l.terms[i] = append(l.terms[i], term{uint8(u), float64(c)})
			}
		}
	}
	for U := uint8(1); U <= full; U++ {
		ug := unionGroup{union: U}
		slot := map[uint8]int{}
		for i, a := range chains {
			if a.Union() != U {
				continue
			}
			for _, tm := range l.terms[i] {
				if _, ok := slot[tm.subset]; !ok {
					slot[tm.subset] = -1
				}
			}
		}
		for u := uint8(1); u <= full; u++ {
			if _, ok := slot[u]; ok {
				slot[u] = len(ug.subsets)
				ug.subsets = append(ug.subsets, u)
			}
		}
		for i, a := range chains {
			if a.Union() != U {
				continue
			}
			fc := fusedChain{index: i}
			for _, tm := range l.terms[i] {
				fc.terms = append(fc.terms, fusedTerm{slot[tm.subset], tm.coef})
			}
			ug.chains = append(ug.chains, fc)
		}
		ug.bySlot = make([][]slotTerm, len(ug.subsets))
		for ci, fc := range ug.chains {
			for _, tm := range fc.terms {
				ug.bySlot[tm.slot] = append(ug.bySlot[tm.slot], slotTerm{ci, tm.coef})
			}
		}
		ug.trivariateFull = n == 3 && U == full && tri7Matches(&ug)
		if len(ug.chains) > 0 {
			l.unions = append(l.unions, ug)
		}
	}
	return l
}

func sortMembers(a Antichain) {
	sort.Slice(a, func(i, j int) bool { return memberLess(a[i], a[j]) })
}

// memberLess orders subsets by size, then by their source indices read as a
// word ({12} < {13} < {23}).
func memberLess(x, y uint8) bool {
	cx, cy := bits.OnesCount8(x), bits.OnesCount8(y)
	if cx != cy {
		return cx < cy
	}
	// Equal sizes: the lower first differing source comes first.
	d := x ^ y
	low := d & -d
	return x&low != 0
}

func goalLess(a, b Antichain) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := bits.OnesCount8(a[i]), bits.OnesCount8(b[i])
		if ca != cb {
			return ca < cb
		}
	}
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	for i := range a {
		if a[i] != b[i] {
			return memberLess(a[i], b[i])
		}
	}
	return false
}

// moebius inverts I_cap(alpha) = sum over beta <= alpha of Pi(beta): row k
// holds the integer coefficients of atom k over the I_cap values.
func moebius(chains []Antichain) [][]int {
	k := len(chains)
	// Process antichains from the bottom up: fewer antichains below first.
	nbelow := make([]int, k)
	for i := range chains {
		for j := range chains {
			if below(chains[j], chains[i]) {
				nbelow[i]++
			}
		}
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(x, y int) bool { return nbelow[order[x]] < nbelow[order[y]] })
	m := make([][]int, k)
	for _, i := range order {
		row := make([]int, k)
		row[i] = 1
		for j := range chains {
			if j != i && below(chains[j], chains[i]) {
				for c := range row {
					row[c] -= m[j][c]
				}
			}
		}
		m[i] = row
	}
	return m
}

// Sources is the number of sources n.
func (l *Lattice) Sources() int { return l.n }

// NumAtoms is the number of antichains (atoms): 4, 18 or 166.
func (l *Lattice) NumAtoms() int { return len(l.antichains) }

// GoalLen is the length of a goal vector: one weight per atom, then H_res.
func (l *Lattice) GoalLen() int { return len(l.antichains) + 1 }

// Antichain returns the i-th antichain in goal order. The caller must not
// modify it.
func (l *Lattice) Antichain(i int) Antichain { return l.antichains[i] }

// Top is the index of the antichain {1..n}, whose I^sx is I(T; S).
func (l *Lattice) Top() int { return l.top }

// Below reports whether antichain i <= antichain j in the lattice.
func (l *Lattice) Below(i, j int) bool { return below(l.antichains[i], l.antichains[j]) }

// Moebius returns a copy of the integer matrix M with atoms = M · I_cap, rows
// and columns in goal order.
func (l *Lattice) Moebius() [][]int {
	out := make([][]int, len(l.moebius))
	for i, r := range l.moebius {
		out[i] = append([]int(nil), r...)
	}
	return out
}

// Labels returns the labels of the goal vector's entries: the antichains in
// goal order, then "H_res". A nil names uses source numbers ({1}{23}).
func (l *Lattice) Labels(names []string) []string {
	if names != nil && len(names) != l.n {
		panic(fmt.Sprintf("pid: %d source names for %d sources", len(names), l.n))
	}
	out := make([]string, 0, l.GoalLen())
	for _, a := range l.antichains {
		out = append(out, a.Label(names))
	}
	return append(out, "H_res")
}

// Weights converts a goal vector (atoms in goal order, then H_res) into one
// weight per antichain's I^sx, w = Mᵀ gamma with gamma_res subtracted at the
// top, so that G = sum_alpha w_alpha I_sx(alpha) + gamma_res H(T). dst must
// have NumAtoms entries. It panics if goal has the wrong length.
func (l *Lattice) Weights(dst, goal []float64) {
	if len(goal) != l.GoalLen() || len(dst) != l.NumAtoms() {
		panic(fmt.Sprintf("pid: goal of %d and weights of %d for %d atoms", len(goal), len(dst), l.NumAtoms()))
	}
	for a := range dst {
		dst[a] = 0
	}
	for k, row := range l.moebius {
		if goal[k] == 0 {
			continue
		}
		for a, c := range row {
			if c != 0 {
				dst[a] += float64(c) * goal[k]
			}
		}
	}
	dst[l.top] -= goal[l.NumAtoms()]
}

// Atoms applies the Möbius inversion: dst[k] = sum_alpha M[k][alpha] icap[alpha].
func (l *Lattice) Atoms(dst, icap []float64) {
	for k, row := range l.moebius {
		s := 0.0
		for a, c := range row {
			if c != 0 {
				s += float64(c) * icap[a]
			}
		}
		dst[k] = s
	}
}
