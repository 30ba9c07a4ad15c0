package serve

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"time"

	"github.com/facenet-go/facenet/savedmodel"
	"github.com/wamuir/graft/tensorflow/core/framework/tensor_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/tensor_shape_go_proto"
	"github.com/wamuir/graft/tensorflow/core/framework/types_go_proto"
	"github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	pb "github.com/wamuir/graft/tensorflow/serving/apis_go_proto"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gRPC: tensorflow.serving.PredictionService's Predict and GetModelMetadata. graft ships the
// generated messages of TF Serving's apis (apis_go_proto) but not the grpc-go service stubs, so the
// service is described here by hand; the method names and message types are the .proto's, which
// is all the wire format depends on. Classify, Regress and MultiInference answer Unimplemented.

// predictionService is the HandlerType of the service description.
type predictionService interface {
	Predict(context.Context, *pb.PredictRequest) (*pb.PredictResponse, error)
	GetModelMetadata(context.Context, *pb.GetModelMetadataRequest) (*pb.GetModelMetadataResponse, error)
}

var predictionServiceDesc = grpc.ServiceDesc{
	ServiceName: "tensorflow.serving.PredictionService",
	HandlerType: (*predictionService)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Predict", Handler: unary(func(s predictionService, ctx context.Context, in *pb.PredictRequest) (any, error) {
			return s.Predict(ctx, in)
		})},
		{MethodName: "GetModelMetadata", Handler: unary(func(s predictionService, ctx context.Context, in *pb.GetModelMetadataRequest) (any, error) {
			return s.GetModelMetadata(ctx, in)
		})},
	},
	Metadata: "tensorflow_serving/apis/prediction_service.proto",
}

// unary builds a grpc.MethodDesc handler (what protoc-gen-go-grpc generates per method).
func unary[Req any](call func(predictionService, context.Context, *Req) (any, error)) func(any, context.Context, func(any) error, grpc.UnaryServerInterceptor) (any, error) {
	return func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		in := new(Req)
		if err := dec(in); err != nil {
			return nil, err
		}
		if icpt == nil {
			return call(srv.(predictionService), ctx, in)
		}
		info := &grpc.UnaryServerInfo{Server: srv}
		return icpt(ctx, in, info, func(ctx context.Context, req any) (any, error) {
			return call(srv.(predictionService), ctx, req.(*Req))
		})
	}
}

// grpcService implements predictionService over the server's models.
type grpcService struct{ s *Server }

func (s *Server) newGRPC() *grpc.Server {
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(s.lim.MaxBodyBytes)),
		grpc.ConnectionTimeout(s.lim.ReadHeaderTimeout),
		grpc.ChainUnaryInterceptor(s.grpcObserve),
	}
	if s.cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(s.cfg.TLS)))
	}
	g := grpc.NewServer(opts...)
	g.RegisterService(&predictionServiceDesc, grpcService{s})
	return g
}

// grpcObserve gives gRPC calls the HTTP routes' time limit, metrics and log line.
func (s *Server) grpcObserve(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, s.lim.RequestTimeout)
	defer cancel()
	if s.draining.Load() {
		return nil, status.Error(codes.Unavailable, ErrShuttingDown.Error())
	}
	resp, err := h(ctx, req)
	route := "grpc " + methodName(req)
	code := status.Code(err)
	s.metrics.observe(route, grpcHTTPStatus(code), time.Since(start))
	s.log.LogAttrs(ctx, levelFor(code), "request", slog.String("route", route), slog.String("code", code.String()), slog.Duration("duration", time.Since(start)))
	return resp, err
}

func methodName(req any) string {
	switch req.(type) {
	case *pb.PredictRequest:
		return "Predict"
	case *pb.GetModelMetadataRequest:
		return "GetModelMetadata"
	}
	return "unknown"
}

func grpcHTTPStatus(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.Unavailable, codes.DeadlineExceeded:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// grpcModel resolves a ModelSpec: the name, version 1 or no version, any label.
func (g grpcService) grpcModel(spec *pb.ModelSpec) (*model, error) {
	m, ok := g.s.models[spec.GetName()]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "Servable not found for request: Latest(%s)", spec.GetName())
	}
	if v := spec.GetVersion(); v != nil && v.GetValue() != 1 {
		return nil, status.Errorf(codes.NotFound, "Servable not found for request: Specific(%s, %d)", spec.GetName(), v.GetValue())
	}
	if sn := spec.GetSignatureName(); sn != "" && sn != m.p.Model().Signature().Key {
		return nil, status.Errorf(codes.InvalidArgument, "Serving signature key %q not found.", sn)
	}
	return m, nil
}

func (g grpcService) spec(m *model) *pb.ModelSpec {
	return &pb.ModelSpec{
		Name: m.name, SignatureName: m.p.Model().Signature().Key,
		VersionChoice: &pb.ModelSpec_Version{Version: wrapperspb.Int64(1)},
	}
}

