package main

import (
	"fmt"
	"syscall"

	"github.com/facenet-go/facenet/internal/procstat"
)

// cpuSeconds returns the user+system CPU time this process has used, all threads included
// (TensorFlow's pools as well as Go's); 0 if the kernel will not say.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// peakRSSKiB returns this process's peak resident set size (VmHWM) in KiB. The parent's wait4
// ru_maxrss is the number the comparison uses; this one lets a run be read on its own.
func peakRSSKiB() (int64, error) {
	v, err := procstat.SelfKiB("VmHWM")
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	return v, nil
}
