package savedmodel_test

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/facenet-go/facenet/savedmodel"
)

// fixture is a SavedModel under testdata/savedmodel (see the README there for their origin).
func fixture(name string) string { return filepath.Join("..", "testdata", "savedmodel", name) }

// copyModel copies a fixture into a temporary directory that a test may damage.
func copyModel(t *testing.T, name string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.CopyFS(dst, os.DirFS(fixture(name))))
	return dst
}

// The expected values in this test are what TensorFlow reports for graft's half_plus_two:
// `saved_model_cli show --dir testdata/savedmodel/half_plus_two --all` and its meta_info_def.
func TestReadHalfPlusTwo(t *testing.T) {
	m, err := savedmodel.Read(fixture("half_plus_two"))
	require.NoError(t, err)
	require.Equal(t, fixture("half_plus_two"), m.Dir)
	require.Equal(t, [][]string{{"serve"}}, m.TagSets())
	require.EqualValues(t, 1, m.SchemaVersion)
	require.Equal(t, []string{"assets/foo.txt"}, m.Assets)
	require.Empty(t, m.Warnings)
	require.Nil(t, m.Fingerprint, "half_plus_two predates fingerprint.pb")
	require.Empty(t, m.KerasVersion)

	var varBytes int64
	for _, f := range []string{"variables.data-00000-of-00001", "variables.index"} {
		st, err := os.Stat(filepath.Join(fixture("half_plus_two"), "variables", f))
		require.NoError(t, err)
		varBytes += st.Size()
	}
	require.Equal(t, varBytes, m.VariablesBytes)

	mg, err := m.MetaGraph()
	require.NoError(t, err)
	require.Equal(t, "1.1.0-rc2", mg.TensorFlowVersion)
	require.Equal(t, "unknown", mg.TensorFlowGitVersion)
	require.False(t, mg.HasObjectGraph)
	require.Empty(t, mg.Functions)
	keys := make([]string, len(mg.Signatures))
	for i, s := range mg.Signatures {
		keys[i] = s.Key
	}
	require.Equal(t, []string{"classify_x2_to_y3", "classify_x_to_y", "regress_x2_to_y3", "regress_x_to_y", "regress_x_to_y2", "serving_default"}, keys)
	require.Contains(t, mg.Ops, "ParseExample")
	require.IsNonDecreasing(t, mg.Ops)

	sig, err := mg.Signature("serving_default")
	require.NoError(t, err)
	require.Equal(t, "tensorflow/serving/predict", sig.MethodName)
	x, ok := sig.Input("x")
	require.True(t, ok)
	require.Equal(t, savedmodel.Tensor{Key: "x", Name: "x:0", Op: "x", Index: 0, DType: savedmodel.DTFloat, Shape: []int64{-1, 1}, Encoding: "name"}, x)
	y, ok := sig.Output("y")
	require.True(t, ok)
	require.Equal(t, "y:0", y.Name)
	_, ok = sig.Input("y")
	require.False(t, ok)

	cls, err := mg.Signature("classify_x_to_y")
	require.NoError(t, err)
	ex, ok := cls.Input("inputs")
	require.True(t, ok)
	require.True(t, ex.UnknownRank)
	require.Nil(t, ex.Shape)
	require.Equal(t, savedmodel.DTString, ex.DType)
	require.Equal(t, "tf_example", ex.Op)
}

