// Package pyfloat prints floats as Python does, so the CLI's text matches the notebook's and
// saved_model_cli's output character for character. It is written here, not taken from a library,
// because no Go package reproduces CPython's repr and numpy's str: both are the shortest digits
// that round-trip at the value's own precision (strconv gives those), laid out positionally when
// the decimal exponent is in [-4, 16) and in scientific form with a two-digit exponent otherwise.
package pyfloat

import (
	"math"
	"strconv"
	"strings"
)

// Repr is repr(f) in Python for bitSize 64 (a Python float) and str(f) of a numpy float32 scalar
// (numpy >= 1.14) for bitSize 32: "0.5992949", "1.0", "123456790.0", "1e-05", "1.5e+16", "nan",
// "inf", "-inf". The value must be representable at bitSize. The two differ only in where they
// switch layout (see below).
func Repr(f float64, bitSize int) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	mant, expText, _ := strings.Cut(strconv.FormatFloat(f, 'e', -1, bitSize), "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	point := exp + 1 // the digits are 0.d1d2... times 10**point
	// CPython decides the layout from the shortest digits' exponent; numpy from the value itself
	// (1e-4 <= |f| < 1e16), which differs where a float32 just below 1e-4 prints as "1e-04".
	sci := point <= -4 || point > 16
	if bitSize == 32 {
		a := math.Abs(f)
		sci = !(a >= 1e-4 && a < 1e16)
	}
	if f != 0 && sci {
		if len(digits) > 1 {
			digits = digits[:1] + "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		x := strconv.Itoa(exp)
		if len(x) < 2 {
			x = "0" + x
		}
		return sign + digits + "e" + es + x
	}
	switch {
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	default:
		return sign + digits[:point] + "." + digits[point:]
	}
}
