package search

import (
	"fmt"

	"goalsearch/setups"
	"goalsearch/summary"
	"goalsearch/trainer/goals"
)

// ReproducePlans returns the evaluation plans of the paper's MNIST
// comparison: for every hidden size, one summary.KindReproduce study (group
// summary.PresetsGroup) per network setup of the registry, the infomorphic ones with
// the presets their entry names (setups.Setup.Reproduce), the baselines
// with their one goal "none", all on the same seeds (EvalSeeds). base gives
// the epochs and the data set (its Setup and Hidden are ignored).
func ReproducePlans(hidden []int, seeds int, base setups.NetworkConfig) ([]EvalPlan, error) {
	var plans []EvalPlan
	sd := EvalSeeds(seeds, nil)
	for _, h := range hidden {
		for _, s := range setups.Networks() {
			b := base
			b.Setup, b.Hidden = s.Name, h
			if b.FanIn >= h {
				b.FanIn = 0
			}
			p, err := PlanForSetup(summary.PresetsGroup, summary.KindReproduce, b)
			if err != nil {
				return nil, err
			}
			p.Config.Seeds = sd
			if !s.TakesGoal() {
				p.Config.Goals = []summary.EvalGoal{{Name: s.Name, Trial: -1}}
			}
			for _, name := range s.Reproduce {
				g, err := goals.Parse(name, s.Name)
				if err != nil {
					return nil, fmt.Errorf("reproduce: preset %s for %s: %w", name, s.Name, err)
				}
				p.Config.Goals = append(p.Config.Goals, summary.EvalGoal{Name: name, Gamma: g, Trial: -1})
			}
			p.Config.Note = "the paper's MNIST comparison (Schneider et al., ICLR 2025): heuristic and published optimised goals, and the baselines"
			plans = append(plans, p)
		}
	}
	return plans, nil
}
