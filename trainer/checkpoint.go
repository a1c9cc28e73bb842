package trainer

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"

	"goalsearch/trainer/dataset"
)

// StateVersion is the layout version of State; a State of another version
// is refused rather than misread.
const StateVersion = 1

// State is everything a run needs to continue exactly where it stopped, at
// the end of an epoch: the weights, the optimisers' moments and step counts,
// the state of every random stream that training advances (the sampling of
// each layer's outputs, the shuffling of the training set), the position of
// the batch iterator, and the metrics so far. The weight initialisation,
// the lateral mask and the validation split are not saved: they are
// recomputed from the Config. Evaluation streams are derived afresh from the
// seed and epoch, so they need no state.
//
// A State is plain data: it may be inspected, and MarshalBinary encodes it
// for a store.
type State struct {
	Version int
	// Config identifies the run: the Config (defaults applied, Threads
	// left out) as JSON. Restore refuses a State of another Config.
	Config string
	// Epoch is the number of completed epochs.
	Epoch int
	// Params holds the network's parameter vectors (Trainer.Params order).
	Params [][]float64
	// Adam holds the optimisers' states, in a fixed order per setup.
	Adam []AdamState
	// RNG holds the marshalled random streams, in a fixed order per setup.
	RNG [][]byte
	// Batches is the marshalled training batch iterator.
	Batches []byte
	// Metrics holds the metrics of the Epoch completed epochs.
	Metrics []EpochMetrics
}

// fingerprint is the Config as JSON, without the fields that do not change
// results.
func fingerprint(cfg Config) string {
	cfg.Threads, cfg.NoTest = 0, false
	b, err := json.Marshal(cfg)
	if err != nil {
		panic("trainer: config does not encode: " + err.Error()) // only finite numbers reach here
	}
	return string(b)
}

// State returns a copy of the run's state. It returns an error if an epoch
// stopped half way (the state is then between epochs' worth of updates).
// The returned State shares nothing with the Trainer.
func (t *Trainer) State() (*State, error) {
	if t.broken != nil {
		return nil, fmt.Errorf("trainer: no state after an epoch that stopped half way (%w)", t.broken)
	}
	s := &State{
		Version: StateVersion,
		Config:  fingerprint(t.cfg),
		Epoch:   t.epoch,
		Params:  t.Params(),
		Metrics: t.Metrics(),
	}
	for _, o := range t.net.optimisers() {
		s.Adam = append(s.Adam, o.State())
	}
	for _, r := range t.net.rngs() {
		b, err := r.MarshalBinary()
		if err != nil {
			return nil, fmt.Errorf("trainer: saving a random stream: %w", err)
		}
		s.RNG = append(s.RNG, b)
	}
	var err error
	if s.Batches, err = t.batches.MarshalBinary(); err != nil {
		return nil, fmt.Errorf("trainer: saving the batch iterator: %w", err)
	}
	return s, nil
}

