package trainer

import (
	"runtime"
	"sync"
)

// A linTask is one phase of a matrix product, split into parts that write
// disjoint outputs: run(part, parts) computes part `part` of `parts`. Every
// output element is computed by exactly one part, in an order that does not
// depend on parts, so the result is bit-identical whatever the number of
// threads.
type linTask interface {
	run(part, parts int)
}

// linPool runs linTasks on long-lived worker goroutines, so that a product
// allocates nothing. The calling goroutine computes part 0. A linPool is
// not safe for concurrent calls (nor is the Layer that owns it).
type linPool struct {
	workers []chan linMsg // workers[w-1] receives part w
	wg      sync.WaitGroup
	closed  bool
}

type linMsg struct {
	t           linTask
	part, parts int
}

// newLinPool returns a pool of threads goroutines in all (the caller's
// included), or nil for threads <= 1: a nil *linPool runs everything on the
// calling goroutine.
func newLinPool(threads int) *linPool {
	if threads <= 1 {
		return nil
	}
	p := &linPool{workers: make([]chan linMsg, threads-1)}
	for w := range p.workers {
		ch := make(chan linMsg)
		p.workers[w] = ch
		go p.serve(ch)
	}
	return p
}

// threads is the number of parts a task may be split into.
func (p *linPool) threads() int {
	if p == nil {
		return 1
	}
	return len(p.workers) + 1
}

// run runs t in min(parts, threads) parts and returns when all are done.
func (p *linPool) run(t linTask, parts int) {
	parts = max(1, min(parts, p.threads()))
	if parts == 1 {
		t.run(0, 1)
		return
	}
	if p.closed {
		panic("trainer: layer used after Close")
	}
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.workers[w-1] <- linMsg{t, w, parts}
	}
	t.run(0, parts)
	p.wg.Wait()
}

func (p *linPool) serve(ch chan linMsg) {
	for m := range ch {
		m.t.run(m.part, m.parts)
		p.wg.Done()
	}
}

// stop ends the worker goroutines; it is idempotent.
func (p *linPool) stop() {
	if p == nil || p.closed {
		return
	}
	p.closed = true
	for _, ch := range p.workers {
		close(ch)
	}
}

// linPool returns the layer's pool of matrix-product workers, starting it on
// first use. It is nil for a single-threaded layer.
func (l *Layer) linPool() *linPool {
	if l.pool == nil && l.threads > 1 {
		l.pool = newLinPool(l.threads)
		// Workers reference only the pool, so an unreachable Layer that
		// was never closed is still collected and its workers stopped.
		runtime.AddCleanup(l, func(p *linPool) { p.stop() }, l.pool)
	}
	return l.pool
}

// split returns the half-open range [lo, hi) of part `part` when n items are
// divided as evenly as possible into parts parts.
func split(n, part, parts int) (lo, hi int) {
	return n * part / parts, n * (part + 1) / parts
}

// actTask applies the layer's activation to blocks of samples in parallel:
// the activation is elementwise and safe for concurrent use, so the result
// does not depend on the split.
type actTask struct {
	act       Activation
	theta     []float64
	dth, s    [][]float64
	batch, nn int         // samples, neurons
	views     [][]float64 // per part: n gradient views, then n source views
}

func (a *actTask) run(part, parts int) {
	m0, m1 := split(a.batch, part, parts)
	lo, hi := m0*a.nn, m1*a.nn
	n := len(a.s)
	g, s := a.views[2*n*part:2*n*part+n], a.views[2*n*part+n:2*n*(part+1)]
	for k := range n {
		s[k] = a.s[k][lo:hi]
		if a.dth != nil {
			g[k] = a.dth[k][lo:hi]
		}
	}
	if a.dth == nil {
		g = nil
	}
	a.act.Apply(a.theta[lo:hi], g, s)
	clear(g)
	clear(s)
}

// activate sets theta and, if grad, dtheta/ds_k of the first batch samples
// from the sources, over the pool's threads.
func (l *Layer) activate(p *linPool, batch int, grad bool) {
	size := batch * l.neurons
	dth := l.dth
	if !grad {
		dth = nil
	}
	// An activation costs a few exponentials per element.
	parts := max(1, min(p.threads(), size/4096))
	if parts == 1 {
		l.act.Apply(l.theta[:size], dth, l.s)
		return
	}
	a := &l.actTask
	if len(a.views) < 2*l.n*parts {
		a.views = make([][]float64, 2*l.n*p.threads())
	}
	a.act, a.theta, a.dth, a.s, a.batch, a.nn = l.act, l.theta, dth, l.s, batch, l.neurons
	p.run(a, parts)
	a.theta, a.dth, a.s = nil, nil, nil
}