// TestReadTF2Model checks what only TF2 SavedModels have: fingerprint.pb (values as printed by
// tensorflow.core.protobuf.fingerprint_pb2 for the fixture), the object graph and its functions.
func TestReadTF2Model(t *testing.T) {
	m, err := savedmodel.Read(fixture("tf_functions"))
	require.NoError(t, err)
	require.Equal(t, &savedmodel.Fingerprint{
		SavedModelChecksum:   9354409012723460139,
		GraphDefProgramHash:  4122165577317393207,
		SignatureDefHash:     11889871900594588276,
		SavedObjectGraphHash: 10656687303869603528,
		CheckpointHash:       1614747596082665305,
		Producer:             1,
	}, m.Fingerprint)
	mg, err := m.MetaGraph("serve")
	require.NoError(t, err)
	require.Equal(t, "2.18.0", mg.TensorFlowVersion)
	require.True(t, mg.HasObjectGraph)

	names := map[string]int{}
	for _, f := range mg.Functions {
		names[f.Name] = len(f.Concrete)
	}
	// tf.Module attributes of make_fixtures.py: f and g have an input_signature (one trace each),
	// k was traced three times plus once for the bare concrete function, which is its own child.
	require.Equal(t, map[string]int{"bare": 1, "f": 1, "g": 1, "k": 4, "nested": 1}, names)

	f := mg.Functions[1]
	require.Equal(t, "f", f.Name)
	require.True(t, f.Concrete[0].HasSignature)
	require.Equal(t, []savedmodel.Value{{Kind: savedmodel.KindTensorSpec, Spec: &savedmodel.TensorSpec{Name: "x", DType: savedmodel.DTFloat, Shape: []int64{-1, 3}}}}, f.Concrete[0].Args)

	bare := mg.Functions[0]
	require.True(t, bare.Bare)
	require.Equal(t, []string{"xx", "kw"}, bare.Concrete[0].ArgKeywords)
	require.Len(t, bare.Concrete[0].Kwargs, 1)
	require.Equal(t, "kw", bare.Concrete[0].Kwargs[0].Key)

	sig, err := mg.Signature("strlen")
	require.NoError(t, err)
	out, ok := sig.Output("output_0")
	require.True(t, ok)
	require.Equal(t, savedmodel.Tensor{Key: "output_0", Name: "PartitionedCall:0", Op: "PartitionedCall", DType: savedmodel.DTInt32, UnknownRank: true, Encoding: "name"}, out)

	init, err := mg.Signature("__saved_model_init_op")
	require.NoError(t, err)
	noop, ok := init.Output("__saved_model_init_op")
	require.True(t, ok)
	require.Equal(t, savedmodel.Tensor{Key: "__saved_model_init_op", Name: "NoOp", Op: "NoOp", DType: savedmodel.DTInvalid, UnknownRank: true, Encoding: "name"}, noop)
}

func TestMetaGraphTagSets(t *testing.T) {
	multi, err := savedmodel.Read(fixture("tf1_pbtxt"))
	require.NoError(t, err)
	empty, err := savedmodel.Read(fixture("half_plus_two_empty_tags"))
	require.NoError(t, err)

	tests := []struct {
		name     string
		model    *savedmodel.Model
		tags     []string
		wantTags []string // nil: expect ErrTagSetNotFound
	}{
		{"stored order", multi, []string{"serve", "gpu"}, []string{"serve", "gpu"}},
		{"any order", multi, []string{"gpu", "serve"}, []string{"serve", "gpu"}},
		{"repeats and empty tags ignored", multi, []string{"gpu", "", "serve", "gpu"}, []string{"serve", "gpu"}},
		{"second MetaGraph", multi, []string{"train"}, []string{"train"}},
		{"subset is not the set", multi, []string{"serve"}, nil},
		{"superset is not the set", multi, []string{"serve", "gpu", "tpu"}, nil},
		{"default serve is absent", empty, nil, nil},
		{"empty tag set", empty, []string{""}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mg, err := tt.model.MetaGraph(tt.tags...)
			if tt.wantTags == nil {
				require.ErrorIs(t, err, savedmodel.ErrTagSetNotFound)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantTags, mg.Tags)
		})
	}

	mg, err := empty.MetaGraphForTags(nil)
	require.NoError(t, err, "MetaGraphForTags(nil) is the empty tag set, without the serve default")
	require.Empty(t, mg.Tags)

	// A stored "" tag is part of the stored set (saved_model_utils compares set(tags)), while a
	// requested "" is dropped: such a MetaGraph cannot be selected, in Python or here.
	data, err := proto.Marshal(&pb.SavedModel{MetaGraphs: []*pb.MetaGraphDef{{MetaInfoDef: &pb.MetaGraphDef_MetaInfoDef{Tags: []string{"serve", ""}}}}})
	require.NoError(t, err)
	odd, err := savedmodel.Parse(data)
	require.NoError(t, err)
	_, err = odd.MetaGraph("serve")
	require.ErrorIs(t, err, savedmodel.ErrTagSetNotFound)
	_, err = odd.MetaGraph("serve", "")
	require.ErrorIs(t, err, savedmodel.ErrTagSetNotFound)
}

