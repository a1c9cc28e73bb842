// Package evo implements a genetic algorithm (GA), differential evolution
// (DE) and particle swarm optimisation (PSO) as ask/tell samplers over a box,
// on top of github.com/MaxHalford/eaopt v0.4.2, with a small explicit state
// from which a search resumes exactly.
//
// # Deterministic replay
//
// eaopt drives its own loop and evaluates points through a callback
// (Genome.Evaluate), and its populations cannot be saved: each one owns a
// math/rand (v1) generator whose state does not marshal. An Optimizer
// therefore keeps no eaopt object between calls. Its state is the resolved
// configuration, the seed, and the ordered list of every point told so far
// with its value (State.History). To Ask, it re-runs eaopt from the seed,
// with every random stream derived from that seed, and answers each
// evaluation from the history. The first evaluation pass that meets
// unknown points is completed with a placeholder value (+Inf) for each of
// them, eaopt is stopped at the end of that pass, and the unknown points are
// the generation that Ask returns. Once they are told, the next replay
// answers them from the history and runs one pass further. So a whole
// population is evaluated in parallel by the caller although eaopt
// evaluates sequentially, and a State restored from JSON replays to exactly
// the proposals an uninterrupted Optimizer makes.
//
// Why the placeholders cannot leak: the points of a pass are all produced
// before the pass evaluates any of them (this is checked against eaopt's
// source, see below), so no placeholder can change which points are
// collected, and the eaopt run that saw a placeholder is discarded before
// Ask returns. Evaluations are memoised by the exact bits of the point, so a
// point is never proposed twice, and each replay checks that it re-visited
// every told point: a replay that does not (another Go, eaopt or evo
// version generating other points) fails with ErrDiverged instead of
// silently continuing another search.
//
// Where each algorithm's evaluation pass is in eaopt v0.4.2:
//
//   - The initial population: GA.init creates every individual and then
//     calls Individuals.Evaluate, which evaluates them in order; GA.Minimize
//     then calls EarlyStop before the first generation, where the replay
//     stops if the pass met unknown points.
//   - GA (the default, elitist model): ModDownToSize.Apply generates and
//     mutates all offspring, evaluates them (the pass), then selects down to
//     size. The Model is wrapped so that Apply returns a stop error right
//     after; the down-selection may see placeholders, but only in the
//     discarded run. Under the generational model (ModGenerational, no
//     evaluation in Apply) the pass is GA.evolve's Individuals.Evaluate,
//     followed by EarlyStop.
//   - DE and PSO use this package's own eaopt Models, whose Apply builds
//     every trial point (DE) or moves every particle (PSO), evaluates them
//     all (the pass), and returns the stop error right after it, before
//     DE's selection reads a value; PSO's personal bests are updated from
//     a pass's values at the start of the next Apply, which a stopped run
//     never reaches.
//
// eaopt's own DiffEvo and SPSO are not used: their model
// (ModMutationOnly) evaluates each mutant immediately and, for DE, replaces
// its parent before the next mutant is built from the population, and
// SPSO's Particle.Evaluate updates the global best that the next particle
// moves towards. The next point thus depends on the value of the previous
// one, which cannot be batched; they also take one interval for all
// coordinates and leave points outside it. The DE and PSO here are the
// synchronous (generational) variants of the same algorithms, with eaopt
// still running the generations, the population and its random streams.
// TestPlaceholderCannotLeak replays with placeholders of −Inf, 0 and NaN
// and checks that every proposal is unchanged.
//
// A panic sentinel would not work: GA.evolve runs each population's step
// through golang.org/x/sync/errgroup, which does not recover panics, so a
// panic in Evaluate would end the process. The stop is an error returned
// from Model.Apply or a true EarlyStop instead. That errgroup is also the
// one goroutine eaopt starts: GA.evolve runs the single population's step
// in it and waits for it before returning, so it never outlives a call and
// never runs concurrently with the caller. ParallelEval stays off.
//
// # Randomness
//
// The GA's generator is a math/rand Rand over a math/rand/v2 PCG seeded
// with the Optimizer's seed; eaopt derives the population's generator from
// it (rand.NewSource(rng.Int63())), and every operator, including
// initialisation, selection, crossover, mutation and eaopt's individual
// IDs, draws from that population generator, sequentially.
//
// # Bounds
//
// Genomes are kept inside the box by the genome types of this package:
// every coordinate that an operator moves outside [Lower, Upper] is
// reflected back at the bound it crossed (Bounds "reflect", the default:
// it keeps the step's length and does not pile points onto the faces), or
// clipped onto it (Bounds "clip"). A PSO particle that hits a bound also
// reverses (reflect) or reverses and halves (clip, as in SPSO 2011) that
// component of its velocity.
//
// # Cost
//
// Each Ask replays the whole history, so its cost grows linearly with the
// number of told points: 1.5 to 4 ms for a history of 1000 evaluations in
// 19 dimensions (BenchmarkAsk), negligible next to a trial that trains a
// network. The State grows by one record per evaluation, about 400 bytes
// of JSON in 19 dimensions.
//
// # Ask and tell
//
// An Optimizer speaks the protocol of package asktell: Ask returns a
// generation, whose points are numbered on from the number of points told;
// Tell reports one point's result by its number, in any order; once the
// whole generation is told it joins the history in point order.
//
// # Failures and pruned points
//
// A told value that is NaN or infinite is recorded as a failure and
// replayed as +Inf, worse than every real value. eaopt ranks by one float,
// so a point that a pruner stopped after s steps is replayed as
// 1e300·(1 + 1/(1+s)): after every complete point (whose values are far
// below), those stopped later first, in the order of asktell.Compare except
// that pruned points of the same step tie (their values come from a lower
// fidelity than the complete ones' and are not compared).
package evo
