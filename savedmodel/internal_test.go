package savedmodel

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/wamuir/graft/tensorflow/core/framework/attr_value_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/op_def_go_proto"
)

func TestSplitTensorName(t *testing.T) {
	tests := []struct {
		name, op string
		index    int
	}{
		{"serving_default_input_1:0", "serving_default_input_1", 0},
		{"StatefulPartitionedCall:12", "StatefulPartitionedCall", 12},
		{"a:b:3", "a:b", 3},
		{"NoOp", "NoOp", 0},
		{"op:", "op:", 0},
		{"op:+1", "op:+1", 0},
		{"op:-1", "op:-1", 0},
		{"op:x", "op:x", 0},
		{"op:99999999999999999999999", "op:99999999999999999999999", 0},
		{"", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, index := splitTensorName(tt.name)
			require.Equal(t, tt.op, op)
			require.Equal(t, tt.index, index)
		})
	}
}

func node(op string, attrs map[string]*attr_value_go_proto.AttrValue) *node_def_go_proto.NodeDef {
	return &node_def_go_proto.NodeDef{Op: op, Attr: attrs}
}

func fn(name string, nodes ...*node_def_go_proto.NodeDef) *function_go_proto.FunctionDef {
	return &function_go_proto.FunctionDef{Signature: &op_def_go_proto.OpDef{Name: name}, NodeDef: nodes}
}

func callF(name string) map[string]*attr_value_go_proto.AttrValue {
	return map[string]*attr_value_go_proto.AttrValue{"f": {Value: &attr_value_go_proto.AttrValue_Func{Func: &attr_value_go_proto.NameAttrList{Name: name}}}}
}

// TestOpsUsed follows ops_used_by_graph_def case by case: calls by op name and through the "f"
// of a PartitionedCall are followed, other function attributes are not, function names are not
// ops, and a PartitionedCall without "f" contributes "" (Python reads attr["f"].func.name).
func TestOpsUsed(t *testing.T) {
	g := &graph_go_proto.GraphDef{
		Node: []*node_def_go_proto.NodeDef{
			node("Placeholder", nil),
			node("StatefulPartitionedCall", callF("outer")),
			node("direct", nil),
			node("While", map[string]*attr_value_go_proto.AttrValue{"body": callF("loop")["f"]}),
			node("PartitionedCall", nil),
		},
		Library: &function_go_proto.FunctionDefLibrary{Function: []*function_go_proto.FunctionDef{
			fn("outer", node("MatMul", nil), node("PartitionedCall", callF("inner"))),
			fn("inner", node("Relu", nil), node("outer", nil)),
			fn("direct", node("Add", nil)),
			fn("loop", node("NotFollowed", nil)),
			fn("unused", node("NeverSeen", nil)),
		}},
	}
	require.Equal(t, []string{"", "Add", "MatMul", "PartitionedCall", "Placeholder", "Relu", "StatefulPartitionedCall", "While"}, opsUsed(g))
	require.Empty(t, opsUsed(nil))
}

// TestLoadOrder reproduces _sort_function_defs by hand: ready functions seeded in library order
// and popped from the end; a function becomes ready when everything it calls is loaded.
func TestLoadOrder(t *testing.T) {
	lib := &function_go_proto.FunctionDefLibrary{Function: []*function_go_proto.FunctionDef{
		fn("a", node("c", nil)),
		fn("b"),
		fn("c"),
		fn("d", node("PartitionedCall", callF("b"))),
	}}
	// ready = [b, c]; pop c (a becomes ready: [b, a]); pop a; pop b (d ready); pop d.
	require.Equal(t, functionOrder{"c": 0, "a": 1, "b": 2, "d": 3}, loadOrder(lib))
	require.Equal(t, 4, loadOrder(lib).pos("missing"))
}
