// Package savedmodel reads TensorFlow SavedModel directories in pure Go (no cgo, no TensorFlow
// library): the tag sets, signatures, ops and functions of every MetaGraph, plus what lies next to
// saved_model.pb (variables, assets, fingerprint, Keras metadata).
//
// It is what a program needs before it loads a model with the TensorFlow runtime: which tag set to
// ask for, which signature to run and the names, dtypes and shapes of its tensors. Errors that a
// caller branches on are sentinels (ErrNotSavedModel, ErrCorrupt, ErrTagSetNotFound,
// ErrSignatureNotFound), always wrapped with the path or key at fault.
package savedmodel

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotSavedModel: the directory is missing, is not a directory, or holds neither
	// saved_model.pb nor saved_model.pbtxt.
	ErrNotSavedModel = errors.New("not a SavedModel")
	// ErrCorrupt: saved_model.pb(txt) is empty, truncated or otherwise not a SavedModel proto.
	ErrCorrupt = errors.New("corrupt SavedModel")
	// ErrTagSetNotFound: no MetaGraph has the requested tag set; the message lists those that exist.
	ErrTagSetNotFound = errors.New("tag set not found")
	// ErrSignatureNotFound: the MetaGraph has no signature with that key; the message lists the keys.
	ErrSignatureNotFound = errors.New("signature not found")
)

// DefaultTag is the tag set Model.MetaGraph uses when given none: the one TensorFlow Serving,
// Keras export and tf.saved_model.save write.
const DefaultTag = "serve"

// Tensor is one input or output of a signature.
type Tensor struct {
	Key  string `json:"key"`  // the signature's key for this tensor, e.g. "input_1"
	Name string `json:"name"` // "op:index" as in the signature, e.g. "serving_default_input_1:0"
	Op   string `json:"op"`   // the operation part of Name, e.g. "serving_default_input_1"
	// Index is the output index part of Name; 0 when Name has no ":index" suffix (as TensorFlow
	// reads it).
	Index int      `json:"index"`
	DType DataType `json:"dtype"`
	// Shape has -1 for unknown dimensions, is empty (not nil) for a scalar and nil when UnknownRank.
	Shape       []int64 `json:"shape"`
	UnknownRank bool    `json:"unknown_rank,omitempty"`
	// Encoding is "name" for a plain tensor, "coo_sparse" or "composite_tensor" for tensors that
	// the signature describes by their components (then Name, Op and Index are empty).
	Encoding string `json:"encoding"`
}

// Signature is a SignatureDef: a named function of the graph with keyed inputs and outputs.
type Signature struct {
	Key        string   `json:"key"`
	MethodName string   `json:"method_name"`
	Inputs     []Tensor `json:"inputs"`  // sorted by Key
	Outputs    []Tensor `json:"outputs"` // sorted by Key
}

// Input returns the input with the given key.
func (s *Signature) Input(key string) (Tensor, bool) { return findTensor(s.Inputs, key) }

// Output returns the output with the given key.
func (s *Signature) Output(key string) (Tensor, bool) { return findTensor(s.Outputs, key) }

func findTensor(ts []Tensor, key string) (Tensor, bool) {
	i, ok := slices.BinarySearchFunc(ts, key, func(t Tensor, k string) int { return strings.Compare(t.Key, k) })
	if !ok {
		return Tensor{}, false
	}
	return ts[i], true
}

// MetaGraph is one MetaGraphDef: a graph with the tag set that selects it and its signatures.
type MetaGraph struct {
	Tags       []string    `json:"tags"`       // as stored (saved_model_cli prints them in this order)
	Signatures []Signature `json:"signatures"` // sorted by Key, as saved_model_cli prints them
	// Ops is the sorted set of op types the graph uses, following calls into the function library
	// the way saved_model_cli --all does (tensorflow.python.framework.meta_graph.ops_used_by_graph_def).
	Ops                  []string `json:"ops,omitempty"`
	TensorFlowVersion    string   `json:"tensorflow_version"`     // meta_info_def.tensorflow_version
	TensorFlowGitVersion string   `json:"tensorflow_git_version"` // meta_info_def.tensorflow_git_version
	// HasObjectGraph tells a TF2 SavedModel (tf.saved_model.save, Keras export) from a TF1 one.
	HasObjectGraph bool `json:"has_object_graph"`
	// Functions are the tf.functions and concrete functions attached to the root object, sorted by
	// Name: what saved_model_cli --all lists under "Concrete Functions". Empty for TF1 models.
	Functions []Function `json:"functions,omitempty"`
}

