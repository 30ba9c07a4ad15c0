package savedmodel

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
)

// Function is a tf.function or a bare concrete function that a TF2 SavedModel's root object
// exposes as an attribute (Keras 3 export's "serve", a tf.Module's methods).
type Function struct {
	Name string `json:"name"` // the attribute name on the root object
	// Bare is true for a ConcreteFunction attached directly (not through a tf.function).
	Bare bool `json:"bare,omitempty"`
	// Concrete are the traces, in the order in which TensorFlow's loader registers them, which
	// is the order saved_model_cli lists them in as long as the new names it gives them have the
	// same number of digits (see ConcreteFunction.Name).
	Concrete []ConcreteFunction `json:"concrete"`
}

// ConcreteFunction is one trace of a Function: a function in the graph's library plus the
// Python-level signature it was traced for.
type ConcreteFunction struct {
	// Name is the library function name as saved ("__inference_serve_62"). TensorFlow renames
	// functions when it loads them, with numbers from a process-wide counter.
	Name string `json:"name"`
	// HasSignature is false when the SavedModel stores no canonicalized input signature for this
	// function; then ArgKeywords (bare functions only) is all that is known.
	HasSignature bool `json:"has_signature"`
	// Args are the positional arguments of the canonicalized input signature.
	Args []Value `json:"args,omitempty"`
	// Kwargs are its keyword-only arguments, sorted by Key.
	Kwargs []Value `json:"kwargs,omitempty"`
	// ArgKeywords are a bare concrete function's argument names.
	ArgKeywords []string `json:"arg_keywords,omitempty"`
}

// ValueKind says which field of a Value is set; the kinds are those of TensorFlow's
// StructuredValue proto, which is how SavedModels store Python call signatures.
type ValueKind int

// The kinds of Value.
const (
	KindNone       ValueKind = iota // Python None
	KindBool                        // Bool
	KindInt                         // Int
	KindFloat                       // Float
	KindString                      // Str
	KindTensorSpec                  // Spec (tf.TensorSpec; also tf.BoundedTensorSpec, with Bounded set)
	KindDType                       // DType (a tf.DType value)
	KindShape                       // Shape and UnknownRank (a tf.TensorShape value)
	KindList                        // Items
	KindTuple                       // Items
	KindDict                        // Items, each with Key, sorted by Key
	KindNamedTuple                  // Str is the type name; Items, each with Key, in field order
	KindTypeSpec                    // Str is the TypeSpec class name (RaggedTensorSpec, ...)
	KindTensor                      // a constant tensor or numpy array; its value is not decoded
)

var kindNames = [...]string{"none", "bool", "int", "float", "string", "tensor_spec", "dtype", "shape",
	"list", "tuple", "dict", "named_tuple", "type_spec", "tensor"}

// String names the kind as JSON reports show it ("tensor_spec").
func (k ValueKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("ValueKind(%d)", int(k))
}

