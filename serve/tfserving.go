package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/facenet-go/facenet/savedmodel"
)

// TensorFlow Serving's REST API for the model itself
// (https://www.tensorflow.org/tfx/serving/api_rest): model status, metadata and :predict with the
// row ("instances") and columnar ("inputs") formats. Errors are TF Serving's {"error": "..."}.

// modelVersion is the version every model is served as: one folder is one version.
const modelVersion = "1"

// tfError writes TF Serving's REST error body.
func tfError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]string{"error": fmt.Sprintf(format, args...)})
}

// parseModelPath splits "NAME[/versions/V|/labels/L][:predict|/metadata]" into the name, the verb
// ("", "metadata", "predict") and whether the version asked for exists.
func parseModelPath(rest string) (name, verb string, ok bool) {
	if n, found := strings.CutSuffix(rest, ":predict"); found {
		rest, verb = n, "predict"
	} else if n, found := strings.CutSuffix(rest, "/metadata"); found {
		rest, verb = n, "metadata"
	}
	name, tail, _ := strings.Cut(rest, "/")
	switch {
	case tail == "":
		return name, verb, true
	case strings.HasPrefix(tail, "versions/"):
		return name, verb, strings.TrimPrefix(tail, "versions/") == modelVersion
	case strings.HasPrefix(tail, "labels/"):
		return name, verb, true
	}
	return name, verb, false
}

func (s *Server) tfModel(w http.ResponseWriter, r *http.Request) (*model, string, bool) {
	name, verb, ok := parseModelPath(r.PathValue("rest"))
	m, found := s.models[name]
	if !found || !ok {
		tfError(w, http.StatusNotFound, "Servable not found for request: Latest(%s)", name)
		return nil, "", false
	}
	return m, verb, true
}

// handleModelGet is GET /v1/models/{name} (status) and /v1/models/{name}/metadata.
func (s *Server) handleModelGet(w http.ResponseWriter, r *http.Request) {
	m, verb, ok := s.tfModel(w, r)
	if !ok {
		return
	}
	switch verb {
	case "":
		writeJSON(w, http.StatusOK, map[string]any{"model_version_status": []any{map[string]any{
			"version": modelVersion, "state": "AVAILABLE",
			"status": map[string]string{"error_code": "OK", "error_message": ""},
		}}})
	case "metadata":
		sig := m.p.Model().Signature()
		writeJSON(w, http.StatusOK, map[string]any{
			"model_spec": map[string]any{"name": m.name, "signature_name": "", "version": modelVersion},
			"metadata": map[string]any{"signature_def": map[string]any{
				"signature_def": map[string]any{sig.Key: signatureJSON(sig)},
			}},
		})
	default:
		tfError(w, http.StatusMethodNotAllowed, "use POST for :%s", verb)
	}
}

// signatureJSON is a SignatureDef as TF Serving prints it (proto3 JSON of the message).
func signatureJSON(sig savedmodel.Signature) map[string]any {
	infos := func(ts []savedmodel.Tensor) map[string]any {
		out := map[string]any{}
		for _, t := range ts {
			dims := []any{}
			for _, d := range t.Shape {
				dims = append(dims, map[string]string{"size": strconv.FormatInt(d, 10), "name": ""})
			}
			out[t.Key] = map[string]any{
				"dtype": t.DType.String(), "name": t.Name,
				"tensor_shape": map[string]any{"dim": dims, "unknown_rank": t.UnknownRank},
			}
		}
		return out
	}
	return map[string]any{"inputs": infos(sig.Inputs), "outputs": infos(sig.Outputs), "method_name": sig.MethodName}
}

// predictRequest is TF Serving's :predict body.
type predictRequest struct {
	SignatureName string          `json:"signature_name"`
	Instances     json.RawMessage `json:"instances"`
	Inputs        json.RawMessage `json:"inputs"`
}

