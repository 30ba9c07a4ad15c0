# make fuzz / make reliability: the long forms of the reliability checks (see RELIABILITY.md).
# Included by the Makefile, which provides ROOT, PY, GO, VENV, MODELS, the cgo flags and the setup
# and models targets. The short forms run in `make test`: go test runs every Fuzz target over its
# seeds and the Reliability tests with few rounds and kills.
#
#   make fuzz                              every Fuzz target of the module, FUZZTIME (30s) each
#   make fuzz FUZZ=FuzzPreprocess FUZZTIME=10m   one target, longer
#   make reliability                       32 x 200 concurrent embeddings, a 10,000-embedding soak,
#                                          100 SIGKILLs of a database writer and of `facenet enroll`,
#                                          the race detector; logs in build/reliability/
#   make bad-corpus                        regenerate testdata/bad (committed)
#
# A fuzzer's failing input lands in <package>/testdata/fuzz/<FuzzName>/: commit it with the fix,
# and go test replays it from then on.

FUZZTIME     ?= 30s
# Minimizing a new input may otherwise take 60 s per input on the large seeds.
FUZZMINTIME  ?= 50x
FUZZPARALLEL ?= 2
FUZZ         ?= .
FUZZ_PKGS    ?= ./...
CRASH_TRIALS ?= 100
SOAK_N       ?= 10000
SOAK_MODEL   ?= $(MODELS)/dlib-resnet-v1
SOAK_IMAGES  ?= $(sort $(wildcard testdata/images/*.jpg testdata/images/*.png testdata/faceapi/crops/*.png))
REL_OUT      ?= $(ROOT)/build/reliability

HOSTILE_MODELS := $(MODELS)/hostile/.done

# The hostile SavedModels are test inputs like the others: `make models` (and so `make test`) builds them.
models: $(HOSTILE_MODELS)

$(HOSTILE_MODELS): scripts/make_hostile_models.py $(VENV)/.installed
	$(PY) scripts/make_hostile_models.py --out $(MODELS)/hostile
	@touch $@

.PHONY: fuzz reliability bad-corpus

bad-corpus: $(VENV)/.installed
	$(PY) scripts/make_bad_corpus.py --out testdata/bad

# Go 1.26's fuzz coordinator can fail a run at the -fuzztime deadline with a bare "context
# deadline exceeded" and no input written (golang/go#75804, fixed in Go 1.27): such a run is
# reported as a flake, not a failure.
fuzz: setup models
	@mkdir -p $(REL_OUT)/fuzz
	@failed=""; flaked=""; \
	for pkg in $$($(GO) list $(FUZZ_PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep -E '^Fuzz' | grep -E -- '$(FUZZ)' || true); do \
	    log=$(REL_OUT)/fuzz/$$t.log; \
	    echo "== $$pkg $$t ($(FUZZTIME), log $$log)"; \
	    if $(GO) test -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) \
	        -parallel $(FUZZPARALLEL) $$pkg > $$log 2>&1; then tail -n 2 $$log; \
	    elif grep -q 'context deadline exceeded' $$log && ! grep -qE 'Failing input written|seed corpus|panic:' $$log; then \
	      grep 'elapsed' $$log | tail -n 1; echo "   (flake: coordinator deadline race, no failing input)"; flaked="$$flaked $$t"; \
	    else grep -E -A 12 -- '--- FAIL|panic:' $$log | head -n 30; failed="$$failed $$t"; fi; \
	  done; \
	done; \
	if [ -n "$$flaked" ]; then echo "fuzz: deadline flakes:$$flaked"; fi; \
	if [ -n "$$failed" ]; then echo "fuzz: failing:$$failed (inputs in <package>/testdata/fuzz/<target>/)"; exit 1; fi

reliability: setup models
	@mkdir -p $(REL_OUT)
	set -o pipefail; FACENET_LONG=1 FACENET_CRASH_TRIALS=$(CRASH_TRIALS) $(GO) test -count=1 -timeout 60m -v \
	  -run 'Reliability' ./encoding ./tfmodel ./cmd/facenet 2>&1 | tee $(REL_OUT)/tests.log | grep -E '^(---|ok|FAIL|PASS)|reliability_test.go'
	set -o pipefail; FACENET_CRASH_TRIALS=$(CRASH_TRIALS) $(GO) test -count=1 -timeout 30m -v \
	  -run 'TestSaveSurvivesSIGKILL' ./verify 2>&1 | tee $(REL_OUT)/crash.log | grep -E '^(---|ok|FAIL)|kills'
	$(GO) build -o bin/facenet-soak ./cmd/facenet-soak
	set -o pipefail; bin/facenet-soak -model $(SOAK_MODEL) -n $(SOAK_N) -every 1000 -warmup 1000 -max-growth 5 \
	  $(SOAK_IMAGES) 2>&1 | tee $(REL_OUT)/soak.txt
	set -o pipefail; $(GO) test -race -count=1 ./savedmodel/... ./verify/... ./internal/... 2>&1 | tee $(REL_OUT)/race.log
	set -o pipefail; $(GO) test -race -count=1 -run 'Reliability|Concurrent|Close' \
	  ./encoding ./tfmodel ./cmd/facenet 2>&1 | tee -a $(REL_OUT)/race.log
