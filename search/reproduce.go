package search

import (
	"fmt"

	"goalsearch/setups"
	"goalsearch/summary"
	"goalsearch/trainer"
	"goalsearch/trainer/goals"
)

// ReproduceGroup is the group of the reproduction's evaluation studies.
const ReproduceGroup = "presets"

// reproduceGoals are the goals the paper's MNIST figure compares, by
// setup: the heuristic goal and the published optimised goal of each
// infomorphic setup. For context-lateral the optimised curve most likely
// used opt_1_100_tpe (goals.yaml), and its 4-term rounding
// opt_1_100_modified has exact published numbers, so both are run. The
// feedback variant has no goals of its own: the paper used the
// context-lateral ones.
var reproduceGoals = map[trainer.Setup][]string{
	trainer.Context:                {"context/naive", "context/opt_1_100"},
	trainer.Lateral:                {"lateral/naive", "lateral/opt_1_100"},
	trainer.ContextLateral:         {"context-lateral/naive", "context-lateral/opt_1_100_tpe", "context-lateral/opt_1_100_modified"},
	trainer.ContextLateralFeedback: {"context-lateral/naive", "context-lateral/opt_1_100_tpe"},
}

// ReproducePlans returns the evaluation plans of the paper's MNIST
// comparison: for every hidden size, one summary.KindReproduce study (group
// "presets") per setup, the infomorphic setups with their heuristic and
// optimised presets, the two baselines with their one goal "none", all on
// the same seeds (EvalSeeds). base gives the epochs and the data set (its
// Setup and Hidden are ignored).
func ReproducePlans(hidden []int, seeds int, base setups.NetworkConfig) ([]EvalPlan, error) {
	var plans []EvalPlan
	sd := EvalSeeds(seeds, nil)
	for _, h := range hidden {
		for _, s := range trainer.Setups() {
			b := base
			b.Setup, b.Hidden = string(s), h
			if b.FanIn >= h {
				b.FanIn = 0
			}
			p, err := PlanForSetup(ReproduceGroup, summary.KindReproduce, b)
			if err != nil {
				return nil, err
			}
			p.Config.Seeds = sd
			if !s.TakesGoal() {
				p.Config.Goals = []summary.EvalGoal{{Name: string(s), Trial: -1}}
			}
			for _, name := range reproduceGoals[s] {
				g, err := goals.Parse(name, string(s))
				if err != nil {
					return nil, fmt.Errorf("reproduce: preset %s for %s: %w", name, s, err)
				}
				p.Config.Goals = append(p.Config.Goals, summary.EvalGoal{Name: name, Gamma: g, Trial: -1})
			}
			p.Config.Note = "the paper's MNIST comparison (Schneider et al., ICLR 2025): heuristic and published optimised goals, and the baselines"
			plans = append(plans, p)
		}
	}
	return plans, nil
}