// handleModelPost is POST /v1/models/{name}:predict. The rows go through the model's batcher, so
// REST clients share batches with the Face API and gRPC.
func (s *Server) handleModelPost(w http.ResponseWriter, r *http.Request) {
	m, verb, ok := s.tfModel(w, r)
	if !ok {
		return
	}
	if verb != "predict" {
		tfError(w, http.StatusNotFound, "only :predict is served (not :classify or :regress)")
		return
	}
	var req predictRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			tfError(w, http.StatusRequestEntityTooLarge, "request body over %d bytes", mbe.Limit)
			return
		}
		tfError(w, http.StatusBadRequest, "JSON Parse error: %v", err)
		return
	}
	sig := m.p.Model().Signature()
	if req.SignatureName != "" && req.SignatureName != sig.Key {
		tfError(w, http.StatusBadRequest, "Serving signature key %q not found.", req.SignatureName)
		return
	}
	in, _ := m.p.Model().Input()
	row := len(req.Instances) > 0
	if row == (len(req.Inputs) > 0) {
		tfError(w, http.StatusBadRequest, "Missing 'inputs' or 'instances' key")
		return
	}
	var x []float32
	var shape []int64
	var err error
	if row {
		x, shape, err = parseInstances(req.Instances, in.Key)
	} else {
		x, shape, err = parseNamed(req.Inputs, in.Key)
	}
	if err != nil {
		tfError(w, http.StatusBadRequest, "%v", err)
		return
	}
	y, yshape, err := s.predict(r.Context(), m, x, shape)
	if err != nil {
		ae := toAPIError(err)
		tfError(w, ae.Status, "%s", ae.Message)
		return
	}
	var buf bytes.Buffer
	if row {
		buf.WriteString(`{"predictions":`)
		writeTensor(&buf, y, yshape)
	} else {
		buf.WriteString(`{"outputs":`)
		writeTensor(&buf, y, yshape)
	}
	buf.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(buf.Bytes())
}

// predict checks a tensor against the model's input and runs it through the batcher.
func (s *Server) predict(ctx context.Context, m *model, x []float32, shape []int64) ([]float32, []int64, error) {
	if len(shape) != len(m.shape)+1 {
		return nil, nil, errorf(http.StatusBadRequest, CodeBadTensor, "input of shape %v: the model takes (-1, %s)", shape, dims(m.shape))
	}
	for i, d := range m.shape {
		if shape[i+1] != d {
			return nil, nil, errorf(http.StatusBadRequest, CodeBadTensor, "input of shape %v: the model takes (-1, %s)", shape, dims(m.shape))
		}
	}
	if shape[0] < 1 || shape[0] > int64(s.lim.MaxImages) {
		return nil, nil, errorf(http.StatusBadRequest, CodeBadTensor, "%d instances: 1..%d per request", shape[0], s.lim.MaxImages)
	}
	return m.b.Predict(ctx, x, shape)
}

func dims(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return strings.Join(parts, ", ")
}

// parseInstances reads the row format: a list of tensors, or a list of objects {input: tensor}.
func parseInstances(raw json.RawMessage, key string) ([]float32, []int64, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n[")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var rows []map[string]json.RawMessage
		if err := json.Unmarshal(raw, &rows); err != nil {
			return nil, nil, fmt.Errorf("instances: %v", err)
		}
		var x []float32
		var shape []int64
		for i, row := range rows {
			v, ok := row[key]
			if !ok || len(row) != 1 {
				return nil, nil, fmt.Errorf("instance %d: want exactly the input %q", i, key)
			}
			t, s, err := parseTensor(v)
			if err != nil {
				return nil, nil, fmt.Errorf("instance %d: %v", i, err)
			}
			if i > 0 && !equalShape(s, shape[1:]) {
				return nil, nil, fmt.Errorf("instance %d has shape %v, instance 0 has %v", i, s, shape[1:])
			}
			if i == 0 {
				shape = append([]int64{0}, s...)
			}
			x = append(x, t...)
			shape[0]++
		}
		return x, shape, nil
	}
	x, shape, err := parseTensor(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("instances: %v", err)
	}
	return x, shape, nil
}

