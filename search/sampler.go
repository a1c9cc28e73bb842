package search

import (
	"encoding/json"
	"errors"
)

// A Sampler proposes points in a box and learns from their values, in
// generations (ask/tell). The driver owns the loop and the goroutines: a
// sampler never starts one, and it never sees a trial, a store or a clock.
//
// Protocol. Ask(n) returns the next generation's points; the driver
// evaluates all of them (in parallel, in any order) and then calls Tell
// with one value per point, in the order Ask returned them. Values are
// minimised; NaN marks a failed evaluation, which the sampler must treat as
// worse than any real value. Ask may not be called again before Tell,
// except by samplers whose proposals do not depend on values (random,
// Sobol): they report Independent() true, the driver asks them again
// whenever a worker is free and never tells them, and a second Ask drops
// the outstanding generation. n is the number of workers available: samplers whose generation size is
// free (random, Sobol) return n points, so no worker idles; population
// methods return their population size and ignore n.
//
// State. State returns everything the sampler needs to continue exactly
// (including its random streams) as a versioned JSON value; Restore
// accepts it, or an error if the version or the configuration does not
// match. The driver saves the state right after each Ask, together with
// the proposed trials, so a resumed search asks exactly what an
// uninterrupted one would have.
type Sampler interface {
	// Name is the sampler's name as given on the command line (cmaes, ga,
	// de, pso, random, sobol).
	Name() string
	// Ask proposes the next generation of points, each of Dim() values
	// inside [Lower, Upper]. ErrDone means the sampler will propose no more.
	Ask(n int) ([][]float64, error)
	// Tell gives the values of the points of the last Ask, in order.
	Tell(values []float64) error
	// State returns the sampler's state after the last Ask or Tell.
	State() (SamplerState, error)
	// Restore replaces the sampler's state with st.
	Restore(st SamplerState) error
}

// SamplerState is a sampler's serialised state: a format version and JSON
// data whose float64 values round-trip exactly.
type SamplerState struct {
	Version int             `json:"version"`
	Data    json.RawMessage `json:"data"`
}

// Box is the region samplers search: one interval per free coordinate.
type Box struct {
	Lower, Upper []float64
}

// Dim is the number of coordinates.
func (b Box) Dim() int { return len(b.Lower) }

// Errors of the sampler protocol.
var (
	// ErrDone is returned by Ask when a sampler has nothing more to propose.
	ErrDone = errors.New("search: sampler is done")
	// ErrProtocol is returned when Ask and Tell are called out of turn or
	// Tell gets the wrong number of values.
	ErrProtocol = errors.New("search: ask/tell out of turn")
	// ErrState is returned by Restore for a state of another version or
	// configuration.
	ErrState = errors.New("search: sampler state does not match")
)
