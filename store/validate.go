package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"
)

// maxNameLen bounds study names; they end up in file names and bucket keys.
const maxNameLen = 128

// Validate reports whether the study's definition is usable, wrapping
// ErrInvalidStudy. CreatedAt and SchemaVersion are not checked: the store
// sets them.
func (s Study) Validate() error {
	if err := s.check(); err != nil {
		return fmt.Errorf("%w %q: %v", ErrInvalidStudy, s.Name, err)
	}
	return nil
}

func (s Study) check() error {
	if err := ValidateName(s.Name); err != nil {
		return err
	}
	if s.Setup.Name == "" {
		return errors.New("setup has no name")
	}
	if err := checkConfig(s.Setup.Config); err != nil {
		return fmt.Errorf("setup config: %v", err)
	}
	if err := s.Space.check(); err != nil {
		return fmt.Errorf("search space: %v", err)
	}
	if s.Objective.Metric == "" {
		return errors.New("objective has no metric")
	}
	if s.Objective.Direction != Maximize && s.Objective.Direction != Minimize {
		return fmt.Errorf("objective direction %q is neither %q nor %q", s.Objective.Direction, Maximize, Minimize)
	}
	for i, o := range s.Objectives {
		if o.Metric == "" {
			return fmt.Errorf("objective %d has no metric", i+2)
		}
		if o.Direction != Maximize && o.Direction != Minimize {
			return fmt.Errorf("objective %d direction %q is neither %q nor %q", i+2, o.Direction, Maximize, Minimize)
		}
		if !(o.Grid >= 0) || math.IsInf(o.Grid, 0) {
			return fmt.Errorf("objective %d has grid %v; want 0 or a positive finite step", i+2, o.Grid)
		}
	}
	if s.Sampler.Name == "" {
		return errors.New("sampler has no name")
	}
	if err := checkConfig(s.Sampler.Config); err != nil {
		return fmt.Errorf("sampler config: %v", err)
	}
	if err := checkConfig(s.Pruner.Config); err != nil {
		return fmt.Errorf("pruner config: %v", err)
	}
	if s.Pruner.Name == "" && len(normJSON(s.Pruner.Config)) > 0 {
		return errors.New("pruner has a config but no name")
	}
	return nil
}

// ValidateName reports whether name can name a study: 1 to 128 bytes of
// UTF-8 without control characters or leading or trailing space.
func ValidateName(name string) error {
	switch {
	case name == "":
		return errors.New("empty study name")
	case len(name) > maxNameLen:
		return fmt.Errorf("study name longer than %d bytes", maxNameLen)
	case !utf8.ValidString(name):
		return errors.New("study name is not UTF-8")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("study name %q has a control character", name)
		}
	}
	first, _ := utf8.DecodeRuneInString(name)
	last, _ := utf8.DecodeLastRuneInString(name)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return fmt.Errorf("study name %q starts or ends with space", name)
	}
	return nil
}

// Validate reports whether the space is usable, wrapping ErrInvalidStudy.
func (s SearchSpace) Validate() error {
	if err := s.check(); err != nil {
		return fmt.Errorf("%w: search space: %v", ErrInvalidStudy, err)
	}
	return nil
}

func (s SearchSpace) check() error {
	n := len(s.Labels)
	if n == 0 {
		return errors.New("no coordinates")
	}
	if len(s.Lower) != n || len(s.Upper) != n {
		return fmt.Errorf("%d labels but %d lower and %d upper bounds", n, len(s.Lower), len(s.Upper))
	}
	seen := make(map[string]int, n)
	for i, l := range s.Labels {
		if l == "" || !utf8.ValidString(l) {
			return fmt.Errorf("label %d is empty or not UTF-8", i)
		}
		if j, ok := seen[l]; ok {
			return fmt.Errorf("labels %d and %d are both %q", j, i, l)
		}
		seen[l] = i
		lo, hi := s.Lower[i], s.Upper[i]
		if !finite(lo) || !finite(hi) || lo > hi {
			return fmt.Errorf("bounds of %s are [%v, %v]", l, lo, hi)
		}
	}
	for l, v := range s.Fixed {
		i, ok := seen[l]
		if !ok {
			return fmt.Errorf("fixed coordinate %q is not a label", l)
		}
		if !finite(v) || v < s.Lower[i] || v > s.Upper[i] {
			return fmt.Errorf("fixed %s = %v is outside [%v, %v]", l, v, s.Lower[i], s.Upper[i])
		}
	}
	keys := map[string]bool{}
	for i, p := range s.Params {
		if p.Key == "" || !utf8.ValidString(p.Key) || keys[p.Key] {
			return fmt.Errorf("parameter %d has an empty, invalid or repeated key %q", i, p.Key)
		}
		keys[p.Key] = true
		if err := p.check(); err != nil {
			return fmt.Errorf("parameter %s: %v", p.Key, err)
		}
	}
	return nil
}

