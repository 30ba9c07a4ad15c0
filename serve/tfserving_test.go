package serve

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/stretchr/testify/require"
)

// TestTensorFlowServingClients runs scripts/serve_client.py, which speaks to the server with plain
// HTTP (REST: status, metadata, :predict in row and columnar form) and with the PyPI
// tensorflow-serving-api gRPC stub (Predict, GetModelMetadata), its input made by Keras' load_img
// as the notebook makes it. Every output must be the library's raw model output for the same
// files, within TensorFlow's batch rounding.
func TestTensorFlowServingClients(t *testing.T) {
	r := sharedServer(t)
	root := testenv.ModuleRoot(t)
	paths := images(t, "camera_0.jpg", "younes.jpg", "kian.jpg")
	cmd := exec.Command(filepath.Join(root, ".venv", "bin", "python"), filepath.Join(root, "scripts", "serve_client.py"),
		"check", "--http", r.url, "--grpc", r.grpcAddr, "--model", "facenet")
	cmd.Args = append(cmd.Args, paths...)
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=3", "CUDA_VISIBLE_DEVICES=")
	cmd.Stderr = os.Stderr
	stdout, err := cmd.Output()
	require.NoError(t, err, "serve_client.py")
	var out struct {
		Status struct {
			ModelVersionStatus []struct {
				Version, State string
			} `json:"model_version_status"`
		} `json:"status"`
		Metadata struct {
			ModelSpec struct{ Name, Version string } `json:"model_spec"`
			Metadata  struct {
				SignatureDef struct {
					SignatureDef map[string]struct {
						Inputs     map[string]struct{ Dtype string } `json:"inputs"`
						MethodName string                            `json:"method_name"`
					} `json:"signature_def"`
				} `json:"signature_def"`
			} `json:"metadata"`
		} `json:"metadata"`
		RestRow          [][]float32 `json:"rest_row"`
		RestRowNamed     [][]float32 `json:"rest_row_named"`
		RestColumnar     [][]float32 `json:"rest_columnar"`
		RestUnknownModel struct {
			Status int
			Body   map[string]string
		} `json:"rest_unknown_model"`
		GRPCPredict   [][]float32 `json:"grpc_predict"`
		GRPCModelSpec struct {
			Name    string
			Version int
		} `json:"grpc_model_spec"`
		GRPCMetadata struct {
			Inputs     map[string][]int64
			Outputs    map[string][]int64
			MethodName string `json:"method_name"`
		} `json:"grpc_metadata"`
		GRPCUnknownModel string `json:"grpc_unknown_model"`
		FaceEmbed        []struct {
			Image     string    `json:"image"`
			Embedding []float32 `json:"embedding"`
		} `json:"face_embed"`
	}
	require.NoError(t, json.Unmarshal(stdout, &out))

	require.Len(t, out.Status.ModelVersionStatus, 1)
	require.Equal(t, "AVAILABLE", out.Status.ModelVersionStatus[0].State)
	require.Equal(t, "facenet", out.Metadata.ModelSpec.Name)
	sig := out.Metadata.Metadata.SignatureDef.SignatureDef["serving_default"]
	require.Equal(t, "DT_FLOAT", sig.Inputs["input_1"].Dtype)
	require.Equal(t, "tensorflow/serving/predict", sig.MethodName)
	require.Equal(t, 404, out.RestUnknownModel.Status)
	require.Contains(t, out.RestUnknownModel.Body["error"], "nosuchmodel")
	require.Equal(t, "facenet", out.GRPCModelSpec.Name)
	require.Equal(t, 1, out.GRPCModelSpec.Version)
	require.Equal(t, []int64{-1, 160, 160, 3}, out.GRPCMetadata.Inputs["input_1"])
	require.Equal(t, []int64{-1, 128}, out.GRPCMetadata.Outputs["output_0"])
	require.Equal(t, "NOT_FOUND", out.GRPCUnknownModel)

	raw, err := r.lib.Encoder().EncodeRaw(context.Background(), paths...)
	require.NoError(t, err)
	for name, got := range map[string][][]float32{
		"REST instances": out.RestRow, "REST named instances": out.RestRowNamed,
		"REST columnar inputs": out.RestColumnar, "gRPC Predict": out.GRPCPredict,
	} {
		require.Len(t, got, len(paths), name)
		for i := range paths {
			requireClose(t, raw[i], got[i], 1e-5, name+" "+filepath.Base(paths[i]))
		}
	}
	emb, err := r.lib.Encode(context.Background(), paths...)
	require.NoError(t, err)
	require.Len(t, out.FaceEmbed, len(paths))
	for i := range paths {
		require.Equal(t, filepath.Base(paths[i]), out.FaceEmbed[i].Image)
		requireClose(t, emb[i], out.FaceEmbed[i].Embedding, 1e-6, "Face API embed "+filepath.Base(paths[i]))
	}
}
