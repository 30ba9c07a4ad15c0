/* big_cmyk_jpeg: write a large, nearly flat, progressive CMYK JPEG of a small file size, the shape of
 * issue 16's class 5 input (13000x13000 in about 1.3 MB): its decoder must hold libjpeg's whole-image
 * coefficient buffer (2 bytes per sample per component, 1.35 GB at 13000x13000) although the file is small.
 *
 *   big_cmyk_jpeg OUT.jpg WIDTH HEIGHT
 *
 * One interleaved DC scan (no successive approximation, so about one bit per block and component)
 * and one AC scan per component (end-of-band runs) keep the file near 1 bit per 8x8 block and
 * component; optimized Huffman tables make the flat blocks' codes one bit long. Rows are generated
 * as they are written, so the writer holds no image, only libjpeg's own coefficient buffer.
 * Compiled against Debian's jpeglib.h and linked with any libjpeg 6.2 ABI library (the Go test uses
 * the libjpeg-turbo of build/pillow-libs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <jpeglib.h>

int main(int argc, char **argv) {
	struct jpeg_compress_struct cinfo;
	struct jpeg_error_mgr jerr;
	jpeg_scan_info scans[5];
	JSAMPLE *row;
	FILE *out;
	int w, h, x, y, i;
	if (argc != 4 || (w = atoi(argv[2])) <= 0 || (h = atoi(argv[3])) <= 0) {
		fprintf(stderr, "usage: big_cmyk_jpeg OUT.jpg WIDTH HEIGHT\n");
		return 2;
	}
	out = fopen(argv[1], "wb");
	if (out == NULL) {
		perror(argv[1]);
		return 1;
	}
	cinfo.err = jpeg_std_error(&jerr);
	jpeg_create_compress(&cinfo);
	jpeg_stdio_dest(&cinfo, out);
	cinfo.image_width = (JDIMENSION)w;
	cinfo.image_height = (JDIMENSION)h;
	cinfo.input_components = 4;
	cinfo.in_color_space = JCS_CMYK;
	jpeg_set_defaults(&cinfo);
	jpeg_set_quality(&cinfo, 75, TRUE);
	cinfo.optimize_coding = TRUE;
	scans[0].comps_in_scan = 4;
	for (i = 0; i < 4; i++) {
		scans[0].component_index[i] = i;
	}
	scans[0].Ss = scans[0].Se = scans[0].Ah = scans[0].Al = 0;
	for (i = 0; i < 4; i++) {
		scans[i + 1].comps_in_scan = 1;
		scans[i + 1].component_index[0] = i;
		scans[i + 1].Ss = 1;
		scans[i + 1].Se = 63;
		scans[i + 1].Ah = scans[i + 1].Al = 0;
	}
	cinfo.scan_info = scans;
	cinfo.num_scans = 5;
	jpeg_start_compress(&cinfo, TRUE);
	row = malloc((size_t)w * 4);
	for (y = 0; y < h; y++) {
		for (x = 0; x < w; x++) {
			/* flat quadrants with a thin diagonal: a few blocks carry detail */
			JSAMPLE *p = row + 4 * (size_t)x;
			p[0] = (JSAMPLE)(x < w / 2 ? 40 : 200);
			p[1] = (JSAMPLE)(y < h / 2 ? 90 : 10);
			p[2] = (JSAMPLE)((x + y) % 4096 < 8 ? 255 : 120);
			p[3] = (JSAMPLE)30;
		}
		jpeg_write_scanlines(&cinfo, &row, 1);
	}
	jpeg_finish_compress(&cinfo);
	jpeg_destroy_compress(&cinfo);
	fclose(out);
	free(row);
	return 0;
}