func (p Param) check() error {
	switch p.Type {
	case Float, LogFloat, Int:
		if !finite(p.Lower) || !finite(p.Upper) || !(p.Lower < p.Upper) {
			return fmt.Errorf("bounds [%v, %v]; want finite lower < upper", p.Lower, p.Upper)
		}
		if p.Type == LogFloat && p.Lower <= 0 {
			return fmt.Errorf("log-float lower bound %v; want > 0", p.Lower)
		}
		if p.Type == Int && (p.Lower != math.Trunc(p.Lower) || p.Upper != math.Trunc(p.Upper)) {
			return fmt.Errorf("int bounds [%v, %v] are not integers", p.Lower, p.Upper)
		}
		if len(p.Choices) > 0 {
			return errors.New("choices on a numeric parameter")
		}
	case Categorical:
		if len(p.Choices) == 0 {
			return errors.New("no choices")
		}
		for i, c := range p.Choices {
			if !json.Valid(c) {
				return fmt.Errorf("choice %d is not JSON", i)
			}
		}
		if p.Lower != 0 || p.Upper != 0 {
			return errors.New("bounds on a categorical parameter")
		}
	default:
		return fmt.Errorf("type %q; want float, log-float, int or categorical", p.Type)
	}
	return nil
}

// checkParams reports whether vals are values of the parameters ps.
func checkParams(ps []Param, vals []float64) error {
	if len(vals) != len(ps) {
		return fmt.Errorf("%d parameter values, the search space has %d parameters", len(vals), len(ps))
	}
	for i, p := range ps {
		v := vals[i]
		if !finite(v) {
			return fmt.Errorf("parameter %s is %v", p.Key, v)
		}
		switch p.Type {
		case Int:
			if v != math.Trunc(v) {
				return fmt.Errorf("int parameter %s is %v", p.Key, v)
			}
		case Categorical:
			if v != math.Trunc(v) || v < 0 || int(v) >= len(p.Choices) {
				return fmt.Errorf("categorical parameter %s has choice index %v of %d", p.Key, v, len(p.Choices))
			}
		}
	}
	return nil
}

// Validate reports whether t satisfies the invariants every stored trial
// keeps (its fields agree with its state), wrapping ErrInvalidTrial.
// Backends check it on every record they decode or import.
func (t Trial) Validate() error {
	if err := t.check(); err != nil {
		return fmt.Errorf("%w %d: %v", ErrInvalidTrial, t.Number, err)
	}
	return nil
}

func (t Trial) check() error {
	if t.Number < 0 {
		return errors.New("negative number")
	}
	if !t.State.Valid() {
		return fmt.Errorf("unknown state %q", t.State)
	}
	if err := checkGamma(t.Gamma); err != nil {
		return err
	}
	for i, v := range t.Params {
		if !finite(v) {
			return fmt.Errorf("params[%d] is %v", i, v)
		}
	}
	if t.Generation < 0 || t.Budget < 0 || t.Attempt < 0 || t.WallTime < 0 || t.CheckpointEpoch < 0 {
		return errors.New("negative generation, budget, attempt, wall time or checkpoint epoch")
	}
	if t.Created.IsZero() {
		return errors.New("no creation time")
	}
	last := 0
	hasCkpt := t.CheckpointEpoch == 0
	for _, m := range t.Epochs {
		if m.Epoch <= last {
			return fmt.Errorf("epoch %d after epoch %d", m.Epoch, last)
		}
		last = m.Epoch
		if m.Epoch == t.CheckpointEpoch {
			hasCkpt = true
		}
		if err := checkNames(m.Extra); err != nil {
			return fmt.Errorf("epoch %d: %v", m.Epoch, err)
		}
	}
	if !hasCkpt {
		return fmt.Errorf("checkpoint of epoch %d, which has no metrics", t.CheckpointEpoch)
	}
	if (t.State == Running || t.State == Paused) && t.Attempt < 1 {
		return fmt.Errorf("%s but never started", t.State)
	}
	if (t.State == Queued || t.State == Paused) && last != t.CheckpointEpoch {
		return fmt.Errorf("%s with epochs up to %d but a checkpoint of epoch %d", t.State, last, t.CheckpointEpoch)
	}
	if !t.State.Finished() {
		if t.Value != nil || t.Values != nil || t.Final != nil || t.Atoms != nil || t.WallTime != 0 || t.Reason != "" || !t.Finished.IsZero() {
			return fmt.Errorf("%s but has a result", t.State)
		}
		return nil
	}
	if t.CheckpointEpoch != 0 {
		return errors.New("finished but has a checkpoint")
	}
	if t.Finished.IsZero() {
		return errors.New("finished but no finish time")
	}
	return Result{State: t.State, Value: t.Value, Values: t.Values, Final: t.Final, Atoms: t.Atoms, WallTime: t.WallTime, Reason: t.Reason}.check()
}

