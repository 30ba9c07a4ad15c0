// Package tfmodel runs a TensorFlow SavedModel through the TensorFlow C API, bound by its signature.
//
// It is the only package of this module that needs libtensorflow (through github.com/wamuir/graft). The
// caller names a tag set and a signature key (defaults "serve" and "serving_default") and feeds inputs
// by their signature keys; the op names behind them ("serving_default_input_1:0") are read from the
// SavedModel by the pure-Go savedmodel package, so nobody has to find them with saved_model_cli.
//
// A Model is safe for concurrent use: TensorFlow sessions run concurrently, and Close waits for the
// runs in flight. Input and output tensors live in C memory that only Go finalizers free; Model counts
// the bytes it hands to TensorFlow and runs the garbage collector when they pass a bound
// (Options.MaxGarbageBytes), so a long-running service does not grow without bound.
//
// Building needs cgo flags that point at the TensorFlow C library; in this repository `make env`
// prints them (see the README).
package tfmodel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	tf "github.com/wamuir/graft/tensorflow"
	corepb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/proto"

	"github.com/facenet-go/facenet/savedmodel"
)

// Errors callers branch on. Load's errors also wrap savedmodel's sentinels (savedmodel.ErrNotSavedModel,
// savedmodel.ErrCorrupt, savedmodel.ErrTagSetNotFound, savedmodel.ErrSignatureNotFound).
var (
	// ErrClosed is returned by calls on a Model after Close.
	ErrClosed = errors.New("tfmodel: model is closed")
	// ErrNoVariables means the SavedModel directory has no variables/ folder, so its weights are missing.
	ErrNoVariables = errors.New("tfmodel: SavedModel has no variables/ directory")
	// ErrInput means the inputs given to Run do not match the signature (keys, dtype or shape).
	ErrInput = errors.New("tfmodel: input does not match the signature")
	// ErrUnsupported means the signature uses a dtype this package does not feed or fetch (only float32).
	ErrUnsupported = errors.New("tfmodel: unsupported signature")
)

// DefaultMaxGarbageBytes bounds the C memory of finished tensors that may wait for the Go garbage
// collector before Model forces a collection.
const DefaultMaxGarbageBytes = 64 << 20

// Options configure Load. The zero value loads tag set "serve" and signature "serving_default" with
// TensorFlow's default thread pools.
type Options struct {
	// Tags is the MetaGraph tag set to load; nil means {"serve"}.
	Tags []string
	// Signature is the signature key to bind; "" means "serving_default".
	Signature string
	// Input and Output name the signature keys Predict uses; "" means the signature's only one.
	Input, Output string
	// IntraOpThreads and InterOpThreads size TensorFlow's thread pools; 0 leaves TensorFlow's default.
	IntraOpThreads, InterOpThreads int
	// MaxGarbageBytes bounds the C memory of dead tensors before a forced GC; 0 means
	// DefaultMaxGarbageBytes, a negative value never forces one.
	MaxGarbageBytes int64
	// Quiet, when set, is called just before TensorFlow's C loader runs and its result just after:
	// a CLI uses it to hide the loader's log lines. It brackets that one C call only, after every
	// check and read done in Go, so whatever it hides cannot be this package's errors.
	Quiet func() (restore func())
}

// Tensor is a dense float32 tensor in row-major (C) order.
type Tensor struct {
	Shape []int64
	Data  []float32
	// c is TensorFlow's copy of the values, made once by Prepare for an input fed to several runs;
	// Data is then nil.
	c *tf.Tensor
}

// Prepare copies t into TensorFlow's memory once, so runs that feed the returned Tensor (MTCNN
// feeds the same photo to every pyramid scale and to R-Net and O-Net) skip the copy each Run
// otherwise makes. The copy lives as long as the returned value, which holds only the copy (its
// Data is nil): t.Data is the caller's again at once, to reuse or drop. A 12-megapixel photo's
// float32 pixels are 150 MB that would otherwise stay alive beside TensorFlow's copy.
func Prepare(t Tensor) (Tensor, error) {
	for _, d := range t.Shape {
		if d < 0 {
			return Tensor{}, fmt.Errorf("%w: prepare tensor: shape %v has a negative dimension", ErrInput, t.Shape)
		}
	}
	if len(t.Data) == 0 || numElements(t.Shape) != int64(len(t.Data)) {
		return Tensor{}, fmt.Errorf("%w: prepare tensor: shape %v holds %d values, data has %d",
			ErrInput, t.Shape, numElements(t.Shape), len(t.Data))
	}
	c, err := tf.ReadTensor(tf.Float, t.Shape, bytes.NewReader(float32Bytes(t.Data)))
	if err != nil {
		return Tensor{}, fmt.Errorf("prepare tensor %v: %w", t.Shape, err)
	}
	return Tensor{Shape: append([]int64(nil), t.Shape...), c: c}, nil
}

