package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/serve"
	"github.com/facenet-go/facenet/store"
)

func init() {
	register(command{
		name:    "serve",
		summary: "serve the pipeline over HTTP and gRPC (Face API, TensorFlow Serving-compatible)",
		run:     runServe,
	})
}

// tokenEnv is the environment variable the write token is read from when --token-file is not set.
const tokenEnv = "FACENET_SERVE_TOKEN"

// modelList is the repeatable --model flag: DIR (named after the folder) or NAME=DIR.
type modelList []struct{ name, dir string }

func (l *modelList) String() string { return "" }

func (l *modelList) Set(s string) error {
	name, dir, named := strings.Cut(s, "=")
	if !named {
		dir, name = s, filepath.Base(filepath.Clean(s))
	}
	if name == "" || dir == "" {
		return errors.New("want DIR or NAME=DIR")
	}
	for _, m := range *l {
		if m.name == name {
			return fmt.Errorf("model name %q given twice", name)
		}
	}
	*l = append(*l, struct{ name, dir string }{name, dir})
	return nil
}

func runServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", "--model DIR [--model NAME=DIR ...] [--db STORE] [--addr 127.0.0.1:8080] [flags]\n\n"+
		"Serves the Face API (/v1/embed, /v1/detect, /v1/verify, /v1/identify, /v1/enroll, /v1/identities),\n"+
		"TensorFlow Serving's REST API (/v1/models/NAME[:predict|/metadata]) and its gRPC PredictionService,\n"+
		"/healthz, /readyz and /metrics. SIGTERM drains in-flight requests and exits.\n", stderr)
	var models modelList
	fs.Var(&models, "model", "SavedModel directory, or NAME=DIR; repeat for several models (the first is the Face API's default)")
	dbPath := fs.String("db", "", "identity store for verify, identify and enroll: a SQLite path (created if missing) or a postgres:// URL, in the first model's embedding space")
	addr := fs.String("addr", "127.0.0.1:8080", "HTTP listen address (loopback by default)")
	grpcAddr := fs.String("grpc-addr", "127.0.0.1:8500", `gRPC listen address (TF Serving's PredictionService); "" disables it`)
	pf := addPhotoFlags(fs)
	maxBatch := intFlag(fs, "max-batch-size", 32, 1, "TF Serving's max_batch_size: most images in one model run")
	batchTimeout := intFlag(fs, "batch-timeout-micros", 1000, 0, "TF Serving's batch_timeout_micros: how long a batch waits to fill")
	maxEnqueued := intFlag(fs, "max-enqueued-batches", 16, 1, "TF Serving's max_enqueued_batches: queued batches beyond which requests get 429")
	batchThreads := intFlag(fs, "num-batch-threads", 1, 1, "TF Serving's num_batch_threads: model runs at once (TensorFlow already uses every core in one)")
	exact := fs.Bool("exact", false, "run every image alone (batch 1), the library's and the notebook's digits exactly")
	maxBody := fs.Int64("max-body-bytes", serve.DefaultLimits.MaxBodyBytes, "largest request body")
	maxPixels := fs.Int64("max-pixels", serve.DefaultLimits.MaxPixels, "largest decoded image, in pixels")
	maxImages := intFlag(fs, "max-images", serve.DefaultLimits.MaxImages, 1, "most images (or :predict instances) per request")
	maxFaces := intFlag(fs, "max-faces", serve.DefaultLimits.MaxFaces, 1, "most faces per photo")
	reqTimeout := fs.Duration("request-timeout", serve.DefaultLimits.RequestTimeout, "time limit of one request, queueing included")
	headerTimeout := fs.Duration("read-header-timeout", serve.DefaultLimits.ReadHeaderTimeout, "time limit for a request's headers")
	shutdownTimeout := fs.Duration("shutdown-timeout", serve.DefaultLimits.ShutdownTimeout, "on SIGTERM, how long in-flight requests may take to finish")
	tokenFile := fs.String("token-file", "", "file holding the bearer token write routes require (default: $"+tokenEnv+")")
	readOnly := fs.Bool("read-only", false, "refuse enroll and delete")
	tlsCert := fs.String("tls-cert", "", "PEM certificate: serve HTTPS and gRPC over TLS (with --tls-key)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	logJSON := fs.Bool("log-json", false, "log JSON lines instead of text")
	rest, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError("unexpected arguments %q", rest)
	}
	if len(models) == 0 {
		return usageError("--model is required")
	}
	if (*tlsCert == "") != (*tlsKey == "") {
		return usageError("--tls-cert and --tls-key go together")
	}
	token, err := readToken(*tokenFile)
	if err != nil {
		return err
	}
	writes := *dbPath != "" && !*readOnly
	for _, a := range []string{*addr, *grpcAddr} {
		if a == "" {
			continue
		}
		if err := serve.CheckExposure(a, writes, token); err != nil {
			return usageError("%v", err)
		}
	}
	var tlsConf *tls.Config
	if *tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(*tlsCert, *tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if *logJSON {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	logger := slog.New(handler)

	batch := serve.BatchOptions{
		MaxBatchSize: *maxBatch, BatchTimeout: time.Duration(*batchTimeout) * time.Microsecond,
		MaxEnqueuedBatches: *maxEnqueued, NumBatchThreads: *batchThreads,
	}
	if *exact {
		batch.MaxBatchSize = 1
	}
	cfg := serve.Config{
		Batch: batch, Token: token, ReadOnly: *readOnly, TLS: tlsConf, Logger: logger,
		Limits: serve.Limits{
			MaxBodyBytes: *maxBody, MaxPixels: *maxPixels, MaxImages: *maxImages, MaxFaces: *maxFaces,
			RequestTimeout: *reqTimeout, ReadHeaderTimeout: *headerTimeout, ShutdownTimeout: *shutdownTimeout,
		},
	}
	closeAll := func() {
		for _, m := range cfg.Models {
			m.Pipeline.Close()
		}
		if cfg.Store != nil {
			cfg.Store.Close()
		}
	}
	for _, m := range models {
		logger.Info("loading model", "name", m.name, "dir", m.dir)
		p, err := facenet.Open(cmdContext, m.dir, facenet.Options{Detect: pf.options(), MaxPixels: *maxPixels})
		if err != nil {
			closeAll()
			return fmt.Errorf("model %s: %w", m.name, err)
		}
		cfg.Models = append(cfg.Models, serve.Model{Name: m.name, Pipeline: p})
	}
	if *dbPath != "" {
		space := cfg.Models[0].Pipeline.Space()
		st, err := store.Open(cmdContext, *dbPath, store.Options{Space: &space})
		if err != nil {
			closeAll()
			return fmt.Errorf("--db: %w", err)
		}
		cfg.Store = st
	}
	// Listen before warming up, so a port in use fails fast.
	hl, err := net.Listen("tcp", *addr)
	if err != nil {
		closeAll()
		return err
	}
	var gl net.Listener
	if *grpcAddr != "" {
		if gl, err = net.Listen("tcp", *grpcAddr); err != nil {
			hl.Close()
			closeAll()
			return err
		}
	}
	srv, err := serve.New(cmdContext, cfg)
	if err != nil {
		hl.Close()
		if gl != nil {
			gl.Close()
		}
		closeAll()
		return err
	}
	return srv.Serve(cmdContext, hl, gl)
}

// readToken reads the write token from path, or from $FACENET_SERVE_TOKEN without one. A token
// file that is empty is an error, not "no token".
func readToken(path string) (string, error) {
	if path == "" {
		return os.Getenv(tokenEnv), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("--token-file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("--token-file %s: empty", path)
	}
	return tok, nil
}
