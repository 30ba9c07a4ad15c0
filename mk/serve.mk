# facenet serve (issue 15): the real TensorFlow Serving client its tests run, and its load benchmark.
#
#   make bench-serve                       the load generator against loopback (about 4 minutes on 2 cores)
#   make bench-serve BENCH_SERVE_SOAK=2000 a shorter soak

# tensorflow-serving-api's declared requirement is the tensorflow (GPU) wheel; what it needs at run
# time (tensorflow-cpu, grpcio, protobuf) is pinned in requirements.txt, so it goes in without deps.
$(STAMP)/serve-py: scripts/requirements-serve.txt $(VENV)/.installed
	@mkdir -p $(STAMP)
	$(PY) -m pip install -q --disable-pip-version-check --no-deps -r scripts/requirements-serve.txt
	@touch $@

test-go: $(STAMP)/serve-py

BENCH_SERVE_SOAK ?= 10000
BENCH_SERVE_SECONDS ?= 8

.PHONY: bench-serve
## bench-serve: facenet serve under load on loopback: batching on/off, the library's batched Encode,
##   p50/p99 at 1..64 clients, errors, and a soak (RSS, goroutines).
bench-serve: setup models
	$(GO) test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkServe$$' -benchtime 1x ./serve/ \
	  -args -serve.seconds $(BENCH_SERVE_SECONDS) -serve.soak $(BENCH_SERVE_SOAK)