func TestReadErrors(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixture("half_plus_two"), savedmodel.FileNamePB))
	require.NoError(t, err)
	garbage := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range garbage {
		garbage[i] = byte(rng.Uint32())
	}

	// Each case builds a model directory from the half_plus_two fixture and damages it.
	tests := []struct {
		name    string
		setup   func(t *testing.T) string
		wantErr error  // nil: Read succeeds
		msg     string // part of the error message, or of a warning when wantErr is nil
	}{
		{"missing directory", func(t *testing.T) string { return filepath.Join(t.TempDir(), "nope") }, savedmodel.ErrNotSavedModel, "does not exist"},
		{"file instead of directory", func(t *testing.T) string {
			return filepath.Join(copyModel(t, "half_plus_two"), savedmodel.FileNamePB)
		}, savedmodel.ErrNotSavedModel, "is not a directory"},
		{"no saved_model.pb", func(t *testing.T) string { return t.TempDir() }, savedmodel.ErrNotSavedModel, "no saved_model.pb or saved_model.pbtxt"},
		{"empty saved_model.pb", withPB(nil), savedmodel.ErrCorrupt, "no MetaGraphs"},
		{"truncated saved_model.pb", withPB(good[:len(good)/2]), savedmodel.ErrCorrupt, "saved_model.pb"},
		{"garbage saved_model.pb", withPB(garbage), savedmodel.ErrCorrupt, "corrupt SavedModel"},
		{"saved_model.pb is a directory", func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.Mkdir(filepath.Join(dir, savedmodel.FileNamePB), 0o755))
			return dir
		}, nil, ""},
		{"corrupt saved_model.pbtxt", func(t *testing.T) string {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, savedmodel.FileNamePBTxt), []byte("meta_graphs { tags: "), 0o644))
			return dir
		}, savedmodel.ErrCorrupt, "saved_model.pbtxt"},
		{"variables missing", func(t *testing.T) string {
			dir := copyModel(t, "half_plus_two")
			require.NoError(t, os.RemoveAll(filepath.Join(dir, "variables")))
			return dir
		}, nil, "variables/ directory missing"},
		{"variables index missing", func(t *testing.T) string {
			dir := copyModel(t, "half_plus_two")
			require.NoError(t, os.Remove(filepath.Join(dir, "variables", "variables.index")))
			return dir
		}, nil, "variables/variables.index missing"},
		{"pbtxt next to pb", func(t *testing.T) string {
			dir := copyModel(t, "half_plus_two")
			require.NoError(t, os.WriteFile(filepath.Join(dir, savedmodel.FileNamePBTxt), []byte("garbage"), 0o644))
			return dir
		}, nil, "saved_model.pbtxt ignored"},
		{"corrupt fingerprint", func(t *testing.T) string {
			dir := copyModel(t, "tf_functions")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "fingerprint.pb"), []byte{0xff}, 0o644))
			return dir
		}, nil, "fingerprint.pb unreadable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := savedmodel.Read(tt.setup(t))
			switch {
			case tt.wantErr != nil:
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorContains(t, err, tt.msg)
				require.Nil(t, m)
			case tt.msg == "":
				require.Error(t, err)
			default:
				require.NoError(t, err)
				require.NotEmpty(t, m.MetaGraphs)
				require.Len(t, m.Warnings, 1)
				require.Contains(t, m.Warnings[0], tt.msg)
			}
		})
	}
}

