package main

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"goalsearch/search"
	"goalsearch/store"
)

// searchProgress shows a search's progress: on a terminal a bar of finished
// trials (done/total, best so far, ETA) and a line per running trial with
// its epoch; elsewhere one plain line per finished trial, for logs. Both go
// to standard error, so standard output carries only the summary.
type searchProgress struct {
	s      streams
	study  store.Study
	total  int
	start  time.Time
	doneAt int // trials finished when this run began

	mu      sync.Mutex
	last    search.Event
	running map[int]int // trial -> epochs done
	p       *mpb.Progress
	bar     *mpb.Bar
	started bool
}

func newSearchProgress(s streams, study store.Study, total int) *searchProgress {
	return &searchProgress{s: s, study: study, total: total, start: time.Now(), doneAt: -1, running: map[int]int{}}
}

func (sp *searchProgress) observe(e search.Event) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.doneAt < 0 {
		sp.doneAt = e.Finished
	}
	sp.last = e
	switch e.Kind {
	case search.TrialStarted:
		sp.running[e.Trial.Number] = e.Trial.LastEpoch()
	case search.EpochDone:
		sp.running[e.Trial.Number] = e.Metrics.Epoch
	case search.TrialFinished, search.TrialStopped:
		delete(sp.running, e.Trial.Number)
	}
	if isTerminal(sp.s.ErrOut) {
		sp.drawBar(e)
		return
	}
	if e.Kind == search.TrialFinished {
		t := e.Trial
		val := "-"
		if t.Value != nil {
			val = fmt.Sprintf("%.4f", *t.Value)
		}
		line := fmt.Sprintf("trial %d %s %s %s [%d/%d finished, %d running]%s%s",
			t.Number, t.State, sp.study.Objective.Metric, val, e.Finished, sp.total, e.Running, sp.bestText(), sp.etaText(e.Finished))
		if t.Reason != "" {
			line += " (" + t.Reason + ")"
		}
		fmt.Fprintln(sp.s.ErrOut, line)
	}
}

func (sp *searchProgress) bestText() string {
	if sp.last.Best == nil {
		return ""
	}
	return fmt.Sprintf(" best %.4f (#%d)", *sp.last.Best.Value, sp.last.Best.Number)
}

// etaText extrapolates this run's rate of finished trials to the budget.
func (sp *searchProgress) etaText(finished int) string {
	done := finished - sp.doneAt
	left := sp.total - finished
	if done <= 0 || left <= 0 {
		return ""
	}
	per := time.Since(sp.start) / time.Duration(done)
	return fmt.Sprintf(" ETA %s", (per * time.Duration(left)).Round(time.Second))
}

func (sp *searchProgress) runningText() string {
	var ns []int
	for n := range sp.running {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = fmt.Sprintf("#%d ep %d", n, sp.running[n])
	}
	return strings.Join(parts, ", ")
}

func (sp *searchProgress) drawBar(e search.Event) {
	if !sp.started {
		sp.started = true
		sp.p = mpb.New(mpb.WithOutput(sp.s.ErrOut), mpb.WithWidth(30))
		sp.bar = sp.p.AddBar(int64(sp.total),
			mpb.PrependDecorators(decor.Name("trials "), decor.CountersNoUnit("%d/%d")),
			mpb.AppendDecorators(decor.Any(func(decor.Statistics) string {
				sp.mu.Lock()
				defer sp.mu.Unlock()
				return sp.bestText() + sp.etaText(sp.last.Finished) + "  running: " + sp.runningText()
			})),
		)
	}
	sp.bar.SetCurrent(int64(min(e.Finished, sp.total)))
}

func (sp *searchProgress) close() {
	sp.mu.Lock()
	p, bar := sp.p, sp.bar
	sp.mu.Unlock()
	if p == nil {
		return
	}
	bar.Abort(false)
	p.Wait()
}
