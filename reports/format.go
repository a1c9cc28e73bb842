package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"goalsearch/summary"
)

// Every number in a report goes through these functions, so the formats are
// fixed (golden files stay stable) and the same in HTML and Markdown.

const dash = "—"

// pctNum formats an accuracy (a fraction) in percent with two decimals,
// without the sign: 0.94873 -> "94.87".
func pctNum(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return strconv.FormatFloat(100*v, 'f', 2, 64)
}

// pct formats an accuracy in percent: "94.87 %".
func pct(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dash
	}
	return pctNum(v) + " %"
}

// pp formats a difference of accuracies in percentage points: "+0.45 pp".
func pp(d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return dash
	}
	s := strconv.FormatFloat(100*d, 'f', 2, 64)
	if d >= 0 && !strings.HasPrefix(s, "-") {
		s = "+" + s
	}
	if s == "-0.00" {
		s = "+0.00"
	}
	return s + " pp"
}

// meanStd formats a sample of accuracies in percent, "94.87 ± 0.12", the
// mean alone for one value, a dash for none.
func meanStd(s summary.Sample) string {
	switch s.N {
	case 0:
		return dash
	case 1:
		return pctNum(s.Mean)
	}
	return pctNum(s.Mean) + " ± " + pctNum(s.Std)
}

// meanStdOf is meanStd for accuracies, and the plain values of a synthetic
// function.
func meanStdOf(s summary.Sample, synthetic bool) string {
	if !synthetic || s.N == 0 {
		return meanStd(s)
	}
	if s.N == 1 {
		return value(s.Mean, true)
	}
	return value(s.Mean, true) + " ± " + value(s.Std, true)
}

// value formats an objective value: an accuracy in percent, or for a
// synthetic function the value itself.
func value(v float64, synthetic bool) string {
	if synthetic {
		if math.IsNaN(v) {
			return dash
		}
		return strconv.FormatFloat(v, 'g', 5, 64)
	}
	return pct(v)
}

// weight formats a goal weight: "+0.331", "-0.994", "0".
func weight(w float64) string {
	if w == 0 {
		return "0"
	}
	return strconv.FormatFloat(w, 'f', 3, 64)
}

// bits formats a PID atom in bits.
func bits(v float64) string {
	if math.IsNaN(v) {
		return dash
	}
	return strconv.FormatFloat(v, 'f', 4, 64)
}

// pvalue formats a p-value: three decimals, "< 0.001" below that, a dash
// when undefined.
func pvalue(p float64) string {
	switch {
	case math.IsNaN(p):
		return dash
	case p < 0.001:
		return "< 0.001"
	}
	return strconv.FormatFloat(p, 'f', 3, 64)
}

// duration formats a wall time to the second, as hours and minutes when
// long.
func duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%ds", int(d.Seconds()))
}

// stamp formats a stored timestamp, in UTC.
func stamp(t time.Time) string {
	if t.IsZero() {
		return dash
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// plural returns "1 trial" or "3 trials".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
