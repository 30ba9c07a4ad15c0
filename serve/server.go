// Package serve is `facenet serve`: the pipeline of the root package behind HTTP and gRPC.
//
// It offers the Face API (embed, detect, verify, identify, enrol against a Store), the model itself
// with TensorFlow Serving's REST and gRPC PredictionService APIs, and request batching with TF
// Serving's semantics, so concurrent requests for one model share a Session.Run. It is a thin
// client of package facenet: decoding, preprocessing, detection and decisions are the library's,
// so an answer here is the CLI's answer.
//
// Images arrive in the request body only (multipart or base64 JSON); no request names a path on
// the server. Write routes need the bearer token when one is configured, and Serve refuses to
// expose writes on a non-loopback address without one.
package serve

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/verify"
	"google.golang.org/grpc"
)

// Model is one model the server offers, under Name (the TF Serving model name).
type Model struct {
	Name     string
	Pipeline *facenet.Pipeline
}

// Limits bound what one request may cost. Zero fields take the defaults of DefaultLimits.
type Limits struct {
	MaxBodyBytes      int64         // request body
	MaxPixels         int64         // decoded pixels per image (decompression bombs)
	MaxImages         int           // images per request
	MaxFaces          int           // faces per image
	MaxTopK           int           // identify's k
	RequestTimeout    time.Duration // whole request, queueing included
	ReadHeaderTimeout time.Duration // slowloris headers
	ReadTimeout       time.Duration // whole body
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	ShutdownTimeout   time.Duration // draining in-flight requests on shutdown
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxBodyBytes:      64 << 20, // TF Serving JSON: about 1.6 MB per 160x160 image
	MaxPixels:         40_000_000,
	MaxImages:         32,
	MaxFaces:          32,
	MaxTopK:           100,
	RequestTimeout:    30 * time.Second,
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       60 * time.Second,
	WriteTimeout:      90 * time.Second,
	IdleTimeout:       120 * time.Second,
	ShutdownTimeout:   30 * time.Second,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	pick := func(v *int64, def int64) {
		if *v <= 0 {
			*v = def
		}
	}
	pickInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	pickDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	pick(&l.MaxBodyBytes, d.MaxBodyBytes)
	pick(&l.MaxPixels, d.MaxPixels)
	pickInt(&l.MaxImages, d.MaxImages)
	pickInt(&l.MaxFaces, d.MaxFaces)
	pickInt(&l.MaxTopK, d.MaxTopK)
	pickDur(&l.RequestTimeout, d.RequestTimeout)
	pickDur(&l.ReadHeaderTimeout, d.ReadHeaderTimeout)
	pickDur(&l.ReadTimeout, d.ReadTimeout)
	pickDur(&l.WriteTimeout, d.WriteTimeout)
	pickDur(&l.IdleTimeout, d.IdleTimeout)
	pickDur(&l.ShutdownTimeout, d.ShutdownTimeout)
	return l
}

// Config configures New.
type Config struct {
	// Models are served by name; the first is the default of Face API requests naming none. The
	// server owns their pipelines and closes them.
	Models []Model
	// Store holds the identities; nil disables verify, identify and the identity routes. The
	// server owns it and closes it.
	Store Store
	// Batch configures request batching per model.
	Batch BatchOptions
	// Limits bound requests.
	Limits Limits
	// Token, when set, is the bearer token write routes require.
	Token string
	// ReadOnly refuses every write route with 403.
	ReadOnly bool
	// TLS, when set, serves HTTPS and gRPC over TLS.
	TLS *tls.Config
	// Logger receives one line per request (never a token or image bytes); nil discards.
	Logger *slog.Logger
}

// ErrExposedWrites is returned by Serve for a non-loopback address with writes enabled and no
// token: anyone who can reach it could rewrite the identities.
var ErrExposedWrites = errors.New("writes enabled on a non-loopback address without a token (set a token or --read-only)")

// Server is the service. Create it with New, run it with Serve, which closes it.
type Server struct {
	cfg     Config
	lim     Limits
	models  map[string]*model
	names   []string
	store   Store
	log     *slog.Logger
	metrics *metrics
	mux     *http.ServeMux
	grpc    *grpc.Server
	token   [32]byte // sha256 of the token, compared in constant time

	ready    atomic.Bool
	draining atomic.Bool

	searchMu sync.Mutex
	searchDB *verify.DB
	searcher verify.Searcher

	closeOnce sync.Once
	closeErr  error
}

// model is one served model: its pipeline, its batcher and an encoder that runs through it.
type model struct {
	name  string
	p     *facenet.Pipeline
	b     *batcher
	enc   *encoding.Encoder
	load  encoding.LoadOptions
	shape []int64 // input shape after the batch dimension
}

