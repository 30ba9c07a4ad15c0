package encoding

import (
	"bytes"
	"context"
	"encoding/binary"
	"sync"

	"golang.org/x/sync/semaphore"
)

// DefaultDecodeBudget is the memory that concurrent decodes may hold together before a new one
// waits: 1 GiB.
const DefaultDecodeBudget = 1 << 30

// The process-wide decode budget. A decode reserves what its header says it will need
// (decodeEstimate) and gives it back when it returns, so concurrent decodes of large images wait
// for each other instead of multiplying the peak: `embed` of two 13000x13000 progressive files
// decodes them one after the other. A decode that needs more than the whole budget reserves the
// whole budget, i.e. runs alone.
var budget = struct {
	mu   sync.Mutex
	size int64
	sem  *semaphore.Weighted
}{size: DefaultDecodeBudget, sem: semaphore.NewWeighted(DefaultDecodeBudget)}

// SetDecodeBudget sets the memory, in bytes, that the decodes running at the same time in this
// process (Decode, DecodeFile, Load, LoadImg, and so every Encoder) may reserve together, and
// returns the previous budget. Each decode reserves its estimate from the image header (pixel
// buffers, and for progressive JPEG libjpeg's coefficient buffer, packed where Load drops rows);
// one larger than the budget runs alone. n <= 0 disables the budget. Decodes already running keep their reservation in the old
// budget.
func SetDecodeBudget(n int64) int64 {
	budget.mu.Lock()
	defer budget.mu.Unlock()
	prev := budget.size
	budget.size = n
	budget.sem = nil
	if n > 0 {
		budget.sem = semaphore.NewWeighted(n)
	}
	return prev
}

// reserveDecode takes n bytes of the budget (at most all of it), waiting for them if need be,
// and returns the function that gives them back.
func reserveDecode(n int64) func() {
	budget.mu.Lock()
	sem, size := budget.sem, budget.size
	budget.mu.Unlock()
	if sem == nil || n <= 0 {
		return func() {}
	}
	n = min(n, size)
	_ = sem.Acquire(context.Background(), n) // never fails: the context is never done
	if testHookReserved != nil {
		testHookReserved(n)
	}
	return func() {
		if testHookReserved != nil {
			testHookReserved(-n)
		}
		sem.Release(n)
	}
}

// testHookReserved sees each reservation (n > 0) and its release (-n); nil outside tests.
var testHookReserved func(n int64)

// decodeEstimate is what decoding data will hold at its peak, from the header alone: the RGB
// result and each decoder's own buffers. rows, when not nil, is the rows of a JPEG Load keeps
// while it decodes (loadJPEGRows: rows[y] >= 0 for a kept source row). Files whose header cannot be read cost nothing:
// they fail before allocating.
func decodeEstimate(data []byte, opts DecodeOptions, rows []int32) int64 {
	px := func(w, h int) int64 {
		if checkPixels(w, h, opts) != nil {
			return 0
		}
		return int64(w) * int64(h)
	}
	switch {
	case isJPEG(data):
		h, err := parseJPEGHeader(data)
		if err != nil || px(h.width, h.height) == 0 {
			return 0
		}
		kept := int64(h.height)
		if rows != nil {
			kept = 0
			for _, r := range rows {
				if r >= 0 {
					kept++
				}
			}
		}
		n := h.coefBufferBytes(rows) + 3*int64(h.width)*kept
		if opts.JPEGDecoder == Libjpeg9 {
			n += int64(h.layers) * int64(h.width) * int64(h.height) // the decoded components before RGB
		}
		return n
	case bytes.HasPrefix(data, pngSignature):
		if h, err := parsePNGHeader(data); err == nil && h != nil {
			return 11 * px(h.width, h.height) // RGB plus the raw rows, up to 8 bytes a pixel
		}
	case isWebP(data):
		if w, h, err := webpSize(data); err == nil {
			return 7 * px(w, h) // libwebp's RGBA canvas and the RGB copy
		}
	case bytes.HasPrefix(data, []byte("GIF87a")) || bytes.HasPrefix(data, []byte("GIF89a")):
		if len(data) >= 10 {
			return 4 * px(max(1, int(binary.LittleEndian.Uint16(data[6:]))), max(1, int(binary.LittleEndian.Uint16(data[8:]))))
		}
	case bytes.HasPrefix(data, []byte("BM")):
		if h, err := parseBMPHeader(data); err == nil && h != nil {
			return 4 * px(h.width, h.height)
		}
	case isPPM(data):
		if h, err := parsePPMHeader(data, opts); err == nil && h != nil {
			return 3 * px(h.width, h.height)
		}
	}
	return 0
}
