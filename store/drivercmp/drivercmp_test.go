// Package drivercmp measures the two SQLite drivers the store could use on its own schema and
// queries: github.com/mattn/go-sqlite3 (cgo, the one package store uses) and modernc.org/sqlite
// (SQLite translated to Go, no cgo). It is a module of its own so that the main module does not
// depend on the driver it did not choose. Run it with
//
//	cd store/drivercmp && go test -run '^$' -bench . -benchtime 100x
//
// (FACENET_DRIVERCMP_SAMPLES sets the store size, default 1,000,000).
package drivercmp

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
	_ "modernc.org/sqlite"
)

const dim = 128

var drivers = []struct{ name, driver, params string }{
	{"mattn", "sqlite3", "?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=30000&_txlock=immediate"},
	{"modernc", "sqlite", "?_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=busy_timeout(30000)&_txlock=immediate"},
}

var schema = []string{
	`CREATE TABLE identity (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)`,
	`CREATE TABLE sample (id INTEGER PRIMARY KEY AUTOINCREMENT, identity INTEGER NOT NULL REFERENCES identity(id), embedding BLOB NOT NULL)`,
	`CREATE INDEX sample_identity ON sample(identity)`,
}

func samples() int {
	if n, err := strconv.Atoi(os.Getenv("FACENET_DRIVERCMP_SAMPLES")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

func row(rng *rand.Rand, buf []byte) []byte {
	for i := range dim {
		binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(float32(rng.NormFloat64())))
	}
	return buf
}

// build writes n identities of one sample each, in transactions of 50,000, with the same
// prepared statements the store uses.
func build(b *testing.B, db *sql.DB, n int) {
	for _, q := range schema {
		if _, err := db.Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	buf := make([]byte, 4*dim)
	for i := 0; i < n; {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		add, _ := tx.Prepare(`INSERT INTO identity(name) VALUES (?1) RETURNING id`)
		ins, _ := tx.Prepare(`INSERT INTO sample(identity, embedding) VALUES (?1, ?2)`)
		for end := min(n, i+50000); i < end; i++ {
			var id int64
			if err := add.QueryRow(fmt.Sprintf("id%07d", i)).Scan(&id); err != nil {
				b.Fatal(err)
			}
			if _, err := ins.Exec(id, row(rng, buf)); err != nil {
				b.Fatal(err)
			}
		}
		add.Close()
		ins.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// load is the store's Current: one query over every sample, blobs decoded into one matrix.
func load(b *testing.B, db *sql.DB, n int) []float32 {
	data := make([]float32, 0, n*dim)
	owner := make([]uint32, 0, n)
	rows, err := db.Query(`SELECT id, identity, embedding FROM sample WHERE id > ?1 ORDER BY id`, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var raw sql.RawBytes
	var id, ident int64
	for rows.Next() {
		if err := rows.Scan(&id, &ident, &raw); err != nil {
			b.Fatal(err)
		}
		owner = append(owner, uint32(ident))
		for i := 0; i < len(raw); i += 4 {
			data = append(data, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
		}
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return data
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkDriver: for each driver, build the store, then time b.N single enrolments (one
// transaction each, fsynced) and three full loads.
func BenchmarkDriver(b *testing.B) {
	n := samples()
	for _, d := range drivers {
		b.Run(d.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "s.db")
			db, err := sql.Open(d.driver, "file:"+path+d.params)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			t0 := time.Now()
			build(b, db, n)
			b.ReportMetric(time.Since(t0).Seconds(), "build-s")
			rng := rand.New(rand.NewPCG(2, 2))
			buf := make([]byte, 4*dim)
			var enrol []time.Duration
			ctx := context.Background()
			b.ResetTimer()
			for i := range b.N {
				t0 := time.Now()
				tx, err := db.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				var id int64
				if err := tx.QueryRow(`INSERT INTO identity(name) VALUES (?1) RETURNING id`, fmt.Sprintf("new%d", i)).Scan(&id); err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Exec(`INSERT INTO sample(identity, embedding) VALUES (?1, ?2)`, id, row(rng, buf)); err != nil {
					b.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
				enrol = append(enrol, time.Since(t0))
			}
			b.StopTimer()
			var loads []time.Duration
			for range 3 {
				t0 := time.Now()
				_ = load(b, db, n)
				loads = append(loads, time.Since(t0))
			}
			b.ReportMetric(float64(median(enrol).Microseconds())/1000, "enrol-median-ms")
			b.ReportMetric(median(loads).Seconds(), "load-median-s")
		})
	}
}
