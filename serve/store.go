package serve

import (
	"context"

	"github.com/facenet-go/facenet/verify"
)

// Store is what the service needs from an identity store. It is defined here, by its consumer, so
// that the store package's SQLite and PostgreSQL stores (store.Open) plug in unchanged.
// Identities are listed through Current: a *verify.DB has Names and Samples.
type Store interface {
	// Space is the embedding space of the stored vectors; a model of another space is refused.
	Space() verify.Space
	// Current is an in-memory snapshot for searching. It must not change after it is returned,
	// and it is the same pointer while the store is unchanged, so a searcher built on it can be
	// cached by pointer.
	Current(ctx context.Context) (*verify.DB, error)
	// Enrol adds embeddings to name, creating the identity when it is new.
	Enrol(ctx context.Context, name string, embeddings ...[]float32) error
	// Remove deletes name and its samples; an unknown name wraps verify.ErrUnknownIdentity.
	Remove(ctx context.Context, name string) error
	// Close releases the store.
	Close() error
}
