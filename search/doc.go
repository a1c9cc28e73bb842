// Package search runs goal searches: studies whose trials each train a
// network with a proposed goal vector and record its validation accuracy.
//
// The design follows Optuna's ask-and-tell split. Samplers (this package's
// Sampler interface, the protocol of package asktell: TPE, CMA-ES, GA, DE,
// PSO, random, Sobol) only propose points and learn from results; the
// driver (Run, and Work for processes sharing a store) owns the loop, runs
// trials on its slots, saves every proposal and result in a store (package
// store), and prunes. Because every proposal is saved with the sampler's
// state before any trial runs, a search killed at any moment resumes
// exactly where an uninterrupted one would have been.
package search
