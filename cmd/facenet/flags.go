package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"strconv"
)

// Numeric flags check their value when it is parsed, so a value that cannot be used is a usage
// error naming the flag ("invalid value "-1" for flag -threshold: ..."), never replaced by a
// default: `verify --threshold -1` used to fall back to the profile's 0.7 and answer "welcome in".

// thresholdFlag is --threshold: unset means the model profile's; a value given must be a finite
// number > 0 (a distance is >= 0, so 0, -0 or less would refuse everyone, NaN compares false with
// everything and +Inf accepts everyone).
type thresholdFlag struct {
	v   float64
	set bool
}

func (f *thresholdFlag) String() string {
	if f == nil || !f.set {
		return ""
	}
	return strconv.FormatFloat(f.v, 'g', -1, 64)
}

func (f *thresholdFlag) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return errors.New("not a number")
	}
	if math.IsNaN(v) || math.IsInf(v, 0) || !(v > 0) {
		return errors.New("must be a finite number > 0")
	}
	f.v, f.set = v, true
	return nil
}

// value returns the threshold given, or def when none was.
func (f *thresholdFlag) value(def float64) float64 {
	if f.set {
		return f.v
	}
	return def
}

// boundedInt is an int flag with a smallest allowed value.
type boundedInt struct {
	v, min int
}

func (f *boundedInt) String() string {
	if f == nil {
		return "0"
	}
	return strconv.Itoa(f.v)
}

func (f *boundedInt) Set(s string) error {
	v, err := strconv.Atoi(s)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return errors.New("out of range")
		}
		return errors.New("not an integer")
	}
	if v < f.min {
		return fmt.Errorf("must be at least %d", f.min)
	}
	f.v = v
	return nil
}

// intFlag defines an int flag on fs whose values below min are refused when parsed.
func intFlag(fs *flag.FlagSet, name string, def, min int, usage string) *int {
	f := &boundedInt{v: def, min: min}
	fs.Var(f, name, usage)
	return &f.v
}
