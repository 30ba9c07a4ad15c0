package encoding

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/facenet-go/facenet/internal/fsutil"
	"github.com/facenet-go/facenet/savedmodel"
)

// ProfileFile is where the export scripts write a model's preprocessing profile, relative to the
// SavedModel directory. assets.extra/ is the SavedModel convention for files TensorFlow itself ignores.
const ProfileFile = "assets.extra/facenet.json"

// ProfileFormat is the format tag of the profile files this package reads.
const ProfileFormat = "facenet-profile/v1"

// MaxInputSide bounds a profile's (or an adapted model signature's) input height and width: a
// 4096x4096x3 float32 tensor is already 192 MiB per image, and a signature declaring 100000x100000
// would make every image allocate 120 GB.
const MaxInputSide = 4096

// MaxProfileBytes bounds a profile file (a page of JSON): it is read through fsutil.ReadFile, which
// also refuses FIFOs and devices there.
const MaxProfileBytes = 1 << 20

// ErrProfile means a profile file exists but cannot be used.
var ErrProfile = errors.New("encoding: invalid model profile")

// Profile says how a model wants its images and what its outputs mean: everything the notebook hard
// codes (160x160, nearest, /255 rounded to 12 decimals, L2-normalize, threshold 0.7), per model.
type Profile struct {
	Format      string `json:"format"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Weights     string `json:"weights,omitempty"`
	// Provenance and License say where trained weights come from and on what terms they may be used.
	Provenance string           `json:"provenance,omitempty"`
	License    string           `json:"license,omitempty"`
	Signature  SignatureProfile `json:"signature"`
	Input      InputProfile     `json:"input"`
	Output     OutputProfile    `json:"output"`
	Distance   DistanceProfile  `json:"distance"`
	// Crop is how a photo becomes the model's input; nil (or rule "none") means each image already
	// is the crop, as the notebook's are.
	Crop *CropProfile `json:"crop,omitempty"`
	// Fingerprint identifies the weights (see Fingerprint); embeddings from different fingerprints live
	// in different spaces and must not be compared.
	Fingerprint string `json:"fingerprint"`
}

// SignatureProfile names the SavedModel tag set, signature and tensor keys to bind.
type SignatureProfile struct {
	TagSet       []string `json:"tag_set"`
	SignatureDef string   `json:"signature_def"`
	Input        string   `json:"input"`
	Output       string   `json:"output"`
}

// InputProfile is the preprocessing: load_img's size and interpolation, then the pixel arithmetic.
type InputProfile struct {
	Height          int    `json:"height"`
	Width           int    `json:"width"`
	Channels        int    `json:"channels"`
	Layout          string `json:"layout"`      // "NHWC" or "NCHW"
	ColorOrder      string `json:"color_order"` // "RGB" or "BGR"
	Interpolation   string `json:"interpolation"`
	KeepAspectRatio bool   `json:"keep_aspect_ratio"`
	// DivideBy and RoundDecimals: model input = float32(round(float64(v) / DivideBy, RoundDecimals)).
	// A nil RoundDecimals means no rounding. They apply to the default pixel rule only.
	DivideBy      float64 `json:"divide_by,omitempty"`
	RoundDecimals *int    `json:"round_decimals"`
	// PixelRule is "" for the notebook's DivideBy/RoundDecimals rule, or one of facenet's own:
	// "prewhiten" (its 2017 checkpoints, the notebook's weights among them) or
	// "fixed_standardization" (its 2018 checkpoints). See PixelRule.
	PixelRule string `json:"pixel_rule,omitempty"`
	// JPEGDecoder is the libjpeg that decodes JPEG files (see JPEGDecoder): "libjpeg-turbo" or ""
	// (the default), or "libjpeg9" for the decoder of Pillow <= 8.4, the notebook's environment.
	JPEGDecoder string `json:"jpeg_decoder,omitempty"`
}

// OutputProfile describes the embedding the model returns.
type OutputProfile struct {
	Dim         int  `json:"dim"`
	L2Normalize bool `json:"l2_normalize"`
}

// DistanceProfile is how two embeddings are compared: accept when distance < Threshold.
type DistanceProfile struct {
	Metric    string  `json:"metric"`
	Threshold float64 `json:"threshold"`
}

// Crop rules of CropProfile.Rule.
const (
	// CropNone: the image is the face crop (the notebook's images).
	CropNone = "none"
	// CropMTCNNMargin is FaceNet's alignment (Sandberg's align_dataset_mtcnn.py): MTCNN finds the
	// faces, each box is grown by Margin/2 pixels a side and clipped to the photo, and that crop is
	// resized to the input with Filter.
	CropMTCNNMargin = "mtcnn-margin"
)

// MaxCropMargin bounds a profile's crop margin: more would crop mostly background.
const MaxCropMargin = 1024

// CropProfile is a profile's crop rule: what the pipeline does to a photo before the pixel rule.
type CropProfile struct {
	Rule string `json:"rule"`
	// Margin is the pixels added around each detected box (Margin/2 a side), for mtcnn-margin.
	Margin int `json:"margin,omitempty"`
	// Filter resizes the crop to the input size, for mtcnn-margin; "" means Input.Interpolation.
	Filter string `json:"filter,omitempty"`
}

// Detects reports whether the profile's crop rule finds faces in photos (mtcnn-margin).
func (p Profile) Detects() bool { return p.Crop != nil && p.Crop.Rule == CropMTCNNMargin }

// NotebookProfile returns the notebook's preprocessing and decision rule, used for a model without a
// profile file.
func NotebookProfile() Profile {
	twelve := 12
	return Profile{
		Format:      ProfileFormat,
		Name:        "facenet",
		Description: "defaults of the Keras face-recognition notebook",
		Signature:   SignatureProfile{TagSet: []string{"serve"}, SignatureDef: "serving_default"},
		Input: InputProfile{
			Height: 160, Width: 160, Channels: 3, Layout: "NHWC", ColorOrder: "RGB",
			Interpolation: "nearest", DivideBy: 255.0, RoundDecimals: &twelve,
		},
		Output:   OutputProfile{Dim: 128, L2Normalize: true},
		Distance: DistanceProfile{Metric: "euclidean", Threshold: 0.7},
	}
}

// LoadProfile reads dir's profile file. A model without one gets NotebookProfile with found false and
// a fingerprint computed from its variables, so any FaceNet-style SavedModel works.
func LoadProfile(dir string) (p Profile, found bool, err error) {
	return LoadProfileWith(dir, Fingerprint)
}

// LoadProfileWith is LoadProfile with the fingerprint of a model without a profile computed by
// fingerprint, which must return what Fingerprint does (a cache of it, for example: hashing every
// weight on every load costs seconds for large models).
func LoadProfileWith(dir string, fingerprint func(dir string) (string, error)) (p Profile, found bool, err error) {
	raw, err := fsutil.ReadFile(filepath.Join(dir, filepath.FromSlash(ProfileFile)), MaxProfileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		p = NotebookProfile()
		if p.Fingerprint, err = fingerprint(dir); err != nil {
			return Profile{}, false, err
		}
		return p, false, nil
	}
	if err != nil {
		return Profile{}, false, fmt.Errorf("profile of %s: %w", dir, err)
	}
	p, err = ParseProfile(raw)
	if err != nil {
		return Profile{}, true, fmt.Errorf("profile %s: %w", filepath.Join(dir, ProfileFile), err)
	}
	return p, true, nil
}

// NamedProfileFile is where a model keeps a profile other than its default one: the same weights
// under another preprocessing and threshold (facenet-keras has "accuracy": facenet's own prewhiten and
// bilinear resize, beside the notebook's rules in ProfileFile).
func NamedProfileFile(name string) string { return "assets.extra/facenet." + name + ".json" }

// ErrNoProfile means a model has no profile of the name asked for.
var ErrNoProfile = errors.New("encoding: no such model profile")

// LoadNamedProfile reads the profile called name from dir; "" is LoadProfile's default profile.
func LoadNamedProfile(dir, name string) (p Profile, found bool, err error) {
	if name == "" {
		return LoadProfile(dir)
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return Profile{}, false, fmt.Errorf("%w: profile name %q (want lower-case letters, digits, - and _)", ErrProfile, name)
		}
	}
	file := filepath.Join(dir, filepath.FromSlash(NamedProfileFile(name)))
	raw, err := fsutil.ReadFile(file, MaxProfileBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return Profile{}, false, fmt.Errorf("%w: %s has no profile %q (no %s)", ErrNoProfile, dir, name, NamedProfileFile(name))
	}
	if err != nil {
		return Profile{}, false, fmt.Errorf("profile %s: %w", file, err)
	}
	if p, err = ParseProfile(raw); err != nil {
		return Profile{}, true, fmt.Errorf("profile %s: %w", file, err)
	}
	return p, true, nil
}

// ParseProfile decodes and validates a profile file's JSON.
func ParseProfile(raw []byte) (Profile, error) {
	var p Profile
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	if err := dec.Decode(&p); err != nil {
		return Profile{}, fmt.Errorf("%w: %v", ErrProfile, err)
	}
	if err := p.Validate(); err != nil {
		return Profile{}, err
	}
	return p, nil
}

// Validate checks that the profile can drive preprocessing and decisions.
func (p Profile) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrProfile, fmt.Sprintf(format, args...))
	}
	in := p.Input
	switch {
	case p.Format != ProfileFormat:
		return bad("format %q, want %q", p.Format, ProfileFormat)
	case in.Height <= 0 || in.Width <= 0:
		return bad("input size %dx%d", in.Height, in.Width)
	case in.Height > MaxInputSide || in.Width > MaxInputSide:
		return bad("input size %dx%d (at most %dx%d: every image becomes a float32 tensor of that size)", in.Height, in.Width, MaxInputSide, MaxInputSide)
	case in.Channels != 3:
		return bad("input channels %d (only 3-channel colour models are supported)", in.Channels)
	case in.Layout != "NHWC" && in.Layout != "NCHW":
		return bad("input layout %q (want NHWC or NCHW)", in.Layout)
	case in.ColorOrder != "RGB" && in.ColorOrder != "BGR":
		return bad("input color_order %q (want RGB or BGR)", in.ColorOrder)
	case in.PixelRule != "" && in.PixelRule != string(RulePrewhiten) && in.PixelRule != string(RuleFixedStandardization):
		return bad("input pixel_rule %q (want prewhiten, fixed_standardization, or none for divide_by)", in.PixelRule)
	case in.PixelRule != "" && (in.DivideBy != 0 || in.RoundDecimals != nil):
		return bad("input pixel_rule %q takes no divide_by or round_decimals", in.PixelRule)
	case in.PixelRule == "" && !(in.DivideBy > 0):
		return bad("input divide_by %v (want > 0)", in.DivideBy)
	case in.RoundDecimals != nil && (*in.RoundDecimals < 0 || *in.RoundDecimals > 15):
		return bad("input round_decimals %d (want 0..15 or null)", *in.RoundDecimals)
	case p.Output.Dim < 0:
		return bad("output dim %d", p.Output.Dim)
	case p.Distance.Metric != "euclidean":
		return bad("distance metric %q (only euclidean)", p.Distance.Metric)
	case !(p.Distance.Threshold > 0):
		return bad("distance threshold %v (want > 0)", p.Distance.Threshold)
	}
	if _, err := ParseInterpolation(in.Interpolation); err != nil {
		return bad("%v", err)
	}
	if _, err := ParseJPEGDecoder(in.JPEGDecoder); err != nil {
		return bad("input jpeg_decoder %q (want libjpeg-turbo or libjpeg9)", in.JPEGDecoder)
	}
	if c := p.Crop; c != nil {
		switch {
		case c.Rule != CropNone && c.Rule != CropMTCNNMargin:
			return bad("crop rule %q (want %s or %s)", c.Rule, CropNone, CropMTCNNMargin)
		case c.Rule == CropNone && (c.Margin != 0 || c.Filter != ""):
			return bad("crop rule %s takes no margin or filter", CropNone)
		case c.Margin < 0 || c.Margin > MaxCropMargin:
			return bad("crop margin %d (want 0..%d)", c.Margin, MaxCropMargin)
		}
		if c.Filter != "" {
			if _, err := ParseInterpolation(c.Filter); err != nil {
				return bad("crop filter: %v", err)
			}
		}
	}
	return nil
}

// Fingerprint identifies a SavedModel's weights: sha256 over every file under dir/variables, sorted by
// its slash path relative to dir, of path + "\n" + hex(sha256(file)) + "\n". The export scripts write the
// same value into the profile. Only the weights count, so re-exporting the same weights keeps it.
// Symlinks count as the files they point to (as Python's Path.is_file, which the scripts use, does);
// anything else that is not a regular file, or a file over savedmodel.VariablesFileLimit, is an
// error: TensorFlow would hang on a FIFO there.
func Fingerprint(dir string) (string, error) {
	files, err := VariablesFiles(dir)
	if err != nil {
		return "", err
	}
	total := sha256.New()
	for _, rel := range files {
		limit := savedmodel.VariablesFileLimit(rel)
		f, _, err := fsutil.Open(filepath.Join(dir, filepath.FromSlash(rel)), limit)
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", dir, err)
		}
		h := sha256.New()
		_, err = io.Copy(h, io.LimitReader(f, limit))
		f.Close()
		if err != nil {
			return "", fmt.Errorf("fingerprint %s: %w", dir, err)
		}
		fmt.Fprintf(total, "%s\n%s\n", rel, hex.EncodeToString(h.Sum(nil)))
	}
	return "sha256:" + hex.EncodeToString(total.Sum(nil)), nil
}

// VariablesFiles lists the files Fingerprint hashes: every entry under dir/variables that is not a
// directory, as sorted slash paths relative to dir. It reads no file, so a cache of fingerprints
// can check them by their metadata.
func VariablesFiles(dir string) ([]string, error) {
	root := filepath.Join(dir, "variables")
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fingerprint %s: %w", dir, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("fingerprint %s: no files under variables/", dir)
	}
	sort.Strings(files)
	return files, nil
}

// WriteProfile writes prof as dir's profile called name ("" for the default one, ProfileFile),
// validated, through a temporary file renamed into place, and returns the file's path.
func WriteProfile(dir, name string, prof Profile) (string, error) {
	if err := prof.Validate(); err != nil {
		return "", err
	}
	file := ProfileFile
	if name != "" {
		file = NamedProfileFile(name)
	}
	path := filepath.Join(dir, filepath.FromSlash(file))
	raw, err := json.MarshalIndent(prof, "", "  ")
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("write profile: %w", err)
	}
	err = fsutil.WriteAtomic(path, 0o644, func(w io.Writer) error {
		_, err := w.Write(append(raw, '\n'))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("write profile %s: %w", path, err)
	}
	return path, nil
}
