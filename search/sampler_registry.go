package search

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"goalsearch/internal/floatbits"
	"goalsearch/search/asktell"
	"goalsearch/search/cmaes"
	"goalsearch/search/evo"
	"goalsearch/search/gp"
	"goalsearch/search/nsga2"
	"goalsearch/search/tpe"
)

// samplerConstructors maps each sampler name to its constructor. A
// constructor receives a validated box and the configuration JSON (empty
// for defaults). The algorithm packages resolve their own defaults; a
// constructor only decodes the JSON into the package's Config.
var samplerConstructors = map[string]func(box Box, cfg json.RawMessage, seed uint64) (Sampler, error){
	"cmaes": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c cmaes.Config
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		c.Dim, c.Lower, c.Upper, c.Seed = box.Dim(), box.Lower, box.Upper, seed
		o, err := cmaes.New(c)
		return wrap("cmaes", cmaes.StateVersion, o, err)
	},
	"tpe": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c tpe.Config
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		var choices []int
		for j, k := range box.Kinds {
			if choices == nil {
				choices = make([]int, box.Dim())
			}
			if k == Choice {
				choices[j] = int(box.Upper[j])
			}
		}
		o, err := tpe.NewWithChoices(box.Lower, box.Upper, choices, c, seed)
		return wrap("tpe", tpe.StateVersion, o, err)
	},
	"gp": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c gp.Config
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		o, err := gp.New(box.Lower, box.Upper, c, seed)
		return wrap("gp", gp.StateVersion, o, err)
	},
	"ga": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c evo.GAConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		o, err := evo.NewGA(box.Lower, box.Upper, c, seed)
		return wrap("ga", evo.StateVersion, o, err)
	},
	"de": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c evo.DEConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		o, err := evo.NewDE(box.Lower, box.Upper, c, seed)
		return wrap("de", evo.StateVersion, o, err)
	},
	"pso": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c evo.PSOConfig
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		o, err := evo.NewPSO(box.Lower, box.Upper, c, seed)
		return wrap("pso", evo.StateVersion, o, err)
	},
	"nsga2": func(box Box, raw json.RawMessage, seed uint64) (Sampler, error) {
		var c nsga2.Config
		if err := decodeStrict(raw, &c); err != nil {
			return nil, err
		}
		o, err := nsga2.New(box.Lower, box.Upper, c, seed)
		return wrap("nsga2", nsga2.StateVersion, o, err)
	},
	"random": newRandomSampler,
	"sobol":  newSobolSampler,
}

// choiceSamplers are the samplers that search categorical coordinates: TPE
// models each choice separately, random and Sobol draw the choices
// uniformly. The others move through distances that a choice lacks.
var choiceSamplers = map[string]bool{"tpe": true, "random": true, "sobol": true}

