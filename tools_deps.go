//go:build tools

// Package facenet pins the module's dependencies until the packages that import them land.
package facenet

import (
	_ "github.com/nfnt/resize"
	_ "github.com/stretchr/testify/require"
	_ "github.com/wamuir/graft/tensorflow"
	_ "github.com/wamuir/graft/tensorflow/core/protobuf/for_core_protos_go_proto"
)