// New prepares the server: one batcher per model, each model warmed up by one run, so /readyz
// means the first request pays no graph optimization.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if len(cfg.Models) == 0 {
		return nil, errors.New("serve: no model")
	}
	s := &Server{cfg: cfg, lim: cfg.Limits.withDefaults(), models: map[string]*model{}, store: cfg.Store, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.token = sha256.Sum256([]byte(cfg.Token))
	s.metrics = newMetrics(s)
	for _, m := range cfg.Models {
		if _, dup := s.models[m.Name]; dup || m.Name == "" {
			return nil, fmt.Errorf("serve: model name %q is empty or given twice", m.Name)
		}
		sm, err := newModel(m, cfg.Batch, s.lim)
		if err != nil {
			return nil, fmt.Errorf("model %s: %w", m.Name, err)
		}
		sm.b.onBatch = func(rows int) { s.metrics.batchSize.WithLabelValues(m.Name).Observe(float64(rows)) }
		s.models[m.Name] = sm
		s.names = append(s.names, m.Name)
	}
	for _, name := range s.names {
		if err := s.models[name].warmUp(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("warm up model %s: %w", name, err)
		}
	}
	s.routes()
	s.grpc = s.newGRPC()
	s.ready.Store(true)
	return s, nil
}

func newModel(m Model, opts BatchOptions, lim Limits) (*model, error) {
	prof := m.Pipeline.Profile()
	in := prof.Input
	shape := []int64{int64(in.Height), int64(in.Width), int64(in.Channels)}
	if in.Layout == "NCHW" {
		shape = []int64{int64(in.Channels), int64(in.Height), int64(in.Width)}
	}
	b := newBatcher(m.Pipeline.Model(), shape, opts)
	enc, err := encoding.NewEncoder(b, prof, encoding.EncoderOptions{BatchSize: max(1, opts.MaxBatchSize), MaxPixels: lim.MaxPixels})
	if err != nil {
		b.close()
		return nil, err
	}
	interp, err := encoding.ParseInterpolation(in.Interpolation)
	if err != nil {
		b.close()
		return nil, err
	}
	return &model{
		name: m.Name, p: m.Pipeline, b: b, enc: enc, shape: shape,
		load: encoding.LoadOptions{
			Height: in.Height, Width: in.Width, Interpolation: interp, KeepAspectRatio: in.KeepAspectRatio,
			MaxPixels: lim.MaxPixels, JPEGDecoder: encoding.JPEGDecoder(in.JPEGDecoder),
		},
	}, nil
}

func (m *model) warmUp(ctx context.Context) error {
	n := 1
	for _, d := range m.shape {
		n *= int(d)
	}
	_, _, err := m.b.Predict(ctx, make([]float32, n), append([]int64{1}, m.shape...))
	return err
}

// Handler is the HTTP API, for tests and for embedding in another server.
func (s *Server) Handler() http.Handler { return s.observe(s.mux) }

// Serve answers HTTP on httpLn and, when grpcLn is not nil, gRPC on grpcLn until ctx is done, then
// shuts down gracefully: it stops accepting, reports not ready, lets in-flight requests finish
// (up to Limits.ShutdownTimeout), and closes the models and the store.
func (s *Server) Serve(ctx context.Context, httpLn, grpcLn net.Listener) error {
	defer s.Close()
	writes := !s.cfg.ReadOnly && s.store != nil
	for _, ln := range []net.Listener{httpLn, grpcLn} {
		if ln != nil && writes && s.cfg.Token == "" && !isLoopback(ln.Addr()) {
			return fmt.Errorf("serve %s: %w", ln.Addr(), ErrExposedWrites)
		}
	}
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: s.lim.ReadHeaderTimeout,
		ReadTimeout:       s.lim.ReadTimeout,
		WriteTimeout:      s.lim.WriteTimeout,
		IdleTimeout:       s.lim.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	if s.cfg.TLS != nil {
		httpLn = tls.NewListener(httpLn, s.cfg.TLS)
	}
	errc := make(chan error, 2)
	go func() { errc <- hs.Serve(httpLn) }()
	if grpcLn != nil {
		go func() { errc <- s.grpc.Serve(grpcLn) }()
	}
	s.log.Info("serving", "http", httpLn.Addr().String(), "grpc", addrString(grpcLn), "models", s.names)
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	s.ready.Store(false)
	s.draining.Store(true)
	s.log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), s.lim.ShutdownTimeout)
	defer cancel()
	done := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(done) }()
	if serr := hs.Shutdown(sctx); serr != nil && err == nil {
		err = serr
	}
	select {
	case <-done:
	case <-sctx.Done():
		s.grpc.Stop()
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	s.log.Info("stopped")
	return err
}

