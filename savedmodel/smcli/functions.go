package smcli

import (
	"fmt"
	"io"

	"github.com/facenet-go/facenet/savedmodel"
)

// writeFunctions is _show_defined_functions. Python loads the model with tf.saved_model.load and
// walks the root object's functions; here the same facts come from the object graph:
//
//   - the functions are the root's children that are tf.functions or concrete functions, by name;
//   - their traces are ordered as the loader registers them (savedmodel.Function.Concrete), which
//     is Python's order unless the loader's new function numbers cross a power of ten;
//   - arguments print as Python prints the decoded signature, including its quirks ("\b\b]"
//     closing a list, dict kwargs listed by key only).
//
// Python prints " N/A (could not be listed due to ...)" when loading fails. The one failure known
// without TensorFlow is a SavedModel with several MetaGraphs, which load() refuses without tags;
// unregistered custom ops and other load failures cannot be detected here.
func writeFunctions(w io.Writer, m *savedmodel.Model) {
	hasObjectGraph := false
	for _, mg := range m.MetaGraphs {
		hasObjectGraph = hasObjectGraph || mg.HasObjectGraph
	}
	if !hasObjectGraph {
		return
	}
	// print('\nConcrete Functions:', end=''): each function starts with a newline of its own.
	fmt.Fprint(w, "\nConcrete Functions:")
	if len(m.MetaGraphs) != 1 {
		fmt.Fprintln(w, " N/A (could not be listed due to unknown reasons)")
		return
	}
	for _, fn := range m.MetaGraphs[0].Functions {
		fmt.Fprintf(w, "\n  Function Name: '%s'\n", fn.Name)
		for i, cf := range fn.Concrete {
			args, kwargs := cf.Args, cf.Kwargs
			if !cf.HasSignature {
				// A concrete function without a stored signature falls back to its argument names.
				args, kwargs = nil, nil
				for _, k := range cf.ArgKeywords {
					args = append(args, savedmodel.Value{Kind: savedmodel.KindString, Str: k})
				}
			}
			if len(args) > 0 {
				fmt.Fprintf(w, "    Option #%d\n      Callable with:\n", i+1)
				writeArgs(w, args, "Argument")
			}
			if len(kwargs) > 0 {
				// Python enumerates the kwargs dict, which yields its keys: only names print.
				keys := make([]savedmodel.Value, len(kwargs))
				for j, kw := range kwargs {
					keys[j] = savedmodel.Value{Kind: savedmodel.KindString, Str: kw.Key}
				}
				writeArgs(w, keys, "Named Argument")
			}
		}
	}
}

// writeArgs is _print_args with indent=4, the only indent saved_model_cli uses.
func writeArgs(w io.Writer, args []savedmodel.Value, argType string) {
	const in = "        "
	for i, a := range args {
		fmt.Fprintf(w, "%s%s #%d\n", in, argType, i+1)
		switch a.Kind {
		case savedmodel.KindString:
			fmt.Fprintf(w, "%s  %s\n", in, a.Str)
		case savedmodel.KindTensorSpec:
			name := a.Spec.Name
			if name == "" {
				name = "None"
			}
			fmt.Fprintf(w, "%s  %s: %s\n", in, name, specRepr(a.Spec))
		case savedmodel.KindList, savedmodel.KindTuple, savedmodel.KindNamedTuple, savedmodel.KindShape:
			// Any iterable but a dict: each item then ", ", and two backspaces to "erase" the last
			// separator on a terminal (the bytes stay in the output).
			fmt.Fprintf(w, "%s  DType: %s\n%s  Value: [", in, pyTypeName(a), in)
			for _, item := range iterItems(a) {
				fmt.Fprintf(w, "%s, ", quotedStr(item))
			}
			fmt.Fprint(w, "\b\b]\n")
		case savedmodel.KindDict:
			fmt.Fprintf(w, "%s  DType: dict\n%s  Value: {", in, in)
			for _, item := range a.Items {
				fmt.Fprintf(w, "'%s': %s, ", item.Key, quotedStr(item))
			}
			fmt.Fprint(w, "\b\b}\n")
		default:
			fmt.Fprintf(w, "%s  DType: %s\n%s  Value: %s\n", in, pyTypeName(a), in, pyStr(a))
		}
	}
}

// iterItems is what iterating the Python value yields.
func iterItems(v savedmodel.Value) []savedmodel.Value {
	if v.Kind != savedmodel.KindShape {
		return v.Items
	}
	items := make([]savedmodel.Value, len(v.Shape))
	for i, d := range v.Shape {
		items[i] = savedmodel.Value{Kind: savedmodel.KindInt, Int: d}
		if d < 0 {
			items[i] = savedmodel.Value{Kind: savedmodel.KindNone}
		}
	}
	return items
}

// quotedStr is _maybe_add_quotes: str(value), wrapped in single quotes (not escaped) for strings.
func quotedStr(v savedmodel.Value) string {
	if v.Kind == savedmodel.KindString {
		return "'" + v.Str + "'"
	}
	return pyStr(v)
}
