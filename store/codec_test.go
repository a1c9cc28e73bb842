package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func testStudy() Study {
	return Study{
		Name:          "ctx-lat/cmaes 1",
		Setup:         Setup{Name: "context-lateral", Config: json.RawMessage(`{"epochs":100}`)},
		Space:         SearchSpace{Labels: []string{"{1}", "{2}", "H_res"}, Lower: []float64{-1, -1, 0}, Upper: []float64{1, 1, 0}, Fixed: map[string]float64{"H_res": 0}, UnitNorm: true},
		Objective:     Objective{Metric: "val_acc", Direction: Maximize},
		Sampler:       SamplerConfig{Name: "cmaes", Config: json.RawMessage(`{"sigma0":0.3}`)},
		Pruner:        PrunerConfig{Name: "asha"},
		Seed:          math.MaxUint64,
		CreatedAt:     t0,
		SchemaVersion: SchemaVersion,
	}
}

func f(x float64) *float64 { return &x }

// testTrials returns one valid trial per state.
func testTrials() []Trial {
	base := Trial{Number: 3, Gamma: []float64{0.1, math.Copysign(0, -1), 5e-324}, Seed: 7, Generation: 2, Budget: 27, Created: t0}
	epochs := []EpochMetrics{
		{Epoch: 1, TrainLoss: math.NaN(), TrainAcc: math.Inf(1), ValAcc: 0.5, TestAcc: f(0.25), Seconds: 3, Extra: map[string]float64{"goal": math.Inf(-1)}},
		{Epoch: 3, TrainLoss: 0.1, ValAcc: 0.75},
	}
	queued := base
	queued.State = Queued
	running := base
	running.State, running.Attempt, running.Worker, running.Started, running.Epochs, running.CheckpointEpoch = Running, 2, "host:42", t0, epochs, 1
	running.LeaseExpiry = t0.Add(time.Minute)
	paused := running
	paused.State, paused.Epochs, paused.CheckpointEpoch, paused.LeaseExpiry = Paused, epochs, 3, time.Time{}
	complete := running
	complete.State, complete.CheckpointEpoch, complete.Value, complete.Final = Complete, 0, f(0.95), map[string]float64{"test_acc": 0.94}
	complete.Atoms = [][]float64{{0.1, math.NaN()}, {0.3, 0.4}}
	complete.WallTime, complete.Finished = 90*time.Second, t0.Add(time.Hour)
	pruned := complete
	pruned.State, pruned.Value, pruned.Final, pruned.Atoms = Pruned, nil, nil, nil
	failed := complete
	failed.State, failed.Value, failed.Reason = Failed, nil, "loss is NaN"
	return []Trial{queued, running, paused, complete, pruned, failed}
}

func TestNumJSON(t *testing.T) {
	for _, x := range []float64{0, math.Copysign(0, -1), 0.1, 1.0 / 3, 5e-324, math.MaxFloat64, 1e21, 1e-7, -2.5e-310, math.NaN(), math.Inf(1), math.Inf(-1)} {
		b, err := json.Marshal(num(x))
		if err != nil {
			t.Fatalf("marshal %v: %v", x, err)
		}
		var y num
		if err := json.Unmarshal(b, &y); err != nil {
			t.Fatalf("unmarshal %s: %v", b, err)
		}
		if math.Float64bits(float64(y)) != math.Float64bits(x) && !(math.IsNaN(x) && math.IsNaN(float64(y))) {
			t.Errorf("%v -> %s -> %v", x, b, float64(y))
		}
	}
	for _, bad := range []string{`null`, `"nan"`, `"1"`, `true`, `1e400`, `[1]`, `{}`, `"Inf"`} {
		var y num
		if err := json.Unmarshal([]byte(bad), &y); err == nil {
			t.Errorf("unmarshal %s: no error", bad)
		}
	}
}

