package encoding_test

// Reliability of the image path against hostile input: the committed corpus of broken files
// (testdata/bad, scripts/make_bad_corpus.py), files that are not files (directories, FIFOs,
// devices, huge sparse files), and fuzz targets for the profile parser and the whole
// profile -> LoadImg -> tensor -> embedding path.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/encoding"
	"github.com/facenet-go/facenet/internal/procstat"
	"github.com/facenet-go/facenet/internal/testenv"
)

// The special-file tests re-execute this test binary as a loader with a memory limit (as
// verify's crash test does): with relLoadEnv set, TestMain loads that one file and exits.
const (
	relLoadEnv   = "FACENET_RELIABILITY_LOAD"
	relASLimit   = 1 << 30 // address space of the loader: reading past it is a crash, not an OOM kill
	relDeadline  = 10 * time.Second
	relFIFOProbe = 3 * time.Second
)

func TestMain(m *testing.M) {
	if path := os.Getenv(relLoadEnv); path != "" {
		os.Exit(relLoadHelper(path))
	}
	if path := os.Getenv(relHWMEnv); path != "" {
		os.Exit(relHWMHelper(path))
	}
	os.Exit(m.Run())
}

// relLoadHelper loads one file under an address-space limit and reports the outcome on stdout.
func relLoadHelper(path string) int {
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: relASLimit, Max: relASLimit}); err != nil {
		fmt.Println("setrlimit:", err)
		return 3
	}
	img, err := encoding.LoadImg(path, encoding.LoadOptions{Height: 160, Width: 160})
	if err != nil {
		fmt.Println("error:", err)
		return 0
	}
	fmt.Printf("ok %dx%d\n", img.Width, img.Height)
	return 0
}

// relHWMEnv makes the test binary load one file without a memory limit and report its peak
// resident set (VmHWM), which counts the pages of a mapped file that were touched.
const relHWMEnv = "FACENET_RELIABILITY_HWM"

func relHWMHelper(path string) int {
	img, err := encoding.LoadImg(path, encoding.LoadOptions{Height: 160, Width: 160})
	hwm, herr := procstat.SelfKiB("VmHWM")
	if herr != nil {
		fmt.Println("procstat:", herr)
		return 3
	}
	if err != nil {
		fmt.Printf("hwm %d error: %v\n", hwm, err)
		return 0
	}
	fmt.Printf("hwm %d ok %dx%d\n", hwm, img.Width, img.Height)
	return 0
}

// badManifest is testdata/bad/manifest.json.
type badManifest struct {
	NearLimit int `json:"near_limit"`
	Files     []struct {
		File   string `json:"file"`
		Size   int    `json:"size"`
		Expect string `json:"expect"`
		Reason string `json:"reason"`
		Pillow string `json:"pillow"`
		// Message is a phrase the error must contain (the name of a format not supported).
		Message string `json:"message"`
	} `json:"files"`
	// Accepted are hostile files Pillow decodes: the Go decoder must give the same pixels.
	Accepted []struct {
		File      string `json:"file"`
		Size      int    `json:"size"`
		Reason    string `json:"reason"`
		Width     int    `json:"width"`
		Height    int    `json:"height"`
		RGBSHA256 string `json:"rgb_sha256"`
	} `json:"accepted"`
}

var relExpect = map[string]error{
	"unsupported": encoding.ErrUnsupportedFormat,
	"invalid":     encoding.ErrInvalidImage,
	"truncated":   encoding.ErrTruncated,
	"bomb":        encoding.ErrDecompressionBomb,
}

func loadBadManifest(t testing.TB) (badManifest, string) {
	t.Helper()
	dir := testenv.Testdata(t, "bad")
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	require.NoError(t, err, "regenerate with scripts/make_bad_corpus.py")
	var m badManifest
	require.NoError(t, json.Unmarshal(raw, &m))
	require.NotEmpty(t, m.Files)
	return m, dir
}

// procStatusKiB reads one "Name: N kB" field of /proc/self/status.
func procStatusKiB(t testing.TB, field string) int64 {
	t.Helper()
	v, err := procstat.SelfKiB(field)
	require.NoError(t, err)
	return v
}

