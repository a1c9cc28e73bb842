// Package summary reads studies: it says what the stored trials of a search
// or an evaluation study amount to, in plain, deterministically ordered
// structs that goalsearch analyze, goalsearch report and the dashboard
// print alike. It only reads: nothing here trains, samples or writes to a
// store.
//
// It also defines how evaluation studies are laid out in a store
// (evalstudy.go), the contract between the commands that write them
// (package search) and everything that reads them.
package summary
