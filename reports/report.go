// Package reports turns studies in a store into a report that a researcher
// can read and forward: one self-contained HTML file (tables and inline SVG
// plots, nothing fetched from anywhere), or Markdown with the same tables and
// the plots as SVG files beside it.
//
// Reports are made in two steps, so that what a report says is decided in
// one place and each format only draws it:
//
//  1. Collect reads the studies (it only reads the store) into a Report of
//     package summary's summaries: plain structs, every list in a fixed
//     order, numbers already summarised (means, standard deviations,
//     tests), the same that goalsearch analyze and the dashboard print.
//  2. WriteHTML and WriteMarkdown lay the Report out as the same sequence
//     of headings, paragraphs, tables and figures, and format it.
//
// A report of a study covers the search (summary, optimisation history,
// leaderboard of goals, learning curves, sign agreement across the best
// goals, the hidden neurons' atom profile) and the evaluation studies that
// belong to it (their layout is package summary's evalstudy.go):
// re-trainings on fresh seeds with test accuracy, the sensitivity of the
// best goal to each weight, and its sparsification. A comparison of every evaluated goal,
// preset and baseline follows, with mean ± standard deviation over seeds, a
// test of the difference to the setup's heuristic goal, and the paper's
// published values beside ours.
package reports

import "goalsearch/summary"

// A Report is everything a report shows, collected from a store. Renderers
// only format it.
type Report struct {
	// Title heads the report.
	Title string
	// Sections are the studies and groups asked for, in the order asked.
	Sections []Section
	// Comparison holds every evaluated goal, preset and baseline of the
	// report's evaluation studies, grouped by hidden neurons and epochs.
	Comparison []summary.ComparisonGroup
	// Agreement compares the best goals of searched studies of the same
	// setup and search space: which atoms independent searches agree on.
	// Empty unless the report has at least two such studies.
	Agreement []summary.StudyAgreement
}

// A Section is one study asked for, with its evaluation studies, or a group
// of evaluation studies without a search (such as "presets").
type Section struct {
	// Name is the study or group name.
	Name string
	// Search summarises the searched study; nil for a group.
	Search *summary.SearchSummary
	// Evals are the evaluation studies named Name + "/...", by name.
	Evals []summary.EvalSummary
	// Notes say in words what is missing (no evaluations, ...).
	Notes []string
}
