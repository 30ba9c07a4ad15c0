package smcli

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/facenet-go/facenet/internal/pyfloat"
	"github.com/facenet-go/facenet/savedmodel"
)

// This file reproduces the str() and repr() that saved_model_cli applies to Python values, so
// that the text matches byte for byte.

// pyQuote is Python's repr of a str: single quotes unless the text holds a single quote and no
// double quote, backslash escapes for the quote, backslash, \t \n \r and anything not printable.
func pyQuote(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			// Not UTF-8: Python could not have decoded it; show the byte rather than guess.
			fmt.Fprintf(&b, `\x%02x`, s[i])
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x80 && (r < 0x20 || r == 0x7f):
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80 || unicode.IsPrint(r):
			// unicode.IsPrint is Python's str.isprintable rule: letters, marks, numbers,
			// punctuation, symbols and the ASCII space.
			b.WriteRune(r)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x10000:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
	}
	b.WriteByte(quote)
	return b.String()
}

// pyFloat is Python's repr of a float: the shortest digits that round-trip, in positional form
// when the decimal exponent is in [-4, 16), otherwise as 1e-05 / 1.5e+16; always with a ".0" or
// an exponent so it reads back as a float.
func pyFloat(f float64) string { return pyfloat.Repr(f, 64) }

// pyTypeName is type(value).__name__ of the decoded value.
func pyTypeName(v savedmodel.Value) string {
	switch v.Kind {
	case savedmodel.KindNone:
		return "NoneType"
	case savedmodel.KindBool:
		return "bool"
	case savedmodel.KindInt:
		return "int"
	case savedmodel.KindFloat:
		return "float"
	case savedmodel.KindString:
		return "str"
	case savedmodel.KindTensorSpec:
		if v.Spec.Bounded {
			return "BoundedTensorSpec"
		}
		return "TensorSpec"
	case savedmodel.KindDType:
		return "DType"
	case savedmodel.KindShape:
		return "TensorShape"
	case savedmodel.KindList:
		return "list"
	case savedmodel.KindTuple:
		return "tuple"
	case savedmodel.KindDict:
		return "dict"
	case savedmodel.KindNamedTuple, savedmodel.KindTypeSpec:
		return v.Str
	default:
		return "Tensor"
	}
}

// pyStr is str(value).
func pyStr(v savedmodel.Value) string {
	switch v.Kind {
	case savedmodel.KindString:
		return v.Str
	case savedmodel.KindDType:
		return "<dtype: " + pyQuote(v.DType.PythonName()) + ">"
	case savedmodel.KindShape:
		return shapeStr(v.Shape, v.UnknownRank)
	}
	return pyRepr(v)
}

// pyRepr is repr(value), which is also how containers print their items.
func pyRepr(v savedmodel.Value) string {
	switch v.Kind {
	case savedmodel.KindNone:
		return "None"
	case savedmodel.KindBool:
		if v.Bool {
			return "True"
		}
		return "False"
	case savedmodel.KindInt:
		return strconv.FormatInt(v.Int, 10)
	case savedmodel.KindFloat:
		return pyFloat(v.Float)
	case savedmodel.KindString:
		return pyQuote(v.Str)
	case savedmodel.KindTensorSpec:
		return specRepr(v.Spec)
	case savedmodel.KindDType:
		return "tf." + v.DType.PythonName()
	case savedmodel.KindShape:
		if v.UnknownRank {
			return "TensorShape(None)"
		}
		return "TensorShape([" + strings.Join(dimStrs(v.Shape), ", ") + "])"
	case savedmodel.KindList:
		return "[" + joinRepr(v.Items, false) + "]"
	case savedmodel.KindTuple:
		if len(v.Items) == 1 {
			return "(" + pyRepr(v.Items[0]) + ",)"
		}
		return "(" + joinRepr(v.Items, false) + ")"
	case savedmodel.KindDict:
		return "{" + joinRepr(v.Items, true) + "}"
	case savedmodel.KindNamedTuple:
		fields := make([]string, len(v.Items))
		for i, it := range v.Items {
			fields[i] = it.Key + "=" + pyRepr(it)
		}
		return v.Str + "(" + strings.Join(fields, ", ") + ")"
	case savedmodel.KindTypeSpec:
		return v.Str + "(...)"
	default:
		return "<tensor>"
	}
}

func joinRepr(items []savedmodel.Value, withKeys bool) string {
	parts := make([]string, len(items))
	for i, it := range items {
		parts[i] = pyRepr(it)
		if withKeys {
			parts[i] = pyQuote(it.Key) + ": " + parts[i]
		}
	}
	return strings.Join(parts, ", ")
}

// specRepr is TensorSpec.__repr__.
func specRepr(s *savedmodel.TensorSpec) string {
	kind := "TensorSpec"
	if s.Bounded {
		kind = "BoundedTensorSpec"
	}
	return fmt.Sprintf("%s(shape=%s, dtype=tf.%s, name=%s)", kind, shapeStr(s.Shape, s.UnknownRank), s.DType.PythonName(), specName(s))
}

// specName is repr(spec.name): the decoder turns an empty name into None.
func specName(s *savedmodel.TensorSpec) string {
	if s.Name == "" {
		return "None"
	}
	return pyQuote(s.Name)
}

// shapeStr is str(tf.TensorShape): "<unknown>", "()", "(3,)", "(None, 3)".
func shapeStr(shape []int64, unknownRank bool) string {
	if unknownRank {
		return "<unknown>"
	}
	dims := dimStrs(shape)
	if len(dims) == 1 {
		return "(" + dims[0] + ",)"
	}
	return "(" + strings.Join(dims, ", ") + ")"
}

func dimStrs(shape []int64) []string {
	dims := make([]string, len(shape))
	for i, d := range shape {
		if d < 0 {
			dims[i] = "None"
		} else {
			dims[i] = strconv.FormatInt(d, 10)
		}
	}
	return dims
}
