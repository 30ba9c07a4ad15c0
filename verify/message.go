package verify

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// The notebook's printed sentences, kept in one place so the CLI and the library cannot drift.
// The capitalisation differs between verify ("It's") and who_is_it ("it's") in the notebook,
// and is kept.
const (
	msgWelcome  = "It's %s, welcome in!"
	msgGoAway   = "It's not %s, please go away"
	msgIdentity = "it's %s, the distance is %s"
	msgUnknown  = "Not in the database."
)

// VerifyMessage is the sentence the notebook's verify prints for a decision on identity.
func VerifyMessage(identity string, accepted bool) string {
	if accepted {
		return fmt.Sprintf(msgWelcome, identity)
	}
	return fmt.Sprintf(msgGoAway, identity)
}

// WhoIsItMessage is the sentence the notebook's who_is_it prints: the identity and its distance
// formatted as Python prints a numpy float32, or "Not in the database." when unknown.
func WhoIsItMessage(identity string, distance float32, known bool) string {
	if !known {
		return msgUnknown
	}
	return fmt.Sprintf(msgIdentity, identity, FormatFloat32(distance))
}

// FormatFloat32 formats f as Python's str() of a numpy float32 scalar (numpy >= 1.14):
// the shortest decimal that round-trips through float32, positional when 1e-4 <= |f| < 1e16
// or f is zero ("0.5992949", "1.0", "0.0", "123456790.0"), scientific otherwise with at
// least two exponent digits ("1e-05", "1.5e-05", "1e+16"); "nan", "inf", "-inf".
func FormatFloat32(f float32) string {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return "nan"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	}
	// Shortest round-trip digits for a float32, as numpy's Dragon4 in "unique" mode.
	e := strconv.FormatFloat(v, 'e', -1, 32) // e.g. "-1.2345e-07"
	neg := strings.HasPrefix(e, "-")
	e = strings.TrimPrefix(e, "-")
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	digits := strings.Replace(mant, ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	abs := math.Abs(v)
	if abs == 0 || (abs >= 1e-4 && abs < 1e16) {
		return sign + positional(digits, exp)
	}
	// Scientific: numpy trims a lone trailing "." ("1e-05"), keeps the digits otherwise.
	out := digits[:1]
	if len(digits) > 1 {
		out += "." + digits[1:]
	}
	es := "+"
	if exp < 0 {
		es = "-"
		exp = -exp
	}
	x := strconv.Itoa(exp)
	if len(x) < 2 {
		x = "0" + x
	}
	return sign + out + "e" + es + x
}

// positional writes digits d1d2d3... × 10^exp (d1 is the units digit when exp = 0) with at
// least one digit after the point, as numpy keeps one zero ("1.0").
func positional(digits string, exp int) string {
	var intPart, frac string
	switch {
	case exp < 0:
		intPart = "0"
		frac = strings.Repeat("0", -exp-1) + digits
	case exp+1 >= len(digits):
		intPart = digits + strings.Repeat("0", exp+1-len(digits))
	default:
		intPart = digits[:exp+1]
		frac = digits[exp+1:]
	}
	if frac == "" {
		frac = "0"
	}
	return intPart + "." + frac
}
