// Package setups is the registry of setups: every name a study's setup can
// have, the paper's networks (package trainer trains them) and the
// synthetic test functions (package search computes them), each described
// once: its hidden layer's sources (and so its lattice and goal length),
// whose goal presets it uses, what the paper's comparison trains it with,
// the paper's published numbers for it, and a line of help text. Every
// other package reads its setups from here, so adding one is a registry
// entry plus its network or function.
//
// It also defines what a study of each kind stores as its
// store.Setup.Config (NetworkConfig, SyntheticConfig), and holds the
// paper's protocol (paper.go).
//
// It is a leaf: it imports nothing of goalsearch.
package setups