// Validate reports whether r can end a trial, wrapping ErrInvalidResult.
func (r Result) Validate() error {
	if err := r.check(); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidResult, err)
	}
	return nil
}

func (r Result) check() error {
	switch r.State {
	case Complete:
		if r.Value == nil || math.IsNaN(*r.Value) {
			return errors.New("complete without a value")
		}
	case Pruned:
	case Failed:
		if r.Reason == "" {
			return errors.New("failed without a reason")
		}
		if r.Value != nil || r.Values != nil {
			return errors.New("failed with a value")
		}
	default:
		return fmt.Errorf("state %q is not complete, pruned or failed", r.State)
	}
	if r.WallTime < 0 {
		return errors.New("negative wall time")
	}
	for i, v := range r.Values {
		if math.IsNaN(v) {
			return fmt.Errorf("value of objective %d is NaN", i+2)
		}
	}
	for i, row := range r.Atoms {
		if len(row) != len(r.Atoms[0]) {
			return fmt.Errorf("atoms of neuron %d: %d values, neuron 0 has %d", i, len(row), len(r.Atoms[0]))
		}
	}
	return checkNames(r.Final)
}

// Validate reports whether the state can be saved, wrapping
// ErrInvalidSamplerState.
func (s SamplerState) Validate() error {
	if err := s.check(); err != nil {
		return fmt.Errorf("%w %d: %v", ErrInvalidSamplerState, s.Generation, err)
	}
	return nil
}

func (s SamplerState) check() error {
	if s.Generation < 0 || s.Version < 0 {
		return errors.New("negative generation or version")
	}
	if len(s.Data) == 0 || !json.Valid(s.Data) {
		return errors.New("data is not JSON")
	}
	for i, n := range s.Trials {
		if n < 0 || (i > 0 && n <= s.Trials[i-1]) {
			return errors.New("trial numbers not increasing")
		}
	}
	return nil
}

// ValidateNewTrial reports whether t can be enqueued in a study with
// search space sp, wrapping ErrInvalidTrial.
func ValidateNewTrial(sp SearchSpace, t NewTrial) error {
	err := checkGamma(t.Gamma)
	if err == nil && len(t.Gamma) != sp.Dim() {
		err = fmt.Errorf("gamma has %d entries, the search space %d", len(t.Gamma), sp.Dim())
	}
	if err == nil {
		err = checkParams(sp.Params, t.Params)
	}
	if err == nil && (t.Generation < 0 || t.Budget < 0) {
		err = errors.New("negative generation or budget")
	}
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidTrial, err)
	}
	return nil
}

func checkGamma(g []float64) error {
	if len(g) == 0 {
		return errors.New("empty gamma")
	}
	for i, v := range g {
		if !finite(v) {
			return fmt.Errorf("gamma[%d] is %v", i, v)
		}
	}
	return nil
}

func checkNames(m map[string]float64) error {
	for k := range m {
		if k == "" {
			return errors.New("metric with an empty name")
		}
	}
	return nil
}

func checkConfig(c json.RawMessage) error {
	if len(c) > 0 && !json.Valid(c) {
		return errors.New("not JSON")
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