// Model is a loaded SavedModel bound to one signature.
type Model struct {
	dir        string
	sig        savedmodel.Signature
	predictIn  savedmodel.Tensor
	predictOut savedmodel.Tensor
	tags       []string

	mu        sync.RWMutex // Run holds it for reading; Close for writing.
	closed    bool
	sm        *tf.SavedModel
	feeds     map[string]tf.Output
	fetchKeys []string
	fetches   []tf.Output

	garbage    atomic.Int64
	maxGarbage int64
}

// Load reads the SavedModel in dir, checks the requested tag set and signature, and starts a
// TensorFlow session for it.
func Load(dir string, opts Options) (*Model, error) {
	tags := opts.Tags
	if len(tags) == 0 {
		tags = []string{"serve"}
	}
	key := opts.Signature
	if key == "" {
		key = "serving_default"
	}
	meta, err := savedmodel.Read(dir)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	mg, err := meta.MetaGraph(tags...)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	sig, err := mg.Signature(key)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "variables")); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("load %s: %w", dir, ErrNoVariables)
	}
	m := &Model{dir: dir, sig: *sig, tags: append([]string(nil), tags...), maxGarbage: opts.MaxGarbageBytes}
	if m.maxGarbage == 0 {
		m.maxGarbage = DefaultMaxGarbageBytes
	}
	if m.predictIn, err = pick(sig.Inputs, opts.Input, "input"); err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}
	if m.predictOut, err = pick(sig.Outputs, opts.Output, "output"); err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}

	// TensorFlow opens these files itself, with no limit and no way to interrupt it.
	if err := savedmodel.CheckFiles(dir); err != nil {
		return nil, fmt.Errorf("load %s: %w", dir, err)
	}

	so := &tf.SessionOptions{}
	if opts.IntraOpThreads > 0 || opts.InterOpThreads > 0 {
		cfg, err := proto.Marshal(&corepb.ConfigProto{
			IntraOpParallelismThreads: int32(opts.IntraOpThreads),
			InterOpParallelismThreads: int32(opts.InterOpThreads),
		})
		if err != nil {
			return nil, fmt.Errorf("load %s: session config: %w", dir, err)
		}
		so.Config = cfg
	}
	restore := func() {}
	if opts.Quiet != nil {
		restore = opts.Quiet()
	}
	var sm *tf.SavedModel
	withoutProfilingSignal(func() { sm, err = tf.LoadSavedModel(dir, tags, so) })
	restore()
	if err != nil {
		return nil, fmt.Errorf("load %s: tensorflow: %s", dir, oneLine(err))
	}
	m.sm = sm
	m.feeds = make(map[string]tf.Output, len(sig.Inputs))
	for _, in := range sig.Inputs {
		o, err := m.output(in)
		if err != nil {
			sm.Session.Close()
			return nil, fmt.Errorf("load %s: input %q: %w", dir, in.Key, err)
		}
		m.feeds[in.Key] = o
	}
	for _, out := range sig.Outputs {
		o, err := m.output(out)
		if err != nil {
			sm.Session.Close()
			return nil, fmt.Errorf("load %s: output %q: %w", dir, out.Key, err)
		}
		m.fetchKeys = append(m.fetchKeys, out.Key)
		m.fetches = append(m.fetches, o)
	}
	return m, nil
}

// pick returns the tensor named key, or the only tensor when key is empty.
func pick(ts []savedmodel.Tensor, key, what string) (savedmodel.Tensor, error) {
	if key == "" {
		if len(ts) == 1 {
			return ts[0], nil
		}
		// Several tensors and no choice: Predict is unavailable, Run still works.
		return savedmodel.Tensor{}, nil
	}
	for _, t := range ts {
		if t.Key == key {
			return t, nil
		}
	}
	return savedmodel.Tensor{}, fmt.Errorf("%w: no %s %q (have %s)", ErrInput, what, key, keys(ts))
}

