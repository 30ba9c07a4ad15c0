// Package smcli prints a savedmodel.Model exactly as TensorFlow's `saved_model_cli show` prints
// it (tensorflow/python/tools/saved_model_cli.py, TF 2.18), so that the facenet CLI can replace
// the Python tool without changing what people read or what scripts parse.
//
// Two parts cannot be byte-identical and are documented where they are written: the op list of
// --all / --list_ops, which Python prints as a set in hash order (random per process; here sorted),
// and the "Concrete Functions" section, which Python builds by loading the model with TensorFlow
// (here it is rebuilt from the object graph; see writeFunctions).
package smcli

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/facenet-go/facenet/savedmodel"
)

// Options are the flags of `saved_model_cli show`. A nil TagSet or SignatureDef means the flag was
// not given, which is not the same as an empty value: --tag_set "" selects the empty tag set.
type Options struct {
	TagSet       *string // comma-separated tags, as --tag_set takes them
	SignatureDef *string // a signature key
	All          bool    // --all: everything, ignoring the other options
	ListOps      bool    // --list_ops: the ops of the MetaGraph chosen by TagSet
}

// Show writes what `saved_model_cli show --dir DIR` writes for opts, following its show():
// --all wins; without a tag set it lists the tag sets; with one it lists signature keys, or one
// signature's inputs and outputs when SignatureDef is set too. Errors wrap
// savedmodel.ErrTagSetNotFound or savedmodel.ErrSignatureNotFound; text printed before the error
// (with --list_ops) stays written, as in Python.
func Show(w io.Writer, m *savedmodel.Model, opts Options) error {
	bw := bufio.NewWriter(w)
	err := show(bw, m, opts)
	if ferr := bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("write: %w", ferr)
	}
	return err
}

func show(w *bufio.Writer, m *savedmodel.Model, opts Options) error {
	if opts.All {
		writeAll(w, m)
		return nil
	}
	if opts.TagSet == nil {
		if opts.ListOps {
			fmt.Fprintln(w, "--list_ops must be paired with a tag-set or with --all.")
		}
		writeTagSets(w, m)
		return nil
	}
	mg, err := m.MetaGraphForTags(strings.Split(*opts.TagSet, ","))
	if err != nil {
		return err
	}
	if opts.ListOps {
		writeOps(w, mg)
	}
	if opts.SignatureDef == nil {
		writeSignatureKeys(w, mg)
		return nil
	}
	sig, err := mg.Signature(*opts.SignatureDef)
	if err != nil {
		return err
	}
	writeInputsOutputs(w, sig, 0)
	return nil
}

// writeTagSets is _show_tag_sets: each tag set sorted and joined, the sets sorted as lists.
func writeTagSets(w io.Writer, m *savedmodel.Model) {
	sets := m.TagSets()
	slices.SortFunc(sets, slices.Compare[[]string])
	fmt.Fprintln(w, "The given SavedModel contains the following tag-sets:")
	for _, set := range sets {
		slices.Sort(set)
		fmt.Fprintln(w, pyQuote(strings.Join(set, ", ")))
	}
}

func writeSignatureKeys(w io.Writer, mg *savedmodel.MetaGraph) {
	fmt.Fprintln(w, "The given SavedModel MetaGraphDef contains SignatureDefs with the following keys:")
	for _, s := range mg.Signatures {
		fmt.Fprintf(w, "SignatureDef key: \"%s\"\n", s.Key)
	}
}

// writeInputsOutputs is _show_inputs_outputs_mgd; indent counts steps of two spaces.
func writeInputsOutputs(w io.Writer, sig *savedmodel.Signature, indent int) {
	in := strings.Repeat("  ", indent)
	fmt.Fprintf(w, "%sThe given SavedModel SignatureDef contains the following input(s):\n", in)
	for _, t := range sig.Inputs {
		fmt.Fprintf(w, "%s  inputs['%s'] tensor_info:\n", in, t.Key)
		writeTensorInfo(w, t, indent+1)
	}
	fmt.Fprintf(w, "%sThe given SavedModel SignatureDef contains the following output(s):\n", in)
	for _, t := range sig.Outputs {
		fmt.Fprintf(w, "%s  outputs['%s'] tensor_info:\n", in, t.Key)
		writeTensorInfo(w, t, indent+1)
	}
	fmt.Fprintf(w, "%sMethod name is: %s\n", in, sig.MethodName)
}

// writeTensorInfo is _print_tensor_info. The shape is the dims joined inside parentheses, not a
// Python tuple: one dimension prints as "(3)".
func writeTensorInfo(w io.Writer, t savedmodel.Tensor, indent int) {
	in := strings.Repeat("  ", indent)
	shape := "unknown_rank"
	if !t.UnknownRank {
		dims := make([]string, len(t.Shape))
		for i, d := range t.Shape {
			dims[i] = fmt.Sprint(d)
		}
		shape = "(" + strings.Join(dims, ", ") + ")"
	}
	fmt.Fprintf(w, "%s    dtype: %s\n%s    shape: %s\n%s    name: %s\n", in, t.DType, in, shape, in, t.Name)
}

// writeOps is _show_ops_in_metagraph_mgd. Python prints a set, whose order changes from run to
// run with string hash randomisation; sorted is the one order that is reproducible.
func writeOps(w io.Writer, mg *savedmodel.MetaGraph) {
	tags := make([]string, len(mg.Tags))
	for i, t := range mg.Tags {
		tags[i] = pyQuote(t)
	}
	set := "set()"
	if len(mg.Ops) > 0 {
		ops := make([]string, len(mg.Ops))
		for i, op := range mg.Ops {
			ops[i] = pyQuote(op)
		}
		set = "{" + strings.Join(ops, ", ") + "}"
	}
	fmt.Fprintf(w, "The MetaGraph with tag set [%s] contains the following ops: %s\n", strings.Join(tags, ", "), set)
}

// writeAll is _show_all: every MetaGraph (sorted by its tag list as stored), every signature,
// the ops, then the functions.
func writeAll(w io.Writer, m *savedmodel.Model) {
	mgs := make([]*savedmodel.MetaGraph, len(m.MetaGraphs))
	for i := range m.MetaGraphs {
		mgs[i] = &m.MetaGraphs[i]
	}
	slices.SortStableFunc(mgs, func(a, b *savedmodel.MetaGraph) int { return slices.Compare(a.Tags, b.Tags) })
	for _, mg := range mgs {
		fmt.Fprintf(w, "\nMetaGraphDef with tag-set: '%s' contains the following SignatureDefs:\n", strings.Join(mg.Tags, ", "))
		for i := range mg.Signatures {
			fmt.Fprintf(w, "\nsignature_def['%s']:\n", mg.Signatures[i].Key)
			writeInputsOutputs(w, &mg.Signatures[i], 1)
		}
		writeOps(w, mg)
	}
	writeFunctions(w, m)
}
