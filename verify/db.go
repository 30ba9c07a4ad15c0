package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"unicode"
	"unicode/utf8"

	"github.com/facenet-go/facenet/vec"
)

// Sentinel errors of the identity database.
var (
	// ErrModelMismatch reports embeddings from another embedding space than the database's:
	// another model fingerprint, preprocessing profile or dimension. Mixing them would give
	// meaningless distances, so it is refused.
	ErrModelMismatch = errors.New("embedding space mismatch")
	// ErrUnknownIdentity reports a name that is not enrolled.
	ErrUnknownIdentity = errors.New("unknown identity")
	// ErrDuplicateIdentity reports a rename onto a name that is already enrolled.
	ErrDuplicateIdentity = errors.New("identity already enrolled")
	// ErrInvalidName reports a name that cannot be stored: empty, too long, not UTF-8, or
	// holding control, format (Cf: invisible or bidi-reordering) or line/paragraph separator
	// characters.
	ErrInvalidName = errors.New("invalid identity name")
	// ErrInvalidSpace reports a Space that cannot describe a database: no fingerprint,
	// a profile that is not JSON, a dimension out of range, or fields too large.
	ErrInvalidSpace = errors.New("invalid embedding space")
	// ErrEmptyDatabase reports a search in a database with no identities.
	ErrEmptyDatabase = errors.New("empty database")
)

// Limits that keep a database file's fields sane and let the loader reject a corrupt length
// before allocating for it.
const (
	MaxNameLen        = 1024    // bytes of an identity name
	MaxFingerprintLen = 4096    // bytes of a model fingerprint
	MaxProfileLen     = 1 << 20 // bytes of a preprocessing profile
	MaxDim            = 1 << 16 // components of an embedding
)

// Space identifies the embedding space of a database: which model produced the vectors, with
// which preprocessing, and their length. Distances are only meaningful inside one space.
type Space struct {
	// Fingerprint identifies the model, e.g. a hash of the SavedModel. Required.
	Fingerprint string
	// Profile is the preprocessing profile as JSON, stored opaquely. Empty means none.
	// Two profiles are the same space when their compacted JSON bytes are equal.
	Profile []byte
	// Dim is the embedding length, 1..MaxDim.
	Dim int
}

func (s Space) validate() error {
	switch {
	case s.Fingerprint == "":
		return fmt.Errorf("%w: empty model fingerprint", ErrInvalidSpace)
	case len(s.Fingerprint) > MaxFingerprintLen:
		return fmt.Errorf("%w: fingerprint is %d bytes, max %d", ErrInvalidSpace, len(s.Fingerprint), MaxFingerprintLen)
	case !utf8.ValidString(s.Fingerprint):
		return fmt.Errorf("%w: fingerprint is not UTF-8", ErrInvalidSpace)
	case len(s.Profile) > MaxProfileLen:
		return fmt.Errorf("%w: profile is %d bytes, max %d", ErrInvalidSpace, len(s.Profile), MaxProfileLen)
	case len(s.Profile) > 0 && !json.Valid(s.Profile):
		return fmt.Errorf("%w: profile is not valid JSON", ErrInvalidSpace)
	case s.Dim < 1 || s.Dim > MaxDim:
		return fmt.Errorf("%w: dimension %d, want 1..%d", ErrInvalidSpace, s.Dim, MaxDim)
	}
	return nil
}

// Check returns nil when other is the same embedding space as s, and otherwise an error
// wrapping ErrModelMismatch that says what differs.
func (s Space) Check(other Space) error {
	if s.Fingerprint != other.Fingerprint {
		return fmt.Errorf("%w: model fingerprint %q, database has %q", ErrModelMismatch, other.Fingerprint, s.Fingerprint)
	}
	if s.Dim != other.Dim {
		return fmt.Errorf("%w: dimension %d, database has %d", ErrModelMismatch, other.Dim, s.Dim)
	}
	if !bytes.Equal(compactJSON(s.Profile), compactJSON(other.Profile)) {
		return fmt.Errorf("%w: preprocessing profile %s, database has %s", ErrModelMismatch, other.Profile, s.Profile)
	}
	return nil
}

// compactJSON makes whitespace differences irrelevant; invalid JSON compares as its bytes.
func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

func (s Space) clone() Space {
	s.Profile = bytes.Clone(s.Profile)
	return s
}

