//go:build !linux

package trainer

// peakRSSMB is not measured off Linux (getrusage's units differ).
func peakRSSMB() (float64, bool) { return 0, false }