// withPB makes a directory whose saved_model.pb holds data.
func withPB(data []byte) func(t *testing.T) string {
	return func(t *testing.T) string {
		dir := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(dir, savedmodel.FileNamePB), data, 0o644))
		return dir
	}
}

// TestParseEveryTruncation cuts half_plus_two's saved_model.pb at every length: each prefix must
// give ErrCorrupt (the MetaGraph is one length-delimited field, so no prefix is a whole model).
func TestParseEveryTruncation(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(fixture("half_plus_two"), savedmodel.FileNamePB))
	require.NoError(t, err)
	for n := 0; n < len(good); n++ {
		_, err := savedmodel.Parse(good[:n])
		if !errors.Is(err, savedmodel.ErrCorrupt) {
			t.Fatalf("prefix of %d/%d bytes: got %v, want ErrCorrupt", n, len(good), err)
		}
	}
	m, err := savedmodel.Parse(good)
	require.NoError(t, err)
	require.Empty(t, m.Dir)
}

// TestReadPBTxtMatchesPB writes half_plus_two as text format and expects the same Model.
func TestReadPBTxtMatchesPB(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(fixture("half_plus_two"), savedmodel.FileNamePB))
	require.NoError(t, err)
	var sm pb.SavedModel
	require.NoError(t, proto.Unmarshal(data, &sm))
	text, err := prototext.Marshal(&sm)
	require.NoError(t, err)

	dir := copyModel(t, "half_plus_two")
	require.NoError(t, os.Remove(filepath.Join(dir, savedmodel.FileNamePB)))
	require.NoError(t, os.WriteFile(filepath.Join(dir, savedmodel.FileNamePBTxt), text, 0o644))

	fromText, err := savedmodel.Read(dir)
	require.NoError(t, err)
	fromBinary, err := savedmodel.Read(fixture("half_plus_two"))
	require.NoError(t, err)
	fromText.Dir = fromBinary.Dir
	require.Equal(t, fromBinary, fromText)
}

func TestSignatureNotFound(t *testing.T) {
	m, err := savedmodel.Read(fixture("half_plus_two"))
	require.NoError(t, err)
	mg, err := m.MetaGraph()
	require.NoError(t, err)
	_, err = mg.Signature("serving")
	require.ErrorIs(t, err, savedmodel.ErrSignatureNotFound)
	require.ErrorContains(t, err, `"serving_default"`, "the message lists the keys that exist")

	_, err = m.MetaGraph("gpu")
	require.ErrorIs(t, err, savedmodel.ErrTagSetNotFound)
	require.ErrorContains(t, err, `available tag sets: "serve"`)
}

