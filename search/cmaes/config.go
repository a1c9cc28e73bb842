package cmaes

import (
	"fmt"
	"math"
)

// Restart selects what happens when a run meets a termination criterion.
// It encodes as its name in JSON.
type Restart string

const (
	// IPOP restarts with the population doubled each time and the default
	// initial step size (Auger and Hansen 2005). It is the zero value.
	IPOP Restart = ""
	// BIPOP interleaves the IPOP regime ("large") with runs of small,
	// randomly drawn population and step size ("small"), choosing for each
	// restart the regime that has used fewer evaluations so far (Hansen 2009).
	BIPOP Restart = "bipop"
	// NoRestart ends the search when the first run ends.
	NoRestart Restart = "none"
)

// String returns "ipop", "bipop" or "none".
func (r Restart) String() string {
	if r == IPOP {
		return "ipop"
	}
	return string(r)
}

// UnmarshalText accepts "ipop", "bipop", "none" and "" (IPOP).
func (r *Restart) UnmarshalText(b []byte) error {
	switch s := Restart(b); s {
	case "ipop", IPOP:
		*r = IPOP
	case BIPOP, NoRestart:
		*r = s
	default:
		return fmt.Errorf("unknown restart %q (valid: ipop, bipop, none)", b)
	}
	return nil
}