func addrString(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// Close stops the batchers and closes the models and the store. Serve calls it.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.ready.Store(false)
		var errs []error
		for _, name := range s.names {
			m := s.models[name]
			m.b.close()
			errs = append(errs, m.p.Close())
		}
		if s.store != nil {
			errs = append(errs, s.store.Close())
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}

// routes registers every route.
func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embed", s.handleEmbed)
	mux.HandleFunc("POST /v1/detect", s.handleDetect)
	mux.HandleFunc("POST /v1/verify", s.handleVerify)
	mux.HandleFunc("POST /v1/identify", s.handleIdentify)
	mux.HandleFunc("POST /v1/enroll", s.writeOnly(s.handleEnroll))
	mux.HandleFunc("DELETE /v1/identities/{name}", s.writeOnly(s.handleRemove))
	mux.HandleFunc("GET /v1/identities", s.handleList)
	mux.HandleFunc("GET /v1/models/{rest...}", s.handleModelGet)
	mux.HandleFunc("POST /v1/models/{rest...}", s.handleModelPost)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errorf(http.StatusNotFound, CodeNotFound, "no route %s %s", r.Method, r.URL.Path))
	})
	s.mux = mux
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if !s.ready.Load() {
		writeError(w, errorf(http.StatusServiceUnavailable, CodeUnavailable, "not ready"))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "models": s.names})
}

// writeOnly guards a write route: 403 when writes are off, 401 without a bearer token, 403 with a
// wrong one. Tokens are compared as SHA-256 digests in constant time, so neither their bytes nor
// their length leak through timing.
func (s *Server) writeOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.ReadOnly {
			writeError(w, errorf(http.StatusForbidden, CodeForbidden, "this server is read-only"))
			return
		}
		if s.cfg.Token != "" {
			auth := r.Header.Get("Authorization")
			const prefix = "Bearer "
			if len(auth) <= len(prefix) || auth[:len(prefix)] != prefix {
				w.Header().Set("WWW-Authenticate", `Bearer realm="facenet"`)
				writeError(w, errorf(http.StatusUnauthorized, CodeUnauthorized, "write routes need an Authorization: Bearer token"))
				return
			}
			got := sha256.Sum256([]byte(auth[len(prefix):]))
			if subtle.ConstantTimeCompare(got[:], s.token[:]) != 1 {
				writeError(w, errorf(http.StatusForbidden, CodeForbidden, "wrong token"))
				return
			}
		}
		h(w, r)
	}
}

// statusWriter records the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

type ctxKey struct{}

// requestID returns the request's id, for logs.
func requestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

// observe wraps every request: a request id (the client's X-Request-Id when it is a sane token),
// the body limit, the time limit, the metrics and one log line. Only the method, route, status,
// sizes and duration are logged: never headers (tokens) or bodies (images).
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if !saneID(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-Id", id)
		_, route := s.mux.Handler(r)
		if route == "/" {
			route = "unmatched"
		}
		ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), ctxKey{}, id), s.lim.RequestTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, s.lim.MaxBodyBytes)
		sw := &statusWriter{ResponseWriter: w}
		s.metrics.inflight.Inc()
		next.ServeHTTP(sw, r)
		s.metrics.inflight.Dec()
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		s.metrics.observe(route, sw.status, d)
		level := slog.LevelInfo
		if sw.status >= 500 {
			level = slog.LevelWarn
		}
		s.log.LogAttrs(ctx, level, "request", slog.String("id", id), slog.String("method", r.Method),
			slog.String("route", route), slog.Int("status", sw.status), slog.Int64("bytes_in", r.ContentLength),
			slog.Duration("duration", d))
	})
}

func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c == '-' || c == '_' || c == '.' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return false
		}
	}
	return true
}

// model returns the named model, the default one for "".
func (s *Server) model(name string) (*model, error) {
	if name == "" {
		name = s.names[0]
	}
	m, ok := s.models[name]
	if !ok {
		return nil, errorf(http.StatusNotFound, CodeUnknownModel, "no model %q (serving %v)", name, s.names)
	}
	return m, nil
}

// snapshot returns the store's current DB, checked against m's space, and a searcher over it
// that is rebuilt only when the snapshot changed.
func (s *Server) snapshot(ctx context.Context, m *model) (*verify.DB, verify.Searcher, error) {
	if s.store == nil {
		return nil, nil, errorf(http.StatusNotFound, CodeUnknownID, "this server has no identity store (--db)")
	}
	db, err := s.store.Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := db.Space().Check(m.p.Space()); err != nil {
		return nil, nil, fmt.Errorf("model %s and the store: %w", m.name, err)
	}
	s.searchMu.Lock()
	defer s.searchMu.Unlock()
	if s.searchDB != db {
		s.searchDB, s.searcher = db, verify.NewSearcher(db)
	}
	return db, s.searcher, nil
}

// CheckExposure is Serve's refusal, for callers that want it before loading models: writes (a
// store and not read-only) on an address that is not loopback need a token. An empty host
// ("":8080) listens on every interface, so it is exposed.
func CheckExposure(addr string, writes bool, token string) error {
	if !writes || token != "" {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("serve %s: %w", addr, ErrExposedWrites)
}
