package main

import (
	"flag"

	"github.com/facenet-go/facenet"
	"github.com/facenet-go/facenet/encoding"
)

// modelFlags registers the flags of every command that runs a model: --model and --profile.
func modelFlags(fs *flag.FlagSet) (dir, profile *string) {
	dir = fs.String("model", "", "SavedModel directory (required)")
	profile = fs.String("profile", "", "which of the model's profiles to apply: its default ("+encoding.ProfileFile+
		") unless named; facenet-keras also has \"accuracy\" (facenet's prewhiten and bilinear resize, "+
		encoding.NamedProfileFile("accuracy")+")")
	return dir, profile
}

// openPipeline opens the model every model command runs: its profile called profile ("" for its
// default one, or the notebook's rules when it has none) and the detector with --detect.
// TensorFlow's log lines stay hidden (the root package's default), so errors are one line each.
func openPipeline(dir, profile string, opts facenet.Options) (*facenet.Pipeline, error) {
	opts.Profile = profile
	return facenet.Open(cmdContext, dir, opts)
}
