// Package csvdata turns columns of a user's CSV file into the discrete
// sources and target that package pid decomposes.
//
// A column whose values are all integers is discrete and kept as it is; a
// column with non-numeric values is categorical (each distinct text a
// value); any other numeric column is continuous and cut into equal-width
// bins between its minimum and maximum. The target must be discrete or
// categorical: binning it would invent information about it.
package csvdata

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Kind says how a column's values were turned into bins.
type Kind string

const (
	Integer     Kind = "integer"     // each integer value its own bin
	Categorical Kind = "categorical" // each distinct text its own bin
	Continuous  Kind = "continuous"  // equal-width bins on [Min, Max]
)

// Column describes one used column.
type Column struct {
	Name   string   `json:"name"`
	Kind   Kind     `json:"kind"`
	Bins   int      `json:"bins"`             // number of distinct bins
	Values []string `json:"values,omitempty"` // bin i's value, discrete columns
	Min    float64  `json:"min,omitempty"`    // continuous columns: the binned range
	Max    float64  `json:"max,omitempty"`
}

// Data holds the binned columns: Bins[k][m] is source k's bin of row m and
// Target[m] the target's value index in [0, Target column's Bins).
type Data struct {
	Sources []Column
	Target  Column
	Bins    [][]int32
	Targets []int32
}

// Read reads a CSV file with a header row from r (name is used in error
// messages), picks the source and target columns by header name, and bins
// continuous sources into nbins equal-width bins. Errors name the file, line
// and column: a malformed row, a missing or duplicated column, an empty or
// NaN value, a continuous target, fewer than one data row.
func Read(r io.Reader, name string, sources []string, target string, nbins int) (*Data, error) {
	if nbins < 1 {
		return nil, fmt.Errorf("--bins %d: want at least 1", nbins)
	}
	cr := csv.NewReader(r)
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, want a header row", name)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	index := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := index[h]; dup {
			return nil, fmt.Errorf("%s: column %q appears twice in the header", name, h)
		}
		index[h] = i
	}
	want := append(append([]string(nil), sources...), target)
	cols := make([]int, len(want))
	used := map[string]bool{}
	for i, c := range want {
		j, ok := index[c]
		if !ok {
			return nil, fmt.Errorf("%s: no column %q (the header has: %s)", name, c, strings.Join(header, ", "))
		}
		if used[c] {
			return nil, fmt.Errorf("column %q is used twice (sources and target must differ)", c)
		}
		used[c] = true
		cols[i] = j
	}

	raw := make([][]string, len(want))
	var lines []int
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, fmt.Errorf("%s: line %d: %v", name, pe.Line, pe.Err)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		line, _ := cr.FieldPos(0)
		for i, j := range cols {
			v := strings.TrimSpace(rec[j])
			if v == "" {
				return nil, fmt.Errorf("%s: line %d, column %q: empty value", name, line, want[i])
			}
			raw[i] = append(raw[i], v)
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("%s: no data rows after the header", name)
	}

	d := &Data{Bins: make([][]int32, len(sources))}
	for i := range sources {
		col, bins, err := binColumn(name, want[i], raw[i], lines, nbins)
		if err != nil {
			return nil, err
		}
		d.Sources = append(d.Sources, col)
		d.Bins[i] = bins
	}
	t := len(want) - 1
	if kind, line, v := classify(raw[t], lines); kind == Continuous {
		return nil, fmt.Errorf("%s: target column %q is continuous (line %d: %q); the target needs discrete values: integers or labels", name, target, line, v)
	}
	col, bins, err := binColumn(name, target, raw[t], lines, nbins)
	if err != nil {
		return nil, err
	}
	d.Target, d.Targets = col, bins
	return d, nil
}

// classify returns a column's kind and, for a continuous one, the first
// non-integer value with its line.
func classify(vals []string, lines []int) (Kind, int, string) {
	kind := Integer
	line, first := 0, ""
	for m, v := range vals {
		if _, err := strconv.ParseInt(v, 10, 64); err == nil {
			continue
		}
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return Categorical, 0, ""
		}
		if kind == Integer {
			kind, line, first = Continuous, lines[m], v
		}
	}
	return kind, line, first
}

func binColumn(file, name string, vals []string, lines []int, nbins int) (Column, []int32, error) {
	kind, _, _ := classify(vals, lines)
	col := Column{Name: name, Kind: kind}
	bins := make([]int32, len(vals))
	switch kind {
	case Integer, Categorical:
		distinct := map[string]bool{}
		for _, v := range vals {
			distinct[v] = true
		}
		for v := range distinct {
			col.Values = append(col.Values, v)
		}
		if kind == Integer {
			sort.Slice(col.Values, func(i, j int) bool {
				a, _ := strconv.ParseInt(col.Values[i], 10, 64)
				b, _ := strconv.ParseInt(col.Values[j], 10, 64)
				return a < b
			})
		} else {
			sort.Strings(col.Values)
		}
		at := map[string]int32{}
		for i, v := range col.Values {
			at[v] = int32(i)
		}
		for m, v := range vals {
			bins[m] = at[v]
		}
		col.Bins = len(col.Values)
	case Continuous:
		xs := make([]float64, len(vals))
		lo, hi := math.Inf(1), math.Inf(-1)
		for m, v := range vals {
			x, _ := strconv.ParseFloat(v, 64)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return col, nil, fmt.Errorf("%s: line %d, column %q: %q is not a finite number", file, lines[m], name, v)
			}
			xs[m] = x
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
		col.Min, col.Max, col.Bins = lo, hi, nbins
		width := (hi - lo) / float64(nbins)
		for m, x := range xs {
			b := 0
			if width > 0 {
				// The maximum belongs to the last bin, not one past it.
				b = min(int((x-lo)/width), nbins-1)
			}
			bins[m] = int32(b)
		}
	}
	return col, bins, nil
}
