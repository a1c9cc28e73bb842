// Command paritytable prints docs/parity.md: goalsearch's accuracy after 10
// and 50 epochs beside the reference implementation's, from the JSON files
// of `goalsearch train --json` (named SETUP_sSEED.json by scripts/parity.sh)
// and the reference's per-epoch logs in ../shared/refbench.
//
//	go run ./scripts/paritytable -ref ../shared/refbench docs/parity/raw/*.json
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type ourRun struct {
	Seed    uint64 `json:"seed"`
	Metrics []struct {
		Epoch   int     `json:"epoch"`
		TrainS  float64 `json:"train_s"`
		ValS    float64 `json:"val_s"`
		TestS   float64 `json:"test_s"`
		Val     acc     `json:"val_acc"`
		Test    acc     `json:"test_acc"`
		Updated bool    `json:"updated"`
	} `json:"metrics"`
}

type acc struct {
	BatchMean float64 `json:"batch_mean"`
	Fraction  float64 `json:"fraction"`
}

type point struct{ val, test, trainS float64 }

// runs[name][seed][epoch]
type runs map[string]map[uint64]map[int]point

func (r runs) add(name string, seed uint64, epoch int, p point) {
	if r[name] == nil {
		r[name] = map[uint64]map[int]point{}
	}
	if r[name][seed] == nil {
		r[name][seed] = map[int]point{}
	}
	r[name][seed][epoch] = p
}

var fileName = regexp.MustCompile(`^(.*)_s(\d+)(\.jsonl?)$`)

func main() {
	ref := flag.String("ref", "../shared/refbench", "the reference's refbench directory")
	flag.Parse()
	ours, theirs := runs{}, runs{}
	for _, f := range flag.Args() {
		m := fileName.FindStringSubmatch(filepath.Base(f))
		if m == nil {
			fail(fmt.Errorf("%s: want NAME_sSEED.json", f))
		}
		var r ourRun
		b, err := os.ReadFile(f)
		fail(err)
		fail(json.Unmarshal(b, &r))
		for _, e := range r.Metrics {
			ours.add(m[1], r.Seed, e.Epoch, point{e.Val.BatchMean, e.Test.BatchMean, e.TrainS})
		}
	}
	// The reference: seed 30 in raw_10ep and raw_long, others in raw_seeds.
	for _, dir := range []string{"raw_10ep", "raw_long", "raw_seeds"} {
		files, _ := filepath.Glob(filepath.Join(*ref, dir, "*.jsonl"))
		for _, f := range files {
			name, seed := strings.TrimSuffix(filepath.Base(f), ".jsonl"), uint64(30)
			if m := fileName.FindStringSubmatch(filepath.Base(f)); m != nil {
				name = m[1]
				seed, _ = strconv.ParseUint(m[2], 10, 64)
			}
			readRef(f, func(epoch int, p point) { theirs.add(name, seed, epoch, p) })
		}
	}
	if len(theirs) == 0 {
		fail(fmt.Errorf("no reference logs under %s", *ref))
	}

	fmt.Println("# Accuracy parity with the reference implementation")
	fmt.Println()
	fmt.Println("MNIST, 100 hidden neurons, batch 1024, 2 threads; validation / test accuracy as the")
	fmt.Println("reference reports it (mean of per-batch accuracies, label withheld). Ours: mean over")
	fmt.Println("seeds 30, 31, 32. Reference: mean over the same seeds where its logs have them")
	fmt.Println("(`../shared/refbench`), the seeds used are listed. Produced by `bash scripts/parity.sh`.")
	fmt.Println()
	fmt.Println("| setup | epoch | ours val | ours test | reference val | reference test | ref seeds | Δ val (pp) | Δ test (pp) | ours s/epoch | ref s/epoch |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|")
	names := make([]string, 0, len(ours))
	for n := range ours {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, epoch := range []int{10, 50} {
			ov, ot, os_, on := mean(ours[name], epoch, nil)
			if on == 0 {
				continue
			}
			seeds := seedsOf(ours[name])
			rv, rt, rs, rn := mean(theirs[name], epoch, seeds)
			refSeeds := "—"
			if rn > 0 {
				refSeeds = seedList(theirs[name], epoch, seeds)
			}
			fmt.Printf("| %s | %d | %.4f | %.4f | %s | %s | %s | %s | %s | %.2f | %s |\n", name, epoch, ov, ot,
				opt(rv, rn), opt(rt, rn), refSeeds, diff(ov, rv, rn), diff(ot, rt, rn), os_, opt2(rs, rn))
		}
	}
}

func seedsOf(r map[uint64]map[int]point) map[uint64]bool {
	s := map[uint64]bool{}
	for k := range r {
		s[k] = true
	}
	return s
}

func seedList(r map[uint64]map[int]point, epoch int, only map[uint64]bool) string {
	var s []int
	for seed, eps := range r {
		if _, ok := eps[epoch]; ok && only[seed] {
			s = append(s, int(seed))
		}
	}
	sort.Ints(s)
	parts := make([]string, len(s))
	for i, v := range s {
		parts[i] = strconv.Itoa(v)
	}
	return strings.Join(parts, ", ")
}

// mean averages the runs at an epoch, over the seeds in only (all if nil).
func mean(r map[uint64]map[int]point, epoch int, only map[uint64]bool) (val, test, trainS float64, n int) {
	for seed, eps := range r {
		p, ok := eps[epoch]
		if !ok || (only != nil && !only[seed]) {
			continue
		}
		val, test, n = val+p.val, test+p.test, n+1
		// Seconds per training epoch: the median over the run's epochs.
		var ts []float64
		for e, q := range eps {
			if e > 0 {
				ts = append(ts, q.trainS)
			}
		}
		sort.Float64s(ts)
		if len(ts) > 0 {
			trainS += ts[len(ts)/2]
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN(), 0
	}
	return val / float64(n), test / float64(n), trainS / float64(n), n
}

func opt(v float64, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.4f", v)
}

func opt2(v float64, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

func diff(a, b float64, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%+.2f", 100*(a-b))
}

func readRef(path string, add func(int, point)) {
	f, err := os.Open(path)
	fail(err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e struct {
			Epoch  *int    `json:"epoch"`
			Val    float64 `json:"val_acc"`
			Test   float64 `json:"test_acc"`
			TrainS float64 `json:"train_s"`
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Epoch == nil {
			continue // the header line
		}
		add(*e.Epoch, point{e.Val, e.Test, e.TrainS})
	}
	fail(sc.Err())
}

func fail(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "paritytable:", err)
		os.Exit(1)
	}
}
