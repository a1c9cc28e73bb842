// Package cmaes implements the covariance matrix adaptation evolution strategy
// (CMA-ES) as an ask/tell sampler over a box, with IPOP and BIPOP restarts and
// an explicit, versioned state from which a search resumes exactly.
//
// The algorithm follows
//
//	N. Hansen, "The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772
//	(2016; referred to as "the tutorial" below),
//
// Table 1 and Appendix A: weighted recombination with the default negative
// (active) weights, cumulative step-size adaptation, rank-one and rank-μ
// covariance updates, and a lazily updated eigendecomposition C = B D² Bᵀ.
// The termination criteria of Appendix B.3 end a run; a run that ends is
// restarted with a larger population (IPOP: A. Auger and N. Hansen, "A Restart
// CMA Evolution Strategy With Increasing Population Size", CEC 2005) or under
// the two interleaved regimes of BIPOP (N. Hansen, "Benchmarking a
// BI-Population CMA-ES on the BBOB-2009 Function Testbed", GECCO 2009).
//
// # Ask and tell
//
// An Optimizer speaks the protocol of package asktell, like every goalsearch
// sampler: the caller owns the loop and the workers, and an Optimizer never
// starts a goroutine. Ask hands out the current generation's points, which
// are numbered on over the whole search; Tell reports the result of a point
// by its number, in any order. When every point of the generation has been
// told, the distribution is updated and the next generation is sampled.
// Values are minimised: a caller that maximises tells the negated value.
//
// # Exact resumption
//
// Every random number comes from one math/rand/v2 PCG whose state is part of
// State, and every quantity the update reads (including the sampled points of
// the current generation and the values told so far) is held in State. A
// State saved at any moment, encoded with encoding/json and restored into a
// new Optimizer built from the same Config, therefore proposes bit-identical
// points to an Optimizer that was never interrupted. This holds for the same
// build: another Go or gonum version, or another GOARCH (where the compiler
// may fuse multiply-adds), can round differently. State.Version guards the
// meaning of the fields, not the rounding.
//
// # Failed and pruned evaluations
//
// A generation is ranked by asktell.Compare. A failed evaluation (a NaN or
// infinite value) ranks below every other, so it takes the most negative of
// the active-CMA weights. An evaluation that a pruner stopped early ranks
// below the complete ones, those stopped later first: a successive-halving
// pruner stopped it because it was worse than the trials it let through, so
// its rank is the information it carries, while its value belongs to
// another fidelity and enters neither Best nor the value-based termination
// criteria. A generation with fewer than μ complete or pruned points leaves
// the distribution unchanged.
//
// # Bounds
//
// Points are sampled from the search distribution up to Config.MaxSamples
// times until one falls inside the box; the last draw is clipped otherwise.
// The update then uses the step of the clipped point, y = (x − m)/σ, rather
// than the step that was drawn, so that each value is attributed to the point
// that actually produced it. With the positive recombination weights summing
// to one this keeps the mean a convex combination of points in the box. The
// price is that clipped steps are not normally distributed, which biases
// step-size adaptation towards smaller steps while much of the distribution
// lies outside the box.
package cmaes
