# pillow-libs: the decoders Pillow itself runs. The pinned Pillow 11.0.0 wheel in .venv bundles
# libjpeg-turbo 3.0.4 and libwebp 1.4.0 (pillow.libs/); internal/libjpegturbo and internal/libwebp
# dlopen byte-for-byte copies of them from build/pillow-libs/ (never committed), so JPEG and WebP
# pixels are Pillow's by construction. The copies keep the wheel's file names, which are also their
# SONAMEs: libwebp needs libsharpyuv and libwebpdemux needs libwebp by those names. Each is
# sha256-checked here and again by internal/pillowlibs when it is loaded.
#
# The cgo side compiles against Debian's libjpeg62-turbo-dev jpeglib.h (APT_PACKAGES, `make setup`):
# libjpeg-turbo 3.0.4 keeps the libjpeg 6.2 ABI. The few libwebp declarations are in internal/libwebp.

PILLOW_LIBS     := $(ROOT)/build/pillow-libs
PILLOW_LIBS_SRC  = $(shell $(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/pillow.libs
# name sha256, as internal/pillowlibs lists them
PILLOW_LIBS_SUMS := \
  libjpeg-45e70d75.so.62.4.0:1e7818d0aa22603ed6642d3971c282beaa6901a958333b5ff2303b8b5ffe4a0a \
  libsharpyuv-898c0cb5.so.0.1.0:6cb84e415687c46688c68315b768c338854f083a1ed710330f2abd72d63aeef2 \
  libwebp-2fd3cdca.so.7.1.9:4181f98f98df6c076e8b6790e2840a9a9a085664432804ac2e82fbbb946f0767 \
  libwebpdemux-f2642bcc.so.2.0.15:f37b7e5d40ce430a22ef195092d7f2b6d8678ca43f6e517e6fbe7ee9c0f50148
export FACENET_PILLOW_LIBS := $(PILLOW_LIBS)

.PHONY: pillow-libs
## pillow-libs: Pillow's own libjpeg-turbo 3.0.4 and libwebp 1.4.0, copied from .venv to build/pillow-libs.
pillow-libs: $(STAMP)/pillow-libs

# Everything here prints to stderr: `env` depends on it (see the Makefile's note on eval).
$(STAMP)/pillow-libs: mk/pillowlibs.mk $(VENV)/.installed
	@mkdir -p $(PILLOW_LIBS) $(STAMP)
	@for entry in $(PILLOW_LIBS_SUMS); do \
	  name=$${entry%%:*}; sum=$${entry##*:}; \
	  cp "$(PILLOW_LIBS_SRC)/$$name" "$(PILLOW_LIBS)/$$name.tmp" || exit 1; \
	  echo "$$sum  $(PILLOW_LIBS)/$$name.tmp" | sha256sum -c --quiet >&2 || { \
	    echo "pillow-libs: $(PILLOW_LIBS_SRC)/$$name is not Pillow 11.0.0's (scripts/requirements.txt pins it)" >&2; exit 1; }; \
	  mv "$(PILLOW_LIBS)/$$name.tmp" "$(PILLOW_LIBS)/$$name"; \
	done
	@echo "pillow-libs: $(PILLOW_LIBS) holds Pillow's libjpeg-turbo and libwebp" >&2
	@touch $@

setup env: $(STAMP)/pillow-libs

# make golden runs scripts/golden_formats.py, which compiles scripts/formats/lossless_jpeg.c against the
# same library (and Debian's jpeglib.h).
golden: $(STAMP)/pillow-libs $(STAMP)/apt

test-py: $(STAMP)/pillow-libs
