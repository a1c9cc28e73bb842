//go:build linux

package trainer

import "syscall"

// peakRSSMB is the process's peak resident memory so far, in MB.
func peakRSSMB() (float64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return float64(ru.Maxrss) / 1024, true // Maxrss is in kB on Linux
}