// TestKerasVersion builds keras_metadata.pb as tf-keras writes it (SavedMetadata, field numbers
// from tf_keras/protobuf/saved_metadata.proto): the root model's metadata JSON has keras_version.
func TestKerasVersion(t *testing.T) {
	node := func(path, metadata string) []byte {
		var b []byte
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, 7)
		b = protowire.AppendTag(b, 3, protowire.BytesType)
		b = protowire.AppendString(b, path)
		b = protowire.AppendTag(b, 4, protowire.BytesType)
		b = protowire.AppendString(b, "_tf_keras_model")
		b = protowire.AppendTag(b, 5, protowire.BytesType)
		return protowire.AppendString(b, metadata)
	}
	meta := func(nodes ...[]byte) []byte {
		var b []byte
		for _, n := range nodes {
			b = protowire.AppendTag(b, 1, protowire.BytesType)
			b = protowire.AppendBytes(b, n)
		}
		return b
	}
	tests := []struct {
		name        string
		data        []byte
		wantVersion string
		wantWarning bool
	}{
		{"root model", meta(node("root.layer-1", `{"name": "dense"}`), node("root", `{"keras_version": "2.15.0", "backend": "tensorflow"}`)), "2.15.0", false},
		{"only a layer has it", meta(node("root.layer-0", `{"keras_version": "2.4.0"}`)), "2.4.0", false},
		{"no version", meta(node("root", `{"name": "m"}`)), "", false},
		{"metadata not JSON", meta(node("root", `{`)), "", false},
		{"truncated proto", meta(node("root", `{"keras_version": "2.15.0"}`))[:10], "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyModel(t, "half_plus_two")
			require.NoError(t, os.WriteFile(filepath.Join(dir, "keras_metadata.pb"), tt.data, 0o644))
			m, err := savedmodel.Read(dir)
			require.NoError(t, err)
			require.Equal(t, tt.wantVersion, m.KerasVersion)
			require.Equal(t, tt.wantWarning, len(m.Warnings) == 1 && strings.Contains(m.Warnings[0], "keras_metadata.pb"), "warnings: %q", m.Warnings)
		})
	}
}

// TestDataTypeNames checks names against TensorFlow's: types_pb2.DataType for String, and
// tensorflow.python.framework.dtypes._TYPE_TO_STRING for PythonName.
func TestDataTypeNames(t *testing.T) {
	tests := []struct {
		d            savedmodel.DataType
		name, python string
	}{
		{savedmodel.DTFloat, "DT_FLOAT", "float32"},
		{savedmodel.DTDouble, "DT_DOUBLE", "float64"},
		{savedmodel.DTHalf, "DT_HALF", "float16"},
		{savedmodel.DTInt32, "DT_INT32", "int32"},
		{savedmodel.DTString, "DT_STRING", "string"},
		{savedmodel.DataType(14), "DT_BFLOAT16", "bfloat16"},
		{savedmodel.DataType(25), "DT_FLOAT8_E4M3FN", "float8_e4m3fn"},
		{savedmodel.DataType(101), "DT_FLOAT_REF", "float32_ref"},
		{savedmodel.DataType(119), "DT_HALF_REF", "float16_ref"},
		{savedmodel.DataType(120), "DT_RESOURCE_REF", "resource_ref"},
		{savedmodel.DTInvalid, "DT_INVALID", "DT_INVALID"},
		{savedmodel.DataType(77), "DataType(77)", "DataType(77)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.name, tt.d.String())
			require.Equal(t, tt.python, tt.d.PythonName())
		})
	}

	b, err := json.Marshal(savedmodel.Tensor{DType: savedmodel.DTFloat})
	require.NoError(t, err)
	require.Contains(t, string(b), `"dtype":"DT_FLOAT"`)
	var back savedmodel.Tensor
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, savedmodel.DTFloat, back.DType)
	require.Error(t, json.Unmarshal([]byte(`{"dtype":"DT_NOPE"}`), &back))
}

// TestFunctionsJSON: the functions of a model survive a JSON round trip with readable kinds.
func TestFunctionsJSON(t *testing.T) {
	m, err := savedmodel.Read(fixture("tf_functions"))
	require.NoError(t, err)
	b, err := json.Marshal(m.MetaGraphs[0].Functions)
	require.NoError(t, err)
	require.Contains(t, string(b), `"kind":"tensor_spec"`)
	var back []savedmodel.Function
	require.NoError(t, json.Unmarshal(b, &back))
	require.Len(t, back, len(m.MetaGraphs[0].Functions))
	for i, f := range back {
		require.Equal(t, m.MetaGraphs[0].Functions[i].Name, f.Name)
		require.Len(t, f.Concrete, len(m.MetaGraphs[0].Functions[i].Concrete))
	}
	var k savedmodel.ValueKind
	require.Error(t, k.UnmarshalText([]byte("nope")))
	require.Equal(t, "ValueKind(99)", savedmodel.ValueKind(99).String())
}
