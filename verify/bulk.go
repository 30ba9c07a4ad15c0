package verify

import (
	"maps"
	"math"
	"os"

	"github.com/facenet-go/facenet/vec"
)

// FromRows builds a database from whole arrays, the way a store loads one: names in insertion
// order, the owning identity of each row (an index into names), and the rows, len(owner)·dim
// float32 values in enrolment order. It checks what a file load checks (valid, unique names,
// owners in range, every identity with a sample, finite values) and takes ownership of the
// slices instead of copying a million rows.
func FromRows(space Space, names []string, owner []uint32, data []float32) (*DB, error) {
	db, err := New(space)
	if err != nil {
		return nil, err
	}
	db.names = names[:len(names):len(names)]
	db.index = make(map[string]int, len(names))
	db.counts = make([]int, len(names))
	// The name index and the row checks touch different fields: build them side by side (a
	// million of each take about as long).
	nameErr := make(chan error, 1)
	go func() { nameErr <- db.addNames(0) }()
	rowErr := db.addRows(owner, data)
	if err := <-nameErr; err != nil {
		return nil, err
	}
	if rowErr != nil {
		return nil, rowErr
	}
	for id, c := range db.counts {
		if c == 0 {
			return nil, corrupt("identity %q has no samples", db.names[id])
		}
	}
	return db, nil
}

// Extend returns a new DB holding db's identities and rows followed by the new identities
// names (appended to the insertion order) and the new rows (owner indexes the combined
// names). db is left as it was, but the new DB shares its row storage: db must not be modified
// afterwards (readers of db, such as an Index, are unaffected). A store uses it to bring an
// in-memory copy up to date with an enrolment without copying every row.
func (db *DB) Extend(names []string, owner []uint32, data []float32) (*DB, error) {
	n := len(db.names)
	out := &DB{
		space:  db.space,
		names:  append(db.names[:n:n], names...),
		index:  maps.Clone(db.index),
		counts: append(append(make([]int, 0, n+len(names)), db.counts...), make([]int, len(names))...),
		owner:  db.owner,
		data:   db.data,
	}
	if err := out.addNames(n); err != nil {
		return nil, err
	}
	if err := out.addRows(owner, data); err != nil {
		return nil, err
	}
	for id := n; id < len(out.names); id++ {
		if out.counts[id] == 0 {
			return nil, corrupt("identity %q has no samples", out.names[id])
		}
	}
	return out, nil
}

// addNames indexes db.names[from:], refusing invalid and duplicate names.
func (db *DB) addNames(from int) error {
	if uint64(len(db.names)) > maxIdentities {
		return corrupt("%d identities, max %d", len(db.names), maxIdentities)
	}
	for i := from; i < len(db.names); i++ {
		name := db.names[i]
		if err := validStoredName(name); err != nil {
			return corrupt("identity %d: %v", i, err)
		}
		db.index[name] = i
		if len(db.index) != i+1 {
			return corrupt("identity %q stored twice", name)
		}
	}
	return nil
}

// addRows appends rows with their owners after checking both.
func (db *DB) addRows(owner []uint32, data []float32) error {
	d := db.space.Dim
	if len(data) != len(owner)*d {
		return corrupt("%d values for %d rows of dimension %d", len(data), len(owner), d)
	}
	for r, o := range owner {
		if int(o) >= len(db.names) {
			return corrupt("row %d belongs to identity %d of %d", r, o, len(db.names))
		}
		db.counts[o]++
	}
	// Finite and at most vec.MaxComponent in magnitude: as bit patterns, the magnitudes of
	// non-negative floats order like integers and NaN and Inf sort above every finite value, so
	// one integer max per block finds a bad value (a million rows: 0.35 s as float64 compares).
	limit := math.Float32bits(vec.MaxComponent)
	for lo := 0; lo < len(data); lo += 4096 {
		block := data[lo:min(lo+4096, len(data))]
		var m0, m1 uint32
		for i := 0; i+1 < len(block); i += 2 {
			m0 = max(m0, math.Float32bits(block[i])&0x7fffffff)
			m1 = max(m1, math.Float32bits(block[i+1])&0x7fffffff)
		}
		if len(block)%2 == 1 {
			m0 = max(m0, math.Float32bits(block[len(block)-1])&0x7fffffff)
		}
		if max(m0, m1) > limit {
			for i, f := range block {
				if !(math.Abs(float64(f)) <= vec.MaxComponent) {
					return corrupt("non-finite value in row %d", (lo+i)/d)
				}
			}
		}
	}
	if len(db.owner) == 0 {
		db.owner, db.data = owner, data // FromRows: take the slices as they are
		return nil
	}
	db.owner = append(db.owner, owner...)
	db.data = append(db.data, data...)
	return nil
}

// IsDatabaseFile reports whether the file at path starts with the database file's magic: a
// snapshot this package writes, as opposed to, say, an SQLite store. Unreadable and missing
// files report false.
func IsDatabaseFile(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b := make([]byte, len(magic))
	if _, err := f.Read(b); err != nil {
		return false
	}
	return string(b) == magic
}
