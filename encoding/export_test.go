package encoding

import "os"

// LoadEstimate is what the decode budget reserves for LoadImg(path, opts) on a JPEG that Load
// decodes keeping only the rows the NEAREST resize reads (0 when that path does not apply).
func LoadEstimate(path string, opts LoadOptions) (int64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	h, err := parseJPEGHeader(data)
	if err != nil {
		return 0, err
	}
	p := nearestRowPlan(h.width, h.height, opts)
	if p == nil {
		return 0, nil
	}
	return decodeEstimate(data, DecodeOptions{}, p.rows), nil
}
