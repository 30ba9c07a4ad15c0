package savedmodel_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/facenet-go/facenet/savedmodel"
)

// BenchmarkParse decodes a TF2 SavedModel (object graph, functions, signatures) from memory.
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(fixture("tf_functions"), savedmodel.FileNamePB))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := savedmodel.Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead is the whole directory read: proto, variables size, assets, fingerprint.
func BenchmarkRead(b *testing.B) {
	for b.Loop() {
		if _, err := savedmodel.Read(fixture("tf_functions")); err != nil {
			b.Fatal(err)
		}
	}
}