// DB is an identity database: named identities in insertion order, each with one or more
// enrolled embeddings (samples) from one embedding Space. The distance from a probe to an
// identity is the distance to its nearest sample.
//
// Rows live in one contiguous float32 matrix in enrolment order, so a million samples load
// as one read and the fast Index can scan them in place. Methods that remove rows build new
// slices rather than compacting in place, so an Index built earlier keeps a consistent
// snapshot. A DB is not safe for concurrent mutation.
type DB struct {
	space  Space
	names  []string       // insertion order
	index  map[string]int // name -> position in names
	counts []int          // samples per identity
	owner  []uint32       // identity of each row
	data   []float32      // rows × dim
	origin os.FileInfo    // the file this DB was loaded from or last saved to
}

// New returns an empty database for embeddings of the given space.
func New(space Space) (*DB, error) {
	if err := space.validate(); err != nil {
		return nil, fmt.Errorf("new database: %w", err)
	}
	return &DB{space: space.clone(), index: map[string]int{}}, nil
}

// Space returns the embedding space the database was created for.
func (db *DB) Space() Space { return db.space.clone() }

// Dim is the embedding length.
func (db *DB) Dim() int { return db.space.Dim }

// Len is the number of identities.
func (db *DB) Len() int { return len(db.names) }

// NumSamples is the number of enrolled embeddings over all identities.
func (db *DB) NumSamples() int { return len(db.owner) }

// Names returns the identities in insertion order, the order the notebook's who_is_it loops in.
func (db *DB) Names() []string { return append([]string(nil), db.names...) }

// Has reports whether name is enrolled.
func (db *DB) Has(name string) bool {
	_, ok := db.index[name]
	return ok
}

// Samples returns copies of the embeddings enrolled for name, in enrolment order.
func (db *DB) Samples(name string) ([][]float32, error) {
	id, ok := db.index[name]
	if !ok {
		return nil, fmt.Errorf("samples of %q: %w", name, ErrUnknownIdentity)
	}
	out := make([][]float32, 0, db.counts[id])
	for r, o := range db.owner {
		if int(o) == id {
			out = append(out, append([]float32(nil), db.row(r)...))
		}
	}
	return out, nil
}

// Labelled returns every identity's samples, the input Calibrate takes.
func (db *DB) Labelled() map[string][][]float32 {
	out := make(map[string][][]float32, len(db.names))
	for r, o := range db.owner {
		n := db.names[o]
		out[n] = append(out[n], append([]float32(nil), db.row(r)...))
	}
	return out
}

func (db *DB) row(r int) []float32 {
	d := db.space.Dim
	return db.data[r*d : (r+1)*d : (r+1)*d]
}

// ValidName reports why name cannot be an identity, or nil. Names are non-empty UTF-8 of at
// most MaxNameLen bytes that print as what they are, on one line: no control characters (Cc),
// no format characters (Cf: U+200B zero-width space makes names that look alike, U+202E
// right-to-left override shows "kian" for "naik"), no line or paragraph separators (Zl U+2028,
// Zp U+2029). The error names the first such character and its category.
func ValidName(name string) error {
	if err := validStoredName(name); err != nil {
		return err
	}
	for _, r := range name {
		var what string
		switch {
		case unicode.Is(unicode.Cf, r):
			what = "a format character (Unicode category Cf: invisible, or reorders the text around it)"
		case unicode.Is(unicode.Zl, r):
			what = "a line separator (Unicode category Zl)"
		case unicode.Is(unicode.Zp, r):
			what = "a paragraph separator (Unicode category Zp)"
		default:
			continue
		}
		return fmt.Errorf("%w: %q holds %U, %s", ErrInvalidName, name, r, what)
	}
	return nil
}

// validStoredName is what a name read from a database file must be: the rules before format
// characters and separators were refused too, so databases enrolled earlier still open (and
// such a name can be renamed to a valid one).
func validStoredName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %d bytes, max %d", ErrInvalidName, len(name), MaxNameLen)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: %q is not UTF-8", ErrInvalidName, name)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("%w: %q holds %U, a control character (Unicode category Cc)", ErrInvalidName, name, r)
		}
	}
	return nil
}

