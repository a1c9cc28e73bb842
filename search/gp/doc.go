// Package gp implements Bayesian optimisation with a Gaussian-process model
// as an ask/tell sampler over a box, with an explicit, versioned state from
// which a search resumes exactly.
//
// Where TPE models where good points lie, a Gaussian process models the
// objective itself: from the points told so far it predicts, at any x, a
// mean μ(x) and an uncertainty σ(x), and the sampler proposes the point of
// largest expected improvement over the best value so far (Jones, Schonlau
// and Welch, "Efficient Global Optimization of Expensive Black-Box
// Functions", J. Global Optim. 1998). With few trials in a smooth space it
// spends them where TPE's density ratio cannot yet see.
//
// The choices are those that Optuna's GPSampler (3.6) documents, with the
// formulas of Rasmussen and Williams, "Gaussian Processes for Machine
// Learning", MIT Press 2006:
//
//   - Inputs are scaled to the unit cube; the values the model is fitted to
//     are standardised (mean 0, standard deviation 1).
//   - The kernel is Matérn ν = 5/2 with automatic relevance determination
//     (one length scale per coordinate, GPML eq. 4.17):
//     k(x, x') = s²·(1 + √5·r + 5r²/3)·exp(−√5·r), r² = Σ_j λ_j·(x_j − x'_j)²,
//     λ_j the inverse squared length scale of coordinate j, plus a noise
//     variance σ²_n on the diagonal (training with a seed is noisy).
//   - The hyperparameters λ, s² and σ²_n maximise the log marginal
//     likelihood (GPML eq. 2.30, gradient eq. 5.9) plus Gamma log-priors,
//     which keep them from over-fitting a few points: λ_j ~ Gamma(2, rate
//     0.5) (mode 2, i.e. a length scale of 0.7 of the box), s² ~ Gamma(2,
//     1) (mode 1, the standardised spread), σ²_n ~ Gamma(1.1, rate 30)
//     (mode 0.003), σ²_n ≥ 1e-6. They are fitted by L-BFGS in log space
//     (gonum/optimize), from the priors' modes and from the previous Ask's
//     fit when there is one, keeping the better.
//   - The acquisition is log expected improvement (computed stably far in
//     the tail, where EI itself underflows), maximised over
//     Config.Candidates uniform candidates and then by a local search: the
//     best candidates and the best told points are perturbed with Gaussian
//     steps of 0.1, 0.03 and 0.01 of the box, and the best point found is
//     proposed.
//
// # Startup, failures, pruned and pending points
//
// The first Config.StartupTrials points (by number) are drawn uniformly
// from the box. The model is fitted to the complete points by value; a
// pruned point (asktell.Compare ranks it below every complete one) and a
// failure count as the worst complete value, so the model learns to avoid
// where they lie; with no complete point yet, pruned points keep their own
// values. Points asked and not told yet are "kriging believers"
// (Ginsbourger, Le Riche and Carraro, "Kriging is well-suited to
// parallelize optimization", 2010): each joins the model with the value the
// model predicts there, which leaves the mean unchanged and shrinks the
// uncertainty around it, so parallel workers, and the points of one Ask(n),
// are not proposed on top of each other.
//
// # Exact resumption
//
// Every random number comes from one math/rand/v2 PCG whose state is part
// of State, with every point and result and the last fitted
// hyperparameters, so a restored State proposes bit-identical points.
//
// # Cost
//
// Fitting is O(n³) in the n modelled points (a Cholesky factorisation per
// likelihood evaluation); an Ask in 19 coordinates takes about 0.05 s at
// 100 points, 0.4 s at 200 and 3.5 s at 500 on the project's 2-core machine
// (BenchmarkAsk). The GP is for budgets of a few hundred trials, where each
// trial costs seconds or more; TPE scales to thousands.
package gp
