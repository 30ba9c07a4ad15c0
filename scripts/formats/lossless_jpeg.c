/* lossless_jpeg: write a lossless (SOF3) JPEG with libjpeg-turbo 3.x, which Pillow's encoder cannot.
 *
 *   lossless_jpeg IN.pnm OUT.jpg PSV PT COLORSPACE [RESTART_ROWS]
 *
 * IN is a binary PGM (P5) or PPM (P6) with maxval 255; PSV the predictor (1-7), PT the point transform
 * (0-7); COLORSPACE "rgb" stores RGB as is, "ycc" converts to YCbCr first (libjpeg's lossless mode
 * converts without subsampling), "gray" for PGM input. scripts/golden_formats.py compiles this against
 * Debian's libjpeg62-turbo-dev headers and links the libjpeg-turbo 3.0.4 that Pillow's wheel bundles
 * (build/pillow-libs): the 62 ABI is the same, and jpeg_enable_lossless, new in 3.0, is declared here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>

void jpeg_enable_lossless(j_compress_ptr cinfo, int predictor_selection_value, int point_transform);

static int read_pnm(const char *path, int *w, int *h, int *comps, unsigned char **pix) {
	FILE *f = fopen(path, "rb");
	char magic[3] = {0};
	int maxval;
	size_t n;
	if (f == NULL || fscanf(f, "%2s %d %d %d", magic, w, h, &maxval) != 4 || maxval != 255) {
		return 0;
	}
	fgetc(f);
	*comps = strcmp(magic, "P6") == 0 ? 3 : 1;
	n = (size_t)*w * (size_t)*h * (size_t)*comps;
	*pix = malloc(n);
	if (fread(*pix, 1, n, f) != n) {
		return 0;
	}
	fclose(f);
	return 1;
}

int main(int argc, char **argv) {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	int w, h, comps, y;
	unsigned char *pix;
	FILE *out;
	if (argc < 6 || !read_pnm(argv[1], &w, &h, &comps, &pix)) {
		fprintf(stderr, "usage: lossless_jpeg IN.pnm OUT.jpg PSV PT rgb|ycc|gray [RESTART_ROWS]\n");
		return 2;
	}
	out = fopen(argv[2], "wb");
	if (out == NULL) {
		perror(argv[2]);
		return 1;
	}
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_stdio_dest(&cinfo, out);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = comps;
	cinfo.in_color_space = comps == 3 ? JCS_RGB : JCS_GRAYSCALE;
	jpeg_set_defaults(&cinfo);
	if (strcmp(argv[5], "rgb") == 0) {
		jpeg_set_colorspace(&cinfo, JCS_RGB);
	}
	jpeg_enable_lossless(&cinfo, atoi(argv[3]), atoi(argv[4]));
	if (argc > 6) {
		cinfo.restart_in_rows = atoi(argv[6]);
	}
	jpeg_start_compress(&cinfo, TRUE);
	for (y = 0; y < h; y++) {
		JSAMPROW row = pix + (size_t)y * (size_t)w * (size_t)comps;
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	fclose(out);
	free(pix);
	return 0;
}