// peakRSSGrowth runs fn and returns how far the resident set rose above where it started, at
// its peak: writing 5 to clear_refs resets the kernel's high-water mark (VmHWM) to the current
// RSS, so the mark afterwards is fn's own peak.
func peakRSSGrowth(t testing.TB, fn func()) (kib int64) {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	require.NoError(t, os.WriteFile("/proc/self/clear_refs", []byte("5"), 0), "reset VmHWM")
	before := procStatusKiB(t, "VmRSS")
	fn()
	return procStatusKiB(t, "VmHWM") - before
}

// TestReliabilityBadCorpus: every file of testdata/bad is refused with the class its manifest
// (derived from what Pillow does) names, the error names the file, and the refusal is cheap:
// bombs are refused from the header without allocating, other files within 64 MiB of peak RSS.
//
// A header just under the pixel limit ("near_limit") is the exception: Pillow decodes such a
// file when its data is complete (libjpeg pads a short scan with grey), so the decoder must
// allocate the 3 x 13000 x 13000 bytes it announces before it can know. In a fresh heap those
// pages stay untouched (RSS +1 MiB); in a heap that recycled memory, Go zeroes the span and
// the pages become resident. The bound for them is that one buffer, never a second copy.
func TestReliabilityBadCorpus(t *testing.T) {
	m, dir := loadBadManifest(t)
	const (
		maxBombAlloc   = 1 << 20 // bytes allocated beyond reading the file
		maxPeakGrowth  = 64 << 10
		maxTimePerFile = 5 * time.Second
	)
	nearLimitKiB := int64(3*m.NearLimit*m.NearLimit) >> 10
	for _, f := range m.Files {
		t.Run(f.File, func(t *testing.T) {
			path := filepath.Join(dir, f.File)
			want, ok := relExpect[f.Expect]
			require.True(t, ok, "manifest class %q", f.Expect)
			var (
				img     *encoding.Image
				err     error
				elapsed time.Duration
				ms0     runtime.MemStats
				ms1     runtime.MemStats
			)
			growth := peakRSSGrowth(t, func() {
				runtime.ReadMemStats(&ms0)
				start := time.Now()
				img, err = relLoad(t, path)
				elapsed = time.Since(start)
				runtime.ReadMemStats(&ms1)
			})
			require.Nil(t, img)
			require.ErrorIs(t, err, want, "%s (Pillow: %s)", f.Reason, f.Pillow)
			require.Contains(t, err.Error(), path, "the error names the file")
			if f.Message != "" {
				require.Contains(t, err.Error(), f.Message)
				require.Contains(t, err.Error(), "is not supported")
			}
			require.Less(t, elapsed, maxTimePerFile)
			limit := int64(maxPeakGrowth)
			if strings.Contains(f.File, "near_limit") {
				limit += nearLimitKiB
			}
			require.Less(t, growth, limit, "peak RSS grew by %d KiB", growth)
			if f.Expect == "bomb" {
				alloc := int64(ms1.TotalAlloc-ms0.TotalAlloc) - int64(f.Size)
				require.Less(t, alloc, int64(maxBombAlloc), "a bomb must be refused from its header")
			}
			t.Logf("%v, peak RSS +%d KiB, %d bytes allocated: %v", elapsed.Round(time.Microsecond), growth, ms1.TotalAlloc-ms0.TotalAlloc, err)
		})
	}
}