// MarshalText returns the name String returns.
func (r Restart) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// Config holds the settings of an Optimizer. The zero value of every field
// other than Dim selects the stated default.
//
// The fields other than Dim, Lower, Upper and Seed encode as JSON (the
// configuration a study stores, --sampler-config); the box and the seed
// come from the study.
//
// Termination thresholds follow the tutorial's Appendix B.3. For each float
// threshold, 0 selects the default and a negative value disables the
// criterion. When a criterion is met the current run ends and, depending on
// Restart and MaxRestarts, a new run starts or the search is done.
type Config struct {
	// Dim is the number of coordinates n of a point. It must be at least 1.
	Dim int `json:"-"`

	// Lower and Upper bound the box that every proposed point lies in. If
	// Lower is nil, -1 is used in every coordinate; if Upper is nil, +1.
	// Otherwise each must have length Dim, be finite, and satisfy
	// Lower[i] < Upper[i].
	Lower, Upper []float64 `json:"-"`

	// Mean is the mean of the search distribution of the first run. If Mean
	// is nil, the centre of the box is used. It must lie in the box.
	Mean []float64 `json:"mean,omitempty"`

	// Sigma0 is the initial step size as a fraction of the box width: in
	// coordinate i the first run starts with standard deviation
	// Sigma0·(Upper[i]−Lower[i]). If Sigma0 is 0, 1/6 is used, so that the
	// centre ± 3σ₀ spans the box (Hansen's rule, and Optuna's default). It must be
	// positive and finite otherwise.
	//
	// Internally σ₀ = Sigma0·r̄ with r̄ the geometric mean of the widths and
	// C₀ = diag((width_i/r̄)²), so that C₀ = I when all widths are equal.
	Sigma0 float64 `json:"sigma0,omitempty"`

	// Population is λ, the number of points per generation of the first run
	// (and the default population that IPOP and BIPOP scale). If Population
	// is 0, 4+⌊3 ln n⌋ is used (tutorial Table 1). It must be at least 2
	// otherwise.
	Population int `json:"population,omitempty"`

	// MaxSamples is how many times a point is drawn from the search
	// distribution until it falls inside the box; the last draw is clipped
	// onto the box if none did. If MaxSamples is 0, 10 is used; 1 clips
	// without resampling. It must not be negative.
	MaxSamples int `json:"max_samples,omitempty"`

	// Restart selects the restart strategy; the zero value is IPOP.
	//
	// IPOP is the default because the objective of a goal search is noisy
	// (the validation accuracy of a trained network varies with the
	// training run) and the budget is small (hundreds to a few thousand
	// trials). A larger population is the standard remedy for noise, and
	// IPOP is the regime that grows it; BIPOP spends every other restart
	// on a small population with a step size down to 1/100 of the
	// default, which is where noise hurts most, and its advantage on
	// weakly structured multimodal functions shows in budgets far larger
	// than a goal search has. The choice matters only for long searches,
	// or with a TolFun that lets runs end: with the default TolFun no run
	// of the quality table (docs/samplers.md) ends within 1000
	// evaluations.
	Restart Restart `json:"restart,omitempty"`

	// MaxRestarts is the maximum number of restarts (of either BIPOP
	// regime). If MaxRestarts is 0, 9 is used; if negative, restarts are
	// unlimited. It is ignored under NoRestart.
	MaxRestarts int `json:"max_restarts,omitempty"`

	// RestartFromMean makes every restart start from Mean (or the centre).
	// By default a restart draws its mean uniformly from the box, so that
	// restarts do not keep descending into the basin that the first run
	// found.
	RestartFromMean bool `json:"restart_from_mean,omitempty"`

	// TolFun ends a run when the best values of the last 10+⌈30n/λ⌉
	// generations and all values of the current generation lie within a
	// range smaller than TolFun. If TolFun is 0, 1e-12 is used, which a
	// noisy objective never meets; set it to the objective's noise level
	// (say 1e-3 for a validation accuracy) to let runs that have converged
	// as far as the noise allows restart.
	TolFun float64 `json:"tol_fun,omitempty"`

	// TolHistFun ends a run when the best values of the last 10+⌈30n/λ⌉
	// generations lie within a range of at most TolHistFun. The zero value
	// is the tutorial's EqualFunValues (the range is exactly zero); a
	// negative value disables the criterion.
	TolHistFun float64 `json:"tol_hist_fun,omitempty"`

	// TolX ends a run when σ·√C_ii and σ·|p_c,i| are below TolX in every
	// coordinate. If TolX is 0, 1e-12 times the run's initial step size is
	// used.
	TolX float64 `json:"tol_x,omitempty"`

	// TolXUp ends a run when σ·max(D) has grown by more than a factor TolXUp
	// since the start of the run, which indicates a far too small initial
	// step size. If TolXUp is 0, 1e4 is used.
	TolXUp float64 `json:"tol_x_up,omitempty"`

	// NoEffectAxis ends a run when adding NoEffectAxis standard deviations
	// along a principal axis of C (axis g mod n in generation g) leaves the
	// mean unchanged in floating point. If NoEffectAxis is 0, 0.1 is used.
	NoEffectAxis float64 `json:"no_effect_axis,omitempty"`

	// NoEffectCoord ends a run when adding NoEffectCoord standard deviations
	// in some coordinate leaves that coordinate of the mean unchanged. If
	// NoEffectCoord is 0, 0.2 is used.
	NoEffectCoord float64 `json:"no_effect_coord,omitempty"`

	// ConditionCov ends a run when the condition number of C exceeds
	// ConditionCov. If ConditionCov is 0, 1e14 is used.
	ConditionCov float64 `json:"condition_cov,omitempty"`

	// DisableStagnation turns off the tutorial's stagnation criterion: over
	// the last 20% of the run's generations (at least 120+30n/λ, at most
	// 20000), the medians of the first and last 30% of both the best and the
	// median values per generation are compared, and the run ends if neither
	// improved.
	DisableStagnation bool `json:"disable_stagnation,omitempty"`

	// Seed seeds the PCG that every random draw comes from. Zero is a valid
	// seed: there is no time-based seeding, so equal Configs give equal
	// searches.
	Seed uint64 `json:"-"`
}

// Defaults used when a Config field is zero.
const (
	defaultSigma0        = 1.0 / 6
	defaultMaxSamples    = 10
	defaultMaxRestarts   = 9
	defaultTolFun        = 1e-12
	defaultTolXFactor    = 1e-12
	defaultTolXUp        = 1e4
	defaultNoEffectAxis  = 0.1
	defaultNoEffectCoord = 0.2
	defaultConditionCov  = 1e14
)

