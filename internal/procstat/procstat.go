// Package procstat reads this process's memory figures from Linux's /proc/self/status, for the
// benchmarks, soak runs and tests that measure resident memory.
package procstat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// SelfKiB returns a "Name:   1234 kB" field of /proc/self/status in KiB: "VmRSS" is the resident
// set now, "VmHWM" its peak.
func SelfKiB(name string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	v, err := ParseKiB(f, name)
	if err != nil {
		return 0, fmt.Errorf("/proc/self/status: %w", err)
	}
	return v, nil
}

// ParseKiB returns the value of a "Name:   1234 kB" line of a /proc/<pid>/status file.
func ParseKiB(r io.Reader, name string) (int64, error) {
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