func keys(ts []savedmodel.Tensor) string {
	ks := make([]string, len(ts))
	for i, t := range ts {
		ks[i] = fmt.Sprintf("%q", t.Key)
	}
	return strings.Join(ks, ", ")
}

func (m *Model) output(t savedmodel.Tensor) (tf.Output, error) {
	op := m.sm.Graph.Operation(t.Op)
	if op == nil {
		return tf.Output{}, fmt.Errorf("%w: graph has no op %q", savedmodel.ErrCorrupt, t.Op)
	}
	if t.Index < 0 || t.Index >= op.NumOutputs() {
		return tf.Output{}, fmt.Errorf("%w: op %q has no output %d", savedmodel.ErrCorrupt, t.Op, t.Index)
	}
	return op.Output(t.Index), nil
}

// Dir returns the directory the model was loaded from.
func (m *Model) Dir() string { return m.dir }

// Signature returns the bound signature: its inputs and outputs with keys, dtypes and shapes (-1 for
// the batch and other unknown dimensions), so callers can size their inputs.
func (m *Model) Signature() savedmodel.Signature { return m.sig }

// Input returns the signature input that Predict feeds; ok is false when the signature has several
// inputs and Options.Input chose none.
func (m *Model) Input() (t savedmodel.Tensor, ok bool) { return m.predictIn, m.predictIn.Key != "" }

// Output returns the signature output that Predict returns; ok is false when the signature has several
// outputs and Options.Output chose none.
func (m *Model) Output() (t savedmodel.Tensor, ok bool) { return m.predictOut, m.predictOut.Key != "" }

// Predict runs the model on one float32 input of the given shape (batch first) and returns the Predict
// output and its shape. It is the single-input, single-output form of Run.
func (m *Model) Predict(ctx context.Context, input []float32, shape []int64) ([]float32, []int64, error) {
	if m.predictIn.Key == "" || m.predictOut.Key == "" {
		return nil, nil, fmt.Errorf("%w: signature has inputs %s and outputs %s: choose with Options.Input/Output or use Run",
			ErrInput, keys(m.sig.Inputs), keys(m.sig.Outputs))
	}
	outs, err := m.run(ctx, map[string]Tensor{m.predictIn.Key: {Shape: shape, Data: input}}, m.predictOut.Key)
	if err != nil {
		return nil, nil, err
	}
	o := outs[m.predictOut.Key]
	return o.Data, o.Shape, nil
}

// Run feeds every signature input by key and returns every signature output by key. Inputs are checked
// against the signature (keys, float32 dtype, rank and known dimensions) before TensorFlow sees them.
//
// TensorFlow cannot interrupt a run: ctx is checked before it starts, not during.
func (m *Model) Run(ctx context.Context, inputs map[string]Tensor) (map[string]Tensor, error) {
	return m.run(ctx, inputs, "")
}

func (m *Model) run(ctx context.Context, inputs map[string]Tensor, only string) (map[string]Tensor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := m.checkInputs(inputs); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	feeds := make(map[tf.Output]*tf.Tensor, len(inputs))
	var fed int64
	for k, in := range inputs {
		if in.c != nil {
			feeds[m.feeds[k]] = in.c // Prepare's copy: its owner, not this run, makes it garbage
			continue
		}
		t, err := tf.ReadTensor(tf.Float, in.Shape, bytes.NewReader(float32Bytes(in.Data)))
		if err != nil {
			return nil, fmt.Errorf("run %s: input %q: %w", m.dir, k, err)
		}
		feeds[m.feeds[k]] = t
		fed += int64(len(in.Data)) * 4
	}
	fetchKeys, fetches := m.fetchKeys, m.fetches
	if only != "" {
		for i, k := range m.fetchKeys {
			if k == only {
				fetchKeys, fetches = m.fetchKeys[i:i+1], m.fetches[i:i+1]
			}
		}
	}
	res, err := m.sm.Session.Run(feeds, fetches, nil)
	if err != nil {
		return nil, fmt.Errorf("run %s: tensorflow: %s", m.dir, oneLine(err))
	}
	outs := make(map[string]Tensor, len(res))
	for i, t := range res {
		if t.DataType() != tf.Float {
			return nil, fmt.Errorf("run %s: output %q has dtype %v: %w (float32 only)", m.dir, fetchKeys[i], savedmodel.DataType(t.DataType()), ErrUnsupported)
		}
		shape := append([]int64(nil), t.Shape()...)
		data := make([]float32, numElements(shape))
		if _, err := t.WriteContentsTo(&byteSink{buf: float32Bytes(data)}); err != nil {
			return nil, fmt.Errorf("run %s: output %q: %w", m.dir, fetchKeys[i], err)
		}
		fed += int64(len(data)) * 4
		outs[fetchKeys[i]] = Tensor{Shape: shape, Data: data}
	}
	m.collect(fed)
	return outs, nil
}

