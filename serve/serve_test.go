package serve

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/internal/testenv"
	"github.com/facenet-go/facenet/store"
	"github.com/facenet-go/facenet/verify"
	"github.com/stretchr/testify/require"
)

const testToken = "test-token-0123456789"

// running is a server started on loopback for a test, with its own copy of the model the answers
// are compared with.
type running struct {
	url, grpcAddr string
	lib           *facenet.Pipeline // opened separately: the library's batch-1 reference
	dbPath        string
	srv           *Server
	cancel        context.CancelFunc
	done          chan error
}

var (
	sharedOnce sync.Once
	shared     *running
	sharedErr  error
)

func images(t testing.TB, names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = testenv.Testdata(t, filepath.Join("images", n))
	}
	return out
}

// start opens the models and serves them on free loopback ports until the test binary ends (or
// stop is called).
func start(t testing.TB, cfg Config, detect bool) *running {
	t.Helper()
	ctx := context.Background()
	dir := testenv.Model(t, "facenet-keras")
	lib, err := facenet.Open(ctx, dir, facenet.Options{})
	require.NoError(t, err)
	served, err := facenet.Open(ctx, dir, facenet.Options{})
	require.NoError(t, err)
	cfg.Models = []Model{{Name: "facenet", Pipeline: served}}
	if detect {
		photo, err := facenet.Open(ctx, dir, facenet.Options{Detect: &facenet.DetectOptions{Margin: facenet.DefaultMargin}})
		require.NoError(t, err)
		// The accuracy profile (prewhiten, bilinear) is another embedding space than the store's.
		acc, err := facenet.Open(ctx, dir, facenet.Options{Profile: "accuracy"})
		require.NoError(t, err)
		cfg.Models = append(cfg.Models, Model{Name: "facenet-photo", Pipeline: photo}, Model{Name: "facenet-accuracy", Pipeline: acc})
	}
	tmp, err := os.MkdirTemp("", "serve-test-")
	require.NoError(t, err)
	r := &running{lib: lib, dbPath: filepath.Join(tmp, "ids.db"), done: make(chan error, 1)}
	if cfg.Store == nil {
		space := served.Space()
		cfg.Store, err = store.Open(ctx, r.dbPath, store.Options{Space: &space})
		require.NoError(t, err)
	}
	r.srv, err = New(ctx, cfg)
	require.NoError(t, err)
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r.url, r.grpcAddr = "http://"+hl.Addr().String(), gl.Addr().String()
	if cfg.TLS != nil {
		r.url = "https://" + hl.Addr().String()
	}
	sctx, cancel := context.WithCancel(ctx)
	r.cancel = cancel
	go func() { r.done <- r.srv.Serve(sctx, hl, gl) }()
	return r
}

func (r *running) stop() error {
	r.cancel()
	err := <-r.done
	r.lib.Close()
	os.RemoveAll(filepath.Dir(r.dbPath))
	return err
}

// sharedServer is the server most tests use: both models, a token, batching on.
func sharedServer(t testing.TB) *running {
	t.Helper()
	sharedOnce.Do(func() {
		shared = start(t, Config{
			Token:  testToken,
			Batch:  BatchOptions{MaxBatchSize: 32, BatchTimeout: 2 * time.Millisecond, MaxEnqueuedBatches: 16, NumBatchThreads: 1},
			Limits: Limits{MaxBodyBytes: 8 << 20, ReadHeaderTimeout: time.Second},
		}, true)
	})
	require.NotNil(t, shared, "shared server failed to start")
	return shared
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		if err := shared.stop(); err != nil {
			fmt.Fprintln(os.Stderr, "shutdown:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// call is one HTTP request and its decoded JSON answer.
func call(t testing.TB, method, url, token, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	return callWith(t, http.DefaultClient, method, url, token, contentType, body)
}

// callWith is call with another client (TLS).
func callWith(t testing.TB, client *http.Client, method, url, token, contentType string, body io.Reader) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.Unmarshal(raw, &out), "body %q", raw)
	return resp.StatusCode, out
}

// multipartBody holds the files as "image" parts and the fields as form fields.
func multipartBody(t testing.TB, fields map[string]string, files ...string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, mw.WriteField(k, v))
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		w, err := mw.CreateFormFile("image", filepath.Base(f))
		require.NoError(t, err)
		_, _ = w.Write(data)
	}
	require.NoError(t, mw.Close())
	return mw.FormDataContentType(), &buf
}

