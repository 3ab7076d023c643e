package dgraph

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/arca-data/arca/catalog"
	"github.com/arca-data/arca/catalog/query"
	"github.com/arca-data/arca/catalog/sqlite"
)

// benchObjects is the size of the query benchmark's catalog:
// $ARCA_BENCH_OBJECTS, or 10,000 data objects (SQLite's own benchmark has
// 1,000,000; building that on Dgraph takes too long for a routine run).
func benchObjects(b *testing.B) int {
	if s := os.Getenv("ARCA_BENCH_OBJECTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			b.Fatalf("ARCA_BENCH_OBJECTS=%q", s)
		}
		return n
	}
	return 10_000
}

// fillQueryBench registers n objects as SQLite's BenchmarkQuery1M has
// them: 100 collections, 3 AVUs each (project = p0000.. with 100 objects
// per project, a unique sample, a size in GB), owned by bench.
func fillQueryBench(b *testing.B, c catalog.Catalog, n int) {
	ctx := context.Background()
	rods := catalog.UserID{Name: "rods", Zone: "tempZone"}
	bench := catalog.UserID{Name: "bench", Zone: "tempZone"}
	for _, u := range []catalog.User{{Name: "rods", Zone: "tempZone", Type: catalog.UserTypeAdmin}, {Name: "bench", Zone: "tempZone", Type: catalog.UserTypeUser}} {
		if _, err := c.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.CreateResource(ctx, catalog.Resource{Name: "demoResc", Type: "posix"}); err != nil {
		b.Fatal(err)
	}
	for _, p := range []string{"/tempZone", "/tempZone/bench"} {
		if _, err := c.CreateCollection(ctx, catalog.Collection{Path: catalog.MustPath(p), Owner: rods}); err != nil {
			b.Fatal(err)
		}
	}
	const chunk = 500
	var objs []catalog.RegisteredObject
	flush := func() {
		if len(objs) == 0 {
			return
		}
		if err := c.Register(ctx, objs, true); err != nil {
			b.Fatal(err)
		}
		objs = objs[:0]
	}
	for i := range n {
		p := catalog.MustPath(fmt.Sprintf("/tempZone/bench/c%02d/o%07d", i%100, i))
		objs = append(objs, catalog.RegisteredObject{Path: p, Owner: bench,
			Replicas: []catalog.RegisteredReplica{{Resource: "demoResc", PhysicalPath: p.String(), Size: int64(i % 1000)}},
			Metadata: []catalog.AVU{{Attribute: "project", Value: fmt.Sprintf("p%04d", i/100)},
				{Attribute: "sample", Value: fmt.Sprintf("s%07d", i)}, {Attribute: "size", Value: strconv.Itoa(i % 1000), Unit: "GB"}}})
		if len(objs) == chunk {
			flush()
		}
	}
	flush()
}

// BenchmarkQueryAVU runs the queries of SQLite's BenchmarkQuery1M on
// catalogs of the same content on both backends, in one run:
//
//	ARCA_BENCH_OBJECTS=10000 go test ./catalog/dgraph/ -run '^$' -bench QueryAVU -benchtime 5x
func BenchmarkQueryAVU(b *testing.B) {
	n := benchObjects(b)
	ctx := context.Background()
	backends := []struct {
		name string
		open func(b *testing.B) catalog.Catalog
	}{
		{"sqlite", func(b *testing.B) catalog.Catalog {
			c, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "catalog.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { c.Close() })
			return c
		}},
		{"dgraph", func(b *testing.B) catalog.Catalog { return openTemp(b) }},
	}
	projects := (n + 99) / 100
	cases := []struct {
		name, q string
		rows    int
	}{
		{"attr=value", "select COLL_NAME, DATA_NAME where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE = 'p0042'",
			min(max(n-4200, 0), 100)},
		{"attr-like-prefix", "select COLL_NAME, DATA_NAME, DATA_SIZE where META_DATA_ATTR_NAME = 'project' and META_DATA_ATTR_VALUE like 'p004%'",
			min(max(n-4000, 0), 1000)},
		{"count-by-value", "select META_DATA_ATTR_VALUE, count(DATA_ID) where META_DATA_ATTR_NAME = 'project'", projects},
	}
	for _, be := range backends {
		c := be.open(b)
		start := time.Now()
		fillQueryBench(b, c, n)
		b.Logf("%s: %d objects registered in %v", be.name, n, time.Since(start).Round(time.Millisecond))
		for _, tc := range cases {
			q, err := query.Parse(tc.q)
			if err != nil {
				b.Fatal(err)
			}
			for _, cl := range []struct {
				name   string
				caller catalog.Caller
			}{{"admin", catalog.Caller{User: catalog.UserID{Name: "rods", Zone: "tempZone"}, Admin: true}},
				{"user", catalog.Caller{User: catalog.UserID{Name: "bench", Zone: "tempZone"}}}} {
				b.Run(be.name+"/"+tc.name+"/"+cl.name, func(b *testing.B) {
					for b.Loop() {
						rows := 0
						if err := c.Query(ctx, q, cl.caller, func([]string) error { rows++; return nil }); err != nil {
							b.Fatal(err)
						}
						if rows != tc.rows {
							b.Fatalf("%d rows, want %d", rows, tc.rows)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/query")
				})
			}
		}
	}
}
