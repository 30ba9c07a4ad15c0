# make bench-photo (issue 18): the photo pipeline end to end, Python reference against Go, same photos,
# same TensorFlow threads, one timed pass each after one warm-up pass (scripts/bench_photo.py).
#
#   make bench-photo                      face-api's 6 demo photos (1920 wide, 1-5 faces) and the 25
#                                         5-celebrity val photos; prints both sides' ms/photo and the ratio
#   make bench-photo BENCH_PHOTO_PROFILE=1   also write build/bench/go-photo.pprof (go tool pprof)

BENCH_PHOTO_PHOTOS  ?= $(sort $(wildcard $(FACEAPI)/demo/sample*.jpg)) $(sort $(wildcard $(CELEB5)/val/*/*))
BENCH_PHOTO_PROFILE ?=

.PHONY: bench-photo
bench-photo: build models $(CELEB5)/.done
	$(GO) build -o bin/facenet-bench ./cmd/facenet-bench
	@mkdir -p $(BENCH_OUT)
	$(PY) scripts/bench_photo.py --model $(MODELS)/facenet-keras --profile accuracy --margin 32 \
	  --intra $(BENCH_INTRA) --inter $(BENCH_INTER) --go-bin bin/facenet-bench \
	  $(if $(BENCH_PHOTO_PROFILE),--go-profile $(BENCH_OUT)/go-photo.pprof) \
	  --photos $(BENCH_PHOTO_PHOTOS)