// TestReliabilityBadCorpusAccepted: the hostile files Pillow decodes anyway (escapes past the
// end of a bitmap, chunks after the image data it tolerates) decode to Pillow's pixels, and the
// decoder allocates no more than the header's image allows (3 bytes of RGB and 1 of palette
// index per pixel, the file read included) however much the file asks to append.
func TestReliabilityBadCorpusAccepted(t *testing.T) {
	m, dir := loadBadManifest(t)
	require.NotEmpty(t, m.Accepted)
	for _, f := range m.Accepted {
		t.Run(f.File, func(t *testing.T) {
			path := filepath.Join(dir, f.File)
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			img, err := encoding.DecodeFile(path, encoding.DecodeOptions{})
			runtime.ReadMemStats(&ms1)
			require.NoError(t, err, "%s: Pillow decodes it", f.Reason)
			require.Equal(t, [2]int{f.Width, f.Height}, [2]int{img.Width, img.Height})
			sum := sha256.Sum256(img.Pix)
			require.Equal(t, f.RGBSHA256, hex.EncodeToString(sum[:]), "pixels differ from Pillow's")
			alloc := int64(ms1.TotalAlloc - ms0.TotalAlloc)
			bound := int64(f.Size) + 4*int64(f.Width)*int64(f.Height) + 1<<20
			require.Less(t, alloc, bound, "allocated %d bytes for a %dx%d image", alloc, f.Width, f.Height)
			t.Logf("%d bytes allocated for %dx%d", alloc, f.Width, f.Height)
		})
	}
}

// relLoad is LoadImg at the notebook's size, with a panic turned into a test failure so one bad
// file does not take the whole package's tests down with it.
func relLoad(t testing.TB, path string) (img *encoding.Image, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("LoadImg(%s) panicked: %v\n%s", path, r, debug.Stack())
		}
	}()
	return encoding.LoadImg(path, encoding.LoadOptions{Height: 160, Width: 160})
}

// TestReliabilitySpecialFiles: paths that are not image files fail at once with an error naming
// them. A FIFO nobody writes to must not block: reading it would wait forever.
//
// A chmod 000 file is not in the table: the tests run as root, which reads it anyway.
func TestReliabilitySpecialFiles(t *testing.T) {
	dir := t.TempDir()
	directory := filepath.Join(dir, "directory.jpg")
	require.NoError(t, os.Mkdir(directory, 0o755))
	dangling := filepath.Join(dir, "dangling.jpg")
	require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere.jpg"), dangling))
	loop := filepath.Join(dir, "loop.jpg")
	require.NoError(t, os.Symlink(loop, loop))
	fifo := filepath.Join(dir, "fifo.jpg")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))

	tests := []struct {
		name, path, text string
		is               error
	}{
		{"directory", directory, "directory", nil},
		{"dangling symlink", dangling, "no such file", os.ErrNotExist},
		{"symlink loop", loop, "too many levels of symbolic links", nil},
		{"missing", filepath.Join(dir, "missing.jpg"), "no such file", os.ErrNotExist},
		{"fifo", fifo, "not a regular file", encoding.ErrUnsupportedFormat},
		{"/dev/null", os.DevNull, "", encoding.ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() {
				_, err := encoding.LoadImg(tt.path, encoding.LoadOptions{Height: 160, Width: 160})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(relFIFOProbe):
				if tt.path == fifo {
					// Open the write end and close it: the blocked reader sees end of file.
					w, werr := os.OpenFile(fifo, os.O_WRONLY, 0)
					require.NoError(t, werr)
					w.Close()
					<-done
				}
				t.Fatalf("LoadImg(%s) still blocked after %v: a FIFO (or device) must be refused before reading, "+
					"as encoding.LoadImg cannot know when (or whether) data will come", tt.path, relFIFOProbe)
			}
			require.Error(t, err)
			if tt.is != nil {
				require.ErrorIs(t, err, tt.is)
			}
			require.Contains(t, err.Error(), tt.path)
			require.Contains(t, err.Error(), tt.text)
		})
	}
}