// Signature returns the signature with the given key; the error wraps ErrSignatureNotFound and
// lists the keys that exist.
func (mg *MetaGraph) Signature(key string) (*Signature, error) {
	i, ok := slices.BinarySearchFunc(mg.Signatures, key, func(s Signature, k string) int { return strings.Compare(s.Key, k) })
	if !ok {
		keys := make([]string, len(mg.Signatures))
		for i, s := range mg.Signatures {
			keys[i] = strconv.Quote(s.Key)
		}
		return nil, fmt.Errorf("%w: %q in tag set %q; available signature keys: %s",
			ErrSignatureNotFound, key, strings.Join(mg.Tags, ","), orNone(keys))
	}
	return &mg.Signatures[i], nil
}

// Fingerprint is fingerprint.pb (TF >= 2.12): hashes that identify a SavedModel's contents.
type Fingerprint struct {
	SavedModelChecksum   uint64 `json:"saved_model_checksum"`
	GraphDefProgramHash  uint64 `json:"graph_def_program_hash"`
	SignatureDefHash     uint64 `json:"signature_def_hash"`
	SavedObjectGraphHash uint64 `json:"saved_object_graph_hash"`
	CheckpointHash       uint64 `json:"checkpoint_hash"`
	// Producer is the fingerprint format version (version.producer).
	Producer int32 `json:"producer"`
}

// Model is a SavedModel: its MetaGraphs plus facts about the files around saved_model.pb.
type Model struct {
	Dir        string      `json:"dir"`
	MetaGraphs []MetaGraph `json:"meta_graphs"` // in file order
	// SchemaVersion is saved_model_schema_version (1 for every SavedModel written so far).
	SchemaVersion int64 `json:"saved_model_schema_version"`
	// KerasVersion comes from keras_metadata.pb (written by Keras 2 / tf-keras model.save); Keras 3
	// export does not record it, and then it is "".
	KerasVersion string `json:"keras_version,omitempty"`
	// Fingerprint is fingerprint.pb when present, nil otherwise.
	Fingerprint *Fingerprint `json:"fingerprint,omitempty"`
	// VariablesBytes is the total size of the files under variables/.
	VariablesBytes int64 `json:"variables_bytes"`
	// Assets are the files under assets/ and assets.extra/, as slash-separated paths relative to Dir
	// ("assets/vocab.txt"), sorted.
	Assets []string `json:"assets,omitempty"`
	// Warnings are problems that do not stop the model from being read but may stop it from being
	// loaded, e.g. "variables/ directory missing".
	Warnings []string `json:"warnings,omitempty"`
}

// TagSets returns each MetaGraph's tags, as stored, in file order.
func (m *Model) TagSets() [][]string {
	sets := make([][]string, len(m.MetaGraphs))
	for i, mg := range m.MetaGraphs {
		sets[i] = slices.Clone(mg.Tags)
	}
	return sets
}

// MetaGraph returns the MetaGraph whose tag set equals the given tags as a set (order and repeats
// do not matter; empty requested tags are ignored, as saved_model_cli ignores them). With no tags it looks for
// {"serve"}; use MetaGraphForTags(nil) for the empty tag set. The error wraps ErrTagSetNotFound and
// lists the tag sets that exist.
func (m *Model) MetaGraph(tags ...string) (*MetaGraph, error) {
	if len(tags) == 0 {
		tags = []string{DefaultTag}
	}
	return m.MetaGraphForTags(tags)
}

// MetaGraphForTags is MetaGraph without the default: an empty tags selects the MetaGraph saved
// with no tags at all.
func (m *Model) MetaGraphForTags(tags []string) (*MetaGraph, error) {
	want := make([]string, 0, len(tags))
	for _, t := range tags {
		if t != "" {
			want = append(want, t)
		}
	}
	want = sortedSet(want)
	for i := range m.MetaGraphs {
		// Stored tags are compared as stored, "" included, as saved_model_utils does.
		if slices.Equal(sortedSet(slices.Clone(m.MetaGraphs[i].Tags)), want) {
			return &m.MetaGraphs[i], nil
		}
	}
	avail := make([]string, len(m.MetaGraphs))
	for i, mg := range m.MetaGraphs {
		avail[i] = strconv.Quote(strings.Join(mg.Tags, ","))
	}
	return nil, fmt.Errorf("%w: %q; available tag sets: %s", ErrTagSetNotFound, strings.Join(want, ","), orNone(avail))
}