// Predict runs the request's input through the model's batcher.
func (g grpcService) Predict(ctx context.Context, req *pb.PredictRequest) (*pb.PredictResponse, error) {
	m, err := g.grpcModel(req.GetModelSpec())
	if err != nil {
		return nil, err
	}
	in, _ := m.p.Model().Input()
	out, _ := m.p.Model().Output()
	if len(req.GetInputs()) != 1 || req.GetInputs()[in.Key] == nil {
		return nil, status.Errorf(codes.InvalidArgument, "want exactly the input %q", in.Key)
	}
	for _, f := range req.GetOutputFilter() {
		if f != out.Key {
			return nil, status.Errorf(codes.InvalidArgument, "output tensor alias not found in signature: %s", f)
		}
	}
	x, shape, err := fromTensorProto(req.GetInputs()[in.Key])
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "input %s: %v", in.Key, err)
	}
	y, yshape, err := g.s.predict(ctx, m, x, shape)
	if err != nil {
		return nil, grpcError(err)
	}
	return &pb.PredictResponse{
		ModelSpec: g.spec(m),
		Outputs:   map[string]*tensor_go_proto.TensorProto{out.Key: toTensorProto(y, yshape)},
	}, nil
}

// GetModelMetadata answers the one metadata field TF Serving has, signature_def.
func (g grpcService) GetModelMetadata(ctx context.Context, req *pb.GetModelMetadataRequest) (*pb.GetModelMetadataResponse, error) {
	m, err := g.grpcModel(req.GetModelSpec())
	if err != nil {
		return nil, err
	}
	if len(req.GetMetadataField()) == 0 {
		return nil, status.Error(codes.InvalidArgument, "GetModelMetadataRequest must specify at least one metadata_field")
	}
	resp := &pb.GetModelMetadataResponse{ModelSpec: g.spec(m), Metadata: map[string]*anypb.Any{}}
	for _, f := range req.GetMetadataField() {
		if f != "signature_def" {
			return nil, status.Errorf(codes.InvalidArgument, "Metadata field %s is not supported", f)
		}
		sig := m.p.Model().Signature()
		any, err := anypb.New(&pb.SignatureDefMap{SignatureDef: map[string]*for_core_protos_go_proto.SignatureDef{sig.Key: signatureProto(sig)}})
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		resp.Metadata[f] = any
	}
	return resp, nil
}

func signatureProto(sig savedmodel.Signature) *for_core_protos_go_proto.SignatureDef {
	infos := func(ts []savedmodel.Tensor) map[string]*for_core_protos_go_proto.TensorInfo {
		out := map[string]*for_core_protos_go_proto.TensorInfo{}
		for _, t := range ts {
			out[t.Key] = &for_core_protos_go_proto.TensorInfo{
				Encoding:    &for_core_protos_go_proto.TensorInfo_Name{Name: t.Name},
				Dtype:       types_go_proto.DataType(t.DType),
				TensorShape: shapeProto(t.Shape, t.UnknownRank),
			}
		}
		return out
	}
	return &for_core_protos_go_proto.SignatureDef{Inputs: infos(sig.Inputs), Outputs: infos(sig.Outputs), MethodName: sig.MethodName}
}

func shapeProto(shape []int64, unknownRank bool) *tensor_shape_go_proto.TensorShapeProto {
	p := &tensor_shape_go_proto.TensorShapeProto{UnknownRank: unknownRank}
	for _, d := range shape {
		p.Dim = append(p.Dim, &tensor_shape_go_proto.TensorShapeProto_Dim{Size: d})
	}
	return p
}

// fromTensorProto reads a DT_FLOAT TensorProto from float_val or tensor_content (what
// tf.make_tensor_proto writes), as TensorFlow does: one float_val value fills the whole tensor.
func fromTensorProto(t *tensor_go_proto.TensorProto) ([]float32, []int64, error) {
	if t.GetDtype() != types_go_proto.DataType_DT_FLOAT {
		return nil, nil, errors.New("dtype " + t.GetDtype().String() + ", the model takes DT_FLOAT")
	}
	var shape []int64
	n := int64(1)
	for _, d := range t.GetTensorShape().GetDim() {
		if d.GetSize() < 0 || d.GetSize() > 1<<31 {
			return nil, nil, errors.New("bad dimension")
		}
		shape = append(shape, d.GetSize())
		n *= d.GetSize()
		if n > 1<<31 {
			return nil, nil, errors.New("tensor too large")
		}
	}
	switch {
	case len(t.GetTensorContent()) > 0:
		b := t.GetTensorContent()
		if int64(len(b)) != 4*n {
			return nil, nil, errors.New("tensor_content size does not match the shape")
		}
		x := make([]float32, n)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return x, shape, nil
	case int64(len(t.GetFloatVal())) == n:
		return t.GetFloatVal(), shape, nil
	case len(t.GetFloatVal()) == 1:
		x := make([]float32, n)
		for i := range x {
			x[i] = t.GetFloatVal()[0]
		}
		return x, shape, nil
	}
	return nil, nil, errors.New("float_val size does not match the shape")
}

func toTensorProto(y []float32, shape []int64) *tensor_go_proto.TensorProto {
	return &tensor_go_proto.TensorProto{Dtype: types_go_proto.DataType_DT_FLOAT, TensorShape: shapeProto(shape, false), FloatVal: y}
}

// grpcError maps the service's errors to gRPC codes as TF Serving does.
func grpcError(err error) error {
	ae := toAPIError(err)
	c := codes.Internal
	switch ae.Status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		c = codes.InvalidArgument
	case http.StatusNotFound:
		c = codes.NotFound
	case http.StatusTooManyRequests:
		c = codes.ResourceExhausted
	case http.StatusServiceUnavailable:
		c = codes.Unavailable
		if ae.Code == CodeTimeout {
			c = codes.DeadlineExceeded
		}
	}
	return status.Error(c, ae.Message)
}

func levelFor(c codes.Code) slog.Level {
	if c == codes.Internal || c == codes.Unknown {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}
