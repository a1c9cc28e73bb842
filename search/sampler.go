package search

import (
	"encoding/json"
	"fmt"

	"goalsearch/search/asktell"
)

// A Sampler proposes points in a box and learns from their results. It
// speaks the protocol of package asktell, as every goalsearch sampler does:
// Ask proposes points, numbered on over the sampler's life; Tell gives a
// point's result by its number, in any order; Pending lists the points
// asked and not told. The driver owns the loop and the goroutines: a
// sampler never starts one, and it never sees a trial, a store or a clock.
// Values are minimised (the driver tells the negated validation accuracy).
//
// State. State returns everything the sampler needs to continue exactly
// (including its random streams) as a versioned JSON value; Restore
// accepts it, or returns an error wrapping ErrState if the version,
// sampler, box, configuration or seed does not match. The driver saves the
// state right after each Ask, together with the proposed trials, so a
// resumed search asks exactly what an uninterrupted one would have.
type Sampler interface {
	asktell.Sampler
	// Name is the sampler's name as given on the command line (cmaes,
	// tpe, gp, ga, de, pso, nsga2, random, sobol).
	Name() string
	// State returns the sampler's state after the last call.
	State() (SamplerState, error)
	// Restore replaces the sampler's state with st.
	Restore(st SamplerState) error
}

// Result is the result of a point, as a Sampler is told it.
type Result = asktell.Result

// SamplerState is a sampler's serialised state: a format version and JSON
// data whose float64 values round-trip exactly.
type SamplerState struct {
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
}

// Box is the region samplers search: one interval per free coordinate.
// Kinds, if not nil, says for each coordinate whether it is continuous, an
// integer or a choice (Space.Box explains the encoding); Names names each
// coordinate for error messages. Both are nil for a goal-only search.
type Box struct {
	Lower, Upper []float64
	Kinds        []CoordKind
	Names        []string
}

// A CoordKind is what a coordinate of a box stands for.
type CoordKind int

const (
	// Continuous coordinates take any value of their interval.
	Continuous CoordKind = iota
	// Integer coordinates are rounded to the nearest integer.
	Integer
	// Choice coordinates on [0, n] stand for one of n unordered choices,
	// the integer part of the value; distances between them mean nothing.
	Choice
)

// choices returns the names of the box's choice coordinates.
func (b Box) choices() []string {
	var out []string
	for i, k := range b.Kinds {
		if k == Choice {
			name := fmt.Sprintf("coordinate %d", i+1)
			if i < len(b.Names) {
				name = b.Names[i]
			}
			out = append(out, name)
		}
	}
	return out
}

// Dim is the number of coordinates.
func (b Box) Dim() int { return len(b.Lower) }

// Errors of the sampler protocol: those of package asktell.
var (
	// ErrDone is returned by Ask when a sampler has nothing more to propose.
	ErrDone = asktell.ErrDone
	// ErrPending is returned by Ask when a sampler needs the results of its
	// pending points first.
	ErrPending = asktell.ErrPending
	// ErrProtocol is returned for an Ask(n < 1) or a Tell of a point that
	// is not pending.
	ErrProtocol = asktell.ErrProtocol
	// ErrState is returned by Restore for a state of another version or
	// configuration.
	ErrState = asktell.ErrState
)
