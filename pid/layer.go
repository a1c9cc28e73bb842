package pid

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// A Layer decomposes the distributions of all neurons of one layer, each
// neuron on its own column of the inputs, in parallel. It keeps one
// Estimator and one set of column buffers per thread, and long-lived worker
// goroutines, so that a call allocates nothing. Close stops the workers (they
// are also stopped when the Layer is garbage collected). A Layer is not safe
// for concurrent calls; results never depend on the number of threads, since
// each neuron is computed alone.
type Layer struct {
	*layerPool
}

// layerPool is what the workers reference, so that an unreachable Layer can
// be collected and its cleanup can stop them.
type layerPool struct {
	lat     *Lattice
	workers []*layerWorker
	wg      sync.WaitGroup
	next    atomic.Int64
	closed  bool

	// The current call.
	res             []*Result
	bins            [][]int32
	theta, goal, dT []float64
	batch, neurons  int
	errs            []error
	// runEnd[r] is the end of the r-th run of neurons a worker takes.
	runEnd []int32
}

type layerWorker struct {
	est   *Estimator
	bins  [][]int32
	theta []float64
	dT    []float64
	start chan struct{}
}

// NewLayer returns a layer engine for the lattice using up to threads
// goroutines; threads < 1 means runtime.GOMAXPROCS(0).
func NewLayer(l *Lattice, threads int) *Layer {
	if threads < 1 {
		threads = runtime.GOMAXPROCS(0)
	}
	p := &layerPool{lat: l}
	for w := 0; w < threads; w++ {
		wk := &layerWorker{est: NewEstimator(l), bins: make([][]int32, l.n)}
		p.workers = append(p.workers, wk)
		if w > 0 { // worker 0 is the calling goroutine
			wk.start = make(chan struct{})
			go p.serve(wk)
		}
	}
	y := &Layer{p}
	runtime.AddCleanup(y, func(p *layerPool) { p.stop() }, p)
	return y
}

// Threads is the number of goroutines a call uses.
func (y *Layer) Threads() int { return len(y.workers) }

// Compute decomposes every neuron i < neurons of a minibatch of batch samples
// laid out row-major (sample, neuron), as a layer produces them: source k of
// sample m of neuron i has bin bins[k][m*neurons+i] and theta
// theta[m*neurons+i]. res has one Result per neuron. goal may be nil; if
// dTheta is non-nil it receives dG_i/dtheta in the same layout. Data errors
// are those of Estimator.Samples, for the lowest-numbered failing neuron;
// shape mismatches panic.
func (y *Layer) Compute(res []*Result, bins [][]int32, theta []float64, batch, neurons int, goal, dTheta []float64) error {
	p := y.layerPool
	if p.closed {
		panic("pid: Layer used after Close")
	}
	if len(res) != neurons || len(theta) != batch*neurons || len(bins) != p.lat.n {
		panic(fmt.Sprintf("pid: layer of %d neurons, batch %d: got %d results, %d thetas, %d bin slices", neurons, batch, len(res), len(theta), len(bins)))
	}
	for k := range bins {
		if len(bins[k]) != batch*neurons {
			panic(fmt.Sprintf("pid: source %d has %d bins, want %d", k+1, len(bins[k]), batch*neurons))
		}
	}
	if dTheta != nil && len(dTheta) != batch*neurons {
		panic(fmt.Sprintf("pid: dTheta has %d entries, want %d", len(dTheta), batch*neurons))
	}
	if neurons == 0 {
		return nil
	}
	p.res, p.bins, p.theta, p.goal, p.dT = res, bins, theta, goal, dTheta
	p.batch, p.neurons = batch, neurons
	p.planRuns()
	if cap(p.errs) < neurons {
		p.errs = make([]error, neurons)
	}
	p.errs = p.errs[:neurons]
	clear(p.errs)
	p.next.Store(0)
	active := min(len(p.workers), neurons)
	p.wg.Add(active - 1)
	for _, wk := range p.workers[1:active] {
		wk.start <- struct{}{}
	}
	p.work(p.workers[0])
	p.wg.Wait()
	p.res, p.bins, p.theta, p.goal, p.dT = nil, nil, nil, nil, nil
	for _, err := range p.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// planRuns splits the neurons into the runs the workers take: runs of
// neuronRun, which fill the cache lines of dTheta (and of theta and the bins)
// so that two workers do not write neighbouring neurons and pass those lines
// back and forth, then single neurons for the last few, so that no worker is
// left alone with a whole run at the end (a run of 8 neurons is ~0.2 ms at
// 20 bins, a sixth of a 100-neuron call on 2 threads).
func (p *layerPool) planRuns() {
	N, W := p.neurons, len(p.workers)
	p.runEnd = p.runEnd[:0]
	tail := 0
	if W > 1 {
		tail = min(N, W*neuronRun)
	}
	end := 0
	for end < N-tail {
		end = min(end+neuronRun, N-tail)
		p.runEnd = append(p.runEnd, int32(end))
	}
	for end < N {
		end++
		p.runEnd = append(p.runEnd, int32(end))
	}
}

// Close stops the worker goroutines. The Layer must not be used afterwards.
func (y *Layer) Close() { y.stop() }

func (p *layerPool) stop() {
	if p.closed {
		return
	}
	p.closed = true
	for _, wk := range p.workers[1:] {
		close(wk.start)
	}
}

func (p *layerPool) serve(wk *layerWorker) {
	for range wk.start {
		p.work(wk)
		p.wg.Done()
	}
}

// work takes runs of neurons until none is left: neurons differ in how many
// cells they occupy, so a static split would leave a thread idle.
func (p *layerPool) work(wk *layerWorker) {
	B := p.batch
	// A worker that got no neuron last time must not allocate in this one.
	wk.est.reserve(B)
	for k := range wk.bins {
		wk.bins[k] = grow32(wk.bins[k], B)
	}
	wk.theta = growF(wk.theta, B)
	var dT []float64
	if p.dT != nil {
		wk.dT = growF(wk.dT, B)
		dT = wk.dT
	}
	for {
		r := int(p.next.Add(1) - 1)
		if r >= len(p.runEnd) {
			return
		}
		i0 := 0
		if r > 0 {
			i0 = int(p.runEnd[r-1])
		}
		for i := i0; i < int(p.runEnd[r]); i++ {
			p.neuron(wk, i, dT)
		}
	}
}

// neuronRun is the number of consecutive neurons a worker takes at a time:
// 8 float64 make a 64-byte cache line.
const neuronRun = 8

// neuron decomposes neuron i.
func (p *layerPool) neuron(wk *layerWorker, i int, dT []float64) {
	B, N := p.batch, p.neurons
	if wk.est.samplesColumn(p.res[i], p.bins, p.theta, B, N, i, p.goal, p.dT) {
		return
	}
	for k, src := range p.bins {
		col := wk.bins[k]
		for m := range col {
			col[m] = src[m*N+i]
		}
	}
	for m := range wk.theta {
		wk.theta[m] = p.theta[m*N+i]
	}
	if err := wk.est.Samples(p.res[i], wk.bins, wk.theta, p.goal, dT); err != nil {
		p.errs[i] = fmt.Errorf("neuron %d: %w", i, err)
		return
	}
	if dT != nil {
		for m, v := range dT {
			p.dT[m*N+i] = v
		}
	}
}
