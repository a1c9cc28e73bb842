// Package setups describes the setups a study can train with: the networks
// of the paper (package trainer trains them) and the synthetic test
// functions (package search computes them), and the configuration a study
// of each kind stores as its store.Setup.Config.
//
// It is a leaf: it imports nothing of goalsearch, so that every package,
// from trainer up to the command line, reads its setups from here.
package setups
