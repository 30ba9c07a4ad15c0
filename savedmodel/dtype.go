package savedmodel

import (
	"fmt"
	"strings"

	"github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
)

// DataType is TensorFlow's DataType enum (tensorflow/core/framework/types.proto), with the same
// numeric values, so it converts losslessly to and from the protos and the C API.
type DataType int32

// The data types a FaceNet-style model uses; every other enum value works too, these are only
// named for convenience.
const (
	DTInvalid DataType = DataType(types_go_proto.DataType_DT_INVALID)
	DTFloat   DataType = DataType(types_go_proto.DataType_DT_FLOAT)
	DTDouble  DataType = DataType(types_go_proto.DataType_DT_DOUBLE)
	DTInt32   DataType = DataType(types_go_proto.DataType_DT_INT32)
	DTUint8   DataType = DataType(types_go_proto.DataType_DT_UINT8)
	DTString  DataType = DataType(types_go_proto.DataType_DT_STRING)
	DTInt64   DataType = DataType(types_go_proto.DataType_DT_INT64)
	DTBool    DataType = DataType(types_go_proto.DataType_DT_BOOL)
	DTHalf    DataType = DataType(types_go_proto.DataType_DT_HALF)
)

// String returns the enum name as TensorFlow spells it ("DT_FLOAT"), which is also what
// saved_model_cli prints. Values the enum does not define print as "DataType(n)".
func (d DataType) String() string {
	if name, ok := types_go_proto.DataType_name[int32(d)]; ok {
		return name
	}
	return fmt.Sprintf("DataType(%d)", int32(d))
}

// PythonName returns the name tf.DType uses for d ("float32" for DT_FLOAT, "float16" for DT_HALF,
// "int32_ref" for DT_INT32_REF), as Python prints it in TensorSpec reprs. Values without a Python
// name (DT_INVALID, unknown numbers) fall back to String.
func (d DataType) PythonName() string {
	name, ok := types_go_proto.DataType_name[int32(d)]
	if !ok || d == DTInvalid {
		return d.String()
	}
	base, ref := strings.CutSuffix(strings.TrimPrefix(name, "DT_"), "_REF")
	// Only the three floating types are renamed by tf.dtypes; the rest are the lower-cased enum.
	switch base {
	case "HALF":
		base = "float16"
	case "FLOAT":
		base = "float32"
	case "DOUBLE":
		base = "float64"
	default:
		base = strings.ToLower(base)
	}
	if ref {
		base += "_ref"
	}
	return base
}

// MarshalText makes DataType appear as "DT_FLOAT" in JSON rather than as a number.
func (d DataType) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText accepts the enum names MarshalText writes, so JSON reports read back.
func (d *DataType) UnmarshalText(text []byte) error {
	v, ok := types_go_proto.DataType_value[string(text)]
	if !ok {
		return fmt.Errorf("unknown TensorFlow data type %q", text)
	}
	*d = DataType(v)
	return nil
}