// TestReliabilityEndlessFiles loads files that would exhaust memory if read whole, in a child
// process whose address space is limited to 1 GiB: /dev/zero never ends, and a sparse file
// claims 8 GiB while using no disk. Both must be refused before reading (ask the file what it
// is and how big it is first); a child that crashes or runs past the deadline fails the test.
func TestReliabilityEndlessFiles(t *testing.T) {
	sparse := filepath.Join(t.TempDir(), "sparse.jpg")
	f, err := os.Create(sparse)
	require.NoError(t, err)
	require.NoError(t, f.Truncate(8<<30))
	require.NoError(t, f.Close())
	for _, path := range []string{"/dev/zero", sparse} {
		t.Run(filepath.Base(path), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), relDeadline)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), relLoadEnv+"="+path)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			text := string(out)
			require.NoError(t, ctx.Err(), "loading %s ran past %v", path, relDeadline)
			require.NoError(t, err, "the loader died loading %s (memory limit %d MiB):\n%.600s", path, relASLimit>>20, text)
			require.True(t, strings.HasPrefix(text, "error: "), "want a clean error, got %q", text)
			require.Contains(t, text, path)
			t.Logf("%v: %s", time.Since(start).Round(time.Millisecond), strings.TrimSpace(text))
		})
	}
}

// TestReliabilityLargeFiles: files far larger than the image in them are judged from their
// head and a bounded read, never read whole first. Each loads in a child process that reports
// its peak RSS: a 1.4 GB sparse file behind a valid PNG decodes, one behind a PNG header that
// breaks in its second chunk or whose IDAT is not zlib is refused, and /proc/self/pagemap (a
// file of size 0 that streams gigabytes) is refused as not an image. Before the bounded read
// each took 2.2 times the file's size (3.2 GB for the first).
func TestReliabilityLargeFiles(t *testing.T) {
	const (
		sparseSize = 1_430_000_000
		maxHWMKiB  = 128 << 10 // the test binary itself takes about 20 MiB
	)
	dir := t.TempDir()
	good, err := os.ReadFile(testenv.Testdata(t, filepath.Join("images", "danielle.png")))
	require.NoError(t, err)
	m, bad := loadBadManifest(t)
	nearLimit, err := os.ReadFile(filepath.Join(bad, fmt.Sprintf("png_near_limit_%dx%d_64_bytes.png", m.NearLimit, m.NearLimit)))
	require.NoError(t, err)
	// signature + IHDR (33 bytes), then an IDAT chunk as long as the rest of the file, of zeros
	hugeIDAT := append(append([]byte{}, nearLimit[:33]...), 0x55, 0x3B, 0x8A, 0x80, 'I', 'D', 'A', 'T')
	sparse := func(name string, head []byte) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, head, 0o644))
		require.NoError(t, os.Truncate(path, sparseSize))
		return path
	}
	tests := []struct {
		name, path, want string
	}{
		{"valid PNG then 1.4 GB of holes", sparse("valid.png", good), "ok "},
		{"PNG header then 1.4 GB of holes", sparse("header.png", nearLimit[:33]), "error: "},
		{"PNG with a 1.4 GB IDAT of zeros", sparse("idat.png", hugeIDAT), "error: "},
		{"/proc/self/pagemap", "/proc/self/pagemap", "error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), relDeadline)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), relHWMEnv+"="+tt.path)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			text := strings.TrimSpace(string(out))
			require.NoError(t, ctx.Err(), "loading %s ran past %v", tt.path, relDeadline)
			require.NoError(t, err, "the loader died:\n%.600s", text)
			var hwm int64
			var rest string
			_, err = fmt.Sscanf(text, "hwm %d %s", &hwm, &rest)
			require.NoError(t, err, text)
			require.Contains(t, text, tt.want)
			if tt.want == "error: " {
				require.Contains(t, text, tt.path)
			}
			require.Less(t, hwm, int64(maxHWMKiB), "peak RSS %d KiB: %s", hwm, text)
			t.Logf("%v, peak RSS %d KiB: %s", time.Since(start).Round(time.Millisecond), hwm, text)
		})
	}
}

// relModel is a stand-in network: a 4-d embedding of sums over its input, never all zero.
type relModel struct{}

func (relModel) Predict(_ context.Context, x []float32, shape []int64) ([]float32, []int64, error) {
	n := int(shape[0])
	if n <= 0 || len(x)%n != 0 {
		return nil, nil, errors.New("relModel: bad batch")
	}
	per := len(x) / n
	out := make([]float32, 4*n)
	for i := 0; i < n; i++ {
		for j, v := range x[i*per : (i+1)*per] {
			out[4*i+j%3] += v
		}
		out[4*i+3] = 1
	}
	return out, []int64{int64(n), 4}, nil
}