// Restore sets the run's state to s, taken by State from a Trainer of the
// same Config (Threads may differ) and data set. Afterwards the run continues
// exactly as the one s was taken from would have. Restore also recovers a
// Trainer whose epoch stopped half way. It returns an error, and leaves the
// Trainer unchanged, if s does not fit: another version or Config, other
// sizes, a malformed stream or iterator state.
func (t *Trainer) Restore(s *State) error {
	if s.Version != StateVersion {
		return fmt.Errorf("trainer: state of version %d, this build reads %d", s.Version, StateVersion)
	}
	if fp := fingerprint(t.cfg); s.Config != fp {
		return fmt.Errorf("trainer: state is for another configuration:\n  state: %s\n  run:   %s", s.Config, fp)
	}
	if s.Epoch < 0 || len(s.Metrics) != s.Epoch {
		return fmt.Errorf("trainer: state at epoch %d with metrics of %d epochs", s.Epoch, len(s.Metrics))
	}
	params, opts, rngs := t.net.params(), t.net.optimisers(), t.net.rngs()
	if len(s.Params) != len(params) || len(s.Adam) != len(opts) || len(s.RNG) != len(rngs) {
		return fmt.Errorf("trainer: state has %d parameter vectors, %d optimisers and %d random streams, want %d, %d and %d",
			len(s.Params), len(s.Adam), len(s.RNG), len(params), len(opts), len(rngs))
	}
	for i, p := range params {
		if len(s.Params[i]) != len(p) {
			return fmt.Errorf("trainer: state's parameter vector %d has %d values, want %d", i, len(s.Params[i]), len(p))
		}
	}
	// Check everything that can fail on scratch copies before changing
	// anything.
	for i, o := range opts {
		scratch := &Adam{cfg: o.cfg, m: make([]float64, len(o.m)), v: make([]float64, len(o.v))}
		if err := scratch.SetState(s.Adam[i]); err != nil {
			return fmt.Errorf("%w (optimiser %d)", err, i)
		}
	}
	for i, b := range s.RNG {
		var pcg rand.PCG
		if err := pcg.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("trainer: state's random stream %d: %w", i, err)
		}
	}
	batches := dataset.NewBatches(t.train, t.cfg.BatchSize, t.cfg.Seed)
	if err := batches.UnmarshalBinary(s.Batches); err != nil {
		return fmt.Errorf("trainer: state's batch iterator: %w", err)
	}
	if batches.Epoch() != s.Epoch {
		return fmt.Errorf("trainer: state at epoch %d has a batch iterator at epoch %d", s.Epoch, batches.Epoch())
	}

	for i, p := range params {
		copy(p, s.Params[i])
	}
	for i, o := range opts {
		if err := o.SetState(s.Adam[i]); err != nil {
			panic("trainer: optimiser state checked but refused: " + err.Error())
		}
	}
	for i, r := range rngs {
		if err := r.UnmarshalBinary(s.RNG[i]); err != nil {
			panic("trainer: random stream checked but refused: " + err.Error())
		}
	}
	t.batches = batches
	t.epoch = s.Epoch
	t.metrics = t.metrics[:0]
	for _, m := range s.Metrics {
		t.metrics = append(t.metrics, m.clone())
	}
	t.broken = nil
	return nil
}

// stateData is State without its methods, so that gob encodes the fields
// rather than calling MarshalBinary again.
type stateData State

// stateMagic starts an encoded State, so that other bytes are refused
// before gob reads them.
var stateMagic = []byte("GSTS")

// MarshalBinary encodes s: a 4-byte magic, a version byte, then s in gob.
// Floats are encoded exactly.
func (s *State) MarshalBinary() ([]byte, error) {
	var buf bytes.Buffer
	buf.Write(stateMagic)
	buf.WriteByte(StateVersion)
	if err := gob.NewEncoder(&buf).Encode((*stateData)(s)); err != nil {
		return nil, fmt.Errorf("trainer: encoding state: %w", err)
	}
	return buf.Bytes(), nil
}

// ErrBadState is returned (wrapped) by UnmarshalBinary for bytes that are
// not an encoded State of this version.
var ErrBadState = errors.New("trainer: not a training state")

// UnmarshalBinary decodes a State encoded by MarshalBinary.
func (s *State) UnmarshalBinary(data []byte) error {
	if len(data) < len(stateMagic)+1 || !bytes.Equal(data[:len(stateMagic)], stateMagic) {
		return fmt.Errorf("%w: %d bytes without the state header", ErrBadState, len(data))
	}
	if v := data[len(stateMagic)]; v != StateVersion {
		return fmt.Errorf("%w: version %d, this build reads %d", ErrBadState, v, StateVersion)
	}
	var d stateData
	if err := gob.NewDecoder(bytes.NewReader(data[len(stateMagic)+1:])).Decode(&d); err != nil {
		return fmt.Errorf("%w: %v", ErrBadState, err)
	}
	*s = State(d)
	return nil
}
