package savedmodel

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	pb "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/facenet-go/facenet/internal/fsutil"
)

// File names inside a SavedModel directory (tensorflow/python/saved_model/constants.py).
const (
	FileNamePB          = "saved_model.pb"
	FileNamePBTxt       = "saved_model.pbtxt"
	fileNameFingerprint = "fingerprint.pb"
	fileNameKerasMeta   = "keras_metadata.pb"
	dirVariables        = "variables"
	fileVariablesIndex  = "variables.index"
	dirAssets           = "assets"
	dirAssetsExtra      = "assets.extra"
)

// Size limits of the files Read reads whole, per kind. Every read goes through fsutil.ReadFile,
// which refuses FIFOs, devices and sockets (a FIFO would hang the reader, /dev/zero exhaust its
// memory) and anything over its limit before reading a byte. Protocol buffers cannot exceed
// 2 GiB; a SavedModel keeps its weights in variables/, so a graph over 1 GiB is not one.
const (
	// MaxGraphBytes bounds saved_model.pb and saved_model.pbtxt.
	MaxGraphBytes = 1 << 30
	// MaxMetadataBytes bounds keras_metadata.pb (Keras' layer configs as JSON, a few MB).
	MaxMetadataBytes = 256 << 20
	// MaxFingerprintBytes bounds fingerprint.pb (five integers and a version: under 100 bytes).
	MaxFingerprintBytes = 1 << 20
	// MaxVariablesFileBytes bounds each file under variables/ and assets/. TensorFlow reads the
	// tensors a checkpoint's index names, not whole shards, so this is no memory bound; it refuses
	// a sparse file claiming more than any model this module runs could hold (FaceNet's weights
	// are 90 MB).
	MaxVariablesFileBytes = 64 << 30
	// MaxVariablesIndexBytes bounds variables/variables.index, a table of tensor names and
	// offsets (a few KB to a few MB) that TensorFlow reads whole.
	MaxVariablesIndexBytes = 1 << 30
)

// VariablesFileLimit is the size limit of the file at rel (a slash path relative to the model
// directory) under variables/ or assets/: MaxVariablesIndexBytes for a checkpoint index,
// MaxVariablesFileBytes for the rest.
func VariablesFileLimit(rel string) int64 {
	if strings.HasSuffix(rel, ".index") {
		return MaxVariablesIndexBytes
	}
	return MaxVariablesFileBytes
}

// CheckFiles checks, without reading them, the files TensorFlow's loader opens in dir by itself:
// saved_model.pb (or .pbtxt), fingerprint.pb and everything under variables/ and assets/ must be
// regular files (symlinks to regular files are fine) within their limits. Call it before handing
// dir to TensorFlow: a FIFO there would block the loader forever, a link to /dev/zero or a huge
// sparse file exhaust its memory, and TensorFlow can be neither interrupted nor bounded.
func CheckFiles(dir string) error {
	for _, f := range []struct {
		name  string
		limit int64
	}{{FileNamePB, MaxGraphBytes}, {FileNamePBTxt, MaxGraphBytes}, {fileNameFingerprint, MaxFingerprintBytes}} {
		if _, err := fsutil.Check(filepath.Join(dir, f.name), f.limit); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %w", ErrNotSavedModel, err)
		}
	}
	for _, sub := range []string{dirVariables, dirAssets} {
		err := filepath.WalkDir(filepath.Join(dir, sub), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				if errors.Is(err, fs.ErrNotExist) && path == filepath.Join(dir, sub) {
					return fs.SkipDir // absent: Load says what is missing
				}
				return err
			}
			if d.IsDir() {
				return nil
			}
			_, err = fsutil.Check(path, VariablesFileLimit(filepath.ToSlash(path)))
			return err
		})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotSavedModel, err)
		}
	}
	return nil
}

// Read reads the SavedModel in dir: saved_model.pb, or saved_model.pbtxt (text format) when there
// is no .pb, as TensorFlow's loader chooses. Problems that do not stop reading (no variables/, an
// unreadable fingerprint.pb) become Model.Warnings.
func Read(dir string) (*Model, error) {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("%w: %s does not exist", ErrNotSavedModel, dir)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrNotSavedModel, err)
	case !st.IsDir():
		return nil, fmt.Errorf("%w: %s is not a directory (give the directory that holds %s)", ErrNotSavedModel, dir, FileNamePB)
	}
	m, err := readProto(dir)
	if err != nil {
		return nil, err
	}
	m.Dir = dir
	m.readSurroundings()
	return m, nil
}

func readProto(dir string) (*Model, error) {
	pbPath, txtPath := filepath.Join(dir, FileNamePB), filepath.Join(dir, FileNamePBTxt)
	data, err := fsutil.ReadFile(pbPath, MaxGraphBytes)
	if err == nil {
		m, err := Parse(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", pbPath, err)
		}
		if fileExists(txtPath) {
			m.Warnings = append(m.Warnings, FileNamePBTxt+" ignored: "+FileNamePB+" takes precedence")
		}
		return m, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %w", ErrNotSavedModel, err)
	}
	data, err = fsutil.ReadFile(txtPath, MaxGraphBytes)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: no %s or %s in %s", ErrNotSavedModel, FileNamePB, FileNamePBTxt, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotSavedModel, err)
	}
	var sm pb.SavedModel
	if err := prototext.Unmarshal(data, &sm); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", txtPath, ErrCorrupt, err)
	}
	m, err := fromProto(&sm)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", txtPath, err)
	}
	return m, nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readSurroundings fills in what lies next to saved_model.pb. None of it is needed to describe