// jsonBody is the base64 JSON form of a request.
func jsonBody(t testing.TB, fields map[string]any, files ...string) *bytes.Buffer {
	t.Helper()
	var imgs []map[string]string
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		imgs = append(imgs, map[string]string{"name": filepath.Base(f), "b64": base64.StdEncoding.EncodeToString(data)})
	}
	if fields == nil {
		fields = map[string]any{}
	}
	fields["images"] = imgs
	b, err := json.Marshal(fields)
	require.NoError(t, err)
	return bytes.NewBuffer(b)
}

func floats(v any) []float32 {
	list := v.([]any)
	out := make([]float32, len(list))
	for i, x := range list {
		out[i] = float32(x.(float64))
	}
	return out
}

func requireClose(t testing.TB, want, got []float32, tol float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), msg)
	for i := range want {
		require.LessOrEqual(t, math.Abs(float64(want[i])-float64(got[i])), tol, "%s: component %d: %v vs %v", msg, i, want[i], got[i])
	}
}

func errCode(body map[string]any) string {
	c, _ := body["code"].(string)
	return c
}

// TestFaceAPI walks the Face API: writes and their auth, reads, and every error class.
func TestFaceAPI(t *testing.T) {
	r := sharedServer(t)
	ctx := context.Background()
	younes, camera0, kian := images(t, "younes.jpg")[0], images(t, "camera_0.jpg")[0], images(t, "kian.jpg")[0]

	// Writes need the token: none is 401, a wrong one 403, and neither writes anything.
	ct, body := multipartBody(t, map[string]string{"identity": "younes"}, younes)
	code, out := call(t, "POST", r.url+"/v1/enroll", "", ct, body)
	require.Equal(t, 401, code)
	require.Equal(t, CodeUnauthorized, errCode(out))
	ct, body = multipartBody(t, map[string]string{"identity": "younes"}, younes)
	code, out = call(t, "POST", r.url+"/v1/enroll", "wrong", ct, body)
	require.Equal(t, 403, code)
	require.Equal(t, CodeForbidden, errCode(out))
	require.Zero(t, storedDB(t, r.dbPath).Len(), "a refused write must not enrol anyone")

	for _, id := range []string{"younes", "kian"} {
		ct, body = multipartBody(t, map[string]string{"identity": id}, images(t, id+".jpg")...)
		code, out = call(t, "POST", r.url+"/v1/enroll", testToken, ct, body)
		require.Equal(t, 201, code, "%v", out)
		require.EqualValues(t, 1, out["samples"])
	}
	code, out = call(t, "GET", r.url+"/v1/identities", "", "", nil)
	require.Equal(t, 200, code)
	require.Equal(t, []any{map[string]any{"name": "younes", "samples": 1.0}, map[string]any{"name": "kian", "samples": 1.0}}, out["identities"])

	// verify, as JSON with base64, against the library's decision on the same file.
	db := storedDB(t, r.dbPath)
	want, err := r.lib.Verify(ctx, camera0, "younes", db)
	require.NoError(t, err)
	code, out = call(t, "POST", r.url+"/v1/verify", "", "application/json", jsonBody(t, map[string]any{"identity": "younes"}, camera0))
	require.Equal(t, 200, code, "%v", out)
	require.Equal(t, want.Accepted, out["accepted"])
	require.Equal(t, "It's younes, welcome in!", out["message"])
	require.InDelta(t, want.Distance, out["distance"], 1e-6)

	// identify with top-k, multipart, two images: each is the library's who_is_it.
	ct, body = multipartBody(t, map[string]string{"k": "2"}, camera0, kian)
	code, out = call(t, "POST", r.url+"/v1/identify", "", ct, body)
	require.Equal(t, 200, code, "%v", out)
	res := out["results"].([]any)
	require.Len(t, res, 2)
	for i, path := range []string{camera0, kian} {
		m, err := r.lib.Identify(ctx, path, verify.NewSearcher(db))
		require.NoError(t, err)
		got := res[i].(map[string]any)
		require.Equal(t, m.Identity, got["identity"])
		require.Equal(t, m.Known, got["known"])
		require.Equal(t, filepath.Base(path), got["image"])
		require.Len(t, got["top"], 2)
	}

	// embed: the library's Encode, within TensorFlow's batch rounding.
	code, out = call(t, "POST", r.url+"/v1/embed", "", "application/json", jsonBody(t, nil, camera0))
	require.Equal(t, 200, code)
	lib, err := r.lib.Encode(ctx, camera0)
	require.NoError(t, err)
	requireClose(t, lib[0], floats(out["results"].([]any)[0].(map[string]any)["embedding"]), 1e-6, "embed")

	// detect with the photo model: mtcnn's box (testdata/detect/golden_mtcnn.json).
	ct, body = multipartBody(t, map[string]string{"model": "facenet-photo"}, images(t, "andrew.jpg")...)
	code, out = call(t, "POST", r.url+"/v1/detect", "", ct, body)
	require.Equal(t, 200, code, "%v", out)
	face := out["results"].([]any)[0].(map[string]any)["faces"].([]any)[0].(map[string]any)
	require.Equal(t, []any{31.0, 15.0, 42.0, 61.0}, face["box"])
	// identify with the photo model: every face, with its box.
	ct, body = multipartBody(t, map[string]string{"model": "facenet-photo"}, camera0)
	code, out = call(t, "POST", r.url+"/v1/identify", "", ct, body)
	require.Equal(t, 200, code, "%v", out)
	require.Contains(t, out["results"].([]any)[0], "box")

	huge := append(append([]byte(`{"image": "`), bytes.Repeat([]byte("A"), 9<<20)...), `"}`...)
	errorsCases := []struct {
		name, method, path, token, ct string
		body                          io.Reader
		status                        int
		code                          string
	}{
		{"not an image", "POST", "/v1/embed", "", "application/json", strings.NewReader(`{"image": "bm90IGFuIGltYWdl"}`), 400, CodeBadImage},
		{"not base64", "POST", "/v1/embed", "", "application/json", strings.NewReader(`{"image": "***"}`), 400, CodeBadImage},
		{"malformed JSON", "POST", "/v1/embed", "", "application/json", strings.NewReader(`{"image": `), 400, CodeBadRequest},
		{"no image", "POST", "/v1/embed", "", "application/json", strings.NewReader(`{}`), 400, CodeBadRequest},
		{"truncated multipart", "POST", "/v1/embed", "", "multipart/form-data; boundary=XX", strings.NewReader("--XX\r\nContent-Disposition: form-data; name=\"image\"; filename=\"a.jpg\"\r\n\r\nabc"), 400, CodeBadRequest},
		{"bomb image", "POST", "/v1/embed", "", "application/json", strings.NewReader(`{"image": "` + base64.StdEncoding.EncodeToString(bombPNG(t)) + `"}`), 413, CodeTooLarge},
		{"body too large", "POST", "/v1/embed", "", "application/json", bytes.NewReader(huge), 413, CodeTooLarge},
		{"unknown model", "POST", "/v1/embed", "", "application/json", jsonBody(t, map[string]any{"model": "nope"}, camera0), 404, CodeUnknownModel},
		{"unknown identity", "POST", "/v1/verify", "", "application/json", jsonBody(t, map[string]any{"identity": "nobody"}, camera0), 404, CodeUnknownID},
		{"detect without a detector", "POST", "/v1/detect", "", "application/json", jsonBody(t, nil, camera0), 400, CodeNoDetector},
		{"bad name", "POST", "/v1/enroll", testToken, "application/json", jsonBody(t, map[string]any{"identity": "a\nb"}, camera0), 400, CodeInvalidName},
		{"remove unknown", "DELETE", "/v1/identities/nobody", testToken, "", nil, 404, CodeUnknownID},
		{"remove without token", "DELETE", "/v1/identities/kian", "", "", nil, 401, CodeUnauthorized},
		{"model of another space", "POST", "/v1/verify", "", "application/json", jsonBody(t, map[string]any{"identity": "younes", "model": "facenet-accuracy"}, camera0), 409, CodeModelMismatch},
		{"enrol from another space", "POST", "/v1/enroll", testToken, "application/json", jsonBody(t, map[string]any{"identity": "x", "model": "facenet-accuracy"}, camera0), 409, CodeModelMismatch},
		{"no route", "GET", "/v1/nothing", "", "", nil, 404, CodeNotFound},
	}
	for _, tc := range errorsCases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := call(t, tc.method, r.url+tc.path, tc.token, tc.ct, tc.body)
			require.Equal(t, tc.status, code, "%v", out)
			require.Equal(t, tc.code, errCode(out), "%v", out)
			require.NotEmpty(t, out["message"])
		})
	}
	// Nothing above changed the store.
	after := storedDB(t, r.dbPath)
	require.Equal(t, []string{"younes", "kian"}, after.Names())

	code, _ = call(t, "DELETE", r.url+"/v1/identities/kian", testToken, "", nil)
	require.Equal(t, 200, code)
	code, out = call(t, "GET", r.url+"/v1/identities", "", "", nil)
	require.Equal(t, 200, code)
	require.Len(t, out["identities"], 1)

	// Operations routes.
	code, out = call(t, "GET", r.url+"/healthz", "", "", nil)
	require.Equal(t, 200, code)
	code, out = call(t, "GET", r.url+"/readyz", "", "", nil)
	require.Equal(t, 200, code)
	require.Equal(t, []any{"facenet", "facenet-photo", "facenet-accuracy"}, out["models"])
	resp, err := http.Get(r.url + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, series := range []string{
		`facenet_serve_requests_total{code="201",route="POST /v1/enroll"} 2`,
		`facenet_serve_request_duration_seconds_bucket{route="POST /v1/verify"`,
		`facenet_serve_batch_size_bucket{model="facenet"`,
		`facenet_serve_queue_depth{model="facenet"} 0`,
		`facenet_serve_store_identities 1`,
	} {
		require.Contains(t, string(metrics), series)
	}
}

