package smcli

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/savedmodel"
)

func TestPyQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"serve", `'serve'`},
		{"it's", `"it's"`},
		{`a"b`, `'a"b'`},
		{`both ' and "`, `'both \' and "'`},
		{"tab\there", `'tab\there'`},
		{"nl\n", `'nl\n'`},
		{`back\slash`, `'back\\slash'`},
		{"\x00\x7f", `'\x00\x7f'`},
		{"é", `'é'`},
		{"\u00a0", `'\xa0'`},
		{"\u200b", `'\u200b'`},
		{"日本", `'日本'`},
		{"\U0001F600", `'😀'`},
		{"\U000e0001", `'\U000e0001'`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			require.Equal(t, tt.want, pyQuote(tt.in))
		})
	}
}

// TestPyValues checks str() and repr() of decoded signature values against Python's
// (tf.TensorSpec, tf.TensorShape and tf.DType reprs of TensorFlow 2.18).
func TestPyValues(t *testing.T) {
	spec := savedmodel.Value{Kind: savedmodel.KindTensorSpec, Spec: &savedmodel.TensorSpec{Name: "x", DType: savedmodel.DTFloat, Shape: []int64{-1, 3}}}
	tests := []struct {
		name      string
		v         savedmodel.Value
		str, repr string
	}{
		{"none", savedmodel.Value{Kind: savedmodel.KindNone}, "None", "None"},
		{"bool", savedmodel.Value{Kind: savedmodel.KindBool, Bool: true}, "True", "True"},
		{"int", savedmodel.Value{Kind: savedmodel.KindInt, Int: -3}, "-3", "-3"},
		{"string", savedmodel.Value{Kind: savedmodel.KindString, Str: "a'b"}, "a'b", `"a'b"`},
		{"spec", spec, "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')", "TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')"},
		{"unnamed scalar spec", savedmodel.Value{Kind: savedmodel.KindTensorSpec, Spec: &savedmodel.TensorSpec{DType: savedmodel.DTInt32, Shape: []int64{}}},
			"TensorSpec(shape=(), dtype=tf.int32, name=None)", "TensorSpec(shape=(), dtype=tf.int32, name=None)"},
		{"unknown rank spec", savedmodel.Value{Kind: savedmodel.KindTensorSpec, Spec: &savedmodel.TensorSpec{Name: "s", DType: savedmodel.DTString, UnknownRank: true}},
			"TensorSpec(shape=<unknown>, dtype=tf.string, name='s')", "TensorSpec(shape=<unknown>, dtype=tf.string, name='s')"},
		{"dtype", savedmodel.Value{Kind: savedmodel.KindDType, DType: savedmodel.DTHalf}, "<dtype: 'float16'>", "tf.float16"},
		{"shape", savedmodel.Value{Kind: savedmodel.KindShape, Shape: []int64{2}}, "(2,)", "TensorShape([2])"},
		{"unknown shape", savedmodel.Value{Kind: savedmodel.KindShape, UnknownRank: true}, "<unknown>", "TensorShape(None)"},
		{"list", savedmodel.Value{Kind: savedmodel.KindList, Items: []savedmodel.Value{{Kind: savedmodel.KindInt, Int: 3}, {Kind: savedmodel.KindString, Str: "z"}, spec}},
			"[3, 'z', TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')]", "[3, 'z', TensorSpec(shape=(None, 3), dtype=tf.float32, name='x')]"},
		{"1-tuple", savedmodel.Value{Kind: savedmodel.KindTuple, Items: []savedmodel.Value{{Kind: savedmodel.KindFloat, Float: 2.5}}}, "(2.5,)", "(2.5,)"},
		{"empty tuple", savedmodel.Value{Kind: savedmodel.KindTuple}, "()", "()"},
		{"dict", savedmodel.Value{Kind: savedmodel.KindDict, Items: []savedmodel.Value{{Key: "a", Kind: savedmodel.KindInt, Int: 1}, {Key: "b", Kind: savedmodel.KindNone}}},
			"{'a': 1, 'b': None}", "{'a': 1, 'b': None}"},
		{"named tuple", savedmodel.Value{Kind: savedmodel.KindNamedTuple, Str: "Point", Items: []savedmodel.Value{{Key: "x", Kind: savedmodel.KindInt, Int: 1}, {Key: "y", Kind: savedmodel.KindString, Str: "q"}}},
			"Point(x=1, y='q')", "Point(x=1, y='q')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.str, pyStr(tt.v))
			require.Equal(t, tt.repr, pyRepr(tt.v))
		})
	}
}
