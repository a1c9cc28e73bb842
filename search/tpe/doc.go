// Package tpe implements the tree-structured Parzen estimator (TPE) as an
// ask/tell sampler over a box, with an explicit, versioned state from which
// a search resumes exactly.
//
// The algorithm is that of
//
//	J. Bergstra, R. Bardenet, Y. Bengio and B. Kégl, "Algorithms for
//	Hyper-Parameter Optimization", NeurIPS 2011,
//
// in the multivariate form of
//
//	S. Falkner, A. Klein and F. Hutter, "BOHB: Robust and Efficient
//	Hyperparameter Optimization at Scale", ICML 2018,
//
// with the defaults that Optuna 3.1 documents for its TPESampler
// (multivariate=True), since that is the TPE goalsearch's users know.
// Instead of modelling the objective, TPE models where good points lie: it
// ranks the points told so far, splits them into the best γ(n) ("below")
// and the rest ("above"), fits a Parzen estimator (a mixture of Gaussian
// kernels, one per point, plus a prior kernel) to each, l(x) to the good
// and g(x) to the others, and proposes the candidate that maximises
// l(x)/g(x), which Bergstra et al. show maximises the expected
// improvement. Candidates are drawn from l.
//
// # The estimator
//
// Every kernel is a product over the coordinates of Gaussians truncated to
// the box, so the mixture's density is normalised on the box. For a group
// of m points in d coordinates, each kernel is centred on its point with the
// bandwidth σ_i = 0.2 · m^(−1/(d+4)) · (Upper_i − Lower_i) in coordinate i
// (Scott's rule for a d-dimensional product kernel, with a fixed fraction of
// the width in place of the sample spread, as Optuna's multivariate TPE
// does). The prior kernel sits at the centre of the box with σ_i = the width
// and weight Config.PriorWeight. The "magic clip" of Bergstra's hyperopt
// bounds every σ_i below by width/min(100, m+2) (m+1 kernels with the
// prior), so that kernels never become needles, and above by the width. The points' weights are 1, except
// that in a group of m > 25 the m−25 oldest ramp up linearly from 1/m
// (Bergstra et al. 2013, "Making a Science of Model Search", as Optuna's
// default_weights); weights are normalised over the group and the prior.
//
// Optuna's consider_endpoints has no counterpart here: it changes the
// per-kernel bandwidths of Optuna's univariate estimator, which the
// multivariate one replaces by the rule above.
//
// # Categorical coordinates
//
// NewWithChoices marks coordinates that hold one of n unordered choices
// (a hyperparameter such as the binning kind). Such a coordinate leaves
// the Gaussian product: each point's kernel puts probability
// (1 + w/k)/(1 + n·w/k) on the point's choice and (w/k)/(1 + n·w/k) on each
// other one (w the prior weight, k the kernels), the prior kernel 1/n on
// each, as Optuna's categorical distributions do; candidates draw their
// choice from the kernel they came from and hold the choice's centre.
// Integer and log-scaled hyperparameters are continuous coordinates to
// TPE (package search rounds and exponentiates them).
//
// # Ranking: failures, pruned points, pending points
//
// Points are ranked by asktell.Compare, ties by point number: complete
// points by value, then points that a pruner stopped, later steps first
// and then by value (the rule Optuna documents for pruned trials), then
// failures. Optuna leaves failed trials out; here they rank last and so
// join g, which keeps TPE away from regions where training diverges.
//
// Points that were asked and not told yet are ranked after everything, as
// Optuna's constant_liar does with running trials: they join g, so that the
// points proposed while others run are pushed away from them. That is what
// keeps parallel workers from proposing near-duplicates, and within one
// Ask of n points the i-th point is proposed with the first i−1 pending.
// γ(n) and the bandwidths count the pending points with the told ones.
//
// # Startup
//
// The first Config.StartupTrials points (by number) are drawn uniformly
// from the box.
//
// # Exact resumption
//
// Every random number comes from one math/rand/v2 PCG whose state is part
// of State, with every asked point and every told result, so a State saved
// at any moment and restored into an Optimizer of the same box,
// configuration and seed proposes bit-identical points. A State's size
// grows with the points it holds: about 400 bytes of JSON per point in 19
// coordinates.
//
// # Cost
//
// An Ask builds both estimators from all points and scores
// Config.Candidates candidates under both: O(n·d·Candidates) for n points,
// about 2.3 ms for 1000 points in 19 coordinates on the project's 2-core
// machine (BenchmarkAsk), where Optuna's TPE takes 60-170 ms.
package tpe