// parseNamed reads the columnar format: the tensor itself, or {input: tensor}.
func parseNamed(raw json.RawMessage, key string) ([]float32, []int64, error) {
	trimmed := bytes.TrimLeft(raw, " \t\r\n")
	if len(trimmed) > 0 && trimmed[0] == '{' {
		var named map[string]json.RawMessage
		if err := json.Unmarshal(raw, &named); err != nil {
			return nil, nil, fmt.Errorf("inputs: %v", err)
		}
		v, ok := named[key]
		if !ok || len(named) != 1 {
			return nil, nil, fmt.Errorf("inputs: want exactly the input %q", key)
		}
		raw = v
	}
	x, shape, err := parseTensor(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("inputs: %v", err)
	}
	return x, shape, nil
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// parseTensor reads nested JSON arrays of numbers into row-major values and their shape, refusing
// ragged arrays. It scans the bytes itself: encoding/json would build an interface value per number,
// and an image is 76,800 of them.
func parseTensor(raw []byte) ([]float32, []int64, error) {
	p := tensorParser{b: raw}
	p.skip()
	if err := p.value(0); err != nil {
		return nil, nil, err
	}
	p.skip()
	if p.i != len(p.b) {
		return nil, nil, fmt.Errorf("unexpected %q after the tensor", p.b[p.i])
	}
	return p.out, p.shape, nil
}

type tensorParser struct {
	b     []byte
	i     int
	out   []float32
	shape []int64
	depth int // depth of the scalars, -1 until the first one
	seen  []bool
}

func (p *tensorParser) skip() {
	for p.i < len(p.b) && (p.b[p.i] == ' ' || p.b[p.i] == '\n' || p.b[p.i] == '\t' || p.b[p.i] == '\r') {
		p.i++
	}
}

func (p *tensorParser) value(depth int) error {
	if depth > 32 {
		return errors.New("tensor nested too deep")
	}
	if p.i >= len(p.b) {
		return errors.New("unexpected end of the tensor")
	}
	if p.b[p.i] != '[' {
		if len(p.seen) == 0 {
			p.seen = make([]bool, depth)
			p.shape = p.shape[:depth]
		} else if depth != len(p.seen) {
			return errors.New("ragged tensor: scalars at different depths")
		}
		j := p.i
		for j < len(p.b) && (p.b[j] == '-' || p.b[j] == '+' || p.b[j] == '.' || p.b[j] == 'e' || p.b[j] == 'E' || '0' <= p.b[j] && p.b[j] <= '9') {
			j++
		}
		v, err := strconv.ParseFloat(string(p.b[p.i:j]), 32)
		if err != nil || j == p.i {
			return fmt.Errorf("not a number at byte %d", p.i)
		}
		p.out = append(p.out, float32(v))
		p.i = j
		return nil
	}
	p.i++
	if depth >= len(p.shape) {
		p.shape = append(p.shape, -1)
	}
	n := int64(0)
	p.skip()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return errors.New("empty array in the tensor")
	}
	for {
		p.skip()
		if err := p.value(depth + 1); err != nil {
			return err
		}
		n++
		p.skip()
		if p.i >= len(p.b) {
			return errors.New("unexpected end of the tensor")
		}
		if p.b[p.i] == ',' {
			p.i++
			continue
		}
		if p.b[p.i] == ']' {
			p.i++
			break
		}
		return fmt.Errorf("unexpected %q at byte %d", p.b[p.i], p.i)
	}
	switch {
	case p.shape[depth] == -1:
		p.shape[depth] = n
	case p.shape[depth] != n:
		return fmt.Errorf("ragged tensor: %d and %d elements at depth %d", p.shape[depth], n, depth)
	}
	return nil
}

// writeTensor writes values of shape as nested JSON arrays, numbers as float32 shortest form.
func writeTensor(buf *bytes.Buffer, y []float32, shape []int64) {
	var rec func(off int, d int) int
	rec = func(off, d int) int {
		if d == len(shape) {
			buf.Write(strconv.AppendFloat(buf.AvailableBuffer(), float64(y[off]), 'g', -1, 32))
			return off + 1
		}
		buf.WriteByte('[')
		for i := int64(0); i < shape[d]; i++ {
			if i > 0 {
				buf.WriteByte(',')
			}
			off = rec(off, d+1)
		}
		buf.WriteByte(']')
		return off
	}
	rec(0, 0)
}
