package main

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"goalsearch/trainer/dataset"
)

// badInputFixtures are the files the bad-input table runs against: a store
// with a network search, its evaluation and a synthetic search, a data
// set, and broken copies of each.
type badInputFixtures struct {
	db, data, dir string
	// stores are every store file a case might touch, checked byte for
	// byte before and after each case.
	stores []string
	orig   map[string][]byte
	vars   map[string]string
}

func newBadInputFixtures(t *testing.T) *badInputFixtures {
	t.Helper()
	f := &badInputFixtures{db: reportStore(t), data: tinyDataDir(t), dir: t.TempDir()}
	if code, _, errs := runCmd(t, "search", "--study", "sph", "--setup", "sphere", "--dim", "3", "--sampler", "random",
		"--trials", "2", "--epochs", "1", "--store", f.db); code != 0 {
		t.Fatalf("search: %s", errs)
	}
	good, err := os.ReadFile(f.db)
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, b []byte) string {
		p := filepath.Join(f.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A store cut in half, one whose pages after the first two are
	// overwritten, and a text file.
	truncated := file("truncated.db", good[:len(good)/2])
	corrupt := bytes.Clone(good)
	for i := 8192; i < len(corrupt); i++ {
		corrupt[i] = byte(i * 7)
	}
	corruptDB := file("corrupt.db", corrupt)
	notStore := file("notes.db", []byte("these are my notes, not a store\n"))
	f.stores = []string{f.db, truncated, corruptDB, notStore}
	f.orig = map[string][]byte{}
	for _, p := range f.stores {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		f.orig[p] = b
	}

	// Data sets: one image file cut short, one with a wrong magic number.
	copyData := func(name string, edit func(string, []byte) []byte) string {
		dir := filepath.Join(f.dir, name)
		for _, n := range []string{dataset.TrainImagesFile, dataset.TrainLabelsFile, dataset.TestImagesFile, dataset.TestLabelsFile} {
			b, err := os.ReadFile(filepath.Join(f.data, n))
			if err != nil {
				t.Fatal(err)
			}
			file(filepath.Join(name, n), edit(n, b))
		}
		return dir
	}
	truncData := copyData("truncdata", func(n string, b []byte) []byte {
		if n == dataset.TrainImagesFile {
			return b[:len(b)-100]
		}
		return b
	})
	badMagic := copyData("magicdata", func(n string, b []byte) []byte {
		if n == dataset.TestLabelsFile {
			b = bytes.Clone(b)
			b[3] = 9
		}
		return b
	})

	var export bytes.Buffer
	if code := run([]string{"export", "sph", "--store", f.db}, streams{strings.NewReader(""), &export, &bytes.Buffer{}}); code != 0 {
		t.Fatal("export sph failed")
	}
	exp := export.String()
	edit := func(name, old, new string) string {
		if !strings.Contains(exp, old) {
			t.Fatalf("export has no %q", old)
		}
		return file(name, []byte(strings.Replace(exp, old, new, 1)))
	}
	// A read-only directory: chmod means nothing to root, who cannot
	// create files in /proc either.
	roDir := filepath.Join(f.dir, "ro")
	if err := os.Mkdir(roDir, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		roDir = "/proc/self"
	}
	f.vars = map[string]string{
		"{db}": f.db, "{data}": f.data, "{truncdb}": truncated, "{corruptdb}": corruptDB, "{notstore}": notStore,
		"{truncdata}": truncData, "{magicdata}": badMagic, "{nodir}": filepath.Join(f.dir, "nowhere"),
		"{ro}": roDir, "{dir}": f.dir,
		"{csv}":       file("ok.csv", []byte("a,b,y\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n")),
		"{emptycsv}":  file("empty.csv", nil),
		"{nancsv}":    file("nan.csv", []byte("a,b,y\n0.5,0,0\nNaN,1,1\n")),
		"{infcsv}":    file("inf.csv", []byte("a,b,y\n0.5,0,0\n+Inf,1,1\n")),
		"{contcsv}":   file("cont.csv", []byte("a,b,y\n0,0,0.5\n1,1,1.5\n")),
		"{quotecsv}":  file("quote.csv", []byte("a,b,y\n\"0,0,0\n")),
		"{shortcsv}":  file("short.csv", []byte("a,b,y\n0,0\n")),
		"{headcsv}":   file("head.csv", []byte("a,b,y\n")),
		"{bincsv}":    file("bin.csv", []byte{0x1f, 0x8b, 0, 0xff, '"', '\n', 0}),
		"{yamlbad}":   file("bad.yaml", []byte("gama: [1]\n")),
		"{yamlnan}":   file("nan.yaml", []byte("gamma: [.nan, 0, 0, 0, 0]\n")),
		"{yamlinf}":   file("inf.yaml", []byte("atoms: {\"{F}{C}\": .inf}\n")),
		"{yamlshort}": file("short.yaml", []byte("gamma: [1, 0]\n")),
		"{yamlempty}": file("empty.yaml", nil),
		"{yamlbomb}":  file("bomb.yaml", []byte("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n")),
		"{goodjson}":  file("good.json", []byte(exp)),
		"{nojson}":    file("nojson.json", []byte("this is not JSON")),
		"{truncjson}": file("trunc.json", []byte(exp[:len(exp)/2])),
		"{emptyjson}": file("empty.json", nil),
		"{nanjson}":   edit("nan.json", `"gamma": [`+"\n        ", `"gamma": [`+"\n        \"NaN\", "),
		"{nangamma}":  nanGamma(t, file, exp),
		"{invjson}":   edit("inverted.json", `"lower": [`+"\n        -1", `"lower": [`+"\n        2"),
		"{dupjson}":   edit("dup.json", `"number": 1,`, `"number": 0,`),
		"{otherjson}": edit("other.json", `"format": "goalsearch-study"`, `"format": "something-else"`),
		"{newerjson}": edit("newer.json", `"v": 1,`, `"v": 99,`),
		"{missing}":   filepath.Join(f.dir, "missing"),
	}
	return f
}

// nanGamma writes the export with its first trial's first weight NaN (the
// codec writes NaN as a string).
func nanGamma(t *testing.T, file func(string, []byte) string, exp string) string {
	t.Helper()
	i := strings.Index(exp, `"gamma": [`)
	if i < 0 {
		t.Fatal("export has no gamma")
	}
	j := i + strings.Index(exp[i:], ",")
	return file("nangamma.json", []byte(exp[:i]+`"gamma": [ "NaN"`+exp[j:]))
}

// restore writes back every store file as it was, so that one failing
// case does not change what the next ones see.
func (f *badInputFixtures) restore(t *testing.T) {
	t.Helper()
	for p, b := range f.orig {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (f *badInputFixtures) hashes(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, p := range f.stores {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%x", sha256.Sum256(b)))
	}
	return out
}

// badInputs is the table: a command line (with the fixtures' {names}) and
// what its error message must contain to name the input and what was
// wrong.
var badInputs = []struct {
	args string
	want string
}{
	// pid: the CSV file and the columns.
	{"pid {missing}.csv --sources a,b --target y", "missing.csv"},
	{"pid {emptycsv} --sources a,b --target y", "empty.csv: empty file"},
	{"pid {nancsv} --sources a,b --target y", `nan.csv: line 3, column "a": "NaN" is not a finite number`},
	{"pid {infcsv} --sources a,b --target y", `inf.csv: line 3, column "a": "+Inf" is not a finite number`},
	{"pid {contcsv} --sources a,b --target y", `target column "y" is continuous`},
	{"pid {quotecsv} --sources a,b --target y", "quote.csv: line 2"},
	{"pid {shortcsv} --sources a,b --target y", "short.csv"},
	{"pid {headcsv} --sources a,b --target y", "head.csv: no data rows"},
	{"pid {bincsv} --sources a,b --target y", "bin.csv"},
	{"pid {csv} --sources a,z --target y", `no column "z"`},
	{"pid {csv} --sources a,a --target y", `column "a" is used twice`},
	{"pid {csv} --sources a --target y", "--sources: 1 columns given, want 2 to 4"},
	{"pid {csv} --sources a,b,c,d,e --target y", "--sources: 5 columns given"},
	{"pid {csv} --sources a,b", "--target"},
	{"pid {csv} --sources a,b --target y --bins 0", "--bins 0"},
	{"pid {csv} --sources a,b --target y --bins -3", "--bins -3"},
	{"pid", "one CSV file"},

	// goals
	{"goals nosuch", "nosuch"},
	{"goals a b", "at most"},

	// train: setups, goals, counts, data.
	{"train --setup nosuch --data {data}", "nosuch"},
	{"train --setup context --goal 1,2,3 --data {data}", "goal has 3 weights; setup context wants 5"},
	{"train --setup context --goal NaN,0,0,0,0 --data {data}", "is NaN"},
	{"train --setup context --goal 0,+Inf,0,0,0 --data {data}", "is +Inf"},
	{"train --setup context --goal 0,x,0,0,0 --data {data}", `weight 2 "x" is not a number`},
	{"train --setup context --goal nosuch --data {data}", `"nosuch": no such preset`},
	{"train --setup context --goal {yamlbad} --data {data}", "bad.yaml: yaml: unmarshal errors"},
	{"train --setup context --goal {yamlnan} --data {data}", "nan.yaml: goal weight 1 ({F}) is NaN"},
	{"train --setup context --goal {yamlinf} --data {data}", "inf.yaml: goal weight 3 ({F}{C}) is +Inf"},
	{"train --setup context --goal {yamlshort} --data {data}", "short.yaml: goal has 2 weights"},
	{"train --setup context --goal {yamlempty} --data {data}", "empty.yaml"},
	{"train --setup context --goal {yamlbomb} --data {data}", "bomb.yaml"},
	{"train --setup context --goal {missing}.yaml --data {data}", "missing.yaml"},
	{"train --setup context --goal naive --epochs -1 --data {data}", "--epochs -1"},
	{"train --setup context --goal naive --hidden 0 --data {data}", "--hidden 0"},
	{"train --setup context --goal naive --hidden -5 --data {data}", "--hidden -5"},
	{"train --setup context --goal naive --batch 0 --data {data}", "--batch 0"},
	{"train --setup context --goal naive --threads -1 --data {data}", "--threads -1"},
	{"train --setup context --goal naive --train-limit -5 --data {data}", "--train-limit -5"},
	{"train --setup context --goal naive --eval-limit -5 --data {data}", "--eval-limit -5"},
	{"train --setup context-lateral --goal naive --lateral-fanin -1 --data {data}", "--lateral-fanin -1"},
	// train: layers (docs/layers.md). A goal per layer needs 2 or more.
	{"train --setup context-lateral --goal naive --layers 0 --data {data}", "--layers 0: want 1 to 16 hidden layers"},
	{"train --setup context-lateral --goal naive --layers -1 --data {data}", "--layers -1: want 1 to 16"},
	{"train --setup context-lateral --goal naive --layers 100000 --data {data}", "--layers 100000: want 1 to 16"},
	{"train --setup context-lateral --goal naive --goal-per-layer --data {data}", "--goal-per-layer: needs --layers 2 or more"},
	{"train --setup backprop --layers 2 --goal-per-layer --data {data}", "--goal-per-layer: setup backprop is a baseline"},
	{"train --setup context --goal 1,2,3 --layers 2 --goal-per-layer --data {data}", "or, for a goal per layer of 2 layers, 10 weights"},
	{"train --setup context --goal 0,0,1,0,0,0,0,NaN,0,0 --layers 2 --goal-per-layer --data {data}", "weight 8 \"NaN\" (h2:{F}{C})"},
	{"train network.setup=context network.layers=-2 --goal naive --data {data}", "network.layers: -2; want 1 to 16"},
	{"train --setup context --goal naive --epochs 1 --hidden 4 --data {nodir}", "nowhere"},
	{"train --setup context --goal naive --epochs 1 --hidden 4 --data {truncdata}", "train-images-idx3-ubyte"},
	{"train --setup context --goal naive --epochs 1 --hidden 4 --data {magicdata}", "t10k-labels-idx1-ubyte"},
	{"train --setup context --goal naive --epochs 1 --hidden 4 --data {csv}", "ok.csv"},

	// search: a new study in the good store, each with one bad input.
	{"search --study new --setup nosuch --store {db}", "nosuch"},
	{"search --study new --setup sphere --sampler nosuch --store {db}", "nosuch"},
	{"search --study new --setup sphere --pruner nosuch --store {db}", "nosuch"},
	{"search --study new --setup sphere --sampler cmaes --sampler-config { --store {db}", "--sampler-config"},
	{"search --study new --setup sphere --sampler cmaes --sampler-config {\"bogus\":1} --store {db}", "bogus"},
	{"search --study new --setup sphere --sampler cmaes --sampler-config {\"population\":-4} --store {db}", "Population -4"},
	{"search --study new --setup sphere --sampler tpe --sampler-config [1,2] --store {db}", "--sampler-config"},
	// Multi-objective studies (docs/pareto.md).
	{"status sph --tolerance -1 --store {db}", "--tolerance -1"},
	{"report sph --tolerance NaN --store {db} -o {dir}/r.html", "--tolerance NaN"},
	{"analyze sph --front --store {db}", "one objective"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,l2 --store {db}", "l2"},
	{"search --study new --setup sphere --sampler nsga2 --objectives nonzero --store {db}", "first objective is accuracy"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,nonzero,l1 --store {db}", "at most two"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,nonzero --grid 0 --store {db}", "objective.grid"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,nonzero --grid -0.1 --store {db}", "objective.grid"},
	{"search --study new --setup sphere --sampler random --grid 0.1 --store {db}", "without a complexity objective"},
	{"search --study new --setup sphere --sampler nsga2 --store {db}", "nsga2 is multi-objective"},
	{"search --study new --setup sphere --sampler tpe --objectives accuracy,nonzero --store {db}", "ranks by one objective"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,l1 --pruner asha --store {db}", "runs every trial to the end"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,l1 --unit-norm --store {db}", "unit-norm"},
	{"search --study new --setup sphere --sampler nsga2 --objectives accuracy,nonzero --sampler-config {\"population_size\":1} --store {db}", "population_size 1"},
	{"search --study new --setup sphere --pruner asha --pruner-config {\"eta\":1} --store {db}", "eta"},
	{"search --study new --setup sphere --pruner median --pruner-config {\"bogus\":1} --store {db}", "bogus"},
	{"search --study new --setup sphere --pruner asha --pruner-config {\"eta\": --store {db}", "--pruner-config"},
	{"search --study new --setup sphere --pruner none --pruner-config {\"eta\":3} --store {db}", "pruner"},
	{"search --study new --setup sphere --bounds 1,-1 --store {db}", "--bounds"},
	{"search --study new --setup sphere --bounds NaN,1 --store {db}", "--bounds"},
	{"search --study new --setup sphere --bounds -1,+Inf --store {db}", "+Inf"},
	{"search --study new --setup sphere --bounds 1 --store {db}", "--bounds"},
	{"search --study new --setup sphere --bounds 0,0 --store {db}", "--bounds"},
	{"search --study new --setup sphere --trials 0 --store {db}", "budget of 0 trials"},
	{"search --study new --setup sphere --trials -3 --store {db}", "--trials -3"},
	{"search --study new --setup sphere --workers 0 --store {db}", "--workers 0"},
	{"search --study new --setup sphere --workers -2 --store {db}", "--workers -2"},
	{"search --study new --setup sphere --dim 0 --store {db}", "(--dim): 0"},
	{"search --study new --setup sphere --dim -1 --store {db}", "(--dim): -1"},
	{"search --study new --setup sphere --epochs -1 --store {db}", "--epochs -1"},
	{"search --study new --setup sphere --threads -1 --store {db}", "--threads -1"},
	{"search --study new --setup sphere --noise -1 --store {db}", "--noise"},
	{"search --study new --setup sphere --noise NaN --store {db}", "--noise"},
	{"search --study new --setup sphere --sleep -1s --store {db}", "--sleep"},
	{"search --study new --setup sphere --time -1s --store {db}", "--time"},
	{"search --study new --setup sphere --dim 3 --enqueue 1,2 --store {db}", "--enqueue"},
	{"search --study new --setup sphere --dim 3 --enqueue NaN,0,0 --store {db}", "--enqueue"},
	{"search --study new --setup context --fix NOPE=1 --store {db}", "NOPE"},
	{"search --study new --setup context --fix {F}=NaN --store {db}", "{F}"},
	{"search --study new --setup context --fix {F} --store {db}", "--fix"},
	{"search --study new --setup context --hidden 0 --store {db}", "--hidden 0"},
	{"search --study new --setup context --train-limit -1 --store {db}", "--train-limit -1"},
	{"search --study new --setup context --lateral-fanin -1 --store {db}", "--lateral-fanin -1"},
	{"search --study new --setup context --layers 0 --store {db}", "--layers 0: want 1 to 16"},
	{"search --study new --setup context --layers 17 --store {db}", "--layers 17: want 1 to 16"},
	{"search --study new --setup context --goal-per-layer --store {db}", "network.goal_per_layer (--goal-per-layer): true with 1 hidden layer"},
	{"search --study new --setup context network.layers=-1 --store {db}", "network.layers: -1; want 1 to 16"},
	{"search --setup sphere --store {db}", "--study"},
	{"search --study {sp}bad --setup sphere --store {db}", "bad"},
	{"search --study sph --setup sphere --dim 3 --sampler cmaes --trials 3 --store {db}", "sampler"},
	{"search --study sph --setup sphere --dim 4 --sampler random --trials 3 --store {db}", "sph"},
	{"search --study new --setup sphere --store {notstore}", "notes.db"},
	{"search --study new --setup sphere --store {truncdb}", "truncated.db"},
	{"search --study new --setup sphere --store {corruptdb}", "corrupt.db"},
	{"search --study new --setup sphere --store {ro}/s.db", "s.db"},
	{"search --study new --setup sphere --store {nodir}/s.db", "s.db"},

	// Reading commands.
	{"status nosuch --store {db}", "nosuch"},
	{"status --store {missing}.db", "missing.db"},
	{"status --store {notstore}", "notes.db"},
	{"status --store {truncdb}", "truncated.db"},
	{"status --store {corruptdb}", "corrupt.db"},
	{"trials nosuch --store {db}", "nosuch"},
	{"trials s --store {truncdb}", "truncated.db"},
	{"trials s --store {corruptdb}", "corrupt.db"},
	{"trials --store {db}", "one study name"},
	{"export nosuch --store {db}", "nosuch"},
	{"export s --format xml --store {db}", "xml"},
	{"export s -o {ro}/x.json --store {db}", "x.json"},
	{"export s --store {corruptdb}", "corrupt.db"},

	// import: files and what is in them.
	{"import {missing}.json --store {db}", "missing.json"},
	{"import {nojson} --store {db}", "nojson.json"},
	{"import {truncjson} --store {db}", "trunc.json"},
	{"import {emptyjson} --store {db}", "empty.json"},
	{"import {nanjson} --store {db}", "nan.json"},
	{"import {nangamma} --name fresh --store {db}", "gamma"},
	{"import {invjson} --name fresh --store {db}", "bound"},
	{"import {dupjson} --name fresh --store {db}", "trial"},
	{"import {otherjson} --store {db}", "other.json"},
	{"import {newerjson} --name fresh --store {db}", "newer"},
	{"import {csv} --store {db}", "ok.csv"},
	{"import {truncjson} --store {corruptdb}", "corrupt.db"},
	{"import {goodjson} --name {sp}bad --store {db}", "bad"},
	{"import {goodjson} --store {db}", "exists"},
	{"import {truncjson} --name fresh --store {ro}/s.db", "s.db"},

	// worker
	{"worker --store {db} --study nosuch", "nosuch"},
	{"worker --store {db} --study sph --slots 0", "--slots 0"},
	{"worker --store {db} --study sph --trials -1", "--trials -1"},
	{"worker --store {db} --study sph --poll -1s", "--poll"},
	{"worker --store {db} --study sph --lease -1s", "--lease"},
	{"worker --store {db} --study sph --threads -1", "--threads -1"},
	{"worker --store {db} --study sph --time -1s", "--time"},

	// migrate
	{"migrate --from {missing}.db --to {dir}/m.db", "missing.db"},
	{"migrate --from {db} --to {db}", "same"},
	{"migrate --from {db} --to {dir}/m2.db --study nosuch", "nosuch"},
	{"migrate --from {corruptdb} --to {dir}/m3.db", "corrupt.db"},
	{"migrate --from {db} --to {notstore}", "notes.db"},
	{"migrate --to {dir}/m4.db", "--from"},

	// evaluate
	{"evaluate nosuch --store {db}", "nosuch"},
	{"evaluate s --seeds 0 --store {db}", "--seeds 0"},
	{"evaluate s --seeds -1 --store {db}", "--seeds -1"},
	{"evaluate s --top -1 --store {db}", "--top -1"},
	{"evaluate s --top 0 --store {db}", "nothing to evaluate"},
	{"evaluate s --top 0 --trial 999 --store {db}", "no trial 999"},
	{"evaluate s --top 0 --trial -1 --store {db}", "no trial -1"},
	{"evaluate --setup context --goal naive --trial 1 --store {db}", "--trial"},
	{"evaluate s --goal 1,2 --store {db}", "goal has 2 weights"},
	{"evaluate s --goal NaN,0,0,0,0 --store {db}", "is NaN"},
	{"evaluate s --goal {yamlbad} --store {db}", "bad.yaml"},
	{"evaluate s --hidden 0 --store {db}", "--hidden"},
	{"evaluate s --hidden -10 --store {db}", "--hidden"},
	{"evaluate s --workers 0 --store {db}", "--workers 0"},
	{"evaluate s --epochs -1 --store {db}", "--epochs -1"},
	{"evaluate s --threads -1 --store {db}", "--threads -1"},
	{"evaluate s/evaluate/context/h20 --store {db}", "evaluation study"},
	{"evaluate --setup nosuch --goal naive --store {db}", "nosuch"},
	{"evaluate --setup context --goal 1,2 --data {data} --store {db}", "goal has 2 weights"},
	{"evaluate --setup context --goal naive --epochs 1 --hidden 4 --seeds 1 --data {truncdata} --store {db}", "train-images-idx3-ubyte"},
	{"evaluate --setup context --goal naive --train-limit -1 --data {data} --store {db}", "--train-limit -1"},
	{"evaluate --setup context --goal naive --layers 0 --data {data} --store {db}", "--layers 0: want 1 to 16"},
	{"evaluate --setup context --goal naive --layers 99 --data {data} --store {db}", "--layers 99"},
	{"evaluate --setup context --goal naive --goal-per-layer --data {data} --store {db}", "--goal-per-layer: needs --layers 2"},
	{"evaluate s --layers 2 --store {db}", "--layers and --goal-per-layer apply without a STUDY"},
	{"evaluate s --store {corruptdb}", "corrupt.db"},

	// analyze
	{"analyze nosuch --store {db}", "nosuch"},
	{"analyze s --seeds 0 --store {db}", "--seeds 0"},
	{"analyze s --delta NaN --store {db}", "--delta"},
	{"analyze s --delta -0.1 --store {db}", "--delta"},
	{"analyze s --round 0 --store {db}", "--round"},
	{"analyze s --round NaN --store {db}", "--round"},
	{"analyze s --tolerance -1 --store {db}", "--tolerance"},
	{"analyze s --tolerance +Inf --store {db}", "--tolerance"},
	{"analyze s --trial 99 --store {db}", "trial 99"},
	{"analyze s --trial 2 --store {db}", "trial 2"},
	{"analyze s --top 0 --store {db}", "--top 0"},
	{"analyze s --workers 0 --store {db}", "--workers 0"},
	{"analyze s --epochs -1 --store {db}", "--epochs -1"},
	{"analyze s/evaluate/context/h20 --store {db}", "evaluation study"},

	// reproduce
	{"reproduce --hidden 0 --data {data} --store {db}", "--hidden"},
	{"reproduce --seeds 0 --data {data} --store {db}", "--seeds 0"},
	{"reproduce --epochs 0 --data {data} --store {db}", "--epochs 0"},
	{"reproduce --workers 0 --data {data} --store {db}", "--workers 0"},
	{"reproduce --train-limit -1 --data {data} --store {db}", "--train-limit -1"},
	{"reproduce --epochs 1 --hidden 4 --seeds 1 --data {magicdata} --store {db}", "t10k-labels-idx1-ubyte"},

	// report
	{"report nosuch --store {db} -o {dir}/r.html", "nosuch"},
	{"report s --format pdf --store {db} -o {dir}/r.pdf", "pdf"},
	{"report s --top 0 --store {db} -o {dir}/r.html", "--top 0"},
	{"report s --top -1 --store {db} -o {dir}/r.html", "--top -1"},
	{"report s --store {db} -o {ro}/r.html", "r.html"},
	{"report --store {db} -o {dir}/r.html", "--all"},
	{"report s --store {corruptdb} -o {dir}/r.html", "corrupt.db"},

	// fidelity
	{"fidelity nosuch --store {db}", "nosuch"},
	{"fidelity s --epochs -1 --store {db}", "--epochs"},
	{"fidelity s --final -1 --store {db}", "--final -1"},
	{"fidelity s --min-final NaN --store {db}", "--min-final"},
	{"fidelity s --svg {ro}/f.svg --store {db}", "f.svg"},
	{"fidelity --store {db}", "STUDY"},
}

// TestBadInputs runs every command with its bad inputs: each must exit
// non-zero with a message that names the input, print no panic or stack
// trace, and leave every store file byte for byte as it was.
func TestBadInputs(t *testing.T) {
	f := newBadInputFixtures(t)
	before := f.hashes(t)
	for _, tc := range badInputs {
		args := strings.Fields(tc.args)
		for i, a := range args {
			for k, v := range f.vars {
				a = strings.ReplaceAll(a, k, v)
			}
			args[i] = strings.ReplaceAll(a, "{sp}", " ")
		}
		start := time.Now()
		code, out, errs, ok := runWithin(args, time.Minute)
		if !ok {
			// Its goroutine goes on, so the store checks would mislead.
			t.Fatalf("%s: still running after %v; a bad input must fail at once", tc.args, time.Since(start))
		}
		switch {
		case code == 0:
			t.Errorf("%s: exit 0, want an error\n%s%s", tc.args, out, errs)
		case !strings.Contains(errs, tc.want):
			t.Errorf("%s: exit %d, message does not contain %q:\n%s", tc.args, code, tc.want, errs)
		case strings.Contains(out+errs, "goroutine ") || strings.Contains(out+errs, "panic"):
			t.Errorf("%s: a panic or stack trace:\n%s%s", tc.args, out, errs)
		}
		if after := f.hashes(t); strings.Join(after, " ") != strings.Join(before, " ") {
			t.Errorf("%s: a store file changed", tc.args)
			f.restore(t)
		}
	}
	if _, err := os.Stat(filepath.Join(f.dir, "m2.db")); err == nil {
		t.Error("a failed migrate left its destination behind")
	}
}

// runWithin runs a command line, turning a panic into exit code 99 and
// its value into the error output, so one case cannot take the table
// down; ok is false if the command still runs after d.
func runWithin(args []string, d time.Duration) (code int, stdout, stderr string, ok bool) {
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	go func() {
		var out, errb bytes.Buffer
		defer func() {
			if r := recover(); r != nil {
				done <- result{99, out.String(), errb.String() + fmt.Sprintf("panic: %v", r)}
			}
		}()
		code := run(args, streams{strings.NewReader(""), &out, &errb})
		done <- result{code, out.String(), errb.String()}
	}()
	select {
	case r := <-done:
		return r.code, r.out, r.err, true
	case <-time.After(d):
		return 0, "", "", false
	}
}