// MarshalText makes JSON show the kind's name rather than a number.
func (k ValueKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads the names MarshalText writes.
func (k *ValueKind) UnmarshalText(text []byte) error {
	for i, name := range kindNames {
		if name == string(text) {
			*k = ValueKind(i)
			return nil
		}
	}
	return fmt.Errorf("unknown value kind %q", text)
}

// Value is a decoded StructuredValue: one Python value in a function's signature.
type Value struct {
	Kind ValueKind `json:"kind"`
	// Key is the dict key or named-tuple field this value is stored under, if any.
	Key         string      `json:"key,omitempty"`
	Bool        bool        `json:"bool,omitempty"`
	Int         int64       `json:"int,omitempty"`
	Float       float64     `json:"float,omitempty"`
	Str         string      `json:"str,omitempty"`
	Spec        *TensorSpec `json:"spec,omitempty"`
	DType       DataType    `json:"dtype,omitempty"`
	Shape       []int64     `json:"shape,omitempty"`
	UnknownRank bool        `json:"unknown_rank,omitempty"`
	Items       []Value     `json:"items,omitempty"`
}

// TensorSpec is a tf.TensorSpec: the type of one tensor argument.
type TensorSpec struct {
	Name        string   `json:"name"`
	DType       DataType `json:"dtype"`
	Shape       []int64  `json:"shape"` // -1 for unknown dimensions, nil when UnknownRank
	UnknownRank bool     `json:"unknown_rank,omitempty"`
	Bounded     bool     `json:"bounded,omitempty"` // a tf.BoundedTensorSpec (bounds not decoded)
}

// rootFunctions lists the function-valued children of the object graph's root (node 0), as
// tf.saved_model.load would attach them.
func rootFunctions(og *pb.SavedObjectGraph, lib *function_go_proto.FunctionDefLibrary) []Function {
	nodes := og.GetNodes()
	if len(nodes) == 0 {
		return nil
	}
	order := loadOrder(lib)
	var fns []Function
	for _, child := range nodes[0].GetChildren() {
		id := int(child.GetNodeId())
		if id < 0 || id >= len(nodes) {
			continue // a dangling reference: the loader would fail, nothing to list
		}
		var fn Function
		var argKeywords []string
		switch kind := nodes[id].GetKind().(type) {
		case *pb.SavedObject_Function:
			fn = Function{Name: child.GetLocalName()}
			for _, name := range kind.Function.GetConcreteFunctions() {
				fn.Concrete = append(fn.Concrete, ConcreteFunction{Name: name})
			}
		case *pb.SavedObject_BareConcreteFunction:
			fn = Function{Name: child.GetLocalName(), Bare: true,
				Concrete: []ConcreteFunction{{Name: kind.BareConcreteFunction.GetConcreteFunctionName()}}}
			argKeywords = kind.BareConcreteFunction.GetArgumentKeywords()
		default:
			continue
		}
		for i := range fn.Concrete {
			cf := &fn.Concrete[i]
			cf.ArgKeywords = slices.Clone(argKeywords)
			sig := og.GetConcreteFunctions()[cf.Name].GetCanonicalizedInputSignature()
			// The canonical form is the 2-tuple (args, kwargs); anything else is not a signature.
			if vals := sig.GetTupleValue().GetValues(); len(vals) == 2 {
				cf.HasSignature = true
				args, kwargs := decodeValue(vals[0]), decodeValue(vals[1])
				cf.Args = args.Items
				cf.Kwargs = kwargs.Items
			}
		}
		slices.SortStableFunc(fn.Concrete, func(a, b ConcreteFunction) int {
			return cmp.Or(cmp.Compare(order.pos(a.Name), order.pos(b.Name)), cmp.Compare(a.Name, b.Name))
		})
		fns = append(fns, fn)
	}
	slices.SortStableFunc(fns, func(a, b Function) int { return cmp.Compare(a.Name, b.Name) })
	return fns
}

// functionOrder maps a library function to its position in the loader's order.
type functionOrder map[string]int

func (o functionOrder) pos(name string) int {
	if p, ok := o[name]; ok {
		return p
	}
	return len(o) // not in the library: after everything that is
}

// loadOrder reproduces the topological order in which tf.saved_model.load imports library
// functions (function_deserialization._sort_function_defs: a stack of ready functions, seeded in
// library order, popped from the end). The loader numbers functions in that order, and
// saved_model_cli sorts traces by those new names.
func loadOrder(lib *function_go_proto.FunctionDefLibrary) functionOrder {
	defs := lib.GetFunction()
	inLib := make(map[string]bool, len(defs))
	for _, f := range defs {
		inLib[f.GetSignature().GetName()] = true
	}
	gradFunc := map[string]string{} // registered gradient op type -> its gradient function
	for _, g := range lib.GetRegisteredGradients() {
		if g.GetRegisteredOpType() != "" {
			gradFunc[g.GetRegisteredOpType()] = g.GetGradientFunc()
		}
	}
	edges := map[string][]string{}
	inCount := map[string]int{}
	for _, f := range defs {
		name := f.GetSignature().GetName()
		for dep := range functionDeps(f, inLib, gradFunc) {
			edges[dep] = append(edges[dep], name)
			inCount[name]++
		}
	}
	var ready []string
	for _, f := range defs {
		if inCount[f.GetSignature().GetName()] == 0 {
			ready = append(ready, f.GetSignature().GetName())
		}
	}
	order := functionOrder{}
	for len(ready) > 0 {
		node := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		if _, seen := order[node]; !seen {
			order[node] = len(order)
		}
		for _, dest := range edges[node] {
			inCount[dest]--
			if inCount[dest] == 0 {
				ready = append(ready, dest)
			}
		}
	}
	return order
}

// functionDeps follows function_deserialization._list_function_deps: functions called by op
// name, through a registered custom gradient, or named in func / list(func) attributes.
func functionDeps(f *function_go_proto.FunctionDef, inLib map[string]bool, gradFunc map[string]string) map[string]bool {
	deps := map[string]bool{}
	for _, n := range f.GetNodeDef() {
		var gradType string
		if g, ok := n.GetAttr()["_gradient_op_type"]; ok && n.GetOp() != "StatefulPartitionedCall" && n.GetOp() != "PartitionedCall" {
			gradType = string(g.GetS())
		}
		switch {
		case inLib[n.GetOp()]:
			deps[n.GetOp()] = true
		case gradType != "" && gradFunc[gradType] != "":
			deps[gradFunc[gradType]] = true
		default:
			for _, a := range n.GetAttr() {
				if fn := a.GetFunc(); fn != nil {
					deps[fn.GetName()] = true
				}
				for _, fn := range a.GetList().GetFunc() {
					deps[fn.GetName()] = true
				}
			}
		}
	}
	return deps
}

// decodeValue follows tensorflow.python.saved_model.nested_structure_coder. An unset value
// decodes as None.
func decodeValue(sv *pb.StructuredValue) Value {
	switch k := sv.GetKind().(type) {
	case *pb.StructuredValue_BoolValue:
		return Value{Kind: KindBool, Bool: k.BoolValue}
	case *pb.StructuredValue_Int64Value:
		return Value{Kind: KindInt, Int: k.Int64Value}
	case *pb.StructuredValue_Float64Value:
		return Value{Kind: KindFloat, Float: k.Float64Value}
	case *pb.StructuredValue_StringValue:
		return Value{Kind: KindString, Str: k.StringValue}
	case *pb.StructuredValue_TensorSpecValue:
		s := k.TensorSpecValue
		shape, unknown := shapeFromProto(s.GetShape())
		return Value{Kind: KindTensorSpec, Spec: &TensorSpec{Name: s.GetName(), DType: DataType(s.GetDtype()), Shape: shape, UnknownRank: unknown}}
	case *pb.StructuredValue_BoundedTensorSpecValue:
		s := k.BoundedTensorSpecValue
		shape, unknown := shapeFromProto(s.GetShape())
		return Value{Kind: KindTensorSpec, Spec: &TensorSpec{Name: s.GetName(), DType: DataType(s.GetDtype()), Shape: shape, UnknownRank: unknown, Bounded: true}}
	case *pb.StructuredValue_TensorDtypeValue:
		return Value{Kind: KindDType, DType: DataType(k.TensorDtypeValue)}
	case *pb.StructuredValue_TensorShapeValue:
		shape, unknown := shapeFromProto(k.TensorShapeValue)
		return Value{Kind: KindShape, Shape: shape, UnknownRank: unknown}
	case *pb.StructuredValue_ListValue:
		return Value{Kind: KindList, Items: decodeValues(k.ListValue.GetValues())}
	case *pb.StructuredValue_TupleValue:
		return Value{Kind: KindTuple, Items: decodeValues(k.TupleValue.GetValues())}
	case *pb.StructuredValue_DictValue:
		v := Value{Kind: KindDict, Items: []Value{}}
		for key, item := range k.DictValue.GetFields() {
			d := decodeValue(item)
			d.Key = key
			v.Items = append(v.Items, d)
		}
		slices.SortFunc(v.Items, func(a, b Value) int { return cmp.Compare(a.Key, b.Key) })
		return v
	case *pb.StructuredValue_NamedTupleValue:
		v := Value{Kind: KindNamedTuple, Str: k.NamedTupleValue.GetName(), Items: []Value{}}
		for _, pair := range k.NamedTupleValue.GetValues() {
			d := decodeValue(pair.GetValue())
			d.Key = pair.GetKey()
			v.Items = append(v.Items, d)
		}
		return v
	case *pb.StructuredValue_TypeSpecValue:
		name := k.TypeSpecValue.GetTypeSpecClassName()
		if name == "" {
			name = k.TypeSpecValue.GetTypeSpecClass().String()
		}
		return Value{Kind: KindTypeSpec, Str: name}
	case *pb.StructuredValue_TensorValue, *pb.StructuredValue_NumpyValue:
		return Value{Kind: KindTensor}
	default:
		return Value{Kind: KindNone}
	}
}

func decodeValues(svs []*pb.StructuredValue) []Value {
	vs := make([]Value, len(svs))
	for i, sv := range svs {
		vs[i] = decodeValue(sv)
	}
	return vs
}