func TestRecordRoundTrip(t *testing.T) {
	for _, tr := range testTrials() {
		b, err := EncodeTrial(tr)
		if err != nil {
			t.Fatalf("%s: %v", tr.State, err)
		}
		got, err := DecodeTrial(b)
		if err != nil {
			t.Fatalf("%s: %v\n%s", tr.State, err, b)
		}
		again, _ := EncodeTrial(got)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: re-encoded\n%s\nwant\n%s", tr.State, again, b)
		}
		if math.Float64bits(got.Gamma[1]) != math.Float64bits(math.Copysign(0, -1)) || got.Gamma[2] != 5e-324 || !got.Created.Equal(t0) {
			t.Errorf("%s: gamma %v, created %v", tr.State, got.Gamma, got.Created)
		}
	}
	b, err := EncodeStudy(testStudy())
	if err != nil {
		t.Fatal(err)
	}
	s, err := DecodeStudy(b)
	if err != nil {
		t.Fatal(err)
	}
	if s.Seed != math.MaxUint64 || s.Space.Fixed["H_res"] != 0 || s.Pruner.Name != "asha" || !s.CreatedAt.Equal(t0) || s.Name != "ctx-lat/cmaes 1" {
		t.Errorf("study read back as %+v", s)
	}
	st := SamplerState{Generation: 4, Version: 2, Data: json.RawMessage(`{"a": "<b>"}`), Trials: []int{1, 5}, CreatedAt: t0}
	b, err = EncodeSamplerState(st)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"data":{"a":"<b>"}`) {
		t.Errorf("sampler data not kept as compacted, unescaped JSON: %s", b)
	}
	if got, err := DecodeSamplerState(b); err != nil || got.Generation != 4 || got.Trials[1] != 5 {
		t.Errorf("sampler state read back as %+v, %v", got, err)
	}
}

// TestTrialInvariants lists records that decode as JSON but break an
// invariant of Trial.Validate; each must be refused as corrupt.
func TestTrialInvariants(t *testing.T) {
	valid := testTrials()
	mod := func(i int, fn func(*Trial)) Trial {
		tr := valid[i]
		tr.Epochs = append([]EpochMetrics(nil), tr.Epochs...)
		fn(&tr)
		return tr
	}
	cases := map[string]Trial{
		"negative number":                mod(0, func(t *Trial) { t.Number = -1 }),
		"unknown state":                  mod(0, func(t *Trial) { t.State = "sleeping" }),
		"empty gamma":                    mod(0, func(t *Trial) { t.Gamma = nil }),
		"NaN gamma":                      mod(0, func(t *Trial) { t.Gamma = []float64{math.NaN()} }),
		"no creation time":               mod(0, func(t *Trial) { t.Created = time.Time{} }),
		"running, never started":         mod(1, func(t *Trial) { t.Attempt = 0 }),
		"epochs out of order":            mod(1, func(t *Trial) { t.Epochs[0], t.Epochs[1] = t.Epochs[1], t.Epochs[0] }),
		"epoch 0":                        mod(1, func(t *Trial) { t.Epochs[0].Epoch = 0 }),
		"checkpoint of an unknown epoch": mod(1, func(t *Trial) { t.CheckpointEpoch = 2 }),
		"paused ahead of checkpoint":     mod(2, func(t *Trial) { t.CheckpointEpoch = 1 }),
		"queued with a value":            mod(0, func(t *Trial) { t.Value = f(1) }),
		"running with a reason":          mod(1, func(t *Trial) { t.Reason = "x" }),
		"complete without value":         mod(3, func(t *Trial) { t.Value = nil }),
		"complete with checkpoint":       mod(3, func(t *Trial) { t.CheckpointEpoch = 1 }),
		"complete, no finish time":       mod(3, func(t *Trial) { t.Finished = time.Time{} }),
		"failed without reason":          mod(5, func(t *Trial) { t.Reason = "" }),
		"ragged atoms":                   mod(3, func(t *Trial) { t.Atoms = [][]float64{{1}, {1, 2}} }),
		"negative wall time":             mod(4, func(t *Trial) { t.WallTime = -1 }),
		"unnamed extra metric":           mod(1, func(t *Trial) { t.Epochs[1].Extra = map[string]float64{"": 1} }),
	}
	for what, tr := range cases {
		if _, err := EncodeTrial(tr); !errors.Is(err, ErrInvalidTrial) {
			t.Errorf("EncodeTrial with %s: %v, want ErrInvalidTrial", what, err)
		}
		// Bypass the encoder's check to write the record anyway.
		b, err := marshal(trialToRec(tr))
		if err != nil {
			continue // not even encodable (NaN gamma)
		}
		if _, err := DecodeTrial(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeTrial with %s: %v, want ErrCorrupt", what, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := EncodeTrial(testTrials()[1])
	for what, rec := range map[string]string{
		"empty":           ``,
		"null":            `null`,
		"array":           `[1,2]`,
		"no version":      `{"number":0}`,
		"version 0":       strings.Replace(string(good), `"v":1`, `"v":0`, 1),
		"string version":  strings.Replace(string(good), `"v":1`, `"v":"1"`, 1),
		"unknown field":   strings.Replace(string(good), `"v":1`, `"v":1,"owner":"x"`, 1),
		"trailing data":   string(good) + `{}`,
		"truncated":       string(good[:len(good)-1]),
		"float number":    strings.Replace(string(good), `"number":3`, `"number":3.5`, 1),
		"negative seed":   strings.Replace(string(good), `"seed":7`, `"seed":-7`, 1),
		"bad time":        strings.Replace(string(good), `"created":"2025`, `"created":"20x5`, 1),
		"year 0 in UTC":   strings.Replace(string(good), `"created":"2025-03-01T12:00:00.123456789Z"`, `"created":"0001-01-01T00:30:00+01:00"`, 1),
		"huge metric":     strings.Replace(string(good), `"val_acc":0.75`, `"val_acc":1e999`, 1),
		"null metric":     strings.Replace(string(good), `"val_acc":0.75`, `"val_acc":null`, 1),
		"string in gamma": strings.Replace(string(good), `"gamma":[`, `"gamma":["NaN",`, 1),
	} {
		if _, err := DecodeTrial([]byte(rec)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("DecodeTrial of %s: %v, want ErrCorrupt", what, err)
		}
	}
	newer := strings.Replace(string(good), `"v":1`, `"v":2,"lease":{"owner":"w"}`, 1)
	if _, err := DecodeTrial([]byte(newer)); !errors.Is(err, ErrNewerSchema) {
		t.Errorf("DecodeTrial of a newer record: %v, want ErrNewerSchema", err)
	}
}

// roundTrip checks the property every decoder keeps: whatever it accepts
// encodes again, and decoding that gives the same bytes once more.
func roundTrip[T any](t *testing.T, b []byte, decode func([]byte) (T, error), encode func(T) ([]byte, error)) {
	v, err := decode(b)
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrNewerSchema) {
			t.Fatalf("error %v is neither ErrCorrupt nor ErrNewerSchema", err)
		}
		return
	}
	e1, err := encode(v)
	if err != nil {
		t.Fatalf("decoded %q but cannot encode it: %v", b, err)
	}
	v2, err := decode(e1)
	if err != nil {
		t.Fatalf("cannot decode own encoding %s: %v", e1, err)
	}
	e2, err := encode(v2)
	if err != nil || !bytes.Equal(e1, e2) {
		t.Fatalf("encoding not stable:\n%s\n%s (%v)", e1, e2, err)
	}
}

func FuzzDecodeTrial(f *testing.F) {
	for _, tr := range testTrials() {
		b, _ := EncodeTrial(tr)
		f.Add(b)
	}
	f.Add([]byte(`{"v":1}`))
	f.Add([]byte(`{"v":1,"number":0,"state":"queued","gamma":[1],"seed":0,"created":"2025-01-01T00:00:00Z","epochs":[{"epoch":1,"train_loss":"NaN","train_acc":0,"val_acc":0,"seconds":0}]}`))
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, DecodeTrial, EncodeTrial) })
}

func FuzzDecodeStudy(f *testing.F) {
	b, _ := EncodeStudy(testStudy())
	f.Add(b)
	f.Add([]byte(`{"v":1,"name":"x"}`))
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, DecodeStudy, EncodeStudy) })
}

func FuzzDecodeSamplerState(f *testing.F) {
	b, _ := EncodeSamplerState(SamplerState{Generation: 1, Data: json.RawMessage(`{"mean":[1,2]}`), Trials: []int{0, 3}, CreatedAt: t0})
	f.Add(b)
	f.Add([]byte(`{"v":1,"generation":0,"version":0,"data":null,"created_at":"2025-01-01T00:00:00Z"}`))
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip(t, b, DecodeSamplerState, EncodeSamplerState) })
}

func FuzzReadJSON(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, Dump{Study: testStudy(), Trials: testTrials()[:1],
		SamplerStates: []SamplerState{{Generation: 0, Data: json.RawMessage(`[1]`), CreatedAt: t0}},
		Checkpoints:   []Checkpoint{{Trial: 3, Epoch: 1, Data: []byte{1, 2}}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"format":"goalsearch-study","v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip(t, b, func(b []byte) (Dump, error) { return ReadJSON(bytes.NewReader(b)) },
			func(d Dump) ([]byte, error) {
				var out bytes.Buffer
				err := WriteJSON(&out, d)
				return out.Bytes(), err
			})
	})
}

func TestNormalizeJSON(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "",
		" null ":            "",
		`{ "a" : [1, 2] }`:  `{"a":[1,2]}`,
		`"x<y"`:             `"x<y"`,
		`{"big":1e400}`:     `{"big":1e400}`, // opaque: numbers kept as written
		"{\n\t\"n\": 0.10}": `{"n":0.10}`,
	} {
		if got := string(NormalizeJSON(json.RawMessage(in))); got != want {
			t.Errorf("NormalizeJSON(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"a", "context-lateral/cmaes seed=1", "ü", strings.Repeat("x", 128)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", " a", "a ", "a\tb", "\x00", "\xff", strings.Repeat("x", 129)} {
		if err := ValidateName(bad); err == nil {
			t.Errorf("ValidateName(%q): no error", bad)
		}
	}
}
