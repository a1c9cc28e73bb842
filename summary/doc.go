// Package summary reads studies: it says what the stored trials of a search
// or an evaluation study amount to, in plain, deterministically ordered
// structs that goalsearch analyze, goalsearch report and the dashboard
// print alike, so that they never disagree. It only reads: nothing here
// trains, samples or writes to a store.
//
//   - Search summarises a searched study: counts, the leaderboard
//     (Ranked), the optimisation history, learning curves and the sign
//     agreement of the best goals (Signs, AgreementOf).
//   - Eval summarises an evaluation study goal by goal (GoalResult: runs by
//     state, validation and test accuracy over the seeds, the mean learning
//     curve and the hidden neurons' mean atoms), with the sensitivity of a
//     goal to each weight (variants compared seed by seed, Paired, and
//     ranked by ZeroCost) or its sparsification path.
//   - LinkEvals, Profile, Compare and AgreementAcross relate studies: a
//     search's goals with their evaluations, the atom profiles of the best
//     and the heuristic goal, every evaluated goal against the heuristic
//     goal and the paper's values (package setups), the best goals of
//     several searches.
//   - StudyImportance says how much of a search's variation each weight
//     explains on its own (an fANOVA main effect from the trials alone),
//     where Sensitivity needs an evaluation study.
//   - MeasureFidelity says how well each early epoch ranks a study's trials
//     as the final epoch does (Spearman, top-10 % overlap): what the first
//     rung of a multi-fidelity pruner can be.
//
// Sample and the two-sample tests (WelchT, PairedT, MannWhitneyU) are the
// statistics of all of them.
//
// It also defines how evaluation studies are laid out in a store
// (evalstudy.go) and how their goals are named (ZeroedName, StepName, ...):
// the contract between the commands that write them (package search) and
// everything that reads them.
package summary
