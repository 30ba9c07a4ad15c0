package savedmodel

import (
	"slices"

	"github.com/wamuir/graft/tensorflow/core/framework/function_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/graph_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/node_def_go_proto"
)

// opsUsed follows tensorflow.python.framework.meta_graph.ops_used_by_graph_def, which
// saved_model_cli prints: the op types of the graph's nodes, plus those of every library function
// reached through a node whose op is that function's name or through the "f" attribute of a
// (Stateful)PartitionedCall. Functions reached only by other attributes (While bodies, If
// branches) are not followed: Python does not follow them either, and the goal is the same set.
func opsUsed(g *graph_go_proto.GraphDef) []string {
	funcs := map[string]*function_go_proto.FunctionDef{}
	for _, f := range g.GetLibrary().GetFunction() {
		funcs[f.GetSignature().GetName()] = f
	}
	used := map[string]bool{}
	var pending []*function_go_proto.FunctionDef
	mark := func(op string) {
		if f, ok := funcs[op]; ok && !used[op] {
			pending = append(pending, f)
		}
		used[op] = true
	}
	visit := func(n *node_def_go_proto.NodeDef) {
		mark(n.GetOp())
		if n.GetOp() == "PartitionedCall" || n.GetOp() == "StatefulPartitionedCall" {
			// Python reads node.attr["f"].func.name, which is "" when the attribute is missing or
			// not a function, and "" then lands in the set; keep that quirk for an identical set.
			mark(n.GetAttr()["f"].GetFunc().GetName())
		}
	}
	for _, n := range g.GetNode() {
		visit(n)
	}
	for len(pending) > 0 {
		f := pending[len(pending)-1]
		pending = pending[:len(pending)-1]
		for _, n := range f.GetNodeDef() {
			visit(n)
		}
	}
	ops := make([]string, 0, len(used))
	for op := range used {
		if _, isFunc := funcs[op]; !isFunc {
			ops = append(ops, op)
		}
	}
	slices.Sort(ops)
	return ops
}