// maxTensorBytes bounds one image's model input: 4096 x 4096 x 3 float32 is 192 MiB. A profile
// (or a model signature adapted into one) that asks for more would have every image allocate
// gigabytes before the model sees it, and 100000 x 100000 crashes the process outright.
const maxTensorBytes = 256 << 20

func profileSeeds() [][]byte {
	nb := encoding.NotebookProfile()
	dlib := encoding.NotebookProfile()
	dlib.Input.Height, dlib.Input.Width, dlib.Input.DivideBy, dlib.Input.RoundDecimals = 150, 150, 1, nil
	dlib.Output.L2Normalize, dlib.Distance.Threshold = false, 0.6
	nchw := encoding.NotebookProfile()
	nchw.Input.Layout, nchw.Input.ColorOrder, nchw.Input.Interpolation, nchw.Input.KeepAspectRatio = "NCHW", "BGR", "bicubic", true
	var seeds [][]byte
	for _, p := range []encoding.Profile{nb, dlib, nchw} {
		raw, err := json.Marshal(p)
		if err != nil {
			panic(err)
		}
		seeds = append(seeds, raw)
	}
	return append(seeds,
		[]byte(`{"format":"facenet-profile/v1","input":{"height":100000,"width":100000,"channels":3,"layout":"NHWC",`+
			`"color_order":"RGB","interpolation":"nearest","divide_by":255},"distance":{"metric":"euclidean","threshold":0.7}}`),
		[]byte(`{"format": "facenet-profile/v1", "input": {"height": 16,`),
		[]byte(`null`), []byte(`[]`), []byte(``), []byte(`{"input":{"round_decimals":99}}`),
	)
}