// sortedSet sorts tags in place and drops repeats.
func sortedSet(tags []string) []string {
	slices.Sort(tags)
	return slices.Compact(tags)
}

func orNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

// Parse decodes a binary saved_model.pb. The Model has no Dir and none of the facts that need the
// directory (variables, assets, fingerprint, Keras version). Any input gives a Model or an error
// wrapping ErrCorrupt, never a panic.
func Parse(data []byte) (*Model, error) {
	var sm pb.SavedModel
	if err := proto.Unmarshal(data, &sm); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return fromProto(&sm)
}

// fromProto converts the proto; a SavedModel without MetaGraphs is what an empty or cut-short
// file decodes to, so it counts as corrupt.
func fromProto(sm *pb.SavedModel) (*Model, error) {
	if len(sm.GetMetaGraphs()) == 0 {
		return nil, fmt.Errorf("%w: no MetaGraphs (empty or truncated file?)", ErrCorrupt)
	}
	m := &Model{SchemaVersion: sm.GetSavedModelSchemaVersion(), MetaGraphs: make([]MetaGraph, len(sm.GetMetaGraphs()))}
	for i, mgd := range sm.GetMetaGraphs() {
		m.MetaGraphs[i] = metaGraphFromProto(mgd)
	}
	return m, nil
}

func metaGraphFromProto(mgd *pb.MetaGraphDef) MetaGraph {
	info := mgd.GetMetaInfoDef()
	mg := MetaGraph{
		Tags:                 slices.Clone(info.GetTags()),
		Ops:                  opsUsed(mgd.GetGraphDef()),
		TensorFlowVersion:    info.GetTensorflowVersion(),
		TensorFlowGitVersion: info.GetTensorflowGitVersion(),
		HasObjectGraph:       mgd.GetObjectGraphDef() != nil,
	}
	if mg.Tags == nil {
		mg.Tags = []string{}
	}
	for key, sd := range mgd.GetSignatureDef() {
		mg.Signatures = append(mg.Signatures, Signature{
			Key:        key,
			MethodName: sd.GetMethodName(),
			Inputs:     tensorsFromProto(sd.GetInputs()),
			Outputs:    tensorsFromProto(sd.GetOutputs()),
		})
	}
	slices.SortFunc(mg.Signatures, func(a, b Signature) int { return strings.Compare(a.Key, b.Key) })
	if mg.HasObjectGraph {
		mg.Functions = rootFunctions(mgd.GetObjectGraphDef(), mgd.GetGraphDef().GetLibrary())
	}
	return mg
}

func tensorsFromProto(infos map[string]*pb.TensorInfo) []Tensor {
	ts := make([]Tensor, 0, len(infos))
	for key, ti := range infos {
		t := Tensor{Key: key, DType: DataType(ti.GetDtype())}
		switch ti.GetEncoding().(type) {
		case *pb.TensorInfo_CooSparse_:
			t.Encoding = "coo_sparse"
		case *pb.TensorInfo_CompositeTensor_:
			t.Encoding = "composite_tensor"
		default:
			t.Encoding = "name"
			t.Name = ti.GetName()
			t.Op, t.Index = splitTensorName(t.Name)
		}
		t.Shape, t.UnknownRank = shapeFromProto(ti.GetTensorShape())
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b Tensor) int { return strings.Compare(a.Key, b.Key) })
	return ts
}

// splitTensorName splits "op:index". Like TensorFlow's ParseTensorName, a name without a numeric
// suffix ("NoOp", the init op's output) is output 0 of the op of that name.
func splitTensorName(name string) (op string, index int) {
	i := strings.LastIndexByte(name, ':')
	if i < 0 || i == len(name)-1 || strings.Trim(name[i+1:], "0123456789") != "" {
		return name, 0
	}
	n, err := strconv.Atoi(name[i+1:])
	if err != nil { // more digits than an int holds
		return name, 0
	}
	return name[:i], n
}

// shapeFromProto gives -1 for unknown dimensions (as stored), an empty slice for a scalar and nil
// for an unknown rank. A missing shape proto reads as a scalar, as it does in TensorFlow.
func shapeFromProto(sp *tensor_shape_go_proto.TensorShapeProto) ([]int64, bool) {
	if sp.GetUnknownRank() {
		return nil, true
	}
	shape := make([]int64, len(sp.GetDim()))
	for i, d := range sp.GetDim() {
		shape[i] = d.GetSize()
	}
	return shape, false
}
