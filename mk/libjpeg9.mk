# libjpeg9: the second JPEG decoder, IJG libjpeg 9d (JVERSION "9d  12-Jan-2020"), the library the Keras
# notebook's Pillow <= 8.4 decoded with. Its licence is the IJG README licence ("this software is based
# in part on the work of the Independent JPEG Group"). Both pieces come from PyPI, hash-pinned in
# scripts/requirements-libjpeg9.txt, and land under build/ (never committed):
#   build/libjpeg9/libjpeg.so.9   Pillow 8.4.0's bundled Pillow.libs/libjpeg-183418da.so.9.4.0, byte for byte
#   build/libjpeg9/include/libjpeg9/{jpeglib,jmorecfg,jerror}.h   jpeg-9d's headers from the jpeglib sdist
#   build/libjpeg9/include/libjpeg9/jconfig.h  what jpeg-9d's ./configure writes on Linux (the sdist's is empty)
# internal/libjpeg9 compiles against the headers and dlopens the .so at run time, so binaries start
# without it; the golden script drives the same .so through ctypes.

LIBJPEG9       := $(ROOT)/build/libjpeg9
LIBJPEG9_SO    := $(LIBJPEG9)/libjpeg.so.9
LIBJPEG9_WHEEL := Pillow-8.4.0-cp310-cp310-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
LIBJPEG9_SDIST := jpeglib-0.12.8.tar.gz
LIBJPEG9_SO_SHA256 := d41f672f1caf3ecbd6ae43ed7a13bcf9178f25ee2ace2bfbe886484c59d01777
LIBJPEG9_H_SHA256  := d3c4e0646a205d3cd57d06fbf91900295bada8cf14a5eb0ef8c1614acf85c70f
export FACENET_LIBJPEG9 := $(LIBJPEG9_SO)

.PHONY: libjpeg9
## libjpeg9: IJG libjpeg 9d (.so and headers) under build/libjpeg9 for --jpeg-decoder libjpeg9.
libjpeg9: $(STAMP)/libjpeg9

$(STAMP)/libjpeg9: scripts/requirements-libjpeg9.txt $(VENV)/.installed
	@mkdir -p $(ROOT)/build/downloads $(LIBJPEG9)/include/libjpeg9 $(STAMP)
	$(PY) -m pip download -q --disable-pip-version-check --no-deps --require-hashes \
	  --only-binary Pillow --no-binary jpeglib --python-version 3.10 --implementation cp --abi cp310 \
	  --platform manylinux_2_17_x86_64 -d $(ROOT)/build/downloads -r scripts/requirements-libjpeg9.txt
	$(PY) -c 'import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); \
	  open(sys.argv[2], "wb").write(z.read("Pillow.libs/libjpeg-183418da.so.9.4.0"))' \
	  $(ROOT)/build/downloads/$(LIBJPEG9_WHEEL) $(LIBJPEG9_SO).tmp
	echo "$(LIBJPEG9_SO_SHA256)  $(LIBJPEG9_SO).tmp" | sha256sum -c --quiet
	mv $(LIBJPEG9_SO).tmp $(LIBJPEG9_SO)
	tar -xzf $(ROOT)/build/downloads/$(LIBJPEG9_SDIST) -C $(LIBJPEG9)/include/libjpeg9 --strip-components=4 \
	  jpeglib-0.12.8/jpeglib/cjpeglib/9d/jpeglib.h jpeglib-0.12.8/jpeglib/cjpeglib/9d/jmorecfg.h \
	  jpeglib-0.12.8/jpeglib/cjpeglib/9d/jerror.h
	echo "$(LIBJPEG9_H_SHA256)  $(LIBJPEG9)/include/libjpeg9/jpeglib.h" | sha256sum -c --quiet
	printf '%s\n' '/* jpeg-9d jconfig.h as ./configure writes it on Linux (written by mk/libjpeg9.mk). */' \
	  '#define HAVE_PROTOTYPES 1' '#define HAVE_UNSIGNED_CHAR 1' '#define HAVE_UNSIGNED_SHORT 1' \
	  '#define HAVE_STDDEF_H 1' '#define HAVE_STDLIB_H 1' '#include <stdio.h>' '#include <stddef.h>' \
	  > $(LIBJPEG9)/include/libjpeg9/jconfig.h
	@touch $@

# make golden also writes testdata/preprocess/libjpeg9 (scripts/golden_libjpeg9.py), which needs the library
# and libjpeg-turbo's cjpeg for the 4:4:0 and 4:1:1 files Pillow cannot write.
golden: $(STAMP)/libjpeg9 $(STAMP)/apt-cjpeg

$(STAMP)/apt-cjpeg:
	@mkdir -p $(STAMP)
	@if command -v cjpeg >/dev/null; then echo "apt: cjpeg present"; \
	else echo "apt: installing libjpeg-turbo-progs"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libjpeg-turbo-progs; fi
	@touch $@

# scripts/tests/test_golden_libjpeg9.py runs the script against the library.
test-py: $(STAMP)/libjpeg9 $(STAMP)/apt-cjpeg
