# npsort: the x86-simd-sort headers numpy 2.0.2 vendors and compiles its np.argsort from, for
# internal/npsort (cgo compiles them with -I build/npsort/x86-simd-sort/src). They come from numpy's
# own sdist on PyPI, hash-pinned, so the sort is the one numpy 2.0.2 runs, not a later x86-simd-sort;
# the code is Intel's, BSD-3-Clause (its LICENSE.md lands beside it). Never committed.
# pip cannot download this sdist (it would build numpy's metadata with meson), so the file is fetched
# by its PyPI address and checked against the hash PyPI publishes for it.

NPSORT        := $(ROOT)/build/npsort
NPSORT_SDIST  := numpy-2.0.2.tar.gz
NPSORT_URL    := https://files.pythonhosted.org/packages/a9/75/10dd1f8116a8b796cb2c737b674e02d02e80454bda953fa7e65d8c12b016/$(NPSORT_SDIST)
NPSORT_SHA256 := 883c987dee1880e2a864ab0dc9892292582510604156762362d9326444636e78
NPSORT_PATH   := numpy-2.0.2/numpy/_core/src/npysort/x86-simd-sort

.PHONY: npsort
## npsort: numpy 2.0.2's x86-simd-sort headers under build/npsort, for internal/npsort's argsort.
npsort: $(STAMP)/npsort

# Everything here prints to stderr: `env` depends on it (see the Makefile's note on eval).
$(STAMP)/npsort: mk/npsort.mk
	@mkdir -p $(ROOT)/build/downloads $(STAMP)
	@if ! echo "$(NPSORT_SHA256)  $(ROOT)/build/downloads/$(NPSORT_SDIST)" | sha256sum -c --quiet >/dev/null 2>&1; then \
	  echo "npsort: downloading $(NPSORT_SDIST) from PyPI" >&2; \
	  $(PYTHON3) -c 'import sys, urllib.request; urllib.request.urlretrieve(sys.argv[1], sys.argv[2])' \
	    "$(NPSORT_URL)" "$(ROOT)/build/downloads/$(NPSORT_SDIST).tmp" >&2 && \
	  echo "$(NPSORT_SHA256)  $(ROOT)/build/downloads/$(NPSORT_SDIST).tmp" | sha256sum -c --quiet >&2 && \
	  mv "$(ROOT)/build/downloads/$(NPSORT_SDIST).tmp" "$(ROOT)/build/downloads/$(NPSORT_SDIST)"; fi
	@rm -rf $(NPSORT).tmp && mkdir -p $(NPSORT).tmp/x86-simd-sort
	@tar -xzf $(ROOT)/build/downloads/$(NPSORT_SDIST) -C $(NPSORT).tmp/x86-simd-sort --strip-components=6 \
	  $(NPSORT_PATH)/src $(NPSORT_PATH)/LICENSE.md
	@rm -rf $(NPSORT) && mv $(NPSORT).tmp $(NPSORT)
	@echo "npsort: $(NPSORT)/x86-simd-sort holds numpy 2.0.2's x86-simd-sort" >&2
	@touch $@

setup env: $(STAMP)/npsort

.PHONY: golden-npsort
golden: golden-npsort
## golden-npsort: testdata/npsort/argsort.json, numpy's np.argsort under each of its three sorts
## (needs a CPU with AVX512_SKX, to run numpy's AVX-512 sort).
golden-npsort: $(VENV)/.installed
	$(PY) scripts/golden_argsort.py --out testdata/npsort/argsort.json
