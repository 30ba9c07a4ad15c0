package main

import (
	"fmt"

	"github.com/facenet-go/facenet/internal/fsutil"
)

// writeAtomic is fsutil.WriteAtomic: every file the CLI writes (--out, --png, --sheet, --draw, a
// profile's threshold) replaces its destination whole, as the database's Save does.
var writeAtomic = fsutil.WriteAtomic

// checkDestination refuses, before any slow work, a destination flag whose path writeAtomic
// would refuse.
func checkDestination(flag, path string) error {
	if path == "" {
		return nil
	}
	if _, err := fsutil.Destination(path); err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	return nil
}
