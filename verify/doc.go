// Package verify makes the Keras face-recognition notebook's decisions on embeddings, keeps an
// identity database that never loses a face and searches a million faces in milliseconds.
// Computing the embeddings is another package's job (encoding, through the root package
// facenet); the vector maths is package vec, threshold calibration package calibrate.
//
// It needs no cgo (CGO_ENABLED=0 builds and tests it). The 1:N scan has Go assembly kernels
// for amd64 (AVX-512 VNNI, AVX2), chosen at run time from golang.org/x/sys/cpu, and a portable Go kernel that
// every other platform, and the build tag purego, uses; all return the same integers.
//
// # Decisions
//
// The notebook compares L2 distances between unit embeddings with the threshold 0.7
// (NotebookThreshold). Its two functions disagree at exactly the threshold, and this package
// keeps both rules:
//
//   - Verify (the notebook's verify): accepted when distance < threshold, strictly.
//   - WhoIsIt (who_is_it): min_dist starts at 100, identities are visited in insertion order,
//     a strictly smaller distance replaces the minimum (so a tie keeps the first identity),
//     and the answer is unknown when min_dist > threshold, so exactly the threshold is known.
//
// Distances are np.linalg.norm(a - b) on float32 arrays, bit for bit: float32 differences,
// squares summed in the order of the OpenBLAS sdot kernel numpy runs, the square root rounded to
// float32 (vec.Distance32); that float32 is what is compared and printed. vec.L2Distance and
// vec.SquaredL2Distance give the float64-accumulated value instead, the exact one to about 1e-16.
// Decision.Message and Match.Message print the notebook's
// sentences ("It's younes, welcome in!", "it's younes, the distance is 0.5992949"), with the
// distance formatted by FormatFloat32 as Python prints a numpy float32.
//
// An identity may have several samples (embeddings). Its distance to a probe is the distance
// to its nearest sample: one good photo is enough, and adding a sample can only bring an
// identity closer. With one sample per identity this is exactly the notebook.
//
// # Database
//
// A DB holds named identities in insertion order with their samples, for one embedding Space
// (model fingerprint, preprocessing profile, dimension): Enrol refuses embeddings of another
// dimension and OpenOrCreate refuses a file of another space, with ErrModelMismatch. Saves are
// atomic (temporary file, fsync, rename, directory fsync), loading checks a CRC-32C over the
// whole file, a file that fails to load is never overwritten, and Save refuses to replace a
// file that changed on disk since it was loaded (ErrConflict). Apps that enrol people one at a
// time, from several processes or servers, use package store (SQLite or PostgreSQL) instead, which
// hands search a DB built with FromRows and kept current with Extend; this file format stays the
// bulk snapshot format (facenet db import / export).
//
// # Fast search
//
// NewSearcher picks the exact scan or an Index by the DB's size; callers need not choose.
// NewIndex builds an Index over a DB whose WhoIsIt and TopK return exactly what the exact scan
// returns, identity and float32 distance, ties included, by scanning an int8 copy of the
// embeddings with rigorous error bounds and re-ranking the few survivors exactly.
//
// # FORMAT
//
// A database file (version 1) is little-endian throughout:
//
//	offset  size      field
//	0       8         magic "\x89FID\r\n\x1a\n"
//	8       2         version, uint16 = 1
//	10      2         flags, uint16 = 0 (reserved)
//	12      4         dim: embedding length, uint32, 1..65536
//	16      4         identities: count, uint32
//	20      8         rows: sample count, uint64
//	28      4+F       model fingerprint: uint32 length F <= 4096, then F bytes of UTF-8
//	...     4+P       preprocessing profile: uint32 length P <= 1 MiB, then P bytes of JSON
//	                  (stored as given; P = 0 for none)
//	...     per identity, in insertion order:
//	          2+L     name: uint16 length L (1..1024), then L bytes of UTF-8, no control
//	                  characters, unique
//	...     4·rows    owner of each row: uint32 identity number (0-based, insertion order);
//	                  rows are in enrolment order and every identity owns at least one
//	...     4·rows·dim the rows: IEEE 754 binary32 values, row after row; all finite
//	end-4   4         CRC-32C (Castagnoli) of every byte before it, uint32
//
// The file size must be exactly what the header implies. Readers check every length against
// the file size before allocating, verify the checksum, and report a bad file as
// ErrNotDatabase (wrong magic), ErrUnsupportedVersion or ErrCorrupt. There is no reflective
// or pickle-like decoding: every field is read explicitly. A million 128-d embeddings take
// 516 MB and load as a few large sequential reads.
package verify