// Samplers returns the names NewSampler accepts, sorted.
func Samplers() []string {
	names := make([]string, 0, len(samplerConstructors))
	for name := range samplerConstructors {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// NewSampler returns the sampler called name for box, configured by cfg and
// drawing every random number from seed.
//
// cfg is the JSON encoding of the sampler's configuration: cmaes.Config
// (cmaes), tpe.Config (tpe), gp.Config (gp), evo.GAConfig (ga),
// evo.DEConfig (de), evo.PSOConfig (pso), nsga2.Config (nsga2),
// RandomConfig (random) or SobolConfig (sobol), each of which states its
// defaults. An empty cfg or JSON null selects every
// default, as does an omitted field; an unknown field is an error, so that
// a misspelt setting is not silently ignored.
//
// The box must have at least one coordinate, and every interval must be
// finite with Lower[i] < Upper[i]. NewSampler returns an error for an
// unknown name (listing the valid ones), an invalid box or an invalid cfg.
func NewSampler(name string, box Box, cfg json.RawMessage, seed uint64) (Sampler, error) {
	mk, ok := samplerConstructors[name]
	if !ok {
		return nil, fmt.Errorf("search: unknown sampler %q (valid: %s)", name, strings.Join(Samplers(), ", "))
	}
	if err := checkSamplerBox(box); err != nil {
		return nil, fmt.Errorf("search: sampler %s: %w", name, err)
	}
	if cs := box.choices(); len(cs) > 0 && !choiceSamplers[name] {
		return nil, fmt.Errorf("search: sampler %s searches continuous coordinates and cannot search the categorical hyperparameter %s: use tpe, random or sobol, or make it an int or float",
			name, strings.Join(cs, ", "))
	}
	box = Box{Lower: slices.Clone(box.Lower), Upper: slices.Clone(box.Upper), Kinds: slices.Clone(box.Kinds), Names: slices.Clone(box.Names)}
	s, err := mk(box, cfg, seed)
	if err != nil {
		return nil, fmt.Errorf("search: sampler %s: %w", name, err)
	}
	return s, nil
}

func checkSamplerBox(box Box) error {
	if box.Dim() == 0 || len(box.Upper) != box.Dim() {
		return fmt.Errorf("box has %d lower and %d upper bounds", len(box.Lower), len(box.Upper))
	}
	for i := range box.Lower {
		lo, hi := box.Lower[i], box.Upper[i]
		if math.IsNaN(lo) || math.IsInf(lo, 0) || math.IsNaN(hi) || math.IsInf(hi, 0) ||
			!(lo < hi) || math.IsInf(hi-lo, 0) {
			return fmt.Errorf("bound %d is [%v, %v]", i, lo, hi)
		}
	}
	return nil
}

// decodeStrict decodes the configuration cfg (of a sampler or a pruner)
// into dst: unknown fields and trailing data are errors. An empty cfg or
// null leaves dst unchanged.
func decodeStrict(cfg json.RawMessage, dst any) error {
	trimmed := bytes.TrimSpace(cfg)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("config: trailing data after the JSON object")
	}
	return nil
}

// optimizer is what the optimisers of packages cmaes, tpe and evo share:
// the asktell protocol and a typed state, which identifies its optimiser's
// box, resolved configuration and seed, and is refused by Restore under
// another.
type optimizer[S any] interface {
	asktell.Sampler
	State() S
	Restore(S) error
}

// wrapped adapts an optimizer to the Sampler interface: its SamplerState is
// the package's state version and the state as JSON, under the sampler's
// name.
type wrapped[S any] struct {
	optimizer[S]
	name    string
	version int
}

// wrappedState is the data of a wrapped sampler's SamplerState.
type wrappedState[S any] struct {
	Sampler string `json:"sampler"`
	State   S      `json:"state"`
}

func wrap[S any](name string, version int, o optimizer[S], err error) (Sampler, error) {
	if err != nil {
		return nil, err
	}
	return &wrapped[S]{optimizer: o, name: name, version: version}, nil
}

func (w *wrapped[S]) Name() string { return w.name }

// warmStarter is the wrapped optimiser as an asktell.WarmStarter, or nil.
func (w *wrapped[S]) warmStarter() asktell.WarmStarter {
	ws, _ := any(w.optimizer).(asktell.WarmStarter)
	return ws
}

// warmStarterOf returns the sampler's warm start, or nil if it has none:
// then enqueued trials are evaluated but not told to it.
func warmStarterOf(s Sampler) asktell.WarmStarter {
	if w, ok := s.(interface{ warmStarter() asktell.WarmStarter }); ok {
		return w.warmStarter()
	}
	return nil
}

func (w *wrapped[S]) State() (SamplerState, error) {
	return encodeSamplerState(w.version, wrappedState[S]{Sampler: w.name, State: w.optimizer.State()})
}

func (w *wrapped[S]) Restore(st SamplerState) error {
	var data wrappedState[S]
	if err := decodeSamplerState(st, w.version, w.name, &data); err != nil {
		return err
	}
	if data.Sampler != w.name {
		return fmt.Errorf("%w: state of sampler %q, want %q", ErrState, data.Sampler, w.name)
	}
	// The packages' errors wrap asktell.ErrState; a failed Restore leaves
	// the optimiser unchanged.
	return w.optimizer.Restore(data.State)
}

// samplerHeader identifies the sampler that wrote a state: a state is only
// restored into a sampler of the same name, box, resolved configuration and
// seed, because the rest of the state means nothing under another.
type samplerHeader struct {
	Sampler string          `json:"sampler"`
	Lower   []float64       `json:"lower"`
	Upper   []float64       `json:"upper"`
	Seed    uint64          `json:"seed"`
	Config  json.RawMessage `json:"config"`
}

func newSamplerHeader(name string, box Box, resolved any, seed uint64) samplerHeader {
	cfg, err := json.Marshal(resolved)
	if err != nil {
		// The configurations are plain structs of finite numbers and strings.
		panic("search: encoding a sampler config: " + err.Error())
	}
	return samplerHeader{
		Sampler: name,
		Lower:   slices.Clone(box.Lower),
		Upper:   slices.Clone(box.Upper),
		Seed:    seed,
		Config:  cfg,
	}
}

// check returns an error wrapping ErrState unless got identifies the same
// sampler as h.
func (h samplerHeader) check(got samplerHeader) error {
	var cfg bytes.Buffer
	switch {
	case got.Sampler != h.Sampler:
		return fmt.Errorf("%w: state of sampler %q, want %q", ErrState, got.Sampler, h.Sampler)
	case !floatbits.Equal(got.Lower, h.Lower) || !floatbits.Equal(got.Upper, h.Upper):
		return fmt.Errorf("%w: %s: box differs", ErrState, h.Sampler)
	case got.Seed != h.Seed:
		return fmt.Errorf("%w: %s: seed %d, want %d", ErrState, h.Sampler, got.Seed, h.Seed)
	case json.Compact(&cfg, got.Config) != nil || !bytes.Equal(cfg.Bytes(), h.Config):
		return fmt.Errorf("%w: %s: config %s, want %s", ErrState, h.Sampler, got.Config, h.Config)
	}
	return nil
}

// encodeSamplerState returns data with the given version as a SamplerState.
func encodeSamplerState(version int, data any) (SamplerState, error) {
	b, err := json.Marshal(data)
	if err != nil {
		return SamplerState{}, fmt.Errorf("search: encoding sampler state: %w", err)
	}
	return SamplerState{Version: version, Data: b}, nil
}

// decodeSamplerState decodes st.Data into dst if st.Version is version, or
// returns an error wrapping ErrState.
func decodeSamplerState(st SamplerState, version int, name string, dst any) error {
	if st.Version != version {
		return fmt.Errorf("%w: %s: state version %d, want %d", ErrState, name, st.Version, version)
	}
	dec := json.NewDecoder(bytes.NewReader(st.Data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrState, name, err)
	}
	return nil
}
