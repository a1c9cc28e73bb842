package dashboard

import (
	"context"
	"slices"
	"sync"
	"time"

	"goalsearch/store"
)

// snapshots keep each study's trials between requests, so that the several
// requests a page makes each second, and several pages, share one store
// read: finished trials never change (the store's contract), so a refresh
// asks only for the trials that are new or were unfinished
// (store.Store.LiveTrials), which a networked backend answers from an
// index. A refresh at most every ttl bounds what watching costs the
// process that serves the dashboard, which may be the running search.
//
// The cached trials carry no atoms (a trial of a 2000-neuron network holds
// 38000 numbers of them): the trial page reads its one trial from the store.
type snapshots struct {
	r   Reader
	ttl time.Duration

	mu      sync.Mutex
	studies map[string]*snapshot
}

type snapshot struct {
	mu sync.Mutex
	// created is the study's creation time: a study deleted and made anew
	// under its name starts a new snapshot.
	created time.Time
	at      time.Time     // when its last refresh ended
	trials  []store.Trial // in number order; replaced, never changed in place
	index   map[int]int   // trial number -> position in trials
}

func newSnapshots(r Reader, ttl time.Duration) *snapshots {
	return &snapshots{r: r, ttl: ttl, studies: map[string]*snapshot{}}
}

// trials returns the trials of st in number order, at most ttl old. The
// caller must not change them; they stay valid (and unchanged) after later
// refreshes.
func (c *snapshots) trials(ctx context.Context, st store.Study) ([]store.Trial, error) {
	c.mu.Lock()
	sn, ok := c.studies[st.Name]
	if !ok || !sn.created.Equal(st.CreatedAt) {
		sn = &snapshot{created: st.CreatedAt}
		c.studies[st.Name] = sn
	}
	c.mu.Unlock()

	sn.mu.Lock()
	defer sn.mu.Unlock()
	if sn.trials != nil && time.Since(sn.at) < c.ttl {
		return sn.trials, nil
	}
	// Age counts from the end of a refresh: on a loaded machine a refresh
	// of a large study may take longer than ttl, and the requests of one
	// poll should still share it.
	if sn.trials == nil {
		all, err := c.r.Trials(ctx, st.Name)
		if err != nil {
			return nil, err
		}
		for i := range all {
			all[i].Atoms = nil
		}
		sn.trials, sn.index, sn.at = all, indexOf(all), time.Now()
		return all, nil
	}
	from := 0
	if n := len(sn.trials); n > 0 {
		from = sn.trials[n-1].Number + 1
	}
	live, err := c.r.LiveTrials(ctx, st.Name, from)
	if err != nil {
		return nil, err
	}
	next := slices.Clone(sn.trials)
	seen := map[int]bool{}
	for _, t := range live {
		t.Atoms = nil
		seen[t.Number] = true
		if i, ok := sn.index[t.Number]; ok {
			next[i] = t
		} else {
			next = append(next, t)
		}
	}
	// A trial that was unfinished and is missing from the answer has
	// finished since.
	for i, t := range sn.trials {
		if t.State.Finished() || seen[t.Number] {
			continue
		}
		ft, err := c.r.Trial(ctx, st.Name, t.Number)
		if err != nil {
			return nil, err
		}
		ft.Atoms = nil
		next[i] = ft
	}
	slices.SortStableFunc(next, func(a, b store.Trial) int { return a.Number - b.Number })
	sn.trials, sn.index, sn.at = next, indexOf(next), time.Now()
	return next, nil
}

func indexOf(trials []store.Trial) map[int]int {
	m := make(map[int]int, len(trials))
	for i, t := range trials {
		m[t.Number] = i
	}
	return m
}