// the graph, so failures become warnings.
func (m *Model) readSurroundings() {
	vars := filepath.Join(m.Dir, dirVariables)
	if st, err := os.Stat(vars); err != nil || !st.IsDir() {
		m.Warnings = append(m.Warnings, dirVariables+"/ directory missing: the TensorFlow runtime cannot restore the weights")
	} else {
		m.VariablesBytes = treeSize(vars)
		if !fileExists(filepath.Join(vars, fileVariablesIndex)) {
			m.Warnings = append(m.Warnings, dirVariables+"/"+fileVariablesIndex+" missing: the TensorFlow runtime cannot restore the weights")
		}
	}
	for _, sub := range []string{dirAssets, dirAssetsExtra} {
		m.Assets = append(m.Assets, listFiles(m.Dir, sub)...)
	}
	slices.Sort(m.Assets)

	if data, err := readOptional(filepath.Join(m.Dir, fileNameFingerprint), MaxFingerprintBytes, &m.Warnings); err == nil {
		var fp pb.FingerprintDef
		if err := proto.Unmarshal(data, &fp); err != nil {
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s unreadable: %v", fileNameFingerprint, err))
		} else {
			m.Fingerprint = &Fingerprint{
				SavedModelChecksum:   fp.GetSavedModelChecksum(),
				GraphDefProgramHash:  fp.GetGraphDefProgramHash(),
				SignatureDefHash:     fp.GetSignatureDefHash(),
				SavedObjectGraphHash: fp.GetSavedObjectGraphHash(),
				CheckpointHash:       fp.GetCheckpointHash(),
				Producer:             fp.GetVersion().GetProducer(),
			}
		}
	}
	if data, err := readOptional(filepath.Join(m.Dir, fileNameKerasMeta), MaxMetadataBytes, &m.Warnings); err == nil {
		v, err := kerasVersion(data)
		if err != nil {
			m.Warnings = append(m.Warnings, fmt.Sprintf("%s unreadable: %v", fileNameKerasMeta, err))
		}
		m.KerasVersion = v
	}
}

// readOptional reads a file Read can do without: a missing one is an error without a warning,
// any other failure (a FIFO, a device, too large) a warning too.
func readOptional(path string, limit int64, warnings *[]string) ([]byte, error) {
	data, err := fsutil.ReadFile(path, limit)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		*warnings = append(*warnings, fmt.Sprintf("%s unreadable: %v", filepath.Base(path), err))
	}
	return data, err
}

// treeSize is the total size of the regular files under dir; unreadable entries count as 0
// because the size is information, not a check.
func treeSize(dir string) int64 {
	var total int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				total += info.Size()
			}
		}
		return nil
	})
	return total
}

// listFiles lists the regular files under root/sub as slash-separated paths relative to root.
func listFiles(root, sub string) []string {
	var files []string
	_ = filepath.WalkDir(filepath.Join(root, sub), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if rel, err := filepath.Rel(root, path); err == nil {
				files = append(files, filepath.ToSlash(rel))
			}
		}
		return nil
	})
	return files
}

// kerasVersion reads keras_metadata.pb, which tf-keras writes with model.save(dir): a
// SavedMetadata proto (tf_keras/protobuf/saved_metadata.proto) whose nodes carry JSON metadata;
// the root model's JSON has "keras_version". There is no generated Go type for it, and two fields
// do not justify one, so it is read with protowire:
//
//	message SavedMetadata { repeated SavedObject nodes = 1; }
//	message SavedObject   { int32 node_id = 2; string node_path = 3; string identifier = 4;
//	                        string metadata = 5; VersionDef version = 6; }
func kerasVersion(data []byte) (string, error) {
	nodes, err := fieldBytes(data, 1)
	if err != nil {
		return "", err
	}
	var found string
	for _, node := range nodes {
		paths, err := fieldBytes(node, 3)
		if err != nil {
			return "", err
		}
		metas, err := fieldBytes(node, 5)
		if err != nil {
			return "", err
		}
		if len(metas) == 0 {
			continue
		}
		var meta struct {
			KerasVersion string `json:"keras_version"`
		}
		if json.Unmarshal(metas[len(metas)-1], &meta) != nil || meta.KerasVersion == "" {
			continue
		}
		if len(paths) > 0 && string(paths[len(paths)-1]) == "root" {
			return meta.KerasVersion, nil
		}
		if found == "" {
			found = meta.KerasVersion
		}
	}
	return found, nil
}

// fieldBytes returns every length-delimited value of field num in a serialized message.
func fieldBytes(msg []byte, num protowire.Number) ([][]byte, error) {
	var out [][]byte
	for len(msg) > 0 {
		n, typ, tagLen := protowire.ConsumeTag(msg)
		if tagLen < 0 {
			return nil, protowire.ParseError(tagLen)
		}
		msg = msg[tagLen:]
		if n == num && typ == protowire.BytesType {
			v, l := protowire.ConsumeBytes(msg)
			if l < 0 {
				return nil, protowire.ParseError(l)
			}
			out = append(out, v)
			msg = msg[l:]
			continue
		}
		l := protowire.ConsumeFieldValue(n, typ, msg)
		if l < 0 {
			return nil, protowire.ParseError(l)
		}
		msg = msg[l:]
	}
	return out, nil
}
