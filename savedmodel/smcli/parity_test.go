package smcli_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/facenet-go/facenet/internal/smclitest"
	"github.com/facenet-go/facenet/savedmodel"
	"github.com/facenet-go/facenet/savedmodel/smcli"
)

// TestParityWithSavedModelCLI compares Show with TensorFlow's saved_model_cli on every test
// SavedModel, for every flag combination the reference script derives from each model.
func TestParityWithSavedModelCLI(t *testing.T) {
	dirs := smclitest.ModelDirs(t)
	cases := smclitest.Reference(t, dirs)
	models := map[string]*savedmodel.Model{}
	for _, d := range dirs {
		m, err := savedmodel.Read(d)
		require.NoError(t, err)
		models[d] = m
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			m := models[c.Args[1]]
			require.NotNil(t, m, "reference ran on a directory the test did not list: %s", c.Args[1])
			opts := smcli.Options{}
			if v, ok := c.Flag("--tag_set"); ok {
				opts.TagSet = &v
			}
			if v, ok := c.Flag("--signature_def"); ok {
				opts.SignatureDef = &v
			}
			_, opts.All = c.Flag("--all")
			_, opts.ListOps = c.Flag("--list_ops")

			var out strings.Builder
			err := smcli.Show(&out, m, opts)
			if c.Error != nil {
				require.Error(t, err, "saved_model_cli failed, Show did not\n%s", c)
				// Python raises RuntimeError for a tag set, ValueError for a signature key.
				want := savedmodel.ErrTagSetNotFound
				if strings.HasPrefix(*c.Error, "ValueError") {
					want = savedmodel.ErrSignatureNotFound
				}
				require.True(t, errors.Is(err, want), "error %v should wrap %v\n%s", err, want, c)
			} else {
				require.NoError(t, err, "%s", c)
			}
			smclitest.RequireSameOutput(t, c.Stdout, out.String())
		})
	}
}
