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
)

// samplerConstructors maps each sampler name to its constructor. A
// constructor receives a validated box and the configuration JSON (empty
// for defaults).
var samplerConstructors = map[string]func(box Box, cfg json.RawMessage, seed uint64) (Sampler, error){
	"cmaes":  newCMAESSampler,
	"de":     newDESampler,
	"ga":     newGASampler,
	"pso":    newPSOSampler,
	"random": newRandomSampler,
	"sobol":  newSobolSampler,
}

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
// cfg is the JSON encoding of the sampler's configuration: CMAESConfig
// (cmaes), evo.GAConfig (ga), evo.DEConfig (de), evo.PSOConfig (pso),
// RandomConfig (random) or SobolConfig (sobol). An empty cfg or JSON null
// selects every default, as does an omitted field; an unknown field is an
// error, so that a misspelt setting is not silently ignored.
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
	box = Box{Lower: slices.Clone(box.Lower), Upper: slices.Clone(box.Upper)}
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

// decodeSamplerConfig decodes cfg into dst strictly: unknown fields and
// trailing data are errors. An empty cfg or null leaves dst unchanged.
func decodeSamplerConfig(cfg json.RawMessage, dst any) error {
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

// checkAsk returns an error wrapping ErrProtocol for a worker count below
// one or an Ask while a generation is outstanding.
func checkAsk(n int, outstanding bool) error {
	if outstanding {
		return fmt.Errorf("%w: Ask before the last generation was told", ErrProtocol)
	}
	if n < 1 {
		return fmt.Errorf("%w: Ask(%d) needs at least one worker", ErrProtocol, n)
	}
	return nil
}

// checkTell returns an error wrapping ErrProtocol unless a generation of
// size want is outstanding and got values came for it.
func checkTell(got, want int) error {
	if want == 0 {
		return fmt.Errorf("%w: Tell without Ask", ErrProtocol)
	}
	if got != want {
		return fmt.Errorf("%w: %d values for %d points", ErrProtocol, got, want)
	}
	return nil
}