// TestBatchedAnswersMatchBatchOne sends concurrent requests so they share model runs, and checks
// each answer against the library's batch-1 Encode: embeddings within 1e-6, identical decisions.
func TestBatchedAnswersMatchBatchOne(t *testing.T) {
	r := sharedServer(t)
	ctx := context.Background()
	paths := images(t, "andrew.jpg", "arnaud.jpg", "benoit.jpg", "bertrand.jpg", "camera_0.jpg", "camera_1.jpg",
		"camera_2.jpg", "camera_3.jpg", "camera_4.jpg", "camera_5.jpg", "dan.jpg", "felix.jpg", "kevin.jpg",
		"kian.jpg", "sebastiano.jpg", "tian.jpg", "younes.jpg")
	want, err := r.lib.Encode(ctx, paths...)
	require.NoError(t, err)
	const rounds = 3
	var wg sync.WaitGroup
	errs := make(chan error, rounds*len(paths))
	for range rounds {
		for i, p := range paths {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ct, body := multipartBody(t, nil, p)
				resp, err := http.Post(r.url+"/v1/embed", ct, body)
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				var out struct {
					Results []struct {
						Embedding []float32 `json:"embedding"`
					} `json:"results"`
				}
				if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 200 {
					errs <- fmt.Errorf("%s: status %d, %v", p, resp.StatusCode, err)
					return
				}
				for k := range want[i] {
					if d := math.Abs(float64(want[i][k] - out.Results[0].Embedding[k])); d > 1e-6 {
						errs <- fmt.Errorf("%s: component %d differs by %g", p, k, d)
						return
					}
				}
				// The decision the notebook takes on this vector is the batch-1 one.
				for j := range want {
					a := float64(distance(want[i], want[j])) < 0.7
					b := float64(distance(out.Results[0].Embedding, want[j])) < 0.7
					if a != b {
						errs <- fmt.Errorf("%s vs %s: decision changed in a batch", p, paths[j])
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	resp, err := http.Get(r.url + "/metrics")
	require.NoError(t, err)
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NotContains(t, string(m), `facenet_serve_batch_size_bucket{model="facenet",le="1"} `+fmt.Sprint(rounds*len(paths)+1)+"\n",
		"concurrent requests never shared a batch")
}

func distance(a, b []float32) float32 {
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return float32(math.Sqrt(s))
}

// storedDB is the store at path as another process reads it, through its own connection.
func storedDB(t *testing.T, path string) *verify.DB {
	t.Helper()
	st, err := store.Open(context.Background(), path, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	db, err := st.Current(context.Background())
	require.NoError(t, err)
	return db
}