// FuzzParseProfile: any bytes give a profile or an error wrapping ErrProfile; an accepted profile
// validates, survives a JSON round trip unchanged, builds an Encoder, and asks for an input a
// process can allocate.
func FuzzParseProfile(f *testing.F) {
	for _, s := range profileSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := encoding.ParseProfile(raw)
		if err != nil {
			if !errors.Is(err, encoding.ErrProfile) {
				t.Fatalf("error %v does not wrap ErrProfile", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("ParseProfile accepted a profile Validate refuses: %v", err)
		}
		in := p.Input
		if bytes := int64(in.Height) * int64(in.Width) * int64(in.Channels) * 4; bytes > maxTensorBytes {
			t.Fatalf("profile accepted with input %dx%dx%d: %d bytes per image (more than %d)",
				in.Height, in.Width, in.Channels, bytes, maxTensorBytes)
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := encoding.ParseProfile(again)
		if err != nil {
			t.Fatalf("re-encoded profile refused: %v\n%s", err, again)
		}
		if redo, _ := json.Marshal(q); string(redo) != string(again) {
			t.Fatalf("profile changed in a round trip:\n%s\n%s", again, redo)
		}
		if _, err := encoding.NewEncoder(relModel{}, p, encoding.EncoderOptions{}); err != nil {
			t.Fatalf("NewEncoder refused a valid profile: %v", err)
		}
	})
}

// FuzzPreprocess runs the whole path a file takes through an Encoder: profile (size, filter,
// crop, layout, colour order, divisor, rounding) -> LoadImg -> tensor -> model -> normalized
// embedding. Bad bytes must give one of the package's sentinel errors naming the file; good
// ones a tensor equal to LoadImg + FillTensor with the same options, every value in range, and
// a finite unit embedding.
func FuzzPreprocess(f *testing.F) {
	m, dir := loadBadManifest(f)
	for _, e := range m.Files {
		if e.Size <= 16<<10 { // the 28 KB scan bomb would cost 0.1 s per mutation
			data, err := os.ReadFile(filepath.Join(dir, e.File))
			require.NoError(f, err)
			f.Add(data, uint8(15), uint8(15), uint8(0), uint8(0), uint8(255), int8(12))
		}
	}
	for i, name := range []string{"andrew.jpg", "danielle.png"} {
		data, err := os.ReadFile(testenv.Testdata(f, filepath.Join("images", name)))
		require.NoError(f, err)
		f.Add(data, uint8(15), uint8(15), uint8(0), uint8(0), uint8(255), int8(12))
		f.Add(data, uint8(40+i), uint8(7), uint8(3), uint8(0xff), uint8(0), int8(-1))
	}
	file := filepath.Join(f.TempDir(), "input")
	f.Fuzz(func(t *testing.T, data []byte, h, w, interp, flags, divide uint8, round int8) {
		defer func() {
			// A failure, not a crash of the test binary: the other tests still run.
			if r := recover(); r != nil {
				t.Fatalf("panic: %v\n%s", r, debug.Stack())
			}
		}()
		p := encoding.NotebookProfile()
		p.Input.Height, p.Input.Width = int(h%64)+1, int(w%64)+1
		p.Input.Interpolation = encoding.Interpolation(interp % 6).String()
		p.Input.KeepAspectRatio = flags&1 != 0
		if flags&2 != 0 {
			p.Input.Layout = "NCHW"
		}
		if flags&4 != 0 {
			p.Input.ColorOrder = "BGR"
		}
		p.Input.DivideBy = []float64{255, 1, 127.5, float64(divide) + 0.5}[flags>>3&3]
		p.Input.RoundDecimals = nil
		if r := int(round) % 16; r >= 0 {
			p.Input.RoundDecimals = &r
		}
		p.Output = encoding.OutputProfile{Dim: 4, L2Normalize: true}
		enc, err := encoding.NewEncoder(relModel{}, p, encoding.EncoderOptions{MaxPixels: 1 << 22})
		if err != nil {
			t.Fatalf("NewEncoder: %v", err)
		}
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		x := make([]float32, p.Input.Height*p.Input.Width*3)
		err = enc.Preprocess(file, x)
		if err != nil {
			if !relKnownError(err) {
				t.Fatalf("error of no known class: %v", err)
			}
			if !strings.Contains(err.Error(), file) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		interpolation, _ := encoding.ParseInterpolation(p.Input.Interpolation)
		img, err := encoding.LoadImg(file, encoding.LoadOptions{Height: p.Input.Height, Width: p.Input.Width,
			Interpolation: interpolation, KeepAspectRatio: p.Input.KeepAspectRatio, MaxPixels: 1 << 22})
		if err != nil {
			t.Fatalf("Preprocess succeeded, LoadImg failed: %v", err)
		}
		want := make([]float32, len(x))
		opts := encoding.PixelOptions{DivideBy: p.Input.DivideBy, RoundDecimals: encoding.NoRounding,
			BGR: p.Input.ColorOrder == "BGR", ChannelsFirst: p.Input.Layout == "NCHW"}
		if p.Input.RoundDecimals != nil {
			opts.RoundDecimals = *p.Input.RoundDecimals
		}
		if err := img.FillTensor(want, opts); err != nil {
			t.Fatal(err)
		}
		top := 255/p.Input.DivideBy + 1
		for i := range x {
			if math.Float32bits(x[i]) != math.Float32bits(want[i]) {
				t.Fatalf("value %d: Preprocess %v, LoadImg+FillTensor %v", i, x[i], want[i])
			}
			if !(x[i] >= 0 && float64(x[i]) <= top) {
				t.Fatalf("value %d = %v outside [0, %v]", i, x[i], top)
			}
		}
		emb, err := enc.ImgToEncoding(context.Background(), file)
		if err != nil {
			t.Fatalf("ImgToEncoding after a good Preprocess: %v", err)
		}
		var norm float64
		for _, v := range emb {
			norm += float64(v) * float64(v)
		}
		if math.Abs(math.Sqrt(norm)-1) > 1e-5 {
			t.Fatalf("embedding norm %v", math.Sqrt(norm))
		}
	})
}

func relKnownError(err error) bool {
	for _, e := range relExpect {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