// Enrol adds embeddings as samples of name, creating the identity at the end of the insertion
// order if it is new. Every embedding must have the database's dimension (else
// ErrModelMismatch) and finite components; nothing is added unless all are valid. Embeddings
// are stored as given: the notebook stores normalized encodings, and so should callers.
func (db *DB) Enrol(name string, embeddings ...[]float32) error {
	if err := ValidName(name); err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	if len(embeddings) == 0 {
		return fmt.Errorf("enrol %q: no embeddings", name)
	}
	for i, e := range embeddings {
		if len(e) != db.space.Dim {
			return fmt.Errorf("enrol %q: embedding %d: %w: dimension %d, database has %d",
				name, i, ErrModelMismatch, len(e), db.space.Dim)
		}
		if err := vec.Check(e); err != nil {
			return fmt.Errorf("enrol %q: embedding %d: %w", name, i, err)
		}
	}
	id, ok := db.index[name]
	if !ok {
		if uint64(len(db.names)) >= maxIdentities {
			return fmt.Errorf("enrol %q: database holds the maximum of %d identities", name, maxIdentities)
		}
		id = len(db.names)
		db.names = append(db.names, name)
		db.counts = append(db.counts, 0)
		db.index[name] = id
	}
	db.data = slices.Grow(db.data, len(embeddings)*db.space.Dim) // one copy, not one per growth step
	db.owner = slices.Grow(db.owner, len(embeddings))
	for _, e := range embeddings {
		db.data = append(db.data, e...)
		db.owner = append(db.owner, uint32(id))
	}
	db.counts[id] += len(embeddings)
	return nil
}

// maxIdentities keeps identity numbers inside the file format's uint32.
const maxIdentities uint64 = 1<<32 - 1

// Remove deletes an identity and all its samples. Later identities keep their order.
func (db *DB) Remove(name string) error {
	id, ok := db.index[name]
	if !ok {
		return fmt.Errorf("remove %q: %w", name, ErrUnknownIdentity)
	}
	db.keepRows(func(r int) bool { return int(db.owner[r]) != id })
	names := make([]string, 0, len(db.names)-1)
	names = append(names, db.names[:id]...)
	db.names = append(names, db.names[id+1:]...)
	db.counts = append(append([]int(nil), db.counts[:id]...), db.counts[id+1:]...)
	db.index = make(map[string]int, len(db.names))
	for i, n := range db.names {
		db.index[n] = i
	}
	// Rows of later identities now point one too far.
	owner := db.owner
	for r, o := range owner {
		if int(o) > id {
			owner[r] = o - 1
		}
	}
	return nil
}

// RemoveSample deletes the i-th sample (in enrolment order) of name. An identity keeps at least
// one sample: removing the last one is an error, and Remove deletes the identity instead.
func (db *DB) RemoveSample(name string, i int) error {
	id, ok := db.index[name]
	if !ok {
		return fmt.Errorf("remove sample %d of %q: %w", i, name, ErrUnknownIdentity)
	}
	if i < 0 || i >= db.counts[id] {
		return fmt.Errorf("remove sample %d of %q: it has %d samples", i, name, db.counts[id])
	}
	if db.counts[id] == 1 {
		return fmt.Errorf("remove sample %d of %q: it is the only sample; remove the identity instead", i, name)
	}
	seen := -1
	db.keepRows(func(r int) bool {
		if int(db.owner[r]) != id {
			return true
		}
		seen++
		return seen != i
	})
	db.counts[id]--
	return nil
}

// keepRows rebuilds data and owner with the rows keep accepts, in new slices: an Index may
// still be reading the old ones. keep is called once per row, in order.
func (db *DB) keepRows(keep func(r int) bool) {
	mask := make([]bool, len(db.owner))
	n := 0
	for r := range mask {
		mask[r] = keep(r)
		if mask[r] {
			n++
		}
	}
	data := make([]float32, 0, n*db.space.Dim)
	owner := make([]uint32, 0, n)
	for r, o := range db.owner {
		if mask[r] {
			data = append(data, db.row(r)...)
			owner = append(owner, o)
		}
	}
	db.data, db.owner = data, owner
}

// Rename gives an identity a new name, keeping its place in the insertion order.
func (db *DB) Rename(old, name string) error {
	id, ok := db.index[old]
	if !ok {
		return fmt.Errorf("rename %q: %w", old, ErrUnknownIdentity)
	}
	if err := ValidName(name); err != nil {
		return fmt.Errorf("rename %q: %w", old, err)
	}
	if old == name {
		return nil
	}
	if _, dup := db.index[name]; dup {
		return fmt.Errorf("rename %q to %q: %w", old, name, ErrDuplicateIdentity)
	}
	db.names = append([]string(nil), db.names...)
	db.names[id] = name
	delete(db.index, old)
	db.index[name] = id
	return nil
}