// resolve returns cfg with defaults filled in and copies of its slices, or an
// error wrapping ErrConfig.
func (cfg Config) resolve() (Config, error) {
	bad := func(format string, args ...any) (Config, error) {
		return Config{}, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	n := cfg.Dim
	if n < 1 {
		return bad("Dim %d < 1", n)
	}
	r := cfg
	r.Lower = fill(cfg.Lower, n, -1)
	r.Upper = fill(cfg.Upper, n, 1)
	if len(r.Lower) != n || len(r.Upper) != n {
		return bad("len(Lower)=%d, len(Upper)=%d, want Dim=%d", len(r.Lower), len(r.Upper), n)
	}
	for i := range n {
		lo, hi := r.Lower[i], r.Upper[i]
		if !finite(lo) || !finite(hi) {
			return bad("bound %d [%v, %v] is not finite", i, lo, hi)
		}
		if !(lo < hi) {
			return bad("bound %d: Lower %v >= Upper %v", i, lo, hi)
		}
		if !finite(hi - lo) {
			return bad("bound %d: width overflows", i)
		}
	}
	if cfg.Mean == nil {
		r.Mean = make([]float64, n)
		for i := range n {
			r.Mean[i] = r.Lower[i] + (r.Upper[i]-r.Lower[i])/2
		}
	} else {
		if len(cfg.Mean) != n {
			return bad("len(Mean)=%d, want Dim=%d", len(cfg.Mean), n)
		}
		r.Mean = append([]float64(nil), cfg.Mean...)
		for i, m := range r.Mean {
			if !(r.Lower[i] <= m && m <= r.Upper[i]) {
				return bad("Mean[%d]=%v outside [%v, %v]", i, m, r.Lower[i], r.Upper[i])
			}
		}
	}
	switch {
	case cfg.Sigma0 == 0:
		r.Sigma0 = defaultSigma0
	case !(cfg.Sigma0 > 0) || math.IsInf(cfg.Sigma0, 1):
		return bad("Sigma0 %v is not positive and finite", cfg.Sigma0)
	}
	switch {
	case cfg.Population == 0:
		r.Population = 4 + int(math.Floor(3*math.Log(float64(n))))
	case cfg.Population < 2:
		return bad("Population %d < 2", cfg.Population)
	}
	switch {
	case cfg.MaxSamples == 0:
		r.MaxSamples = defaultMaxSamples
	case cfg.MaxSamples < 0:
		return bad("MaxSamples %d < 0", cfg.MaxSamples)
	}
	switch cfg.Restart {
	case NoRestart, IPOP, BIPOP:
	default:
		return bad("unknown Restart %q", string(cfg.Restart))
	}
	switch {
	case cfg.MaxRestarts == 0:
		r.MaxRestarts = defaultMaxRestarts
	case cfg.MaxRestarts < 0:
		r.MaxRestarts = -1 // one spelling of "no limit", so that resolved configs compare equal
	}
	tols := []struct {
		name string
		p    *float64
		def  float64
	}{
		{"TolFun", &r.TolFun, defaultTolFun},
		{"TolHistFun", &r.TolHistFun, 0},
		{"TolX", &r.TolX, 0}, // resolved per run from its initial step size
		{"TolXUp", &r.TolXUp, defaultTolXUp},
		{"NoEffectAxis", &r.NoEffectAxis, defaultNoEffectAxis},
		{"NoEffectCoord", &r.NoEffectCoord, defaultNoEffectCoord},
		{"ConditionCov", &r.ConditionCov, defaultConditionCov},
	}
	for _, t := range tols {
		if math.IsNaN(*t.p) || math.IsInf(*t.p, 0) {
			return bad("%s %v is not finite", t.name, *t.p)
		}
		if *t.p == 0 {
			*t.p = t.def
		}
	}
	return r, nil
}

// fill returns a copy of s, or n copies of v if s is nil.
func fill(s []float64, n int, v float64) []float64 {
	if s != nil {
		return append([]float64(nil), s...)
	}
	f := make([]float64, n)
	for i := range f {
		f[i] = v
	}
	return f
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