// collect counts C bytes that only finalizers will free and forces a collection past the bound, so C
// memory stays bounded even when the Go heap is too small to trigger the collector by itself.
func (m *Model) collect(n int64) {
	if m.maxGarbage < 0 {
		return
	}
	if m.garbage.Add(n) > m.maxGarbage {
		m.garbage.Store(0)
		runtime.GC()
	}
}

func (m *Model) checkInputs(inputs map[string]Tensor) error {
	for k := range inputs {
		if _, ok := m.sig.Input(k); !ok {
			return fmt.Errorf("%w: unknown input %q (signature inputs: %s)", ErrInput, k, keys(m.sig.Inputs))
		}
	}
	for _, spec := range m.sig.Inputs {
		in, ok := inputs[spec.Key]
		if !ok {
			return fmt.Errorf("%w: missing input %q (signature inputs: %s)", ErrInput, spec.Key, keys(m.sig.Inputs))
		}
		if spec.DType != savedmodel.DataType(tf.Float) {
			return fmt.Errorf("%w: input %q has dtype %v; tfmodel feeds DT_FLOAT only", ErrUnsupported, spec.Key, spec.DType)
		}
		if err := checkShape(spec, in); err != nil {
			return err
		}
	}
	return nil
}

func checkShape(spec savedmodel.Tensor, in Tensor) error {
	for _, d := range in.Shape {
		if d < 0 {
			return fmt.Errorf("%w: input %q: shape %v has a negative dimension", ErrInput, spec.Key, in.Shape)
		}
	}
	have := int64(len(in.Data))
	if in.c != nil {
		have = numElements(in.c.Shape()) // Prepare's copy: its shape is the one fed
		in.Shape = in.c.Shape()
	}
	if have == 0 {
		return fmt.Errorf("%w: input %q is empty (shape %v)", ErrInput, spec.Key, in.Shape)
	}
	if n := numElements(in.Shape); n != have {
		return fmt.Errorf("%w: input %q: shape %v holds %d values, data has %d", ErrInput, spec.Key, in.Shape, n, have)
	}
	if spec.UnknownRank {
		return nil
	}
	bad := len(in.Shape) != len(spec.Shape)
	for i := 0; !bad && i < len(spec.Shape); i++ {
		bad = spec.Shape[i] >= 0 && spec.Shape[i] != in.Shape[i]
	}
	if bad {
		return fmt.Errorf("%w: input %q: expected shape %s, got %v", ErrInput, spec.Key, shapeString(spec.Shape), in.Shape)
	}
	return nil
}

func shapeString(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "-1"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Close ends the TensorFlow session after the runs in flight. It is idempotent; calls after it return
// ErrClosed.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true
	err := m.sm.Session.Close()
	m.sm = nil
	if err != nil {
		return fmt.Errorf("close %s: %w", m.dir, err)
	}
	return nil
}

// oneLine joins TensorFlow's multi-line status text ("...\n\t [[{{node RestoreV2}}]]") into one
// line: callers print errors one per line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

func numElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

// float32Bytes views a float32 slice as its little-endian bytes (the host order TensorFlow uses)
// without copying.
func float32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
}

// byteSink copies written bytes into a fixed buffer (a tensor's C memory into Go memory, once).
type byteSink struct {
	buf []byte
	n   int
}

func (s *byteSink) Write(p []byte) (int, error) {
	if len(p) > len(s.buf)-s.n {
		return 0, fmt.Errorf("tfmodel: output larger than its shape (%d bytes)", len(s.buf))
	}
	s.n += copy(s.buf[s.n:], p)
	return len(p), nil
}
