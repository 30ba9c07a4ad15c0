package encoding

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// NPYElem is an element type WriteNPY can store.
type NPYElem interface{ float32 | uint8 }

// WriteNPY writes data as a NumPy .npy file (format 1.0, C order, little-endian) with the given
// shape, so np.load gives back the same array: '<f4' for float32, '|u1' for uint8.
func WriteNPY[T NPYElem](w io.Writer, shape []int, data []T) error {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("%w: npy shape %v has a negative dimension", ErrInvalidOptions, shape)
		}
		n *= d
	}
	if n != len(data) {
		return fmt.Errorf("%w: npy shape %v holds %d values, got %d", ErrInvalidOptions, shape, n, len(data))
	}
	descr := "'<f4'"
	if _, ok := any(data).([]uint8); ok {
		descr = "'|u1'"
	}
	dims := make([]string, len(shape))
	for i, d := range shape {
		dims[i] = strconv.Itoa(d)
	}
	shapeText := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		shapeText += ","
	}
	shapeText += ")"
	header := fmt.Sprintf("{'descr': %s, 'fortran_order': False, 'shape': %s, }", descr, shapeText)
	// magic (6) + version (2) + header length (2) + header + padding + '\n', a multiple of 64
	// as numpy writes it.
	total := 10 + len(header) + 1
	pad := (64 - total%64) % 64
	header += strings.Repeat(" ", pad) + "\n"
	if len(header) > math.MaxUint16 {
		return fmt.Errorf("%w: npy header too long for shape %v", ErrInvalidOptions, shape)
	}
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("\x93NUMPY\x01\x00")
	var hl [2]byte
	binary.LittleEndian.PutUint16(hl[:], uint16(len(header)))
	bw.Write(hl[:])
	bw.WriteString(header)
	switch d := any(data).(type) {
	case []uint8:
		bw.Write(d)
	case []float32:
		var b [4]byte
		for _, v := range d {
			binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
			bw.Write(b[:])
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write npy: %w", err)
	}
	return nil
}
