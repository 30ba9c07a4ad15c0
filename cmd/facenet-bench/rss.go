package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
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
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, fmt.Errorf("peak rss: %w", err)
	}
	defer f.Close()
	v, err := statusField(f, "VmHWM")
	if err != nil {
		return 0, fmt.Errorf("peak rss: /proc/self/status: %w", err)
	}
	return v, nil
}

// statusField returns the value in kB of a "Name:   1234 kB" line of a /proc/<pid>/status file.
func statusField(r io.Reader, name string) (int64, error) {
	s := bufio.NewScanner(r)
	for s.Scan() {
		rest, ok := strings.CutPrefix(s.Text(), name+":")
		if !ok {
			continue
		}
		num, ok := strings.CutSuffix(strings.TrimSpace(rest), " kB")
		if !ok {
			return 0, fmt.Errorf("%s: %q is not in kB", name, strings.TrimSpace(rest))
		}
		v, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", name, err)
		}
		return v, nil
	}
	if err := s.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no " + name + " line")
}
