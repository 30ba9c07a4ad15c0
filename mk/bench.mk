# make bench: the Go pipeline against the Python notebook pipeline on the same SavedModel, same images,
# same machine, in one run (scripts/bench_compare.py; see BENCHMARKS.md). Included by the Makefile, which
# provides ROOT, PY, GO, MODELS, SHARED and the cgo flags, and the build and models targets.
#
#   make bench                                   288 images, 3 rounds of 2 passes (about 7 minutes on 2 cores)
#   make bench BENCH_IMAGES=72 BENCH_ROUNDS=1    a quick look
#   make bench BENCH_PROFILE=1                   also write build/bench/go-*.pprof (go tool pprof)
#   make bench-go                                the testing.B benchmarks of the pieces

BENCH_IMAGES  ?= 288
BENCH_ROUNDS  ?= 3
BENCH_REPS    ?= 2
BENCH_BATCH   ?= 32
# 2 cores: one TensorFlow op at a time using both of them, on both sides.
BENCH_INTRA   ?= 2
BENCH_INTER   ?= 1
BENCH_MODEL   ?= $(MODELS)/facenet-keras
# The Go modes again on the BatchNorm-folded export, as *-folded rows (empty: leave them out).
BENCH_FOLDED_MODEL ?= $(MODELS)/facenet-keras-folded
BENCH_OUT     ?= $(ROOT)/build/bench
BENCH_PROFILE ?=
BENCH_GO_PATTERN ?= .
BENCH_GO_TIME    ?= 1s

.PHONY: bench bench-go
bench: build models
	$(GO) build -o bin/facenet-bench ./cmd/facenet-bench
	$(PY) scripts/bench_compare.py --model $(BENCH_MODEL) --images-dir $(SHARED)/notebook/images \
	  --images $(BENCH_IMAGES) --rounds $(BENCH_ROUNDS) --reps $(BENCH_REPS) --batch $(BENCH_BATCH) \
	  --intra $(BENCH_INTRA) --inter $(BENCH_INTER) --go-bin bin/facenet-bench --out $(BENCH_OUT) \
	  $(if $(BENCH_FOLDED_MODEL),--folded-model $(BENCH_FOLDED_MODEL)) \
	  $(if $(BENCH_PROFILE),--profile)

bench-go: setup models
	$(GO) test -run '^$$' -bench '$(BENCH_GO_PATTERN)' -benchtime $(BENCH_GO_TIME) ./encoding ./verify ./tfmodel

.PHONY: bench-1n
## bench-1n: one probe against 1,000,000 enrolled 128-d embeddings (verify.Index), and the machine's
## memory bandwidth that bounds it.
bench-1n:
	CGO_ENABLED=0 $(GO) test -run '^$$' -bench 'Identify1M|Bandwidth|Kernel1M' -benchtime 50x ./verify
