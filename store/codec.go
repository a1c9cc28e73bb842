package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Records are JSON objects with a version field "v" (see SchemaVersion).
// JSON rather than a compact binary layout because a store is a long-lived
// research record: it stays readable with generic tools (bbolt's CLI, jq),
// a future PostgreSQL backend can keep the same bytes in a jsonb column,
// fields can be added without a hand-written migration, and export files
// are the same records. Go prints a float64 with the shortest decimal that
// parses back to the same bits, so values round-trip exactly; NaN and
// infinities, which plain JSON lacks, are written as the strings "NaN",
// "+Inf" and "-Inf". The cost is size (about 2.5x a binary layout), which
// is small next to the checkpoints, kept as raw bytes by the backends.
//
// Decoding is strict: unknown fields, trailing data, wrong types and
// records that break the invariants of Trial.Validate are ErrCorrupt; a
// record with a larger version is ErrNewerSchema. It never panics.

// num is a float64 that encodes NaN and infinities as JSON strings.
type num float64

func (f num) MarshalJSON() ([]byte, error) {
	x := float64(f)
	switch {
	case math.IsNaN(x):
		return []byte(`"NaN"`), nil
	case math.IsInf(x, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(x, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, x, 'g', -1, 64), nil
}

func (f *num) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"NaN"`:
		*f = num(math.NaN())
		return nil
	case `"+Inf"`:
		*f = num(math.Inf(1))
		return nil
	case `"-Inf"`:
		*f = num(math.Inf(-1))
		return nil
	}
	if len(b) == 0 || (b[0] != '-' && (b[0] < '0' || b[0] > '9')) {
		return fmt.Errorf("%.20q is not a number", b)
	}
	x, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return fmt.Errorf("%.20q is not a float64", b)
	}
	*f = num(x)
	return nil
}

// objectiveRec is one further objective of a study; a study record
// without any is a single-objective study, as every record written before
// they existed.
type objectiveRec struct {
	Metric    string    `json:"metric"`
	Direction Direction `json:"direction"`
	Grid      float64   `json:"grid,omitempty"`
}

type configRec struct {
	Name   string          `json:"name"`
	Config json.RawMessage `json:"config,omitempty"`
}

type spaceRec struct {
	Labels   []string           `json:"labels"`
	Lower    []float64          `json:"lower"`
	Upper    []float64          `json:"upper"`
	Fixed    map[string]float64 `json:"fixed,omitempty"`
	UnitNorm bool               `json:"unit_norm,omitempty"`
	Params   []paramRec         `json:"params,omitempty"`
}

type paramRec struct {
	Key     string            `json:"key"`
	Type    ParamType         `json:"type"`
	Lower   float64           `json:"lower,omitempty"`
	Upper   float64           `json:"upper,omitempty"`
	Choices []json.RawMessage `json:"choices,omitempty"`
}

type studyRec struct {
	V             int             `json:"v"`
	Name          string          `json:"name"`
	Setup         configRec       `json:"setup"`
	Space         spaceRec        `json:"space"`
	Metric        string          `json:"metric"`
	Direction     Direction       `json:"direction"`
	Objectives    []objectiveRec  `json:"objectives,omitempty"`
	Sampler       configRec       `json:"sampler"`
	Pruner        *configRec      `json:"pruner,omitempty"`
	Seed          uint64          `json:"seed"`
	CreatedAt     time.Time       `json:"created_at"`
	SchemaVersion int             `json:"schema_version"`
	Experiment    json.RawMessage `json:"experiment,omitempty"`
}

type epochRec struct {
	Epoch     int            `json:"epoch"`
	TrainLoss num            `json:"train_loss"`
	TrainAcc  num            `json:"train_acc"`
	ValAcc    num            `json:"val_acc"`
	TestAcc   *num           `json:"test_acc,omitempty"`
	Seconds   num            `json:"seconds"`
	Extra     map[string]num `json:"extra,omitempty"`
}

type trialRec struct {
	V               int            `json:"v"`
	Number          int            `json:"number"`
	State           TrialState     `json:"state"`
	Gamma           []float64      `json:"gamma"`
	Params          []float64      `json:"params,omitempty"`
	Seed            uint64         `json:"seed"`
	Generation      int            `json:"generation,omitempty"`
	Budget          int            `json:"budget,omitempty"`
	Attempt         int            `json:"attempt,omitempty"`
	Worker          string         `json:"worker,omitempty"`
	LeaseExpiry     *time.Time     `json:"lease_expiry,omitempty"`
	Epochs          []epochRec     `json:"epochs,omitempty"`
	CheckpointEpoch int            `json:"checkpoint_epoch,omitempty"`
	Value           *num           `json:"value,omitempty"`
	Values          []num          `json:"values,omitempty"`
	Final           map[string]num `json:"final,omitempty"`
	Atoms           [][]num        `json:"atoms,omitempty"`
	WallTimeNS      time.Duration  `json:"wall_time_ns,omitempty"` // as stored: exact
	WallSeconds     *num           `json:"wall_seconds,omitempty"` // as exported: conventional
	Reason          string         `json:"reason,omitempty"`
	Created         time.Time      `json:"created"`
	Started         *time.Time     `json:"started,omitempty"`
	Finished        *time.Time     `json:"finished,omitempty"`
}

type samplerRec struct {
	V          int             `json:"v"`
	Generation int             `json:"generation"`
	Version    int             `json:"version"`
	Data       json.RawMessage `json:"data"`
	Trials     []int           `json:"trials,omitempty"`
	CreatedAt  time.Time       `json:"created_at"`
}

// EncodeStudy returns the record of s. It fails only if s.Validate does.
// The result is the caller's; EncodeStudy is safe for concurrent use.
func EncodeStudy(s Study) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return marshal(studyToRec(s))
}

// DecodeStudy parses a record written by EncodeStudy: ErrCorrupt for
// anything else, ErrNewerSchema for a newer record. The result shares no
// memory with b; DecodeStudy is safe for concurrent use.
func DecodeStudy(b []byte) (Study, error) {
	var r studyRec
	if err := unmarshal(b, &r, "study"); err != nil {
		return Study{}, err
	}
	return studyChecked(r)
}

func studyChecked(r studyRec) (Study, error) {
	if r.V < 1 || r.V > SchemaVersion {
		return Study{}, fmt.Errorf("%w: study: version %d", ErrCorrupt, r.V)
	}
	s := studyFromRec(r)
	if err := s.check(); err != nil {
		return Study{}, fmt.Errorf("%w: study: %v", ErrCorrupt, err)
	}
	if s.SchemaVersion < 1 {
		return Study{}, fmt.Errorf("%w: study: schema version %d", ErrCorrupt, s.SchemaVersion)
	}
	if err := checkTime(s.CreatedAt); err != nil {
		return Study{}, fmt.Errorf("%w: study: %v", ErrCorrupt, err)
	}
	return s, nil
}

// EncodeTrial returns the record of t. It fails only if t.Validate does.
// The result is the caller's; EncodeTrial is safe for concurrent use.
func EncodeTrial(t Trial) ([]byte, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return marshal(trialToRec(t))
}

// DecodeTrial parses a record written by EncodeTrial: ErrCorrupt for
// anything else, ErrNewerSchema for a newer record. Trial.Study is left
// empty (the record does not repeat it). The result shares no memory with
// b; DecodeTrial is safe for concurrent use.
func DecodeTrial(b []byte) (Trial, error) {
	var r trialRec
	if err := unmarshal(b, &r, "trial"); err != nil {
		return Trial{}, err
	}
	return trialChecked(r)
}

func trialChecked(r trialRec) (Trial, error) {
	if r.V < 1 || r.V > SchemaVersion {
		return Trial{}, fmt.Errorf("%w: trial %d: version %d", ErrCorrupt, r.Number, r.V)
	}
	if r.WallSeconds != nil {
		s := float64(*r.WallSeconds)
		switch {
		case r.WallTimeNS != 0:
			return Trial{}, fmt.Errorf("%w: trial %d: both wall_seconds and wall_time_ns", ErrCorrupt, r.Number)
		case !(s >= 0 && s < math.MaxInt64/1e9):
			return Trial{}, fmt.Errorf("%w: trial %d: wall_seconds %v", ErrCorrupt, r.Number, s)
		}
		r.WallTimeNS = time.Duration(math.Round(s * 1e9))
	}
	t := trialFromRec(r)
	err := t.check()
	for _, tm := range []time.Time{t.LeaseExpiry, t.Created, t.Started, t.Finished} {
		if err == nil && !tm.IsZero() {
			err = checkTime(tm)
		}
	}
	if err != nil {
		return Trial{}, fmt.Errorf("%w: trial %d: %v", ErrCorrupt, t.Number, err)
	}
	return t, nil
}

// EncodeSamplerState returns the record of s. It fails only if s.Validate
// does. The result is the caller's; safe for concurrent use.
func EncodeSamplerState(s SamplerState) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return marshal(samplerToRec(s))
}

// DecodeSamplerState parses a record written by EncodeSamplerState:
// ErrCorrupt for anything else, ErrNewerSchema for a newer record. The
// result shares no memory with b; safe for concurrent use.
func DecodeSamplerState(b []byte) (SamplerState, error) {
	var r samplerRec
	if err := unmarshal(b, &r, "sampler state"); err != nil {
		return SamplerState{}, err
	}
	return samplerChecked(r)
}

func samplerChecked(r samplerRec) (SamplerState, error) {
	if r.V < 1 || r.V > SchemaVersion {
		return SamplerState{}, fmt.Errorf("%w: sampler state %d: version %d", ErrCorrupt, r.Generation, r.V)
	}
	s := samplerFromRec(r)
	err := s.check()
	if err == nil {
		err = checkTime(s.CreatedAt)
	}
	if err != nil {
		return SamplerState{}, fmt.Errorf("%w: sampler state %d: %v", ErrCorrupt, s.Generation, err)
	}
	return s, nil
}

// marshal encodes without HTML escaping, so that opaque JSON (configs,
// sampler data) is stored byte for byte as compacted.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("store: encoding record: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// unmarshal reads the version first, so that a newer record is reported as
// such rather than as unknown fields, then decodes strictly.
func unmarshal(b []byte, v any, what string) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	switch {
	case head.V == nil:
		return fmt.Errorf("%w: %s: no version", ErrCorrupt, what)
	case *head.V > SchemaVersion:
		return fmt.Errorf("%w (%s record version %d, this build reads up to %d): upgrade goalsearch to read it", ErrNewerSchema, what, *head.V, SchemaVersion)
	case *head.V < 1:
		return fmt.Errorf("%w: %s: version %d", ErrCorrupt, what, *head.V)
	}
	if err := decodeStrict(b, v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, what, err)
	}
	return nil
}

func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		return errors.New("data after the record")
	}
	return nil
}

// checkTime rejects times that JSON cannot encode again, so that a decoded
// record always re-encodes.
func checkTime(t time.Time) error {
	if y := t.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("time %v out of range", t)
	}
	return nil
}

// normJSON compacts opaque JSON and maps null and empty to nil, so that
// equal configurations compare equal byte for byte. Invalid JSON is
// returned unchanged (validation reports it).
func normJSON(b json.RawMessage) json.RawMessage {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	if bytes.Equal(buf.Bytes(), b) {
		return bytes.Clone(b)
	}
	return buf.Bytes()
}

// NormalizeJSON returns b compacted, or nil for empty input and JSON null:
// the form in which the store keeps opaque JSON (configs, sampler data).
// The result never shares memory with b.
func NormalizeJSON(b json.RawMessage) json.RawMessage { return normJSON(b) }

// stamp normalises a time as the store keeps it: UTC, no monotonic clock.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		return time.Time{}
	}
	return t.Round(0).UTC()
}

// Stamp returns t as the store keeps times: in UTC without a monotonic
// reading, and the zero time unchanged.
func Stamp(t time.Time) time.Time { return stamp(t) }

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = stamp(t)
	return &t
}

func fromOptTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return stamp(*t)
}

func configToRec(name string, c json.RawMessage) configRec {
	return configRec{Name: name, Config: normJSON(c)}
}

func studyToRec(s Study) studyRec {
	r := studyRec{
		V:         SchemaVersion,
		Name:      s.Name,
		Setup:     configToRec(s.Setup.Name, s.Setup.Config),
		Space:     spaceRec{Labels: s.Space.Labels, Lower: s.Space.Lower, Upper: s.Space.Upper, Fixed: s.Space.Fixed, UnitNorm: s.Space.UnitNorm},
		Metric:    s.Objective.Metric,
		Direction: s.Objective.Direction,
		Sampler:   configToRec(s.Sampler.Name, s.Sampler.Config),
		Seed:      s.Seed,
		CreatedAt: stamp(s.CreatedAt),

		SchemaVersion: s.SchemaVersion,
		Experiment:    normJSON(s.Experiment),
	}
	if len(r.Space.Fixed) == 0 {
		r.Space.Fixed = nil
	}
	for _, o := range s.Objectives {
		r.Objectives = append(r.Objectives, objectiveRec{Metric: o.Metric, Direction: o.Direction, Grid: o.Grid})
	}
	for _, p := range s.Space.Params {
		pr := paramRec{Key: p.Key, Type: p.Type, Lower: p.Lower, Upper: p.Upper}
		for _, c := range p.Choices {
			pr.Choices = append(pr.Choices, normJSON(c))
		}
		r.Space.Params = append(r.Space.Params, pr)
	}
	if s.Pruner.Name != "" {
		p := configToRec(s.Pruner.Name, s.Pruner.Config)
		r.Pruner = &p
	}
	return r
}

func studyFromRec(r studyRec) Study {
	s := Study{
		Name:      r.Name,
		Setup:     Setup{Name: r.Setup.Name, Config: normJSON(r.Setup.Config)},
		Space:     SearchSpace{Labels: nilIfEmpty(r.Space.Labels), Lower: nilIfEmpty(r.Space.Lower), Upper: nilIfEmpty(r.Space.Upper), UnitNorm: r.Space.UnitNorm},
		Objective: Objective{Metric: r.Metric, Direction: r.Direction},
		Sampler:   SamplerConfig{Name: r.Sampler.Name, Config: normJSON(r.Sampler.Config)},
		Seed:      r.Seed,
		CreatedAt: stamp(r.CreatedAt),

		SchemaVersion: r.SchemaVersion,
		Experiment:    normJSON(r.Experiment),
	}
	if len(r.Space.Fixed) > 0 {
		s.Space.Fixed = r.Space.Fixed
	}
	for _, o := range r.Objectives {
		s.Objectives = append(s.Objectives, Objective{Metric: o.Metric, Direction: o.Direction, Grid: o.Grid})
	}
	for _, p := range r.Space.Params {
		sp := Param{Key: p.Key, Type: p.Type, Lower: p.Lower, Upper: p.Upper}
		for _, c := range p.Choices {
			sp.Choices = append(sp.Choices, normJSON(c))
		}
		s.Space.Params = append(s.Space.Params, sp)
	}
	if r.Pruner != nil {
		s.Pruner = PrunerConfig{Name: r.Pruner.Name, Config: normJSON(r.Pruner.Config)}
	}
	return s
}

func trialToRec(t Trial) trialRec {
	r := trialRec{
		V:               SchemaVersion,
		Number:          t.Number,
		State:           t.State,
		Gamma:           t.Gamma,
		Params:          t.Params,
		Seed:            t.Seed,
		Generation:      t.Generation,
		Budget:          t.Budget,
		Attempt:         t.Attempt,
		Worker:          t.Worker,
		LeaseExpiry:     optTime(t.LeaseExpiry),
		CheckpointEpoch: t.CheckpointEpoch,
		Final:           numMap(t.Final),
		WallTimeNS:      t.WallTime,
		Reason:          t.Reason,
		Created:         stamp(t.Created),
		Started:         optTime(t.Started),
		Finished:        optTime(t.Finished),
	}
	if t.Value != nil {
		v := num(*t.Value)
		r.Value = &v
	}
	for _, v := range t.Values {
		r.Values = append(r.Values, num(v))
	}
	for _, m := range t.Epochs {
		e := epochRec{Epoch: m.Epoch, TrainLoss: num(m.TrainLoss), TrainAcc: num(m.TrainAcc), ValAcc: num(m.ValAcc), Seconds: num(m.Seconds), Extra: numMap(m.Extra)}
		if m.TestAcc != nil {
			v := num(*m.TestAcc)
			e.TestAcc = &v
		}
		r.Epochs = append(r.Epochs, e)
	}
	for _, row := range t.Atoms {
		nr := make([]num, len(row))
		for i, v := range row {
			nr[i] = num(v)
		}
		r.Atoms = append(r.Atoms, nr)
	}
	return r
}

// trialToExport is the record of t as export files and --json outputs
// write it: the stored record with the wall time in seconds (a float, as
// every duration goalsearch prints) rather than exact nanoseconds. It
// reads back exactly for wall times below 2^52 ns (52 days).
func trialToExport(t Trial) trialRec {
	r := trialToRec(t)
	if r.WallTimeNS != 0 {
		s := num(r.WallTimeNS.Seconds())
		r.WallSeconds, r.WallTimeNS = &s, 0
	}
	return r
}

// WriteTrialsJSON writes trials as an indented JSON array of the trial
// records of an export file (see WriteJSON): snake_case fields, times in
// RFC 3339, the wall time in seconds, NaN and infinities as strings. It is
// what 'goalsearch trials --json' prints. It does not retain ts or w.
func WriteTrialsJSON(w io.Writer, ts []Trial) error {
	recs := make([]trialRec, len(ts))
	for i, t := range ts {
		recs[i] = trialToExport(t)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(recs); err != nil {
		return fmt.Errorf("store: writing trials: %w", err)
	}
	return nil
}

func trialFromRec(r trialRec) Trial {
	t := Trial{
		Number:          r.Number,
		State:           r.State,
		Gamma:           nilIfEmpty(r.Gamma),
		Params:          nilIfEmpty(r.Params),
		Seed:            r.Seed,
		Generation:      r.Generation,
		Budget:          r.Budget,
		Attempt:         r.Attempt,
		Worker:          r.Worker,
		LeaseExpiry:     fromOptTime(r.LeaseExpiry),
		CheckpointEpoch: r.CheckpointEpoch,
		Final:           floatMap(r.Final),
		WallTime:        r.WallTimeNS,
		Reason:          r.Reason,
		Created:         stamp(r.Created),
		Started:         fromOptTime(r.Started),
		Finished:        fromOptTime(r.Finished),
	}
	if r.Value != nil {
		v := float64(*r.Value)
		t.Value = &v
	}
	for _, v := range r.Values {
		t.Values = append(t.Values, float64(v))
	}
	for _, e := range r.Epochs {
		m := EpochMetrics{Epoch: e.Epoch, TrainLoss: float64(e.TrainLoss), TrainAcc: float64(e.TrainAcc), ValAcc: float64(e.ValAcc), Seconds: float64(e.Seconds), Extra: floatMap(e.Extra)}
		if e.TestAcc != nil {
			v := float64(*e.TestAcc)
			m.TestAcc = &v
		}
		t.Epochs = append(t.Epochs, m)
	}
	for _, row := range r.Atoms {
		fr := make([]float64, len(row))
		for i, v := range row {
			fr[i] = float64(v)
		}
		t.Atoms = append(t.Atoms, fr)
	}
	return t
}

func samplerToRec(s SamplerState) samplerRec {
	return samplerRec{V: SchemaVersion, Generation: s.Generation, Version: s.Version, Data: normJSON(s.Data), Trials: s.Trials, CreatedAt: stamp(s.CreatedAt)}
}

func samplerFromRec(r samplerRec) SamplerState {
	return SamplerState{Generation: r.Generation, Version: r.Version, Data: normJSON(r.Data), Trials: nilIfEmpty(r.Trials), CreatedAt: stamp(r.CreatedAt)}
}

func numMap(m map[string]float64) map[string]num {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]num, len(m))
	for k, v := range m {
		out[k] = num(v)
	}
	return out
}

func floatMap(m map[string]num) map[string]float64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]float64, len(m))
	for k, v := range m {
		out[k] = float64(v)
	}
	return out
}

func nilIfEmpty[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
